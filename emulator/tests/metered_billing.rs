//! Metered prices through a subscription's life: beside a flat price in Checkout (no
//! quantity), on the subscription (an item without one), billed in arrears at renewal from
//! the meter's events, and replaced with the flat price on a plan change.

mod common;

use common::*;
use serde_json::{Value, json};

struct Plan {
    account: String,
    meter: String,
    flat: String,
    metered: String,
}

async fn post(emu: &Emu, account: &str, path: &str, params: &[(&str, &str)]) -> Value {
    let (status, body) = emu.post_as(path, SK_TEST, account, params).await;
    assert_eq!(status, 200, "{path} {params:?}: {body}");
    body
}

async fn get(emu: &Emu, account: &str, path: &str) -> Value {
    let (status, body) = emu.get_as(path, SK_TEST, account, &[]).await;
    assert_eq!(status, 200, "{path}: {body}");
    body
}

fn id(v: &Value) -> String {
    v["id"].as_str().expect("id").to_string()
}

/// On a connected account, as the platform sets up a tier: a meter for its usage, a flat
/// monthly price, and the overage price on the meter (`cents` per `per` units, started
/// packages counting whole).
async fn plan(emu: &Emu, account: Option<String>, event_name: &str, flat: &str, cents: &str, per: &str) -> Plan {
    let account = match account {
        Some(a) => a,
        None => emu.connect_account().await,
    };
    let meter = post(
        emu,
        &account,
        "/v1/billing/meters",
        &[
            ("display_name", event_name),
            ("event_name", event_name),
            ("default_aggregation[formula]", "sum"),
        ],
    )
    .await;
    let product = post(emu, &account, "/v1/products", &[("name", "Pro")]).await;
    let overage = post(emu, &account, "/v1/products", &[("name", "Requests")]).await;
    let flat = post(
        emu,
        &account,
        "/v1/prices",
        &[
            ("product", &id(&product)),
            ("currency", "usd"),
            ("unit_amount", flat),
            ("recurring[interval]", "month"),
        ],
    )
    .await;
    let metered = post(
        emu,
        &account,
        "/v1/prices",
        &[
            ("product", &id(&overage)),
            ("currency", "usd"),
            ("unit_amount", cents),
            ("recurring[interval]", "month"),
            ("recurring[usage_type]", "metered"),
            ("recurring[meter]", &id(&meter)),
            ("transform_quantity[divide_by]", per),
            ("transform_quantity[round]", "up"),
        ],
    )
    .await;
    Plan {
        account,
        meter: id(&meter),
        flat: id(&flat),
        metered: id(&metered),
    }
}

/// A completed subscription checkout of the plan's two prices; returns the subscription.
async fn subscribe(emu: &Emu, plan: &Plan) -> Value {
    let cs = post(
        emu,
        &plan.account,
        "/v1/checkout/sessions",
        &[
            ("mode", "subscription"),
            ("line_items[0][price]", &plan.flat),
            ("line_items[0][quantity]", "1"),
            ("line_items[1][price]", &plan.metered),
            ("customer_email", "metered@example.com"),
            ("success_url", "http://localhost/ok"),
        ],
    )
    .await;
    assert_eq!(cs["amount_total"], 1999, "usage is billed later, not at checkout");
    let (status, done) = emu
        .control(&format!("/_emulator/checkout/sessions/{}/complete", id(&cs)), json!({}))
        .await;
    assert_eq!(status, 200, "{done}");
    let sub = done["session"]["subscription"].as_str().expect("subscription");
    get(emu, &plan.account, &format!("/v1/subscriptions/{sub}")).await
}

fn items(sub: &Value) -> Vec<Value> {
    sub["items"]["data"].as_array().cloned().unwrap_or_default()
}

fn item_of(sub: &Value, price: &str) -> Value {
    items(sub)
        .into_iter()
        .find(|i| i["price"]["id"] == price)
        .unwrap_or_else(|| panic!("no item of {price} in {sub}"))
}

fn line_of(invoice: &Value, price: &str) -> Value {
    (invoice["lines"]["data"].as_array().expect("lines").iter())
        .find(|l| l["pricing"]["price_details"]["price"] == price)
        .cloned()
        .unwrap_or_else(|| panic!("no line of {price} in {invoice}"))
}

fn period(v: &Value) -> (i64, i64) {
    (v["start"].as_i64().expect("start"), v["end"].as_i64().expect("end"))
}

