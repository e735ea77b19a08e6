//! The discounts coupons and promotion codes make through Checkout: on the session's totals
//! and line items, on the subscription (its `discounts` ids, expanded to discount objects),
//! and on every invoice they apply to (`once`, `repeating`, `forever`), in both modes, typed
//! on the hosted page or given at creation; and the codes Checkout refuses. Their own API is
//! `coupons.rs`.

mod common;

use common::*;
use serde_json::{Value, json};

async fn post(emu: &Emu, path: &str, params: &[(&str, &str)]) -> Value {
    let (status, body) = emu.post(path, SK_TEST, params).await;
    assert_eq!(status, 200, "{path} {params:?}: {body}");
    body
}

async fn get(emu: &Emu, path: &str, params: &[(&str, &str)]) -> Value {
    let (status, body) = emu.get(path, SK_TEST, params).await;
    assert_eq!(status, 200, "{path}: {body}");
    body
}

/// The error's (status, param, code), code "" when it has none.
fn refusal(status: u16, body: &Value) -> (u16, String, String) {
    (
        status,
        body["error"]["param"].as_str().unwrap_or_default().to_string(),
        body["error"]["code"].as_str().unwrap_or_default().to_string(),
    )
}

fn refused(status: u16, param: &str, code: &str) -> (u16, String, String) {
    (status, param.to_string(), code.to_string())
}

/// A subscription checkout of one unit of `price` with `extra` parameters.
async fn subscription_session(emu: &Emu, price: &str, extra: &[(&str, &str)]) -> (u16, Value) {
    let mut params = vec![
        ("mode", "subscription"),
        ("line_items[0][price]", price),
        ("line_items[0][quantity]", "1"),
        ("customer_email", "buyer@example.com"),
    ];
    params.extend_from_slice(extra);
    emu.post("/v1/checkout/sessions", SK_TEST, &params).await
}

async fn complete(emu: &Emu, session: &Value, body: Value) -> (u16, Value) {
    let id = session["id"].as_str().expect("session id");
    emu.control(&format!("/_emulator/checkout/sessions/{id}/complete"), body)
        .await
}

async fn advance(emu: &Emu, sub: &str) -> Value {
    let (status, body) = emu
        .control(&format!("/_emulator/subscriptions/{sub}/advance"), json!({}))
        .await;
    assert_eq!(status, 200, "{body}");
    body
}

async fn latest_invoice(emu: &Emu, sub: &Value) -> Value {
    let id = sub["latest_invoice"].as_str().expect("latest_invoice");
    get(emu, &format!("/v1/invoices/{id}"), &[]).await
}

