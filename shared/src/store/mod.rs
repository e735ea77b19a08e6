//! The Store side of api-multi: the product list with what can be bought now
//! (`GET /api/products`), guest cart checkout that holds stock (`POST /api/cart/checkout`), and
//! the Connect events that sell or release it. Holds and sales live in `storage::orders`; what
//! happens after checkout (canceling, refunds, disputes) in `after_sale`.

pub mod after_sale;

use dream_core::api::store::{CartItem, CartRequest, CartStarted, Product};
use serde_json::Value;
use sha2::{Digest, Sha256};

use dream_core::input::json_body;

use crate::{
    billing::{promotions::CheckoutDiscount, tax::Payer},
    identity::SecretKeyAuth,
    projects::{
        StripeModes,
        connected::{return_urls, stripe_for},
    },
    runtime::settings::Setting,
    storage::{
        ProjectScope,
        orders::{HoldLine, HoldRefused, IdempotentOrder, Payment, ProductRow},
        subscriptions::EventRecord,
    },
    stripe_events::webhook::StripeEvent,
    upstream::stripe::{Form, Stripe},
};

use dream_core::{
    error::{ApiError, ApiResult},
    keys::random_id,
    mode::ProjectType,
    money::Cents,
    period::Timestamp,
    stripe::objects::{CheckoutSession, text},
};

pub const MAX_CART_LINES: usize = 20;
pub const MAX_LINE_QUANTITY: i64 = 99;
/// The most units a cart can hold at all; a project may set a lower bound (`maxCartUnits`).
pub const MAX_CART_UNITS: u32 = MAX_CART_LINES as u32 * MAX_LINE_QUANTITY as u32;
/// Stripe's shortest session lifetime, plus a minute for the two clocks.
pub const SESSION_LIFETIME_SECS: i64 = 30 * 60 + 60;
/// A hold outlives its session a little, so a session paid in its last second finds its stock.
pub const HOLD_GRACE_SECS: i64 = 5 * 60;

fn require_store(auth: &SecretKeyAuth) -> ApiResult<()> {
    require_store_project(auth.scope.project().project_type)
}

fn require_store_project(project_type: ProjectType) -> ApiResult<()> {
    match project_type {
        ProjectType::Store => Ok(()),
        ProjectType::Saas => Err(ApiError::invalid_request(
            "Products and carts are for Store projects; this key belongs to a SaaS project (use /api/create-checkout)",
        )),
    }
}

/// GET /api/products
pub async fn products(auth: &SecretKeyAuth, now: Timestamp) -> ApiResult<Vec<Product>> {
    require_store(auth)?;
    products_of(&auth.scope, now).await
}

/// The project's products with their availability now (read from D1, not the key's cache, so
/// stock and holds are current).
pub async fn products_of(scope: &ProjectScope, now: Timestamp) -> ApiResult<Vec<Product>> {
    Ok(scope.products(now).await?.into_iter().map(Product::from).collect())
}

