//! Secret keys (devs' servers calling api-multi): `Authorization: Bearer sk_…` → SHA-256 →
//! KV cache → D1 on a miss. Anything wrong is a 401 that says what, never which keys exist.

use std::sync::Arc;

use axum::{
    extract::{FromRef, FromRequestParts},
    http::{header, request::Parts},
};
use worker::{Env, send::SendFuture};

use super::key_failures as failures;
use crate::storage::{
    Database, Project, ProjectScope,
    project_cache::{self, Cache, CachedConfig, CachedKey},
    project_memory,
};
use dream_core::{
    error::{ApiError, ApiResult, ErrorCode},
    keys::{KeyError, SecretKey, SecretKeyHash},
    mode::Mode,
    period::Timestamp,
    tiers::ProjectConfig,
};

/// Longer than any valid `Bearer sk_…` header; bigger values are rejected before hashing.
const MAX_AUTHORIZATION_LEN: usize = 256;

/// A request authenticated with a project's secret key, with that project's configuration.
pub struct SecretKeyAuth {
    pub scope: ProjectScope,
    pub config: Arc<ProjectConfig>,
    /// The project's configuration epoch `config` is known to be as new as: the usage counter
    /// refuses a count made with an older one (`usage::counter`), and `reloaded` reads D1 again.
    pub config_epoch: u64,
    /// Whether this request read `config` from D1 itself (nothing can be newer).
    pub read_from_d1: bool,
    key: KeySource,
}

/// The key a request was authenticated with, and the cache to refill when D1 is read again.
struct KeySource {
    hash: SecretKeyHash,
    mode: Mode,
    kv: Cache,
}

/// A metered route's authentication (`POST /api/data`, `GET /api/usage`): the configuration may
/// come from the isolate's memory (`storage::project_memory`), because the usage counter checks
/// its epoch on the call that counts. Every other route reads KV, then D1.
pub struct MeteredAuth(pub SecretKeyAuth);

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

/// Where a route may find the project's configuration first.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Recall {
    /// The isolate's memory, then KV, then D1 (the metered routes).
    Memory,
    /// KV, then D1.
    Kv,
}

/// Resolves a secret key to its active project: one KV read when cached, D1 otherwise. A key KV
/// has never seen reaches D1 only while `client`'s network and the platform are within their
/// unknown-key budgets (`key_failures`); a key KV knows always does.
pub async fn authenticate_secret_key(
    env: &Env,
    key: &SecretKey,
    client: &str,
    recall: Recall,
) -> ApiResult<SecretKeyAuth> {
    let db = Database::from_env(env)?;
    let kv = Cache::from_env(env, project_cache::TOKENS_KV);
    authenticate_with((db, kv), key, client, recall).await
}

/// `authenticate_secret_key` on the database and cache it is given.
pub(crate) async fn authenticate_with(
    (db, kv): (Database, Cache),
    key: &SecretKey,
    client: &str,
    recall: Recall,
) -> ApiResult<SecretKeyAuth> {
    authenticate_hash((db, kv), key.hash(), key.mode(), client, recall).await
}

/// A usage widget's read (`GET /api/widget`): the project whose working secret key minted the
/// token (signed with `platform_secret` over that key's hash), as that key would authenticate,
/// and the user the token is for. Only the widget's route calls this. A token that fails is
/// counted against its client's network like an unknown secret key, and remembered, so forged
/// tokens cannot buy D1 reads.
pub async fn authenticate_widget_token(
    env: &Env,
    (token, platform_secret): (&str, &str),
    client: &str,
    now: Timestamp,
) -> ApiResult<(SecretKeyAuth, dream_core::widget::WidgetClaims)> {
    let refused = || {
        ApiError::unauthorized(
            "Invalid widget token: not minted by this project's secret key (rotated?); ask your server for a new one",
        )
    };
    let token = dream_core::widget::UnverifiedToken::parse(token, now)?;
    let fingerprint = token.fingerprint();
    let now_ms = crate::runtime::clock::now_millis();
    failures::refuse_known_unknown(&fingerprint, now_ms).map_err(|_| refused())?;
    failures::refuse_unseen_key(client, now_ms)?;
    let db = Database::from_env(env)?;
    let minted_by = db
        .working_secret_hashes(&token.publishable_key, now)
        .await?
        .into_iter()
        .find(|hash| token.signed_with(&dream_core::widget::signing_key(platform_secret, hash.as_str())));
    let Some(hash) = minted_by else {
        let counted = failures::record_unknown(env, client, &fingerprint, now_ms).await;
        return Err(if counted.code() == ErrorCode::Unauthorized {
            refused()
        } else {
            counted
        });
    };
    let kv = Cache::from_env(env, project_cache::TOKENS_KV);
    let mode = token.publishable_key.mode();
    let auth = authenticate_hash((db, kv), hash, mode, client, Recall::Kv).await?;
    if auth.config.publishable_key != token.publishable_key {
        return Err(refused());
    }
    Ok((auth, token.claims))
}

