//! The developer's own $15/month subscription to the platform: the checkout that starts it,
//! and the webhook events that keep the plan (`paid`/`free`) in D1 and in Clerk up to date.

use serde::Deserialize;
use serde_json::Value;

use crate::{
    clerk_backend::ClerkBackend,
    error::{ApiError, ApiResult},
    period::Timestamp,
    repo::{Database, PlatformScope, platforms::PlanChange},
    stripe::{Form, Stripe},
};

/// A Stripe event as delivered to a webhook endpoint (only what we read).
#[derive(Debug, Clone, Deserialize)]
pub struct StripeEvent {
    pub id: String,
    #[serde(rename = "type")]
    pub kind: String,
    pub created: i64,
    pub data: EventData,
    #[serde(default)]
    pub account: Option<String>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct EventData {
    pub object: Value,
}

/// What a platform-billing event means for a developer's plan.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlanIntent {
    pub platform_id: Option<String>,
    pub subscription: Option<String>,
    pub customer: Option<String>,
    pub paid: bool,
}

/// A Stripe id field that may be expanded into an object.
fn id_of(value: &Value) -> Option<String> {
    value
        .as_str()
        .map(str::to_owned)
        .or_else(|| value.get("id").and_then(Value::as_str).map(str::to_owned))
}

fn text(value: &Value, pointer: &str) -> Option<String> {
    value
        .pointer(pointer)
        .and_then(Value::as_str)
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
}

/// Statuses in which the developer keeps the paid plan (`past_due`: Stripe is still retrying).
fn is_paying(status: &str) -> bool {
    matches!(status, "active" | "trialing" | "past_due")
}

/// Maps an event to a plan change; `None` for events that do not concern the platform plan.
pub fn plan_intent(event: &StripeEvent) -> Option<PlanIntent> {
    if event.account.is_some() {
        return None; // a connected account's event: api-multi's business
    }
    let o = &event.data.object;
    match event.kind.as_str() {
        "checkout.session.completed" if text(o, "/mode").as_deref() == Some("subscription") => Some(PlanIntent {
            platform_id: text(o, "/client_reference_id").or_else(|| text(o, "/metadata/platformId")),
            subscription: o.get("subscription").and_then(id_of),
            customer: o.get("customer").and_then(id_of),
            paid: true,
        }),
        "invoice.paid" => Some(PlanIntent {
            platform_id: text(o, "/parent/subscription_details/metadata/platformId")
                .or_else(|| text(o, "/subscription_details/metadata/platformId")),
            // Stripe moved the subscription under `parent` (2025 API versions); accept both.
            subscription: text(o, "/parent/subscription_details/subscription")
                .or_else(|| o.get("subscription").and_then(id_of)),
            customer: o.get("customer").and_then(id_of),
            paid: true,
        }),
        "customer.subscription.created" | "customer.subscription.updated" | "customer.subscription.deleted" => {
            let status = text(o, "/status").unwrap_or_default();
            Some(PlanIntent {
                platform_id: text(o, "/metadata/platformId"),
                subscription: text(o, "/id"),
                customer: o.get("customer").and_then(id_of),
                paid: event.kind != "customer.subscription.deleted" && is_paying(&status),
            })
        }
        _ => None,
    }
}

/// Checkout for the platform subscription, on the platform's own Stripe account.
pub async fn start_checkout(
    platform: &PlatformScope,
    stripe: &Stripe,
    price_id: &str,
    success_url: &str,
    cancel_url: &str,
    idempotency_key: &str,
) -> ApiResult<(String, String)> {
    let p = platform.platform();
    if p.is_paid() {
        return Err(ApiError::conflict("This platform already has the paid plan"));
    }
    let form = Form::new()
        .field("mode", "subscription")
        .field("line_items[0][price]", price_id)
        .field("line_items[0][quantity]", 1)
        .field("success_url", success_url)
        .field("cancel_url", cancel_url)
        .field("client_reference_id", &p.platform_id)
        .field("metadata[platformId]", &p.platform_id)
        .field("subscription_data[metadata][platformId]", &p.platform_id)
        .field_opt("customer", p.stripe_customer_id.as_deref());
    #[derive(Deserialize)]
    struct Session {
        id: String,
        url: Option<String>,
    }
    let session: Session = stripe.post("/checkout/sessions", &form, idempotency_key).await?;
    let url = session
        .url
        .ok_or_else(|| ApiError::internal("Stripe checkout session has no url"))?;
    Ok((session.id, url))
}

