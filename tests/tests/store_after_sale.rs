//! A Store order after checkout (issue 22 §4): refunds from the dashboard with or without
//! restocking, refunds and disputes made at Stripe showing on the order and netted out of
//! revenue, open checkouts canceled from the dashboard, and a developer's bound on units per cart.

use dream_core::mode::Mode;
use e2e::{
    Reply, TestEnv,
    customers::{ProjectApi, metric},
    journey::{Developer, StripeEmulator, TestProject},
    shop::{cart, price_of, product, products, shop},
};
use reqwest::Method;
use serde_json::{Value, json};

/// A paid order of `quantity` mugs: (order id, its payment intent).
async fn sell(api: &ProjectApi, stripe: &StripeEmulator, account: &str, quantity: i64) -> (String, String) {
    let mug = price_of(&products(api).await, "mug");
    let started = cart(api, json!([{"priceId": mug, "quantity": quantity}])).await;
    assert_eq!(started.status, 200, "{:?}", started.body);
    let session = started.body["sessionId"].as_str().unwrap();
    api.pay(session).await.unwrap();
    let order = started.body["orderId"].as_str().unwrap().to_owned();
    api.wait_for_dashboard("the sale", |d| order_of(d, &order).is_some())
        .await
        .unwrap();
    let paid = stripe
        .get(&format!("/checkout/sessions/{session}"), Mode::Test, Some(account))
        .await;
    let intent = paid.body["payment_intent"]
        .as_str()
        .expect("a paid session's payment")
        .to_owned();
    (order, intent)
}

fn order_of(dashboard: &Value, order: &str) -> Option<Value> {
    dashboard["recentOrders"]
        .as_array()?
        .iter()
        .find(|o| o["orderId"] == order)
        .cloned()
}

async fn refund(developer: &Developer, project: &TestProject, order: &str, restock: bool) -> Reply {
    let body = json!({"publishableKey": project.publishable_key, "orderId": order, "restock": restock});
    developer.oauth(Method::POST, "/orders/refund", Some(body)).await
}

async fn mugs_in_stock(api: &ProjectApi) -> i64 {
    product(&products(api).await, "mug")["inventory"].as_i64().unwrap()
}

#[tokio::test]
async fn a_refund_from_the_dashboard_restocks_when_asked_and_comes_off_revenue() {
    let env = TestEnv::get();
    let (developer, project) = shop(&env, &[("mug", 12.0, 10)]).await;
    let api = ProjectApi::new(&env, &project);
    let stripe = StripeEmulator::new(&env);
    let account = developer.stripe_account().await.unwrap();
    let (first, first_intent) = sell(&api, &stripe, &account, 2).await;
    assert_eq!(mugs_in_stock(&api).await, 8);

    // Refunded with its units back: the stock and the figures say so at once.
    let refunded = refund(&developer, &project, &first, true).await;
    assert_eq!(refunded.status, 200, "{:?}", refunded.body);
    assert_eq!(
        (&refunded.body["refundedCents"], &refunded.body["restocked"]),
        (&json!(2400), &json!(true))
    );
    assert_eq!(mugs_in_stock(&api).await, 10);
    let dashboard = api.dashboard().await;
    assert_eq!(
        (metric(&dashboard, "revenueCents"), metric(&dashboard, "refundedCents")),
        (0, 2400)
    );
    let order = order_of(&dashboard, &first).unwrap();
    assert_eq!(
        (&order["refundedCents"], &order["restocked"]),
        (&json!(2400), &json!(true))
    );
    // Asking again refunds nothing more and returns nothing more.
    let again = refund(&developer, &project, &first, true).await;
    assert_eq!(
        (again.status, &again.body["restocked"]),
        (200, &json!(false)),
        "{:?}",
        again.body
    );
    assert_eq!(mugs_in_stock(&api).await, 10);
    let at_stripe = stripe
        .get(
            &format!("/refunds?payment_intent={first_intent}"),
            Mode::Test,
            Some(&account),
        )
        .await;
    assert_eq!(
        at_stripe.body["data"].as_array().map(Vec::len),
        Some(1),
        "one refund at Stripe"
    );

    // Refunded without restocking (the mug was shipped): the stock stays sold.
    let (second, _) = sell(&api, &stripe, &account, 1).await;
    let kept = refund(&developer, &project, &second, false).await;
    assert_eq!(
        (kept.status, &kept.body["restocked"]),
        (200, &json!(false)),
        "{:?}",
        kept.body
    );
    assert_eq!(mugs_in_stock(&api).await, 9);

    // A partial refund made in Stripe's dashboard reaches the order through `charge.refunded`,
    // and never touches the stock.
    let (third, third_intent) = sell(&api, &stripe, &account, 2).await;
    let partial = stripe
        .post_on(
            "/refunds",
            &[("payment_intent", third_intent.as_str()), ("amount", "500")],
            Mode::Test,
            Some(&account),
        )
        .await;
    assert_eq!(partial.status, 200, "{:?}", partial.body);
    let dashboard = api
        .wait_for_dashboard("the partial refund", |d| {
            order_of(d, &third).is_some_and(|o| o["refundedCents"] == 500)
        })
        .await
        .unwrap();
    assert_eq!(mugs_in_stock(&api).await, 7);
    assert_eq!(metric(&dashboard, "revenueCents"), 2400 - 500);
    assert_eq!(metric(&dashboard, "refundedCents"), 2400 + 1200 + 500);
    // The dashboard refunds the rest; Stripe's record and ours agree.
    let rest = refund(&developer, &project, &third, false).await;
    assert_eq!(
        (rest.status, &rest.body["refundedCents"]),
        (200, &json!(2400)),
        "{:?}",
        rest.body
    );

    // Only paid orders of one's own projects can be refunded.
    let mug = price_of(&products(&api).await, "mug");
    let open = cart(&api, json!([{"priceId": mug, "quantity": 1}])).await;
    let not_paid = refund(&developer, &project, open.body["orderId"].as_str().unwrap(), false).await;
    assert_eq!(
        (not_paid.status, not_paid.error_code()),
        (409, "conflict"),
        "{:?}",
        not_paid.body
    );
    assert_eq!(refund(&developer, &project, "ord_nope", false).await.status, 404);
    let (stranger, _) = shop(&env, &[("cup", 3.0, 1)]).await;
    let foreign = refund(&stranger, &project, &first, false).await;
    assert_eq!((foreign.status, foreign.error_code()), (404, "not_found"));
}

