//! Charges: the money movement behind a succeeded payment intent (checkout, invoices,
//! renewals). Created with the payment, refunded by `refunds.rs`, disputed by `disputes.rs`;
//! retrieve and list.

use std::collections::BTreeMap;
use std::sync::Arc;

use axum::extract::{Path, RawQuery, State};
use axum::{Extension, Json};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use super::auth::Ctx;
use super::error::StripeResult;
use super::events::ReqInfo;
use super::list::{Filter, list_filtered, retrieve_one};
use crate::App;
use crate::record;
use crate::state::{Db, Scope};

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Charge {
    pub id: String,
    pub scope: Scope,
    pub seq: u64,
    pub created: i64,
    pub amount: i64,
    pub amount_refunded: i64,
    pub currency: String,
    pub customer: Option<String>,
    pub description: Option<String>,
    pub payment_intent: String,
    pub metadata: BTreeMap<String, String>,
    pub receipt_email: Option<String>,
    pub disputed: bool,
}
record!(Charge, "charge");

impl Charge {
    /// What is left to refund (or to dispute).
    pub fn unrefunded(&self) -> i64 {
        self.amount - self.amount_refunded
    }

    pub fn render(&self) -> Value {
        json!({
            "id": self.id,
            "object": "charge",
            "amount": self.amount,
            "amount_captured": self.amount,
            "amount_refunded": self.amount_refunded,
            "application": null,
            "application_fee": null,
            "application_fee_amount": null,
            "balance_transaction": null,
            "billing_details": {
                "address": null,
                "email": self.receipt_email,
                "name": null,
                "phone": null,
                "tax_id": null,
            },
            "calculated_statement_descriptor": null,
            "captured": true,
            "created": self.created,
            "currency": self.currency,
            "customer": self.customer,
            "description": self.description,
            "disputed": self.disputed,
            "failure_balance_transaction": null,
            "failure_code": null,
            "failure_message": null,
            "fraud_details": {},
            "livemode": self.scope.livemode,
            "metadata": self.metadata,
            "on_behalf_of": null,
            "outcome": {
                "advice_code": null,
                "network_advice_code": null,
                "network_decline_code": null,
                "network_status": "approved_by_network",
                "reason": null,
                "seller_message": "Payment complete.",
                "type": "authorized",
            },
            "paid": true,
            "payment_intent": self.payment_intent,
            "payment_method": null,
            "payment_method_details": null,
            "receipt_email": self.receipt_email,
            "receipt_number": null,
            "receipt_url": null,
            // Stripe's `refunded` means fully refunded; a partial refund leaves it false.
            "refunded": self.amount_refunded >= self.amount,
            "review": null,
            "shipping": null,
            "source": null,
            "source_transfer": null,
            "statement_descriptor": null,
            "statement_descriptor_suffix": null,
            "status": "succeeded",
            "transfer_data": null,
            "transfer_group": null,
        })
    }
}

impl Db {
    /// Records that the payment intent `pi` has just been paid: its charge (linked as
    /// `latest_charge`) with `charge.succeeded`, then `payment_intent.succeeded`, the order
    /// in which Stripe sends them.
    pub fn payment_succeeded(&mut self, pi: &str, req: &ReqInfo, now: i64) {
        self.create_charge(pi, req, now);
        if let Some(p) = self.payment_intents.get(pi) {
            let (scope, rendered) = (p.scope.clone(), p.render());
            self.emit(&scope, "payment_intent.succeeded", rendered, None, req, now);
        }
    }

    fn create_charge(&mut self, pi: &str, req: &ReqInfo, now: i64) {
        // Stripe charges nothing for a zero amount, so such a payment has no charge.
        let Some(intent) = self.payment_intents.get(pi).filter(|p| p.amount > 0).cloned() else {
            return;
        };
        let id = self.id("ch_", 24);
        let seq = self.next_seq();
        let charge = Charge {
            id: id.clone(),
            scope: intent.scope.clone(),
            seq,
            created: now,
            amount: intent.amount,
            amount_refunded: 0,
            currency: intent.currency.clone(),
            customer: intent.customer.clone(),
            description: intent.description.clone(),
            payment_intent: intent.id.clone(),
            // Stripe copies the payment intent's metadata onto its charges.
            metadata: intent.metadata.clone(),
            receipt_email: intent.receipt_email.clone(),
            disputed: false,
        };
        let rendered = charge.render();
        self.charges.insert(id.clone(), charge);
        if let Some(p) = self.payment_intents.get_mut(pi) {
            p.latest_charge = Some(id);
        }
        self.emit(&intent.scope, "charge.succeeded", rendered, None, req, now);
    }
}

/// GET /v1/charges/{id}
pub async fn retrieve(
    State(app): State<Arc<App>>,
    Extension(ctx): Extension<Ctx>,
    Path(id): Path<String>,
    RawQuery(query): RawQuery,
) -> StripeResult<Json<Value>> {
    retrieve_one(&app, &ctx, query.as_deref(), (|db| &db.charges, &id), Charge::render)
}

/// GET /v1/charges
pub async fn list(
    State(app): State<Arc<App>>,
    Extension(ctx): Extension<Ctx>,
    RawQuery(query): RawQuery,
) -> StripeResult<Json<Value>> {
    let filters: [Filter<Charge>; 2] = [
        ("customer", |c| c.customer.as_deref()),
        ("payment_intent", |c| Some(c.payment_intent.as_str())),
    ];
    list_filtered(
        &app,
        &ctx,
        query.as_deref(),
        ("/v1/charges", |db| &db.charges),
        &filters,
        Charge::render,
    )
}