/// `authenticate_with` for a key known by its hash.
async fn authenticate_hash(
    (db, kv): (Database, Cache),
    hash: SecretKeyHash,
    mode: Mode,
    client: &str,
    recall: Recall,
) -> ApiResult<SecretKeyAuth> {
    let now_ms = crate::runtime::clock::now_millis();
    let remembered = match recall {
        Recall::Memory => project_memory::recall(&hash, now_ms),
        Recall::Kv => None,
    };
    let mut read_from_d1 = false;
    let cached = match remembered {
        Some(cached) => cached,
        None => {
            let cached = match kv.secret_key(&hash, now_ms).await {
                CachedKey::Fresh(cached) => cached,
                cached => {
                    let known_epoch = match cached {
                        CachedKey::Known(epoch) => epoch,
                        _ => {
                            failures::refuse_unseen_key(client, now_ms)?;
                            0
                        }
                    };
                    // Read after these epochs were learnt, so at least as new as they are.
                    let epoch = known_epoch.max(project_memory::last_epoch(&hash));
                    let cached = read_active(&db, &hash, epoch).await?;
                    kv.put_secret_key(&hash, Some(&cached), now_ms).await;
                    read_from_d1 = true;
                    cached
                }
            };
            project_memory::remember(&hash, &cached, now_ms);
            cached
        }
    };
    let source = KeySource { hash, mode, kv };
    admit(db, source, cached, read_from_d1)
}

/// The key's project from D1, as new as `epoch` (the read is made after it was learnt).
async fn read_active(db: &Database, hash: &SecretKeyHash, epoch: u64) -> ApiResult<CachedConfig> {
    let unknown = failures::unknown_key;
    let checked_at_ms = crate::runtime::clock::now_millis();
    let publishable_key = db
        .find_active_key(hash, crate::runtime::clock::now())
        .await?
        .ok_or_else(unknown)?;
    let config = db.load_project_config(&publishable_key).await?.ok_or_else(unknown)?;
    Ok(CachedConfig {
        config: Arc::new(config),
        checked_at_ms,
        epoch,
    })
}

/// The checks every configuration passes, wherever it was read.
fn admit(db: Database, key: KeySource, cached: CachedConfig, read_from_d1: bool) -> ApiResult<SecretKeyAuth> {
    let config = cached.config;
    // Test and live never mix, whatever a cache or a row says.
    if config.publishable_key.mode() != key.mode {
        return Err(failures::unknown_key());
    }
    if key.mode == Mode::Live
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
        config_epoch: cached.epoch,
        read_from_d1,
        key,
    })
}

impl SecretKeyAuth {
    /// The key the usage widget tokens this secret key mints are signed with
    /// (`dream_core::widget::signing_key`).
    pub fn widget_signing_key(&self, platform_secret: &str) -> Vec<u8> {
        dream_core::widget::signing_key(platform_secret, self.key.hash.as_str())
    }

    /// The project's configuration read from D1 again, after the usage counter said the project
    /// was edited since `config` was read (its epoch is now `epoch`). KV and the isolate's memory
    /// get it too, so the next requests need no second read. A key revoked by the edit is a 401.
    pub async fn reloaded(&self, epoch: u64) -> ApiResult<SecretKeyAuth> {
        let db = self.scope.database().clone();
        let now_ms = crate::runtime::clock::now_millis();
        let cached = match read_active(&db, &self.key.hash, epoch).await {
            Ok(cached) => cached,
            Err(e) => {
                if e.code() == ErrorCode::Unauthorized {
                    // Revoked: nothing of the key is left to serve it again.
                    project_memory::forget(&self.key.hash);
                    self.key.kv.forget_secret_key(&self.key.hash).await;
                }
                return Err(e);
            }
        };
        self.key.kv.put_secret_key(&self.key.hash, Some(&cached), now_ms).await;
        project_memory::remember(&self.key.hash, &cached, now_ms);
        let source = KeySource {
            hash: self.key.hash.clone(),
            mode: self.key.mode,
            kv: self.key.kv.clone(),
        };
        admit(db, source, cached, true)
    }
}

/// The extractors' common path: the key parsed, refused from memory if just found unknown, and
/// every unknown key counted against its client's network.
async fn extract(parts: &Parts, env: Env, recall: Recall) -> ApiResult<SecretKeyAuth> {
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
        match authenticate_secret_key(&env, &key, &client, recall).await {
            Err(e) if e.code() == ErrorCode::Unauthorized => {
                Err(failures::record_unknown(&env, &client, hash.as_str(), now_ms).await)
            }
            other => other,
        }
    })
    .await
}

impl<S: Send + Sync> FromRequestParts<S> for SecretKeyAuth
where
    Env: FromRef<S>,
{
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, ApiError> {
        extract(parts, Env::from_ref(state), Recall::Kv).await
    }
}

impl<S: Send + Sync> FromRequestParts<S> for MeteredAuth
where
    Env: FromRef<S>,
{
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, ApiError> {
        extract(parts, Env::from_ref(state), Recall::Memory).await.map(Self)
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
