//! Developer webhooks end to end: real flows (customers, checkout, renewal, a failed renewal,
//! cancellation, usage crossing 80 % and 100 %, a Store sale and sellout, a refund, a key
//! rotation) produce signed events that a receiver verifies with the `standardwebhooks` npm
//! package; a receiver that fails for a while gets every event, one that always fails is
//! disabled, and replay sends the same id again.

use std::collections::BTreeMap;

use e2e::{
    TestEnv,
    customers::ProjectApi,
    journey::{self, Developer},
    shop::{cart, price_of, products, shop},
    webhooks::{Receiver, delivered, endpoint, event},
};
use reqwest::Method;
use serde_json::{Value, json};

async fn events(developer: &Developer, pk: &str, query: &str) -> Value {
    let reply = developer
        .oauth(Method::GET, &format!("/events?publishableKey={pk}{query}"), None)
        .await;
    assert_eq!(reply.status, 200, "{:?}", reply.body);
    reply.body
}

/// How many verified, delivered events of each type the receiver has.
fn tally(received: &[Value]) -> BTreeMap<String, usize> {
    let mut counts = BTreeMap::new();
    for r in received.iter().filter(|r| r["verified"] == true && r["status"] == 200) {
        *counts.entry(r["type"].as_str().unwrap_or("?").to_owned()).or_default() += 1;
    }
    counts
}

