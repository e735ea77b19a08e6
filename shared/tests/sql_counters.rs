//! A usage counter's bookkeeping, run natively: what its flush copies to D1 and forgets, how a
//! row is carried over from D1, and what its housekeeping drops. The counting statements
//! themselves are tested in sql.rs.

mod common;

use common::{NOW, counter_db, counter_project, migrated, to_values};
use dream_core::{
    mode::Mode,
    period::{BillingPeriod, Timestamp},
    tiers::UsageLimit,
    usage::layout::CounterLayout,
};
use rusqlite::{Connection, OptionalExtension, params_from_iter};
use shared::{
    storage::{
        Project, SqlParam,
        projects::{SELECT_ACTIVE_PROJECT, UPDATE_COUNTER_LAYOUT},
        usage::{
            ADVANCE_CONFIG_EPOCH, BIND_IDEMPOTENCY_KEY, CLOSE_GENERATION, COPY_USAGE_ROW, COUNT_USAGE, FORGET_FLUSHED,
            MARK_UNFLUSHED, NOTE_NEW_PERIOD_USER, PURGE_ENDED_PERIOD_USERS, PURGE_ENDED_PERIODS, PURGE_EXPIRED_CLAIMS,
            PURGE_EXPIRED_KEY_OWNERS, SEED_USAGE_ROW, SELECT_ANY_UNFLUSHED, SELECT_CONFIG_EPOCH, SELECT_KEY_OWNER,
            SELECT_UNFLUSHED, SELECT_USAGE, SELECT_USAGE_ROW, UsageRow,
        },
    },
    usage::counter_protocol::CountRequest,
};

fn request(user: &str, bound: Option<u64>) -> CountRequest {
    CountRequest {
        user_id: user.to_owned(),
        plan: "free".to_owned(),
        limit: UsageLimit::limited(1_000),
        period: BillingPeriod::calendar_month(NOW),
        now: NOW,
        idempotency_key: None,
        request_id: "r".to_owned(),
        users_bound: bound,
        shards: 1,
        usage_in_d1_before: None,
        meter: "requests".to_owned(),
        quantity: 1,
        overage: None,
        config_epoch: None,
    }
}

fn exec(conn: &Connection, sql: &str, params: &[SqlParam]) -> usize {
    conn.execute(sql, params_from_iter(to_values(params))).unwrap()
}

/// As `CounterStore::count` does for a request without an Idempotency-Key.
fn count(conn: &Connection, p: &Project, req: &CountRequest) -> Option<i64> {
    let counted: Option<i64> = conn
        .query_row(COUNT_USAGE, params_from_iter(to_values(&req.count_params(p))), |r| {
            r.get(0)
        })
        .optional()
        .unwrap();
    if counted == Some(1) {
        exec(conn, NOTE_NEW_PERIOD_USER, &req.new_user_params(p));
    }
    if counted.is_some() {
        exec(conn, MARK_UNFLUSHED, &req.row_params(p));
    }
    counted
}

fn row(r: &rusqlite::Row) -> rusqlite::Result<UsageRow> {
    Ok(UsageRow {
        publishable_key: r.get(0)?,
        user_id: r.get(1)?,
        period_start: r.get(2)?,
        period_end: r.get(3)?,
        platform_id: r.get(4)?,
        plan: r.get(5)?,
        usage_count: r.get(6)?,
        updated_at: r.get(7)?,
        meter: r.get(8)?,
    })
}

/// As `CounterStore::unflushed` starts a flush.
fn start_flush(conn: &Connection) -> (i64, Vec<UsageRow>) {
    let closed: i64 = conn.query_row(CLOSE_GENERATION, [], |r| r.get(0)).unwrap();
    let mut stmt = conn.prepare(SELECT_UNFLUSHED).unwrap();
    let mut rows: Vec<UsageRow> = stmt.query_map([closed], row).unwrap().map(Result::unwrap).collect();
    rows.sort_by(|a, b| a.user_id.cmp(&b.user_id));
    (closed, rows)
}

fn counts(rows: &[UsageRow]) -> Vec<(&str, i64)> {
    rows.iter().map(|r| (r.user_id.as_str(), r.usage_count)).collect()
}

fn d1_count(d1: &Connection, p: &Project, user: &str) -> Option<i64> {
    let req = request(user, None);
    d1.query_row(SELECT_USAGE, params_from_iter(to_values(&req.row_params(p))), |r| {
        r.get(0)
    })
    .optional()
    .unwrap()
}

