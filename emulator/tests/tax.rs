//! Stripe Tax in Checkout (`automatic_tax[enabled]=true`): the billing address taken on the
//! page or by the complete control, the tax on the session and its line items, saved onto the
//! customer and used for every invoice of the subscription (first, renewals, a trial's end),
//! exclusive and inclusive prices, discounts before tax, guest carts in payment mode, the tax
//! rate objects, and Stripe's refusals (an existing customer without an address, prices of
//! unspecified tax behavior, `tax_behavior` changed once set).

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

/// The error's (status, param, code), "" for what it lacks.
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

/// A price of `amount` (monthly if `recurring`) with `tax_behavior`, on a new product.
async fn price(emu: &Emu, amount: &str, recurring: bool, tax_behavior: &str) -> String {
    let product = post(emu, "/v1/products", &[("name", "Pro")]).await;
    let mut params = vec![
        ("product", product["id"].as_str().expect("id")),
        ("currency", "eur"),
        ("unit_amount", amount),
        ("tax_behavior", tax_behavior),
    ];
    if recurring {
        params.push(("recurring[interval]", "month"));
    }
    let price = post(emu, "/v1/prices", &params).await;
    assert_eq!(price["tax_behavior"], tax_behavior);
    price["id"].as_str().expect("id").to_string()
}

/// A subscription checkout of one `price` with automatic tax and `extra` parameters.
async fn taxed_subscription(emu: &Emu, price: &str, extra: &[(&str, &str)]) -> (u16, Value) {
    let mut params = vec![
        ("mode", "subscription"),
        ("line_items[0][price]", price),
        ("line_items[0][quantity]", "1"),
        ("automatic_tax[enabled]", "true"),
    ];
    params.extend_from_slice(extra);
    emu.post("/v1/checkout/sessions", SK_TEST, &params).await
}

async fn complete(emu: &Emu, session: &Value, body: Value) -> (u16, Value) {
    let id = session["id"].as_str().expect("session id");
    emu.control(&format!("/_emulator/checkout/sessions/{id}/complete"), body)
        .await
}

async fn completed(emu: &Emu, session: &Value, body: Value) -> Value {
    let (status, done) = complete(emu, session, body).await;
    assert_eq!(status, 200, "{done}");
    done["session"].clone()
}

async fn advance(emu: &Emu, sub: &str) -> Value {
    let (status, body) = emu
        .control(&format!("/_emulator/subscriptions/{sub}/advance"), json!({}))
        .await;
    assert_eq!(status, 200, "{body}");
    body
}

async fn latest_invoice(emu: &Emu, sub_id: &str) -> Value {
    let sub = get(emu, &format!("/v1/subscriptions/{sub_id}"), &[]).await;
    let id = sub["latest_invoice"].as_str().expect("latest_invoice");
    get(emu, &format!("/v1/invoices/{id}"), &[]).await
}

/// (subtotal, subtotal_excluding_tax, total_excluding_tax, total, amount_paid) of an invoice.
fn invoice_amounts(invoice: &Value) -> [i64; 5] {
    [
        "subtotal",
        "subtotal_excluding_tax",
        "total_excluding_tax",
        "total",
        "amount_paid",
    ]
    .map(|k| invoice[k].as_i64().unwrap_or_else(|| panic!("{k} of {invoice}")))
}

/// The one `total_taxes` entry of an invoice, checked against its one line's `taxes`, and
/// its tax rate id.
fn only_tax(invoice: &Value) -> (Value, String) {
    let totals = invoice["total_taxes"].as_array().expect("total_taxes");
    assert_eq!(totals.len(), 1, "{invoice}");
    let lines = invoice["lines"]["data"].as_array().expect("lines");
    assert_eq!(
        lines[0]["taxes"],
        json!([totals[0].clone()]),
        "the line's tax is the total's"
    );
    let rate = totals[0]["tax_rate_details"]["tax_rate"]
        .as_str()
        .expect("tax rate id")
        .to_string();
    assert!(rate.starts_with("txr_"), "{rate}");
    let mut entry = totals[0].clone();
    entry["tax_rate_details"] = Value::Null;
    (entry, rate)
}

