//! End users' subscriptions: copies of Stripe's current state, written when a Connect webhook
//! event (or our own plan change) makes us read it, and read by metering, checkout and metrics.

use serde::Deserialize;

use super::{
    ProjectScope, SqlParam, Statement,
    platforms::RECORD_EVENT,
    webhooks::{Emit, push_event, queued},
};
use dream_core::{error::ApiResult, period::Timestamp, stripe::objects::SubscriptionState, webhooks::Event};

/// The statuses that keep a subscriber on their tier (see `dream_core::stripe::objects::is_paying`).
macro_rules! entitled {
    () => {
        "status IN ('active', 'trialing', 'past_due')"
    };
}

/// The hot path's one read for a user without a plan header: the newest subscription that
/// still entitles them (with its period), else the plan their customer record was created with.
/// ?1 publishableKey, ?2 userId.
pub const SELECT_ENTITLEMENT: &str = concat!(
    "SELECT plan, currentPeriodStart, currentPeriodEnd, stripeCustomerId, meteredMeters, status, trialEnd, cancelAtPeriodEnd FROM (\n",
    "  SELECT plan, currentPeriodStart, currentPeriodEnd, stripeCustomerId, meteredMeters, status, trialEnd, cancelAtPeriodEnd,\n",
    "    0 AS rank FROM subscriptions\n",
    "  WHERE publishableKey = ?1 AND userId = ?2 AND ",
    entitled!(),
    "\n  UNION ALL\n",
    "  SELECT plan, NULL, NULL, NULL, NULL, NULL, NULL, 0, 1 FROM customers WHERE publishableKey = ?1 AND userId = ?2 AND plan IS NOT NULL\n",
    ") ORDER BY rank, currentPeriodEnd DESC LIMIT 1"
);

/// The user's subscription that entitles them now, if any. ?1 publishableKey, ?2 userId.
pub const SELECT_ENTITLED_SUBSCRIPTION: &str = concat!(
    "SELECT subscriptionId, plan, status, syncedAtMs FROM subscriptions WHERE publishableKey = ?1 AND userId = ?2 AND ",
    entitled!(),
    " ORDER BY currentPeriodEnd DESC LIMIT 1"
);

/// How many of the user's subscriptions had a trial. ?1 publishableKey, ?2 userId.
pub const SELECT_TRIALS_HAD: &str =
    "SELECT COUNT(*) AS trials FROM subscriptions WHERE publishableKey = ?1 AND userId = ?2 AND trialEnd IS NOT NULL";

pub const SELECT_SUBSCRIPTION_KNOWN: &str = "SELECT subscriptionId, plan, status, syncedAtMs FROM subscriptions WHERE publishableKey = ?1 AND subscriptionId = ?2";

/// Writes Stripe's state of a subscription unless a later read was already written: the newest
/// read wins, whatever order events arrive in. A subscription never moves between projects.
/// A trial's conversion, once seen, stays (the subscription may end later: it still converted).
/// ?1 subscriptionId … ?20 updatedAt, ?21 meteredMeters … ?24 trialConvertedAt, in the order of
/// the column list.
pub const UPSERT_SUBSCRIPTION: &str = "\
INSERT INTO subscriptions (subscriptionId, publishableKey, userId, platformId, stripeCustomerId, plan, priceId,
  productId, amount, currency, status, currentPeriodStart, currentPeriodEnd, cancelAtPeriodEnd, canceledAt,
  cancelReason, lastEventCreated, syncedAtMs, mrrCents, updatedAt, meteredMeters, trialStart, trialEnd, trialConvertedAt)
VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18, ?19, ?20, ?21, ?22, ?23, ?24)
ON CONFLICT (subscriptionId) DO UPDATE SET
  stripeCustomerId = excluded.stripeCustomerId, plan = excluded.plan, priceId = excluded.priceId,
  productId = excluded.productId, amount = excluded.amount, currency = excluded.currency, status = excluded.status,
  currentPeriodStart = excluded.currentPeriodStart, currentPeriodEnd = excluded.currentPeriodEnd,
  cancelAtPeriodEnd = excluded.cancelAtPeriodEnd, canceledAt = excluded.canceledAt,
  cancelReason = excluded.cancelReason, lastEventCreated = MAX(lastEventCreated, excluded.lastEventCreated),
  syncedAtMs = excluded.syncedAtMs, mrrCents = excluded.mrrCents, updatedAt = excluded.updatedAt,
  meteredMeters = excluded.meteredMeters, trialStart = excluded.trialStart, trialEnd = excluded.trialEnd,
  trialConvertedAt = COALESCE(subscriptions.trialConvertedAt, excluded.trialConvertedAt)
WHERE subscriptions.publishableKey = excluded.publishableKey AND subscriptions.syncedAtMs < excluded.syncedAtMs";

