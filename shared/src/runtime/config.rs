//! Worker configuration: plain variables and secrets are both string bindings. A missing
//! required setting is an internal error naming it (logged, never shown to callers).

use worker::Env;

use dream_core::error::{ApiError, ApiResult};

pub fn optional(env: &Env, name: &str) -> Option<String> {
    env.var(name).ok().map(|v| v.to_string()).filter(|v| !v.is_empty())
}

pub fn required(env: &Env, name: &str) -> ApiResult<String> {
    optional(env, name).ok_or_else(|| ApiError::internal(format!("configuration: {name} is not set")))
}

pub fn or_default(env: &Env, name: &str, default: &str) -> String {
    optional(env, name).unwrap_or_else(|| default.to_owned())
}
