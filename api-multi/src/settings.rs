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
    /// What usage widget tokens are signed with (with the minting key's hash).
    pub widget_token_secret: Setting,
}

impl Settings {
    pub fn read(env: &Env) -> Self {
        Self {
            cors: CorsPolicy::from_env(env),
            stripe: StripeSettings::read(env),
            end_users: ClerkSettings::end_users(env),
            api_multi_url: Setting::read(env, "API_MULTI_URL"),
            connect_webhook_secret: Setting::read(env, "STRIPE_CONNECT_WEBHOOK_SECRET"),
            widget_token_secret: Setting::read(env, "WIDGET_TOKEN_SECRET"),
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

/// The project webhook senders (`WEBHOOK_SENDERS`), for a nudge after an event's commit.
pub fn senders(env: &Env) -> shared::webhooks::Senders {
    shared::webhooks::Senders::new(env.durable_object(shared::webhooks::SENDER_BINDING).ok())
}

/// What the webhook senders sign with, and how fast they retry.
pub fn webhooks(env: &Env) -> shared::webhooks::WebhookSettings {
    shared::webhooks::WebhookSettings::new(
        Setting::read(env, "WEBHOOK_SECRET_KEY"),
        Setting::read(env, "WEBHOOK_RETRY_SCALE").optional(),
    )
}
