//! The customer and subscription SQL, run natively against the real migrations: what the hot
//! path reads for a user, how Stripe state converges whatever the delivery order, the checkout
//! compare-and-set, and the dashboard figures.

mod common;

use common::{NOW, migrated, project, to_values};
use dream_core::{mode::Mode, period::Timestamp, stripe::objects::SubscriptionState};
use rusqlite::{Connection, OptionalExtension, params_from_iter};
use serde_json::json;
use shared::storage::{
    Project, SqlParam,
    customers::{INSERT_CUSTOMER, SELECT_CUSTOMER_BY_EMAIL, SET_STRIPE_CUSTOMER, SWAP_CHECKOUT_SESSION},
    metrics::{SELECT_CUSTOMER_LIST, SELECT_SAAS_SUMMARY},
    projects::SELECT_PROJECT_ON_ACCOUNT,
    subscriptions::{CLEAR_LAPSED_PLAN, SELECT_ENTITLEMENT, SubscriptionSync, UPSERT_SUBSCRIPTION},
};

fn run(conn: &Connection, sql: &str, params: Vec<SqlParam>) -> usize {
    conn.execute(sql, params_from_iter(to_values(&params))).unwrap()
}

fn state(id: &str, status: &str, cancel_at_period_end: bool, period: (i64, i64), amount: i64) -> SubscriptionState {
    SubscriptionState::parse(&json!({
        "id": id, "object": "subscription", "customer": "cus_1", "status": status, "currency": "usd",
        "cancel_at_period_end": cancel_at_period_end,
        "items": {"data": [{"current_period_start": period.0, "current_period_end": period.1,
            "price": {"id": "price_pro", "product": "prod_pro", "unit_amount": amount,
                      "recurring": {"interval": "month", "interval_count": 1}}}]}
    }))
    .unwrap()
}

/// `ProjectScope::sync_subscription` without the event record: upsert, then the lapsed-plan
/// clean-up, in one transaction. Returns whether the upsert wrote.
fn sync(conn: &mut Connection, p: &Project, s: &SubscriptionState, user: &str, plan: &str, read_at_ms: i64) -> bool {
    let sync = SubscriptionSync {
        state: s,
        user_id: user,
        plan,
        read_at_ms,
        event: None,
    };
    let tx = conn.transaction().unwrap();
    let written = tx
        .execute(
            UPSERT_SUBSCRIPTION,
            params_from_iter(to_values(&sync.upsert_params(p, NOW))),
        )
        .unwrap();
    tx.execute(
        CLEAR_LAPSED_PLAN,
        params_from_iter(to_values(&[
            p.publishable_key.as_str().into(),
            user.into(),
            NOW.to_rfc3339().into(),
        ])),
    )
    .unwrap();
    tx.commit().unwrap();
    written == 1
}

fn entitlement(conn: &Connection, p: &Project, user: &str) -> Option<(String, Option<String>)> {
    conn.query_row(SELECT_ENTITLEMENT, (p.publishable_key.as_str(), user), |r| {
        Ok((r.get(0)?, r.get(1)?))
    })
    .optional()
    .unwrap()
}

fn customer(conn: &Connection, p: &Project, user: &str, email: &str, plan: Option<&str>) -> usize {
    run(
        conn,
        INSERT_CUSTOMER,
        vec![
            p.publishable_key.as_str().into(),
            user.into(),
            p.platform_id.as_str().into(),
            email.into(),
            user.into(),
            SqlParam::Null,
            SqlParam::Null,
            plan.into(),
            NOW.to_rfc3339().into(),
        ],
    )
}

const PERIOD: (i64, i64) = (NOW.0 - 100, NOW.0 + 1000);

