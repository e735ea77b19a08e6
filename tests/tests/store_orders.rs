//! Store buyers checking out: products with availability, guest carts that hold stock, payment
//! on the emulator selling it, expiry releasing it, and the Store dashboard's sales figures;
//! under concurrency, replays and forged events, never more sold than stocked.

use dream_core::mode::Mode;
use e2e::{
    TestEnv,
    customers::{ProjectApi, figures, metric},
    journey::{self, StripeEmulator, onboarded_developer},
    shop::{cart, price_of, product, products, shop},
};
use futures_util::future::join_all;
use serde_json::{Value, json};

#[tokio::test]
async fn the_store_checklist_cart_paid_sold_out_and_expiry() {
    let env = TestEnv::get();
    let (_, project) = shop(&env, &[("mug", 12.0, 5), ("shirt", 25.0, 3)]).await;
    let api = ProjectApi::new(&env, &project);
    let list = products(&api).await;
    assert_eq!(list.len(), 2);
    let mug = product(&list, "mug");
    assert_eq!(
        (
            mug["price"].as_f64(),
            mug["inventory"].as_i64(),
            mug["available"].as_i64()
        ),
        (Some(12.0), Some(5), Some(5))
    );
    assert_eq!(mug["soldOut"], false);
    let (mug_price, shirt_price) = (price_of(&list, "mug"), price_of(&list, "shirt"));

    // A cart of two products holds their stock while it is open.
    let started = cart(
        &api,
        json!([{"priceId": mug_price, "quantity": 2}, {"priceId": shirt_price, "quantity": 1}]),
    )
    .await;
    assert_eq!(started.status, 200, "{:?}", started.body);
    assert_eq!(started.body["amountCents"], 2 * 1200 + 2500);
    let held = products(&api).await;
    assert_eq!(
        (
            product(&held, "mug")["inventory"].as_i64(),
            product(&held, "mug")["available"].as_i64()
        ),
        (Some(5), Some(3))
    );

    // Paid on the emulator: the stock is sold, and the sale is on the dashboard.
    api.pay(started.body["sessionId"].as_str().unwrap()).await.unwrap();
    let dashboard = api
        .wait_for_dashboard("one sale", |d| metric(d, "totalSales") == 1)
        .await
        .unwrap();
    assert_eq!(
        (metric(&dashboard, "revenueCents"), metric(&dashboard, "unitsSold")),
        (4900, 3)
    );
    assert_eq!(metric(&dashboard, "inStock"), 3 + 2);
    // The revenue chart: 30 days, oldest first, today's sale on the last one.
    let days = dashboard["revenueByDay"].as_array().unwrap();
    assert_eq!(days.len(), 30);
    let today = days.last().unwrap();
    assert_eq!(
        (today["revenueCents"].as_i64(), today["orders"].as_i64()),
        (Some(4900), Some(1))
    );
    assert_eq!(today["day"].as_str(), order_day(&dashboard).as_deref());
    assert!(days[..29].iter().all(|d| d["revenueCents"] == 0));
    let order = &dashboard["recentOrders"][0];
    assert_eq!(
        (order["email"].as_str(), order["amountCents"].as_i64()),
        (Some("buyer@example.com"), Some(4900))
    );
    assert_eq!(order["items"].as_array().unwrap().len(), 2);
    let sold = products(&api).await;
    assert_eq!(
        (
            product(&sold, "mug")["inventory"].as_i64(),
            product(&sold, "mug")["available"].as_i64()
        ),
        (Some(3), Some(3))
    );

    // Selling the last shirts: sold out, and a cart asking for one more is refused by name.
    let last = cart(&api, json!([{"priceId": shirt_price, "quantity": 2}])).await;
    api.pay(last.body["sessionId"].as_str().unwrap()).await.unwrap();
    api.wait_for_dashboard("the shirts sold out", |d| metric(d, "soldOut") == 1)
        .await
        .unwrap();
    let refused = cart(&api, json!([{"priceId": shirt_price, "quantity": 1}])).await;
    assert_eq!((refused.status, refused.error_code()), (409, "conflict"));
    assert_eq!(refused.body["product"], "shirt");
    assert_eq!(product(&products(&api).await, "shirt")["soldOut"], true);

    // An expired checkout gives its stock back.
    let abandoned = cart(&api, json!([{"priceId": mug_price, "quantity": 3}])).await;
    assert_eq!(abandoned.status, 200, "{:?}", abandoned.body);
    assert_eq!(product(&products(&api).await, "mug")["available"], 0);
    let too_many = cart(&api, json!([{"priceId": mug_price, "quantity": 1}])).await;
    assert_eq!(too_many.status, 409, "held stock cannot be sold twice");
    let session = abandoned.body["sessionId"].as_str().unwrap();
    let expired = api.control(&format!("/checkout/sessions/{session}/expire")).await;
    assert_eq!(expired.status, 200, "{:?}", expired.body);
    api.wait_for_dashboard("the hold released", |d| {
        d["products"]
            .as_array()
            .is_some_and(|ps| ps.iter().any(|p| p["name"] == "mug" && p["available"] == 3))
    })
    .await
    .unwrap();
    let dashboard = api.dashboard().await;
    assert_eq!(
        (metric(&dashboard, "totalSales"), metric(&dashboard, "openCheckouts")),
        (2, 0)
    );
}

