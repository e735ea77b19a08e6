//! The repository SQL, run natively against the real migrations (and the usage counters'
//! schema). D1 and a Durable Object's storage are SQLite: the statements, their parameter lists
//! and the verdict logic here are the ones production runs; only the driver differs. A D1 batch
//! is one transaction, and so is a counter's call (one request at a time, no await inside):
//! both reproduced here with an explicit one.

mod common;

use common::{NOW, counter_db, counter_project, migrated, open, project, to_values};
use dream_core::{
    keys::PublishableKey,
    mode::Mode,
    period::{BillingPeriod, Timestamp},
    tiers::UsageLimit,
};
use rusqlite::{Connection, OptionalExtension, params_from_iter};
use shared::{
    storage::{
        Project,
        usage::{
            CLAIM_IDEMPOTENCY_KEY, COUNT_USAGE, ClaimRow, CountRow, IDEMPOTENCY_WINDOW_SECS, NOTE_NEW_PERIOD_USER,
            RECORD_IDEMPOTENT_RESULT, SELECT_IDEMPOTENCY_CLAIM, SELECT_USAGE, Verdict,
        },
    },
    usage::counter_protocol::CountRequest,
};

fn request(user: &str, limit: UsageLimit, key: Option<&str>, request_id: &str) -> CountRequest {
    CountRequest {
        user_id: user.to_owned(),
        plan: "free".to_owned(),
        limit,
        period: BillingPeriod::calendar_month(NOW),
        now: NOW,
        idempotency_key: key.map(str::to_owned),
        request_id: request_id.to_owned(),
        users_bound: None,
        shards: 1,
        usage_in_d1_before: None,
        meter: "requests".to_owned(),
        quantity: 1,
        overage: None,
        config_epoch: None,
    }
}

fn metered(
    user: &str,
    limit: UsageLimit,
    (meter, quantity): (&str, u64),
    key: Option<&str>,
    request_id: &str,
) -> CountRequest {
    CountRequest {
        meter: meter.to_owned(),
        quantity,
        ..request(user, limit, key, request_id)
    }
}

/// As `CounterStore::count` does after a count: a user's first count of the period is
/// one more distinct user.
fn note_if_new(conn: &Connection, project: &Project, req: &CountRequest, counted: Option<i64>) -> Option<i64> {
    if counted == Some(1) {
        conn.execute(
            NOTE_NEW_PERIOD_USER,
            params_from_iter(to_values(&req.new_user_params(project))),
        )
        .unwrap();
    }
    counted
}

fn count_once(conn: &Connection, project: &Project, req: &CountRequest) -> Option<i64> {
    conn.query_row(
        COUNT_USAGE,
        params_from_iter(to_values(&req.count_params(project))),
        |r| r.get(0),
    )
    .optional()
    .unwrap()
}

/// The idempotent statements exactly as `CounterStore::count` runs them.
fn count_idempotent(conn: &mut Connection, project: &Project, req: &CountRequest) -> dream_core::ApiResult<Verdict> {
    let key = req.idempotency_key.as_deref().unwrap();
    let tx = conn.transaction().unwrap();
    tx.execute(
        CLAIM_IDEMPOTENCY_KEY,
        params_from_iter(to_values(&req.claim_params(project, key))),
    )
    .unwrap();
    let counted = tx
        .query_row(
            COUNT_USAGE,
            params_from_iter(to_values(&req.count_params(project))),
            |r| Ok(CountRow { usage_count: r.get(0)? }),
        )
        .optional()
        .unwrap();
    tx.execute(
        RECORD_IDEMPOTENT_RESULT,
        params_from_iter(to_values(&req.record_params(project, key))),
    )
    .unwrap();
    let claim = tx
        .query_row(
            SELECT_IDEMPOTENCY_CLAIM,
            params_from_iter(to_values(&req.claim_read_params(project, key))),
            |r| {
                Ok(ClaimRow {
                    user_id: r.get(0)?,
                    request_id: r.get(1)?,
                    usage_count: r.get(2)?,
                    created_at: r.get(3)?,
                    meter: r.get(4)?,
                })
            },
        )
        .optional()
        .unwrap();
    tx.commit().unwrap();
    req.verdict(counted, claim)
}

fn stored(conn: &Connection, project: &Project, user: &str) -> i64 {
    stored_meter(conn, project, user, "requests")
}

fn stored_meter(conn: &Connection, project: &Project, user: &str, meter: &str) -> i64 {
    let period = BillingPeriod::calendar_month(NOW).start.to_rfc3339();
    conn.query_row(
        SELECT_USAGE,
        (project.publishable_key.as_str(), user, period, meter),
        |r| r.get(0),
    )
    .optional()
    .unwrap()
    .unwrap_or(0)
}

#[test]
fn counts_up_to_the_exact_limit() {
    let conn = counter_db(None);
    let p = counter_project(Mode::Test);
    let results: Vec<_> = (0..5)
        .map(|_| count_once(&conn, &p, &request("u1", UsageLimit::limited(3), None, "r")))
        .collect();
    assert_eq!(results, vec![Some(1), Some(2), Some(3), None, None]);
    assert_eq!(stored(&conn, &p, "u1"), 3);
}