fn tax_entry(amount: i64, behavior: &str, reason: &str, taxable: i64) -> Value {
    json!({
        "amount": amount,
        "tax_behavior": behavior,
        "tax_rate_details": null,
        "taxability_reason": reason,
        "taxable_amount": taxable,
        "type": "tax_rate_details",
    })
}

async fn payment_intent_amounts(emu: &Emu) -> Vec<i64> {
    let list = get(emu, "/v1/payment_intents", &[]).await;
    let mut amounts: Vec<i64> = (list["data"].as_array().expect("data").iter())
        .map(|p| p["amount"].as_i64().expect("amount"))
        .collect();
    amounts.reverse();
    amounts
}

#[tokio::test]
async fn a_german_subscription_is_taxed_at_checkout_on_its_invoices_and_at_renewal() {
    let emu = Emu::start().await;
    let price = price(&emu, "999", true, "exclusive").await;
    let (status, cs) = taxed_subscription(&emu, &price, &[("customer_email", "de@example.com")]).await;
    assert_eq!(status, 200, "{cs}");
    // No address yet: nothing taxed, and Stripe says what it waits for.
    assert_eq!(
        cs["automatic_tax"],
        json!({"enabled": true, "liability": {"type": "self"}, "provider": "stripe", "status": "requires_location_inputs"})
    );
    assert_eq!(
        (&cs["amount_total"], &cs["total_details"]["amount_tax"]),
        (&json!(999), &json!(0))
    );

    let session = completed(&emu, &cs, json!({"country": "de", "postal_code": "10115"})).await;
    assert_eq!(session["automatic_tax"]["status"], "complete");
    assert_eq!(
        (
            &session["amount_subtotal"],
            &session["total_details"]["amount_tax"],
            &session["amount_total"]
        ),
        (&json!(999), &json!(190), &json!(1189))
    );
    assert_eq!(
        session["customer_details"]["address"],
        json!({"city": null, "country": "DE", "line1": null, "line2": null, "postal_code": "10115", "state": null})
    );
    assert_eq!(session["customer_details"]["tax_exempt"], "none");
    let session_id = session["id"].as_str().expect("id");
    let items = get(&emu, &format!("/v1/checkout/sessions/{session_id}/line_items"), &[]).await;
    let item = &items["data"][0];
    assert_eq!(
        (&item["amount_subtotal"], &item["amount_tax"], &item["amount_total"]),
        (&json!(999), &json!(190), &json!(1189))
    );

    // The address is saved on the customer checkout created, for the invoices to come.
    let customer = get(
        &emu,
        &format!("/v1/customers/{}", session["customer"].as_str().expect("customer")),
        &[],
    )
    .await;
    assert_eq!(
        (&customer["address"]["country"], &customer["address"]["postal_code"]),
        (&json!("DE"), &json!("10115"))
    );
    let sub_id = session["subscription"].as_str().expect("subscription");
    let sub = get(&emu, &format!("/v1/subscriptions/{sub_id}"), &[]).await;
    assert_eq!(
        sub["automatic_tax"],
        json!({"disabled_reason": null, "enabled": true, "liability": {"type": "self"}})
    );

    let first = latest_invoice(&emu, sub_id).await;
    assert_eq!(first["id"], session["invoice"]);
    assert_eq!(invoice_amounts(&first), [999, 999, 999, 1189, 1189]);
    assert_eq!(first["amount_due"], 1189);
    assert_eq!(
        first["automatic_tax"],
        json!({"disabled_reason": null, "enabled": true, "liability": {"type": "self"}, "provider": "stripe", "status": "complete"})
    );
    assert_eq!(first["customer_address"]["country"], "DE");
    let (tax, rate_id) = only_tax(&first);
    assert_eq!(tax, tax_entry(190, "exclusive", "standard_rated", 999));
    assert_eq!(first["lines"]["data"][0]["amount"], 999);

    // The rate the tax names, by id and expanded in place.
    let rate = get(&emu, &format!("/v1/tax_rates/{rate_id}"), &[]).await;
    assert_eq!(
        (
            &rate["object"],
            &rate["country"],
            &rate["percentage"],
            &rate["effective_percentage"],
            &rate["inclusive"],
            &rate["display_name"],
            &rate["tax_type"],
            &rate["rate_type"]
        ),
        (
            &json!("tax_rate"),
            &json!("DE"),
            &json!(19),
            &json!(19),
            &json!(false),
            &json!("VAT"),
            &json!("vat"),
            &json!("percentage")
        )
    );
    let expanded = get(
        &emu,
        &format!("/v1/invoices/{}", first["id"].as_str().expect("id")),
        &[("expand[]", "total_taxes.tax_rate_details.tax_rate")],
    )
    .await;
    assert_eq!(
        expanded["total_taxes"][0]["tax_rate_details"]["tax_rate"]["id"],
        rate_id.as_str()
    );

    // Renewal: taxed the same from the saved address, with the same rate.
    advance(&emu, sub_id).await;
    let renewal = latest_invoice(&emu, sub_id).await;
    assert_ne!(renewal["id"], first["id"]);
    assert_eq!(renewal["billing_reason"], "subscription_cycle");
    assert_eq!(invoice_amounts(&renewal), [999, 999, 999, 1189, 1189]);
    let (tax, renewal_rate) = only_tax(&renewal);
    assert_eq!(
        (tax, renewal_rate),
        (tax_entry(190, "exclusive", "standard_rated", 999), rate_id)
    );
    // Each payment charges the invoice's total.
    assert_eq!(payment_intent_amounts(&emu).await, vec![1189, 1189]);
    let charges = get(&emu, "/v1/charges", &[]).await;
    assert_eq!(charges["data"][0]["amount"], 1189);
}

