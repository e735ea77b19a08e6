//! Operator routes (the platform's staff, not developers): `shared::operator`.

use axum::{
    Json,
    body::Bytes,
    extract::{RawQuery, State},
    http::HeaderMap,
};
use shared::{
    ApiResult,
    operator::{self, UsageCounters, UsageCountersRequest},
    period,
};
use worker::Env;

/// GET /operator/usage-counters?publishableKey= — a project's usage counters.
#[worker::send]
pub async fn show_usage_counters(
    State(env): State<Env>,
    headers: HeaderMap,
    RawQuery(query): RawQuery,
) -> ApiResult<Json<UsageCounters>> {
    operator::authenticate(&env, &headers)?;
    Ok(Json(
        operator::usage_counters(&env, query.as_deref(), period::now()).await?,
    ))
}

/// PUT /operator/usage-counters — how many usage counters share a very hot project's users.
#[worker::send]
pub async fn usage_counters(State(env): State<Env>, headers: HeaderMap, body: Bytes) -> ApiResult<Json<UsageCounters>> {
    operator::authenticate(&env, &headers)?;
    let request = UsageCountersRequest::parse(&body)?;
    Ok(Json(operator::set_usage_counters(&env, &request, period::now()).await?))
}