#[tokio::test]
async fn a_cart_checkout_retried_with_its_idempotency_key_is_one_session_holding_stock_once() {
    let env = TestEnv::get();
    let (_, project) = shop(&env, &[("mug", 12.0, 5)]).await;
    let api = ProjectApi::new(&env, &project);
    let mug = price_of(&products(&api).await, "mug");
    let body = json!({"email": "buyer@example.com", "items": [{"priceId": mug, "quantity": 2}]});
    let with_key = |key: String, body: Value| {
        let api = api.clone();
        async move {
            api.post_with("/api/cart/checkout", &[("idempotency-key", &key)], body)
                .await
        }
    };

    let first = with_key("cart-1".into(), body.clone()).await;
    assert_eq!(first.status, 200, "{:?}", first.body);
    let retry = with_key("cart-1".into(), body.clone()).await;
    assert_eq!(retry.status, 200, "{:?}", retry.body);
    for field in ["sessionId", "orderId", "url", "amountCents", "expiresAt"] {
        assert_eq!(retry.body[field], first.body[field], "{field}");
    }
    assert_eq!(product(&products(&api).await, "mug")["available"], 3, "held once");

    // Concurrent retries of another checkout: one order, one session, one hold.
    let one = json!({"items": [{"priceId": mug, "quantity": 1}]});
    let replies = join_all((0..6).map(|_| with_key("cart-2".into(), one.clone()))).await;
    let sessions: std::collections::BTreeSet<String> = replies
        .iter()
        .map(|r| {
            assert_eq!(r.status, 200, "{:?}", r.body);
            r.body["sessionId"].as_str().unwrap().to_owned()
        })
        .collect();
    assert_eq!(sessions.len(), 1, "{sessions:?}");
    assert_eq!(product(&products(&api).await, "mug")["available"], 2);

    // The same key with another cart is refused, and holds nothing.
    let other = with_key("cart-1".into(), one.clone()).await;
    assert_eq!(
        (other.status, other.error_code()),
        (409, "conflict"),
        "{:?}",
        other.body
    );
    assert!(other.body["error"].as_str().unwrap().contains("another cart"));
    let too_long = with_key("k".repeat(256), one.clone()).await;
    assert_eq!((too_long.status, too_long.error_code()), (400, "invalid_request"));
    assert_eq!(product(&products(&api).await, "mug")["available"], 2);

    // Paid, a retry still answers with the first call's session; no key, a new checkout.
    api.pay(first.body["sessionId"].as_str().unwrap()).await.unwrap();
    api.wait_for_dashboard("the first cart paid", |d| metric(d, "totalSales") == 1)
        .await
        .unwrap();
    let after_payment = with_key("cart-1".into(), body.clone()).await;
    assert_eq!(after_payment.status, 200, "{:?}", after_payment.body);
    assert_eq!(after_payment.body["sessionId"], first.body["sessionId"]);
    let fresh = cart(&api, json!([{"priceId": mug, "quantity": 1}])).await;
    assert_eq!(fresh.status, 200, "{:?}", fresh.body);
    assert_ne!(fresh.body["sessionId"], first.body["sessionId"]);
}

