//! Developers (the dashboard): `Authorization: Bearer <Clerk session token>` of the dream-api
//! Clerk app, verified against the instance's JWKS; `iss` must be our instance and `azp` one of
//! the dashboard origins (`ALLOWED_ORIGINS`). Every failure is a 401 naming the reason.

use std::sync::Arc;

use crate::runtime::clock;
use axum::{
    extract::{FromRef, FromRequestParts},
    http::{header, request::Parts},
};
use worker::{Env, send::SendFuture};

use super::jwks;
use crate::{
    edge::{http::CorsPolicy, rate_limits},
    identity::session_tokens::{self, SessionClaims, SessionRules},
    runtime::settings::Setting,
    storage::{Database, PlatformScope, platforms::Platform},
};
use dream_core::{
    error::{ApiError, ApiResult},
    keys::random_id,
    period::Timestamp,
};

/// The Clerk instance's issuer URL (`https://<instance>.clerk.accounts.dev` in production).
pub const CLERK_ISSUER_VAR: &str = "CLERK_ISSUER";
/// Optional; defaults to `{CLERK_ISSUER}/.well-known/jwks.json`.
pub const CLERK_JWKS_URL_VAR: &str = "CLERK_JWKS_URL";

/// How a worker verifies developer sessions: the developers' Clerk issuer, where its keys are,
/// and the dashboard origins a token may be issued to (`azp`).
#[derive(Debug, Clone)]
pub struct SessionSettings {
    pub issuer: Setting,
    pub jwks_url: Setting,
    pub authorized_parties: CorsPolicy,
}

impl SessionSettings {
    pub fn read(env: &Env) -> Self {
        Self {
            issuer: Setting::read(env, CLERK_ISSUER_VAR),
            jwks_url: Setting::read(env, CLERK_JWKS_URL_VAR),
            authorized_parties: CorsPolicy::from_env(env),
        }
    }
}
pub const PLATFORM_TOKENS_KV: &str = "PLATFORM_TOKENS_KV";
const MAX_TOKEN_LEN: usize = 8 * 1024;

/// A verified developer: who they are, and the database to find their platform in.
pub struct Developer {
    pub claims: SessionClaims,
    db: Database,
}

/// Extractor: a request from a signed-in developer.
pub struct DeveloperSession(pub Developer);

pub async fn verify_developer(
    (env, settings): (&Env, &SessionSettings),
    authorization: Option<&str>,
    now: Timestamp,
) -> ApiResult<Developer> {
    let token = authorization
        .and_then(|h| h.strip_prefix("Bearer "))
        .map(str::trim)
        .filter(|t| !t.is_empty())
        .ok_or_else(|| ApiError::unauthorized("Missing session: send `Authorization: Bearer <Clerk session token>`"))?;
    if token.len() > MAX_TOKEN_LEN {
        return Err(ApiError::unauthorized("Session token is too long"));
    }
    let issuer = settings.issuer.get()?;
    let jwks_url = settings.jwks_url.optional().map_or_else(
        || format!("{}/.well-known/jwks.json", issuer.trim_end_matches('/')),
        str::to_owned,
    );
    let kid = session_tokens::key_id(token).map_err(|e| ApiError::unauthorized(format!("Invalid session: {e}")))?;
    let keys = jwks::keys_for(env, PLATFORM_TOKENS_KV, &jwks_url, &kid, now).await?;
    let claims = session_tokens::verify(
        token,
        &keys,
        &SessionRules {
            issuer,
            authorized_parties: &settings.authorized_parties,
        },
        now,
    )
    .map_err(|e| ApiError::unauthorized(format!("Invalid session: {e}")))?;
    Ok(Developer::verified(claims, Database::from_env(env)?))
}

impl Developer {
    /// Only session verification (and the native tests of the use cases) may call this.
    pub(crate) fn verified(claims: SessionClaims, db: Database) -> Self {
        Self { claims, db }
    }

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

impl<S: Send + Sync> FromRequestParts<S> for DeveloperSession
where
    Env: FromRef<S>,
    Arc<SessionSettings>: FromRef<S>,
{
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, ApiError> {
        let (env, settings) = (Env::from_ref(state), Arc::<SessionSettings>::from_ref(state));
        let authorization = parts
            .headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned);
        // JS-backed futures are !Send; workerd runs one thread, so asserting Send is sound.
        SendFuture::new(async move {
            let developer = verify_developer((&env, &settings), authorization.as_deref(), clock::now()).await?;
            let key = format!("developer:{}", developer.user_id());
            rate_limits::enforce(&env, &rate_limits::DEVELOPER_LIMIT, key).await?;
            Ok(DeveloperSession(developer))
        })
        .await
    }
}
