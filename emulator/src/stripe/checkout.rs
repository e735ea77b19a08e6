//! Checkout Sessions (`payment` and `subscription` mode): create, retrieve, list, expire,
//! line items. Creating one is `checkout_create.rs`, its automatic tax `checkout_tax.rs`,
//! paying it `payment.rs`; its hosted page is `hosted.rs`.

use std::collections::BTreeMap;
use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{Path, RawQuery, State};
use axum::{Extension, Json};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use super::auth::Ctx;
use super::checkout_tax::CustomerUpdate;
use super::discounts::Applied;
use super::error::{StripeError, StripeResult};
use super::events::ReqInfo;
use super::list::{LIST_PARAMS, ListQuery, list as list_object, page};
use super::params::Params;
use super::tax::{self, Address, TaxAmount};
use super::{Record, expand, find};
use crate::App;
use crate::record;
use crate::state::{Db, Scope};

/// Stripe's default lifetime of a session.
pub const LIFETIME_SECONDS: i64 = 24 * 3600;

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct SessionLine {
    pub id: String,
    pub price: String,
    /// None for a metered price: its quantity is the usage billed later.
    pub quantity: Option<i64>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct CheckoutSession {
    pub id: String,
    pub scope: Scope,
    pub seq: u64,
    pub created: i64,
    pub expires_at: i64,
    pub mode: String,
    pub status: String,
    pub payment_status: String,
    pub lines: Vec<SessionLine>,
    pub currency: String,
    pub amount_subtotal: i64,
    pub amount_total: i64,
    pub customer: Option<String>,
    pub customer_email: Option<String>,
    pub customer_creation: Option<String>,
    /// The email the buyer paid with, shown as `customer_details.email` once complete.
    pub details_email: Option<String>,
    pub client_reference_id: Option<String>,
    pub metadata: BTreeMap<String, String>,
    pub success_url: Option<String>,
    pub cancel_url: Option<String>,
    pub subscription_metadata: BTreeMap<String, String>,
    pub subscription_description: Option<String>,
    pub payment_intent_metadata: BTreeMap<String, String>,
    pub payment_intent_description: Option<String>,
    pub subscription: Option<String>,
    pub payment_intent: Option<String>,
    pub invoice: Option<String>,
    pub allow_promotion_codes: Option<bool>,
    pub billing_address_collection: Option<String>,
    pub locale: Option<String>,
    pub submit_type: Option<String>,
    /// `subscription_data[trial_period_days]` or `[trial_end]`: the subscription starts with a
    /// trial (its length counted from completion). Added after the first saved states, hence
    /// the defaults.
    #[serde(default)]
    pub trial_period_days: Option<i64>,
    #[serde(default)]
    pub trial_end: Option<i64>,
    /// `subscription_data[trial_settings][end_behavior][missing_payment_method]`.
    #[serde(default)]
    pub trial_missing_payment_method: Option<String>,
    /// `always` or `if_required` (subscription mode only; None means Stripe's default).
    #[serde(default)]
    pub payment_method_collection: Option<String>,
    /// `discounts[0]` given at creation, or the promotion code the buyer entered.
    #[serde(default)]
    pub discount: Option<Applied>,
    /// `automatic_tax[enabled]`.
    #[serde(default)]
    pub automatic_tax: bool,
    /// `customer_update[...]`: what completing saves onto `customer`.
    #[serde(default)]
    pub customer_update: CustomerUpdate,
    /// The billing address and name given on the page (`customer_details`), once complete.
    #[serde(default)]
    pub details_address: Option<Address>,
    #[serde(default)]
    pub details_name: Option<String>,
    /// Each line's tax once automatic tax knows the address (`automatic_tax.status:
    /// complete`); None before (`requires_location_inputs`) and without automatic tax.
    #[serde(default)]
    pub taxes: Option<Vec<TaxAmount>>,
}
record!(CheckoutSession, "checkout.session");

impl CheckoutSession {
    pub fn has_trial(&self) -> bool {
        self.trial_period_days.is_some() || self.trial_end.is_some()
    }

    /// When the trial of a subscription completed at `now` ends.
    pub fn trial_end_at(&self, now: i64) -> Option<i64> {
        self.trial_end
            .or(self.trial_period_days.map(|days| now + days * 86_400))
    }

    /// What each line costs today: its price × quantity, nothing for a metered price (billed
    /// later) or during a trial.
    pub fn line_amounts(&self, db: &Db) -> Vec<i64> {
        self.lines
            .iter()
            .map(|line| match (db.prices.get(&line.price), line.quantity) {
                (Some(price), Some(quantity)) if !self.has_trial() => price.amount_for(quantity),
                _ => 0,
            })
            .collect()
    }

    /// What the discount takes off each line.
    pub fn discount_shares(&self, db: &Db) -> Vec<i64> {
        let amounts = self.line_amounts(db);
        match &self.discount {
            Some(d) => d.terms.allocate(&amounts, &self.currency),
            None => vec![0; amounts.len()],
        }
    }

    /// The tax of line `at`, once computed.
    pub fn line_tax(&self, at: usize) -> Option<&TaxAmount> {
        self.taxes.as_ref().and_then(|t| t.get(at))
    }

    /// All the tax, inclusive and exclusive (`total_details.amount_tax`).
    pub fn amount_tax(&self) -> i64 {
        self.taxes.iter().flatten().map(|t| t.amount).sum()
    }

    /// Sets `amount_subtotal` and `amount_total` (after the discount, with exclusive tax
    /// added) from the lines.
    pub fn compute_totals(&mut self, db: &Db) {
        self.amount_subtotal = self.line_amounts(db).iter().sum();
        let added: i64 = self.taxes.iter().flatten().map(TaxAmount::added).sum();
        self.amount_total = self.amount_subtotal - self.discount_shares(db).iter().sum::<i64>() + added;
    }

    /// Whether paying asks for a card. `if_required` skips it when nothing is due today (a
    /// trial, or a discount of everything); a payment of nothing never needs one.
    pub fn collects_payment_method(&self) -> bool {
        let optional = self.mode == "payment" || self.payment_method_collection.as_deref() == Some("if_required");
        !(optional && self.amount_total == 0)
    }

    pub fn hosted_url(&self, db: &Db) -> String {
        format!("{}/checkout/{}", db.base_url, self.id)
    }

    /// The success URL with Stripe's `{CHECKOUT_SESSION_ID}` template filled in.
    pub fn success_redirect(&self) -> Option<String> {
        self.success_url
            .as_ref()
            .map(|u| u.replace("{CHECKOUT_SESSION_ID}", &self.id))
    }

    pub fn render(&self, db: &Db) -> Value {
        let complete = self.status == "complete";
        let customer_details = complete.then(|| {
            let email = self.details_email.clone().or_else(|| {
                self.customer
                    .as_ref()
                    .and_then(|c| db.customers.get(c))
                    .and_then(|c| c.email.clone())
            });
            json!({
                "address": self.details_address.as_ref().map(Address::render),
                "email": email,
                "name": self.details_name,
                "phone": null,
                "tax_exempt": "none",
                "tax_ids": [],
                "business_name": null,
                "individual_name": null,
            })
        });
        let invoice_creation = (self.mode == "payment").then(|| {
            json!({
                "enabled": false,
                "invoice_data": {
                    "account_tax_ids": null,
                    "custom_fields": null,
                    "description": null,
                    "footer": null,
                    "issuer": null,
                    "metadata": {},
                    "rendering_options": null,
                },
            })
        });
        json!({
            "id": self.id,
            "object": "checkout.session",
            "adaptive_pricing": { "enabled": false },
            "after_expiration": null,
            "allow_promotion_codes": self.allow_promotion_codes,
            "amount_subtotal": self.amount_subtotal,
            "amount_total": self.amount_total,
            "automatic_tax": tax::render_automatic_tax(
                self.automatic_tax,
                Some(if self.taxes.is_some() { "complete" } else { "requires_location_inputs" }),
            ),
            "billing_address_collection": self.billing_address_collection,
            "cancel_url": self.cancel_url,
            "client_reference_id": self.client_reference_id,
            "client_secret": null,
            "collected_information": null,
            "consent": null,
            "consent_collection": null,
            "created": self.created,
            "currency": self.currency,
            "currency_conversion": null,
            "custom_fields": [],
            "custom_text": {
                "after_submit": null,
                "shipping_address": null,
                "submit": null,
                "terms_of_service_acceptance": null,
            },
            "customer": self.customer,
            "customer_account": null,
            "customer_creation": self.customer_creation,
            "customer_details": customer_details,
            "customer_email": self.customer_email,
            "discounts": self.discount.iter().map(Applied::render).collect::<Vec<_>>(),
            "expires_at": self.expires_at,
            "integration_identifier": null,
            "invoice": self.invoice,
            "invoice_creation": invoice_creation,
            "livemode": self.scope.livemode,
            "locale": self.locale,
            "managed_payments": null,
            "metadata": self.metadata,
            "mode": self.mode,
            "origin_context": null,
            "payment_intent": self.payment_intent,
            "payment_link": null,
            "payment_method_collection": if self.mode == "subscription" {
                json!(self.payment_method_collection.as_deref().unwrap_or("always"))
            } else {
                Value::Null
            },
            "payment_method_configuration_details": null,
            "payment_method_options": {},
            "payment_method_types": ["card"],
            "payment_status": self.payment_status,
            "permissions": null,
            "phone_number_collection": { "enabled": false },
            "recovered_from": null,
            "saved_payment_method_options": null,
            "setup_intent": null,
            "shipping_address_collection": null,
            "shipping_cost": null,
            "shipping_options": [],
            "status": self.status,
            "submit_type": self.submit_type,
            "subscription": self.subscription,
            "success_url": self.success_url,
            "total_details": {
                "amount_discount": self.discount_shares(db).iter().sum::<i64>(),
                "amount_shipping": 0,
                "amount_tax": self.amount_tax(),
            },
            "ui_mode": "hosted_page",
            // Stripe removes the URL once the session can no longer be paid.
            "url": if self.status == "open" { json!(self.hosted_url(db)) } else { Value::Null },
            "wallet_options": null,
        })
    }
}

pub fn render_item(db: &Db, session: &CheckoutSession, line: &SessionLine) -> Value {
    let price = db.prices.get(&line.price);
    let description = price.and_then(|p| db.products.get(&p.product)).map(|p| p.name.clone());
    // A trial's items are due later: like the session's total, what they cost today is 0.
    let at = session.lines.iter().position(|l| l.id == line.id).unwrap_or_default();
    let amount = session.line_amounts(db).get(at).copied().unwrap_or_default();
    let discount = session.discount_shares(db).get(at).copied().unwrap_or_default();
    let tax = session.line_tax(at);
    json!({
        "id": line.id,
        "object": "item",
        "amount_discount": discount,
        "amount_subtotal": amount,
        "amount_tax": tax.map_or(0, |t| t.amount),
        "amount_total": amount - discount + tax.map_or(0, TaxAmount::added),
        "currency": price.map(|p| p.currency.clone()),
        "description": description,
        "metadata": {},
        "price": price.map(|p| p.render()),
        "quantity": line.quantity,
    })
}

/// The `line_items` list of a session, as `expand[]=line_items` inlines it.
pub fn line_items_list(db: &Db, session_id: &str) -> Value {
    let data = db
        .checkout_sessions
        .get(session_id)
        .map(|s| s.lines.iter().map(|l| render_item(db, s, l)).collect())
        .unwrap_or_default();
    list_object(&format!("/v1/checkout/sessions/{session_id}/line_items"), data, false)
}

/// GET /v1/checkout/sessions/{id}
pub async fn retrieve(
    State(app): State<Arc<App>>,
    Extension(ctx): Extension<Ctx>,
    Path(id): Path<String>,
    RawQuery(query): RawQuery,
) -> StripeResult<Json<Value>> {
    let params = Params::from_query(query.as_deref())?;
    params.allow(&[])?;
    app.read(|db| {
        let rendered = find(&db.checkout_sessions, &ctx.scope, &id, None)?.render(db);
        Ok(Json(expand::apply(db, &ctx.scope, rendered, &params.expand()?)?))
    })
}

/// GET /v1/checkout/sessions
pub async fn list(
    State(app): State<Arc<App>>,
    Extension(ctx): Extension<Ctx>,
    RawQuery(query): RawQuery,
) -> StripeResult<Json<Value>> {
    let params = Params::from_query(query.as_deref())?;
    params.allow(
        &[
            &LIST_PARAMS[..],
            &["customer", "subscription", "payment_intent", "status"],
        ]
        .concat(),
    )?;
    let q = ListQuery::parse(&params)?;
    let customer = params.str("customer")?;
    let subscription = params.str("subscription")?;
    let payment_intent = params.str("payment_intent")?;
    let status = params.choice("status", &["open", "complete", "expired"])?;
    app.read(|db| {
        let items: Vec<&CheckoutSession> = db
            .checkout_sessions
            .values()
            .filter(|s| s.scope() == &ctx.scope)
            .filter(|s| customer.is_none() || s.customer == customer)
            .filter(|s| subscription.is_none() || s.subscription == subscription)
            .filter(|s| payment_intent.is_none() || s.payment_intent == payment_intent)
            .filter(|s| status.is_none() || Some(&s.status) == status.as_ref())
            .collect();
        let (items, has_more) = page(items, &q)?;
        let data = items.iter().map(|s| s.render(db)).collect();
        Ok(Json(expand::apply(
            db,
            &ctx.scope,
            list_object("/v1/checkout/sessions", data, has_more),
            &params.expand()?,
        )?))
    })
}

/// Expires an open session and records `checkout.session.expired`.
pub fn expire_in(db: &mut Db, scope: &Scope, id: &str, req: &ReqInfo, now: i64) -> StripeResult<Value> {
    let session = super::find_mut(&mut db.checkout_sessions, scope, id, None)?;
    if session.status != "open" {
        return Err(StripeError::invalid(format!(
            "Only Checkout Sessions with a status in [\"open\"] can be expired. This session has status \"{}\".",
            session.status
        )));
    }
    session.status = "expired".into();
    let rendered = db.checkout_sessions.get(id).map(|s| s.render(db)).unwrap_or_default();
    db.emit(scope, "checkout.session.expired", rendered.clone(), None, req, now);
    Ok(rendered)
}

/// POST /v1/checkout/sessions/{id}/expire
pub async fn expire(
    State(app): State<Arc<App>>,
    Extension(ctx): Extension<Ctx>,
    Path(id): Path<String>,
    body: Bytes,
) -> StripeResult<Json<Value>> {
    let params = Params::from_form(&body)?;
    params.allow(&[])?;
    let expand = params.expand()?;
    let now = crate::time::now();
    app.mutate(|db| {
        find(&db.checkout_sessions, &ctx.scope, &id, None)?;
        let rendered = expire_in(db, &ctx.scope, &id, &ctx.req, now)?;
        Ok(Json(expand::apply(db, &ctx.scope, rendered, &expand)?))
    })
}

/// GET /v1/checkout/sessions/{id}/line_items
pub async fn line_items(
    State(app): State<Arc<App>>,
    Extension(ctx): Extension<Ctx>,
    Path(id): Path<String>,
    RawQuery(query): RawQuery,
) -> StripeResult<Json<Value>> {
    let params = Params::from_query(query.as_deref())?;
    params.allow(&LIST_PARAMS)?;
    let q = ListQuery::parse(&params)?;
    app.read(|db| {
        let session = find(&db.checkout_sessions, &ctx.scope, &id, None)?;
        // Line items keep the order they were given in, as Stripe lists them.
        let mut lines: Vec<&SessionLine> = session.lines.iter().collect();
        if let Some(after) = &q.starting_after {
            let pos = lines
                .iter()
                .position(|l| &l.id == after)
                .ok_or_else(|| StripeError::no_such("line item", after, Some("starting_after"), None))?;
            lines = lines.split_off(pos + 1);
        }
        let has_more = lines.len() > q.limit;
        lines.truncate(q.limit);
        let data = lines.iter().map(|l| render_item(db, session, l)).collect();
        let url = format!("/v1/checkout/sessions/{id}/line_items");
        Ok(Json(expand::apply(
            db,
            &ctx.scope,
            list_object(&url, data, has_more),
            &params.expand()?,
        )?))
    })
}
