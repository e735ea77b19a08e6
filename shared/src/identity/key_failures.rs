//! Bounded work for callers with keys that do not exist, without ever refusing a key that does.
//! A well-formed random `sk_` that KV has never seen costs a D1 read before it can be refused;
//! these in-isolate memories cap that:
//! - a key found unknown is refused from memory for a minute (a misconfigured client retrying
//!   a revoked key costs nothing after its first miss);
//! - every unknown key counts against its client's network (an IPv4 address, an IPv6 /64: one
//!   host's share of addresses) and against a budget for the whole platform, each a rate limit
//!   binding. Past either, keys that KV has never seen are refused before D1 for a minute.
//!
//! A valid key is never refused here: KV remembers every key that was created, edited or used in
//! the last `project_cache::KNOWN_KEY_TTL_SECS`, and such a key always reaches D1. So a flooding
//! neighbour behind the same NAT or serverless egress locks nobody else out.
//!
//! Memory, not KV: writing a KV entry per miss would let the flood buy KV writes instead.

use std::{cell::RefCell, collections::HashMap, net::IpAddr};

use axum::http::HeaderMap;
use worker::{Env, send::SendFuture};

use dream_core::error::{ApiError, ErrorCode};

pub const AUTH_FAILURE_LIMITER: &str = "AUTH_FAILURE_LIMITER";
/// Must match `[[ratelimits]]` AUTH_FAILURE_LIMITER in wrangler/api-multi.toml.
pub const AUTH_FAILURE_LIMIT: u32 = 100;
pub const AUTH_FAILURE_PERIOD_SECS: u32 = 60;
/// Unknown keys looked up in D1 by the whole platform (per Cloudflare location: the binding
/// counts per location), whoever sends them.
pub const UNKNOWN_KEY_BUDGET_LIMITER: &str = "UNKNOWN_KEY_BUDGET_LIMITER";
pub const UNKNOWN_KEY_BUDGET: u32 = 1000;
/// The budget's one bucket; no client network is spelled like it.
const PLATFORM: &str = "platform";
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
        self.remember_until(key, now_ms, now_ms + REMEMBER_MS);
    }

    /// Remembers `key` until `until_ms`.
    pub fn remember_until(&mut self, key: &str, now_ms: u64, until_ms: u64) {
        if self.until_ms.len() >= CAPACITY {
            self.until_ms.retain(|_, until| *until > now_ms);
            if self.until_ms.len() >= CAPACITY {
                self.until_ms.clear();
            }
        }
        self.until_ms.insert(key.to_owned(), until_ms);
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
    /// Client networks, and `PLATFORM`, over their unknown-key budget.
    static BLOCKED: RefCell<Recent> = RefCell::default();
}

/// The caller's network as Cloudflare reports its address (clients cannot set this header
/// through Cloudflare): an IPv4 address, or the /64 of an IPv6 one (a host is given a whole /64,
/// so counting single IPv6 addresses would let one host rotate past any bound). One shared
/// bucket when the header is absent (local runs).
pub fn client_network(headers: &HeaderMap) -> String {
    let Some(value) = headers.get("cf-connecting-ip").and_then(|v| v.to_str().ok()) else {
        return "unknown".to_owned();
    };
    match value.trim().parse::<IpAddr>() {
        Ok(IpAddr::V4(v4)) => v4.to_string(),
        Ok(IpAddr::V6(v6)) => match v6.to_ipv4_mapped() {
            Some(v4) => v4.to_string(),
            None => {
                let s = v6.segments();
                format!("{:x}:{:x}:{:x}:{:x}::/64", s[0], s[1], s[2], s[3])
            }
        },
        Err(_) => "unparsable".to_owned(),
    }
}

fn too_many() -> ApiError {
    ApiError::new(
        ErrorCode::RateLimited,
        "Too many requests with unknown secret keys from your network; valid keys are not affected. Retry later",
    )
    .with_retry_after(u64::from(AUTH_FAILURE_PERIOD_SECS))
}

