//! Verifying dream-api's webhooks in your app: the Standard Webhooks signature (`webhook-id`,
//! `webhook-timestamp`, `webhook-signature`). The maintained `standardwebhooks` crate verifies
//! the same deliveries, if you prefer it.
//!
//! ```
//! # fn main() -> Result<(), dream_api::webhooks::WebhookError> {
//! use dream_api::webhooks::{Delivery, verify};
//! let secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
//! let delivery = Delivery {
//!     id: "msg_p5jXN8AQM9LWM0D4loKWxJek",
//!     timestamp: "1614265330",
//!     signature: "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=",
//!     body: r#"{"test": 2432232314}"#,
//! };
//! let event: serde_json::Value = verify(secret, &delivery, 1614265330 + 10)?;
//! assert_eq!(event["test"], 2432232314u64);
//! # Ok(()) }
//! ```

use base64::{Engine, engine::general_purpose::STANDARD};
use hmac::{Hmac, Mac};
use serde::de::DeserializeOwned;
use sha2::Sha256;

/// How far a delivery's timestamp may be from now.
pub const TOLERANCE_SECS: i64 = 300;

/// One delivery as your endpoint received it: its three headers and the raw body.
#[derive(Debug, Clone, Copy)]
pub struct Delivery<'a> {
    /// `webhook-id`: the event's id, the same on every retry and replay (deduplicate by it).
    pub id: &'a str,
    /// `webhook-timestamp`: Unix seconds.
    pub timestamp: &'a str,
    /// `webhook-signature`: `v1,<base64>`, one per secret that signs (two during a rotation).
    pub signature: &'a str,
    /// The body exactly as received.
    pub body: &'a str,
}

/// Why a delivery was refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum WebhookError {
    /// The secret is not a `whsec_…` signing secret.
    BadSecret,
    /// The timestamp is not a Unix time, or too far from now (a replay, or a wrong clock).
    Timestamp,
    /// No signature matches: a wrong secret, or an altered delivery.
    Signature,
    /// Authentic, but not the JSON asked for.
    Payload(String),
}

impl std::fmt::Display for WebhookError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::BadSecret => f.write_str("the secret is not a whsec_… signing secret"),
            Self::Timestamp => f.write_str("the delivery's timestamp is missing or too far from now"),
            Self::Signature => f.write_str("no signature matches (wrong secret, or an altered delivery)"),
            Self::Payload(e) => write!(f, "the delivery's body is not the expected JSON: {e}"),
        }
    }
}

impl std::error::Error for WebhookError {}

/// `v1,<base64 HMAC-SHA256 of "{id}.{timestamp}.{body}">` with the secret `whsec_…`.
pub fn sign(secret: &str, id: &str, timestamp: i64, body: &str) -> Result<String, WebhookError> {
    let key = STANDARD
        .decode(secret.strip_prefix("whsec_").unwrap_or(secret))
        .map_err(|_| WebhookError::BadSecret)?;
    let mut mac = Hmac::<Sha256>::new_from_slice(&key).map_err(|_| WebhookError::BadSecret)?;
    mac.update(format!("{id}.{timestamp}.").as_bytes());
    mac.update(body.as_bytes());
    Ok(format!("v1,{}", STANDARD.encode(mac.finalize().into_bytes())))
}

/// Checks a delivery's signature and age (`now` in Unix seconds) and parses its event: a
/// `serde_json::Value`, or your own type for the events you handle.
pub fn verify<T: DeserializeOwned>(secret: &str, delivery: &Delivery<'_>, now: i64) -> Result<T, WebhookError> {
    let timestamp: i64 = delivery.timestamp.trim().parse().map_err(|_| WebhookError::Timestamp)?;
    if (now - timestamp).abs() > TOLERANCE_SECS {
        return Err(WebhookError::Timestamp);
    }
    let expected = sign(secret, delivery.id, timestamp, delivery.body)?;
    let matches = delivery
        .signature
        .split(' ')
        .any(|candidate| constant_time_eq(candidate.as_bytes(), expected.as_bytes()));
    if !matches {
        return Err(WebhookError::Signature);
    }
    serde_json::from_str(delivery.body).map_err(|e| WebhookError::Payload(e.to_string()))
}

fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    const SECRET: &str = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
    const BODY: &str = r#"{"test": 2432232314}"#;

    fn delivery<'a>(signature: &'a str, body: &'a str) -> Delivery<'a> {
        Delivery {
            id: "msg_p5jXN8AQM9LWM0D4loKWxJek",
            timestamp: "1614265330",
            signature,
            body,
        }
    }

    #[test]
    fn the_specification_example_verifies_and_alterations_do_not() {
        let signature = "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=";
        let now = 1614265330;
        assert!(verify::<serde_json::Value>(SECRET, &delivery(signature, BODY), now).is_ok());
        let rotating = format!("v1,bm90IHRoaXMgb25l {signature}");
        assert!(verify::<serde_json::Value>(SECRET, &delivery(&rotating, BODY), now).is_ok());
        assert_eq!(
            verify::<serde_json::Value>(SECRET, &delivery(signature, r#"{"test": 1}"#), now),
            Err(WebhookError::Signature)
        );
        assert_eq!(
            verify::<serde_json::Value>(SECRET, &delivery(signature, BODY), now + 301),
            Err(WebhookError::Timestamp)
        );
        let other = "whsec_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA";
        assert_eq!(
            verify::<serde_json::Value>(other, &delivery(signature, BODY), now),
            Err(WebhookError::Signature)
        );
        assert_eq!(
            verify::<serde_json::Value>("whsec_%%%", &delivery(signature, BODY), now),
            Err(WebhookError::BadSecret)
        );
    }
}
