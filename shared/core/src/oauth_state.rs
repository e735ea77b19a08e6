//! Stripe Connect OAuth `state`: `{nonce}.{expires}.{hmac}`. The HMAC (server secret) lets the
//! callback refuse forged states before touching the database; the nonce row binds the state
//! to the developer's platform and is consumed exactly once (replays are refused).

use hmac::{Hmac, Mac};
use sha2::Sha256;

use crate::{keys::random_id, period::Timestamp};

pub const STATE_TTL_SECS: i64 = 600;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IssuedState {
    pub nonce: String,
    pub expires: Timestamp,
    pub state: String,
}

fn mac(secret: &str, nonce: &str, expires: i64) -> Hmac<Sha256> {
    let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(secret.as_bytes()).unwrap_or_else(|_| unreachable!());
    mac.update(format!("{nonce}.{expires}").as_bytes());
    mac
}

pub fn issue_state(secret: &str, now: Timestamp) -> IssuedState {
    let nonce = random_id("ost");
    let expires = Timestamp(now.0 + STATE_TTL_SECS);
    let signature = hex::encode(mac(secret, &nonce, expires.0).finalize().into_bytes());
    IssuedState {
        state: format!("{nonce}.{}.{signature}", expires.0),
        nonce,
        expires,
    }
}

/// The nonce of a genuine, unexpired state; `None` for anything else.
pub fn verify_state(secret: &str, state: &str, now: Timestamp) -> Option<String> {
    let mut parts = state.splitn(3, '.');
    let (nonce, expires, signature) = (parts.next()?, parts.next()?, parts.next()?);
    let expires: i64 = expires.parse().ok()?;
    let signature = hex::decode(signature).ok()?;
    mac(secret, nonce, expires).verify_slice(&signature).ok()?;
    (now.0 < expires).then(|| nonce.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    const NOW: Timestamp = Timestamp(1_795_306_426);

    #[test]
    fn issued_states_verify_until_they_expire() {
        let issued = issue_state("secret", NOW);
        assert_eq!(
            verify_state("secret", &issued.state, NOW).as_deref(),
            Some(issued.nonce.as_str())
        );
        assert_eq!(
            verify_state("secret", &issued.state, Timestamp(NOW.0 + STATE_TTL_SECS)),
            None
        );
    }

    #[test]
    fn forged_or_altered_states_are_refused() {
        let issued = issue_state("secret", NOW);
        assert_eq!(verify_state("other-secret", &issued.state, NOW), None);
        let later = issued
            .state
            .replace(&issued.expires.0.to_string(), &(issued.expires.0 + 9999).to_string());
        assert_eq!(
            verify_state("secret", &later, NOW),
            None,
            "extending the expiry breaks the signature"
        );
        let other_nonce = issued.state.replacen("ost_", "ost_0", 1);
        assert_eq!(verify_state("secret", &other_nonce, NOW), None);
        for garbage in ["", "a.b", "a.b.c", "ost_x.123.zz"] {
            assert_eq!(verify_state("secret", garbage, NOW), None, "{garbage}");
        }
    }
}