#[test]
fn a_quantity_counts_whole_or_not_at_all_and_meters_count_apart() {
    let conn = counter_db(None);
    let p = counter_project(Mode::Test);
    let tokens = |q| {
        count_once(
            &conn,
            &p,
            &metered("u1", UsageLimit::limited(10_000), ("tokens", q), None, "r"),
        )
    };
    assert_eq!(tokens(6_000), Some(6_000));
    assert_eq!(tokens(4_001), None, "past the limit: refused whole");
    assert_eq!(stored_meter(&conn, &p, "u1", "tokens"), 6_000);
    assert_eq!(tokens(4_000), Some(10_000), "exactly to the limit");
    assert_eq!(tokens(1), None);
    assert_eq!(
        count_once(
            &conn,
            &p,
            &metered("u2", UsageLimit::limited(5), ("tokens", 6), None, "r")
        ),
        None,
        "a first quantity past the limit creates no row"
    );
    assert_eq!(
        count_once(&conn, &p, &request("u1", UsageLimit::limited(3), None, "r")),
        Some(1)
    );
    assert_eq!(stored(&conn, &p, "u1"), 1, "requests count apart from tokens");
}

#[test]
fn a_first_quantity_past_the_limit_is_a_limit_not_the_users_bound() {
    use shared::usage::counter_protocol::CountOutcome;
    let bounded = |quantity| CountRequest {
        users_bound: Some(5),
        ..metered("u9", UsageLimit::limited(10), ("tokens", quantity), None, "r")
    };
    assert_eq!(bounded(11).refusal(0), CountOutcome::LimitReached(0));
    assert_eq!(bounded(10).refusal(0), CountOutcome::TooManyUsers);
}

#[test]
fn an_idempotency_key_replays_its_first_quantity_and_refuses_another_meter() {
    let mut conn = counter_db(None);
    let p = counter_project(Mode::Test);
    let limit = UsageLimit::limited(1_000);
    let first = metered("u1", limit, ("tokens", 700), Some("k1"), "r1");
    assert_eq!(count_idempotent(&mut conn, &p, &first).unwrap(), Verdict::Counted(700));
    // The retry sends another quantity: the first answer is replayed, nothing counted.
    let retry = metered("u1", limit, ("tokens", 900), Some("k1"), "r2");
    assert_eq!(count_idempotent(&mut conn, &p, &retry).unwrap(), Verdict::Replayed(700));
    assert_eq!(stored_meter(&conn, &p, "u1", "tokens"), 700);
    let other_meter = metered("u1", limit, ("images", 1), Some("k1"), "r3");
    let err = count_idempotent(&mut conn, &p, &other_meter).unwrap_err();
    assert!(err.message().contains("`tokens` meter"), "{}", err.message());
    // A quantity the limit cannot take leaves no claim: its retry is judged afresh.
    let too_much = metered("u1", limit, ("tokens", 301), Some("k2"), "r4");
    assert_eq!(
        count_idempotent(&mut conn, &p, &too_much).unwrap(),
        Verdict::LimitReached
    );
    let fits = metered("u1", limit, ("tokens", 300), Some("k2"), "r5");
    assert_eq!(count_idempotent(&mut conn, &p, &fits).unwrap(), Verdict::Counted(1_000));
}

#[test]
fn zero_limit_counts_nothing_and_null_is_unlimited() {
    let conn = counter_db(None);
    let p = counter_project(Mode::Test);
    assert_eq!(
        count_once(&conn, &p, &request("u0", UsageLimit::limited(0), None, "r")),
        None
    );
    assert_eq!(stored(&conn, &p, "u0"), 0);
    for expected in 1..=50 {
        assert_eq!(
            count_once(&conn, &p, &request("u", UsageLimit::UNLIMITED, None, "r")),
            Some(expected)
        );
    }
}

#[test]
fn lowering_the_limit_below_the_count_refuses_further_requests() {
    let conn = counter_db(None);
    let p = counter_project(Mode::Test);
    for _ in 0..10 {
        count_once(&conn, &p, &request("u", UsageLimit::limited(100), None, "r")).unwrap();
    }
    assert_eq!(
        count_once(&conn, &p, &request("u", UsageLimit::limited(5), None, "r")),
        None
    );
    assert_eq!(stored(&conn, &p, "u"), 10);
}

#[test]
fn projects_and_modes_never_share_counts() {
    let conn = counter_db(None);
    let test = counter_project(Mode::Test);
    let live = counter_project(Mode::Live);
    for _ in 0..3 {
        count_once(&conn, &test, &request("same-user", UsageLimit::limited(10), None, "r"));
    }
    assert_eq!(
        count_once(&conn, &live, &request("same-user", UsageLimit::limited(10), None, "r")),
        Some(1)
    );
    assert_eq!(stored(&conn, &test, "same-user"), 3);
    assert_eq!(stored(&conn, &live, "same-user"), 1);
}

#[test]
fn a_retried_idempotency_key_counts_once_and_replays_its_count() {
    let mut conn = counter_db(None);
    let p = counter_project(Mode::Test);
    let limit = UsageLimit::limited(10);
    assert_eq!(
        count_idempotent(&mut conn, &p, &request("u", limit, Some("k1"), "req_a")).unwrap(),
        Verdict::Counted(1)
    );
    assert_eq!(
        count_idempotent(&mut conn, &p, &request("u", limit, Some("k2"), "req_b")).unwrap(),
        Verdict::Counted(2)
    );
    for retry in ["req_c", "req_d"] {
        assert_eq!(
            count_idempotent(&mut conn, &p, &request("u", limit, Some("k1"), retry)).unwrap(),
            Verdict::Replayed(1)
        );
    }
    assert_eq!(stored(&conn, &p, "u"), 2);
}

