//! The developer webhook a subscription's change produces (one at most): `subscription.created`,
//! `.updated`, `.past_due` or `.canceled`, from the difference between the state we had and the state
//! Stripe reports. Each event is deduplicated by the change it reports (the subscription, the
//! write it moved from and the state it moved to), because Stripe sends several events for one
//! change, often at once, and each makes us write the same state: the same change is then one
//! event however many handlers see it, while a later return to an earlier state (cancel, resume,
//! cancel again) is a change of its own.

use crate::{
    storage::{
        ProjectScope,
        subscriptions::{StoredSubscription, SubscriptionSync},
    },
    webhooks::Senders,
};
use dream_core::{
    error::ApiResult,
    keys::PublishableKey,
    period::Timestamp,
    stripe::objects::SubscriptionState,
    webhooks::{
        Event, EventType,
        payloads::{self, SubscriptionData},
    },
};

/// The event of moving from `before` to `after` (on `plan`), if it is a change. A subscription
/// first seen already ended (its first events lost) is told as canceled.
pub fn transition_event(
    project: &PublishableKey,
    before: Option<&StoredSubscription>,
    after: (&SubscriptionState, &str, &str),
    now: Timestamp,
) -> Option<Event> {
    let (state, plan, user_id) = after;
    let (start, end) = state.period.unzip();
    let rfc = |secs: Option<i64>| secs.map(|s| Timestamp(s).to_rfc3339());
    let data = payloads::data(&SubscriptionData {
        subscription_id: state.id.clone(),
        user_id: user_id.to_owned(),
        stripe_customer_id: state.customer.clone(),
        plan: plan.to_owned(),
        previous_plan: before.map(|b| b.plan.clone()),
        status: state.status.clone(),
        previous_status: before.map(|b| b.status.clone()),
        current_period_start: rfc(start),
        current_period_end: rfc(end),
        cancel_at_period_end: state.cancel_at_period_end,
        trial_end: rfc(state.trial_end),
    });
    let period_end = rfc(end).unwrap_or_default();
    let event = |kind: EventType, parts: &[&str]| {
        let mut all = vec![state.id.as_str(), kind.as_str()];
        all.extend_from_slice(parts);
        Event::new(kind, project, now, data.clone()).deduplicated_by(&all)
    };
    let ended = matches!(state.status.as_str(), "canceled" | "incomplete_expired");
    let overdue = matches!(state.status.as_str(), "past_due" | "unpaid");
    let Some(before) = before else {
        return Some(match ended {
            true => event(EventType::SubscriptionCanceled, &[]),
            false => event(EventType::SubscriptionCreated, &[]),
        });
    };
    if before.status != state.status && ended {
        return Some(event(EventType::SubscriptionCanceled, &[]));
    }
    let from = before.synced_at_ms.to_string();
    if before.status != state.status && overdue && !matches!(before.status.as_str(), "past_due" | "unpaid") {
        return Some(event(EventType::SubscriptionPastDue, &[&from, &period_end]));
    }
    let cancel = if state.cancel_at_period_end { "1" } else { "0" };
    let changed = before.plan != plan
        || before.status != state.status
        || before.current_period_end.as_deref() != rfc(end).as_deref()
        || before.cancel_at_period_end != i64::from(state.cancel_at_period_end);
    changed.then(|| {
        event(
            EventType::SubscriptionUpdated,
            &[&from, plan, &state.status, &period_end, cancel],
        )
    })
}

