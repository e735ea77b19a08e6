//! Clerk's error shape: `{"errors":[{"code","message","long_message","meta"}],"clerk_trace_id"}`.

use axum::Json;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::{Map, Value, json};

#[derive(Debug, Clone)]
pub struct ClerkError {
    pub status: StatusCode,
    pub code: &'static str,
    pub message: String,
    pub long_message: String,
    pub param: Option<String>,
}

impl ClerkError {
    pub fn new(status: StatusCode, code: &'static str, message: &str, long_message: &str) -> Self {
        Self {
            status,
            code,
            message: message.into(),
            long_message: long_message.into(),
            param: None,
        }
    }

    pub fn param(mut self, name: &str) -> Self {
        self.param = Some(name.into());
        self
    }

    pub fn not_found(long_message: &str) -> Self {
        Self::new(StatusCode::NOT_FOUND, "resource_not_found", "not found", long_message)
    }

    pub fn unprocessable(code: &'static str, message: &str, long_message: &str, param: &str) -> Self {
        Self::new(StatusCode::UNPROCESSABLE_ENTITY, code, message, long_message).param(param)
    }

    pub fn bad_request(message: &str) -> Self {
        Self::new(
            StatusCode::BAD_REQUEST,
            "request_body_invalid",
            "Request body invalid",
            message,
        )
    }
}

impl IntoResponse for ClerkError {
    fn into_response(self) -> Response {
        let mut error = Map::new();
        error.insert("code".into(), json!(self.code));
        error.insert("message".into(), json!(self.message));
        error.insert("long_message".into(), json!(self.long_message));
        if let Some(param) = &self.param {
            error.insert("meta".into(), json!({ "param_name": param }));
        }
        let body = json!({ "errors": [Value::Object(error)], "clerk_trace_id": "emulator" });
        (self.status, Json(body)).into_response()
    }
}

/// The Backend API's secret key check: any `sk_test_`/`sk_live_` key is accepted.
pub fn require_secret_key(headers: &HeaderMap) -> Result<(), ClerkError> {
    let value = headers
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    let Some(key) = value.strip_prefix("Bearer ").map(str::trim) else {
        return Err(ClerkError::new(
            StatusCode::UNAUTHORIZED,
            "authorization_header_format_invalid",
            "Invalid Authorization header format",
            "Invalid Authorization header format. Must be 'Bearer <YOUR_API_KEY>'",
        ));
    };
    let valid = ["sk_test_", "sk_live_"]
        .iter()
        .any(|p| key.starts_with(p) && key.len() > p.len());
    if valid {
        Ok(())
    } else {
        Err(ClerkError::new(
            StatusCode::UNAUTHORIZED,
            "authentication_invalid",
            "Invalid authentication",
            "Unable to authenticate the request, you need to supply an active API key",
        ))
    }
}
