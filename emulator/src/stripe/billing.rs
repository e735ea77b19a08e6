//! Billing a subscription period: the invoice of a first payment, a trial or a renewal, and the
//! payment intent that pays it when there is something to charge (Stripe makes none for a $0
//! invoice), paid or declined, with Stripe's events. Licensed items are billed for the period
//! ahead, metered ones for the usage of the period that just ended. A subscription with
//! automatic tax is taxed on each line after discounts, by the customer's saved address.

use serde_json::Value;

use super::error::{StripeError, StripeResult};
use super::events::ReqInfo;
use super::invoices::{DiscountAmount, Invoice, InvoiceLine};
use super::meter_events::billed_usage;
use super::payment_intents::PaymentError;
use super::subscriptions::{SubItem, Subscription};
use super::tax::{self, is_inclusive};
use crate::state::Db;

/// Stripe retries a failed renewal after a few days; the emulator only reports when.
const RETRY_AFTER_SECONDS: i64 = 3 * 24 * 3600;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Charge {
    Succeeds,
    Declines,
    /// There is no card to charge (a trial ended without one): the invoice stays open and no
    /// card is attempted, so its payment intent waits for a payment method without an error.
    NoPaymentMethod,
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
/// `invoice.finalized`, then `invoice.paid` + `invoice.payment_succeeded` (+ the charge's
/// `charge.succeeded` + `payment_intent.succeeded` when something was charged), or
/// `invoice.payment_failed` (+ `payment_intent.payment_failed` for a declined card). A $0
/// invoice (a trial's, or one discounted to nothing) is paid at once without a payment intent.
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
    let first = billing_reason == "subscription_create";
    // Metered usage is billed in arrears: a renewal bills the period that just ended (the
    // trial, after one); a first invoice has none to bill.
    let usage_period = (!first).then(|| sub.period_at(sub.period_index - 1));
    let mut lines = Vec::new();
    for item in &sub.items {
        let line_id = db.id("il_", 24);
        lines.push(if sub.in_trial() {
            trial_line(db, item, line_id, (start, end))
        } else {
            line(db, &sub, item, line_id, (start, end), usage_period)
        });
    }
    let amounts: Vec<i64> = lines.iter().map(|l| l.amount).collect();
    let subtotal: i64 = amounts.iter().sum();
    let mut discount_amounts = Vec::new();
    for (discount, shares) in db.discount_invoice(sub_id, start, &amounts, &sub.currency) {
        for (line, amount) in lines.iter_mut().zip(&shares) {
            line.discount_amounts.push(DiscountAmount {
                discount: discount.clone(),
                amount: *amount,
            });
        }
        discount_amounts.push(DiscountAmount {
            discount,
            amount: shares.iter().sum(),
        });
    }
    let customer_address = customer.as_ref().and_then(|c| c.address.clone());
    let subtotal_excluding_tax = match customer_address.as_ref().and_then(|a| a.tax_country()) {
        Some(country) if sub.automatic_tax => Some(tax_lines(db, &sub, &mut lines, country, now)),
        _ => None,
    };
    let added: i64 = lines.iter().flat_map(|l| &l.taxes).map(tax::TaxAmount::added).sum();
    let total = subtotal - discount_amounts.iter().map(|d| d.amount).sum::<i64>() + added;
    let number = db.next_invoice_number(&sub.customer);
    let pi_description = if first {
        "Subscription creation"
    } else {
        "Subscription update"
    };
    let payment_intent = (total > 0).then(|| {
        let pi = db.create_payment_intent(
            &sub.scope,
            total,
            &sub.currency,
            Some(sub.customer.clone()),
            Some(pi_description.into()),
            Default::default(),
            None,
            (charge == Charge::Declines).then(declined),
            now,
        );
        if charge == Charge::NoPaymentMethod
            && let Some(p) = db.payment_intents.get_mut(&pi)
        {
            p.status = "requires_payment_method".into();
        }
        pi
    });
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
        subtotal: Some(subtotal),
        discount_amounts,
        status: "open".into(),
        attempt_count: 0,
        period_start,
        period_end,
        number,
        paid_at: None,
        next_payment_attempt: None,
        payment_intent: payment_intent.clone(),
        automatic_tax: sub.automatic_tax,
        customer_address,
        subtotal_excluding_tax,
    };
    let none = ReqInfo::none();
    db.emit(
        &sub.scope,
        "invoice.created",
        snapshot(&invoice, "draft"),
        None,
        &none,
        now,
    );
    db.emit(
        &sub.scope,
        "invoice.finalized",
        snapshot(&invoice, "open"),
        None,
        &none,
        now,
    );
    match (payment_intent, charge) {
        // Nothing to charge: paid as it is finalized, with no attempt on a card.
        (None, _) => {
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
        }
        (Some(pi), Charge::Succeeds) => {
            invoice.attempt_count = 1;
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
        (Some(pi), Charge::Declines) => {
            invoice.attempt_count = 1;
            invoice.next_payment_attempt = Some(now + RETRY_AFTER_SECONDS);
            db.emit(&sub.scope, "invoice.payment_failed", invoice.render(), None, req, now);
            emit_payment_intent(db, &pi, "payment_intent.payment_failed", req, now);
        }
        (Some(_), Charge::NoPaymentMethod) => {
            invoice.attempt_count = 1;
            invoice.next_payment_attempt = Some(now + RETRY_AFTER_SECONDS);
            db.emit(&sub.scope, "invoice.payment_failed", invoice.render(), None, req, now);
        }
    }
    db.invoices.insert(id.clone(), invoice);
    if let Some(s) = db.subscriptions.get_mut(sub_id) {
        s.latest_invoice = Some(id.clone());
    }
    Ok(id)
}