/// The cart's lines as (tier name, price id, quantity), each a product of this project; the
/// same price twice is one line.
fn cart_lines(auth: &SecretKeyAuth, items: &[CartItem]) -> ApiResult<Vec<(String, String, i64)>> {
    if items.is_empty() {
        return Err(ApiError::invalid_request(
            "`items` must list at least one {priceId, quantity}",
        ));
    }
    if items.len() > MAX_CART_LINES {
        return Err(ApiError::invalid_request(format!(
            "A cart holds at most {MAX_CART_LINES} lines"
        )));
    }
    // Checked before lines are merged: a sum of out-of-range quantities could wrap.
    for (i, item) in items.iter().enumerate() {
        if !(1..=MAX_LINE_QUANTITY).contains(&item.quantity) {
            return Err(ApiError::invalid_request(format!(
                "items[{i}].quantity must be from 1 to {MAX_LINE_QUANTITY}"
            )));
        }
    }
    let mut lines: Vec<(String, String, i64)> = Vec::new();
    for (i, item) in items.iter().enumerate() {
        let tier = auth
            .config
            .tiers
            .iter()
            .find(|t| t.price_id.as_deref() == Some(item.price_id.as_str()))
            .ok_or_else(|| {
                ApiError::invalid_request(format!(
                    "items[{i}].priceId `{}` is not a product of this project",
                    item.price_id
                ))
            })?;
        match lines.iter_mut().find(|l| l.1 == item.price_id) {
            Some(line) => line.2 = line.2.saturating_add(item.quantity),
            None => lines.push((tier.name.to_string(), item.price_id.clone(), item.quantity)),
        }
    }
    if let Some(line) = lines.iter().find(|l| l.2 > MAX_LINE_QUANTITY) {
        return Err(ApiError::invalid_request(format!(
            "At most {MAX_LINE_QUANTITY} units of `{}` per cart",
            line.0
        )));
    }
    // The developer's bound on what one buyer can hold while paying (each line is at most 99
    // and there are at most 20: the sum cannot overflow).
    let units: i64 = lines.iter().map(|l| l.2).sum();
    if let Some(ceiling) = auth.config.max_cart_units
        && units > i64::from(ceiling)
    {
        return Err(ApiError::invalid_request(format!(
            "A cart of this store holds at most {ceiling} units; this one has {units}"
        ))
        .with_detail("maxCartUnits", ceiling));
    }
    Ok(lines)
}

/// The first line the stock cannot cover, for a 409 that names it.
async fn shortage(scope: &ProjectScope, lines: &[(String, String, i64)], now: Timestamp) -> ApiResult<ApiError> {
    let products = scope.products(now).await?;
    for (name, price_id, quantity) in lines {
        let Some(product) = products.iter().find(|p| &p.name == name) else {
            continue;
        };
        let available = match product.inventory {
            _ if product.sold_out != 0 => 0,
            Some(n) => (n - product.held).max(0),
            None => continue,
        };
        if available < *quantity {
            return Ok(ApiError::conflict(format!(
                "Only {available} of `{name}` can be bought now; the cart asks for {quantity}"
            ))
            .with_detail("priceId", price_id)
            .with_detail("product", name)
            .with_detail("available", available));
        }
    }
    Ok(ApiError::conflict(
        "The stock changed while the cart was checked; try again",
    ))
}

/// POST /api/cart/checkout: holds the cart's stock, then a guest Checkout Session in payment
/// mode for it. The hold is taken first, so a cart that cannot be served never reaches Stripe.
///
/// With an `Idempotency-Key`, a retry (same key, same body) answers with the first call's session
/// and holds nothing more; the same key with another body is a 409. A call that failed gives its
/// key up, so a retry after a failure starts over.
pub async fn checkout(
    (stripe, api_multi_url): (&StripeModes, &Setting),
    auth: &SecretKeyAuth,
    idempotency_key: Option<&str>,
    raw_body: &[u8],
    now: Timestamp,
) -> ApiResult<CartStarted> {
    require_store(auth)?;
    let body: CartRequest = json_body(raw_body)?;
    let email = body.email.as_deref().map(dream_core::input::parse_email).transpose()?;
    let lines = cart_lines(auth, &body.items)?;
    let (success_url, cancel_url) =
        return_urls(api_multi_url, body.success_url.as_deref(), body.cancel_url.as_deref())?;
    let discount = CheckoutDiscount::of(
        &auth.scope,
        (body.allow_promotion_codes, body.promotion_code.as_deref()),
        now,
    )
    .await?;
    let stripe = stripe_for(stripe, &auth.scope).await?;
    let request_hash = hex::encode(Sha256::digest(raw_body));
    let cart = CartSession {
        lines: &lines,
        email: email.as_deref(),
        return_urls: (&success_url, &cancel_url),
        discount: &discount,
    };
    let idempotency = idempotency_key.map(|key| (key, request_hash.as_str()));
    if let Some((key, hash)) = idempotency
        && let Some(earlier) = auth.scope.order_by_idempotency_key(key).await?
    {
        return replay(&stripe, auth, earlier, hash, &cart, now).await;
    }
    let order_id = random_id("ord");
    let session_expires = Timestamp(now.0 + SESSION_LIFETIME_SECS);
    let hold_lines: Vec<HoldLine> = lines
        .iter()
        .map(|(tier, price_id, quantity)| HoldLine {
            tier,
            price_id,
            quantity: *quantity,
        })
        .collect();
    let hold_until = Timestamp(session_expires.0 + HOLD_GRACE_SECS);
    let amount = match auth
        .scope
        .hold_cart(
            (&order_id, auth.config.currency),
            email.as_deref(),
            &hold_lines,
            idempotency,
            hold_until,
            now,
        )
        .await?
    {
        Ok(amount) => amount,
        Err(HoldRefused::Short) => return Err(shortage(&auth.scope, &lines, now).await?),
        Err(HoldRefused::Changed) => {
            return Err(ApiError::conflict(
                "A product of the cart changed (deleted or repriced); read /api/products again",
            ));
        }
        // A concurrent call with the same key made the order first: answer as its retry.
        Err(HoldRefused::Replay) => {
            let (key, hash) = idempotency.ok_or_else(|| ApiError::internal("a replay without a key"))?;
            let earlier = auth
                .scope
                .order_by_idempotency_key(key)
                .await?
                .ok_or_else(|| ApiError::conflict("A checkout with this Idempotency-Key is in progress; retry"))?;
            return replay(&stripe, auth, earlier, hash, &cart, now).await;
        }
    };
    let started = Started {
        order_id,
        amount_cents: amount,
        session_expires,
    };
    open_session(&stripe, auth, started, &cart, now).await
}

