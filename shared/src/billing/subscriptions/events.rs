//! Subscription events from connected accounts (routed here by `stripe_events::connect`).
//!
//! An event only says *which* subscription to look at. Its current state is read from Stripe
//! and written with the time of that read, and a write never replaces a later read; so events
//! delivered late, twice, or in any order end in Stripe's latest state. The event id is
//! recorded in the same D1 transaction, and a recorded event is answered without work.

use serde_json::Value;

use super::mirror_plan_to_clerk;
use crate::{
    identity::connected_event_project,
    runtime::clock,
    storage::{
        ProjectScope,
        subscriptions::{EventRecord, SubscriptionSync},
    },
    stripe_events::{connect::ConnectDeps, outcome::ignored, webhook::StripeEvent},
};
use dream_core::api::events::Outcome;
use dream_core::{
    error::ApiResult,
    mode::ProjectType,
    period::Timestamp,
    stripe::objects::{SubscriptionState, id_of, text},
    tiers::{Tier, TierName},
};

/// What an event is about: a subscription, and the project and user its metadata names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Subject {
    pub subscription: String,
    pub publishable_key: Option<String>,
    pub user_id: Option<String>,
}

pub fn subject(event: &StripeEvent) -> Option<Subject> {
    let o = &event.data.object;
    let kind = event.kind.as_str();
    let (subscription, metadata) = if kind.starts_with("customer.subscription.") {
        (text(o, "/id")?, "/metadata")
    } else {
        match kind {
            "checkout.session.completed" | "checkout.session.async_payment_succeeded"
                if text(o, "/mode").as_deref() == Some("subscription") =>
            {
                (o.get("subscription").and_then(id_of)?, "/metadata")
            }
            "invoice.paid"
            | "invoice.payment_succeeded"
            | "invoice.payment_failed"
            | "invoice.payment_action_required" => {
                let details = "/parent/subscription_details";
                let subscription =
                    text(o, &format!("{details}/subscription")).or_else(|| o.get("subscription").and_then(id_of))?;
                (subscription, "/parent/subscription_details/metadata")
            }
            _ => return None,
        }
    };
    Some(Subject {
        subscription,
        publishable_key: text(o, &format!("{metadata}/publishableKey")),
        user_id: text(o, &format!("{metadata}/userId")),
    })
}

/// The project's tier a subscription is on: by product (stable across price edits), then by
/// price, then by the tier our checkout wrote into its metadata.
pub fn tier_of<'t>(tiers: &'t [Tier], state: &SubscriptionState) -> Option<&'t Tier> {
    let by = |f: &dyn Fn(&Tier) -> bool| tiers.iter().find(|t| f(t));
    state
        .product_id
        .as_deref()
        .and_then(|p| by(&|t| t.product_id.as_deref() == Some(p)))
        .or_else(|| {
            state
                .price_id
                .as_deref()
                .and_then(|p| by(&|t| t.price_id.as_deref() == Some(p)))
        })
        .or_else(|| state.metadata("tier").and_then(|name| by(&|t| t.name.as_str() == name)))
}

/// A subscription's event: reads the subscription from Stripe and records its state, and copies
/// the user's plan into Clerk.
pub async fn handle(
    deps: &ConnectDeps,
    (event, payload): (&StripeEvent, &str),
    account: &str,
    subject: Subject,
) -> ApiResult<Outcome> {
    let Subject {
        subscription: subscription_id,
        publishable_key: Some(publishable_key),
        user_id,
    } = subject
    else {
        return ignored("not about a subscription created through dream-api");
    };
    let Some(scope) = connected_event_project(deps.db.clone(), &publishable_key, account, event.livemode).await? else {
        return ignored("no project of this connected account has that key");
    };
    if scope.project().project_type != ProjectType::Saas {
        return ignored("the project is not a SaaS project");
    }
    if deps.db.event_seen(&event.id).await? {
        // A retry: D1 already has the effect, but Clerk's copy may be what failed last time.
        if let Some(user_id) = &user_id {
            mirror_plan_to_clerk(&deps.end_users, &scope, user_id).await?;
        }
        return Ok(Outcome::Duplicate);
    }
    let mode = scope.project().publishable_key.mode();
    let stripe = deps.stripe.for_mode(mode).on_account(account);
    let read_at = clock::now_millis();
    // With its discounts' coupons: MRR counts what the customer pays after them.
    let path = format!(
        "/subscriptions/{subscription_id}?expand[]={}",
        dream_core::stripe::objects::DISCOUNT_EXPANSION
    );
    let live: Value = match stripe.get(&path).await {
        Ok(live) => live,
        // Stripe has no such subscription on this account: nothing to apply, ever.
        Err(e) if is_missing(&e) => {
            return ignored("Stripe has no such subscription on this account");
        }
        Err(e) => return Err(e),
    };
    let Some(state) = SubscriptionState::parse(&live) else {
        return ignored("Stripe did not return a subscription");
    };
    let read_at_ms = i64::try_from(read_at).unwrap_or(i64::MAX);
    let outcome = apply(
        &scope,
        &deps.senders,
        (event, payload),
        &state,
        read_at_ms,
        clock::now(),
    )
    .await?;
    if let (Outcome::Applied { .. } | Outcome::Duplicate, Some(user_id)) = (&outcome, state.metadata("userId")) {
        mirror_plan_to_clerk(&deps.end_users, &scope, user_id).await?;
    }
    Ok(outcome)
}

