//! API keys: the publishable key that *is* a project, and the secret key that proves it.
//!
//! Keys are parsed at the edge ("parse, don't validate"): code past the extractor only ever sees
//! a well-formed `PublishableKey` or `SecretKey` whose mode is known. A secret key never appears
//! in `Debug` output or logs, and is stored only as its SHA-256 (`SecretKeyHash`).

use std::fmt;

use rand::{TryRng, rngs::SysRng};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::mode::Mode;

const PUBLISHABLE_HEX_LEN: usize = 32;
const SECRET_HEX_LEN: usize = 64;

/// Why a string is not a key. Messages are safe to return to the caller: they never echo the key.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyError {
    WrongPrefix,
    UnknownMode,
    WrongLength,
    NotHex,
}

impl fmt::Display for KeyError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::WrongPrefix => "key has the wrong prefix",
            Self::UnknownMode => "key mode must be `test` or `live`",
            Self::WrongLength => "key has the wrong length",
            Self::NotHex => "key body must be lowercase hex",
        })
    }
}

impl std::error::Error for KeyError {}

/// Splits `{prefix}_{mode}_{hex}` and checks every part.
fn parse_parts(raw: &str, prefix: &str, hex_len: usize) -> Result<Mode, KeyError> {
    let rest = raw
        .strip_prefix(prefix)
        .and_then(|r| r.strip_prefix('_'))
        .ok_or(KeyError::WrongPrefix)?;
    let (mode, body) = rest.split_once('_').ok_or(KeyError::UnknownMode)?;
    let mode = Mode::parse(mode).ok_or(KeyError::UnknownMode)?;
    if body.len() != hex_len {
        return Err(KeyError::WrongLength);
    }
    if !body.bytes().all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b)) {
        return Err(KeyError::NotHex);
    }
    Ok(mode)
}

pub fn random_hex(bytes: usize) -> String {
    let mut buf = vec![0u8; bytes];
    // The OS / workerd entropy source failing is not recoverable: no key may be made without it.
    SysRng
        .try_fill_bytes(&mut buf)
        .unwrap_or_else(|err| panic!("CSPRNG unavailable: {err}"));
    hex::encode(buf)
}

/// `pk_{test|live}_{32 hex}`: public, identifies a project in one mode.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct PublishableKey(String);

impl PublishableKey {
    pub fn parse(raw: &str) -> Result<Self, KeyError> {
        parse_parts(raw, "pk", PUBLISHABLE_HEX_LEN)?;
        Ok(Self(raw.to_owned()))
    }

    pub fn mode(&self) -> Mode {
        // Parsed on construction, so the mode segment is always one of the two.
        if self.0.starts_with("pk_live_") {
            Mode::Live
        } else {
            Mode::Test
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for PublishableKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl TryFrom<String> for PublishableKey {
    type Error = KeyError;
    fn try_from(raw: String) -> Result<Self, KeyError> {
        Self::parse(&raw)
    }
}

impl From<PublishableKey> for String {
    fn from(key: PublishableKey) -> Self {
        key.0
    }
}

/// `sk_{test|live}_{64 hex}`: the bearer credential of a project. Deliberately not `Serialize`,
/// so it cannot end up in a cached or logged structure by accident; `expose()` is the one way out.
#[derive(Clone, PartialEq, Eq)]
pub struct SecretKey(String);

impl SecretKey {
    pub fn parse(raw: &str) -> Result<Self, KeyError> {
        parse_parts(raw, "sk", SECRET_HEX_LEN)?;
        Ok(Self(raw.to_owned()))
    }

    pub fn mode(&self) -> Mode {
        if self.0.starts_with("sk_live_") {
            Mode::Live
        } else {
            Mode::Test
        }
    }

    /// A new secret for an existing project (rotation keeps the publishable key).
    pub fn generate(mode: Mode) -> Self {
        Self(format!("sk_{mode}_{}", random_hex(SECRET_HEX_LEN / 2)))
    }

    pub fn hash(&self) -> SecretKeyHash {
        SecretKeyHash(hex::encode(Sha256::digest(self.0.as_bytes())))
    }

    /// The plaintext, for the single response that hands a new key to its developer.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for SecretKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "SecretKey(sk_{}_<redacted>)", self.mode())
    }
}

/// SHA-256 hex of a secret key: what D1 stores and what the KV auth cache is keyed by.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct SecretKeyHash(String);

impl SecretKeyHash {
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// A hash read back from D1 (where only hashes we computed are stored).
    pub fn from_stored(hex: String) -> Self {
        Self(hex)
    }
}

impl fmt::Debug for SecretKeyHash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Short enough not to be a usable lookup handle, long enough to correlate in a log.
        write!(f, "SecretKeyHash({}…)", &self.0[..8])
    }
}

