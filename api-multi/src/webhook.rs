//! Stripe's Connect webhook: the events of every developer's connected account.

use std::sync::Arc;

use axum::{Json, body::Body, extract::State, http::HeaderMap};
use dream_core::api::ConnectEventReceived;
use dream_core::{ApiResult, mode::Mode};
use shared::{
    runtime::clock,
    storage::Database,
    stripe_events::{
        connect::{self, ConnectDeps},
        webhook,
    },
};
use worker::Env;

use crate::settings::Settings;

/// POST /webhook/stripe — signature checked over the raw body before anything is parsed.
#[worker::send]
pub async fn stripe(
    State(env): State<Env>,
    State(settings): State<Arc<Settings>>,
    headers: HeaderMap,
    body: Body,
) -> ApiResult<Json<ConnectEventReceived>> {
    let secret = settings.connect_webhook_secret.get()?;
    let signature = headers.get("stripe-signature").and_then(|v| v.to_str().ok());
    let stripe = settings.stripe()?;
    let clients = [stripe.for_mode(Mode::Test), stripe.for_mode(Mode::Live)];
    let webhook::Received { event, payload, .. } =
        webhook::receive(body, signature, secret, clock::now(), &clients).await?;
    let deps = ConnectDeps {
        db: Database::from_env(&env)?,
        stripe,
        end_users: settings.end_user_clerk()?,
        senders: crate::settings::senders(&env),
    };
    let outcome = connect::dispatch(&deps, &event, &payload).await?;
    Ok(Json(ConnectEventReceived {
        received: true,
        event: event.id,
        result: outcome,
    }))
}
