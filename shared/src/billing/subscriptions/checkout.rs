//! `POST /api/create-checkout`, `POST /api/customer-portal` and `POST /api/change-plan`.
//!
//! A user never ends up with two subscriptions in a project: checkout is refused while one
//! entitles them, and at most one of their checkout sessions can be paid at a time (the
//! previous one is handed out again, or expired before a new one is made, and the swap in D1
//! is a compare-and-set). Plan changes go through `change-plan` or Stripe's portal.

use crate::runtime::clock;
use dream_core::api::subscriptions::{
    ChangePlanRequest, CheckoutRequest, CheckoutStarted, PortalRequest, SubscriptionView,
};
use serde::Deserialize;
use serde_json::Value;
use sha2::{Digest, Sha256};

use super::{paid_tier, require_saas};
use crate::{
    billing::{promotions::CheckoutDiscount, tax::Payer},
    identity::SecretKeyAuth,
    storage::{customers::Customer, subscriptions::SubscriptionSync},
    upstream::stripe::{Form, Stripe},
};
use crate::{
    projects::{
        StripeModes,
        connected::{return_urls, stripe_for},
    },
    runtime::settings::Setting,
    upstream::clerk::ClerkBackend,
};
use dream_core::input::{json_body, parse_redirect};
use dream_core::{
    error::{ApiError, ApiResult},
    period::Timestamp,
    stripe::objects::{CheckoutSession, SubscriptionState},
    tiers::{Tier, features::Trial},
};

#[derive(Deserialize)]
struct Created {
    id: String,
}

fn short_hash(parts: &[&str]) -> String {
    let mut hasher = Sha256::new();
    for part in parts {
        hasher.update(part.as_bytes());
        hasher.update([0]);
    }
    hex::encode(&hasher.finalize()[..8])
}

/// The user's customer row with a Stripe customer, created on their first checkout.
async fn billing_customer(
    auth: &SecretKeyAuth,
    stripe: &Stripe,
    user_id: &str,
    now: Timestamp,
) -> ApiResult<(Customer, String)> {
    let existing = auth.scope.customer(user_id).await?;
    if let Some(customer) = &existing
        && let Some(stripe_customer) = &customer.stripe_customer_id
    {
        return Ok((customer.clone(), stripe_customer.clone()));
    }
    let pk = auth.scope.project().publishable_key.as_str();
    let form = Form::new()
        .field_opt("email", existing.as_ref().and_then(|c| c.email.as_deref()))
        .field("metadata[publishableKey]", pk)
        .field("metadata[userId]", user_id);
    // Same key for concurrent first checkouts: Stripe answers both with one customer.
    let key = format!("customer:{pk}:{user_id}");
    let created: Created = stripe.post("/customers", &form, &key).await?;
    let customer = auth
        .scope
        .remember_stripe_customer(user_id, &created.id, now)
        .await?
        .ok_or_else(|| ApiError::internal("customer row missing after recording its Stripe customer"))?;
    let stripe_customer = customer
        .stripe_customer_id
        .clone()
        .ok_or_else(|| ApiError::internal("Stripe customer missing after recording it"))?;
    Ok((customer, stripe_customer))
}

/// What to do about the user's previous checkout session before making a new one.
enum Previous {
    Reuse(CheckoutStarted),
    Replace,
}

/// What a checkout session offers: the tier at its current price, its trial, tax, and the
/// discount. An open session offering the same is handed out again; one offering anything else
/// (an edit or a settings change since it was made) is expired first.
fn offer_of(tier: &Tier, trial: Option<Trial>, automatic_tax: bool, discount: &CheckoutDiscount) -> String {
    let trial = trial.map_or_else(
        || "none".to_owned(),
        |t| format!("{}d{}", t.days, u8::from(t.card_required)),
    );
    format!(
        "{}:{}:{trial}:{}:{}",
        tier.name,
        tier.price_id.as_deref().unwrap_or_default(),
        u8::from(automatic_tax),
        discount.fingerprint()
    )
}

