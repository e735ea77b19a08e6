//! Webhook deliveries to a real local receiver: Stripe signatures checked by an independent
//! implementation (Python's hmac), routing of platform, Connect and account endpoints,
//! retries with backoff, and the redeliver / deliver_twice / deliver_batch controls.

mod common;

use common::*;
use reqwest::Method;
use serde_json::{Value, json};

fn verify_all(secret: &str, received: &[Received]) {
    let items: Vec<(String, String, Vec<u8>)> = received
        .iter()
        .map(|r| (secret.to_string(), r.signature.clone(), r.body.clone()))
        .collect();
    let verdicts = python_verify_signatures(&items);
    assert_eq!(verdicts.len(), received.len());
    assert!(verdicts.iter().all(|ok| *ok), "every signature verifies: {verdicts:?}");
    // And a tampered body does not.
    if let Some(first) = received.first() {
        let mut body = first.body.clone();
        body.push(b' ');
        assert_eq!(
            python_verify_signatures(&[(secret.to_string(), first.signature.clone(), body)]),
            vec![false]
        );
        assert_eq!(
            python_verify_signatures(&[("whsec_wrong".into(), first.signature.clone(), first.body.clone())]),
            vec![false]
        );
    }
}

fn event_ids(received: &[Received]) -> Vec<String> {
    received
        .iter()
        .map(|r| r.event()["id"].as_str().unwrap_or_default().to_string())
        .collect()
}