/// Writes the state Stripe reported (`SubscriptionSync`) with the events of the change, and
/// nudges the project's sender if any delivery is due. Returns whether the Stripe event (if
/// any) was new.
pub async fn sync_and_notify(
    scope: &ProjectScope,
    sync: &SubscriptionSync<'_>,
    senders: &Senders,
    now: Timestamp,
) -> ApiResult<bool> {
    let before = scope.stored_subscription(&sync.state.id).await?;
    let event = transition_event(
        &scope.project().publishable_key,
        before.as_ref(),
        (sync.state, sync.plan, sync.user_id),
        now,
    );
    let (recorded, queued) = scope.sync_subscription(sync, event.as_ref(), now).await?;
    if queued {
        senders.nudge(scope.project().publishable_key.as_str()).await;
    }
    Ok(recorded)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::{Value, json};

    fn state(status: &str, end: i64, cancel: bool) -> SubscriptionState {
        SubscriptionState::parse(&json!({"id": "sub_1", "object": "subscription", "customer": "cus_1",
            "status": status, "cancel_at_period_end": cancel, "metadata": {},
            "current_period_start": end - 100, "current_period_end": end,
            "items": {"data": [{"price": {"id": "price_1", "product": "prod_1", "unit_amount": 1}}]}}))
        .unwrap()
    }

    fn stored(plan: &str, status: &str, end: i64, cancel: bool) -> StoredSubscription {
        StoredSubscription {
            plan: plan.into(),
            status: status.into(),
            current_period_end: Some(Timestamp(end).to_rfc3339()),
            cancel_at_period_end: i64::from(cancel),
            synced_at_ms: end,
        }
    }

    fn kinds(before: Option<&StoredSubscription>, after: &SubscriptionState, plan: &str) -> Vec<&'static str> {
        let pk = PublishableKey::parse("pk_test_0123456789abcdef0123456789abcdef").unwrap();
        transition_event(&pk, before, (after, plan, "u1"), Timestamp(1))
            .iter()
            .map(|e| e.kind.as_str())
            .collect()
    }

    #[test]
    fn each_change_is_its_event() {
        let active = stored("pro", "active", 1000, false);
        assert_eq!(
            kinds(None, &state("active", 1000, false), "pro"),
            ["subscription.created"]
        );
        assert_eq!(
            kinds(Some(&active), &state("active", 1000, false), "pro"),
            Vec::<&str>::new()
        );
        assert_eq!(
            kinds(Some(&active), &state("active", 2000, false), "pro"),
            ["subscription.updated"]
        );
        assert_eq!(
            kinds(Some(&active), &state("active", 1000, true), "pro"),
            ["subscription.updated"]
        );
        assert_eq!(
            kinds(Some(&active), &state("active", 1000, false), "team"),
            ["subscription.updated"]
        );
        assert_eq!(
            kinds(Some(&active), &state("past_due", 1000, false), "pro"),
            ["subscription.past_due"]
        );
        let overdue = stored("pro", "past_due", 1000, false);
        assert_eq!(
            kinds(Some(&overdue), &state("unpaid", 1000, false), "pro"),
            ["subscription.updated"]
        );
        assert_eq!(
            kinds(Some(&overdue), &state("canceled", 1000, false), "pro"),
            ["subscription.canceled"]
        );
        assert_eq!(
            kinds(Some(&overdue), &state("active", 2000, false), "pro"),
            ["subscription.updated"]
        );
    }

    #[test]
    fn the_same_change_seen_twice_is_one_event() {
        let pk = PublishableKey::parse("pk_test_0123456789abcdef0123456789abcdef").unwrap();
        let after = state("active", 2000, false);
        let before = stored("pro", "active", 1000, false);
        let a = transition_event(&pk, Some(&before), (&after, "pro", "u1"), Timestamp(1)).unwrap();
        let b = transition_event(&pk, Some(&before), (&after, "pro", "u1"), Timestamp(9)).unwrap();
        assert_eq!(a.dedup_key, b.dedup_key);
        let later = state("active", 3000, false);
        let renewed_again = transition_event(&pk, Some(&before), (&later, "pro", "u1"), Timestamp(1)).unwrap();
        assert_ne!(a.dedup_key, renewed_again.dedup_key);
        // Back to a state it had before (cancel, resume, cancel again): a change of its own.
        let canceling = state("active", 2000, true);
        let first = transition_event(&pk, Some(&before), (&canceling, "pro", "u1"), Timestamp(1)).unwrap();
        let resumed = StoredSubscription {
            synced_at_ms: 5000,
            ..stored("pro", "active", 2000, false)
        };
        let again = transition_event(&pk, Some(&resumed), (&canceling, "pro", "u1"), Timestamp(1)).unwrap();
        assert_ne!(first.dedup_key, again.dedup_key);
        let data: &Value = &a.data;
        assert_eq!(data["previousStatus"], "active");
        assert_eq!(data["currentPeriodEnd"], Timestamp(2000).to_rfc3339());
    }
}
