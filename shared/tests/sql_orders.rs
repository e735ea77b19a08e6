//! The Store's order SQL, run natively against the real migrations: holds never exceed stock,
//! even across connections at once; an expired hold frees its stock; a payment sells once, and is
//! recorded even when it comes after its hold ended (its shortfall on it, not on other carts); an
//! inventory edit cannot go below what open checkouts hold.

mod common;

use common::{NOW, migrated, to_values};
use dream_core::{keys::KeyPair, mode::Mode, period::Timestamp};
use rusqlite::{Connection, params_from_iter};
use shared::storage::{
    SqlParam,
    orders::{
        CONSUME_STOCK, HOLD_ITEM, INSERT_ORDER, MARK_PAID, RECORD_SHORT_UNITS, RELEASE_ORDER,
        SELECT_ORDER_BY_IDEMPOTENCY_KEY, SELECT_PRODUCTS, SET_ORDER_AMOUNT,
    },
    projects::UPDATE_TIER,
    refunds::{MARK_RESTOCKED, RECORD_DISPUTE, RECORD_REFUNDED, RESTOCK_ITEMS},
};

/// A Store project with one product `mug` ($12, `stock` units); its publishable key.
fn store(conn: &Connection, stock: i64) -> String {
    let keys = KeyPair::generate(Mode::Test);
    let pk = keys.publishable.as_str().to_owned();
    let now = NOW.to_rfc3339();
    conn.execute(
        "INSERT INTO platforms (platformId, clerkUserId, createdAt) VALUES ('plt_s', 'u', ?1)",
        [&now],
    )
    .unwrap();
    conn.execute(
        "INSERT INTO api_keys (publishableKey, platformId, projectId, projectType, mode, name, secretKeyHash, createdAt, updatedAt)
         VALUES (?1, 'plt_s', 'prj_s', 'store', 'test', 'Shop', ?2, ?3, ?3)",
        (&pk, keys.secret.hash().as_str(), &now),
    )
    .unwrap();
    conn.execute(
        "INSERT INTO tiers (publishableKey, name, platformId, projectType, mode, displayName, priceCents, priceId, inventory, createdAt, updatedAt)
         VALUES (?1, 'mug', 'plt_s', 'store', 'test', 'Mug', 1200, 'price_mug', ?2, ?3, ?3)",
        (&pk, stock, &now),
    )
    .unwrap();
    pk
}

/// `ProjectScope::hold_cart` for one line, as one transaction; false when refused.
fn hold(conn: &mut Connection, pk: &str, order: &str, quantity: i64, expires: Timestamp, now: Timestamp) -> bool {
    let tx = conn.transaction().unwrap();
    let run = |sql: &str, params: Vec<SqlParam>| tx.execute(sql, params_from_iter(to_values(&params)));
    let outcome = run(
        INSERT_ORDER,
        vec![
            order.into(),
            pk.into(),
            "plt_s".into(),
            SqlParam::Null,
            0.into(),
            expires.to_rfc3339().into(),
            now.to_rfc3339().into(),
            SqlParam::Null,
            SqlParam::Null,
        ],
    )
    .and_then(|_| {
        run(
            HOLD_ITEM,
            vec![
                order.into(),
                pk.into(),
                "mug".into(),
                "price_mug".into(),
                quantity.into(),
                now.to_rfc3339().into(),
                1.into(),
            ],
        )
    })
    .and_then(|_| run(SET_ORDER_AMOUNT, vec![order.into()]));
    match outcome {
        Ok(_) => {
            tx.commit().unwrap();
            true
        }
        Err(e) => {
            assert!(e.to_string().contains("CHECK constraint failed"), "{e}");
            false
        }
    }
}

fn available(conn: &Connection, pk: &str, now: Timestamp) -> (i64, i64) {
    conn.query_row(SELECT_PRODUCTS, (pk, now.to_rfc3339()), |r| Ok((r.get(6)?, r.get(8)?)))
        .unwrap()
}

/// `ProjectScope::apply_order_event` for a payment applied at `now`.
fn pay(conn: &mut Connection, pk: &str, order: &str, now: Timestamp) {
    let tx = conn.transaction().unwrap();
    let at = (order, pk, now.to_rfc3339());
    tx.execute(RECORD_SHORT_UNITS, at.clone()).unwrap();
    tx.execute(CONSUME_STOCK, at).unwrap();
    tx.execute(
        MARK_PAID,
        params_from_iter(to_values(&[
            order.into(),
            pk.into(),
            format!("cs_{order}").into(),
            1200.into(),
            SqlParam::Null,
            SqlParam::Null,
            now.to_rfc3339().into(),
            0.into(),
        ])),
    )
    .unwrap();
    tx.commit().unwrap();
}

