//! A small typed Stripe client over `fetch`. Requests are form-encoded with Stripe's bracket
//! syntax; every POST carries an Idempotency-Key and is retried once (with the same key) on a
//! network failure, a 5xx or a 429, so a retry can never create a second object.
//!
//! Why not async-stripe: see docs/design.md ("Stripe client").

use dream_core::api::errors::StripeErrorDetail;
use std::time::Duration;

use serde::{Deserialize, de::DeserializeOwned};
use worker::Method;

use dream_core::error::{ApiError, ApiResult, Cause, ErrorCode};

use crate::runtime::outbound::{self, OutboundError, OutboundResponse};

pub const DEFAULT_API_BASE: &str = "https://api.stripe.com";
pub const DEFAULT_CONNECT_BASE: &str = "https://connect.stripe.com";
/// Pinned so Stripe's object shapes cannot change under us.
pub const API_VERSION: &str = "2025-09-30.clover";
const TIMEOUT: Duration = Duration::from_secs(15);

/// Form fields in order, e.g. `("line_items[0][price]", "price_…")`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Form(Vec<(String, String)>);

impl Form {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn field(mut self, key: impl Into<String>, value: impl ToString) -> Self {
        self.0.push((key.into(), value.to_string()));
        self
    }

    pub fn field_opt(self, key: impl Into<String>, value: Option<impl ToString>) -> Self {
        match value {
            Some(v) => self.field(key, v),
            None => self,
        }
    }

    pub fn encode(&self) -> String {
        let mut out = url::form_urlencoded::Serializer::new(String::new());
        for (k, v) in &self.0 {
            out.append_pair(k, v);
        }
        out.finish()
    }
}

/// Stripe's error body: `{"error": {"type", "code", "message", "param"}}`.
#[derive(Debug, Deserialize)]
struct ErrorBody {
    error: StripeErrorDetail,
}

/// A client for one API key, optionally acting on a connected account.
#[derive(Clone)]
pub struct Stripe {
    base: String,
    secret_key: String,
    account: Option<String>,
}

impl std::fmt::Debug for Stripe {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Stripe")
            .field("base", &self.base)
            .field("account", &self.account)
            .finish_non_exhaustive()
    }
}

impl Stripe {
    pub fn new(base: &str, secret_key: &str) -> Self {
        Self {
            base: base.trim_end_matches('/').to_owned(),
            secret_key: secret_key.to_owned(),
            account: None,
        }
    }

    /// The same client acting on a connected account (`Stripe-Account` header).
    pub fn on_account(&self, account: &str) -> Self {
        Self {
            account: Some(account.to_owned()),
            ..self.clone()
        }
    }

    pub async fn post<T: DeserializeOwned>(&self, path: &str, form: &Form, idempotency_key: &str) -> ApiResult<T> {
        let body = form.encode();
        self.call(Method::Post, path, Some(body), Some(idempotency_key)).await
    }

    pub async fn get<T: DeserializeOwned>(&self, path: &str) -> ApiResult<T> {
        self.call(Method::Get, path, None, None).await
    }

    pub async fn delete<T: DeserializeOwned>(&self, path: &str, idempotency_key: &str) -> ApiResult<T> {
        self.call(Method::Delete, path, None, Some(idempotency_key)).await
    }

    async fn call<T: DeserializeOwned>(
        &self,
        method: Method,
        path: &str,
        body: Option<String>,
        idempotency_key: Option<&str>,
    ) -> ApiResult<T> {
        let url = format!("{}/v1{path}", self.base);
        let authorization = format!("Bearer {}", self.secret_key);
        let mut headers = vec![
            ("Authorization", authorization.as_str()),
            ("Stripe-Version", API_VERSION),
        ];
        if body.is_some() {
            headers.push(("Content-Type", "application/x-www-form-urlencoded"));
        }
        if let Some(key) = idempotency_key {
            headers.push(("Idempotency-Key", key));
        }
        if let Some(account) = &self.account {
            headers.push(("Stripe-Account", account));
        }
        let mut attempt = outbound::send(method.clone(), &url, &headers, body.clone(), TIMEOUT).await;
        if retryable(&attempt) {
            attempt = outbound::send(method, &url, &headers, body, TIMEOUT).await;
        }
        decode(attempt, path)
    }

    /// Connect OAuth: exchanges an authorization code for the connected account's id.
    pub async fn exchange_oauth_code(&self, connect_base: &str, code: &str) -> ApiResult<OAuthGrant> {
        let url = format!("{}/oauth/token", connect_base.trim_end_matches('/'));
        let authorization = format!("Bearer {}", self.secret_key);
        let body = Form::new()
            .field("grant_type", "authorization_code")
            .field("code", code)
            .encode();
        let headers = [
            ("Authorization", authorization.as_str()),
            ("Content-Type", "application/x-www-form-urlencoded"),
        ];
        let response = outbound::send(Method::Post, &url, &headers, Some(body), TIMEOUT)
            .await
            .map_err(|e| unreachable_stripe(&e))?;
        if (200..300).contains(&response.status) {
            return serde_json::from_str(&response.body)
                .map_err(|e| ApiError::internal(format!("Stripe OAuth response: {e}")));
        }
        #[derive(Deserialize)]
        struct OAuthError {
            error: String,
            #[serde(default)]
            error_description: Option<String>,
        }
        let detail: Option<OAuthError> = serde_json::from_str(&response.body).ok();
        let message = detail
            .map(|d| format!("{}: {}", d.error, d.error_description.unwrap_or_default()))
            .unwrap_or_else(|| format!("HTTP {}", response.status));
        Err(ApiError::invalid_request(format!(
            "Stripe refused the authorization: {message}"
        )))
    }
}

