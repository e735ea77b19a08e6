//! oauth-api's configuration (wrangler/oauth-api.toml `[vars]` and secrets), read once per isolate
//! (`WorkerState::for_isolate`) into the router's state; handlers hand the values to `shared`.

use std::sync::Arc;

use dream_core::ApiResult;
use shared::{
    edge::http::CorsPolicy,
    identity::SessionSettings,
    projects::{ProjectCaches, StripeModes},
    runtime::settings::{Setting, StripeSettings, WithSessions, WorkerState},
    storage::project_cache::{self, Cache},
    usage::counters::Counters,
    webhooks::{Senders, WebhookSettings},
};
use worker::Env;

pub struct Settings {
    pub cors: CorsPolicy,
    pub sessions: Arc<SessionSettings>,
    pub stripe: StripeSettings,
    /// Signs Stripe Connect's OAuth `state`.
    pub oauth_state_secret: Setting,
    pub connect_client_id: Setting,
    /// Stripe's Connect host (the emulator's, locally).
    pub connect_base: Setting,
    /// Where Stripe sends the developer back; by default the dashboard's callback page.
    pub oauth_redirect_uri: Setting,
    pub dashboard_url: Setting,
    /// SHA-256 of the operator token; without it, operator routes answer 404.
    pub operator_token_hash: Setting,
    /// Endpoint secrets derive from it (shown once, at creation and rotation).
    pub webhooks: WebhookSettings,
}

impl Settings {
    pub fn read(env: &Env) -> Self {
        Self {
            cors: CorsPolicy::from_env(env),
            sessions: Arc::new(SessionSettings::read(env)),
            stripe: StripeSettings::read(env),
            oauth_state_secret: Setting::read(env, "OAUTH_STATE_SECRET"),
            connect_client_id: Setting::read(env, "STRIPE_CONNECT_CLIENT_ID"),
            connect_base: Setting::read(env, "STRIPE_CONNECT_BASE"),
            oauth_redirect_uri: Setting::read(env, "OAUTH_REDIRECT_URI"),
            dashboard_url: Setting::read(env, "DASHBOARD_URL"),
            operator_token_hash: Setting::read(env, shared::usage::operator::OPERATOR_TOKEN_HASH_SETTING),
            webhooks: WebhookSettings::new(Setting::read(env, "WEBHOOK_SECRET_KEY"), None),
        }
    }
}

impl WithSessions for Settings {
    fn sessions(&self) -> &Arc<SessionSettings> {
        &self.sessions
    }
}

/// The router's state.
pub type App = WorkerState<Settings>;

/// api-multi's webhook senders (`WEBHOOK_SENDERS`, bound by `script_name`).
pub fn senders(env: &Env) -> Senders {
    Senders::new(env.durable_object(shared::webhooks::SENDER_BINDING).ok())
}

/// What every edit of a project reaches: the platform's Stripe, and api-multi's caches of the
/// project to tell after the edit.
pub fn edit_deps(app: &App) -> ApiResult<(StripeModes, ProjectCaches, Senders)> {
    Ok((
        StripeModes::new(&app.settings.stripe)?,
        project_caches(&app.env),
        senders(&app.env),
    ))
}

/// api-multi's cache of projects (`TOKENS_KV`) and its usage counters (`USAGE_COUNTERS`, bound
/// by `script_name`), which carry a change to every isolate's memory.
pub fn project_caches(env: &Env) -> ProjectCaches {
    ProjectCaches::new(
        Cache::from_env(env, project_cache::TOKENS_KV),
        Counters::from_env(env)
            .map_err(|e| {
                shared::runtime::log::error(&format!("edits reach warm isolates only within the cache TTL: {e}"))
            })
            .ok(),
    )
}