/// Refuses, before any lookup, a key just found unknown.
pub fn refuse_known_unknown(key_hash: &str, now_ms: u64) -> Result<(), ApiError> {
    if UNKNOWN_KEYS.with(|u| u.borrow().contains(key_hash, now_ms)) {
        return Err(unknown_key());
    }
    Ok(())
}

/// For a key KV has never seen: refuses it before D1 while its network, or the platform, is
/// over its unknown-key budget.
pub fn refuse_unseen_key(client: &str, now_ms: u64) -> Result<(), ApiError> {
    if BLOCKED.with(|b| {
        let blocked = b.borrow();
        blocked.contains(client, now_ms) || blocked.contains(PLATFORM, now_ms)
    }) {
        return Err(too_many());
    }
    Ok(())
}

/// After a lookup found no such key: remember it, and count it against its client's network
/// and the platform's budget. Returns the error to answer with (429 once the network is over).
pub async fn record_unknown(env: &Env, client: &str, key_hash: &str, now_ms: u64) -> ApiError {
    UNKNOWN_KEYS.with(|u| u.borrow_mut().remember(key_hash, now_ms));
    let (network_over, platform_over) = futures_util::future::join(
        over_limit(env, AUTH_FAILURE_LIMITER, client),
        over_limit(env, UNKNOWN_KEY_BUDGET_LIMITER, PLATFORM),
    )
    .await;
    if platform_over {
        BLOCKED.with(|b| b.borrow_mut().remember(PLATFORM, now_ms));
    }
    if network_over {
        BLOCKED.with(|b| b.borrow_mut().remember(client, now_ms));
        return too_many();
    }
    unknown_key()
}

async fn over_limit(env: &Env, binding: &str, key: &str) -> bool {
    match env.rate_limiter(binding) {
        Ok(limiter) => SendFuture::new(crate::runtime::timing::timed(
            "rate-limit",
            limiter.limit(key.to_owned()),
        ))
        .await
        .is_ok_and(|outcome| !outcome.success),
        Err(e) => {
            crate::runtime::log::error(&format!("rate limit binding `{binding}`: {e}"));
            false
        }
    }
}

/// What every unknown, revoked or refused secret key is told: the same words, so the answer says
/// nothing about which it was.
pub(super) fn unknown_key() -> ApiError {
    ApiError::unauthorized("Unknown or revoked secret key")
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
    fn the_constants_match_the_wrangler_bindings() {
        let config = include_str!("../../../wrangler/api-multi.toml");
        for (binding, limit) in [
            (AUTH_FAILURE_LIMITER, AUTH_FAILURE_LIMIT),
            (UNKNOWN_KEY_BUDGET_LIMITER, UNKNOWN_KEY_BUDGET),
        ] {
            let sections: Vec<&str> = config
                .split("ratelimits]]")
                .filter(|s| s.contains(&format!("name = \"{binding}\"")))
                .collect();
            assert_eq!(sections.len(), 2, "{binding} in both environments");
            for section in sections {
                let simple = format!("simple = {{ limit = {limit}, period = {AUTH_FAILURE_PERIOD_SECS} }}");
                assert!(section.contains(&simple), "{binding}: {section}");
            }
        }
    }

    #[test]
    fn the_client_network_comes_from_cloudflare_only_and_ipv6_counts_by_64() {
        let network = |ip: &str| {
            let mut headers = HeaderMap::new();
            headers.insert("cf-connecting-ip", ip.parse().unwrap());
            headers.insert("x-forwarded-for", "198.51.100.1".parse().unwrap());
            client_network(&headers)
        };
        assert_eq!(client_network(&HeaderMap::new()), "unknown");
        assert_eq!(network("203.0.113.7"), "203.0.113.7");
        assert_eq!(network("2001:db8:1:2:aaaa::1"), "2001:db8:1:2::/64");
        assert_eq!(network("2001:db8:1:2:bbbb:cccc:dddd:eeee"), "2001:db8:1:2::/64");
        assert_ne!(network("2001:db8:1:3::1"), "2001:db8:1:2::/64");
        assert_eq!(network("::ffff:203.0.113.7"), "203.0.113.7");
        assert_eq!(network("not an address"), "unparsable");
    }
}