fn is_missing(error: &dream_core::ApiError) -> bool {
    error.is_stripe("resource_missing")
}

async fn apply(
    scope: &ProjectScope,
    senders: &crate::webhooks::Senders,
    (event, payload): (&StripeEvent, &str),
    state: &SubscriptionState,
    read_at_ms: i64,
    now: Timestamp,
) -> ApiResult<Outcome> {
    let project_key = scope.project().publishable_key.as_str();
    if state.metadata("publishableKey") != Some(project_key) {
        return ignored("the subscription belongs to another project");
    }
    let Some(user_id) = state.metadata("userId") else {
        return ignored("the subscription names no user");
    };
    let tiers = scope.tiers().await?;
    // A tier deleted while subscribed (before deletion refused that): its subscriptions' status
    // is still recorded, under the name our checkout wrote into them.
    let plan = match tier_of(&tiers, state) {
        Some(tier) => tier.name.as_str(),
        None => match state.metadata("tier").filter(|name| TierName::parse(name).is_ok()) {
            Some(name) => name,
            None => return ignored("the subscription's price is not a tier of this project"),
        },
    };
    let sync = SubscriptionSync {
        state,
        user_id,
        plan,
        read_at_ms,
        event: Some(EventRecord {
            id: &event.id,
            kind: &event.kind,
            created: event.created,
            payload,
        }),
    };
    let new_event = super::notify::sync_and_notify(scope, &sync, senders, now).await?;
    if !new_event {
        return Ok(Outcome::Duplicate);
    }
    Ok(Outcome::Applied {
        subscription: state.id.clone(),
        status: state.status.clone(),
        plan: plan.to_owned(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn event(kind: &str, object: Value) -> StripeEvent {
        serde_json::from_value(json!({"id": "evt_1", "type": kind, "created": 1, "account": "acct_1",
            "data": {"object": object}}))
        .unwrap()
    }

    #[test]
    fn finds_the_subscription_and_project_of_each_event_type() {
        let meta = json!({"publishableKey": "pk_test_a", "userId": "u1"});
        let ours = |sub: &str| Subject {
            subscription: sub.into(),
            publishable_key: Some("pk_test_a".into()),
            user_id: Some("u1".into()),
        };
        let sub = event(
            "customer.subscription.updated",
            json!({"id": "sub_1", "metadata": meta}),
        );
        assert_eq!(subject(&sub), Some(ours("sub_1")));
        let checkout = event(
            "checkout.session.completed",
            json!({"mode": "subscription", "subscription": "sub_2", "metadata": meta}),
        );
        assert_eq!(subject(&checkout), Some(ours("sub_2")));
        let store = event(
            "checkout.session.completed",
            json!({"mode": "payment", "metadata": meta}),
        );
        assert_eq!(subject(&store), None);
        let invoice = event(
            "invoice.payment_failed",
            json!({"parent": {"subscription_details": {"subscription": "sub_3", "metadata": meta}}}),
        );
        assert_eq!(subject(&invoice), Some(ours("sub_3")));
        let foreign = event("customer.subscription.created", json!({"id": "sub_4", "metadata": {}}));
        let foreign = subject(&foreign).unwrap();
        assert_eq!((foreign.publishable_key, foreign.user_id), (None, None));
        assert_eq!(subject(&event("product.created", json!({"id": "prod_1"}))), None);
    }

    fn tier(name: &str, product: Option<&str>, price: Option<&str>) -> Tier {
        serde_json::from_value(json!({"name": name, "displayName": name, "price": 5, "currency": "usd",
            "limit": 10, "priceId": price, "productId": product, "features": {}, "popular": false,
            "inventory": null, "soldOut": false}))
        .unwrap()
    }

    #[test]
    fn a_subscription_keeps_its_tier_across_price_edits() {
        let tiers = [
            tier("pro", Some("prod_p"), Some("price_new")),
            tier("team", Some("prod_t"), Some("price_t")),
        ];
        let state = |product: Option<&str>, price: &str, meta: Value| {
            SubscriptionState::parse(&json!({"id": "sub_1", "object": "subscription", "customer": "cus_1",
                "status": "active", "metadata": meta,
                "items": {"data": [{"price": {"id": price, "product": product, "unit_amount": 1}}]}}))
            .unwrap()
        };
        let old_price = state(Some("prod_p"), "price_old", json!({}));
        assert_eq!(tier_of(&tiers, &old_price).map(|t| t.name.as_str()), Some("pro"));
        let by_price = state(None, "price_t", json!({}));
        assert_eq!(tier_of(&tiers, &by_price).map(|t| t.name.as_str()), Some("team"));
        let by_meta = state(Some("prod_x"), "price_x", json!({"tier": "team"}));
        assert_eq!(tier_of(&tiers, &by_meta).map(|t| t.name.as_str()), Some("team"));
        assert!(tier_of(&tiers, &state(Some("prod_x"), "price_x", json!({}))).is_none());
    }
}
