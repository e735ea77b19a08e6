//! The dashboard's figures of one project, each read with one statement over indexed columns.

use dream_core::api::figures::{MonthUsage, SaasSummary, TierShare};
use serde::Deserialize;

use super::ProjectScope;
use dream_core::{error::ApiResult, period::Timestamp};

/// SaaS figures. Entitled subscriptions count as active (past_due included: the subscriber
/// keeps access while Stripe retries); MRR leaves out trials, which pay nothing yet. A trial
/// has ended once its end passed or the subscription left `trialing` (canceled during it, or
/// converted early); it converted if the subscription was ever seen active after it. Usage this
/// period is what is counted in windows still open (a renewal Stripe made a moment before our
/// clock opens the next window early). ?1 publishableKey, ?2 now.
pub const SELECT_SAAS_SUMMARY: &str = "\
SELECT
  (SELECT COUNT(*) FROM subscriptions WHERE publishableKey = ?1 AND status IN ('active', 'trialing', 'past_due')) AS activeSubscriptions,
  (SELECT COUNT(*) FROM subscriptions WHERE publishableKey = ?1 AND status IN ('active', 'trialing', 'past_due')
     AND cancelAtPeriodEnd = 1) AS canceling,
  (SELECT COUNT(*) FROM subscriptions WHERE publishableKey = ?1 AND status = 'past_due') AS pastDue,
  (SELECT COALESCE(SUM(mrrCents), 0) FROM subscriptions WHERE publishableKey = ?1 AND status IN ('active', 'past_due')) AS mrrCents,
  (SELECT COALESCE(SUM(usageCount), 0) FROM usage_counts WHERE publishableKey = ?1 AND periodEnd > ?2 AND meter = 'requests') AS usageThisPeriod,
  (SELECT COUNT(*) FROM customers WHERE publishableKey = ?1) AS customers,
  (SELECT COUNT(*) FROM subscriptions WHERE publishableKey = ?1 AND status = 'trialing') AS trialing,
  (SELECT COUNT(*) FROM subscriptions WHERE publishableKey = ?1 AND trialEnd IS NOT NULL
     AND (trialEnd <= ?2 OR status <> 'trialing')) AS trialsEnded,
  (SELECT COUNT(*) FROM subscriptions WHERE publishableKey = ?1 AND trialEnd IS NOT NULL
     AND trialConvertedAt IS NOT NULL) AS trialsConverted";

/// The newest customers with their subscription (the entitling one, else the latest) and their
/// usage in their latest open window. ?1 publishableKey, ?2 now, ?3 limit.
pub const SELECT_CUSTOMER_LIST: &str = "\
SELECT c.userId, c.email, c.createdAt, COALESCE(s.plan, c.plan) AS plan, s.status, s.cancelAtPeriodEnd,
  s.currentPeriodEnd,
  COALESCE((SELECT u.usageCount FROM usage_counts u
            WHERE u.publishableKey = c.publishableKey AND u.userId = c.userId AND u.periodEnd > ?2 AND u.meter = 'requests'
            ORDER BY u.periodStart DESC LIMIT 1), 0) AS usage
FROM customers c
LEFT JOIN subscriptions s ON s.subscriptionId = (
  SELECT x.subscriptionId FROM subscriptions x WHERE x.publishableKey = c.publishableKey AND x.userId = c.userId
  ORDER BY x.status IN ('active', 'trialing', 'past_due') DESC, x.currentPeriodEnd DESC LIMIT 1)
WHERE c.publishableKey = ?1
ORDER BY c.createdAt DESC, c.userId LIMIT ?3";

/// Requests counted per calendar month of their window's start, from ?2 on (a subscriber's
/// window belongs to the month it opened in). ?1 publishableKey.
pub const SELECT_USAGE_BY_MONTH: &str = "\
SELECT substr(periodStart, 1, 7) AS month, SUM(usageCount) AS requests
FROM usage_counts WHERE publishableKey = ?1 AND periodStart >= ?2 AND meter = 'requests' GROUP BY month";

/// The billed meters' terms, for the two statements below: a JSON array of
/// `{plan, meter, included, per, priceNanos, capNanos}` (`figures::meter_terms`).
macro_rules! billed_terms {
    () => {
        "(SELECT json_extract(value, '$.plan') AS plan, json_extract(value, '$.meter') AS meter,
         json_extract(value, '$.included') AS included, json_extract(value, '$.per') AS per,
         json_extract(value, '$.priceNanos') AS priceNanos, json_extract(value, '$.capNanos') AS capNanos
         FROM json_each(?3))"
    };
}

/// Whether the row's user subscribes to the row's plan: only they are billed its overage. (The
/// unary `+` keeps SQLite on the user's index rather than every active subscription's.)
macro_rules! subscribed_to_plan {
    () => {
        "EXISTS (SELECT 1 FROM subscriptions x WHERE x.publishableKey = u.publishableKey AND x.userId = u.userId
                 AND x.plan = u.plan AND +x.status IN ('active', 'trialing', 'past_due'))"
    };
}

/// The meters besides requests in windows still open, per meter and plan: users, units, and
/// the overage units and started packages of subscribers to billed meters (terms ?3).
/// ?1 publishableKey, ?2 now.
pub const SELECT_METER_USAGE: &str = concat!(
    "SELECT u.meter AS meter, u.plan AS plan, COUNT(*) AS users, SUM(u.usageCount) AS units,\n",
    "  COALESCE(SUM(CASE WHEN t.included IS NOT NULL AND ",
    subscribed_to_plan!(),
    " THEN MAX(0, u.usageCount - t.included) END), 0) AS overageUnits,\n",
    "  COALESCE(SUM(CASE WHEN t.included IS NOT NULL AND ",
    subscribed_to_plan!(),
    " THEN (MAX(0, u.usageCount - t.included) + t.per - 1) / t.per END), 0) AS packages\n",
    "FROM usage_counts u LEFT JOIN ",
    billed_terms!(),
    " t ON t.plan = u.plan AND t.meter = u.meter\n",
    "WHERE u.publishableKey = ?1 AND u.periodEnd > ?2 AND u.meter <> 'requests'\n",
    "GROUP BY u.meter, u.plan ORDER BY u.meter, u.plan"
);