#[test]
fn an_idempotency_key_is_bound_to_its_user() {
    let mut conn = counter_db(None);
    let p = counter_project(Mode::Test);
    let limit = UsageLimit::limited(10);
    count_idempotent(&mut conn, &p, &request("alice", limit, Some("k"), "req_a")).unwrap();
    let err = count_idempotent(&mut conn, &p, &request("bob", limit, Some("k"), "req_b")).unwrap_err();
    assert_eq!(err.code(), dream_core::ErrorCode::Conflict);
    assert_eq!(stored(&conn, &p, "bob"), 0);
}

#[test]
fn a_request_refused_at_the_limit_leaves_no_claim() {
    let mut conn = counter_db(None);
    let p = counter_project(Mode::Test);
    count_idempotent(
        &mut conn,
        &p,
        &request("u", UsageLimit::limited(1), Some("k1"), "req_a"),
    )
    .unwrap();
    let refused = count_idempotent(
        &mut conn,
        &p,
        &request("u", UsageLimit::limited(1), Some("k2"), "req_b"),
    )
    .unwrap();
    assert_eq!(refused, Verdict::LimitReached);
    // The developer raises the limit; the retry of the refused request is now counted.
    let retried = count_idempotent(
        &mut conn,
        &p,
        &request("u", UsageLimit::limited(5), Some("k2"), "req_c"),
    )
    .unwrap();
    assert_eq!(retried, Verdict::Counted(2));
}

#[test]
fn an_expired_claim_is_taken_over() {
    let mut conn = counter_db(None);
    let p = counter_project(Mode::Test);
    let limit = UsageLimit::limited(10);
    count_idempotent(&mut conn, &p, &request("u", limit, Some("k"), "req_a")).unwrap();
    let expired = Timestamp(NOW.0 - IDEMPOTENCY_WINDOW_SECS - 1).to_rfc3339();
    conn.execute("UPDATE usage_idempotency SET createdAt = ?1", [expired])
        .unwrap();
    assert_eq!(
        count_idempotent(&mut conn, &p, &request("u", limit, Some("k"), "req_b")).unwrap(),
        Verdict::Counted(2)
    );
}

#[test]
fn an_expired_claim_at_the_limit_is_refused_not_replayed() {
    let mut conn = counter_db(None);
    let p = counter_project(Mode::Test);
    let limit = UsageLimit::limited(1);
    assert_eq!(
        count_idempotent(&mut conn, &p, &request("u", limit, Some("k"), "req_a")).unwrap(),
        Verdict::Counted(1)
    );
    let expired = Timestamp(NOW.0 - IDEMPOTENCY_WINDOW_SECS - 1).to_rfc3339();
    conn.execute("UPDATE usage_idempotency SET createdAt = ?1", [expired])
        .unwrap();
    assert_eq!(
        count_idempotent(&mut conn, &p, &request("u", limit, Some("k"), "req_b")).unwrap(),
        Verdict::LimitReached,
        "a day later the key protects nothing: the limit applies"
    );
}

#[test]
fn tier_count_rules_hold_inside_the_statements() {
    use shared::storage::projects::{ADD_TIER, DELETE_TIER};
    let conn = migrated(None);
    let p = project(&conn, Mode::Test);
    let pk = p.publishable_key.as_str();
    let add = |name: &str, max: i64| -> usize {
        let now = NOW.to_rfc3339();
        conn.execute(
            ADD_TIER,
            rusqlite::params![
                pk,
                name,
                p.platform_id,
                "saas",
                "test",
                name,
                0,
                10,
                None::<String>,
                None::<String>,
                "{}",
                0,
                None::<i64>,
                0,
                now,
                None::<String>,
                None::<i64>,
                None::<String>,
                None::<i64>,
                1,
                None::<String>,
                "usd",
                max
            ],
        )
        .unwrap()
    };
    assert_eq!(add("a", 2), 1);
    assert_eq!(add("b", 2), 1);
    assert_eq!(add("c", 2), 0, "the third tier is over the limit of 2");
    let delete = |name: &str| conn.execute(DELETE_TIER, (pk, name)).unwrap();
    // A tier with a subscription Stripe may still charge stays; an ended one does not count.
    let subscribe = |id: &str, plan: &str, status: &str| {
        conn.execute(
            "INSERT INTO subscriptions (subscriptionId, publishableKey, userId, platformId, plan, status, updatedAt)
             VALUES (?1, ?2, 'u', 'plt', ?3, ?4, ?5)",
            (id, pk, plan, status, NOW.to_rfc3339()),
        )
        .unwrap()
    };
    subscribe("sub_1", "a", "past_due");
    subscribe("sub_2", "a", "canceled");
    // Made free (price 0) while a customer may still be charged: the statement itself refuses,
    // whatever a check before it saw; a paid edit of the same tier passes.
    let set_price = |cents: i64| {
        conn.execute(
            shared::storage::projects::UPDATE_TIER,
            rusqlite::params![
                pk,
                "a",
                p.platform_id,
                "saas",
                "test",
                "a",
                cents,
                10,
                None::<String>,
                None::<String>,
                "{}",
                0,
                None::<i64>,
                0,
                NOW.to_rfc3339(),
                None::<String>,
                None::<i64>,
                None::<String>,
                None::<i64>,
                1,
                None::<String>,
                "usd",
                1
            ],
        )
        .unwrap()
    };
    assert_eq!(set_price(500), 1);
    assert_eq!(set_price(0), 0, "a subscriber would keep paying a tier made free");
    // A tier that is free already stays editable (its old subscriptions pay nothing more).
    conn.execute(
        "UPDATE tiers SET priceCents = 0 WHERE publishableKey = ?1 AND name = 'a'",
        [pk],
    )
    .unwrap();
    assert_eq!(set_price(0), 1);
    assert_eq!(set_price(500), 1);
    let subscribers: i64 = conn
        .query_row(shared::storage::projects::SELECT_TIER_SUBSCRIBERS, (pk, "a"), |r| {
            r.get(0)
        })
        .unwrap();
    assert_eq!(subscribers, 1);
    assert_eq!(delete("a"), 0, "a customer still pays for it");
    conn.execute(
        "UPDATE subscriptions SET status = 'canceled' WHERE subscriptionId = 'sub_1'",
        [],
    )
    .unwrap();
    assert_eq!(delete("a"), 1);
    assert_eq!(delete("b"), 0, "the last tier stays");
}

