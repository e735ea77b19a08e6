//! Injected failures, so tests can show what the platform does when Stripe or Clerk misbehave:
//! the next `count` requests whose path (with its query) contains `path` fail; `method` and
//! `account` (the `Stripe-Account` header) narrow the match, so concurrent tests stay apart.
//!
//! - `error`: a 500 in the service's own error shape;
//! - `timeout`: the answer comes after `delayMs` (longer than the caller waits);
//! - `drop`: the connection dies before a complete answer (hyper may not even send the headers);
//! - `delay`: the real answer, after `delayMs` (a slow service that still works).
//!
//! KV is not the emulator's, but its faults are: the test stack's api-multi with a faulty KV
//! reaches KV through a proxy worker (`tests/workers/faulty-kv`) that first asks
//! `/kv/{get|put|delete}/{key}` here, so the same faults make KV fail or slow.
//!
//! With `"after": true` the request is carried out first and only its answer fails: the
//! object exists, the caller does not know (the case idempotency keys are for).
//!
//! `POST /_emulator/faults` adds one, `GET` lists them with how often each fired, `DELETE`
//! clears them all.

use std::{sync::Mutex, time::Duration};

use axum::{
    body::Body,
    extract::{Request, State},
    http::StatusCode,
    middleware::Next,
    response::{IntoResponse, Response},
};
use serde::{Deserialize, Serialize};
use serde_json::json;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Kind {
    Error,
    Timeout,
    Drop,
    Delay,
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Fault {
    pub path: String,
    #[serde(default)]
    pub method: Option<String>,
    #[serde(default)]
    pub account: Option<String>,
    pub kind: Kind,
    #[serde(default = "one")]
    pub count: u32,
    #[serde(default)]
    pub after: bool,
    #[serde(default = "default_delay")]
    pub delay_ms: u64,
    #[serde(default)]
    pub fired: u32,
}

fn one() -> u32 {
    1
}

/// Longer than the workers wait for Stripe (15 s) or Clerk (10 s).
fn default_delay() -> u64 {
    20_000
}

#[derive(Default)]
pub struct Faults(Mutex<Vec<Fault>>);

impl Faults {
    pub fn add(&self, fault: Fault) {
        self.lock().push(fault);
    }

    pub fn list(&self) -> Vec<Fault> {
        self.lock().clone()
    }

    pub fn clear(&self) {
        self.lock().clear();
    }

    /// The fault this request triggers, counted as fired.
    fn take(&self, method: &str, target: &str, account: Option<&str>) -> Option<Fault> {
        let mut faults = self.lock();
        let fault = faults.iter_mut().find(|f| {
            f.fired < f.count
                && target.contains(&f.path)
                && f.method.as_deref().is_none_or(|m| m.eq_ignore_ascii_case(method))
                && f.account.as_deref().is_none_or(|a| Some(a) == account)
        })?;
        fault.fired += 1;
        Some(fault.clone())
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Vec<Fault>> {
        self.0.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

/// The middleware in front of the Stripe and Clerk routes (never the `/_emulator` controls).
pub async fn inject(State(app): State<std::sync::Arc<crate::App>>, req: Request, next: Next) -> Response {
    let path = req.uri().path().to_owned();
    if path.starts_with("/_emulator") {
        return next.run(req).await;
    }
    let target = req
        .uri()
        .path_and_query()
        .map_or(path.clone(), |p| p.as_str().to_owned());
    let account = req.headers().get("stripe-account").and_then(|v| v.to_str().ok());
    let Some(fault) = app.faults.take(req.method().as_str(), &target, account) else {
        return next.run(req).await;
    };
    if fault.kind == Kind::Delay {
        tokio::time::sleep(Duration::from_millis(fault.delay_ms)).await;
        return next.run(req).await;
    }
    if fault.after {
        let _carried_out = next.run(req).await;
    }
    failure(&fault, &path).await
}

async fn failure(fault: &Fault, path: &str) -> Response {
    match fault.kind {
        Kind::Timeout => {
            tokio::time::sleep(Duration::from_millis(fault.delay_ms)).await;
            server_error(path)
        }
        Kind::Drop => {
            let broken = futures_util::stream::once(async {
                Err::<axum::body::Bytes, _>(std::io::Error::other("injected: connection dropped"))
            });
            Response::builder()
                .status(StatusCode::OK)
                .header("content-type", "application/json")
                .body(Body::from_stream(broken))
                .expect("a response")
        }
        Kind::Error | Kind::Delay => server_error(path),
    }
}

/// The KV fault point: answers every operation with 204 unless a fault says otherwise.
pub fn kv_router() -> axum::Router<std::sync::Arc<crate::App>> {
    axum::Router::new().route(
        "/kv/{operation}/{*key}",
        axum::routing::any(|| async { StatusCode::NO_CONTENT }),
    )
}

fn server_error(path: &str) -> Response {
    let body = if path.starts_with("/clerk") {
        json!({ "errors": [{ "code": "internal_clerk_error", "message": "Injected failure", "long_message": "Injected failure (emulator fault)" }] })
    } else {
        json!({ "error": { "type": "api_error", "message": "Injected failure (emulator fault)" } })
    };
    (StatusCode::INTERNAL_SERVER_ERROR, axum::Json(body)).into_response()
}
