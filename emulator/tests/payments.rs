//! Charges, refunds and disputes: the charge behind every paid payment intent, refunds in
//! parts with Stripe's errors and idempotent replays, disputes opened and closed through the
//! controls, and the events of each delivered to webhook endpoints.

mod common;

use common::*;
use reqwest::Method;
use serde_json::{Value, json};

/// A one-time price of `amount` and an open payment-mode session for it, with
/// `payment_intent_data[metadata][order]=42`; returns the session.
async fn payment_session(emu: &Emu, account: Option<&str>, amount: &str) -> Value {
    let (_, price) = emu.product_and_price(SK_TEST, account, false, amount).await;
    let (status, _, cs) = emu
        .stripe(
            Method::POST,
            "/v1/checkout/sessions",
            SK_TEST,
            account,
            None,
            &[
                ("mode", "payment"),
                ("line_items[0][price]", &price),
                ("line_items[0][quantity]", "1"),
                ("customer_email", "buyer@example.com"),
                ("payment_intent_data[metadata][order]", "42"),
                ("success_url", "http://localhost:5173/thanks"),
            ],
        )
        .await;
    assert_eq!(status, 200, "{cs}");
    cs
}

/// Pays a payment-mode session through the control; returns its payment intent's id.
async fn paid_payment_intent(emu: &Emu, account: Option<&str>, amount: &str) -> String {
    let cs = payment_session(emu, account, amount).await;
    let id = cs["id"].as_str().expect("id");
    let (status, done) = emu
        .control(&format!("/_emulator/checkout/sessions/{id}/complete"), json!({}))
        .await;
    assert_eq!(status, 200, "{done}");
    done["session"]["payment_intent"]
        .as_str()
        .expect("payment_intent")
        .to_string()
}

async fn refund(emu: &Emu, account: Option<&str>, key: Option<&str>, params: &[(&str, &str)]) -> (u16, Value) {
    let (status, _, body) = emu
        .stripe(Method::POST, "/v1/refunds", SK_TEST, account, key, params)
        .await;
    (status, body)
}

async fn get(emu: &Emu, account: Option<&str>, path: &str, params: &[(&str, &str)]) -> Value {
    let (status, _, body) = emu.stripe(Method::GET, path, SK_TEST, account, None, params).await;
    assert_eq!(status, 200, "{path}: {body}");
    body
}

fn ids(list: &Value) -> Vec<String> {
    list["data"]
        .as_array()
        .expect("a list")
        .iter()
        .map(|o| o["id"].as_str().unwrap_or_default().to_string())
        .collect()
}

/// The account's events of these types, oldest first.
async fn events(emu: &Emu, account: Option<&str>, kind: &str) -> Vec<Value> {
    let mut events = emu.events_of_type(SK_TEST, account, kind).await;
    events.reverse();
    events
}

fn types(events: &[Value]) -> Vec<&str> {
    events.iter().filter_map(|e| e["type"].as_str()).collect()
}

