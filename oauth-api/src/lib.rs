//! oauth-api: Stripe Connect, project creation, tiers, go-live and key rotation.
//! Thin by design: routing, extracting and shaping responses; the rules live in `shared`.

use axum::Router;
use tower_service::Service;
use worker::{Context, Env, HttpRequest, event};

#[event(start)]
fn start() {
    console_error_panic_hook::set_once();
}

#[event(fetch)]
async fn fetch(req: HttpRequest, env: Env, _ctx: Context) -> worker::Result<axum::response::Response> {
    let cors = shared::http::CorsPolicy::from_env(&env);
    let mut app = shared::http::app("oauth-api", Router::new(), env, cors);
    Ok(app.call(req).await.unwrap_or_else(|never| match never {}))
}
