//! Operator routes (the platform's staff, not developers): `shared::usage::operator`.

use axum::{
    Extension, Json,
    body::Bytes,
    extract::{RawQuery, State},
    http::HeaderMap,
};
use dream_core::ApiResult;
use dream_core::api::usage::{UsageCounters, UsageCountersRequest};
use shared::{edge::http::RequestId, runtime::clock, storage::Database, usage::operator};

use crate::settings::{App, project_caches};

/// GET /operator/usage-counters?publishableKey= — a project's usage counters.
#[worker::send]
pub async fn show_usage_counters(
    State(app): State<App>,
    headers: HeaderMap,
    RawQuery(query): RawQuery,
) -> ApiResult<Json<UsageCounters>> {
    operator::authenticate(&app.settings.operator_token_hash, &headers)?;
    let db = Database::from_env(&app.env)?;
    Ok(Json(
        operator::usage_counters(&db, query.as_deref(), clock::now()).await?,
    ))
}

/// PUT /operator/usage-counters — how many usage counters share a very hot project's users.
#[worker::send]
pub async fn usage_counters(
    State(app): State<App>,
    Extension(request_id): Extension<RequestId>,
    headers: HeaderMap,
    body: Bytes,
) -> ApiResult<Json<UsageCounters>> {
    operator::authenticate(&app.settings.operator_token_hash, &headers)?;
    let request = UsageCountersRequest::parse(&body)?;
    let deps = (&Database::from_env(&app.env)?, &project_caches(&app.env));
    Ok(Json(
        operator::set_usage_counters(deps, &request, &request_id.0, clock::now()).await?,
    ))
}
