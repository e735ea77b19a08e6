//! Stripe's idempotent requests: a POST with an `Idempotency-Key` seen before (per account
//! and mode) with the same method, path and body replays the first response; with another
//! body it is refused.

use std::sync::Arc;

use axum::body::{Body, to_bytes};
use axum::extract::Request;
use axum::http::{HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use super::error::StripeError;
use crate::App;
use crate::state::Scope;

const MAX_BODY: usize = 1 << 20;
/// Stripe forgets keys after 24 hours.
const TTL_SECONDS: i64 = 24 * 3600;

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Stored {
    pub fingerprint: String,
    pub created: i64,
    /// None while the first request is still running.
    pub response: Option<StoredResponse>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct StoredResponse {
    pub status: u16,
    pub body: String,
    pub request_id: String,
}

fn slot(scope: &Scope, key: &str) -> String {
    format!(
        "{}|{}|{key}",
        scope.account.as_deref().unwrap_or("platform"),
        if scope.livemode { "live" } else { "test" }
    )
}

pub async fn run(app: &Arc<App>, scope: &Scope, key: String, request_id: &str, req: Request, next: Next) -> Response {
    if key.is_empty() || key.len() > 255 {
        return StripeError::invalid("Invalid idempotency key: must be 1 to 255 characters long.").into_response();
    }
    let (parts, body) = req.into_parts();
    let Ok(bytes) = to_bytes(body, MAX_BODY).await else {
        return StripeError::invalid("The request body is too large.").into_response();
    };
    let fingerprint = hex::encode(
        Sha256::new()
            .chain_update(parts.method.as_str())
            .chain_update(b" ")
            .chain_update(parts.uri.path())
            .chain_update(b"\n")
            .chain_update(&bytes)
            .finalize(),
    );
    let slot = slot(scope, &key);
    let now = crate::time::now();
    let earlier = app.mutate(|db| {
        db.idempotency.retain(|_, s| now - s.created < TTL_SECONDS);
        match db.idempotency.get(&slot) {
            Some(stored) => Some(stored.clone()),
            None => {
                db.idempotency.insert(
                    slot.clone(),
                    Stored {
                        fingerprint: fingerprint.clone(),
                        created: now,
                        response: None,
                    },
                );
                None
            }
        }
    });
    if let Some(stored) = earlier {
        return replay(stored, &fingerprint, &key);
    }

    let resp = next.run(Request::from_parts(parts, Body::from(bytes))).await;
    let (parts, body) = resp.into_parts();
    let body = to_bytes(body, usize::MAX).await.unwrap_or_default();
    app.mutate(|db| {
        // Stripe keeps the result of any request that ran, errors included, but not a
        // server failure: that one may be retried with the same key.
        if parts.status.is_server_error() {
            db.idempotency.remove(&slot);
        } else if let Some(stored) = db.idempotency.get_mut(&slot) {
            stored.response = Some(StoredResponse {
                status: parts.status.as_u16(),
                body: String::from_utf8_lossy(&body).into_owned(),
                request_id: request_id.to_string(),
            });
        }
    });
    Response::from_parts(parts, Body::from(body))
}

fn replay(stored: Stored, fingerprint: &str, key: &str) -> Response {
    if stored.fingerprint != fingerprint {
        return StripeError::idempotency(
            StatusCode::BAD_REQUEST,
            format!(
                "Keys for idempotent requests can only be used with the same parameters they were first used with. Try using a key other than '{key}' if you meant to execute a different request."
            ),
        )
        .into_response();
    }
    let Some(first) = stored.response else {
        return StripeError::idempotency(
            StatusCode::CONFLICT,
            format!(
                "There is currently another in-progress request using this Idempotent Key (that probably means you submitted twice, and the other request is still going through): {key}. Please try again later."
            ),
        )
        .into_response();
    };
    let status = StatusCode::from_u16(first.status).unwrap_or(StatusCode::OK);
    let mut resp = (status, first.body).into_response();
    let headers = resp.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static("application/json"));
    headers.insert("idempotent-replayed", HeaderValue::from_static("true"));
    if let Ok(v) = HeaderValue::from_str(&first.request_id) {
        headers.insert("request-id", v);
    }
    resp
}