#[tokio::test]
async fn an_open_order_can_be_canceled_its_stock_back_at_once_and_never_payable() {
    let env = TestEnv::get();
    let (_, project) = shop(&env, &[("mug", 12.0, 5)]).await;
    let api = ProjectApi::new(&env, &project);
    let mug = price_of(&products(&api).await, "mug");
    let open = cart(&api, json!([{"priceId": mug, "quantity": 3}])).await;
    assert_eq!(open.status, 200, "{:?}", open.body);
    assert_eq!(product(&products(&api).await, "mug")["available"], 2);
    let order = open.body["orderId"].as_str().unwrap().to_owned();
    let cancel = |order: String| {
        let api = api.clone();
        async move { api.post(&format!("/api/orders/{order}/cancel"), None, json!({})).await }
    };

    let canceled = cancel(order.clone()).await;
    assert_eq!(canceled.status, 200, "{:?}", canceled.body);
    assert_eq!(
        (&canceled.body["orderId"], &canceled.body["status"]),
        (&json!(order), &json!("expired"))
    );
    assert_eq!(
        product(&products(&api).await, "mug")["available"],
        5,
        "at once, not at the hold's end"
    );
    let session = open.body["sessionId"].as_str().unwrap();
    assert!(api.pay(session).await.is_err(), "an expired checkout cannot be paid");
    assert_eq!(cancel(order.clone()).await.status, 200, "asking again answers the same");

    // A paid order is refunded in Stripe, not canceled; unknown ids and other projects' are 404.
    let sold = cart(&api, json!([{"priceId": mug, "quantity": 1}])).await;
    api.pay(sold.body["sessionId"].as_str().unwrap()).await.unwrap();
    api.wait_for_dashboard("the sale", |d| metric(d, "totalSales") == 1)
        .await
        .unwrap();
    let paid = cancel(sold.body["orderId"].as_str().unwrap().to_owned()).await;
    assert_eq!((paid.status, paid.error_code()), (409, "conflict"), "{:?}", paid.body);
    assert_eq!(cancel("ord_nope".into()).await.status, 404);
    let (_, other) = shop(&env, &[("cup", 3.0, 1)]).await;
    let elsewhere = ProjectApi::new(&env, &other)
        .post(&format!("/api/orders/{order}/cancel"), None, json!({}))
        .await;
    assert_eq!((elsewhere.status, elsewhere.error_code()), (404, "not_found"));
}

#[tokio::test]
async fn fifty_concurrent_carts_for_ten_units_sell_exactly_ten() {
    let env = TestEnv::get();
    let (_, project) = shop(&env, &[("ticket", 5.0, 10)]).await;
    let api = ProjectApi::new(&env, &project);
    let price = price_of(&products(&api).await, "ticket");
    let replies = join_all((0..50).map(|_| {
        let api = api.clone();
        let price = price.clone();
        async move { cart(&api, json!([{"priceId": price, "quantity": 1}])).await }
    }))
    .await;
    let sessions: Vec<String> = replies
        .iter()
        .filter(|r| r.status == 200)
        .map(|r| r.body["sessionId"].as_str().unwrap().to_owned())
        .collect();
    let refused = replies
        .iter()
        .filter(|r| r.status == 409 && r.body["code"] == "conflict")
        .count();
    let other: Vec<_> = replies
        .iter()
        .filter(|r| r.status != 200 && r.status != 409)
        .map(|r| (r.status, &r.body))
        .collect();
    assert!(other.is_empty(), "{other:?}");
    assert_eq!((sessions.len(), refused), (10, 40));

    let paid = join_all(sessions.iter().map(|s| api.pay(s))).await;
    assert!(paid.iter().all(Result::is_ok), "{paid:?}");
    let dashboard = api
        .wait_for_dashboard("ten sales", |d| metric(d, "totalSales") == 10)
        .await
        .unwrap();
    assert_eq!(
        (metric(&dashboard, "revenueCents"), metric(&dashboard, "inStock")),
        (10 * 500, 0)
    );
    let ticket = product(&products(&api).await, "ticket").clone();
    assert_eq!(
        (
            ticket["inventory"].as_i64(),
            ticket["available"].as_i64(),
            ticket["soldOut"].as_bool()
        ),
        (Some(0), Some(0), Some(true))
    );
}

