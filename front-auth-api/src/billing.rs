//! The developer's $15/month plan: checkout and the platform's Stripe webhook.

use axum::{
    Json,
    body::{Body, Bytes},
    extract::State,
    http::HeaderMap,
};
use std::sync::Arc;

use dream_core::api::{PlatformCheckout, PlatformCheckoutRequest, PlatformEventReceived};
use dream_core::ApiResult;
use shared::{
    billing::developer_plan::{self, Handled},
    edge::http::allowed_redirect,
    identity::DeveloperSession,
    runtime::clock,
    storage::Database,
    stripe_events::webhook,
};
use worker::Env;

use crate::settings::Settings;

/// POST /create-checkout — a Stripe Checkout URL for the platform subscription.
#[worker::send]
pub async fn create_checkout(
    State(settings): State<Arc<Settings>>,
    DeveloperSession(developer): DeveloperSession,
    body: Bytes,
) -> ApiResult<Json<PlatformCheckout>> {
    let request: PlatformCheckoutRequest = if body.is_empty() {
        PlatformCheckoutRequest::default()
    } else {
        dream_core::input::parse_json(&body)?
    };
    let platform = developer.platform().await?;
    platform.authorize(dream_core::team::Action::Billing)?;
    let dashboard = settings.dashboard_url.get()?;
    let policy = &settings.cors;
    let success = match request.success_url {
        Some(url) => allowed_redirect(policy, &url)?,
        None => format!("{dashboard}/dashboard?checkout=success&session_id={{CHECKOUT_SESSION_ID}}"),
    };
    let cancel = match request.cancel_url {
        Some(url) => allowed_redirect(policy, &url)?,
        None => format!("{dashboard}/dashboard?checkout=cancelled"),
    };
    let stripe = settings.platform_stripe()?;
    let price = settings.platform_price_id.get()?;
    let (session_id, url) = developer_plan::start_checkout(&platform, &stripe, price, &success, &cancel).await?;
    Ok(Json(PlatformCheckout { url, session_id }))
}

/// POST /webhook/stripe — the platform account's events, signature checked before parsing.
#[worker::send]
pub async fn webhook(
    State(env): State<Env>,
    State(settings): State<Arc<Settings>>,
    headers: HeaderMap,
    body: Body,
) -> ApiResult<Json<PlatformEventReceived>> {
    let secret = settings.stripe_webhook_secret.get()?;
    let now = clock::now();
    let signature = headers.get("stripe-signature").and_then(|v| v.to_str().ok());
    let stripe = settings.platform_stripe()?;
    let webhook::Received { event, payload, .. } = webhook::receive(body, signature, secret, now, &[&stripe]).await?;
    let db = Database::from_env(&env)?;
    let clerk = settings.developer_clerk()?;
    let price = settings.platform_price_id.get()?;
    let handled = developer_plan::handle_event(&db, &clerk, &stripe, price, &event, &payload, now).await?;
    Ok(Json(match handled {
        Handled::Applied {
            platform_id,
            paid,
            new_event,
        } => PlatformEventReceived::Applied {
            received: true,
            applied: true,
            platform_id,
            plan: if paid { "paid" } else { "free" }.to_owned(),
            duplicate: !new_event,
        },
        Handled::Ignored(reason) => PlatformEventReceived::Ignored {
            received: true,
            applied: false,
            reason: reason.to_string(),
        },
    }))
}
