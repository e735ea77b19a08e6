//! Developers (the dashboard): `Authorization: Bearer <Clerk session token>` of the dream-api
//! Clerk app, verified against the instance's JWKS; `iss` must be our instance and `azp` one of
//! the dashboard origins (`ALLOWED_ORIGINS`). Every failure is a 401 naming the reason.

use axum::{
    extract::FromRequestParts,
    http::{header, request::Parts},
};
use worker::{Env, send::SendFuture};

use super::jwks;
use crate::{
    clerk::{self, SessionClaims, SessionRules},
    config,
    error::{ApiError, ApiResult},
    http::CorsPolicy,
    keys::random_id,
    period::{self, Timestamp},
    ratelimit,
    repo::{Database, PlatformScope, platforms::Platform},
};

/// The Clerk instance's issuer URL (`https://<instance>.clerk.accounts.dev` in production).
pub const CLERK_ISSUER_VAR: &str = "CLERK_ISSUER";
/// Optional; defaults to `{CLERK_ISSUER}/.well-known/jwks.json`.
pub const CLERK_JWKS_URL_VAR: &str = "CLERK_JWKS_URL";
pub const PLATFORM_TOKENS_KV: &str = "PLATFORM_TOKENS_KV";
const MAX_TOKEN_LEN: usize = 8 * 1024;

/// A verified developer: who they are, and the database to find their platform in.
pub struct Developer {
    pub claims: SessionClaims,
    db: Database,
}

/// Extractor: a request from a signed-in developer.
pub struct DeveloperSession(pub Developer);

pub async fn verify_developer(env: &Env, authorization: Option<&str>, now: Timestamp) -> ApiResult<Developer> {
    let token = authorization
        .and_then(|h| h.strip_prefix("Bearer "))
        .map(str::trim)
        .filter(|t| !t.is_empty())
        .ok_or_else(|| ApiError::unauthorized("Missing session: send `Authorization: Bearer <Clerk session token>`"))?;
    if token.len() > MAX_TOKEN_LEN {
        return Err(ApiError::unauthorized("Session token is too long"));
    }
    let issuer = config::required(env, CLERK_ISSUER_VAR)?;
    let jwks_url = config::optional(env, CLERK_JWKS_URL_VAR)
        .unwrap_or_else(|| format!("{}/.well-known/jwks.json", issuer.trim_end_matches('/')));
    let kid = clerk::key_id(token).map_err(|e| ApiError::unauthorized(format!("Invalid session: {e}")))?;
    let keys = jwks::keys_for(env, PLATFORM_TOKENS_KV, &jwks_url, &kid, now).await?;
    let parties = CorsPolicy::from_env(env);
    let claims = clerk::verify(
        token,
        &keys,
        &SessionRules {
            issuer: &issuer,
            authorized_parties: &parties,
        },
        now,
    )
    .map_err(|e| ApiError::unauthorized(format!("Invalid session: {e}")))?;
    Ok(Developer {
        claims,
        db: Database::from_env(env)?,
    })
}

impl Developer {
    pub fn user_id(&self) -> &str {
        &self.claims.sub
    }

    /// The developer's platform, created on first call (the id never changes afterwards).
    pub async fn ensure_platform(self, now: Timestamp) -> ApiResult<(PlatformScope, bool)> {
        if let Some(platform) = self.db.platform_by_user(&self.claims.sub).await? {
            return Ok((PlatformScope::new(self.db, platform), false));
        }
        let platform: Platform = self
            .db
            .ensure_platform(&random_id("plt"), &self.claims.sub, now)
            .await?;
        Ok((PlatformScope::new(self.db, platform), true))
    }

    /// The developer's platform; 404 until `POST /generate-platform-id` has created it.
    pub async fn platform(self) -> ApiResult<PlatformScope> {
        match self.db.platform_by_user(&self.claims.sub).await? {
            Some(platform) => Ok(PlatformScope::new(self.db, platform)),
            None => Err(ApiError::not_found(
                "No platform yet: call POST /generate-platform-id first",
            )),
        }
    }
}

impl FromRequestParts<Env> for DeveloperSession {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, env: &Env) -> Result<Self, ApiError> {
        let authorization = parts
            .headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned);
        // JS-backed futures are !Send; workerd runs one thread, so asserting Send is sound.
        SendFuture::new(async move {
            let developer = verify_developer(env, authorization.as_deref(), period::now()).await?;
            let key = format!("developer:{}", developer.user_id());
            ratelimit::enforce(env, &ratelimit::DEVELOPER_LIMIT, key).await?;
            Ok(DeveloperSession(developer))
        })
        .await
    }
}