#[tokio::test]
async fn deliveries_are_signed_routed_and_logged() {
    let (platform, platform_url) = receiver(0).await;
    let (connect, connect_url) = receiver(0).await;
    let config = emulator::Config {
        webhooks: vec![
            cli_webhook(&platform_url, "whsec_platform_cli", false),
            cli_webhook(&connect_url, "whsec_connect_cli", true),
        ],
        ..test_config()
    };
    let emu = Emu::with(config).await;
    let account = emu.connect_account().await;

    // An endpoint registered through the API on the connected account itself.
    let (own, own_url) = receiver(0).await;
    let (status, endpoint) = emu
        .post_as(
            "/v1/webhook_endpoints",
            SK_TEST,
            &account,
            &[
                ("url", &own_url),
                ("enabled_events[]", "checkout.session.completed"),
                ("enabled_events[]", "customer.*"),
            ],
        )
        .await;
    assert_eq!(status, 200, "{endpoint}");
    let own_secret = endpoint["secret"].as_str().expect("secret on create").to_string();
    assert!(own_secret.starts_with("whsec_"));
    let we = endpoint["id"].as_str().expect("id");
    assert!(we.starts_with("we_"));
    let (_, again) = emu
        .get_as(&format!("/v1/webhook_endpoints/{we}"), SK_TEST, &account, &[])
        .await;
    assert!(again.get("secret").is_none(), "the secret is returned only on create");

    // A platform event and a connected-account checkout.
    emu.post("/v1/customers", SK_TEST, &[("email", "platform@example.com")])
        .await;
    let (_, price) = emu.product_and_price(SK_TEST, Some(&account), true, "700").await;
    let (_, cs) = emu
        .post_as(
            "/v1/checkout/sessions",
            SK_TEST,
            &account,
            &[
                ("mode", "subscription"),
                ("line_items[0][price]", &price),
                ("line_items[0][quantity]", "1"),
                ("customer_email", "c@example.com"),
            ],
        )
        .await;
    let cs_id = cs["id"].as_str().expect("id");
    emu.control(&format!("/_emulator/checkout/sessions/{cs_id}/complete"), json!({}))
        .await;

    let connected_events = emu.events_of_type(SK_TEST, Some(&account), "*").await.len();
    let log = emu
        .wait_deliveries("all first attempts", |d| {
            d.iter().filter(|a| a["ok"] == true).count() >= 1 + connected_events + 3
        })
        .await;

    // Platform endpoint: only the platform's own event.
    let got = platform.received();
    assert_eq!(got.len(), 1);
    assert_eq!(got[0].event()["type"], "customer.created");
    assert!(got[0].event().get("account").is_none());
    verify_all("whsec_platform_cli", &got);

    // Connect endpoint: every event of the connected account, carrying `account`.
    let got = connect.received();
    assert_eq!(
        got.len(),
        connected_events,
        "{:?}",
        got.iter().map(|r| r.event()["type"].clone()).collect::<Vec<_>>()
    );
    assert!(got.iter().all(|r| r.event()["account"] == account.as_str()));
    verify_all("whsec_connect_cli", &got);

    // The account's own endpoint: only the types it asked for.
    let got = own.received();
    let mut kinds: Vec<String> = got
        .iter()
        .map(|r| r.event()["type"].as_str().unwrap_or_default().to_string())
        .collect();
    kinds.sort();
    // `customer.*` matches every event type under `customer.`, subscriptions included.
    assert_eq!(
        kinds,
        vec![
            "checkout.session.completed",
            "customer.created",
            "customer.subscription.created"
        ]
    );
    verify_all(&own_secret, &got);

    // Every attempt is logged with the receiver's answer; pending_webhooks drops to zero.
    let attempt = log.iter().find(|a| a["endpoint"] == we).expect("logged");
    assert_eq!(
        (attempt["status"].as_u64(), attempt["attempt"].as_u64()),
        (Some(200), Some(1))
    );
    assert_eq!(attempt["response_body"], "{\"received\":true}");
    let completed = emu
        .events_of_type(SK_TEST, Some(&account), "checkout.session.completed")
        .await;
    let evt = completed[0]["id"].as_str().expect("id").to_string();
    let (_, filtered) = emu
        .json(Method::GET, &format!("/_emulator/deliveries?event={evt}"), None)
        .await;
    assert_eq!(
        filtered["data"].as_array().expect("data").len(),
        2,
        "connect + own endpoint"
    );
    for _ in 0..50 {
        let (_, e) = emu.get_as(&format!("/v1/events/{evt}"), SK_TEST, &account, &[]).await;
        if e["pending_webhooks"] == 0 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    let (_, e) = emu.get_as(&format!("/v1/events/{evt}"), SK_TEST, &account, &[]).await;
    assert_eq!(e["pending_webhooks"], 0);

    // Deleting the endpoint stops its deliveries.
    let (status, deleted) = emu
        .stripe(
            Method::DELETE,
            &format!("/v1/webhook_endpoints/{we}"),
            SK_TEST,
            Some(&account),
            None,
            &[],
        )
        .await
        .into_pair();
    assert_eq!((status, deleted["deleted"].as_bool()), (200, Some(true)));
}

trait Pair {
    fn into_pair(self) -> (u16, Value);
}

impl Pair for (u16, reqwest::header::HeaderMap, Value) {
    fn into_pair(self) -> (u16, Value) {
        (self.0, self.2)
    }
}

#[tokio::test]
async fn failing_receivers_are_retried_with_backoff() {
    let (flaky, url) = receiver(2).await;
    let emu = Emu::with(emulator::Config {
        webhooks: vec![cli_webhook(&url, "whsec_retry", false)],
        ..test_config()
    })
    .await;
    let (_, customer) = emu.post("/v1/customers", SK_TEST, &[("email", "r@example.com")]).await;
    assert!(
        customer["id"].is_string(),
        "the API call returned without waiting for the receiver"
    );

    let log = emu
        .wait_deliveries("a success after two failures", |d| d.iter().any(|a| a["ok"] == true))
        .await;
    let attempts: Vec<(u64, u64)> = log
        .iter()
        .map(|a| (a["attempt"].as_u64().unwrap_or(0), a["status"].as_u64().unwrap_or(0)))
        .collect();
    assert_eq!(attempts, vec![(1, 500), (2, 500), (3, 200)]);
    assert_eq!(log[0]["response_body"], "not yet");
    // Backoff: 50 ms, then 100 ms (retry base 50 ms in tests).
    let at: Vec<i64> = log.iter().map(|a| a["at_ms"].as_i64().unwrap_or(0)).collect();
    assert!(at[1] - at[0] >= 45 && at[2] - at[1] >= 95, "{at:?}");
    let got = flaky.received();
    assert_eq!(
        event_ids(&got).iter().collect::<std::collections::HashSet<_>>().len(),
        1,
        "the same event each time"
    );
    verify_all("whsec_retry", &got);

    // A receiver that never answers 2xx gets max attempts, then nothing more.
    let (_, dead_url) = receiver(usize::MAX).await;
    let (_, endpoint) = emu
        .post(
            "/v1/webhook_endpoints",
            SK_TEST,
            &[("url", &dead_url), ("enabled_events[]", "product.created")],
        )
        .await;
    assert!(endpoint["id"].is_string());
    emu.post("/v1/products", SK_TEST, &[("name", "Dead letter")]).await;
    let log = emu
        .wait_deliveries("four failed attempts", |d| {
            d.iter().filter(|a| a["url"] == dead_url.as_str()).count() >= 4
        })
        .await;
    tokio::time::sleep(std::time::Duration::from_millis(600)).await;
    let (_, later) = emu.json(Method::GET, "/_emulator/deliveries", None).await;
    let dead: Vec<&Value> = later["data"]
        .as_array()
        .expect("data")
        .iter()
        .filter(|a| a["url"] == dead_url.as_str())
        .collect();
    assert_eq!(dead.len(), 4, "--max-delivery-attempts caps the retries");
    assert!(
        log.iter()
            .filter(|a| a["url"] == dead_url.as_str())
            .all(|a| a["ok"] == false)
    );
}

#[tokio::test]
async fn redeliver_deliver_twice_and_shuffled_batches() {
    let (r, url) = receiver(0).await;
    let emu = Emu::with(emulator::Config {
        webhooks: vec![cli_webhook(&url, "whsec_controls", false)],
        ..test_config()
    })
    .await;
    for i in 0..5 {
        emu.post("/v1/customers", SK_TEST, &[("email", &format!("c{i}@example.com"))])
            .await;
    }
    emu.wait_deliveries("five events", |d| d.len() >= 5).await;
    let created = emu.events_of_type(SK_TEST, None, "customer.created").await;
    let mut ids: Vec<String> = created
        .iter()
        .map(|e| e["id"].as_str().expect("id").to_string())
        .collect();
    ids.reverse(); // oldest first
    assert_eq!(event_ids(&r.received()), ids, "first deliveries go out in order");

    let (status, body) = emu
        .control(&format!("/_emulator/events/{}/redeliver", ids[0]), json!({}))
        .await;
    assert_eq!((status, body["endpoints"].as_u64()), (200, Some(1)));
    emu.wait_deliveries("redelivery", |d| d.len() >= 6).await;

    let (status, body) = emu
        .control(&format!("/_emulator/events/{}/deliver_twice", ids[1]), json!({}))
        .await;
    assert_eq!((status, body["copies"].as_u64()), (200, Some(2)));
    emu.wait_deliveries("two copies", |d| d.len() >= 8).await;

    let (status, batch) = emu
        .control("/_emulator/events/deliver_batch", json!({"ids": ids, "shuffle": true}))
        .await;
    assert_eq!(status, 200, "{batch}");
    let order: Vec<String> = batch["order"]
        .as_array()
        .expect("order")
        .iter()
        .map(|v| v.as_str().unwrap_or_default().to_string())
        .collect();
    let mut sorted = order.clone();
    sorted.sort();
    let mut expected = ids.clone();
    expected.sort();
    assert_eq!(sorted, expected, "a permutation of the batch");
    assert_ne!(order, ids, "seed 42 shuffles these five");
    let log = emu.wait_deliveries("the batch", |d| d.len() >= 13).await;
    let got = r.received();
    assert_eq!(event_ids(&got[8..]), order, "the batch arrives in the order reported");
    assert_eq!(
        event_ids(&got).iter().filter(|id| **id == ids[0]).count(),
        3,
        "original + redeliver + batch"
    );
    assert_eq!(
        event_ids(&got).iter().filter(|id| **id == ids[1]).count(),
        4,
        "original + twice + batch"
    );
    assert!(log.iter().any(|a| a["reason"] == "deliver_twice") && log.iter().any(|a| a["reason"] == "batch"));
    verify_all("whsec_controls", &got);

    let (status, _) = emu.control("/_emulator/events/evt_missing/redeliver", json!({})).await;
    assert_eq!(status, 404);

    // Reset forgets events, objects and the log.
    let (status, _) = emu.control("/_emulator/reset", json!({})).await;
    assert_eq!(status, 200);
    let (_, log) = emu.json(Method::GET, "/_emulator/deliveries", None).await;
    assert!(log["data"].as_array().expect("data").is_empty());
    let (_, customers) = emu.get("/v1/customers", SK_TEST, &[]).await;
    assert!(customers["data"].as_array().expect("data").is_empty());
}