#[tokio::test]
async fn a_hosted_payment_has_a_charge_refunded_in_parts() {
    let (hook, hook_url) = receiver(0).await;
    let emu = Emu::with(emulator::Config {
        webhooks: vec![cli_webhook(&hook_url, "whsec_connect", true)],
        ..test_config()
    })
    .await;
    let account = emu.connect_account().await;
    let acct = Some(account.as_str());

    // Paid on the hosted page, as a buyer pays.
    let cs = payment_session(&emu, acct, "5000").await;
    let paid = emu
        .http
        .post(cs["url"].as_str().expect("url"))
        .form(&[("card", "4242 4242 4242 4242")])
        .send()
        .await
        .expect("pay");
    assert_eq!(paid.status().as_u16(), 302);
    let cs_id = cs["id"].as_str().expect("id");
    let session = get(&emu, acct, &format!("/v1/checkout/sessions/{cs_id}"), &[]).await;
    let pi_id = session["payment_intent"].as_str().expect("payment_intent").to_string();

    let pi = get(
        &emu,
        acct,
        &format!("/v1/payment_intents/{pi_id}"),
        &[("expand[]", "latest_charge")],
    )
    .await;
    let charge = &pi["latest_charge"];
    let ch_id = charge["id"].as_str().expect("an expanded charge").to_string();
    assert!(ch_id.starts_with("ch_"), "{ch_id}");
    assert_eq!(charge["object"], "charge");
    assert_eq!(
        (charge["amount"].as_i64(), charge["amount_captured"].as_i64()),
        (Some(5000), Some(5000))
    );
    assert_eq!(charge["amount_refunded"], 0);
    assert_eq!(
        (
            &charge["captured"],
            &charge["paid"],
            &charge["refunded"],
            &charge["disputed"]
        ),
        (&json!(true), &json!(true), &json!(false), &json!(false))
    );
    assert_eq!(charge["status"], "succeeded");
    assert_eq!(charge["currency"], "usd");
    assert_eq!(charge["payment_intent"], pi_id.as_str());
    assert_eq!(
        charge["metadata"],
        json!({"order": "42"}),
        "copied from the payment intent"
    );
    assert_eq!(charge["receipt_email"], "buyer@example.com");
    assert_eq!(charge["livemode"], false);
    assert!(charge["customer"].is_null(), "a guest checkout");
    assert!(charge["balance_transaction"].is_null() && charge["payment_method"].is_null());

    // Listed by payment intent, and only in its own account.
    let listed = get(&emu, acct, "/v1/charges", &[("payment_intent", &pi_id)]).await;
    assert_eq!(ids(&listed), [ch_id.as_str()]);
    let none = get(&emu, acct, "/v1/charges", &[("payment_intent", "pi_other")]).await;
    assert!(ids(&none).is_empty());
    let (status, missing) = emu.get(&format!("/v1/charges/{ch_id}"), SK_TEST, &[]).await;
    assert_eq!(
        (status, error_of(&missing)),
        (404, ("invalid_request_error", "resource_missing"))
    );

    // A partial refund with an explicit amount; its replay is the same refund.
    let first_params = [
        ("charge", ch_id.as_str()),
        ("amount", "2000"),
        ("reason", "requested_by_customer"),
        ("metadata[ticket]", "T-1"),
    ];
    let (status, first) = refund(&emu, acct, Some("refund-1"), &first_params).await;
    assert_eq!(status, 200, "{first}");
    let re_1 = first["id"].as_str().expect("id").to_string();
    assert!(re_1.starts_with("re_"), "{re_1}");
    assert_eq!(first["object"], "refund");
    assert_eq!(
        (
            first["amount"].as_i64(),
            first["status"].as_str(),
            first["reason"].as_str()
        ),
        (Some(2000), Some("succeeded"), Some("requested_by_customer"))
    );
    assert_eq!(
        (first["charge"].as_str(), first["payment_intent"].as_str()),
        (Some(ch_id.as_str()), Some(pi_id.as_str()))
    );
    assert_eq!(first["metadata"], json!({"ticket": "T-1"}));
    assert_eq!(first["currency"], "usd");
    let (status, replay_headers, replay) = emu
        .stripe(
            Method::POST,
            "/v1/refunds",
            SK_TEST,
            acct,
            Some("refund-1"),
            &first_params,
        )
        .await;
    assert_eq!((status, &replay), (200, &first));
    assert_eq!(
        replay_headers.get("idempotent-replayed").and_then(|v| v.to_str().ok()),
        Some("true")
    );
    let (status, reused) = refund(&emu, acct, Some("refund-1"), &[("charge", &ch_id), ("amount", "1")]).await;
    assert_eq!((status, error_of(&reused).0), (400, "idempotency_error"));
    let charge = get(&emu, acct, &format!("/v1/charges/{ch_id}"), &[]).await;
    assert_eq!(
        (charge["amount_refunded"].as_i64(), &charge["refunded"]),
        (Some(2000), &json!(false))
    );

    // More than is left is refused.
    let (status, too_much) = refund(&emu, acct, None, &[("payment_intent", &pi_id), ("amount", "3001")]).await;
    assert_eq!(status, 400, "{too_much}");
    assert_eq!(error_of(&too_much), ("invalid_request_error", "amount_too_large"));
    assert_eq!(too_much["error"]["param"], "amount");

    // The rest, by payment intent and without an amount.
    let (status, rest) = refund(&emu, acct, None, &[("payment_intent", &pi_id)]).await;
    assert_eq!(status, 200, "{rest}");
    assert_eq!(rest["amount"], 3000);
    assert!(rest["reason"].is_null() && rest["metadata"] == json!({}));
    let re_2 = rest["id"].as_str().expect("id").to_string();
    let charge = get(&emu, acct, &format!("/v1/charges/{ch_id}"), &[("expand[]", "refunds")]).await;
    assert_eq!(
        (charge["amount_refunded"].as_i64(), &charge["refunded"]),
        (Some(5000), &json!(true))
    );
    assert_eq!(ids(&charge["refunds"]), [re_2.as_str(), re_1.as_str()]);

    // Nothing is left.
    let (status, again) = refund(&emu, acct, None, &[("charge", &ch_id), ("amount", "1")]).await;
    assert_eq!(status, 400, "{again}");
    assert_eq!(error_of(&again), ("invalid_request_error", "charge_already_refunded"));
    assert_eq!(
        again["error"]["message"],
        format!("Charge {ch_id} has already been refunded.")
    );

    // Retrieve and list.
    let fetched = get(&emu, acct, &format!("/v1/refunds/{re_1}"), &[]).await;
    assert_eq!(fetched, first);
    for filter in [("charge", ch_id.as_str()), ("payment_intent", pi_id.as_str())] {
        let listed = get(&emu, acct, "/v1/refunds", &[filter]).await;
        assert_eq!(ids(&listed), [re_2.as_str(), re_1.as_str()], "{filter:?}");
    }
    let other = get(&emu, acct, "/v1/refunds", &[("charge", "ch_other")]).await;
    assert!(ids(&other).is_empty());

    // The events, as recorded and as delivered to the Connect endpoint.
    let recorded = events(&emu, acct, "*").await;
    let kinds = types(&recorded);
    let money: Vec<&str> = kinds
        .iter()
        .copied()
        .filter(|k| k.starts_with("charge.") || k.starts_with("refund.") || k.starts_with("payment_intent."))
        .collect();
    assert_eq!(
        money,
        [
            "charge.succeeded",
            "payment_intent.succeeded",
            "refund.created",
            "charge.refunded",
            "refund.created",
            "charge.refunded",
        ],
        "a replay or a refused refund records nothing"
    );
    let succeeded = pi_event(&recorded, "payment_intent.succeeded");
    assert_eq!(succeeded["latest_charge"], ch_id.as_str());
    let first_event = recorded
        .iter()
        .find(|e| e["type"] == "refund.created")
        .expect("refund.created");
    assert_eq!(first_event["request"]["idempotency_key"], "refund-1");
    assert_eq!(first_event["data"]["object"]["id"], re_1.as_str());

    let delivered = wait_for_events(&hook, recorded.len()).await;
    let refunded: Vec<&Value> = delivered.iter().filter(|e| e["type"] == "charge.refunded").collect();
    assert_eq!(refunded.len(), 2);
    let by_amount = |n: i64| {
        refunded
            .iter()
            .find(|e| e["data"]["object"]["amount_refunded"] == n)
            .unwrap_or_else(|| panic!("a charge.refunded with amount_refunded {n}"))
    };
    let partial = by_amount(2000);
    assert_eq!(partial["account"], account.as_str());
    assert_eq!(partial["data"]["object"]["id"], ch_id.as_str());
    assert_eq!(partial["data"]["object"]["refunded"], false);
    assert_eq!(partial["data"]["previous_attributes"], json!({"amount_refunded": 0}));
    let full = by_amount(5000);
    assert_eq!(full["data"]["object"]["refunded"], true);
    assert_eq!(
        full["data"]["previous_attributes"],
        json!({"amount_refunded": 2000, "refunded": false})
    );
    let charge_succeeded = delivered
        .iter()
        .find(|e| e["type"] == "charge.succeeded")
        .expect("charge.succeeded delivered");
    assert_eq!(charge_succeeded["data"]["object"]["amount"], 5000);
    assert_eq!(delivered.iter().filter(|e| e["type"] == "refund.created").count(), 2);
}