#[test]
fn a_flush_copies_what_changed_and_a_count_made_meanwhile_waits_for_the_next_one() {
    let (counter, d1) = (counter_db(None), migrated(None));
    let p = counter_project(Mode::Test);
    for _ in 0..3 {
        count(&counter, &p, &request("alice", None));
    }
    let (generation, rows) = start_flush(&counter);
    assert_eq!(counts(&rows), [("alice", 3)]);
    // While the copy is on its way to D1, alice and bob count.
    count(&counter, &p, &request("alice", None));
    count(&counter, &p, &request("bob", None));
    for r in &rows {
        exec(&d1, COPY_USAGE_ROW, &r.params());
    }
    exec(&counter, FORGET_FLUSHED, &[generation.into()]);
    assert_eq!(d1_count(&d1, &p, "alice"), Some(3));
    let (generation, rows) = start_flush(&counter);
    assert_eq!(
        counts(&rows),
        [("alice", 4), ("bob", 1)],
        "the later counts were not forgotten"
    );
    for r in &rows {
        exec(&d1, COPY_USAGE_ROW, &r.params());
    }
    exec(&counter, FORGET_FLUSHED, &[generation.into()]);
    assert_eq!(
        (d1_count(&d1, &p, "alice"), d1_count(&d1, &p, "bob")),
        (Some(4), Some(1))
    );
    let waiting: Option<i64> = counter
        .query_row(SELECT_ANY_UNFLUSHED, [], |r| r.get(0))
        .optional()
        .unwrap();
    assert_eq!(waiting, None, "nothing left to copy");
    assert!(start_flush(&counter).1.is_empty());
}

#[test]
fn a_failed_copy_is_taken_by_the_next_flush() {
    let counter = counter_db(None);
    let p = counter_project(Mode::Test);
    count(&counter, &p, &request("alice", None));
    let (_failed, rows) = start_flush(&counter);
    assert_eq!(rows.len(), 1);
    // D1 refused the batch: nothing is forgotten, and the next flush copies the row again.
    count(&counter, &p, &request("bob", None));
    assert_eq!(counts(&start_flush(&counter).1), [("alice", 1), ("bob", 1)]);
}

#[test]
fn copying_into_d1_never_lowers_a_count() {
    let d1 = migrated(None);
    let p = counter_project(Mode::Live);
    let copy = |count: i64, plan: &str| {
        let row = UsageRow {
            publishable_key: p.publishable_key.as_str().to_owned(),
            user_id: "u".to_owned(),
            period_start: BillingPeriod::calendar_month(NOW).start.to_rfc3339(),
            period_end: BillingPeriod::calendar_month(NOW).end.to_rfc3339(),
            platform_id: p.platform_id.clone(),
            plan: plan.to_owned(),
            usage_count: count,
            updated_at: NOW.to_rfc3339(),
            meter: "requests".to_owned(),
        };
        exec(&d1, COPY_USAGE_ROW, &row.params());
    };
    copy(5, "free");
    copy(3, "free");
    assert_eq!(d1_count(&d1, &p, "u"), Some(5), "a late, older copy changes nothing");
    copy(7, "pro");
    assert_eq!(d1_count(&d1, &p, "u"), Some(7));
    let req = request("u", None);
    let stored = d1
        .query_row(SELECT_USAGE_ROW, params_from_iter(to_values(&req.row_params(&p))), row)
        .unwrap();
    assert_eq!((stored.plan.as_str(), stored.usage_count), ("pro", 7));
}

#[test]
fn a_row_seeded_from_d1_goes_on_counting_and_counts_as_a_user_of_the_period() {
    let counter = counter_db(None);
    let p = counter_project(Mode::Test);
    let seed = UsageRow {
        publishable_key: p.publishable_key.as_str().to_owned(),
        user_id: "old".to_owned(),
        period_start: BillingPeriod::calendar_month(NOW).start.to_rfc3339(),
        period_end: BillingPeriod::calendar_month(NOW).end.to_rfc3339(),
        platform_id: p.platform_id.clone(),
        plan: "free".to_owned(),
        usage_count: 40,
        updated_at: NOW.to_rfc3339(),
        meter: "requests".to_owned(),
    };
    // As `CounterStore::seed`: the user is noted only when the row went in.
    let seeded = |conn: &Connection| -> bool {
        let inserted: Option<i64> = conn
            .query_row(SEED_USAGE_ROW, params_from_iter(to_values(&seed.params())), |r| {
                r.get(0)
            })
            .optional()
            .unwrap();
        if inserted.is_some() {
            exec(
                conn,
                NOTE_NEW_PERIOD_USER,
                &[seed.publishable_key.as_str().into(), seed.period_start.as_str().into()],
            );
        }
        inserted.is_some()
    };
    assert!(seeded(&counter));
    assert!(!seeded(&counter), "a second seed finds the row and changes nothing");
    assert_eq!(count(&counter, &p, &request("old", Some(1))), Some(41));
    assert_eq!(
        count(&counter, &p, &request("new", Some(1))),
        None,
        "the seeded user fills a bound of one"
    );
}