/// Subscribers of capped tiers whose overage this period is 80 % of the cap or more, nearest
/// first. Summed as floating point: a cap added after heavy use could take an exact sum past
/// SQLite's integers, and a ranking needs no cent exactness. ?1 publishableKey, ?2 now, ?3 terms.
pub const SELECT_NEAR_CAP: &str = concat!(
    "SELECT u.userId AS userId, u.plan AS plan,\n",
    "  SUM(CAST((MAX(0, u.usageCount - t.included) + t.per - 1) / t.per AS REAL) * t.priceNanos) AS spentNanos,\n",
    "  MAX(t.capNanos) AS capNanos\n",
    "FROM usage_counts u JOIN ",
    billed_terms!(),
    " t ON t.plan = u.plan AND t.meter = u.meter AND t.capNanos IS NOT NULL\n",
    "WHERE u.publishableKey = ?1 AND u.periodEnd > ?2 AND u.meter <> 'requests' AND ",
    subscribed_to_plan!(),
    "\nGROUP BY u.userId, u.plan HAVING spentNanos * 5 >= capNanos * 4\n",
    "ORDER BY spentNanos * 1.0 / capNanos DESC, u.userId LIMIT 20"
);

/// How many customers are on each tier now: an entitling subscription's tier; free once every
/// subscription ended; the plan the customer was created with if they never subscribed (the
/// same rule as the customer list). ?1 publishableKey.
pub const SELECT_TIER_MIX: &str = "\
SELECT tier, COUNT(*) AS customers FROM (
  SELECT CASE
    WHEN s.subscriptionId IS NULL THEN COALESCE(c.plan, 'free')
    WHEN s.status IN ('active', 'trialing', 'past_due') THEN s.plan
    ELSE 'free' END AS tier
  FROM customers c
  LEFT JOIN subscriptions s ON s.subscriptionId = (
    SELECT x.subscriptionId FROM subscriptions x WHERE x.publishableKey = c.publishableKey AND x.userId = c.userId
    ORDER BY x.status IN ('active', 'trialing', 'past_due') DESC, x.currentPeriodEnd DESC LIMIT 1)
  WHERE c.publishableKey = ?1)
GROUP BY tier ORDER BY customers DESC, tier";

/// A meter's use by the users of one plan (`SELECT_METER_USAGE`).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct MeterUsageRow {
    pub meter: String,
    pub plan: String,
    pub users: i64,
    pub units: i64,
    pub overage_units: i64,
    pub packages: i64,
}

/// `SELECT_NEAR_CAP`'s rows.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct NearCapRow {
    pub user_id: String,
    pub plan: String,
    pub spent_nanos: f64,
    pub cap_nanos: i64,
}

#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CustomerListRow {
    pub user_id: String,
    pub email: Option<String>,
    pub created_at: String,
    pub plan: Option<String>,
    pub status: Option<String>,
    pub cancel_at_period_end: Option<i64>,
    pub current_period_end: Option<String>,
    pub usage: i64,
}

impl ProjectScope {
    pub async fn saas_summary(&self, now: Timestamp) -> ApiResult<SaasSummary> {
        let row: Option<SaasSummary> = self
            .db
            .first(SELECT_SAAS_SUMMARY, &[self.pk(), now.to_rfc3339().into()])
            .await?;
        Ok(row.unwrap_or(SaasSummary {
            active_subscriptions: 0,
            canceling: 0,
            past_due: 0,
            mrr_cents: 0,
            usage_this_period: 0,
            customers: 0,
            trialing: 0,
            trials_ended: 0,
            trials_converted: 0,
        }))
    }

    /// Months with usage since `from` (months without any are absent).
    pub async fn usage_by_month(&self, from: Timestamp) -> ApiResult<Vec<MonthUsage>> {
        self.db
            .all(SELECT_USAGE_BY_MONTH, &[self.pk(), from.to_rfc3339().into()])
            .await
    }

    /// See [`SELECT_METER_USAGE`]; `terms` the billed meters' JSON.
    pub async fn meter_usage(&self, now: Timestamp, terms: &str) -> ApiResult<Vec<MeterUsageRow>> {
        self.db
            .all(SELECT_METER_USAGE, &[self.pk(), now.to_rfc3339().into(), terms.into()])
            .await
    }

    /// See [`SELECT_NEAR_CAP`].
    pub async fn near_cap(&self, now: Timestamp, terms: &str) -> ApiResult<Vec<NearCapRow>> {
        self.db
            .all(SELECT_NEAR_CAP, &[self.pk(), now.to_rfc3339().into(), terms.into()])
            .await
    }

    pub async fn tier_mix(&self) -> ApiResult<Vec<TierShare>> {
        self.db.all(SELECT_TIER_MIX, &[self.pk()]).await
    }

    pub async fn customer_list(&self, now: Timestamp, limit: i64) -> ApiResult<Vec<CustomerListRow>> {
        self.db
            .all(
                SELECT_CUSTOMER_LIST,
                &[self.pk(), now.to_rfc3339().into(), limit.into()],
            )
            .await
    }
}