#[test]
fn a_subscription_wins_over_the_plan_given_at_creation_and_ending_it_means_free() {
    let mut conn = migrated(None);
    let p = project(&conn, Mode::Test);
    assert_eq!(entitlement(&conn, &p, "u1"), None, "unknown user: free");
    customer(&conn, &p, "u1", "u1@example.com", Some("team"));
    assert_eq!(entitlement(&conn, &p, "u1"), Some(("team".into(), None)));

    sync(
        &mut conn,
        &p,
        &state("sub_1", "active", false, PERIOD, 999),
        "u1",
        "pro",
        1,
    );
    let start = Timestamp(PERIOD.0).to_rfc3339();
    assert_eq!(entitlement(&conn, &p, "u1"), Some(("pro".into(), Some(start.clone()))));
    sync(
        &mut conn,
        &p,
        &state("sub_1", "past_due", false, PERIOD, 999),
        "u1",
        "pro",
        2,
    );
    assert_eq!(
        entitlement(&conn, &p, "u1"),
        Some(("pro".into(), Some(start))),
        "past_due keeps access while Stripe retries"
    );
    sync(
        &mut conn,
        &p,
        &state("sub_1", "canceled", false, PERIOD, 999),
        "u1",
        "pro",
        3,
    );
    assert_eq!(entitlement(&conn, &p, "u1"), None, "ended: free, not the creation plan");
}