#[tokio::test]
async fn a_us_customer_pays_no_tax_where_the_account_is_not_registered() {
    let emu = Emu::start().await;
    let price = price(&emu, "999", true, "exclusive").await;
    let (_, cs) = taxed_subscription(&emu, &price, &[("customer_email", "us@example.com")]).await;
    // No country given: the control stands for a buyer in the US.
    let session = completed(&emu, &cs, json!({})).await;
    assert_eq!(session["customer_details"]["address"]["country"], "US");
    assert_eq!(session["automatic_tax"]["status"], "complete");
    assert_eq!(
        (&session["amount_total"], &session["total_details"]["amount_tax"]),
        (&json!(999), &json!(0))
    );
    let sub_id = session["subscription"].as_str().expect("subscription");
    let invoice = latest_invoice(&emu, sub_id).await;
    assert_eq!(invoice_amounts(&invoice), [999, 999, 999, 999, 999]);
    let (tax, rate_id) = only_tax(&invoice);
    assert_eq!(tax, tax_entry(0, "exclusive", "not_collecting", 0));
    let rate = get(&emu, &format!("/v1/tax_rates/{rate_id}"), &[]).await;
    assert_eq!(
        (
            &rate["country"],
            &rate["percentage"],
            &rate["tax_type"],
            &rate["rate_type"]
        ),
        (&json!("US"), &json!(0), &json!("sales_tax"), &Value::Null)
    );
    advance(&emu, sub_id).await;
    let renewal = latest_invoice(&emu, sub_id).await;
    assert_eq!(renewal["total"], 999);
    assert_eq!(only_tax(&renewal).0["taxability_reason"], "not_collecting");
    assert_eq!(payment_intent_amounts(&emu).await, vec![999, 999]);
}

