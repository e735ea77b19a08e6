//! Checkout Sessions (`payment` and `subscription` mode): create, retrieve, list, expire,
//! line items. Paying one is `payment.rs`; its hosted page is `hosted.rs`.

use std::collections::BTreeMap;
use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{Path, RawQuery, State};
use axum::{Extension, Json};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use super::auth::Ctx;
use super::error::{StripeError, StripeResult};
use super::events::ReqInfo;
use super::list::{LIST_PARAMS, ListQuery, list as list_object, page};
use super::params::Params;
use super::{Record, expand, find};
use crate::App;
use crate::record;
use crate::state::{Db, Scope};

/// Stripe's default lifetime of a session.
const LIFETIME_SECONDS: i64 = 24 * 3600;

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct SessionLine {
    pub id: String,
    pub price: String,
    /// None for a metered price: its quantity is the usage billed later.
    pub quantity: Option<i64>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct CheckoutSession {
    pub id: String,
    pub scope: Scope,
    pub seq: u64,
    pub created: i64,
    pub expires_at: i64,
    pub mode: String,
    pub status: String,
    pub payment_status: String,
    pub lines: Vec<SessionLine>,
    pub currency: String,
    pub amount_subtotal: i64,
    pub amount_total: i64,
    pub customer: Option<String>,
    pub customer_email: Option<String>,
    pub customer_creation: Option<String>,
    /// The email the buyer paid with, shown as `customer_details.email` once complete.
    pub details_email: Option<String>,
    pub client_reference_id: Option<String>,
    pub metadata: BTreeMap<String, String>,
    pub success_url: Option<String>,
    pub cancel_url: Option<String>,
    pub subscription_metadata: BTreeMap<String, String>,
    pub subscription_description: Option<String>,
    pub payment_intent_metadata: BTreeMap<String, String>,
    pub payment_intent_description: Option<String>,
    pub subscription: Option<String>,
    pub payment_intent: Option<String>,
    pub invoice: Option<String>,
    pub allow_promotion_codes: Option<bool>,
    pub billing_address_collection: Option<String>,
    pub locale: Option<String>,
    pub submit_type: Option<String>,
}
record!(CheckoutSession, "checkout.session");

impl CheckoutSession {
    pub fn hosted_url(&self, db: &Db) -> String {
        format!("{}/checkout/{}", db.base_url, self.id)
    }

    /// The success URL with Stripe's `{CHECKOUT_SESSION_ID}` template filled in.
    pub fn success_redirect(&self) -> Option<String> {
        self.success_url
            .as_ref()
            .map(|u| u.replace("{CHECKOUT_SESSION_ID}", &self.id))
    }

    pub fn render(&self, db: &Db) -> Value {
        let complete = self.status == "complete";
        let customer_details = complete.then(|| {
            let email = self.details_email.clone().or_else(|| {
                self.customer
                    .as_ref()
                    .and_then(|c| db.customers.get(c))
                    .and_then(|c| c.email.clone())
            });
            json!({
                "address": null,
                "email": email,
                "name": null,
                "phone": null,
                "tax_exempt": "none",
                "tax_ids": [],
                "business_name": null,
                "individual_name": null,
            })
        });
        let invoice_creation = (self.mode == "payment").then(|| {
            json!({
                "enabled": false,
                "invoice_data": {
                    "account_tax_ids": null,
                    "custom_fields": null,
                    "description": null,
                    "footer": null,
                    "issuer": null,
                    "metadata": {},
                    "rendering_options": null,
                },
            })
        });
        json!({
            "id": self.id,
            "object": "checkout.session",
            "adaptive_pricing": { "enabled": false },
            "after_expiration": null,
            "allow_promotion_codes": self.allow_promotion_codes,
            "amount_subtotal": self.amount_subtotal,
            "amount_total": self.amount_total,
            "automatic_tax": { "enabled": false, "liability": null, "provider": null, "status": null },
            "billing_address_collection": self.billing_address_collection,
            "cancel_url": self.cancel_url,
            "client_reference_id": self.client_reference_id,
            "client_secret": null,
            "collected_information": null,
            "consent": null,
            "consent_collection": null,
            "created": self.created,
            "currency": self.currency,
            "currency_conversion": null,
            "custom_fields": [],
            "custom_text": {
                "after_submit": null,
                "shipping_address": null,
                "submit": null,
                "terms_of_service_acceptance": null,
            },
            "customer": self.customer,
            "customer_account": null,
            "customer_creation": self.customer_creation,
            "customer_details": customer_details,
            "customer_email": self.customer_email,
            "discounts": [],
            "expires_at": self.expires_at,
            "integration_identifier": null,
            "invoice": self.invoice,
            "invoice_creation": invoice_creation,
            "livemode": self.scope.livemode,
            "locale": self.locale,
            "managed_payments": null,
            "metadata": self.metadata,
            "mode": self.mode,
            "origin_context": null,
            "payment_intent": self.payment_intent,
            "payment_link": null,
            "payment_method_collection": if self.mode == "subscription" { json!("always") } else { Value::Null },
            "payment_method_configuration_details": null,
            "payment_method_options": {},
            "payment_method_types": ["card"],
            "payment_status": self.payment_status,
            "permissions": null,
            "phone_number_collection": { "enabled": false },
            "recovered_from": null,
            "saved_payment_method_options": null,
            "setup_intent": null,
            "shipping_address_collection": null,
            "shipping_cost": null,
            "shipping_options": [],
            "status": self.status,
            "submit_type": self.submit_type,
            "subscription": self.subscription,
            "success_url": self.success_url,
            "total_details": { "amount_discount": 0, "amount_shipping": 0, "amount_tax": 0 },
            "ui_mode": "hosted_page",
            // Stripe removes the URL once the session can no longer be paid.
            "url": if self.status == "open" { json!(self.hosted_url(db)) } else { Value::Null },
            "wallet_options": null,
        })
    }
}

pub fn render_item(db: &Db, line: &SessionLine) -> Value {
    let price = db.prices.get(&line.price);
    let description = price.and_then(|p| db.products.get(&p.product)).map(|p| p.name.clone());
    let amount = (price.zip(line.quantity)).map_or(0, |(p, q)| p.amount_for(q));
    json!({
        "id": line.id,
        "object": "item",
        "amount_discount": 0,
        "amount_subtotal": amount,
        "amount_tax": 0,
        "amount_total": amount,
        "currency": price.map(|p| p.currency.clone()),
        "description": description,
        "metadata": {},
        "price": price.map(|p| p.render()),
        "quantity": line.quantity,
    })
}

/// The `line_items` list of a session, as `expand[]=line_items` inlines it.
pub fn line_items_list(db: &Db, session_id: &str) -> Value {
    let data = db
        .checkout_sessions
        .get(session_id)
        .map(|s| s.lines.iter().map(|l| render_item(db, l)).collect())
        .unwrap_or_default();
    list_object(&format!("/v1/checkout/sessions/{session_id}/line_items"), data, false)
}

fn valid_url(params: &Params, key: &str) -> StripeResult<Option<String>> {
    let Some(url) = params.str(key)?.filter(|s| !s.is_empty()) else {
        return Ok(None);
    };
    // The template is not a valid URL character sequence on its own; check with it filled.
    let probe = url.replace("{CHECKOUT_SESSION_ID}", "cs_probe");
    match url::Url::parse(&probe) {
        Ok(u) if matches!(u.scheme(), "http" | "https") => Ok(Some(url)),
        _ => Err(StripeError::invalid("Not a valid URL").param(params.name(key))),
    }
}

/// A line's quantity: required for a licensed price, refused for a metered one (its usage is
/// billed at the end of each period), as Stripe words it.
fn line_quantity(line: &Params, metered: bool, quantity: Option<i64>) -> StripeResult<Option<i64>> {
    let index = line.prefix();
    match (metered, quantity) {
        (true, None) => Ok(None),
        (true, Some(_)) => Err(StripeError::invalid(format!(
            "Quantity should not be specified where usage_type is `metered`. Remove quantity from `{index}`."
        ))
        .param(line.name("quantity"))),
        (false, None) => Err(StripeError::missing(&line.name("quantity"))),
        (false, Some(q)) if q < 1 => {
            Err(StripeError::invalid("Quantity must be at least 1.").param(line.name("quantity")))
        }
        (false, Some(q)) => Ok(Some(q)),
    }
}

/// Nested `subscription_data` / `payment_intent_data`: metadata and description.
fn nested_data(params: &Params, key: &str) -> StripeResult<(BTreeMap<String, String>, Option<String>)> {
    let Some(data) = params.hash(key)? else {
        return Ok((BTreeMap::new(), None));
    };
    data.allow(&["metadata", "description"])?;
    let metadata = data.metadata()?.map(|m| m.into_map()).unwrap_or_default();
    Ok((metadata, data.str("description")?.filter(|s| !s.is_empty())))
}

/// POST /v1/checkout/sessions
pub async fn create(
    State(app): State<Arc<App>>,
    Extension(ctx): Extension<Ctx>,
    body: Bytes,
) -> StripeResult<Json<Value>> {
    let params = Params::from_form(&body)?;
    params.allow(&[
        "mode",
        "line_items",
        "customer",
        "customer_email",
        "customer_creation",
        "metadata",
        "client_reference_id",
        "success_url",
        "cancel_url",
        "subscription_data",
        "payment_intent_data",
        "expires_at",
        "payment_method_types",
        "allow_promotion_codes",
        "billing_address_collection",
        "locale",
        "submit_type",
        "ui_mode",
    ])?;
    let mode = params.required("mode")?;
    if !matches!(mode.as_str(), "payment" | "subscription") {
        return Err(StripeError::invalid(format!(
            "Invalid mode: must be one of payment or subscription (dream-emulator does not emulate {mode:?})"
        ))
        .param("mode"));
    }
    let customer = params.str("customer")?.filter(|s| !s.is_empty());
    let customer_email = params.str("customer_email")?.filter(|s| !s.is_empty());
    if customer.is_some() && customer_email.is_some() {
        return Err(
            StripeError::invalid("You may only specify one of these parameters: customer, customer_email.")
                .code("parameters_exclusive")
                .param("customer_email"),
        );
    }
    let customer_creation = params.choice("customer_creation", &["always", "if_required"])?;
    if customer_creation.is_some() && mode != "payment" {
        return Err(
            StripeError::invalid("`customer_creation` can only be used in `payment` mode.").param("customer_creation"),
        );
    }
    if customer_creation.is_some() && customer.is_some() {
        return Err(
            StripeError::invalid("You may only specify one of these parameters: customer, customer_creation.")
                .code("parameters_exclusive")
                .param("customer_creation"),
        );
    }
    let success_url = valid_url(&params, "success_url")?;
    let cancel_url = valid_url(&params, "cancel_url")?;
    let metadata = params.metadata()?.map(|m| m.into_map()).unwrap_or_default();
    let client_reference_id = params.str("client_reference_id")?.filter(|s| !s.is_empty());
    let (subscription_metadata, subscription_description) = nested_data(&params, "subscription_data")?;
    let (payment_intent_metadata, payment_intent_description) = nested_data(&params, "payment_intent_data")?;
    if params.has("subscription_data") && mode != "subscription" {
        return Err(
            StripeError::invalid("You can only specify `subscription_data` in `subscription` mode.")
                .param("subscription_data"),
        );
    }
    if params.has("payment_intent_data") && mode != "payment" {
        return Err(
            StripeError::invalid("You can only specify `payment_intent_data` in `payment` mode.")
                .param("payment_intent_data"),
        );
    }
    if let Some(types) = params.str_list("payment_method_types")?
        && types.iter().any(|t| t != "card")
    {
        return Err(StripeError::invalid("dream-emulator only emulates card payments").param("payment_method_types"));
    }
    // 2026-03-25.dahlia renamed `hosted` to `hosted_page` and refuses the old name.
    let hosted = if ctx.api_version.as_str() < "2026-03-25" {
        "hosted"
    } else {
        "hosted_page"
    };
    if params.str("ui_mode")?.is_some_and(|m| m != hosted) {
        return Err(StripeError::invalid(format!("dream-emulator only emulates ui_mode={hosted}")).param("ui_mode"));
    }
    let allow_promotion_codes = params.bool("allow_promotion_codes")?;
    let billing_address_collection = params.choice("billing_address_collection", &["auto", "required"])?;
    let locale = params.str("locale")?;
    let submit_type = params.choice("submit_type", &["auto", "book", "donate", "pay", "subscribe"])?;
    let now = crate::time::now();
    let expires_at = match params.int("expires_at")? {
        None => now + LIFETIME_SECONDS,
        Some(t) if t >= now + 1800 && t <= now + LIFETIME_SECONDS => t,
        Some(_) => {
            return Err(StripeError::invalid(
                "The `expires_at` timestamp must be between 30 minutes and 24 hours from Checkout Session creation.",
            )
            .param("expires_at"));
        }
    };
    let line_params = params.list_of_hashes("line_items")?.unwrap_or_default();
    if line_params.is_empty() {
        return Err(StripeError::missing("line_items"));
    }
    let expand = params.expand()?;

    app.mutate(|db| {
        if let Some(id) = &customer {
            find(&db.customers, &ctx.scope, id, Some("customer"))?;
        }
        let mut lines = Vec::new();
        let mut currency: Option<String> = None;
        let mut total = 0i64;
        let mut recurring_interval: Option<(String, i64)> = None;
        for line in &line_params {
            line.allow(&["price", "quantity"])?;
            let price_id = line.required("price")?;
            let quantity = line.int("quantity")?;
            let price = find(&db.prices, &ctx.scope, &price_id, Some(&line.name("price")))?;
            let quantity = line_quantity(line, price.is_metered(), quantity)?;
            if !price.active {
                return Err(StripeError::invalid(format!(
                    "The price specified ({price_id}) is inactive. This field must be an active price."
                ))
                .param(line.name("price")));
            }
            match (&mode[..], &price.recurring) {
                ("payment", Some(_)) => {
                    return Err(StripeError::invalid(
                        "You specified `payment` mode but passed a recurring price. Either switch to `subscription` mode or use only one-time prices.",
                    )
                    .param(line.name("price")));
                }
                ("subscription", None) => {
                    return Err(StripeError::invalid(
                        "dream-emulator: one-time prices in `subscription` mode are not emulated; pass only recurring prices.",
                    )
                    .param(line.name("price")));
                }
                ("subscription", Some(r)) => {
                    let interval = (r.interval.clone(), r.interval_count);
                    if recurring_interval.as_ref().is_some_and(|i| *i != interval) {
                        return Err(StripeError::invalid(
                            "Checkout does not support multiple prices with different billing intervals.",
                        )
                        .param(line.name("price")));
                    }
                    recurring_interval = Some(interval);
                }
                _ => {}
            }
            if currency.as_ref().is_some_and(|c| *c != price.currency) {
                return Err(StripeError::invalid("All prices on a Checkout Session must use the same currency.")
                    .param(line.name("price")));
            }
            currency = Some(price.currency.clone());
            total += quantity.map_or(0, |q| price.amount_for(q));
            lines.push((price_id, quantity));
        }
        let prefix = if ctx.scope.livemode { "cs_live_a1" } else { "cs_test_a1" };
        let id = db.id(prefix, 56);
        let lines = lines
            .into_iter()
            .map(|(price, quantity)| SessionLine { id: db.id("li_", 24), price, quantity })
            .collect();
        let seq = db.next_seq();
        let session = CheckoutSession {
            id: id.clone(),
            scope: ctx.scope.clone(),
            seq,
            created: now,
            expires_at,
            customer_creation: if mode == "payment" && customer.is_none() {
                Some(customer_creation.unwrap_or_else(|| "if_required".into()))
            } else {
                None
            },
            mode: mode.clone(),
            status: "open".into(),
            payment_status: "unpaid".into(),
            lines,
            currency: currency.unwrap_or_else(|| "usd".into()),
            amount_subtotal: total,
            amount_total: total,
            customer: customer.clone(),
            customer_email: customer_email.clone(),
            details_email: None,
            client_reference_id,
            metadata,
            success_url,
            cancel_url,
            subscription_metadata,
            subscription_description,
            payment_intent_metadata,
            payment_intent_description,
            subscription: None,
            payment_intent: None,
            invoice: None,
            allow_promotion_codes,
            billing_address_collection,
            locale,
            submit_type,
        };
        let rendered = session.render(db);
        db.checkout_sessions.insert(id, session);
        Ok(Json(expand::apply(db, &ctx.scope, rendered, &expand)?))
    })
}

/// GET /v1/checkout/sessions/{id}
pub async fn retrieve(
    State(app): State<Arc<App>>,
    Extension(ctx): Extension<Ctx>,
    Path(id): Path<String>,
    RawQuery(query): RawQuery,
) -> StripeResult<Json<Value>> {
    let params = Params::from_query(query.as_deref())?;
    params.allow(&[])?;
    app.read(|db| {
        let rendered = find(&db.checkout_sessions, &ctx.scope, &id, None)?.render(db);
        Ok(Json(expand::apply(db, &ctx.scope, rendered, &params.expand()?)?))
    })
}

/// GET /v1/checkout/sessions
pub async fn list(
    State(app): State<Arc<App>>,
    Extension(ctx): Extension<Ctx>,
    RawQuery(query): RawQuery,
) -> StripeResult<Json<Value>> {
    let params = Params::from_query(query.as_deref())?;
    params.allow(
        &[
            &LIST_PARAMS[..],
            &["customer", "subscription", "payment_intent", "status"],
        ]
        .concat(),
    )?;
    let q = ListQuery::parse(&params)?;
    let customer = params.str("customer")?;
    let subscription = params.str("subscription")?;
    let payment_intent = params.str("payment_intent")?;
    let status = params.choice("status", &["open", "complete", "expired"])?;
    app.read(|db| {
        let items: Vec<&CheckoutSession> = db
            .checkout_sessions
            .values()
            .filter(|s| s.scope() == &ctx.scope)
            .filter(|s| customer.is_none() || s.customer == customer)
            .filter(|s| subscription.is_none() || s.subscription == subscription)
            .filter(|s| payment_intent.is_none() || s.payment_intent == payment_intent)
            .filter(|s| status.is_none() || Some(&s.status) == status.as_ref())
            .collect();
        let (items, has_more) = page(items, &q)?;
        let data = items.iter().map(|s| s.render(db)).collect();
        Ok(Json(expand::apply(
            db,
            &ctx.scope,
            list_object("/v1/checkout/sessions", data, has_more),
            &params.expand()?,
        )?))
    })
}

/// Expires an open session and records `checkout.session.expired`.
pub fn expire_in(db: &mut Db, scope: &Scope, id: &str, req: &ReqInfo, now: i64) -> StripeResult<Value> {
    let session = super::find_mut(&mut db.checkout_sessions, scope, id, None)?;
    if session.status != "open" {
        return Err(StripeError::invalid(format!(
            "Only Checkout Sessions with a status in [\"open\"] can be expired. This session has status \"{}\".",
            session.status
        )));
    }
    session.status = "expired".into();
    let rendered = db.checkout_sessions.get(id).map(|s| s.render(db)).unwrap_or_default();
    db.emit(scope, "checkout.session.expired", rendered.clone(), None, req, now);
    Ok(rendered)
}

/// POST /v1/checkout/sessions/{id}/expire
pub async fn expire(
    State(app): State<Arc<App>>,
    Extension(ctx): Extension<Ctx>,
    Path(id): Path<String>,
    body: Bytes,
) -> StripeResult<Json<Value>> {
    let params = Params::from_form(&body)?;
    params.allow(&[])?;
    let expand = params.expand()?;
    let now = crate::time::now();
    app.mutate(|db| {
        find(&db.checkout_sessions, &ctx.scope, &id, None)?;
        let rendered = expire_in(db, &ctx.scope, &id, &ctx.req, now)?;
        Ok(Json(expand::apply(db, &ctx.scope, rendered, &expand)?))
    })
}

/// GET /v1/checkout/sessions/{id}/line_items
pub async fn line_items(
    State(app): State<Arc<App>>,
    Extension(ctx): Extension<Ctx>,
    Path(id): Path<String>,
    RawQuery(query): RawQuery,
) -> StripeResult<Json<Value>> {
    let params = Params::from_query(query.as_deref())?;
    params.allow(&LIST_PARAMS)?;
    let q = ListQuery::parse(&params)?;
    app.read(|db| {
        let session = find(&db.checkout_sessions, &ctx.scope, &id, None)?;
        // Line items keep the order they were given in, as Stripe lists them.
        let mut lines: Vec<&SessionLine> = session.lines.iter().collect();
        if let Some(after) = &q.starting_after {
            let pos = lines
                .iter()
                .position(|l| &l.id == after)
                .ok_or_else(|| StripeError::no_such("line item", after, Some("starting_after"), None))?;
            lines = lines.split_off(pos + 1);
        }
        let has_more = lines.len() > q.limit;
        lines.truncate(q.limit);
        let data = lines.iter().map(|l| render_item(db, l)).collect();
        let url = format!("/v1/checkout/sessions/{id}/line_items");
        Ok(Json(expand::apply(
            db,
            &ctx.scope,
            list_object(&url, data, has_more),
            &params.expand()?,
        )?))
    })
}
