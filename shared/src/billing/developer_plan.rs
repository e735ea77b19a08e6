//! The developer's own $15/month subscription to the platform: the checkout that starts it,
//! and the webhook events that keep the plan (`paid`/`free`) in D1 and in Clerk up to date.
//!
//! An event is only a trigger. Whether the developer pays is read from Stripe itself: a
//! subscription of their customer on the platform's price in a paying status. So events that
//! arrive late, twice or out of order, invoices paid after a cancellation, or checkouts for some
//! other price cannot grant or revoke the plan by themselves.

use serde::Deserialize;
use serde_json::Value;

use crate::{
    storage::{Database, PlatformScope, platforms::PlanChange},
    stripe_events::webhook::StripeEvent,
    upstream::{
        clerk::ClerkBackend,
        stripe::{Form, Stripe},
    },
};

use dream_core::{
    error::{ApiError, ApiResult},
    period::Timestamp,
    stripe::objects::{CheckoutSession, id_of, is_paying, text},
};

/// Which platform and customer an event may concern.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlanTrigger {
    pub platform_id: Option<String>,
    pub subscription: Option<String>,
    pub customer: String,
}

/// The events that can change a plan, and who they concern; `None` for everything else.
pub fn plan_trigger(event: &StripeEvent) -> Option<PlanTrigger> {
    if event.account.is_some() {
        return None; // a connected account's event: api-multi's business
    }
    let o = &event.data.object;
    let (platform_id, subscription) = match event.kind.as_str() {
        "checkout.session.completed" if text(o, "/mode").as_deref() == Some("subscription") => (
            text(o, "/client_reference_id").or_else(|| text(o, "/metadata/platformId")),
            o.get("subscription").and_then(id_of),
        ),
        "invoice.paid" | "invoice.payment_failed" => (
            text(o, "/parent/subscription_details/metadata/platformId"),
            // Stripe moved the subscription under `parent` (2025 API versions); accept both.
            text(o, "/parent/subscription_details/subscription").or_else(|| o.get("subscription").and_then(id_of)),
        ),
        "customer.subscription.created" | "customer.subscription.updated" | "customer.subscription.deleted" => {
            (text(o, "/metadata/platformId"), text(o, "/id"))
        }
        _ => return None,
    };
    Some(PlanTrigger {
        platform_id,
        subscription,
        customer: o.get("customer").and_then(id_of)?,
    })
}

fn on_platform_price(sub: &Value, platform_price: &str) -> bool {
    sub.pointer("/items/data")
        .and_then(Value::as_array)
        .is_some_and(|items| {
            items
                .iter()
                .any(|i| i.pointer("/price/id").and_then(Value::as_str) == Some(platform_price))
        })
}

/// The id of a subscription (from Stripe's list) that pays for the platform now.
pub fn paying_subscription<'a>(subscriptions: &'a [Value], platform_price: &str) -> Option<&'a str> {
    subscriptions.iter().find_map(|sub| {
        let paying = sub.get("status").and_then(Value::as_str).is_some_and(is_paying);
        (paying && on_platform_price(sub, platform_price))
            .then(|| sub.get("id").and_then(Value::as_str))
            .flatten()
    })
}

/// When the platform's last subscription ended, by Stripe's `ended_at` (not by when its webhook
/// arrived, which may be late): where a lapsed plan's grace period starts.
pub fn plan_ended_at(subscriptions: &[Value], platform_price: &str) -> Option<Timestamp> {
    (subscriptions.iter())
        .filter(|sub| on_platform_price(sub, platform_price))
        .filter_map(|sub| sub.get("ended_at").and_then(Value::as_i64))
        .max()
        .map(Timestamp)
}

