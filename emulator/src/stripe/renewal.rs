//! Billing a subscription period (the invoice and payment intent of a first payment or a
//! renewal, paid or declined, with Stripe's events), and the renewal controls built on it.
//! Licensed items are billed for the period ahead, metered ones for the usage of the period
//! that just ended.

use serde_json::Value;

use super::error::{StripeError, StripeResult};
use super::events::{ReqInfo, diff};
use super::invoices::{Invoice, InvoiceLine};
use super::meter_events::billed_usage;
use super::payment_intents::PaymentError;
use super::subscriptions::{SubItem, Subscription};
use crate::state::Db;

/// Stripe retries a failed renewal after a few days; the emulator only reports when.
const RETRY_AFTER_SECONDS: i64 = 3 * 24 * 3600;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Charge {
    Succeeds,
    Declines,
}

fn declined() -> PaymentError {
    PaymentError {
        code: "card_declined".into(),
        decline_code: Some("generic_decline".into()),
        message: "Your card was declined.".into(),
    }
}

fn snapshot(invoice: &Invoice, status: &str) -> Value {
    let mut copy = invoice.clone();
    copy.status = status.into();
    if status != "paid" {
        copy.paid_at = None;
    }
    copy.render()
}

/// Invoices the subscription's current period and charges it. Records `invoice.created`,
/// `invoice.finalized`, then `invoice.paid` + `invoice.payment_succeeded` + the charge's
/// `charge.succeeded` + `payment_intent.succeeded`, or `invoice.payment_failed` + `payment_intent.payment_failed`.
/// Sets `latest_invoice`; returns the invoice id.
pub fn bill(
    db: &mut Db,
    sub_id: &str,
    billing_reason: &str,
    charge: Charge,
    req: &ReqInfo,
    now: i64,
) -> StripeResult<String> {
    let sub = db
        .subscriptions
        .get(sub_id)
        .cloned()
        .ok_or_else(|| StripeError::no_such("subscription", sub_id, None, None))?;
    let customer = db.customers.get(&sub.customer).cloned();
    let (start, end) = sub.period();
    let at = |n| crate::time::period_boundary(sub.billing_cycle_anchor, &sub.interval, sub.interval_count, n);
    // Metered usage is billed in arrears: a renewal bills the period that just ended; a first
    // invoice has none to bill.
    let usage_period =
        (billing_reason != "subscription_create").then(|| (at(sub.period_index.saturating_sub(1)), start));
    let mut lines = Vec::new();
    for item in &sub.items {
        let line_id = db.id("il_", 24);
        lines.push(line(db, &sub, item, line_id, (start, end), usage_period));
    }
    let total: i64 = lines.iter().map(|l| l.amount).sum();
    let number = db.next_invoice_number(&sub.customer);
    let pi_description = if billing_reason == "subscription_create" {
        "Subscription creation"
    } else {
        "Subscription update"
    };
    let outcome = (charge == Charge::Declines).then(declined);
    let pi = db.create_payment_intent(
        &sub.scope,
        total,
        &sub.currency,
        Some(sub.customer.clone()),
        Some(pi_description.into()),
        Default::default(),
        None,
        outcome,
        now,
    );
    // A first invoice covers the instant the subscription starts; a renewal invoice the
    // period that just ended (its licensed lines bill the period ahead).
    let (period_start, period_end) = usage_period.unwrap_or((start, start));
    let id = db.id("in_", 24);
    let seq = db.next_seq();
    let mut invoice = Invoice {
        id: id.clone(),
        scope: sub.scope.clone(),
        seq,
        created: now,
        customer: sub.customer.clone(),
        customer_email: customer.as_ref().and_then(|c| c.email.clone()),
        customer_name: customer.as_ref().and_then(|c| c.name.clone()),
        subscription: Some(sub.id.clone()),
        subscription_metadata: sub.metadata.clone(),
        billing_reason: billing_reason.into(),
        currency: sub.currency.clone(),
        lines,
        total,
        status: "open".into(),
        attempt_count: 0,
        period_start,
        period_end,
        number,
        paid_at: None,
        next_payment_attempt: None,
        payment_intent: Some(pi.clone()),
    };
    db.emit(
        &sub.scope,
        "invoice.created",
        snapshot(&invoice, "draft"),
        None,
        &ReqInfo::none(),
        now,
    );
    db.emit(
        &sub.scope,
        "invoice.finalized",
        snapshot(&invoice, "open"),
        None,
        &ReqInfo::none(),
        now,
    );
    invoice.attempt_count = 1;
    match charge {
        Charge::Succeeds => {
            invoice.status = "paid".into();
            invoice.paid_at = Some(now);
            db.emit(&sub.scope, "invoice.paid", invoice.render(), None, req, now);
            db.emit(
                &sub.scope,
                "invoice.payment_succeeded",
                invoice.render(),
                None,
                req,
                now,
            );
            db.payment_succeeded(&pi, req, now);
        }
        Charge::Declines => {
            invoice.next_payment_attempt = Some(now + RETRY_AFTER_SECONDS);
            db.emit(&sub.scope, "invoice.payment_failed", invoice.render(), None, req, now);
            emit_payment_intent(db, &pi, "payment_intent.payment_failed", req, now);
        }
    }
    db.invoices.insert(id.clone(), invoice);
    if let Some(s) = db.subscriptions.get_mut(sub_id) {
        s.latest_invoice = Some(id.clone());
    }
    Ok(id)
}

