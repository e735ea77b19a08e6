//! Stripe webhook signatures, checked over the raw body before anything is parsed:
//! `Stripe-Signature: t=<unix>,v1=<hex>[,v1=<hex>…]`, where v1 = HMAC-SHA256(secret,
//! "{t}.{body}"). Any v1 may match (Stripe sends several while a secret is being rolled);
//! comparison is constant-time; a timestamp outside the tolerance is a replay.

use std::fmt;

use hmac::{Hmac, Mac};
use serde::Deserialize;
use serde_json::Value;
use sha2::Sha256;

use crate::{
    error::{ApiError, ApiResult},
    period::Timestamp,
};

/// A Stripe event as delivered to a webhook endpoint (only what we read).
#[derive(Debug, Clone, Deserialize)]
pub struct StripeEvent {
    pub id: String,
    #[serde(rename = "type")]
    pub kind: String,
    pub created: i64,
    pub data: EventData,
    /// The connected account the event happened on; absent for the platform's own events.
    #[serde(default)]
    pub account: Option<String>,
    #[serde(default)]
    pub livemode: bool,
}

#[derive(Debug, Clone, Deserialize)]
pub struct EventData {
    pub object: Value,
}

/// A webhook delivery checked and parsed: the signature over the raw body first, then the
/// JSON. Every refusal is a 400, so Stripe does not retry what cannot succeed.
pub fn verified_event<'a>(
    body: &'a [u8],
    signature: Option<&str>,
    secret: &str,
    now: Timestamp,
) -> ApiResult<(StripeEvent, &'a str)> {
    verify(body, signature, secret, now)
        .map_err(|e| ApiError::invalid_request(format!("Webhook signature rejected: {e}")))?;
    let payload = std::str::from_utf8(body).map_err(|_| ApiError::invalid_request("Webhook body is not UTF-8"))?;
    let event =
        serde_json::from_str(payload).map_err(|e| ApiError::invalid_request(format!("Not a Stripe event: {e}")))?;
    Ok((event, payload))
}

pub const TOLERANCE_SECS: i64 = 300;
/// Stripe's events are well under this; the signature is checked over the whole body, so
/// webhook routes refuse anything bigger before reading it.
pub const MAX_BODY_BYTES: usize = 512 * 1024;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SignatureError {
    Missing,
    Malformed,
    Mismatch,
    OutsideTolerance,
}

impl fmt::Display for SignatureError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Missing => "missing Stripe-Signature header",
            Self::Malformed => "malformed Stripe-Signature header",
            Self::Mismatch => "no signature matches the payload",
            Self::OutsideTolerance => "signature timestamp is outside the tolerance",
        })
    }
}

impl std::error::Error for SignatureError {}

fn mac(secret: &str, timestamp: &str, payload: &[u8]) -> Hmac<Sha256> {
    // HMAC accepts keys of any length; this cannot fail.
    let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(secret.as_bytes()).unwrap_or_else(|_| unreachable!());
    mac.update(timestamp.as_bytes());
    mac.update(b".");
    mac.update(payload);
    mac
}

/// Stripe sends one `v1` per active secret (two while a secret is rolled); more than this is
/// not Stripe, and each candidate would cost a comparison before anyone is authenticated.
pub const MAX_SIGNATURES: usize = 8;
/// Longer than any header Stripe sends with `MAX_SIGNATURES` signatures.
pub const MAX_HEADER_LEN: usize = 1024;

/// Equal-length byte strings compared in time independent of where they differ.
fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// Verifies the header against the raw payload; returns the signed timestamp. The cheap checks
/// come first (shape, count, freshness), and the HMAC is computed once, whatever the number of
/// candidates.
pub fn verify(payload: &[u8], header: Option<&str>, secret: &str, now: Timestamp) -> Result<Timestamp, SignatureError> {
    let header = header.ok_or(SignatureError::Missing)?;
    if header.len() > MAX_HEADER_LEN {
        return Err(SignatureError::Malformed);
    }
    let mut timestamp = None;
    let mut candidates = Vec::new();
    for part in header.split(',') {
        match part.trim().split_once('=') {
            Some(("t", t)) => timestamp = Some(t),
            Some(("v1", sig)) => candidates.push(sig),
            Some(_) => {}
            None => return Err(SignatureError::Malformed),
        }
    }
    let t_text = timestamp.ok_or(SignatureError::Malformed)?;
    let t: i64 = t_text.parse().map_err(|_| SignatureError::Malformed)?;
    if candidates.is_empty() || candidates.len() > MAX_SIGNATURES {
        return Err(SignatureError::Malformed);
    }
    // `abs_diff`: a forged `t` near i64::MIN or MAX would overflow a subtraction.
    if now.0.abs_diff(t) > TOLERANCE_SECS.unsigned_abs() {
        return Err(SignatureError::OutsideTolerance);
    }
    let expected = mac(secret, t_text, payload).finalize().into_bytes();
    let matched = candidates
        .iter()
        .any(|sig| hex::decode(sig).is_ok_and(|bytes| constant_time_eq(&bytes, &expected)));
    if matched {
        Ok(Timestamp(t))
    } else {
        Err(SignatureError::Mismatch)
    }
}