fn short_units(conn: &Connection, order: &str) -> i64 {
    conn.query_row("SELECT shortUnits FROM orders WHERE orderId = ?1", [order], |r| {
        r.get(0)
    })
    .unwrap()
}

const LATER: Timestamp = Timestamp(NOW.0 + 3600);

#[test]
fn holds_never_exceed_stock_and_expire() {
    let mut conn = migrated(None);
    let pk = store(&conn, 3);
    assert!(hold(&mut conn, &pk, "ord_1", 2, LATER, NOW));
    assert!(!hold(&mut conn, &pk, "ord_2", 2, LATER, NOW), "only 1 left");
    assert!(hold(&mut conn, &pk, "ord_3", 1, LATER, NOW));
    assert_eq!(available(&conn, &pk, NOW), (3, 3), "stock 3, all held");
    let amount: i64 = conn
        .query_row("SELECT amountCents FROM orders WHERE orderId = 'ord_1'", [], |r| {
            r.get(0)
        })
        .unwrap();
    assert_eq!(amount, 2400);
    // After the holds expire, their stock can be held again.
    let after = Timestamp(LATER.0 + 1);
    assert!(hold(&mut conn, &pk, "ord_4", 3, Timestamp(after.0 + 3600), after));
    // A released order frees its stock at once.
    assert_eq!(
        conn.execute(RELEASE_ORDER, ("ord_4", pk.as_str(), "expired", after.to_rfc3339()))
            .unwrap(),
        1
    );
    assert_eq!(available(&conn, &pk, after), (3, 0));
}

#[test]
fn a_payment_sells_its_held_units_once() {
    let mut conn = migrated(None);
    let pk = store(&conn, 5);
    assert!(hold(&mut conn, &pk, "ord_1", 2, LATER, NOW));
    pay(&mut conn, &pk, "ord_1", NOW);
    pay(&mut conn, &pk, "ord_1", NOW);
    assert_eq!(available(&conn, &pk, NOW), (3, 0), "sold once, no longer held");
    let status: String = conn
        .query_row("SELECT status FROM orders WHERE orderId = 'ord_1'", [], |r| r.get(0))
        .unwrap();
    assert_eq!(status, "paid");
    assert_eq!(
        conn.execute(RELEASE_ORDER, ("ord_1", pk.as_str(), "expired", NOW.to_rfc3339()))
            .unwrap(),
        0,
        "a paid order is never released"
    );
}

/// A customer paid in time, but the payment is applied after the hold ended (Stripe retrying a
/// failed delivery for hours, or a payment that settles days later) and another cart holds the
/// units meanwhile. The payment is still recorded, the stock never goes below 0, the cart still
/// holding its units keeps them, and the late order says how many units it is short.
#[test]
fn a_payment_applied_after_its_hold_ended_is_recorded_and_short_on_it_alone() {
    let mut conn = migrated(None);
    let pk = store(&conn, 3);
    assert!(hold(&mut conn, &pk, "ord_late", 2, LATER, NOW));
    let after = Timestamp(LATER.0 + 60);
    assert!(hold(&mut conn, &pk, "ord_b", 2, Timestamp(after.0 + 3600), after));
    pay(&mut conn, &pk, "ord_late", after);
    assert_eq!(short_units(&conn, "ord_late"), 1, "1 unit was left beside ord_b's hold");
    assert_eq!(available(&conn, &pk, after), (2, 2), "ord_b's 2 units are still there");
    pay(&mut conn, &pk, "ord_b", after);
    assert_eq!(short_units(&conn, "ord_b"), 0);
    assert_eq!(available(&conn, &pk, after), (0, 0));
    // With nothing left at all, a late payment is still recorded, all of it short.
    conn.execute(
        "INSERT INTO orders (orderId, publishableKey, platformId, status, amountCents, expiresAt, createdAt, updatedAt)
         VALUES ('ord_d', ?1, 'plt_s', 'open', 1200, ?2, ?2, ?2)",
        (&pk, NOW.to_rfc3339()),
    )
    .unwrap();
    conn.execute(
        "INSERT INTO order_items (orderId, publishableKey, tierName, priceId, quantity, unitCents)
         VALUES ('ord_d', ?1, 'mug', 'price_mug', 3, 1200)",
        [&pk],
    )
    .unwrap();
    pay(&mut conn, &pk, "ord_d", after);
    assert_eq!(short_units(&conn, "ord_d"), 3);
    assert_eq!(available(&conn, &pk, after), (0, 0));
    let paid: i64 = conn
        .query_row("SELECT COUNT(*) FROM orders WHERE status = 'paid'", [], |r| r.get(0))
        .unwrap();
    assert_eq!(paid, 3);
}

