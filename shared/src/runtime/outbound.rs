//! Outbound HTTP from a worker (Stripe, Clerk): `fetch` with a timeout that aborts the request.

use std::time::Duration;

use worker::Method;
#[cfg(target_arch = "wasm32")]
use worker::{AbortController, Delay, Fetch, Headers, Request, RequestInit, RequestRedirect, wasm_bindgen::JsValue};

#[derive(Debug, Clone)]
pub struct OutboundResponse {
    pub status: u16,
    pub body: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum OutboundError {
    /// Our request could not be built (a bad header value, an invalid URL in configuration).
    Request(String),
    /// The network or the remote failed before answering.
    Network(String),
    TimedOut,
}

impl std::fmt::Display for OutboundError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Request(e) => write!(f, "building request: {e}"),
            Self::Network(e) => write!(f, "network: {e}"),
            Self::TimedOut => f.write_str("timed out"),
        }
    }
}

#[cfg(target_arch = "wasm32")]
fn request(
    method: Method,
    url: &str,
    headers: &[(&str, &str)],
    body: Option<&str>,
    redirect: RequestRedirect,
) -> Result<Request, OutboundError> {
    let request_error = |e: worker::Error| OutboundError::Request(e.to_string());
    let header_map = Headers::new();
    for (name, value) in headers {
        header_map.set(name, value).map_err(request_error)?;
    }
    let mut init = RequestInit::new();
    init.with_method(method)
        .with_headers(header_map)
        .with_redirect(redirect);
    if let Some(body) = body {
        init.with_body(Some(JsValue::from_str(body)));
    }
    Request::new_with_init(url, &init).map_err(request_error)
}

/// Sends one request and reads the whole (small, JSON) response body.
#[cfg(target_arch = "wasm32")]
pub async fn send(
    method: Method,
    url: &str,
    headers: &[(&str, &str)],
    body: Option<String>,
    timeout: Duration,
) -> Result<OutboundResponse, OutboundError> {
    let request = request(method, url, headers, body.as_deref(), RequestRedirect::Follow)?;
    let controller = AbortController::default();
    let signal = controller.signal();
    let exchange = async {
        let mut response =
            crate::runtime::timing::timed("fetch", Fetch::Request(request).send_with_signal(&signal)).await?;
        let body = response.text().await?;
        Ok::<_, worker::Error>(OutboundResponse {
            status: response.status_code(),
            body,
        })
    };
    match crate::runtime::deadline::within(exchange, Delay::from(timeout)).await {
        Some(result) => result.map_err(|e| OutboundError::Network(e.to_string())),
        None => {
            controller.abort();
            Err(OutboundError::TimedOut)
        }
    }
}

/// Natively (the use-case tests, against the emulator) the same exchange over reqwest.
#[cfg(not(target_arch = "wasm32"))]
pub async fn send(
    method: Method,
    url: &str,
    headers: &[(&str, &str)],
    body: Option<String>,
    timeout: Duration,
) -> Result<OutboundResponse, OutboundError> {
    let method = reqwest::Method::from_bytes(method.to_string().as_bytes())
        .map_err(|e| OutboundError::Request(e.to_string()))?;
    let mut request = reqwest::Client::new().request(method, url).timeout(timeout);
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    if let Some(body) = body {
        request = request.body(body);
    }
    let response = request.send().await.map_err(|e| {
        if e.is_timeout() {
            OutboundError::TimedOut
        } else {
            OutboundError::Network(e.to_string())
        }
    })?;
    let status = response.status().as_u16();
    let body = response
        .text()
        .await
        .map_err(|e| OutboundError::Network(e.to_string()))?;
    Ok(OutboundResponse { status, body })
}

/// A webhook delivery's answer: its status and the first bytes of its body (the rest is never
/// read, so an endpoint cannot make us download much).
#[derive(Debug, Clone)]
pub struct DeliveryAnswer {
    pub status: u16,
    pub head: String,
}

fn head_of(bytes: &[u8], limit: usize) -> String {
    String::from_utf8_lossy(&bytes[..bytes.len().min(limit)]).into_owned()
}

/// POSTs a JSON body to a developer's endpoint: redirects are answers (3xx, not followed), at
/// most `limit` bytes of the answer are read.
#[cfg(target_arch = "wasm32")]
pub async fn deliver(
    url: &str,
    headers: &[(&str, &str)],
    body: &str,
    timeout: Duration,
    limit: usize,
) -> Result<DeliveryAnswer, OutboundError> {
    use futures_util::StreamExt;
    let request = request(Method::Post, url, headers, Some(body), RequestRedirect::Manual)?;
    let controller = AbortController::default();
    let signal = controller.signal();
    let answered = crate::runtime::timing::timed(
        "fetch",
        crate::runtime::deadline::within(Fetch::Request(request).send_with_signal(&signal), Delay::from(timeout)),
    )
    .await;
    let mut response = match answered {
        Some(Ok(response)) => response,
        Some(Err(e)) => {
            controller.abort();
            return Err(OutboundError::Network(e.to_string()));
        }
        None => {
            controller.abort();
            return Err(OutboundError::TimedOut);
        }
    };
    // The status decides; the body is only shown in the log, so a slow one is cut short
    // rather than turning a 2xx into a failure.
    let status = response.status_code();
    let mut head = Vec::new();
    let read = async {
        if let Ok(mut stream) = response.stream() {
            while head.len() < limit {
                match stream.next().await {
                    Some(Ok(chunk)) => head.extend_from_slice(&chunk),
                    _ => break,
                }
            }
        }
    };
    crate::runtime::deadline::within(read, Delay::from(BODY_READ_TIMEOUT)).await;
    // Whatever was read, the rest of the answer is not wanted.
    controller.abort();
    Ok(DeliveryAnswer {
        status,
        head: head_of(&head, limit),
    })
}

/// How long a delivery's answer body is read for the log, once its status has arrived.
#[cfg(target_arch = "wasm32")]
const BODY_READ_TIMEOUT: Duration = Duration::from_secs(2);

#[cfg(not(target_arch = "wasm32"))]
pub async fn deliver(
    url: &str,
    headers: &[(&str, &str)],
    body: &str,
    timeout: Duration,
    limit: usize,
) -> Result<DeliveryAnswer, OutboundError> {
    let client = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .timeout(timeout)
        .build()
        .map_err(|e| OutboundError::Request(e.to_string()))?;
    let mut request = client.post(url).body(body.to_owned());
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    let mut response = request.send().await.map_err(|e| {
        if e.is_timeout() {
            OutboundError::TimedOut
        } else {
            OutboundError::Network(e.to_string())
        }
    })?;
    let status = response.status().as_u16();
    let mut head = Vec::new();
    while head.len() < limit {
        match response.chunk().await {
            Ok(Some(chunk)) => head.extend_from_slice(&chunk),
            _ => break,
        }
    }
    Ok(DeliveryAnswer {
        status,
        head: head_of(&head, limit),
    })
}
