//! oauth-api: Stripe Connect, project creation, tiers, go-live and key rotation.
//! Thin by design: routing, extracting and shaping responses; the rules live in `shared`.

mod connect;
mod operator;
mod orders;
mod projects;
mod promotions;
mod settings;
mod webhooks;

use axum::{
    Router,
    routing::{get, post, put},
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
        .route("/authorize", get(connect::authorize))
        .route("/connect/callback", post(connect::callback))
        .route("/create-products", post(projects::create))
        .route(
            "/tiers",
            get(projects::list_tiers)
                .put(projects::update_tier)
                .delete(projects::delete_tier),
        )
        .route("/tiers/add", post(projects::add_tier))
        .route("/promote-to-live", post(projects::promote))
        .route("/rotate-key", post(projects::rotate_key))
        .route("/expire-previous-key", post(projects::expire_previous_key))
        .route("/project-settings", put(projects::save_settings))
        .route("/orders/cancel", post(orders::cancel))
        .route("/orders/refund", post(orders::refund))
        .route("/promotion-codes", get(promotions::list).post(promotions::create))
        .route("/promotion-codes/{promotion_code_id}", put(promotions::update))
        .route("/webhook-endpoints", get(webhooks::list).post(webhooks::create))
        .route(
            "/webhook-endpoints/{endpoint_id}",
            put(webhooks::update).delete(webhooks::delete),
        )
        .route(
            "/webhook-endpoints/{endpoint_id}/rotate-secret",
            post(webhooks::rotate_secret),
        )
        .route("/webhook-endpoints/{endpoint_id}/test", post(webhooks::send_test))
        .route("/events", get(webhooks::events))
        .route("/events/replay-failed", post(webhooks::replay_failed))
        .route("/events/{event_id}", get(webhooks::event))
        .route("/events/{event_id}/replay", post(webhooks::replay))
        .route(
            "/operator/usage-counters",
            get(operator::show_usage_counters).put(operator::usage_counters),
        );
    shared::edge::http::app("oauth-api", routes, state, cors)
}
