//! Test controls under `/_emulator/` (no key needed; the server listens on loopback only):
//! health, reset, connected accounts, completing or declining checkouts, renewing or failing
//! subscriptions, disputing payments, redelivering events and reading the delivery log.

use std::sync::Arc;

use axum::Json;
use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use serde::Deserialize;
use serde_json::{Map, Value, json};

use crate::App;
use crate::stripe::delivery::{self, Reason};
use crate::stripe::error::{StripeError, StripeResult};
use crate::stripe::events::ReqInfo;
use crate::stripe::payment::{self, Buyer, CardInput, DECLINE_CARD};
use crate::stripe::{checkout, disputes, oauth, renewal, trials};

pub fn router(_app: Arc<App>) -> Router<Arc<App>> {
    Router::new()
        .route("/_emulator/health", get(health))
        .route("/_emulator/reset", post(reset))
        .route("/_emulator/accounts", get(accounts))
        .route("/_emulator/oauth/authorize", post(authorize))
        .route("/_emulator/accounts/{id}/deauthorize", post(deauthorize))
        .route("/_emulator/accounts/{id}/event_padding", post(event_padding))
        .route("/_emulator/checkout/sessions/{id}/complete", post(complete))
        .route("/_emulator/checkout/sessions/{id}/decline", post(decline))
        .route("/_emulator/checkout/sessions/{id}/expire", post(expire))
        .route("/_emulator/subscriptions/{id}/advance", post(advance))
        .route("/_emulator/subscriptions/{id}/fail_renewal", post(fail_renewal))
        .route("/_emulator/subscriptions/{id}/trial_will_end", post(trial_will_end))
        .route("/_emulator/subscriptions/{id}/end_at", post(end_at))
        .route("/_emulator/subscriptions/{id}/backdate", post(backdate))
        .route("/_emulator/payment_intents/{id}/dispute", post(dispute))
        .route("/_emulator/disputes/{id}/close", post(close_dispute))
        .route("/_emulator/events/deliver_batch", post(deliver_batch))
        .route("/_emulator/events/{id}/redeliver", post(redeliver))
        .route("/_emulator/events/{id}/deliver_twice", post(deliver_twice))
        .route("/_emulator/deliveries", get(deliveries))
        .route("/_emulator/webhooks/hold", post(hold).delete(release))
        .route(
            "/_emulator/faults",
            post(add_fault).get(list_faults).delete(clear_faults),
        )
}

/// A control's body: JSON when it says so, else a form (both are convenient from curl).
fn fields(headers: &HeaderMap, body: &[u8]) -> StripeResult<Map<String, Value>> {
    if body.is_empty() {
        return Ok(Map::new());
    }
    let is_json = headers
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/json"));
    if is_json {
        match serde_json::from_slice(body) {
            Ok(Value::Object(map)) => Ok(map),
            _ => Err(StripeError::invalid("The body must be a JSON object.")),
        }
    } else {
        crate::form::parse(body).map_err(StripeError::invalid)
    }
}

fn text(fields: &Map<String, Value>, key: &str) -> Option<String> {
    fields
        .get(key)
        .and_then(Value::as_str)
        .filter(|s| !s.is_empty())
        .map(str::to_string)
}

/// GET /_emulator/health
async fn health() -> Json<Value> {
    Json(json!({ "status": "ok" }))
}

/// POST /_emulator/reset
async fn reset(State(app): State<Arc<App>>) -> Json<Value> {
    app.reset();
    Json(json!({ "reset": true }))
}

/// GET /_emulator/accounts
async fn accounts(State(app): State<Arc<App>>) -> Json<Value> {
    app.read(|db| {
        let data: Vec<Value> = db.accounts.values().map(|a| a.render()).collect();
        Json(json!({ "object": "list", "platform_account": db.platform_account, "data": data }))
    })
}

/// POST /_emulator/oauth/authorize: what the Authorize button does, for scripts. Body:
/// `account` (an existing acct_ to reconnect; default a new one), `business_name`, `email`.
async fn authorize(State(app): State<Arc<App>>, headers: HeaderMap, body: Bytes) -> StripeResult<Json<Value>> {
    let fields = fields(&headers, &body)?;
    let now = crate::time::now();
    let code = app
        .mutate(|db| {
            oauth::approve(
                db,
                text(&fields, "account").as_deref(),
                text(&fields, "business_name"),
                text(&fields, "email"),
                now,
            )
        })
        .map_err(StripeError::invalid)?;
    let account = app.read(|db| db.oauth_codes.get(&code).map(|c| c.account.clone()));
    Ok(Json(json!({ "code": code, "stripe_user_id": account })))
}