/// One item's line: a licensed item bills its quantity for the period ahead; a metered one
/// the usage its meter recorded for the customer over `usage_period`, or, on a first invoice
/// (no usage period), nothing yet for the period ahead, as Stripe shows it.
fn line(
    db: &Db,
    sub: &Subscription,
    item: &SubItem,
    id: String,
    period: (i64, i64),
    usage_period: Option<(i64, i64)>,
) -> InvoiceLine {
    let price = db.prices.get(&item.price);
    let product = price.and_then(|p| db.products.get(&p.product));
    let name = product.map(|p| p.name.clone()).unwrap_or_default();
    let (quantity, (period_start, period_end)) = match (price.and_then(|p| p.meter()), usage_period) {
        (None, _) => (item.quantity.unwrap_or(1), period),
        (Some(_), None) => (0, period),
        (Some(meter), Some((from, to))) => (billed_usage(db, meter, &sub.customer, from, to), (from, to)),
    };
    let unit = price.map(|p| p.unit_label()).unwrap_or_default();
    InvoiceLine {
        id,
        amount: price.map_or(0, |p| p.amount_for(quantity)),
        description: format!("{quantity} × {name} (at {unit} / {})", sub.interval),
        quantity,
        period_start,
        period_end,
        subscription_item: Some(item.id.clone()),
        price: price.map(|p| p.id.clone()),
        product: product.map(|p| p.id.clone()),
        unit_amount_decimal: price.map(|p| p.unit().to_string()),
    }
}

fn emit_payment_intent(db: &mut Db, pi: &str, kind: &str, req: &ReqInfo, now: i64) {
    if let Some(p) = db.payment_intents.get(pi) {
        let (scope, rendered) = (p.scope.clone(), p.render());
        db.emit(&scope, kind, rendered, None, req, now);
    }
}

/// Retries the open invoice of a `past_due` subscription.
fn retry_open_invoice(db: &mut Db, sub_id: &str, charge: Charge, now: i64) -> StripeResult<Option<String>> {
    let Some(invoice_id) = db.subscriptions.get(sub_id).and_then(|s| s.latest_invoice.clone()) else {
        return Ok(None);
    };
    let Some(invoice) = db.invoices.get_mut(&invoice_id).filter(|i| i.status == "open") else {
        return Ok(None);
    };
    invoice.attempt_count += 1;
    let scope = invoice.scope.clone();
    let pi = invoice.payment_intent.clone().unwrap_or_default();
    let req = ReqInfo::none();
    match charge {
        Charge::Succeeds => {
            invoice.status = "paid".into();
            invoice.paid_at = Some(now);
            invoice.next_payment_attempt = None;
            let rendered = invoice.render();
            if let Some(p) = db.payment_intents.get_mut(&pi) {
                p.status = "succeeded".into();
                p.last_error = None;
            }
            db.emit(&scope, "invoice.paid", rendered.clone(), None, &req, now);
            db.emit(&scope, "invoice.payment_succeeded", rendered, None, &req, now);
            db.payment_succeeded(&pi, &req, now);
        }
        Charge::Declines => {
            invoice.next_payment_attempt = Some(now + RETRY_AFTER_SECONDS);
            let rendered = invoice.render();
            db.emit(&scope, "invoice.payment_failed", rendered, None, &req, now);
            emit_payment_intent(db, &pi, "payment_intent.payment_failed", &req, now);
        }
    }
    Ok(Some(invoice_id))
}

/// The renewal control. An active subscription moves to its next period and pays for it;
/// a `past_due` one pays its open invoice and is active again; one set to cancel at period
/// end ends instead, as it would when its period runs out.
pub fn advance(db: &mut Db, sub_id: &str, now: i64) -> StripeResult<Value> {
    let sub = db
        .subscriptions
        .get(sub_id)
        .cloned()
        .ok_or_else(|| StripeError::no_such("subscription", sub_id, None, None))?;
    let req = ReqInfo::none();
    if sub.status == "canceled" {
        return Err(StripeError::invalid(format!(
            "The subscription {sub_id} is canceled; it has no next period."
        )));
    }
    if sub.cancel_at_period_end {
        return db.end_subscription(sub_id, "cancellation_requested", &req, now);
    }
    let before = db.render_subscription(sub_id);
    if sub.status == "past_due" && retry_open_invoice(db, sub_id, Charge::Succeeds, now)?.is_some() {
        if let Some(s) = db.subscriptions.get_mut(sub_id) {
            s.status = "active".into();
        }
    } else {
        if let Some(s) = db.subscriptions.get_mut(sub_id) {
            s.period_index += 1;
            s.status = "active".into();
        }
        bill(db, sub_id, "subscription_cycle", Charge::Succeeds, &req, now)?;
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
/// `past_due`; on one already `past_due`, the open invoice fails once more.
pub fn fail_renewal(db: &mut Db, sub_id: &str, now: i64) -> StripeResult<Value> {
    let sub = db
        .subscriptions
        .get(sub_id)
        .cloned()
        .ok_or_else(|| StripeError::no_such("subscription", sub_id, None, None))?;
    if sub.status == "canceled" {
        return Err(StripeError::invalid(format!(
            "The subscription {sub_id} is canceled; it has no next period."
        )));
    }
    let before = db.render_subscription(sub_id);
    if sub.status == "past_due" && retry_open_invoice(db, sub_id, Charge::Declines, now)?.is_some() {
        return Ok(before);
    }
    if let Some(s) = db.subscriptions.get_mut(sub_id) {
        s.period_index += 1;
        s.status = "past_due".into();
    }
    bill(
        db,
        sub_id,
        "subscription_cycle",
        Charge::Declines,
        &ReqInfo::none(),
        now,
    )?;
    record_update(db, sub_id, &before, now)
}

fn record_update(db: &mut Db, sub_id: &str, before: &Value, now: i64) -> StripeResult<Value> {
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