#[tokio::test]
async fn a_forever_promotion_code_lowers_the_first_invoice_and_every_renewal() {
    let emu = Emu::start().await;
    let (_, price) = emu.product_and_price(SK_TEST, None, true, "2500").await;
    post(
        &emu,
        "/v1/coupons",
        &[("id", "TWENTY"), ("percent_off", "20"), ("duration", "forever")],
    )
    .await;
    let promo = post(&emu, "/v1/promotion_codes", &[("coupon", "TWENTY"), ("code", "SAVE20")]).await;
    let promo_id = promo["id"].as_str().expect("id");

    let (status, cs) = subscription_session(&emu, &price, &[("allow_promotion_codes", "true")]).await;
    assert_eq!(status, 200, "{cs}");
    assert_eq!(
        (&cs["allow_promotion_codes"], &cs["amount_total"]),
        (&json!(true), &json!(2500))
    );
    // The buyer types the code (in any case) as they pay.
    let (status, done) = complete(&emu, &cs, json!({"promotion_code": "save20"})).await;
    assert_eq!(status, 200, "{done}");
    let session = &done["session"];
    assert_eq!(
        (
            &session["amount_subtotal"],
            &session["amount_total"],
            &session["total_details"]["amount_discount"]
        ),
        (&json!(2500), &json!(2000), &json!(500))
    );
    assert_eq!(
        session["discounts"],
        json!([{"coupon": "TWENTY", "promotion_code": promo_id}])
    );
    let items = get(
        &emu,
        &format!(
            "/v1/checkout/sessions/{}/line_items",
            session["id"].as_str().expect("id")
        ),
        &[],
    )
    .await;
    assert_eq!(
        (&items["data"][0]["amount_discount"], &items["data"][0]["amount_total"]),
        (&json!(500), &json!(2000))
    );

    // The subscription names its discount; expanded, the discount object.
    let sub_id = session["subscription"].as_str().expect("subscription").to_string();
    let sub = get(&emu, &format!("/v1/subscriptions/{sub_id}"), &[]).await;
    let discount_id = sub["discounts"][0].as_str().expect("a discount id").to_string();
    assert!(discount_id.starts_with("di_"), "{sub}");
    let expanded = get(
        &emu,
        &format!("/v1/subscriptions/{sub_id}"),
        &[("expand[]", "discounts")],
    )
    .await;
    let discount = &expanded["discounts"][0];
    assert_eq!(
        (
            &discount["id"],
            &discount["object"],
            &discount["source"],
            &discount["promotion_code"],
            &discount["subscription"],
            &discount["customer"],
            &discount["end"],
            &discount["checkout_session"]
        ),
        (
            &json!(discount_id),
            &json!("discount"),
            &json!({"coupon": "TWENTY", "type": "coupon"}),
            &json!(promo_id),
            &json!(sub_id),
            &sub["customer"],
            &Value::Null,
            &Value::Null
        )
    );
    assert!(discount["start"].is_i64());
    // On lists too, and through to the coupon.
    let listed = get(
        &emu,
        "/v1/subscriptions",
        &[
            ("expand[]", "data.discounts"),
            ("expand[]", "data.discounts.source.coupon"),
        ],
    )
    .await;
    assert_eq!(
        listed["data"][0]["discounts"][0]["source"]["coupon"]["percent_off"],
        20.0
    );

    // The first invoice: 2500 less 20 %, on the invoice and its line.
    let first = get(
        &emu,
        &format!("/v1/invoices/{}", session["invoice"].as_str().expect("invoice")),
        &[],
    )
    .await;
    assert_eq!(
        (&first["subtotal"], &first["total"], &first["amount_paid"]),
        (&json!(2500), &json!(2000), &json!(2000))
    );
    assert_eq!(first["discounts"], json!([discount_id]));
    assert_eq!(
        first["total_discount_amounts"],
        json!([{"amount": 500, "discount": discount_id}])
    );
    let line = &first["lines"]["data"][0];
    assert_eq!(
        (&line["amount"], &line["discount_amounts"]),
        (&json!(2500), &json!([{"amount": 500, "discount": discount_id}]))
    );
    let (_, pis) = emu.get("/v1/payment_intents", SK_TEST, &[]).await;
    assert_eq!(pis["data"][0]["amount"], 2000);
    let with_discount = get(
        &emu,
        &format!("/v1/invoices/{}", first["id"].as_str().expect("id")),
        &[("expand[]", "total_discount_amounts.discount")],
    )
    .await;
    assert_eq!(
        with_discount["total_discount_amounts"][0]["discount"]["id"],
        discount_id.as_str()
    );

    // Redeemed once: the coupon and the code count it.
    assert_eq!(get(&emu, "/v1/coupons/TWENTY", &[]).await["times_redeemed"], 1);
    assert_eq!(
        get(&emu, &format!("/v1/promotion_codes/{promo_id}"), &[]).await["times_redeemed"],
        1
    );

    // Every renewal is discounted alike, and the discount stays.
    for _ in 0..2 {
        let renewed = advance(&emu, &sub_id).await;
        assert_eq!(renewed["discounts"], json!([discount_id]));
        let invoice = latest_invoice(&emu, &renewed).await;
        assert_eq!(
            (&invoice["billing_reason"], &invoice["total"], &invoice["amount_paid"]),
            (&json!("subscription_cycle"), &json!(2000), &json!(2000))
        );
        assert_eq!(invoice["total_discount_amounts"][0]["amount"], 500);
    }
}