/// What the Checkout Session of a cart is made from.
struct CartSession<'a> {
    lines: &'a [(String, String, i64)],
    email: Option<&'a str>,
    return_urls: (&'a str, &'a str),
    discount: &'a CheckoutDiscount,
}

/// Opens the order with its session. If it was not being made any more, that is fine when a
/// concurrent call with the same key opened it (the same session: Stripe's idempotency key is
/// the order's); if it was released meanwhile, nobody may pay that session.
async fn open_order(
    auth: &SecretKeyAuth,
    order_id: &str,
    session_id: &str,
    url: &str,
    now: Timestamp,
) -> ApiResult<()> {
    if auth.scope.open_order(order_id, session_id, url, now).await? {
        return Ok(());
    }
    let current = auth.scope.order_status(order_id).await?;
    if current.as_ref().and_then(|o| o.session_id.as_deref()) == Some(session_id) {
        return Ok(());
    }
    Err(ApiError::conflict(
        "This checkout was canceled while it was being created; start a new one",
    ))
}

/// An order whose stock is held, before its Checkout Session exists.
struct Started {
    order_id: String,
    amount_cents: i64,
    session_expires: Timestamp,
}

/// Creates the order's Checkout Session (Stripe's idempotency key is the order's, so asking
/// again for the same order gets the same session) and opens the order.
async fn open_session(
    stripe: &Stripe,
    auth: &SecretKeyAuth,
    started: Started,
    cart: &CartSession<'_>,
    now: Timestamp,
) -> ApiResult<CartStarted> {
    let Started {
        order_id,
        amount_cents,
        session_expires,
    } = started;
    match create_session(stripe, auth, &order_id, cart, session_expires).await {
        Ok((session_id, url)) => {
            open_order(auth, &order_id, &session_id, &url, now).await?;
            Ok(CartStarted {
                url,
                session_id,
                order_id,
                amount_cents,
                expires_at: session_expires.to_rfc3339(),
            })
        }
        Err(e) => {
            // Nothing is payable: give the stock back at once rather than at the hold's expiry
            // (only while the order is still being made: a concurrent call may have opened it).
            if let Err(release) = auth.scope.release_order(&order_id, "failed", None, now).await {
                crate::runtime::log::error(&format!("releasing the hold of {order_id}: {release}"));
            }
            Err(e)
        }
    }
}