#[tokio::test]
async fn a_dispute_shows_on_the_order_and_a_lost_one_comes_off_revenue() {
    let env = TestEnv::get();
    let (developer, project) = shop(&env, &[("mug", 12.0, 10)]).await;
    let api = ProjectApi::new(&env, &project);
    let stripe = StripeEmulator::new(&env);
    let account = developer.stripe_account().await.unwrap();
    let (lost, lost_intent) = sell(&api, &stripe, &account, 1).await;
    let (won, won_intent) = sell(&api, &stripe, &account, 2).await;

    let opened = stripe
        .control(&format!("/payment_intents/{lost_intent}/dispute"), None)
        .await;
    assert_eq!(opened.status, 200, "{:?}", opened.body);
    let dashboard = api
        .wait_for_dashboard("the dispute", |d| metric(d, "openDisputes") == 1)
        .await
        .unwrap();
    assert_eq!(order_of(&dashboard, &lost).unwrap()["disputeStatus"], "needs_response");
    assert_eq!(
        metric(&dashboard, "revenueCents"),
        3600,
        "an open dispute is not lost yet"
    );
    let dispute = opened.body["id"].as_str().unwrap();
    let closed = stripe
        .control(&format!("/disputes/{dispute}/close"), Some(json!({"outcome": "lost"})))
        .await;
    assert_eq!(closed.status, 200, "{:?}", closed.body);
    let dashboard = api
        .wait_for_dashboard("the lost dispute", |d| metric(d, "disputesLostCents") == 1200)
        .await
        .unwrap();
    assert_eq!(
        (metric(&dashboard, "revenueCents"), metric(&dashboard, "openDisputes")),
        (2400, 0)
    );

    let opened = stripe
        .control(&format!("/payment_intents/{won_intent}/dispute"), None)
        .await;
    let dispute = opened.body["id"].as_str().unwrap();
    stripe
        .control(&format!("/disputes/{dispute}/close"), Some(json!({"outcome": "won"})))
        .await;
    let dashboard = api
        .wait_for_dashboard("the won dispute", |d| {
            order_of(d, &won).is_some_and(|o| o["disputeStatus"] == "won")
        })
        .await
        .unwrap();
    assert_eq!(
        metric(&dashboard, "revenueCents"),
        2400,
        "a won dispute keeps its revenue"
    );
}

