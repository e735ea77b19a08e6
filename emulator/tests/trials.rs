//! Subscription trials started by Checkout: the trialing subscription and its $0 invoice with
//! Stripe's events, a trial with a card converting to a paid period at the renewal control (or
//! declined), trials started without a card (`payment_method_collection=if_required`) ending by
//! their `missing_payment_method` behaviour, the trial-will-end notice, and validation.

mod common;

use common::*;
use reqwest::Method;
use serde_json::{Value, json};

const DAY: i64 = 86_400;

async fn session(emu: &Emu, params: &[(&str, &str)]) -> Value {
    let (status, body) = emu.post("/v1/checkout/sessions", SK_TEST, params).await;
    assert_eq!(status, 200, "{body}");
    body
}

async fn complete(emu: &Emu, id: &str, body: Value) -> (u16, Value) {
    emu.control(&format!("/_emulator/checkout/sessions/{id}/complete"), body)
        .await
}

async fn get(emu: &Emu, path: &str) -> Value {
    let (status, body) = emu.get(path, SK_TEST, &[]).await;
    assert_eq!(status, 200, "{body}");
    body
}

/// Every event of the platform, oldest first.
async fn all_events(emu: &Emu) -> Vec<Value> {
    let (_, _, list) = emu
        .stripe(Method::GET, "/v1/events", SK_TEST, None, None, &[("limit", "100")])
        .await;
    let mut events = list["data"].as_array().cloned().unwrap_or_default();
    events.reverse();
    events
}

fn types(events: &[Value]) -> Vec<&str> {
    events.iter().filter_map(|e| e["type"].as_str()).collect()
}

fn item_period(sub: &Value) -> (i64, i64) {
    let item = &sub["items"]["data"][0];
    (
        item["current_period_start"].as_i64().expect("start"),
        item["current_period_end"].as_i64().expect("end"),
    )
}

/// A monthly price of `amount` and a trial checkout for it with `extra` parameters, completed
/// with the control body `completion`; returns the completed session and the price.
async fn trial_checkout(emu: &Emu, amount: &str, extra: &[(&str, &str)], completion: Value) -> (Value, String) {
    let (_, price) = emu.product_and_price(SK_TEST, None, true, amount).await;
    let mut params = vec![
        ("mode", "subscription"),
        ("line_items[0][price]", price.as_str()),
        ("line_items[0][quantity]", "1"),
        ("customer_email", "trial@example.com"),
        ("success_url", "http://localhost:5173/done"),
    ];
    params.extend_from_slice(extra);
    let cs = session(emu, &params).await;
    let (status, done) = complete(emu, cs["id"].as_str().expect("id"), completion).await;
    assert_eq!(status, 200, "{done}");
    (done["session"].clone(), price)
}

