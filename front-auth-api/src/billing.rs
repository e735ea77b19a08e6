//! The developer's $15/month plan: checkout and the platform's Stripe webhook.

use axum::{
    Json,
    body::{Body, Bytes},
    extract::State,
    http::HeaderMap,
};
use shared::{
    ApiError, ApiResult,
    api::{PlatformCheckout, PlatformCheckoutRequest, PlatformEventReceived},
    auth::DeveloperSession,
    billing::{self, Handled},
    clerk_backend::ClerkBackend,
    config,
    http::{CorsPolicy, allowed_redirect},
    period,
    repo::Database,
    stripe::{Stripe, webhook},
};
use worker::Env;

/// POST /create-checkout — a Stripe Checkout URL for the platform subscription.
#[worker::send]
pub async fn create_checkout(
    State(env): State<Env>,
    DeveloperSession(developer): DeveloperSession,
    body: Bytes,
) -> ApiResult<Json<PlatformCheckout>> {
    let request: PlatformCheckoutRequest = if body.is_empty() {
        PlatformCheckoutRequest::default()
    } else {
        serde_json::from_slice(&body).map_err(|e| ApiError::invalid_request(format!("Invalid JSON body: {e}")))?
    };
    let platform = developer.platform().await?;
    let dashboard = config::required(&env, "DASHBOARD_URL")?;
    let policy = CorsPolicy::from_env(&env);
    let success = match request.success_url {
        Some(url) => allowed_redirect(&policy, &url)?,
        None => format!("{dashboard}/dashboard?checkout=success&session_id={{CHECKOUT_SESSION_ID}}"),
    };
    let cancel = match request.cancel_url {
        Some(url) => allowed_redirect(&policy, &url)?,
        None => format!("{dashboard}/dashboard?checkout=cancelled"),
    };
    let stripe = Stripe::from_env(&env, "STRIPE_SECRET_KEY")?;
    let price = config::required(&env, "PLATFORM_PRICE_ID")?;
    let (session_id, url) = billing::start_checkout(&platform, &stripe, &price, &success, &cancel).await?;
    Ok(Json(PlatformCheckout { url, session_id }))
}

/// POST /webhook/stripe — the platform account's events, signature checked before parsing.
#[worker::send]
pub async fn webhook(State(env): State<Env>, headers: HeaderMap, body: Body) -> ApiResult<Json<PlatformEventReceived>> {
    let secret = config::required(&env, "STRIPE_WEBHOOK_SECRET")?;
    let now = period::now();
    let signature = headers.get("stripe-signature").and_then(|v| v.to_str().ok());
    let stripe = Stripe::from_env(&env, "STRIPE_SECRET_KEY")?;
    let webhook::Received { event, payload, .. } = webhook::receive(body, signature, &secret, now, &[&stripe]).await?;
    let db = Database::from_env(&env)?;
    let clerk = ClerkBackend::developers(&env)?;
    let price = config::required(&env, "PLATFORM_PRICE_ID")?;
    let handled = billing::handle_event(&db, &clerk, &stripe, &price, &event, &payload, now).await?;
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
