//! The clock of the Workers runtime. Logic takes a `Timestamp` argument instead, so it stays
//! testable natively; only the edges (handlers, the usage counter) read the clock.

use dream_core::period::Timestamp;

/// The current time from workerd's clock (only callable inside a worker).
pub fn now() -> Timestamp {
    Timestamp::from_millis(now_millis())
}

/// Milliseconds since the epoch from workerd's clock (object keys that must not collide).
pub fn now_millis() -> u64 {
    worker::Date::now().as_millis()
}