/// Once no subscription entitles the user any more, the plan given at creation no longer
/// applies either: an ended subscription means free. ?1 publishableKey, ?2 userId, ?3 now.
pub const CLEAR_LAPSED_PLAN: &str = concat!(
    "UPDATE customers SET plan = NULL, updatedAt = ?3\n",
    "WHERE publishableKey = ?1 AND userId = ?2 AND plan IS NOT NULL\n",
    "  AND EXISTS (SELECT 1 FROM subscriptions WHERE publishableKey = ?1 AND userId = ?2)\n",
    "  AND NOT EXISTS (SELECT 1 FROM subscriptions WHERE publishableKey = ?1 AND userId = ?2 AND ",
    entitled!(),
    ")"
);

pub const SELECT_SUBSCRIPTION_STATE: &str = "SELECT plan, status, currentPeriodEnd, cancelAtPeriodEnd, syncedAtMs FROM subscriptions WHERE publishableKey = ?1 AND subscriptionId = ?2";

/// What a subscription's developer webhooks compare a new state with.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct StoredSubscription {
    pub plan: String,
    pub status: String,
    pub current_period_end: Option<String>,
    pub cancel_at_period_end: i64,
    /// When the state it holds was read from Stripe: which write a change moves from.
    pub synced_at_ms: i64,
}

pub const SELECT_EVENT_SEEN: &str = "SELECT eventId FROM events WHERE eventId = ?1";

/// What entitles a user to a plan: a subscription (with its Stripe period) or the plan their
/// customer record carries (no period: they count per calendar month).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entitlement {
    pub plan: String,
    pub period: Option<(Timestamp, Timestamp)>,
    /// The subscription's Stripe customer: who is billed the plan's overage.
    pub stripe_customer: Option<String>,
    /// The Billing Meters its metered items report to: the meters whose overage it bills.
    pub metered_meters: Vec<String>,
    /// The subscription's Stripe status; `None` for a plan the customer record carries.
    pub status: Option<String>,
    pub trial_end: Option<Timestamp>,
    pub cancel_at_period_end: bool,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct EntitlementRow {
    plan: String,
    current_period_start: Option<String>,
    current_period_end: Option<String>,
    stripe_customer_id: Option<String>,
    metered_meters: Option<String>,
    status: Option<String>,
    trial_end: Option<String>,
    cancel_at_period_end: i64,
}

/// A subscription as checkout and plan changes need it.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SubscriptionRow {
    pub subscription_id: String,
    pub plan: String,
    pub status: String,
    /// When the Stripe state this row holds was read: it moves with every change written.
    pub synced_at_ms: i64,
}

/// A subscription's state to write, with who it belongs to.
pub struct SubscriptionSync<'a> {
    pub state: &'a SubscriptionState,
    pub user_id: &'a str,
    pub plan: &'a str,
    /// When the state was read from Stripe (ms): the newest read wins.
    pub read_at_ms: i64,
    /// The event that made us read it, recorded in the same transaction.
    pub event: Option<EventRecord<'a>>,
}

pub struct EventRecord<'a> {
    pub id: &'a str,
    pub kind: &'a str,
    pub created: i64,
    pub payload: &'a str,
}

fn rfc3339(secs: Option<i64>) -> SqlParam {
    secs.map(|s| Timestamp(s).to_rfc3339()).into()
}

impl SubscriptionSync<'_> {
    pub fn upsert_params(&self, project: &super::Project, now: Timestamp) -> Vec<SqlParam> {
        let s = self.state;
        let (start, end) = s.period.unzip();
        vec![
            s.id.as_str().into(),
            project.publishable_key.as_str().into(),
            self.user_id.into(),
            project.platform_id.as_str().into(),
            s.customer.as_str().into(),
            self.plan.into(),
            s.price_id.as_deref().into(),
            s.product_id.as_deref().into(),
            s.amount.max(0).into(),
            s.currency.as_str().into(),
            s.status.as_str().into(),
            rfc3339(start),
            rfc3339(end),
            i64::from(s.cancel_at_period_end).into(),
            rfc3339(s.canceled_at),
            s.cancel_reason.as_deref().into(),
            self.event.as_ref().map_or(0, |e| e.created).into(),
            self.read_at_ms.into(),
            s.monthly_amount.max(0).into(),
            now.to_rfc3339().into(),
            (!s.metered_meters.is_empty())
                .then(|| serde_json::to_string(&s.metered_meters).unwrap_or_default())
                .into(),
            rfc3339(s.trial_start),
            rfc3339(s.trial_end),
            // Active with a trial on record: the trial ended and Stripe was paid (an unpaid one
            // is past_due, a card-less one canceled).
            (s.status == "active" && s.trial_end.is_some())
                .then(|| now.to_rfc3339())
                .into(),
        ]
    }
}

