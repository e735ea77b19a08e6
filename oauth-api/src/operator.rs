//! Operator routes (the platform's staff, not developers): `shared::operator`.

use axum::{Json, body::Bytes, extract::State, http::HeaderMap};
use shared::{
    ApiResult,
    operator::{self, UsageCounters, UsageCountersRequest},
    period,
};
use worker::Env;

/// PUT /operator/usage-counters — how many usage counters share a very hot project's users.
#[worker::send]
pub async fn usage_counters(State(env): State<Env>, headers: HeaderMap, body: Bytes) -> ApiResult<Json<UsageCounters>> {
    operator::authenticate(&env, &headers)?;
    let request = UsageCountersRequest::parse(&body)?;
    Ok(Json(operator::set_usage_counters(&env, &request, period::now()).await?))
}
