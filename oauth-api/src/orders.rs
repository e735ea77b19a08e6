//! Store orders from the dashboard: cancel an open checkout, refund a paid order. The project
//! is resolved through the developer's own platform, as every oauth-api route does.

use axum::{Extension, Json, extract::State};
use shared::{
    ApiResult,
    api::{CancelOrderRequest, OrderCanceled, RefundOrderRequest},
    auth::DeveloperSession,
    http::RequestId,
    period,
    projects::ProjectEdit,
    store::after_sale::OrderRefunded,
};
use worker::Env;

/// POST /orders/cancel — the checkout can no longer be paid and its stock is available at once.
#[worker::send]
pub async fn cancel(
    State(env): State<Env>,
    Extension(request_id): Extension<RequestId>,
    DeveloperSession(developer): DeveloperSession,
    Json(request): Json<CancelOrderRequest>,
) -> ApiResult<Json<OrderCanceled>> {
    let edit = ProjectEdit::open(&env, developer, &request.publishable_key, &request_id.0).await?;
    let status = edit.cancel_order(&request.order_id, period::now()).await?;
    Ok(Json(OrderCanceled {
        success: true,
        order_id: request.order_id,
        status,
    }))
}

/// POST /orders/refund — refunds the rest of the payment on the developer's Stripe account,
/// and returns the units to stock when asked.
#[worker::send]
pub async fn refund(
    State(env): State<Env>,
    Extension(request_id): Extension<RequestId>,
    DeveloperSession(developer): DeveloperSession,
    Json(request): Json<RefundOrderRequest>,
) -> ApiResult<Json<OrderRefunded>> {
    let edit = ProjectEdit::open(&env, developer, &request.publishable_key, &request_id.0).await?;
    let refunded = edit
        .refund_order(&request.order_id, request.restock, period::now())
        .await?;
    Ok(Json(refunded))
}
