//! The clock of the Workers runtime. Logic takes a `Timestamp` argument instead, so it stays
//! testable natively; only the edges (handlers, the usage counter) read the clock. Natively (the
//! use-case tests) the system clock and a thread sleep stand in for workerd's.

use std::time::Duration;

use dream_core::period::Timestamp;

/// The current time.
pub fn now() -> Timestamp {
    Timestamp::from_millis(now_millis())
}

/// Milliseconds since the epoch (object keys that must not collide).
#[cfg(target_arch = "wasm32")]
pub fn now_millis() -> u64 {
    worker::Date::now().as_millis()
}

#[cfg(not(target_arch = "wasm32"))]
pub fn now_millis() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
}

/// Waits `duration` without blocking the isolate.
#[cfg(target_arch = "wasm32")]
pub async fn sleep(duration: Duration) {
    worker::Delay::from(duration).await;
}

/// Natively only retries sleep (a lone SQLite connection is never busy), so blocking is fine.
#[cfg(not(target_arch = "wasm32"))]
pub async fn sleep(duration: Duration) {
    std::thread::sleep(duration);
}
