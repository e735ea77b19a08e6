//! The metered API's rules: which user, which plan, which period, and what the answer looks like.
//! The worker only extracts, rate-limits and calls these.

use axum::http::HeaderMap;
use dream_core::api::usage::{TrackRequest, UsageReport};

use crate::{
    edge::rate_limits,
    identity::SecretKeyAuth,
    usage::{
        counter_protocol::{
            BilledMeter, CountOutcome, CountRequest, MeterOutcome, OverageTerms, StaleConfig, users_bound_per_counter,
        },
        counters::{Answer, Counters},
    },
};

use crate::storage::subscriptions::Entitlement;
use dream_core::api::entitlements::PlanSource;
use dream_core::tiers::input::MAX_LIMIT;
use dream_core::{
    error::{ApiError, ApiResult, ErrorCode},
    mode::{Mode, ProjectType},
    period::{BillingPeriod, Timestamp},
    tiers::{
        PlanHeader, Tier, UsageLimit,
        meters::{Amount, Meter, REQUESTS, count_limit},
    },
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
        .map_err(|_| ApiError::invalid_request(format!("{name} must be 1-{max_len} visible ASCII characters")))?;
    visible_ascii(name, text, max_len).map(Some)
}

/// `text` if it is 1-`max_len` visible ASCII characters (an id that is safe in a header, a log
/// line and a Stripe metadata value alike).
fn visible_ascii<'a>(name: &str, text: &'a str, max_len: usize) -> ApiResult<&'a str> {
    if text.is_empty() || !text.bytes().all(|b| b.is_ascii_graphic()) {
        return Err(ApiError::invalid_request(format!(
            "{name} must be 1-{max_len} visible ASCII characters"
        )));
    }
    if text.len() > max_len {
        return Err(ApiError::invalid_request(format!(
            "{name} is longer than {max_len} characters"
        )));
    }
    Ok(text)
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
        Self {
            user_id: parse_user_id(headers)?,
            plan: None,
            idempotency_key: None,
        }
        .with_options(headers)
    }

    /// For the routes that name the user in their query or body (`userId`), where `X-User-Id`
    /// may name them instead (both: the same user).
    pub fn parse_naming(user_id: Option<&str>, headers: &HeaderMap) -> ApiResult<Self> {
        let from_header = header_text(headers, USER_ID_HEADER, MAX_USER_ID_LEN, false)?;
        let user_id = match (user_id, from_header) {
            (Some(given), header) => {
                let given = visible_ascii("userId", given, MAX_USER_ID_LEN)?;
                if header.is_some_and(|h| h != given) {
                    return Err(ApiError::invalid_request(
                        "userId and the X-User-Id header name different users",
                    ));
                }
                given
            }
            (None, Some(header)) => header,
            (None, None) => return Err(ApiError::invalid_request("userId is required (or send X-User-Id)")),
        };
        Self {
            user_id: user_id.to_owned(),
            plan: None,
            idempotency_key: None,
        }
        .with_options(headers)
    }

    fn with_options(self, headers: &HeaderMap) -> ApiResult<Self> {
        Ok(Self {
            plan: header_text(headers, PLAN_HEADER, dream_core::tiers::TIER_NAME_MAX, false)?.map(str::to_owned),
            idempotency_key: parse_idempotency_key(headers)?,
            ..self
        })
    }
}

/// A counted request's report, and whether it is the replay of an earlier identical request.
pub struct Recorded {
    pub usage: UsageReport,
    pub replayed: bool,
}

/// Who is counted: the user's tier and current period, where the tier comes from, the row that
/// entitles the user to it, and the Stripe customer billed the tier's overage (only a
/// subscriber to that very tier: a tier named by the plan header alone has no subscription to
/// bill, so its meters stop at their included amounts).
pub(crate) struct Resolved<'c> {
    pub tier: &'c Tier,
    pub period: BillingPeriod,
    pub source: PlanSource,
    /// The user's subscription to `tier` (or customer record's plan, if that is `tier`).
    pub entitlement: Option<Entitlement>,
    billed: Option<Billed>,
}