#[tokio::test]
async fn a_subscriptions_life_and_its_usage_are_told_once_each_signed() {
    let env = TestEnv::get();
    let receiver = Receiver::start().await;
    let (developer, project) = journey::saas_project(&env, &[("free", Some(10), 0.0), ("pro", Some(100), 20.0)]).await;
    let pk = project.publishable_key.as_str();
    endpoint(&developer, &receiver, pk, "saas", &["*"]).await;
    // A second endpoint that wants only usage: it gets nothing else.
    endpoint(&developer, &receiver, pk, "usage-only", &["usage.threshold"]).await;
    let api = ProjectApi::new(&env, &project);

    let created = api
        .post(
            "/api/customers",
            None,
            json!({"email": journey::unique_email("hooked")}),
        )
        .await;
    assert_eq!(created.status, 201, "{:?}", created.body);
    let user = created.body["customer"]["id"].as_str().unwrap().to_owned();
    let again = api
        .post(
            "/api/customers",
            None,
            json!({"email": created.body["customer"]["email"]}),
        )
        .await;
    assert_eq!(again.status, 200, "a retry creates nothing, and tells nothing");

    // Usage: 80 % then 100 % of the free tier's 10 requests, each once.
    for _ in 0..12 {
        api.post("/api/data", Some(&user), json!({})).await;
    }
    // Checkout, renewal, a failed renewal, cancellation.
    let subscription = api.subscribe(&user, "pro").await.unwrap();
    let renewed = api.control(&format!("/subscriptions/{subscription}/advance")).await;
    assert_eq!(renewed.status, 200, "{:?}", renewed.body);
    receiver
        .wait_for("saas", 30, |r| delivered(r, "subscription.updated").len() == 1)
        .await
        .unwrap();
    let failed = api
        .control(&format!("/subscriptions/{subscription}/fail_renewal"))
        .await;
    assert_eq!(failed.status, 200, "{:?}", failed.body);
    receiver
        .wait_for("saas", 30, |r| delivered(r, "subscription.past_due").len() == 1)
        .await
        .unwrap();
    let portal = api
        .post(
            "/api/customer-portal",
            Some(&user),
            json!({"returnUrl": "https://app.example/account"}),
        )
        .await;
    let portal_url = portal.body["url"].as_str().expect("portal url").to_owned();
    api.portal_action(&portal_url, &subscription, "cancel_now")
        .await
        .unwrap();
    // A rotation of the project's key.
    assert_eq!(developer.rotate_key(pk).await.status, 200);

    let want = [
        ("customer.created", 1),
        ("usage.threshold", 2),
        ("subscription.created", 1),
        ("subscription.updated", 1),
        ("subscription.past_due", 1),
        ("subscription.canceled", 1),
        ("key.rotated", 1),
    ];
    receiver
        .wait_for("saas", 60, |r| {
            let counts = tally(r);
            want.iter().all(|(kind, n)| counts.get(*kind) >= Some(n))
        })
        .await
        .unwrap_or_else(|r| panic!("missing events: {:?}", tally(&r)));
    // Stripe sends several events for each change; each change is still one event.
    tokio::time::sleep(std::time::Duration::from_secs(3)).await;
    let received = receiver.received("saas").await;
    let counts = tally(&received);
    for (kind, n) in want {
        assert_eq!(counts.get(kind), Some(&n), "{kind}: {counts:?}");
    }
    assert!(
        received.iter().all(|r| r["verified"] == true),
        "every delivery verifies"
    );

    let by_type = |kind: &str| event(delivered(&received, kind)[0]);
    let customer = by_type("customer.created");
    assert_eq!(
        (customer["project"].as_str(), customer["mode"].as_str()),
        (Some(pk), Some("test"))
    );
    assert_eq!(customer["data"]["userId"], user.as_str());
    let mut thresholds: Vec<u64> = delivered(&received, "usage.threshold")
        .iter()
        .map(|d| event(d)["data"]["threshold"].as_u64().unwrap())
        .collect();
    // No order is promised (both were copied from the counter in one flush).
    thresholds.sort();
    assert_eq!(thresholds, vec![80, 100], "each once");
    assert_eq!(by_type("subscription.created")["data"]["plan"], "pro");
    assert_eq!(
        by_type("subscription.created")["data"]["subscriptionId"],
        subscription.as_str()
    );
    assert_eq!(by_type("subscription.past_due")["data"]["status"], "past_due");
    assert_eq!(by_type("subscription.canceled")["data"]["status"], "canceled");
    assert_eq!(by_type("key.rotated")["data"]["publishableKey"], pk);

    let usage_only = receiver.received("usage-only").await;
    assert_eq!(tally(&usage_only), BTreeMap::from([("usage.threshold".to_owned(), 2)]));

    // The event log has them all, each delivered to the endpoints that want it.
    let log = events(&developer, pk, "&type=usage.threshold").await;
    let logged = log["events"].as_array().unwrap();
    assert_eq!(logged.len(), 2, "{log}");
    assert!(logged.iter().all(|e| {
        e["deliveries"].as_array().unwrap().len() == 2
            && e["deliveries"]
                .as_array()
                .unwrap()
                .iter()
                .all(|d| d["status"] == "delivered")
    }));
    let all = events(&developer, pk, "&limit=3").await;
    assert_eq!(all["events"].as_array().unwrap().len(), 3);
    let older = events(
        &developer,
        pk,
        &format!("&before={}", all["nextBefore"].as_str().unwrap()),
    )
    .await;
    assert_eq!(older["events"].as_array().unwrap().len(), 5, "8 events in all, paged");

    // Replay: the same id again.
    let first = &logged[0];
    let id = first["id"].as_str().unwrap();
    let replayed = developer
        .oauth(
            Method::POST,
            &format!("/events/{id}/replay"),
            Some(json!({"publishableKey": pk})),
        )
        .await;
    assert_eq!(
        (replayed.status, &replayed.body["deliveries"]),
        (200, &json!(2)),
        "{:?}",
        replayed.body
    );
    receiver
        .wait_for("usage-only", 20, |r| {
            r.iter().filter(|d| d["id"] == id && d["status"] == 200).count() == 2
        })
        .await
        .unwrap();
    // The other endpoint's replay may still be on its way: its attempt is logged when it lands.
    let mut detail = developer
        .oauth(Method::GET, &format!("/events/{id}?publishableKey={pk}"), None)
        .await;
    for _ in 0..40 {
        if detail.body["attempts"].as_array().map_or(0, Vec::len) >= 4 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(250)).await;
        detail = developer
            .oauth(Method::GET, &format!("/events/{id}?publishableKey={pk}"), None)
            .await;
    }
    assert_eq!(detail.status, 200, "{:?}", detail.body);
    assert_eq!(detail.body["event"]["id"], id);
    assert_eq!(
        detail.body["attempts"].as_array().unwrap().len(),
        4,
        "{:?}",
        detail.body
    );
}