/// The header Stripe would send; used by tests to produce deliveries.
pub fn sign(payload: &[u8], secret: &str, t: Timestamp) -> String {
    let signature = hex::encode(mac(secret, &t.0.to_string(), payload).finalize().into_bytes());
    format!("t={},v1={signature}", t.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    const SECRET: &str = "whsec_test_secret";
    const NOW: Timestamp = Timestamp(1_795_306_426);
    const BODY: &[u8] = br#"{"id":"evt_1","type":"invoice.paid"}"#;

    #[test]
    fn matches_an_independent_hmac() {
        // printf '1795306426.{"id":"evt_1","type":"invoice.paid"}' | openssl dgst -sha256 -hmac whsec_test_secret
        assert_eq!(
            sign(BODY, SECRET, NOW),
            "t=1795306426,v1=d6b180f59f8dd501aadd8a2d40ca37dc23f11b61c8300cf1dc84d3071f960ebb"
        );
    }

    #[test]
    fn accepts_a_valid_signature_among_several() {
        let good = sign(BODY, SECRET, NOW);
        let header = format!("{},v1={},v0=legacy", good.replace("v1=", "v1=00,v1="), "ff".repeat(32));
        assert_eq!(verify(BODY, Some(&header), SECRET, Timestamp(NOW.0 + 10)), Ok(NOW));
    }

    #[test]
    fn rejects_tampering_wrong_secrets_replays_and_garbage() {
        let good = sign(BODY, SECRET, NOW);
        assert_eq!(
            verify(b"{\"id\":\"evt_2\"}", Some(&good), SECRET, NOW),
            Err(SignatureError::Mismatch)
        );
        assert_eq!(
            verify(BODY, Some(&good), "whsec_other", NOW),
            Err(SignatureError::Mismatch)
        );
        assert_eq!(
            verify(BODY, Some(&good), SECRET, Timestamp(NOW.0 + 301)),
            Err(SignatureError::OutsideTolerance)
        );
        assert_eq!(verify(BODY, None, SECRET, NOW), Err(SignatureError::Missing));
        for bad in ["", "garbage", "t=abc,v1=00", "v1=00", &format!("t={}", NOW.0)] {
            assert_eq!(
                verify(BODY, Some(bad), SECRET, NOW),
                Err(SignatureError::Malformed),
                "{bad}"
            );
        }
        // More candidates than Stripe ever sends are refused before any HMAC, even with a good one.
        let mut crowded = good.clone();
        for _ in 0..MAX_SIGNATURES {
            crowded.push_str(&format!(",v1={}", "00".repeat(32)));
        }
        assert_eq!(
            verify(BODY, Some(&crowded), SECRET, NOW),
            Err(SignatureError::Malformed)
        );
        let long = format!("{good},x={}", "a".repeat(MAX_HEADER_LEN));
        assert_eq!(verify(BODY, Some(&long), SECRET, NOW), Err(SignatureError::Malformed));
        // Signature for another timestamp, with the header's t forged to look fresh.
        let old = sign(BODY, SECRET, Timestamp(NOW.0 - 3600));
        let forged = old.replace(&(NOW.0 - 3600).to_string(), &NOW.0.to_string());
        assert_eq!(verify(BODY, Some(&forged), SECRET, NOW), Err(SignatureError::Mismatch));
    }

    #[test]
    fn extreme_timestamps_are_outside_the_tolerance_not_an_overflow() {
        for t in [i64::MIN, i64::MIN + 1, i64::MAX] {
            let header = format!("t={t},v1={}", "00".repeat(32));
            assert_eq!(
                verify(BODY, Some(&header), SECRET, NOW),
                Err(SignatureError::OutsideTolerance),
                "{t}"
            );
            assert_eq!(
                verify(BODY, Some(&header), SECRET, Timestamp(i64::MIN)),
                if t == i64::MIN || t == i64::MIN + 1 {
                    Err(SignatureError::Mismatch)
                } else {
                    Err(SignatureError::OutsideTolerance)
                },
                "{t} at the earliest now"
            );
        }
    }
}
