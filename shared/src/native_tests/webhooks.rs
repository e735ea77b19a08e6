//! Developer webhooks, natively: a Store sale records `order.paid` and its stock events in the
//! sale's own transaction (once, however often Stripe delivers), the sender signs them in the
//! Standard Webhooks format and records every attempt, a failed attempt is retried later, and
//! replay sends the same event id again.

use std::{
    io::{BufRead, BufReader, Read, Write},
    net::TcpListener,
    sync::{
        Arc, Mutex,
        atomic::{AtomicU16, Ordering},
    },
};

use serde_json::{Value, json};

use super::{fixture, now};
use crate::{
    identity::SecretKeyAuth,
    runtime::settings::Setting,
    storage::webhooks::SenderScope,
    store,
    webhooks::{Senders, WebhookSettings, manage::Webhooks, sender::send_due},
};
use dream_core::{
    api::{
        events::Outcome,
        webhooks::{CreateEndpointRequest, EndpointView},
    },
    mode::Mode,
    period::Timestamp,
    webhooks::{
        payloads::{OrderData, ProductStockData},
        signing::{SigningKey, verify},
    },
};

/// One delivery as received: its headers (lowercase names) and body.
type Received = (Vec<(String, String)>, String);

/// A receiver on loopback: records each delivery's headers and body, answers `status`.
struct Receiver {
    url: String,
    status: Arc<AtomicU16>,
    received: Arc<Mutex<Vec<Received>>>,
}

fn receiver() -> Receiver {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}/hooks", listener.local_addr().unwrap());
    let status = Arc::new(AtomicU16::new(200));
    let received = Arc::new(Mutex::new(Vec::new()));
    let (answer, log) = (status.clone(), received.clone());
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { continue };
            let mut reader = BufReader::new(stream.try_clone().unwrap());
            let mut headers = Vec::new();
            let mut line = String::new();
            reader.read_line(&mut line).unwrap();
            loop {
                line.clear();
                reader.read_line(&mut line).unwrap();
                let Some((name, value)) = line.trim_end().split_once(": ") else {
                    break;
                };
                headers.push((name.to_ascii_lowercase(), value.to_owned()));
            }
            let length = (headers.iter())
                .find(|(n, _)| n == "content-length")
                .map_or(0, |(_, v)| v.parse().unwrap());
            let mut body = vec![0; length];
            reader.read_exact(&mut body).unwrap();
            log.lock().unwrap().push((headers, String::from_utf8(body).unwrap()));
            let code = answer.load(Ordering::SeqCst);
            let reply = format!("HTTP/1.1 {code} X\r\ncontent-length: 2\r\nconnection: close\r\n\r\nok");
            stream.write_all(reply.as_bytes()).unwrap();
        }
    });
    Receiver { url, status, received }
}

fn header<'h>(headers: &'h [(String, String)], name: &str) -> &'h str {
    headers.iter().find(|(n, _)| n == name).map_or("", |(_, v)| v)
}

fn settings() -> WebhookSettings {
    WebhookSettings::new(Setting::fixed("WEBHOOK_SECRET_KEY", Some("native master")), None)
}

/// What the dashboard's routes hand the use cases, for this project.
fn webhooks_of<'a>(auth: &'a SecretKeyAuth, settings: &'a WebhookSettings, senders: &'a Senders) -> Webhooks<'a> {
    Webhooks {
        scope: &auth.scope,
        mode: Mode::Test,
        settings,
        senders,
        change: Some(super::audit_entry(
            &auth.scope.project().platform_id,
            "webhook_endpoint.changed",
        )),
    }
}

/// A new endpoint of the project for these event types; it and its secret.
async fn add_endpoint(hooks: &Webhooks<'_>, url: &str, types: &[&str]) -> (EndpointView, String) {
    let request = CreateEndpointRequest {
        publishable_key: hooks.scope.project().publishable_key.as_str().to_owned(),
        url: url.to_owned(),
        event_types: types.iter().map(|t| (*t).to_owned()).collect(),
        description: None,
    };
    hooks.create(&request, now()).await.unwrap()
}

