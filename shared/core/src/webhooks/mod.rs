//! Developer webhooks: what the platform tells a developer's app, and the rules of telling it.
//! The event types and their envelope, the endpoints a developer registers (validated here),
//! the retry schedule and when an endpoint is disabled, and the Standard Webhooks signature
//! (`signing`). Delivery itself (a Durable Object per project) lives in `shared::webhooks`.

pub mod payloads;
pub mod signing;

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::{
    error::{ApiError, ApiResult},
    input::MAX_URL_LEN,
    keys::PublishableKey,
    mode::Mode,
    period::Timestamp,
};

/// Endpoints per project and mode.
pub const MAX_ENDPOINTS: usize = 10;
/// The longest description kept for an endpoint.
pub const MAX_DESCRIPTION_LEN: usize = 200;
/// How long an attempt waits for the endpoint's answer.
pub const DELIVERY_TIMEOUT_SECS: u64 = 10;
/// How much of an answer is read (and kept in the log); the rest is never downloaded.
pub const RESPONSE_SNIPPET_BYTES: usize = 256;
/// The default and longest time both secrets sign after a rotation.
pub const DEFAULT_ROTATION_GRACE_HOURS: u32 = 24;
pub const MAX_ROTATION_GRACE_HOURS: u32 = 7 * 24;
/// How long events (and their deliveries) are kept.
pub const EVENT_RETENTION_DAYS: u64 = 30;
/// A usage meter's thresholds, in percent of its included amount.
pub const USAGE_THRESHOLDS: [u8; 2] = [80, 100];
/// A product at or below this stock after a sale is low (`product.low_stock`).
pub const LOW_STOCK_UNITS: i64 = 5;

/// Waits between attempts: the first attempt is immediate, then these (each ±10 % jitter).
/// 1 + 10 attempts over about 3.2 days, as Stripe retries for three.
pub const RETRY_DELAYS_SECS: [u64; 10] = [
    5,
    60,
    5 * 60,
    30 * 60,
    2 * 3600,
    5 * 3600,
    10 * 3600,
    12 * 3600,
    24 * 3600,
    24 * 3600,
];

/// Attempts a delivery gets before it is failed.
pub const MAX_ATTEMPTS: u32 = RETRY_DELAYS_SECS.len() as u32 + 1;

/// The wait before attempt `attempts + 1` after `attempts` failed ones, or None when the
/// schedule is spent. `scale` divides the schedule (1 in production; the local stack's tests
/// run the same schedule faster); `jitter` is a random byte.
pub fn retry_delay_ms(attempts: u32, scale: u64, jitter: u8) -> Option<u64> {
    let base_ms = RETRY_DELAYS_SECS.get(attempts.checked_sub(1)? as usize)? * 1000 / scale.max(1);
    // ±10 %: 0..=255 maps onto -10 %..+10 %.
    let spread = base_ms / 10;
    let offset = spread * 2 * u64::from(jitter) / 255;
    Some((base_ms - spread + offset).max(1000))
}

/// An endpoint is disabled once its attempts have failed without a 2xx in between this many
/// times and for this long: a run as long as one event's whole schedule (less the jitter, so
/// the last attempt of a schedule that jitter shortened still disables it).
pub const DISABLE_AFTER_FAILURES: i64 = MAX_ATTEMPTS as i64;
pub fn disable_after_ms(scale: u64) -> u64 {
    RETRY_DELAYS_SECS.iter().sum::<u64>() * 1000 * 9 / 10 / scale.max(1)
}

