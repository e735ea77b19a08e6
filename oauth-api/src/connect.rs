//! Stripe Connect OAuth: the developer links their Stripe account to the platform.

use axum::{Json, extract::State};
use shared::{
    ApiError, ApiResult,
    api::{ConnectCallback, ConnectLink, Connected},
    auth::{DeveloperSession, redeem_oauth_state},
    config, connect, period,
    stripe::{Stripe, client::DEFAULT_CONNECT_BASE},
};
use worker::Env;

/// GET /authorize — the Stripe Connect URL to send the developer to, with a signed, expiring,
/// single-use `state` bound to their platform. (JSON, because a browser navigation cannot carry
/// the session token; the dashboard redirects.)
#[worker::send]
pub async fn authorize(
    State(env): State<Env>,
    DeveloperSession(developer): DeveloperSession,
) -> ApiResult<Json<ConnectLink>> {
    let platform = developer.platform().await?;
    let now = period::now();
    let issued = connect::issue_state(&config::required(&env, "OAUTH_STATE_SECRET")?, now);
    platform.record_oauth_state(&issued.nonce, issued.expires, now).await?;
    let mut url = url::Url::parse(&format!(
        "{}/oauth/authorize",
        config::or_default(&env, "STRIPE_CONNECT_BASE", DEFAULT_CONNECT_BASE).trim_end_matches('/')
    ))
    .map_err(|e| ApiError::internal(format!("STRIPE_CONNECT_BASE: {e}")))?;
    url.query_pairs_mut()
        .append_pair("response_type", "code")
        .append_pair("client_id", &config::required(&env, "STRIPE_CONNECT_CLIENT_ID")?)
        .append_pair("scope", "read_write")
        .append_pair("state", &issued.state)
        .append_pair("redirect_uri", &redirect_uri(&env)?);
    Ok(Json(ConnectLink {
        url: url.to_string(),
        expires_at: issued.expires.to_rfc3339(),
    }))
}

/// Where Stripe sends the developer back: the dashboard's page, which posts the `code` and
/// `state` here with the developer's session (so the state is checked against the browser's own
/// session, not only against the database).
pub fn redirect_uri(env: &Env) -> ApiResult<String> {
    match config::optional(env, "OAUTH_REDIRECT_URI") {
        Some(uri) => Ok(uri),
        None => Ok(format!(
            "{}/connect/callback",
            config::required(env, "DASHBOARD_URL")?.trim_end_matches('/')
        )),
    }
}

/// POST /connect/callback — the dashboard relays Stripe's redirect with the developer's session.
/// A forged, expired or replayed state is refused (400), another developer's with 403; otherwise
/// the code is exchanged and the account id (never a token) is stored.
#[worker::send]
pub async fn callback(
    State(env): State<Env>,
    DeveloperSession(developer): DeveloperSession,
    Json(request): Json<ConnectCallback>,
) -> ApiResult<Json<Connected>> {
    if request.code.is_empty() || request.code.len() > 256 || request.state.len() > 512 {
        return Err(ApiError::invalid_request("`code` and `state` must be Stripe's values"));
    }
    let platform = developer.platform().await?;
    let now = period::now();
    let secret = config::required(&env, "OAUTH_STATE_SECRET")?;
    redeem_oauth_state(&platform, &secret, &request.state, now).await?;
    let stripe = Stripe::from_env(&env, "STRIPE_TEST_SECRET_KEY")?;
    let connect_base = config::or_default(&env, "STRIPE_CONNECT_BASE", DEFAULT_CONNECT_BASE);
    let grant = stripe.exchange_oauth_code(&connect_base, &request.code).await?;
    // Existing projects' products live on the connected account; switching accounts under them
    // would orphan every product and price, so it is refused while projects exist.
    if let Some(current) = platform.last_stripe_account().await?
        && current != grant.stripe_user_id
        && !platform.key_sets().await?.is_empty()
    {
        return Err(
            ApiError::conflict("Your projects use another Stripe account; connect that account again instead")
                .with_detail("stripeAccountId", current),
        );
    }
    platform
        .save_stripe_connection(&grant.stripe_user_id, grant.scope.as_deref(), grant.livemode, now)
        .await?;
    Ok(Json(Connected {
        connected: true,
        stripe_account_id: grant.stripe_user_id,
        livemode: grant.livemode,
    }))
}
