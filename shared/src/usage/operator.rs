//! What the platform's operators (not developers) may do: today, give a very hot project more
//! usage counters. Served by oauth-api, which can evict api-multi's cached projects.
//! Authenticated by `Authorization: Bearer <operator token>`, checked against its SHA-256 in
//! the `OPERATOR_TOKEN_SHA256` setting, so the token itself is in no configuration file;
//! without the setting, operator routes answer 404.

use crate::{
    projects::ProjectCaches,
    runtime::settings::Setting,
    storage::{Database, audit::Actor},
};
use axum::http::{HeaderMap, header};
use dream_core::api::usage::{UsageCounters, UsageCountersRequest};
use sha2::{Digest, Sha256};

use dream_core::{
    error::{ApiError, ApiResult},
    keys::PublishableKey,
    period::Timestamp,
};

pub const OPERATOR_TOKEN_HASH_SETTING: &str = "OPERATOR_TOKEN_SHA256";

/// Refuses anyone but an operator. A deployment without the setting has no operator routes.
pub fn authenticate(token_hash: &Setting, headers: &HeaderMap) -> ApiResult<()> {
    let expected = token_hash
        .optional()
        .ok_or_else(|| ApiError::not_found("No such route"))?;
    let token = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .ok_or_else(|| ApiError::unauthorized("Send `Authorization: Bearer <operator token>`"))?;
    // Comparing digests, not tokens: the time taken says nothing about the token.
    if hex::encode(Sha256::digest(token.trim().as_bytes())) != expected.trim().to_ascii_lowercase() {
        return Err(ApiError::unauthorized("Wrong operator token"));
    }
    Ok(())
}

/// `GET /operator/usage-counters?publishableKey=`: what a change would start from.
pub async fn usage_counters(db: &Database, query: Option<&str>, now: Timestamp) -> ApiResult<UsageCounters> {
    let raw = url::form_urlencoded::parse(query.unwrap_or_default().as_bytes())
        .find(|(name, _)| name == "publishableKey")
        .map(|(_, value)| value.into_owned())
        .ok_or_else(|| ApiError::invalid_request("Missing publishableKey query parameter"))?;
    let key = parse_key(&raw)?;
    let stored = db.counter_layout(&key).await?.ok_or_else(no_project)?;
    Ok(UsageCounters::of(&key, &stored.layout, now))
}

fn parse_key(raw: &str) -> ApiResult<PublishableKey> {
    PublishableKey::parse(raw).map_err(|e| ApiError::invalid_request(format!("publishableKey: {e}")))
}

fn no_project() -> ApiError {
    ApiError::not_found("No project has this publishable key")
}

/// Changes a project's usage counter layout and evicts api-multi's cached copy of it.
pub async fn set_usage_counters(
    (db, caches): (&Database, &ProjectCaches),
    request: &UsageCountersRequest,
    request_id: &str,
    now: Timestamp,
) -> ApiResult<UsageCounters> {
    let key = parse_key(&request.publishable_key)?;
    let stored = db.counter_layout(&key).await?.ok_or_else(no_project)?;
    let layout = stored.layout.change(request.shards, now, request.immediately)?;
    let operator = Actor {
        platform_id: stored.platform_id.clone(),
        id: "operator".to_owned(),
        email: None,
        role: None,
        request_id: request_id.to_owned(),
    };
    let audit = operator
        .entry("operator.usage_counters_changed", now)
        .project(key.as_str(), key.mode())
        .changes(
            UsageCounters::of(&key, &stored.layout, now),
            UsageCounters::of(&key, &layout, now),
        );
    if !db
        .set_counter_layout(&key, &stored, &layout, request.immediately, &audit, now)
        .await?
    {
        return Err(if request.immediately {
            ApiError::conflict(
                "This project has counted usage already (or was changed meanwhile): \
                 omit `immediately` to apply the change to periods that start later",
            )
        } else {
            ApiError::conflict("The project's counters were changed meanwhile; read them and retry")
        });
    }
    for hash in &stored.key_hashes {
        caches.keys.evict_secret_key(hash, now.millis()).await;
    }
    // The counters of the layout in use until now are those a stale isolate would call.
    caches.layout_changed(&key, &stored.layout).await;
    Ok(UsageCounters::of(&key, &layout, now))
}