#[tokio::test]
async fn a_trial_with_a_card_starts_trialing_with_a_zero_invoice_and_converts_at_the_renewal_control() {
    let emu = Emu::start().await;
    let (cs, price) = trial_checkout(
        &emu,
        "1999",
        &[("subscription_data[trial_period_days]", "14")],
        json!({}),
    )
    .await;
    assert_eq!(
        (
            &cs["amount_total"],
            &cs["amount_subtotal"],
            &cs["payment_status"],
            &cs["payment_method_collection"]
        ),
        (&json!(0), &json!(0), &json!("no_payment_required"), &json!("always")),
        "nothing is due today"
    );
    let sub_id = cs["subscription"].as_str().expect("subscription").to_string();
    let sub = get(&emu, &format!("/v1/subscriptions/{sub_id}")).await;
    let (start, end) = (
        sub["trial_start"].as_i64().expect("trial_start"),
        sub["trial_end"].as_i64().expect("trial_end"),
    );
    assert_eq!(end - start, 14 * DAY);
    assert_eq!(sub["status"], "trialing");
    assert_eq!(item_period(&sub), (start, end), "the current period is the trial");
    assert_eq!(
        sub["billing_cycle_anchor"], end,
        "paid periods count from the trial's end"
    );
    assert_eq!(
        sub["trial_settings"],
        json!({"end_behavior": {"missing_payment_method": "create_invoice"}})
    );
    assert!(
        sub["default_payment_method"]
            .as_str()
            .expect("a card")
            .starts_with("pm_"),
        "{sub}"
    );

    // Stripe's $0 first invoice, paid, with no payment intent and no charge.
    let invoice = get(
        &emu,
        &format!("/v1/invoices/{}", cs["invoice"].as_str().expect("invoice")),
    )
    .await;
    assert_eq!(
        (
            &invoice["billing_reason"],
            &invoice["total"],
            &invoice["amount_paid"],
            &invoice["status"]
        ),
        (&json!("subscription_create"), &json!(0), &json!(0), &json!("paid"))
    );
    let lines = invoice["lines"]["data"].as_array().expect("lines");
    assert_eq!(lines.len(), 1);
    assert_eq!(
        (&lines[0]["description"], &lines[0]["amount"]),
        (&json!("Trial period for Pro"), &json!(0))
    );
    assert_eq!(lines[0]["period"], json!({"start": start, "end": end}));
    assert_eq!(sub["latest_invoice"], invoice["id"]);
    let (_, pis) = emu.get("/v1/payment_intents", SK_TEST, &[]).await;
    assert_eq!(
        pis["data"],
        json!([]),
        "Stripe makes no payment intent for a $0 invoice"
    );

    let events = all_events(&emu).await;
    assert_eq!(
        types(&events),
        [
            "product.created",
            "price.created",
            "customer.created",
            "customer.subscription.created",
            "invoice.created",
            "invoice.finalized",
            "invoice.paid",
            "invoice.payment_succeeded",
            "checkout.session.completed",
        ]
    );
    assert_eq!(events[3]["data"]["object"]["status"], "trialing");
    assert_eq!(events[8]["data"]["object"]["payment_status"], "no_payment_required");

    // Three days before the end, Stripe's notice.
    let (status, notice) = emu
        .control(&format!("/_emulator/subscriptions/{sub_id}/trial_will_end"), json!({}))
        .await;
    assert_eq!((status, &notice["status"]), (200, &json!("trialing")), "{notice}");
    assert_eq!(
        emu.events_of_type(SK_TEST, None, "customer.subscription.trial_will_end")
            .await
            .len(),
        1
    );

    // The trial ends: the first paid period, from the trial's end, charged in full.
    let (status, active) = emu
        .control(&format!("/_emulator/subscriptions/{sub_id}/advance"), json!({}))
        .await;
    assert_eq!(status, 200, "{active}");
    assert_eq!(active["status"], "active");
    let first_paid = (end, emulator::time::add_months(end, 1));
    assert_eq!(item_period(&active), first_paid);
    assert_eq!(
        (&active["trial_start"], &active["trial_end"]),
        (&json!(start), &json!(end)),
        "the trial stays on record"
    );
    let invoice = get(
        &emu,
        &format!("/v1/invoices/{}", active["latest_invoice"].as_str().expect("invoice")),
    )
    .await;
    assert_eq!(
        (&invoice["billing_reason"], &invoice["amount_paid"], &invoice["status"]),
        (&json!("subscription_cycle"), &json!(1999), &json!("paid"))
    );
    assert_eq!(
        invoice["lines"]["data"][0]["period"],
        json!({"start": first_paid.0, "end": first_paid.1})
    );
    assert_eq!(
        invoice["lines"]["data"][0]["pricing"]["price_details"]["price"],
        price.as_str()
    );
    let (_, pis) = emu.get("/v1/payment_intents", SK_TEST, &[]).await;
    assert_eq!(
        (&pis["data"][0]["amount"], &pis["data"][0]["status"]),
        (&json!(1999), &json!("succeeded"))
    );
    let updated = emu.events_of_type(SK_TEST, None, "customer.subscription.updated").await;
    assert_eq!(updated[0]["data"]["previous_attributes"]["status"], "trialing");
    assert_eq!(updated[0]["data"]["object"]["status"], "active");

    // And the next renewal follows on from the trial's end.
    let (_, renewed) = emu
        .control(&format!("/_emulator/subscriptions/{sub_id}/advance"), json!({}))
        .await;
    assert_eq!(
        item_period(&renewed),
        (first_paid.1, emulator::time::add_months(end, 2))
    );
    let (status, _) = emu
        .control(&format!("/_emulator/subscriptions/{sub_id}/trial_will_end"), json!({}))
        .await;
    assert_eq!(status, 400, "no longer trialing");
}

