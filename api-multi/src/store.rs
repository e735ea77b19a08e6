//! The Store: products with what can be bought now, and guest cart checkout.

use axum::{
    Json,
    body::Bytes,
    extract::{Path, State},
    http::HeaderMap,
};
use shared::{
    ApiResult,
    api::{CartCheckoutResponse, OrderCanceled, ProductList},
    auth::SecretKeyAuth,
    customer_billing, metering, period, store,
};
use worker::Env;

use crate::upstream::UpstreamAuth;

/// GET /api/products — every product with its price, stock and availability.
#[worker::send]
pub async fn products(auth: SecretKeyAuth) -> ApiResult<Json<ProductList>> {
    let products = store::products(&auth, period::now()).await?;
    Ok(Json(ProductList {
        success: true,
        products,
    }))
}

/// POST /api/cart/checkout — holds the cart's stock and returns a Stripe Checkout URL.
#[worker::send]
pub async fn cart_checkout(
    State(env): State<Env>,
    UpstreamAuth(auth): UpstreamAuth,
    headers: HeaderMap,
    body: Bytes,
) -> ApiResult<Json<CartCheckoutResponse>> {
    let idempotency_key = metering::parse_idempotency_key(&headers)?;
    let started = store::checkout(&env, &auth, idempotency_key.as_deref(), &body, period::now()).await?;
    Ok(Json(CartCheckoutResponse {
        success: true,
        checkout: started,
    }))
}

/// POST /api/orders/{order_id}/cancel — an open order ends: its checkout can no longer be paid
/// and its stock is available again at once.
#[worker::send]
pub async fn cancel_order(
    State(env): State<Env>,
    UpstreamAuth(auth): UpstreamAuth,
    Path(order_id): Path<String>,
) -> ApiResult<Json<OrderCanceled>> {
    let stripe = customer_billing::stripe_for(&env, &auth.scope).await?;
    let status = store::after_sale::cancel_order(&stripe, &auth.scope, &order_id, period::now()).await?;
    Ok(Json(OrderCanceled {
        success: true,
        order_id,
        status,
    }))
}
