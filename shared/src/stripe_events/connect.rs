//! `POST /webhook/stripe` on api-multi: the events of every developer's connected account,
//! each routed to the area it is about: a disconnected account (its platform), a Store
//! checkout or a charge's refund or dispute (`store`), a subscription (`billing`).
//!
//! An event counts only if the project its metadata names belongs to the developer whose
//! connected account sent it, in the same mode: metadata is written by whoever owns the Stripe
//! account, so a developer could forge another project's key into their own objects. Every
//! area records the event id in the same D1 transaction as its effect; a recorded event is
//! answered without work.

use crate::{
    billing::subscriptions,
    identity::connected_event_project,
    projects::StripeModes,
    runtime::clock,
    storage::Database,
    store::{
        self, OrderOutcome,
        after_sale::{self, ChargeSubject},
    },
    stripe_events::{outcome::ignored, webhook::StripeEvent},
    upstream::clerk::ClerkBackend,
};

use dream_core::api::events::Outcome;
use dream_core::{
    error::ApiResult,
    mode::{Mode, ProjectType},
    period::Timestamp,
    stripe::objects::text,
};

/// What the Connect webhook reaches: D1, the platform's Stripe in both modes (acting on the
/// event's account), and the end users' Clerk (plans are mirrored into it).
pub struct ConnectDeps {
    pub db: Database,
    pub stripe: StripeModes,
    pub end_users: ClerkBackend,
    /// The project's webhook senders, nudged when an event has a delivery due.
    pub senders: crate::webhooks::Senders,
}

/// Applies one verified event from a connected account.
pub async fn dispatch(deps: &ConnectDeps, event: &StripeEvent, payload: &str) -> ApiResult<Outcome> {
    let Some(account) = event.account.as_deref() else {
        return ignored("not a connected account's event");
    };
    if event.kind == "account.application.deauthorized" {
        let new = deps
            .db
            .revoke_stripe_account(account, (&event.id, Timestamp(event.created)), payload, clock::now())
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
        return on_charge(deps, (event, payload), account, subject).await;
    }
    if let Some((session, publishable_key, order)) = store::order_subject(event) {
        let (Some(publishable_key), Some(order)) = (publishable_key, order) else {
            return ignored("not a cart checkout created through dream-api");
        };
        return on_order(deps, (event, payload), account, (&session, &publishable_key, &order)).await;
    }
    match subscriptions::events::subject(event) {
        Some(subject) => subscriptions::events::handle(deps, (event, payload), account, subject).await,
        None => ignored("not about a subscription or an order created through dream-api"),
    }
}

/// A Store cart checkout's completion or expiry.
async fn on_order(
    deps: &ConnectDeps,
    (event, payload): (&StripeEvent, &str),
    account: &str,
    (session, publishable_key, order): (&str, &str, &str),
) -> ApiResult<Outcome> {
    let Some(scope) = connected_event_project(deps.db.clone(), publishable_key, account, event.livemode).await? else {
        return ignored("no project of this connected account has that key");
    };
    if scope.project().project_type != ProjectType::Store {
        return ignored("the project is not a Store project");
    }
    if deps.db.event_seen(&event.id).await? {
        return Ok(Outcome::Duplicate);
    }
    let stripe = deps
        .stripe
        .for_mode(scope.project().publishable_key.mode())
        .on_account(account);
    let outcome = store::apply_event(
        (&stripe, &deps.senders),
        &scope,
        event,
        payload,
        (session, order),
        clock::now(),
    )
    .await?;
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
async fn on_charge(
    deps: &ConnectDeps,
    (event, payload): (&StripeEvent, &str),
    account: &str,
    subject: ChargeSubject,
) -> ApiResult<Outcome> {
    // `charge.refunded` carries the charge's metadata: most charges (subscriptions') need no read.
    if event.kind == "charge.refunded" && text(&event.data.object, "/metadata/orderId").is_none() {
        return ignored("not the charge of a Store order");
    }
    let mode = if event.livemode { Mode::Live } else { Mode::Test };
    let stripe = deps.stripe.for_mode(mode).on_account(account);
    let Some(charge) = after_sale::read_charge(&stripe, &subject.charge).await? else {
        return ignored("Stripe has no such charge on this account");
    };
    let (Some(publishable_key), Some(order)) = (charge.publishable_key.as_deref(), charge.order_id.clone()) else {
        return ignored("not the charge of a Store order");
    };
    if deps.db.event_seen(&event.id).await? {
        return Ok(Outcome::Duplicate);
    }
    let Some(scope) = connected_event_project(deps.db.clone(), publishable_key, account, event.livemode).await? else {
        return ignored("no project of this connected account has that key");
    };
    let applied = after_sale::apply_charge_event(
        (&stripe, &deps.senders),
        &scope,
        (event, payload),
        &charge,
        subject.dispute.as_deref(),
        clock::now(),
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
