//! Checkout in both modes (controls and the hosted page), declines, expiry, and the life of
//! a subscription: update, cancel, renewals, failed renewals and the billing portal.

mod common;

use common::*;
use reqwest::Method;
use serde_json::{Value, json};

async fn session(emu: &Emu, account: Option<&str>, params: &[(&str, &str)]) -> Value {
    let (status, _, body) = emu
        .stripe(Method::POST, "/v1/checkout/sessions", SK_TEST, account, None, params)
        .await;
    assert_eq!(status, 200, "{body}");
    body
}

fn types(events: &[Value]) -> Vec<String> {
    events
        .iter()
        .map(|e| e["type"].as_str().unwrap_or_default().to_string())
        .collect()
}

async fn all_events(emu: &Emu, account: Option<&str>) -> Vec<Value> {
    let (_, _, list) = emu
        .stripe(Method::GET, "/v1/events", SK_TEST, account, None, &[("limit", "100")])
        .await;
    let mut events = list["data"].as_array().cloned().unwrap_or_default();
    events.reverse(); // oldest first
    events
}

#[tokio::test]
async fn subscription_checkout_completes_with_customer_subscription_invoice_and_events() {
    let emu = Emu::start().await;
    let account = emu.connect_account().await;
    let acct = Some(account.as_str());
    let (_, price) = emu.product_and_price(SK_TEST, acct, true, "1999").await;
    let cs = session(
        &emu,
        acct,
        &[
            ("mode", "subscription"),
            ("line_items[0][price]", &price),
            ("line_items[0][quantity]", "1"),
            ("customer_email", "buyer@example.com"),
            ("client_reference_id", "user_123"),
            ("metadata[publishableKey]", "pk_test_abc"),
            ("subscription_data[metadata][plan]", "pro"),
            ("success_url", "http://localhost:3000/ok?session={CHECKOUT_SESSION_ID}"),
            ("cancel_url", "http://localhost:3000/cancel"),
        ],
    )
    .await;
    let id = cs["id"].as_str().expect("id").to_string();
    assert!(id.starts_with("cs_test_"), "{id}");
    assert_eq!(
        (cs["status"].as_str(), cs["payment_status"].as_str()),
        (Some("open"), Some("unpaid"))
    );
    assert_eq!(cs["amount_total"], 1999);
    assert_eq!(cs["url"], format!("{}/checkout/{id}", emu.base));

    let (status, done) = emu
        .control(&format!("/_emulator/checkout/sessions/{id}/complete"), json!({}))
        .await;
    assert_eq!(status, 200, "{done}");
    assert_eq!(done["redirect_url"], format!("http://localhost:3000/ok?session={id}"));

    let (_, cs) = emu
        .get_as(
            &format!("/v1/checkout/sessions/{id}"),
            SK_TEST,
            &account,
            &[
                ("expand[]", "subscription"),
                ("expand[]", "customer"),
                ("expand[]", "line_items"),
            ],
        )
        .await;
    assert_eq!(
        (cs["status"].as_str(), cs["payment_status"].as_str()),
        (Some("complete"), Some("paid"))
    );
    assert!(cs["url"].is_null());
    assert_eq!(cs["customer_details"]["email"], "buyer@example.com");
    assert_eq!(cs["customer"]["email"], "buyer@example.com");
    assert_eq!(cs["line_items"]["data"][0]["price"]["id"], price.as_str());
    let sub = &cs["subscription"];
    assert_eq!(sub["status"], "active");
    assert_eq!(sub["metadata"], json!({"plan": "pro"}));
    let item = &sub["items"]["data"][0];
    let (start, end) = (
        item["current_period_start"].as_i64().expect("start"),
        item["current_period_end"].as_i64().expect("end"),
    );
    assert!(
        (28 * 86400..=31 * 86400).contains(&(end - start)),
        "a month: {start}..{end}"
    );
    assert_eq!(item["price"]["id"], price.as_str());

    let invoice_id = cs["invoice"].as_str().expect("invoice");
    let (_, invoice) = emu
        .get_as(&format!("/v1/invoices/{invoice_id}"), SK_TEST, &account, &[])
        .await;
    assert_eq!(
        (invoice["status"].as_str(), invoice["amount_paid"].as_i64()),
        (Some("paid"), Some(1999))
    );
    assert_eq!(invoice["billing_reason"], "subscription_create");
    assert_eq!(invoice["subscription"], sub["id"]);
    assert_eq!(sub["latest_invoice"], invoice_id);
    let (_, pis) = emu.get_as("/v1/payment_intents", SK_TEST, &account, &[]).await;
    assert_eq!(pis["data"][0]["status"], "succeeded");
    assert_eq!(pis["data"][0]["amount_received"], 1999);

    let events = all_events(&emu, acct).await;
    let kinds = types(&events);
    for expected in [
        "customer.created",
        "customer.subscription.created",
        "invoice.paid",
        "checkout.session.completed",
    ] {
        assert!(kinds.contains(&expected.to_string()), "{expected} in {kinds:?}");
    }
    let completed = events
        .iter()
        .find(|e| e["type"] == "checkout.session.completed")
        .expect("completed");
    assert_eq!(completed["account"], account.as_str());
    assert_eq!(completed["data"]["object"]["client_reference_id"], "user_123");
    assert_eq!(completed["data"]["object"]["metadata"]["publishableKey"], "pk_test_abc");
    assert!(
        completed["request"]["id"].is_null(),
        "caused by the buyer, not an API request"
    );
    // The platform's own event list does not see the connected account's events.
    assert!(
        all_events(&emu, None)
            .await
            .iter()
            .all(|e| e["type"] != "checkout.session.completed")
    );

    // Completing twice is refused.
    let (status, _) = emu
        .control(&format!("/_emulator/checkout/sessions/{id}/complete"), json!({}))
        .await;
    assert_eq!(status, 400);
}

