//! Object shapes against Stripe's own published examples (`../shared/stripe/fixtures3.json`,
//! read at test time): every field the emulator returns exists in Stripe's example of that
//! type with the same JSON type (recursively; arrays by their first element; a null on
//! either side matches any type), ids have Stripe's prefixes, `object` names match, and the
//! fields Stripe's API spec marks non-nullable (async-stripe's required fields) are present.

mod common;

use common::*;
use reqwest::Method;
use serde_json::{Value, json};

/// Fields real Stripe returns that its example objects leave out, each with the reason.
const NOT_IN_EXAMPLES: [(&str, &str); 8] = [
    ("event.account", "set on events of connected accounts only"),
    (
        "line_item.pricing.price_details",
        "the example is an invoice item's line; a subscription item's line names its price here",
    ),
    (
        "invoice.lines.data.pricing.price_details",
        "the example is an invoice item's line; a subscription item's line names its price here",
    ),
    ("event.data.previous_attributes", "set on *.updated events only"),
    ("webhook_endpoint.secret", "returned by the create call only"),
    (
        "payment_intent.last_payment_error.code",
        "the example error shows only `type`",
    ),
    (
        "payment_intent.last_payment_error.decline_code",
        "the example error shows only `type`",
    ),
    (
        "payment_intent.last_payment_error.message",
        "the example error shows only `type`",
    ),
];

fn kind(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "boolean",
        Value::Number(n) if n.is_f64() => "float",
        Value::Number(_) => "integer",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
    }
}

/// `invoice.lines.data[1].pricing` → `invoice.lines.data.pricing`: an exception holds for
/// every element of a list.
fn without_indices(path: &str) -> String {
    let mut out = String::with_capacity(path.len());
    let mut in_index = false;
    for c in path.chars() {
        match c {
            '[' => in_index = true,
            ']' => in_index = false,
            c if !in_index => out.push(c),
            _ => {}
        }
    }
    out
}

fn compare(ours: &Value, example: &Value, path: &str, problems: &mut Vec<String>) {
    if ours.is_null() || example.is_null() {
        return;
    }
    if kind(ours) != kind(example) {
        problems.push(format!("{path}: ours is {}, Stripe's is {}", kind(ours), kind(example)));
        return;
    }
    match (ours, example) {
        (Value::Object(o), Value::Object(e)) => {
            for (k, v) in o {
                let field = format!("{path}.{k}");
                match e.get(k) {
                    Some(ev) => compare(v, ev, &field, problems),
                    None if NOT_IN_EXAMPLES.iter().any(|(f, _)| *f == without_indices(&field)) => {}
                    None => problems.push(format!("{field}: not in Stripe's example")),
                }
            }
        }
        (Value::Array(o), Value::Array(e)) => {
            if let Some(first) = e.first() {
                for (i, v) in o.iter().enumerate() {
                    compare(v, first, &format!("{path}[{i}]"), problems);
                }
            }
        }
        _ => {}
    }
}

const PREFIXES: [(&str, &str); 23] = [
    ("promotion_code", "promo_"),
    ("discount", "di_"),
    ("billing.meter", "mtr_test_61"),
    ("billing.meter_event_summary", "mtrusg_"),
    ("account", "acct_"),
    ("product", "prod_"),
    ("price", "price_"),
    ("customer", "cus_"),
    ("checkout.session", "cs_test_"),
    ("subscription", "sub_"),
    ("subscription_item", "si_"),
    ("invoice", "in_"),
    ("line_item", "il_"),
    ("payment_intent", "pi_"),
    ("event", "evt_"),
    ("webhook_endpoint", "we_"),
    ("billing_portal.session", "bps_"),
    ("item", "li_"),
    ("plan", "price_"),
    ("charge", "ch_"),
    ("refund", "re_"),
    ("dispute", "du_"),
    ("tax_rate", "txr_"),
];

