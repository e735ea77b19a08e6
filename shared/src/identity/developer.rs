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
    edge::{
        http::{CorsPolicy, RequestId},
        rate_limits,
    },
    identity::session_tokens::{self, SessionClaims, SessionRules},
    runtime::settings::Setting,
    storage::{Caller, Database, PlatformScope, platforms::Platform},
};
use dream_core::{
    error::{ApiError, ApiResult},
    keys::random_id,
    period::Timestamp,
    team::Role,
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
    /// The request's id, for the audit entries of what the developer changes.
    request_id: String,
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
        Self {
            claims,
            db,
            request_id: random_id("req"),
        }
    }

    pub fn user_id(&self) -> &str {
        &self.claims.sub
    }

    /// The email the session token carries, normalized (absent without the JWT template).
    pub fn email(&self) -> Option<String> {
        self.claims
            .email
            .as_deref()
            .and_then(|e| dream_core::input::parse_email(e).ok())
    }

    fn caller(&self, role: Role) -> Caller {
        Caller {
            user_id: self.claims.sub.clone(),
            email: self.email(),
            role,
            request_id: self.request_id.clone(),
        }
    }

    /// The platform the developer opens: the active organization's if the session names one
    /// (a 403 if they are no longer a member of it), else the one they created, else the first
    /// they joined; created on first call for a developer who has none.
    pub async fn ensure_platform(self, now: Timestamp) -> ApiResult<(PlatformScope, bool)> {
        if let Some(scope) = self.membership().await? {
            return Ok((scope, false));
        }
        let id = random_id("plt");
        let founder = crate::storage::audit::Actor {
            platform_id: id.clone(),
            id: self.claims.sub.clone(),
            email: self.email(),
            role: Some(Role::Owner),
            request_id: self.request_id.clone(),
        };
        let audit = founder.entry("platform.created", now).target(id.clone());
        let platform: Platform = self
            .db
            .ensure_platform(&id, &self.claims.sub, self.email().as_deref(), &audit, now)
            .await?;
        if platform.platform_id != id {
            // A concurrent first call made it: theirs, unless they have left it since (after
            // making someone else its owner).
            if let Some(scope) = self.membership().await? {
                return Ok((scope, false));
            }
            return Err(ApiError::conflict(
                "You are no longer a member of the organization you created; ask one of its owners to invite you again",
            ));
        }
        let scope = PlatformScope::new(self.db.clone(), platform, self.caller(Role::Owner));
        Ok((scope, true))
    }

    /// The platform the developer opens (see `ensure_platform`); 404 until
    /// `POST /generate-platform-id` has created one.
    pub async fn platform(self) -> ApiResult<PlatformScope> {
        self.membership()
            .await?
            .ok_or_else(|| ApiError::not_found("No platform yet: call POST /generate-platform-id first"))
    }

    async fn membership(&self) -> ApiResult<Option<PlatformScope>> {
        let organization = self.claims.active_organization();
        match self.db.membership(&self.claims.sub, organization).await? {
            Some(row) => {
                let (platform, role) = row.into_parts()?;
                Ok(Some(PlatformScope::new(self.db.clone(), platform, self.caller(role))))
            }
            None => match organization {
                // An organization of ours the user is not (or no longer) in.
                Some(org) if self.db.platform_of_organization(org).await?.is_some() => Err(ApiError::new(
                    dream_core::ErrorCode::Forbidden,
                    "You are not a member of this organization (removed, or never invited); sign in again",
                )),
                // No platform's organization (one the user made in Clerk themselves): as if
                // the session named none.
                Some(_) => self
                    .db
                    .membership(&self.claims.sub, None)
                    .await?
                    .map(|row| {
                        let (platform, role) = row.into_parts()?;
                        Ok(PlatformScope::new(self.db.clone(), platform, self.caller(role)))
                    })
                    .transpose(),
                None => Ok(None),
            },
        }
    }

    /// What accepting an invitation needs (`projects::team`): the database, the session, the
    /// request's id.
    pub(crate) fn parts(&self) -> (&Database, &SessionClaims, &str) {
        (&self.db, &self.claims, &self.request_id)
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
        let request_id = parts.extensions.get::<RequestId>().map(|r| r.0.clone());
        // JS-backed futures are !Send; workerd runs one thread, so asserting Send is sound.
        SendFuture::new(async move {
            let mut developer = verify_developer((&env, &settings), authorization.as_deref(), clock::now()).await?;
            if let Some(id) = &request_id {
                developer.request_id.clone_from(id);
            }
            let key = format!("developer:{}", developer.user_id());
            rate_limits::enforce(&env, &rate_limits::DEVELOPER_LIMIT, key).await?;
            Ok(DeveloperSession(developer))
        })
        .await
    }
}
