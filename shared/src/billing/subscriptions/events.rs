//! `POST /webhook/stripe` on api-multi: the events of every developer's connected account.
//!
//! An event only says *which* subscription to look at. Its current state is read from Stripe
//! and written with the time of that read, and a write never replaces a later read; so events
//! delivered late, twice, or in any order end in Stripe's latest state. The event id is
//! recorded in the same D1 transaction, and a recorded event is answered without work.
//!
//! Store cart checkouts (payment mode) are handed to `store`: a paid session sells its held
//! stock once, an expired one releases it.
//!
//! An event counts only if the project its metadata names belongs to the developer whose
//! connected account sent it, in the same mode: metadata is written by whoever owns the Stripe
//! account, so a developer could forge another project's key into their own objects.

use serde::Serialize;
use serde_json::Value;
use worker::Env;

use super::mirror_plan_to_clerk;
use crate::{
    auth::connected_event_project,
    error::{ApiResult, ErrorCode},
    mode::Mode,
    mode::ProjectType,
    period::{self, Timestamp},
    projects::StripeModes,
    repo::{
        Database, ProjectScope,
        subscriptions::{EventRecord, SubscriptionSync},
    },
    store::{
        self, OrderOutcome,
        after_sale::{self, ChargeSubject},
    },
    stripe::{
        objects::{SubscriptionState, id_of, text},
        webhook::StripeEvent,
    },
    tier::{Tier, TierName},
};

/// What became of an event, as the webhook's answer says (Stripe shows it in its dashboard).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase", tag = "outcome")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum Outcome {
    Applied {
        subscription: String,
        status: String,
        plan: String,
    },
    /// A Store order was paid: its held stock is sold.
    OrderSold {
        order: String,
    },
    /// A Store order's session expired unpaid: its hold is released.
    OrderReleased {
        order: String,
    },
    /// A paid Store order's refunds or dispute, as Stripe reports them now, are recorded.
    OrderUpdated {
        order: String,
    },
    /// The account's owner revoked our access: its developer must reconnect it.
    Disconnected {
        account: String,
    },
    Duplicate,
    Ignored {
        reason: &'static str,
    },
}

fn ignored(reason: &'static str) -> ApiResult<Outcome> {
    Ok(Outcome::Ignored { reason })
}

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

