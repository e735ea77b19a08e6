//! Usage widget tokens: what a developer's server hands its signed-in customer's browser so the
//! usage widget can read that one customer's plan and usage, without the secret key. A token is
//! `wt_<payload>.<mac>`: the payload names the project, the user and the expiry; the MAC's key
//! derives from the platform's `WIDGET_TOKEN_SECRET` and the minting secret key's hash. So a
//! token is bound to one user of one project, expires, and stops working when that key is
//! rotated; it authenticates only the widget's read route, never a count.

use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};
use hmac::{Hmac, Mac};
use serde::{Deserialize, Serialize};
use sha2::Sha256;

use crate::{
    error::{ApiError, ApiResult},
    keys::PublishableKey,
    period::Timestamp,
};

pub const PREFIX: &str = "wt_";
/// A page view's worth by default; an hour at most.
pub const DEFAULT_LIFETIME_SECS: i64 = 600;
pub const MAX_LIFETIME_SECS: i64 = 3600;
pub const MIN_LIFETIME_SECS: i64 = 60;
/// Above the widest real token (a user id of 128 characters that JSON escapes, and the
/// project's `MAX_TIERS` tier names of `TIER_NAME_MAX`: about 1,700 bytes), and small enough
/// for `?token=` to fit the edge's query-string bound (`edge::http::MAX_QUERY_BYTES`).
pub const MAX_TOKEN_LEN: usize = 1900;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WidgetClaims {
    /// The project (and so the mode).
    pub pk: String,
    /// The developer's user the token reads for.
    pub sub: String,
    pub iat: i64,
    pub exp: i64,
    /// The tiers the widget may offer, when the minting server chose them (`offerTiers`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tiers: Option<Vec<String>>,
}

impl WidgetClaims {
    /// Whether the widget may offer `tier` to this token's user.
    pub fn offers(&self, tier: &str) -> bool {
        self.tiers.as_ref().is_none_or(|tiers| tiers.iter().any(|t| t == tier))
    }
}

/// The key a project's tokens are signed with: the platform's `WIDGET_TOKEN_SECRET` over the
/// stored hash of the secret key that mints them. The secret makes tokens unforgeable by anyone
/// who sees a key hash (KV names and logs hold them); the hash ties tokens to that key, so its
/// rotation retires them.
pub fn signing_key(platform_secret: &str, secret_key_hash: &str) -> Vec<u8> {
    let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(platform_secret.as_bytes()).unwrap_or_else(|_| unreachable!());
    mac.update(b"dream-api widget token key v1\n");
    mac.update(secret_key_hash.as_bytes());
    mac.finalize().into_bytes().to_vec()
}

fn mac(key: &[u8], payload: &str) -> Hmac<Sha256> {
    let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(key).unwrap_or_else(|_| unreachable!());
    mac.update(payload.as_bytes());
    mac
}

/// A token for `claims`, signed with `key` (`signing_key`).
pub fn mint(claims: &WidgetClaims, key: &[u8]) -> String {
    let payload = URL_SAFE_NO_PAD.encode(serde_json::to_vec(claims).unwrap_or_default());
    let tag = URL_SAFE_NO_PAD.encode(mac(key, &payload).finalize().into_bytes());
    format!("{PREFIX}{payload}.{tag}")
}

/// A token as read from a request, before its MAC is checked against the project's keys.
#[derive(Debug)]
pub struct UnverifiedToken {
    pub claims: WidgetClaims,
    pub publishable_key: PublishableKey,
    payload: String,
    tag: Vec<u8>,
}

fn refused(why: &str) -> ApiError {
    ApiError::unauthorized(format!("Invalid widget token: {why}; ask your server for a new one"))
}

impl UnverifiedToken {
    /// Reads the token's claims and refuses what is malformed or expired at `now`.
    pub fn parse(token: &str, now: Timestamp) -> ApiResult<Self> {
        if token.len() > MAX_TOKEN_LEN {
            return Err(refused("too long"));
        }
        let body = token
            .strip_prefix(PREFIX)
            .ok_or_else(|| refused("it must start with wt_"))?;
        let (payload, tag) = body.split_once('.').ok_or_else(|| refused("malformed"))?;
        let claims: WidgetClaims = URL_SAFE_NO_PAD
            .decode(payload)
            .ok()
            .and_then(|bytes| serde_json::from_slice(&bytes).ok())
            .ok_or_else(|| refused("malformed"))?;
        let tag = URL_SAFE_NO_PAD.decode(tag).map_err(|_| refused("malformed"))?;
        let publishable_key = PublishableKey::parse(&claims.pk).map_err(|_| refused("malformed"))?;
        if claims.exp <= now.0 {
            return Err(refused("expired"));
        }
        Ok(Self {
            claims,
            publishable_key,
            payload: payload.to_owned(),
            tag,
        })
    }