async fn settle_previous(auth: &SecretKeyAuth, stripe: &Stripe, previous: &str, offer: &str) -> ApiResult<Previous> {
    let session: CheckoutSession = stripe.get(&format!("/checkout/sessions/{previous}")).await?;
    // Sessions made before offers were recorded are replaced: what they offer is unknown.
    let offered = session.metadata.get("offer").and_then(Value::as_str);
    match session.status.as_deref() {
        Some("open") if offered == Some(offer) => {
            let url = session
                .url
                .ok_or_else(|| ApiError::internal("open Stripe checkout session without a url"))?;
            Ok(Previous::Reuse(CheckoutStarted {
                url,
                session_id: session.id,
                reused: true,
                trial_days: None,
            }))
        }
        Some("open") => {
            // Another tier or discount was asked for: the old session must not stay payable.
            let form = Form::new();
            let expired: ApiResult<Value> = stripe
                .post(
                    &format!("/checkout/sessions/{previous}/expire"),
                    &form,
                    &format!("expire:{previous}"),
                )
                .await;
            match expired {
                Ok(_) => Ok(Previous::Replace),
                Err(_) => Err(ApiError::conflict(
                    "This user's previous checkout is being paid right now; try again in a moment",
                )),
            }
        }
        Some("complete") => {
            let subscription = session
                .subscription
                .as_ref()
                .and_then(dream_core::stripe::objects::id_of);
            let recorded = match &subscription {
                Some(id) => auth.scope.known_subscription(id).await?.is_some(),
                None => true,
            };
            if recorded {
                Ok(Previous::Replace)
            } else {
                Err(ApiError::conflict(
                    "This user has just paid for a subscription; it appears in a moment (Stripe's webhook is on its way)",
                ))
            }
        }
        _ => Ok(Previous::Replace),
    }
}

/// POST /api/create-checkout: a subscription Checkout Session for `tier`.
pub async fn start(
    (stripe, api_multi_url): (&StripeModes, &Setting),
    auth: &SecretKeyAuth,
    user_id: &str,
    body: &[u8],
    now: Timestamp,
) -> ApiResult<CheckoutStarted> {
    require_saas(&auth.config)?;
    let body: CheckoutRequest = json_body(body)?;
    if body.tier.is_empty() {
        return Err(ApiError::invalid_request(
            "`tier` is required: the paid tier to subscribe to",
        ));
    }
    let (tier, price_id) = paid_tier(&auth.config, &body.tier)?;
    let (success_url, cancel_url) =
        return_urls(api_multi_url, body.success_url.as_deref(), body.cancel_url.as_deref())?;
    if let Some(current) = auth.scope.entitled_subscription(user_id).await? {
        return Err(ApiError::conflict(format!(
            "This user already has a `{}` subscription ({}); change plans with POST /api/change-plan or the customer portal",
            current.plan, current.status
        )));
    }
    let stripe = stripe_for(stripe, &auth.scope).await?;
    let (customer, stripe_customer) = billing_customer(auth, &stripe, user_id, now).await?;
    let discount = CheckoutDiscount::of(
        &auth.scope,
        (body.allow_promotion_codes, body.promotion_code.as_deref()),
        now,
    )
    .await?;
    // One trial per user and project: a user who had one (and canceled) pays from the start.
    let trial = match tier.trial {
        Some(trial) if !auth.scope.had_trial(user_id).await? => Some(trial),
        _ => None,
    };
    let offer = offer_of(tier, trial, auth.config.tax.automatic_tax, &discount);
    let previous = customer.checkout_session_id.as_deref();
    if let Some(previous) = previous
        && let Previous::Reuse(started) = settle_previous(auth, &stripe, previous, &offer).await?
    {
        return Ok(CheckoutStarted {
            trial_days: trial.map(|t| t.days),
            ..started
        });
    }
    let pk = auth.scope.project().publishable_key.as_str();
    let tier_name = tier.name.as_str();
    let mut form = Form::new()
        .field("mode", "subscription")
        .field("customer", &stripe_customer)
        .field("line_items[0][price]", price_id)
        .field("line_items[0][quantity]", 1);
    // Each billed meter's metered price rides along (Stripe takes no quantity for one): the
    // overage is billed in arrears on each invoice.
    for (i, metered) in metered_prices(tier).enumerate() {
        form = form.field(format!("line_items[{}][price]", i + 1), metered);
    }
    if let Some(trial) = trial {
        form = form.field("subscription_data[trial_period_days]", trial.days);
        if !trial.card_required {
            // Stripe asks for no card during checkout, and ends the subscription at the end of
            // the trial if none was added by then (through the customer portal).
            form = form.field("payment_method_collection", "if_required").field(
                "subscription_data[trial_settings][end_behavior][missing_payment_method]",
                "cancel",
            );
        }
    }
    let form = crate::billing::tax::checkout_tax(discount.apply(form), auth.config.tax, Payer::Customer)
        .field("success_url", &success_url)
        .field("cancel_url", &cancel_url)
        .field("client_reference_id", user_id)
        .field("metadata[publishableKey]", pk)
        .field("metadata[userId]", user_id)
        .field("metadata[tier]", tier_name)
        .field("metadata[offer]", &offer)
        .field("subscription_data[metadata][publishableKey]", pk)
        .field("subscription_data[metadata][userId]", user_id)
        .field("subscription_data[metadata][tier]", tier_name);
    // Concurrent identical requests (two tabs) get the same session from Stripe.
    let key = format!(
        "checkout:{}",
        short_hash(&[
            pk,
            user_id,
            previous.unwrap_or("first"),
            tier_name,
            &success_url,
            &cancel_url,
            &trial.map_or_else(String::new, |t| format!("{}:{}", t.days, t.card_required)),
            &discount.fingerprint(),
        ])
    );
    let session: CheckoutSession = stripe
        .post("/checkout/sessions", &form, &key)
        .await
        .map_err(crate::billing::promotions::refused_discount)?;
    let url = session
        .url
        .clone()
        .ok_or_else(|| ApiError::internal("Stripe checkout session has no url"))?;
    if !auth
        .scope
        .swap_checkout_session(user_id, previous, &session.id, now)
        .await?
    {
        let expired: ApiResult<Value> = stripe
            .post(
                &format!("/checkout/sessions/{}/expire", session.id),
                &Form::new(),
                &format!("expire:{}", session.id),
            )
            .await;
        if let Err(e) = expired {
            crate::runtime::log::error(&format!("expiring a checkout session that lost a race: {e}"));
        }
        return Err(ApiError::conflict(
            "Another checkout for this user started at the same moment; retry to get it",
        ));
    }
    Ok(CheckoutStarted {
        url,
        session_id: session.id,
        reused: false,
        trial_days: trial.map(|t| t.days),
    })
}