#[tokio::test]
async fn a_declined_card_at_the_end_of_a_trial_leaves_it_past_due() {
    let emu = Emu::start().await;
    let (cs, _) = trial_checkout(
        &emu,
        "1000",
        &[("subscription_data[trial_period_days]", "7")],
        json!({}),
    )
    .await;
    let sub_id = cs["subscription"].as_str().expect("subscription");
    let (status, failed) = emu
        .control(&format!("/_emulator/subscriptions/{sub_id}/fail_renewal"), json!({}))
        .await;
    assert_eq!(status, 200, "{failed}");
    assert_eq!(failed["status"], "past_due");
    let invoice = get(
        &emu,
        &format!("/v1/invoices/{}", failed["latest_invoice"].as_str().expect("invoice")),
    )
    .await;
    assert_eq!(
        (&invoice["status"], &invoice["amount_due"], &invoice["billing_reason"]),
        (&json!("open"), &json!(1000), &json!("subscription_cycle"))
    );
    assert_eq!(
        emu.events_of_type(SK_TEST, None, "payment_intent.payment_failed")
            .await
            .len(),
        1
    );
    // Recovery as for any past_due subscription.
    let (_, recovered) = emu
        .control(&format!("/_emulator/subscriptions/{sub_id}/advance"), json!({}))
        .await;
    assert_eq!(recovered["status"], "active");
}

#[tokio::test]
async fn a_trial_started_without_a_card_on_the_hosted_page_is_canceled_at_its_end() {
    let emu = Emu::start().await;
    let (_, price) = emu.product_and_price(SK_TEST, None, true, "1500").await;
    let cs = session(
        &emu,
        &[
            ("mode", "subscription"),
            ("line_items[0][price]", &price),
            ("line_items[0][quantity]", "1"),
            ("subscription_data[trial_period_days]", "30"),
            (
                "subscription_data[trial_settings][end_behavior][missing_payment_method]",
                "cancel",
            ),
            ("payment_method_collection", "if_required"),
            ("success_url", "http://localhost:5173/done"),
        ],
    )
    .await;
    assert_eq!(cs["payment_method_collection"], "if_required");
    let id = cs["id"].as_str().expect("id").to_string();
    let url = cs["url"].as_str().expect("url");
    let page = emu
        .http
        .get(url)
        .send()
        .await
        .expect("page")
        .text()
        .await
        .expect("html");
    assert!(
        page.contains("Start trial") && !page.contains("name=\"card\""),
        "{page}"
    );

    // The page sends no card; a control that names one is told the session takes none.
    let (status, refused) = complete(&emu, &id, json!({"card": "4242 4242 4242 4242"})).await;
    assert_eq!(
        (status, refused["error"]["param"].as_str()),
        (400, Some("card")),
        "{refused}"
    );
    let started = emu
        .http
        .post(url)
        .form(&[("email", "nocard@example.com")])
        .send()
        .await
        .expect("start");
    assert_eq!(started.status().as_u16(), 302);
    let cs = get(&emu, &format!("/v1/checkout/sessions/{id}")).await;
    assert_eq!(cs["payment_status"], "no_payment_required");
    let sub_id = cs["subscription"].as_str().expect("subscription").to_string();
    let sub = get(&emu, &format!("/v1/subscriptions/{sub_id}")).await;
    assert_eq!(sub["status"], "trialing");
    assert!(sub["default_payment_method"].is_null(), "{sub}");
    assert_eq!(
        sub["trial_settings"]["end_behavior"]["missing_payment_method"],
        "cancel"
    );
    let trial_end = sub["trial_end"].as_i64().expect("trial_end");

    let (status, canceled) = emu
        .control(&format!("/_emulator/subscriptions/{sub_id}/advance"), json!({}))
        .await;
    assert_eq!(status, 200, "{canceled}");
    assert_eq!(
        (&canceled["status"], &canceled["ended_at"], &canceled["canceled_at"]),
        (&json!("canceled"), &json!(trial_end), &json!(trial_end))
    );
    assert_eq!(canceled["cancellation_details"]["reason"], "cancellation_requested");
    let deleted = emu.events_of_type(SK_TEST, None, "customer.subscription.deleted").await;
    assert_eq!(deleted.len(), 1);
    let (_, invoices) = emu.get("/v1/invoices", SK_TEST, &[("subscription", &sub_id)]).await;
    assert_eq!(
        invoices["data"].as_array().expect("data").len(),
        1,
        "only the trial's invoice: canceling bills nothing"
    );
    let (status, _) = emu
        .control(&format!("/_emulator/subscriptions/{sub_id}/advance"), json!({}))
        .await;
    assert_eq!(status, 400);
}

