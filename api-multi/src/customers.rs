//! Developers' customers: creating them, their subscription checkout, billing portal and plan
//! changes, and the project's dashboard figures.

use axum::{
    Extension, Json,
    body::Bytes,
    extract::State,
    http::{HeaderMap, StatusCode},
    response::{IntoResponse, Response},
};
use shared::{
    ApiResult,
    api::{CheckoutResponse, CustomerCreated, PlanChanged, PortalResponse},
    auth::SecretKeyAuth,
    clerk_backend::ClerkBackend,
    customer_billing::checkout,
    customers::{self, CreateCustomer},
    http::RequestId,
    metering::parse_user_id,
    metrics::{self, ProjectDashboard},
    period,
};
use worker::Env;

use crate::upstream::UpstreamAuth;

/// POST /api/customers — a customer in the end-user Clerk app and in this project; a retry
/// with the same email returns the same customer (200 instead of 201).
#[worker::send]
pub async fn create(State(env): State<Env>, UpstreamAuth(auth): UpstreamAuth, body: Bytes) -> ApiResult<Response> {
    let request = CreateCustomer::parse(&body, &auth)?;
    let clerk = ClerkBackend::end_users(&env)?;
    let (customer, created) = customers::create(&auth, &clerk, request, period::now()).await?;
    let status = if created { StatusCode::CREATED } else { StatusCode::OK };
    Ok((
        status,
        Json(CustomerCreated {
            success: true,
            created,
            customer,
        }),
    )
        .into_response())
}

/// POST /api/create-checkout — a Stripe Checkout URL that subscribes `X-User-Id` to a tier.
#[worker::send]
pub async fn create_checkout(
    State(env): State<Env>,
    UpstreamAuth(auth): UpstreamAuth,
    headers: HeaderMap,
    body: Bytes,
) -> ApiResult<Json<CheckoutResponse>> {
    let user_id = parse_user_id(&headers)?;
    let started = checkout::start(&env, &auth, &user_id, &body, period::now()).await?;
    Ok(Json(CheckoutResponse {
        success: true,
        checkout: started,
    }))
}

/// POST /api/customer-portal — Stripe's billing portal for `X-User-Id`.
#[worker::send]
pub async fn portal(
    State(env): State<Env>,
    Extension(request_id): Extension<RequestId>,
    UpstreamAuth(auth): UpstreamAuth,
    headers: HeaderMap,
    body: Bytes,
) -> ApiResult<Json<PortalResponse>> {
    let user_id = parse_user_id(&headers)?;
    let url = checkout::portal(&env, &auth, &user_id, &body, &request_id.0).await?;
    Ok(Json(PortalResponse { success: true, url }))
}

/// POST /api/change-plan — moves `X-User-Id`'s subscription to another paid tier.
#[worker::send]
pub async fn change_plan(
    State(env): State<Env>,
    UpstreamAuth(auth): UpstreamAuth,
    headers: HeaderMap,
    body: Bytes,
) -> ApiResult<Json<PlanChanged>> {
    let user_id = parse_user_id(&headers)?;
    let (subscription, changed) = checkout::change_plan(&env, &auth, &user_id, &body).await?;
    Ok(Json(PlanChanged {
        success: true,
        changed,
        subscription,
    }))
}

/// GET /api/dashboard — the project's figures, for the developer's own server.
#[worker::send]
pub async fn dashboard(auth: SecretKeyAuth) -> ApiResult<Json<ProjectDashboard>> {
    let dashboard = metrics::project_dashboard(&auth.scope, period::now()).await?;
    Ok(Json(dashboard))
}
