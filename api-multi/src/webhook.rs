//! Stripe's Connect webhook: the events of every developer's connected account.

use axum::{Json, body::Bytes, extract::State, http::HeaderMap};
use shared::{ApiResult, api::ConnectEventReceived, config, customer_billing::events, period, stripe::webhook};
use worker::Env;

/// POST /webhook/stripe — signature checked over the raw body before anything is parsed.
#[worker::send]
pub async fn stripe(State(env): State<Env>, headers: HeaderMap, body: Bytes) -> ApiResult<Json<ConnectEventReceived>> {
    let secret = config::required(&env, "STRIPE_CONNECT_WEBHOOK_SECRET")?;
    let signature = headers.get("stripe-signature").and_then(|v| v.to_str().ok());
    let (event, payload) = webhook::verified_event(&body, signature, &secret, period::now())?;
    let outcome = events::handle(&env, &event, payload).await?;
    Ok(Json(ConnectEventReceived {
        received: true,
        event: event.id,
        result: outcome,
    }))
}
