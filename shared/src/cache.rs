//! KV as a read-through cache in front of D1 (never a counter, never the source of truth).
//! A KV failure degrades to a D1 read; it never fails the request, and a slow KV never makes it
//! slow: a read or a refill that takes too long is abandoned (a miss, or a skipped refill).

use std::time::Duration;

use serde::{Serialize, de::DeserializeOwned};
use worker::{Delay, Env, kv::KvStore};

use crate::{deadline::within, keys::SecretKeyHash, log};

/// api-multi's cache namespace (the spec's TOKENS_KV).
pub const TOKENS_KV: &str = "TOKENS_KV";
/// How long a cached project may serve before it is re-read from D1, even if nobody evicts it.
/// Short on purpose: it bounds the window in which a request that read D1 just before an edit or
/// rotation can put the old state back after the eviction (and matches KV's own propagation).
pub const CACHE_TTL_SECS: u64 = 60;

/// Longer than a KV read takes when KV is healthy, even a cold read from the central store
/// (tens of milliseconds); shorter than the D1 read it saves. Past it, D1 answers instead.
pub const KV_READ_TIMEOUT: Duration = Duration::from_millis(300);
/// A refill (`put`) on the request path waits at most this long; the next request refills it.
pub const KV_WRITE_TIMEOUT: Duration = Duration::from_millis(300);

/// `secretkey:{sha256}:project` → `ProjectConfig` JSON (publishable key, platform, type, tiers).
///
/// The spec kept two entries, `secretkey:{hash}:publishableKey` and a tier config keyed by
/// platform and mode. One entry per secret key makes authentication a single KV read, and a
/// platform+mode key cannot tell two projects of one developer apart. A project has exactly one
/// active secret key per mode, so edits and rotations evict exactly one entry.
pub fn secret_key_entry(hash: &SecretKeyHash) -> String {
    format!("secretkey:{}:project", hash.as_str())
}

pub struct Cache(Option<KvStore>);

impl Cache {
    pub fn from_env(env: &Env, binding: &str) -> Self {
        match env.kv(binding) {
            Ok(store) => Self(Some(store)),
            Err(e) => {
                log::error(&format!(
                    "KV binding `{binding}` unavailable, reading through to D1: {e}"
                ));
                Self(None)
            }
        }
    }

    pub async fn get_text(&self, entry: &str) -> Option<String> {
        let store = self.0.as_ref()?;
        match within(store.get(entry).text(), Delay::from(KV_READ_TIMEOUT)).await {
            Some(Ok(value)) => value,
            Some(Err(e)) => {
                log::error(&format!("KV get {entry}: {e}"));
                None
            }
            None => {
                log::error(&format!("KV get {entry}: no answer in {KV_READ_TIMEOUT:?}, reading D1"));
                None
            }
        }
    }

    pub async fn get_json<T: DeserializeOwned>(&self, entry: &str) -> Option<T> {
        let text = self.get_text(entry).await?;
        // An entry written by an older version that no longer parses is just a miss.
        serde_json::from_str(&text).ok()
    }

    /// Stores `value`; with a TTL it expires, without one it stays until overwritten (the
    /// spec's lookup mirrors).
    pub async fn put(&self, entry: &str, value: &str, ttl_secs: Option<u64>) {
        let Some(store) = self.0.as_ref() else { return };
        let put = async {
            match ttl_secs {
                Some(ttl) => store.put(entry, value)?.expiration_ttl(ttl).execute().await,
                None => store.put(entry, value)?.execute().await,
            }
        };
        match within(put, Delay::from(KV_WRITE_TIMEOUT)).await {
            Some(Ok(())) => {}
            Some(Err(e)) => log::error(&format!("KV put {entry}: {e}")),
            None => log::error(&format!("KV put {entry}: no answer in {KV_WRITE_TIMEOUT:?}, skipped")),
        }
    }

    pub async fn put_json<T: Serialize>(&self, entry: &str, value: &T, ttl_secs: Option<u64>) {
        match serde_json::to_string(value) {
            Ok(text) => self.put(entry, &text, ttl_secs).await,
            Err(e) => log::error(&format!("KV encode {entry}: {e}")),
        }
    }

    pub async fn delete(&self, entry: &str) {
        let Some(store) = self.0.as_ref() else { return };
        if let Err(e) = store.delete(entry).await {
            log::error(&format!("KV delete {entry}: {e}"));
        }
    }
}
