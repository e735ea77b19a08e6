//! Usage: what `POST /api/data` and `GET /api/usage` answer, and the operators' counter changes.

use serde::{Deserialize, Serialize};

use crate::{
    error::{ApiError, ApiResult},
    keys::PublishableKey,
    period::{BillingPeriod, Timestamp},
    tiers::{Tier, UsageLimit},
    usage::layout::{CounterLayout, LayoutChange},
};

/// `usage` in responses: the spec's `count`, `limit`, `plan`, plus what a client needs to plan.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct UsageReport {
    pub count: u64,
    pub limit: UsageLimit,
    pub plan: String,
    pub remaining: Option<u64>,
    pub period_start: String,
    pub period_end: String,
}

impl UsageReport {
    pub fn new(count: u64, tier: &Tier, period: &BillingPeriod) -> Self {
        Self {
            count,
            limit: tier.limit,
            plan: tier.name.to_string(),
            remaining: tier.limit.remaining(count),
            period_start: period.start.to_rfc3339(),
            period_end: period.end.to_rfc3339(),
        }
    }
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
        serde_json::from_slice(body).map_err(|e| ApiError::invalid_request(format!("Invalid JSON body: {e}")))
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