#[tokio::test]
async fn payment_checkout_completes_without_a_customer_and_decline_leaves_it_open() {
    let emu = Emu::start().await;
    let (_, mug) = emu.product_and_price(SK_TEST, None, false, "1200").await;
    let (_, cap) = emu.product_and_price(SK_TEST, None, false, "800").await;
    let cs = session(
        &emu,
        None,
        &[
            ("mode", "payment"),
            ("line_items[0][price]", &mug),
            ("line_items[0][quantity]", "2"),
            ("line_items[1][price]", &cap),
            ("line_items[1][quantity]", "1"),
            ("payment_intent_data[metadata][order]", "42"),
            ("success_url", "http://localhost:3000/thanks"),
        ],
    )
    .await;
    let id = cs["id"].as_str().expect("id").to_string();
    assert_eq!(cs["amount_total"], 3200);
    assert_eq!(cs["customer_creation"], "if_required");

    // Declined: a card error, and the session is still open and unpaid.
    let (status, declined) = emu
        .control(&format!("/_emulator/checkout/sessions/{id}/decline"), json!({}))
        .await;
    assert_eq!(status, 402, "{declined}");
    assert_eq!(error_of(&declined), ("card_error", "card_declined"));
    assert_eq!(declined["error"]["decline_code"], "generic_decline");
    let (_, still) = emu.get(&format!("/v1/checkout/sessions/{id}"), SK_TEST, &[]).await;
    assert_eq!(
        (still["status"].as_str(), still["payment_status"].as_str()),
        (Some("open"), Some("unpaid"))
    );
    let (status, _) = emu
        .control(
            &format!("/_emulator/checkout/sessions/{id}/complete"),
            json!({"card": "4000 0000 0000 0002"}),
        )
        .await;
    assert_eq!(status, 402, "the decline card declines through complete too");

    let (status, done) = emu
        .control(
            &format!("/_emulator/checkout/sessions/{id}/complete"),
            json!({"email": "guest@example.com"}),
        )
        .await;
    assert_eq!(status, 200, "{done}");
    let cs = &done["session"];
    assert_eq!(cs["status"], "complete");
    assert!(cs["customer"].is_null(), "guest checkout creates no Customer");
    assert!(cs["subscription"].is_null());
    assert_eq!(cs["customer_details"]["email"], "guest@example.com");
    let pi = cs["payment_intent"].as_str().expect("payment intent");
    let (_, pi) = emu.get(&format!("/v1/payment_intents/{pi}"), SK_TEST, &[]).await;
    assert_eq!(
        (pi["status"].as_str(), pi["amount"].as_i64()),
        (Some("succeeded"), Some(3200))
    );
    assert_eq!(pi["metadata"], json!({"order": "42"}));
    let (_, items) = emu
        .get(&format!("/v1/checkout/sessions/{id}/line_items"), SK_TEST, &[])
        .await;
    let items = items["data"].as_array().expect("items");
    assert_eq!(items.len(), 2);
    assert_eq!(
        (items[0]["quantity"].as_i64(), items[0]["amount_total"].as_i64()),
        (Some(2), Some(2400))
    );
    assert_eq!(
        emu.events_of_type(SK_TEST, None, "checkout.session.completed")
            .await
            .len(),
        1
    );
    assert!(emu.events_of_type(SK_TEST, None, "customer.created").await.is_empty());
}