#[tokio::test]
async fn an_inclusive_price_holds_its_tax() {
    let emu = Emu::start().await;
    let price = price(&emu, "999", true, "inclusive").await;
    let (_, cs) = taxed_subscription(&emu, &price, &[("customer_email", "incl@example.com")]).await;
    let session = completed(&emu, &cs, json!({"country": "DE"})).await;
    // 9.99 with 19 % in it: 1.60 of tax, nothing added.
    assert_eq!(
        (
            &session["amount_subtotal"],
            &session["total_details"]["amount_tax"],
            &session["amount_total"]
        ),
        (&json!(999), &json!(160), &json!(999))
    );
    let invoice = latest_invoice(&emu, session["subscription"].as_str().expect("sub")).await;
    assert_eq!(invoice_amounts(&invoice), [999, 839, 839, 999, 999]);
    let (tax, rate_id) = only_tax(&invoice);
    assert_eq!(tax, tax_entry(160, "inclusive", "standard_rated", 839));
    let rate = get(&emu, &format!("/v1/tax_rates/{rate_id}"), &[]).await;
    assert_eq!((&rate["inclusive"], &rate["percentage"]), (&json!(true), &json!(19)));
    assert_eq!(payment_intent_amounts(&emu).await, vec![999]);
}

#[tokio::test]
async fn a_guest_cart_in_payment_mode_is_taxed_per_line() {
    let emu = Emu::start().await;
    let exclusive = price(&emu, "1000", false, "exclusive").await;
    let inclusive = price(&emu, "500", false, "inclusive").await;
    let (status, cs) = emu
        .post(
            "/v1/checkout/sessions",
            SK_TEST,
            &[
                ("mode", "payment"),
                ("line_items[0][price]", &exclusive),
                ("line_items[0][quantity]", "2"),
                ("line_items[1][price]", &inclusive),
                ("line_items[1][quantity]", "1"),
                ("automatic_tax[enabled]", "true"),
                ("billing_address_collection", "required"),
            ],
        )
        .await;
    assert_eq!(status, 200, "{cs}");
    assert_eq!(cs["automatic_tax"]["status"], "requires_location_inputs");
    let session = completed(&emu, &cs, json!({"country": "FR", "email": "guest@example.com"})).await;
    // 20.00 + 20 % = 4.00 on top; 5.00 with 20 % in it = 0.83.
    assert_eq!(
        (
            &session["amount_subtotal"],
            &session["total_details"]["amount_tax"],
            &session["amount_total"]
        ),
        (&json!(2500), &json!(483), &json!(2900))
    );
    assert_eq!(
        (&session["customer"], &session["customer_details"]["address"]["country"]),
        (&Value::Null, &json!("FR"))
    );
    let id = session["id"].as_str().expect("id");
    let items = get(&emu, &format!("/v1/checkout/sessions/{id}/line_items"), &[]).await;
    let taxes: Vec<(i64, i64)> = (items["data"].as_array().expect("data").iter())
        .map(|i| {
            (
                i["amount_tax"].as_i64().expect("tax"),
                i["amount_total"].as_i64().expect("total"),
            )
        })
        .collect();
    assert_eq!(taxes, vec![(400, 2400), (83, 500)]);
    let pi = get(
        &emu,
        &format!(
            "/v1/payment_intents/{}",
            session["payment_intent"].as_str().expect("pi")
        ),
        &[],
    )
    .await;
    assert_eq!(pi["amount"], 2900);
}

#[tokio::test]
async fn tax_is_computed_on_the_discounted_amount() {
    let emu = Emu::start().await;
    let price = price(&emu, "999", true, "exclusive").await;
    post(
        &emu,
        "/v1/coupons",
        &[("id", "TWENTY"), ("percent_off", "20"), ("duration", "forever")],
    )
    .await;
    let (status, cs) = taxed_subscription(
        &emu,
        &price,
        &[
            ("customer_email", "promo@example.com"),
            ("discounts[0][coupon]", "TWENTY"),
        ],
    )
    .await;
    assert_eq!(status, 200, "{cs}");
    let session = completed(&emu, &cs, json!({"country": "DE"})).await;
    // 9.99 − 2.00 = 7.99, and 19 % of it: 1.52.
    assert_eq!(
        (
            &session["amount_subtotal"],
            &session["total_details"]["amount_discount"],
            &session["total_details"]["amount_tax"],
            &session["amount_total"]
        ),
        (&json!(999), &json!(200), &json!(152), &json!(951))
    );
    let sub_id = session["subscription"].as_str().expect("sub");
    let invoice = latest_invoice(&emu, sub_id).await;
    assert_eq!(invoice_amounts(&invoice), [999, 999, 799, 951, 951]);
    assert_eq!(only_tax(&invoice).0, tax_entry(152, "exclusive", "standard_rated", 799));
    advance(&emu, sub_id).await;
    assert_eq!(latest_invoice(&emu, sub_id).await["total"], 951);
    assert_eq!(payment_intent_amounts(&emu).await, vec![951, 951]);
}