#[tokio::test]
async fn a_sale_is_told_once_signed_retried_and_replayed() {
    let f = fixture().await;
    let platform = f.paying_developer("user_hooks").await;
    let created = f
        .project(
            &platform,
            json!({"name": "Shop", "projectType": "store", "tiers": [
                {"name": "mug", "price": 12, "inventory": 7},
                {"name": "shirt", "price": 20, "inventory": 2}]}),
        )
        .await;
    let auth = f.auth(&created.secret_key).await;
    let (settings, senders) = (settings(), Senders::none());
    let hooks = webhooks_of(&auth, &settings, &senders);
    let receiver = receiver();
    let (endpoint, secret) = add_endpoint(&hooks, &receiver.url, &["*"]).await;
    let key = SigningKey::from_secret(&secret).unwrap();

    let products = store::products(&auth, now()).await.unwrap();
    let price = |name: &str| {
        let product = products.iter().find(|p| p.name == name).unwrap();
        product.price_id.clone().unwrap()
    };
    let body = json!({"items": [{"priceId": price("mug"), "quantity": 3}, {"priceId": price("shirt"), "quantity": 2}]});
    let cart = store::checkout(
        (&f.stripe, &f.api_multi_url),
        &auth,
        None,
        body.to_string().as_bytes(),
        now(),
    )
    .await
    .unwrap();
    f.emulator_post(
        &format!("/_emulator/checkout/sessions/{}/complete", cart.session_id),
        json!({}),
    )
    .await;
    let account = auth.scope.stripe_account().await.unwrap().unwrap();
    let event = f.latest_event(&account, "checkout.session.completed").await;
    assert!(matches!(f.deliver(&event).await, Outcome::OrderSold { .. }));
    assert_eq!(f.deliver(&event).await, Outcome::Duplicate);

    let sender = SenderScope::new(f.db.clone(), created.publishable_key.clone());
    let run = send_due(&sender, &settings, now()).await.unwrap();
    assert_eq!((run.delivered, run.failed), (3, 0), "{run:?}");
    let received = receiver.received.lock().unwrap().clone();
    let mut kinds: Vec<String> = received
        .iter()
        .map(|(headers, body)| {
            let signed = (
                header(headers, "webhook-id"),
                header(headers, "webhook-timestamp"),
                header(headers, "webhook-signature"),
            );
            assert!(verify(&key, signed, body, now().0, 300), "{headers:?}");
            let event: Value = serde_json::from_str(body).unwrap();
            assert_eq!(event["id"], signed.0, "the payload's id is the webhook-id");
            assert_eq!(event["project"], created.publishable_key.as_str());
            // The payloads made in SQL have the documented shapes, exactly.
            let data = event["data"].clone();
            match event["type"].as_str().unwrap() {
                "order.paid" => drop(serde_json::from_value::<OrderData>(data).unwrap()),
                _ => drop(serde_json::from_value::<ProductStockData>(data).unwrap()),
            }
            match event["type"].as_str().unwrap() {
                "order.paid" => {
                    assert_eq!(event["data"]["orderId"], cart.order_id.as_str());
                    assert_eq!(event["data"]["items"].as_array().unwrap().len(), 2, "{event}");
                    assert_eq!(event["data"]["paidCents"], 7600);
                }
                "product.low_stock" => assert_eq!(
                    (&event["data"]["product"], &event["data"]["inventory"]),
                    (&json!("mug"), &json!(4))
                ),
                "product.sold_out" => assert_eq!(event["data"]["product"], "shirt"),
                other => panic!("unexpected {other}"),
            }
            event["type"].as_str().unwrap().to_owned()
        })
        .collect();
    kinds.sort();
    assert_eq!(kinds, ["order.paid", "product.low_stock", "product.sold_out"]);

    // Nothing left to send; a failing endpoint keeps the replay pending for its retry.
    assert_eq!(send_due(&sender, &settings, now()).await.unwrap().delivered, 0);
    let paid_id = received
        .iter()
        .map(|(h, _)| header(h, "webhook-id").to_owned())
        .find(|id| {
            received
                .iter()
                .any(|(h, b)| header(h, "webhook-id") == id && b.contains("order.paid"))
        })
        .unwrap();
    receiver.status.store(503, Ordering::SeqCst);
    assert_eq!(hooks.replay(&paid_id, None, now()).await.unwrap(), 1);
    let run = send_due(&sender, &settings, now()).await.unwrap();
    assert_eq!((run.delivered, run.failed), (0, 1));
    let next = run.next_due.expect("a retry is scheduled");
    assert!(next > now(), "{next:?}");
    let detail = hooks.event(&paid_id).await.unwrap();
    assert_eq!(detail.deliveries[0].status, "pending");
    assert_eq!(detail.attempts.len(), 2);
    assert_eq!(detail.attempts[1].status_code, Some(503));
    assert_eq!(detail.attempts[1].response, "ok");

    // At the retry's time it goes through, with the same id.
    receiver.status.store(204, Ordering::SeqCst);
    let run = send_due(&sender, &settings, Timestamp(next.0 + 1)).await.unwrap();
    assert_eq!(run.delivered, 1);
    let last = receiver.received.lock().unwrap().last().cloned().unwrap();
    assert_eq!(header(&last.0, "webhook-id"), paid_id);
    let detail = hooks.event(&paid_id).await.unwrap();
    assert_eq!(
        (detail.deliveries[0].status.as_str(), detail.attempts.len()),
        ("delivered", 3)
    );
    let endpoints = hooks.endpoints(now()).await.unwrap();
    assert_eq!(
        (endpoints[0].id.as_str(), endpoints[0].failure_streak),
        (endpoint.id.as_str(), 0)
    );
}

