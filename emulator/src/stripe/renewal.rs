//! The renewal controls: a subscription's next period paid or declined (built on
//! `billing.rs`), the end of a trial (`trials.rs`), and moving the billing anchor into the past.

use serde_json::Value;

use super::billing::{Charge, bill, retry_open_invoice};
use super::error::{StripeError, StripeResult};
use super::events::{ReqInfo, diff};
use super::trials;
use crate::state::Db;

/// A subscription the renewal controls cannot move on: canceled, or paused (which does not
/// cycle until it is resumed).
fn refuse_stopped(sub: &super::subscriptions::Subscription) -> StripeResult<()> {
    match sub.status.as_str() {
        "canceled" => Err(StripeError::invalid(format!(
            "The subscription {} is canceled; it has no next period.",
            sub.id
        ))),
        "paused" => Err(StripeError::invalid(format!(
            "The subscription {} is paused: it does not renew until it is resumed (dream-emulator does not emulate resuming).",
            sub.id
        ))),
        _ => Ok(()),
    }
}

/// The next period starts and is billed with `charge`; the subscription is `active` if its
/// invoice was paid (a $0 invoice always is), else `past_due`.
fn next_period(db: &mut Db, sub_id: &str, charge: Charge, now: i64) -> StripeResult<()> {
    if let Some(s) = db.subscriptions.get_mut(sub_id) {
        s.period_index += 1;
    }
    db.drop_ended_discounts(sub_id);
    let invoice = bill(db, sub_id, "subscription_cycle", charge, &ReqInfo::none(), now)?;
    let paid = db.invoices.get(&invoice).is_some_and(|i| i.status == "paid");
    if let Some(s) = db.subscriptions.get_mut(sub_id) {
        s.status = if paid { "active" } else { "past_due" }.into();
    }
    Ok(())
}

/// The renewal control. An active subscription moves to its next period and pays for it;
/// a `past_due` one pays its open invoice and is active again; one set to cancel at period
/// end ends instead, as it would when its period runs out; a trialing one reaches the end of
/// its trial (`trials.rs`).
pub fn advance(db: &mut Db, sub_id: &str, now: i64) -> StripeResult<Value> {
    let sub = db
        .subscriptions
        .get(sub_id)
        .cloned()
        .ok_or_else(|| StripeError::no_such("subscription", sub_id, None, None))?;
    let req = ReqInfo::none();
    refuse_stopped(&sub)?;
    if sub.cancel_at_period_end {
        return db.end_subscription(sub_id, "cancellation_requested", &req, now);
    }
    if sub.status == "trialing" {
        return trials::end(db, sub_id, Charge::Succeeds, now);
    }
    let before = db.render_subscription(sub_id);
    if sub.status == "past_due" && retry_open_invoice(db, sub_id, Charge::Succeeds, now)?.is_some() {
        if let Some(s) = db.subscriptions.get_mut(sub_id) {
            s.status = "active".into();
        }
    } else {
        next_period(db, sub_id, Charge::Succeeds, now)?;
    }
    record_update(db, sub_id, &before, now)
}

/// The backdate control: the subscription's periods count from `anchor`, a time in the past
/// (Stripe's test clocks may be frozen there), so its current period can have ended already
/// while its renewal has not come: how Stripe looks for the hour or so before it renews, or
/// for days when its renewal webhook is held up.
pub fn backdate(db: &mut Db, sub_id: &str, anchor: i64, now: i64) -> StripeResult<Value> {
    let sub = db
        .subscriptions
        .get(sub_id)
        .ok_or_else(|| StripeError::no_such("subscription", sub_id, None, None))?;
    if sub.status == "canceled" {
        return Err(StripeError::invalid(format!("The subscription {sub_id} is canceled.")));
    }
    // The anchor is where a trial ends: moving it would rewrite the trial.
    if sub.in_trial() {
        return Err(StripeError::invalid(format!(
            "The subscription {sub_id} is in its trial; backdate it after the trial has ended."
        )));
    }
    if anchor >= now {
        return Err(StripeError::invalid("billingCycleAnchor must be in the past"));
    }
    let before = db.render_subscription(sub_id);
    if let Some(s) = db.subscriptions.get_mut(sub_id) {
        s.billing_cycle_anchor = anchor;
    }
    record_update(db, sub_id, &before, now)
}

/// The failed-renewal control: the next period starts unpaid and the subscription is
/// `past_due`; on one already `past_due`, the open invoice fails once more; a trialing one
/// reaches the end of its trial with its card declined.
pub fn fail_renewal(db: &mut Db, sub_id: &str, now: i64) -> StripeResult<Value> {
    let sub = db
        .subscriptions
        .get(sub_id)
        .cloned()
        .ok_or_else(|| StripeError::no_such("subscription", sub_id, None, None))?;
    refuse_stopped(&sub)?;
    if sub.status == "trialing" {
        return trials::end(db, sub_id, Charge::Declines, now);
    }
    let before = db.render_subscription(sub_id);
    if sub.status == "past_due" && retry_open_invoice(db, sub_id, Charge::Declines, now)?.is_some() {
        return Ok(before);
    }
    next_period(db, sub_id, Charge::Declines, now)?;
    record_update(db, sub_id, &before, now)
}

pub fn record_update(db: &mut Db, sub_id: &str, before: &Value, now: i64) -> StripeResult<Value> {
    let after = db.render_subscription(sub_id);
    if let (Some(previous), Some(scope)) = (
        diff(before, &after),
        db.subscriptions.get(sub_id).map(|s| s.scope.clone()),
    ) {
        db.emit(
            &scope,
            "customer.subscription.updated",
            after.clone(),
            Some(previous),
            &ReqInfo::none(),
            now,
        );
    }
    Ok(after)
}