#[test]
fn the_latest_read_of_stripe_wins_in_any_order() {
    let mut conn = migrated(None);
    let p = project(&conn, Mode::Test);
    let canceled = state("sub_1", "canceled", false, PERIOD, 999);
    let active = state("sub_1", "active", true, PERIOD, 999);
    assert!(sync(&mut conn, &p, &canceled, "u1", "pro", 200));
    assert!(
        !sync(&mut conn, &p, &active, "u1", "pro", 100),
        "an older read is refused"
    );
    assert!(
        !sync(&mut conn, &p, &active, "u1", "pro", 200),
        "an equal read changes nothing"
    );
    let status: String = conn
        .query_row(
            "SELECT status FROM subscriptions WHERE subscriptionId = 'sub_1'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(status, "canceled");
}

#[test]
fn a_subscription_never_moves_to_another_project() {
    let mut conn = migrated(None);
    let a = project(&conn, Mode::Test);
    let b = project(&conn, Mode::Test);
    assert!(sync(
        &mut conn,
        &a,
        &state("sub_1", "active", false, PERIOD, 999),
        "u1",
        "pro",
        1
    ));
    assert!(!sync(
        &mut conn,
        &b,
        &state("sub_1", "active", false, PERIOD, 999),
        "u1",
        "pro",
        2
    ));
    assert_eq!(entitlement(&conn, &b, "u1"), None);
    assert!(entitlement(&conn, &a, "u1").is_some());
}

#[test]
fn customers_are_unique_per_project_and_email_but_not_across_projects() {
    let conn = migrated(None);
    let a = project(&conn, Mode::Test);
    let b = project(&conn, Mode::Live);
    assert_eq!(customer(&conn, &a, "user_1", "ada@example.com", None), 1);
    assert_eq!(
        customer(&conn, &a, "user_1", "ada@example.com", None),
        0,
        "a retry inserts nothing"
    );
    assert_eq!(
        customer(&conn, &a, "user_2", "ada@example.com", None),
        0,
        "one email per project"
    );
    assert_eq!(
        customer(&conn, &b, "user_1", "ada@example.com", None),
        1,
        "same person, other project"
    );
    let found: String = conn
        .query_row(
            SELECT_CUSTOMER_BY_EMAIL,
            (b.publishable_key.as_str(), "ada@example.com"),
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(found, "user_1");
}

#[test]
fn the_first_stripe_customer_and_one_checkout_session_stand() {
    let conn = migrated(None);
    let p = project(&conn, Mode::Test);
    let pk = p.publishable_key.as_str();
    let set = |cus: &str| {
        run(
            &conn,
            SET_STRIPE_CUSTOMER,
            vec![
                pk.into(),
                "u1".into(),
                p.platform_id.as_str().into(),
                cus.into(),
                NOW.to_rfc3339().into(),
            ],
        )
    };
    set("cus_first");
    set("cus_second");
    let stored: String = conn
        .query_row("SELECT stripeCustomerId FROM customers WHERE userId = 'u1'", [], |r| {
            r.get(0)
        })
        .unwrap();
    assert_eq!(stored, "cus_first");

    let swap = |expected: Option<&str>, new: &str| {
        run(
            &conn,
            SWAP_CHECKOUT_SESSION,
            vec![
                pk.into(),
                "u1".into(),
                expected.into(),
                new.into(),
                NOW.to_rfc3339().into(),
            ],
        )
    };
    assert_eq!(swap(None, "cs_1"), 1);
    assert_eq!(
        swap(None, "cs_1"),
        1,
        "the same session twice (two tabs, one idempotency key)"
    );
    assert_eq!(swap(None, "cs_2"), 0, "a racer that read no session loses");
    assert_eq!(swap(Some("cs_1"), "cs_3"), 1);
    assert_eq!(swap(Some("cs_1"), "cs_4"), 0, "a racer that read the old session loses");
}

#[test]
fn events_touch_a_project_only_through_its_developers_connected_account() {
    let conn = migrated(None);
    let p = project(&conn, Mode::Test);
    conn.execute(
        "INSERT INTO stripe_tokens (platformId, stripeUserId, createdAt, updatedAt) VALUES (?1, 'acct_owner', ?2, ?2)",
        (&p.platform_id, NOW.to_rfc3339()),
    )
    .unwrap();
    let lookup = |account: &str| -> Option<String> {
        conn.query_row(SELECT_PROJECT_ON_ACCOUNT, (p.publishable_key.as_str(), account), |r| {
            r.get(0)
        })
        .optional()
        .unwrap()
    };
    assert_eq!(lookup("acct_owner"), Some(p.platform_id.clone()));
    assert_eq!(lookup("acct_attacker"), None);
}

#[test]
fn dashboard_figures_follow_subscriptions_and_usage() {
    let mut conn = migrated(None);
    let p = project(&conn, Mode::Test);
    let pk = p.publishable_key.as_str();
    for (user, email) in [("u1", "a@x.io"), ("u2", "b@x.io"), ("u3", "c@x.io"), ("u4", "d@x.io")] {
        customer(&conn, &p, user, email, None);
    }
    sync(
        &mut conn,
        &p,
        &state("sub_1", "active", false, PERIOD, 999),
        "u1",
        "pro",
        1,
    );
    sync(
        &mut conn,
        &p,
        &state("sub_2", "active", true, PERIOD, 2900),
        "u2",
        "team",
        1,
    );
    sync(
        &mut conn,
        &p,
        &state("sub_3", "past_due", false, PERIOD, 999),
        "u3",
        "pro",
        1,
    );
    sync(
        &mut conn,
        &p,
        &state("sub_4", "canceled", false, PERIOD, 999),
        "u4",
        "pro",
        1,
    );
    let now = NOW.to_rfc3339();
    let start = Timestamp(PERIOD.0).to_rfc3339();
    let end = Timestamp(PERIOD.1).to_rfc3339();
    let old = Timestamp(PERIOD.0 - 5000).to_rfc3339();
    for (user, period_start, count) in [("u1", &start, 7), ("u2", &start, 5), ("u1", &old, 100)] {
        conn.execute(
            "INSERT INTO usage_counts (publishableKey, userId, periodStart, periodEnd, platformId, plan, usageCount, updatedAt)
             VALUES (?1, ?2, ?3, ?4, 'plt', 'pro', ?5, ?6)",
            (pk, user, period_start, if period_start == &old { &start } else { &end }, count, &now),
        )
        .unwrap();
    }
    let summary: (i64, i64, i64, i64, i64, i64) = conn
        .query_row(SELECT_SAAS_SUMMARY, (pk, &now), |r| {
            Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?, r.get(5)?))
        })
        .unwrap();
    // active: u1, u2, u3 (past_due keeps access); canceling: u2; MRR: 999 + 2900 + 999.
    assert_eq!(summary, (3, 1, 1, 999 + 2900 + 999, 12, 4));

    let mut stmt = conn.prepare(SELECT_CUSTOMER_LIST).unwrap();
    let rows: Vec<(String, Option<String>, Option<String>, i64)> = stmt
        .query_map((pk, &now, 10), |r| Ok((r.get(0)?, r.get(3)?, r.get(4)?, r.get(7)?)))
        .unwrap()
        .map(Result::unwrap)
        .collect();
    let u1 = rows.iter().find(|r| r.0 == "u1").unwrap();
    assert_eq!(
        (u1.1.as_deref(), u1.2.as_deref(), u1.3),
        (Some("pro"), Some("active"), 7)
    );
    let u4 = rows.iter().find(|r| r.0 == "u4").unwrap();
    assert_eq!((u4.2.as_deref(), u4.3), (Some("canceled"), 0));
    assert_eq!(rows.len(), 4);
}