async fn report(emu: &Emu, plan: &Plan, customer: &str, value: &str, identifier: &str) -> (u16, Value) {
    emu.post_as(
        "/v1/billing/meter_events",
        SK_TEST,
        &plan.account,
        &[
            ("event_name", "requests"),
            ("payload[stripe_customer_id]", customer),
            ("payload[value]", value),
            ("identifier", identifier),
        ],
    )
    .await
}

async fn advance(emu: &Emu, sub: &str) -> Value {
    let (status, renewed) = emu
        .control(&format!("/_emulator/subscriptions/{sub}/advance"), json!({}))
        .await;
    assert_eq!(status, 200, "{renewed}");
    renewed
}

#[tokio::test]
async fn checkout_takes_a_metered_price_without_a_quantity() {
    let emu = Emu::start().await;
    let plan = plan(&emu, None, "requests", "1999", "200", "1000").await;
    let (status, body) = emu
        .post_as(
            "/v1/checkout/sessions",
            SK_TEST,
            &plan.account,
            &[
                ("mode", "subscription"),
                ("line_items[0][price]", &plan.flat),
                ("line_items[0][quantity]", "1"),
                ("line_items[1][price]", &plan.metered),
                ("line_items[1][quantity]", "1"),
            ],
        )
        .await;
    assert_eq!(status, 400, "{body}");
    assert_eq!(
        body["error"]["message"],
        "Quantity should not be specified where usage_type is `metered`. Remove quantity from `line_items[1]`."
    );
    assert_eq!(body["error"]["param"], "line_items[1][quantity]");
    // A licensed price still needs one.
    let (status, body) = emu
        .post_as(
            "/v1/checkout/sessions",
            SK_TEST,
            &plan.account,
            &[("mode", "subscription"), ("line_items[0][price]", &plan.flat)],
        )
        .await;
    assert_eq!((status, error_of(&body).1), (400, "parameter_missing"));

    let cs = post(
        &emu,
        &plan.account,
        "/v1/checkout/sessions",
        &[
            ("mode", "subscription"),
            ("line_items[0][price]", &plan.flat),
            ("line_items[0][quantity]", "1"),
            ("line_items[1][price]", &plan.metered),
        ],
    )
    .await;
    let lines = get(
        &emu,
        &plan.account,
        &format!("/v1/checkout/sessions/{}/line_items", id(&cs)),
    )
    .await;
    let metered = &lines["data"][1];
    assert_eq!(metered["price"]["id"], plan.metered.as_str());
    assert!(metered["quantity"].is_null(), "{metered}");
    assert_eq!(
        (metered["amount_subtotal"].as_i64(), metered["amount_total"].as_i64()),
        (Some(0), Some(0))
    );
    let page = emu
        .http
        .get(cs["url"].as_str().expect("url"))
        .send()
        .await
        .expect("page")
        .text()
        .await
        .expect("html");
    assert!(
        page.contains("2.00 USD per 1000") && page.contains("19.99 USD"),
        "{page}"
    );
}