#[tokio::test]
async fn a_trial_is_taxed_when_it_ends() {
    let emu = Emu::start().await;
    let price = price(&emu, "999", true, "exclusive").await;
    let (_, cs) = taxed_subscription(
        &emu,
        &price,
        &[
            ("customer_email", "trial@example.com"),
            ("subscription_data[trial_period_days]", "14"),
        ],
    )
    .await;
    let session = completed(&emu, &cs, json!({"country": "NL"})).await;
    assert_eq!(
        (&session["amount_total"], &session["total_details"]["amount_tax"]),
        (&json!(0), &json!(0))
    );
    let sub_id = session["subscription"].as_str().expect("sub");
    assert_eq!(latest_invoice(&emu, sub_id).await["total"], 0);
    advance(&emu, sub_id).await;
    let paid = latest_invoice(&emu, sub_id).await;
    // 21 % of 9.99 = 2.0979.
    assert_eq!(invoice_amounts(&paid), [999, 999, 999, 1209, 1209]);
    assert_eq!(only_tax(&paid).0, tax_entry(210, "exclusive", "standard_rated", 999));
}

#[tokio::test]
async fn an_existing_customer_needs_an_address_or_customer_update() {
    let emu = Emu::start().await;
    let price = price(&emu, "999", true, "exclusive").await;
    let customer = post(&emu, "/v1/customers", &[("email", "known@example.com")]).await;
    let customer_id = customer["id"].as_str().expect("id");

    // Stripe's refusal: no address on the customer, and none may be saved.
    let (status, body) = taxed_subscription(&emu, &price, &[("customer", customer_id)]).await;
    assert_eq!(
        refusal(status, &body),
        refused(400, "", "customer_tax_location_invalid")
    );
    assert!(
        body["error"]["message"].as_str().is_some_and(
            |m| m.starts_with("Automatic tax calculation in Checkout requires a valid address on the Customer.")
        ),
        "{body}"
    );
    let (status, body) = taxed_subscription(
        &emu,
        &price,
        &[("customer", customer_id), ("customer_update[address]", "never")],
    )
    .await;
    assert_eq!(
        refusal(status, &body),
        refused(400, "", "customer_tax_location_invalid")
    );
    // `customer_update` belongs with `customer` only, and takes auto or never.
    let (status, body) = taxed_subscription(
        &emu,
        &price,
        &[
            ("customer_email", "x@example.com"),
            ("customer_update[address]", "auto"),
        ],
    )
    .await;
    assert_eq!(refusal(status, &body), refused(400, "customer_update", ""));
    assert_eq!(
        body["error"]["message"],
        "`customer_update` can only be used with `customer`."
    );
    let (status, body) = taxed_subscription(
        &emu,
        &price,
        &[("customer", customer_id), ("customer_update[address]", "always")],
    )
    .await;
    assert_eq!(refusal(status, &body), refused(400, "customer_update[address]", ""));

    // With customer_update[address]=auto the address entered is taxed and saved.
    let (status, cs) = taxed_subscription(
        &emu,
        &price,
        &[
            ("customer", customer_id),
            ("customer_update[address]", "auto"),
            ("customer_update[name]", "auto"),
        ],
    )
    .await;
    assert_eq!(status, 200, "{cs}");
    let session = completed(
        &emu,
        &cs,
        json!({"country": "IE", "postal_code": "D02 X285", "name": "Siobhán Byrne"}),
    )
    .await;
    // 23 % of 9.99 = 2.2977.
    assert_eq!(session["amount_total"], 1229);
    assert_eq!(session["customer_details"]["name"], "Siobhán Byrne");
    let saved = get(&emu, &format!("/v1/customers/{customer_id}"), &[]).await;
    assert_eq!(
        (
            &saved["address"]["country"],
            &saved["address"]["postal_code"],
            &saved["name"]
        ),
        (&json!("IE"), &json!("D02 X285"), &json!("Siobhán Byrne"))
    );
    let updated = emu.events_of_type(SK_TEST, None, "customer.updated").await;
    let previous = updated[0]["data"]["previous_attributes"]
        .as_object()
        .expect("previous_attributes");
    assert_eq!(
        (previous.get("address"), previous.get("name")),
        (Some(&Value::Null), Some(&Value::Null))
    );
    let irish_sub = session["subscription"].as_str().expect("sub").to_string();
    let invoice = latest_invoice(&emu, &irish_sub).await;
    assert_eq!(
        (&invoice["total"], &invoice["customer_address"]["country"]),
        (&json!(1229), &json!("IE"))
    );

    // Now the customer has an address: a session without customer_update taxes it at once,
    // and its page asks for none.
    let (status, cs) = taxed_subscription(&emu, &price, &[("customer", customer_id)]).await;
    assert_eq!(status, 200, "{cs}");
    assert_eq!(cs["automatic_tax"]["status"], "complete");
    assert_eq!(
        (&cs["amount_total"], &cs["total_details"]["amount_tax"]),
        (&json!(1229), &json!(230))
    );
    let (status, body) = complete(&emu, &cs, json!({"country": "DE"})).await;
    assert_eq!(refusal(status, &body), refused(400, "country", ""));
    let session = completed(&emu, &cs, json!({})).await;
    assert_eq!(
        (
            &session["amount_total"],
            &session["customer_details"]["address"]["country"]
        ),
        (&json!(1229), &json!("IE"))
    );

    // Without an address any more, the next invoice is finalized untaxed, saying why.
    let cleared = post(&emu, &format!("/v1/customers/{customer_id}"), &[("address", "")]).await;
    assert_eq!(cleared["address"], Value::Null);
    advance(&emu, &irish_sub).await;
    let untaxed = latest_invoice(&emu, &irish_sub).await;
    assert_eq!(
        (
            &untaxed["total"],
            &untaxed["total_taxes"],
            &untaxed["automatic_tax"]["enabled"]
        ),
        (&json!(999), &json!([]), &json!(false))
    );
    assert_eq!(
        untaxed["automatic_tax"]["disabled_reason"],
        "finalization_requires_location_inputs"
    );

    // A customer given an address through the API needs no customer_update either.
    let located = post(
        &emu,
        "/v1/customers",
        &[
            ("email", "gb@example.com"),
            ("address[country]", "gb"),
            ("address[postal_code]", "SW1A 1AA"),
        ],
    )
    .await;
    assert_eq!(located["address"]["country"], "GB");
    let (status, cs) = taxed_subscription(&emu, &price, &[("customer", located["id"].as_str().expect("id"))]).await;
    assert_eq!(status, 200, "{cs}");
    assert_eq!(cs["amount_total"], 1199);
    let (status, body) = emu
        .post(
            "/v1/customers",
            SK_TEST,
            &[("email", "x@example.com"), ("address[country]", "Germany")],
        )
        .await;
    assert_eq!(refusal(status, &body), refused(400, "address[country]", ""));
}