#[tokio::test]
async fn a_sale_a_sellout_and_a_refund_are_told() {
    let env = TestEnv::get();
    let receiver = Receiver::start().await;
    let (developer, project) = shop(&env, &[("mug", 12.0, 7), ("poster", 5.0, 2)]).await;
    let pk = project.publishable_key.as_str();
    endpoint(
        &developer,
        &receiver,
        pk,
        "shop",
        &["order.paid", "order.refunded", "product.low_stock", "product.sold_out"],
    )
    .await;
    let api = ProjectApi::new(&env, &project);
    let list = products(&api).await;
    let started = cart(
        &api,
        json!([{"priceId": price_of(&list, "mug"), "quantity": 3}, {"priceId": price_of(&list, "poster"), "quantity": 2}]),
    )
    .await;
    assert_eq!(started.status, 200, "{:?}", started.body);
    let order = started.body["orderId"].as_str().unwrap().to_owned();
    api.pay(started.body["sessionId"].as_str().unwrap()).await.unwrap();
    let received = receiver
        .wait_for("shop", 30, |r| {
            ["order.paid", "product.low_stock", "product.sold_out"]
                .iter()
                .all(|k| delivered(r, k).len() == 1)
        })
        .await
        .unwrap_or_else(|r| panic!("{:?}", tally(&r)));
    let paid = event(delivered(&received, "order.paid")[0]);
    assert_eq!(paid["data"]["orderId"], order.as_str());
    assert_eq!(paid["data"]["paidCents"], 4600);
    assert_eq!(paid["data"]["items"].as_array().unwrap().len(), 2);
    let low = event(delivered(&received, "product.low_stock")[0]);
    assert_eq!(
        (&low["data"]["product"], &low["data"]["inventory"]),
        (&json!("mug"), &json!(4))
    );
    assert_eq!(
        event(delivered(&received, "product.sold_out")[0])["data"]["product"],
        "poster"
    );

    let refund = developer
        .oauth(
            Method::POST,
            "/orders/refund",
            Some(json!({"publishableKey": pk, "orderId": order, "restock": true})),
        )
        .await;
    assert_eq!(refund.status, 200, "{:?}", refund.body);
    let received = receiver
        .wait_for("shop", 30, |r| delivered(r, "order.refunded").len() == 1)
        .await
        .unwrap_or_else(|r| panic!("{:?}", tally(&r)));
    assert_eq!(
        event(delivered(&received, "order.refunded")[0])["data"]["refundedCents"],
        4600
    );
    // Stripe's own `charge.refunded` reports the same total: still one event.
    tokio::time::sleep(std::time::Duration::from_secs(3)).await;
    assert_eq!(delivered(&receiver.received("shop").await, "order.refunded").len(), 1);
    assert_eq!(tally(&receiver.received("shop").await).values().sum::<usize>(), 4);
}