/// A subscriber to the resolved tier: their Stripe customer, and the Billing Meters their
/// subscription's metered items report to (only those meters' overage is billed: a meter
/// that gained overage after they subscribed is not on their subscription).
struct Billed {
    customer: String,
    meters: Vec<String>,
}

/// The user's tier and current period. The plan header wins (the dev's server vouches for it);
/// without it, the user's entitling subscription, else the plan their customer record was
/// created with, else `free`. A subscriber's period is their Stripe subscription period;
/// everyone else counts per calendar month.
pub(crate) async fn resolve<'c>(
    auth: &'c SecretKeyAuth,
    headers: &UsageHeaders,
    now: Timestamp,
) -> ApiResult<Resolved<'c>> {
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
    let entitlement = if needs_subscription {
        auth.scope.entitlement(&headers.user_id).await?
    } else {
        None
    };
    // The plan billing says the user is on: an entitling subscription's, else the customer's.
    let own_tier = || -> ApiResult<(&'c Tier, PlanSource)> {
        match &entitlement {
            Some(e) => {
                let tier = auth.config.tier(&e.plan).ok_or_else(|| unknown_plan(auth, &e.plan))?;
                let source = if e.status.is_some() {
                    PlanSource::Subscription
                } else {
                    PlanSource::Customer
                };
                Ok((tier, source))
            }
            None => auth
                .config
                .tier(DEFAULT_PLAN)
                .map(|tier| (tier, PlanSource::Default))
                .ok_or_else(|| {
                    ApiError::invalid_request(format!(
                        "X-User-Plan is required: this project has no `{DEFAULT_PLAN}` tier (tiers: {})",
                        tier_list(auth)
                    ))
                }),
        }
    };
    let (tier, source) = match requested_tier {
        None => own_tier()?,
        Some(tier) if auth.config.plan_header == PlanHeader::Trusted || tier.price.is_free() => {
            (tier, PlanSource::Header)
        }
        // Capped: the header may lower the user's plan, never raise it above what they pay for.
        Some(tier) => {
            let own = own_tier()?;
            if tier.price <= own.0.price {
                (tier, PlanSource::Header)
            } else {
                own
            }
        }
    };
    let entitlement = entitlement.filter(|e| e.plan == tier.name.as_str());
    let subscribed = entitlement.as_ref().filter(|e| e.status.is_some());
    let period = match subscribed.and_then(|s| s.period) {
        Some((start, end)) => BillingPeriod::from_subscription(start, end, now),
        None => BillingPeriod::calendar_month(now),
    };
    // A trial bills nothing, overage included: its meters stop at their included amounts.
    let billed = subscribed
        .filter(|s| s.status.as_deref() != Some("trialing"))
        .and_then(|s| {
            Some(Billed {
                customer: s.stripe_customer.clone()?,
                meters: s.metered_meters.clone(),
            })
        });
    Ok(Resolved {
        tier,
        period,
        source,
        entitlement,
        billed,
    })
}

/// The meter a call counts in the user's tier. A meter some other tier of the project has is
/// one this tier includes none of (refused as a limit, so the user can upgrade); a meter no
/// tier has is a mistake in the call.
fn meter_of(auth: &SecretKeyAuth, tier: &Tier, key: &str) -> ApiResult<Meter> {
    if let Some(meter) = tier.meter(key) {
        return Ok(meter);
    }
    if auth.config.tiers.iter().any(|t| t.meter(key).is_some()) {
        let key = dream_core::tiers::meters::MeterKey::parse(key).map_err(ApiError::invalid_request)?;
        return Ok(Meter::hard(key, UsageLimit::limited(0)));
    }
    let mut known: Vec<String> = auth
        .config
        .tiers
        .iter()
        .flat_map(|t| t.meters().iter().map(|m| m.key.to_string()).collect::<Vec<_>>())
        .collect();
    known.sort();
    known.dedup();
    Err(ApiError::invalid_request(format!(
        "Unknown meter `{key}`; this project's meters are: {}",
        known.join(", ")
    )))
}

