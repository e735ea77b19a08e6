//! Bounded work for callers with keys that do not exist. A well-formed random `sk_` costs a KV
//! and a D1 read before it can be refused; these two in-isolate memories cap that:
//! - a key found unknown is refused from memory for a minute (a misconfigured client retrying
//!   a revoked key costs nothing after its first miss);
//! - every unknown key counts against its client address in a rate limit binding, and an
//!   address over the limit is refused before any lookup for a minute (a flood of fresh random
//!   keys, which no cache of misses can catch).
//!
//! Memory, not KV: writing a KV entry per miss would let the flood buy KV writes instead.

use std::{cell::RefCell, collections::HashMap};

use axum::http::HeaderMap;
use worker::{Env, send::SendFuture};

use crate::error::{ApiError, ErrorCode};

pub const AUTH_FAILURE_LIMITER: &str = "AUTH_FAILURE_LIMITER";
/// Must match `[[ratelimits]]` AUTH_FAILURE_LIMITER in wrangler/api-multi.toml.
pub const AUTH_FAILURE_LIMIT: u32 = 100;
pub const AUTH_FAILURE_PERIOD_SECS: u32 = 60;
const REMEMBER_MS: u64 = 60_000;
const CAPACITY: usize = 4_096;

/// Keys that expire, at most `CAPACITY` of them (past that, expired ones go first, then all:
/// forgetting early only costs the lookups the memory would have saved).
#[derive(Debug, Default)]
pub struct Recent {
    until_ms: HashMap<String, u64>,
}

impl Recent {
    pub fn contains(&self, key: &str, now_ms: u64) -> bool {
        self.until_ms.get(key).is_some_and(|&until| until > now_ms)
    }

    pub fn remember(&mut self, key: &str, now_ms: u64) {
        if self.until_ms.len() >= CAPACITY {
            self.until_ms.retain(|_, until| *until > now_ms);
            if self.until_ms.len() >= CAPACITY {
                self.until_ms.clear();
            }
        }
        self.until_ms.insert(key.to_owned(), now_ms + REMEMBER_MS);
    }

    pub fn len(&self) -> usize {
        self.until_ms.len()
    }

    pub fn is_empty(&self) -> bool {
        self.until_ms.is_empty()
    }
}

thread_local! {
    // workerd runs an isolate on one thread: these live as long as the isolate.
    static UNKNOWN_KEYS: RefCell<Recent> = RefCell::default();
    static BLOCKED_CLIENTS: RefCell<Recent> = RefCell::default();
}

/// The caller's address as Cloudflare reports it (clients cannot set this header through
/// Cloudflare); one shared bucket when it is absent (local runs).
pub fn client_address(headers: &HeaderMap) -> String {
    headers
        .get("cf-connecting-ip")
        .and_then(|v| v.to_str().ok())
        .filter(|v| v.len() <= 64)
        .unwrap_or("unknown")
        .to_owned()
}

fn too_many() -> ApiError {
    ApiError::new(
        ErrorCode::RateLimited,
        "Too many requests with unknown secret keys from your address; retry later",
    )
    .with_retry_after(u64::from(AUTH_FAILURE_PERIOD_SECS))
}

/// Refuses, before any lookup, an address that sent too many unknown keys or a key just found
/// unknown.
pub fn refuse_early(client: &str, key_hash: &str, now_ms: u64) -> Result<(), ApiError> {
    if BLOCKED_CLIENTS.with(|b| b.borrow().contains(client, now_ms)) {
        return Err(too_many());
    }
    if UNKNOWN_KEYS.with(|u| u.borrow().contains(key_hash, now_ms)) {
        return Err(super::secret_key::unknown_key());
    }
    Ok(())
}

/// After a lookup found no such key: remember it, and count it against the address. Returns
/// the error to answer with (429 once the address is over its limit).
pub async fn record_unknown(env: &Env, client: &str, key_hash: &str, now_ms: u64) -> ApiError {
    UNKNOWN_KEYS.with(|u| u.borrow_mut().remember(key_hash, now_ms));
    let over_limit = match env.rate_limiter(AUTH_FAILURE_LIMITER) {
        Ok(limiter) => SendFuture::new(limiter.limit(client.to_owned()))
            .await
            .is_ok_and(|outcome| !outcome.success),
        Err(_) => false,
    };
    if over_limit {
        BLOCKED_CLIENTS.with(|b| b.borrow_mut().remember(client, now_ms));
        return too_many();
    }
    super::secret_key::unknown_key()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entries_expire_and_memory_stays_bounded() {
        let mut recent = Recent::default();
        recent.remember("a", 1_000);
        assert!(recent.contains("a", 1_000 + REMEMBER_MS - 1));
        assert!(!recent.contains("a", 1_000 + REMEMBER_MS));
        assert!(!recent.contains("b", 1_000));
        for i in 0..(CAPACITY * 3) {
            recent.remember(&format!("k{i}"), 5_000);
        }
        assert!(recent.len() <= CAPACITY);
        assert!(
            recent.contains(&format!("k{}", CAPACITY * 3 - 1), 5_000),
            "the newest is kept"
        );
    }

    #[test]
    fn the_constants_match_the_wrangler_binding() {
        let config = include_str!("../../../wrangler/api-multi.toml");
        let section = config
            .split("[[ratelimits]]")
            .find(|s| s.contains(&format!("name = \"{AUTH_FAILURE_LIMITER}\"")))
            .expect("api-multi.toml has the AUTH_FAILURE_LIMITER binding");
        assert!(section.contains(&format!("limit = {AUTH_FAILURE_LIMIT}")), "{section}");
        assert!(
            section.contains(&format!("period = {AUTH_FAILURE_PERIOD_SECS}")),
            "{section}"
        );
    }

    #[test]
    fn the_client_address_comes_from_cloudflare_only() {
        let mut headers = HeaderMap::new();
        assert_eq!(client_address(&headers), "unknown");
        headers.insert("cf-connecting-ip", "203.0.113.7".parse().unwrap());
        headers.insert("x-forwarded-for", "198.51.100.1".parse().unwrap());
        assert_eq!(client_address(&headers), "203.0.113.7");
    }
}