#[tokio::test]
async fn store_events_replayed_forged_or_misdirected_change_nothing() {
    let env = TestEnv::get();
    let stripe = StripeEmulator::new(&env);
    let (developer, project) = shop(&env, &[("mug", 12.0, 5)]).await;
    let account = developer.stripe_account().await.unwrap();
    let api = ProjectApi::new(&env, &project);
    let price = price_of(&products(&api).await, "mug");
    let first = cart(&api, json!([{"priceId": price, "quantity": 2}])).await;
    api.pay(first.body["sessionId"].as_str().unwrap()).await.unwrap();
    let second = cart(&api, json!([{"priceId": price, "quantity": 1}])).await;
    api.control(&format!(
        "/checkout/sessions/{}/expire",
        second.body["sessionId"].as_str().unwrap()
    ))
    .await;
    let settled = api
        .wait_for_dashboard("the sale and the released hold", |d| {
            metric(d, "totalSales") == 1 && metric(d, "openCheckouts") == 0
        })
        .await
        .unwrap();

    // Every event of the account, five times each, shuffled.
    let events = stripe.get("/events?limit=100", Mode::Test, Some(&account)).await;
    let ids: Vec<Value> = events.body["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["id"].clone())
        .collect();
    let batch: Vec<Value> = ids.iter().cycle().take(ids.len() * 5).cloned().collect();
    let sent = stripe
        .control("/events/deliver_batch", Some(json!({"ids": batch, "shuffle": true})))
        .await;
    assert_eq!(sent.status, 200, "{:?}", sent.body);
    for id in &ids {
        let id = id.as_str().unwrap().to_owned();
        journey::eventually("the replays to be answered", || async {
            stripe
                .deliveries(&id)
                .await
                .iter()
                .filter(|d| {
                    d["reason"] == "batch"
                        && d["url"].as_str().unwrap_or("").starts_with(&env.api_multi)
                        && d["ok"] == true
                })
                .count()
                >= 5
        })
        .await
        .unwrap();
    }
    assert_eq!(figures(&api.dashboard().await), figures(&settled));

    // A price of another project is never sold; a SaaS key has no cart.
    let (_, other) = shop(&env, &[("mug", 12.0, 5)]).await;
    let foreign = price_of(&products(&ProjectApi::new(&env, &other)).await, "mug");
    let refused = cart(&api, json!([{"priceId": foreign, "quantity": 1}])).await;
    assert_eq!((refused.status, refused.error_code()), (400, "invalid_request"));
    assert!(
        refused.body["error"]
            .as_str()
            .unwrap()
            .contains("not a product of this project")
    );

    // Another developer's account paying a session that names this project and a real open
    // order of it: ignored, the order stays open and its stock unsold.
    let open = cart(&api, json!([{"priceId": price, "quantity": 1}])).await;
    let order_id = open.body["orderId"].as_str().unwrap().to_owned();
    let attacker = onboarded_developer(&env, "attacker").await.unwrap();
    let acct = attacker.stripe_account().await.unwrap();
    let post = |path: &'static str, form: Vec<(&'static str, String)>| {
        let (stripe, acct) = (stripe.clone(), acct.clone());
        async move { stripe.create_on(&acct, path, &form).await }
    };
    let fake_product = post("/products", vec![("name", "Mug".into())]).await;
    let fake_price = post(
        "/prices",
        vec![
            ("product", fake_product),
            ("unit_amount", "1".into()),
            ("currency", "usd".into()),
        ],
    )
    .await;
    let forged = post(
        "/checkout/sessions",
        vec![
            ("mode", "payment".into()),
            ("line_items[0][price]", fake_price),
            ("line_items[0][quantity]", "1".into()),
            ("success_url", "https://attacker.example/".into()),
            ("metadata[publishableKey]", project.publishable_key.clone()),
            ("metadata[orderId]", order_id.clone()),
        ],
    )
    .await;
    api.pay(&forged).await.unwrap();
    let events = stripe
        .get("/events?type=checkout.session.completed", Mode::Test, Some(&acct))
        .await;
    let forged_event = events.body["data"][0]["id"].as_str().unwrap().to_owned();
    journey::eventually("the forged event to be answered", || async {
        stripe.deliveries(&forged_event).await.iter().any(|d| {
            d["url"].as_str().unwrap_or("").starts_with(&env.api_multi)
                && d["ok"] == true
                && d["response_body"].as_str().unwrap_or("").contains("ignored")
        })
    })
    .await
    .unwrap();
    let dashboard = api.dashboard().await;
    assert_eq!(
        (metric(&dashboard, "totalSales"), metric(&dashboard, "openCheckouts")),
        (1, 1)
    );
}

