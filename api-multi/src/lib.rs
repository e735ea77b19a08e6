//! api-multi: the API developers' apps call with their project's secret key.
//! Thin by design: routing, extracting and shaping responses; the rules live in `shared`.

mod assets;
mod counter;
mod customers;
mod entitlements;
mod pages;
mod settings;
mod store;
mod upstream;
mod usage;
mod webhook;
mod webhook_sender;
mod widget;

use axum::{
    Router,
    routing::{get, post},
};
use worker::{Context, Env, event, web_sys};

#[event(start)]
fn start() {
    console_error_panic_hook::set_once();
    shared::runtime::executor::queue_jobs_as_promise_reactions();
}

/// The crons of wrangler/api-multi.toml: daily housekeeping, and every minute the webhook
/// sweep (senders whose deliveries are overdue, their nudge or alarm lost, are nudged again).
#[event(scheduled)]
async fn scheduled(event: worker::ScheduledEvent, env: Env, _ctx: worker::ScheduleContext) {
    let db = match shared::storage::Database::from_env(&env) {
        Ok(db) => db,
        Err(e) => return shared::runtime::log::error(&format!("scheduled: {e}")),
    };
    let now = shared::runtime::clock::now();
    if event.cron() == shared::webhooks::SWEEP_CRON {
        let senders = settings::senders(&env);
        match shared::webhooks::sweep(&db, &senders, now).await {
            Ok(swept) if swept.nudged > 0 || swept.purged > 0 => worker::console_log!(
                "webhook sweep: nudged {} senders, deleted {} expired events",
                swept.nudged,
                swept.purged
            ),
            Ok(_) => {}
            Err(e) => shared::runtime::log::error(&format!("webhook sweep failed: {e}")),
        }
        return;
    }
    match db.housekeeping(now).await {
        Ok(done) => worker::console_log!("housekeeping: {}", serde_json::to_string(&done).unwrap_or_default()),
        Err(e) => shared::runtime::log::error(&format!("scheduled housekeeping failed: {e}")),
    }
}

#[event(fetch)]
async fn fetch(req: web_sys::Request, env: Env, _ctx: Context) -> worker::Result<web_sys::Response> {
    shared::edge::http::serve(req, || router(env)).await
}

fn router(env: Env) -> Router {
    let state = settings::App::for_isolate(env, settings::Settings::read);
    let cors = state.settings.cors.clone();
    let routes = Router::new()
        .route("/api/data", post(usage::track))
        .route("/api/usage", get(usage::report))
        .route("/api/entitlements", get(entitlements::list))
        .route("/api/check", post(entitlements::check))
        .route("/api/widget/tokens", post(widget::mint))
        .route("/api/widget", get(widget::read))
        .route("/widget.js", get(widget::script))
        .route("/api/customers", post(customers::create))
        .route("/api/create-checkout", post(customers::create_checkout))
        .route("/api/customer-portal", post(customers::portal))
        .route("/api/change-plan", post(customers::change_plan))
        .route("/api/dashboard", get(customers::dashboard))
        .route("/api/products", get(store::products))
        .route("/api/cart/checkout", post(store::cart_checkout))
        .route("/api/orders/{order_id}/cancel", post(store::cancel_order))
        .route(
            "/webhook/stripe",
            // The handler streams the body under its own bound (`webhook::MAX_STREAMED_BYTES`).
            post(webhook::stripe),
        )
        .route("/checkout/success", get(pages::success))
        .route("/checkout/cancel", get(pages::cancel))
        .route("/api/assets/{platform_id}/{file}", get(assets::serve));
    shared::edge::http::app("api-multi", routes, state, cors)
}