/// Non-nullable fields per Stripe's spec, as async-stripe 1.0 requires them to deserialize.
fn required(object: &str) -> &'static [&'static str] {
    match object {
        "product" => &[
            "active",
            "created",
            "id",
            "images",
            "livemode",
            "marketing_features",
            "metadata",
            "name",
            "type",
            "updated",
        ],
        "price" => &[
            "active",
            "billing_scheme",
            "created",
            "currency",
            "id",
            "livemode",
            "metadata",
            "product",
            "type",
        ],
        "customer" => &["created", "id", "livemode"],
        "checkout.session" => &[
            "automatic_tax",
            "created",
            "custom_fields",
            "custom_text",
            "expires_at",
            "id",
            "livemode",
            "mode",
            "payment_method_types",
            "payment_status",
            "shipping_options",
        ],
        "item" => &[
            "amount_discount",
            "amount_subtotal",
            "amount_tax",
            "amount_total",
            "currency",
            "id",
        ],
        "subscription" => &[
            "automatic_tax",
            "billing_cycle_anchor",
            "billing_mode",
            "billing_schedules",
            "cancel_at_period_end",
            "collection_method",
            "created",
            "currency",
            "customer",
            "discounts",
            "id",
            "invoice_settings",
            "items",
            "livemode",
            "metadata",
            "start_date",
            "status",
        ],
        "subscription_item" => &[
            "created",
            "current_period_end",
            "current_period_start",
            "discounts",
            "id",
            "metadata",
            "plan",
            "price",
            "subscription",
        ],
        "plan" => &[
            "active",
            "billing_scheme",
            "created",
            "currency",
            "id",
            "interval",
            "interval_count",
            "livemode",
            "usage_type",
        ],
        "invoice" => &[
            "amount_due",
            "amount_overpaid",
            "amount_paid",
            "amount_remaining",
            "amount_shipping",
            "attempt_count",
            "attempted",
            "automatic_tax",
            "collection_method",
            "created",
            "currency",
            "default_tax_rates",
            "discounts",
            "issuer",
            "lines",
            "livemode",
            "payment_settings",
            "period_end",
            "period_start",
            "post_payment_credit_notes_amount",
            "pre_payment_credit_notes_amount",
            "starting_balance",
            "status_transitions",
            "subtotal",
            "total",
        ],
        "line_item" => &[
            "amount",
            "currency",
            "discountable",
            "discounts",
            "id",
            "livemode",
            "metadata",
            "period",
            "subtotal",
        ],
        "payment_intent" => &[
            "amount",
            "amount_capturable",
            "amount_received",
            "capture_method",
            "confirmation_method",
            "created",
            "currency",
            "id",
            "livemode",
            "metadata",
            "payment_method_types",
            "status",
        ],
        "event" => &["created", "data", "id", "livemode", "pending_webhooks", "type"],
        "webhook_endpoint" => &[
            "created",
            "enabled_events",
            "id",
            "livemode",
            "metadata",
            "status",
            "url",
        ],
        "billing_portal.session" => &["configuration", "created", "customer", "id", "livemode", "url"],
        "charge" => &[
            "amount",
            "amount_captured",
            "amount_refunded",
            "billing_details",
            "captured",
            "created",
            "currency",
            "disputed",
            "id",
            "livemode",
            "metadata",
            "paid",
            "refunded",
            "status",
        ],
        "refund" => &["amount", "created", "currency", "id"],
        "coupon" => &["created", "duration", "id", "livemode", "times_redeemed", "valid"],
        "promotion_code" => &[
            "active",
            "code",
            "created",
            "id",
            "livemode",
            "promotion",
            "restrictions",
            "times_redeemed",
        ],
        "discount" => &["id", "source", "start"],
        "billing.meter" => &[
            "created",
            "customer_mapping",
            "default_aggregation",
            "display_name",
            "event_name",
            "id",
            "livemode",
            "status",
            "status_transitions",
            "updated",
            "value_settings",
        ],
        "billing.meter_event" => &[
            "created",
            "event_name",
            "identifier",
            "livemode",
            "payload",
            "timestamp",
        ],
        "billing.meter_event_summary" => &["aggregated_value", "end_time", "id", "livemode", "meter", "start_time"],
        "tax_rate" => &[
            "active",
            "created",
            "display_name",
            "id",
            "inclusive",
            "livemode",
            "percentage",
        ],
        "dispute" => &[
            "amount",
            "balance_transactions",
            "charge",
            "created",
            "currency",
            "enhanced_eligibility_types",
            "evidence",
            "evidence_details",
            "id",
            "is_charge_refundable",
            "livemode",
            "metadata",
            "reason",
            "status",
        ],
        _ => &[],
    }
}

