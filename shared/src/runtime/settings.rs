//! A worker's configuration, typed: each worker reads the settings it needs once into its own
//! `Settings` struct (`<worker>/src/settings.rs`), built from the groups here, and hands the
//! values to what needs them. Plain variables and secrets are both string bindings. A setting
//! the worker was deployed without is an internal error naming it (logged, never shown), and
//! only for the routes that need it.

use std::{any::Any, cell::RefCell, sync::Arc};

use axum::extract::FromRef;
use worker::Env;

use crate::identity::SessionSettings;
use dream_core::error::{ApiError, ApiResult};

/// A worker's router state: its bindings, and the settings (`S`, the worker's own struct) read
/// from them. Handlers extract `State<Env>` or `State<Arc<S>>`.
pub struct WorkerState<S> {
    pub env: Env,
    pub settings: Arc<S>,
}

thread_local! {
    /// The settings this isolate read (an isolate runs one worker, so one settings type).
    static ISOLATE_SETTINGS: RefCell<Option<Arc<dyn Any + Send + Sync>>> = const { RefCell::new(None) };
}

impl<S: Send + Sync + 'static> WorkerState<S> {
    /// The request's state, with the settings `read` from `env` once per isolate: a deployment's
    /// variables and secrets are fixed (changing one deploys a new version, in new isolates), so
    /// no request, the metered ones least, pays for reading them again.
    pub fn for_isolate(env: Env, read: fn(&Env) -> S) -> Self {
        let cached = ISOLATE_SETTINGS.with(|slot| slot.borrow().clone().and_then(|any| any.downcast::<S>().ok()));
        let settings = cached.unwrap_or_else(|| {
            let settings = Arc::new(read(&env));
            ISOLATE_SETTINGS.with(|slot| *slot.borrow_mut() = Some(settings.clone()));
            settings
        });
        Self { env, settings }
    }
}

impl<S> Clone for WorkerState<S> {
    fn clone(&self) -> Self {
        Self {
            env: self.env.clone(),
            settings: self.settings.clone(),
        }
    }
}

impl<S> FromRef<WorkerState<S>> for Env {
    fn from_ref(state: &WorkerState<S>) -> Self {
        state.env.clone()
    }
}

impl<S> FromRef<WorkerState<S>> for Arc<S> {
    fn from_ref(state: &WorkerState<S>) -> Self {
        state.settings.clone()
    }
}

/// Settings of a worker that serves developer sessions (`identity::DeveloperSession`).
pub trait WithSessions {
    fn sessions(&self) -> &Arc<SessionSettings>;
}

impl<S: WithSessions> FromRef<WorkerState<S>> for Arc<SessionSettings> {
    fn from_ref(state: &WorkerState<S>) -> Self {
        state.settings.sessions().clone()
    }
}

/// One named setting as the worker was deployed with it (empty counts as unset).
#[derive(Debug, Clone)]
pub struct Setting {
    name: &'static str,
    value: Option<String>,
}

impl Setting {
    pub fn read(env: &Env, name: &'static str) -> Self {
        let value = env.var(name).ok().map(|v| v.to_string()).filter(|v| !v.is_empty());
        Self { name, value }
    }

    /// A setting with a known value (tests, and defaults computed by the worker).
    pub fn fixed(name: &'static str, value: Option<&str>) -> Self {
        Self {
            name,
            value: value.map(str::to_owned).filter(|v| !v.is_empty()),
        }
    }

    pub fn get(&self) -> ApiResult<&str> {
        self.value
            .as_deref()
            .ok_or_else(|| ApiError::internal(format!("configuration: {} is not set", self.name)))
    }

    pub fn optional(&self) -> Option<&str> {
        self.value.as_deref()
    }

    pub fn or<'a>(&'a self, default: &'a str) -> &'a str {
        self.value.as_deref().unwrap_or(default)
    }
}

/// The platform's Stripe account: API base and one secret key per mode.
#[derive(Debug, Clone)]
pub struct StripeSettings {
    pub api_base: Setting,
    pub test_secret_key: Setting,
    pub live_secret_key: Setting,
}

impl StripeSettings {
    pub fn read(env: &Env) -> Self {
        Self {
            api_base: Setting::read(env, "STRIPE_API_BASE"),
            test_secret_key: Setting::read(env, "STRIPE_TEST_SECRET_KEY"),
            live_secret_key: Setting::read(env, "STRIPE_LIVE_SECRET_KEY"),
        }
    }
}

/// One Clerk instance's backend API (developers' or end users').
#[derive(Debug, Clone)]
pub struct ClerkSettings {
    pub api_base: Setting,
    pub secret_key: Setting,
}

impl ClerkSettings {
    /// The developers' Clerk app (`CLERK_API_BASE`, `CLERK_SECRET_KEY`).
    pub fn developers(env: &Env) -> Self {
        Self {
            api_base: Setting::read(env, "CLERK_API_BASE"),
            secret_key: Setting::read(env, "CLERK_SECRET_KEY"),
        }
    }

    /// The end users' Clerk app (`CLERK_END_USER_API_BASE`, `CLERK_END_USER_SECRET_KEY`).
    pub fn end_users(env: &Env) -> Self {
        Self {
            api_base: Setting::read(env, "CLERK_END_USER_API_BASE"),
            secret_key: Setting::read(env, "CLERK_END_USER_SECRET_KEY"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_missing_setting_names_itself_and_never_its_value() {
        let missing = Setting::fixed("API_MULTI_URL", Some(""));
        let err = missing.get().unwrap_err();
        assert!(err.internal_cause().unwrap().contains("API_MULTI_URL"));
        assert_eq!(missing.or("https://fallback"), "https://fallback");
        let set = Setting::fixed("STRIPE_TEST_SECRET_KEY", Some("sk_test_x"));
        assert_eq!(set.get().unwrap(), "sk_test_x");
        assert_eq!(set.optional(), Some("sk_test_x"));
    }
}
