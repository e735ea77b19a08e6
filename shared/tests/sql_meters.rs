//! Meters in the usage counters, run natively like the other counter SQL: a counter made
//! before meters keeps its counts, and overage reaches Stripe in reports fixed before they are
//! sent, so a retry repeats a report instead of counting a range twice.

mod common;

use common::{NOW, counter_db, counter_project, open, to_values};
use dream_core::{
    mode::Mode,
    period::{BillingPeriod, Timestamp},
    tiers::UsageLimit,
};
use rusqlite::{Connection, OptionalExtension, params_from_iter};
use shared::{
    storage::{
        Project, SqlParam,
        usage::{
            CLEAN_OVERAGE_ROW, CONFIRM_OVERAGE_REPORT, COUNT_USAGE, COUNTER_SCHEMA, INIT_COUNTER_STATE,
            MIGRATE_COUNT_ROWS, MIGRATE_COUNTER_TABLES, MIGRATE_UNFLUSHED_ROWS, NOTE_OVERAGE_TERMS,
            OPEN_OVERAGE_REPORT, PURGE_ENDED_PERIODS, PURGE_REPORTED_OVERAGE, REPORT_MAX_AGE_SECS,
            SELECT_ANY_UNREPORTED, SELECT_COUNTS_TABLES, SELECT_PENDING_REPORTS, SELECT_UNREPORTED_OVERAGE,
            SELECT_USAGE, report_identifier,
        },
    },
    usage::counter_protocol::{CountRequest, OverageTerms},
};

