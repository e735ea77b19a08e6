//! The Clerk instance's signing keys: cached in this isolate's memory and in KV (with the time
//! they were fetched), refetched when they are an hour old or when a token names a key we do not
//! have (Clerk rotated its keys) — but at most once per interval, so forged `kid`s cannot make us
//! hammer Clerk. When a refetch fails (Clerk down or slow), the keys we have keep answering for
//! up to `STALE_GRACE_SECS` more, retried once per interval: sign-in keeps working through an
//! outage, and a key Clerk removed is still dropped within `MAX_AGE_SECS + STALE_GRACE_SECS`.

use std::{cell::RefCell, time::Duration};

use serde::{Deserialize, Serialize};
use worker::{Env, Method};

use crate::{identity::session_tokens::JwkSet, runtime::outbound, storage::project_cache::Cache};

use dream_core::{
    error::{ApiError, ApiResult},
    period::Timestamp,
};

const REFETCH_INTERVAL_SECS: i64 = 30;
/// A key Clerk has removed stops being trusted within this long (while Clerk answers).
const MAX_AGE_SECS: i64 = 3600;
/// How much longer the keys we have answer while refetching them fails.
const STALE_GRACE_SECS: i64 = 6 * 3600;
const FETCH_TIMEOUT: Duration = Duration::from_secs(5);

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Fetched {
    url: String,
    fetched_at: i64,
    /// The last failed refetch, if any since `fetched_at`: the next waits an interval.
    #[serde(default)]
    failed_at: Option<i64>,
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
    let age = now.0.saturating_sub(cached.fetched_at);
    let since_tried = now.0.saturating_sub(cached.failed_at.unwrap_or(cached.fetched_at));
    if age >= MAX_AGE_SECS + STALE_GRACE_SECS {
        Decision::Refetch
    } else if since_tried < REFETCH_INTERVAL_SECS {
        // Fetched, or failed to, moments ago: an unknown kid stays unknown until the next try.
        Decision::UseCached
    } else if age >= MAX_AGE_SECS {
        Decision::Refetch
    } else if cached.keys.find(kid).is_some() {
        Decision::UseCached
    } else {
        Decision::Refetch
    }
}

/// After a failed refetch: the keys we had, if still within the grace, marked as just tried.
fn stale_after_failure(cached: Option<Fetched>, now: Timestamp) -> Option<Fetched> {
    cached
        .filter(|f| now.0.saturating_sub(f.fetched_at) < MAX_AGE_SECS + STALE_GRACE_SECS)
        .map(|f| Fetched {
            failed_at: Some(now.0),
            ..f
        })
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
    let in_kv = kv.get_json::<Fetched>(&kv_entry(url)).await.filter(|f| f.url == url);
    let fetched = match usable(in_kv.clone(), url, kid, now) {
        Some(f) => f,
        None => match fetch(url).await {
            Ok(keys) => {
                let fetched = Fetched {
                    url: url.to_owned(),
                    fetched_at: now.0,
                    failed_at: None,
                    keys,
                };
                let ttl = (MAX_AGE_SECS + STALE_GRACE_SECS) as u64;
                kv.put_json(&kv_entry(url), &fetched, Some(ttl)).await;
                fetched
            }
            Err(e) => {
                // The newer of what memory and KV hold, if it may still answer.
                let newest = [in_memory, in_kv].into_iter().flatten().max_by_key(|f| f.fetched_at);
                let stale = stale_after_failure(newest, now).ok_or_else(|| e.clone())?;
                crate::runtime::log::error(&format!("{e}; using the keys fetched at {}", stale.fetched_at));
                stale
            }
        },
    };
    MEMORY.with(|m| *m.borrow_mut() = Some(fetched.clone()));
    Ok(fetched.keys)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::identity::session_tokens::Jwk;

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
            failed_at: None,
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
    fn after_a_failed_refetch_the_keys_answer_for_the_grace_retried_once_per_interval() {
        let now = Timestamp(1000 + MAX_AGE_SECS + 60);
        let stale = stale_after_failure(Some(fetched(1000, "a")), now).expect("within the grace");
        assert_eq!(stale.failed_at, Some(now.0));
        assert_eq!(decide(Some(&stale), "a", Timestamp(now.0 + 1)), Decision::UseCached);
        assert_eq!(
            decide(Some(&stale), "a", Timestamp(now.0 + REFETCH_INTERVAL_SECS)),
            Decision::Refetch,
            "tried again after an interval"
        );
        let end = Timestamp(1000 + MAX_AGE_SECS + STALE_GRACE_SECS);
        assert!(
            stale_after_failure(Some(fetched(1000, "a")), end).is_none(),
            "not past the grace"
        );
        assert_eq!(decide(Some(&stale), "a", end), Decision::Refetch);
        assert!(stale_after_failure(None, now).is_none());
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
