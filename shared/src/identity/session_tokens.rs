//! Clerk session tokens: RS256 JWTs verified against the issuing instance's JWKS, with the
//! time, issuer and authorized-party checks done here against a clock passed in. (The JWKS
//! fetching and caching that needs a worker lives in `identity::jwks`.)

use std::fmt;

use jsonwebtoken::{Algorithm, DecodingKey, Validation, decode, decode_header};
use serde::{Deserialize, Serialize};

use crate::edge::http::CorsPolicy;

use dream_core::period::Timestamp;

/// Clock skew tolerated on `exp` and `nbf`.
pub const LEEWAY_SECS: i64 = 5;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Jwk {
    pub kid: String,
    pub kty: String,
    pub n: String,
    pub e: String,
    #[serde(default)]
    pub alg: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct JwkSet {
    pub keys: Vec<Jwk>,
}

impl JwkSet {
    pub fn find(&self, kid: &str) -> Option<&Jwk> {
        self.keys.iter().find(|k| k.kid == kid && k.kty == "RSA")
    }
}

/// What a verified session token says.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SessionClaims {
    pub sub: String,
    #[serde(default)]
    pub sid: Option<String>,
    pub iss: String,
    #[serde(default)]
    pub azp: Option<String>,
    pub exp: i64,
    #[serde(default)]
    pub nbf: Option<i64>,
    #[serde(default)]
    pub iat: Option<i64>,
    #[serde(default, rename = "publicMetadata")]
    pub public_metadata: serde_json::Value,
    /// Added by the `dream-api` JWT template (README): who is signed in, and whom an
    /// invitation may be accepted by.
    #[serde(default)]
    pub email: Option<String>,
    /// The session's active organization (Clerk's session token v2 claim).
    #[serde(default, rename = "o")]
    pub organization: Option<OrganizationClaim>,
    /// The same in Clerk's v1 session tokens.
    #[serde(default)]
    pub org_id: Option<String>,
}

/// Clerk's `o` claim: the active organization's id, the member's role (without `org:`) and slug.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OrganizationClaim {
    pub id: String,
    #[serde(default)]
    pub rol: Option<String>,
    #[serde(default)]
    pub slg: Option<String>,
}

impl SessionClaims {
    /// The organization the session has active, if any (v2 claim first, then v1).
    pub fn active_organization(&self) -> Option<&str> {
        self.organization
            .as_ref()
            .map(|o| o.id.as_str())
            .or(self.org_id.as_deref())
            .filter(|id| !id.is_empty())
    }
}

/// Who may issue tokens and for which origins.
pub struct SessionRules<'a> {
    pub issuer: &'a str,
    pub authorized_parties: &'a CorsPolicy,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TokenError {
    Malformed,
    UnsupportedAlgorithm,
    UnknownKey,
    BadSignature,
    Expired,
    NotYetValid,
    WrongIssuer,
    WrongParty,
}

impl fmt::Display for TokenError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Malformed => "session token is malformed",
            Self::UnsupportedAlgorithm => "session token must be signed with RS256",
            Self::UnknownKey => "session token is signed with an unknown key",
            Self::BadSignature => "session token signature is invalid",
            Self::Expired => "session token has expired",
            Self::NotYetValid => "session token is not valid yet",
            Self::WrongIssuer => "session token was issued by another Clerk instance",
            Self::WrongParty => "session token was issued for another origin",
        })
    }
}

impl std::error::Error for TokenError {}

/// The key id from the header, refusing anything but RS256 before any key is looked at
/// (`alg: none` and HS256-with-the-public-key never reach signature checking).
pub fn key_id(token: &str) -> Result<String, TokenError> {
    let header = decode_header(token).map_err(|_| raw_algorithm_error(token))?;
    if header.alg != Algorithm::RS256 {
        return Err(TokenError::UnsupportedAlgorithm);
    }
    header.kid.ok_or(TokenError::UnknownKey)
}

/// jsonwebtoken cannot parse headers naming algorithms it lacks (`none`); say which it was.
fn raw_algorithm_error(token: &str) -> TokenError {
    use base64::Engine;
    let header = token.split('.').next().unwrap_or_default();
    let alg = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(header)
        .ok()
        .and_then(|bytes| serde_json::from_slice::<serde_json::Value>(&bytes).ok())
        .and_then(|json| json.get("alg").and_then(|a| a.as_str()).map(str::to_owned));
    match alg {
        Some(alg) if alg != "RS256" => TokenError::UnsupportedAlgorithm,
        _ => TokenError::Malformed,
    }
}

