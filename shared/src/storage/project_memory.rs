//! The isolate's memory in front of KV, for the metered routes: a warm isolate authenticates a
//! counted request with no round trip. Safe because the usage counter checks, on the call that
//! counts, that the configuration is as new as the project's last edit (its configuration epoch,
//! `usage::counter`); a configuration older than that is read from D1 again. Without an edit
//! nothing is read again before `CACHE_TTL_SECS` after D1 was read, the bound KV already had.

use std::{cell::RefCell, collections::HashMap};

use dream_core::keys::SecretKeyHash;

use super::project_cache::CachedConfig;

/// Keys remembered at most (a few hundred bytes to a few kilobytes each); past it, stale entries
/// go first, then all (forgetting costs one KV read per key).
const CAPACITY: usize = 2_048;

thread_local! {
    // workerd runs an isolate on one thread: this lives as long as the isolate.
    static CONFIGS: RefCell<HashMap<String, CachedConfig>> = RefCell::new(HashMap::new());
}

/// The configuration remembered for a key, while fresh.
pub fn recall(hash: &SecretKeyHash, now_ms: u64) -> Option<CachedConfig> {
    CONFIGS.with(|configs| {
        configs
            .borrow()
            .get(hash.as_str())
            .filter(|cached| cached.is_fresh(now_ms))
            .cloned()
    })
}

pub fn remember(hash: &SecretKeyHash, cached: &CachedConfig, now_ms: u64) {
    CONFIGS.with(|configs| {
        let mut configs = configs.borrow_mut();
        if configs.len() >= CAPACITY && !configs.contains_key(hash.as_str()) {
            configs.retain(|_, c| c.is_fresh(now_ms));
            if configs.len() >= CAPACITY {
                configs.clear();
            }
        }
        configs.insert(hash.as_str().to_owned(), cached.clone());
    });
}

/// After D1 said the key is no longer active.
pub fn forget(hash: &SecretKeyHash) {
    CONFIGS.with(|configs| configs.borrow_mut().remove(hash.as_str()));
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::*;
    use dream_core::{keys::SecretKey, mode::Mode, tiers::CACHE_TTL_SECS};

    fn cached(checked_at_ms: u64) -> CachedConfig {
        let config = serde_json::from_value(serde_json::json!({
            "publishableKey": format!("pk_test_{}", "ab".repeat(16)),
            "platformId": "plt_1", "projectType": "saas", "name": "p", "tiers": [],
        }))
        .expect("a config");
        CachedConfig {
            config: Arc::new(config),
            checked_at_ms,
            epoch: 3,
        }
    }

    #[test]
    fn a_configuration_is_recalled_while_fresh_and_memory_stays_bounded() {
        let hash = SecretKey::generate(Mode::Test).hash();
        remember(&hash, &cached(1_000), 1_000);
        assert_eq!(recall(&hash, 1_000 + CACHE_TTL_SECS * 1000 - 1), Some(cached(1_000)));
        assert_eq!(recall(&hash, 1_000 + CACHE_TTL_SECS * 1000), None);
        forget(&hash);
        assert_eq!(recall(&hash, 1_000), None);
        for _ in 0..(CAPACITY * 2) {
            remember(&SecretKey::generate(Mode::Test).hash(), &cached(1_000), 1_000);
        }
        assert!(CONFIGS.with(|c| c.borrow().len()) <= CAPACITY);
    }
}
