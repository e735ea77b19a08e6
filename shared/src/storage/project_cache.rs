//! KV as a read-through cache in front of D1 (never a counter, never the source of truth).
//! A KV failure degrades to a D1 read; it never fails the request, and a slow KV never makes it
//! slow: a read or a refill that takes too long is abandoned (a miss, or a skipped refill).
//! In front of KV, the metered routes keep what they read in the isolate's memory
//! (`project_memory`).

use std::{sync::Arc, time::Duration};

use serde::{Deserialize, Serialize, de::DeserializeOwned};
use worker::{Delay, Env, kv::KvStore};

use crate::runtime::{deadline::within, log};

use dream_core::{
    keys::SecretKeyHash,
    tiers::{CACHE_TTL_SECS, ProjectConfig},
};

/// api-multi's cache namespace (the spec's TOKENS_KV).
pub const TOKENS_KV: &str = "TOKENS_KV";

/// Longer than a KV read takes when KV is healthy, even a cold read from the central store
/// (tens of milliseconds); shorter than the D1 read it saves. Past it, D1 answers instead.
pub const KV_READ_TIMEOUT: Duration = Duration::from_millis(300);
/// A refill (`put`) on the request path waits at most this long; the next request refills it.
pub const KV_WRITE_TIMEOUT: Duration = Duration::from_millis(300);
/// An eviction (after an edit, a rotation, an operator change) is tried this often, each try
/// waiting this long: about five seconds in all before the cache TTL is the only bound left.
const EVICTION_ATTEMPTS: u32 = 3;
const EVICTION_TIMEOUT: Duration = Duration::from_secs(1);

/// How long an entry says that its key existed, after its project configuration went stale or
/// was evicted: a key in use keeps its entry, so its requests reach D1 even from an address
/// whose unknown-key path is bounded (`identity::key_failures`). Revocation deletes the entry.
/// Longer than a month, so a key used by a monthly job is still known at its next run.
pub const KNOWN_KEY_TTL_SECS: u64 = 45 * 24 * 3600;

/// `secretkey:{sha256}:known` → `SecretKeyEntry` JSON: the project as D1 had it, and when.
///
/// The spec kept two entries, `secretkey:{hash}:publishableKey` and a tier config keyed by
/// platform and mode. One entry per secret key makes authentication a single KV read, and a
/// platform+mode key cannot tell two projects of one developer apart. A project has exactly one
/// active secret key per mode, so edits and rotations evict exactly one entry. (The name
/// changed with the entry's shape: an entry of the older shape is never misread.)
pub fn secret_key_entry(hash: &SecretKeyHash) -> String {
    format!("secretkey:{}:known", hash.as_str())
}

#[derive(Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct SecretKeyEntry {
    /// When D1 last said the key was active (or when it was created).
    checked_at_ms: u64,
    /// Absent when the key was just created, or the configuration evicted by an edit.
    config: Option<ProjectConfig>,
    /// The project's configuration epoch this read is known to be as new as
    /// (`usage::counter::ConfigEpochs`); 0 when not known (an entry of the previous release too).
    #[serde(default)]
    epoch: u64,
}

/// A project configuration as D1 had it at `checked_at_ms`, shared by the requests that use it.
#[derive(Debug, Clone, PartialEq)]
pub struct CachedConfig {
    pub config: Arc<ProjectConfig>,
    pub checked_at_ms: u64,
    pub epoch: u64,
}

impl CachedConfig {
    /// Served for `CACHE_TTL_SECS` after D1 was read, from KV or from memory alike.
    pub fn is_fresh(&self, now_ms: u64) -> bool {
        now_ms.saturating_sub(self.checked_at_ms) < CACHE_TTL_SECS * 1000
    }
}

/// What KV knows of a secret key.
#[derive(Debug, PartialEq)]
pub enum CachedKey {
    /// Read from D1 less than `CACHE_TTL_SECS` ago: serve it.
    Fresh(CachedConfig),
    /// Active not long ago (created, edited, or its configuration stale): ask D1. With the
    /// epoch the entry was as new as (a D1 read made now is at least as new).
    Known(u64),
    /// Nothing: a key never used, unused for `KNOWN_KEY_TTL_SECS`, revoked, or never issued.
    Unknown,
}

fn cached_key(text: Option<&str>, now_ms: u64) -> CachedKey {
    let Some(entry) = text.and_then(|t| serde_json::from_str::<SecretKeyEntry>(t).ok()) else {
        return CachedKey::Unknown;
    };
    let Some(config) = entry.config else {
        return CachedKey::Known(entry.epoch);
    };
    let cached = CachedConfig {
        config: Arc::new(config),
        checked_at_ms: entry.checked_at_ms,
        epoch: entry.epoch,
    };
    if cached.is_fresh(now_ms) {
        CachedKey::Fresh(cached)
    } else {
        CachedKey::Known(cached.epoch)
    }
}

#[derive(Clone)]
pub struct Cache(Option<KvStore>);

impl Cache {
    /// No KV at all: every read goes to D1 (the native tests of the use cases).
    pub fn none() -> Self {
        Self(None)
    }

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
        match crate::runtime::timing::timed("kv", within(store.get(entry).text(), Delay::from(KV_READ_TIMEOUT))).await {
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
        self.write(entry, value, ttl_secs, KV_WRITE_TIMEOUT).await;
    }

