//! Refunds of a charge, in whole or in parts: create (by charge or payment intent),
//! retrieve, list. Every refund succeeds at once, as card refunds do in Stripe's test mode.

use std::collections::BTreeMap;
use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{Path, RawQuery, State};
use axum::{Extension, Json};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use super::auth::Ctx;
use super::charges::Charge;
use super::error::{StripeError, StripeResult};
use super::events::{ReqInfo, diff};
use super::list::{Filter, list as list_object, list_filtered, retrieve_one};
use super::params::Params;
use super::{expand, find};
use crate::App;
use crate::html::money;
use crate::record;
use crate::state::{Db, Scope};

pub const REASONS: [&str; 3] = ["duplicate", "fraudulent", "requested_by_customer"];

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Refund {
    pub id: String,
    pub scope: Scope,
    pub seq: u64,
    pub created: i64,
    pub amount: i64,
    pub charge: String,
    pub payment_intent: String,
    pub currency: String,
    pub metadata: BTreeMap<String, String>,
    pub reason: Option<String>,
}
record!(Refund, "refund");

impl Refund {
    pub fn render(&self) -> Value {
        json!({
            "id": self.id,
            "object": "refund",
            "amount": self.amount,
            "balance_transaction": null,
            "charge": self.charge,
            "created": self.created,
            "currency": self.currency,
            "customer": null,
            "customer_account": null,
            "destination_details": { "card": { "type": "refund" }, "type": "card" },
            "metadata": self.metadata,
            "payment_intent": self.payment_intent,
            "payment_method": null,
            "reason": self.reason,
            "receipt_number": null,
            "source_transfer_reversal": null,
            "status": "succeeded",
            "transfer_reversal": null,
        })
    }
}

/// The refunds of a charge as `expand[]=refunds` inlines them (Stripe stopped including
/// them by default in 2022-11-15).
pub fn charge_refunds_list(db: &Db, charge: &str) -> Value {
    let mut refunds: Vec<&Refund> = db.refunds.values().filter(|r| r.charge == charge).collect();
    refunds.sort_by_key(|r| std::cmp::Reverse(r.seq));
    let data = refunds.iter().map(|r| r.render()).collect();
    list_object(&format!("/v1/charges/{charge}/refunds"), data, false)
}

/// What is being refunded: a charge named directly, or a payment intent's latest charge.
fn target_charge(db: &Db, scope: &Scope, charge: Option<&str>, payment_intent: Option<&str>) -> StripeResult<String> {
    match (charge, payment_intent) {
        (Some(_), Some(_)) => Err(StripeError::invalid(
            "You may only specify one of these parameters: charge, payment_intent.",
        )
        .code("parameters_exclusive")
        .param("payment_intent")),
        (Some(id), None) => Ok(find(&db.charges, scope, id, Some("charge"))?.id.clone()),
        (None, Some(id)) => {
            let intent = find(&db.payment_intents, scope, id, Some("payment_intent"))?;
            intent.latest_charge.clone().ok_or_else(|| {
                StripeError::invalid(format!(
                    "This PaymentIntent ({id}) does not have a successful charge to refund."
                ))
                .param("payment_intent")
            })
        }
        (None, None) => Err(StripeError::invalid(
            "One of the following params should be provided for this request: payment_intent or charge.",
        )
        .code("parameter_missing")),
    }
}

/// The amount to refund: what was asked, within what is left; by default all of it.
fn refund_amount(charge: &Charge, asked: Option<i64>) -> StripeResult<i64> {
    if charge.disputed {
        return Err(StripeError::invalid(format!(
            "Charge {} has been charged back; cannot issue a refund.",
            charge.id
        ))
        .code("charge_disputed"));
    }
    let left = charge.unrefunded();
    if left <= 0 {
        return Err(
            StripeError::invalid(format!("Charge {} has already been refunded.", charge.id))
                .code("charge_already_refunded"),
        );
    }
    match asked {
        None => Ok(left),
        Some(n) if n < 1 => Err(StripeError::invalid(format!("Invalid positive integer: {n}"))
            .code("parameter_invalid_integer")
            .param("amount")),
        Some(n) if n > left => {
            let whole = charge.amount_refunded == 0;
            let what = if whole {
                "charge amount"
            } else {
                "unrefunded amount on charge"
            };
            Err(StripeError::invalid(format!(
                "Refund amount ({}) is greater than {what} ({}).",
                money(n, &charge.currency),
                money(left, &charge.currency)
            ))
            .code("amount_too_large")
            .param("amount"))
        }
        Some(n) => Ok(n),
    }
}

struct NewRefund {
    charge: Option<String>,
    payment_intent: Option<String>,
    amount: Option<i64>,
    reason: Option<String>,
    metadata: BTreeMap<String, String>,
}

