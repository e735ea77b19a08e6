//! Store orders from the dashboard: cancel an open checkout, refund a paid order. The project
//! is resolved through the developer's own platform, as every oauth-api route does.

use crate::settings::{App, edit_deps};
use axum::{Extension, Json, extract::State};
use dream_core::ApiResult;
use dream_core::api::{CancelOrderRequest, OrderCanceled, RefundOrderRequest, store::OrderRefunded};
use shared::runtime::clock;
use shared::{edge::http::RequestId, identity::DeveloperSession, projects::ProjectEdit};

/// POST /orders/cancel — the checkout can no longer be paid and its stock is available at once.
#[worker::send]
pub async fn cancel(
    State(app): State<App>,
    Extension(request_id): Extension<RequestId>,
    DeveloperSession(developer): DeveloperSession,
    Json(request): Json<CancelOrderRequest>,
) -> ApiResult<Json<OrderCanceled>> {
    let edit = ProjectEdit::open(edit_deps(&app)?, developer, &request.publishable_key, &request_id.0).await?;
    let status = edit.cancel_order(&request.order_id, clock::now()).await?;
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
    State(app): State<App>,
    Extension(request_id): Extension<RequestId>,
    DeveloperSession(developer): DeveloperSession,
    Json(request): Json<RefundOrderRequest>,
) -> ApiResult<Json<OrderRefunded>> {
    let edit = ProjectEdit::open(edit_deps(&app)?, developer, &request.publishable_key, &request_id.0).await?;
    let refunded = edit
        .refund_order(&request.order_id, request.restock, clock::now())
        .await?;
    Ok(Json(refunded))
}
