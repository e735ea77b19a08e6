//! Standard Webhooks signatures (<https://www.standardwebhooks.com>), so a developer verifies
//! our deliveries with the maintained `standardwebhooks` library of their language: headers
//! `webhook-id`, `webhook-timestamp` (Unix seconds) and `webhook-signature`, a space-separated
//! list of `v1,<base64 HMAC-SHA256 of "{id}.{timestamp}.{body}">`, the key being the bytes of
//! the secret `whsec_<base64>`.
//!
//! Secrets are never stored: an endpoint's secret is HMAC-SHA256 of the platform's master key
//! over the endpoint id and a generation number that rotation increments, so D1 holds nothing
//! that signs, and both workers that need it (oauth-api shows it, api-multi signs) derive it.

use base64::{Engine, engine::general_purpose::STANDARD};
use hmac::{Hmac, Mac};
use sha2::Sha256;

pub const SECRET_PREFIX: &str = "whsec_";

/// The signing key of one generation of an endpoint's secret.
#[derive(Clone, PartialEq, Eq)]
pub struct SigningKey(Vec<u8>);

impl std::fmt::Debug for SigningKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SigningKey(…)")
    }
}

impl SigningKey {
    pub fn derive(master: &[u8], endpoint_id: &str, generation: i64) -> Self {
        let mut mac = Hmac::<Sha256>::new_from_slice(master).expect("HMAC takes any key length");
        mac.update(b"dream-api webhook endpoint secret\0");
        mac.update(endpoint_id.as_bytes());
        mac.update(b"\0");
        mac.update(generation.to_string().as_bytes());
        Self(mac.finalize().into_bytes().to_vec())
    }

    /// `whsec_…`: what the developer puts in their verifier.
    pub fn secret(&self) -> String {
        format!("{SECRET_PREFIX}{}", STANDARD.encode(&self.0))
    }

    pub fn from_secret(secret: &str) -> Option<Self> {
        let bytes = STANDARD
            .decode(secret.strip_prefix(SECRET_PREFIX).unwrap_or(secret))
            .ok()?;
        (!bytes.is_empty()).then_some(Self(bytes))
    }

    /// `v1,<base64>` over `{id}.{timestamp}.{body}`.
    pub fn sign(&self, id: &str, timestamp: i64, body: &str) -> String {
        let mut mac = Hmac::<Sha256>::new_from_slice(&self.0).expect("HMAC takes any key length");
        mac.update(format!("{id}.{timestamp}.").as_bytes());
        mac.update(body.as_bytes());
        format!("v1,{}", STANDARD.encode(mac.finalize().into_bytes()))
    }
}

/// The `webhook-signature` value: one signature per key that signs now (the current secret,
/// and during a rotation's grace period the previous one).
pub fn signature_header(keys: &[SigningKey], id: &str, timestamp: i64, body: &str) -> String {
    keys.iter()
        .map(|key| key.sign(id, timestamp, body))
        .collect::<Vec<_>>()
        .join(" ")
}

/// Checks a delivery as a receiver does: one of the header's `v1` signatures matches, and the
/// timestamp is within `tolerance_secs` of `now`. (The SDKs' helper; the end-to-end tests check
/// with the `standardwebhooks` library instead.)
pub fn verify(
    key: &SigningKey,
    (id, timestamp, signatures): (&str, &str, &str),
    body: &str,
    now: i64,
    tolerance_secs: i64,
) -> bool {
    let Ok(timestamp) = timestamp.parse::<i64>() else {
        return false;
    };
    if (now - timestamp).abs() > tolerance_secs {
        return false;
    }
    let expected = key.sign(id, timestamp, body);
    signatures
        .split(' ')
        .any(|candidate| constant_time_eq(candidate.as_bytes(), expected.as_bytes()))
}

fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The example of the Standard Webhooks specification's reference libraries.
    #[test]
    fn matches_the_specification_example() {
        let key = SigningKey::from_secret("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw").unwrap();
        assert_eq!(
            key.sign("msg_p5jXN8AQM9LWM0D4loKWxJek", 1614265330, "{\"test\": 2432232314}"),
            "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="
        );
    }

    #[test]
    fn secrets_derive_per_endpoint_and_generation_and_verify() {
        let master = b"master key";
        let a1 = SigningKey::derive(master, "we_a", 1);
        assert_eq!(a1, SigningKey::derive(master, "we_a", 1));
        assert_ne!(a1, SigningKey::derive(master, "we_a", 2));
        assert_ne!(a1, SigningKey::derive(master, "we_b", 1));
        assert_eq!(SigningKey::from_secret(&a1.secret()), Some(a1.clone()));
        let a2 = SigningKey::derive(master, "we_a", 2);
        let header = signature_header(&[a2.clone(), a1.clone()], "evt_1", 1_700_000_000, "{}");
        assert_eq!(header.split(' ').count(), 2);
        for key in [&a1, &a2] {
            assert!(verify(key, ("evt_1", "1700000000", &header), "{}", 1_700_000_100, 300));
        }
        assert!(!verify(
            &a1,
            ("evt_1", "1700000000", &header),
            "{ }",
            1_700_000_100,
            300
        ));
        assert!(!verify(&a1, ("evt_2", "1700000000", &header), "{}", 1_700_000_100, 300));
        assert!(
            !verify(&a1, ("evt_1", "1700000000", &header), "{}", 1_700_001_000, 300),
            "stale"
        );
        let b = SigningKey::derive(master, "we_b", 1);
        assert!(!verify(&b, ("evt_1", "1700000000", &header), "{}", 1_700_000_100, 300));
    }
}