#[tokio::test]
async fn the_dashboard_lists_open_checkouts_and_cancels_one() {
    let env = TestEnv::get();
    let (developer, project) = shop(&env, &[("mug", 12.0, 5)]).await;
    let api = ProjectApi::new(&env, &project);
    let mug = price_of(&products(&api).await, "mug");
    let open = cart(&api, json!([{"priceId": mug, "quantity": 4}])).await;
    let order = open.body["orderId"].as_str().unwrap().to_owned();
    let dashboard = developer
        .front(
            Method::GET,
            &format!("/dashboard?publishableKey={}", project.publishable_key),
            None,
        )
        .await;
    let listed = &dashboard.body["openOrders"];
    assert_eq!(listed[0]["orderId"], order.as_str(), "{listed:?}");
    assert_eq!(listed[0]["amountCents"], 4800);

    let body = json!({"publishableKey": project.publishable_key, "orderId": order});
    let canceled = developer.oauth(Method::POST, "/orders/cancel", Some(body)).await;
    assert_eq!(
        (canceled.status, &canceled.body["status"]),
        (200, &json!("expired")),
        "{:?}",
        canceled.body
    );
    assert_eq!(product(&products(&api).await, "mug")["available"], 5);
    assert_eq!(api.dashboard().await["openOrders"], json!([]));
    let (stranger, _) = shop(&env, &[("cup", 3.0, 1)]).await;
    let foreign = stranger
        .oauth(
            Method::POST,
            "/orders/cancel",
            Some(json!({"publishableKey": project.publishable_key, "orderId": order})),
        )
        .await;
    assert_eq!(foreign.status, 404);
}

#[tokio::test]
async fn a_developer_bounds_the_units_one_cart_may_hold() {
    let env = TestEnv::get();
    let (developer, project) = shop(&env, &[("mug", 12.0, 50), ("cup", 3.0, 50)]).await;
    let api = ProjectApi::new(&env, &project);
    let list = products(&api).await;
    let (mug, cup) = (price_of(&list, "mug"), price_of(&list, "cup"));
    let settings = |value: Value| {
        let body = json!({"publishableKey": project.publishable_key, "maxCartUnits": value});
        developer.oauth(Method::PUT, "/project-settings", Some(body))
    };
    let saved = settings(json!(3)).await;
    assert_eq!(
        (saved.status, &saved.body["maxCartUnits"]),
        (200, &json!(3)),
        "{:?}",
        saved.body
    );
    let tiers = developer
        .oauth(
            Method::GET,
            &format!("/tiers?publishableKey={}", project.publishable_key),
            None,
        )
        .await;
    assert_eq!(tiers.body["maxCartUnits"], 3);
    assert_eq!(
        tiers.body["planHeader"], "trusted",
        "other settings are left as they were"
    );

    let over = cart(
        &api,
        json!([{"priceId": mug, "quantity": 2}, {"priceId": cup, "quantity": 2}]),
    )
    .await;
    assert_eq!(
        (over.status, over.error_code()),
        (400, "invalid_request"),
        "{:?}",
        over.body
    );
    assert_eq!(over.body["maxCartUnits"], 3);
    assert_eq!(product(&products(&api).await, "mug")["available"], 50, "nothing held");
    let within = cart(
        &api,
        json!([{"priceId": mug, "quantity": 2}, {"priceId": cup, "quantity": 1}]),
    )
    .await;
    assert_eq!(within.status, 200, "{:?}", within.body);

    for bad in [json!(0), json!(1981), json!(-1), json!("many"), json!(2.5)] {
        let refused = settings(bad.clone()).await;
        assert!(matches!(refused.status, 400 | 422), "{bad}: {:?}", refused.body);
        assert_eq!(refused.error_code(), "invalid_request", "{bad}");
    }
    let (saas_developer, saas) = e2e::journey::saas_project(&env, &[("free", Some(10), 0.0)]).await;
    let not_a_store = saas_developer
        .oauth(
            Method::PUT,
            "/project-settings",
            Some(json!({"publishableKey": saas.publishable_key, "maxCartUnits": 5})),
        )
        .await;
    assert_eq!(not_a_store.status, 400, "{:?}", not_a_store.body);

    // `null` is the platform's bound again.
    assert_eq!(settings(Value::Null).await.body["maxCartUnits"], Value::Null);
    let big = cart(&api, json!([{"priceId": mug, "quantity": 4}])).await;
    assert_eq!(big.status, 200, "{:?}", big.body);
}
