//! Usage counting: the hot path. Counts live in usage counters (Durable Objects with SQLite
//! storage, one or more per project and mode: see `crate::usage::counter`), each the single writer of
//! its own rows, and are copied to D1 in batches, where the dashboard and exports read them.
//! One atomic statement both counts and enforces the limit, so N concurrent requests at limit L
//! give exactly L successes; with an Idempotency-Key the claim, the count and the record of the
//! result commit together. The statements run unchanged against the counter's SQLite
//! ([`COUNTER_SCHEMA`], the same columns as D1's `usage_counts`) and natively in the SQL tests.

use serde::{Deserialize, Serialize, de::DeserializeOwned};
use worker::{SqlStorage, wasm_bindgen::JsValue};

use super::{Database, Project, SqlParam, Statement};
use crate::usage::counter_protocol::{CountOutcome, CountRequest, MeterCounts, MeterOutcome, OverageTerms};
use dream_core::{
    error::{ApiError, ApiResult},
    period::Timestamp,
    tiers::{
        UsageLimit,
        meters::{Meter, MeterKey, count_limit},
    },
    webhooks::Event,
};

/// Counts ?13 units of meter ?12 unless that would take the count past the limit: a quantity
/// that does not fit is refused whole. Parameters:
/// ?1 publishableKey, ?2 userId, ?3 periodStart, ?4 periodEnd, ?5 platformId, ?6 plan,
/// ?7 limit (NULL = unlimited), ?8 now, ?9 idempotencyKey (NULL = none), ?10 requestId,
/// ?11 the most distinct users the counter may count in a period (NULL = no bound),
/// ?12 meter, ?13 quantity.
/// With an idempotency key, the insert only proceeds while this request holds the claim.
/// A user the period does not know yet is only let in below the bound.
/// Returns the new count, or no row when the limit, the bound (or a lost claim) stopped it.
pub const COUNT_USAGE: &str = "\
INSERT INTO usage_counts (publishableKey, userId, periodStart, meter, periodEnd, platformId, plan, usageCount, updatedAt)
SELECT ?1, ?2, ?3, ?12, ?4, ?5, ?6, ?13, ?8
WHERE (?7 IS NULL OR ?7 >= ?13)
  AND (?9 IS NULL OR EXISTS (SELECT 1 FROM usage_idempotency
                             WHERE publishableKey = ?1 AND idempotencyKey = ?9 AND requestId = ?10))
  AND (?11 IS NULL
       OR EXISTS (SELECT 1 FROM usage_counts WHERE publishableKey = ?1 AND userId = ?2 AND periodStart = ?3)
       OR COALESCE((SELECT users FROM usage_period_users WHERE publishableKey = ?1 AND periodStart = ?3), 0) < ?11)
ON CONFLICT (publishableKey, userId, periodStart, meter) DO UPDATE
SET usageCount = usageCount + excluded.usageCount, plan = excluded.plan, periodEnd = excluded.periodEnd, updatedAt = excluded.updatedAt
WHERE ?7 IS NULL OR usage_counts.usageCount + excluded.usageCount <= ?7
RETURNING usageCount";

/// Claims an idempotency key for this request, but only while the limit still allows its
/// quantity: a request refused at the limit leaves no claim, so its retry is evaluated afresh.
/// A claim older than the expiry (?8) is taken over. The users bound (?9) refuses it as
/// COUNT_USAGE would. Parameters: ?1 publishableKey, ?2 idempotencyKey, ?3 userId,
/// ?4 requestId, ?5 now, ?6 periodStart, ?7 limit, ?8 expiredBefore, ?9 users bound,
/// ?10 meter, ?11 quantity.
pub const CLAIM_IDEMPOTENCY_KEY: &str = "\
INSERT INTO usage_idempotency (publishableKey, idempotencyKey, userId, requestId, createdAt, meter)
SELECT ?1, ?2, ?3, ?4, ?5, ?10
WHERE (?7 IS NULL OR COALESCE((SELECT usageCount FROM usage_counts
                               WHERE publishableKey = ?1 AND userId = ?3 AND periodStart = ?6 AND meter = ?10), 0) + ?11 <= ?7)
  AND (?9 IS NULL
       OR EXISTS (SELECT 1 FROM usage_counts WHERE publishableKey = ?1 AND userId = ?3 AND periodStart = ?6)
       OR COALESCE((SELECT users FROM usage_period_users WHERE publishableKey = ?1 AND periodStart = ?6), 0) < ?9)
ON CONFLICT (publishableKey, idempotencyKey) DO UPDATE
SET userId = excluded.userId, requestId = excluded.requestId, usageCount = NULL, createdAt = excluded.createdAt,
    meter = excluded.meter
WHERE usage_idempotency.createdAt < ?8";

/// Stores the count the claiming request produced, for replays. Parameters: ?1 publishableKey,
/// ?2 idempotencyKey, ?3 userId, ?4 periodStart, ?5 requestId, ?6 meter.
pub const RECORD_IDEMPOTENT_RESULT: &str = "\
UPDATE usage_idempotency
SET usageCount = (SELECT usageCount FROM usage_counts WHERE publishableKey = ?1 AND userId = ?3 AND periodStart = ?4 AND meter = ?6)
WHERE publishableKey = ?1 AND idempotencyKey = ?2 AND requestId = ?5";

pub const SELECT_IDEMPOTENCY_CLAIM: &str = "\
SELECT userId, requestId, usageCount, createdAt, meter FROM usage_idempotency WHERE publishableKey = ?1 AND idempotencyKey = ?2";

/// With several counters, binds an Idempotency-Key to its first user in the key's directory
/// counter; a binding past the window is taken over. ?1 publishableKey, ?2 idempotencyKey,
/// ?3 userId, ?4 now, ?5 expiredBefore.
pub const BIND_IDEMPOTENCY_KEY: &str = "\
INSERT INTO usage_key_owners (publishableKey, idempotencyKey, userId, createdAt) VALUES (?1, ?2, ?3, ?4)
ON CONFLICT (publishableKey, idempotencyKey) DO UPDATE
SET userId = excluded.userId, createdAt = excluded.createdAt
WHERE usage_key_owners.createdAt < ?5";

pub const SELECT_KEY_OWNER: &str =
    "SELECT userId FROM usage_key_owners WHERE publishableKey = ?1 AND idempotencyKey = ?2";

