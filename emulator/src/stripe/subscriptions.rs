//! Subscriptions: retrieve, list, update (`cancel_at_period_end`, price and quantity changes
//! via `items[]`, metadata), cancel. They are created by checkout (`payment.rs`) and renewed
//! by the test controls (`renewal.rs`).

use std::collections::BTreeMap;
use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{Path, RawQuery, State};
use axum::{Extension, Json};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use super::auth::Ctx;
use super::error::{StripeError, StripeResult};
use super::events::{ReqInfo, diff};
use super::list::{LIST_PARAMS, ListQuery, list as list_object, page};
use super::params::Params;
use super::subscription_items;
use super::{Record, expand, find, find_mut};
use crate::App;
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
}
record!(Subscription, "subscription");

impl Subscription {
    pub fn period(&self) -> (i64, i64) {
        let at = |n| period_boundary(self.billing_cycle_anchor, &self.interval, self.interval_count, n);
        (at(self.period_index), at(self.period_index + 1))
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
            "automatic_tax": { "disabled_reason": null, "enabled": false, "liability": null },
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
            "default_payment_method": null,
            "default_source": null,
            "default_tax_rates": [],
            "description": self.description,
            "discounts": [],
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
            "trial_end": null,
            "trial_settings": { "end_behavior": { "missing_payment_method": "create_invoice" } },
            "trial_start": null,
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

/// GET /v1/subscriptions/{id}
pub async fn retrieve(
    State(app): State<Arc<App>>,
    Extension(ctx): Extension<Ctx>,
    Path(id): Path<String>,
    RawQuery(query): RawQuery,
) -> StripeResult<Json<Value>> {
    let params = Params::from_query(query.as_deref())?;
    params.allow(&[])?;
    app.read(|db| {
        let rendered = find(&db.subscriptions, &ctx.scope, &id, None)?.render(db);
        Ok(Json(expand::apply(db, &ctx.scope, rendered, &params.expand()?)?))
    })
}

/// POST /v1/subscriptions/{id}. Price changes take effect at once without proration
/// invoices (see the README's gaps).
pub async fn update(
    State(app): State<Arc<App>>,
    Extension(ctx): Extension<Ctx>,
    Path(id): Path<String>,
    body: Bytes,
) -> StripeResult<Json<Value>> {
    let params = Params::from_form(&body)?;
    params.allow(&[
        "cancel_at_period_end",
        "items",
        "metadata",
        "description",
        "proration_behavior",
        "payment_behavior",
    ])?;
    params.choice("proration_behavior", &["create_prorations", "none", "always_invoice"])?;
    params.choice(
        "payment_behavior",
        &[
            "allow_incomplete",
            "default_incomplete",
            "error_if_incomplete",
            "pending_if_incomplete",
        ],
    )?;
    let cancel_at_period_end = params.bool("cancel_at_period_end")?;
    let metadata = params.metadata()?;
    let description = params.nullable("description")?;
    let mut changes = subscription_items::parse(&params)?;
    let expand = params.expand()?;
    let now = crate::time::now();
    app.mutate(|db| {
        let sub = find(&db.subscriptions, &ctx.scope, &id, None)?.clone();
        if sub.status == "canceled" {
            return Err(StripeError::invalid(
                "A canceled subscription can only update its cancellation_details and metadata.",
            ));
        }
        subscription_items::validate(db, &ctx.scope, &sub, &mut changes)?;
        let new_item_ids: Vec<String> = changes
            .iter()
            .filter(|c| c.id.is_none())
            .map(|_| db.id("si_", 14))
            .collect();
        let rendered = db.update_subscription(&id, &ctx.req, now, |sub| {
            subscription_items::apply(sub, changes, new_item_ids, now);
            if sub.items.is_empty() {
                return Err(StripeError::invalid("A subscription must keep at least one item."));
            }
            if let Some(on) = cancel_at_period_end
                && on != sub.cancel_at_period_end
            {
                set_cancel_at_period_end(sub, on, now);
            }
            if let Some(m) = metadata {
                m.apply(&mut sub.metadata);
            }
            if let Some(d) = description {
                sub.description = d;
            }
            Ok(())
        })?;
        Ok(Json(expand::apply(db, &ctx.scope, rendered, &expand)?))
    })
}

/// DELETE /v1/subscriptions/{id}: cancels at once.
pub async fn cancel(
    State(app): State<Arc<App>>,
    Extension(ctx): Extension<Ctx>,
    Path(id): Path<String>,
    RawQuery(query): RawQuery,
    body: Bytes,
) -> StripeResult<Json<Value>> {
    // The parameters of a DELETE may come in the query or the body.
    let params = if body.is_empty() {
        Params::from_query(query.as_deref())?
    } else {
        Params::from_form(&body)?
    };
    params.allow(&["invoice_now", "prorate", "cancellation_details"])?;
    let expand = params.expand()?;
    let now = crate::time::now();
    app.mutate(|db| {
        find_mut(&mut db.subscriptions, &ctx.scope, &id, None)?;
        let rendered = db.end_subscription(&id, "cancellation_requested", &ctx.req, now)?;
        Ok(Json(expand::apply(db, &ctx.scope, rendered, &expand)?))
    })
}

/// GET /v1/subscriptions: by default every status but `canceled`, as in Stripe.
pub async fn list(
    State(app): State<Arc<App>>,
    Extension(ctx): Extension<Ctx>,
    RawQuery(query): RawQuery,
) -> StripeResult<Json<Value>> {
    let params = Params::from_query(query.as_deref())?;
    params.allow(&[&LIST_PARAMS[..], &["customer", "status", "price"]].concat())?;
    let q = ListQuery::parse(&params)?;
    let customer = params.str("customer")?;
    let price = params.str("price")?;
    let status = params.choice(
        "status",
        &[
            "active",
            "all",
            "canceled",
            "ended",
            "incomplete",
            "incomplete_expired",
            "past_due",
            "paused",
            "trialing",
            "unpaid",
        ],
    )?;
    app.read(|db| {
        let items: Vec<&Subscription> = db
            .subscriptions
            .values()
            .filter(|s| s.scope() == &ctx.scope)
            .filter(|s| customer.as_ref().is_none_or(|c| &s.customer == c))
            .filter(|s| price.as_ref().is_none_or(|p| s.items.iter().any(|i| &i.price == p)))
            .filter(|s| match status.as_deref() {
                None => s.status != "canceled",
                Some("all") => true,
                Some("ended") => s.status == "canceled",
                Some(st) => s.status == st,
            })
            .collect();
        let (items, has_more) = page(items, &q)?;
        let data = items.iter().map(|s| s.render(db)).collect();
        Ok(Json(expand::apply(
            db,
            &ctx.scope,
            list_object("/v1/subscriptions", data, has_more),
            &params.expand()?,
        )?))
    })
}