#[tokio::test]
async fn hosted_page_pays_and_redirects() {
    let emu = Emu::start().await;
    let (_, price) = emu.product_and_price(SK_TEST, None, true, "1500").await;
    let cs = session(
        &emu,
        None,
        &[
            ("mode", "subscription"),
            ("line_items[0][price]", &price),
            ("line_items[0][quantity]", "1"),
            ("success_url", "http://localhost:5173/done?cs={CHECKOUT_SESSION_ID}"),
        ],
    )
    .await;
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
        page.contains("Pro") && page.contains("15.00 USD") && page.contains("name=\"card\""),
        "{page}"
    );

    let declined = emu
        .http
        .post(url)
        .form(&[("email", "p@example.com"), ("card", "4000 0000 0000 0002")])
        .send()
        .await
        .expect("pay");
    assert_eq!(declined.status().as_u16(), 402);
    assert!(declined.text().await.expect("html").contains("Your card was declined."));

    let paid = emu
        .http
        .post(url)
        .form(&[("email", "p@example.com"), ("card", "4242 4242 4242 4242")])
        .send()
        .await
        .expect("pay");
    assert_eq!(paid.status().as_u16(), 302);
    let id = cs["id"].as_str().expect("id");
    assert_eq!(
        paid.headers()["location"].to_str().expect("ascii"),
        format!("http://localhost:5173/done?cs={id}")
    );
    let (_, customers) = emu.get("/v1/customers", SK_TEST, &[("email", "p@example.com")]).await;
    assert_eq!(customers["data"].as_array().expect("data").len(), 1);
}