#[tokio::test]
async fn a_failing_endpoint_is_retried_until_it_recovers_and_one_that_never_does_is_disabled() {
    let env = TestEnv::get();
    let receiver = Receiver::start().await;
    let (developer, project) = journey::saas_project(&env, &[("free", Some(10), 0.0)]).await;
    let pk = project.publishable_key.as_str();
    let flaky = endpoint(&developer, &receiver, pk, "flaky", &["customer.created"]).await;
    let down = endpoint(&developer, &receiver, pk, "down", &["customer.created"]).await;
    receiver.control("flaky", None, Some(3)).await;
    receiver.control("down", None, Some(-1)).await;
    let api = ProjectApi::new(&env, &project);
    let since = events(&developer, pk, "").await;
    assert_eq!(since["events"].as_array().unwrap().len(), 0);
    for n in 0..2 {
        let reply = api
            .post(
                "/api/customers",
                None,
                json!({"email": journey::unique_email(&format!("retry{n}"))}),
            )
            .await;
        assert_eq!(reply.status, 201, "{:?}", reply.body);
    }
    // Three failures, then both events (the schedule runs faster on the test stack).
    let flaky_got = receiver
        .wait_for("flaky", 60, |r| delivered(r, "customer.created").len() == 2)
        .await
        .unwrap_or_else(|r| panic!("{r:?}"));
    assert!(flaky_got.iter().filter(|r| r["status"] == 500).count() >= 3);
    let mut ids: Vec<&str> = delivered(&flaky_got, "customer.created")
        .iter()
        .map(|d| d["id"].as_str().unwrap())
        .collect();
    ids.sort();
    ids.dedup();
    assert_eq!(ids.len(), 2, "two events, each delivered once");

    // The endpoint that never answers 2xx is disabled once a whole schedule has failed.
    let down_id = down["id"].as_str().unwrap();
    let mut disabled = Value::Null;
    for _ in 0..120 {
        let list = developer
            .oauth(Method::GET, &format!("/webhook-endpoints?publishableKey={pk}"), None)
            .await;
        disabled = list.body["endpoints"]
            .as_array()
            .unwrap()
            .iter()
            .find(|e| e["id"] == down_id)
            .cloned()
            .unwrap();
        if disabled["enabled"] == false {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(500)).await;
    }
    assert_eq!(disabled["enabled"], false, "{disabled}");
    assert!(
        disabled["disabledReason"].as_str().unwrap().contains("failed"),
        "{disabled}"
    );
    let failures = receiver.received("down").await.len();
    assert!(failures >= 11, "every attempt of the schedule was made: {failures}");
    let failed = events(&developer, pk, "&status=failed").await;
    assert_eq!(failed["events"].as_array().unwrap().len(), 2, "{failed}");

    // Fixed and enabled again: replaying what failed delivers it, with the same ids.
    receiver.control("down", None, Some(0)).await;
    let enabled = developer
        .oauth(
            Method::PUT,
            &format!("/webhook-endpoints/{down_id}"),
            Some(json!({"publishableKey": pk, "enabled": true})),
        )
        .await;
    assert_eq!(
        (enabled.status, &enabled.body["endpoint"]["failureStreak"]),
        (200, &json!(0)),
        "{:?}",
        enabled.body
    );
    let replay = developer
        .oauth(
            Method::POST,
            "/events/replay-failed",
            Some(json!({"publishableKey": pk, "since": "2020-01-01T00:00:00Z"})),
        )
        .await;
    assert_eq!(
        (replay.status, &replay.body["deliveries"]),
        (200, &json!(2)),
        "{:?}",
        replay.body
    );
    let down_got = receiver
        .wait_for("down", 30, |r| delivered(r, "customer.created").len() == 2)
        .await
        .unwrap();
    let mut replayed: Vec<&str> = delivered(&down_got, "customer.created")
        .iter()
        .map(|d| d["id"].as_str().unwrap())
        .collect();
    replayed.sort();
    assert_eq!(replayed, ids, "the same event ids");
    assert_eq!(flaky["enabled"], true);
}

