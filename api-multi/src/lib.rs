//! api-multi: the API developers' apps call with their project's secret key.
//! Thin by design: routing, extracting and shaping responses; the rules live in `shared`.

mod assets;
mod usage;

use axum::{
    Router,
    routing::{get, post},
};
use tower_service::Service;
use worker::{Context, Env, HttpRequest, event};

#[event(start)]
fn start() {
    console_error_panic_hook::set_once();
}

#[event(fetch)]
async fn fetch(req: HttpRequest, env: Env, _ctx: Context) -> worker::Result<axum::response::Response> {
    let cors = shared::http::CorsPolicy::from_env(&env);
    let routes = Router::new()
        .route("/api/data", post(usage::track))
        .route("/api/usage", get(usage::report))
        .route("/api/assets/{platform_id}/{file}", get(assets::serve));
    let mut app = shared::http::app("api-multi", routes, env, cors);
    Ok(app.call(req).await.unwrap_or_else(|never| match never {}))
}
