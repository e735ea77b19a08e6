//! The one error type of the platform. A closed set of codes, each with its HTTP status, rendered
//! everywhere as `{"error": "<message>", "code": "<code>", "requestId": "...", ...details}`.
//! Internal causes are logged with the request id and never returned.

use std::fmt;

use axum_core::response::{IntoResponse, Response};
use http::StatusCode;
use serde::Serialize;
use serde_json::{Map, Value};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum ErrorCode {
    InvalidRequest,
    Unauthorized,
    NotFound,
    LimitReached,
    RateLimited,
    Conflict,
    /// The caller's role in the organization does not allow the action (`requiredRole` says
    /// which does).
    Forbidden,
    /// An account allowance is used up (the developer's image storage).
    QuotaExceeded,
    /// The developer's dream-api plan lapsed past its grace period (live keys pause).
    PaymentRequired,
    StripeError,
    /// A provider we depend on (the sign-in service) is down or too slow; retry shortly.
    Unavailable,
    Internal,
}

impl ErrorCode {
    pub fn status(self) -> StatusCode {
        match self {
            Self::InvalidRequest => StatusCode::BAD_REQUEST,
            Self::Unauthorized => StatusCode::UNAUTHORIZED,
            Self::NotFound => StatusCode::NOT_FOUND,
            Self::LimitReached | Self::RateLimited => StatusCode::TOO_MANY_REQUESTS,
            Self::Conflict => StatusCode::CONFLICT,
            Self::Forbidden | Self::QuotaExceeded => StatusCode::FORBIDDEN,
            Self::PaymentRequired => StatusCode::PAYMENT_REQUIRED,
            Self::StripeError => StatusCode::BAD_GATEWAY,
            Self::Unavailable => StatusCode::SERVICE_UNAVAILABLE,
            Self::Internal => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    /// The code for a status produced outside our handlers (router fallbacks, body rejections).
    pub fn for_status(status: StatusCode) -> Self {
        match status.as_u16() {
            401 | 403 => Self::Unauthorized,
            404 => Self::NotFound,
            409 => Self::Conflict,
            429 => Self::RateLimited,
            400..=499 => Self::InvalidRequest,
            _ => Self::Internal,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Self::InvalidRequest => "invalid_request",
            Self::Unauthorized => "unauthorized",
            Self::NotFound => "not_found",
            Self::LimitReached => "limit_reached",
            Self::RateLimited => "rate_limited",
            Self::Conflict => "conflict",
            Self::Forbidden => "forbidden",
            Self::QuotaExceeded => "quota_exceeded",
            Self::PaymentRequired => "payment_required",
            Self::StripeError => "stripe_error",
            Self::Unavailable => "unavailable",
            Self::Internal => "internal",
        }
    }
}

#[derive(Debug, Clone)]
pub struct ApiError {
    code: ErrorCode,
    status: StatusCode,
    message: String,
    details: Map<String, Value>,
    retry_after_secs: Option<u64>,
    /// Logged once by the edge middleware, together with the request id.
    internal_cause: Option<String>,
    cause: Option<Cause>,
}

pub type ApiResult<T> = Result<T, ApiError>;

/// What went wrong below us, for the code that must react to it (retry, answer 409, treat as
/// gone). Classified once where the error enters (the D1 and Stripe clients), so no caller
/// matches message text. Never shown to callers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Cause {
    /// D1 (SQLite) was locked: the statement did not apply, so it is safe to retry.
    DatabaseBusy,
    /// A UNIQUE constraint failed; SQLite names its columns, as in `orders.publishableKey, orders.cartKey`.
    Unique(String),
    /// A CHECK constraint failed (a bound the schema enforces, such as stock never below zero).
    Check,
    /// A FOREIGN KEY constraint failed (a trigger's quota, or a parent row that is gone).
    ForeignKey,
    /// Stripe refused the call with this error code (`resource_missing`, `charge_already_refunded`).
    Stripe(String),
}

impl Cause {
    /// Reads a SQLite error message (as D1 and rusqlite word it) into its cause, if it is one
    /// the code reacts to.
    pub fn of_sqlite_message(message: &str) -> Option<Self> {
        if message.contains("SQLITE_BUSY") || message.contains("database is locked") {
            Some(Self::DatabaseBusy)
        } else if let Some((_, columns)) = message.split_once("UNIQUE constraint failed: ") {
            let columns = columns.split([':', '\n']).next().unwrap_or_default();
            Some(Self::Unique(columns.trim().to_owned()))
        } else if message.contains("CHECK constraint failed") {
            Some(Self::Check)
        } else if message.contains("FOREIGN KEY constraint failed") {
            Some(Self::ForeignKey)
        } else {
            None
        }
    }
}

impl ApiError {
    pub fn new(code: ErrorCode, message: impl Into<String>) -> Self {
        Self {
            code,
            status: code.status(),
            message: message.into(),
            details: Map::new(),
            retry_after_secs: None,
            internal_cause: None,
            cause: None,
        }
    }

