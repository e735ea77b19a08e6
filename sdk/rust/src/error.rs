//! One error type; the API's refusals are variants by their `code`, each with the request id.

use std::{fmt, time::Duration};

use serde_json::Value;

use crate::types::Usage;

/// The API's error body: `{error, code, requestId, ...details}`.
#[derive(Debug, Clone, PartialEq)]
pub struct ErrorDetails {
    pub status: u16,
    pub code: String,
    pub message: String,
    /// Quote it when reporting a problem (also the `X-Request-Id` header).
    pub request_id: Option<String>,
    /// The whole body, for details some codes carry (`available`, `quota`, `stripe`, ...).
    pub body: Value,
}

#[derive(Debug)]
pub enum Error {
    /// 400 `invalid_request`: fix the request; retrying it will not help.
    InvalidRequest(Box<ErrorDetails>),
    /// 401 `unauthorized`: a missing, unknown or revoked secret key.
    Unauthorized(Box<ErrorDetails>),
    /// 402 `payment_required`: the developer's plan lapsed; live keys are paused.
    PaymentRequired(Box<ErrorDetails>),
    /// 403 `forbidden`: the caller's role does not allow the action.
    Forbidden(Box<ErrorDetails>),
    /// 403 `quota_exceeded`.
    QuotaExceeded(Box<ErrorDetails>),
    /// 404 `not_found`.
    NotFound(Box<ErrorDetails>),
    /// 409 `conflict`: e.g. already subscribed, or not enough stock.
    Conflict(Box<ErrorDetails>),
    /// 429 `limit_reached`: the user used their tier's requests for this period. Never retried;
    /// send them to a checkout for a bigger tier.
    LimitReached {
        usage: Box<Usage>,
        details: Box<ErrorDetails>,
    },
    /// 429 `rate_limited`: too many requests now (retried by the client, then returned).
    RateLimited {
        retry_after: Option<Duration>,
        details: Box<ErrorDetails>,
    },
    /// 502 `stripe_error`: Stripe or the sign-in provider failed.
    Stripe(Box<ErrorDetails>),
    /// 503 `unavailable`: a provider the API depends on (sign-in) is down; retried by the
    /// client, then returned.
    Unavailable(Box<ErrorDetails>),
    /// 500 `internal`.
    Internal(Box<ErrorDetails>),
    /// Any other refusal (a code newer than this client).
    Api(Box<ErrorDetails>),
    /// No answer within the timeout, after the retries.
    Timeout,
    /// The request did not reach the API or its answer was cut, after the retries.
    Connection(String),
    /// An answer this client could not read.
    Decode(String),
    /// An argument refused before anything was sent (an order id that is not one).
    InvalidArgument(String),
}

impl Error {
    pub(crate) fn from_answer(status: u16, body: &str, retry_after: Option<Duration>) -> Self {
        let json: Value = serde_json::from_str(body).unwrap_or(Value::Null);
        let text = |key: &str| json.get(key).and_then(Value::as_str).map(str::to_owned);
        let details = Box::new(ErrorDetails {
            status,
            code: text("code").unwrap_or_else(|| format!("http_{status}")),
            message: text("error").unwrap_or_else(|| body.chars().take(200).collect()),
            request_id: text("requestId"),
            body: json.clone(),
        });
        match details.code.as_str() {
            "invalid_request" => Self::InvalidRequest(details),
            "unauthorized" => Self::Unauthorized(details),
            "payment_required" => Self::PaymentRequired(details),
            "forbidden" => Self::Forbidden(details),
            "quota_exceeded" => Self::QuotaExceeded(details),
            "not_found" => Self::NotFound(details),
            "conflict" => Self::Conflict(details),
            "limit_reached" => match serde_json::from_value::<Usage>(json["usage"].clone()) {
                Ok(usage) => Self::LimitReached {
                    usage: Box::new(usage),
                    details,
                },
                Err(_) => Self::Api(details),
            },
            "rate_limited" => Self::RateLimited { retry_after, details },
            "stripe_error" => Self::Stripe(details),
            "unavailable" => Self::Unavailable(details),
            "internal" => Self::Internal(details),
            _ => Self::Api(details),
        }
    }

    /// The API's answer, when there was one.
    pub fn details(&self) -> Option<&ErrorDetails> {
        match self {
            Self::InvalidRequest(d)
            | Self::Unauthorized(d)
            | Self::PaymentRequired(d)
            | Self::Forbidden(d)
            | Self::QuotaExceeded(d)
            | Self::NotFound(d)
            | Self::Conflict(d)
            | Self::Stripe(d)
            | Self::Unavailable(d)
            | Self::Internal(d)
            | Self::Api(d)
            | Self::LimitReached { details: d, .. }
            | Self::RateLimited { details: d, .. } => Some(d.as_ref()),
            Self::Timeout | Self::Connection(_) | Self::Decode(_) | Self::InvalidArgument(_) => None,
        }
    }

    pub fn request_id(&self) -> Option<&str> {
        self.details().and_then(|d| d.request_id.as_deref())
    }

    /// Worth another attempt: the network, a timeout, a 5xx, or a rate limit.
    pub(crate) fn is_retryable(&self) -> bool {
        match self {
            Self::Timeout | Self::Connection(_) | Self::RateLimited { .. } => true,
            other => other.details().is_some_and(|d| d.status >= 500),
        }
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Timeout => write!(f, "dream-api: no answer within the timeout"),
            Self::Connection(e) => write!(f, "dream-api: connection failed: {e}"),
            Self::Decode(e) => write!(f, "dream-api: unreadable answer: {e}"),
            Self::InvalidArgument(e) => write!(f, "dream-api: {e}"),
            other => {
                let d = other.details().expect("an API error has details");
                write!(f, "dream-api {} {}: {}", d.status, d.code, d.message)?;
                match &d.request_id {
                    Some(id) => write!(f, " (request {id})"),
                    None => Ok(()),
                }
            }
        }
    }
}

impl std::error::Error for Error {}