/// Every event the platform sends, by its stable name.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum EventType {
    #[serde(rename = "customer.created")]
    CustomerCreated,
    #[serde(rename = "subscription.created")]
    SubscriptionCreated,
    #[serde(rename = "subscription.updated")]
    SubscriptionUpdated,
    #[serde(rename = "subscription.past_due")]
    SubscriptionPastDue,
    #[serde(rename = "subscription.canceled")]
    SubscriptionCanceled,
    #[serde(rename = "usage.threshold")]
    UsageThreshold,
    #[serde(rename = "usage.cap_reached")]
    UsageCapReached,
    #[serde(rename = "order.paid")]
    OrderPaid,
    #[serde(rename = "order.short")]
    OrderShort,
    #[serde(rename = "order.refunded")]
    OrderRefunded,
    #[serde(rename = "product.low_stock")]
    ProductLowStock,
    #[serde(rename = "product.sold_out")]
    ProductSoldOut,
    #[serde(rename = "key.rotated")]
    KeyRotated,
    /// Sent only on request, to check an endpoint (`POST /webhook-endpoints/{id}/test`).
    #[serde(rename = "endpoint.test")]
    EndpointTest,
}

impl EventType {
    pub const ALL: [EventType; 14] = [
        Self::CustomerCreated,
        Self::SubscriptionCreated,
        Self::SubscriptionUpdated,
        Self::SubscriptionPastDue,
        Self::SubscriptionCanceled,
        Self::UsageThreshold,
        Self::UsageCapReached,
        Self::OrderPaid,
        Self::OrderShort,
        Self::OrderRefunded,
        Self::ProductLowStock,
        Self::ProductSoldOut,
        Self::KeyRotated,
        Self::EndpointTest,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::CustomerCreated => "customer.created",
            Self::SubscriptionCreated => "subscription.created",
            Self::SubscriptionUpdated => "subscription.updated",
            Self::SubscriptionPastDue => "subscription.past_due",
            Self::SubscriptionCanceled => "subscription.canceled",
            Self::UsageThreshold => "usage.threshold",
            Self::UsageCapReached => "usage.cap_reached",
            Self::OrderPaid => "order.paid",
            Self::OrderShort => "order.short",
            Self::OrderRefunded => "order.refunded",
            Self::ProductLowStock => "product.low_stock",
            Self::ProductSoldOut => "product.sold_out",
            Self::KeyRotated => "key.rotated",
            Self::EndpointTest => "endpoint.test",
        }
    }

    pub fn parse(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|t| t.as_str() == name)
    }
}

/// What an endpoint subscribes to: every type (`*`), or the listed ones.
pub const ALL_TYPES: &str = "*";

/// An event as every endpoint receives it (the body the signature covers).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Event {
    /// `evt_…`; also the `webhook-id` header, the same on every retry and replay.
    pub id: String,
    #[serde(rename = "type")]
    pub kind: EventType,
    /// RFC 3339, when the change happened.
    pub created: String,
    /// The project's publishable key (its mode is in the key too).
    pub project: String,
    pub mode: Mode,
    /// The object the event is about; its shape depends on `type` (the OpenAPI document's
    /// `webhooks` section has one schema per type).
    pub data: Value,
    /// What makes two recordings of this event one (never sent).
    #[serde(skip)]
    pub dedup_key: Option<String>,
}

impl Event {
    pub fn new(kind: EventType, project: &PublishableKey, created: Timestamp, data: Value) -> Self {
        Self {
            id: new_event_id(),
            kind,
            created: created.to_rfc3339(),
            project: project.as_str().to_owned(),
            mode: project.mode(),
            data,
            dedup_key: None,
        }
    }

    /// Recorded once per key: a second recording with the same key is ignored (the same
    /// change seen twice, a retried copy).
    pub fn deduplicated_by(mut self, parts: &[&str]) -> Self {
        self.dedup_key = Some(dedup_key(parts));
        self
    }

    pub fn payload(&self) -> String {
        serde_json::to_string(self).unwrap_or_default()
    }
}

/// `evt_` and 32 random hex digits (what SQL-made events use too: `'evt_' || lower(hex(randomblob(16)))`).
pub fn new_event_id() -> String {
    format!("evt_{}", crate::keys::random_hex(16))
}

