//! Rate limits kept in a usage counter's memory: the counter sees every counted request of its
//! users, so it can bound them on the call that counts, with no round trip of its own, and the
//! bound is global (a Durable Object is one place) instead of per Cloudflare location.
//!
//! The estimate is Cloudflare's sliding window: windows aligned to the period, and the previous
//! window's count weighted by how much of it the sliding window still covers. Only admitted
//! calls count. Memory is lost when the counter is evicted, which happens only after it was idle
//! (its windows had emptied anyway) or on a restart (a burst then gets one more window).

use std::collections::HashMap;

/// Keys kept at most; past it, keys idle for a whole window go, then everything (forgetting
/// only ever admits more). A counter admits at most its project limit per window, so this is
/// only reached by keys that were refused nothing for two windows.
const MAX_KEYS: usize = 16_384;

#[derive(Debug, Clone, Copy, Default)]
struct Window {
    index: u64,
    current: u32,
    previous: u32,
}

impl Window {
    /// The window as of `index` (an older one rolls forward).
    fn at(self, index: u64) -> Self {
        match index.checked_sub(self.index) {
            Some(0) => self,
            Some(1) => Self {
                index,
                current: 0,
                previous: self.current,
            },
            _ => Self {
                index,
                ..Self::default()
            },
        }
    }
}

/// `limit` calls per `period_ms` for each key.
#[derive(Debug)]
pub struct SlidingWindows {
    limit: u32,
    period_ms: u64,
    windows: HashMap<String, Window>,
}

impl SlidingWindows {
    pub fn new(limit: u32, period_secs: u32) -> Self {
        Self {
            limit,
            period_ms: u64::from(period_secs.max(1)) * 1000,
            windows: HashMap::new(),
        }
    }

    /// Whether one more call of `key` at `now_ms` stays within the limit (nothing is counted).
    pub fn admits(&self, key: &str, now_ms: u64) -> bool {
        let index = now_ms / self.period_ms;
        let window = self.windows.get(key).copied().unwrap_or_default().at(index);
        let elapsed = (now_ms % self.period_ms) as f64 / self.period_ms as f64;
        let estimate = f64::from(window.previous) * (1.0 - elapsed) + f64::from(window.current);
        estimate + 1.0 <= f64::from(self.limit)
    }

    /// Counts one admitted call of `key`.
    pub fn count(&mut self, key: &str, now_ms: u64) {
        let index = now_ms / self.period_ms;
        if self.windows.len() >= MAX_KEYS && !self.windows.contains_key(key) {
            self.windows.retain(|_, w| w.index + 1 >= index);
            if self.windows.len() >= MAX_KEYS {
                self.windows.clear();
            }
        }
        let window = self.windows.entry(key.to_owned()).or_default();
        *window = window.at(index);
        window.current = window.current.saturating_add(1);
    }

    pub fn len(&self) -> usize {
        self.windows.len()
    }

    pub fn is_empty(&self) -> bool {
        self.windows.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn admitted(windows: &mut SlidingWindows, key: &str, calls: u32, now_ms: u64) -> u32 {
        (0..calls)
            .filter(|_| {
                let ok = windows.admits(key, now_ms);
                if ok {
                    windows.count(key, now_ms);
                }
                ok
            })
            .count() as u32
    }

    #[test]
    fn a_burst_gets_the_limit_and_other_keys_are_untouched() {
        let mut windows = SlidingWindows::new(10, 60);
        assert_eq!(admitted(&mut windows, "a", 25, 120_000), 10);
        assert_eq!(admitted(&mut windows, "b", 3, 120_001), 3);
        assert!(!windows.admits("a", 179_999), "still within the same window");
    }

    #[test]
    fn the_previous_window_weighs_what_the_sliding_window_still_covers() {
        let mut windows = SlidingWindows::new(10, 60);
        assert_eq!(admitted(&mut windows, "a", 10, 60_000), 10);
        // A quarter into the next window, three quarters of the previous one still count.
        assert_eq!(admitted(&mut windows, "a", 10, 135_000), 2);
        // Two windows later, nothing of it is left.
        assert_eq!(admitted(&mut windows, "a", 20, 240_000), 10);
    }

    #[test]
    fn memory_stays_bounded() {
        let mut windows = SlidingWindows::new(10, 60);
        for i in 0..(MAX_KEYS * 2) {
            windows.count(&format!("user{i}"), 60_000 + i as u64);
        }
        assert!(windows.len() <= MAX_KEYS);
        assert!(!windows.is_empty());
    }
}