#[tokio::test]
async fn renewal_bills_the_metered_usage_of_the_period_that_ended() {
    let emu = Emu::start().await;
    let plan = plan(&emu, None, "requests", "1999", "200", "1000").await;
    let sub = subscribe(&emu, &plan).await;
    let sub_id = id(&sub);
    let customer = sub["customer"].as_str().expect("customer").to_string();
    assert_eq!(items(&sub).len(), 2);
    let flat_item = item_of(&sub, &plan.flat);
    let metered_item = item_of(&sub, &plan.metered);
    assert_eq!(flat_item["quantity"], 1);
    assert!(
        metered_item.get("quantity").is_none(),
        "Stripe's metered items have no quantity: {metered_item}"
    );
    assert_eq!(metered_item["price"]["recurring"]["meter"], plan.meter.as_str());
    assert_eq!(metered_item["plan"]["usage_type"], "metered");
    assert_eq!(
        metered_item["plan"]["transform_usage"],
        json!({"divide_by": 1000, "round": "up"})
    );
    let (start, end) = (
        flat_item["current_period_start"].as_i64().expect("start"),
        flat_item["current_period_end"].as_i64().expect("end"),
    );

    // The first invoice: the flat price for the month ahead; the metered one at zero.
    let first = get(
        &emu,
        &plan.account,
        &format!("/v1/invoices/{}", sub["latest_invoice"].as_str().expect("invoice")),
    )
    .await;
    assert_eq!(first["total"], 1999);
    let flat_line = line_of(&first, &plan.flat);
    assert_eq!(
        (flat_line["quantity"].as_i64(), flat_line["amount"].as_i64()),
        (Some(1), Some(1999))
    );
    assert_eq!(period(&flat_line["period"]), (start, end));
    let usage_line = line_of(&first, &plan.metered);
    assert_eq!(
        (usage_line["quantity"].as_i64(), usage_line["amount"].as_i64()),
        (Some(0), Some(0))
    );
    assert_eq!(period(&usage_line["period"]), (start, end));
    assert_eq!(usage_line["pricing"]["unit_amount_decimal"], "200");
    assert_eq!(
        usage_line["parent"]["subscription_item_details"]["subscription_item"],
        metered_item["id"]
    );

    // 25,000 requests, 10,000 included in the tier: the platform reports the 15,000 beyond,
    // in batches of 1,000, and some batches twice (a retry after a lost answer).
    for batch in 0..15 {
        let (status, body) = report(&emu, &plan, &customer, "1000", &format!("overage-{batch}")).await;
        assert_eq!(status, 200, "{body}");
    }
    for batch in [3, 7, 14] {
        let (status, body) = report(&emu, &plan, &customer, "1000", &format!("overage-{batch}")).await;
        assert_eq!(status, 400, "{body}");
        assert_eq!(
            body["error"]["message"],
            format!("An event already exists with identifier overage-{batch}.")
        );
    }
    // Someone else's usage is theirs.
    let (status, other) = emu
        .post_as(
            "/v1/customers",
            SK_TEST,
            &plan.account,
            &[("email", "other@example.com")],
        )
        .await;
    assert_eq!(status, 200);
    report(&emu, &plan, &id(&other), "5000", "other-0").await;

    // Renewal: the flat price for the new month, the usage of the month that ended.
    let renewed = advance(&emu, &sub_id).await;
    let invoice_id = renewed["latest_invoice"].as_str().expect("invoice").to_string();
    let invoice = get(&emu, &plan.account, &format!("/v1/invoices/{invoice_id}")).await;
    assert_eq!(invoice["billing_reason"], "subscription_cycle");
    let flat_line = line_of(&invoice, &plan.flat);
    assert_eq!(
        (flat_line["quantity"].as_i64(), flat_line["amount"].as_i64()),
        (Some(1), Some(1999))
    );
    assert_eq!(period(&flat_line["period"]).0, end);
    let overage = line_of(&invoice, &plan.metered);
    assert_eq!(
        (overage["quantity"].as_i64(), overage["amount"].as_i64()),
        (Some(15_000), Some(3000)),
        "15,000 requests are 15 packages of 1,000 at 2.00 USD: {overage}"
    );
    assert_eq!(period(&overage["period"]), (start, end));
    assert_eq!(overage["pricing"]["price_details"]["price"], plan.metered.as_str());
    assert!(overage["pricing"]["price_details"]["product"].is_string());
    assert_eq!(
        overage["description"],
        "15000 × Requests (at 2.00 USD per 1000 / month)"
    );
    assert_eq!(
        (
            invoice["total"].as_i64(),
            invoice["amount_paid"].as_i64(),
            invoice["status"].as_str()
        ),
        (Some(4999), Some(4999), Some("paid"))
    );
    let (_, listed) = emu
        .get_as("/v1/invoices", SK_TEST, &plan.account, &[("subscription", &sub_id)])
        .await;
    assert_eq!(listed["data"][0], invoice);
    let paid = emu.events_of_type(SK_TEST, Some(&plan.account), "invoice.paid").await;
    let webhook_invoice = &paid[0]["data"]["object"];
    assert_eq!(webhook_invoice["id"], invoice_id.as_str());
    assert_eq!(line_of(webhook_invoice, &plan.metered)["amount"], 3000);
    let (_, pis) = emu.get_as("/v1/payment_intents", SK_TEST, &plan.account, &[]).await;
    assert_eq!(pis["data"][0]["amount"], 4999);

    // The next month had no usage: its renewal bills the flat price only.
    let renewed = advance(&emu, &sub_id).await;
    let invoice = get(
        &emu,
        &plan.account,
        &format!("/v1/invoices/{}", renewed["latest_invoice"].as_str().expect("invoice")),
    )
    .await;
    let quiet = line_of(&invoice, &plan.metered);
    assert_eq!(
        (quiet["quantity"].as_i64(), quiet["amount"].as_i64()),
        (Some(0), Some(0))
    );
    assert_eq!(period(&quiet["period"]).0, end);
    assert_eq!(invoice["total"], 1999);
}