/// A deduplication key: 32 hex of SHA-256 over the parts.
pub fn dedup_key(parts: &[&str]) -> String {
    use sha2::{Digest, Sha256};
    let mut hash = Sha256::new();
    for part in parts {
        hash.update(part.as_bytes());
        hash.update([0]);
    }
    hex::encode(hash.finalize())[..32].to_owned()
}

/// A user's count of one meter moving in its period, as the usage counter saw it.
pub struct UsageMove<'a> {
    pub project: &'a PublishableKey,
    pub user_id: &'a str,
    pub plan: &'a str,
    pub meter: &'a str,
    pub period: (Timestamp, Timestamp),
    /// The meter's included amount (its limit when it has no overage); none when unlimited.
    pub included: Option<u64>,
    pub before: u64,
    pub after: u64,
}

/// `usage.threshold` for each of `USAGE_THRESHOLDS` the move crossed (once per user, meter,
/// period and threshold, by its dedup key).
pub fn threshold_events(usage: &UsageMove<'_>, now: Timestamp) -> Vec<Event> {
    let Some(included) = usage.included.filter(|&n| n > 0) else {
        return Vec::new();
    };
    let start = usage.period.0.to_rfc3339();
    USAGE_THRESHOLDS
        .iter()
        .filter(|&&percent| {
            let line = (u128::from(included) * u128::from(percent)).div_ceil(100);
            u128::from(usage.before) < line && line <= u128::from(usage.after)
        })
        .map(|&percent| {
            let data = payloads::data(&payloads::UsageThresholdData {
                user_id: usage.user_id.to_owned(),
                plan: usage.plan.to_owned(),
                meter: usage.meter.to_owned(),
                threshold: percent,
                included,
                count: usage.after,
                period_start: start.clone(),
                period_end: usage.period.1.to_rfc3339(),
            });
            let threshold = percent.to_string();
            let parts = [
                usage.project.as_str(),
                usage.user_id,
                usage.meter,
                start.as_str(),
                threshold.as_str(),
            ];
            Event::new(EventType::UsageThreshold, usage.project, now, data).deduplicated_by(&parts)
        })
        .collect()
}

/// `usage.cap_reached`: the user's spend cap refused a count (once per user and period).
pub fn cap_reached_event(usage: &UsageMove<'_>, spend_cap_cents: i64, now: Timestamp) -> Event {
    let start = usage.period.0.to_rfc3339();
    let data = payloads::data(&payloads::UsageCapReachedData {
        user_id: usage.user_id.to_owned(),
        plan: usage.plan.to_owned(),
        meter: usage.meter.to_owned(),
        spend_cap_cents,
        count: usage.after,
        period_start: start.clone(),
        period_end: usage.period.1.to_rfc3339(),
    });
    let parts = [usage.project.as_str(), usage.user_id, start.as_str(), "cap"];
    Event::new(EventType::UsageCapReached, usage.project, now, data).deduplicated_by(&parts)
}

/// An endpoint URL: absolute, https in live mode (http is allowed in test mode, for a
/// developer's machine), no credentials, bounded and printable.
pub fn parse_endpoint_url(url: &str, mode: Mode) -> ApiResult<String> {
    let url = url.trim();
    if url.len() > MAX_URL_LEN {
        return Err(ApiError::invalid_request(format!(
            "`url` is longer than {MAX_URL_LEN} characters"
        )));
    }
    let (https, rest) = match (url.strip_prefix("https://"), url.strip_prefix("http://")) {
        (Some(rest), _) => (true, rest),
        (None, Some(rest)) => (false, rest),
        _ => return Err(ApiError::invalid_request("`url` must be an absolute https URL")),
    };
    let authority = rest.split(['/', '?', '#']).next().unwrap_or("");
    if authority.contains('@') {
        return Err(ApiError::invalid_request(
            "`url` must not carry credentials: verify the signature instead",
        ));
    }
    let printable = url.chars().all(|c| c.is_ascii_graphic());
    if !printable || !valid_authority(authority) || url.contains('#') {
        return Err(ApiError::invalid_request(
            "`url` must be an absolute https URL with a host, printable ASCII, no fragment",
        ));
    }
    if !https && mode == Mode::Live {
        return Err(ApiError::invalid_request("`url` must use https for a live project"));
    }
    Ok(url.to_owned())
}