/// Result of handling one platform webhook event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Handled {
    Applied { platform_id: String, new_event: bool },
    Ignored(&'static str),
}

/// Applies a verified platform event: D1 first (event record + plan, one transaction), then
/// Clerk's copy of the plan, re-synced from D1 on every delivery so a failed Clerk update is
/// repaired by Stripe's retry even though the event itself is already recorded.
pub async fn handle_event(
    db: &Database,
    clerk: &ClerkBackend,
    event: &StripeEvent,
    payload: &str,
    now: Timestamp,
) -> ApiResult<Handled> {
    let Some(intent) = plan_intent(event) else {
        return Ok(Handled::Ignored("event type not used for platform billing"));
    };
    let Some(platform) = db
        .platform_for_billing(intent.platform_id.as_deref(), intent.subscription.as_deref())
        .await?
    else {
        return Ok(Handled::Ignored("no platform for this subscription"));
    };
    let change = PlanChange {
        platform_id: &platform.platform_id,
        paid: intent.paid,
        customer: intent.customer.as_deref(),
        subscription: intent.subscription.as_deref(),
        event_id: &event.id,
        event_type: &event.kind,
        event_created: event.created,
        payload,
    };
    let new_event = db.apply_plan_change(&change, now).await?;
    let current = db
        .platform_for_billing(Some(&platform.platform_id), None)
        .await?
        .ok_or_else(|| ApiError::internal("platform vanished while applying its plan"))?;
    clerk
        .merge_public_metadata(
            &current.clerk_user_id,
            serde_json::json!({ "plan": current.plan, "platformId": current.platform_id }),
        )
        .await?;
    Ok(Handled::Applied {
        platform_id: current.platform_id,
        new_event,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn event(kind: &str, object: Value) -> StripeEvent {
        serde_json::from_value(json!({"id": "evt_1", "type": kind, "created": 100, "data": {"object": object}}))
            .unwrap()
    }

    #[test]
    fn checkout_completion_pays_the_plan() {
        let intent = plan_intent(&event(
            "checkout.session.completed",
            json!({"mode": "subscription", "client_reference_id": "plt_1", "customer": "cus_1", "subscription": {"id": "sub_1"}}),
        ))
        .unwrap();
        assert_eq!(
            intent,
            PlanIntent {
                platform_id: Some("plt_1".into()),
                subscription: Some("sub_1".into()),
                customer: Some("cus_1".into()),
                paid: true
            }
        );
        assert_eq!(
            plan_intent(&event("checkout.session.completed", json!({"mode": "payment"}))),
            None
        );
    }

    #[test]
    fn renewals_find_the_subscription_in_either_api_shape() {
        let new_shape = json!({"customer": "cus_1", "parent": {"subscription_details": {"subscription": "sub_9", "metadata": {"platformId": "plt_9"}}}});
        let intent = plan_intent(&event("invoice.paid", new_shape)).unwrap();
        assert_eq!(
            (
                intent.subscription.as_deref(),
                intent.platform_id.as_deref(),
                intent.paid
            ),
            (Some("sub_9"), Some("plt_9"), true)
        );
        let old_shape = json!({"customer": "cus_1", "subscription": "sub_8"});
        assert_eq!(
            plan_intent(&event("invoice.paid", old_shape))
                .unwrap()
                .subscription
                .as_deref(),
            Some("sub_8")
        );
    }

    #[test]
    fn subscription_status_decides_the_plan() {
        for (kind, status, paid) in [
            ("customer.subscription.updated", "active", true),
            ("customer.subscription.updated", "past_due", true),
            ("customer.subscription.updated", "unpaid", false),
            ("customer.subscription.updated", "canceled", false),
            ("customer.subscription.deleted", "active", false),
        ] {
            let intent = plan_intent(&event(
                kind,
                json!({"id": "sub_1", "status": status, "metadata": {"platformId": "plt_1"}}),
            ))
            .unwrap();
            assert_eq!(intent.paid, paid, "{kind} {status}");
        }
    }

    #[test]
    fn unrelated_and_connected_account_events_are_ignored() {
        assert_eq!(plan_intent(&event("product.created", json!({}))), None);
        let mut connected = event(
            "customer.subscription.deleted",
            json!({"id": "sub_1", "status": "canceled"}),
        );
        connected.account = Some("acct_1".into());
        assert_eq!(plan_intent(&connected), None);
    }
}