#[tokio::test]
async fn refusals_of_automatic_tax_and_of_addresses() {
    let emu = Emu::start().await;
    let unspecified = price(&emu, "999", true, "unspecified").await;
    let exclusive = price(&emu, "999", true, "exclusive").await;
    // Neither the price nor the account (no default tax behavior) says how to tax it.
    let (status, body) = emu
        .post(
            "/v1/checkout/sessions",
            SK_TEST,
            &[
                ("mode", "subscription"),
                ("line_items[0][price]", &exclusive),
                ("line_items[0][quantity]", "1"),
                ("line_items[1][price]", &unspecified),
                ("line_items[1][quantity]", "1"),
                ("automatic_tax[enabled]", "true"),
                ("customer_email", "x@example.com"),
            ],
        )
        .await;
    assert_eq!(refusal(status, &body), refused(400, "line_items[1][price]", ""));
    // Without automatic tax the same price is fine.
    let (status, body) = emu
        .post(
            "/v1/checkout/sessions",
            SK_TEST,
            &[
                ("mode", "subscription"),
                ("line_items[0][price]", &unspecified),
                ("line_items[0][quantity]", "1"),
            ],
        )
        .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        body["automatic_tax"],
        json!({"enabled": false, "liability": null, "provider": null, "status": null})
    );
    let (status, body) = emu
        .post(
            "/v1/checkout/sessions",
            SK_TEST,
            &[
                ("mode", "subscription"),
                ("line_items[0][price]", &exclusive),
                ("line_items[0][quantity]", "1"),
                ("automatic_tax[liability][type]", "self"),
            ],
        )
        .await;
    assert_eq!(
        refusal(status, &body),
        refused(400, "automatic_tax[enabled]", "parameter_missing")
    );
    let (status, body) = taxed_subscription(&emu, &exclusive, &[("automatic_tax[rate]", "19")]).await;
    assert_eq!(
        refusal(status, &body),
        refused(400, "automatic_tax[rate]", "parameter_unknown")
    );

    // A country is two letters; a session without automatic tax and `auto` collection takes none.
    let (_, cs) = taxed_subscription(&emu, &exclusive, &[]).await;
    let (status, body) = complete(&emu, &cs, json!({"country": "Deutschland"})).await;
    assert_eq!(refusal(status, &body), refused(400, "country", ""));
    let again = get(
        &emu,
        &format!("/v1/checkout/sessions/{}", cs["id"].as_str().expect("id")),
        &[],
    )
    .await;
    assert_eq!(again["status"], "open");
    let (_, plain) = emu
        .post(
            "/v1/checkout/sessions",
            SK_TEST,
            &[
                ("mode", "subscription"),
                ("line_items[0][price]", &exclusive),
                ("line_items[0][quantity]", "1"),
            ],
        )
        .await;
    let (status, body) = complete(&emu, &plain, json!({"country": "DE"})).await;
    assert_eq!(refusal(status, &body), refused(400, "country", ""));
    // billing_address_collection=required collects one without tax.
    let (_, required) = emu
        .post(
            "/v1/checkout/sessions",
            SK_TEST,
            &[
                ("mode", "subscription"),
                ("line_items[0][price]", &exclusive),
                ("line_items[0][quantity]", "1"),
                ("billing_address_collection", "required"),
            ],
        )
        .await;
    let session = completed(&emu, &required, json!({"country": "JP"})).await;
    assert_eq!(
        (
            &session["amount_total"],
            &session["customer_details"]["address"]["country"]
        ),
        (&json!(999), &json!("JP"))
    );
    let invoice = latest_invoice(&emu, session["subscription"].as_str().expect("sub")).await;
    assert_eq!(
        (&invoice["total_taxes"], &invoice["automatic_tax"]["enabled"]),
        (&json!([]), &json!(false))
    );

    // A subscription with automatic tax cannot switch to a price of unspecified behavior.
    let (_, cs) = taxed_subscription(&emu, &exclusive, &[("customer_email", "y@example.com")]).await;
    let session = completed(&emu, &cs, json!({"country": "ES"})).await;
    let sub = get(
        &emu,
        &format!("/v1/subscriptions/{}", session["subscription"].as_str().expect("sub")),
        &[],
    )
    .await;
    let item = sub["items"]["data"][0]["id"].as_str().expect("item");
    let (status, body) = emu
        .post(
            &format!("/v1/subscriptions/{}", sub["id"].as_str().expect("id")),
            SK_TEST,
            &[("items[0][id]", item), ("items[0][price]", &unspecified)],
        )
        .await;
    assert_eq!(refusal(status, &body), refused(400, "items[0][price]", ""));
}

