//! The metered API's rules: which user, which plan, which period, and what the answer looks like.
//! The worker only extracts, rate-limits and calls these.

use axum::http::HeaderMap;
use dream_core::api::usage::UsageReport;

use crate::{
    identity::SecretKeyAuth,
    usage::{
        counter::Counters,
        counter_protocol::{CountOutcome, CountRequest, users_bound_per_counter},
    },
};

use dream_core::{
    error::{ApiError, ApiResult, ErrorCode},
    mode::{Mode, ProjectType},
    period::{BillingPeriod, Timestamp},
    tiers::{PlanHeader, Tier},
};

pub const USER_ID_HEADER: &str = "x-user-id";
pub const PLAN_HEADER: &str = "x-user-plan";
pub const IDEMPOTENCY_KEY_HEADER: &str = "idempotency-key";
pub const MAX_USER_ID_LEN: usize = 128;
pub const MAX_IDEMPOTENCY_KEY_LEN: usize = 255;

/// The most distinct users one project may count in a billing period. Past it a new
/// `X-User-Id` is refused (403 `quota_exceeded`) while known users keep counting: one key
/// sending made-up user ids cannot grow D1 without end. Far above a real product's users in
/// test mode, and above any single app's monthly users in live mode. Each of the project's
/// usage counters admits its share (`counter_protocol::users_bound_per_counter`).
pub const fn users_per_period(mode: Mode) -> u64 {
    match mode {
        Mode::Test => 50_000,
        Mode::Live => 5_000_000,
    }
}
/// The plan a user without a plan header or subscription is on.
pub const DEFAULT_PLAN: &str = "free";

/// The caller-supplied inputs of a usage request, already validated.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UsageHeaders {
    pub user_id: String,
    pub plan: Option<String>,
    pub idempotency_key: Option<String>,
}

fn header_text<'a>(headers: &'a HeaderMap, name: &str, max_len: usize, required: bool) -> ApiResult<Option<&'a str>> {
    let Some(raw) = headers.get(name) else {
        return if required {
            Err(ApiError::invalid_request(format!("Missing {name} header")))
        } else {
            Ok(None)
        };
    };
    let text = raw
        .to_str()
        .ok()
        .filter(|t| !t.is_empty() && t.bytes().all(|b| b.is_ascii_graphic()))
        .ok_or_else(|| ApiError::invalid_request(format!("{name} must be 1-{max_len} visible ASCII characters")))?;
    if text.len() > max_len {
        return Err(ApiError::invalid_request(format!(
            "{name} is longer than {max_len} characters"
        )));
    }
    Ok(Some(text))
}

/// `X-User-Id` alone, for the routes that act for one end user (checkout, portal, plan change).
pub fn parse_user_id(headers: &HeaderMap) -> ApiResult<String> {
    Ok(header_text(headers, USER_ID_HEADER, MAX_USER_ID_LEN, true)?
        .unwrap_or_default()
        .to_owned())
}

/// `Idempotency-Key`, optional, on every route that honours it.
pub fn parse_idempotency_key(headers: &HeaderMap) -> ApiResult<Option<String>> {
    Ok(header_text(headers, IDEMPOTENCY_KEY_HEADER, MAX_IDEMPOTENCY_KEY_LEN, false)?.map(str::to_owned))
}

impl UsageHeaders {
    pub fn parse(headers: &HeaderMap) -> ApiResult<Self> {
        Ok(Self {
            user_id: parse_user_id(headers)?,
            plan: header_text(headers, PLAN_HEADER, dream_core::tiers::TIER_NAME_MAX, false)?.map(str::to_owned),
            idempotency_key: parse_idempotency_key(headers)?,
        })
    }
}

/// A counted request's report, and whether it is the replay of an earlier identical request.
pub struct Recorded {
    pub usage: UsageReport,
    pub replayed: bool,
}