#[tokio::test]
async fn expire_validation_and_errors() {
    let emu = Emu::start().await;
    let (_, recurring) = emu.product_and_price(SK_TEST, None, true, "100").await;
    let (_, once) = emu.product_and_price(SK_TEST, None, false, "100").await;
    let cs = session(
        &emu,
        None,
        &[
            ("mode", "payment"),
            ("line_items[0][price]", &once),
            ("line_items[0][quantity]", "1"),
        ],
    )
    .await;
    let id = cs["id"].as_str().expect("id");
    let (status, expired) = emu
        .post(&format!("/v1/checkout/sessions/{id}/expire"), SK_TEST, &[])
        .await;
    assert_eq!(
        (status, expired["status"].as_str()),
        (200, Some("expired")),
        "{expired}"
    );
    assert_eq!(
        emu.events_of_type(SK_TEST, None, "checkout.session.expired")
            .await
            .len(),
        1
    );
    let (status, _) = emu
        .post(&format!("/v1/checkout/sessions/{id}/expire"), SK_TEST, &[])
        .await;
    assert_eq!(status, 400, "only open sessions expire");
    let (status, _) = emu
        .control(&format!("/_emulator/checkout/sessions/{id}/complete"), json!({}))
        .await;
    assert_eq!(status, 400, "an expired session cannot be paid");

    let (status, body) = emu
        .post(
            "/v1/checkout/sessions",
            SK_TEST,
            &[
                ("mode", "payment"),
                ("line_items[0][price]", &recurring),
                ("line_items[0][quantity]", "1"),
            ],
        )
        .await;
    assert_eq!(
        (status, body["error"]["param"].as_str()),
        (400, Some("line_items[0][price]")),
        "{body}"
    );
    let (status, body) = emu
        .post(
            "/v1/checkout/sessions",
            SK_TEST,
            &[("mode", "subscription"), ("line_items[0][price]", &recurring)],
        )
        .await;
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (400, Some("parameter_missing")),
        "{body}"
    );
    let (status, body) = emu
        .post(
            "/v1/checkout/sessions",
            SK_TEST,
            &[
                ("mode", "payment"),
                ("line_items[0][price]", &once),
                ("line_items[0][quantity]", "1"),
                ("customer", "cus_x"),
                ("customer_email", "a@b.co"),
            ],
        )
        .await;
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (400, Some("parameters_exclusive"))
    );

    // `ui_mode` follows the caller's version: 2026-03-25.dahlia renamed `hosted` to
    // `hosted_page` and refuses the old name. Objects keep the emulator's own version's shape.
    for (version, ui_mode, expected) in [
        ("2025-09-30.clover", "hosted", 200),
        ("2025-09-30.clover", "hosted_page", 400),
        ("2026-09-30.endive", "hosted_page", 200),
        ("2026-09-30.endive", "hosted", 400),
    ] {
        let resp = emu
            .http
            .post(emu.url("/v1/checkout/sessions"))
            .bearer_auth(SK_TEST)
            .header("Stripe-Version", version)
            .form(&[
                ("mode", "payment"),
                ("line_items[0][price]", once.as_str()),
                ("line_items[0][quantity]", "1"),
                ("ui_mode", ui_mode),
            ])
            .send()
            .await
            .expect("sent");
        let status = resp.status().as_u16();
        let body: Value = resp.json().await.expect("json");
        assert_eq!(status, expected, "{version} ui_mode={ui_mode}: {body}");
        if status == 200 {
            assert_eq!(body["ui_mode"], "hosted_page");
        } else {
            assert_eq!(body["error"]["param"], "ui_mode");
        }
    }
}

/// A subscription (and its customer) made through a completed checkout.
async fn subscribed(emu: &Emu, amount: &str) -> (String, String) {
    let (_, price) = emu.product_and_price(SK_TEST, None, true, amount).await;
    let cs = session(
        emu,
        None,
        &[
            ("mode", "subscription"),
            ("line_items[0][price]", &price),
            ("line_items[0][quantity]", "1"),
            ("customer_email", "s@example.com"),
        ],
    )
    .await;
    let id = cs["id"].as_str().expect("id");
    let (_, done) = emu
        .control(&format!("/_emulator/checkout/sessions/{id}/complete"), json!({}))
        .await;
    (
        done["session"]["subscription"].as_str().expect("sub").to_string(),
        price,
    )
}