    pub fn invalid_request(message: impl Into<String>) -> Self {
        Self::new(ErrorCode::InvalidRequest, message)
    }

    pub fn unauthorized(message: impl Into<String>) -> Self {
        Self::new(ErrorCode::Unauthorized, message)
    }

    pub fn not_found(message: impl Into<String>) -> Self {
        Self::new(ErrorCode::NotFound, message)
    }

    pub fn conflict(message: impl Into<String>) -> Self {
        Self::new(ErrorCode::Conflict, message)
    }

    /// A failure of ours or of a binding: the caller sees a generic message, the log sees `cause`.
    pub fn internal(cause: impl fmt::Display) -> Self {
        let mut err = Self::new(
            ErrorCode::Internal,
            "Internal error; quote the requestId when reporting it",
        );
        err.internal_cause = Some(cause.to_string());
        err
    }

    /// Overrides the status for the few cases whose code is shared (405, 413, 415 are all
    /// `invalid_request`).
    pub fn with_status(mut self, status: StatusCode) -> Self {
        self.status = status;
        self
    }

    pub fn with_detail(mut self, key: &str, value: impl Serialize) -> Self {
        self.details
            .insert(key.to_owned(), serde_json::to_value(value).unwrap_or(Value::Null));
        self
    }

    pub fn with_retry_after(mut self, secs: u64) -> Self {
        self.retry_after_secs = Some(secs);
        self
    }

    /// Adds context to an internal cause, zero-to-production style: "recording usage: <cause>".
    pub fn context(mut self, what: &str) -> Self {
        if let Some(cause) = self.internal_cause.take() {
            self.internal_cause = Some(format!("{what}: {cause}"));
        }
        self
    }

    pub fn code(&self) -> ErrorCode {
        self.code
    }

    pub fn status(&self) -> StatusCode {
        self.status
    }

    pub fn message(&self) -> &str {
        &self.message
    }

    pub fn internal_cause(&self) -> Option<&str> {
        self.internal_cause.as_deref()
    }

    pub fn with_cause(mut self, cause: Cause) -> Self {
        self.cause = Some(cause);
        self
    }

    pub fn cause(&self) -> Option<&Cause> {
        self.cause.as_ref()
    }

    /// Whether Stripe refused with `code`.
    pub fn is_stripe(&self, code: &str) -> bool {
        matches!(&self.cause, Some(Cause::Stripe(c)) if c == code)
    }

    /// The parameter Stripe refused as an invalid request (`code` of a promotion code, a
    /// checkout's `discounts`), when it said which: what the caller sent, not our failure.
    pub fn stripe_refused_param(&self) -> Option<&str> {
        let stripe = self.details.get("stripe")?;
        if stripe.get("type").and_then(Value::as_str) != Some("invalid_request_error") {
            return None;
        }
        stripe.get("param").and_then(Value::as_str)
    }

    /// Whether a UNIQUE constraint failed whose columns start with `columns` (`"orders."`: any
    /// of that table's).
    pub fn is_unique_on(&self, columns: &str) -> bool {
        matches!(&self.cause, Some(Cause::Unique(c)) if c.starts_with(columns))
    }

    pub fn retry_after_secs(&self) -> Option<u64> {
        self.retry_after_secs
    }

    /// The response body; `request_id` is supplied by the middleware that saw the request.
    pub fn body(&self, request_id: &str) -> Value {
        let mut body = Map::new();
        body.insert("error".into(), Value::from(self.message.as_str()));
        body.insert("code".into(), Value::from(self.code.as_str()));
        body.insert("requestId".into(), Value::from(request_id));
        for (k, v) in &self.details {
            body.entry(k.clone()).or_insert_with(|| v.clone());
        }
        Value::Object(body)
    }
}

impl fmt::Display for ApiError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.code.as_str(), self.message)?;
        if let Some(cause) = &self.internal_cause {
            write!(f, " ({cause})")?;
        }
        Ok(())
    }
}

