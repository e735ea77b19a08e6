//! Paying a checkout session, shared by the hosted page and the `complete`/`decline`
//! controls: test cards, then what Stripe creates on success (customer, subscription,
//! invoice, payment intent, charge) and the events it sends.

use serde_json::Value;

use super::billing::{Charge, bill};
use super::checkout::CheckoutSession;
use super::checkout_tax;
use super::discounts::{self, Applied, Owner};
use super::error::{StripeError, StripeResult};
use super::events::ReqInfo;
use super::promotion_codes;
use crate::state::Db;

pub const SUCCESS_CARD: &str = "4242424242424242";
pub const DECLINE_CARD: &str = "4000000000000002";
/// For sessions nobody gave an email to (a control completing a guest checkout).
const FALLBACK_EMAIL: &str = "customer@example.com";

fn luhn(digits: &str) -> bool {
    let sum: u32 = digits
        .bytes()
        .rev()
        .enumerate()
        .map(|(i, b)| {
            let d = u32::from(b - b'0');
            if i % 2 == 1 {
                if d * 2 > 9 { d * 2 - 9 } else { d * 2 }
            } else {
                d
            }
        })
        .sum();
    sum.is_multiple_of(10)
}

/// Stripe's test cards: 4000 0000 0000 0002 is declined (and a few other documented ones
/// fail their documented way); any other valid number succeeds.
pub fn check_card(number: &str) -> StripeResult<()> {
    let digits: String = number.chars().filter(|c| !c.is_whitespace() && *c != '-').collect();
    if digits.is_empty() {
        return Err(StripeError::card("incomplete_number", None, "Your card number is incomplete.").param("number"));
    }
    if !digits.bytes().all(|b| b.is_ascii_digit()) || !(12..=19).contains(&digits.len()) || !luhn(&digits) {
        return Err(StripeError::card("incorrect_number", None, "Your card number is incorrect.").param("number"));
    }
    match digits.as_str() {
        DECLINE_CARD => Err(StripeError::card(
            "card_declined",
            Some("generic_decline"),
            "Your card was declined.",
        )),
        "4000000000009995" => Err(StripeError::card(
            "card_declined",
            Some("insufficient_funds"),
            "Your card has insufficient funds.",
        )),
        "4000000000000069" => Err(StripeError::card("expired_card", None, "Your card has expired.").param("exp_month")),
        _ => Ok(()),
    }
}

pub struct Completed {
    pub session: Value,
    pub redirect: Option<String>,
}

/// What the buyer gives on the page (or a control in their place).
pub struct Buyer {
    pub card: CardInput,
    pub email: Option<String>,
    /// A promotion code typed in (the customer-facing `code`), on a session that allows them.
    pub promotion_code: Option<String>,
    /// The billing address (country, postal code), on a session that asks for one.
    pub country: Option<String>,
    pub postal_code: Option<String>,
    /// The name the buyer gives (`customer_details.name`).
    pub name: Option<String>,
}

/// The card a buyer gave: none at all (the control's `card` left out, or a page without a
/// card field), the page's card field left empty, or a number.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CardInput {
    Absent,
    Blank,
    Number(String),
}

/// The card that pays `session`, if it collects one: the number given, else the control's
/// default test card. A session that collects none (`payment_method_collection=if_required`
/// with nothing due today) takes none, as Stripe's page shows no card field.
fn card_for(session: &CheckoutSession, card: &CardInput) -> StripeResult<Option<String>> {
    match (session.collects_payment_method(), card) {
        (true, CardInput::Absent) => Ok(Some(SUCCESS_CARD.into())),
        (true, CardInput::Blank) => check_card("").map(|_| None),
        (true, CardInput::Number(number)) => {
            check_card(number)?;
            Ok(Some(number.clone()))
        }
        (false, CardInput::Absent | CardInput::Blank) => Ok(None),
        (false, CardInput::Number(_)) => Err(StripeError::invalid(
            "This Checkout Session does not collect a payment method (payment_method_collection=if_required and nothing is due today): complete it without a card.",
        )
        .param("card")),
    }
}