#[tokio::test]
async fn without_a_card_create_invoice_leaves_it_past_due_and_pause_pauses_it() {
    let emu = Emu::start().await;
    let no_card = [
        ("subscription_data[trial_period_days]", "14"),
        ("payment_method_collection", "if_required"),
    ];
    // The default behaviour, create_invoice: billed anyway, nothing to charge.
    let (cs, _) = trial_checkout(&emu, "2500", &no_card, json!({})).await;
    let sub_id = cs["subscription"].as_str().expect("subscription");
    let (_, past_due) = emu
        .control(&format!("/_emulator/subscriptions/{sub_id}/advance"), json!({}))
        .await;
    assert_eq!(past_due["status"], "past_due", "{past_due}");
    let invoice = get(
        &emu,
        &format!("/v1/invoices/{}", past_due["latest_invoice"].as_str().expect("invoice")),
    )
    .await;
    assert_eq!(
        (&invoice["status"], &invoice["amount_remaining"]),
        (&json!("open"), &json!(2500))
    );
    assert_eq!(
        emu.events_of_type(SK_TEST, None, "invoice.payment_failed").await.len(),
        1
    );
    let (_, pis) = emu.get("/v1/payment_intents", SK_TEST, &[]).await;
    assert_eq!(
        (&pis["data"][0]["status"], &pis["data"][0]["last_payment_error"]),
        (&json!("requires_payment_method"), &Value::Null),
        "no card was attempted"
    );

    // pause: paused, customer.subscription.paused, and no renewal until resumed.
    let mut paused_params = no_card.to_vec();
    paused_params.push((
        "subscription_data[trial_settings][end_behavior][missing_payment_method]",
        "pause",
    ));
    let (cs, _) = trial_checkout(&emu, "2500", &paused_params, json!({})).await;
    let sub_id = cs["subscription"].as_str().expect("subscription");
    let (_, paused) = emu
        .control(&format!("/_emulator/subscriptions/{sub_id}/advance"), json!({}))
        .await;
    assert_eq!(paused["status"], "paused", "{paused}");
    let events = emu.events_of_type(SK_TEST, None, "customer.subscription.paused").await;
    assert_eq!(events.len(), 1);
    assert_eq!(events[0]["data"]["object"]["id"], *sub_id);
    let updated = emu.events_of_type(SK_TEST, None, "customer.subscription.updated").await;
    assert_eq!(updated[0]["data"]["previous_attributes"]["status"], "trialing");
    let (status, refused) = emu
        .control(&format!("/_emulator/subscriptions/{sub_id}/advance"), json!({}))
        .await;
    assert_eq!(status, 400, "{refused}");
    let (_, listed) = emu.get("/v1/subscriptions", SK_TEST, &[("status", "paused")]).await;
    assert_eq!(listed["data"].as_array().expect("data").len(), 1);
}