/// Automatic tax on each line, on its amount after discounts, for a customer in `country`.
/// Returns the subtotal without the inclusive tax the full amounts hold.
fn tax_lines(db: &mut Db, sub: &Subscription, lines: &mut [InvoiceLine], country: &str, now: i64) -> i64 {
    let inclusive = |line: &InvoiceLine| {
        (line.price.as_ref())
            .and_then(|p| db.prices.get(p))
            .is_some_and(|p| is_inclusive(&p.tax_behavior))
    };
    let full: Vec<(i64, bool)> = lines.iter().map(|l| (l.amount, inclusive(l))).collect();
    let bases: Vec<(i64, bool)> = (lines.iter())
        .zip(&full)
        .map(|(l, (amount, inclusive))| {
            (
                amount - l.discount_amounts.iter().map(|d| d.amount).sum::<i64>(),
                *inclusive,
            )
        })
        .collect();
    for (line, t) in lines.iter_mut().zip(db.tax_lines(&sub.scope, country, &bases, now)) {
        line.taxes = vec![t];
    }
    full.iter().map(|(amount, _)| amount).sum::<i64>() - tax::inclusive_part(country, &full)
}

fn product_name(db: &Db, item: &SubItem) -> (Option<String>, Option<String>, String) {
    let price = db.prices.get(&item.price);
    let product = price.and_then(|p| db.products.get(&p.product));
    (
        price.map(|p| p.id.clone()),
        product.map(|p| p.id.clone()),
        product.map(|p| p.name.clone()).unwrap_or_default(),
    )
}

/// One item's line on a trial's invoice: nothing to pay for the trial period, described as
/// Stripe describes it.
fn trial_line(db: &Db, item: &SubItem, id: String, period: (i64, i64)) -> InvoiceLine {
    let (price, product, name) = product_name(db, item);
    InvoiceLine {
        id,
        amount: 0,
        description: format!("Trial period for {name}"),
        quantity: item.quantity.unwrap_or(0),
        period_start: period.0,
        period_end: period.1,
        subscription_item: Some(item.id.clone()),
        price,
        product,
        unit_amount_decimal: Some("0".into()),
        discount_amounts: Vec::new(),
        taxes: Vec::new(),
    }
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
    let (price_id, product_id, name) = product_name(db, item);
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
        price: price_id,
        product: product_id,
        unit_amount_decimal: price.map(|p| p.unit().to_string()),
        discount_amounts: Vec::new(),
        taxes: Vec::new(),
    }
}

pub fn emit_payment_intent(db: &mut Db, pi: &str, kind: &str, req: &ReqInfo, now: i64) {
    if let Some(p) = db.payment_intents.get(pi) {
        let (scope, rendered) = (p.scope.clone(), p.render());
        db.emit(&scope, kind, rendered, None, req, now);
    }
}

/// Retries the open invoice of a `past_due` subscription.
pub fn retry_open_invoice(db: &mut Db, sub_id: &str, charge: Charge, now: i64) -> StripeResult<Option<String>> {
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
        Charge::Declines | Charge::NoPaymentMethod => {
            invoice.next_payment_attempt = Some(now + RETRY_AFTER_SECONDS);
            let rendered = invoice.render();
            db.emit(&scope, "invoice.payment_failed", rendered, None, &req, now);
            if charge == Charge::Declines {
                if let Some(p) = db.payment_intents.get_mut(&pi) {
                    p.last_error = Some(declined());
                }
                emit_payment_intent(db, &pi, "payment_intent.payment_failed", &req, now);
            }
        }
    }
    Ok(Some(invoice_id))
}
