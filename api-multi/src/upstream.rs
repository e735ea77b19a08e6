//! Routes that call Stripe or Clerk take their secret key through `UpstreamAuth`: the project is
//! authenticated, then counted against its upstream rate (`ratelimit::UPSTREAM_LIMIT`), so one
//! key cannot spend the platform's shared Stripe and Clerk allowances.

use axum::{extract::FromRequestParts, http::request::Parts};
use shared::{ApiError, auth::SecretKeyAuth, ratelimit};
use worker::{Env, send::SendFuture};

pub struct UpstreamAuth(pub SecretKeyAuth);

impl FromRequestParts<Env> for UpstreamAuth {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, env: &Env) -> Result<Self, ApiError> {
        let auth = SecretKeyAuth::from_request_parts(parts, env).await?;
        let key = auth.scope.project().publishable_key.as_str().to_owned();
        // JS-backed futures are !Send; workerd runs one thread, so asserting Send is sound.
        SendFuture::new(ratelimit::enforce(env, &ratelimit::UPSTREAM_LIMIT, key)).await?;
        Ok(Self(auth))
    }
}