#[tokio::test]
async fn secrets_rotate_with_both_signing_and_endpoints_are_validated() {
    let env = TestEnv::get();
    let receiver = Receiver::start().await;
    let (developer, project) = journey::saas_project(&env, &[("free", Some(10), 0.0)]).await;
    let pk = project.publishable_key.as_str();
    let hook = endpoint(
        &developer,
        &receiver,
        pk,
        "rotating",
        &["endpoint.test", "customer.created"],
    )
    .await;
    let id = hook["id"].as_str().unwrap();

    // Rotated with a grace period: each delivery carries both signatures, and a receiver that
    // knows only one of the secrets verifies it.
    let rotated = developer
        .oauth(
            Method::POST,
            &format!("/webhook-endpoints/{id}/rotate-secret"),
            Some(json!({"publishableKey": pk, "graceHours": 1})),
        )
        .await;
    assert_eq!(rotated.status, 200, "{:?}", rotated.body);
    let new_secret = rotated.body["secret"].as_str().unwrap().to_owned();
    assert!(rotated.body["endpoint"]["previousSecretExpiresAt"].is_string());
    let test = developer
        .oauth(
            Method::POST,
            &format!("/webhook-endpoints/{id}/test?publishableKey={pk}"),
            None,
        )
        .await;
    assert_eq!(test.status, 200, "{:?}", test.body);
    let got = receiver
        .wait_for("rotating", 20, |r| delivered(r, "endpoint.test").len() == 1)
        .await
        .unwrap();
    assert_eq!(got[0]["signatures"], 2);
    receiver.control("rotating", Some(&new_secret), None).await;
    let second = developer
        .oauth(
            Method::POST,
            &format!("/webhook-endpoints/{id}/test?publishableKey={pk}"),
            None,
        )
        .await;
    assert_eq!(second.status, 200);
    let got = receiver
        .wait_for("rotating", 20, |r| delivered(r, "endpoint.test").len() == 2)
        .await
        .unwrap();
    assert_eq!(got[1]["secret"], new_secret.as_str(), "verified with the new secret");

    // No grace: only the new secret signs.
    let now_only = developer
        .oauth(
            Method::POST,
            &format!("/webhook-endpoints/{id}/rotate-secret"),
            Some(json!({"publishableKey": pk, "graceHours": 0})),
        )
        .await;
    assert_eq!(now_only.status, 200);
    assert!(now_only.body["endpoint"]["previousSecretExpiresAt"].is_null());

    // Bad input: a clear 4xx naming the field, nothing created.
    let create = |body: Value| {
        let developer = &developer;
        async move { developer.oauth(Method::POST, "/webhook-endpoints", Some(body)).await }
    };
    for (body, field, status) in [
        (
            json!({"publishableKey": pk, "url": "https://u:p@app.example/hooks", "eventTypes": ["*"]}),
            "credentials",
            400,
        ),
        (
            json!({"publishableKey": pk, "url": "ftp://app.example/hooks", "eventTypes": ["*"]}),
            "url",
            400,
        ),
        (
            json!({"publishableKey": pk, "url": "https://app.example/hooks", "eventTypes": ["order.eaten"]}),
            "order.eaten",
            400,
        ),
        (
            json!({"publishableKey": pk, "url": "https://app.example/hooks", "eventTypes": []}),
            "eventTypes",
            400,
        ),
        (
            json!({"publishableKey": pk, "url": "https://app.example/hooks"}),
            "eventTypes",
            422,
        ),
    ] {
        let reply = create(body).await;
        assert_eq!(
            (reply.status, reply.error_code()),
            (status, "invalid_request"),
            "{field}: {:?}",
            reply.body
        );
        assert!(
            reply.body["error"].as_str().unwrap().contains(field),
            "{field}: {:?}",
            reply.body
        );
    }
    for n in 0..9 {
        let reply =
            create(json!({"publishableKey": pk, "url": format!("https://app.example/{n}"), "eventTypes": ["*"]})).await;
        assert_eq!(reply.status, 200, "{:?}", reply.body);
    }
    let eleventh = create(json!({"publishableKey": pk, "url": "https://app.example/11", "eventTypes": ["*"]})).await;
    assert_eq!(
        (eleventh.status, eleventh.error_code()),
        (409, "conflict"),
        "{:?}",
        eleventh.body
    );
    let listed = developer
        .oauth(Method::GET, &format!("/webhook-endpoints?publishableKey={pk}"), None)
        .await;
    assert_eq!(listed.body["endpoints"].as_array().unwrap().len(), 10);
    assert!(
        listed.body["endpoints"]
            .as_array()
            .unwrap()
            .iter()
            .all(|e| e.get("secret").is_none())
    );

    // Another developer sees none of it.
    let stranger = journey::onboarded_developer(&env, "hooks-stranger").await.unwrap();
    let theirs = stranger
        .oauth(Method::GET, &format!("/webhook-endpoints?publishableKey={pk}"), None)
        .await;
    assert_eq!(theirs.status, 404, "{:?}", theirs.body);
    let replay = stranger
        .oauth(
            Method::POST,
            &format!("/events/{}/replay", test.body["eventId"].as_str().unwrap()),
            Some(json!({"publishableKey": pk})),
        )
        .await;
    assert_eq!(replay.status, 404);
    let deleted = developer
        .oauth(
            Method::DELETE,
            &format!("/webhook-endpoints/{id}?publishableKey={pk}"),
            None,
        )
        .await;
    assert_eq!(deleted.status, 200);
    let gone = developer
        .oauth(
            Method::DELETE,
            &format!("/webhook-endpoints/{id}?publishableKey={pk}"),
            None,
        )
        .await;
    assert_eq!(gone.status, 404);
}