impl std::error::Error for ApiError {}

impl From<serde_json::Error> for ApiError {
    fn from(err: serde_json::Error) -> Self {
        Self::internal(format!("JSON: {err}"))
    }
}

/// Handlers return the error; the edge middleware (which knows the request id) renders it.
impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let mut response = self.status.into_response();
        response.extensions_mut().insert(self);
        response
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn body_shape_and_details() {
        let err = ApiError::new(ErrorCode::LimitReached, "Tier limit reached")
            .with_detail("usage", serde_json::json!({"count": 100, "limit": 100, "plan": "free"}));
        assert_eq!(err.status(), StatusCode::TOO_MANY_REQUESTS);
        assert_eq!(
            err.body("req_1"),
            serde_json::json!({
                "error": "Tier limit reached", "code": "limit_reached", "requestId": "req_1",
                "usage": {"count": 100, "limit": 100, "plan": "free"}
            })
        );
    }

    #[test]
    fn details_cannot_overwrite_the_fixed_fields() {
        let err = ApiError::invalid_request("bad").with_detail("code", "sneaky");
        assert_eq!(err.body("r")["code"], "invalid_request");
    }

    #[test]
    fn internal_cause_is_never_in_the_body() {
        let err = ApiError::internal("D1_ERROR: no such table: secrets").context("counting usage");
        let body = err.body("req_2").to_string();
        assert!(!body.contains("D1_ERROR"), "{body}");
        assert_eq!(
            err.internal_cause(),
            Some("counting usage: D1_ERROR: no such table: secrets")
        );
        assert_eq!(err.status(), StatusCode::INTERNAL_SERVER_ERROR);
    }

    #[test]
    fn statuses_map_to_codes() {
        assert_eq!(
            ErrorCode::for_status(StatusCode::METHOD_NOT_ALLOWED),
            ErrorCode::InvalidRequest
        );
        assert_eq!(ErrorCode::for_status(StatusCode::NOT_FOUND), ErrorCode::NotFound);
        assert_eq!(ErrorCode::for_status(StatusCode::BAD_GATEWAY), ErrorCode::Internal);
        for code in [ErrorCode::InvalidRequest, ErrorCode::Conflict, ErrorCode::NotFound] {
            assert_eq!(ErrorCode::for_status(code.status()), code);
        }
    }

    #[test]
    fn sqlite_messages_become_typed_causes() {
        let unique = "D1_ERROR: UNIQUE constraint failed: orders.publishableKey, orders.cartKey: SQLITE_CONSTRAINT";
        assert_eq!(
            Cause::of_sqlite_message(unique),
            Some(Cause::Unique("orders.publishableKey, orders.cartKey".into()))
        );
        let err = ApiError::internal(unique).with_cause(Cause::of_sqlite_message(unique).unwrap());
        assert!(err.is_unique_on("orders.publishableKey"));
        assert!(!err.is_unique_on("tiers."));
        assert_eq!(
            Cause::of_sqlite_message("database is locked"),
            Some(Cause::DatabaseBusy)
        );
        assert_eq!(
            Cause::of_sqlite_message("D1_ERROR: SQLITE_BUSY"),
            Some(Cause::DatabaseBusy)
        );
        assert_eq!(
            Cause::of_sqlite_message("CHECK constraint failed: stock >= 0"),
            Some(Cause::Check)
        );
        assert_eq!(
            Cause::of_sqlite_message("FOREIGN KEY constraint failed"),
            Some(Cause::ForeignKey)
        );
        assert_eq!(Cause::of_sqlite_message("no such table: x"), None);
    }

    #[test]
    fn stripe_codes_are_matched_by_cause_only() {
        let err = ApiError::new(ErrorCode::StripeError, "Stripe: No such price")
            .with_cause(Cause::Stripe("resource_missing".into()));
        assert!(err.is_stripe("resource_missing"));
        assert!(!err.is_stripe("charge_already_refunded"));
        assert!(!ApiError::internal("resource_missing").is_stripe("resource_missing"));
    }
}
