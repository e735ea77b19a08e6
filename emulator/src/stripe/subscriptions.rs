//! Subscriptions: the object, its periods (a trial's included) and rendering, and the changes
//! everything else makes to it (created by checkout in `payment.rs`, updated, ended). Its API
//! is `subscriptions_api.rs`; renewals are the test controls' (`renewal.rs`, `trials.rs`).

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use super::error::{StripeError, StripeResult};
use super::events::{ReqInfo, diff};
use super::list::list as list_object;
use crate::record;
use crate::state::{Db, Scope};
use crate::time::period_boundary;

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct SubItem {
    pub id: String,
    pub created: i64,
    pub price: String,
    /// None for a metered price, whose subscription item Stripe shows without a quantity.
    pub quantity: Option<i64>,
    pub metadata: BTreeMap<String, String>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Subscription {
    pub id: String,
    pub scope: Scope,
    pub seq: u64,
    pub created: i64,
    pub customer: String,
    pub status: String,
    pub items: Vec<SubItem>,
    pub currency: String,
    pub interval: String,
    pub interval_count: i64,
    pub billing_cycle_anchor: i64,
    /// How many periods have passed since the anchor: the current period is
    /// [boundary(n), boundary(n + 1)).
    pub period_index: i64,
    pub start_date: i64,
    pub cancel_at_period_end: bool,
    pub cancel_at: Option<i64>,
    pub canceled_at: Option<i64>,
    pub ended_at: Option<i64>,
    pub cancellation_reason: Option<String>,
    pub latest_invoice: Option<String>,
    pub metadata: BTreeMap<String, String>,
    pub description: Option<String>,
    /// A trial started by checkout: [trial_start, trial_end) is period -1 and the billing
    /// cycle anchor is trial_end, as Stripe sets it, so paid periods count from the trial's end.
    /// Added after the first saved states, hence the defaults.
    #[serde(default)]
    pub trial_start: Option<i64>,
    #[serde(default)]
    pub trial_end: Option<i64>,
    /// `trial_settings.end_behavior.missing_payment_method`: what the trial's end does when
    /// the customer gave no card (`cancel`, `create_invoice`, `pause`).
    #[serde(default = "default_missing_payment_method")]
    pub missing_payment_method: String,
    /// The card checkout collected (`pm_...`); none for a trial started without one.
    #[serde(default)]
    pub default_payment_method: Option<String>,
    /// The subscription's discounts (`di_...`), in the order they were applied.
    #[serde(default)]
    pub discounts: Vec<String>,
    /// `automatic_tax[enabled]` of the checkout that made it: each invoice is taxed by the
    /// customer's address.
    #[serde(default)]
    pub automatic_tax: bool,
}
record!(Subscription, "subscription");

fn default_missing_payment_method() -> String {
    "create_invoice".into()
}

impl Subscription {
    pub fn period(&self) -> (i64, i64) {
        self.period_at(self.period_index)
    }

    /// Period `n` counted from the billing cycle anchor; period -1 is the trial (which ends at
    /// the anchor), or for a subscription without one the period before its first.
    pub fn period_at(&self, n: i64) -> (i64, i64) {
        let at = |n| period_boundary(self.billing_cycle_anchor, &self.interval, self.interval_count, n);
        match (n, self.trial_start) {
            (-1, Some(trial_start)) => (trial_start, self.billing_cycle_anchor),
            _ => (at(n), at(n + 1)),
        }
    }

    /// Still in the trial checkout started it with (whatever its status says since).
    pub fn in_trial(&self) -> bool {
        self.trial_start.is_some() && self.period_index < 0
    }

    /// Current Stripe API versions keep the period on the items, not on the subscription
    /// (and so does Stripe's published example), so it is rendered there only.
    pub fn render(&self, db: &Db) -> Value {
        let (start, end) = self.period();
        let items: Vec<Value> = self
            .items
            .iter()
            .map(|item| {
                let price = db.prices.get(&item.price);
                let mut rendered = json!({
                    "id": item.id,
                    "object": "subscription_item",
                    "billing_thresholds": null,
                    "created": item.created,
                    "current_period_end": end,
                    "current_period_start": start,
                    "discounts": [],
                    "metadata": item.metadata,
                    "plan": price.map(|p| p.render_plan()),
                    "price": price.map(|p| p.render()),
                    "subscription": self.id,
                    "tax_rates": [],
                });
                if let Some(q) = item.quantity {
                    rendered["quantity"] = json!(q);
                }
                rendered
            })
            .collect();
        json!({
            "id": self.id,
            "object": "subscription",
            "application": null,
            "application_fee_percent": null,
            "automatic_tax": {
                "disabled_reason": null,
                "enabled": self.automatic_tax,
                "liability": if self.automatic_tax { json!({ "type": "self" }) } else { Value::Null },
            },
            "billing_cycle_anchor": self.billing_cycle_anchor,
            "billing_cycle_anchor_config": null,
            "billing_mode": { "flexible": null, "type": "classic" },
            "billing_schedules": [],
            "billing_thresholds": null,
            "cancel_at": self.cancel_at,
            "cancel_at_period_end": self.cancel_at_period_end,
            "canceled_at": self.canceled_at,
            "cancellation_details": { "comment": null, "feedback": null, "reason": self.cancellation_reason },
            "collection_method": "charge_automatically",
            "created": self.created,
            "currency": self.currency,
            "customer": self.customer,
            "customer_account": null,
            "days_until_due": null,
            "default_payment_method": self.default_payment_method,
            "default_source": null,
            "default_tax_rates": [],
            "description": self.description,
            "discounts": self.discounts,
            "ended_at": self.ended_at,
            "invoice_settings": {
                "account_tax_ids": null,
                "custom_fields": null,
                "description": null,
                "footer": null,
                "issuer": { "type": "self" },
            },
            "items": list_object(&format!("/v1/subscription_items?subscription={}", self.id), items, false),
            "latest_invoice": self.latest_invoice,
            "livemode": self.scope.livemode,
            "managed_payments": null,
            "metadata": self.metadata,
            "next_pending_invoice_item_invoice": null,
            "on_behalf_of": null,
            "pause_collection": null,
            "payment_settings": {
                "payment_method_options": null,
                "payment_method_types": null,
                "save_default_payment_method": "off",
            },
            "pending_invoice_item_interval": null,
            "pending_setup_intent": null,
            "pending_update": null,
            "schedule": null,
            "start_date": self.start_date,
            "status": self.status,
            "test_clock": null,
            "transfer_data": null,
            "trial_end": self.trial_end,
            "trial_settings": { "end_behavior": { "missing_payment_method": self.missing_payment_method } },
            "trial_start": self.trial_start,
        })
    }
}

impl Db {
    /// An active subscription whose first period starts now. Records no event: the caller
    /// (checkout) records them in Stripe's order.
    #[allow(clippy::too_many_arguments)]
    pub fn create_subscription(
        &mut self,
        scope: &Scope,
        customer: &str,
        lines: &[(String, Option<i64>)],
        metadata: BTreeMap<String, String>,
        description: Option<String>,
        now: i64,
    ) -> StripeResult<String> {
        let first = lines.first().and_then(|(price, _)| self.prices.get(price)).cloned();
        let Some(first) = first else {
            return Err(StripeError::invalid("A subscription needs at least one price."));
        };
        let Some(recurring) = first.recurring.clone() else {
            return Err(StripeError::invalid("A subscription needs recurring prices."));
        };
        let id = self.id("sub_", 24);
        let items = lines
            .iter()
            .map(|(price, quantity)| SubItem {
                id: self.id("si_", 14),
                created: now,
                price: price.clone(),
                quantity: *quantity,
                metadata: BTreeMap::new(),
            })
            .collect();
        let seq = self.next_seq();
        self.subscriptions.insert(
            id.clone(),
            Subscription {
                id: id.clone(),
                scope: scope.clone(),
                seq,
                created: now,
                customer: customer.to_string(),
                status: "active".into(),
                items,
                currency: first.currency.clone(),
                interval: recurring.interval,
                interval_count: recurring.interval_count,
                billing_cycle_anchor: now,
                period_index: 0,
                start_date: now,
                cancel_at_period_end: false,
                cancel_at: None,
                canceled_at: None,
                ended_at: None,
                cancellation_reason: None,
                latest_invoice: None,
                metadata,
                description,
                trial_start: None,
                trial_end: None,
                missing_payment_method: default_missing_payment_method(),
                default_payment_method: None,
                discounts: Vec::new(),
                automatic_tax: false,
            },
        );
        if let Some(c) = self.customers.get_mut(customer) {
            c.currency.get_or_insert(first.currency);
        }
        Ok(id)
    }

    pub fn render_subscription(&self, id: &str) -> Value {
        self.subscriptions.get(id).map(|s| s.render(self)).unwrap_or_default()
    }

    /// Applies `change` to a subscription and records `customer.subscription.updated` with
    /// what changed (nothing recorded when nothing changed).
    pub fn update_subscription(
        &mut self,
        id: &str,
        req: &ReqInfo,
        now: i64,
        change: impl FnOnce(&mut Subscription) -> StripeResult<()>,
    ) -> StripeResult<Value> {
        let before = self.render_subscription(id);
        let sub = self
            .subscriptions
            .get_mut(id)
            .ok_or_else(|| StripeError::no_such("subscription", id, None, None))?;
        change(sub)?;
        let scope = sub.scope.clone();
        let after = self.render_subscription(id);
        if let Some(previous) = diff(&before, &after) {
            self.emit(
                &scope,
                "customer.subscription.updated",
                after.clone(),
                Some(previous),
                req,
                now,
            );
        }
        Ok(after)
    }

    /// Ends a subscription now and records `customer.subscription.deleted`.
    pub fn end_subscription(&mut self, id: &str, reason: &str, req: &ReqInfo, now: i64) -> StripeResult<Value> {
        self.end_subscription_at(id, reason, req, now, now)
    }

    /// Ends a subscription at `ended_at` (a test clock's frozen time, which may be in the past),
    /// recording `customer.subscription.deleted` now.
    pub fn end_subscription_at(
        &mut self,
        id: &str,
        reason: &str,
        req: &ReqInfo,
        ended_at: i64,
        now: i64,
    ) -> StripeResult<Value> {
        let sub = self
            .subscriptions
            .get_mut(id)
            .ok_or_else(|| StripeError::no_such("subscription", id, None, None))?;
        if sub.status == "canceled" {
            return Err(StripeError::invalid(format!(
                "The subscription {id} has already been canceled."
            )));
        }
        sub.status = "canceled".into();
        sub.ended_at = Some(ended_at);
        sub.canceled_at.get_or_insert(ended_at);
        sub.cancellation_reason.get_or_insert_with(|| reason.to_string());
        let scope = sub.scope.clone();
        let rendered = self.render_subscription(id);
        self.emit(
            &scope,
            "customer.subscription.deleted",
            rendered.clone(),
            None,
            req,
            now,
        );
        Ok(rendered)
    }
}

pub fn set_cancel_at_period_end(sub: &mut Subscription, on: bool, now: i64) {
    if on {
        sub.cancel_at_period_end = true;
        sub.cancel_at = Some(sub.period().1);
        sub.canceled_at = Some(now);
        sub.cancellation_reason = Some("cancellation_requested".into());
    } else {
        sub.cancel_at_period_end = false;
        sub.cancel_at = None;
        sub.canceled_at = None;
        sub.cancellation_reason = None;
    }
}