#[tokio::test]
async fn tax_behavior_can_be_set_once() {
    let emu = Emu::start().await;
    let id = price(&emu, "999", true, "unspecified").await;
    let path = format!("/v1/prices/{id}");
    let set = post(&emu, &path, &[("tax_behavior", "exclusive")]).await;
    assert_eq!(set["tax_behavior"], "exclusive");
    let (status, body) = emu.post(&path, SK_TEST, &[("tax_behavior", "inclusive")]).await;
    assert_eq!(refusal(status, &body), refused(400, "tax_behavior", ""));
    assert_eq!(
        body["error"]["message"],
        "You cannot update `tax_behavior` field once it has been specified."
    );
    let (status, body) = emu.post(&path, SK_TEST, &[("tax_behavior", "unspecified")]).await;
    assert_eq!(refusal(status, &body), refused(400, "tax_behavior", ""));
    assert_eq!(get(&emu, &path, &[]).await["tax_behavior"], "exclusive");
    // Naming the value it has changes nothing; other fields still update.
    let same = post(&emu, &path, &[("tax_behavior", "exclusive"), ("nickname", "Pro")]).await;
    assert_eq!(
        (&same["tax_behavior"], &same["nickname"]),
        (&json!("exclusive"), &json!("Pro"))
    );
    let (status, body) = emu.post(&path, SK_TEST, &[("tax_behavior", "sometimes")]).await;
    assert_eq!(refusal(status, &body), refused(400, "tax_behavior", ""));
    // The default at creation is `unspecified`.
    let product = post(&emu, "/v1/products", &[("name", "Plain")]).await;
    let plain = post(
        &emu,
        "/v1/prices",
        &[
            ("product", product["id"].as_str().expect("id")),
            ("currency", "eur"),
            ("unit_amount", "100"),
        ],
    )
    .await;
    assert_eq!(plain["tax_behavior"], "unspecified");
}