#[tokio::test]
async fn subscription_update_cancel_advance_and_fail_renewal() {
    let emu = Emu::start().await;
    let (sub, _) = subscribed(&emu, "1000").await;
    let (_, original) = emu.get(&format!("/v1/subscriptions/{sub}"), SK_TEST, &[]).await;
    let item = original["items"]["data"][0]["id"].as_str().expect("si").to_string();
    let period_end = original["items"]["data"][0]["current_period_end"]
        .as_i64()
        .expect("end");

    // Cancel at period end, then undo.
    let (_, canceling) = emu
        .post(
            &format!("/v1/subscriptions/{sub}"),
            SK_TEST,
            &[("cancel_at_period_end", "true")],
        )
        .await;
    assert_eq!(
        (
            canceling["cancel_at_period_end"].as_bool(),
            canceling["cancel_at"].as_i64()
        ),
        (Some(true), Some(period_end))
    );
    assert_eq!(canceling["status"], "active");
    let (_, resumed) = emu
        .post(
            &format!("/v1/subscriptions/{sub}"),
            SK_TEST,
            &[("cancel_at_period_end", "false")],
        )
        .await;
    assert_eq!(
        (
            resumed["cancel_at_period_end"].as_bool(),
            resumed["cancel_at"].is_null()
        ),
        (Some(false), true)
    );
    let updates = emu.events_of_type(SK_TEST, None, "customer.subscription.updated").await;
    assert_eq!(updates.len(), 2);
    assert_eq!(updates[0]["data"]["previous_attributes"]["cancel_at_period_end"], true);

    // Price change keeps the item id.
    let (_, (_, pricier)) = (0, emu.product_and_price(SK_TEST, None, true, "2500").await);
    let (status, changed) = emu
        .post(
            &format!("/v1/subscriptions/{sub}"),
            SK_TEST,
            &[("items[0][id]", &item), ("items[0][price]", &pricier)],
        )
        .await;
    assert_eq!(status, 200, "{changed}");
    assert_eq!(changed["items"]["data"][0]["id"], item.as_str());
    assert_eq!(changed["items"]["data"][0]["price"]["id"], pricier.as_str());
    let (status, bad) = emu
        .post(
            &format!("/v1/subscriptions/{sub}"),
            SK_TEST,
            &[("items[0][id]", "si_nope"), ("items[0][price]", &pricier)],
        )
        .await;
    assert_eq!(status, 400, "{bad}");

    // Renewal: a new period, a paid invoice, invoice.paid then customer.subscription.updated.
    let (status, renewed) = emu
        .control(&format!("/_emulator/subscriptions/{sub}/advance"), json!({}))
        .await;
    assert_eq!(status, 200, "{renewed}");
    let new_start = renewed["items"]["data"][0]["current_period_start"]
        .as_i64()
        .expect("start");
    assert_eq!(new_start, period_end, "the next period starts where the last ended");
    let invoice_id = renewed["latest_invoice"].as_str().expect("invoice");
    let (_, invoice) = emu.get(&format!("/v1/invoices/{invoice_id}"), SK_TEST, &[]).await;
    assert_eq!(
        (
            invoice["status"].as_str(),
            invoice["billing_reason"].as_str(),
            invoice["amount_paid"].as_i64()
        ),
        (Some("paid"), Some("subscription_cycle"), Some(2500))
    );
    let kinds = types(&all_events(&emu, None).await);
    let paid_at = kinds.iter().rposition(|k| k == "invoice.paid").expect("invoice.paid");
    let updated_at = kinds
        .iter()
        .rposition(|k| k == "customer.subscription.updated")
        .expect("updated");
    assert!(paid_at < updated_at, "{kinds:?}");

    // A failed renewal: past_due, an open invoice, invoice.payment_failed.
    let (_, failed) = emu
        .control(&format!("/_emulator/subscriptions/{sub}/fail_renewal"), json!({}))
        .await;
    assert_eq!(failed["status"], "past_due");
    let failed_invoice = failed["latest_invoice"].as_str().expect("invoice");
    let (_, invoice) = emu.get(&format!("/v1/invoices/{failed_invoice}"), SK_TEST, &[]).await;
    assert_eq!(
        (invoice["status"].as_str(), invoice["amount_paid"].as_i64()),
        (Some("open"), Some(0))
    );
    assert_eq!(
        emu.events_of_type(SK_TEST, None, "invoice.payment_failed").await.len(),
        1
    );
    let (_, past_due) = emu.get("/v1/subscriptions", SK_TEST, &[("status", "past_due")]).await;
    assert_eq!(past_due["data"].as_array().expect("data").len(), 1);
    // Advancing a past_due subscription pays its open invoice.
    let (_, recovered) = emu
        .control(&format!("/_emulator/subscriptions/{sub}/advance"), json!({}))
        .await;
    assert_eq!(
        (recovered["status"].as_str(), recovered["latest_invoice"].as_str()),
        (Some("active"), Some(failed_invoice))
    );

    // Cancel now.
    let (status, canceled) = emu.delete(&format!("/v1/subscriptions/{sub}"), SK_TEST).await;
    assert_eq!((status, canceled["status"].as_str()), (200, Some("canceled")));
    assert!(canceled["ended_at"].is_i64());
    assert_eq!(
        emu.events_of_type(SK_TEST, None, "customer.subscription.deleted")
            .await
            .len(),
        1
    );
    let (_, listed) = emu.get("/v1/subscriptions", SK_TEST, &[]).await;
    assert!(
        listed["data"].as_array().expect("data").is_empty(),
        "canceled subscriptions are not listed by default"
    );
    let (status, _) = emu
        .control(&format!("/_emulator/subscriptions/{sub}/advance"), json!({}))
        .await;
    assert_eq!(status, 400);
}