#[test]
fn housekeeping_drops_expired_claims_and_ended_periods_already_in_d1() {
    let counter = counter_db(None);
    let p = counter_project(Mode::Test);
    let pk = p.publishable_key.as_str();
    for (key, created) in [("old", "2026-11-20T00:00:00Z"), ("new", "2026-11-22T00:00:00Z")] {
        counter
            .execute(
                "INSERT INTO usage_idempotency (publishableKey, idempotencyKey, userId, requestId, createdAt) VALUES (?1, ?2, 'u', 'r', ?3)",
                (pk, key, created),
            )
            .unwrap();
    }
    // Last month's rows: one copied to D1 already, one still waiting for a flush.
    let last_month = BillingPeriod::calendar_month(Timestamp(BillingPeriod::calendar_month(NOW).start.0 - 1));
    let old = |user: &str| CountRequest {
        period: last_month,
        ..request(user, None)
    };
    count(&counter, &p, &old("copied"));
    let (generation, _) = start_flush(&counter);
    exec(&counter, FORGET_FLUSHED, &[generation.into()]);
    count(&counter, &p, &old("waiting"));
    count(&counter, &p, &request("current", None));
    // As `CounterStore::purge` binds them at NOW.
    let cutoff = Timestamp(NOW.0 - shared::storage::usage::IDEMPOTENCY_WINDOW_SECS).to_rfc3339();
    assert_eq!(counter.execute(PURGE_EXPIRED_CLAIMS, [cutoff]).unwrap(), 1);
    let day_ago = Timestamp(NOW.0 - 86_400).to_rfc3339();
    assert_eq!(counter.execute(PURGE_ENDED_PERIODS, [day_ago]).unwrap(), 1);
    let users: Vec<String> = counter
        .prepare("SELECT userId FROM usage_counts ORDER BY userId")
        .unwrap()
        .query_map([], |r| r.get(0))
        .unwrap()
        .map(Result::unwrap)
        .collect();
    assert_eq!(users, ["current", "waiting"], "an unflushed row is never dropped");
    assert_eq!(counter.execute(PURGE_ENDED_PERIOD_USERS, []).unwrap(), 0);
    // Once the waiting row is copied, last month goes, tally included.
    let (generation, _) = start_flush(&counter);
    exec(&counter, FORGET_FLUSHED, &[generation.into()]);
    assert_eq!(
        counter
            .execute(PURGE_ENDED_PERIODS, [Timestamp(NOW.0 - 86_400).to_rfc3339()])
            .unwrap(),
        1
    );
    assert_eq!(counter.execute(PURGE_ENDED_PERIOD_USERS, []).unwrap(), 1);
}

#[test]
fn a_configuration_epoch_only_grows_whatever_clock_told_it() {
    let conn = counter_db(None);
    let epoch = || -> Option<i64> {
        conn.query_row(SELECT_CONFIG_EPOCH, [], |r| r.get(0))
            .optional()
            .unwrap()
    };
    let advance = |at_ms: i64| -> i64 { conn.query_row(ADVANCE_CONFIG_EPOCH, [at_ms], |r| r.get(0)).unwrap() };
    assert_eq!(epoch(), None, "never changed: every configuration is current");
    assert_eq!(advance(1_000), 1_000);
    assert_eq!(advance(5_000), 5_000, "a later change");
    // A worker whose clock is behind still makes the epoch grow: its change is newer.
    assert_eq!(advance(4_000), 5_001);
    assert_eq!(advance(5_001), 5_002);
    assert_eq!(epoch(), Some(5_002));
}

#[test]
fn a_counters_usage_rows_have_the_columns_of_d1s() {
    let columns = |conn: &Connection| -> Vec<(String, String, bool)> {
        conn.prepare("SELECT name, type, pk > 0 FROM pragma_table_info('usage_counts') ORDER BY cid")
            .unwrap()
            .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
            .unwrap()
            .map(Result::unwrap)
            .collect()
    };
    let d1 = columns(&migrated(None));
    assert_eq!(d1.len(), 9);
    assert_eq!(columns(&counter_db(None)), d1, "a flush copies rows column for column");
}