impl ProjectScope {
    /// The statement that records a connected account's event for this project; it goes in the
    /// same batch as the event's effect, so a replay finds it and a failure leaves neither.
    pub(super) fn record_connect_event(&self, event: &EventRecord<'_>, now: Timestamp) -> Statement {
        (
            RECORD_EVENT,
            vec![
                event.id.into(),
                "stripe_connect".into(),
                event.kind.into(),
                self.project.platform_id.as_str().into(),
                self.pk(),
                event.payload.into(),
                now.to_rfc3339().into(),
            ],
        )
    }

    /// See `SELECT_ENTITLEMENT`.
    pub async fn entitlement(&self, user_id: &str) -> ApiResult<Option<Entitlement>> {
        let row: Option<EntitlementRow> = self.db.first(SELECT_ENTITLEMENT, &[self.pk(), user_id.into()]).await?;
        Ok(row.map(|r| {
            let parse = |t: Option<String>| t.as_deref().and_then(Timestamp::parse_rfc3339);
            let period = parse(r.current_period_start).zip(parse(r.current_period_end));
            Entitlement {
                plan: r.plan,
                period,
                stripe_customer: r.stripe_customer_id,
                metered_meters: r
                    .metered_meters
                    .as_deref()
                    .and_then(|json| serde_json::from_str(json).ok())
                    .unwrap_or_default(),
                status: r.status,
                trial_end: parse(r.trial_end),
                cancel_at_period_end: r.cancel_at_period_end != 0,
            }
        }))
    }

    /// Whether any subscription of the user in this project ever had a trial: one per user.
    pub async fn had_trial(&self, user_id: &str) -> ApiResult<bool> {
        #[derive(Deserialize)]
        struct Row {
            trials: i64,
        }
        let row: Option<Row> = self.db.first(SELECT_TRIALS_HAD, &[self.pk(), user_id.into()]).await?;
        Ok(row.is_some_and(|r| r.trials > 0))
    }

    pub async fn entitled_subscription(&self, user_id: &str) -> ApiResult<Option<SubscriptionRow>> {
        self.db
            .first(SELECT_ENTITLED_SUBSCRIPTION, &[self.pk(), user_id.into()])
            .await
    }

    /// A subscription of this project we have already recorded.
    pub async fn known_subscription(&self, subscription_id: &str) -> ApiResult<Option<SubscriptionRow>> {
        self.db
            .first(SELECT_SUBSCRIPTION_KNOWN, &[self.pk(), subscription_id.into()])
            .await
    }

    /// Records the event (if any) and writes the state in one transaction; clears a lapsed
    /// plan when the state no longer entitles the user. Returns whether the event was new.
    ///
    /// The developer webhooks of the change go in the same batch, right after the write, and are
    /// recorded only if it applied (a read older than the one stored writes nothing, and tells
    /// nothing). Returns whether the Stripe event was new and whether a delivery is due.
    pub async fn sync_subscription(
        &self,
        sync: &SubscriptionSync<'_>,
        webhook: Option<&Event>,
        now: Timestamp,
    ) -> ApiResult<(bool, bool)> {
        let now_text = SqlParam::from(now.to_rfc3339());
        let mut statements = Vec::with_capacity(6);
        if let Some(event) = &sync.event {
            statements.push(self.record_connect_event(event, now));
        }
        statements.push((UPSERT_SUBSCRIPTION, sync.upsert_params(&self.project, now)));
        // Right after the write: `changes()` is the upsert's.
        let queues: Vec<usize> = webhook
            .map(|event| push_event(&mut statements, event, Emit::IfChanged, now))
            .into_iter()
            .collect();
        statements.push((CLEAR_LAPSED_PLAN, vec![self.pk(), sync.user_id.into(), now_text]));
        let results = self.db.batch(&statements).await?;
        let recorded = sync.event.is_none() || results.first().map_or(0, super::Executed::changes) > 0;
        Ok((recorded, queued(&results, &queues)))
    }

    /// The state of a subscription as we last wrote it (what its next change is told against).
    pub async fn stored_subscription(&self, subscription_id: &str) -> ApiResult<Option<StoredSubscription>> {
        self.db
            .first(SELECT_SUBSCRIPTION_STATE, &[self.pk(), subscription_id.into()])
            .await
    }
}

impl super::Database {
    /// Whether a webhook event was already applied (a cheap answer to Stripe's retries).
    pub(crate) async fn event_seen(&self, event_id: &str) -> ApiResult<bool> {
        #[derive(Deserialize)]
        #[serde(rename_all = "camelCase")]
        struct Row {
            #[allow(dead_code)]
            event_id: String,
        }
        let row: Option<Row> = self.first(SELECT_EVENT_SEEN, &[event_id.into()]).await?;
        Ok(row.is_some())
    }
}
