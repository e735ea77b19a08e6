//! The end of a trial that checkout started, as the renewal controls reach it, and the
//! `trial_will_end` notice. With a card, the first paid period is billed from `trial_end` (the
//! billing cycle anchor); without one, `trial_settings.end_behavior.missing_payment_method`
//! decides: `cancel` ends the subscription at `trial_end`, `create_invoice` bills the period
//! anyway and leaves it `past_due` with an open invoice, `pause` pauses it.

use serde_json::Value;

use super::billing::Charge;
use super::error::{StripeError, StripeResult};
use super::events::ReqInfo;
use super::renewal::record_update;
use crate::state::Db;

/// The trial of `sub_id` ends now; `charge` is what the card does when there is one.
pub fn end(db: &mut Db, sub_id: &str, charge: Charge, now: i64) -> StripeResult<Value> {
    let sub = db
        .subscriptions
        .get(sub_id)
        .cloned()
        .ok_or_else(|| StripeError::no_such("subscription", sub_id, None, None))?;
    let req = ReqInfo::none();
    let before = db.render_subscription(sub_id);
    let charge = match (&sub.default_payment_method, sub.missing_payment_method.as_str()) {
        (Some(_), _) => charge,
        // Stripe cancels at the trial's end, with no invoice.
        (None, "cancel") => {
            return db.end_subscription_at(sub_id, "cancellation_requested", &req, sub.billing_cycle_anchor, now);
        }
        // Paused, it does not cycle and creates no invoice until it is resumed.
        (None, "pause") => {
            if let Some(s) = db.subscriptions.get_mut(sub_id) {
                s.status = "paused".into();
            }
            let after = record_update(db, sub_id, &before, now)?;
            db.emit(
                &sub.scope,
                "customer.subscription.paused",
                after.clone(),
                None,
                &req,
                now,
            );
            return Ok(after);
        }
        (None, _) => Charge::NoPaymentMethod,
    };
    if let Some(s) = db.subscriptions.get_mut(sub_id) {
        s.period_index = 0;
    }
    db.drop_ended_discounts(sub_id);
    let invoice = super::billing::bill(db, sub_id, "subscription_cycle", charge, &req, now)?;
    let paid = db.invoices.get(&invoice).is_some_and(|i| i.status == "paid");
    if let Some(s) = db.subscriptions.get_mut(sub_id) {
        s.status = if paid { "active" } else { "past_due" }.into();
    }
    record_update(db, sub_id, &before, now)
}

/// The trial-will-end control: `customer.subscription.trial_will_end`, which Stripe sends
/// three days before a trial ends.
pub fn will_end(db: &mut Db, sub_id: &str, now: i64) -> StripeResult<Value> {
    let sub = db
        .subscriptions
        .get(sub_id)
        .ok_or_else(|| StripeError::no_such("subscription", sub_id, None, None))?;
    if sub.status != "trialing" {
        return Err(StripeError::invalid(format!(
            "The subscription {sub_id} is not trialing (status \"{}\").",
            sub.status
        )));
    }
    let scope = sub.scope.clone();
    let rendered = sub.render(db);
    db.emit(
        &scope,
        "customer.subscription.trial_will_end",
        rendered.clone(),
        None,
        &ReqInfo::none(),
        now,
    );
    Ok(rendered)
}