#[tokio::test]
async fn a_plan_change_replaces_the_flat_and_the_metered_item() {
    let emu = Emu::start().await;
    let pro = plan(&emu, None, "requests", "1999", "200", "1000").await;
    let sub = subscribe(&emu, &pro).await;
    let sub_id = id(&sub);
    let customer = sub["customer"].as_str().expect("customer").to_string();
    // The bigger tier: its own flat and overage prices on the same meter.
    let max = {
        let product = post(&emu, &pro.account, "/v1/products", &[("name", "Max")]).await;
        let flat = post(
            &emu,
            &pro.account,
            "/v1/prices",
            &[
                ("product", &id(&product)),
                ("currency", "usd"),
                ("unit_amount", "4999"),
                ("recurring[interval]", "month"),
            ],
        )
        .await;
        let metered = post(
            &emu,
            &pro.account,
            "/v1/prices",
            &[
                ("product", &id(&product)),
                ("currency", "usd"),
                ("unit_amount_decimal", "0.15"),
                ("recurring[interval]", "month"),
                ("recurring[usage_type]", "metered"),
                ("recurring[meter]", &pro.meter),
            ],
        )
        .await;
        (id(&flat), id(&metered))
    };
    let flat_item = id(&item_of(&sub, &pro.flat));
    let metered_item = id(&item_of(&sub, &pro.metered));
    let path = format!("/v1/subscriptions/{sub_id}");

    // A quantity for a metered item is refused, as Stripe refuses it.
    let (status, body) = emu
        .post_as(
            &path,
            SK_TEST,
            &pro.account,
            &[("items[0][id]", &metered_item), ("items[0][quantity]", "3")],
        )
        .await;
    assert_eq!(status, 400, "{body}");
    assert_eq!(
        body["error"]["message"],
        "You cannot set the quantity for metered plans."
    );
    assert_eq!(body["error"]["param"], "items[0][quantity]");
    let (status, body) = emu
        .post_as(
            &path,
            SK_TEST,
            &pro.account,
            &[("items[0][price]", &max.1), ("items[0][quantity]", "1")],
        )
        .await;
    assert_eq!(
        (status, body["error"]["param"].as_str()),
        (400, Some("items[0][quantity]"))
    );

    // Both items replaced in one update, as the platform changes a plan.
    let changed = post(
        &emu,
        &pro.account,
        &path,
        &[
            ("items[0][id]", &flat_item),
            ("items[0][deleted]", "true"),
            ("items[1][id]", &metered_item),
            ("items[1][deleted]", "true"),
            ("items[1][clear_usage]", "false"),
            ("items[2][price]", &max.0),
            ("items[3][price]", &max.1),
            ("proration_behavior", "none"),
        ],
    )
    .await;
    let now_items = items(&changed);
    assert_eq!(now_items.len(), 2, "{changed}");
    assert!(
        now_items
            .iter()
            .all(|i| i["id"] != flat_item.as_str() && i["id"] != metered_item.as_str())
    );
    assert_eq!(item_of(&changed, &max.0)["quantity"], 1);
    let new_metered = item_of(&changed, &max.1);
    assert!(new_metered.get("quantity").is_none(), "{new_metered}");
    let updated = emu
        .events_of_type(SK_TEST, Some(&pro.account), "customer.subscription.updated")
        .await;
    assert!(updated[0]["data"]["previous_attributes"]["items"].is_object());

    // A metered item's price can also change in place; it stays without a quantity.
    let back = post(
        &emu,
        &pro.account,
        &path,
        &[("items[0][id]", &id(&new_metered)), ("items[0][price]", &pro.metered)],
    )
    .await;
    assert!(item_of(&back, &pro.metered).get("quantity").is_none());
    let again = post(
        &emu,
        &pro.account,
        &path,
        &[("items[0][id]", &id(&new_metered)), ("items[0][price]", &max.1)],
    )
    .await;

    // The renewal bills the usage at the price on the subscription then: 0.15 cents each.
    report(&emu, &pro, &customer, "1234", "max-0").await;
    let renewed = advance(&emu, &id(&again)).await;
    let invoice = get(
        &emu,
        &pro.account,
        &format!("/v1/invoices/{}", renewed["latest_invoice"].as_str().expect("invoice")),
    )
    .await;
    let usage = line_of(&invoice, &max.1);
    assert_eq!(
        (usage["quantity"].as_i64(), usage["amount"].as_i64()),
        (Some(1234), Some(185)),
        "1234 × 0.15 = 185.1 cents, rounded: {usage}"
    );
    assert_eq!(usage["pricing"]["unit_amount_decimal"], "0.15");
    assert_eq!(invoice["total"], 4999 + 185);
}
