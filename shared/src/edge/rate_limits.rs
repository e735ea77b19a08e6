//! Burst protection. The metered API (`POST /api/data`, `GET /api/usage`) is bounded per project
//! and per project and end user by the usage counter, on the call that counts (`usage::counter`,
//! `dream_core::usage::rate`): no round trip of its own, and global per project, since a Durable
//! Object is one place. Every route that calls Stripe or Clerk is bounded per project, and the
//! dashboard workers per developer, with the Workers Rate Limiting binding, so one key cannot
//! spend the platform's shared Stripe and Clerk allowances. (The spec's per-request KV counter is
//! not used: KV allows one write per second per key and is eventually consistent.)
//!
//! The binding counts per Cloudflare location: each of its bounds holds in every location on its
//! own, so a caller spread over several locations gets that many times the bound. The bounds
//! that must be global are kept in D1 or the usage counter: the metered API's, the users per
//! period, the customers created per day.

use crate::runtime::OrInternal;
use worker::{Env, send::SendFuture};

use dream_core::error::{ApiError, ApiResult, ErrorCode};

/// A bound: a `[[ratelimits]]` binding of a worker's wrangler file (a unit test checks they
/// match), or one the usage counter keeps (`binding: None`).
pub struct Limit {
    pub binding: Option<&'static str>,
    pub limit: u32,
    pub period_secs: u32,
    /// What is counted together, as the error's `rateLimit.scope` says.
    pub scope: &'static str,
    /// Whose limit it is, in the error message.
    pub whose: &'static str,
}

/// Every metered request of a project, whatever the user: 100 a second on average, per usage
/// counter of the project (a very hot project has several: `dream_core::usage::layout`). It also bounds
/// how fast one key can add rows (users, idempotency claims). Kept by the counter.
pub const PROJECT_LIMIT: Limit = Limit {
    binding: None,
    limit: 6000,
    period_secs: 60,
    scope: "project",
    whose: "for this project",
};

/// One end user of one project's metered requests. Kept by the counter.
pub const USER_LIMIT: Limit = Limit {
    binding: None,
    limit: 600,
    period_secs: 60,
    scope: "project+user",
    whose: "for this user",
};

/// The routes of a project that call Stripe or Clerk (customers, checkouts, portal, plan
/// changes, carts): 5 a second on average, far above what sign-ups and purchases need.
pub const UPSTREAM_LIMIT: Limit = Limit {
    binding: Some("UPSTREAM_RATE_LIMITER"),
    limit: 300,
    period_secs: 60,
    scope: "project+upstream",
    whose: "for this project's calls to Stripe and Clerk",
};

/// One user's usage widget (minting its tokens, and the widget's reads): 5 a second on average,
/// far above a page that shows it. The upstream binding's bound, on keys of its own.
pub const WIDGET_LIMIT: Limit = Limit {
    binding: Some("UPSTREAM_RATE_LIMITER"),
    limit: 300,
    period_secs: 60,
    scope: "project+user+widget",
    whose: "for this user's usage widget",
};

/// A signed-in developer's requests to one dashboard worker (front-auth-api and oauth-api each
/// have a namespace): 10 a second on average, far above what a person at the dashboard sends, and the bound on how fast one account can spend the platform's Stripe
/// and Clerk allowances through project edits, tiers and checkouts.
pub const DEVELOPER_LIMIT: Limit = Limit {
    binding: Some("DEVELOPER_RATE_LIMITER"),
    limit: 600,
    period_secs: 60,
    scope: "developer",
    whose: "for this developer account",
};

/// How long an isolate refuses a project's (or a user's) metered calls itself after their counter
/// refused one: a flood past the bound then costs no D1 read (the entitlement is read before the
/// counter is called) and no counter call, and the counter decides again a second later.
const LOCAL_REFUSAL_MS: u64 = 1_000;

thread_local! {
    static METERED_REFUSALS: std::cell::RefCell<crate::identity::key_failures::Recent> =
        std::cell::RefCell::default();
}

fn refusal_key(limit: &Limit, project: &str, user: &str) -> String {
    if limit.scope == USER_LIMIT.scope {
        format!("{project}\n{user}")
    } else {
        project.to_owned()
    }
}

