//! The metered endpoints.

use axum::{
    Extension, Json,
    body::Bytes,
    extract::State,
    http::{HeaderMap, HeaderName, HeaderValue},
    response::{IntoResponse, Response},
};
use dream_core::api::{
    UsageResponse,
    usage::{TrackRequest, UsageOverview},
};
use dream_core::input::json_body;
use dream_core::{ApiError, ApiResult, tiers::meters::REQUESTS};
use shared::runtime::clock;
use shared::{
    edge::http::RequestId,
    identity::MeteredAuth,
    usage::{
        counters::Counters,
        metering::{self, UsageHeaders},
    },
};
use worker::Env;

const IDEMPOTENT_REPLAYED: HeaderName = HeaderName::from_static("idempotent-replayed");

/// POST /api/data — counts one request for `X-User-Id` (or the body's quantity of a meter),
/// refusing it at the meter's limit. On a warm isolate, one round trip: the user's counter
/// (which also keeps the rate limits and checks the configuration is current).
#[worker::send]
pub async fn track(
    State(env): State<Env>,
    Extension(request_id): Extension<RequestId>,
    MeteredAuth(auth): MeteredAuth,
    headers: HeaderMap,
    body: Bytes,
) -> ApiResult<Response> {
    let usage_headers = UsageHeaders::parse(&headers)?;
    let track: TrackRequest = json_body(&body)?;
    let counters = Counters::from_env(&env)?;
    let recorded =
        metering::record_usage(&auth, &counters, (&usage_headers, &track), clock::now(), &request_id.0).await?;
    let mut response = Json(UsageResponse {
        success: true,
        usage: recorded.usage,
    })
    .into_response();
    if recorded.replayed {
        response
            .headers_mut()
            .insert(IDEMPOTENT_REPLAYED, HeaderValue::from_static("true"));
    }
    Ok(response)
}

/// GET /api/usage — every meter's report, without counting.
#[worker::send]
pub async fn report(
    State(env): State<Env>,
    MeteredAuth(auth): MeteredAuth,
    headers: HeaderMap,
) -> ApiResult<Json<UsageOverview>> {
    let usage_headers = UsageHeaders::parse(&headers)?;
    let meters = metering::current_usage(&auth, &Counters::from_env(&env)?, &usage_headers, clock::now()).await?;
    let usage = meters
        .iter()
        .find(|m| m.meter == REQUESTS)
        .cloned()
        .ok_or_else(|| ApiError::internal("a tier without its requests meter"))?;
    Ok(Json(UsageOverview {
        success: true,
        usage,
        meters,
    }))
}
