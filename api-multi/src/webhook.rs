//! Stripe's Connect webhook: the events of every developer's connected account.

use axum::{Json, body::Body, extract::State, http::HeaderMap};
use shared::{
    ApiResult, api::ConnectEventReceived, config, customer_billing::events, mode::Mode, period, projects::StripeModes,
    stripe::webhook,
};
use worker::Env;

/// POST /webhook/stripe — signature checked over the raw body before anything is parsed.
#[worker::send]
pub async fn stripe(State(env): State<Env>, headers: HeaderMap, body: Body) -> ApiResult<Json<ConnectEventReceived>> {
    let secret = config::required(&env, "STRIPE_CONNECT_WEBHOOK_SECRET")?;
    let signature = headers.get("stripe-signature").and_then(|v| v.to_str().ok());
    let stripe = StripeModes::from_env(&env)?;
    let clients = [stripe.for_mode(Mode::Test), stripe.for_mode(Mode::Live)];
    let webhook::Received { event, payload, .. } =
        webhook::receive(body, signature, &secret, period::now(), &clients).await?;
    let outcome = events::handle(&env, &event, &payload).await?;
    Ok(Json(ConnectEventReceived {
        received: true,
        event: event.id,
        result: outcome,
    }))
}