/// An endpoint that is down is sent one delivery a run, its backlog waiting for that one's
/// retry, and the project's other endpoint gets everything meanwhile.
#[tokio::test]
async fn a_down_endpoint_neither_gets_its_backlog_nor_holds_up_the_others() {
    let f = fixture().await;
    let platform = f.paying_developer("user_backlog").await;
    let created = f
        .project(
            &platform,
            json!({"name": "Busy", "projectType": "saas", "tiers": [{"name": "free", "price": 0, "limit": 10}]}),
        )
        .await;
    let auth = f.auth(&created.secret_key).await;
    let (settings, senders) = (settings(), Senders::none());
    let hooks = webhooks_of(&auth, &settings, &senders);
    let (up, down) = (receiver(), receiver());
    down.status.store(500, Ordering::SeqCst);
    for r in [&up, &down] {
        add_endpoint(&hooks, &r.url, &["*"]).await;
    }
    // Five events, recorded as their causes record them.
    for n in 0..5 {
        let event = dream_core::webhooks::Event::new(
            dream_core::webhooks::EventType::KeyRotated,
            &auth.scope.project().publishable_key,
            now(),
            json!({"n": n}),
        );
        f.db.record_webhook_events(&[event], now()).await.unwrap();
    }
    let sender = SenderScope::new(f.db.clone(), created.publishable_key.clone());
    let run = send_due(&sender, &settings, now()).await.unwrap();
    assert_eq!((run.delivered, run.failed), (5, 1), "{run:?}");
    assert_eq!(up.received.lock().unwrap().len(), 5);
    assert_eq!(down.received.lock().unwrap().len(), 1, "one attempt, not the backlog");
    // Nothing else is due before the failed delivery's retry: the backlog waits with it.
    assert_eq!(send_due(&sender, &settings, now()).await.unwrap().failed, 0);
    let next = run.next_due.unwrap();
    assert!(next > now());
    let later = send_due(&sender, &settings, Timestamp(next.0 + 1)).await.unwrap();
    assert_eq!(later.failed, 1, "again one attempt at the retry's time");
    assert_eq!(down.received.lock().unwrap().len(), 2);
}

/// A sale paid beyond the stock left for it (the stock was corrected by hand while its checkout
/// was open) is told as `order.paid` and `order.short`, with the units it is short.
#[tokio::test]
async fn an_order_paid_beyond_its_stock_is_told_short() {
    let f = fixture().await;
    let platform = f.paying_developer("user_short").await;
    let created = f
        .project(
            &platform,
            json!({"name": "Shop", "projectType": "store", "tiers": [{"name": "mug", "price": 12, "inventory": 5}]}),
        )
        .await;
    let auth = f.auth(&created.secret_key).await;
    let (settings, senders) = (settings(), Senders::none());
    let hooks = webhooks_of(&auth, &settings, &senders);
    let receiver = receiver();
    add_endpoint(&hooks, &receiver.url, &["order.paid", "order.short"]).await;
    let products = store::products(&auth, now()).await.unwrap();
    let mug = products[0].price_id.clone().unwrap();
    let body = json!({"items": [{"priceId": mug, "quantity": 3}]});
    let cart = store::checkout(
        (&f.stripe, &f.api_multi_url),
        &auth,
        None,
        body.to_string().as_bytes(),
        now(),
    )
    .await
    .unwrap();
    // One mug left for this order: it is paid for three.
    f.db.execute_for_test(&format!(
        "UPDATE tiers SET inventory = 1 WHERE publishableKey = '{}' AND name = 'mug'",
        created.publishable_key
    ));
    f.emulator_post(
        &format!("/_emulator/checkout/sessions/{}/complete", cart.session_id),
        json!({}),
    )
    .await;
    let account = auth.scope.stripe_account().await.unwrap().unwrap();
    let event = f.latest_event(&account, "checkout.session.completed").await;
    assert!(matches!(f.deliver(&event).await, Outcome::OrderSold { .. }));
    let sender = SenderScope::new(f.db.clone(), created.publishable_key.clone());
    assert_eq!(send_due(&sender, &settings, now()).await.unwrap().delivered, 2);
    let received = receiver.received.lock().unwrap().clone();
    let events: Vec<Value> = received
        .iter()
        .map(|(_, body)| serde_json::from_str(body).unwrap())
        .collect();
    let short = events.iter().find(|e| e["type"] == "order.short").expect("order.short");
    let data: OrderData = serde_json::from_value(short["data"].clone()).unwrap();
    assert_eq!((data.order_id.as_str(), data.short_units), (cart.order_id.as_str(), 2));
    assert!(events.iter().any(|e| e["type"] == "order.paid"));
}
