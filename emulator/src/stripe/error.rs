//! Stripe's error shape, `{"error":{"type","code","message","param",...}}`, with its statuses.

use axum::Json;
use axum::extract::Request;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde_json::{Map, Value, json};

#[derive(Debug, Clone, PartialEq)]
pub struct StripeError {
    pub status: StatusCode,
    pub kind: &'static str,
    pub code: Option<&'static str>,
    pub message: String,
    pub param: Option<String>,
    pub decline_code: Option<&'static str>,
}

pub type StripeResult<T> = Result<T, StripeError>;

impl StripeError {
    pub fn new(status: StatusCode, kind: &'static str, message: impl Into<String>) -> Self {
        Self {
            status,
            kind,
            code: None,
            message: message.into(),
            param: None,
            decline_code: None,
        }
    }

    pub fn invalid(message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, "invalid_request_error", message)
    }

    pub fn code(mut self, code: &'static str) -> Self {
        self.code = Some(code);
        self
    }

    pub fn param(mut self, param: impl Into<String>) -> Self {
        self.param = Some(param.into());
        self
    }

    pub fn missing(param: &str) -> Self {
        Self::invalid(format!("Missing required param: {param}."))
            .code("parameter_missing")
            .param(param)
    }

    pub fn unknown(param: &str) -> Self {
        Self::invalid(format!(
            "Received unknown parameter: {param} (dream-emulator supports the parameters the platform uses; see emulator/README.md)"
        ))
        .code("parameter_unknown")
        .param(param)
    }

    pub fn empty(param: &str) -> Self {
        Self::invalid(format!(
            "You passed an empty string for '{param}'. We assume empty values are an attempt to unset a parameter; however '{param}' cannot be unset. You should remove '{param}' from your request or supply a non-empty value."
        ))
        .code("parameter_invalid_empty")
        .param(param)
    }

    /// A referenced object of another scope or that never existed: 404 for the object in
    /// the URL, 400 for one named in a parameter, as Stripe answers.
    pub fn no_such(noun: &str, id: &str, param: Option<&str>, other_mode: Option<bool>) -> Self {
        let mut message = format!("No such {noun}: '{id}'");
        if let Some(object_livemode) = other_mode {
            let (exists, used) = if object_livemode {
                ("live", "test")
            } else {
                ("test", "live")
            };
            message.push_str(&format!(
                "; a similar object exists in {exists} mode, but a {used} mode key was used to make this request."
            ));
        }
        let status = if param.is_some() {
            StatusCode::BAD_REQUEST
        } else {
            StatusCode::NOT_FOUND
        };
        let mut err = Self::new(status, "invalid_request_error", message).code("resource_missing");
        err.param = Some(param.unwrap_or("id").to_string());
        err
    }

    pub fn card(code: &'static str, decline_code: Option<&'static str>, message: &str) -> Self {
        let mut err = Self::new(StatusCode::PAYMENT_REQUIRED, "card_error", message).code(code);
        err.decline_code = decline_code;
        err
    }

    pub fn unauthorized(message: impl Into<String>) -> Self {
        Self::new(StatusCode::UNAUTHORIZED, "invalid_request_error", message)
    }

    pub fn idempotency(status: StatusCode, message: impl Into<String>) -> Self {
        Self::new(status, "idempotency_error", message)
    }

    pub fn internal(message: impl Into<String>) -> Self {
        Self::new(StatusCode::INTERNAL_SERVER_ERROR, "api_error", message)
    }

    pub fn body(&self) -> Value {
        let mut error = Map::new();
        error.insert("type".into(), json!(self.kind));
        if let Some(code) = self.code {
            error.insert("code".into(), json!(code));
            error.insert(
                "doc_url".into(),
                json!(format!(
                    "https://stripe.com/docs/error-codes/{}",
                    code.replace('_', "-")
                )),
            );
        }
        if let Some(decline) = self.decline_code {
            error.insert("decline_code".into(), json!(decline));
        }
        error.insert("message".into(), json!(self.message));
        if let Some(param) = &self.param {
            error.insert("param".into(), json!(param));
        }
        json!({ "error": error })
    }
}

impl IntoResponse for StripeError {
    fn into_response(self) -> Response {
        (self.status, Json(self.body())).into_response()
    }
}

/// Any URL nobody serves, worded as Stripe words it.
pub async fn unknown_url(req: Request) -> Response {
    StripeError::new(
        StatusCode::NOT_FOUND,
        "invalid_request_error",
        format!(
            "Unrecognized request URL ({}: {}). Please see https://stripe.com/docs or we can help at https://support.stripe.com/.",
            req.method(),
            req.uri().path()
        ),
    )
    .into_response()
}
