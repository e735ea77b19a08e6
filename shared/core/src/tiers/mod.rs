//! Tiers (SaaS plans) and products (Store items) share one model, as in the spec's `tiers` table.

pub mod features;
pub mod input;
pub mod meters;
pub mod tax;

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::{keys::PublishableKey, mode::ProjectType, money::Cents};

/// A tier's identifier within its project: a lowercase slug such as `free` or `pro-annual`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema), schema(value_type = String))]
pub struct TierName(String);

pub const TIER_NAME_MAX: usize = 40;

impl TierName {
    pub fn parse(raw: &str) -> Result<Self, String> {
        let valid_body = raw
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b'_');
        let starts_alnum = raw
            .bytes()
            .next()
            .is_some_and(|b| b.is_ascii_lowercase() || b.is_ascii_digit());
        if raw.is_empty() || raw.len() > TIER_NAME_MAX || !valid_body || !starts_alnum {
            return Err(format!(
                "tier name must be 1-{TIER_NAME_MAX} characters of a-z, 0-9, '-' or '_', starting with a letter or digit"
            ));
        }
        Ok(Self(raw.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for TierName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl TryFrom<String> for TierName {
    type Error = String;
    fn try_from(raw: String) -> Result<Self, String> {
        Self::parse(&raw)
    }
}

impl From<TierName> for String {
    fn from(name: TierName) -> Self {
        name.0
    }
}

/// Requests allowed per billing period. `None` (JSON `null`) is unlimited.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(transparent)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct UsageLimit(Option<u64>);

impl UsageLimit {
    pub const UNLIMITED: Self = Self(None);

    pub fn limited(max: u64) -> Self {
        Self(Some(max))
    }

    /// The bound; `None` when unlimited.
    pub fn max(self) -> Option<u64> {
        self.0
    }

    /// Requests left in the period; `None` when unlimited. Never negative, even if the limit
    /// was lowered below what has already been used.
    pub fn remaining(self, count: u64) -> Option<u64> {
        self.0.map(|max| max.saturating_sub(count))
    }

    /// The SQL parameter: D1 binds integers as JS numbers, exact below 2^53.
    pub fn as_sql(self) -> Option<i64> {
        self.0.map(|max| i64::try_from(max).unwrap_or(i64::MAX))
    }
}

/// One tier or product as stored in D1 and cached in KV.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Tier {
    pub name: TierName,
    pub display_name: String,
    pub price: Cents,
    pub currency: String,
    /// The `requests` meter's included amount: the short form of a tier's meters.
    pub limit: UsageLimit,
    pub price_id: Option<String>,
    pub product_id: Option<String>,
    /// Free-form presentation data (`description`, `imageUrl`, `features[]`), stored as JSON.
    #[cfg_attr(feature = "openapi", schema(value_type = std::collections::HashMap<String, serde_json::Value>))]
    pub features: serde_json::Value,
    pub popular: bool,
    pub inventory: Option<i64>,
    pub sold_out: bool,
    /// What the tier counts (SaaS). Empty in tiers stored before meters: one `requests` meter
    /// of `limit` ([`Tier::meters`]).
    #[serde(default)]
    pub meters: Vec<meters::Meter>,
    /// The most a user's overage may cost in a billing period; `null`: no cap.
    #[serde(default)]
    pub spend_cap: Option<Cents>,
    /// The boolean features the tier grants (SaaS).
    #[serde(default)]
    pub entitlements: Vec<features::FeatureKey>,
    /// The free trial a checkout of the tier starts; `null`: none.
    #[serde(default)]
    pub trial: Option<features::Trial>,
    /// The tax behaviour its Stripe price was made with; `null`: unspecified (made before the
    /// project had tax settings).
    #[serde(default)]
    pub tax_behavior: Option<tax::TaxBehavior>,
}

impl Tier {
    pub fn grants(&self, feature: &str) -> bool {
        self.entitlements.iter().any(|f| f.as_str() == feature)
    }

    /// Every meter of the tier, `requests` always among them.
    pub fn meters(&self) -> std::borrow::Cow<'_, [meters::Meter]> {
        if self.meters.iter().any(|m| m.key.as_str() == meters::REQUESTS) {
            std::borrow::Cow::Borrowed(&self.meters)
        } else {
            let mut all = vec![meters::Meter::hard(meters::MeterKey::requests(), self.limit)];
            all.extend(self.meters.iter().cloned());
            std::borrow::Cow::Owned(all)
        }
    }

    pub fn meter(&self, key: &str) -> Option<meters::Meter> {
        self.meters().iter().find(|m| m.key.as_str() == key).cloned()
    }

    /// Whether any meter bills overage (the tier's checkout then carries metered prices).
    pub fn bills_overage(&self) -> bool {
        self.meters.iter().any(|m| m.overage.is_some())
    }
}

/// How long a cached project configuration may serve before it is re-read from D1, even if
/// nobody evicts it.
/// Short on purpose: it bounds the window in which a request that read D1 just before an edit or
/// rotation can put the old state back after the eviction (and matches KV's own propagation).
pub const CACHE_TTL_SECS: u64 = 60;

/// What api-multi needs to know about a project on every request; cached in KV per project.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ProjectConfig {
    pub publishable_key: PublishableKey,
    pub platform_id: String,
    pub project_type: ProjectType,
    pub name: String,
    pub tiers: Vec<Tier>,
    /// Set when the developer's plan lapsed: live keys stop working at this time.
    #[serde(default)]
    pub live_keys_pause_at: Option<String>,
    /// How many usage counters share the project's users, by period (`usage::layout`).
    #[serde(default)]
    pub counter_layout: crate::usage::layout::CounterLayout,
    /// How far `X-User-Plan` is trusted.
    #[serde(default)]
    pub plan_header: PlanHeader,
    /// D1 may hold counts no usage counter holds for periods that started before this (the
    /// project counted before the counters existed, migration 0018); `None` for every project
    /// created since. A cached copy from before the field existed may: it reads as "always".
    #[serde(default = "usage_in_d1_unknown")]
    pub usage_in_d1_before: Option<crate::period::Timestamp>,
    /// The most units one cart may hold (`PUT /project-settings`); `None`: the platform's bound.
    #[serde(default)]
    pub max_cart_units: Option<u32>,
    /// Stripe Tax on the project's checkouts, and its prices' tax behaviour.
    #[serde(default)]
    pub tax: tax::TaxSettings,
    /// What its prices and figures are in.
    #[serde(default)]
    pub currency: crate::money::Currency,
}