fn pi_event<'a>(events: &'a [Value], kind: &str) -> &'a Value {
    &events
        .iter()
        .find(|e| e["type"] == kind)
        .unwrap_or_else(|| panic!("{kind}"))["data"]["object"]
}

/// Waits until the receiver got `n` events; returns them.
async fn wait_for_events(hook: &Receiver, n: usize) -> Vec<Value> {
    for _ in 0..200 {
        let got = hook.received();
        if got.len() >= n {
            return got.iter().map(Received::event).collect();
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    panic!("expected {n} deliveries, got {}", hook.received().len());
}

#[tokio::test]
async fn refund_parameters_are_checked() {
    let emu = Emu::start().await;
    let pi = paid_payment_intent(&emu, None, "1000").await;
    let (status, body) = refund(&emu, None, None, &[]).await;
    assert_eq!((status, error_of(&body).1), (400, "parameter_missing"), "{body}");
    let (status, body) = refund(&emu, None, None, &[("payment_intent", &pi), ("charge", "ch_x")]).await;
    assert_eq!((status, error_of(&body).1), (400, "parameters_exclusive"), "{body}");
    let (status, body) = refund(&emu, None, None, &[("payment_intent", &pi), ("amount", "0")]).await;
    assert_eq!(
        (status, error_of(&body).1),
        (400, "parameter_invalid_integer"),
        "{body}"
    );
    let (status, body) = refund(&emu, None, None, &[("payment_intent", &pi), ("reason", "bored")]).await;
    assert_eq!(
        (status, body["error"]["param"].as_str()),
        (400, Some("reason")),
        "{body}"
    );
    let (status, body) = refund(&emu, None, None, &[("payment_intent", &pi), ("currency", "usd")]).await;
    assert_eq!((status, error_of(&body).1), (400, "parameter_unknown"), "{body}");
    let (status, body) = refund(&emu, None, None, &[("charge", "ch_missing")]).await;
    assert_eq!((status, error_of(&body).1), (400, "resource_missing"), "{body}");
    assert_eq!(body["error"]["param"], "charge");
    // Another mode cannot see it.
    let (status, body) = emu
        .post("/v1/refunds", SK_LIVE, &[("payment_intent", pi.as_str())])
        .await;
    assert_eq!((status, error_of(&body).1), (400, "resource_missing"), "{body}");
    // The whole amount with an explicit amount.
    let (status, body) = refund(&emu, None, None, &[("payment_intent", &pi), ("amount", "1000")]).await;
    assert_eq!((status, body["amount"].as_i64()), (200, Some(1000)), "{body}");
    let (status, body) = refund(&emu, None, None, &[("payment_intent", &pi)]).await;
    assert_eq!((status, error_of(&body).1), (400, "charge_already_refunded"), "{body}");
}

#[tokio::test]
async fn disputes_open_and_close_with_their_events() {
    let (hook, hook_url) = receiver(0).await;
    let emu = Emu::with(emulator::Config {
        webhooks: vec![cli_webhook(&hook_url, "whsec_platform", false)],
        ..test_config()
    })
    .await;
    let won_pi = paid_payment_intent(&emu, None, "3000").await;
    let lost_pi = paid_payment_intent(&emu, None, "1200").await;

    // Part refunded first: the dispute is for what is left.
    let (status, _) = refund(&emu, None, None, &[("payment_intent", &won_pi), ("amount", "1000")]).await;
    assert_eq!(status, 200);
    let (status, dispute) = emu
        .control(&format!("/_emulator/payment_intents/{won_pi}/dispute"), json!({}))
        .await;
    assert_eq!(status, 200, "{dispute}");
    let du_won = dispute["id"].as_str().expect("id").to_string();
    assert!(du_won.starts_with("du_"), "{du_won}");
    assert_eq!(dispute["object"], "dispute");
    assert_eq!(
        (
            dispute["amount"].as_i64(),
            dispute["reason"].as_str(),
            dispute["status"].as_str()
        ),
        (Some(2000), Some("fraudulent"), Some("needs_response"))
    );
    assert_eq!(dispute["payment_intent"], won_pi.as_str());
    assert_eq!(dispute["currency"], "usd");
    assert_eq!(dispute["metadata"], json!({}));
    assert_eq!(dispute["livemode"], false);
    assert_eq!(dispute["is_charge_refundable"], false);
    assert!(dispute["evidence_details"]["due_by"].as_i64() > dispute["created"].as_i64());
    let ch_won = dispute["charge"].as_str().expect("charge").to_string();
    let charge = get(&emu, None, &format!("/v1/charges/{ch_won}"), &[]).await;
    assert_eq!(charge["disputed"], true);

    // A disputed charge is neither refunded nor disputed again.
    let (status, body) = refund(&emu, None, None, &[("charge", &ch_won)]).await;
    assert_eq!((status, error_of(&body).1), (400, "charge_disputed"), "{body}");
    let (status, body) = emu
        .control(&format!("/_emulator/payment_intents/{won_pi}/dispute"), json!({}))
        .await;
    assert_eq!(status, 400, "{body}");

    // The other one by form body, with a reason, and lost.
    let resp = emu
        .http
        .post(emu.url(&format!("/_emulator/payment_intents/{lost_pi}/dispute")))
        .form(&[("reason", "product_not_received")])
        .send()
        .await
        .expect("dispute");
    assert_eq!(resp.status().as_u16(), 200);
    let lost: Value = resp.json().await.expect("json");
    let du_lost = lost["id"].as_str().expect("id").to_string();
    assert_eq!(
        (lost["reason"].as_str(), lost["amount"].as_i64()),
        (Some("product_not_received"), Some(1200))
    );

    let (status, won) = emu
        .control(
            &format!("/_emulator/disputes/{du_won}/close"),
            json!({"outcome": "won"}),
        )
        .await;
    assert_eq!((status, won["status"].as_str()), (200, Some("won")), "{won}");
    let (status, closed) = emu
        .control(
            &format!("/_emulator/disputes/{du_lost}/close"),
            json!({"outcome": "lost"}),
        )
        .await;
    assert_eq!((status, closed["status"].as_str()), (200, Some("lost")), "{closed}");
    let (status, body) = emu
        .control(
            &format!("/_emulator/disputes/{du_lost}/close"),
            json!({"outcome": "won"}),
        )
        .await;
    assert_eq!(status, 400, "closed once: {body}");
    let (status, body) = emu
        .control(
            &format!("/_emulator/disputes/{du_won}/close"),
            json!({"outcome": "maybe"}),
        )
        .await;
    assert_eq!(status, 400, "{body}");

    // Unknown ids: Stripe's 404.
    for path in [
        "/_emulator/payment_intents/pi_missing/dispute",
        "/_emulator/disputes/du_missing/close",
    ] {
        let (status, body) = emu.control(path, json!({"outcome": "won"})).await;
        assert_eq!(status, 404, "{path}: {body}");
        assert_eq!(error_of(&body), ("invalid_request_error", "resource_missing"));
    }

    // Retrieve and list.
    let fetched = get(&emu, None, &format!("/v1/disputes/{du_won}"), &[]).await;
    assert_eq!(fetched, won);
    assert_eq!(
        ids(&get(&emu, None, "/v1/disputes", &[]).await),
        [du_lost.as_str(), du_won.as_str()]
    );
    let by_pi = get(&emu, None, "/v1/disputes", &[("payment_intent", &lost_pi)]).await;
    assert_eq!(ids(&by_pi), [du_lost.as_str()]);
    let by_charge = get(&emu, None, "/v1/disputes", &[("charge", &ch_won)]).await;
    assert_eq!(ids(&by_charge), [du_won.as_str()]);
    let (status, _) = emu.get(&format!("/v1/disputes/{du_won}"), SK_LIVE, &[]).await;
    assert_eq!(status, 404, "not in live mode");

    // Their events, in order, and delivered.
    let recorded = events(&emu, None, "charge.dispute.*").await;
    let sequence: Vec<(String, String)> = recorded
        .iter()
        .map(|e| {
            (
                e["type"].as_str().unwrap_or_default().to_string(),
                e["data"]["object"]["id"].as_str().unwrap_or_default().to_string(),
            )
        })
        .collect();
    let step = |kind: &str, id: &str| (kind.to_string(), id.to_string());
    assert_eq!(
        sequence,
        [
            step("charge.dispute.created", &du_won),
            step("charge.dispute.funds_withdrawn", &du_won),
            step("charge.dispute.created", &du_lost),
            step("charge.dispute.funds_withdrawn", &du_lost),
            step("charge.dispute.funds_reinstated", &du_won),
            step("charge.dispute.closed", &du_won),
            step("charge.dispute.closed", &du_lost),
        ]
    );
    let statuses: Vec<&str> = recorded
        .iter()
        .filter_map(|e| e["data"]["object"]["status"].as_str())
        .collect();
    assert_eq!(
        statuses,
        [
            "needs_response",
            "needs_response",
            "needs_response",
            "needs_response",
            "won",
            "won",
            "lost"
        ]
    );
    assert!(
        recorded.iter().all(|e| e["request"]["id"].is_null()),
        "made by the bank"
    );

    let all = emu.events_of_type(SK_TEST, None, "*").await.len();
    let delivered = wait_for_events(&hook, all).await;
    let mut dispute_events: Vec<&str> = delivered
        .iter()
        .filter_map(|e| e["type"].as_str())
        .filter(|k| k.starts_with("charge.dispute."))
        .collect();
    dispute_events.sort_unstable();
    assert_eq!(
        dispute_events,
        [
            "charge.dispute.closed",
            "charge.dispute.closed",
            "charge.dispute.created",
            "charge.dispute.created",
            "charge.dispute.funds_reinstated",
            "charge.dispute.funds_withdrawn",
            "charge.dispute.funds_withdrawn",
        ]
    );
    // One change's events reach an endpoint in the order they were recorded.
    let position = |kind: &str, id: &str| {
        delivered
            .iter()
            .position(|e| e["type"] == kind && e["data"]["object"]["id"] == id)
            .unwrap_or_else(|| panic!("{kind} {id} delivered"))
    };
    assert!(position("charge.dispute.created", &du_won) < position("charge.dispute.funds_withdrawn", &du_won));
    assert!(position("charge.dispute.funds_reinstated", &du_won) < position("charge.dispute.closed", &du_won));
}

#[tokio::test]
async fn subscription_payments_have_charges_too() {
    let emu = Emu::start().await;
    let (_, price) = emu.product_and_price(SK_TEST, None, true, "900").await;
    let (_, cs) = emu
        .post(
            "/v1/checkout/sessions",
            SK_TEST,
            &[
                ("mode", "subscription"),
                ("line_items[0][price]", &price),
                ("line_items[0][quantity]", "1"),
                ("customer_email", "sub@example.com"),
            ],
        )
        .await;
    let cs_id = cs["id"].as_str().expect("id");
    let (_, done) = emu
        .control(&format!("/_emulator/checkout/sessions/{cs_id}/complete"), json!({}))
        .await;
    let sub = done["session"]["subscription"]
        .as_str()
        .expect("subscription")
        .to_string();
    let customer = done["session"]["customer"].as_str().expect("customer").to_string();
    for control in ["advance", "fail_renewal"] {
        let (status, body) = emu
            .control(&format!("/_emulator/subscriptions/{sub}/{control}"), json!({}))
            .await;
        assert_eq!(status, 200, "{control}: {body}");
    }
    // A declined payment has no charge (until it is paid).
    let pis = get(&emu, None, "/v1/payment_intents", &[]).await;
    let declined = &pis["data"][0];
    assert_eq!(declined["status"], "requires_payment_method");
    assert!(declined["latest_charge"].is_null());
    let (status, body) = refund(
        &emu,
        None,
        None,
        &[("payment_intent", declined["id"].as_str().expect("id"))],
    )
    .await;
    assert_eq!(status, 400, "nothing to refund: {body}");
    let (status, body) = emu
        .control(
            &format!(
                "/_emulator/payment_intents/{}/dispute",
                declined["id"].as_str().expect("id")
            ),
            json!({}),
        )
        .await;
    assert_eq!(status, 400, "nothing to dispute: {body}");

    let (status, _) = emu
        .control(&format!("/_emulator/subscriptions/{sub}/advance"), json!({}))
        .await;
    assert_eq!(status, 200);
    let pis = get(&emu, None, "/v1/payment_intents", &[]).await;
    let charges = get(&emu, None, "/v1/charges", &[("customer", &customer)]).await;
    assert_eq!(
        charges["data"].as_array().expect("data").len(),
        3,
        "checkout, renewal, recovery"
    );
    for pi in pis["data"].as_array().expect("data") {
        assert_eq!(pi["status"], "succeeded");
        let ch = pi["latest_charge"].as_str().expect("latest_charge");
        let charge = get(&emu, None, &format!("/v1/charges/{ch}"), &[]).await;
        assert_eq!(
            (charge["amount"].as_i64(), charge["customer"].as_str()),
            (Some(900), Some(customer.as_str()))
        );
        assert_eq!(charge["payment_intent"], pi["id"]);
    }
    assert_eq!(emu.events_of_type(SK_TEST, None, "charge.succeeded").await.len(), 3);
}

#[tokio::test]
async fn states_saved_before_charges_still_load() {
    let dir = std::env::temp_dir().join(format!("dream-emulator-payments-{}", std::process::id()));
    let path = dir.join("state.json");
    let _ = std::fs::remove_file(&path);
    let config = emulator::Config {
        state_file: Some(path.clone()),
        ..test_config()
    };
    let emu = Emu::with(config.clone()).await;
    let pi = paid_payment_intent(&emu, None, "700").await;
    let (status, re) = refund(&emu, None, None, &[("payment_intent", &pi), ("amount", "100")]).await;
    assert_eq!(status, 200);
    emu.running.shutdown().await.expect("clean shutdown");

    // The charge and its refund survive a restart.
    let emu = Emu::with(config.clone()).await;
    let fetched = get(
        &emu,
        None,
        &format!("/v1/refunds/{}", re["id"].as_str().expect("id")),
        &[],
    )
    .await;
    assert_eq!(fetched, re);
    emu.running.shutdown().await.expect("clean shutdown");

    // A state written before charges existed: no maps, no `latest_charge`.
    let mut state: Value = serde_json::from_slice(&std::fs::read(&path).expect("state")).expect("JSON");
    let root = state.as_object_mut().expect("object");
    for key in ["charges", "refunds", "disputes"] {
        assert!(root.remove(key).is_some(), "{key} is saved");
    }
    for intent in root["payment_intents"].as_object_mut().expect("map").values_mut() {
        intent.as_object_mut().expect("object").remove("latest_charge");
    }
    std::fs::write(&path, serde_json::to_vec(&state).expect("JSON")).expect("write");
    let emu = Emu::with(config).await;
    let old = get(&emu, None, &format!("/v1/payment_intents/{pi}"), &[]).await;
    assert_eq!(old["status"], "succeeded");
    assert!(old["latest_charge"].is_null());
    assert!(ids(&get(&emu, None, "/v1/charges", &[]).await).is_empty());
    emu.running.shutdown().await.expect("clean shutdown");
    let _ = std::fs::remove_dir_all(&dir);
}