/// The user's tier and current period. The plan header wins (the dev's server vouches for it);
/// without it, the user's entitling subscription, else the plan their customer record was
/// created with, else `free`. A subscriber's period is their Stripe subscription period;
/// everyone else counts per calendar month.
async fn resolve<'c>(
    auth: &'c SecretKeyAuth,
    headers: &UsageHeaders,
    now: Timestamp,
) -> ApiResult<(&'c Tier, BillingPeriod)> {
    if auth.config.project_type != ProjectType::Saas {
        return Err(ApiError::invalid_request(
            "Usage metering needs a SaaS project; this key belongs to a Store project",
        ));
    }
    let requested_tier = match &headers.plan {
        Some(plan) => Some(auth.config.tier(plan).ok_or_else(|| unknown_plan(auth, plan))?),
        None => None,
    };
    let needs_subscription = requested_tier.is_none_or(|tier| !tier.price.is_free());
    let subscription = if needs_subscription {
        auth.scope.entitlement(&headers.user_id).await?
    } else {
        None
    };
    // The plan billing says the user is on: an entitling subscription's, else the customer's.
    let own_tier = || -> ApiResult<&'c Tier> {
        match &subscription {
            Some(sub) => auth.config.tier(&sub.plan).ok_or_else(|| unknown_plan(auth, &sub.plan)),
            None => auth.config.tier(DEFAULT_PLAN).ok_or_else(|| {
                ApiError::invalid_request(format!(
                    "X-User-Plan is required: this project has no `{DEFAULT_PLAN}` tier (tiers: {})",
                    tier_list(auth)
                ))
            }),
        }
    };
    let tier = match requested_tier {
        None => own_tier()?,
        Some(tier) if auth.config.plan_header == PlanHeader::Trusted || tier.price.is_free() => tier,
        // Capped: the header may lower the user's plan, never raise it above what they pay for.
        Some(tier) => {
            let own = own_tier()?;
            if tier.price <= own.price { tier } else { own }
        }
    };
    let period = match subscription.and_then(|s| (s.plan == tier.name.as_str()).then_some(s.period).flatten()) {
        Some((start, end)) => BillingPeriod::from_subscription(start, end, now),
        None => BillingPeriod::calendar_month(now),
    };
    Ok((tier, period))
}

fn tier_list(auth: &SecretKeyAuth) -> String {
    let names: Vec<&str> = auth.config.tiers.iter().map(|t| t.name.as_str()).collect();
    if names.is_empty() {
        "none".to_owned()
    } else {
        names.join(", ")
    }
}

fn unknown_plan(auth: &SecretKeyAuth, plan: &str) -> ApiError {
    ApiError::invalid_request(format!(
        "Unknown plan `{plan}`; this project's tiers are: {}",
        tier_list(auth)
    ))
}

/// What the usage counter is asked, for the resolved tier and period.
fn count_request(
    auth: &SecretKeyAuth,
    headers: &UsageHeaders,
    (tier, period): (&Tier, BillingPeriod),
    now: Timestamp,
    request_id: &str,
) -> CountRequest {
    let shards = auth.config.counter_layout.shards_for(period.start);
    CountRequest {
        user_id: headers.user_id.clone(),
        plan: tier.name.to_string(),
        limit: tier.limit,
        period,
        now,
        idempotency_key: headers.idempotency_key.clone(),
        request_id: request_id.to_owned(),
        users_bound: Some(users_bound_per_counter(
            users_per_period(auth.scope.project().publishable_key.mode()),
            shards,
        )),
        shards,
        usage_in_d1_before: auth.config.usage_in_d1_before,
    }
}

/// POST /api/data: counts one request or refuses it at the tier's limit.
pub async fn record_usage(
    auth: &SecretKeyAuth,
    counters: &Counters,
    headers: &UsageHeaders,
    now: Timestamp,
    request_id: &str,
) -> ApiResult<Recorded> {
    let (tier, period) = resolve(auth, headers, now).await?;
    let request = count_request(auth, headers, (tier, period), now, request_id);
    let outcome = counters
        .count(auth.scope.project(), &request)
        .await
        .map_err(|e| e.context("counting usage"))?;
    match outcome {
        CountOutcome::Counted(count) => Ok(Recorded {
            usage: UsageReport::new(count, tier, &period),
            replayed: false,
        }),
        CountOutcome::Replayed(count) => Ok(Recorded {
            usage: UsageReport::new(count, tier, &period),
            replayed: true,
        }),
        CountOutcome::LimitReached(count) => Err(ApiError::new(ErrorCode::LimitReached, "Tier limit reached")
            .with_detail("usage", UsageReport::new(count, tier, &period))),
        CountOutcome::TooManyUsers => {
            let bound = users_per_period(auth.scope.project().publishable_key.mode());
            let counted = match request.shards {
                1 => format!("This project has counted {bound} distinct users this billing period, the most it may"),
                shards => format!(
                    "This project's users are split among {shards} usage counters, and this user's has counted \
                     its share ({}) of the {bound} distinct users a project may count this billing period",
                    request.users_bound.unwrap_or_default()
                ),
            };
            Err(ApiError::new(
                ErrorCode::QuotaExceeded,
                format!(
                    "{counted}; users it already counted keep working, new X-User-Id values are refused until the period ends"
                ),
            )
            .with_detail("usersPerPeriod", bound))
        }
    }
}