fn usage_in_d1_unknown() -> Option<crate::period::Timestamp> {
    Some(crate::period::Timestamp(i64::MAX))
}

/// How far a project trusts `X-User-Plan` (migration 0017).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum PlanHeader {
    /// The developer's server vouches for the plan it names (the spec's behaviour).
    #[default]
    Trusted,
    /// The header may name the user's own plan or a cheaper one; a pricier one counts on the
    /// user's own plan.
    Capped,
}

impl PlanHeader {
    pub fn parse(text: &str) -> Option<Self> {
        match text {
            "trusted" => Some(Self::Trusted),
            "capped" => Some(Self::Capped),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Trusted => "trusted",
            Self::Capped => "capped",
        }
    }
}

impl ProjectConfig {
    pub fn tier(&self, name: &str) -> Option<&Tier> {
        self.tiers.iter().find(|t| t.name.as_str() == name)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tier_names_are_slugs() {
        for ok in ["free", "pro", "pro-annual", "tier_2", "9"] {
            assert!(TierName::parse(ok).is_ok(), "{ok}");
        }
        for bad in [
            "",
            "Pro",
            "pro plan",
            "-pro",
            "_x",
            "pro!",
            "ü",
            &"a".repeat(TIER_NAME_MAX + 1),
        ] {
            assert!(TierName::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn limit_arithmetic() {
        let hundred = UsageLimit::limited(100);
        assert_eq!(hundred.remaining(40), Some(60));
        assert_eq!(hundred.remaining(150), Some(0));
        assert_eq!(UsageLimit::UNLIMITED.remaining(7), None);
        assert_eq!(UsageLimit::UNLIMITED.as_sql(), None);
        assert_eq!(serde_json::to_string(&UsageLimit::UNLIMITED).unwrap(), "null");
        assert_eq!(
            serde_json::from_str::<UsageLimit>("250").unwrap(),
            UsageLimit::limited(250)
        );
        assert!(serde_json::from_str::<UsageLimit>("-1").is_err());
    }
}
