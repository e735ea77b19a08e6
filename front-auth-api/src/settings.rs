//! front-auth-api's configuration (wrangler/front-auth-api.toml `[vars]` and secrets), read once per isolate
//! (`WorkerState::for_isolate`) into the router's state; handlers hand the values to `shared`.

use std::sync::Arc;

use dream_core::ApiResult;
use shared::{
    edge::http::CorsPolicy,
    identity::SessionSettings,
    runtime::settings::{ClerkSettings, Setting, WithSessions, WorkerState},
    upstream::{
        clerk::ClerkBackend,
        stripe::{DEFAULT_API_BASE, Stripe},
    },
};
use worker::Env;

pub struct Settings {
    pub cors: CorsPolicy,
    pub sessions: Arc<SessionSettings>,
    pub developers: ClerkSettings,
    /// The platform's own Stripe account (developers pay their plan there).
    pub stripe_api_base: Setting,
    pub stripe_secret_key: Setting,
    pub stripe_webhook_secret: Setting,
    /// The developer plan's price.
    pub platform_price_id: Setting,
    pub dashboard_url: Setting,
    /// api-multi's public URL: uploaded images are served from there.
    pub api_multi_url: Setting,
}

impl Settings {
    pub fn read(env: &Env) -> Self {
        Self {
            cors: CorsPolicy::from_env(env),
            sessions: Arc::new(SessionSettings::read(env)),
            developers: ClerkSettings::developers(env),
            stripe_api_base: Setting::read(env, "STRIPE_API_BASE"),
            stripe_secret_key: Setting::read(env, "STRIPE_SECRET_KEY"),
            stripe_webhook_secret: Setting::read(env, "STRIPE_WEBHOOK_SECRET"),
            platform_price_id: Setting::read(env, "PLATFORM_PRICE_ID"),
            dashboard_url: Setting::read(env, "DASHBOARD_URL"),
            api_multi_url: Setting::read(env, "API_MULTI_URL"),
        }
    }

    pub fn platform_stripe(&self) -> ApiResult<Stripe> {
        Ok(Stripe::new(
            self.stripe_api_base.or(DEFAULT_API_BASE),
            self.stripe_secret_key.get()?,
        ))
    }

    pub fn developer_clerk(&self) -> ApiResult<ClerkBackend> {
        ClerkBackend::new(&self.developers)
    }
}

impl WithSessions for Settings {
    fn sessions(&self) -> &Arc<SessionSettings> {
        &self.sessions
    }
}

/// The router's state.
pub type App = WorkerState<Settings>;
