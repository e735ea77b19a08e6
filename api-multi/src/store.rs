//! The Store: products with what can be bought now, and guest cart checkout.

use axum::{Json, body::Bytes, extract::State};
use shared::{
    ApiResult,
    api::{CartCheckoutResponse, ProductList},
    auth::SecretKeyAuth,
    period, store,
};
use worker::Env;

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
    auth: SecretKeyAuth,
    body: Bytes,
) -> ApiResult<Json<CartCheckoutResponse>> {
    let started = store::checkout(&env, &auth, &body, period::now()).await?;
    Ok(Json(CartCheckoutResponse {
        success: true,
        checkout: started,
    }))
}
