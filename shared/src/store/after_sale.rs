//! A Store order after checkout: an open one canceled (from the API or the dashboard), a paid
//! one refunded from the dashboard (its developer chooses whether its units go back to stock),
//! and the refunds and disputes Stripe reports on its charge, whoever made them. Amounts and
//! statuses are read from Stripe when its event arrives, so events in any order end in Stripe's
//! latest state; figures subtract refunds and lost disputes (`storage::orders`).

use dream_core::api::store::OrderRefunded;
use serde_json::Value;

use super::require_store_project;
use crate::{
    storage::{ProjectScope, audit::AuditEntry, refunds::Dispute, subscriptions::EventRecord},
    stripe_events::webhook::StripeEvent,
    upstream::stripe::{Form, Stripe},
    webhooks::Senders,
};
use dream_core::{
    error::{ApiError, ApiResult},
    period::Timestamp,
    stripe::objects::{CheckoutSession, id_of, text},
};

fn no_such_order() -> ApiError {
    ApiError::not_found("This project has no order with that id")
}

fn check_order_id(order_id: &str) -> ApiResult<()> {
    if order_id.len() > 64 || !order_id.starts_with("ord_") {
        return Err(no_such_order());
    }
    Ok(())
}

/// An open order ends before it is paid. Its Checkout Session expires at Stripe first (nobody
/// can pay it any more), then its hold is released at once instead of when the session would
/// have expired. Asking again answers the same.
pub async fn cancel_order(
    stripe: &Stripe,
    scope: &ProjectScope,
    order_id: &str,
    audit: &AuditEntry,
    now: Timestamp,
) -> ApiResult<String> {
    require_store_project(scope.project().project_type)?;
    check_order_id(order_id)?;
    let order = scope.order_status(order_id).await?.ok_or_else(no_such_order)?;
    match order.status.as_str() {
        "expired" | "failed" => return Ok(order.status),
        "paid" => return Err(ApiError::conflict("This order is paid; refund it instead")),
        "open" => {}
        _ => {
            return Err(ApiError::conflict(
                "This order's checkout is still being created; retry in a moment",
            ));
        }
    }
    let session = order
        .session_id
        .ok_or_else(|| ApiError::internal("an open order without a session"))?;
    let expired = stripe
        .post::<CheckoutSession>(
            &format!("/checkout/sessions/{session}/expire"),
            &Form::new(),
            &format!("cancel:{order_id}"),
        )
        .await;
    if let Err(refused) = expired {
        // Stripe expires open sessions only: what is it now?
        let current: CheckoutSession = stripe.get(&format!("/checkout/sessions/{session}")).await?;
        match current.status.as_deref() {
            Some("expired") => {}
            Some("complete") => {
                return Err(ApiError::conflict(
                    "The buyer has just paid this order; refund it instead",
                ));
            }
            _ => return Err(refused),
        }
    }
    scope.release_order(order_id, "expired", Some(audit), now).await?;
    Ok("expired".to_owned())
}

