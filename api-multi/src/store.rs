//! The Store: products with what can be bought now, and guest cart checkout.

use axum::{Json, body::Bytes, extract::State};
use serde_json::{Value, json};
use shared::{ApiResult, auth::SecretKeyAuth, period, store};
use worker::Env;

/// GET /api/products — every product with its price, stock and availability.
#[worker::send]
pub async fn products(auth: SecretKeyAuth) -> ApiResult<Json<Value>> {
    let products = store::products(&auth, period::now()).await?;
    Ok(Json(json!({ "success": true, "products": products })))
}

/// POST /api/cart/checkout — holds the cart's stock and returns a Stripe Checkout URL.
#[worker::send]
pub async fn cart_checkout(State(env): State<Env>, auth: SecretKeyAuth, body: Bytes) -> ApiResult<Json<Value>> {
    let started = store::checkout(&env, &auth, &body, period::now()).await?;
    Ok(Json(json!({
        "success": true,
        "url": started.url,
        "sessionId": started.session_id,
        "orderId": started.order_id,
        "amountCents": started.amount_cents,
        "expiresAt": started.expires_at,
    })))
}
