//! One call, its retries and their delays.

use std::time::Duration;

use reqwest::{Method, header::HeaderValue};
use serde_json::Value;

use crate::{DreamApi, Error, Result};

const MAX_BACKOFF: Duration = Duration::from_secs(8);

pub(crate) struct Call {
    method: Method,
    path: std::borrow::Cow<'static, str>,
    headers: Vec<(&'static str, String)>,
    body: Option<Value>,
}

impl Call {
    pub fn new(method: Method, path: impl Into<std::borrow::Cow<'static, str>>) -> Self {
        let mut call = Self {
            headers: Vec::new(),
            body: None,
            method,
            path: path.into(),
        };
        // Every POST, so a retry of any of them is recognised; the server ignores it where a
        // route is repeat-safe by design.
        if call.method == Method::POST {
            call.headers.push(("idempotency-key", new_idempotency_key()));
        }
        call
    }

    pub fn user(mut self, user_id: &str, plan: Option<&str>) -> Self {
        self.headers.push(("x-user-id", user_id.to_owned()));
        if let Some(plan) = plan {
            self.headers.push(("x-user-plan", plan.to_owned()));
        }
        self
    }

    pub fn idempotency_key(mut self, key: &str) -> Self {
        self.headers.retain(|(name, _)| *name != "idempotency-key");
        self.headers.push(("idempotency-key", key.to_owned()));
        self
    }

    pub fn json(mut self, body: Value) -> Self {
        self.body = Some(body);
        self
    }
}

impl DreamApi {
    /// The body of the first successful answer and whether it was a replay, or the last error.
    pub(crate) async fn send(&self, call: Call) -> Result<(Value, bool)> {
        let mut attempt = 0;
        loop {
            let error = match self.attempt(&call).await {
                Ok(answer) => return Ok(answer),
                Err(e) => e,
            };
            if attempt >= self.max_retries || !error.is_retryable() {
                return Err(error);
            }
            let delay = match &error {
                Error::RateLimited {
                    retry_after: Some(wait),
                    ..
                } if *wait > self.max_retry_after => return Err(error),
                Error::RateLimited {
                    retry_after: Some(wait),
                    ..
                } => *wait,
                _ => backoff(self.retry_base_delay, attempt),
            };
            sleep(delay).await;
            attempt += 1;
        }
    }

    async fn attempt(&self, call: &Call) -> Result<(Value, bool)> {
        let mut request = self
            .http
            .request(call.method.clone(), format!("{}{}", self.base_url, call.path))
            .bearer_auth(&self.secret_key)
            .timeout(self.timeout);
        for (name, value) in &call.headers {
            request = request.header(*name, value);
        }
        if let Some(body) = &call.body {
            request = request.json(body);
        }
        let response = request.send().await.map_err(transport_error)?;
        let status = response.status().as_u16();
        let header = |name: &str| {
            response
                .headers()
                .get(name)
                .and_then(|v: &HeaderValue| v.to_str().ok())
                .map(str::to_owned)
        };
        let replayed = header("idempotent-replayed").as_deref() == Some("true");
        let retry_after = header("retry-after")
            .and_then(|s| s.trim().parse::<u64>().ok())
            .map(Duration::from_secs);
        let text = response.text().await.map_err(transport_error)?;
        if !(200..300).contains(&status) {
            return Err(Error::from_answer(status, &text, retry_after));
        }
        let body = serde_json::from_str(&text).map_err(|e| Error::Decode(e.to_string()))?;
        Ok((body, replayed))
    }
}

fn transport_error(e: reqwest::Error) -> Error {
    if e.is_timeout() {
        Error::Timeout
    } else {
        Error::Connection(e.to_string())
    }
}

/// `base · 2^attempt`, at most 8 s, minus up to half of it at random (so clients that failed
/// together do not retry together).
fn backoff(base: Duration, attempt: u32) -> Duration {
    let full = base.saturating_mul(1 << attempt.min(16)).min(MAX_BACKOFF);
    let mut byte = [0u8; 1];
    let _ = getrandom::fill(&mut byte);
    full - full.mul_f64(f64::from(byte[0]) / 255.0 / 2.0)
}

pub(crate) fn new_idempotency_key() -> String {
    let mut bytes = [0u8; 16];
    getrandom::fill(&mut bytes).expect("the platform's random source");
    let hex: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
    format!("sdk_{hex}")
}

#[cfg(not(target_arch = "wasm32"))]
async fn sleep(delay: Duration) {
    tokio::time::sleep(delay).await;
}

/// Workers have `setTimeout` but no tokio.
#[cfg(target_arch = "wasm32")]
async fn sleep(delay: Duration) {
    use wasm_bindgen::prelude::*;
    #[wasm_bindgen]
    extern "C" {
        #[wasm_bindgen(js_name = setTimeout)]
        fn set_timeout(callback: &js_sys::Function, millis: f64);
    }
    let promise = js_sys::Promise::new(&mut |resolve, _reject| {
        set_timeout(&resolve, delay.as_millis() as f64);
    });
    let _ = wasm_bindgen_futures::JsFuture::from(promise).await;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_with_jitter_and_is_capped() {
        let base = Duration::from_millis(500);
        for attempt in 0..6 {
            let full = base.saturating_mul(1 << attempt).min(MAX_BACKOFF);
            let d = backoff(base, attempt);
            assert!(d <= full && d >= full / 2, "attempt {attempt}: {d:?}");
        }
    }

    #[test]
    fn idempotency_keys_are_fresh() {
        assert_ne!(new_idempotency_key(), new_idempotency_key());
        assert_eq!(new_idempotency_key().len(), 36);
    }

    #[test]
    fn errors_map_by_code_and_carry_the_request_id() {
        let limit = r#"{"error":"Limit","code":"limit_reached","requestId":"req_1","usage":{"count":3,"limit":3,"plan":"free","remaining":0,"periodStart":"a","periodEnd":"b"}}"#;
        match Error::from_answer(429, limit, None) {
            Error::LimitReached { usage, details } => {
                assert_eq!((usage.count, usage.limit), (3, Some(3)));
                assert_eq!(details.request_id.as_deref(), Some("req_1"));
            }
            other => panic!("{other:?}"),
        }
        let rate = r#"{"error":"Slow down","code":"rate_limited","requestId":"req_2"}"#;
        let e = Error::from_answer(429, rate, Some(Duration::from_secs(7)));
        assert!(matches!(e, Error::RateLimited { retry_after: Some(d), .. } if d.as_secs() == 7));
        assert!(e.is_retryable());
        assert!(!Error::from_answer(429, limit, None).is_retryable());
        assert!(Error::from_answer(503, "upstream down", None).is_retryable());
        assert!(matches!(
            Error::from_answer(418, r#"{"code":"teapot"}"#, None),
            Error::Api(_)
        ));
    }
}