    /// Whether it was signed with `key` (constant-time).
    pub fn signed_with(&self, key: &[u8]) -> bool {
        mac(key, &self.payload).verify_slice(&self.tag).is_ok()
    }

    /// What identifies this token among failed ones (its tag), without keeping the token.
    pub fn fingerprint(&self) -> String {
        format!("wt:{}", URL_SAFE_NO_PAD.encode(&self.tag))
    }
}

/// The token's lifetime as asked (`expiresInSeconds`), within its bounds.
pub fn lifetime(asked: Option<i64>) -> ApiResult<i64> {
    match asked {
        None => Ok(DEFAULT_LIFETIME_SECS),
        Some(secs @ MIN_LIFETIME_SECS..=MAX_LIFETIME_SECS) => Ok(secs),
        Some(other) => Err(ApiError::invalid_request(format!(
            "expiresInSeconds must be from {MIN_LIFETIME_SECS} to {MAX_LIFETIME_SECS}, got {other}"
        ))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn claims(exp: i64) -> WidgetClaims {
        WidgetClaims {
            pk: format!("pk_test_{}", "ab".repeat(16)),
            sub: "user_1".into(),
            iat: 1_000,
            exp,
            tiers: None,
        }
    }

    #[test]
    fn a_token_carries_the_tiers_it_offers_and_fits_the_most_a_project_has() {
        let key = signing_key("platform", "hash_a");
        let none = UnverifiedToken::parse(&mint(&claims(2_000), &key), Timestamp(1_500)).unwrap();
        assert!(none.claims.offers("pro") && none.claims.offers("anything"));
        let widest = WidgetClaims {
            pk: format!("pk_live_{}", "ab".repeat(16)),
            sub: "\"".repeat(128),
            tiers: Some(
                (0..crate::tiers::input::MAX_TIERS)
                    .map(|i| format!("{i:0>width$}", width = crate::tiers::TIER_NAME_MAX))
                    .collect(),
            ),
            ..claims(2_000)
        };
        let token = mint(&widest, &key);
        assert!(token.len() <= MAX_TOKEN_LEN, "{} bytes", token.len());
        let parsed = UnverifiedToken::parse(&token, Timestamp(1_500)).unwrap();
        assert!(parsed.signed_with(&key));
        assert_eq!(parsed.claims, widest);
        let chosen = WidgetClaims {
            tiers: Some(vec!["pro".into()]),
            ..claims(2_000)
        };
        assert!(chosen.offers("pro") && !chosen.offers("scale"));
        assert!(!WidgetClaims { tiers: Some(vec![]), ..claims(2_000) }.offers("pro"));
    }

    #[test]
    fn a_token_is_verified_by_the_key_that_minted_it_only() {
        let key = signing_key("platform", "hash_a");
        let token = mint(&claims(2_000), &key);
        let parsed = UnverifiedToken::parse(&token, Timestamp(1_500)).unwrap();
        assert_eq!(parsed.claims.sub, "user_1");
        assert!(parsed.signed_with(&key));
        assert!(!parsed.signed_with(&signing_key("platform", "hash_b")));
        // Knowing a key's hash is not enough: the platform's secret keys the signature.
        assert!(!parsed.signed_with(&signing_key("guess", "hash_a")));
        assert!(!parsed.signed_with(b"hash_a"));
    }

    #[test]
    fn tampered_expired_and_malformed_tokens_are_refused() {
        let key = signing_key("platform", "hash_a");
        let token = mint(&claims(2_000), &key);
        assert!(
            UnverifiedToken::parse(&token, Timestamp(2_000))
                .unwrap_err()
                .message()
                .contains("expired")
        );
        // Another user's claims under the same tag.
        let other = mint(
            &WidgetClaims {
                sub: "user_2".into(),
                ..claims(2_000)
            },
            &signing_key("platform", "hash_x"),
        );
        let (payload, _) = other.split_once('.').unwrap();
        let (_, tag) = token.split_once('.').unwrap();
        let forged = UnverifiedToken::parse(&format!("{payload}.{tag}"), Timestamp(1_500)).unwrap();
        assert!(!forged.signed_with(&key));
        for bad in ["", "wt_", "wt_abc", "sk_test_x.y", "wt_!!!.???", &"w".repeat(2000)] {
            let e = UnverifiedToken::parse(bad, Timestamp(1_500)).unwrap_err();
            assert_eq!(e.status().as_u16(), 401, "{bad}");
        }
    }

    #[test]
    fn lifetimes_are_bounded() {
        assert_eq!(lifetime(None).unwrap(), 600);
        assert_eq!(lifetime(Some(3600)).unwrap(), 3600);
        assert!(lifetime(Some(59)).is_err());
        assert!(lifetime(Some(86_400)).is_err());
    }
}