/// Pays the session `id` (of any scope: the caller is the buyer's browser or a control).
/// A declined card changes nothing and leaves the session open, as on Stripe's page.
pub fn complete(db: &mut Db, id: &str, buyer: Buyer, now: i64) -> StripeResult<Completed> {
    let Buyer {
        card,
        email,
        promotion_code,
        country,
        postal_code,
        name,
    } = buyer;
    let mut session = db
        .checkout_sessions
        .get(id)
        .cloned()
        .ok_or_else(|| StripeError::no_such("checkout.session", id, None, None))?;
    if session.status == "open" && now >= session.expires_at {
        let scope = session.scope.clone();
        super::checkout::expire_in(db, &scope, id, &ReqInfo::none(), now)?;
        return Err(StripeError::invalid("This Checkout Session has expired."));
    }
    if session.status != "open" {
        return Err(StripeError::invalid(format!(
            "This Checkout Session is no longer active (status \"{}\").",
            session.status
        )));
    }
    if let Some(e) = email.as_deref().filter(|e| !e.contains('@')) {
        return Err(StripeError::invalid(format!("Invalid email address: {e}")).param("email"));
    }
    // The tax is computed again below, on the discount and address it completes with.
    session.taxes = None;
    settle_discount(db, &mut session, promotion_code.as_deref(), now)?;
    let entered = checkout_tax::entered_address(db, &session, country, postal_code)?;
    // Tax never turns a total of nothing into something, so whether a card is needed is
    // known before it is computed.
    let card = card_for(&session, &card)?;
    let taxed = session.tax_address(db, entered.as_ref());
    checkout_tax::settle(db, &mut session, taxed.as_ref(), now);
    let name = name.filter(|n| !n.trim().is_empty());

    let scope = session.scope.clone();
    let req = ReqInfo::none();
    let existing_email = session
        .customer
        .as_ref()
        .and_then(|c| db.customers.get(c))
        .and_then(|c| c.email.clone());
    let email = session.customer_email.clone().or(existing_email).or(email);
    let customer = match &session.customer {
        // Saved before anything is billed: the first invoice is taxed by this address.
        Some(c) => {
            let update = &session.customer_update;
            let address = entered.clone().filter(|_| update.saves_address());
            db.save_from_checkout(c, address, name.clone().filter(|_| update.saves_name()), now);
            Some(c.clone())
        }
        None if session.mode == "subscription" || session.customer_creation.as_deref() == Some("always") => {
            let email = email.clone().unwrap_or_else(|| FALLBACK_EMAIL.into());
            let (name, address) = (name.clone(), entered.clone());
            Some(db.create_customer(
                &scope,
                Some(email),
                name,
                None,
                None,
                Default::default(),
                address,
                &req,
                now,
            ))
        }
        // Stripe's guest checkout: the buyer's details are on the session, no Customer.
        None => None,
    };

    let (mut subscription, mut invoice, payment_intent);
    if session.mode == "subscription" {
        let customer_id = customer.clone().unwrap_or_default();
        let sub_id = start_subscription(db, &session, &customer_id, card.is_some(), now)?;
        let created = db.render_subscription(&sub_id);
        db.emit(&scope, "customer.subscription.created", created, None, &req, now);
        let invoice_id = bill(db, &sub_id, "subscription_create", Charge::Succeeds, &req, now)?;
        payment_intent = None;
        invoice = Some(invoice_id);
        subscription = Some(sub_id);
    } else {
        if let Some(applied) = &session.discount {
            let owner = Owner {
                customer: customer.clone(),
                subscription: None,
                checkout_session: Some(session.id.clone()),
            };
            db.redeem(&scope, applied, owner, now);
        }
        payment_intent = (session.amount_total > 0).then(|| {
            let pi = db.create_payment_intent(
                &scope,
                session.amount_total,
                &session.currency,
                customer.clone(),
                session.payment_intent_description.clone(),
                session.payment_intent_metadata.clone(),
                email.clone(),
                None,
                now,
            );
            db.payment_succeeded(&pi, &req, now);
            pi
        });
        // Nothing to pay (a discount of everything): Stripe makes no payment intent.
        invoice = None;
        subscription = None;
    }
    // Stripe's word for a payment put off (a trial) or discounted to nothing. A subscription
    // of metered prices only, whose first invoice is 0 anyway, still reads `paid`.
    let nothing_due = session.amount_total == 0 && (session.amount_subtotal > 0 || session.mode == "payment");
    let payment_status = if session.has_trial() || nothing_due {
        "no_payment_required"
    } else {
        "paid"
    };

    if let Some(s) = db.checkout_sessions.get_mut(id) {
        s.status = "complete".into();
        s.payment_status = payment_status.into();
        s.customer = customer;
        s.details_email = email;
        s.subscription = subscription.take();
        s.invoice = invoice.take();
        s.payment_intent = payment_intent;
        s.discount = session.discount.clone();
        s.amount_subtotal = session.amount_subtotal;
        s.amount_total = session.amount_total;
        s.taxes = session.taxes.clone();
        // The address the buyer entered, or the saved one the session taxed.
        s.details_address = entered.or(taxed);
        s.details_name = name;
    }
    let rendered = db.checkout_sessions.get(id).map(|s| s.render(db)).unwrap_or_default();
    db.emit(&scope, "checkout.session.completed", rendered.clone(), None, &req, now);
    let redirect = db.checkout_sessions.get(id).and_then(|s| s.success_redirect());
    Ok(Completed {
        session: rendered,
        redirect,
    })
}

