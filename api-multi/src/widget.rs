//! The usage widget: tokens minted with the secret key, read by the widget in the user's
//! browser (`shared::usage::widget`), and the widget's script.

use axum::{
    Json,
    body::Bytes,
    extract::{RawQuery, State},
    http::{HeaderMap, HeaderValue, header},
    response::{IntoResponse, Response},
};
use dream_core::api::widget::{UsageWidget, WidgetToken, WidgetTokenRequest};
use dream_core::{ApiResult, input::json_body};
use shared::{
    edge::rate_limits,
    identity::{SecretKeyAuth, authenticate_widget_token, key_failures},
    runtime::clock,
    usage::{counters::Counters, widget},
};

use crate::settings::App;

/// The widget, a dependency-free custom element (`<dream-usage>`).
const SCRIPT: &str = include_str!("../widget/dream-usage.js");

/// POST /api/widget/tokens — a token for one user's widget (secret key; never counts usage).
#[worker::send]
pub async fn mint(
    State(app): State<App>,
    auth: SecretKeyAuth,
    headers: HeaderMap,
    body: Bytes,
) -> ApiResult<Json<WidgetToken>> {
    let request: WidgetTokenRequest = json_body(&body)?;
    let user_header = headers.get("x-user-id").map(|v| v.to_str().unwrap_or("\u{fffd}"));
    let secret = app.settings.widget_token_secret.get()?;
    let token = widget::mint((&auth, secret), &request, user_header, clock::now())?;
    let env = &app.env;
    let key = format!("{}\n{}", auth.scope.project().publishable_key.as_str(), token.user_id);
    rate_limits::enforce(env, &rate_limits::WIDGET_LIMIT, key).await?;
    Ok(Json(token))
}

/// GET /api/widget?token=wt_… — the user's plan, usage and tiers, from any origin (its
/// refusals too, so the page can tell an expired token from an outage). The token rides in the
/// query so the browser's GET needs no preflight; other parameters (a cache-buster) are ignored.
#[worker::send]
pub async fn read(State(app): State<App>, headers: HeaderMap, RawQuery(query): RawQuery) -> Response {
    let answer = async {
        let token = widget::token_in_query(query.as_deref())?;
        let now = clock::now();
        let client = key_failures::client_network(&headers);
        let secret = app.settings.widget_token_secret.get()?;
        let (auth, claims) = authenticate_widget_token(&app.env, (&token, secret), &client, now).await?;
        let key = format!("{}\n{}", auth.scope.project().publishable_key.as_str(), claims.sub);
        rate_limits::enforce(&app.env, &rate_limits::WIDGET_LIMIT, key).await?;
        let view: ApiResult<UsageWidget> = widget::view(&auth, &Counters::from_env(&app.env)?, &claims, now).await;
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