/// Applies one verified event from a connected account.
pub async fn handle(env: &Env, event: &StripeEvent, payload: &str) -> ApiResult<Outcome> {
    let Some(account) = event.account.as_deref() else {
        return ignored("not a connected account's event");
    };
    if event.kind == "account.application.deauthorized" {
        let new = Database::from_env(env)?
            .revoke_stripe_account(account, (&event.id, Timestamp(event.created)), payload, period::now())
            .await?;
        return Ok(if new {
            Outcome::Disconnected {
                account: account.to_owned(),
            }
        } else {
            Outcome::Duplicate
        });
    }
    if let Some(subject) = after_sale::charge_subject(event) {
        let (db, stripe) = (Database::from_env(env)?, StripeModes::from_env(env)?);
        return handle_charge(db, &stripe, (event, payload), account, subject).await;
    }
    if let Some((session, publishable_key, order)) = store::order_subject(event) {
        let (Some(publishable_key), Some(order)) = (publishable_key, order) else {
            return ignored("not a cart checkout created through dream-api");
        };
        return handle_order(env, event, payload, account, (&session, &publishable_key, &order)).await;
    }
    let Some(Subject {
        subscription: subscription_id,
        publishable_key: Some(publishable_key),
        user_id,
    }) = subject(event)
    else {
        return ignored("not about a subscription created through dream-api");
    };
    let Some(scope) =
        connected_event_project(Database::from_env(env)?, &publishable_key, account, event.livemode).await?
    else {
        return ignored("no project of this connected account has that key");
    };
    if scope.project().project_type != ProjectType::Saas {
        return ignored("the project is not a SaaS project");
    }
    if Database::from_env(env)?.event_seen(&event.id).await? {
        // A retry: D1 already has the effect, but Clerk's copy may be what failed last time.
        if let Some(user_id) = &user_id {
            mirror_plan_to_clerk(env, &scope, user_id).await?;
        }
        return Ok(Outcome::Duplicate);
    }
    let mode = scope.project().publishable_key.mode();
    let stripe = StripeModes::from_env(env)?.for_mode(mode).on_account(account);
    let read_at = period::now_millis();
    let live: Value = match stripe.get(&format!("/subscriptions/{subscription_id}")).await {
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
    let outcome = apply(&scope, event, payload, &state, read_at_ms, period::now()).await?;
    if let (Outcome::Applied { .. } | Outcome::Duplicate, Some(user_id)) = (&outcome, state.metadata("userId")) {
        mirror_plan_to_clerk(env, &scope, user_id).await?;
    }
    Ok(outcome)
}

/// A Store cart checkout's completion or expiry.
async fn handle_order(
    env: &Env,
    event: &StripeEvent,
    payload: &str,
    account: &str,
    (session, publishable_key, order): (&str, &str, &str),
) -> ApiResult<Outcome> {
    let Some(scope) =
        connected_event_project(Database::from_env(env)?, publishable_key, account, event.livemode).await?
    else {
        return ignored("no project of this connected account has that key");
    };
    if scope.project().project_type != ProjectType::Store {
        return ignored("the project is not a Store project");
    }
    if Database::from_env(env)?.event_seen(&event.id).await? {
        return Ok(Outcome::Duplicate);
    }
    let stripe = StripeModes::from_env(env)?
        .for_mode(scope.project().publishable_key.mode())
        .on_account(account);
    let outcome = store::apply_event(&stripe, &scope, event, payload, (session, order), period::now()).await?;
    Ok(match outcome {
        OrderOutcome::Sold => Outcome::OrderSold {
            order: order.to_owned(),
        },
        OrderOutcome::Released => Outcome::OrderReleased {
            order: order.to_owned(),
        },
        OrderOutcome::Duplicate => Outcome::Duplicate,
        OrderOutcome::Ignored(reason) => Outcome::Ignored { reason },
    })
}

/// A refund or dispute of a charge: recorded on the Store order the charge paid for (our
/// checkout wrote the order into the payment's metadata, which Stripe copies to its charge).
async fn handle_charge(
    db: Database,
    stripe: &StripeModes,
    (event, payload): (&StripeEvent, &str),
    account: &str,
    subject: ChargeSubject,
) -> ApiResult<Outcome> {
    // `charge.refunded` carries the charge's metadata: most charges (subscriptions') need no read.
    if event.kind == "charge.refunded" && text(&event.data.object, "/metadata/orderId").is_none() {
        return ignored("not the charge of a Store order");
    }
    let mode = if event.livemode { Mode::Live } else { Mode::Test };
    let stripe = stripe.for_mode(mode).on_account(account);
    let Some(charge) = after_sale::read_charge(&stripe, &subject.charge).await? else {
        return ignored("Stripe has no such charge on this account");
    };
    let (Some(publishable_key), Some(order)) = (charge.publishable_key.as_deref(), charge.order_id.clone()) else {
        return ignored("not the charge of a Store order");
    };
    if db.event_seen(&event.id).await? {
        return Ok(Outcome::Duplicate);
    }
    let Some(scope) = connected_event_project(db, publishable_key, account, event.livemode).await? else {
        return ignored("no project of this connected account has that key");
    };
    let applied = after_sale::apply_charge_event(
        &stripe,
        &scope,
        (event, payload),
        &charge,
        subject.dispute.as_deref(),
        period::now(),
    )
    .await?;
    Ok(match applied {
        Some(true) => Outcome::OrderUpdated { order },
        Some(false) => Outcome::Duplicate,
        None => Outcome::Ignored {
            reason: "the charge is not the payment of one of this project's orders",
        },
    })
}

fn is_missing(error: &crate::ApiError) -> bool {
    error.code() == ErrorCode::StripeError && error.body("")["stripe"]["code"] == "resource_missing"
}

async fn apply(
    scope: &ProjectScope,
    event: &StripeEvent,
    payload: &str,
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
    let new_event = scope.sync_subscription(&sync, now).await?;
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