/// Checks one object (and, for an event, its `data.object` against that object's type).
fn check(fixtures: &Value, ours: &Value, problems: &mut Vec<String>) {
    let object = ours["object"].as_str().unwrap_or_default().to_string();
    let example = &fixtures[&object];
    if example.is_null() {
        problems.push(format!("{object}: no example of this type in fixtures3.json"));
        return;
    }
    assert_eq!(
        example["object"],
        object.as_str(),
        "the fixture of {object} names itself"
    );
    let mut copy = ours.clone();
    if object == "event" {
        copy["data"]["object"] = Value::Null;
        check(fixtures, &ours["data"]["object"], problems);
    }
    compare(&copy, example, &object, problems);
    let id = ours["id"].as_str().unwrap_or_default();
    match PREFIXES.iter().find(|(o, _)| *o == object) {
        Some((_, prefix)) if id.starts_with(prefix) => {}
        Some((_, prefix)) => problems.push(format!("{object}: id {id} should start with {prefix}")),
        None => {}
    }
    for field in required(&object) {
        if ours.get(*field).is_none_or(Value::is_null) {
            problems.push(format!("{object}.{field}: required by Stripe's spec, missing or null"));
        }
    }
}

fn list_items(list: &Value) -> Vec<Value> {
    assert_eq!(list["object"], "list");
    assert!(list["has_more"].is_boolean() && list["url"].is_string());
    list["data"].as_array().cloned().unwrap_or_default()
}

