//! Stripe webhook signatures, checked over the raw body before anything is parsed:
//! `Stripe-Signature: t=<unix>,v1=<hex>[,v1=<hex>…]`, where v1 = HMAC-SHA256(secret,
//! "{t}.{body}"). Any v1 may match (Stripe sends several while a secret is being rolled);
//! comparison is constant-time; a timestamp outside the tolerance is a replay.
//!
//! A body over `MAX_BODY_BYTES` is still Stripe's if its signature holds: the HMAC runs over the
//! stream while only the body's head is kept (an unauthenticated sender cannot make an isolate
//! hold megabytes), then the event is fetched from Stripe by the id its head names, so an
//! unusually large event is processed instead of refused and lost.

use std::fmt;

use axum::{
    body::{Body, HttpBody},
    http::StatusCode,
};
use futures_util::StreamExt;
use hmac::{Hmac, Mac};
use serde::{
    Deserialize,
    de::{IgnoredAny, MapAccess, Visitor},
};
use serde_json::Value;
use sha2::Sha256;

use crate::upstream::stripe::Stripe;
use dream_core::{
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
    verify(body, signature, secret, now).map_err(rejected)?;
    parse_event(body)
}

fn rejected(e: SignatureError) -> ApiError {
    ApiError::invalid_request(format!("Webhook signature rejected: {e}"))
}

fn parse_event(body: &[u8]) -> ApiResult<(StripeEvent, &str)> {
    let payload = std::str::from_utf8(body).map_err(|_| ApiError::invalid_request("Webhook body is not UTF-8"))?;
    let event =
        serde_json::from_str(payload).map_err(|e| ApiError::invalid_request(format!("Not a Stripe event: {e}")))?;
    Ok((event, payload))
}

/// A delivery whose signature holds, with the payload to record.
pub struct Received {
    pub event: StripeEvent,
    pub payload: String,
    /// Over `MAX_BODY_BYTES`: the event was fetched from Stripe by id.
    pub fetched: bool,
}

/// Reads a webhook body as it streams: the signature is checked over all of it, the event
/// parsed from it when it is within `MAX_BODY_BYTES`, and fetched by id with `clients` (tried
/// in order: a Connect event's mode is not in its head) when it is over.
pub async fn receive(
    body: Body,
    signature: Option<&str>,
    secret: &str,
    now: Timestamp,
    clients: &[&Stripe],
) -> ApiResult<Received> {
    let mut check = SignatureCheck::start(signature, secret, now).map_err(rejected)?;
    let too_large = || {
        ApiError::invalid_request(format!("Webhook body is over {MAX_STREAMED_BYTES} bytes"))
            .with_status(StatusCode::PAYLOAD_TOO_LARGE)
    };
    // A declared length over the bound is refused before a byte is read.
    if usize::try_from(body.size_hint().lower()).unwrap_or(usize::MAX) > MAX_STREAMED_BYTES {
        return Err(too_large());
    }
    let (mut head, mut total) = (Vec::new(), 0usize);
    let mut chunks = body.into_data_stream();
    while let Some(chunk) = chunks.next().await {
        let chunk = chunk.map_err(|e| ApiError::invalid_request(format!("Webhook body could not be read: {e}")))?;
        total += chunk.len();
        if total > MAX_STREAMED_BYTES {
            return Err(
                ApiError::invalid_request(format!("Webhook body is over {MAX_STREAMED_BYTES} bytes"))
                    .with_status(StatusCode::PAYLOAD_TOO_LARGE),
            );
        }
        check.update(&chunk);
        let room = MAX_BODY_BYTES - head.len();
        head.extend_from_slice(&chunk[..room.min(chunk.len())]);
    }
    check.finish().map_err(rejected)?;
    if total <= MAX_BODY_BYTES {
        let (event, payload) = parse_event(&head)?;
        let payload = payload.to_owned();
        return Ok(Received {
            event,
            payload,
            fetched: false,
        });
    }
    let head = EventHead::parse(&head)?;
    fetch(&head, clients).await
}

/// Who and what a delivery is about, read from the first bytes of its body: Stripe writes `id`
/// first and `account` before `data`.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct EventHead {
    pub id: String,
    pub account: Option<String>,
}

impl EventHead {
    pub fn parse(head: &[u8]) -> ApiResult<Self> {
        let mut found = HeadFields::default();
        // The head ends inside the event: the parse fails there, after recording what it read.
        let _ = serde::Deserializer::deserialize_map(
            &mut serde_json::Deserializer::from_slice(head),
            HeadVisitor(&mut found),
        );
        let id = (found.id)
            .filter(|id| is_stripe_id(id, "evt_"))
            .ok_or_else(|| ApiError::invalid_request("Not a Stripe event: no `evt_` id at the start of the body"))?;
        if let Some(account) = &found.account
            && !is_stripe_id(account, "acct_")
        {
            return Err(ApiError::invalid_request(
                "Not a Stripe event: `account` is not an account id",
            ));
        }
        Ok(Self {
            id,
            account: found.account,
        })
    }
}

fn is_stripe_id(id: &str, prefix: &str) -> bool {
    id.len() <= 255
        && id
            .strip_prefix(prefix)
            .is_some_and(|rest| !rest.is_empty() && rest.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_'))
}

#[derive(Default)]
struct HeadFields {
    id: Option<String>,
    account: Option<String>,
}

struct HeadVisitor<'a>(&'a mut HeadFields);