/// `host[:port]`: a DNS name or an IP address (IPv6 in brackets), and a port that fits.
fn valid_authority(authority: &str) -> bool {
    let (host, port) = match authority.strip_prefix('[') {
        Some(rest) => match rest.split_once(']') {
            Some((v6, after))
                if !v6.is_empty() && v6.chars().all(|c| c.is_ascii_hexdigit() || c == ':' || c == '.') =>
            {
                (v6, after.strip_prefix(':'))
            }
            _ => return false,
        },
        None => match authority.split_once(':') {
            Some((host, port)) => (host, Some(port)),
            None => (authority, None),
        },
    };
    let name_ok = authority.starts_with('[')
        || (!host.is_empty()
            && host.len() <= 253
            && host.split('.').all(|label| {
                !label.is_empty()
                    && label.len() <= 63
                    && !label.starts_with('-')
                    && !label.ends_with('-')
                    && label.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
            }));
    let port_ok = port.is_none_or(|p| !p.is_empty() && p.len() <= 5 && p.parse::<u16>().is_ok_and(|n| n > 0));
    name_ok && port_ok
}

/// The event types an endpoint subscribes to: `["*"]`, or known names without repeats.
pub fn parse_event_types(types: &[String]) -> ApiResult<Vec<String>> {
    if types.is_empty() {
        return Err(ApiError::invalid_request(
            "`eventTypes` must name at least one event type, or \"*\" for all",
        ));
    }
    if types.iter().any(|t| t == ALL_TYPES) {
        return Ok(vec![ALL_TYPES.to_owned()]);
    }
    let mut parsed = Vec::with_capacity(types.len());
    for name in types {
        let Some(kind) = EventType::parse(name) else {
            let known: Vec<&str> = EventType::ALL.iter().map(|t| t.as_str()).collect();
            return Err(ApiError::invalid_request(format!(
                "`eventTypes`: unknown event type `{}`; known: {}",
                name.chars().take(64).collect::<String>(),
                known.join(", ")
            )));
        };
        if !parsed.contains(&kind.as_str().to_owned()) {
            parsed.push(kind.as_str().to_owned());
        }
    }
    Ok(parsed)
}

