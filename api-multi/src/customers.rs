//! Developers' customers: creating them, their subscription checkout, billing portal and plan
//! changes, and the project's dashboard figures.

use axum::{
    Extension, Json,
    body::Bytes,
    extract::State,
    http::{HeaderMap, StatusCode},
    response::{IntoResponse, Response},
};
use dream_core::ApiResult;
use dream_core::api::{CheckoutResponse, CustomerCreated, PlanChanged, PortalResponse, figures::ProjectDashboard};
use shared::runtime::clock;
use shared::{
    billing::subscriptions::checkout,
    edge::http::RequestId,
    identity::{
        SecretKeyAuth,
        end_users::{self, CreateCustomer},
    },
    projects::figures,
    usage::metering::parse_user_id,
};
use std::sync::Arc;

use crate::{settings::Settings, upstream::UpstreamAuth};

/// POST /api/customers — a customer in the end-user Clerk app and in this project; a retry
/// with the same email returns the same customer (200 instead of 201).
#[worker::send]
pub async fn create(
    State(settings): State<Arc<Settings>>,
    State(env): State<worker::Env>,
    UpstreamAuth(auth): UpstreamAuth,
    body: Bytes,
) -> ApiResult<Response> {
    let request = CreateCustomer::parse(&body, &auth)?;
    let clerk = settings.end_user_clerk()?;
    let (customer, created) =
        end_users::create(&auth, &clerk, &crate::settings::senders(&env), request, clock::now()).await?;
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
    State(settings): State<Arc<Settings>>,
    UpstreamAuth(auth): UpstreamAuth,
    headers: HeaderMap,
    body: Bytes,
) -> ApiResult<Json<CheckoutResponse>> {
    let user_id = parse_user_id(&headers)?;
    let started = checkout::start(
        (&settings.stripe()?, &settings.api_multi_url),
        &auth,
        &user_id,
        &body,
        clock::now(),
    )
    .await?;
    Ok(Json(CheckoutResponse {
        success: true,
        checkout: started,
    }))
}

/// POST /api/customer-portal — Stripe's billing portal for `X-User-Id`.
#[worker::send]
pub async fn portal(
    State(settings): State<Arc<Settings>>,
    Extension(request_id): Extension<RequestId>,
    UpstreamAuth(auth): UpstreamAuth,
    headers: HeaderMap,
    body: Bytes,
) -> ApiResult<Json<PortalResponse>> {
    let user_id = parse_user_id(&headers)?;
    let url = checkout::portal(&settings.stripe()?, &auth, &user_id, &body, &request_id.0).await?;
    Ok(Json(PortalResponse { success: true, url }))
}

/// POST /api/change-plan — moves `X-User-Id`'s subscription to another paid tier.
#[worker::send]
pub async fn change_plan(
    State(settings): State<Arc<Settings>>,
    State(env): State<worker::Env>,
    UpstreamAuth(auth): UpstreamAuth,
    headers: HeaderMap,
    body: Bytes,
) -> ApiResult<Json<PlanChanged>> {
    let user_id = parse_user_id(&headers)?;
    let (subscription, changed) = checkout::change_plan(
        (
            &settings.stripe()?,
            &settings.end_user_clerk()?,
            &crate::settings::senders(&env),
        ),
        &auth,
        &user_id,
        &body,
    )
    .await?;
    Ok(Json(PlanChanged {
        success: true,
        changed,
        subscription,
    }))
}

/// GET /api/dashboard — the project's figures, for the developer's own server.
#[worker::send]
pub async fn dashboard(auth: SecretKeyAuth) -> ApiResult<Json<ProjectDashboard>> {
    let dashboard =
        figures::project_dashboard(&auth.scope, (auth.config.tax, auth.config.currency), clock::now()).await?;
    Ok(Json(dashboard))
}
