//! The dashboard's figures of one project, each read with one statement over indexed columns.

use dream_core::api::figures::{MonthUsage, SaasSummary, TierShare};
use serde::Deserialize;

use super::ProjectScope;
use dream_core::{error::ApiResult, period::Timestamp};

/// SaaS figures. Entitled subscriptions count as active (past_due included: the subscriber
/// keeps access while Stripe retries); MRR leaves out trials, which pay nothing yet. Usage this
/// period is what is counted in windows still open (a renewal Stripe made a moment before our
/// clock opens the next window early). ?1 publishableKey, ?2 now.
pub const SELECT_SAAS_SUMMARY: &str = "\
SELECT
  (SELECT COUNT(*) FROM subscriptions WHERE publishableKey = ?1 AND status IN ('active', 'trialing', 'past_due')) AS activeSubscriptions,
  (SELECT COUNT(*) FROM subscriptions WHERE publishableKey = ?1 AND status IN ('active', 'trialing', 'past_due')
     AND cancelAtPeriodEnd = 1) AS canceling,
  (SELECT COUNT(*) FROM subscriptions WHERE publishableKey = ?1 AND status = 'past_due') AS pastDue,
  (SELECT COALESCE(SUM(mrrCents), 0) FROM subscriptions WHERE publishableKey = ?1 AND status IN ('active', 'past_due')) AS mrrCents,
  (SELECT COALESCE(SUM(usageCount), 0) FROM usage_counts WHERE publishableKey = ?1 AND periodEnd > ?2) AS usageThisPeriod,
  (SELECT COUNT(*) FROM customers WHERE publishableKey = ?1) AS customers";

/// The newest customers with their subscription (the entitling one, else the latest) and their
/// usage in their latest open window. ?1 publishableKey, ?2 now, ?3 limit.
pub const SELECT_CUSTOMER_LIST: &str = "\
SELECT c.userId, c.email, c.createdAt, COALESCE(s.plan, c.plan) AS plan, s.status, s.cancelAtPeriodEnd,
  s.currentPeriodEnd,
  COALESCE((SELECT u.usageCount FROM usage_counts u
            WHERE u.publishableKey = c.publishableKey AND u.userId = c.userId AND u.periodEnd > ?2
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
FROM usage_counts WHERE publishableKey = ?1 AND periodStart >= ?2 GROUP BY month";

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
        }))
    }

    /// Months with usage since `from` (months without any are absent).
    pub async fn usage_by_month(&self, from: Timestamp) -> ApiResult<Vec<MonthUsage>> {
        self.db
            .all(SELECT_USAGE_BY_MONTH, &[self.pk(), from.to_rfc3339().into()])
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