/// POST /api/customer-portal: the Stripe billing portal of the user's Stripe customer.
pub async fn portal(
    stripe: &StripeModes,
    auth: &SecretKeyAuth,
    user_id: &str,
    body: &[u8],
    request_id: &str,
) -> ApiResult<String> {
    let body: PortalRequest = json_body(body)?;
    let return_url = body
        .return_url
        .as_deref()
        .map(|url| parse_redirect("returnUrl", url))
        .transpose()?;
    let stripe_customer = auth
        .scope
        .customer(user_id)
        .await?
        .and_then(|c| c.stripe_customer_id)
        .ok_or_else(|| {
            ApiError::not_found(
                "This user has no billing account in this project yet (they have never started a checkout)",
            )
        })?;
    let stripe = stripe_for(stripe, &auth.scope).await?;
    let form = Form::new()
        .field("customer", &stripe_customer)
        .field_opt("return_url", return_url.as_deref());
    #[derive(Deserialize)]
    struct PortalSession {
        url: String,
    }
    let session: PortalSession = stripe
        .post("/billing_portal/sessions", &form, &format!("portal:{request_id}"))
        .await?;
    Ok(session.url)
}

/// POST /api/change-plan: moves the user's subscription to another paid tier at once (Stripe
/// prorates the difference on the next invoice). Returns the subscription and whether it
/// changed (a retry of a change already made does not change it again).
pub async fn change_plan(
    (stripe, end_users, senders): (&StripeModes, &ClerkBackend, &crate::webhooks::Senders),
    auth: &SecretKeyAuth,
    user_id: &str,
    body: &[u8],
) -> ApiResult<(SubscriptionView, bool)> {
    require_saas(&auth.config)?;
    let body: ChangePlanRequest = json_body(body)?;
    if body.tier.is_empty() {
        return Err(ApiError::invalid_request(
            "`tier` is required: the paid tier to move to",
        ));
    }
    let (tier, price_id) = paid_tier(&auth.config, &body.tier)?;
    let current = auth.scope.entitled_subscription(user_id).await?.ok_or_else(|| {
        ApiError::not_found("This user has no active subscription to change; start one with POST /api/create-checkout")
    })?;
    let stripe = stripe_for(stripe, &auth.scope).await?;
    let live: Value = stripe
        .get(&format!("/subscriptions/{}", current.subscription_id))
        .await?;
    let state = SubscriptionState::parse(&live).ok_or_else(|| ApiError::internal("Stripe returned no subscription"))?;
    if current.plan == tier.name.as_str() {
        return Ok((SubscriptionView::of(&state, &current.plan), false));
    }
    if !state.entitles() {
        return Err(ApiError::conflict(format!(
            "This subscription is {} and can no longer change plans",
            state.status
        )));
    }
    let form = plan_change_items(&live, tier, price_id)?
        .field("metadata[tier]", tier.name.as_str())
        .field("proration_behavior", "create_prorations")
        .field("expand[]", dream_core::stripe::objects::DISCOUNT_EXPANSION);
    // One key per change from the state read: a retry of this change replays it, but moving back
    // to a plan within Stripe's 24 h would otherwise send an earlier change's key and body again
    // and get that change's old answer, changing nothing.
    let key = format!(
        "change-plan:{}:{}:{}:{}",
        current.subscription_id, current.plan, tier.name, current.synced_at_ms
    );
    // Stamped before the call: a read sent later can only see newer state.
    let read_at = clock::now_millis();
    let updated: Value = stripe
        .post(&format!("/subscriptions/{}", current.subscription_id), &form, &key)
        .await?;
    let state =
        SubscriptionState::parse(&updated).ok_or_else(|| ApiError::internal("Stripe returned no subscription"))?;
    // Written now, so the caller's next request already meters on the new tier; the webhook
    // that follows writes the same state again.
    let sync = SubscriptionSync {
        state: &state,
        user_id,
        plan: tier.name.as_str(),
        read_at_ms: i64::try_from(read_at).unwrap_or(i64::MAX),
        event: None,
    };
    super::notify::sync_and_notify(&auth.scope, &sync, senders, clock::now()).await?;
    super::mirror_plan_to_clerk(end_users, &auth.scope, user_id).await?;
    Ok((SubscriptionView::of(&state, tier.name.as_str()), true))
}