/// The answer to a retry of a cart checkout: the first call's session, or (when the first call
/// stopped between holding the stock and Stripe) that order's session made now.
async fn replay(
    stripe: &Stripe,
    auth: &SecretKeyAuth,
    earlier: IdempotentOrder,
    request_hash: &str,
    cart: &CartSession<'_>,
    now: Timestamp,
) -> ApiResult<CartStarted> {
    if earlier.request_hash.as_deref() != Some(request_hash) {
        return Err(ApiError::conflict(
            "This Idempotency-Key was used with another cart; use a new key for a new checkout",
        ));
    }
    let hold_until = Timestamp::parse_rfc3339(&earlier.expires_at)
        .ok_or_else(|| ApiError::internal("order expiresAt is not a timestamp"))?;
    let session_expires = Timestamp(hold_until.0 - HOLD_GRACE_SECS);
    match (earlier.session_id, earlier.session_url) {
        (Some(session_id), Some(url)) => Ok(CartStarted {
            url,
            session_id,
            order_id: earlier.order_id,
            amount_cents: earlier.amount_cents,
            expires_at: session_expires.to_rfc3339(),
        }),
        _ if earlier.status == "reserving" => {
            // The first call stopped between D1 and Stripe, or is still running: ask Stripe for
            // the order's session, but leave releasing the hold to the first call and to expiry.
            let order_id = earlier.order_id;
            let (session_id, url) = create_session(stripe, auth, &order_id, cart, session_expires)
                .await
                .map_err(|_| ApiError::conflict("A checkout with this Idempotency-Key is in progress; retry"))?;
            open_order(auth, &order_id, &session_id, &url, now).await?;
            Ok(CartStarted {
                url,
                session_id,
                order_id,
                amount_cents: earlier.amount_cents,
                expires_at: session_expires.to_rfc3339(),
            })
        }
        _ => Err(ApiError::conflict(format!(
            "The checkout made with this Idempotency-Key is {}; use a new key for a new checkout",
            earlier.status
        ))),
    }
}

async fn create_session(
    stripe: &Stripe,
    auth: &SecretKeyAuth,
    order_id: &str,
    cart: &CartSession<'_>,
    expires_at: Timestamp,
) -> ApiResult<(String, String)> {
    let CartSession {
        lines,
        email,
        return_urls: (success_url, cancel_url),
        discount,
    } = *cart;
    let pk = auth.scope.project().publishable_key.as_str();
    let mut form = Form::new()
        .field("mode", "payment")
        .field("success_url", success_url)
        .field("cancel_url", cancel_url)
        .field("expires_at", expires_at.0)
        .field_opt("customer_email", email)
        .field("metadata[publishableKey]", pk)
        .field("metadata[orderId]", order_id)
        .field("payment_intent_data[metadata][publishableKey]", pk)
        .field("payment_intent_data[metadata][orderId]", order_id);
    for (i, (_, price_id, quantity)) in lines.iter().enumerate() {
        form = form
            .field(format!("line_items[{i}][price]"), price_id)
            .field(format!("line_items[{i}][quantity]"), quantity);
    }
    let form = crate::billing::tax::checkout_tax(discount.apply(form), auth.config.tax, Payer::Guest);
    let session: CheckoutSession = stripe
        .post("/checkout/sessions", &form, &format!("cart:{order_id}"))
        .await
        .map_err(crate::billing::promotions::refused_discount)?;
    let url = session
        .url
        .ok_or_else(|| ApiError::internal("Stripe checkout session has no url"))?;
    Ok((session.id, url))
}

/// The order a payment-mode checkout event is about: (session, project, order).
pub fn order_subject(event: &StripeEvent) -> Option<(String, Option<String>, Option<String>)> {
    let o = &event.data.object;
    let relevant = matches!(
        event.kind.as_str(),
        "checkout.session.completed" | "checkout.session.async_payment_succeeded" | "checkout.session.expired"
    );
    (relevant && text(o, "/mode").as_deref() == Some("payment")).then(|| {
        (
            text(o, "/id").unwrap_or_default(),
            text(o, "/metadata/publishableKey"),
            text(o, "/metadata/orderId"),
        )
    })
}