#[tokio::test]
async fn a_once_coupon_discounts_only_the_first_invoice_and_a_repeating_one_its_months() {
    let emu = Emu::start().await;
    let (_, price) = emu.product_and_price(SK_TEST, None, true, "2500").await;
    post(
        &emu,
        "/v1/coupons",
        &[
            ("id", "WELCOME"),
            ("amount_off", "1000"),
            ("currency", "usd"),
            ("duration", "once"),
        ],
    )
    .await;
    let (status, cs) = subscription_session(&emu, &price, &[("discounts[0][coupon]", "WELCOME")]).await;
    assert_eq!(status, 200, "{cs}");
    assert_eq!(
        (&cs["amount_total"], &cs["discounts"]),
        (&json!(1500), &json!([{"coupon": "WELCOME", "promotion_code": null}]))
    );
    let (status, done) = complete(&emu, &cs, json!({})).await;
    assert_eq!(status, 200, "{done}");
    let sub_id = done["session"]["subscription"]
        .as_str()
        .expect("subscription")
        .to_string();
    let sub = get(&emu, &format!("/v1/subscriptions/{sub_id}"), &[]).await;
    assert_eq!(latest_invoice(&emu, &sub).await["total"], 1500);
    let discount_id = sub["discounts"][0].clone();

    // The next invoice is in full, and the used discount leaves the subscription.
    let renewed = advance(&emu, &sub_id).await;
    let invoice = latest_invoice(&emu, &renewed).await;
    assert_eq!(
        (
            &invoice["total"],
            &invoice["discounts"],
            &invoice["total_discount_amounts"]
        ),
        (&json!(2500), &json!([]), &json!([]))
    );
    assert_eq!(renewed["discounts"], json!([]));
    let updates = emu.events_of_type(SK_TEST, None, "customer.subscription.updated").await;
    assert_eq!(
        updates[0]["data"]["previous_attributes"]["discounts"],
        json!([discount_id])
    );

    // Half off for two months: two discounted invoices, then the full price.
    post(
        &emu,
        "/v1/coupons",
        &[
            ("id", "HALF2"),
            ("percent_off", "50"),
            ("duration", "repeating"),
            ("duration_in_months", "2"),
        ],
    )
    .await;
    let (_, cs) = subscription_session(&emu, &price, &[("discounts[0][coupon]", "HALF2")]).await;
    let (_, done) = complete(&emu, &cs, json!({})).await;
    let sub_id = done["session"]["subscription"]
        .as_str()
        .expect("subscription")
        .to_string();
    let expanded = get(
        &emu,
        &format!("/v1/subscriptions/{sub_id}"),
        &[("expand[]", "discounts")],
    )
    .await;
    let discount = &expanded["discounts"][0];
    assert_eq!(
        discount["end"].as_i64(),
        discount["start"].as_i64().map(|s| emulator::time::add_months(s, 2))
    );
    let mut totals = vec![latest_invoice(&emu, &expanded).await["total"].as_i64()];
    for _ in 0..3 {
        let renewed = advance(&emu, &sub_id).await;
        totals.push(latest_invoice(&emu, &renewed).await["total"].as_i64());
    }
    assert_eq!(totals, [Some(1250), Some(1250), Some(2500), Some(2500)]);
}

