//! api-multi's configuration (wrangler/api-multi.toml `[vars]` and secrets), read once per isolate
//! (`WorkerState::for_isolate`) into the router's state; handlers hand the values to `shared`.

use dream_core::ApiResult;
use shared::{
    edge::http::CorsPolicy,
    projects::StripeModes,
    runtime::settings::{ClerkSettings, Setting, StripeSettings, WorkerState},
    upstream::clerk::ClerkBackend,
};
use worker::Env;

pub struct Settings {
    pub cors: CorsPolicy,
    pub stripe: StripeSettings,
    pub end_users: ClerkSettings,
    /// This worker's public URL: the default pages Checkout returns customers to.
    pub api_multi_url: Setting,
    pub connect_webhook_secret: Setting,
}

impl Settings {
    pub fn read(env: &Env) -> Self {
        Self {
            cors: CorsPolicy::from_env(env),
            stripe: StripeSettings::read(env),
            end_users: ClerkSettings::end_users(env),
            api_multi_url: Setting::read(env, "API_MULTI_URL"),
            connect_webhook_secret: Setting::read(env, "STRIPE_CONNECT_WEBHOOK_SECRET"),
        }
    }

    pub fn stripe(&self) -> ApiResult<StripeModes> {
        StripeModes::new(&self.stripe)
    }

    pub fn end_user_clerk(&self) -> ApiResult<ClerkBackend> {
        ClerkBackend::new(&self.end_users)
    }
}

/// The router's state.
pub type App = WorkerState<Settings>;
