//! End users' subscriptions, as far as metering needs them: the plan and its current period.

use serde::Deserialize;

use super::ProjectScope;
use crate::{error::ApiResult, period::Timestamp};

/// The newest subscription that still entitles the user to its plan. `past_due` keeps the plan
/// while Stripe retries the payment, as Stripe itself does.
pub const SELECT_ACTIVE_SUBSCRIPTION: &str = "\
SELECT plan, currentPeriodStart, currentPeriodEnd FROM subscriptions
WHERE publishableKey = ?1 AND userId = ?2 AND status IN ('active', 'trialing', 'past_due')
ORDER BY currentPeriodEnd DESC LIMIT 1";

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ActiveSubscription {
    pub plan: String,
    pub period: Option<(Timestamp, Timestamp)>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Row {
    plan: String,
    current_period_start: Option<String>,
    current_period_end: Option<String>,
}

impl ProjectScope {
    pub async fn active_subscription(&self, user_id: &str) -> ApiResult<Option<ActiveSubscription>> {
        let row: Option<Row> = self
            .db
            .first(SELECT_ACTIVE_SUBSCRIPTION, &[self.pk(), user_id.into()])
            .await?;
        Ok(row.map(|r| {
            let parse = |t: Option<String>| t.as_deref().and_then(Timestamp::parse_rfc3339);
            let period = parse(r.current_period_start).zip(parse(r.current_period_end));
            ActiveSubscription { plan: r.plan, period }
        }))
    }
}