/// Refunds the charge and records `refund.created` then `charge.refunded` (with the charge's
/// previous `amount_refunded`, and `refunded` when it turns true).
fn create_in(db: &mut Db, scope: &Scope, new: NewRefund, req: &ReqInfo, now: i64) -> StripeResult<Value> {
    let charge_id = target_charge(db, scope, new.charge.as_deref(), new.payment_intent.as_deref())?;
    let charge = db
        .charges
        .get(&charge_id)
        .cloned()
        .ok_or_else(|| StripeError::internal("a payment intent's charge is missing"))?;
    let amount = refund_amount(&charge, new.amount)?;
    let id = db.id("re_", 24);
    let seq = db.next_seq();
    let refund = Refund {
        id: id.clone(),
        scope: scope.clone(),
        seq,
        created: now,
        amount,
        charge: charge_id.clone(),
        payment_intent: charge.payment_intent.clone(),
        currency: charge.currency.clone(),
        metadata: new.metadata,
        reason: new.reason,
    };
    let rendered = refund.render();
    db.refunds.insert(id, refund);
    let before = charge.render();
    let after = match db.charges.get_mut(&charge_id) {
        Some(c) => {
            c.amount_refunded += amount;
            c.render()
        }
        None => before.clone(),
    };
    db.emit(scope, "refund.created", rendered.clone(), None, req, now);
    db.emit(scope, "charge.refunded", after.clone(), diff(&before, &after), req, now);
    Ok(rendered)
}

/// POST /v1/refunds
pub async fn create(
    State(app): State<Arc<App>>,
    Extension(ctx): Extension<Ctx>,
    body: Bytes,
) -> StripeResult<Json<Value>> {
    let params = Params::from_form(&body)?;
    params.allow(&["charge", "payment_intent", "amount", "reason", "metadata"])?;
    let new = NewRefund {
        charge: params.str("charge")?.filter(|s| !s.is_empty()),
        payment_intent: params.str("payment_intent")?.filter(|s| !s.is_empty()),
        amount: params.int("amount")?,
        reason: params.choice("reason", &REASONS)?,
        metadata: params.metadata()?.map(|m| m.into_map()).unwrap_or_default(),
    };
    let expand = params.expand()?;
    let now = crate::time::now();
    app.mutate(|db| {
        let rendered = create_in(db, &ctx.scope, new, &ctx.req, now)?;
        Ok(Json(expand::apply(db, &ctx.scope, rendered, &expand)?))
    })
}

/// GET /v1/refunds/{id}
pub async fn retrieve(
    State(app): State<Arc<App>>,
    Extension(ctx): Extension<Ctx>,
    Path(id): Path<String>,
    RawQuery(query): RawQuery,
) -> StripeResult<Json<Value>> {
    retrieve_one(&app, &ctx, query.as_deref(), (|db| &db.refunds, &id), Refund::render)
}

/// GET /v1/refunds
pub async fn list(
    State(app): State<Arc<App>>,
    Extension(ctx): Extension<Ctx>,
    RawQuery(query): RawQuery,
) -> StripeResult<Json<Value>> {
    let filters: [Filter<Refund>; 2] = [
        ("charge", |r| Some(r.charge.as_str())),
        ("payment_intent", |r| Some(r.payment_intent.as_str())),
    ];
    list_filtered(
        &app,
        &ctx,
        query.as_deref(),
        ("/v1/refunds", |db| &db.refunds),
        &filters,
        Refund::render,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn charge(amount: i64, refunded: i64) -> Charge {
        Charge {
            id: "ch_1".into(),
            scope: Scope {
                account: None,
                livemode: false,
            },
            seq: 1,
            created: 0,
            amount,
            amount_refunded: refunded,
            currency: "usd".into(),
            customer: None,
            description: None,
            payment_intent: "pi_1".into(),
            metadata: BTreeMap::new(),
            receipt_email: None,
            disputed: false,
        }
    }

    #[test]
    fn amounts_within_what_is_left() {
        assert_eq!(refund_amount(&charge(1000, 300), None), Ok(700));
        assert_eq!(refund_amount(&charge(1000, 300), Some(700)), Ok(700));
        let too_large = refund_amount(&charge(1000, 300), Some(701)).expect_err("too large");
        assert_eq!(too_large.code, Some("amount_too_large"));
        assert_eq!(
            too_large.message,
            "Refund amount (7.01 USD) is greater than unrefunded amount on charge (7.00 USD)."
        );
        assert_eq!(
            refund_amount(&charge(1000, 0), Some(0)).expect_err("zero").code,
            Some("parameter_invalid_integer")
        );
        let done = refund_amount(&charge(1000, 1000), Some(1)).expect_err("refunded");
        assert_eq!(
            (done.code, done.message.as_str()),
            (
                Some("charge_already_refunded"),
                "Charge ch_1 has already been refunded."
            )
        );
        let mut disputed = charge(1000, 0);
        disputed.disputed = true;
        assert_eq!(
            refund_amount(&disputed, None).expect_err("disputed").code,
            Some("charge_disputed")
        );
    }
}
