//! Housekeeping run by api-multi's daily cron: rows whose purpose has expired, and what grows
//! with time kept for a bounded time, so the one shared D1 database (which has a hard size cap,
//! past which every tenant's writes fail) does not fill up with age. (Idempotency claims live
//! in the usage counters, which purge their own: see `usage::CounterStore::purge`.)

use serde::{Deserialize, Serialize};

use super::Database;
use dream_core::{error::ApiResult, period::Timestamp};

/// Usage rows of periods that started this many months ago or more are rolled up: past any
/// billing period (a yearly one included), so no usage counter writes them any more, and past
/// the dashboard's chart.
pub const RAW_USAGE_MONTHS: u32 = 13;
/// Stripe event payloads are emptied after this long (Stripe itself keeps events 30 days).
pub const EVENT_PAYLOAD_DAYS: i64 = 30;
/// Audit log entries are deleted after this long: a year's history with a month's margin, as
/// usage keeps (an organization exports what it must keep longer: `GET /exports/audit-log`).
pub const AUDIT_LOG_DAYS: i64 = 396;
/// Rows one statement changes, so a run after a long pause stays within a Worker's limits.
const BATCH: i64 = 5_000;
const AUDIT_BATCHES_PER_RUN: usize = 10;

/// OAuth states past their expiry can no longer be redeemed. ?1 now.
pub const PURGE_OAUTH_STATES: &str = "DELETE FROM oauth_states WHERE expiresAt < ?1";

/// The oldest month of raw usage rows that started before ?1, if any.
pub const SELECT_OLDEST_RAW_MONTH: &str =
    "SELECT substr(MIN(periodStart), 1, 7) AS month FROM usage_counts WHERE periodStart < ?1";

/// Adds month ?1's raw rows (periods starting in it, before ?2) to the monthly rollup: the
/// requests and the users who counted anything.
pub const ROLL_UP_USAGE_MONTH: &str = "\
INSERT INTO usage_monthly (publishableKey, month, requests, users)
SELECT publishableKey, ?1, SUM(CASE WHEN meter = 'requests' THEN usageCount ELSE 0 END),
  COUNT(DISTINCT userId || ' ' || periodStart) FROM usage_counts
WHERE periodStart >= ?1 || '-01' AND periodStart < ?2 AND substr(periodStart, 1, 7) = ?1
GROUP BY publishableKey
ON CONFLICT (publishableKey, month) DO UPDATE SET
  requests = requests + excluded.requests, users = users + excluded.users";

/// The other meters' quantities of the same rows.
pub const ROLL_UP_METERS_MONTH: &str = "\
INSERT INTO usage_monthly_meters (publishableKey, month, meter, quantity)
SELECT publishableKey, ?1, meter, SUM(usageCount) FROM usage_counts
WHERE periodStart >= ?1 || '-01' AND periodStart < ?2 AND substr(periodStart, 1, 7) = ?1 AND meter <> 'requests'
GROUP BY publishableKey, meter
ON CONFLICT (publishableKey, month, meter) DO UPDATE SET quantity = quantity + excluded.quantity";

/// Deletes what `ROLL_UP_USAGE_MONTH` just counted (same batch, same rows).
pub const DELETE_USAGE_MONTH: &str = "\
DELETE FROM usage_counts WHERE periodStart >= ?1 || '-01' AND periodStart < ?2 AND substr(periodStart, 1, 7) = ?1";

/// Empties the payloads of events recorded before ?1, at most ?2 of them.
pub const TRIM_EVENT_PAYLOADS: &str = "\
UPDATE events SET payload_json = '{}'
WHERE rowid IN (SELECT rowid FROM events WHERE createdAt < ?1 AND payload_json <> '{}' LIMIT ?2)";

/// Deletes audit log entries recorded before ?1, at most ?2 of them (the oldest first).
pub const PURGE_OLD_AUDIT_ENTRIES: &str = "\
DELETE FROM audit_log
WHERE auditId IN (SELECT auditId FROM audit_log WHERE createdAt < ?1 ORDER BY createdAt LIMIT ?2)";