#[tokio::test]
async fn carts_refuse_bad_input_and_inventory_edits_respect_holds() {
    let env = TestEnv::get();
    let (developer, project) = shop(&env, &[("mug", 12.0, 5)]).await;
    let api = ProjectApi::new(&env, &project);
    let price = price_of(&products(&api).await, "mug");
    let lines: Vec<Value> = (0..21).map(|_| json!({"priceId": price, "quantity": 1})).collect();
    let cases = [
        (json!({"items": []}), "at least one"),
        (json!({}), "at least one"),
        (json!({"items": [{"priceId": price, "quantity": 0}]}), "from 1 to 99"),
        (json!({"items": [{"priceId": price, "quantity": 100}]}), "from 1 to 99"),
        (
            json!({"items": [{"priceId": price, "quantity": 60}, {"priceId": price, "quantity": 60}]}),
            "At most 99 units of `mug`",
        ),
        // Two huge lines of one product once summed past i64 and wrapped.
        (
            json!({"items": [{"priceId": price, "quantity": i64::MAX}, {"priceId": price, "quantity": i64::MAX}]}),
            "from 1 to 99",
        ),
        (json!({"items": lines}), "at most 20"),
        (json!({"items": [{"priceId": price}]}), "quantity"),
        (
            json!({"email": "nope", "items": [{"priceId": price, "quantity": 1}]}),
            "email",
        ),
        (
            json!({"items": [{"priceId": price, "quantity": 1}], "successUrl": "javascript:x"}),
            "successUrl",
        ),
        (
            json!({"items": [{"priceId": price, "quantity": 1}], "coupon": "FREE"}),
            "unknown field",
        ),
    ];
    for (body, expected) in cases {
        let reply = api.post("/api/cart/checkout", None, body.clone()).await;
        assert_eq!(
            (reply.status, reply.error_code()),
            (400, "invalid_request"),
            "{body}: {:?}",
            reply.body
        );
        assert!(
            reply.body["error"].as_str().unwrap().contains(expected),
            "{body}: {:?}",
            reply.body
        );
    }
    assert_eq!(
        metric(&api.dashboard().await, "openCheckouts"),
        0,
        "no refused cart holds anything"
    );

    // Inventory edits cannot go below what open checkouts hold.
    let open = cart(&api, json!([{"priceId": price, "quantity": 4}])).await;
    assert_eq!(open.status, 200, "{:?}", open.body);
    let edit = |inventory: i64| {
        developer.oauth(
            reqwest::Method::PUT,
            "/tiers",
            Some(json!({"publishableKey": project.publishable_key, "tier": {"name": "mug", "price": 12, "inventory": inventory}})),
        )
    };
    let refused = edit(3).await;
    assert_eq!(
        (refused.status, refused.error_code()),
        (409, "conflict"),
        "{:?}",
        refused.body
    );
    assert_eq!(refused.body["held"], 4);
    let accepted = edit(6).await;
    assert_eq!(accepted.status, 200, "{:?}", accepted.body);
    assert_eq!(product(&products(&api).await, "mug")["available"], 2);

    // The 4 held units sell; then an edit from a form loaded before the sale, which sends no
    // stock, changes the description and leaves the stock as the sale left it.
    api.pay(open.body["sessionId"].as_str().unwrap()).await.unwrap();
    api.wait_for_dashboard("the sale", |d| metric(d, "totalSales") == 1)
        .await
        .unwrap();
    let described = developer
        .oauth(
            reqwest::Method::PUT,
            "/tiers",
            Some(json!({"publishableKey": project.publishable_key, "tier": {"name": "mug", "price": 12, "description": "Holds tea"}})),
        )
        .await;
    assert_eq!(described.status, 200, "{:?}", described.body);
    let listed = products(&api).await;
    let mug = product(&listed, "mug");
    assert_eq!(
        (mug["inventory"].as_i64(), mug["description"].as_str()),
        (Some(2), Some("Holds tea")),
        "{mug}"
    );
    // `null` still means "not tracked".
    let untracked = developer
        .oauth(
            reqwest::Method::PUT,
            "/tiers",
            Some(json!({"publishableKey": project.publishable_key, "tier": {"name": "mug", "price": 12, "inventory": null}})),
        )
        .await;
    assert_eq!(untracked.status, 200, "{:?}", untracked.body);
    assert_eq!(product(&products(&api).await, "mug")["inventory"], Value::Null);

    // A SaaS key has no products or carts.
    let (_, saas) = journey::saas_project(&env, &[("free", Some(5), 0.0)]).await;
    let saas_api = ProjectApi::new(&env, &saas);
    let refused = saas_api.get("/api/products", None).await;
    assert_eq!((refused.status, refused.error_code()), (400, "invalid_request"));
    assert!(refused.body["error"].as_str().unwrap().contains("SaaS"));
}

/// The UTC day of the newest order's payment, as the chart labels days.
fn order_day(dashboard: &Value) -> Option<String> {
    dashboard["recentOrders"][0]["paidAt"]
        .as_str()
        .map(|t| t[..10].to_owned())
}