/// The metered prices of a tier's billed meters.
fn metered_prices(tier: &Tier) -> impl Iterator<Item = &str> {
    tier.meters
        .iter()
        .filter(|m| m.overage.is_some())
        .filter_map(|m| m.price_id.as_deref())
}

/// The subscription's items after a plan change: the flat item moves to the new tier's price,
/// the old tier's metered items are removed and the new tier's added. The usage counters keep
/// counting the period, so the overage of the whole period is billed at the price on the
/// subscription when its invoice is made (docs/api.md, "Meters").
fn plan_change_items(live: &Value, tier: &Tier, price_id: &str) -> ApiResult<Form> {
    let items = live
        .pointer("/items/data")
        .and_then(Value::as_array)
        .ok_or_else(|| ApiError::internal("Stripe subscription without items"))?;
    let metered = |item: &Value| item.pointer("/price/recurring/usage_type").and_then(Value::as_str) == Some("metered");
    let flat = items
        .iter()
        .find(|item| !metered(item))
        .and_then(|item| item["id"].as_str())
        .ok_or_else(|| ApiError::internal("Stripe subscription without a licensed item"))?;
    let mut form = Form::new()
        .field("items[0][id]", flat)
        .field("items[0][price]", price_id);
    let mut n = 1;
    for item in items.iter().filter(|item| metered(item)) {
        if let Some(id) = item["id"].as_str() {
            form = form
                .field(format!("items[{n}][id]"), id)
                .field(format!("items[{n}][deleted]"), "true");
            n += 1;
        }
    }
    for price in metered_prices(tier) {
        form = form.field(format!("items[{n}][price]"), price);
        n += 1;
    }
    Ok(form)
}
