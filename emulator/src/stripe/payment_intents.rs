//! PaymentIntents as checkout and renewals produce them: retrieve and list.

use std::collections::BTreeMap;
use std::sync::Arc;

use axum::extract::{Path, RawQuery, State};
use axum::{Extension, Json};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use super::auth::Ctx;
use super::error::StripeResult;
use super::list::{LIST_PARAMS, ListQuery, list as list_object, page};
use super::params::Params;
use super::{Record, expand, find};
use crate::App;
use crate::record;
use crate::state::{Db, Scope};

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct PaymentError {
    pub code: String,
    pub decline_code: Option<String>,
    pub message: String,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct PaymentIntent {
    pub id: String,
    pub scope: Scope,
    pub seq: u64,
    pub created: i64,
    pub amount: i64,
    pub currency: String,
    pub customer: Option<String>,
    pub description: Option<String>,
    pub metadata: BTreeMap<String, String>,
    pub status: String,
    pub client_secret: String,
    pub receipt_email: Option<String>,
    pub last_error: Option<PaymentError>,
    /// The charge that paid it (`charges.rs`); none while unpaid. `default`: states saved
    /// before charges existed load without one.
    #[serde(default)]
    pub latest_charge: Option<String>,
}
record!(PaymentIntent, "payment_intent");

impl PaymentIntent {
    pub fn render(&self) -> Value {
        let succeeded = self.status == "succeeded";
        json!({
            "id": self.id,
            "object": "payment_intent",
            "amount": self.amount,
            "amount_capturable": 0,
            "amount_details": { "tip": {} },
            "amount_received": if succeeded { self.amount } else { 0 },
            "application": null,
            "application_fee_amount": null,
            "automatic_payment_methods": null,
            "canceled_at": null,
            "cancellation_reason": null,
            "capture_method": "automatic",
            "client_secret": self.client_secret,
            "confirmation_method": "automatic",
            "created": self.created,
            "currency": self.currency,
            "customer": self.customer,
            "customer_account": null,
            "description": self.description,
            "excluded_payment_method_types": null,
            "last_payment_error": self.last_error.as_ref().map(|e| json!({
                "type": "card_error",
                "code": e.code,
                "decline_code": e.decline_code,
                "message": e.message,
            })),
            "latest_charge": self.latest_charge,
            "livemode": self.scope.livemode,
            "managed_payments": null,
            "metadata": self.metadata,
            "next_action": null,
            "on_behalf_of": null,
            "payment_method": null,
            "payment_method_configuration_details": null,
            "payment_method_options": {},
            "payment_method_types": ["card"],
            "processing": null,
            "receipt_email": self.receipt_email,
            "review": null,
            "setup_future_usage": null,
            "shipping": null,
            "source": null,
            "statement_descriptor": null,
            "statement_descriptor_suffix": null,
            "status": self.status,
            "transfer_data": null,
            "transfer_group": null,
        })
    }
}

impl Db {
    /// A payment intent that has already been charged (`succeeded`) or declined
    /// (`requires_payment_method` with the card error).
    #[allow(clippy::too_many_arguments)]
    pub fn create_payment_intent(
        &mut self,
        scope: &Scope,
        amount: i64,
        currency: &str,
        customer: Option<String>,
        description: Option<String>,
        metadata: BTreeMap<String, String>,
        receipt_email: Option<String>,
        last_error: Option<PaymentError>,
        now: i64,
    ) -> String {
        let id = self.id("pi_", 24);
        let secret = format!("{id}_secret_{}", self.ids.chars(25));
        let seq = self.next_seq();
        let status = if last_error.is_some() {
            "requires_payment_method"
        } else {
            "succeeded"
        };
        self.payment_intents.insert(
            id.clone(),
            PaymentIntent {
                id: id.clone(),
                scope: scope.clone(),
                seq,
                created: now,
                amount,
                currency: currency.to_string(),
                customer,
                description,
                metadata,
                status: status.into(),
                client_secret: secret,
                receipt_email,
                last_error,
                latest_charge: None,
            },
        );
        id
    }
}

/// GET /v1/payment_intents/{id}
pub async fn retrieve(
    State(app): State<Arc<App>>,
    Extension(ctx): Extension<Ctx>,
    Path(id): Path<String>,
    RawQuery(query): RawQuery,
) -> StripeResult<Json<Value>> {
    let params = Params::from_query(query.as_deref())?;
    params.allow(&["client_secret"])?;
    app.read(|db| {
        let rendered = find(&db.payment_intents, &ctx.scope, &id, None)?.render();
        Ok(Json(expand::apply(db, &ctx.scope, rendered, &params.expand()?)?))
    })
}

/// GET /v1/payment_intents
pub async fn list(
    State(app): State<Arc<App>>,
    Extension(ctx): Extension<Ctx>,
    RawQuery(query): RawQuery,
) -> StripeResult<Json<Value>> {
    let params = Params::from_query(query.as_deref())?;
    params.allow(&[&LIST_PARAMS[..], &["customer"]].concat())?;
    let q = ListQuery::parse(&params)?;
    let customer = params.str("customer")?;
    app.read(|db| {
        let items: Vec<&PaymentIntent> = db
            .payment_intents
            .values()
            .filter(|p| p.scope() == &ctx.scope)
            .filter(|p| customer.is_none() || p.customer == customer)
            .collect();
        let (items, has_more) = page(items, &q)?;
        let data = items.iter().map(|p| p.render()).collect();
        Ok(Json(expand::apply(
            db,
            &ctx.scope,
            list_object("/v1/payment_intents", data, has_more),
            &params.expand()?,
        )?))
    })
}