#[tokio::test]
async fn exhausted_inactive_and_restricted_codes_are_refused() {
    let emu = Emu::start().await;
    let (_, price) = emu.product_and_price(SK_TEST, None, true, "1000").await;
    post(
        &emu,
        "/v1/coupons",
        &[("id", "ONLYONE"), ("percent_off", "10"), ("max_redemptions", "1")],
    )
    .await;
    post(
        &emu,
        "/v1/coupons",
        &[("id", "TEN"), ("percent_off", "10"), ("duration", "forever")],
    )
    .await;
    let single = post(
        &emu,
        "/v1/promotion_codes",
        &[("coupon", "TEN"), ("code", "SINGLE"), ("max_redemptions", "1")],
    )
    .await;
    let single_id = single["id"].as_str().expect("id");

    // Two sessions with the code; the first to complete uses it up.
    let param = [("discounts[0][promotion_code]", single_id)];
    let (_, first) = subscription_session(&emu, &price, &param).await;
    let (_, second) = subscription_session(&emu, &price, &param).await;
    let (status, _) = complete(&emu, &first, json!({})).await;
    assert_eq!(status, 200);
    let exhausted = get(&emu, &format!("/v1/promotion_codes/{single_id}"), &[]).await;
    assert_eq!(
        (&exhausted["times_redeemed"], &exhausted["active"]),
        (&json!(1), &json!(true))
    );
    let (status, body) = complete(&emu, &second, json!({})).await;
    assert_eq!(
        refusal(status, &body),
        refused(400, "discounts[0][promotion_code]", ""),
        "{body}"
    );
    let still = get(
        &emu,
        &format!("/v1/checkout/sessions/{}", second["id"].as_str().expect("id")),
        &[],
    )
    .await;
    assert_eq!(still["status"], "open");
    let (status, body) = subscription_session(&emu, &price, &param).await;
    assert_eq!(
        refusal(status, &body),
        refused(400, "discounts[0][promotion_code]", ""),
        "{body}"
    );
    // Typed on a session that takes codes, the same.
    let (_, open) = subscription_session(&emu, &price, &[("allow_promotion_codes", "true")]).await;
    let (status, body) = complete(&emu, &open, json!({"promotion_code": "SINGLE"})).await;
    assert_eq!(refusal(status, &body), refused(400, "promotion_code", ""), "{body}");

    // A coupon redeemed its maximum number of times is no longer valid.
    let (_, cs) = subscription_session(&emu, &price, &[("discounts[0][coupon]", "ONLYONE")]).await;
    let (status, _) = complete(&emu, &cs, json!({})).await;
    assert_eq!(status, 200);
    assert_eq!(get(&emu, "/v1/coupons/ONLYONE", &[]).await["valid"], false);
    let (status, body) = subscription_session(&emu, &price, &[("discounts[0][coupon]", "ONLYONE")]).await;
    assert_eq!(
        refusal(status, &body),
        refused(400, "discounts[0][coupon]", "coupon_expired"),
        "{body}"
    );

    // An inactive or unknown code is "invalid", as Stripe's page says.
    let paused = post(&emu, "/v1/promotion_codes", &[("coupon", "TEN"), ("code", "PAUSED")]).await;
    post(
        &emu,
        &format!("/v1/promotion_codes/{}", paused["id"].as_str().expect("id")),
        &[("active", "false")],
    )
    .await;
    for code in ["PAUSED", "NOSUCH"] {
        let (status, body) = complete(&emu, &open, json!({"promotion_code": code})).await;
        assert_eq!(refusal(status, &body), refused(400, "promotion_code", ""), "{body}");
        assert_eq!(body["error"]["message"], "This code is invalid.");
    }
    // A code on a session that takes none.
    let (_, plain) = subscription_session(&emu, &price, &[]).await;
    let (status, body) = complete(&emu, &plain, json!({"promotion_code": "SINGLE"})).await;
    assert_eq!(refusal(status, &body), refused(400, "promotion_code", ""), "{body}");

    // First-time-only codes: refused to a customer who has paid before.
    let first_time = post(
        &emu,
        "/v1/promotion_codes",
        &[
            ("coupon", "TEN"),
            ("code", "NEWHERE"),
            ("restrictions[first_time_transaction]", "true"),
        ],
    )
    .await;
    let sub = get(&emu, "/v1/subscriptions", &[]).await;
    let customer = sub["data"][0]["customer"].as_str().expect("customer");
    let (status, body) = emu
        .post(
            "/v1/checkout/sessions",
            SK_TEST,
            &[
                ("mode", "subscription"),
                ("line_items[0][price]", &price),
                ("line_items[0][quantity]", "1"),
                ("customer", customer),
                ("discounts[0][promotion_code]", first_time["id"].as_str().expect("id")),
            ],
        )
        .await;
    assert_eq!(refusal(status, &body), refused(400, "discounts[0][promotion_code]", ""));
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap_or_default()
            .contains("prior transactions")
    );
    // A new customer may use it.
    let (status, body) = subscription_session(
        &emu,
        &price,
        &[("discounts[0][promotion_code]", first_time["id"].as_str().expect("id"))],
    )
    .await;
    assert_eq!(status, 200, "{body}");

    // Parameters Stripe refuses together.
    for (params, expected) in [
        (
            vec![("allow_promotion_codes", "true"), ("discounts[0][coupon]", "TEN")],
            refused(400, "discounts", "parameters_exclusive"),
        ),
        (
            vec![
                ("discounts[0][coupon]", "TEN"),
                ("discounts[0][promotion_code]", single_id),
            ],
            refused(400, "discounts[0][promotion_code]", "parameters_exclusive"),
        ),
        (
            vec![("discounts[0][coupon]", "TEN"), ("discounts[1][coupon]", "TEN")],
            refused(400, "discounts", ""),
        ),
        (
            vec![("discounts[0][coupon]", "NOPE")],
            refused(400, "discounts[0][coupon]", "resource_missing"),
        ),
    ] {
        let (status, body) = subscription_session(&emu, &price, &params).await;
        assert_eq!(refusal(status, &body), expected, "{params:?}: {body}");
    }
    // An amount in another currency.
    post(
        &emu,
        "/v1/coupons",
        &[("id", "EUROS"), ("amount_off", "100"), ("currency", "eur")],
    )
    .await;
    let (status, body) = subscription_session(&emu, &price, &[("discounts[0][coupon]", "EUROS")]).await;
    assert_eq!(
        refusal(status, &body),
        refused(400, "discounts[0][coupon]", ""),
        "{body}"
    );
}

