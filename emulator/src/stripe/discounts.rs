//! Discounts: a coupon (perhaps entered as a promotion code) redeemed by a checkout, attached
//! to the subscription it created (or, in payment mode, to the session). Rendered as the
//! emulator's API version renders them: the coupon under `source: {type: "coupon", coupon}`
//! (2025-09-30.clover replaced the expanded `coupon`); subscriptions and invoices list their
//! ids, which `expand[]=discounts` turns into these objects. Discounts cannot be retrieved by
//! id, as at Stripe.
//!
//! Which invoices a discount applies to: `forever` all; `once` the first that has something to
//! discount (a trial's $0 invoice does not use it up); `repeating` those whose period starts
//! before `end` (`duration_in_months` after redemption). Renewals drop a discount from its
//! subscription once it no longer applies.

use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use super::coupons::{Terms, find_coupon, key as coupon_key};
use super::error::{StripeError, StripeResult};
use super::promotion_codes::PromotionCode;
use crate::record;
use crate::state::{Db, Scope};

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Discount {
    pub id: String,
    pub scope: Scope,
    pub seq: u64,
    pub coupon: String,
    /// The coupon's terms when redeemed: deleting the coupon later ends nothing.
    pub terms: Terms,
    pub promotion_code: Option<String>,
    pub customer: Option<String>,
    pub subscription: Option<String>,
    pub checkout_session: Option<String>,
    pub start: i64,
    pub end: Option<i64>,
    /// A `once` discount that has taken something off an invoice.
    pub used: bool,
}
record!(Discount, "discount");

impl Discount {
    pub fn render(&self) -> Value {
        json!({
            "id": self.id,
            "object": "discount",
            "checkout_session": self.checkout_session,
            "customer": self.customer,
            "customer_account": null,
            "end": self.end,
            "invoice": null,
            "invoice_item": null,
            "promotion_code": self.promotion_code,
            "source": { "coupon": self.coupon, "type": "coupon" },
            "start": self.start,
            "subscription": self.subscription,
            "subscription_item": null,
        })
    }

    /// Whether it applies to an invoice billing a period that starts at `period_start`.
    pub fn applies(&self, period_start: i64) -> bool {
        match self.terms.duration.as_str() {
            "once" => !self.used,
            "repeating" => self.end.is_none_or(|end| period_start < end),
            _ => true,
        }
    }
}

/// A checkout session's discount before it is redeemed: the coupon, the promotion code it
/// was entered as, and the coupon's terms.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Applied {
    pub coupon: String,
    pub promotion_code: Option<String>,
    pub terms: Terms,
}

impl Applied {
    /// A session's `discounts[]` entry.
    pub fn render(&self) -> Value {
        json!({ "coupon": self.coupon, "promotion_code": self.promotion_code })
    }
}

/// An amount in one currency cannot discount a purchase in another.
fn same_currency(terms: &Terms, currency: &str, param: &str) -> StripeResult<()> {
    match &terms.currency {
        Some(c) if terms.amount_off.is_some() && c != currency => Err(StripeError::invalid(format!(
            "The coupon's currency ({c}) does not match the currency of the Checkout Session ({currency})."
        ))
        .param(param)),
        _ => Ok(()),
    }
}

/// `discounts[0][coupon]`: the coupon, if it can still be redeemed in `currency`.
pub fn by_coupon(db: &Db, scope: &Scope, id: &str, param: &str, currency: &str, now: i64) -> StripeResult<Applied> {
    let coupon = find_coupon(db, scope, id, Some(param))?;
    if let Some(e) = coupon.refusal(now) {
        return Err(e.param(param));
    }
    same_currency(&coupon.terms, currency, param)?;
    Ok(Applied {
        coupon: coupon.id.clone(),
        promotion_code: None,
        terms: coupon.terms.clone(),
    })
}