/// Refunds what is left of a paid order's payment on the developer's Stripe account and, when
/// `restock`, returns its units to stock (once). The refund is Stripe's first (its idempotency
/// key is the order's and what it had refunded, so a retry after a failure here makes no second
/// refund), then D1's record; the webhook's `charge.refunded` records the same amount again.
pub async fn refund_order(
    stripe: &Stripe,
    scope: &ProjectScope,
    senders: &Senders,
    (order_id, restock): (&str, bool),
    audit: &AuditEntry,
    now: Timestamp,
) -> ApiResult<OrderRefunded> {
    require_store_project(scope.project().project_type)?;
    check_order_id(order_id)?;
    let order = scope.paid_order(order_id).await?.ok_or_else(no_such_order)?;
    if order.status != "paid" {
        return Err(ApiError::conflict(format!(
            "Only a paid order can be refunded; this one is {} (cancel an open order instead)",
            order.status
        )));
    }
    if order.paid_cents == 0 {
        return Err(ApiError::conflict(
            "This order was free (a promotion code covered it): there is nothing to refund; correct its stock by hand",
        ));
    }
    let payment_intent = order
        .payment_intent
        .ok_or_else(|| ApiError::conflict("Stripe reported no payment for this order; refund it in Stripe"))?;
    // Checked before any refund: a refused restock must not leave a refund behind.
    if restock && order.short_units > 0 && order.restocked == 0 {
        return Err(ApiError::conflict(format!(
            "This order was paid for {} units beyond the stock left for it: correct the stock by hand, \
             and refund it without returning its units",
            order.short_units
        ))
        .with_detail("shortUnits", order.short_units));
    }
    let refunds_now = order.refunded_cents < order.paid_cents;
    if refunds_now {
        // The same parameters on every attempt: Stripe refuses a reused idempotency key with
        // others (the restock choice is ours, not Stripe's). The key names what was refunded
        // before: a retry of this refund replays it, while a refund after one that failed at
        // Stripe (the amount went down again) is a new one, not a replay of the failed one.
        let form = Form::new()
            .field("payment_intent", &payment_intent)
            .field("reason", "requested_by_customer")
            .field("metadata[orderId]", order_id)
            .field("metadata[publishableKey]", scope.project().publishable_key.as_str());
        let key = format!("refund:{order_id}:{}", order.refunded_cents);
        match stripe.post::<Value>("/refunds", &form, &key).await {
            Ok(_) => {}
            // Refunded in full meanwhile (from Stripe's dashboard, say): nothing left to refund.
            Err(e) if e.is_stripe("charge_already_refunded") => {}
            Err(e) => return Err(e),
        }
    }
    let answered_at = i64::try_from(crate::runtime::clock::now_millis()).unwrap_or(i64::MAX);
    let (restocked, queued) = scope
        .record_refund(
            (order_id, &payment_intent),
            (order.paid_cents, answered_at),
            restock,
            // A retry after a full refund refunds nothing: nothing to record.
            refunds_now.then_some(audit),
            now,
        )
        .await?;
    if queued {
        senders.nudge(scope.project().publishable_key.as_str()).await;
    }
    Ok(OrderRefunded {
        success: true,
        order_id: order_id.to_owned(),
        refunded_cents: order.paid_cents,
        restocked,
    })
}

/// The charge a refund or dispute event is about, and the dispute if it is one.
#[derive(Debug, PartialEq, Eq)]
pub struct ChargeSubject {
    pub charge: String,
    pub dispute: Option<String>,
}

pub fn charge_subject(event: &StripeEvent) -> Option<ChargeSubject> {
    let o = &event.data.object;
    let charge_of = |o: &Value| o.get("charge").and_then(id_of).filter(|id| id.starts_with("ch_"));
    match event.kind.as_str() {
        "charge.refunded" => Some(ChargeSubject {
            charge: text(o, "/id").filter(|id| id.starts_with("ch_"))?,
            dispute: None,
        }),
        // A refund's own events (a refund that fails gives the money back to the developer).
        "charge.refund.updated" | "refund.created" | "refund.updated" | "refund.failed" => Some(ChargeSubject {
            charge: charge_of(o)?,
            dispute: None,
        }),
        kind if kind.starts_with("charge.dispute.") => Some(ChargeSubject {
            charge: charge_of(o)?,
            dispute: Some(text(o, "/id")?),
        }),
        _ => None,
    }
}

/// A charge as Stripe reports it now, with the order our checkout wrote into its metadata.
pub struct Charge {
    pub order_id: Option<String>,
    pub publishable_key: Option<String>,
    pub payment_intent: Option<String>,
    pub refunded_cents: i64,
    /// When the read began (ms): what it says is at least this recent.
    pub read_at_ms: i64,
}