/// After the usage counter refused a metered call of `project`'s `user` past `limit`.
pub fn note_metered_refusal(limit: &'static Limit, project: &str, user: &str, now_ms: u64) {
    let key = refusal_key(limit, project, user);
    METERED_REFUSALS.with(|r| r.borrow_mut().remember_until(&key, now_ms, now_ms + LOCAL_REFUSAL_MS));
}

/// The 429 a metered call gets from this isolate while its counter's last refusal is recent:
/// the project's bound (every call), and the user's (`user`, for calls that count).
pub fn refused_recently(project: &str, user: Option<&str>, now_ms: u64) -> ApiResult<()> {
    let bounds = [Some(&PROJECT_LIMIT), user.map(|_| &USER_LIMIT)];
    for limit in bounds.into_iter().flatten() {
        let key = refusal_key(limit, project, user.unwrap_or_default());
        if METERED_REFUSALS.with(|r| r.borrow().contains(&key, now_ms)) {
            return Err(refused(limit));
        }
    }
    Ok(())
}

/// One call counted against `limit`'s binding for `key`; a 429 `rate_limited` past it.
pub async fn enforce(env: &Env, limit: &Limit, key: String) -> ApiResult<()> {
    let binding = limit
        .binding
        .ok_or_else(|| ApiError::internal("a bound the usage counter keeps has no binding"))?;
    let limiter = env
        .rate_limiter(binding)
        .map_err(|e| ApiError::internal(format!("rate limit binding `{binding}`: {e}")))?;
    let outcome = SendFuture::new(crate::runtime::timing::timed("rate-limit", limiter.limit(key)))
        .await
        .or_internal()?;
    if outcome.success {
        return Ok(());
    }
    Err(refused(limit))
}

/// The 429 `rate_limited` of a call past `limit`: which bound, and when to retry.
pub fn refused(limit: &Limit) -> ApiError {
    ApiError::new(
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
    .with_retry_after(u64::from(limit.period_secs))
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
            (api_multi, UPSTREAM_LIMIT),
            (api_multi, WIDGET_LIMIT),
            (front_auth, DEVELOPER_LIMIT),
            (oauth, DEVELOPER_LIMIT),
        ] {
            // Local and production sections alike.
            let binding = limit.binding.expect("a binding");
            let sections: Vec<&str> = config
                .split("ratelimits]]")
                .filter(|s| s.contains(&format!("name = \"{binding}\"")))
                .collect();
            assert_eq!(sections.len(), 2, "{binding} in both environments");
            for section in sections {
                let simple = format!("simple = {{ limit = {}, period = {} }}", limit.limit, limit.period_secs);
                assert!(section.contains(&simple), "{binding}: {section}");
            }
        }
    }

    #[test]
    fn a_counters_refusal_is_repeated_locally_for_a_second_and_only_for_its_scope() {
        let (project, other) = ("pk_test_local_refusals", "pk_test_someone_else");
        note_metered_refusal(&USER_LIMIT, project, "flooder", 10_000);
        assert!(refused_recently(project, Some("flooder"), 10_500).is_err());
        assert!(refused_recently(project, Some("calm"), 10_500).is_ok(), "another user");
        assert!(
            refused_recently(project, None, 10_500).is_ok(),
            "reads count against the project"
        );
        assert!(
            refused_recently(project, Some("flooder"), 11_000).is_ok(),
            "a second later"
        );
        note_metered_refusal(&PROJECT_LIMIT, project, "anyone", 20_000);
        let refused = refused_recently(project, Some("calm"), 20_001).unwrap_err();
        assert_eq!(refused.code(), ErrorCode::RateLimited);
        assert!(refused_recently(other, Some("calm"), 20_001).is_ok(), "another project");
    }

    #[test]
    fn the_metered_bounds_are_the_counters_and_have_no_binding() {
        let config = include_str!("../../../wrangler/api-multi.toml");
        for name in ["PROJECT_RATE_LIMITER", "USAGE_RATE_LIMITER"] {
            assert!(!config.contains(name), "{name} is kept by the usage counter now");
        }
        assert!(PROJECT_LIMIT.binding.is_none() && USER_LIMIT.binding.is_none());
    }
}