impl<'de> Visitor<'de> for HeadVisitor<'_> {
    type Value = ();

    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str("a Stripe event")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        while let Some(key) = map.next_key::<String>()? {
            match key.as_str() {
                "id" => self.0.id = Some(map.next_value()?),
                "account" => self.0.account = map.next_value()?,
                // Everything Stripe writes after these is the event's bulk.
                "data" => break,
                _ => {
                    map.next_value::<IgnoredAny>()?;
                }
            }
        }
        Ok(())
    }
}

/// The event named by `head`, from Stripe, with the first client that has it. What is recorded
/// of it is a summary: the full event is Stripe's to keep, and would not fit a D1 row.
pub async fn fetch(head: &EventHead, clients: &[&Stripe]) -> ApiResult<Received> {
    let mut failure = ApiError::internal("no Stripe client to fetch an oversized event with");
    for client in clients {
        let client = match &head.account {
            Some(account) => client.on_account(account),
            None => (*client).clone(),
        };
        match client.get::<Value>(&format!("/events/{}", head.id)).await {
            Ok(value) => {
                let mut event: StripeEvent = serde_json::from_value(value)
                    .map_err(|e| ApiError::internal(format!("Stripe event {}: {e}", head.id)))?;
                if event.id != head.id {
                    return Err(ApiError::internal(format!(
                        "Stripe answered {} for {}",
                        event.id, head.id
                    )));
                }
                // Fetched with the account's header: that is whose it is, whatever the body says.
                event.account.clone_from(&head.account);
                let payload = serde_json::json!({
                    "id": event.id,
                    "type": event.kind,
                    "account": event.account,
                    "created": event.created,
                    "omitted": format!("over {MAX_BODY_BYTES} bytes: fetched from Stripe by id, not recorded"),
                })
                .to_string();
                return Ok(Received {
                    event,
                    payload,
                    fetched: true,
                });
            }
            Err(e) => failure = e,
        }
    }
    Err(failure)
}

pub const TOLERANCE_SECS: i64 = 300;
/// Stripe's events are well under this; a bigger one is fetched from Stripe by id.
pub const MAX_BODY_BYTES: usize = 512 * 1024;
/// What a webhook route reads at all (hashing it, keeping only `MAX_BODY_BYTES`); 413 past it.
/// Anyone can send a body and have it hashed before its signature fails: this bounds that CPU
/// (a few milliseconds) while covering Stripe's largest events many times over.
pub const MAX_STREAMED_BYTES: usize = 4 * 1024 * 1024;

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

/// Verifies the header against the raw payload; returns the signed timestamp.
pub fn verify(payload: &[u8], header: Option<&str>, secret: &str, now: Timestamp) -> Result<Timestamp, SignatureError> {
    let mut check = SignatureCheck::start(header, secret, now)?;
    check.update(payload);
    check.finish()
}

/// A signature check over a body read in pieces. The cheap checks come first (shape, count,
/// freshness), and the HMAC is computed once, whatever the number of candidates.
pub struct SignatureCheck {
    mac: Hmac<Sha256>,
    timestamp: Timestamp,
    candidates: Vec<Vec<u8>>,
}

impl SignatureCheck {
    pub fn start(header: Option<&str>, secret: &str, now: Timestamp) -> Result<Self, SignatureError> {
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
        // A candidate that is not hex can never match: an empty one stands for it.
        let candidates = candidates
            .iter()
            .map(|sig| hex::decode(sig).unwrap_or_default())
            .collect();
        Ok(Self {
            mac: mac(secret, t_text, b""),
            timestamp: Timestamp(t),
            candidates,
        })
    }

    pub fn update(&mut self, chunk: &[u8]) {
        self.mac.update(chunk);
    }

    pub fn finish(self) -> Result<Timestamp, SignatureError> {
        let expected = self.mac.finalize().into_bytes();
        if self.candidates.iter().any(|sig| constant_time_eq(sig, &expected)) {
            Ok(self.timestamp)
        } else {
            Err(SignatureError::Mismatch)
        }
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

    #[test]
    fn the_head_of_a_long_event_names_it_and_its_account() {
        let long = br#"{"id": "evt_1Abc", "object": "event", "account": "acct_9Z", "api_version": "2024-06-20", "created": 1, "data": {"object": {"lines": ["#;
        assert_eq!(
            EventHead::parse(long).ok(),
            Some(EventHead {
                id: "evt_1Abc".into(),
                account: Some("acct_9Z".into()),
            })
        );
        let platform = br#"{"id":"evt_2","object":"event","created":1,"data":{"object":{"#;
        assert_eq!(EventHead::parse(platform).map(|h| h.account).ok(), Some(None));
        // The id must come before the bulk, and look like Stripe's.
        for bad in [
            &br#"{"object":"event","data":{"object":{"id":"evt_3""#[..],
            br#"{"id":"cus_1","data":{"#,
            br#"{"id":"evt_1","account":"acct_1' OR 1=1","data":{"#,
            b"not json",
        ] {
            assert!(EventHead::parse(bad).is_err(), "{}", String::from_utf8_lossy(bad));
        }
    }

    #[test]
    fn a_body_checked_in_pieces_is_checked_as_a_whole() {
        let header = sign(BODY, SECRET, NOW);
        let mut check = SignatureCheck::start(Some(&header), SECRET, NOW).expect("well formed");
        for piece in BODY.chunks(7) {
            check.update(piece);
        }
        assert_eq!(check.finish(), Ok(NOW));
        let mut short = SignatureCheck::start(Some(&header), SECRET, NOW).expect("well formed");
        short.update(&BODY[..BODY.len() - 1]);
        assert_eq!(short.finish(), Err(SignatureError::Mismatch));
    }
}