/// The charge, or `None` when Stripe has no such charge on the account.
pub async fn read_charge(stripe: &Stripe, charge_id: &str) -> ApiResult<Option<Charge>> {
    let read_at_ms = i64::try_from(crate::runtime::clock::now_millis()).unwrap_or(i64::MAX);
    let charge: Value = match stripe.get(&format!("/charges/{charge_id}")).await {
        Ok(charge) => charge,
        Err(e) if e.is_stripe("resource_missing") => return Ok(None),
        Err(e) => return Err(e),
    };
    Ok(Some(Charge {
        order_id: text(&charge, "/metadata/orderId"),
        publishable_key: text(&charge, "/metadata/publishableKey"),
        payment_intent: charge.get("payment_intent").and_then(id_of),
        refunded_cents: charge.get("amount_refunded").and_then(Value::as_i64).unwrap_or(0),
        read_at_ms,
    }))
}

/// Records a charge's refunds and dispute on its order, as Stripe reports them now. Returns
/// whether the event was new; `None` when the charge is not one of this project's orders'.
pub async fn apply_charge_event(
    (stripe, senders): (&Stripe, &Senders),
    scope: &ProjectScope,
    (event, payload): (&StripeEvent, &str),
    charge: &Charge,
    dispute_id: Option<&str>,
    now: Timestamp,
) -> ApiResult<Option<bool>> {
    let (Some(order_id), Some(payment_intent)) = (charge.order_id.as_deref(), charge.payment_intent.as_deref()) else {
        return Ok(None);
    };
    // The order must be this charge's: metadata is the connected account's to write.
    let order = scope.paid_order(order_id).await?;
    if order.and_then(|o| o.payment_intent).as_deref() != Some(payment_intent) {
        return Ok(None);
    }
    let dispute: Option<Value> = match dispute_id {
        Some(id) => Some(stripe.get(&format!("/disputes/{id}")).await?),
        None => None,
    };
    let dispute = dispute.as_ref().map(|d| Dispute {
        status: d.get("status").and_then(Value::as_str).unwrap_or("needs_response"),
        amount_cents: d.get("amount").and_then(Value::as_i64).unwrap_or(0),
    });
    let record = EventRecord {
        id: &event.id,
        kind: &event.kind,
        created: event.created,
        payload,
    };
    let (new, queued) = scope
        .apply_charge_event(
            (order_id, payment_intent),
            (charge.refunded_cents, charge.read_at_ms),
            dispute.as_ref(),
            &record,
            now,
        )
        .await?;
    if queued {
        senders.nudge(scope.project().publishable_key.as_str()).await;
    }
    Ok(Some(new))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::stripe_events::webhook::EventData;

    fn event(kind: &str, object: Value) -> StripeEvent {
        StripeEvent {
            id: "evt_1".into(),
            kind: kind.into(),
            created: 1,
            data: EventData { object },
            account: Some("acct_1".into()),
            livemode: false,
        }
    }

    #[test]
    fn refunds_and_disputes_name_their_charge_and_nothing_else_does() {
        let refunded = event("charge.refunded", serde_json::json!({"id": "ch_1", "object": "charge"}));
        assert_eq!(
            charge_subject(&refunded),
            Some(ChargeSubject {
                charge: "ch_1".into(),
                dispute: None
            })
        );
        let disputed = event(
            "charge.dispute.closed",
            serde_json::json!({"id": "du_1", "object": "dispute", "charge": "ch_2"}),
        );
        assert_eq!(
            charge_subject(&disputed),
            Some(ChargeSubject {
                charge: "ch_2".into(),
                dispute: Some("du_1".into())
            })
        );
        let expanded = event(
            "charge.dispute.created",
            serde_json::json!({"id": "du_1", "charge": {"id": "ch_3"}}),
        );
        assert_eq!(charge_subject(&expanded).map(|s| s.charge), Some("ch_3".into()));
        let failed = event(
            "charge.refund.updated",
            serde_json::json!({"id": "re_1", "object": "refund", "charge": "ch_4", "status": "failed"}),
        );
        assert_eq!(charge_subject(&failed).map(|s| s.charge), Some("ch_4".into()));
        assert_eq!(
            charge_subject(&event("charge.succeeded", serde_json::json!({"id": "ch_1"}))),
            None
        );
        assert_eq!(
            charge_subject(&event("charge.refunded", serde_json::json!({"id": "py_1"}))),
            None
        );
    }
}