/// The counter schema of the release before meters, as its counters hold it.
const COUNTER_SCHEMA_BEFORE_METERS: &str = "
CREATE TABLE IF NOT EXISTS usage_counts (
    publishableKey TEXT NOT NULL,
    userId         TEXT NOT NULL,
    periodStart    TEXT NOT NULL,
    periodEnd      TEXT NOT NULL,
    platformId     TEXT NOT NULL,
    plan           TEXT NOT NULL,
    usageCount     INTEGER NOT NULL DEFAULT 0 CHECK (usageCount >= 0),
    updatedAt      TEXT NOT NULL,
    PRIMARY KEY (publishableKey, userId, periodStart)
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
    generation     INTEGER NOT NULL,
    PRIMARY KEY (publishableKey, userId, periodStart)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS usage_unflushed_by_generation ON usage_unflushed (generation);
CREATE TABLE IF NOT EXISTS counter_state (
    id            INTEGER PRIMARY KEY CHECK (id = 1),
    generation    INTEGER NOT NULL,
    startedAtSecs INTEGER NOT NULL
);";

fn tokens(user: &str, quantity: u64) -> CountRequest {
    CountRequest {
        user_id: user.to_owned(),
        plan: "pro".to_owned(),
        limit: UsageLimit::UNLIMITED,
        period: BillingPeriod::calendar_month(NOW),
        now: NOW,
        idempotency_key: None,
        request_id: "r".to_owned(),
        users_bound: None,
        shards: 1,
        usage_in_d1_before: None,
        meter: "tokens".to_owned(),
        quantity,
        overage: Some(OverageTerms {
            included: 10_000,
            price: serde_json::from_value(serde_json::json!({"price": "0.002", "per": 1000})).unwrap(),
            event_name: "tokens_abc".to_owned(),
            stripe_customer: "cus_1".to_owned(),
            spend_cap: None,
            other_meters: Vec::new(),
        }),
        config_epoch: None,
    }
}

fn exec(conn: &Connection, sql: &str, params: &[SqlParam]) -> usize {
    conn.execute(sql, params_from_iter(to_values(params))).unwrap()
}

/// As `CounterStore::count_meter` counts a billed meter: the count, then its terms.
fn count(conn: &Connection, p: &Project, req: &CountRequest) -> Option<i64> {
    let counted: Option<i64> = conn
        .query_row(COUNT_USAGE, params_from_iter(to_values(&req.count_params(p))), |r| {
            r.get(0)
        })
        .optional()
        .unwrap();
    if counted.is_some() {
        exec(
            conn,
            NOTE_OVERAGE_TERMS,
            &req.overage_terms_params(p, req.overage.as_ref().unwrap()),
        );
    }
    counted
}

/// A report as `CounterStore::overage_reports` returns it: (user, value, identifier).
type Report = (String, i64, String);

/// As `CounterStore::overage_reports`: fixes new reports, returns every one not confirmed.
fn reports(conn: &Connection) -> Vec<Report> {
    let unreported: Vec<(String, String, String, String, i64, i64)> = conn
        .prepare(SELECT_UNREPORTED_OVERAGE)
        .unwrap()
        .query_map([], |r| {
            Ok((
                r.get(0)?,
                r.get(1)?,
                r.get(2)?,
                r.get(3)?,
                r.get("reported")?,
                r.get("overage")?,
            ))
        })
        .unwrap()
        .map(Result::unwrap)
        .collect();
    for (pk, user, period, meter, reported, overage) in unreported {
        if overage <= reported {
            conn.execute(CLEAN_OVERAGE_ROW, (&pk, &user, &period, &meter)).unwrap();
            continue;
        }
        let identifier = report_identifier(&[&pk, &user, &period, &meter], reported, overage);
        conn.execute(
            OPEN_OVERAGE_REPORT,
            (&pk, &user, &period, &meter, overage, identifier, NOW.0, NOW.0),
        )
        .unwrap();
    }
    conn.prepare(SELECT_PENDING_REPORTS)
        .unwrap()
        .query_map([NOW.0 - REPORT_MAX_AGE_SECS], |r| {
            let reported: i64 = r.get("reported")?;
            let to: i64 = r.get("pendingTo")?;
            Ok((r.get("userId")?, to - reported, r.get("pendingIdentifier")?))
        })
        .unwrap()
        .map(Result::unwrap)
        .collect()
}

fn confirm(conn: &Connection, p: &Project, (user, _, identifier): &Report) {
    let period = BillingPeriod::calendar_month(NOW).start.to_rfc3339();
    let key = (p.publishable_key.as_str(), user, &period, "tokens", identifier);
    assert_eq!(conn.execute(CONFIRM_OVERAGE_REPORT, key).unwrap(), 1);
}

#[test]
fn overage_is_reported_in_fixed_ranges_that_add_up_to_the_count() {
    let conn = counter_db(None);
    let p = counter_project(Mode::Test);
    assert_eq!(count(&conn, &p, &tokens("u1", 8_000)), Some(8_000));
    assert!(reports(&conn).is_empty(), "nothing past the included 10,000 yet");
    count(&conn, &p, &tokens("u1", 4_000));
    let first = reports(&conn);
    assert_eq!(first.len(), 1);
    assert_eq!(first[0].1, 2_000);
    // More is counted while the report is on its way (or after it failed): the retry sends the
    // very same report, so Stripe can recognise it by its identifier.
    count(&conn, &p, &tokens("u1", 13_000));
    assert_eq!(reports(&conn), first);
    confirm(&conn, &p, &first[0]);
    let second = reports(&conn);
    assert_eq!(second.len(), 1);
    assert_eq!(second[0].1, 13_000);
    assert_ne!(second[0].2, first[0].2, "another range, another identifier");
    confirm(&conn, &p, &second[0]);
    assert!(reports(&conn).is_empty());
    // 25,000 counted, 10,000 included: 15,000 reported, in two reports.
    assert_eq!(first[0].1 + second[0].1, 15_000);
}

#[test]
fn a_period_with_overage_not_yet_reported_is_not_purged() {
    let conn = counter_db(None);
    let p = counter_project(Mode::Test);
    count(&conn, &p, &tokens("u1", 11_000));
    let long_after = Timestamp(BillingPeriod::calendar_month(NOW).end.0 + 2 * 86_400).to_rfc3339();
    assert_eq!(conn.execute(PURGE_ENDED_PERIODS, [&long_after]).unwrap(), 0);
    let pending = reports(&conn);
    assert_eq!(
        conn.execute(PURGE_ENDED_PERIODS, [&long_after]).unwrap(),
        0,
        "a report on its way"
    );
    confirm(&conn, &p, &pending[0]);
    assert_eq!(
        conn.execute(PURGE_ENDED_PERIODS, [&long_after]).unwrap(),
        1,
        "reported: D1 keeps it"
    );
    assert_eq!(conn.execute(PURGE_REPORTED_OVERAGE, [&long_after]).unwrap(), 1);
}

#[test]
fn a_counter_from_before_meters_keeps_its_counts_as_requests() {
    let conn = open(None);
    conn.execute_batch(COUNTER_SCHEMA_BEFORE_METERS).unwrap();
    conn.execute(INIT_COUNTER_STATE, [NOW.0]).unwrap();
    let p = counter_project(Mode::Test);
    let pk = p.publishable_key.as_str();
    let period = BillingPeriod::calendar_month(NOW);
    let (start, end) = (period.start.to_rfc3339(), period.end.to_rfc3339());
    conn.execute(
        "INSERT INTO usage_counts (publishableKey, userId, periodStart, periodEnd, platformId, plan, usageCount, updatedAt)
         VALUES (?1, 'old', ?2, ?3, ?4, 'free', 41, ?2)",
        (pk, &start, &end, &p.platform_id),
    )
    .unwrap();
    conn.execute(
        "INSERT INTO usage_unflushed (publishableKey, userId, periodStart, generation) VALUES (?1, 'old', ?2, 0)",
        (pk, &start),
    )
    .unwrap();
    // As `CounterStore::open`.
    let tables = |conn: &Connection| -> Vec<(String, String)> {
        conn.prepare(SELECT_COUNTS_TABLES)
            .unwrap()
            .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
            .unwrap()
            .map(Result::unwrap)
            .collect()
    };
    let before_meters = tables(&conn)
        .iter()
        .any(|(name, sql)| name == "usage_counts" && !sql.contains("meter"));
    assert!(before_meters);
    conn.execute_batch(MIGRATE_COUNTER_TABLES).unwrap();
    conn.execute_batch(COUNTER_SCHEMA).unwrap();
    conn.execute_batch(MIGRATE_COUNT_ROWS).unwrap();
    // Cut short here, the next start finds `usage_unflushed_v1` and finishes.
    assert!(tables(&conn).iter().any(|(name, _)| name == "usage_unflushed_v1"));
    conn.execute_batch(MIGRATE_UNFLUSHED_ROWS).unwrap();
    assert_eq!(tables(&conn).len(), 1, "only the new usage_counts is left");
    let requests: i64 = conn
        .query_row(SELECT_USAGE, (pk, "old", &start, "requests"), |r| r.get(0))
        .unwrap();
    assert_eq!(requests, 41);
    let waiting: String = conn
        .query_row("SELECT meter FROM usage_unflushed", [], |r| r.get(0))
        .unwrap();
    assert_eq!(waiting, "requests", "a count not yet in D1 still waits for its flush");
    assert!(
        count(&conn, &p, &tokens("old", 5)).is_some(),
        "and the counter counts meters"
    );
    // Opened again: nothing to migrate.
    assert!(tables(&conn).iter().all(|(_, sql)| sql.contains("meter")));
}

#[test]
fn only_rows_counted_since_the_last_flush_are_looked_at() {
    let conn = counter_db(None);
    let p = counter_project(Mode::Test);
    let dirty = |conn: &Connection| {
        conn.query_row(SELECT_ANY_UNREPORTED, [], |_| Ok(()))
            .optional()
            .unwrap()
            .is_some()
    };
    count(&conn, &p, &tokens("u1", 5_000));
    assert!(dirty(&conn), "a counted row waits for the flush");
    assert!(
        reports(&conn).is_empty(),
        "under the included amount: nothing to report"
    );
    assert!(!dirty(&conn), "and the row is clean again");
    count(&conn, &p, &tokens("u1", 6_000));
    let pending = reports(&conn);
    assert_eq!(pending[0].1, 1_000);
    assert!(!dirty(&conn));
    count(&conn, &p, &tokens("u1", 500));
    assert!(
        !dirty(&conn),
        "counted while its report is on its way: the confirmation opens the next"
    );
    confirm(&conn, &p, &pending[0]);
    assert!(dirty(&conn));
    assert_eq!(reports(&conn)[0].1, 500);
}