fn key_owner(conn: &Connection, p: &Project, req: &CountRequest) -> Option<String> {
    let params = req.claim_read_params(p, req.idempotency_key.as_deref().unwrap());
    conn.query_row(SELECT_KEY_OWNER, params_from_iter(to_values(&params)), |r| r.get(0))
        .optional()
        .unwrap()
}

#[test]
fn a_key_is_bound_to_its_first_user_until_its_window_ends() {
    let counter = counter_db(None);
    let p = counter_project(Mode::Test);
    let keyed = |user: &str, now: Timestamp| CountRequest {
        idempotency_key: Some("retry-1".to_owned()),
        now,
        ..request(user, None)
    };
    let bind = |req: &CountRequest| exec(&counter, BIND_IDEMPOTENCY_KEY, &req.bind_params(&p, "retry-1"));
    bind(&keyed("alice", NOW));
    bind(&keyed("alice", Timestamp(NOW.0 + 60)));
    assert_eq!(key_owner(&counter, &p, &keyed("bob", NOW)).as_deref(), Some("alice"));
    bind(&keyed("bob", Timestamp(NOW.0 + 3_600)));
    assert_eq!(
        key_owner(&counter, &p, &keyed("bob", NOW)).as_deref(),
        Some("alice"),
        "another user cannot take a key within its window"
    );
    let next_day = Timestamp(NOW.0 + 24 * 3600 + 1);
    bind(&keyed("bob", next_day));
    assert_eq!(key_owner(&counter, &p, &keyed("bob", NOW)).as_deref(), Some("bob"));
    let other = counter_project(Mode::Test);
    assert_eq!(
        key_owner(&counter, &other, &keyed("bob", NOW)),
        None,
        "keys are per project"
    );
    exec(
        &counter,
        PURGE_EXPIRED_KEY_OWNERS,
        &[Timestamp(next_day.0 + 24 * 3600 + 1).to_rfc3339().into()],
    );
    assert_eq!(
        key_owner(&counter, &p, &keyed("bob", NOW)),
        None,
        "expired bindings are purged"
    );
}

#[test]
fn a_layout_for_every_period_is_set_only_before_any_count_and_only_over_what_was_read() {
    let d1 = migrated(None);
    let p = common::project(&d1, Mode::Test);
    let pk = p.publishable_key.as_str();
    let set = |layout: &CounterLayout, read: Option<&str>, every_period: bool| -> usize {
        let params: Vec<SqlParam> = vec![
            pk.into(),
            layout.to_column().into(),
            read.into(),
            NOW.to_rfc3339().into(),
            i64::from(every_period).into(),
        ];
        let mut stmt = d1.prepare(UPDATE_COUNTER_LAYOUT).unwrap();
        stmt.query_map(params_from_iter(to_values(&params)), |_| Ok(()))
            .unwrap()
            .count()
    };
    let four = CounterLayout::default().change(4, NOW, true).unwrap();
    assert_eq!(set(&four, Some("[]"), true), 0, "a stale read changes nothing");
    assert_eq!(set(&four, None, true), 1);
    let stored = four.to_column().unwrap();
    let read: Option<String> = d1
        .query_row(SELECT_ACTIVE_PROJECT, [pk], |r| r.get("usageCounterLayout"))
        .unwrap();
    assert_eq!(CounterLayout::from_column(read.as_deref()).unwrap(), four);

    let req = request("alice", None);
    exec(
        &d1,
        COPY_USAGE_ROW,
        &UsageRow {
            publishable_key: pk.to_owned(),
            user_id: "alice".to_owned(),
            period_start: req.period.start.to_rfc3339(),
            period_end: req.period.end.to_rfc3339(),
            platform_id: p.platform_id.clone(),
            plan: "free".to_owned(),
            usage_count: 1,
            updated_at: NOW.to_rfc3339(),
            meter: "requests".to_owned(),
        }
        .params(),
    );
    let eight = CounterLayout::default().change(8, NOW, true).unwrap();
    assert_eq!(
        set(&eight, Some(&stored), true),
        0,
        "counted already: not for every period"
    );
    let later = four.change(8, NOW, false).unwrap();
    assert_eq!(set(&later, Some(&stored), false), 1, "for periods starting later: yes");
    assert!(
        d1.execute(
            "UPDATE api_keys SET usageCounterLayout = 'not json' WHERE publishableKey = ?1",
            [pk]
        )
        .is_err(),
        "the column holds JSON only"
    );
}