#[tokio::test]
async fn every_object_type_matches_stripes_examples() {
    let fixtures = fixtures();
    let emu = Emu::start().await;
    let account = emu.connect_account().await;
    let acct = Some(account.as_str());
    let mut objects: Vec<Value> = Vec::new();
    let mut remember = |v: &Value| objects.push(v.clone());

    let (_, own) = emu.get_as("/v1/account", SK_TEST, &account, &[]).await;
    remember(&own);
    let (_, recurring) = emu.product_and_price(SK_TEST, acct, true, "1999").await;
    let (product, once) = emu.product_and_price(SK_TEST, acct, false, "500").await;
    let (_, p) = emu
        .get_as(&format!("/v1/products/{product}"), SK_TEST, &account, &[])
        .await;
    remember(&p);
    let (_, p) = emu
        .get_as(&format!("/v1/prices/{recurring}"), SK_TEST, &account, &[])
        .await;
    remember(&p);
    let (_, p) = emu.get_as(&format!("/v1/prices/{once}"), SK_TEST, &account, &[]).await;
    remember(&p);
    let (_, customer) = emu
        .post_as(
            "/v1/customers",
            SK_TEST,
            &account,
            &[("email", "shape@example.com"), ("name", "Shape")],
        )
        .await;
    remember(&customer);
    let customer_id = customer["id"].as_str().expect("id");

    // A subscription checkout, open then complete, with its line items.
    let (_, cs) = emu
        .post_as(
            "/v1/checkout/sessions",
            SK_TEST,
            &account,
            &[
                ("mode", "subscription"),
                ("line_items[0][price]", &recurring),
                ("line_items[0][quantity]", "2"),
                ("customer", customer_id),
                ("success_url", "http://localhost/ok"),
            ],
        )
        .await;
    remember(&cs);
    let cs_id = cs["id"].as_str().expect("id");
    let (_, items) = emu
        .get_as(
            &format!("/v1/checkout/sessions/{cs_id}/line_items"),
            SK_TEST,
            &account,
            &[],
        )
        .await;
    list_items(&items).iter().for_each(&mut remember);
    let (_, done) = emu
        .control(&format!("/_emulator/checkout/sessions/{cs_id}/complete"), json!({}))
        .await;
    remember(&done["session"]);
    let sub_id = done["session"]["subscription"]
        .as_str()
        .expect("subscription")
        .to_string();

    // A trial started without a card: the trialing subscription, its $0 invoice (listed below).
    let (_, trial_cs) = emu
        .post_as(
            "/v1/checkout/sessions",
            SK_TEST,
            &account,
            &[
                ("mode", "subscription"),
                ("line_items[0][price]", &recurring),
                ("line_items[0][quantity]", "1"),
                ("customer", customer_id),
                ("subscription_data[trial_period_days]", "14"),
                ("payment_method_collection", "if_required"),
            ],
        )
        .await;
    let (_, done) = emu
        .control(
            &format!(
                "/_emulator/checkout/sessions/{}/complete",
                trial_cs["id"].as_str().expect("id")
            ),
            json!({}),
        )
        .await;
    remember(&done["session"]);
    let (_, trialing) = emu
        .get_as(
            &format!(
                "/v1/subscriptions/{}",
                done["session"]["subscription"].as_str().expect("subscription")
            ),
            SK_TEST,
            &account,
            &[],
        )
        .await;
    assert_eq!(trialing["status"], "trialing");
    remember(&trialing);

    // Automatic tax: a customer with an address, an exclusive price, the taxed session (taxed
    // at once from the saved address), its line items, its invoice and the tax rate.
    let (_, taxed_price) = emu
        .post_as(
            "/v1/prices",
            SK_TEST,
            &account,
            &[
                ("product", product.as_str()),
                ("currency", "usd"),
                ("unit_amount", "999"),
                ("recurring[interval]", "month"),
                ("tax_behavior", "exclusive"),
            ],
        )
        .await;
    remember(&taxed_price);
    let (_, located) = emu
        .post_as(
            "/v1/customers",
            SK_TEST,
            &account,
            &[
                ("email", "tax@example.com"),
                ("address[country]", "DE"),
                ("address[postal_code]", "10115"),
            ],
        )
        .await;
    remember(&located);
    let (status, taxed_cs) = emu
        .post_as(
            "/v1/checkout/sessions",
            SK_TEST,
            &account,
            &[
                ("mode", "subscription"),
                ("line_items[0][price]", taxed_price["id"].as_str().expect("price")),
                ("line_items[0][quantity]", "1"),
                ("customer", located["id"].as_str().expect("customer")),
                ("automatic_tax[enabled]", "true"),
                ("customer_update[address]", "auto"),
            ],
        )
        .await;
    assert_eq!(status, 200, "{taxed_cs}");
    remember(&taxed_cs);
    let taxed_id = taxed_cs["id"].as_str().expect("id");
    let (_, done) = emu
        .control(
            &format!("/_emulator/checkout/sessions/{taxed_id}/complete"),
            json!({"country": "FR", "name": "Shape"}),
        )
        .await;
    remember(&done["session"]);
    let (_, items) = emu
        .get_as(
            &format!("/v1/checkout/sessions/{taxed_id}/line_items"),
            SK_TEST,
            &account,
            &[],
        )
        .await;
    list_items(&items).iter().for_each(&mut remember);
    let (_, taxed_invoice) = emu
        .get_as(
            &format!("/v1/invoices/{}", done["session"]["invoice"].as_str().expect("invoice")),
            SK_TEST,
            &account,
            &[],
        )
        .await;
    assert_eq!(taxed_invoice["total"], 1199, "{taxed_invoice}");
    remember(&taxed_invoice);
    let rate_id = taxed_invoice["total_taxes"][0]["tax_rate_details"]["tax_rate"]
        .as_str()
        .expect("tax rate");
    let (_, rate) = emu
        .get_as(&format!("/v1/tax_rates/{rate_id}"), SK_TEST, &account, &[])
        .await;
    remember(&rate);

    // A coupon and its promotion code, redeemed by a subscription checkout: the discount.
    let (_, coupon) = emu
        .post_as(
            "/v1/coupons",
            SK_TEST,
            &account,
            &[
                ("percent_off", "20"),
                ("duration", "repeating"),
                ("duration_in_months", "3"),
            ],
        )
        .await;
    remember(&coupon);
    let next_year = (std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs()
        + 365 * 86_400)
        .to_string();
    let (status, fixed) = emu
        .post_as(
            "/v1/coupons",
            SK_TEST,
            &account,
            &[("amount_off", "500"), ("currency", "usd"), ("redeem_by", &next_year)],
        )
        .await;
    assert_eq!(status, 200, "{fixed}");
    remember(&fixed);
    let (status, promo) = emu
        .post_as(
            "/v1/promotion_codes",
            SK_TEST,
            &account,
            &[
                ("promotion[type]", "coupon"),
                ("promotion[coupon]", coupon["id"].as_str().expect("coupon id")),
                ("code", "SHAPE20"),
                ("restrictions[minimum_amount]", "100"),
                ("restrictions[minimum_amount_currency]", "usd"),
                ("expires_at", "4102444800"),
            ],
        )
        .await;
    assert_eq!(status, 200, "{promo}");
    remember(&promo);
    let (_, discounted) = emu
        .post_as(
            "/v1/checkout/sessions",
            SK_TEST,
            &account,
            &[
                ("mode", "subscription"),
                ("line_items[0][price]", &recurring),
                ("line_items[0][quantity]", "1"),
                ("customer", customer_id),
                ("allow_promotion_codes", "true"),
            ],
        )
        .await;
    let (_, done) = emu
        .control(
            &format!(
                "/_emulator/checkout/sessions/{}/complete",
                discounted["id"].as_str().expect("id")
            ),
            json!({"promotion_code": "SHAPE20"}),
        )
        .await;
    remember(&done["session"]);
    let (_, with_discounts) = emu
        .get_as(
            &format!(
                "/v1/subscriptions/{}",
                done["session"]["subscription"].as_str().expect("subscription")
            ),
            SK_TEST,
            &account,
            &[("expand[]", "discounts")],
        )
        .await;
    let discount = with_discounts["discounts"][0].clone();
    assert_eq!(discount["object"], "discount", "{with_discounts}");
    remember(&discount);

    // A guest payment checkout, completed.
    let (_, pay) = emu
        .post_as(
            "/v1/checkout/sessions",
            SK_TEST,
            &account,
            &[
                ("mode", "payment"),
                ("line_items[0][price]", &once),
                ("line_items[0][quantity]", "1"),
            ],
        )
        .await;
    let (_, done) = emu
        .control(
            &format!(
                "/_emulator/checkout/sessions/{}/complete",
                pay["id"].as_str().expect("id")
            ),
            json!({"email": "g@example.com"}),
        )
        .await;
    remember(&done["session"]);

    // Its charge, partly refunded, then disputed.
    let pi = done["session"]["payment_intent"].as_str().expect("payment_intent");
    let (_, refund) = emu
        .post_as(
            "/v1/refunds",
            SK_TEST,
            &account,
            &[("payment_intent", pi), ("amount", "100")],
        )
        .await;
    remember(&refund);
    let (_, dispute) = emu
        .control(&format!("/_emulator/payment_intents/{pi}/dispute"), json!({}))
        .await;
    remember(&dispute);
    let (_, charge) = emu
        .get_as(
            &format!("/v1/charges/{}", refund["charge"].as_str().expect("charge")),
            SK_TEST,
            &account,
            &[("expand[]", "refunds")],
        )
        .await;
    remember(&charge);

    // A meter, a metered price on it beside a flat one, reported usage and its summary, and a
    // renewal billing that usage.
    let (_, meter) = emu
        .post_as(
            "/v1/billing/meters",
            SK_TEST,
            &account,
            &[
                ("display_name", "Requests"),
                ("event_name", "requests"),
                ("default_aggregation[formula]", "sum"),
            ],
        )
        .await;
    remember(&meter);
    let meter_id = meter["id"].as_str().expect("meter id");
    let (status, metered) = emu
        .post_as(
            "/v1/prices",
            SK_TEST,
            &account,
            &[
                ("product", &product),
                ("currency", "usd"),
                ("unit_amount_decimal", "0.2"),
                ("recurring[interval]", "month"),
                ("recurring[usage_type]", "metered"),
                ("recurring[meter]", meter_id),
                ("transform_quantity[divide_by]", "10"),
                ("transform_quantity[round]", "up"),
            ],
        )
        .await;
    assert_eq!(status, 200, "{metered}");
    remember(&metered);
    let (_, metered_cs) = emu
        .post_as(
            "/v1/checkout/sessions",
            SK_TEST,
            &account,
            &[
                ("mode", "subscription"),
                ("line_items[0][price]", &recurring),
                ("line_items[0][quantity]", "1"),
                ("line_items[1][price]", metered["id"].as_str().expect("id")),
                ("customer", customer_id),
            ],
        )
        .await;
    let metered_cs = metered_cs["id"].as_str().expect("id");
    let (_, items) = emu
        .get_as(
            &format!("/v1/checkout/sessions/{metered_cs}/line_items"),
            SK_TEST,
            &account,
            &[],
        )
        .await;
    list_items(&items).iter().for_each(&mut remember);
    let (_, done) = emu
        .control(
            &format!("/_emulator/checkout/sessions/{metered_cs}/complete"),
            json!({}),
        )
        .await;
    let metered_sub = done["session"]["subscription"]
        .as_str()
        .expect("subscription")
        .to_string();
    let (status, usage) = emu
        .post_as(
            "/v1/billing/meter_events",
            SK_TEST,
            &account,
            &[
                ("event_name", "requests"),
                ("payload[stripe_customer_id]", customer_id),
                ("payload[value]", "42"),
            ],
        )
        .await;
    assert_eq!(status, 200, "{usage}");
    remember(&usage);
    let from = usage["timestamp"].as_i64().expect("timestamp") / 60 * 60;
    let (_, summaries) = emu
        .get_as(
            &format!("/v1/billing/meters/{meter_id}/event_summaries"),
            SK_TEST,
            &account,
            &[
                ("customer", customer_id),
                ("start_time", &from.to_string()),
                ("end_time", &(from + 3600).to_string()),
            ],
        )
        .await;
    list_items(&summaries).iter().for_each(&mut remember);
    emu.control(&format!("/_emulator/subscriptions/{metered_sub}/advance"), json!({}))
        .await;
    let (_, sub) = emu
        .get_as(&format!("/v1/subscriptions/{metered_sub}"), SK_TEST, &account, &[])
        .await;
    for item in list_items(&sub["items"]) {
        remember(&item);
        remember(&item["plan"]);
    }

    // A failed renewal leaves an open invoice and a payment intent with an error.
    emu.control(&format!("/_emulator/subscriptions/{sub_id}/fail_renewal"), json!({}))
        .await;
    let (_, sub) = emu
        .get_as(&format!("/v1/subscriptions/{sub_id}"), SK_TEST, &account, &[])
        .await;
    remember(&sub);
    for item in list_items(&sub["items"]) {
        remember(&item);
        remember(&item["plan"]);
    }
    let (_, invoices) = emu.get_as("/v1/invoices", SK_TEST, &account, &[]).await;
    for invoice in list_items(&invoices) {
        list_items(&invoice["lines"]).iter().for_each(&mut remember);
        remember(&invoice);
    }
    let (_, pis) = emu.get_as("/v1/payment_intents", SK_TEST, &account, &[]).await;
    let pis = list_items(&pis);
    assert!(
        pis.iter().any(|p| !p["last_payment_error"].is_null()),
        "a declined renewal is among them"
    );
    pis.iter().for_each(&mut remember);

    let (_, portal) = emu
        .post_as(
            "/v1/billing_portal/sessions",
            SK_TEST,
            &account,
            &[("customer", customer_id), ("return_url", "http://localhost/back")],
        )
        .await;
    remember(&portal);
    let (_, endpoint) = emu
        .post_as(
            "/v1/webhook_endpoints",
            SK_TEST,
            &account,
            &[("url", "http://127.0.0.1:9/x"), ("enabled_events[]", "*")],
        )
        .await;
    remember(&endpoint);
    let (_, update) = emu
        .post_as(
            &format!("/v1/subscriptions/{sub_id}"),
            SK_TEST,
            &account,
            &[("cancel_at_period_end", "true")],
        )
        .await;
    assert_eq!(update["cancel_at_period_end"], true);
    let (_, _, events) = emu
        .stripe(Method::GET, "/v1/events", SK_TEST, acct, None, &[("limit", "100")])
        .await;
    let events = list_items(&events);
    events.iter().for_each(&mut remember);

    let mut seen: Vec<String> = objects
        .iter()
        .map(|o| o["object"].as_str().unwrap_or_default().to_string())
        .collect();
    seen.sort();
    seen.dedup();
    for expected in [
        "account",
        "billing.meter",
        "billing.meter_event",
        "billing.meter_event_summary",
        "billing_portal.session",
        "charge",
        "checkout.session",
        "coupon",
        "customer",
        "discount",
        "dispute",
        "event",
        "invoice",
        "item",
        "line_item",
        "payment_intent",
        "plan",
        "price",
        "product",
        "promotion_code",
        "refund",
        "subscription",
        "subscription_item",
        "tax_rate",
        "webhook_endpoint",
    ] {
        assert!(
            seen.contains(&expected.to_string()),
            "the test covers {expected}: {seen:?}"
        );
    }
    let event_types: Vec<&str> = events.iter().filter_map(|e| e["type"].as_str()).collect();
    for t in [
        "customer.subscription.updated",
        "invoice.payment_failed",
        "checkout.session.completed",
        "price.created",
        "charge.succeeded",
        "charge.refunded",
        "refund.created",
        "charge.dispute.created",
    ] {
        assert!(event_types.contains(&t), "{t} among {event_types:?}");
    }

    let mut problems = Vec::new();
    for object in &objects {
        check(&fixtures, object, &mut problems);
    }
    problems.sort();
    problems.dedup();
    assert!(
        problems.is_empty(),
        "{} shape problems:\n{}",
        problems.len(),
        problems.join("\n")
    );
}

#[test]
fn the_comparison_can_fail() {
    let example = json!({"id": "x", "object": "product", "active": true, "nested": {"a": 1}, "list": [{"b": "s"}]});
    let mut problems = Vec::new();
    compare(
        &json!({"active": "yes", "extra": 1, "nested": {"a": 1.5}, "list": [{"b": 2}]}),
        &example,
        "product",
        &mut problems,
    );
    problems.sort();
    assert_eq!(
        problems,
        vec![
            "product.active: ours is string, Stripe's is boolean",
            "product.extra: not in Stripe's example",
            "product.list[0].b: ours is integer, Stripe's is string",
            "product.nested.a: ours is float, Stripe's is integer",
        ]
    );
    let mut none = Vec::new();
    compare(&json!({"active": null, "nested": {}}), &example, "product", &mut none);
    assert!(none.is_empty());
}