/// A promotion code's coupon, if `customer` (None for one checkout will create) can redeem it
/// on a purchase of `subtotal` in `currency`.
pub fn by_promotion_code(
    db: &Db,
    promo: &PromotionCode,
    customer: Option<&str>,
    (subtotal, currency): (i64, &str),
    param: &str,
    now: i64,
) -> StripeResult<Applied> {
    if let Some(e) = promo.refusal(db, customer, subtotal, currency, now) {
        return Err(e.param(param));
    }
    let coupon = find_coupon(db, &promo.scope, &promo.coupon, Some(param))?;
    same_currency(&coupon.terms, currency, param)?;
    Ok(Applied {
        coupon: coupon.id.clone(),
        promotion_code: Some(promo.id.clone()),
        terms: coupon.terms.clone(),
    })
}

/// Where a redeemed discount belongs.
pub struct Owner {
    pub customer: Option<String>,
    pub subscription: Option<String>,
    pub checkout_session: Option<String>,
}

impl Db {
    /// Redeems a session's discount: one more redemption of its coupon and promotion code, and
    /// the discount object (`di_...`); returns its id.
    pub fn redeem(&mut self, scope: &Scope, applied: &Applied, owner: Owner, now: i64) -> String {
        if let Some(coupon) = self.coupons.get_mut(&coupon_key(scope, &applied.coupon)) {
            coupon.times_redeemed += 1;
        }
        if let Some(promo) = applied
            .promotion_code
            .as_ref()
            .and_then(|p| self.promotion_codes.get_mut(p))
        {
            promo.times_redeemed += 1;
        }
        let end = match (applied.terms.duration.as_str(), applied.terms.duration_in_months) {
            ("repeating", Some(months)) => Some(crate::time::add_months(now, months)),
            _ => None,
        };
        let id = self.id("di_", 24);
        let seq = self.next_seq();
        self.discounts.insert(
            id.clone(),
            Discount {
                id: id.clone(),
                scope: scope.clone(),
                seq,
                coupon: applied.coupon.clone(),
                terms: applied.terms.clone(),
                promotion_code: applied.promotion_code.clone(),
                customer: owner.customer,
                subscription: owner.subscription,
                checkout_session: owner.checkout_session,
                start: now,
                end,
                used: false,
            },
        );
        id
    }

    /// The subscription's discounts that apply to an invoice of the period starting at
    /// `period_start`, each with what it takes off each of `amounts` (applied one after the
    /// other, each to what the ones before left). A `once` discount is used up by it. Nothing
    /// applies to an invoice of nothing.
    pub fn discount_invoice(
        &mut self,
        sub_id: &str,
        period_start: i64,
        amounts: &[i64],
        currency: &str,
    ) -> Vec<(String, Vec<i64>)> {
        if amounts.iter().sum::<i64>() <= 0 {
            return Vec::new();
        }
        let ids = self
            .subscriptions
            .get(sub_id)
            .map(|s| s.discounts.clone())
            .unwrap_or_default();
        let mut left = amounts.to_vec();
        let mut applied = Vec::new();
        for id in ids {
            let Some(discount) = self.discounts.get_mut(&id).filter(|d| d.applies(period_start)) else {
                continue;
            };
            let shares = discount.terms.allocate(&left, currency);
            if discount.terms.duration == "once" {
                discount.used = true;
            }
            for (l, s) in left.iter_mut().zip(&shares) {
                *l -= s;
            }
            applied.push((id, shares));
        }
        applied
    }

    /// Drops the discounts that no longer apply to the subscription's current period (a
    /// `once` one used, a `repeating` one past its end), as the period starts.
    pub fn drop_ended_discounts(&mut self, sub_id: &str) {
        let Some(sub) = self.subscriptions.get(sub_id) else {
            return;
        };
        let start = sub.period().0;
        let keep: Vec<String> = (sub.discounts.iter())
            .filter(|id| self.discounts.get(*id).is_some_and(|d| d.applies(start)))
            .cloned()
            .collect();
        if let Some(sub) = self.subscriptions.get_mut(sub_id) {
            sub.discounts = keep;
        }
    }
}
