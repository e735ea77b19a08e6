//! The isolate's memory in front of KV, for the metered routes: a warm isolate authenticates a
//! counted request with no round trip. Safe because the usage counter checks, on the call that
//! counts, that the configuration is as new as the project's last edit (its configuration epoch,
//! `usage::counter`); a configuration older than that is read from D1 again. Without an edit
//! nothing is read again before `CACHE_TTL_SECS` after D1 was read, the bound KV already had.

use std::{cell::RefCell, collections::HashMap};

use dream_core::keys::SecretKeyHash;

use super::project_cache::CachedConfig;

/// Keys remembered at most, and their configurations' size in all (a configuration is a few
/// hundred bytes to a few hundred kilobytes, with many tiers and features; an isolate has
/// 128 MB). Past either, stale entries go first, then all (forgetting costs one KV read per key).
const CAPACITY: usize = 2_048;
const CAPACITY_BYTES: usize = 16 << 20;

#[derive(Default)]
struct Configs {
    entries: HashMap<String, (CachedConfig, usize)>,
    bytes: usize,
}

thread_local! {
    // workerd runs an isolate on one thread: this lives as long as the isolate.
    static CONFIGS: RefCell<Configs> = RefCell::default();
}

/// The configuration remembered for a key, while fresh.
pub fn recall(hash: &SecretKeyHash, now_ms: u64) -> Option<CachedConfig> {
    CONFIGS.with(|configs| {
        (configs.borrow().entries.get(hash.as_str()))
            .map(|(cached, _)| cached)
            .filter(|cached| cached.is_fresh(now_ms))
            .cloned()
    })
}

/// The epoch of the configuration last remembered for a key, fresh or not: a D1 read made now
/// is at least as new as it.
pub fn last_epoch(hash: &SecretKeyHash) -> u64 {
    CONFIGS.with(|configs| configs.borrow().entries.get(hash.as_str()).map_or(0, |(c, _)| c.epoch))
}

pub fn remember(hash: &SecretKeyHash, cached: &CachedConfig, now_ms: u64) {
    // Measured once per D1 or KV read (every minute per key), never per request.
    let size = serde_json::to_vec(&*cached.config).map_or(0, |json| json.len());
    CONFIGS.with(|configs| {
        let mut configs = configs.borrow_mut();
        forget_in(&mut configs, hash);
        let full = |c: &Configs| c.entries.len() >= CAPACITY || c.bytes + size > CAPACITY_BYTES;
        if full(&configs) {
            configs.entries.retain(|_, (c, _)| c.is_fresh(now_ms));
            configs.bytes = configs.entries.values().map(|(_, size)| size).sum();
            if full(&configs) {
                *configs = Configs::default();
            }
        }
        configs.bytes += size;
        configs.entries.insert(hash.as_str().to_owned(), (cached.clone(), size));
    });
}

/// After D1 said the key is no longer active.
pub fn forget(hash: &SecretKeyHash) {
    CONFIGS.with(|configs| forget_in(&mut configs.borrow_mut(), hash));
}

fn forget_in(configs: &mut Configs, hash: &SecretKeyHash) {
    if let Some((_, size)) = configs.entries.remove(hash.as_str()) {
        configs.bytes -= size;
    }
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
        assert_eq!(last_epoch(&hash), 3, "a stale entry still tells its epoch");
        forget(&hash);
        assert_eq!(recall(&hash, 1_000), None);
        assert_eq!(last_epoch(&hash), 0);
        for _ in 0..(CAPACITY * 2) {
            remember(&SecretKey::generate(Mode::Test).hash(), &cached(1_000), 1_000);
        }
        assert!(CONFIGS.with(|c| c.borrow().entries.len()) <= CAPACITY);
        let bytes = CONFIGS.with(|c| c.borrow().bytes);
        assert!(bytes > 0 && bytes <= CAPACITY_BYTES, "{bytes}");
    }
}
