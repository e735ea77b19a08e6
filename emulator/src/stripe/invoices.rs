//! Invoices as subscriptions produce them (first payment and renewals): retrieve and list.
//! Each line names its price in `pricing.price_details`, where current API versions put it,
//! and its tax in `taxes` (automatic tax), summed per rate in the invoice's `total_taxes`.

use std::collections::BTreeMap;
use std::sync::Arc;

use axum::extract::{Path, RawQuery, State};
use axum::{Extension, Json};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use super::auth::Ctx;
use super::error::StripeResult;
use super::list::{LIST_PARAMS, ListQuery, list as list_object, page, retrieve_one};
use super::params::Params;
use super::tax::{self, Address, TaxAmount};
use super::{Record, expand};
use crate::App;
use crate::record;
use crate::state::{Db, Scope};

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct InvoiceLine {
    pub id: String,
    pub amount: i64,
    pub description: String,
    pub quantity: i64,
    pub period_start: i64,
    pub period_end: i64,
    pub subscription_item: Option<String>,
    /// The price billed and its product (`pricing.price_details`) and the price's unit
    /// amount. Added after the first saved states, hence `default`.
    #[serde(default)]
    pub price: Option<String>,
    #[serde(default)]
    pub product: Option<String>,
    #[serde(default)]
    pub unit_amount_decimal: Option<String>,
    /// What each of the invoice's discounts takes off this line (`amount` stays before them).
    #[serde(default)]
    pub discount_amounts: Vec<DiscountAmount>,
    /// Its tax, computed on the amount after discounts (automatic tax).
    #[serde(default)]
    pub taxes: Vec<TaxAmount>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DiscountAmount {
    pub discount: String,
    pub amount: i64,
}

impl DiscountAmount {
    fn render(&self) -> Value {
        json!({ "amount": self.amount, "discount": self.discount })
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Invoice {
    pub id: String,
    pub scope: Scope,
    pub seq: u64,
    pub created: i64,
    pub customer: String,
    pub customer_email: Option<String>,
    pub customer_name: Option<String>,
    pub subscription: Option<String>,
    pub subscription_metadata: BTreeMap<String, String>,
    pub billing_reason: String,
    pub currency: String,
    pub lines: Vec<InvoiceLine>,
    /// After discounts and with exclusive tax; `subtotal` is before both (None in states
    /// saved before discounts existed, where it equals the total).
    pub total: i64,
    #[serde(default)]
    pub subtotal: Option<i64>,
    /// The discounts (`di_...`) applied, each with what it took off in all.
    #[serde(default)]
    pub discount_amounts: Vec<DiscountAmount>,
    /// `paid` or `open` (a failed renewal waits for the next attempt).
    pub status: String,
    pub attempt_count: u32,
    pub period_start: i64,
    pub period_end: i64,
    pub number: String,
    pub paid_at: Option<i64>,
    pub next_payment_attempt: Option<i64>,
    pub payment_intent: Option<String>,
    /// The subscription's automatic tax, and the customer's address it was computed from
    /// (`customer_address`, as it was when the invoice was finalized).
    #[serde(default)]
    pub automatic_tax: bool,
    #[serde(default)]
    pub customer_address: Option<Address>,
    /// The subtotal without the inclusive tax it holds (None: no tax, the subtotal).
    #[serde(default)]
    pub subtotal_excluding_tax: Option<i64>,
}
record!(Invoice, "invoice");

impl Invoice {
    /// Every tax on the invoice, inclusive and exclusive.
    fn amount_tax(&self) -> i64 {
        self.lines.iter().flat_map(|l| &l.taxes).map(|t| t.amount).sum()
    }

    /// Automatic tax needs the customer's location; without it Stripe finalizes the invoice
    /// with automatic tax disabled, saying why.
    fn render_automatic_tax(&self) -> Value {
        let located = self
            .customer_address
            .as_ref()
            .is_some_and(|a| a.tax_country().is_some());
        let mut rendered = tax::render_automatic_tax(self.automatic_tax && located, Some("complete"));
        let reason = (self.automatic_tax && !located).then_some("finalization_requires_location_inputs");
        rendered["disabled_reason"] = json!(reason);
        rendered
    }

    pub fn render(&self) -> Value {
        let paid = self.status == "paid";
        let lines: Vec<Value> = self
            .lines
            .iter()
            .map(|l| {
                json!({
                    "id": l.id,
                    "object": "line_item",
                    "amount": l.amount,
                    "currency": self.currency,
                    "description": l.description,
                    "discount_amounts": l.discount_amounts.iter().map(DiscountAmount::render).collect::<Vec<_>>(),
                    "discountable": true,
                    "discounts": [],
                    "invoice": self.id,
                    "livemode": self.scope.livemode,
                    "metadata": {},
                    "parent": {
                        "invoice_item_details": null,
                        "subscription_item_details": {
                            "invoice_item": null,
                            "proration": false,
                            "proration_details": { "credited_items": null },
                            "subscription": self.subscription,
                            "subscription_item": l.subscription_item,
                        },
                        "type": "subscription_item_details",
                    },
                    "period": { "end": l.period_end, "start": l.period_start },
                    "pretax_credit_amounts": [],
                    "pricing": {
                        "price_details": l.price.as_ref().map(|price| json!({ "price": price, "product": l.product })),
                        "type": "price_details",
                        "unit_amount_decimal": l.unit_amount_decimal.clone()
                            .unwrap_or_else(|| (l.amount / l.quantity.max(1)).to_string()),
                    },
                    "quantity": l.quantity,
                    "quantity_decimal": null,
                    "subscription": self.subscription,
                    "subtotal": l.amount,
                    "taxes": l.taxes.iter().map(TaxAmount::render).collect::<Vec<_>>(),
                })
            })
            .collect();
        json!({
            "id": self.id,
            "object": "invoice",
            "account_country": "US",
            "account_name": null,
            "account_tax_ids": null,
            "amount_due": self.total,
            "amount_overpaid": 0,
            "amount_paid": if paid { self.total } else { 0 },
            "amount_remaining": if paid { 0 } else { self.total },
            "amount_shipping": 0,
            "application": null,
            "attempt_count": self.attempt_count,
            // A $0 invoice is settled without an attempt, and still counts as attempted.
            "attempted": self.attempt_count > 0 || paid,
            "auto_advance": !paid,
            "automatic_tax": self.render_automatic_tax(),
            "automatically_finalizes_at": null,
            "billing_reason": self.billing_reason,
            "collection_method": "charge_automatically",
            "created": self.created,
            "currency": self.currency,
            "custom_fields": null,
            "customer": self.customer,
            "customer_account": null,
            "customer_address": self.customer_address.as_ref().map(Address::render),
            "customer_email": self.customer_email,
            "customer_name": self.customer_name,
            "customer_phone": null,
            "customer_shipping": null,
            "customer_tax_exempt": "none",
            "customer_tax_ids": [],
            "default_payment_method": null,
            "default_source": null,
            "default_tax_rates": [],
            "description": null,
            "discounts": self.discount_amounts.iter().map(|d| d.discount.clone()).collect::<Vec<_>>(),
            "due_date": null,
            "effective_at": self.created,
            "ending_balance": 0,
            "footer": null,
            "from_invoice": null,
            "hosted_invoice_url": null,
            "invoice_pdf": null,
            "issuer": { "type": "self" },
            "last_finalization_error": null,
            "latest_revision": null,
            "lines": list_object(&format!("/v1/invoices/{}/lines", self.id), lines, false),
            "livemode": self.scope.livemode,
            "metadata": {},
            "next_payment_attempt": self.next_payment_attempt,
            "number": self.number,
            "on_behalf_of": null,
            "parent": self.subscription.as_ref().map(|sub| json!({
                "quote_details": null,
                "subscription_details": { "metadata": self.subscription_metadata, "subscription": sub },
                "type": "subscription_details",
            })),
            "payment_settings": { "default_mandate": null, "payment_method_options": null, "payment_method_types": null },
            "period_end": self.period_end,
            "period_start": self.period_start,
            "post_payment_credit_notes_amount": 0,
            "pre_payment_credit_notes_amount": 0,
            "receipt_number": null,
            "rendering": null,
            "shipping_cost": null,
            "shipping_details": null,
            "starting_balance": 0,
            "statement_descriptor": null,
            "status": self.status,
            "status_transitions": {
                "finalized_at": self.created,
                "marked_uncollectible_at": null,
                "paid_at": self.paid_at,
                "voided_at": null,
            },
            "subscription": self.subscription,
            "subtotal": self.subtotal.unwrap_or(self.total),
            "subtotal_excluding_tax": self.subtotal_excluding_tax.or(self.subtotal).unwrap_or(self.total),
            "test_clock": null,
            "total": self.total,
            "total_discount_amounts": self.discount_amounts.iter().map(DiscountAmount::render).collect::<Vec<_>>(),
            "total_excluding_tax": self.total - self.amount_tax(),
            "total_pretax_credit_amounts": [],
            "total_taxes": tax::totals(self.lines.iter().flat_map(|l| &l.taxes))
                .iter()
                .map(TaxAmount::render)
                .collect::<Vec<_>>(),
            "webhooks_delivered_at": self.created,
        })
    }
}

impl Db {
    /// The next invoice number of a customer (`PREFIX-0001`), advancing their sequence.
    pub fn next_invoice_number(&mut self, customer: &str) -> String {
        match self.customers.get_mut(customer) {
            Some(c) => {
                let n = c.next_invoice_sequence;
                c.next_invoice_sequence += 1;
                format!("{}-{n:04}", c.invoice_prefix)
            }
            None => format!("{}-0001", self.ids.chars(8).to_ascii_uppercase()),
        }
    }
}

/// GET /v1/invoices/{id}
pub async fn retrieve(
    State(app): State<Arc<App>>,
    Extension(ctx): Extension<Ctx>,
    Path(id): Path<String>,
    RawQuery(query): RawQuery,
) -> StripeResult<Json<Value>> {
    retrieve_one(&app, &ctx, query.as_deref(), (|db| &db.invoices, &id), Invoice::render)
}

/// GET /v1/invoices
pub async fn list(
    State(app): State<Arc<App>>,
    Extension(ctx): Extension<Ctx>,
    RawQuery(query): RawQuery,
) -> StripeResult<Json<Value>> {
    let params = Params::from_query(query.as_deref())?;
    params.allow(&[&LIST_PARAMS[..], &["customer", "subscription", "status"]].concat())?;
    let q = ListQuery::parse(&params)?;
    let customer = params.str("customer")?;
    let subscription = params.str("subscription")?;
    let status = params.str("status")?;
    app.read(|db| {
        let items: Vec<&Invoice> = db
            .invoices
            .values()
            .filter(|i| i.scope() == &ctx.scope)
            .filter(|i| customer.as_ref().is_none_or(|c| &i.customer == c))
            .filter(|i| subscription.is_none() || i.subscription == subscription)
            .filter(|i| status.as_ref().is_none_or(|s| &i.status == s))
            .collect();
        let (items, has_more) = page(items, &q)?;
        let data = items.iter().map(|i| i.render()).collect();
        Ok(Json(expand::apply(
            db,
            &ctx.scope,
            list_object("/v1/invoices", data, has_more),
            &params.expand()?,
        )?))
    })
}
