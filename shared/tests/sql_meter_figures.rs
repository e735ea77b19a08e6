//! The dashboard's meter figures, run natively against the real migrations: each meter's use
//! per plan, the overage of subscribers only, and the subscribers near their spend cap.

mod common;

use common::{NOW, migrated, project};
use dream_core::{mode::Mode, period::BillingPeriod};
use shared::storage::metrics::{SELECT_METER_USAGE, SELECT_NEAR_CAP};

/// pro: 10,000 tokens included, then 0.2 cents per 1,000; a cap of 3 cents.
const TERMS: &str =
    r#"[{"plan":"pro","meter":"tokens","included":10000,"per":1000,"priceNanos":200000000,"capNanos":3000000000}]"#;

#[test]
fn overage_counts_only_subscribers_and_near_cap_lists_who_used_most_of_it() {
    let conn = migrated(None);
    let p = project(&conn, Mode::Test);
    let pk = p.publishable_key.as_str();
    let period = BillingPeriod::calendar_month(NOW);
    let (start, end) = (period.start.to_rfc3339(), period.end.to_rfc3339());
    for (user, plan, meter, count) in [
        ("u1", "pro", "tokens", 25_000),
        ("u2", "pro", "tokens", 5_000),
        ("u3", "free", "tokens", 800),
        // On `pro` by the plan header alone: nobody to bill.
        ("u4", "pro", "tokens", 30_000),
        ("u1", "pro", "requests", 7),
    ] {
        conn.execute(
            "INSERT INTO usage_counts (publishableKey, userId, periodStart, meter, periodEnd, platformId, plan, usageCount, updatedAt)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?3)",
            (pk, user, &start, meter, &end, &p.platform_id, plan, count),
        )
        .unwrap();
    }
    for user in ["u1", "u2"] {
        conn.execute(
            "INSERT INTO subscriptions (subscriptionId, publishableKey, userId, platformId, plan, status, updatedAt)
             VALUES (?1, ?2, ?3, 'plt', 'pro', 'active', ?4)",
            (format!("sub_{user}"), pk, user, NOW.to_rfc3339()),
        )
        .unwrap();
    }
    let now = NOW.to_rfc3339();
    let rows: Vec<(String, String, i64, i64, i64, i64)> = conn
        .prepare(SELECT_METER_USAGE)
        .unwrap()
        .query_map((pk, &now, TERMS), |r| {
            Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?, r.get(5)?))
        })
        .unwrap()
        .map(Result::unwrap)
        .collect();
    assert_eq!(
        rows,
        [
            ("tokens".to_owned(), "free".to_owned(), 1, 800, 0, 0),
            ("tokens".to_owned(), "pro".to_owned(), 3, 60_000, 15_000, 15),
        ]
    );
    let near: Vec<(String, f64, i64)> = conn
        .prepare(SELECT_NEAR_CAP)
        .unwrap()
        .query_map((pk, &now, TERMS), |r| Ok((r.get(0)?, r.get(2)?, r.get(3)?)))
        .unwrap()
        .map(Result::unwrap)
        .collect();
    assert_eq!(near, [("u1".to_owned(), 3_000_000_000.0, 3_000_000_000)]);
}
