//! How many usage counters share one project's users, over time. A very hot project gets more
//! than one (an operator raises it: `operator::set_usage_counters`), so its counting scales with
//! its users. A user must never change counter in the middle of a period, or their count would
//! start again from a stale copy: so a change applies only to periods that *start* after it,
//! and late enough that every cached copy of the project knows it by then. A period keeps the
//! counter it started in until it ends.

use serde::{Deserialize, Serialize};

use crate::{
    error::{ApiError, ApiResult},
    period::Timestamp,
    tiers::CACHE_TTL_SECS,
};

/// The most counters one project and mode may have: 64 × ~1,000 requests a second.
pub const MAX_SHARDS: u32 = 64;

/// Longer than any billing period (Stripe's longest interval is a year) and its grace: an
/// entry superseded this long ago governs no running period any more.
const LONGEST_PERIOD_SECS: i64 = 400 * 86_400;

/// A change applies this long after it is made at the earliest: every api-multi isolate
/// re-reads the project within the cache TTL, so by then all of them count the same way.
pub const CHANGE_DELAY_SECS: i64 = CACHE_TTL_SECS as i64 + 60;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct LayoutChange {
    /// Periods starting at or after this (Unix seconds) are split among `shards` counters.
    pub from_secs: i64,
    pub shards: u32,
}

/// The changes in order of `from_secs`; before the first, one counter (`api_keys.usageCounterLayout`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct CounterLayout(Vec<LayoutChange>);

impl CounterLayout {
    /// The stored column (NULL: never changed). A value that no longer parses is corruption.
    pub fn from_column(column: Option<&str>) -> ApiResult<Self> {
        let Some(text) = column else {
            return Ok(Self::default());
        };
        let layout: Self =
            serde_json::from_str(text).map_err(|e| ApiError::internal(format!("api_keys.usageCounterLayout: {e}")))?;
        let ordered = layout.0.windows(2).all(|w| w[0].from_secs < w[1].from_secs);
        if !ordered || layout.0.iter().any(|c| !(1..=MAX_SHARDS).contains(&c.shards)) {
            return Err(ApiError::internal(
                "api_keys.usageCounterLayout: out of order or out of range",
            ));
        }
        Ok(layout)
    }

    pub fn to_column(&self) -> Option<String> {
        (!self.0.is_empty()).then(|| serde_json::to_string(self).unwrap_or_default())
    }

    pub fn changes(&self) -> &[LayoutChange] {
        &self.0
    }

    /// The counters a period that began at `period_start` is split among.
    pub fn shards_for(&self, period_start: Timestamp) -> u32 {
        self.0
            .iter()
            .rev()
            .find(|c| c.from_secs <= period_start.0)
            .map_or(1, |c| c.shards)
    }

    /// The layout after an operator asks for `shards` counters. `immediately` applies them to
    /// every period, which is only exact for a project that has counted nothing yet (the
    /// caller's statement checks that); otherwise they apply to periods starting at or after
    /// `now + CHANGE_DELAY_SECS`. A change still pending cannot be replaced: an isolate may
    /// already count by it.
    pub fn change(&self, shards: u32, now: Timestamp, immediately: bool) -> ApiResult<Self> {
        if !(1..=MAX_SHARDS).contains(&shards) {
            return Err(ApiError::invalid_request(format!(
                "shards must be between 1 and {MAX_SHARDS}"
            )));
        }
        if immediately {
            return Ok(Self(vec![LayoutChange { from_secs: 0, shards }]));
        }
        if let Some(pending) = self.0.iter().find(|c| c.from_secs > now.0) {
            return Err(ApiError::conflict(format!(
                "A change to {} counters is pending until {}; make another after it",
                pending.shards,
                Timestamp(pending.from_secs).to_rfc3339()
            )));
        }
        let from_secs = now.0 + CHANGE_DELAY_SECS;
        let mut changes = self.0.clone();
        changes.push(LayoutChange { from_secs, shards });
        // Entries whose successor began longer ago than any period lasts govern nothing.
        let superseded = changes
            .windows(2)
            .take_while(|w| w[1].from_secs < now.0 - LONGEST_PERIOD_SECS)
            .count();
        changes.drain(..superseded);
        Ok(Self(changes))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const NOW: Timestamp = Timestamp(1_796_000_000);

    #[test]
    fn a_change_applies_to_periods_starting_after_every_cache_knows_it() {
        let layout = CounterLayout::default().change(4, NOW, false).unwrap();
        assert_eq!(
            layout.shards_for(Timestamp(NOW.0 - 86_400)),
            1,
            "a running period keeps its counter"
        );
        assert_eq!(layout.shards_for(NOW), 1);
        assert_eq!(layout.shards_for(Timestamp(NOW.0 + CHANGE_DELAY_SECS - 1)), 1);
        assert_eq!(layout.shards_for(Timestamp(NOW.0 + CHANGE_DELAY_SECS)), 4);
        assert!(CHANGE_DELAY_SECS > CACHE_TTL_SECS as i64);

        let err = layout.change(8, Timestamp(NOW.0 + 10), false).unwrap_err();
        assert_eq!(err.code(), crate::error::ErrorCode::Conflict, "{}", err.message());
        let later = Timestamp(NOW.0 + CHANGE_DELAY_SECS + 1);
        let twice = layout.change(8, later, false).unwrap();
        assert_eq!(twice.shards_for(Timestamp(NOW.0 + CHANGE_DELAY_SECS)), 4);
        assert_eq!(twice.shards_for(Timestamp(later.0 + CHANGE_DELAY_SECS)), 8);
    }

    #[test]
    fn immediately_means_every_period_and_old_entries_are_dropped_once_no_period_can_use_them() {
        let now_layout = CounterLayout::default().change(16, NOW, true).unwrap();
        assert_eq!(now_layout.shards_for(Timestamp(0)), 16);

        let old = CounterLayout::default()
            .change(2, NOW, false)
            .unwrap()
            .change(4, Timestamp(NOW.0 + 1000), false);
        let old = old.unwrap();
        assert_eq!(old.changes().len(), 2);
        let much_later = Timestamp(NOW.0 + 2 * LONGEST_PERIOD_SECS);
        let pruned = old.change(8, much_later, false).unwrap();
        assert_eq!(pruned.changes().len(), 2, "{pruned:?}");
        assert_eq!(pruned.changes()[0].shards, 4);
    }

    #[test]
    fn bad_requests_and_corrupt_columns_are_refused() {
        for shards in [0, MAX_SHARDS + 1] {
            let err = CounterLayout::default().change(shards, NOW, false).unwrap_err();
            assert!(err.message().contains("between 1 and 64"), "{}", err.message());
        }
        let layout = CounterLayout::default().change(4, NOW, false).unwrap();
        let column = layout.to_column().unwrap();
        assert_eq!(CounterLayout::from_column(Some(&column)).unwrap(), layout);
        assert_eq!(CounterLayout::from_column(None).unwrap(), CounterLayout::default());
        assert_eq!(CounterLayout::default().to_column(), None);
        for corrupt in [
            "nope",
            r#"[{"fromSecs":5,"shards":0}]"#,
            r#"[{"fromSecs":5,"shards":2},{"fromSecs":5,"shards":3}]"#,
        ] {
            assert!(CounterLayout::from_column(Some(corrupt)).is_err(), "{corrupt}");
        }
    }
}