/// Pays as the buyer on the hosted page would: `card` (see `complete`), `email`,
/// `promotion_code` (a customer-facing code, on a session with `allow_promotion_codes`), the
/// billing address `country` and `postal_code` (on a session that asks for one), and `name`.
fn pay(app: &Arc<App>, id: &str, fields: &Map<String, Value>, card: CardInput) -> StripeResult<Json<Value>> {
    let now = crate::time::now();
    let buyer = Buyer {
        card,
        email: text(fields, "email"),
        promotion_code: text(fields, "promotion_code"),
        country: text(fields, "country"),
        postal_code: text(fields, "postal_code"),
        name: text(fields, "name"),
    };
    let done = app.mutate(|db| payment::complete(db, id, buyer, now))?;
    Ok(Json(json!({ "session": done.session, "redirect_url": done.redirect })))
}

/// POST /_emulator/checkout/sessions/{id}/complete: optional `card`, `email`, `promotion_code`
/// (the code a buyer types, on a session with `allow_promotion_codes`), `country` and
/// `postal_code` (the billing address of a session that asks for one: automatic tax, or
/// `billing_address_collection=required`; default the customer's saved address, else `US`)
/// and `name`. Without a card (absent or empty), a session that collects one pays with
/// 4242..., and one that does not (`payment_method_collection=if_required` with nothing due
/// today: a trial) completes without. Returns the completed session and where the browser
/// would be sent.
async fn complete(
    State(app): State<Arc<App>>,
    Path(id): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> StripeResult<Json<Value>> {
    let fields = fields(&headers, &body)?;
    let card = text(&fields, "card").map_or(CardInput::Absent, CardInput::Number);
    pay(&app, &id, &fields, card)
}

/// POST /_emulator/checkout/sessions/{id}/decline: pays with a declined card (default
/// 4000 0000 0000 0002): a 402 `card_error`, and the session stays open.
async fn decline(
    State(app): State<Arc<App>>,
    Path(id): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> StripeResult<Json<Value>> {
    let fields = fields(&headers, &body)?;
    let card = CardInput::Number(text(&fields, "card").unwrap_or_else(|| DECLINE_CARD.into()));
    pay(&app, &id, &fields, card)
}

/// POST /_emulator/checkout/sessions/{id}/expire: as `POST /v1/.../expire`, without a key.
async fn expire(State(app): State<Arc<App>>, Path(id): Path<String>) -> StripeResult<Json<Value>> {
    let now = crate::time::now();
    app.mutate(|db| {
        let scope = db
            .checkout_sessions
            .get(&id)
            .map(|s| s.scope.clone())
            .ok_or_else(|| StripeError::no_such("checkout.session", &id, None, None))?;
        checkout::expire_in(db, &scope, &id, &ReqInfo::none(), now).map(Json)
    })
}

/// POST /_emulator/accounts/{id}/deauthorize: the account's owner removes the platform from
/// Stripe's dashboard (test mode): `account.application.deauthorized` is delivered.
async fn deauthorize(State(app): State<Arc<App>>, Path(id): Path<String>) -> StripeResult<Json<Value>> {
    let now = crate::time::now();
    if app.mutate(|db| crate::stripe::oauth::revoke_access(db, &id, false, now)) {
        Ok(Json(json!({ "account": id, "deauthorized": true })))
    } else {
        Err(StripeError::no_such("account", &id, None, None))
    }
}

/// Stripe's biggest events are a few megabytes; more than this is a mistake in a test.
const MAX_EVENT_PADDING: u64 = 8 * 1024 * 1024;

/// POST /_emulator/accounts/{id}/event_padding `bytes=N`: every later event of the account (a
/// connected one, or the platform's own: `GET /v1/account` names it) carries N bytes of
/// `emulator_padding` (0 turns it off), so tests can see how receivers treat events larger than
/// their body bound.
async fn event_padding(
    State(app): State<Arc<App>>,
    Path(id): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> StripeResult<Json<Value>> {
    let fields = fields(&headers, &body)?;
    let bytes = (fields.get("bytes"))
        .and_then(|v| v.as_u64().or_else(|| v.as_str().and_then(|s| s.parse().ok())))
        .filter(|b| *b <= MAX_EVENT_PADDING)
        .ok_or_else(|| StripeError::invalid("`bytes` must be a whole number up to 8388608."))?;
    app.mutate(|db| {
        if id == db.platform_account {
            db.platform_event_padding = bytes as usize;
        } else {
            let account = (db.accounts.get_mut(&id)).ok_or_else(|| StripeError::no_such("account", &id, None, None))?;
            account.event_padding = bytes as usize;
        }
        Ok(Json(json!({ "account": id, "eventPadding": bytes })))
    })
}

/// POST /_emulator/subscriptions/{id}/advance
async fn advance(State(app): State<Arc<App>>, Path(id): Path<String>) -> StripeResult<Json<Value>> {
    let now = crate::time::now();
    app.mutate(|db| renewal::advance(db, &id, now)).map(Json)
}

/// POST /_emulator/subscriptions/{id}/fail_renewal
async fn fail_renewal(State(app): State<Arc<App>>, Path(id): Path<String>) -> StripeResult<Json<Value>> {
    let now = crate::time::now();
    app.mutate(|db| renewal::fail_renewal(db, &id, now)).map(Json)
}

/// POST /_emulator/subscriptions/{id}/trial_will_end: `customer.subscription.trial_will_end`,
/// which Stripe sends three days before a trial ends.
async fn trial_will_end(State(app): State<Arc<App>>, Path(id): Path<String>) -> StripeResult<Json<Value>> {
    let now = crate::time::now();
    app.mutate(|db| trials::will_end(db, &id, now)).map(Json)
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Backdate {
    billing_cycle_anchor: i64,
}

/// POST /_emulator/subscriptions/{id}/backdate `{billingCycleAnchor}`: the subscription's
/// periods count from that past time; `customer.subscription.updated` is delivered.
async fn backdate(
    State(app): State<Arc<App>>,
    Path(id): Path<String>,
    Json(body): Json<Backdate>,
) -> StripeResult<Json<Value>> {
    let now = crate::time::now();
    app.mutate(|db| renewal::backdate(db, &id, body.billing_cycle_anchor, now))
        .map(Json)
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct EndAt {
    ended_at: i64,
}

/// POST /_emulator/subscriptions/{id}/end_at `{endedAt}`: the subscription canceled on a test
/// clock frozen at `endedAt` (Stripe's test clocks may be frozen in the past), its
/// `customer.subscription.deleted` delivered now. How the tests see what weeks after a lapse
/// look like without waiting for them.
async fn end_at(
    State(app): State<Arc<App>>,
    Path(id): Path<String>,
    Json(body): Json<EndAt>,
) -> StripeResult<Json<Value>> {
    let now = crate::time::now();
    if body.ended_at > now {
        return Err(StripeError::invalid("endedAt must not be in the future"));
    }
    app.mutate(|db| db.end_subscription_at(&id, "cancellation_requested", &ReqInfo::none(), body.ended_at, now))
        .map(Json)
}

/// POST /_emulator/payment_intents/{id}/dispute: optional `reason` (default `fraudulent`).
/// The buyer disputes the payment with their bank, as Stripe's dispute test cards do.
async fn dispute(
    State(app): State<Arc<App>>,
    Path(id): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> StripeResult<Json<Value>> {
    let fields = fields(&headers, &body)?;
    let now = crate::time::now();
    app.mutate(|db| disputes::open(db, &id, text(&fields, "reason"), now))
        .map(Json)
}

/// POST /_emulator/disputes/{id}/close `outcome=won|lost`: the bank's decision.
async fn close_dispute(
    State(app): State<Arc<App>>,
    Path(id): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> StripeResult<Json<Value>> {
    let fields = fields(&headers, &body)?;
    let now = crate::time::now();
    app.mutate(|db| disputes::close(db, &id, text(&fields, "outcome").as_deref(), now))
        .map(Json)
}

fn known_event(app: &App, id: &str) -> StripeResult<()> {
    if app.read(|db| db.events.contains_key(id)) {
        Ok(())
    } else {
        Err(StripeError::no_such("event", id, None, None))
    }
}

/// POST /_emulator/events/{id}/redeliver
async fn redeliver(State(app): State<Arc<App>>, Path(id): Path<String>) -> StripeResult<Json<Value>> {
    known_event(&app, &id)?;
    let endpoints = delivery::redeliver(&app, &id, Reason::Redeliver);
    Ok(Json(json!({ "event": id, "endpoints": endpoints })))
}

/// POST /_emulator/events/{id}/deliver_twice: two concurrent deliveries to each endpoint,
/// as Stripe may deliver an event more than once.
async fn deliver_twice(State(app): State<Arc<App>>, Path(id): Path<String>) -> StripeResult<Json<Value>> {
    known_event(&app, &id)?;
    let endpoints = delivery::redeliver(&app, &id, Reason::DeliverTwice);
    Ok(Json(json!({ "event": id, "endpoints": endpoints, "copies": 2 })))
}

#[derive(Deserialize)]
struct Batch {
    ids: Vec<String>,
    #[serde(default)]
    shuffle: bool,
}

/// POST /_emulator/events/deliver_batch `{"ids":[...],"shuffle":true}`: delivers the events
/// one after another in the given order, or in a (seeded) shuffled order; returns the order.
async fn deliver_batch(State(app): State<Arc<App>>, body: Bytes) -> Response {
    let batch: Batch = match serde_json::from_slice(&body) {
        Ok(b) => b,
        Err(e) => {
            return StripeError::invalid(format!("Expected {{\"ids\": [...], \"shuffle\": bool}}: {e}"))
                .into_response();
        }
    };
    for id in &batch.ids {
        if let Err(e) = known_event(&app, id) {
            return e.into_response();
        }
    }
    let mut order = batch.ids;
    if batch.shuffle {
        // Fisher-Yates from the request-id stream, so a seeded run shuffles the same way
        // without shifting the ids of objects.
        app.mutate(|db| {
            for i in (1..order.len()).rev() {
                let j = (db.req_ids.next_u64() % (i as u64 + 1)) as usize;
                order.swap(i, j);
            }
        });
    }
    let endpoints = delivery::deliver_in_order(&app, &order);
    (StatusCode::OK, Json(json!({ "order": order, "endpoints": endpoints }))).into_response()
}

#[derive(Deserialize)]
struct DeliveryFilter {
    event: Option<String>,
}

/// GET /_emulator/deliveries[?event=evt_...]: every attempt, oldest first.
async fn deliveries(State(app): State<Arc<App>>, Query(filter): Query<DeliveryFilter>) -> Json<Value> {
    Json(json!({ "data": app.deliveries.list(filter.event.as_deref()) }))
}

/// POST /_emulator/webhooks/hold `{"containing": "plt_…"}`: webhook deliveries of events whose
/// body contains the string are held back (a slow or failing delivery path), until
/// DELETE /_emulator/webhooks/hold with the same body sends them, in order.
async fn hold(State(app): State<Arc<App>>, headers: HeaderMap, body: Bytes) -> Response {
    match fields(&headers, &body).map(|f| text(&f, "containing")) {
        Ok(Some(containing)) => {
            app.holds.hold(&containing);
            Json(json!({ "holding": containing })).into_response()
        }
        Ok(None) => StripeError::invalid("Pass {\"containing\": \"<text>\"}.").into_response(),
        Err(e) => e.into_response(),
    }
}

async fn release(State(app): State<Arc<App>>, headers: HeaderMap, body: Bytes) -> Response {
    match fields(&headers, &body).map(|f| text(&f, "containing")) {
        Ok(Some(containing)) => {
            let released = delivery::release(&app, &containing);
            Json(json!({ "released": released })).into_response()
        }
        Ok(None) => StripeError::invalid("Pass {\"containing\": \"<text>\"}.").into_response(),
        Err(e) => e.into_response(),
    }
}

/// POST /_emulator/faults `{path, method?, kind: error|timeout|drop|delay, count?, after?, delayMs?}`
async fn add_fault(State(app): State<Arc<App>>, body: Bytes) -> Response {
    match serde_json::from_slice::<crate::faults::Fault>(&body) {
        Ok(fault) if !fault.path.is_empty() && fault.count > 0 => {
            app.faults.add(fault);
            Json(json!({ "faults": app.faults.list() })).into_response()
        }
        Ok(_) => StripeError::invalid("`path` must not be empty and `count` must be at least 1.").into_response(),
        Err(e) => StripeError::invalid(format!("Pass {{\"path\", \"kind\": \"error|timeout|drop|delay\", \"count\"?, \"after\"?, \"method\"?, \"delayMs\"?}}: {e}")).into_response(),
    }
}

/// GET /_emulator/faults: each fault with how often it fired.
async fn list_faults(State(app): State<Arc<App>>) -> Json<Value> {
    Json(json!({ "faults": app.faults.list() }))
}

/// DELETE /_emulator/faults
async fn clear_faults(State(app): State<Arc<App>>) -> Json<Value> {
    app.faults.clear();
    Json(json!({ "faults": [] }))
}