/// A freshly generated key set for one project in one mode.
#[derive(Debug)]
pub struct KeyPair {
    pub publishable: PublishableKey,
    pub secret: SecretKey,
}

impl KeyPair {
    pub fn generate(mode: Mode) -> Self {
        Self {
            publishable: PublishableKey(format!("pk_{mode}_{}", random_hex(PUBLISHABLE_HEX_LEN / 2))),
            secret: SecretKey::generate(mode),
        }
    }
}

/// One random byte (retry jitter).
pub fn random_byte() -> u8 {
    let mut byte = [0u8; 1];
    SysRng.try_fill_bytes(&mut byte).map(|()| byte[0]).unwrap_or(0)
}

/// Random identifier with a type prefix (`plt_`, `prj_`, `req_`): 128 bits, hex.
pub fn random_id(prefix: &str) -> String {
    format!("{prefix}_{}", random_hex(16))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generated_keys_parse_back_with_their_mode() {
        for mode in [Mode::Test, Mode::Live] {
            let pair = KeyPair::generate(mode);
            assert_eq!(PublishableKey::parse(pair.publishable.as_str()).unwrap().mode(), mode);
            assert_eq!(SecretKey::parse(pair.secret.expose()).unwrap().mode(), mode);
            assert_eq!(pair.publishable.as_str().len(), 3 + 5 + PUBLISHABLE_HEX_LEN);
            assert_eq!(pair.secret.expose().len(), 3 + 5 + SECRET_HEX_LEN);
        }
    }

    #[test]
    fn generated_keys_differ() {
        let a = KeyPair::generate(Mode::Test);
        let b = KeyPair::generate(Mode::Test);
        assert_ne!(a.secret.expose(), b.secret.expose());
        assert_ne!(a.publishable, b.publishable);
    }

    #[test]
    fn parse_rejects_malformed_keys() {
        let body64 = "a".repeat(64);
        let cases = [
            (format!("pk_test_{body64}"), KeyError::WrongPrefix),
            (format!("sk-test_{body64}"), KeyError::WrongPrefix),
            (format!("sk_prod_{body64}"), KeyError::UnknownMode),
            ("sk_test".to_owned(), KeyError::UnknownMode),
            (format!("sk_test_{}", "a".repeat(63)), KeyError::WrongLength),
            (format!("sk_test_{}", "a".repeat(65)), KeyError::WrongLength),
            (format!("sk_test_{}", "A".repeat(64)), KeyError::NotHex),
            (format!("sk_test_{}", "g".repeat(64)), KeyError::NotHex),
            (String::new(), KeyError::WrongPrefix),
        ];
        for (raw, expected) in cases {
            assert_eq!(SecretKey::parse(&raw), Err(expected), "{raw}");
        }
        assert_eq!(
            PublishableKey::parse(&format!("pk_live_{}", "0".repeat(31))),
            Err(KeyError::WrongLength)
        );
    }

    #[test]
    fn hash_is_sha256_hex_of_the_whole_key() {
        let key = SecretKey::parse(&format!("sk_test_{}", "0".repeat(64))).unwrap();
        // Independent reference: `printf 'sk_test_000…0' | sha256sum`.
        assert_eq!(
            key.hash().as_str(),
            "81b13ab875f93374c8e9a3215ca524940c164019d7abf7a95a81e1b2f64d98dd"
        );
    }

    #[test]
    fn debug_never_prints_the_secret() {
        let pair = KeyPair::generate(Mode::Live);
        let secret_body = &pair.secret.expose()[8..];
        let hash = pair.secret.hash();
        for shown in [format!("{:?}", pair.secret), format!("{pair:?}"), format!("{hash:?}")] {
            assert!(!shown.contains(secret_body), "{shown}");
            assert!(!shown.contains(hash.as_str()), "{shown}");
        }
    }
}