#[tokio::test]
async fn the_hosted_page_asks_for_a_country_and_taxes_by_it() {
    let emu = Emu::start().await;
    let price = price(&emu, "999", true, "exclusive").await;
    let (_, cs) = taxed_subscription(
        &emu,
        &price,
        &[
            ("customer_email", "page@example.com"),
            ("success_url", "http://localhost/ok"),
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
        page.contains("name=\"country\"") && page.contains("name=\"postal_code\""),
        "{page}"
    );
    assert!(page.contains("calculated from your billing country"), "{page}");
    let resp = emu
        .http
        .post(url)
        .form(&[
            ("country", "au"),
            ("postal_code", "2000"),
            ("card", "4242 4242 4242 4242"),
        ])
        .send()
        .await
        .expect("pay");
    assert_eq!(resp.status().as_u16(), 302);
    let done = get(
        &emu,
        &format!("/v1/checkout/sessions/{}", cs["id"].as_str().expect("id")),
        &[],
    )
    .await;
    // 10 % GST: 1.00 on 9.99.
    assert_eq!(
        (&done["amount_total"], &done["customer_details"]["address"]["country"]),
        (&json!(1099), &json!("AU"))
    );
    // A session without tax or required collection has no such field.
    let (_, plain) = emu
        .post(
            "/v1/checkout/sessions",
            SK_TEST,
            &[
                ("mode", "subscription"),
                ("line_items[0][price]", &price),
                ("line_items[0][quantity]", "1"),
            ],
        )
        .await;
    let page = (emu.http.get(plain["url"].as_str().expect("url")).send().await)
        .expect("page")
        .text()
        .await
        .expect("html");
    assert!(!page.contains("name=\"country\""), "{page}");
}
