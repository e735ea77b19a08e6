//! The Store: products with what can be bought now, and guest cart checkout.

use axum::{
    Extension, Json,
    body::Bytes,
    extract::{Path, State},
    http::HeaderMap,
};
use dream_core::ApiResult;
use dream_core::api::{CartCheckoutResponse, OrderCanceled, ProductList};
use shared::{
    edge::http::RequestId, identity::SecretKeyAuth, projects::connected::stripe_for, runtime::clock, store,
    usage::metering,
};

use crate::{settings::Settings, upstream::UpstreamAuth};
use std::sync::Arc;

/// GET /api/products — every product with its price, stock and availability.
#[worker::send]
pub async fn products(auth: SecretKeyAuth) -> ApiResult<Json<ProductList>> {
    let products = store::products(&auth, clock::now()).await?;
    Ok(Json(ProductList {
        success: true,
        products,
    }))
}

/// POST /api/cart/checkout — holds the cart's stock and returns a Stripe Checkout URL.
#[worker::send]
pub async fn cart_checkout(
    State(settings): State<Arc<Settings>>,
    UpstreamAuth(auth): UpstreamAuth,
    headers: HeaderMap,
    body: Bytes,
) -> ApiResult<Json<CartCheckoutResponse>> {
    let idempotency_key = metering::parse_idempotency_key(&headers)?;
    let stripe = settings.stripe()?;
    let started = store::checkout(
        (&stripe, &settings.api_multi_url),
        &auth,
        idempotency_key.as_deref(),
        &body,
        clock::now(),
    )
    .await?;
    Ok(Json(CartCheckoutResponse {
        success: true,
        checkout: started,
    }))
}

/// POST /api/orders/{order_id}/cancel — an open order ends: its checkout can no longer be paid
/// and its stock is available again at once.
#[worker::send]
pub async fn cancel_order(
    State(settings): State<Arc<Settings>>,
    Extension(request_id): Extension<RequestId>,
    UpstreamAuth(auth): UpstreamAuth,
    Path(order_id): Path<String>,
) -> ApiResult<Json<OrderCanceled>> {
    let stripe = stripe_for(&settings.stripe()?, &auth.scope).await?;
    let now = clock::now();
    let audit = auth
        .scope
        .secret_key_entry("order.canceled", &request_id.0, now)
        .target(order_id.as_str());
    let status = store::after_sale::cancel_order(&stripe, &auth.scope, &order_id, &audit, now).await?;
    Ok(Json(OrderCanceled {
        success: true,
        order_id,
        status,
    }))
}
