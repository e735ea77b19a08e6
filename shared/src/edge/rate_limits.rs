//! Burst protection for the metered API with the Workers Rate Limiting binding: per project (so
//! one key cannot flood the platform with invented user ids and idempotency keys) and per
//! project and end user; and per project for every route that calls Stripe or Clerk, so one key
//! cannot spend the platform's shared Stripe and Clerk allowances. (The spec's per-request KV
//! counter is not used: KV allows one write per second per key and is eventually consistent.)
//!
//! The binding counts per Cloudflare location: each bound holds in every location on its own,
//! so a caller spread over several locations gets that many times the bound. Where a bound must
//! be global, it is kept in D1 or the project's usage counter instead (a Durable Object is
//! global per project): the users per period, the customers created per day.

use crate::runtime::OrInternal;
use worker::{Env, send::SendFuture};

use dream_core::{
    error::{ApiError, ApiResult, ErrorCode},
    usage::layout::CounterLayout,
};

use crate::storage::Project;

/// One `[[ratelimits]]` binding of wrangler/api-multi.toml (a unit test checks they match).
pub struct Limit {
    pub binding: &'static str,
    pub limit: u32,
    pub period_secs: u32,
    /// What is counted together, as the error's `rateLimit.scope` says.
    pub scope: &'static str,
    /// Whose limit it is, in the error message.
    pub whose: &'static str,
}

/// Every metered request of a project, whatever the user: 100 a second on average, per usage
/// counter of the project (a very hot project has several: `dream_core::usage::layout`). It also bounds
/// how fast one key can add rows (users, idempotency claims).
pub const PROJECT_LIMIT: Limit = Limit {
    binding: "PROJECT_RATE_LIMITER",
    limit: 6000,
    period_secs: 60,
    scope: "project",
    whose: "for this project",
};

/// One end user of one project.
pub const USER_LIMIT: Limit = Limit {
    binding: "USAGE_RATE_LIMITER",
    limit: 600,
    period_secs: 60,
    scope: "project+user",
    whose: "for this user",
};

/// The routes of a project that call Stripe or Clerk (customers, checkouts, portal, plan
/// changes, carts): 5 a second on average, far above what sign-ups and purchases need.
pub const UPSTREAM_LIMIT: Limit = Limit {
    binding: "UPSTREAM_RATE_LIMITER",
    limit: 300,
    period_secs: 60,
    scope: "project+upstream",
    whose: "for this project's calls to Stripe and Clerk",
};

/// A signed-in developer's requests to one dashboard worker (front-auth-api and oauth-api each
/// have a namespace): 10 a second on average, far above what a person at the dashboard sends, and the bound on how fast one account can spend the platform's Stripe
/// and Clerk allowances through project edits, tiers and checkouts.
pub const DEVELOPER_LIMIT: Limit = Limit {
    binding: "DEVELOPER_RATE_LIMITER",
    limit: 600,
    period_secs: 60,
    scope: "developer",
    whose: "for this developer account",
};

/// `POST /api/data`: the project's limit and the user's, asked together (they are independent,
/// and each is a round trip on the hot path).
pub async fn enforce_usage_rate(env: &Env, project: &Project, layout: &CounterLayout, user_id: &str) -> ApiResult<()> {
    let key = format!("{}:{user_id}", project.publishable_key.as_str());
    let (project_rate, user_rate) = futures_util::future::join(
        enforce_project_rate(env, project, layout, user_id),
        enforce(env, &USER_LIMIT, key),
    )
    .await;
    project_rate.and(user_rate)
}

/// `GET /api/usage`: reads count against the project, not the user (a user at their burst
/// limit can still see why).
pub async fn enforce_project_rate(
    env: &Env,
    project: &Project,
    layout: &CounterLayout,
    user_id: &str,
) -> ApiResult<()> {
    let shards_now = layout.shards_for(crate::runtime::clock::now());
    let key = crate::usage::counter_protocol::rate_limit_key(project, shards_now, user_id);
    enforce(env, &PROJECT_LIMIT, key).await
}

/// One call counted against `limit` for `key`; a 429 `rate_limited` past it.
pub async fn enforce(env: &Env, limit: &Limit, key: String) -> ApiResult<()> {
    let limiter = env
        .rate_limiter(limit.binding)
        .map_err(|e| ApiError::internal(format!("rate limit binding `{}`: {e}", limit.binding)))?;
    let outcome = SendFuture::new(limiter.limit(key)).await.or_internal()?;
    if outcome.success {
        return Ok(());
    }
    Err(ApiError::new(
        ErrorCode::RateLimited,
        format!("Rate limit exceeded {}; retry after a short pause", limit.whose),
    )
    .with_detail(
        "rateLimit",
        serde_json::json!({
            "limit": limit.limit,
            "periodSeconds": limit.period_secs,
            "scope": limit.scope,
        }),
    )
    .with_retry_after(u64::from(limit.period_secs)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn limits_match_the_wrangler_bindings() {
        let api_multi = include_str!("../../../wrangler/api-multi.toml");
        let front_auth = include_str!("../../../wrangler/front-auth-api.toml");
        let oauth = include_str!("../../../wrangler/oauth-api.toml");
        for (config, limit) in [
            (api_multi, PROJECT_LIMIT),
            (api_multi, USER_LIMIT),
            (api_multi, UPSTREAM_LIMIT),
            (front_auth, DEVELOPER_LIMIT),
            (oauth, DEVELOPER_LIMIT),
        ] {
            // Local and production sections alike.
            let sections: Vec<&str> = config
                .split("ratelimits]]")
                .filter(|s| s.contains(&format!("name = \"{}\"", limit.binding)))
                .collect();
            assert_eq!(sections.len(), 2, "{} in both environments", limit.binding);
            for section in sections {
                let simple = format!("simple = {{ limit = {}, period = {} }}", limit.limit, limit.period_secs);
                assert!(section.contains(&simple), "{}: {section}", limit.binding);
            }
        }
    }
}