/// The parts of Stripe's OAuth token response the platform keeps (not the tokens).
#[derive(Debug, Clone, Deserialize)]
pub struct OAuthGrant {
    pub stripe_user_id: String,
    #[serde(default)]
    pub scope: Option<String>,
    #[serde(default)]
    pub livemode: bool,
}

fn retryable(attempt: &Result<OutboundResponse, OutboundError>) -> bool {
    match attempt {
        Ok(response) => response.status == 429 || response.status >= 500,
        Err(OutboundError::Request(_)) => false,
        Err(_) => true,
    }
}

fn unreachable_stripe(e: &OutboundError) -> ApiError {
    ApiError::new(ErrorCode::StripeError, format!("Stripe could not be reached ({e})"))
}

fn decode<T: DeserializeOwned>(attempt: Result<OutboundResponse, OutboundError>, path: &str) -> ApiResult<T> {
    let response = attempt.map_err(|e| unreachable_stripe(&e))?;
    if (200..300).contains(&response.status) {
        return serde_json::from_str(&response.body)
            .map_err(|e| ApiError::internal(format!("Stripe {path} response: {e}")));
    }
    // Stripe refusing our own credentials is our misconfiguration, and its message can quote
    // the end of our key: log it, do not pass it on.
    if matches!(response.status, 401 | 403) {
        return Err(ApiError::internal(format!(
            "Stripe {path}: HTTP {}: {}",
            response.status, response.body
        )));
    }
    let detail = serde_json::from_str::<ErrorBody>(&response.body).ok().map(|b| b.error);
    let message = detail
        .as_ref()
        .and_then(|d| d.message.clone())
        .unwrap_or_else(|| format!("HTTP {}", response.status));
    let mut error = ApiError::new(ErrorCode::StripeError, format!("Stripe: {message}"));
    if let Some(detail) = detail {
        if let Some(code) = &detail.code {
            error = error.with_cause(Cause::Stripe(code.clone()));
        }
        error = error.with_detail("stripe", detail);
    }
    Err(error)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn forms_use_stripes_bracket_syntax() {
        let form = Form::new()
            .field("line_items[0][price]", "price_1")
            .field("line_items[0][quantity]", 2)
            .field("metadata[platformId]", "plt_a b&c")
            .field_opt("customer_email", None::<&str>)
            .field_opt("success_url", Some("https://x.test/ok?session={CHECKOUT_SESSION_ID}"));
        assert_eq!(
            form.encode(),
            "line_items%5B0%5D%5Bprice%5D=price_1&line_items%5B0%5D%5Bquantity%5D=2\
             &metadata%5BplatformId%5D=plt_a+b%26c\
             &success_url=https%3A%2F%2Fx.test%2Fok%3Fsession%3D%7BCHECKOUT_SESSION_ID%7D"
        );
    }

    #[test]
    fn stripe_errors_keep_stripes_explanation() {
        let response = OutboundResponse {
            status: 400,
            body: r#"{"error":{"type":"invalid_request_error","code":"resource_missing","message":"No such price: 'price_x'","param":"price"}}"#.into(),
        };
        let err = decode::<serde_json::Value>(Ok(response), "/prices").unwrap_err();
        assert_eq!(err.code(), ErrorCode::StripeError);
        assert!(err.message().contains("No such price"));
        assert_eq!(err.body("r")["stripe"]["code"], "resource_missing");
    }

    #[test]
    fn stripe_refusing_our_credentials_is_internal() {
        let response = OutboundResponse {
            status: 401,
            body:
                r#"{"error":{"type":"invalid_request_error","message":"Invalid API Key provided: sk_live_****1234"}}"#
                    .into(),
        };
        let err = decode::<serde_json::Value>(Ok(response), "/products").unwrap_err();
        assert_eq!(err.code(), ErrorCode::Internal);
        assert!(!err.body("r").to_string().contains("1234"));
    }

    #[test]
    fn only_transient_failures_are_retried() {
        let status = |s| {
            Ok(OutboundResponse {
                status: s,
                body: String::new(),
            })
        };
        assert!(retryable(&status(500)));
        assert!(retryable(&status(429)));
        assert!(!retryable(&status(400)));
        assert!(!retryable(&status(200)));
        assert!(retryable(&Err(OutboundError::TimedOut)));
        assert!(!retryable(&Err(OutboundError::Request("bad header".into()))));
    }
}