/// GET /api/usage: the same report without counting.
pub async fn current_usage(
    auth: &SecretKeyAuth,
    counters: &Counters,
    headers: &UsageHeaders,
    now: Timestamp,
) -> ApiResult<UsageReport> {
    let (tier, period) = resolve(auth, headers, now).await?;
    let request = count_request(auth, headers, (tier, period), now, "");
    let count = counters.usage(auth.scope.project(), &request).await?;
    Ok(UsageReport::new(count, tier, &period))
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    fn headers(pairs: &[(&'static str, &[u8])]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for (name, value) in pairs {
            map.insert(*name, HeaderValue::from_bytes(value).unwrap());
        }
        map
    }

    #[test]
    fn parses_valid_headers() {
        let parsed = UsageHeaders::parse(&headers(&[
            ("x-user-id", b"user_2abc"),
            ("x-user-plan", b"pro"),
            ("idempotency-key", b"retry-7f3a"),
        ]))
        .unwrap();
        assert_eq!(parsed.user_id, "user_2abc");
        assert_eq!(parsed.plan.as_deref(), Some("pro"));
        assert_eq!(parsed.idempotency_key.as_deref(), Some("retry-7f3a"));
        let minimal = UsageHeaders::parse(&headers(&[("x-user-id", b"u@example.com")])).unwrap();
        assert_eq!((minimal.plan, minimal.idempotency_key), (None, None));
    }

    #[test]
    fn rejects_bad_headers_with_clear_messages() {
        let long_user = "u".repeat(MAX_USER_ID_LEN + 1);
        let long_key = "k".repeat(MAX_IDEMPOTENCY_KEY_LEN + 1);
        let cases: Vec<(HeaderMap, &str)> = vec![
            (headers(&[]), "Missing x-user-id"),
            (headers(&[("x-user-id", b"")]), "visible ASCII"),
            (headers(&[("x-user-id", b"two words")]), "visible ASCII"),
            (headers(&[("x-user-id", "j\u{f6}rg".as_bytes())]), "visible ASCII"),
            (headers(&[("x-user-id", long_user.as_bytes())]), "longer than 128"),
            (
                headers(&[("x-user-id", b"u"), ("idempotency-key", long_key.as_bytes())]),
                "longer than 255",
            ),
            (headers(&[("x-user-id", b"u"), ("x-user-plan", b"a b")]), "x-user-plan"),
        ];
        for (map, expected) in cases {
            let err = UsageHeaders::parse(&map).unwrap_err();
            assert_eq!(err.code(), ErrorCode::InvalidRequest);
            assert!(err.message().contains(expected), "{map:?}: {}", err.message());
        }
    }

    #[test]
    fn report_shape() {
        let tier: Tier = serde_json::from_value(serde_json::json!({
            "name": "free", "displayName": "Free", "price": 0, "currency": "usd", "limit": 100,
            "priceId": null, "productId": null, "features": {}, "popular": false,
            "inventory": null, "soldOut": false
        }))
        .unwrap();
        let period = BillingPeriod::calendar_month(Timestamp(1_795_306_426));
        let json = serde_json::to_value(UsageReport::new(40, &tier, &period)).unwrap();
        assert_eq!(
            json,
            serde_json::json!({"count": 40, "limit": 100, "plan": "free", "remaining": 60,
                "periodStart": "2026-11-01T00:00:00Z", "periodEnd": "2026-12-01T00:00:00Z"})
        );
    }
}
