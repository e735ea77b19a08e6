//! Routes that call Stripe or Clerk take their secret key through `UpstreamAuth`: the project is
//! authenticated, then counted against its upstream rate (`rate_limits::UPSTREAM_LIMIT`), so one
//! key cannot spend the platform's shared Stripe and Clerk allowances.

use axum::{
    extract::{FromRef, FromRequestParts},
    http::request::Parts,
};
use dream_core::ApiError;
use shared::{edge::rate_limits, identity::SecretKeyAuth};
use worker::{Env, send::SendFuture};

use crate::settings::App;

pub struct UpstreamAuth(pub SecretKeyAuth);

impl FromRequestParts<App> for UpstreamAuth {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, app: &App) -> Result<Self, ApiError> {
        let auth = SecretKeyAuth::from_request_parts(parts, app).await?;
        let key = auth.scope.project().publishable_key.as_str().to_owned();
        let env = Env::from_ref(app);
        // JS-backed futures are !Send; workerd runs one thread, so asserting Send is sound.
        SendFuture::new(rate_limits::enforce(&env, &rate_limits::UPSTREAM_LIMIT, key)).await?;
        Ok(Self(auth))
    }
}
