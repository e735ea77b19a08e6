//! Burst protection for the metered API with the Workers Rate Limiting binding: per project (so
//! one key cannot flood the platform with invented user ids and idempotency keys) and per
//! project and end user. (The spec's per-request KV counter is not used: KV allows one write
//! per second per key and is eventually consistent.)

use worker::{Env, send::SendFuture};

use crate::{
    counter::layout::CounterLayout,
    error::{ApiError, ApiResult, ErrorCode},
    repo::Project,
};

/// One `[[ratelimits]]` binding of wrangler/api-multi.toml (a unit test checks they match).
pub struct Limit {
    pub binding: &'static str,
    pub limit: u32,
    pub period_secs: u32,
    /// What is counted together, as the error's `rateLimit.scope` says.
    pub scope: &'static str,
}

/// Every metered request of a project, whatever the user: 100 a second on average, per usage
/// counter of the project (a very hot project has several: `counter::layout`). It also bounds
/// how fast one key can add rows (users, idempotency claims).
pub const PROJECT_LIMIT: Limit = Limit {
    binding: "PROJECT_RATE_LIMITER",
    limit: 6000,
    period_secs: 60,
    scope: "project",
};

/// One end user of one project.
pub const USER_LIMIT: Limit = Limit {
    binding: "USAGE_RATE_LIMITER",
    limit: 600,
    period_secs: 60,
    scope: "project+user",
};

/// `POST /api/data`: the project's limit and the user's, asked together (they are independent,
/// and each is a round trip on the hot path).
pub async fn enforce_usage_rate(env: &Env, project: &Project, layout: &CounterLayout, user_id: &str) -> ApiResult<()> {
    let key = format!("{}:{user_id}", project.publishable_key.as_str());
    let (project_rate, user_rate) = futures_util::future::join(
        enforce_project_rate(env, project, layout, user_id),
        check(env, &USER_LIMIT, key, "for this user"),
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
    let shards_now = layout.shards_for(crate::period::now());
    let key = crate::counter::rate_limit_key(project, shards_now, user_id);
    check(env, &PROJECT_LIMIT, key, "for this project").await
}

async fn check(env: &Env, limit: &Limit, key: String, whose: &str) -> ApiResult<()> {
    let limiter = env
        .rate_limiter(limit.binding)
        .map_err(|e| ApiError::internal(format!("rate limit binding `{}`: {e}", limit.binding)))?;
    let outcome = SendFuture::new(limiter.limit(key)).await?;
    if outcome.success {
        return Ok(());
    }
    Err(ApiError::new(
        ErrorCode::RateLimited,
        format!("Rate limit exceeded {whose}; retry after a short pause"),
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
        let config = include_str!("../../wrangler/api-multi.toml");
        for limit in [PROJECT_LIMIT, USER_LIMIT] {
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