    /// One write within `timeout`; whether it landed (a failure is logged).
    async fn write(&self, entry: &str, value: &str, ttl_secs: Option<u64>, timeout: Duration) -> bool {
        let Some(store) = self.0.as_ref() else { return true };
        let put = async {
            match ttl_secs {
                Some(ttl) => store.put(entry, value)?.expiration_ttl(ttl).execute().await,
                None => store.put(entry, value)?.execute().await,
            }
        };
        match crate::runtime::timing::timed("kv-put", within(put, Delay::from(timeout))).await {
            Some(Ok(())) => true,
            Some(Err(e)) => {
                log::error(&format!("KV put {entry}: {e}"));
                false
            }
            None => {
                log::error(&format!("KV put {entry}: no answer in {timeout:?}"));
                false
            }
        }
    }

    pub async fn put_json<T: Serialize>(&self, entry: &str, value: &T, ttl_secs: Option<u64>) {
        match serde_json::to_string(value) {
            Ok(text) => self.put(entry, &text, ttl_secs).await,
            Err(e) => log::error(&format!("KV encode {entry}: {e}")),
        }
    }

    pub async fn secret_key(&self, hash: &SecretKeyHash, now_ms: u64) -> CachedKey {
        cached_key(self.get_text(&secret_key_entry(hash)).await.as_deref(), now_ms)
    }

    /// Records that D1 found the key active (with its configuration, after a lookup), or that
    /// it was just created (`None`, at `now_ms`).
    pub async fn put_secret_key(&self, hash: &SecretKeyHash, config: Option<&CachedConfig>, now_ms: u64) {
        let entry = SecretKeyEntry {
            checked_at_ms: config.map_or(now_ms, |c| c.checked_at_ms),
            config: config.map(|c| ProjectConfig::clone(&c.config)),
            epoch: config.map_or(0, |c| c.epoch),
        };
        self.put_json(&secret_key_entry(hash), &entry, Some(KNOWN_KEY_TTL_SECS))
            .await;
    }

    /// After an edit: the next request reads D1, and the key stays known. Unlike a refill this
    /// is off the hot path and matters (a lost eviction serves the old configuration for up to
    /// `CACHE_TTL_SECS`), so a failed write is retried, with more time for each attempt.
    pub async fn evict_secret_key(&self, hash: &SecretKeyHash, now_ms: u64) {
        let entry = SecretKeyEntry {
            checked_at_ms: now_ms,
            config: None,
            epoch: 0,
        };
        let Ok(value) = serde_json::to_string(&entry) else {
            return;
        };
        for attempt in 0..EVICTION_ATTEMPTS {
            if self
                .write(
                    &secret_key_entry(hash),
                    &value,
                    Some(KNOWN_KEY_TTL_SECS),
                    EVICTION_TIMEOUT,
                )
                .await
            {
                return;
            }
            crate::runtime::clock::sleep(Duration::from_millis(100 << attempt)).await;
        }
    }

    /// After a revocation: nothing of the key is left.
    pub async fn forget_secret_key(&self, hash: &SecretKeyHash) {
        self.delete(&secret_key_entry(hash)).await;
    }

    pub async fn delete(&self, entry: &str) {
        let Some(store) = self.0.as_ref() else { return };
        if let Err(e) = crate::runtime::timing::timed("kv-delete", store.delete(entry)).await {
            log::error(&format!("KV delete {entry}: {e}"));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config() -> ProjectConfig {
        serde_json::from_value(serde_json::json!({
            "publishableKey": format!("pk_test_{}", "ab".repeat(16)),
            "platformId": "plt_1", "projectType": "saas", "name": "p", "tiers": [],
        }))
        .expect("a config")
    }

    fn entry(checked_at_ms: u64, config: Option<ProjectConfig>) -> String {
        serde_json::to_string(&SecretKeyEntry {
            checked_at_ms,
            config,
            epoch: 7,
        })
        .expect("json")
    }

    fn fresh(checked_at_ms: u64) -> CachedKey {
        CachedKey::Fresh(CachedConfig {
            config: Arc::new(config()),
            checked_at_ms,
            epoch: 7,
        })
    }

    #[test]
    fn a_configuration_serves_for_the_cache_ttl_then_only_says_the_key_existed() {
        let ttl_ms = CACHE_TTL_SECS * 1000;
        let entry_text = entry(1_000, Some(config()));
        assert_eq!(cached_key(Some(&entry_text), 1_000 + ttl_ms - 1), fresh(1_000));
        assert_eq!(
            cached_key(Some(&entry_text), 1_000 + ttl_ms),
            CachedKey::Known(7),
            "its epoch carried forward"
        );
        // A clock behind the writer's is not a reason to serve forever, nor to fail.
        assert_eq!(cached_key(Some(&entry_text), 0), fresh(1_000));
        assert_eq!(cached_key(Some(&entry(1_000, None)), 1_000), CachedKey::Known(7));
    }

    #[test]
    fn nothing_or_an_entry_of_another_shape_is_unknown() {
        assert_eq!(cached_key(None, 0), CachedKey::Unknown);
        let older_shape = serde_json::to_string(&config()).expect("json");
        assert_eq!(cached_key(Some(&older_shape), 0), CachedKey::Unknown);
        assert_eq!(cached_key(Some("not json"), 0), CachedKey::Unknown);
    }
}