#[tokio::test]
async fn advancing_a_subscription_set_to_cancel_ends_it() {
    let emu = Emu::start().await;
    let (sub, _) = subscribed(&emu, "1000").await;
    emu.post(
        &format!("/v1/subscriptions/{sub}"),
        SK_TEST,
        &[("cancel_at_period_end", "true")],
    )
    .await;
    let (_, ended) = emu
        .control(&format!("/_emulator/subscriptions/{sub}/advance"), json!({}))
        .await;
    assert_eq!(ended["status"], "canceled");
    assert_eq!(
        emu.events_of_type(SK_TEST, None, "customer.subscription.deleted")
            .await
            .len(),
        1
    );
}

#[tokio::test]
async fn a_subscription_can_end_on_a_test_clock_in_the_past_with_its_webhook_now() {
    let emu = Emu::start().await;
    let (sub, _) = subscribed(&emu, "1000").await;
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64;
    let path = format!("/_emulator/subscriptions/{sub}/end_at");
    let (status, refused) = emu.control(&path, json!({"endedAt": now + 3600})).await;
    assert_eq!(status, 400, "not in the future: {refused}");
    let ended_at = now - 15 * 86_400;
    let (status, ended) = emu.control(&path, json!({"endedAt": ended_at})).await;
    assert_eq!(status, 200, "{ended}");
    assert_eq!(
        (&ended["status"], &ended["ended_at"], &ended["canceled_at"]),
        (&json!("canceled"), &json!(ended_at), &json!(ended_at))
    );
    let events = emu.events_of_type(SK_TEST, None, "customer.subscription.deleted").await;
    assert_eq!(events.len(), 1);
    assert!(
        events[0]["created"].as_i64().unwrap() >= now,
        "delivered now, not back then"
    );
    let (status, _) = emu.control(&path, json!({"endedAt": ended_at})).await;
    assert_eq!(status, 400, "a canceled subscription cannot end again");
}

#[tokio::test]
async fn billing_portal_lists_and_changes_subscriptions() {
    let emu = Emu::start().await;
    let (sub, _) = subscribed(&emu, "1000").await;
    let (_, subscription) = emu.get(&format!("/v1/subscriptions/{sub}"), SK_TEST, &[]).await;
    let customer = subscription["customer"].as_str().expect("customer");
    let (status, portal) = emu
        .post(
            "/v1/billing_portal/sessions",
            SK_TEST,
            &[("customer", customer), ("return_url", "http://localhost:5173/account")],
        )
        .await;
    assert_eq!(status, 200, "{portal}");
    assert!(portal["id"].as_str().expect("id").starts_with("bps_"));
    assert_eq!(portal["object"], "billing_portal.session");
    let url = portal["url"].as_str().expect("url").to_string();
    let html = emu
        .http
        .get(&url)
        .send()
        .await
        .expect("page")
        .text()
        .await
        .expect("html");
    assert!(html.contains(&sub) && html.contains("Cancel at period end"), "{html}");

    let act = |action: &'static str| {
        let (http, url, sub) = (emu.http.clone(), url.clone(), sub.clone());
        async move {
            http.post(format!("{url}/subscriptions/{sub}/{action}"))
                .send()
                .await
                .expect("action")
                .status()
                .as_u16()
        }
    };
    assert_eq!(act("cancel_at_period_end").await, 303);
    let (_, s) = emu.get(&format!("/v1/subscriptions/{sub}"), SK_TEST, &[]).await;
    assert_eq!(s["cancel_at_period_end"], true);
    assert_eq!(act("resume").await, 303);
    let (_, s) = emu.get(&format!("/v1/subscriptions/{sub}"), SK_TEST, &[]).await;
    assert_eq!(s["cancel_at_period_end"], false);
    assert_eq!(act("cancel_now").await, 303);
    let (_, s) = emu.get(&format!("/v1/subscriptions/{sub}"), SK_TEST, &[]).await;
    assert_eq!(s["status"], "canceled");

    let (status, _) = emu
        .post("/v1/billing_portal/sessions", SK_TEST, &[("customer", "cus_nope")])
        .await;
    assert_eq!(status, 400);
}