/// A user's first counted request of a period: one more distinct user for the bound.
/// ?1 publishableKey, ?2 periodStart.
pub const NOTE_NEW_PERIOD_USER: &str = "\
INSERT INTO usage_period_users (publishableKey, periodStart, users) VALUES (?1, ?2, 1)
ON CONFLICT (publishableKey, periodStart) DO UPDATE SET users = users + 1";

pub const SELECT_USAGE: &str = "\
SELECT usageCount FROM usage_counts WHERE publishableKey = ?1 AND userId = ?2 AND periodStart = ?3 AND meter = ?4";

/// Every meter's count of a user in a period. ?1 publishableKey, ?2 userId, ?3 periodStart.
pub const SELECT_USER_METERS: &str = "\
SELECT meter, usageCount FROM usage_counts WHERE publishableKey = ?1 AND userId = ?2 AND periodStart = ?3";

/// A counter's own SQLite. `usage_counts` has D1's columns (what the flush copies); the claims,
/// the key bindings and the users per period exist only here. `usage_unflushed` lists the rows counted since
/// they were last copied to D1, each with the flush generation it waits for, so a count made
/// while a flush is on its way to D1 waits for the next one instead of being forgotten.
pub const COUNTER_SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS usage_counts (
    publishableKey TEXT NOT NULL,
    userId         TEXT NOT NULL,
    periodStart    TEXT NOT NULL,
    meter          TEXT NOT NULL DEFAULT 'requests' CHECK (length(meter) BETWEEN 1 AND 40),
    periodEnd      TEXT NOT NULL,
    platformId     TEXT NOT NULL,
    plan           TEXT NOT NULL,
    usageCount     INTEGER NOT NULL DEFAULT 0 CHECK (usageCount >= 0),
    updatedAt      TEXT NOT NULL,
    PRIMARY KEY (publishableKey, userId, periodStart, meter)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS usage_counts_by_period ON usage_counts (publishableKey, periodStart);
CREATE INDEX IF NOT EXISTS usage_counts_by_end ON usage_counts (periodEnd);
CREATE TABLE IF NOT EXISTS usage_idempotency (
    publishableKey TEXT NOT NULL,
    idempotencyKey TEXT NOT NULL,
    userId         TEXT NOT NULL,
    requestId      TEXT NOT NULL,
    usageCount     INTEGER,
    createdAt      TEXT NOT NULL,
    meter          TEXT NOT NULL DEFAULT 'requests',
    PRIMARY KEY (publishableKey, idempotencyKey)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS usage_idempotency_by_age ON usage_idempotency (createdAt);
CREATE TABLE IF NOT EXISTS usage_key_owners (
    publishableKey TEXT NOT NULL,
    idempotencyKey TEXT NOT NULL,
    userId         TEXT NOT NULL,
    createdAt      TEXT NOT NULL,
    PRIMARY KEY (publishableKey, idempotencyKey)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS usage_key_owners_by_age ON usage_key_owners (createdAt);
CREATE TABLE IF NOT EXISTS usage_period_users (
    publishableKey TEXT NOT NULL,
    periodStart    TEXT NOT NULL,
    users          INTEGER NOT NULL CHECK (users >= 0),
    PRIMARY KEY (publishableKey, periodStart)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS usage_unflushed (
    publishableKey TEXT NOT NULL,
    userId         TEXT NOT NULL,
    periodStart    TEXT NOT NULL,
    meter          TEXT NOT NULL DEFAULT 'requests',
    generation     INTEGER NOT NULL,
    PRIMARY KEY (publishableKey, userId, periodStart, meter)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS usage_unflushed_by_generation ON usage_unflushed (generation);
CREATE TABLE IF NOT EXISTS counter_state (
    id            INTEGER PRIMARY KEY CHECK (id = 1),
    generation    INTEGER NOT NULL,
    startedAtSecs INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS overage_reports (
    publishableKey    TEXT NOT NULL,
    userId            TEXT NOT NULL,
    periodStart       TEXT NOT NULL,
    meter             TEXT NOT NULL,
    periodEnd         TEXT NOT NULL,
    included          INTEGER NOT NULL CHECK (included >= 0),
    eventName         TEXT NOT NULL,
    stripeCustomer    TEXT NOT NULL,
    reported          INTEGER NOT NULL DEFAULT 0 CHECK (reported >= 0),
    pendingTo         INTEGER,
    pendingIdentifier TEXT,
    pendingTimestamp  INTEGER,
    pendingSince      INTEGER,
    attempts          INTEGER NOT NULL DEFAULT 0,
    dirty             INTEGER NOT NULL DEFAULT 1,
    PRIMARY KEY (publishableKey, userId, periodStart, meter)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS overage_reports_pending ON overage_reports (attempts) WHERE pendingTo IS NOT NULL;
CREATE INDEX IF NOT EXISTS overage_reports_dirty ON overage_reports (dirty) WHERE dirty = 1;
CREATE INDEX IF NOT EXISTS overage_reports_by_end ON overage_reports (periodEnd);
CREATE TABLE IF NOT EXISTS webhook_outbox (
    dedupKey  TEXT PRIMARY KEY,
    event     TEXT NOT NULL,
    createdAt INTEGER NOT NULL,
    copied    INTEGER NOT NULL DEFAULT 0
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS webhook_outbox_by_state ON webhook_outbox (copied, createdAt);
CREATE TABLE IF NOT EXISTS config_epoch (
    id    INTEGER PRIMARY KEY CHECK (id = 1),
    epoch INTEGER NOT NULL
);";

/// The project's configuration epoch (`usage::counter`): 0 until its first change.
pub const SELECT_CONFIG_EPOCH: &str = "SELECT epoch FROM config_epoch WHERE id = 1";
/// A change of the project's configuration: the epoch becomes at least ?1 (the change's time in
/// milliseconds, so epochs told by different workers keep their order) and always grows.
pub const ADVANCE_CONFIG_EPOCH: &str = "\
INSERT INTO config_epoch (id, epoch) VALUES (1, ?1)
ON CONFLICT (id) DO UPDATE SET epoch = max(epoch + 1, excluded.epoch)
RETURNING epoch";

/// A developer webhook the count that caused it recorded in the same transaction (a threshold
/// crossed, the spend cap reached); the flush copies it to D1. ?1 dedupKey, ?2 the event's
/// JSON, ?3 now.
pub const RECORD_OUTBOX_EVENT: &str =
    "INSERT OR IGNORE INTO webhook_outbox (dedupKey, event, createdAt) VALUES (?1, ?2, ?3)";
/// The oldest ?1 events waiting for D1.
pub const SELECT_OUTBOX: &str =
    "SELECT dedupKey, event FROM webhook_outbox WHERE copied = 0 ORDER BY createdAt LIMIT ?1";
/// Copied rows stay (until `PURGE_COPIED_OUTBOX`) so the same event is not made again: a user
/// the spend cap refuses keeps being refused, and is told once.
pub const MARK_OUTBOX_COPIED: &str = "UPDATE webhook_outbox SET copied = 1 WHERE dedupKey = ?1";
/// Copied events older than any period (?1 in Unix seconds).
pub const PURGE_COPIED_OUTBOX: &str = "DELETE FROM webhook_outbox WHERE copied = 1 AND createdAt < ?1";

/// The tables that say whether the counter's storage predates meters (its `usage_counts` has
/// no `meter` column) or a migration of it was cut short (`*_v1` tables left).
pub const SELECT_COUNTS_TABLES: &str = "\
SELECT name, sql FROM sqlite_master WHERE type = 'table'
  AND name IN ('usage_counts', 'usage_counts_v1', 'usage_unflushed_v1')";

/// A counter created before meters: every row it holds counted requests. Run before
/// [`COUNTER_SCHEMA`] creates the new tables; then [`MIGRATE_COUNT_ROWS`] and
/// [`MIGRATE_UNFLUSHED_ROWS`] copy the rows in (each again on the next start if cut short).
pub const MIGRATE_COUNTER_TABLES: &str = "
ALTER TABLE usage_counts RENAME TO usage_counts_v1;
ALTER TABLE usage_unflushed RENAME TO usage_unflushed_v1;
DROP INDEX IF EXISTS usage_counts_by_period;
DROP INDEX IF EXISTS usage_counts_by_end;
DROP INDEX IF EXISTS usage_unflushed_by_generation;
ALTER TABLE usage_idempotency ADD COLUMN meter TEXT NOT NULL DEFAULT 'requests';";

pub const MIGRATE_COUNT_ROWS: &str = "
INSERT OR IGNORE INTO usage_counts (publishableKey, userId, periodStart, meter, periodEnd, platformId, plan, usageCount, updatedAt)
SELECT publishableKey, userId, periodStart, 'requests', periodEnd, platformId, plan, usageCount, updatedAt FROM usage_counts_v1;
DROP TABLE usage_counts_v1;";

pub const MIGRATE_UNFLUSHED_ROWS: &str = "
INSERT OR IGNORE INTO usage_unflushed (publishableKey, userId, periodStart, meter, generation)
SELECT publishableKey, userId, periodStart, 'requests', generation FROM usage_unflushed_v1;
DROP TABLE usage_unflushed_v1;";

/// A billed meter's terms, noted with each count so the flush can report its overage; the row
/// turns dirty (it may have overage no report covers), so a flush looks at it and at no other.
/// While a report is on its way its customer and event stay as sent (a retry must repeat it).
/// ?1 publishableKey, ?2 userId, ?3 periodStart, ?4 meter, ?5 periodEnd, ?6 included,
/// ?7 eventName, ?8 stripeCustomer.
pub const NOTE_OVERAGE_TERMS: &str = "\
INSERT INTO overage_reports (publishableKey, userId, periodStart, meter, periodEnd, included, eventName, stripeCustomer)
VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)
ON CONFLICT (publishableKey, userId, periodStart, meter) DO UPDATE
SET included = excluded.included, periodEnd = excluded.periodEnd, dirty = 1,
    eventName = CASE WHEN pendingTo IS NULL THEN excluded.eventName ELSE eventName END,
    stripeCustomer = CASE WHEN pendingTo IS NULL THEN excluded.stripeCustomer ELSE stripeCustomer END";

/// Dirty rows with no report on their way, and their overage (not more than reported when
/// nothing new passed the included amount).
pub const SELECT_UNREPORTED_OVERAGE: &str = "\
SELECT r.publishableKey, r.userId, r.periodStart, r.meter, r.periodEnd, r.reported, c.usageCount - r.included AS overage
FROM overage_reports r
JOIN usage_counts c ON c.publishableKey = r.publishableKey AND c.userId = r.userId
  AND c.periodStart = r.periodStart AND c.meter = r.meter
WHERE r.dirty = 1 AND r.pendingTo IS NULL
LIMIT 500";

/// A dirty row with nothing to report is clean again. ?1-?4 the row's key.
pub const CLEAN_OVERAGE_ROW: &str = "\
UPDATE overage_reports SET dirty = 0
WHERE publishableKey = ?1 AND userId = ?2 AND periodStart = ?3 AND meter = ?4 AND pendingTo IS NULL";

/// Fixes the next report of a row: it brings Stripe's total to ?5 under identifier ?6, dated
/// ?7 (Unix seconds), opened at ?8, and is sent exactly so until Stripe has it (the row is
/// clean until counted again). ?1-?4 the row's key.
pub const OPEN_OVERAGE_REPORT: &str = "\
UPDATE overage_reports SET pendingTo = ?5, pendingIdentifier = ?6, pendingTimestamp = ?7, pendingSince = ?8,
  attempts = 0, dirty = 0
WHERE publishableKey = ?1 AND userId = ?2 AND periodStart = ?3 AND meter = ?4 AND pendingTo IS NULL";

/// Whether a dirty row waits with no report on its way (one counted while its report was on
/// its way is such a row once Stripe confirms: it needs another flush).
pub const SELECT_ANY_UNREPORTED: &str =
    "SELECT 1 AS waiting FROM overage_reports WHERE dirty = 1 AND pendingTo IS NULL LIMIT 1";

/// The reports on their way, those tried least first (one that keeps failing holds up no
/// other), opened after ?1: an older one is not sent again blindly (`REPORT_MAX_AGE_SECS`).
pub const SELECT_PENDING_REPORTS: &str = "\
SELECT publishableKey, userId, periodStart, meter, eventName, stripeCustomer, reported, pendingTo,
  pendingIdentifier, pendingTimestamp, attempts
FROM overage_reports WHERE pendingTo IS NOT NULL AND pendingSince > ?1 ORDER BY attempts LIMIT 500";

/// Reports opened at or before ?1 and still unconfirmed: Stripe may or may not have them.
pub const COUNT_STALE_REPORTS: &str =
    "SELECT COUNT(*) AS stale FROM overage_reports WHERE pendingTo IS NOT NULL AND pendingSince <= ?1";

/// A report failed; it goes to the back of the queue. ?1-?4 the row's key, ?5 its identifier.
pub const NOTE_REPORT_FAILED: &str = "\
UPDATE overage_reports SET attempts = attempts + 1
WHERE publishableKey = ?1 AND userId = ?2 AND periodStart = ?3 AND meter = ?4 AND pendingIdentifier = ?5";

/// Stripe has the report ?5. ?1-?4 the row's key.
pub const CONFIRM_OVERAGE_REPORT: &str = "\
UPDATE overage_reports SET reported = pendingTo, pendingTo = NULL, pendingIdentifier = NULL, pendingTimestamp = NULL,
  pendingSince = NULL
WHERE publishableKey = ?1 AND userId = ?2 AND periodStart = ?3 AND meter = ?4 AND pendingIdentifier = ?5";

/// Report rows of periods that ended before ?1 whose count was purged (fully reported).
pub const PURGE_REPORTED_OVERAGE: &str = "\
DELETE FROM overage_reports WHERE periodEnd < ?1 AND NOT EXISTS (
  SELECT 1 FROM usage_counts c WHERE c.publishableKey = overage_reports.publishableKey
  AND c.userId = overage_reports.userId AND c.periodStart = overage_reports.periodStart
  AND c.meter = overage_reports.meter)";

/// Once per counter, when its storage is created. ?1 now (seconds).
pub const INIT_COUNTER_STATE: &str =
    "INSERT INTO counter_state (id, generation, startedAtSecs) VALUES (1, 0, ?1) ON CONFLICT (id) DO NOTHING";

pub const SELECT_COUNTER_STARTED: &str = "SELECT startedAtSecs FROM counter_state WHERE id = 1";

/// A counted row waits for the next flush. ?1 publishableKey, ?2 userId, ?3 periodStart, ?4 meter.
pub const MARK_UNFLUSHED: &str = "\
INSERT INTO usage_unflushed (publishableKey, userId, periodStart, meter, generation)
SELECT ?1, ?2, ?3, ?4, generation FROM counter_state WHERE id = 1
ON CONFLICT (publishableKey, userId, periodStart, meter) DO UPDATE SET generation = excluded.generation";

/// Starts a flush: rows marked from now on wait for the next one. Returns the closed generation.
pub const CLOSE_GENERATION: &str =
    "UPDATE counter_state SET generation = generation + 1 WHERE id = 1 RETURNING generation - 1 AS closed";

/// The rows a flush copies to D1: those of the closed generation and before. ?1 generation.
pub const SELECT_UNFLUSHED: &str = "\
SELECT c.publishableKey, c.userId, c.periodStart, c.periodEnd, c.platformId, c.plan, c.usageCount, c.updatedAt, c.meter
FROM usage_unflushed u
JOIN usage_counts c ON c.publishableKey = u.publishableKey AND c.userId = u.userId AND c.periodStart = u.periodStart
  AND c.meter = u.meter
WHERE u.generation <= ?1";

/// After D1 confirmed the copy. ?1 the flushed generation.
pub const FORGET_FLUSHED: &str = "DELETE FROM usage_unflushed WHERE generation <= ?1";

pub const SELECT_ANY_UNFLUSHED: &str = "SELECT 1 AS waiting FROM usage_unflushed LIMIT 1";

/// Idempotency claims older than their window protect nothing. ?1 the cutoff.
pub const PURGE_EXPIRED_CLAIMS: &str = "DELETE FROM usage_idempotency WHERE createdAt < ?1";
pub const PURGE_EXPIRED_KEY_OWNERS: &str = "DELETE FROM usage_key_owners WHERE createdAt < ?1";

/// Rows of periods that ended before ?1 and are in D1 already: nothing counts in an ended
/// period, and D1 keeps the record.
pub const PURGE_ENDED_PERIODS: &str = "\
DELETE FROM usage_counts WHERE periodEnd < ?1
  AND NOT EXISTS (SELECT 1 FROM usage_unflushed u WHERE u.publishableKey = usage_counts.publishableKey
                  AND u.userId = usage_counts.userId AND u.periodStart = usage_counts.periodStart
                  AND u.meter = usage_counts.meter)
  AND NOT EXISTS (SELECT 1 FROM overage_reports r WHERE r.publishableKey = usage_counts.publishableKey
                  AND r.userId = usage_counts.userId AND r.periodStart = usage_counts.periodStart
                  AND r.meter = usage_counts.meter
                  AND (r.pendingTo IS NOT NULL OR r.reported < usage_counts.usageCount - r.included))";

/// The users-per-period tallies of periods with no row left.
pub const PURGE_ENDED_PERIOD_USERS: &str = "\
DELETE FROM usage_period_users WHERE NOT EXISTS (
  SELECT 1 FROM usage_counts c WHERE c.publishableKey = usage_period_users.publishableKey
  AND c.periodStart = usage_period_users.periodStart)";

/// A row carried over from D1 into a counter that has not seen this user and period (its
/// first use after the counters were deployed, or a counter whose storage was replaced).
/// Inserts nothing if the counter has the row. Same parameters as [`COPY_USAGE_ROW`].
pub const SEED_USAGE_ROW: &str = "\
INSERT INTO usage_counts (publishableKey, userId, periodStart, periodEnd, platformId, plan, usageCount, updatedAt, meter)
VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)
ON CONFLICT (publishableKey, userId, periodStart, meter) DO NOTHING
RETURNING usageCount";

/// D1: a counter's row copied in. A count never goes down, so an older copy arriving late
/// (a retried flush) changes nothing. ?1 publishableKey, ?2 userId, ?3 periodStart,
/// ?4 periodEnd, ?5 platformId, ?6 plan, ?7 usageCount, ?8 updatedAt, ?9 meter.
pub const COPY_USAGE_ROW: &str = "\
INSERT INTO usage_counts (publishableKey, userId, periodStart, periodEnd, platformId, plan, usageCount, updatedAt, meter)
VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)
ON CONFLICT (publishableKey, userId, periodStart, meter) DO UPDATE
SET usageCount = excluded.usageCount, plan = excluded.plan, periodEnd = excluded.periodEnd, updatedAt = excluded.updatedAt
WHERE excluded.usageCount >= usage_counts.usageCount";

/// D1: one user's row of a period and meter, to seed a counter. ?1 publishableKey, ?2 userId,
/// ?3 periodStart, ?4 meter.
pub const SELECT_USAGE_ROW: &str = "\
SELECT publishableKey, userId, periodStart, periodEnd, platformId, plan, usageCount, updatedAt, meter
FROM usage_counts WHERE publishableKey = ?1 AND userId = ?2 AND periodStart = ?3 AND meter = ?4";

/// Stripe recognises a meter event's identifier for at least 24 hours, no longer promised: a
/// report unconfirmed for longer is not sent again under it (it might be counted twice).
pub const REPORT_MAX_AGE_SECS: i64 = 23 * 3600;

/// How long an Idempotency-Key protects against a double count.
pub const IDEMPOTENCY_WINDOW_SECS: i64 = 24 * 3600;

/// What the statements' results say, before the current count of a refused request is read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    Counted(u64),
    Replayed(u64),
    LimitReached,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CountRow {
    pub usage_count: i64,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ClaimRow {
    pub user_id: String,
    pub request_id: String,
    pub usage_count: Option<i64>,
    pub created_at: String,
    pub meter: String,
}

/// A `usage_counts` row as a flush copies it (and a seed reads it back).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct UsageRow {
    pub publishable_key: String,
    pub user_id: String,
    pub period_start: String,
    pub period_end: String,
    pub platform_id: String,
    pub plan: String,
    pub usage_count: i64,
    pub updated_at: String,
    pub meter: String,
}

impl UsageRow {
    pub fn params(&self) -> Vec<SqlParam> {
        vec![
            self.publishable_key.as_str().into(),
            self.user_id.as_str().into(),
            self.period_start.as_str().into(),
            self.period_end.as_str().into(),
            self.platform_id.as_str().into(),
            self.plan.as_str().into(),
            self.usage_count.into(),
            self.updated_at.as_str().into(),
            self.meter.as_str().into(),
        ]
    }
}

fn as_count(n: i64) -> u64 {
    u64::try_from(n).unwrap_or(0)
}

// Parameter lists, in the order each statement's doc comment gives. Pure, so the native SQL
// tests bind exactly what production binds.
impl CountRequest {
    pub fn count_params(&self, project: &Project) -> Vec<SqlParam> {
        vec![
            project.publishable_key.as_str().into(),
            self.user_id.as_str().into(),
            self.period.start.to_rfc3339().into(),
            self.period.end.to_rfc3339().into(),
            project.platform_id.as_str().into(),
            self.plan.as_str().into(),
            self.limit.as_sql().into(),
            self.now.to_rfc3339().into(),
            self.idempotency_key.as_deref().into(),
            self.request_id.as_str().into(),
            self.users_bound_sql().into(),
            self.meter.as_str().into(),
            self.quantity_sql().into(),
        ]
    }

    fn quantity_sql(&self) -> i64 {
        i64::try_from(self.quantity).unwrap_or(i64::MAX)
    }

    fn users_bound_sql(&self) -> Option<i64> {
        self.users_bound.map(|n| i64::try_from(n).unwrap_or(i64::MAX))
    }

    /// The row's key: publishableKey, userId, periodStart, meter (SELECT_USAGE, MARK_UNFLUSHED
    /// and SELECT_USAGE_ROW).
    pub fn row_params(&self, project: &Project) -> Vec<SqlParam> {
        let mut params = self.user_params(project);
        params.push(self.meter.as_str().into());
        params
    }

    /// The user's rows of the period, every meter: publishableKey, userId, periodStart.
    pub fn user_params(&self, project: &Project) -> Vec<SqlParam> {
        vec![
            project.publishable_key.as_str().into(),
            self.user_id.as_str().into(),
            self.period.start.to_rfc3339().into(),
        ]
    }

    pub fn new_user_params(&self, project: &Project) -> Vec<SqlParam> {
        vec![
            project.publishable_key.as_str().into(),
            self.period.start.to_rfc3339().into(),
        ]
    }

    /// Claims made before this are past the window: they protect nothing any more.
    fn expired_before(&self) -> String {
        Timestamp(self.now.0 - IDEMPOTENCY_WINDOW_SECS).to_rfc3339()
    }

    pub fn claim_params(&self, project: &Project, key: &str) -> Vec<SqlParam> {
        vec![
            project.publishable_key.as_str().into(),
            key.into(),
            self.user_id.as_str().into(),
            self.request_id.as_str().into(),
            self.now.to_rfc3339().into(),
            self.period.start.to_rfc3339().into(),
            self.limit.as_sql().into(),
            self.expired_before().into(),
            self.users_bound_sql().into(),
            self.meter.as_str().into(),
            self.quantity_sql().into(),
        ]
    }

    pub fn record_params(&self, project: &Project, key: &str) -> Vec<SqlParam> {
        vec![
            project.publishable_key.as_str().into(),
            key.into(),
            self.user_id.as_str().into(),
            self.period.start.to_rfc3339().into(),
            self.request_id.as_str().into(),
            self.meter.as_str().into(),
        ]
    }

    pub fn claim_read_params(&self, project: &Project, key: &str) -> Vec<SqlParam> {
        vec![project.publishable_key.as_str().into(), key.into()]
    }

    pub fn bind_params(&self, project: &Project, key: &str) -> Vec<SqlParam> {
        vec![
            project.publishable_key.as_str().into(),
            key.into(),
            self.user_id.as_str().into(),
            self.now.to_rfc3339().into(),
            self.expired_before().into(),
        ]
    }

    /// Reads the results of the idempotent statements: the counting statement's row, and the
    /// claim as it stands after them.
    pub fn verdict(&self, counted: Option<CountRow>, claim: Option<ClaimRow>) -> ApiResult<Verdict> {
        if let Some(row) = counted {
            return Ok(Verdict::Counted(as_count(row.usage_count)));
        }
        // A claim past the window is not a record to replay: at the limit, the claim statement
        // cannot take it over, and the request is a new one, refused like any other.
        let expired_before = self.expired_before();
        let claim = claim.filter(|c| c.created_at >= expired_before);
        match claim {
            // No claim at all: the limit refused this request before it could claim the key.
            None => Ok(Verdict::LimitReached),
            Some(claim) if claim.request_id != self.request_id && claim.user_id != self.user_id => {
                Err(key_of_another_user())
            }
            Some(claim) if claim.request_id != self.request_id && claim.meter != self.meter => {
                Err(ApiError::conflict(format!(
                    "This Idempotency-Key was already used to count the `{}` meter",
                    claim.meter
                )))
            }
            Some(ClaimRow {
                request_id,
                usage_count: Some(count),
                ..
            }) if request_id != self.request_id => Ok(Verdict::Replayed(as_count(count))),
            // Claimed by this request but not counted, or claimed without a recorded count: the
            // claim, count and record commit together, so neither can happen; say so loudly.
            Some(_) => Err(ApiError::internal("idempotency claim without a matching count")),
        }
    }

    /// What a refused request is told, given the count its period already holds.
    pub fn refusal(&self, count: u64) -> CountOutcome {
        let over_limit = self
            .limit
            .max()
            .is_some_and(|max| count.saturating_add(self.quantity) > max);
        match self.users_bound {
            // Nothing counted for a user whose quantity the limit would admit: the bound said no.
            Some(_) if count == 0 && !over_limit => CountOutcome::TooManyUsers,
            _ => CountOutcome::LimitReached(count),
        }
    }
}

impl CountRequest {
    pub fn overage_terms_params(&self, project: &Project, terms: &OverageTerms) -> Vec<SqlParam> {
        let mut params = self.row_params(project);
        params.extend([
            self.period.end.to_rfc3339().into(),
            i64::try_from(terms.included).unwrap_or(i64::MAX).into(),
            terms.event_name.as_str().into(),
            terms.stripe_customer.as_str().into(),
        ]);
        params
    }
}

/// A report of a user's overage to Stripe, fixed before it is first sent: a retry sends the
/// same value under the same identifier, which Stripe counts once.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct OverageReport {
    pub publishable_key: String,
    pub user_id: String,
    pub period_start: String,
    pub meter: String,
    pub event_name: String,
    pub stripe_customer: String,
    pub reported: i64,
    pub pending_to: i64,
    pub pending_identifier: String,
    /// When the events it reports happened, for Stripe (Unix seconds): the moment it was fixed,
    /// but within the period that counted them, so it bills that period.
    pub pending_timestamp: i64,
    /// How often it failed: each attempt goes under its own Idempotency-Key, so a refusal
    /// Stripe would replay for a day does not stall it (the identifier keeps it counted once).
    pub attempts: i64,
}

impl OverageReport {
    /// The units this report adds to Stripe's total.
    pub fn value(&self) -> u64 {
        u64::try_from(self.pending_to - self.reported).unwrap_or(0)
    }

    fn key_params(&self) -> Vec<SqlParam> {
        vec![
            self.publishable_key.as_str().into(),
            self.user_id.as_str().into(),
            self.period_start.as_str().into(),
            self.meter.as_str().into(),
        ]
    }
}

/// Derived from what a report covers (the row and the range of overage units), so the same
/// range is never sent under two identifiers, nor two ranges under one.
pub fn report_identifier(row: &[&str], from: i64, to: i64) -> String {
    use sha2::{Digest, Sha256};
    let mut hash = Sha256::new();
    for part in row {
        hash.update(part.as_bytes());
        hash.update([0]);
    }
    hash.update(format!("{from}-{to}").as_bytes());
    format!("dream_{}", &hex::encode(hash.finalize())[..40])
}

fn key_of_another_user() -> ApiError {
    ApiError::conflict("This Idempotency-Key was already used for a different X-User-Id")
}

/// A usage counter's storage: runs the statements above synchronously, so everything one call
/// does commits together and no other request of the counter runs in between.
#[derive(Clone)]
pub struct CounterStore {
    sql: SqlStorage,
}

impl CounterStore {
    /// Opens the storage, creating its tables the first time.
    pub fn open(sql: SqlStorage, now: Timestamp) -> ApiResult<Self> {
        #[derive(Deserialize)]
        struct Table {
            name: String,
            sql: String,
        }
        let store = Self { sql };
        let tables: Vec<Table> = store.rows(SELECT_COUNTS_TABLES, &[])?;
        let has = |name: &str| tables.iter().any(|t| t.name == name);
        let before_meters = tables
            .iter()
            .any(|t| t.name == "usage_counts" && !t.sql.contains("meter"));
        if before_meters {
            store.exec(MIGRATE_COUNTER_TABLES, &[])?;
        }
        store.exec(COUNTER_SCHEMA, &[])?;
        if before_meters || has("usage_counts_v1") {
            store.exec(MIGRATE_COUNT_ROWS, &[])?;
        }
        if before_meters || has("usage_unflushed_v1") {
            store.exec(MIGRATE_UNFLUSHED_ROWS, &[])?;
        }
        store.exec(INIT_COUNTER_STATE, &[now.0.into()])?;
        Ok(store)
    }

    fn rows<T: DeserializeOwned>(&self, sql: &'static str, params: &[SqlParam]) -> ApiResult<Vec<T>> {
        let values: Vec<JsValue> = params.iter().map(SqlParam::to_js).collect();
        Ok(self
            .sql
            .exec_raw(sql, values)
            .map_err(super::sql_error)?
            .to_array::<T>()
            .map_err(super::sql_error)?)
    }

    fn first<T: DeserializeOwned>(&self, sql: &'static str, params: &[SqlParam]) -> ApiResult<Option<T>> {
        Ok(self.rows(sql, params)?.into_iter().next())
    }

    fn exec(&self, sql: &'static str, params: &[SqlParam]) -> ApiResult<()> {
        let values: Vec<JsValue> = params.iter().map(SqlParam::to_js).collect();
        self.sql.exec_raw(sql, values).map_err(super::sql_error)?;
        Ok(())
    }

    /// When the counter was created: rows of periods that began before it may still be in D1
    /// only (see [`SEED_USAGE_ROW`]).
    pub fn started_at(&self) -> ApiResult<Timestamp> {
        #[derive(Deserialize)]
        #[serde(rename_all = "camelCase")]
        struct Row {
            started_at_secs: i64,
        }
        let row: Option<Row> = self.first(SELECT_COUNTER_STARTED, &[])?;
        Ok(Timestamp(row.map_or(0, |r| r.started_at_secs)))
    }

    pub fn config_epoch(&self) -> ApiResult<u64> {
        #[derive(Deserialize)]
        struct Row {
            epoch: i64,
        }
        let row: Option<Row> = self.first(SELECT_CONFIG_EPOCH, &[])?;
        Ok(row.map_or(0, |r| u64::try_from(r.epoch).unwrap_or(0)))
    }

    /// Records a change of the project's configuration at `at_ms`; the new epoch.
    pub fn advance_config_epoch(&self, at_ms: u64) -> ApiResult<u64> {
        #[derive(Deserialize)]
        struct Row {
            epoch: i64,
        }
        let at = i64::try_from(at_ms).map_err(|_| ApiError::invalid_request("atMs out of range"))?;
        let row: Option<Row> = self.first(ADVANCE_CONFIG_EPOCH, &[at.into()])?;
        let epoch = row.ok_or_else(|| ApiError::internal("config_epoch row missing"))?.epoch;
        Ok(u64::try_from(epoch).unwrap_or(0))
    }

    /// Whether the counter holds the row of this request's user and period.
    pub fn has_row(&self, project: &Project, req: &CountRequest) -> ApiResult<bool> {
        Ok(self
            .first::<CountRow>(SELECT_USAGE, &req.row_params(project))?
            .is_some())
    }

    /// Carries a row over from D1 (a no-op if the counter has one by now).
    pub fn seed(&self, row: &UsageRow) -> ApiResult<()> {
        if self.first::<CountRow>(SEED_USAGE_ROW, &row.params())?.is_some() {
            self.exec(
                NOTE_NEW_PERIOD_USER,
                &[row.publishable_key.as_str().into(), row.period_start.as_str().into()],
            )?;
        }
        Ok(())
    }

    /// Binds `key` to the request's user, or refuses it (409) if another user holds it.
    pub fn bind_key(&self, project: &Project, req: &CountRequest, key: &str) -> ApiResult<()> {
        #[derive(Deserialize)]
        #[serde(rename_all = "camelCase")]
        struct Owner {
            user_id: String,
        }
        self.exec(BIND_IDEMPOTENCY_KEY, &req.bind_params(project, key))?;
        match self.first::<Owner>(SELECT_KEY_OWNER, &req.claim_read_params(project, key))? {
            Some(owner) if owner.user_id == req.user_id => Ok(()),
            Some(_) => Err(key_of_another_user()),
            None => Err(ApiError::internal("idempotency key binding missing after its insert")),
        }
    }

    /// Counts a quantity of a meter, with a billed meter's spend cap applied and its terms noted
    /// for the overage report.
    pub fn count_meter(&self, project: &Project, req: &CountRequest) -> ApiResult<MeterOutcome> {
        let Some(terms) = &req.overage else {
            return Ok(MeterOutcome {
                outcome: self.count(project, req)?,
                spent_nanocents: None,
            });
        };
        let capped = terms.spend_cap.is_some();
        let limited;
        let req = if capped {
            let counts = self.meter_counts(project, req)?;
            let meter = Meter {
                overage: Some(terms.price),
                ..Meter::hard(MeterKey::requests(), UsageLimit::limited(terms.included))
            };
            limited = CountRequest {
                limit: count_limit(&meter, true, terms.spend_cap, terms.spent_elsewhere(&counts)),
                ..req.clone()
            };
            &limited
        } else {
            req
        };
        let outcome = self.count(project, req)?;
        if matches!(outcome, CountOutcome::Counted(_)) {
            self.exec(NOTE_OVERAGE_TERMS, &req.overage_terms_params(project, terms))?;
        }
        let spent_nanocents = if capped {
            let counts = self.meter_counts(project, req)?;
            let own = counts.iter().find(|(key, _)| *key == req.meter).map_or(0, |(_, n)| *n);
            Some(u64::try_from(terms.spent(own, &counts).0).unwrap_or(u64::MAX))
        } else {
            None
        };
        Ok(MeterOutcome {
            outcome,
            spent_nanocents,
        })
    }

    /// Every meter's count of the request's user in its period.
    pub fn meter_counts(&self, project: &Project, req: &CountRequest) -> ApiResult<MeterCounts> {
        #[derive(Deserialize)]
        #[serde(rename_all = "camelCase")]
        struct Row {
            meter: String,
            usage_count: i64,
        }
        let rows: Vec<Row> = self.rows(SELECT_USER_METERS, &req.user_params(project))?;
        Ok(rows.into_iter().map(|r| (r.meter, as_count(r.usage_count))).collect())
    }

    pub fn count(&self, project: &Project, req: &CountRequest) -> ApiResult<CountOutcome> {
        let verdict = match req.idempotency_key.as_deref() {
            None => {
                let counted: Option<CountRow> = self.first(COUNT_USAGE, &req.count_params(project))?;
                counted.map_or(Verdict::LimitReached, |row| Verdict::Counted(as_count(row.usage_count)))
            }
            Some(key) => {
                self.exec(CLAIM_IDEMPOTENCY_KEY, &req.claim_params(project, key))?;
                let counted: Option<CountRow> = self.first(COUNT_USAGE, &req.count_params(project))?;
                self.exec(RECORD_IDEMPOTENT_RESULT, &req.record_params(project, key))?;
                let claim: Option<ClaimRow> =
                    self.first(SELECT_IDEMPOTENCY_CLAIM, &req.claim_read_params(project, key))?;
                req.verdict(counted, claim)?
            }
        };
        Ok(match verdict {
            Verdict::Counted(n) => {
                // A row counted for the first time holds exactly the quantity; the user is new to
                // the period if it is their only row (the bound counts users, not meters).
                if n == req.quantity && self.meter_counts(project, req)?.len() == 1 {
                    self.exec(NOTE_NEW_PERIOD_USER, &req.new_user_params(project))?;
                }
                self.exec(MARK_UNFLUSHED, &req.row_params(project))?;
                CountOutcome::Counted(n)
            }
            Verdict::Replayed(n) => CountOutcome::Replayed(n),
            Verdict::LimitReached => req.refusal(self.usage_count(project, req)?),
        })
    }

    /// Requests counted for the request's user in its period (0 if none yet).
    pub fn usage_count(&self, project: &Project, req: &CountRequest) -> ApiResult<u64> {
        let row: Option<CountRow> = self.first(SELECT_USAGE, &req.row_params(project))?;
        Ok(row.map_or(0, |r| as_count(r.usage_count)))
    }

    /// Starts a flush: the rows to copy and the generation to forget once D1 has them.
    pub fn unflushed(&self) -> ApiResult<(i64, Vec<UsageRow>)> {
        #[derive(Deserialize)]
        struct Closed {
            closed: i64,
        }
        let closed = self
            .first::<Closed>(CLOSE_GENERATION, &[])?
            .ok_or_else(|| ApiError::internal("counter_state row missing"))?
            .closed;
        Ok((closed, self.rows(SELECT_UNFLUSHED, &[closed.into()])?))
    }

    pub fn forget_flushed(&self, generation: i64) -> ApiResult<()> {
        self.exec(FORGET_FLUSHED, &[generation.into()])
    }

    /// Records events caused by the count just made (same transaction: no await between).
    pub fn record_outbox(&self, events: &[Event], now: Timestamp) -> ApiResult<()> {
        for event in events {
            let key = event.dedup_key.clone().unwrap_or_else(|| event.id.clone());
            let json = serde_json::to_string(event).map_err(ApiError::internal)?;
            self.exec(RECORD_OUTBOX_EVENT, &[key.into(), json.into(), now.0.into()])?;
        }
        Ok(())
    }

    /// Events waiting to be copied to D1.
    pub fn outbox(&self, limit: i64) -> ApiResult<Vec<Event>> {
        #[derive(Deserialize)]
        #[serde(rename_all = "camelCase")]
        struct Row {
            dedup_key: String,
            event: String,
        }
        let rows: Vec<Row> = self.rows(SELECT_OUTBOX, &[limit.into()])?;
        rows.into_iter()
            .map(|row| {
                // The dedup key is the row's (the event's JSON is what endpoints receive).
                let event: Event = serde_json::from_str(&row.event).map_err(ApiError::internal)?;
                Ok(Event {
                    dedup_key: Some(row.dedup_key),
                    ..event
                })
            })
            .collect()
    }

    pub fn forget_outbox(&self, events: &[Event]) -> ApiResult<()> {
        for event in events {
            let key = event.dedup_key.clone().unwrap_or_else(|| event.id.clone());
            self.exec(MARK_OUTBOX_COPIED, &[key.into()])?;
        }
        Ok(())
    }

    pub fn has_unflushed(&self) -> ApiResult<bool> {
        #[derive(Deserialize)]
        struct Waiting {
            #[allow(dead_code)]
            waiting: i64,
        }
        Ok(self.first::<Waiting>(SELECT_ANY_UNFLUSHED, &[])?.is_some())
    }

    /// Fixes a report for every row whose overage grew since its last one, and returns every
    /// report not yet confirmed (new ones and those a failure left behind).
    pub fn overage_reports(&self, now: Timestamp) -> ApiResult<Vec<OverageReport>> {
        #[derive(Deserialize)]
        #[serde(rename_all = "camelCase")]
        struct Unreported {
            publishable_key: String,
            user_id: String,
            period_start: String,
            meter: String,
            period_end: String,
            reported: i64,
            overage: i64,
        }
        for row in self.rows::<Unreported>(SELECT_UNREPORTED_OVERAGE, &[])? {
            let key = [
                row.publishable_key.as_str(),
                &row.user_id,
                &row.period_start,
                &row.meter,
            ];
            let mut params: Vec<SqlParam> = key.iter().map(|k| (*k).into()).collect();
            if row.overage <= row.reported {
                self.exec(CLEAN_OVERAGE_ROW, &params)?;
                continue;
            }
            let identifier = report_identifier(&key, row.reported, row.overage);
            let period_end = Timestamp::parse_rfc3339(&row.period_end).map_or(now.0, |t| t.0);
            params.extend([
                row.overage.into(),
                identifier.into(),
                now.0.min(period_end - 1).into(),
                now.0.into(),
            ]);
            self.exec(OPEN_OVERAGE_REPORT, &params)?;
        }
        self.rows(SELECT_PENDING_REPORTS, &[(now.0 - REPORT_MAX_AGE_SECS).into()])
    }

    /// Reports unconfirmed for longer than `REPORT_MAX_AGE_SECS`: not sent again, so not
    /// billed twice; an operator reconciles them with Stripe's meter event summaries.
    pub fn stale_reports(&self, now: Timestamp) -> ApiResult<i64> {
        #[derive(Deserialize)]
        struct Stale {
            stale: i64,
        }
        let row: Option<Stale> = self.first(COUNT_STALE_REPORTS, &[(now.0 - REPORT_MAX_AGE_SECS).into()])?;
        Ok(row.map_or(0, |r| r.stale))
    }

    /// A report failed: tried again later, behind the others.
    pub fn note_report_failed(&self, report: &OverageReport) -> ApiResult<()> {
        let mut params = report.key_params();
        params.push(report.pending_identifier.as_str().into());
        self.exec(NOTE_REPORT_FAILED, &params)
    }

    /// Whether overage was counted that no report covers yet.
    pub fn has_unreported_overage(&self) -> ApiResult<bool> {
        #[derive(Deserialize)]
        struct Waiting {
            #[allow(dead_code)]
            waiting: i64,
        }
        Ok(self.first::<Waiting>(SELECT_ANY_UNREPORTED, &[])?.is_some())
    }

    /// Stripe has `report`: the next one starts where it ended.
    pub fn confirm_report(&self, report: &OverageReport) -> ApiResult<()> {
        let mut params = report.key_params();
        params.push(report.pending_identifier.as_str().into());
        self.exec(CONFIRM_OVERAGE_REPORT, &params)
    }

    /// Drops what protects or counts nothing any more: expired claims and key bindings, and
    /// periods over for more than a day (D1 has them).
    pub fn purge(&self, now: Timestamp) -> ApiResult<()> {
        let expired_before = Timestamp(now.0 - IDEMPOTENCY_WINDOW_SECS).to_rfc3339();
        self.exec(PURGE_EXPIRED_CLAIMS, &[expired_before.as_str().into()])?;
        self.exec(PURGE_EXPIRED_KEY_OWNERS, &[expired_before.into()])?;
        self.exec(PURGE_ENDED_PERIODS, &[Timestamp(now.0 - 86_400).to_rfc3339().into()])?;
        self.exec(PURGE_REPORTED_OVERAGE, &[Timestamp(now.0 - 86_400).to_rfc3339().into()])?;
        // A year and a month: past the longest billing period.
        self.exec(PURGE_COPIED_OUTBOX, &[(now.0 - 400 * 86_400).into()])?;
        self.exec(PURGE_ENDED_PERIOD_USERS, &[])
    }
}

/// D1 rows per batch when a counter copies its rows in.
const COPY_BATCH_ROWS: usize = 100;

impl Database {
    /// Copies a counter's rows into D1, a batch (one transaction) at a time.
    pub async fn copy_usage_rows(&self, rows: &[UsageRow]) -> ApiResult<()> {
        for chunk in rows.chunks(COPY_BATCH_ROWS) {
            let statements: Vec<Statement> = chunk.iter().map(|row| (COPY_USAGE_ROW, row.params())).collect();
            self.batch(&statements).await?;
        }
        Ok(())
    }

    /// One user's row of a period in D1, to seed a counter.
    pub async fn usage_row(&self, project: &Project, req: &CountRequest) -> ApiResult<Option<UsageRow>> {
        self.first(SELECT_USAGE_ROW, &req.row_params(project)).await
    }
}