#[test]
fn concurrent_connections_never_exceed_the_limit() {
    let dir = std::env::temp_dir().join(format!("dream-sql-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("db.sqlite");
    let _ = std::fs::remove_file(&path);
    let conn = counter_db(Some(&path));
    conn.execute_batch("PRAGMA journal_mode = WAL;").unwrap();
    let p = counter_project(Mode::Test);
    let limit = UsageLimit::limited(100);
    let threads: Vec<_> = (0..8)
        .map(|t| {
            let (path, p) = (path.clone(), p.clone());
            std::thread::spawn(move || {
                let mut conn = open(Some(&path));
                let mut counted = Vec::new();
                for i in 0..25 {
                    let key = format!("k-{t}-{i}");
                    let id = format!("req-{t}-{i}");
                    // Half plain, half idempotent: both paths share the one counter.
                    let req = request("hot", limit, (i % 2 == 0).then_some(key.as_str()), &id);
                    let verdict = if req.idempotency_key.is_some() {
                        count_idempotent(&mut conn, &p, &req).unwrap()
                    } else {
                        count_once(&conn, &p, &req).map_or(Verdict::LimitReached, |n| Verdict::Counted(n as u64))
                    };
                    if let Verdict::Counted(n) = verdict {
                        counted.push(n);
                    }
                }
                counted
            })
        })
        .collect();
    let mut all: Vec<u64> = threads.into_iter().flat_map(|t| t.join().unwrap()).collect();
    all.sort_unstable();
    assert_eq!(
        all,
        (1..=100).collect::<Vec<_>>(),
        "every count 1..=100 handed out exactly once"
    );
    assert_eq!(stored(&conn, &p, "hot"), 100);
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn schema_rejects_what_must_never_be_stored() {
    let conn = migrated(None);
    let p = project(&conn, Mode::Test);
    let pk = p.publishable_key.as_str();
    let now = NOW.to_rfc3339();
    let insert_tier = |name: &str, kind: &str, limit: Option<i64>, inventory: Option<i64>| {
        conn.execute(
            "INSERT INTO tiers (publishableKey, name, platformId, projectType, mode, displayName, \"limit\", inventory, createdAt, updatedAt)
             VALUES (?1, ?2, ?3, ?4, 'test', 'T', ?5, ?6, ?7, ?7)",
            (pk, name, &p.platform_id, kind, limit, inventory, &now),
        )
    };
    assert!(insert_tier("free", "saas", Some(100), None).is_ok());
    assert!(
        insert_tier("free", "saas", Some(5), None).is_err(),
        "tier names are unique per project"
    );
    assert!(
        insert_tier("Pro", "saas", None, None).is_err(),
        "tier names are lowercase slugs"
    );
    assert!(
        insert_tier("neg", "saas", Some(-1), None).is_err(),
        "limits are never negative"
    );
    assert!(
        insert_tier("mix", "saas", None, Some(3)).is_err(),
        "SaaS tiers have no inventory"
    );
    assert!(
        insert_tier("item", "store", None, Some(-1)).is_err(),
        "inventory is never negative"
    );
    assert!(insert_tier("item", "store", None, Some(2)).is_ok());
    let sell = |n: i64| {
        conn.execute(
            "UPDATE tiers SET inventory = inventory - ?1 WHERE publishableKey = ?2 AND name = 'item'",
            (n, pk),
        )
    };
    assert!(sell(3).is_err(), "a sale can never take stock below zero");
    assert!(sell(2).is_ok());

    let event = |id: &str| {
        conn.execute(
            "INSERT INTO events (eventId, source, type, payload_json, createdAt) VALUES (?1, 'stripe', 't', '{}', ?2)",
            (id, &now),
        )
    };
    assert!(event("evt_1").is_ok());
    assert!(event("evt_1").is_err(), "an event id is recorded once");

    let live_hash = "0".repeat(64);
    let mismatched = conn.execute(
        "INSERT INTO api_keys (publishableKey, platformId, projectId, projectType, mode, name, secretKeyHash, createdAt, updatedAt)
         VALUES (?1, ?2, 'prj_x', 'saas', 'live', 'X', ?3, ?4, ?4)",
        (PublishableKey::parse(&format!("pk_test_{}", "1".repeat(32))).unwrap().as_str(), &p.platform_id, live_hash, &now),
    );
    assert!(mismatched.is_err(), "a key's mode matches its prefix");

    let usage = |user: &str| {
        conn.execute(
            "INSERT INTO usage_counts (publishableKey, userId, periodStart, periodEnd, platformId, plan, usageCount, updatedAt)
             VALUES (?1, ?2, 'p', 'e', 'plt', 'free', 1, 'n')",
            (pk, user),
        )
    };
    assert!(usage("dup").is_ok());
    assert!(usage("dup").is_err(), "one usage row per project, user and period");
}

// ---- onboarding statements ------------------------------------------------------------------

use shared::storage::{maintenance, platforms, projects as project_sql};

fn platform_row(conn: &Connection, id: &str, user: &str) {
    conn.execute(
        "INSERT INTO platforms (platformId, clerkUserId, createdAt) VALUES (?1, ?2, '2026-01-01T00:00:00Z')",
        (id, user),
    )
    .unwrap();
}

fn plan(conn: &Connection, id: &str) -> String {
    conn.query_row("SELECT plan FROM platforms WHERE platformId = ?1", [id], |r| r.get(0))
        .unwrap()
}

#[test]
fn an_older_billing_event_never_overwrites_a_newer_plan() {
    let conn = migrated(None);
    platform_row(&conn, "plt_a", "user_a");
    let apply = |plan: &str, created: i64| {
        conn.execute(
            platforms::APPLY_PLAN,
            ("plt_a", plan, "cus_1", None::<&str>, created, "now", None::<&str>),
        )
        .unwrap()
    };
    assert_eq!(apply("paid", 200), 1);
    assert_eq!(apply("free", 100), 0, "a late, older event is ignored");
    assert_eq!(plan(&conn, "plt_a"), "paid");
    assert_eq!(apply("free", 300), 1);
    assert_eq!(plan(&conn, "plt_a"), "free");
}

#[test]
fn an_oauth_state_is_consumed_once_and_only_before_it_expires() {
    let conn = migrated(None);
    platform_row(&conn, "plt_a", "user_a");
    let insert = |nonce: &str, expires: &str| {
        conn.execute(
            platforms::INSERT_OAUTH_STATE,
            (nonce, "plt_a", expires, "2026-11-22T00:00:00Z"),
        )
        .unwrap()
    };
    insert("ost_fresh", "2026-11-22T00:10:00Z");
    insert("ost_stale", "2026-11-22T00:01:00Z");
    let consume_for = |nonce: &str, platform: &str| -> Option<String> {
        conn.query_row(
            platforms::CONSUME_OAUTH_STATE,
            (nonce, "2026-11-22T00:05:00Z", platform),
            |r| r.get(0),
        )
        .optional()
        .unwrap()
    };
    let consume = |nonce: &str| consume_for(nonce, "plt_a");
    assert_eq!(
        consume_for("ost_fresh", "plt_b"),
        None,
        "another developer's session cannot redeem it"
    );
    let owner: String = conn
        .query_row(platforms::SELECT_OAUTH_STATE_OWNER, ["ost_fresh"], |r| r.get(0))
        .unwrap();
    assert_eq!(owner, "plt_a");
    assert_eq!(
        consume("ost_fresh").as_deref(),
        Some("plt_a"),
        "and its owner still can"
    );
    assert_eq!(consume("ost_fresh"), None, "a replayed state is refused");
    assert_eq!(consume("ost_stale"), None, "an expired state is refused");
    assert_eq!(consume("ost_unknown"), None);
}

#[test]
fn key_rotation_is_compare_and_swap_with_an_optional_grace_period() {
    let conn = migrated(None);
    let p = project(&conn, Mode::Test);
    let old: String = conn
        .query_row(project_sql::SELECT_SECRET_HASH, [p.publishable_key.as_str()], |r| {
            r.get(0)
        })
        .unwrap();
    let (first, second, third) = ("1".repeat(64), "2".repeat(64), "3".repeat(64));
    let rotate = |from: &str, to: &str, grace_until: Option<&str>| {
        conn.execute(
            project_sql::ROTATE_SECRET,
            (
                p.publishable_key.as_str(),
                from,
                to,
                "2026-11-30T00:00:00Z",
                grace_until,
            ),
        )
        .unwrap()
    };
    let finds = |hash: &str, now: &str| -> Option<String> {
        conn.query_row(project_sql::FIND_ACTIVE_KEY_BY_HASH, (hash, now), |r| r.get(0))
            .optional()
            .unwrap()
    };
    let (during, after) = ("2026-11-30T00:30:00Z", "2026-11-30T01:00:01Z");

    assert_eq!(rotate(&old, &first, Some("2026-11-30T01:00:00Z")), 1);
    assert_eq!(
        rotate(&old, &second, None),
        0,
        "a concurrent rotation from the same old key loses"
    );
    let pk = Some(p.publishable_key.as_str().to_owned());
    assert_eq!(finds(&first, during), pk, "the new key works");
    assert_eq!(finds(&old, during), pk, "the old key works during its grace period");
    assert_eq!(finds(&old, after), None, "and not after it");

    // Rotating again without grace ends the earlier grace at once and keeps no previous key.
    assert_eq!(rotate(&first, &second, None), 1);
    assert_eq!(finds(&old, during), None);
    assert_eq!(finds(&first, during), None, "no grace: the replaced key stops at once");
    assert_eq!(finds(&second, during), pk);

    // With grace again, only the key just replaced is kept; the one before it is gone.
    assert_eq!(rotate(&second, &third, Some("2026-11-30T01:00:00Z")), 1);
    assert_eq!(finds(&second, during), pk);
    assert_eq!(finds(&first, during), None);
}

#[test]
fn a_platform_sees_only_its_own_projects() {
    let conn = migrated(None);
    let mine = project(&conn, Mode::Test);
    let theirs = project(&conn, Mode::Test);
    let owned = |pk: &str, platform: &str| -> bool {
        conn.query_row(project_sql::SELECT_OWNED_PROJECT, (pk, platform), |_| Ok(()))
            .optional()
            .unwrap()
            .is_some()
    };
    assert!(owned(mine.publishable_key.as_str(), &mine.platform_id));
    assert!(!owned(theirs.publishable_key.as_str(), &mine.platform_id));
    let listed: Vec<String> = conn
        .prepare(project_sql::SELECT_PLATFORM_PROJECTS)
        .unwrap()
        .query_map([mine.platform_id.as_str()], |r| r.get::<_, String>("publishableKey"))
        .unwrap()
        .map(Result::unwrap)
        .collect();
    assert_eq!(listed, vec![mine.publishable_key.as_str().to_owned()]);
}

#[test]
fn housekeeping_deletes_only_what_has_expired() {
    let conn = migrated(None);
    platform_row(&conn, "plt_a", "user_a");
    conn.execute(
        platforms::INSERT_OAUTH_STATE,
        ("ost_old", "plt_a", "2026-11-21T00:00:00Z", "x"),
    )
    .unwrap();
    conn.execute(
        platforms::INSERT_OAUTH_STATE,
        ("ost_new", "plt_a", "2026-11-23T00:00:00Z", "x"),
    )
    .unwrap();
    // As `housekeeping` binds it at 2026-11-22T00:13:46Z.
    assert_eq!(
        conn.execute(maintenance::PURGE_OAUTH_STATES, [NOW.to_rfc3339()])
            .unwrap(),
        1
    );
}

#[test]
fn image_reservations_keep_each_platform_within_its_quota() {
    use shared::storage::assets;
    let conn = migrated(None);
    platform_row(&conn, "plt_a", "user_a");
    platform_row(&conn, "plt_b", "user_b");
    let reserve = |key: &str, platform: &str, bytes: i64| {
        conn.execute(
            assets::RESERVE_ASSET,
            (key, platform, bytes, "image/png", "2026-11-30T00:00:00Z", 2, 100),
        )
        .unwrap()
    };
    assert_eq!(reserve("a/1.png", "plt_a", 60), 1);
    assert_eq!(reserve("a/2.png", "plt_a", 50), 0, "60 + 50 bytes is over 100");
    assert_eq!(reserve("a/3.png", "plt_a", 40), 1, "exactly 100 bytes fits");
    assert_eq!(reserve("a/4.png", "plt_a", 1), 0, "a third image is over 2");
    assert_eq!(
        reserve("b/1.png", "plt_b", 100),
        1,
        "another platform has its own quota"
    );
    let usage: (i64, i64) = conn
        .query_row(assets::SELECT_ASSET_USAGE, ["plt_a"], |r| Ok((r.get(0)?, r.get(1)?)))
        .unwrap();
    assert_eq!(usage, (2, 100));
    conn.execute(assets::RELEASE_ASSET, ("a/3.png", "plt_a")).unwrap();
    assert_eq!(
        reserve("a/5.png", "plt_a", 40),
        1,
        "a released reservation frees its room"
    );
}

#[test]
fn a_lapsed_plan_records_when_it_ended_and_the_live_keys_pause_after_the_grace() {
    let conn = migrated(None);
    platform_row(&conn, "plt_a", "user_a");
    let p = project(&conn, Mode::Live);
    conn.execute(
        "UPDATE api_keys SET platformId = 'plt_a' WHERE publishableKey = ?1",
        [p.publishable_key.as_str()],
    )
    .unwrap();
    let apply_ended = |plan: &str, created: i64, now: &str, ended_at: Option<&str>| {
        conn.execute(
            platforms::APPLY_PLAN,
            ("plt_a", plan, "cus_1", None::<&str>, created, now, ended_at),
        )
        .unwrap()
    };
    let apply = |plan: &str, created: i64, now: &str| apply_ended(plan, created, now, None);
    let ended = || -> Option<String> {
        conn.query_row(
            "SELECT planEndedAt FROM platforms WHERE platformId = 'plt_a'",
            [],
            |r| r.get(0),
        )
        .unwrap()
    };
    let pause = || -> Option<String> {
        let (plan, ended): (String, Option<String>) = conn
            .query_row(project_sql::SELECT_ACTIVE_PROJECT, [p.publishable_key.as_str()], |r| {
                Ok((r.get("plan")?, r.get("planEndedAt")?))
            })
            .unwrap();
        dream_core::developer_plan::live_keys_pause_at(&plan, ended.as_deref()).map(|t| t.to_rfc3339())
    };
    assert_eq!(apply("free", 1, "2026-11-01T00:00:00Z"), 1);
    assert_eq!(ended(), None, "a plan that was never paid did not end");
    assert_eq!(apply("paid", 2, "2026-11-02T00:00:00Z"), 1);
    assert_eq!((ended(), pause()), (None, None));
    assert_eq!(apply("free", 3, "2026-11-10T00:00:00Z"), 1);
    assert_eq!(ended().as_deref(), Some("2026-11-10T00:00:00Z"));
    assert_eq!(pause().as_deref(), Some("2026-11-24T00:00:00Z"), "14 days of grace");
    assert_eq!(apply("free", 4, "2026-11-12T00:00:00Z"), 1);
    assert_eq!(
        ended().as_deref(),
        Some("2026-11-10T00:00:00Z"),
        "a second free event keeps the date"
    );
    assert_eq!(apply("paid", 5, "2026-11-20T00:00:00Z"), 1);
    assert_eq!((ended(), pause()), (None, None), "paying again resumes the live keys");
    // A late webhook: the grace counts from when Stripe says the subscription ended.
    assert_eq!(
        apply_ended("free", 6, "2026-11-25T00:00:00Z", Some("2026-11-21T00:00:00Z")),
        1
    );
    assert_eq!(ended().as_deref(), Some("2026-11-21T00:00:00Z"));
    assert_eq!(pause().as_deref(), Some("2026-12-05T00:00:00Z"));
}

#[test]
fn past_the_users_bound_new_users_are_refused_and_known_ones_keep_counting() {
    let conn = counter_db(None);
    let p = counter_project(Mode::Test);
    let bounded = |user| CountRequest {
        users_bound: Some(2),
        shards: 1,
        ..request(user, UsageLimit::limited(10), None, "r")
    };
    let count = |user| {
        let req = bounded(user);
        note_if_new(&conn, &p, &req, count_once(&conn, &p, &req))
    };
    assert_eq!((count("a"), count("b"), count("a")), (Some(1), Some(1), Some(2)));
    assert_eq!(count("c"), None, "a third user in the period");
    assert_eq!(stored(&conn, &p, "c"), 0, "no row for the refused user");
    assert_eq!((count("b"), count("a")), (Some(2), Some(3)));
    // Another project has its own bound.
    let other = counter_project(Mode::Test);
    let req = bounded("c");
    assert_eq!(
        note_if_new(&conn, &other, &req, count_once(&conn, &other, &req)),
        Some(1)
    );
}

#[test]
fn the_users_bound_refuses_an_idempotent_request_without_leaving_a_claim() {
    let mut conn = counter_db(None);
    let p = counter_project(Mode::Test);
    let first = CountRequest {
        users_bound: Some(1),
        shards: 1,
        ..request("a", UsageLimit::limited(10), Some("k1"), "r1")
    };
    let verdict = count_idempotent(&mut conn, &p, &first).unwrap();
    assert_eq!(verdict, Verdict::Counted(1));
    note_if_new(&conn, &p, &first, Some(1));
    let newcomer = CountRequest {
        users_bound: Some(1),
        shards: 1,
        ..request("b", UsageLimit::limited(10), Some("k2"), "r2")
    };
    assert_eq!(
        count_idempotent(&mut conn, &p, &newcomer).unwrap(),
        Verdict::LimitReached
    );
    let claims: i64 = conn
        .query_row(
            "SELECT COUNT(*) FROM usage_idempotency WHERE idempotencyKey = 'k2'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(claims, 0, "a refused request leaves no claim to replay");
    let again = CountRequest {
        users_bound: Some(1),
        shards: 1,
        ..request("a", UsageLimit::limited(10), Some("k3"), "r3")
    };
    assert_eq!(count_idempotent(&mut conn, &p, &again).unwrap(), Verdict::Counted(2));
}

#[test]
fn a_developer_cannot_pass_the_project_bound_but_can_take_projects_live() {
    use dream_core::keys::KeyPair;
    use shared::storage::projects::{INSERT_API_KEY, MAX_PROJECTS};
    let conn = migrated(None);
    conn.execute(
        "INSERT INTO platforms (platformId, clerkUserId, createdAt) VALUES ('plt_q', 'u_q', ?1)",
        [NOW.to_rfc3339()],
    )
    .unwrap();
    let insert = |project: &str, mode: Mode| -> usize {
        let keys = KeyPair::generate(mode);
        conn.execute(
            INSERT_API_KEY,
            rusqlite::params![
                keys.publishable.as_str(),
                "plt_q",
                project,
                "saas",
                mode.as_str(),
                "P",
                keys.secret.hash().as_str(),
                NOW.to_rfc3339(),
                MAX_PROJECTS,
                "usd",
                0,
                "exclusive"
            ],
        )
        .unwrap()
    };
    for i in 0..MAX_PROJECTS {
        assert_eq!(insert(&format!("prj_{i}"), Mode::Test), 1, "project {i}");
    }
    assert_eq!(insert("prj_one_more", Mode::Test), 0, "past the bound");
    assert_eq!(insert("prj_0", Mode::Live), 1, "an existing project's live keys");
}

#[test]
fn old_usage_is_rolled_up_by_project_and_month_and_old_payloads_are_emptied() {
    use shared::storage::maintenance::{
        DELETE_USAGE_MONTH, ROLL_UP_USAGE_MONTH, SELECT_OLDEST_RAW_MONTH, TRIM_EVENT_PAYLOADS, months_before,
    };
    let conn = migrated(None);
    let usage = |pk: &str, user: &str, start: &str, count: i64| {
        conn.execute(
            "INSERT INTO usage_counts (publishableKey, userId, periodStart, periodEnd, platformId, plan, usageCount, updatedAt)
             VALUES (?1, ?2, ?3, ?3, 'plt', 'free', ?4, ?3)",
            (pk, user, start, count),
        )
        .unwrap();
    };
    usage("pk_a", "u1", "2025-01-01T00:00:00Z", 10);
    usage("pk_a", "u2", "2025-01-17T09:00:00Z", 5); // a subscription's period
    usage("pk_b", "u1", "2025-01-01T00:00:00Z", 7);
    usage("pk_a", "u1", "2025-02-01T00:00:00Z", 3);
    usage("pk_a", "u1", "2026-11-01T00:00:00Z", 99); // recent: kept raw
    let now = Timestamp::parse_rfc3339("2026-03-10T00:00:00Z").unwrap();
    let cutoff = months_before(now, 13); // 2025-02-01
    let oldest = || -> Option<String> {
        conn.query_row(SELECT_OLDEST_RAW_MONTH, [&cutoff], |r| r.get(0))
            .unwrap()
    };
    assert_eq!(oldest().as_deref(), Some("2025-01"));
    let roll = |month: &str| {
        conn.execute(ROLL_UP_USAGE_MONTH, (month, &cutoff)).unwrap();
        conn.execute(DELETE_USAGE_MONTH, (month, &cutoff)).unwrap()
    };
    assert_eq!(roll("2025-01"), 3);
    assert_eq!(oldest(), None, "February is not past the cutoff yet");
    let monthly = |pk: &str| -> (i64, i64) {
        conn.query_row(
            "SELECT requests, users FROM usage_monthly WHERE publishableKey = ?1 AND month = '2025-01'",
            [pk],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .unwrap()
    };
    assert_eq!(monthly("pk_a"), (15, 2));
    assert_eq!(monthly("pk_b"), (7, 1));
    // A month rolled up again (a row that arrived late) adds to it instead of replacing it.
    usage("pk_a", "u9", "2025-01-02T00:00:00Z", 1);
    assert_eq!(roll("2025-01"), 1);
    assert_eq!(monthly("pk_a"), (16, 3));
    let raw: i64 = conn
        .query_row("SELECT COUNT(*) FROM usage_counts", [], |r| r.get(0))
        .unwrap();
    assert_eq!(raw, 2, "February and November stay raw");

    let event = |id: &str, at: &str| {
        conn.execute(
            "INSERT INTO events (eventId, source, type, payload_json, createdAt) VALUES (?1, 'connect', 't', '{\"email\":\"a@b.co\"}', ?2)",
            (id, at),
        )
        .unwrap();
    };
    event("evt_old", "2026-01-01T00:00:00Z");
    event("evt_new", "2026-03-01T00:00:00Z");
    let trimmed = conn
        .execute(TRIM_EVENT_PAYLOADS, ("2026-02-08T00:00:00Z", 100))
        .unwrap();
    assert_eq!(trimmed, 1);
    let payload = |id: &str| -> String {
        conn.query_row("SELECT payload_json FROM events WHERE eventId = ?1", [id], |r| r.get(0))
            .unwrap()
    };
    assert_eq!(
        payload("evt_old"),
        "{}",
        "the id stays, so a redelivery is still a duplicate"
    );
    assert!(payload("evt_new").contains("a@b.co"));
}

#[test]
fn audit_entries_past_their_retention_are_deleted_oldest_first_in_batches() {
    use shared::storage::maintenance::{AUDIT_LOG_DAYS, PURGE_OLD_AUDIT_ENTRIES};
    let conn = migrated(None);
    let entry = |platform: &str, at: &str| {
        conn.execute(
            "INSERT INTO audit_log (platformId, actorId, action, requestId, createdAt) VALUES (?1, 'user_1', 'tier.updated', 'req', ?2)",
            (platform, at),
        )
        .unwrap();
    };
    entry("plt_a", "2025-01-01T00:00:00Z");
    entry("plt_b", "2025-01-02T00:00:00Z");
    entry("plt_a", "2025-01-03T00:00:00Z");
    entry("plt_a", "2026-03-01T00:00:00Z"); // recent: kept
    let now = Timestamp::parse_rfc3339("2026-03-10T00:00:00Z").unwrap();
    let cutoff = Timestamp(now.0 - AUDIT_LOG_DAYS * 24 * 3600).to_rfc3339();
    assert!(cutoff.as_str() > "2025-01-03" && cutoff.as_str() < "2026-03-01", "{cutoff}");
    let left = || -> Vec<String> {
        let mut statement = conn.prepare("SELECT createdAt FROM audit_log ORDER BY createdAt").unwrap();
        statement.query_map([], |r| r.get(0)).unwrap().map(Result::unwrap).collect()
    };
    // A batch of two takes the two oldest, whichever organization they belong to.
    assert_eq!(conn.execute(PURGE_OLD_AUDIT_ENTRIES, (&cutoff, 2)).unwrap(), 2);
    assert_eq!(left(), ["2025-01-03T00:00:00Z", "2026-03-01T00:00:00Z"]);
    assert_eq!(conn.execute(PURGE_OLD_AUDIT_ENTRIES, (&cutoff, 2)).unwrap(), 1);
    assert_eq!(conn.execute(PURGE_OLD_AUDIT_ENTRIES, (&cutoff, 2)).unwrap(), 0);
    assert_eq!(left(), ["2026-03-01T00:00:00Z"]);
}
