//! The Clerk instance's signing keys: cached in this isolate's memory and in KV, refetched
//! when a token names a key we do not have (key rotation), but at most once per interval so
//! forged `kid`s cannot make us hammer Clerk.

use std::{cell::RefCell, time::Duration};

use worker::{Env, Method};

use crate::{
    cache::Cache,
    clerk::JwkSet,
    error::{ApiError, ApiResult},
    outbound,
    period::Timestamp,
};

const REFETCH_INTERVAL_SECS: i64 = 30;
const FETCH_TIMEOUT: Duration = Duration::from_secs(5);

struct Cached {
    url: String,
    keys: JwkSet,
    fetched_at: Timestamp,
}

thread_local! {
    // workerd runs an isolate on one thread; this lives as long as the isolate.
    static MEMORY: RefCell<Option<Cached>> = const { RefCell::new(None) };
}

fn kv_entry(url: &str) -> String {
    format!("clerk:jwks:{url}")
}

fn remember(url: &str, keys: &JwkSet, fetched_at: Timestamp) {
    MEMORY.with(|m| {
        *m.borrow_mut() = Some(Cached {
            url: url.to_owned(),
            keys: keys.clone(),
            fetched_at,
        })
    });
}

fn from_memory(url: &str) -> Option<(JwkSet, Timestamp)> {
    MEMORY.with(|m| {
        m.borrow()
            .as_ref()
            .filter(|c| c.url == url)
            .map(|c| (c.keys.clone(), c.fetched_at))
    })
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

/// The key set to verify `kid` with: memory, then KV, then Clerk.
pub async fn keys_for(env: &Env, kv_binding: &str, url: &str, kid: &str, now: Timestamp) -> ApiResult<JwkSet> {
    if let Some((keys, fetched_at)) = from_memory(url) {
        if keys.find(kid).is_some() || now.0 - fetched_at.0 < REFETCH_INTERVAL_SECS {
            return Ok(keys);
        }
    } else {
        let kv = Cache::from_env(env, kv_binding);
        if let Some(keys) = kv.get_json::<JwkSet>(&kv_entry(url)).await
            && keys.find(kid).is_some()
        {
            remember(url, &keys, now);
            return Ok(keys);
        }
    }
    let keys = fetch(url).await?;
    remember(url, &keys, now);
    Cache::from_env(env, kv_binding).put_json(&kv_entry(url), &keys).await;
    Ok(keys)
}
