//! What the developer's own plan allows when it lapses. An unpaid developer cannot create or
//! edit projects (`projects::require_paid`); their keys keep metering for a grace period after
//! the plan ended, so a card that failed does not take their customers' service down at once;
//! after it live keys get 402 until the plan is paid again. Test keys always work.

use crate::period::Timestamp;

pub const LIVE_KEY_GRACE_SECS: i64 = 14 * 86_400;

/// When live keys stop: the end of the grace period after a lapsed plan. `None` while the plan
/// is paid, or for a platform that never paid (it has no live keys: promotion needs the plan).
pub fn live_keys_pause_at(plan: &str, plan_ended_at: Option<&str>) -> Option<Timestamp> {
    if plan == "paid" {
        return None;
    }
    plan_ended_at
        .and_then(Timestamp::parse_rfc3339)
        .map(|ended| Timestamp(ended.0 + LIVE_KEY_GRACE_SECS))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn live_keys_pause_fourteen_days_after_a_paid_plan_ends() {
        assert_eq!(live_keys_pause_at("paid", Some("2026-11-01T00:00:00Z")), None);
        assert_eq!(live_keys_pause_at("free", None), None, "never paid, never paused");
        assert_eq!(
            live_keys_pause_at("free", Some("2026-11-01T00:00:00Z")).map(|t| t.to_rfc3339()),
            Some("2026-11-15T00:00:00Z".to_owned())
        );
        assert_eq!(live_keys_pause_at("free", Some("garbage")), None);
    }
}
