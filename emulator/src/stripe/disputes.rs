//! Disputes: a buyer contests a payment with their bank. Stripe's test mode opens them with
//! special cards; the emulator with controls (`open`, `close`). Retrieve and list.

use std::collections::BTreeMap;
use std::sync::Arc;

use axum::extract::{Path, RawQuery, State};
use axum::{Extension, Json};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use super::auth::Ctx;
use super::error::{StripeError, StripeResult};
use super::events::ReqInfo;
use super::list::{Filter, list_filtered, retrieve_one};
use crate::App;
use crate::record;
use crate::state::{Db, Scope};

/// The reasons a card network reports, as Stripe lists them.
pub const REASONS: [&str; 15] = [
    "bank_cannot_process",
    "check_returned",
    "credit_not_processed",
    "customer_initiated",
    "debit_not_authorized",
    "duplicate",
    "fraudulent",
    "general",
    "incorrect_account_details",
    "insufficient_funds",
    "noncompliant",
    "product_not_received",
    "product_unacceptable",
    "subscription_canceled",
    "unrecognized",
];

/// Time to answer with evidence; Stripe gives 7 to 21 days depending on the network.
const RESPONSE_WINDOW_SECONDS: i64 = 7 * 24 * 3600;

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Dispute {
    pub id: String,
    pub scope: Scope,
    pub seq: u64,
    pub created: i64,
    pub amount: i64,
    pub charge: String,
    pub payment_intent: String,
    pub currency: String,
    pub reason: String,
    /// `needs_response`, then `won` or `lost`.
    pub status: String,
    pub due_by: i64,
    pub metadata: BTreeMap<String, String>,
}
record!(Dispute, "dispute");

const EVIDENCE_FIELDS: [&str; 27] = [
    "access_activity_log",
    "billing_address",
    "cancellation_policy",
    "cancellation_policy_disclosure",
    "cancellation_rebuttal",
    "customer_communication",
    "customer_email_address",
    "customer_name",
    "customer_purchase_ip",
    "customer_signature",
    "duplicate_charge_documentation",
    "duplicate_charge_explanation",
    "duplicate_charge_id",
    "product_description",
    "receipt",
    "refund_policy",
    "refund_policy_disclosure",
    "refund_refusal_explanation",
    "service_date",
    "service_documentation",
    "shipping_address",
    "shipping_carrier",
    "shipping_date",
    "shipping_documentation",
    "shipping_tracking_number",
    "uncategorized_file",
    "uncategorized_text",
];

impl Dispute {
    pub fn render(&self) -> Value {
        let mut evidence: serde_json::Map<String, Value> =
            EVIDENCE_FIELDS.iter().map(|f| (f.to_string(), Value::Null)).collect();
        evidence.insert("enhanced_evidence".into(), json!({}));
        json!({
            "id": self.id,
            "object": "dispute",
            "amount": self.amount,
            "balance_transactions": [],
            "charge": self.charge,
            "created": self.created,
            "currency": self.currency,
            "enhanced_eligibility_types": [],
            "evidence": evidence,
            "evidence_details": {
                "due_by": self.due_by,
                "enhanced_eligibility": {},
                "has_evidence": false,
                "past_due": false,
                "submission_count": 0,
            },
            // A chargeback (unlike an inquiry) can no longer be refunded.
            "is_charge_refundable": false,
            "livemode": self.scope.livemode,
            "metadata": self.metadata,
            "payment_intent": self.payment_intent,
            "payment_method_details": null,
            "reason": self.reason,
            "status": self.status,
        })
    }
}

