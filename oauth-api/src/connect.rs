//! Stripe Connect OAuth: the developer links their Stripe account to the platform.

use axum::{Json, extract::State};
use std::sync::Arc;

use dream_core::api::{ConnectCallback, ConnectLink, Connected};
use dream_core::{ApiError, ApiResult, oauth_state, team::Action};
use serde_json::json;
use shared::{
    identity::{DeveloperSession, redeem_oauth_state},
    runtime::clock,
    upstream::stripe::{DEFAULT_API_BASE, DEFAULT_CONNECT_BASE, Stripe},
};

use crate::settings::Settings;

/// GET /authorize — the Stripe Connect URL to send the developer to, with a signed, expiring,
/// single-use `state` bound to their platform. (JSON, because a browser navigation cannot carry
/// the session token; the dashboard redirects.)
#[worker::send]
pub async fn authorize(
    State(settings): State<Arc<Settings>>,
    DeveloperSession(developer): DeveloperSession,
) -> ApiResult<Json<ConnectLink>> {
    let platform = developer.platform().await?;
    platform.authorize(Action::ConnectStripe)?;
    let now = clock::now();
    let issued = oauth_state::issue_state(settings.oauth_state_secret.get()?, now);
    platform.record_oauth_state(&issued.nonce, issued.expires, now).await?;
    let mut url = url::Url::parse(&format!(
        "{}/oauth/authorize",
        settings.connect_base.or(DEFAULT_CONNECT_BASE).trim_end_matches('/')
    ))
    .map_err(|e| ApiError::internal(format!("STRIPE_CONNECT_BASE: {e}")))?;
    url.query_pairs_mut()
        .append_pair("response_type", "code")
        .append_pair("client_id", settings.connect_client_id.get()?)
        .append_pair("scope", "read_write")
        .append_pair("state", &issued.state)
        .append_pair("redirect_uri", &redirect_uri(&settings)?);
    Ok(Json(ConnectLink {
        url: url.to_string(),
        expires_at: issued.expires.to_rfc3339(),
    }))
}

/// Where Stripe sends the developer back: the dashboard's page, which posts the `code` and
/// `state` here with the developer's session (so the state is checked against the browser's own
/// session, not only against the database).
pub fn redirect_uri(settings: &Settings) -> ApiResult<String> {
    match settings.oauth_redirect_uri.optional() {
        Some(uri) => Ok(uri.to_owned()),
        None => Ok(format!(
            "{}/connect/callback",
            settings.dashboard_url.get()?.trim_end_matches('/')
        )),
    }
}

/// POST /connect/callback — the dashboard relays Stripe's redirect with the developer's session.
/// A forged, expired or replayed state is refused (400), another developer's with 403; otherwise
/// the code is exchanged and the account id (never a token) is stored.
#[worker::send]
pub async fn callback(
    State(settings): State<Arc<Settings>>,
    DeveloperSession(developer): DeveloperSession,
    Json(request): Json<ConnectCallback>,
) -> ApiResult<Json<Connected>> {
    if request.code.is_empty() || request.code.len() > 256 || request.state.len() > 512 {
        return Err(ApiError::invalid_request("`code` and `state` must be Stripe's values"));
    }
    let platform = developer.platform().await?;
    let actor = platform.authorize(Action::ConnectStripe)?;
    let now = clock::now();
    let secret = settings.oauth_state_secret.get()?;
    redeem_oauth_state(&platform, secret, &request.state, now).await?;
    // Connect's OAuth runs on the platform's test key in both modes (the grant says which).
    let stripe = Stripe::new(
        settings.stripe.api_base.or(DEFAULT_API_BASE),
        settings.stripe.test_secret_key.get()?,
    );
    let connect_base = settings.connect_base.or(DEFAULT_CONNECT_BASE);
    let grant = stripe.exchange_oauth_code(connect_base, &request.code).await?;
    // Existing projects' products live on the connected account; switching accounts under them
    // would orphan every product and price, so it is refused while projects exist.
    let previous = platform.last_stripe_account().await?;
    if let Some(current) = previous.clone()
        && current != grant.stripe_user_id
        && !platform.key_sets().await?.is_empty()
    {
        return Err(
            ApiError::conflict("Your projects use another Stripe account; connect that account again instead")
                .with_detail("stripeAccountId", current),
        );
    }
    let connected = actor.entry("stripe.connected", now).changes(
        previous.map(|account| json!({ "stripeAccountId": account })),
        json!({ "stripeAccountId": grant.stripe_user_id, "livemode": grant.livemode }),
    );
    platform
        .save_stripe_connection(
            &grant.stripe_user_id,
            grant.scope.as_deref(),
            grant.livemode,
            &connected,
            now,
        )
        .await?;
    Ok(Json(Connected {
        connected: true,
        stripe_account_id: grant.stripe_user_id,
        livemode: grant.livemode,
    }))
}