#[tokio::test]
async fn a_meters_thresholds_and_its_spend_cap_are_told_once_each() {
    let env = TestEnv::get();
    let receiver = Receiver::start().await;
    let developer = journey::onboarded_developer(&env, "hooks-cap").await.unwrap();
    // pro: 10,000 tokens included, then $0.002 per 1,000, at most $0.01 of overage.
    let project = journey::create_project(
        &developer,
        json!({"name": "Capped", "projectType": "saas", "tiers": [
            {"name": "free", "price": 0, "limit": 100},
            {"name": "pro", "price": 20, "spendCap": 0.01, "meters": [
                {"key": "tokens", "included": 10000, "overage": {"price": "0.002", "per": 1000}}]}]}),
    )
    .await
    .unwrap();
    let pk = project.publishable_key.as_str();
    endpoint(
        &developer,
        &receiver,
        pk,
        "cap",
        &["usage.threshold", "usage.cap_reached"],
    )
    .await;
    let api = ProjectApi::new(&env, &project);
    let created = api
        .post(
            "/api/customers",
            None,
            json!({"email": journey::unique_email("capped-hooks")}),
        )
        .await;
    let user = created.body["customer"]["id"].as_str().unwrap().to_owned();
    api.subscribe(&user, "pro").await.unwrap();
    let tokens = |quantity: u64| {
        let (api, user) = (&api, user.clone());
        async move {
            api.post_with(
                "/api/data",
                &[("x-user-id", &user)],
                json!({"meter": "tokens", "quantity": quantity}),
            )
            .await
        }
    };
    assert_eq!(tokens(8_000).await.status, 200);
    assert_eq!(tokens(6_500).await.status, 200);
    for _ in 0..3 {
        assert_eq!(tokens(501).await.error_code(), "limit_reached", "refused by the cap");
    }
    let received = receiver
        .wait_for("cap", 30, |r| {
            delivered(r, "usage.threshold").len() == 2 && delivered(r, "usage.cap_reached").len() == 1
        })
        .await
        .unwrap_or_else(|r| panic!("{:?}", tally(&r)));
    let cap = event(delivered(&received, "usage.cap_reached")[0]);
    assert_eq!(
        (&cap["data"]["userId"], &cap["data"]["meter"]),
        (&json!(user), &json!("tokens"))
    );
    assert_eq!(cap["data"]["spendCapCents"], 1);
    let mut crossed: Vec<(u64, u64)> = delivered(&received, "usage.threshold")
        .iter()
        .map(|d| {
            let e = event(d);
            (
                e["data"]["threshold"].as_u64().unwrap(),
                e["data"]["count"].as_u64().unwrap(),
            )
        })
        .collect();
    crossed.sort();
    assert_eq!(crossed, vec![(80, 8_000), (100, 14_500)]);
    // Refused again and again: told once.
    tokens(501).await;
    tokio::time::sleep(std::time::Duration::from_secs(4)).await;
    assert_eq!(
        tally(&receiver.received("cap").await).get("usage.cap_reached"),
        Some(&1)
    );
}
