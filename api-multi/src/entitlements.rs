//! What a user's tier grants, for the developer's app to gate features on.

use axum::{
    Json,
    body::Bytes,
    extract::{Query, State},
    http::HeaderMap,
};
use dream_core::ApiResult;
use dream_core::api::entitlements::{CheckAnswer, CheckRequest, Entitlements, EntitlementsQuery};
use dream_core::input::json_body;
use shared::{
    identity::MeteredAuth,
    runtime::clock,
    usage::{counters::Counters, entitlements, metering::UsageHeaders},
};
use worker::Env;

/// GET /api/entitlements?userId= — the user's tier, its status, features and meters.
#[worker::send]
pub async fn list(
    State(env): State<Env>,
    MeteredAuth(auth): MeteredAuth,
    Query(query): Query<EntitlementsQuery>,
    headers: HeaderMap,
) -> ApiResult<Json<Entitlements>> {
    let user = UsageHeaders::parse_naming(query.user_id.as_deref(), &headers)?;
    let answer = entitlements::entitlements(&auth, &Counters::from_env(&env)?, &user, clock::now()).await?;
    Ok(Json(answer))
}

/// POST /api/check — whether the user may use a feature (or one more unit of a meter) now.
#[worker::send]
pub async fn check(
    State(env): State<Env>,
    MeteredAuth(auth): MeteredAuth,
    headers: HeaderMap,
    body: Bytes,
) -> ApiResult<Json<CheckAnswer>> {
    let request: CheckRequest = json_body(&body)?;
    let user = UsageHeaders::parse_naming(request.user_id.as_deref(), &headers)?;
    let answer = entitlements::check(&auth, &Counters::from_env(&env)?, &user, &request.feature, clock::now()).await?;
    Ok(Json(answer))
}