#[tokio::test]
async fn payment_mode_discounts_the_payment_and_a_full_discount_takes_no_card() {
    let emu = Emu::start().await;
    let (_, mug) = emu.product_and_price(SK_TEST, None, false, "1200").await;
    post(&emu, "/v1/coupons", &[("id", "QUARTER"), ("percent_off", "25")]).await;
    let (status, cs) = emu
        .post(
            "/v1/checkout/sessions",
            SK_TEST,
            &[
                ("mode", "payment"),
                ("line_items[0][price]", &mug),
                ("line_items[0][quantity]", "2"),
                ("discounts[0][coupon]", "QUARTER"),
            ],
        )
        .await;
    assert_eq!(status, 200, "{cs}");
    assert_eq!(
        (
            &cs["amount_subtotal"],
            &cs["amount_total"],
            &cs["total_details"]["amount_discount"]
        ),
        (&json!(2400), &json!(1800), &json!(600))
    );
    let (status, done) = complete(&emu, &cs, json!({"email": "g@example.com"})).await;
    assert_eq!(status, 200, "{done}");
    let pi = done["session"]["payment_intent"].as_str().expect("payment intent");
    assert_eq!(
        get(&emu, &format!("/v1/payment_intents/{pi}"), &[]).await["amount"],
        1800
    );
    assert_eq!(get(&emu, "/v1/coupons/QUARTER", &[]).await["times_redeemed"], 1);

    // 100 % off a payment: nothing to pay, no payment intent, no card.
    post(&emu, "/v1/coupons", &[("id", "FREE"), ("percent_off", "100")]).await;
    let (_, cs) = emu
        .post(
            "/v1/checkout/sessions",
            SK_TEST,
            &[
                ("mode", "payment"),
                ("line_items[0][price]", &mug),
                ("line_items[0][quantity]", "1"),
                ("discounts[0][coupon]", "FREE"),
            ],
        )
        .await;
    assert_eq!(cs["amount_total"], 0);
    let (status, done) = complete(&emu, &cs, json!({"email": "g@example.com"})).await;
    assert_eq!(status, 200, "{done}");
    assert_eq!(
        (&done["session"]["payment_status"], &done["session"]["payment_intent"]),
        (&json!("no_payment_required"), &Value::Null)
    );
}

