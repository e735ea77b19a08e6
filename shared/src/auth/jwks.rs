//! The Clerk instance's signing keys: cached in this isolate's memory and in KV (with the time
//! they were fetched), refetched when they are an hour old or when a token names a key we do not
//! have (Clerk rotated its keys) — but at most once per interval, so forged `kid`s cannot make us
//! hammer Clerk.

use std::{cell::RefCell, time::Duration};

use serde::{Deserialize, Serialize};
use worker::{Env, Method};

use crate::{
    cache::Cache,
    clerk::JwkSet,
    error::{ApiError, ApiResult},
    outbound,
    period::Timestamp,
};

const REFETCH_INTERVAL_SECS: i64 = 30;
/// A key Clerk has removed stops being trusted within this long.
const MAX_AGE_SECS: i64 = 3600;
const FETCH_TIMEOUT: Duration = Duration::from_secs(5);

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Fetched {
    url: String,
    fetched_at: i64,
    keys: JwkSet,
}

#[derive(Debug, PartialEq, Eq)]
enum Decision {
    UseCached,
    Refetch,
}

/// Whether a key set fetched earlier can answer for `kid` now.
fn decide(cached: Option<&Fetched>, kid: &str, now: Timestamp) -> Decision {
    let Some(cached) = cached else { return Decision::Refetch };
    let age = now.0 - cached.fetched_at;
    if age >= MAX_AGE_SECS {
        Decision::Refetch
    } else if cached.keys.find(kid).is_some() || age < REFETCH_INTERVAL_SECS {
        // A known key, or an unknown one we looked for moments ago (it stays unknown).
        Decision::UseCached
    } else {
        Decision::Refetch
    }
}

thread_local! {
    // workerd runs an isolate on one thread; this lives as long as the isolate.
    static MEMORY: RefCell<Option<Fetched>> = const { RefCell::new(None) };
}

fn kv_entry(url: &str) -> String {
    format!("clerk:jwks:{url}")
}

async fn fetch(url: &str) -> ApiResult<JwkSet> {
    let response = outbound::send(Method::Get, url, &[("Accept", "application/json")], None, FETCH_TIMEOUT)
        .await
        .map_err(|e| ApiError::internal(format!("fetching JWKS {url}: {e}")))?;
    if response.status != 200 {
        return Err(ApiError::internal(format!(
            "fetching JWKS {url}: HTTP {}",
            response.status
        )));
    }
    serde_json::from_str(&response.body).map_err(|e| ApiError::internal(format!("JWKS {url}: {e}")))
}

/// A key set from KV, if it may answer: the same rules as memory, so a cold isolate meeting a
/// forged `kid` uses a set fetched moments ago instead of fetching (and writing KV) again.
fn usable(in_kv: Option<Fetched>, url: &str, kid: &str, now: Timestamp) -> Option<Fetched> {
    in_kv.filter(|f| f.url == url && decide(Some(f), kid, now) == Decision::UseCached)
}

/// The key set to verify `kid` with: memory, then KV, then Clerk.
pub async fn keys_for(env: &Env, kv_binding: &str, url: &str, kid: &str, now: Timestamp) -> ApiResult<JwkSet> {
    let in_memory = MEMORY.with(|m| m.borrow().clone().filter(|f| f.url == url));
    if decide(in_memory.as_ref(), kid, now) == Decision::UseCached {
        return Ok(in_memory.map(|f| f.keys).unwrap_or_default());
    }
    let kv = Cache::from_env(env, kv_binding);
    let in_kv = kv.get_json::<Fetched>(&kv_entry(url)).await;
    let fetched = match usable(in_kv, url, kid, now) {
        Some(f) => f,
        None => {
            let fetched = Fetched {
                url: url.to_owned(),
                fetched_at: now.0,
                keys: fetch(url).await?,
            };
            kv.put_json(&kv_entry(url), &fetched, Some(MAX_AGE_SECS as u64)).await;
            fetched
        }
    };
    MEMORY.with(|m| *m.borrow_mut() = Some(fetched.clone()));
    Ok(fetched.keys)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::clerk::Jwk;

    fn fetched(at: i64, kid: &str) -> Fetched {
        let key = Jwk {
            kid: kid.into(),
            kty: "RSA".into(),
            n: "n".into(),
            e: "AQAB".into(),
            alg: None,
        };
        Fetched {
            url: "u".into(),
            fetched_at: at,
            keys: JwkSet { keys: vec![key] },
        }
    }

    #[test]
    fn known_keys_are_reused_until_they_age_out() {
        assert_eq!(
            decide(Some(&fetched(1000, "a")), "a", Timestamp(1000 + MAX_AGE_SECS - 1)),
            Decision::UseCached
        );
        assert_eq!(
            decide(Some(&fetched(1000, "a")), "a", Timestamp(1000 + MAX_AGE_SECS)),
            Decision::Refetch
        );
    }

    #[test]
    fn an_unknown_kid_refetches_but_not_more_than_once_per_interval() {
        assert_eq!(
            decide(
                Some(&fetched(1000, "a")),
                "rotated",
                Timestamp(1000 + REFETCH_INTERVAL_SECS)
            ),
            Decision::Refetch
        );
        assert_eq!(
            decide(Some(&fetched(1000, "a")), "forged", Timestamp(1005)),
            Decision::UseCached
        );
        assert_eq!(decide(None, "a", Timestamp(0)), Decision::Refetch);
    }

    #[test]
    fn the_kv_copy_is_throttled_like_memory() {
        let recent = fetched(1000, "a");
        assert!(
            usable(Some(recent.clone()), "u", "forged", Timestamp(1005)).is_some(),
            "a forged kid seconds after a fetch is answered from KV, not by fetching again"
        );
        assert!(
            usable(
                Some(recent.clone()),
                "u",
                "rotated",
                Timestamp(1000 + REFETCH_INTERVAL_SECS)
            )
            .is_none()
        );
        assert!(usable(Some(recent), "other-url", "a", Timestamp(1005)).is_none());
        assert!(usable(None, "u", "a", Timestamp(1005)).is_none());
    }
}