#[tokio::test]
async fn if_required_still_takes_a_card_when_something_is_due_and_trial_end_sets_the_end() {
    let emu = Emu::start().await;
    let (cs, _) = trial_checkout(&emu, "900", &[("payment_method_collection", "if_required")], json!({})).await;
    assert_eq!(cs["payment_status"], "paid");
    let sub = get(
        &emu,
        &format!("/v1/subscriptions/{}", cs["subscription"].as_str().expect("sub")),
    )
    .await;
    assert!(
        sub["default_payment_method"].is_string() && sub["trial_end"].is_null(),
        "{sub}"
    );
    assert_eq!(sub["status"], "active");

    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64;
    let trial_end = (now + 10 * DAY).to_string();
    let (cs, _) = trial_checkout(&emu, "900", &[("subscription_data[trial_end]", &trial_end)], json!({})).await;
    let sub = get(
        &emu,
        &format!("/v1/subscriptions/{}", cs["subscription"].as_str().expect("sub")),
    )
    .await;
    assert_eq!(
        (&sub["status"], &sub["trial_end"]),
        (&json!("trialing"), &json!(now + 10 * DAY))
    );
}

#[tokio::test]
async fn trial_parameters_are_validated_as_stripe_does() {
    let emu = Emu::start().await;
    let (_, monthly) = emu.product_and_price(SK_TEST, None, true, "100").await;
    let (_, once) = emu.product_and_price(SK_TEST, None, false, "100").await;
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64;
    let soon = (now + DAY).to_string();
    let later = (now + 10 * DAY).to_string();
    // Each: the extra parameters, the param Stripe names, its error code ("" for none).
    type Case<'a> = (Vec<(&'a str, &'a str)>, &'a str, &'a str);
    let cases: Vec<Case> = vec![
        (
            vec![("subscription_data[trial_period_days]", "0")],
            "subscription_data[trial_period_days]",
            "",
        ),
        (
            vec![("subscription_data[trial_period_days]", "731")],
            "subscription_data[trial_period_days]",
            "",
        ),
        (
            vec![("subscription_data[trial_period_days]", "two")],
            "subscription_data[trial_period_days]",
            "parameter_invalid_integer",
        ),
        (
            vec![
                ("subscription_data[trial_period_days]", "7"),
                ("subscription_data[trial_end]", &later),
            ],
            "subscription_data[trial_end]",
            "parameters_exclusive",
        ),
        (
            vec![("subscription_data[trial_end]", &soon)],
            "subscription_data[trial_end]",
            "",
        ),
        (
            vec![(
                "subscription_data[trial_settings][end_behavior][missing_payment_method]",
                "ignore",
            )],
            "subscription_data[trial_settings][end_behavior][missing_payment_method]",
            "",
        ),
        (
            vec![("subscription_data[trial_settings][end_behavior][other]", "x")],
            "subscription_data[trial_settings][end_behavior][other]",
            "parameter_unknown",
        ),
        (
            vec![("payment_method_collection", "never")],
            "payment_method_collection",
            "",
        ),
    ];
    for (extra, param, code) in cases {
        let mut params = vec![
            ("mode", "subscription"),
            ("line_items[0][price]", monthly.as_str()),
            ("line_items[0][quantity]", "1"),
        ];
        params.extend(extra.iter().copied());
        let (status, body) = emu.post("/v1/checkout/sessions", SK_TEST, &params).await;
        assert_eq!(
            (status, body["error"]["param"].as_str()),
            (400, Some(param)),
            "{extra:?}: {body}"
        );
        assert_eq!(
            body["error"]["code"].as_str().unwrap_or_default(),
            code,
            "{extra:?}: {body}"
        );
    }
    // Trials and payment-method collection belong to subscription mode.
    for (key, value, param) in [
        ("subscription_data[trial_period_days]", "7", "subscription_data"),
        ("payment_method_collection", "if_required", "payment_method_collection"),
    ] {
        let (status, body) = emu
            .post(
                "/v1/checkout/sessions",
                SK_TEST,
                &[
                    ("mode", "payment"),
                    ("line_items[0][price]", &once),
                    ("line_items[0][quantity]", "1"),
                    (key, value),
                ],
            )
            .await;
        assert_eq!((status, body["error"]["param"].as_str()), (400, Some(param)), "{body}");
    }
    // 730 days is the longest trial.
    let (status, body) = emu
        .post(
            "/v1/checkout/sessions",
            SK_TEST,
            &[
                ("mode", "subscription"),
                ("line_items[0][price]", &monthly),
                ("line_items[0][quantity]", "1"),
                ("subscription_data[trial_period_days]", "730"),
            ],
        )
        .await;
    assert_eq!(status, 200, "{body}");
}
