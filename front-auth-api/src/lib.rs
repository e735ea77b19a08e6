//! front-auth-api: developer authentication, platform setup, billing, credentials and uploads.
//! Thin by design: routing, extracting and shaping responses; the rules live in `shared`.

mod assets;
mod billing;
mod platform;
mod settings;
mod team;

use axum::{
    Router,
    extract::DefaultBodyLimit,
    routing::{delete, get, post, put},
};
use worker::{Context, Env, event, web_sys};

#[event(start)]
fn start() {
    console_error_panic_hook::set_once();
    shared::runtime::executor::queue_jobs_as_promise_reactions();
}

#[event(fetch)]
async fn fetch(req: web_sys::Request, env: Env, _ctx: Context) -> worker::Result<web_sys::Response> {
    shared::edge::http::serve(req, || router(env)).await
}

fn router(env: Env) -> Router {
    let state = settings::App::for_isolate(env, settings::Settings::read);
    let cors = state.settings.cors.clone();
    let routes = Router::new()
        .route("/generate-platform-id", post(platform::generate_platform_id))
        .route("/get-credentials", get(platform::credentials))
        .route("/projects", get(platform::projects))
        .route("/dashboard", get(platform::dashboard))
        .route("/create-checkout", post(billing::create_checkout))
        .route("/team", get(team::show))
        .route("/team/invitations", post(team::invite))
        .route("/team/invitations/{invitation_id}", delete(team::revoke))
        .route("/team/invitations/{invitation_id}/accept", post(team::accept))
        .route("/team/members/{user_id}", put(team::set_role).delete(team::remove))
        .route("/audit-log", get(team::audit_log))
        .route("/exports/{kind}", get(team::export))
        .route(
            "/webhook/stripe",
            // The handler streams the body under its own bound (`webhook::MAX_STREAMED_BYTES`).
            post(billing::webhook),
        )
        .route(
            "/upload-asset",
            // One byte over the limit so the handler, not the extractor, reports oversize bodies.
            post(assets::upload)
                .layer(DefaultBodyLimit::max(shared::projects::assets::MAX_ASSET_BYTES + 1))
                .delete(assets::delete),
        );
    shared::edge::http::app("front-auth-api", routes, state, cors)
}