/// The discount the session completes with: the promotion code the buyer entered (on a session
/// that allows codes), else the one it was created with, checked again (its coupon or code may
/// have run out since). Sets the session's totals after it.
fn settle_discount(db: &Db, session: &mut CheckoutSession, code: Option<&str>, now: i64) -> StripeResult<()> {
    // What the lines cost before any trial or discount, for a code's minimum amount.
    let list_total: i64 = (session.lines.iter())
        .filter_map(|l| db.prices.get(&l.price).zip(l.quantity))
        .map(|(p, q)| p.amount_for(q))
        .sum();
    let purchase = (list_total, session.currency.as_str());
    let customer = session.customer.as_deref();
    let discount = match (code, &session.discount) {
        (Some(_), _) if session.allow_promotion_codes != Some(true) => {
            return Err(StripeError::invalid(
                "This Checkout Session does not accept promotion codes (create it with allow_promotion_codes=true).",
            )
            .param("promotion_code"));
        }
        (Some(code), _) => {
            // What Stripe's page says of an unknown or inactive code.
            let promo = promotion_codes::by_code(db, &session.scope, code)
                .ok_or_else(|| StripeError::invalid("This code is invalid.").param("promotion_code"))?;
            Some(discounts::by_promotion_code(
                db,
                promo,
                customer,
                purchase,
                "promotion_code",
                now,
            )?)
        }
        (
            None,
            Some(Applied {
                promotion_code: Some(id),
                ..
            }),
        ) => {
            let promo = (db.promotion_codes.get(id)).ok_or_else(|| {
                StripeError::no_such("promotion_code", id, Some("discounts[0][promotion_code]"), None)
            })?;
            let param = "discounts[0][promotion_code]";
            Some(discounts::by_promotion_code(db, promo, customer, purchase, param, now)?)
        }
        (None, Some(applied)) => Some(discounts::by_coupon(
            db,
            &session.scope,
            &applied.coupon,
            "discounts[0][coupon]",
            purchase.1,
            now,
        )?),
        (None, None) => None,
    };
    session.discount = discount;
    session.compute_totals(db);
    Ok(())
}

/// The subscription a completed subscription-mode session creates: trialing until the trial's
/// end if it has one (the billing cycle anchor, from which paid periods count), with the card
/// collected (a `pm_...`) as its default payment method, or none.
fn start_subscription(
    db: &mut Db,
    session: &CheckoutSession,
    customer: &str,
    with_card: bool,
    now: i64,
) -> StripeResult<String> {
    let lines: Vec<(String, Option<i64>)> = session.lines.iter().map(|l| (l.price.clone(), l.quantity)).collect();
    let sub_id = db.create_subscription(
        &session.scope,
        customer,
        &lines,
        session.subscription_metadata.clone(),
        session.subscription_description.clone(),
        now,
    )?;
    let payment_method = with_card.then(|| db.id("pm_", 24));
    let discount = session.discount.as_ref().map(|applied| {
        let owner = Owner {
            customer: Some(customer.to_string()),
            subscription: Some(sub_id.clone()),
            checkout_session: None,
        };
        db.redeem(&session.scope, applied, owner, now)
    });
    if let Some(sub) = db.subscriptions.get_mut(&sub_id) {
        sub.default_payment_method = payment_method;
        sub.automatic_tax = session.automatic_tax;
        sub.discounts.extend(discount);
        if let Some(behavior) = &session.trial_missing_payment_method {
            sub.missing_payment_method = behavior.clone();
        }
        if let Some(trial_end) = session.trial_end_at(now) {
            sub.status = "trialing".into();
            sub.trial_start = Some(now);
            sub.trial_end = Some(trial_end);
            sub.billing_cycle_anchor = trial_end;
            sub.period_index = -1;
        }
    }
    Ok(sub_id)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn test_cards() {
        assert!(check_card("4242 4242 4242 4242").is_ok());
        assert!(check_card("5555555555554444").is_ok());
        let declined = check_card("4000 0000 0000 0002").expect_err("declines");
        assert_eq!(
            (declined.kind, declined.code, declined.decline_code),
            ("card_error", Some("card_declined"), Some("generic_decline"))
        );
        assert_eq!(declined.status.as_u16(), 402);
        assert_eq!(
            check_card("4242424242424241").expect_err("bad luhn").code,
            Some("incorrect_number")
        );
        assert_eq!(check_card("").expect_err("empty").code, Some("incomplete_number"));
    }
}