/// The terms of a meter whose overage this user is billed, if it is.
fn overage_terms(tier: &Tier, meter: &Meter, billed: Option<&Billed>) -> Option<OverageTerms> {
    let billed = billed
        .filter(|b| meter.bills_overage() && meter.stripe_meter_id.as_ref().is_some_and(|id| b.meters.contains(id)))?;
    let customer = billed.customer.as_str();
    let billed = |m: &Meter| -> Option<BilledMeter> {
        Some(BilledMeter {
            key: m.key.to_string(),
            included: m.included.max()?,
            price: m.overage?,
        })
    };
    let own = billed(meter)?;
    Some(OverageTerms {
        included: own.included,
        price: own.price,
        event_name: meter.event_name.clone()?,
        stripe_customer: customer.to_owned(),
        spend_cap: tier.spend_cap,
        other_meters: tier
            .meters()
            .iter()
            .filter(|m| m.key != meter.key && m.bills_overage())
            .filter_map(billed)
            .collect(),
    })
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

/// What the usage counter is asked, for the resolved tier, period and meter.
fn count_request(
    auth: &SecretKeyAuth,
    headers: &UsageHeaders,
    resolved: &Resolved<'_>,
    (meter, quantity): (&Meter, u64),
    now: Timestamp,
    request_id: &str,
) -> CountRequest {
    let period = resolved.period;
    let shards = auth.config.counter_layout.shards_for(period.start);
    let overage = overage_terms(resolved.tier, meter, resolved.billed.as_ref());
    CountRequest {
        user_id: headers.user_id.clone(),
        plan: resolved.tier.name.to_string(),
        // The spend cap, if any, is applied by the counter, which knows the other meters' use.
        // A quantity meter never counts past MAX_LIMIT a period, billed or not: counts stay
        // exact in D1's doubles.
        limit: match count_limit(meter, overage.is_some(), None, Amount(0)) {
            limit if limit.max().is_none() && meter.key.as_str() != REQUESTS => UsageLimit::limited(MAX_LIMIT),
            limit => limit,
        },
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
        meter: meter.key.to_string(),
        quantity,
        overage,
        config_epoch: Some(auth.config_epoch),
    }
}

/// One attempt of a metered request with one project configuration.
pub(crate) enum Attempt<T> {
    Done(T),
    /// The counter says the configuration is older than the project's last change.
    Stale(StaleConfig),
    /// The configuration refused the request (an unknown plan or meter, a Store project): the
    /// project's current configuration may not, if this one is stale.
    Refused(ApiError),
}

/// An error of what the configuration decides before anything is counted (resolving the tier
/// and the meter): every refusal of the configuration's is an `invalid_request`; any other
/// error ends the request.
pub(crate) fn refused_by_config<T>(error: ApiError) -> ApiResult<Attempt<T>> {
    if error.code() == ErrorCode::InvalidRequest {
        Ok(Attempt::Refused(error))
    } else {
        Err(error)
    }
}

/// Runs `call` with the request's project configuration, and once more with the configuration
/// read from D1 again if the project changed since it was read: the usage counter says so on
/// the call that counts, and is asked when the configuration refused the request (a tier or a
/// meter added a moment ago). An edit reaches every isolate on its next metered request.
pub(crate) async fn on_current_config<T>(
    auth: &SecretKeyAuth,
    counters: &Counters,
    call: impl AsyncFn(&SecretKeyAuth) -> ApiResult<Attempt<T>>,
) -> ApiResult<T> {
    let epoch = match call(auth).await? {
        Attempt::Done(answer) => return Ok(answer),
        Attempt::Stale(stale) => stale.epoch,
        Attempt::Refused(refusal) if auth.read_from_d1 => return Err(refusal),
        Attempt::Refused(refusal) => match counters.config_epoch(&auth.scope.project().publishable_key).await {
            Ok(epoch) if epoch > auth.config_epoch => epoch,
            // Current, or the counter cannot tell (busy, a deploy in progress): the refusal stands.
            _ => return Err(refusal),
        },
    };
    match call(&auth.reloaded(epoch).await?).await? {
        Attempt::Done(answer) => Ok(answer),
        Attempt::Refused(refusal) => Err(refusal),
        // Changed again meanwhile: the caller retries, as after any brief unavailability.
        Attempt::Stale(_) => Err(ApiError::new(
            ErrorCode::Unavailable,
            "This project's configuration is being changed; retry shortly with the same Idempotency-Key",
        )
        .with_retry_after(1)),
    }
}

/// POST /api/data: counts a quantity of a meter (one request without a body) or refuses it
/// whole at the meter's limit.
pub async fn record_usage(
    auth: &SecretKeyAuth,
    counters: &Counters,
    (headers, track): (&UsageHeaders, &TrackRequest),
    now: Timestamp,
    request_id: &str,
) -> ApiResult<Recorded> {
    let quantity = track.quantity()?;
    let pk = auth.scope.project().publishable_key.as_str();
    rate_limits::refused_recently(pk, Some(&headers.user_id), crate::runtime::clock::now_millis())?;
    on_current_config(auth, counters, async |auth: &SecretKeyAuth| {
        record_with(auth, counters, (headers, track, quantity), now, request_id).await
    })
    .await
}

/// `record_usage` with one configuration.
async fn record_with(
    auth: &SecretKeyAuth,
    counters: &Counters,
    (headers, track, quantity): (&UsageHeaders, &TrackRequest, u64),
    now: Timestamp,
    request_id: &str,
) -> ApiResult<Attempt<Recorded>> {
    let resolved = match resolve(auth, headers, now).await {
        Ok(resolved) => resolved,
        Err(e) => return refused_by_config(e),
    };
    let meter = match meter_of(auth, resolved.tier, track.meter().as_str()) {
        Ok(meter) => meter,
        Err(e) => return refused_by_config(e),
    };
    let request = count_request(auth, headers, &resolved, (&meter, quantity), now, request_id);
    // One request of a meter nobody is billed for keeps the path every release understands.
    let answer = if request.meter == REQUESTS && quantity == 1 && request.overage.is_none() {
        match counters.count(auth.scope.project(), &request).await {
            Ok(Answer::Done(outcome)) => Ok(Answer::Done(MeterOutcome {
                outcome,
                spent_nanocents: None,
            })),
            Ok(Answer::Stale(stale)) => Ok(Answer::Stale(stale)),
            Err(e) => Err(e),
        }
    } else {
        counters.count_meter(auth.scope.project(), &request).await
    }
    .map_err(|e| e.context("counting usage"))?;
    let answer = match answer {
        Answer::Done(answer) => answer,
        Answer::Stale(stale) => return Ok(Attempt::Stale(stale)),
    };
    let report = |count| {
        UsageReport::new(
            count,
            resolved.tier,
            &meter,
            &resolved.period,
            request.overage.is_some(),
            answer.spent(),
        )
    };
    match answer.outcome {
        CountOutcome::Counted(count) => Ok(Attempt::Done(Recorded {
            usage: report(count),
            replayed: false,
        })),
        CountOutcome::Replayed(count) => Ok(Attempt::Done(Recorded {
            usage: report(count),
            replayed: true,
        })),
        CountOutcome::LimitReached(count) => {
            let message = if request.overage.is_some() {
                "Spend cap reached: this quantity's overage would pass the tier's cap for the period"
            } else if quantity > 1 {
                "Tier limit reached: this quantity would pass the meter's limit (nothing was counted)"
            } else {
                "Tier limit reached"
            };
            Err(ApiError::new(ErrorCode::LimitReached, message).with_detail("usage", report(count)))
        }
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

/// GET /api/usage: every meter of the user's tier, without counting (`requests` first).
pub async fn current_usage(
    auth: &SecretKeyAuth,
    counters: &Counters,
    headers: &UsageHeaders,
    now: Timestamp,
) -> ApiResult<Vec<UsageReport>> {
    let pk = auth.scope.project().publishable_key.as_str();
    rate_limits::refused_recently(pk, None, crate::runtime::clock::now_millis())?;
    on_current_config(auth, counters, async |auth: &SecretKeyAuth| {
        usage_with(auth, counters, headers, now).await
    })
    .await
}

/// `current_usage` with one configuration.
async fn usage_with(
    auth: &SecretKeyAuth,
    counters: &Counters,
    headers: &UsageHeaders,
    now: Timestamp,
) -> ApiResult<Attempt<Vec<UsageReport>>> {
    match resolve(auth, headers, now).await {
        Ok(resolved) => reports(auth, counters, headers, &resolved, now).await,
        Err(e) => refused_by_config(e),
    }
}

/// Every meter of the resolved tier, from the user's counter (nothing counted).
pub(crate) async fn reports(
    auth: &SecretKeyAuth,
    counters: &Counters,
    headers: &UsageHeaders,
    resolved: &Resolved<'_>,
    now: Timestamp,
) -> ApiResult<Attempt<Vec<UsageReport>>> {
    let meters = resolved.tier.meters();
    let request = count_request(auth, headers, resolved, (&meters[0], 1), now, "");
    let counts = match counters.meter_counts(auth.scope.project(), &request).await? {
        Answer::Done(counts) => counts,
        Answer::Stale(stale) => return Ok(Attempt::Stale(stale)),
    };
    let count_of = |key: &str| counts.iter().find(|(k, _)| k == key).map_or(0, |(_, n)| *n);
    let billed = |m: &Meter| overage_terms(resolved.tier, m, resolved.billed.as_ref()).is_some();
    let spent = Amount(
        meters
            .iter()
            .filter(|m| billed(m))
            .map(|m| m.overage_cost(count_of(m.key.as_str())).0)
            .sum(),
    );
    Ok(Attempt::Done(
        meters
            .iter()
            .map(|m| {
                UsageReport::new(
                    count_of(m.key.as_str()),
                    resolved.tier,
                    m,
                    &resolved.period,
                    billed(m),
                    Some(spent),
                )
            })
            .collect(),
    ))
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
        let requests = tier.meter(REQUESTS).unwrap();
        let json = serde_json::to_value(UsageReport::new(40, &tier, &requests, &period, false, None)).unwrap();
        assert_eq!(
            json,
            serde_json::json!({"count": 40, "limit": 100, "plan": "free", "remaining": 60,
                "periodStart": "2026-11-01T00:00:00Z", "periodEnd": "2026-12-01T00:00:00Z",
                "meter": "requests", "overageBilled": false, "overage": 0, "overageCost": "0",
                "spendCap": null, "spendCapLeft": null})
        );
    }

    #[test]
    fn a_billed_meter_reports_its_overage_and_what_is_left_of_the_cap() {
        let tier: Tier = serde_json::from_value(serde_json::json!({
            "name": "pro", "displayName": "Pro", "price": 20, "currency": "usd", "limit": null,
            "priceId": "price_1", "productId": "prod_1", "features": {}, "popular": false,
            "inventory": null, "soldOut": false, "spendCap": 1,
            "meters": [{"key": "requests", "included": null},
                       {"key": "tokens", "included": 10000, "overage": {"price": "0.002", "per": 1000},
                        "stripeMeterId": "mtr_1", "eventName": "tokens_x", "priceId": "price_2"}]
        }))
        .unwrap();
        let tokens = tier.meter("tokens").unwrap();
        let subscriber = |meters: &[&str]| Billed {
            customer: "cus_1".to_owned(),
            meters: meters.iter().map(|m| (*m).to_owned()).collect(),
        };
        let terms = overage_terms(&tier, &tokens, Some(&subscriber(&["mtr_1"]))).unwrap();
        assert_eq!((terms.included, terms.stripe_customer.as_str()), (10_000, "cus_1"));
        assert!(
            overage_terms(&tier, &tokens, None).is_none(),
            "no subscription: nothing to bill"
        );
        assert!(
            overage_terms(&tier, &tokens, Some(&subscriber(&[]))).is_none(),
            "a subscription from before the meter's overage does not bill it"
        );
        let period = BillingPeriod::calendar_month(Timestamp(1_795_306_426));
        let spent = Some(tokens.overage_cost(25_000));
        let json = serde_json::to_value(UsageReport::new(25_000, &tier, &tokens, &period, true, spent)).unwrap();
        assert_eq!(json["overage"], 15_000);
        assert_eq!(json["overageCost"], "0.03");
        assert_eq!(json["spendCap"], 1);
        assert_eq!(json["spendCapLeft"], "0.97");
        assert_eq!(json["remaining"], 0);
    }
}
