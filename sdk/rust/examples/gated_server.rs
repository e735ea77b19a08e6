//! A server that sells reports by quota: `GET /report?user=…` counts one request for the user
//! with dream-api, and sends a user over their tier's limit to Stripe Checkout for `pro`.
//!
//!   DREAM_API_BASE_URL=http://localhost:8787 DREAM_API_SECRET_KEY=sk_test_… \
//!     cargo run -p dream-api --example gated_server      (then open http://localhost:3000/report?user=ada)

use std::sync::Arc;

use axum::{
    Router,
    extract::{Query, State},
    http::StatusCode,
    response::{IntoResponse, Redirect, Response},
    routing::get,
};
use dream_api::{DreamApi, Error};

#[derive(serde::Deserialize)]
struct ReportQuery {
    user: String,
}

pub fn app(api: DreamApi) -> Router {
    Router::new().route("/report", get(report)).with_state(Arc::new(api))
}

async fn report(State(api): State<Arc<DreamApi>>, Query(query): Query<ReportQuery>) -> Response {
    match api.track_usage(&query.user, None).await {
        Ok(tracked) => format!(
            "Report for {}: request {} of this period\n",
            query.user, tracked.usage.count
        )
        .into_response(),
        Err(Error::LimitReached { .. }) => match api.create_checkout(&query.user, "pro", &Default::default()).await {
            Ok(checkout) => Redirect::to(&checkout.url).into_response(),
            Err(e) => (StatusCode::BAD_GATEWAY, e.to_string()).into_response(),
        },
        Err(e) => (StatusCode::BAD_GATEWAY, e.to_string()).into_response(),
    }
}

#[cfg_attr(test, allow(dead_code))]
#[tokio::main]
async fn main() {
    let var = |name: &str| std::env::var(name).unwrap_or_else(|_| panic!("set {name}"));
    let api = DreamApi::new(var("DREAM_API_SECRET_KEY"), var("DREAM_API_BASE_URL"));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:3000")
        .await
        .expect("port 3000");
    println!("http://localhost:3000/report?user=ada");
    axum::serve(listener, app(api)).await.expect("serve");
}
