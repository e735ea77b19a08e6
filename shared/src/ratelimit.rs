//! Burst protection for the metered API with the Workers Rate Limiting binding, keyed per
//! project and end user. (The spec's per-request KV counter is not used: KV allows one write per
//! second per key and is eventually consistent.)

use worker::{Env, send::SendFuture};

use crate::{
    error::{ApiError, ApiResult, ErrorCode},
    repo::Project,
};

pub const USAGE_RATE_LIMITER: &str = "USAGE_RATE_LIMITER";
/// Must match `[[ratelimits]]` in wrangler/api-multi.toml (a unit test checks it does).
pub const USAGE_RATE_LIMIT: u32 = 600;
pub const USAGE_RATE_PERIOD_SECS: u32 = 60;

pub async fn enforce_usage_rate(env: &Env, project: &Project, user_id: &str) -> ApiResult<()> {
    let limiter = env
        .rate_limiter(USAGE_RATE_LIMITER)
        .map_err(|e| ApiError::internal(format!("rate limit binding `{USAGE_RATE_LIMITER}`: {e}")))?;
    let key = format!("{}:{user_id}", project.publishable_key);
    let outcome = SendFuture::new(limiter.limit(key)).await?;
    if outcome.success {
        return Ok(());
    }
    Err(ApiError::new(
        ErrorCode::RateLimited,
        "Rate limit exceeded for this user; retry after a short pause",
    )
    .with_detail(
        "rateLimit",
        serde_json::json!({
            "limit": USAGE_RATE_LIMIT,
            "periodSeconds": USAGE_RATE_PERIOD_SECS,
            "scope": "project+user"
        }),
    )
    .with_retry_after(u64::from(USAGE_RATE_PERIOD_SECS)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn constants_match_the_wrangler_binding() {
        let config = include_str!("../../wrangler/api-multi.toml");
        let section = config
            .split("[[ratelimits]]")
            .nth(1)
            .expect("api-multi.toml has [[ratelimits]]");
        assert!(
            section.contains(&format!("name = \"{USAGE_RATE_LIMITER}\"")),
            "{section}"
        );
        assert!(section.contains(&format!("limit = {USAGE_RATE_LIMIT}")), "{section}");
        assert!(
            section.contains(&format!("period = {USAGE_RATE_PERIOD_SECS}")),
            "{section}"
        );
    }
}