/// What became of an order event.
pub enum OrderOutcome {
    Sold,
    Released,
    Duplicate,
    Ignored(&'static str),
}

/// Applies a verified checkout event of a Store project: the session's state is read from
/// Stripe (a paid session sells the held stock once; an expired one releases it).
pub async fn apply_event(
    (stripe, senders): (&Stripe, &crate::webhooks::Senders),
    scope: &ProjectScope,
    event: &StripeEvent,
    payload: &str,
    (session_id, order_id): (&str, &str),
    now: Timestamp,
) -> ApiResult<OrderOutcome> {
    let session: Value = match stripe.get(&format!("/checkout/sessions/{session_id}")).await {
        Ok(session) => session,
        Err(e) if e.is_stripe("resource_missing") => {
            return Ok(OrderOutcome::Ignored(
                "Stripe has no such checkout session on this account",
            ));
        }
        Err(e) => return Err(e),
    };
    if text(&session, "/metadata/orderId").as_deref() != Some(order_id)
        || text(&session, "/metadata/publishableKey").as_deref() != Some(scope.project().publishable_key.as_str())
    {
        return Ok(OrderOutcome::Ignored("the session belongs to another order"));
    }
    if scope.order_status(order_id).await?.is_none() {
        return Ok(OrderOutcome::Ignored("no such order in this project"));
    }
    let record = EventRecord {
        id: &event.id,
        kind: &event.kind,
        created: event.created,
        payload,
    };
    // A cart a promotion code made free completes with nothing to pay: sold all the same.
    let paid = text(&session, "/status").as_deref() == Some("complete")
        && matches!(
            text(&session, "/payment_status").as_deref(),
            Some("paid" | "no_payment_required")
        );
    let expired = text(&session, "/status").as_deref() == Some("expired");
    let (new_event, queued) = if paid {
        let payment = Payment {
            session_id,
            paid_cents: session.get("amount_total").and_then(Value::as_i64).unwrap_or(0),
            tax_cents: session
                .pointer("/total_details/amount_tax")
                .and_then(Value::as_i64)
                .unwrap_or(0),
            email: session.pointer("/customer_details/email").and_then(Value::as_str),
            payment_intent: session
                .get("payment_intent")
                .and_then(|p| p.as_str().or_else(|| p.get("id").and_then(Value::as_str))),
        };
        scope.apply_order_event(order_id, Some(&payment), &record, now).await?
    } else if expired {
        scope.apply_order_event(order_id, None, &record, now).await?
    } else {
        return Ok(OrderOutcome::Ignored("the session is neither paid nor expired"));
    };
    if queued {
        senders.nudge(scope.project().publishable_key.as_str()).await;
    }
    Ok(match (new_event, paid) {
        (false, _) => OrderOutcome::Duplicate,
        (true, true) => OrderOutcome::Sold,
        (true, false) => OrderOutcome::Released,
    })
}

impl From<ProductRow> for Product {
    fn from(row: ProductRow) -> Self {
        let features: Value = serde_json::from_str(&row.features).unwrap_or(Value::Null);
        let available = row.inventory.map(|n| (n - row.held).max(0));
        Self {
            sold_out: row.sold_out != 0 || available == Some(0),
            description: text(&features, "/description"),
            image_url: text(&features, "/imageUrl"),
            price: Cents::new(row.price_cents).map_or(Value::Null, Cents::to_dollars_json),
            name: row.name,
            display_name: row.display_name,
            // Stripe's unit, as every other `*Cents` amount (whole yen for JPY).
            price_cents: dream_core::money::Currency::parse(&row.currency)
                .unwrap_or_default()
                .minor_units(Cents::new(row.price_cents).unwrap_or_default()),
            currency: row.currency,
            price_id: row.price_id,
            inventory: row.inventory,
            available,
        }
    }
}
