//! The usage widget: tokens minted with the secret key, read by the widget in the user's
//! browser (`shared::usage::widget`), and the widget's script.

use axum::{
    Json,
    body::Bytes,
    extract::{Query, State},
    http::{HeaderMap, HeaderValue, header},
    response::{IntoResponse, Response},
};
use dream_core::api::widget::{UsageWidget, WidgetToken, WidgetTokenRequest};
use dream_core::{ApiResult, input::json_body};
use serde::Deserialize;
use shared::{
    edge::rate_limits,
    identity::{SecretKeyAuth, authenticate_widget_token, key_failures},
    runtime::clock,
    usage::{counters::Counters, widget},
};
use worker::Env;

/// The widget, a dependency-free custom element (`<dream-usage>`).
const SCRIPT: &str = include_str!("../widget/dream-usage.js");

/// POST /api/widget/tokens — a token for one user's widget (secret key; never counts usage).
#[worker::send]
pub async fn mint(
    State(env): State<Env>,
    auth: SecretKeyAuth,
    headers: HeaderMap,
    body: Bytes,
) -> ApiResult<Json<WidgetToken>> {
    let request: WidgetTokenRequest = json_body(&body)?;
    let token = widget::mint(&auth, &request, &headers, clock::now())?;
    let key = format!("{}\n{}", auth.scope.project().publishable_key.as_str(), token.user_id);
    rate_limits::enforce(&env, &rate_limits::WIDGET_LIMIT, key).await?;
    Ok(Json(token))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WidgetQuery {
    /// The `wt_` token (a query parameter, so the browser's GET needs no preflight).
    token: String,
}

/// GET /api/widget?token=wt_… — the user's plan, usage and tiers, from any origin (its
/// refusals too, so the page can tell an expired token from an outage).
#[worker::send]
pub async fn read(State(env): State<Env>, headers: HeaderMap, Query(query): Query<WidgetQuery>) -> Response {
    let answer = async {
        let now = clock::now();
        let client = key_failures::client_network(&headers);
        let (auth, user) = authenticate_widget_token(&env, &query.token, &client, now).await?;
        let key = format!("{}\n{user}", auth.scope.project().publishable_key.as_str());
        rate_limits::enforce(&env, &rate_limits::WIDGET_LIMIT, key).await?;
        let view: ApiResult<UsageWidget> = widget::view(&auth, &Counters::from_env(&env)?, &user, now).await;
        view
    };
    anywhere(match answer.await {
        Ok(view) => Json(view).into_response(),
        Err(error) => error.into_response(),
    })
}

/// GET /widget.js — the widget's script, for any page to embed.
pub async fn script() -> Response {
    let mut response = SCRIPT.into_response();
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/javascript; charset=utf-8"),
    );
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("public, max-age=300"));
    anywhere(response)
}

/// Readable from any origin: the widget runs on the developer's own site. Nothing here is sent
/// with cookies, and the token is the only credential.
fn anywhere(mut response: Response) -> Response {
    response
        .headers_mut()
        .insert(header::ACCESS_CONTROL_ALLOW_ORIGIN, HeaderValue::from_static("*"));
    response
}