pub fn parse_description(description: Option<&str>) -> ApiResult<String> {
    let description = description.unwrap_or("").trim();
    if description.chars().count() > MAX_DESCRIPTION_LEN || description.chars().any(char::is_control) {
        return Err(ApiError::invalid_request(format!(
            "`description` must be at most {MAX_DESCRIPTION_LEN} printable characters"
        )));
    }
    Ok(description.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_schedule_spans_three_days_with_jitter() {
        let total: u64 = RETRY_DELAYS_SECS.iter().sum();
        assert!(total >= 3 * 24 * 3600, "{total}");
        assert_eq!(retry_delay_ms(0, 1, 0), None, "the first attempt is not a retry");
        assert_eq!(retry_delay_ms(1, 1, 0), Some(4_500));
        assert_eq!(retry_delay_ms(1, 1, 255), Some(5_500));
        assert_eq!(
            retry_delay_ms(MAX_ATTEMPTS - 1, 1, 128).map(|d| d / 3_600_000),
            Some(24)
        );
        assert_eq!(retry_delay_ms(MAX_ATTEMPTS, 1, 0), None, "spent");
        assert_eq!(retry_delay_ms(1, 3600, 0), Some(1000), "scaled, never below a second");
    }

    #[test]
    fn event_types_round_trip_and_validate() {
        for kind in EventType::ALL {
            let json = serde_json::to_string(&kind).unwrap();
            assert_eq!(json, format!("\"{}\"", kind.as_str()));
            assert_eq!(EventType::parse(kind.as_str()), Some(kind));
        }
        let types = |t: &[&str]| parse_event_types(&t.iter().map(|s| s.to_string()).collect::<Vec<_>>());
        assert_eq!(types(&["order.paid", "order.paid"]).unwrap(), vec!["order.paid"]);
        assert_eq!(types(&["order.paid", "*"]).unwrap(), vec!["*"]);
        assert!(types(&[]).is_err());
        assert!(types(&["order.eaten"]).unwrap_err().message().contains("order.eaten"));
    }

    #[test]
    fn thresholds_fire_once_when_crossed() {
        let pk = PublishableKey::parse("pk_test_0123456789abcdef0123456789abcdef").unwrap();
        let at = |before, after, included| {
            let usage = UsageMove {
                project: &pk,
                user_id: "u1",
                plan: "pro",
                meter: "tokens",
                period: (Timestamp(0), Timestamp(100)),
                included,
                before,
                after,
            };
            threshold_events(&usage, Timestamp(5))
                .iter()
                .map(|e| e.data["threshold"].as_u64().unwrap())
                .collect::<Vec<_>>()
        };
        assert_eq!(at(0, 79, Some(100)), Vec::<u64>::new());
        assert_eq!(at(79, 80, Some(100)), vec![80]);
        assert_eq!(at(80, 99, Some(100)), Vec::<u64>::new());
        assert_eq!(at(50, 150, Some(100)), vec![80, 100]);
        assert_eq!(at(0, 1, Some(1)), vec![80, 100], "80 % of 1 is reached at 1");
        assert_eq!(at(0, 10, None), Vec::<u64>::new(), "unlimited");
        assert_eq!(at(7, 8, Some(10)), vec![80]);
    }

    #[test]
    fn endpoint_urls() {
        assert!(parse_endpoint_url("https://app.example/hooks?x=1", Mode::Live).is_ok());
        assert!(parse_endpoint_url("http://localhost:3000/hooks", Mode::Test).is_ok());
        let live_http = parse_endpoint_url("http://app.example/hooks", Mode::Live).unwrap_err();
        assert!(live_http.message().contains("https"));
        let creds = parse_endpoint_url("https://user:pw@app.example/", Mode::Test).unwrap_err();
        assert!(creds.message().contains("credentials"));
        assert!(parse_endpoint_url("https://[::1]:8443/hooks", Mode::Test).is_ok());
        assert!(parse_endpoint_url("https://hooks.app-1.example:443/in", Mode::Live).is_ok());
        for bad in [
            "ftp://x",
            "https://",
            "/hooks",
            "https://a b/",
            "https://x/#f",
            "javascript:1",
            "https://[zz]/",
            "https://a..b/",
            "https://-a.example/",
            "https://a.example:99999/",
            "https://a.example:/",
            "https://a_b.example/",
        ] {
            assert!(parse_endpoint_url(bad, Mode::Test).is_err(), "{bad}");
        }
    }

    #[test]
    fn dedup_keys_are_stable_and_distinct() {
        let a = dedup_key(&["pk", "u1", "tokens", "2026-12", "80"]);
        assert_eq!(a, dedup_key(&["pk", "u1", "tokens", "2026-12", "80"]));
        assert_ne!(a, dedup_key(&["pk", "u1", "tokens", "2026-12", "100"]));
        assert_ne!(dedup_key(&["a", "bc"]), dedup_key(&["ab", "c"]));
        assert_eq!(a.len(), 32);
        let id = new_event_id();
        assert!(id.starts_with("evt_") && id.len() == 36 && id != new_event_id());
    }
}
