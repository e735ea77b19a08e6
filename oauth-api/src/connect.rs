//! Stripe Connect OAuth: the developer links their Stripe account to the platform.

use axum::{
    Json,
    extract::{Query, State},
    response::{IntoResponse, Redirect, Response},
};
use serde::Deserialize;
use serde_json::{Value, json};
use shared::{
    ApiError, ApiResult,
    auth::{DeveloperSession, redeem_oauth_state},
    config, connect, period,
    repo::Database,
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
) -> ApiResult<Json<Value>> {
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
        .append_pair("redirect_uri", &config::required(&env, "OAUTH_REDIRECT_URI")?);
    Ok(Json(
        json!({ "url": url.as_str(), "expiresAt": issued.expires.to_rfc3339() }),
    ))
}

#[derive(Deserialize)]
pub struct CallbackQuery {
    code: Option<String>,
    state: Option<String>,
    error: Option<String>,
}

/// GET /callback — Stripe sends the developer back here. A forged, expired or replayed state
/// is refused; otherwise the code is exchanged and the account id (never a token) is stored.
#[worker::send]
pub async fn callback(State(env): State<Env>, Query(query): Query<CallbackQuery>) -> ApiResult<Response> {
    let dashboard = config::required(&env, "DASHBOARD_URL")?;
    if let Some(error) = query.error {
        let reason: String = error
            .chars()
            .filter(|c| c.is_ascii_alphanumeric() || *c == '_')
            .take(64)
            .collect();
        return Ok(Redirect::to(&format!("{dashboard}/dashboard?stripe=denied&reason={reason}")).into_response());
    }
    let (Some(code), Some(state)) = (query.code, query.state) else {
        return Err(ApiError::invalid_request("The callback needs `code` and `state`"));
    };
    let now = period::now();
    let secret = config::required(&env, "OAUTH_STATE_SECRET")?;
    let platform = redeem_oauth_state(Database::from_env(&env)?, &secret, &state, now).await?;
    let stripe = Stripe::from_env(&env, "STRIPE_TEST_SECRET_KEY")?;
    let connect_base = config::or_default(&env, "STRIPE_CONNECT_BASE", DEFAULT_CONNECT_BASE);
    let grant = stripe.exchange_oauth_code(&connect_base, &code).await?;
    // Existing projects' products live on the connected account; switching accounts under them
    // would orphan every product and price, so it is refused while projects exist.
    if let Some(current) = platform.stripe_account().await?
        && current != grant.stripe_user_id
        && !platform.key_sets().await?.is_empty()
    {
        return Ok(Redirect::to(&format!(
            "{dashboard}/dashboard?stripe=refused&reason=projects_use_another_account"
        ))
        .into_response());
    }
    platform
        .save_stripe_connection(&grant.stripe_user_id, grant.scope.as_deref(), grant.livemode, now)
        .await?;
    Ok(Redirect::to(&format!("{dashboard}/dashboard?stripe=connected")).into_response())
}