pub fn verify(
    token: &str,
    jwks: &JwkSet,
    rules: &SessionRules<'_>,
    now: Timestamp,
) -> Result<SessionClaims, TokenError> {
    let kid = key_id(token)?;
    let jwk = jwks.find(&kid).ok_or(TokenError::UnknownKey)?;
    let key = DecodingKey::from_rsa_components(&jwk.n, &jwk.e).map_err(|_| TokenError::UnknownKey)?;
    let mut validation = Validation::new(Algorithm::RS256);
    // Time, issuer and party are checked below against the clock we are given.
    validation.validate_exp = false;
    validation.validate_nbf = false;
    validation.validate_aud = false;
    validation.required_spec_claims.clear();
    let claims = decode::<SessionClaims>(token, &key, &validation)
        .map_err(|e| match e.kind() {
            jsonwebtoken::errors::ErrorKind::InvalidSignature => TokenError::BadSignature,
            jsonwebtoken::errors::ErrorKind::InvalidAlgorithm => TokenError::UnsupportedAlgorithm,
            _ => TokenError::Malformed,
        })?
        .claims;
    if claims.exp + LEEWAY_SECS <= now.0 {
        return Err(TokenError::Expired);
    }
    if claims.nbf.is_some_and(|nbf| nbf - LEEWAY_SECS > now.0) {
        return Err(TokenError::NotYetValid);
    }
    if claims.iss.trim_end_matches('/') != rules.issuer.trim_end_matches('/') {
        return Err(TokenError::WrongIssuer);
    }
    match &claims.azp {
        Some(azp) if rules.authorized_parties.listed(azp.trim_end_matches('/')) => Ok(claims),
        _ => Err(TokenError::WrongParty),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use jsonwebtoken::{EncodingKey, Header, encode};
    use serde_json::json;

    const NOW: Timestamp = Timestamp(1_795_306_426);
    const ISSUER: &str = "https://clerk.dream-api.test";
    const KEY_PEM: &str = include_str!("../../tests/fixtures/test-signing-key.pem");
    const OTHER_PEM: &str = include_str!("../../tests/fixtures/other-signing-key.pem");

    fn jwks() -> JwkSet {
        let jwk: Jwk = serde_json::from_str(include_str!("../../tests/fixtures/test-signing-key.jwk.json")).unwrap();
        JwkSet { keys: vec![jwk] }
    }

    fn claims() -> serde_json::Value {
        json!({
            "sub": "user_2abc", "sid": "sess_1", "iss": ISSUER, "azp": "http://localhost:5173",
            "iat": NOW.0 - 10, "nbf": NOW.0 - 10, "exp": NOW.0 + 60,
            "publicMetadata": {"plan": "paid", "platformId": "plt_1"}
        })
    }

    fn sign(claims: &serde_json::Value, pem: &str, kid: &str) -> String {
        let mut header = Header::new(Algorithm::RS256);
        header.kid = Some(kid.to_owned());
        encode(&header, claims, &EncodingKey::from_rsa_pem(pem.as_bytes()).unwrap()).unwrap()
    }

    fn check(token: &str) -> Result<SessionClaims, TokenError> {
        let parties = CorsPolicy::parse("http://localhost:5173");
        verify(
            token,
            &jwks(),
            &SessionRules {
                issuer: ISSUER,
                authorized_parties: &parties,
            },
            NOW,
        )
    }

    fn with(field: &str, value: serde_json::Value) -> serde_json::Value {
        let mut c = claims();
        c[field] = value;
        c
    }

    #[test]
    fn accepts_a_valid_token() {
        let verified = check(&sign(&claims(), KEY_PEM, "test-signing-key-kid")).unwrap();
        assert_eq!(verified.sub, "user_2abc");
        assert_eq!(verified.public_metadata["plan"], "paid");
    }

    #[test]
    fn rejects_each_kind_of_bad_token() {
        let kid = "test-signing-key-kid";
        let unsigned = {
            let enc = |v: serde_json::Value| {
                let text = v.to_string();
                base64url(text.as_bytes())
            };
            format!(
                "{}.{}.",
                enc(json!({"alg": "none", "typ": "JWT", "kid": kid})),
                enc(claims())
            )
        };
        let cases = [
            (sign(&with("exp", json!(NOW.0 - 60)), KEY_PEM, kid), TokenError::Expired),
            (
                sign(&with("nbf", json!(NOW.0 + 600)), KEY_PEM, kid),
                TokenError::NotYetValid,
            ),
            (
                sign(&with("iss", json!("https://evil.clerk.test")), KEY_PEM, kid),
                TokenError::WrongIssuer,
            ),
            (
                sign(&with("azp", json!("https://evil.example")), KEY_PEM, kid),
                TokenError::WrongParty,
            ),
            (
                sign(&with("azp", serde_json::Value::Null), KEY_PEM, kid),
                TokenError::WrongParty,
            ),
            (sign(&claims(), KEY_PEM, "rotated-away-kid"), TokenError::UnknownKey),
            (sign(&claims(), OTHER_PEM, kid), TokenError::BadSignature),
            (unsigned, TokenError::UnsupportedAlgorithm),
            ("not.a.jwt".to_owned(), TokenError::Malformed),
            (String::new(), TokenError::Malformed),
        ];
        for (token, expected) in cases {
            assert_eq!(check(&token), Err(expected.clone()), "{expected:?}");
        }
    }

    #[test]
    fn rejects_hs256_signed_with_the_public_key() {
        // Algorithm confusion: the attacker signs with HMAC using the RSA public key as secret.
        let mut header = Header::new(Algorithm::HS256);
        header.kid = Some("test-signing-key-kid".to_owned());
        let token = encode(
            &header,
            &claims(),
            &EncodingKey::from_secret(jwks().keys[0].n.as_bytes()),
        )
        .unwrap();
        assert_eq!(check(&token), Err(TokenError::UnsupportedAlgorithm));
    }

    fn base64url(bytes: &[u8]) -> String {
        use base64::Engine;
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
    }
}
