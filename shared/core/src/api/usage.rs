//! Usage: what `POST /api/data` and `GET /api/usage` answer, and the operators' counter changes.

use serde::{Deserialize, Serialize};

use crate::{
    error::{ApiError, ApiResult},
    keys::PublishableKey,
    money::Cents,
    period::{BillingPeriod, Timestamp},
    tiers::{
        Tier, UsageLimit,
        meters::{Amount, MAX_QUANTITY, Meter, MeterKey},
    },
    usage::layout::{CounterLayout, LayoutChange},
};

/// `POST /api/data`'s optional body: a quantity of one of the tier's meters. No body counts
/// one `requests`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct TrackRequest {
    /// The meter (default `requests`).
    #[serde(default)]
    pub meter: Option<MeterKey>,
    /// A positive whole number of units, at most 1,000,000,000 (default 1).
    #[serde(default)]
    pub quantity: Option<u64>,
}

impl TrackRequest {
    pub fn meter(&self) -> MeterKey {
        self.meter.clone().unwrap_or_else(MeterKey::requests)
    }

    pub fn quantity(&self) -> ApiResult<u64> {
        match self.quantity {
            None => Ok(1),
            Some(q) if (1..=MAX_QUANTITY).contains(&q) => Ok(q),
            Some(_) => Err(ApiError::invalid_request(format!(
                "quantity must be a whole number from 1 to {MAX_QUANTITY}"
            ))),
        }
    }
}

/// `usage` in responses: one meter of the user's tier. The spec's `count`, `limit` (the
/// included amount), `plan`, plus what a client needs to plan and bill.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct UsageReport {
    pub count: u64,
    /// Units included in the period (`null`: unlimited).
    pub limit: UsageLimit,
    pub plan: String,
    /// Included units left.
    pub remaining: Option<u64>,
    pub period_start: String,
    pub period_end: String,
    pub meter: String,
    /// Whether use past `limit` is billed as overage (`false`: refused at `limit`).
    pub overage_billed: bool,
    /// Units counted past `limit`.
    pub overage: u64,
    /// What the overage costs so far, in dollars (exact decimal).
    pub overage_cost: Amount,
    /// The tier's spend cap on overage per period, in dollars (`null`: none, or not billed).
    pub spend_cap: Option<Cents>,
    /// What is left of the cap after the overage of all the user's meters, in dollars.
    pub spend_cap_left: Option<Amount>,
}

impl UsageReport {
    /// `billed`: whether this user's overage on the meter is billed; `spent`: what the user's
    /// billed meters cost this period (with a spend cap).
    pub fn new(
        count: u64,
        tier: &Tier,
        meter: &Meter,
        period: &BillingPeriod,
        billed: bool,
        spent: Option<Amount>,
    ) -> Self {
        let billed = billed && meter.overage.is_some();
        let spend_cap = tier.spend_cap.filter(|_| billed);
        Self {
            count,
            limit: meter.included,
            plan: tier.name.to_string(),
            remaining: meter.included.remaining(count),
            period_start: period.start.to_rfc3339(),
            period_end: period.end.to_rfc3339(),
            meter: meter.key.to_string(),
            overage_billed: billed,
            overage: if billed { meter.overage_units(count) } else { 0 },
            overage_cost: if billed { meter.overage_cost(count) } else { Amount(0) },
            spend_cap,
            spend_cap_left: spend_cap
                .map(|cap| Amount(Amount::of_cents(cap).0.saturating_sub(spent.unwrap_or_default().0))),
        }
    }
}

/// `GET /api/usage`: the `requests` meter as `usage` (the original shape), and every meter of
/// the user's tier.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct UsageOverview {
    pub success: bool,
    pub usage: UsageReport,
    pub meters: Vec<UsageReport>,
}

/// `PUT /operator/usage-counters`.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct UsageCountersRequest {
    /// The project and mode (`pk_test_…` or `pk_live_…`).
    pub publishable_key: String,
    /// Counters to share the project's users among, 1 to 64.
    pub shards: u32,
    /// Apply to every period, including running ones: only for a project that has counted
    /// nothing yet (409 otherwise). Without it, the change applies to periods that start from
    /// `CHANGE_DELAY_SECS` from now.
    #[serde(default)]
    pub immediately: bool,
}

impl UsageCountersRequest {
    /// Parsed only once the caller is known to be an operator.
    pub fn parse(body: &[u8]) -> ApiResult<Self> {
        crate::input::parse_json(body)
    }
}

#[derive(Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct UsageCounters {
    pub publishable_key: String,
    /// Counters the periods starting now are split among.
    pub shards_now: u32,
    /// Every change in force, oldest first: periods starting at or after `fromSecs` use `shards`.
    pub layout: Vec<LayoutChange>,
}

impl UsageCounters {
    pub fn of(publishable_key: &PublishableKey, layout: &CounterLayout, now: Timestamp) -> Self {
        Self {
            publishable_key: publishable_key.as_str().to_owned(),
            shards_now: layout.shards_for(now),
            layout: layout.changes().to_vec(),
        }
    }
}