/// Checkout for the platform subscription, on the platform's own Stripe account. Never a
/// second paid subscription for one platform: a previous session that is still open is handed
/// out again (two tabs, one checkout); one that was paid blocks a new one while its subscription
/// pays, even if its webhook has not arrived yet; one that cannot be read blocks too (it may
/// have been paid). A new session reuses the platform's Stripe customer, so all of a platform's
/// subscriptions live under one customer and the webhook judges them together.
pub async fn start_checkout(
    platform: &PlatformScope,
    stripe: &Stripe,
    price_id: &str,
    success_url: &str,
    cancel_url: &str,
) -> ApiResult<(String, String)> {
    let p = platform.platform();
    if p.is_paid() {
        return Err(ApiError::conflict("This platform already has the paid plan"));
    }
    let mut customer = p.stripe_customer_id.clone();
    if let Some(previous) = &p.checkout_session_id {
        let session: CheckoutSession = stripe
            .get(&format!("/checkout/sessions/{previous}"))
            .await
            .map_err(|e| e.context("reading your previous checkout before starting another"))?;
        match session.status.as_deref() {
            Some("open") => {
                if let Some(url) = session.url {
                    return Ok((session.id, url));
                }
            }
            Some("complete") => {
                if let Some(subscription) = session.subscription.as_ref().and_then(id_of) {
                    let state: SubscriptionStatus = stripe.get(&format!("/subscriptions/{subscription}")).await?;
                    if state.status.as_deref().is_some_and(is_paying) {
                        return Err(ApiError::conflict(
                            "Your payment went through; the plan turns on as soon as Stripe confirms it. Refresh in a moment.",
                        )
                        .with_detail("sessionId", session.id));
                    }
                }
                customer = customer.or_else(|| session.customer.as_ref().and_then(id_of));
            }
            _ => {}
        }
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
        .field_opt("customer", customer.as_deref());
    // One key per checkout generation: concurrent first calls get the same session from Stripe.
    let key = format!(
        "platform-checkout:{}:{}",
        p.platform_id,
        p.checkout_session_id.as_deref().unwrap_or("first")
    );
    let session: CheckoutSession = stripe.post("/checkout/sessions", &form, &key).await?;
    let url = session
        .url
        .ok_or_else(|| ApiError::internal("Stripe checkout session has no url"))?;
    platform.remember_checkout(&session.id).await?;
    Ok((session.id, url))
}

/// Result of handling one platform webhook event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Handled {
    Applied {
        platform_id: String,
        paid: bool,
        new_event: bool,
    },
    Ignored(&'static str),
}

#[derive(Deserialize)]
struct SubscriptionStatus {
    #[serde(default)]
    status: Option<String>,
}

#[derive(Deserialize)]
struct SubscriptionList {
    data: Vec<Value>,
}

/// Applies a verified platform event: reads the customer's subscriptions from Stripe, records
/// the event and the resulting plan in D1 (one transaction), then re-syncs Clerk's copy from D1
/// on every delivery, so a failed Clerk update is repaired by Stripe's retry even though the
/// event itself is already recorded.
pub async fn handle_event(
    db: &Database,
    clerk: &ClerkBackend,
    stripe: &Stripe,
    platform_price: &str,
    event: &StripeEvent,
    payload: &str,
    now: Timestamp,
) -> ApiResult<Handled> {
    let Some(trigger) = plan_trigger(event) else {
        return Ok(Handled::Ignored("event type not used for platform billing"));
    };
    let Some(platform) = db
        .platform_for_billing(
            trigger.platform_id.as_deref(),
            trigger.subscription.as_deref(),
            Some(&trigger.customer),
        )
        .await?
    else {
        return Ok(Handled::Ignored("no platform for this customer"));
    };
    let path = format!("/subscriptions?customer={}&status=all&limit=100", trigger.customer);
    let subscriptions: SubscriptionList = stripe.get(&path).await?;
    let paying = paying_subscription(&subscriptions.data, platform_price);
    let ours = platform
        .stripe_customer_id
        .as_deref()
        .is_none_or(|c| c == trigger.customer);
    if paying.is_none() && !ours {
        // Another customer (say, a checkout abandoned for a new one) cannot revoke the plan.
        return Ok(Handled::Ignored("not the platform's paying customer"));
    }
    let change = PlanChange {
        platform_id: &platform.platform_id,
        paid: paying.is_some(),
        ended_at: plan_ended_at(&subscriptions.data, platform_price),
        customer: Some(trigger.customer.as_str()),
        subscription: paying,
        event_id: &event.id,
        event_type: &event.kind,
        event_created: event.created,
        payload,
    };
    let new_event = db.apply_plan_change(&change, now).await?;
    let current = db
        .platform_by_id(&platform.platform_id)
        .await?
        .ok_or_else(|| ApiError::internal("platform vanished while applying its plan"))?;
    clerk
        .merge_public_metadata(
            &current.clerk_user_id,
            serde_json::json!({ "plan": current.plan, "platformId": current.platform_id }),
        )
        .await?;
    Ok(Handled::Applied {
        platform_id: current.platform_id.clone(),
        paid: current.is_paid(),
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
    fn checkout_completion_triggers_a_check_of_its_customer() {
        let trigger = plan_trigger(&event(
            "checkout.session.completed",
            json!({"mode": "subscription", "client_reference_id": "plt_1", "customer": "cus_1", "subscription": {"id": "sub_1"}}),
        ))
        .unwrap();
        assert_eq!(
            trigger,
            PlanTrigger {
                platform_id: Some("plt_1".into()),
                subscription: Some("sub_1".into()),
                customer: "cus_1".into()
            }
        );
        assert_eq!(
            plan_trigger(&event(
                "checkout.session.completed",
                json!({"mode": "payment", "customer": "cus_1"})
            )),
            None
        );
    }

    #[test]
    fn invoices_find_the_subscription_in_either_api_shape() {
        let new_shape = json!({"customer": "cus_1", "parent": {"subscription_details": {"subscription": "sub_9", "metadata": {"platformId": "plt_9"}}}});
        let trigger = plan_trigger(&event("invoice.paid", new_shape)).unwrap();
        assert_eq!(
            (trigger.subscription.as_deref(), trigger.platform_id.as_deref()),
            (Some("sub_9"), Some("plt_9"))
        );
        let old_shape = json!({"customer": "cus_1", "subscription": "sub_8"});
        assert_eq!(
            plan_trigger(&event("invoice.paid", old_shape))
                .unwrap()
                .subscription
                .as_deref(),
            Some("sub_8")
        );
    }

    #[test]
    fn unrelated_customerless_and_connected_account_events_are_ignored() {
        assert_eq!(
            plan_trigger(&event("product.created", json!({"customer": "cus_1"}))),
            None
        );
        assert_eq!(
            plan_trigger(&event("customer.subscription.deleted", json!({"id": "sub_1"}))),
            None
        );
        let mut connected = event(
            "customer.subscription.deleted",
            json!({"id": "sub_1", "customer": "cus_1"}),
        );
        connected.account = Some("acct_1".into());
        assert_eq!(plan_trigger(&connected), None);
    }

    fn sub(id: &str, status: &str, price: &str) -> Value {
        json!({"id": id, "status": status, "items": {"data": [{"price": {"id": price}}]}})
    }

    #[test]
    fn only_a_paying_subscription_on_the_platform_price_pays() {
        let price = "price_platform";
        assert_eq!(
            paying_subscription(&[sub("sub_1", "active", price)], price),
            Some("sub_1")
        );
        assert_eq!(
            paying_subscription(&[sub("sub_1", "past_due", price)], price),
            Some("sub_1")
        );
        assert_eq!(
            paying_subscription(&[sub("sub_1", "canceled", price)], price),
            None,
            "an invoice paid after cancellation"
        );
        assert_eq!(
            paying_subscription(&[sub("sub_1", "active", "price_other")], price),
            None,
            "some other product"
        );
        assert_eq!(
            paying_subscription(
                &[sub("sub_old", "canceled", price), sub("sub_new", "active", price)],
                price
            ),
            Some("sub_new")
        );
        assert_eq!(paying_subscription(&[], price), None);
    }

    #[test]
    fn a_plan_ended_when_its_last_platform_subscription_did() {
        let price = "price_platform";
        let ended = |id: &str, at: i64, price: &str| {
            let mut s = sub(id, "canceled", price);
            s["ended_at"] = json!(at);
            s
        };
        assert_eq!(
            plan_ended_at(
                &[
                    ended("sub_1", 100, price),
                    ended("sub_2", 300, price),
                    ended("sub_3", 900, "price_other")
                ],
                price
            ),
            Some(Timestamp(300))
        );
        assert_eq!(
            plan_ended_at(&[sub("sub_1", "unpaid", price)], price),
            None,
            "not ended: the caller uses its clock"
        );
    }
}