/// What one run of the daily job did.
#[derive(Debug, Default, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Housekeeping {
    pub oauth_states: i64,
    pub usage_months_rolled_up: Vec<String>,
    pub event_payloads_trimmed: i64,
    pub audit_entries_deleted: i64,
}

/// The start of the month `months` before `now`'s (UTC), as stored (`YYYY-MM-01T00:00:00Z`).
pub fn months_before(now: Timestamp, months: u32) -> String {
    let month = dream_core::period::BillingPeriod::calendar_month(now).start;
    let text = month.to_rfc3339();
    let (year, rest) = text.split_at(4);
    let (year, month): (i64, i64) = (year.parse().unwrap_or(1970), rest[1..3].parse().unwrap_or(1));
    let index = year * 12 + (month - 1) - i64::from(months);
    format!(
        "{:04}-{:02}-01T00:00:00Z",
        index.div_euclid(12),
        index.rem_euclid(12) + 1
    )
}

impl Database {
    /// The daily job: expired OAuth states, old usage rolled up by month, old payloads trimmed,
    /// old audit log entries deleted.
    pub async fn housekeeping(&self, now: Timestamp) -> ApiResult<Housekeeping> {
        let before = Timestamp(now.0 - EVENT_PAYLOAD_DAYS * 24 * 3600);
        let audit_before = Timestamp(now.0 - AUDIT_LOG_DAYS * 24 * 3600);
        // Personal data first: a roll-up that fails must not keep payloads past their window.
        let mut done = Housekeeping {
            oauth_states: self
                .run(PURGE_OAUTH_STATES, &[now.to_rfc3339().into()])
                .await?
                .changes(),
            event_payloads_trimmed: self
                .run(TRIM_EVENT_PAYLOADS, &[before.to_rfc3339().into(), BATCH.into()])
                .await?
                .changes(),
            ..Housekeeping::default()
        };
        // Batches until one comes back short: a day of every organization's changes, and a
        // backlog after a pause, within one run's few statements.
        for _ in 0..AUDIT_BATCHES_PER_RUN {
            let deleted = self
                .run(PURGE_OLD_AUDIT_ENTRIES, &[audit_before.to_rfc3339().into(), BATCH.into()])
                .await?
                .changes();
            done.audit_entries_deleted += deleted;
            if deleted < BATCH {
                break;
            }
        }
        let cutoff = months_before(now, RAW_USAGE_MONTHS);
        // One month per batch, oldest first; a handful per run catches up after a long pause.
        for _ in 0..6 {
            #[derive(Deserialize)]
            struct Oldest {
                month: Option<String>,
            }
            let oldest: Option<Oldest> = self.first(SELECT_OLDEST_RAW_MONTH, &[cutoff.as_str().into()]).await?;
            let Some(month) = oldest.and_then(|o| o.month) else {
                break;
            };
            let params = vec![month.as_str().into(), cutoff.as_str().into()];
            self.batch(&[
                (ROLL_UP_USAGE_MONTH, params.clone()),
                (ROLL_UP_METERS_MONTH, params.clone()),
                (DELETE_USAGE_MONTH, params),
            ])
            .await?;
            done.usage_months_rolled_up.push(month);
        }
        Ok(done)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn months_before_crosses_years() {
        let now = Timestamp::parse_rfc3339("2026-12-06T20:00:00Z").unwrap();
        assert_eq!(months_before(now, 0), "2026-12-01T00:00:00Z");
        assert_eq!(months_before(now, 13), "2025-11-01T00:00:00Z");
        assert_eq!(months_before(now, 12), "2025-12-01T00:00:00Z");
        let january = Timestamp::parse_rfc3339("2027-01-31T23:59:59Z").unwrap();
        assert_eq!(months_before(january, 1), "2026-12-01T00:00:00Z");
        assert_eq!(months_before(january, 25), "2024-12-01T00:00:00Z");
    }
}