#[tokio::test]
async fn codes_typed_on_the_hosted_page_and_discounts_with_a_trial() {
    let emu = Emu::start().await;
    let (_, price) = emu.product_and_price(SK_TEST, None, true, "3000").await;
    post(
        &emu,
        "/v1/coupons",
        &[("id", "FIRSTMONTH"), ("percent_off", "50"), ("duration", "once")],
    )
    .await;
    post(
        &emu,
        "/v1/promotion_codes",
        &[("coupon", "FIRSTMONTH"), ("code", "HALF")],
    )
    .await;

    // The page has a code field; the code applies as the buyer pays.
    let (_, cs) = subscription_session(&emu, &price, &[("allow_promotion_codes", "true")]).await;
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
    assert!(page.contains("name=\"promotion_code\""), "{page}");
    let unknown = emu
        .http
        .post(url)
        .form(&[("card", "4242 4242 4242 4242"), ("promotion_code", "WRONG")])
        .send()
        .await
        .expect("pay");
    assert_eq!(unknown.status().as_u16(), 400);
    assert!(unknown.text().await.expect("html").contains("This code is invalid."));
    let paid = emu
        .http
        .post(url)
        .form(&[("card", "4242 4242 4242 4242"), ("promotion_code", "half")])
        .send()
        .await
        .expect("pay");
    assert_eq!(paid.status().as_u16(), 200, "no success_url: the thank-you page");
    let session = get(
        &emu,
        &format!("/v1/checkout/sessions/{}", cs["id"].as_str().expect("id")),
        &[],
    )
    .await;
    assert_eq!(
        (&session["amount_total"], &session["status"]),
        (&json!(1500), &json!("complete"))
    );

    // A `once` coupon with a trial: the trial's $0 invoice does not use it up; the first paid
    // invoice does.
    let (_, cs) = subscription_session(
        &emu,
        &price,
        &[
            ("subscription_data[trial_period_days]", "7"),
            ("discounts[0][coupon]", "FIRSTMONTH"),
        ],
    )
    .await;
    assert_eq!(
        (&cs["amount_total"], &cs["total_details"]["amount_discount"]),
        (&json!(0), &json!(0))
    );
    let (_, done) = complete(&emu, &cs, json!({})).await;
    let sub_id = done["session"]["subscription"]
        .as_str()
        .expect("subscription")
        .to_string();
    let sub = get(&emu, &format!("/v1/subscriptions/{sub_id}"), &[]).await;
    let trial_invoice = latest_invoice(&emu, &sub).await;
    assert_eq!(
        (&trial_invoice["total"], &trial_invoice["discounts"]),
        (&json!(0), &json!([]))
    );
    let converted = advance(&emu, &sub_id).await;
    assert_eq!(latest_invoice(&emu, &converted).await["total"], 1500);
    let renewed = advance(&emu, &sub_id).await;
    assert_eq!(latest_invoice(&emu, &renewed).await["total"], 3000);

    // 100 % off forever with if_required: nothing is ever due, so no card is asked for.
    post(
        &emu,
        "/v1/coupons",
        &[("id", "ONUS"), ("percent_off", "100"), ("duration", "forever")],
    )
    .await;
    let (_, cs) = subscription_session(
        &emu,
        &price,
        &[
            ("payment_method_collection", "if_required"),
            ("discounts[0][coupon]", "ONUS"),
        ],
    )
    .await;
    let (status, done) = complete(&emu, &cs, json!({})).await;
    assert_eq!(status, 200, "{done}");
    assert_eq!(done["session"]["payment_status"], "no_payment_required");
    let sub_id = done["session"]["subscription"]
        .as_str()
        .expect("subscription")
        .to_string();
    let sub = get(&emu, &format!("/v1/subscriptions/{sub_id}"), &[]).await;
    assert_eq!(
        (&sub["status"], &sub["default_payment_method"]),
        (&json!("active"), &Value::Null)
    );
    let renewed = advance(&emu, &sub_id).await;
    let invoice = latest_invoice(&emu, &renewed).await;
    assert_eq!(
        (&renewed["status"], &invoice["total"], &invoice["status"]),
        (&json!("active"), &json!(0), &json!("paid"))
    );
}