/// The dispute control: the buyer disputes the payment intent `pi` (of any scope) for what
/// was not refunded. Records `charge.dispute.created` then `charge.dispute.funds_withdrawn`.
pub fn open(db: &mut Db, pi: &str, reason: Option<String>, now: i64) -> StripeResult<Value> {
    let intent = db
        .payment_intents
        .get(pi)
        .ok_or_else(|| StripeError::no_such("payment_intent", pi, None, None))?;
    let reason = reason.unwrap_or_else(|| "fraudulent".into());
    if !REASONS.contains(&reason.as_str()) {
        return Err(
            StripeError::invalid(format!("Invalid reason: must be one of {}", REASONS.join(", "))).param("reason"),
        );
    }
    let charge = (intent.latest_charge.as_ref())
        .and_then(|c| db.charges.get(c))
        .ok_or_else(|| StripeError::invalid(format!("The PaymentIntent {pi} has no successful charge to dispute.")))?
        .clone();
    if charge.disputed {
        return Err(StripeError::invalid(format!(
            "Charge {} has already been disputed.",
            charge.id
        )));
    }
    if charge.unrefunded() <= 0 {
        return Err(StripeError::invalid(format!(
            "Charge {} has been fully refunded; there is nothing to dispute.",
            charge.id
        )));
    }
    let id = db.id("du_", 24);
    let seq = db.next_seq();
    let dispute = Dispute {
        id: id.clone(),
        scope: charge.scope.clone(),
        seq,
        created: now,
        amount: charge.unrefunded(),
        charge: charge.id.clone(),
        payment_intent: charge.payment_intent.clone(),
        currency: charge.currency.clone(),
        reason,
        status: "needs_response".into(),
        due_by: now + RESPONSE_WINDOW_SECONDS,
        metadata: BTreeMap::new(),
    };
    let rendered = dispute.render();
    db.disputes.insert(id, dispute);
    if let Some(c) = db.charges.get_mut(&charge.id) {
        c.disputed = true;
    }
    let req = ReqInfo::none();
    db.emit(
        &charge.scope,
        "charge.dispute.created",
        rendered.clone(),
        None,
        &req,
        now,
    );
    db.emit(
        &charge.scope,
        "charge.dispute.funds_withdrawn",
        rendered.clone(),
        None,
        &req,
        now,
    );
    Ok(rendered)
}

/// The closing control: the bank decides, `won` or `lost`. A won dispute returns the funds
/// (`charge.dispute.funds_reinstated`) before `charge.dispute.closed`.
pub fn close(db: &mut Db, id: &str, outcome: Option<&str>, now: i64) -> StripeResult<Value> {
    let dispute = db
        .disputes
        .get_mut(id)
        .ok_or_else(|| StripeError::no_such("dispute", id, None, None))?;
    let outcome = match outcome {
        None => return Err(StripeError::missing("outcome")),
        Some(o @ ("won" | "lost")) => o,
        Some(_) => {
            return Err(StripeError::invalid("Invalid outcome: must be one of won, lost").param("outcome"));
        }
    };
    if dispute.status != "needs_response" {
        return Err(StripeError::invalid(format!(
            "The dispute {id} is already closed (status \"{}\").",
            dispute.status
        )));
    }
    dispute.status = outcome.into();
    let (scope, rendered) = (dispute.scope.clone(), dispute.render());
    let req = ReqInfo::none();
    if outcome == "won" {
        db.emit(
            &scope,
            "charge.dispute.funds_reinstated",
            rendered.clone(),
            None,
            &req,
            now,
        );
    }
    db.emit(&scope, "charge.dispute.closed", rendered.clone(), None, &req, now);
    Ok(rendered)
}

/// GET /v1/disputes/{id}
pub async fn retrieve(
    State(app): State<Arc<App>>,
    Extension(ctx): Extension<Ctx>,
    Path(id): Path<String>,
    RawQuery(query): RawQuery,
) -> StripeResult<Json<Value>> {
    retrieve_one(&app, &ctx, query.as_deref(), (|db| &db.disputes, &id), Dispute::render)
}

/// GET /v1/disputes
pub async fn list(
    State(app): State<Arc<App>>,
    Extension(ctx): Extension<Ctx>,
    RawQuery(query): RawQuery,
) -> StripeResult<Json<Value>> {
    let filters: [Filter<Dispute>; 2] = [
        ("charge", |d| Some(d.charge.as_str())),
        ("payment_intent", |d| Some(d.payment_intent.as_str())),
    ];
    list_filtered(
        &app,
        &ctx,
        query.as_deref(),
        ("/v1/disputes", |db| &db.disputes),
        &filters,
        Dispute::render,
    )
}
