//! Secret keys (devs' servers calling api-multi): `Authorization: Bearer sk_…` → SHA-256 →
//! KV cache → D1 on a miss. Anything wrong is a 401 that says what, never which keys exist.

use axum::{
    extract::{FromRef, FromRequestParts},
    http::{header, request::Parts},
};
use worker::{Env, send::SendFuture};

use super::key_failures as failures;
use crate::storage::{
    Database, Project, ProjectScope,
    project_cache::{self, Cache, CachedKey},
};
use dream_core::{
    error::{ApiError, ApiResult, ErrorCode},
    keys::{KeyError, SecretKey},
    mode::Mode,
    period::Timestamp,
    tiers::ProjectConfig,
};

/// Longer than any valid `Bearer sk_…` header; bigger values are rejected before hashing.
const MAX_AUTHORIZATION_LEN: usize = 256;

/// A request authenticated with a project's secret key, with that project's configuration.
pub struct SecretKeyAuth {
    pub scope: ProjectScope,
    pub config: ProjectConfig,
}

/// Parses the `Authorization` header into a secret key, with a message for each way it fails.
pub fn parse_bearer(header_value: Option<&str>) -> ApiResult<SecretKey> {
    let value = header_value
        .ok_or_else(|| ApiError::unauthorized("Missing Authorization header; send `Authorization: Bearer sk_...`"))?;
    if value.len() > MAX_AUTHORIZATION_LEN {
        return Err(ApiError::unauthorized(
            "Authorization header is too long to hold a secret key",
        ));
    }
    let token = value
        .strip_prefix("Bearer ")
        .ok_or_else(|| ApiError::unauthorized("Authorization must be `Bearer <secret key>`"))?
        .trim();
    SecretKey::parse(token).map_err(|err| match err {
        KeyError::WrongPrefix if token.starts_with("pk_") => ApiError::unauthorized(
            "A publishable key (pk_) cannot authenticate API calls; use the project's secret key (sk_)",
        ),
        err => ApiError::unauthorized(format!("Invalid secret key: {err}")),
    })
}

/// Resolves a secret key to its active project: one KV read when cached, D1 otherwise. A key KV
/// has never seen reaches D1 only while `client`'s network and the platform are within their
/// unknown-key budgets (`key_failures`); a key KV knows always does.
pub async fn authenticate_secret_key(env: &Env, key: &SecretKey, client: &str) -> ApiResult<SecretKeyAuth> {
    let db = Database::from_env(env)?;
    let kv = Cache::from_env(env, project_cache::TOKENS_KV);
    authenticate_with((db, &kv), key, client).await
}

/// `authenticate_secret_key` on the database and cache it is given.
pub(crate) async fn authenticate_with(
    (db, kv): (Database, &Cache),
    key: &SecretKey,
    client: &str,
) -> ApiResult<SecretKeyAuth> {
    let unknown = failures::unknown_key;
    let hash = key.hash();
    let now_ms = crate::runtime::clock::now_millis();

    let config = match kv.secret_key(&hash, now_ms).await {
        CachedKey::Fresh(config) => config,
        cached => {
            if cached == CachedKey::Unknown {
                failures::refuse_unseen_key(client, now_ms)?;
            }
            let publishable_key = db
                .find_active_key(&hash, crate::runtime::clock::now())
                .await?
                .ok_or_else(unknown)?;
            let config = db.load_project_config(&publishable_key).await?.ok_or_else(unknown)?;
            kv.put_secret_key(&hash, Some(&config), now_ms).await;
            config
        }
    };
    // Test and live never mix, whatever a cache or a row says.
    if config.publishable_key.mode() != key.mode() {
        return Err(unknown());
    }
    if key.mode() == Mode::Live
        && let Some(pause) = config.live_keys_pause_at.as_deref().and_then(Timestamp::parse_rfc3339)
        && crate::runtime::clock::now() >= pause
    {
        return Err(ApiError::new(
            ErrorCode::PaymentRequired,
            "This project's developer's dream-api plan has lapsed: live keys are paused until it is renewed",
        )
        .with_detail("pausedSince", pause.to_rfc3339()));
    }
    let project = Project {
        publishable_key: config.publishable_key.clone(),
        platform_id: config.platform_id.clone(),
        project_type: config.project_type,
    };
    Ok(SecretKeyAuth {
        scope: ProjectScope::new(db, project),
        config,
    })
}

impl<S: Send + Sync> FromRequestParts<S> for SecretKeyAuth
where
    Env: FromRef<S>,
{
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, ApiError> {
        let env = Env::from_ref(state);
        let header_value = parts
            .headers
            .get(header::AUTHORIZATION)
            .map(|v| v.to_str().unwrap_or(""));
        let key = parse_bearer(header_value)?;
        let client = failures::client_network(&parts.headers);
        let hash = key.hash();
        let now_ms = crate::runtime::clock::now_millis();
        failures::refuse_known_unknown(hash.as_str(), now_ms)?;
        // JS-backed futures are !Send; workerd runs one thread, so asserting Send is sound.
        SendFuture::new(async move {
            match authenticate_secret_key(&env, &key, &client).await {
                Err(e) if e.code() == ErrorCode::Unauthorized => {
                    Err(failures::record_unknown(&env, &client, hash.as_str(), now_ms).await)
                }
                other => other,
            }
        })
        .await
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use dream_core::error::ErrorCode;

    #[test]
    fn bearer_parsing_explains_each_failure() {
        let sk = format!("sk_test_{}", "ab".repeat(32));
        assert!(parse_bearer(Some(&format!("Bearer {sk}"))).is_ok());
        let cases = [
            (None, "Missing Authorization"),
            (Some(sk.clone()), "Bearer"),
            (Some(format!("Basic {sk}")), "Bearer"),
            (Some(format!("Bearer pk_test_{}", "ab".repeat(16))), "publishable key"),
            (Some(format!("Bearer sk_test_{}", "ab".repeat(31))), "wrong length"),
            (Some(format!("Bearer sk_prod_{}", "ab".repeat(32))), "mode"),
            (Some(format!("Bearer sk_test_{}", "x".repeat(300))), "too long"),
        ];
        for (header, expected) in cases {
            let err = parse_bearer(header.as_deref()).unwrap_err();
            assert_eq!(err.code(), ErrorCode::Unauthorized);
            assert!(err.message().contains(expected), "{header:?}: {}", err.message());
            assert!(!err.message().contains("abab"), "error must not echo the key");
        }
    }
}