#[test]
fn concurrent_connections_never_hold_more_than_the_stock() {
    let dir = std::env::temp_dir().join(format!("dream-orders-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("d1.sqlite");
    let _ = std::fs::remove_file(&path);
    let pk = store(&migrated(Some(&path)), 10);
    let held: usize = std::thread::scope(|s| {
        let handles: Vec<_> = (0..25)
            .map(|i| {
                let (path, pk) = (path.clone(), pk.clone());
                s.spawn(move || {
                    let mut conn = common::open(Some(&path));
                    usize::from(hold(&mut conn, &pk, &format!("ord_{i}"), 1, LATER, NOW))
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).sum()
    });
    assert_eq!(held, 10);
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn inventory_cannot_be_set_below_what_open_checkouts_hold() {
    let mut conn = migrated(None);
    let pk = store(&conn, 5);
    assert!(hold(&mut conn, &pk, "ord_1", 3, LATER, NOW));
    fn update(conn: &Connection, pk: &str, inventory: i64, keeps_stock: bool) -> usize {
        let params: Vec<SqlParam> = vec![
            pk.into(),
            "mug".into(),
            "plt_s".into(),
            "store".into(),
            "test".into(),
            "Mug".into(),
            1200.into(),
            SqlParam::Null,
            "price_mug".into(),
            SqlParam::Null,
            "{}".into(),
            0.into(),
            inventory.into(),
            0.into(),
            NOW.to_rfc3339().into(),
            SqlParam::Null,
            SqlParam::Null,
            SqlParam::Null,
            SqlParam::Null,
            1.into(),
            SqlParam::Null,
            "usd".into(),
            i64::from(keeps_stock).into(),
        ];
        conn.execute(UPDATE_TIER, params_from_iter(to_values(&params))).unwrap()
    }
    assert_eq!(update(&conn, &pk, 2, false), 0, "3 units are held");
    assert_eq!(update(&conn, &pk, 3, false), 1);
    assert_eq!(available(&conn, &pk, NOW), (3, 3));
    // A form loaded at 5, before the sale of the 3 held units, saved without a stock: the sold
    // units stay sold.
    pay(&mut conn, &pk, "ord_1", NOW);
    assert_eq!(update(&conn, &pk, 5, true), 1);
    assert_eq!(available(&conn, &pk, NOW), (0, 0));
}

#[test]
fn an_idempotency_key_makes_one_order_per_project_until_that_order_fails() {
    let conn = migrated(None);
    let pk = store(&conn, 5);
    let insert = |order: &str, pk: &str, key: &str| {
        conn.execute(
            INSERT_ORDER,
            params_from_iter(to_values(&[
                order.into(),
                pk.into(),
                "plt_s".into(),
                SqlParam::Null,
                0.into(),
                NOW.to_rfc3339().into(),
                NOW.to_rfc3339().into(),
                key.into(),
                "hash".into(),
            ])),
        )
    };
    insert("ord_1", &pk, "key-1").unwrap();
    // The message `hold_cart` recognises as a replay.
    let second = insert("ord_2", &pk, "key-1").unwrap_err().to_string();
    assert!(
        second.contains("UNIQUE constraint failed: orders.publishableKey"),
        "{second}"
    );
    let found: String = conn
        .query_row(SELECT_ORDER_BY_IDEMPOTENCY_KEY, (&pk, "key-1"), |r| r.get(0))
        .unwrap();
    assert_eq!(found, "ord_1");
    // Another project's orders are another namespace.
    let conn_other_pk = {
        let keys = KeyPair::generate(Mode::Test);
        let other = keys.publishable.as_str().to_owned();
        conn.execute(
            "INSERT INTO api_keys (publishableKey, platformId, projectId, projectType, mode, name, secretKeyHash, createdAt, updatedAt)
             VALUES (?1, 'plt_s', 'prj_o', 'store', 'test', 'Other', ?2, ?3, ?3)",
            (&other, keys.secret.hash().as_str(), NOW.to_rfc3339()),
        )
        .unwrap();
        other
    };
    insert("ord_3", &conn_other_pk, "key-1").unwrap();
    // An expired order keeps its key (a retry sees what happened); a failed one gives it up.
    conn.execute(RELEASE_ORDER, ("ord_1", pk.as_str(), "expired", NOW.to_rfc3339()))
        .unwrap();
    assert!(insert("ord_4", &pk, "key-1").is_err());
    conn.execute("UPDATE orders SET status = 'reserving' WHERE orderId = 'ord_1'", [])
        .unwrap();
    conn.execute(RELEASE_ORDER, ("ord_1", pk.as_str(), "failed", NOW.to_rfc3339()))
        .unwrap();
    insert("ord_4", &pk, "key-1").unwrap();
}

/// `ProjectScope::record_refund` as one transaction, for a Stripe read at `read_at_ms`;
/// whether the units went back.
fn refund(
    conn: &mut Connection,
    pk: &str,
    order: &str,
    (refunded_cents, read_at_ms): (i64, i64),
    restock: bool,
) -> bool {
    let tx = conn.transaction().unwrap();
    let now = LATER.to_rfc3339();
    tx.execute(
        RECORD_REFUNDED,
        (order, pk, format!("pi_{order}"), refunded_cents, &now, read_at_ms),
    )
    .unwrap();
    let mut restocked = 0;
    if restock {
        tx.execute(RESTOCK_ITEMS, (order, pk)).unwrap();
        restocked = tx.execute(MARK_RESTOCKED, (order, pk, &now)).unwrap();
    }
    tx.commit().unwrap();
    restocked > 0
}

fn refunded(conn: &Connection, order: &str) -> i64 {
    conn.query_row("SELECT refundedCents FROM orders WHERE orderId = ?1", [order], |r| {
        r.get(0)
    })
    .unwrap()
}

#[test]
fn refunds_follow_the_latest_read_and_return_stock_once_never_for_a_short_order() {
    let mut conn = migrated(None);
    let pk = store(&conn, 5);
    assert!(hold(&mut conn, &pk, "ord_a", 2, LATER, NOW));
    pay(&mut conn, &pk, "ord_a", NOW);
    conn.execute("UPDATE orders SET paymentIntent = 'pi_' || orderId", [])
        .unwrap();
    assert_eq!(available(&conn, &pk, NOW).0, 3);

    // An older read arriving late changes nothing; a later one wins, even if it is lower (a
    // refund that failed).
    assert!(!refund(&mut conn, &pk, "ord_a", (500, 20), false));
    assert!(!refund(&mut conn, &pk, "ord_a", (900, 10), false));
    assert_eq!(refunded(&conn, "ord_a"), 500);
    assert!(!refund(&mut conn, &pk, "ord_a", (0, 30), false));
    assert_eq!(refunded(&conn, "ord_a"), 0);
    // Restocked once, however often asked.
    assert!(refund(&mut conn, &pk, "ord_a", (2400, 40), true));
    assert!(!refund(&mut conn, &pk, "ord_a", (2400, 50), true));
    assert_eq!(available(&conn, &pk, NOW).0, 5);
    assert_eq!(refunded(&conn, "ord_a"), 2400);
    // Another charge's refund cannot land on this order.
    conn.execute(
        RECORD_REFUNDED,
        ("ord_a", &pk, "pi_other", 9_999, LATER.to_rfc3339(), 60),
    )
    .unwrap();
    assert_eq!(refunded(&conn, "ord_a"), 2400);

    // An order that was short returns nothing: some of its units never came out of stock.
    let after = Timestamp(LATER.0 + 60);
    assert!(hold(&mut conn, &pk, "ord_short", 2, LATER, NOW));
    assert!(hold(&mut conn, &pk, "ord_full", 4, Timestamp(after.0 + 3600), after));
    pay(&mut conn, &pk, "ord_short", after);
    conn.execute("UPDATE orders SET paymentIntent = 'pi_' || orderId", [])
        .unwrap();
    assert_eq!(short_units(&conn, "ord_short"), 1);
    let stock_before: i64 = available(&conn, &pk, after).0;
    assert!(!refund(&mut conn, &pk, "ord_short", (2400, 10), true));
    assert_eq!(available(&conn, &pk, after).0, stock_before);
}

#[test]
fn a_dispute_read_earlier_never_replaces_a_later_one() {
    let mut conn = migrated(None);
    let pk = store(&conn, 5);
    assert!(hold(&mut conn, &pk, "ord_d", 1, LATER, NOW));
    pay(&mut conn, &pk, "ord_d", NOW);
    conn.execute("UPDATE orders SET paymentIntent = 'pi_' || orderId", [])
        .unwrap();
    let dispute = |status: &str, read_at_ms: i64| {
        conn.execute(
            RECORD_DISPUTE,
            ("ord_d", &pk, "pi_ord_d", status, 1200, LATER.to_rfc3339(), read_at_ms),
        )
        .unwrap()
    };
    assert_eq!(dispute("lost", 20), 1);
    assert_eq!(dispute("needs_response", 10), 0, "the read before it is stale");
    let status: String = conn
        .query_row("SELECT disputeStatus FROM orders WHERE orderId = 'ord_d'", [], |r| {
            r.get(0)
        })
        .unwrap();
    assert_eq!(status, "lost");
}
