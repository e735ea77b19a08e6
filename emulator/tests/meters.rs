//! Billing meters, meter events and their summaries over HTTP: creation and its rules,
//! Stripe's validation of events, duplicate identifiers counted once, aggregation per
//! formula and window; and metered prices on a meter.

mod common;

use common::*;
use reqwest::Method;
use serde_json::{Value, json};

fn now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .expect("clock")
        .as_secs() as i64
}

async fn post(emu: &Emu, account: Option<&str>, path: &str, params: &[(&str, &str)]) -> (u16, Value) {
    let (status, _, body) = emu.stripe(Method::POST, path, SK_TEST, account, None, params).await;
    (status, body)
}

async fn get(emu: &Emu, account: Option<&str>, path: &str, params: &[(&str, &str)]) -> (u16, Value) {
    let (status, _, body) = emu.stripe(Method::GET, path, SK_TEST, account, None, params).await;
    (status, body)
}

/// A sum meter on `event_name`; returns its id.
async fn meter(emu: &Emu, account: Option<&str>, event_name: &str, formula: &str) -> String {
    let (status, meter) = post(
        emu,
        account,
        "/v1/billing/meters",
        &[
            ("display_name", event_name),
            ("event_name", event_name),
            ("default_aggregation[formula]", formula),
        ],
    )
    .await;
    assert_eq!(status, 200, "{meter}");
    meter["id"].as_str().expect("id").to_string()
}

async fn customer(emu: &Emu, account: Option<&str>) -> String {
    let (status, c) = post(emu, account, "/v1/customers", &[("email", "usage@example.com")]).await;
    assert_eq!(status, 200, "{c}");
    c["id"].as_str().expect("id").to_string()
}

/// Reports `value` for `customer`, with optional identifier and timestamp.
async fn usage(
    emu: &Emu,
    account: Option<&str>,
    event_name: &str,
    customer: &str,
    value: &str,
    extra: &[(&str, &str)],
) -> (u16, Value) {
    let mut params = vec![
        ("event_name", event_name),
        ("payload[stripe_customer_id]", customer),
        ("payload[value]", value),
    ];
    params.extend_from_slice(extra);
    post(emu, account, "/v1/billing/meter_events", &params).await
}

/// The meter's aggregate for `customer` over [start, end) without a grouping window.
async fn total(emu: &Emu, account: Option<&str>, meter: &str, customer: &str, start: i64, end: i64) -> i64 {
    let (status, list) = get(
        emu,
        account,
        &format!("/v1/billing/meters/{meter}/event_summaries"),
        &[
            ("customer", customer),
            ("start_time", &start.to_string()),
            ("end_time", &end.to_string()),
        ],
    )
    .await;
    assert_eq!(status, 200, "{list}");
    assert_eq!(list["data"].as_array().map(Vec::len), Some(1), "{list}");
    list["data"][0]["aggregated_value"].as_i64().expect("aggregated_value")
}

fn message(body: &Value) -> &str {
    body["error"]["message"].as_str().unwrap_or_default()
}

#[tokio::test]
async fn meters_are_created_renamed_listed_deactivated_and_reactivated() {
    let emu = Emu::start().await;
    let account = emu.connect_account().await;
    let acct = Some(account.as_str());

    let (status, created) = post(
        &emu,
        acct,
        "/v1/billing/meters",
        &[
            ("display_name", "API tokens"),
            ("event_name", "tokens"),
            ("default_aggregation[formula]", "sum"),
        ],
    )
    .await;
    assert_eq!(status, 200, "{created}");
    let id = created["id"].as_str().expect("id").to_string();
    assert!(id.starts_with("mtr_test_61"), "{id}");
    assert_eq!(created["object"], "billing.meter");
    assert_eq!(
        created["customer_mapping"],
        json!({"event_payload_key": "stripe_customer_id", "type": "by_id"})
    );
    assert_eq!(created["value_settings"], json!({"event_payload_key": "value"}));
    assert_eq!(created["default_aggregation"], json!({"formula": "sum"}));
    assert_eq!(
        (created["status"].as_str(), created["livemode"].as_bool()),
        (Some("active"), Some(false))
    );
    assert_eq!(created["status_transitions"], json!({"deactivated_at": null}));
    assert!(created["event_time_window"].is_null());
    assert_eq!(created["created"], created["updated"]);

    // Configured payload keys and a pre-aggregation window.
    let (status, custom) = post(
        &emu,
        acct,
        "/v1/billing/meters",
        &[
            ("display_name", "Seats"),
            ("event_name", "seats"),
            ("default_aggregation[formula]", "last"),
            ("customer_mapping[event_payload_key]", "cust"),
            ("customer_mapping[type]", "by_id"),
            ("value_settings[event_payload_key]", "n"),
            ("event_time_window", "day"),
        ],
    )
    .await;
    assert_eq!(status, 200, "{custom}");
    assert_eq!(custom["customer_mapping"]["event_payload_key"], "cust");
    assert_eq!(custom["value_settings"]["event_payload_key"], "n");
    assert_eq!(custom["event_time_window"], "day");

    // Refusals, each naming its parameter.
    for (params, code, param) in [
        (
            vec![("display_name", "x"), ("event_name", "x")],
            "parameter_missing",
            "default_aggregation",
        ),
        (
            vec![
                ("display_name", "x"),
                ("event_name", "x"),
                ("default_aggregation[formula]", "max"),
            ],
            "",
            "default_aggregation[formula]",
        ),
        (
            vec![("event_name", "x"), ("default_aggregation[formula]", "sum")],
            "parameter_missing",
            "display_name",
        ),
        (
            vec![
                ("display_name", "x"),
                ("event_name", "x"),
                ("default_aggregation[formula]", "sum"),
                ("customer_mapping[event_payload_key]", "c"),
            ],
            "parameter_missing",
            "customer_mapping[type]",
        ),
        (
            vec![
                ("display_name", "x"),
                ("event_name", "x"),
                ("default_aggregation[formula]", "sum"),
                ("aggregate_usage", "sum"),
            ],
            "parameter_unknown",
            "aggregate_usage",
        ),
        // An event name already used by an active meter of the account and mode.
        (
            vec![
                ("display_name", "again"),
                ("event_name", "tokens"),
                ("default_aggregation[formula]", "count"),
            ],
            "",
            "event_name",
        ),
    ] {
        let (status, body) = post(&emu, acct, "/v1/billing/meters", &params).await;
        assert_eq!(status, 400, "{params:?}: {body}");
        assert_eq!(error_of(&body), ("invalid_request_error", code), "{body}");
        assert_eq!(body["error"]["param"], param, "{body}");
    }
    // The same event name is free on another account and in the other mode.
    meter(&emu, None, "tokens", "sum").await;
    let (status, _, live) = emu
        .stripe(
            Method::POST,
            "/v1/billing/meters",
            SK_LIVE,
            acct,
            None,
            &[
                ("display_name", "live"),
                ("event_name", "tokens"),
                ("default_aggregation[formula]", "sum"),
            ],
        )
        .await;
    assert_eq!(status, 200, "{live}");
    assert!(live["id"].as_str().expect("id").starts_with("mtr_61"));

    // Only the display name can change.
    let (status, renamed) = post(
        &emu,
        acct,
        &format!("/v1/billing/meters/{id}"),
        &[("display_name", "Tokens")],
    )
    .await;
    assert_eq!((status, renamed["display_name"].as_str()), (200, Some("Tokens")));
    let (status, body) = post(
        &emu,
        acct,
        &format!("/v1/billing/meters/{id}"),
        &[("event_name", "other")],
    )
    .await;
    assert_eq!((status, error_of(&body).1), (400, "parameter_unknown"));

    // Deactivating frees the event name; the old meter cannot come back while it is taken.
    let (status, off) = post(&emu, acct, &format!("/v1/billing/meters/{id}/deactivate"), &[]).await;
    assert_eq!((status, off["status"].as_str()), (200, Some("inactive")));
    assert!(off["status_transitions"]["deactivated_at"].is_i64());
    let successor = meter(&emu, acct, "tokens", "sum").await;
    let (status, body) = post(&emu, acct, &format!("/v1/billing/meters/{id}/reactivate"), &[]).await;
    assert_eq!((status, body["error"]["param"].as_str()), (400, Some("event_name")));
    post(&emu, acct, &format!("/v1/billing/meters/{successor}/deactivate"), &[]).await;
    let (status, on) = post(&emu, acct, &format!("/v1/billing/meters/{id}/reactivate"), &[]).await;
    assert_eq!((status, on["status"].as_str()), (200, Some("active")));
    assert!(on["status_transitions"]["deactivated_at"].is_null());

    // Lists, filtered by status; other accounts see none of them.
    let ids = |list: &Value| -> Vec<String> {
        (list["data"].as_array().expect("data").iter())
            .filter_map(|m| m["id"].as_str().map(str::to_string))
            .collect()
    };
    let (_, all) = get(&emu, acct, "/v1/billing/meters", &[]).await;
    assert_eq!(all["url"], "/v1/billing/meters");
    assert_eq!(ids(&all).len(), 3);
    let (_, inactive) = get(&emu, acct, "/v1/billing/meters", &[("status", "inactive")]).await;
    assert_eq!(ids(&inactive), std::slice::from_ref(&successor));
    let (_, active) = get(
        &emu,
        acct,
        "/v1/billing/meters",
        &[("status", "active"), ("limit", "1")],
    )
    .await;
    assert_eq!((ids(&active).len(), active["has_more"].as_bool()), (1, Some(true)));
    let (status, _) = get(&emu, acct, "/v1/billing/meters", &[("status", "archived")]).await;
    assert_eq!(status, 400);
    let (status, fetched) = get(&emu, acct, &format!("/v1/billing/meters/{id}"), &[]).await;
    assert_eq!((status, fetched["display_name"].as_str()), (200, Some("Tokens")));
    let (status, body) = get(&emu, None, &format!("/v1/billing/meters/{id}"), &[]).await;
    assert_eq!((status, error_of(&body).1), (404, "resource_missing"));
    assert_eq!(message(&body), format!("No such meter: '{id}'"));
}

#[tokio::test]
async fn meter_events_are_validated_and_a_duplicate_identifier_is_not_counted_twice() {
    let emu = Emu::start().await;
    let account = emu.connect_account().await;
    let acct = Some(account.as_str());
    let meter_id = meter(&emu, acct, "api_calls", "sum").await;
    let cus = customer(&emu, acct).await;
    let before = now();

    let (status, event) = usage(&emu, acct, "api_calls", &cus, "25", &[("identifier", "req-1")]).await;
    assert_eq!(status, 200, "{event}");
    assert_eq!(
        event,
        json!({
            "object": "billing.meter_event",
            "created": event["created"],
            "event_name": "api_calls",
            "identifier": "req-1",
            "livemode": false,
            "payload": {"stripe_customer_id": cus, "value": "25"},
            "timestamp": event["timestamp"],
        })
    );
    assert!((before..=now()).contains(&event["timestamp"].as_i64().expect("timestamp")));

    // The same identifier again: Stripe's 400, and the usage is not counted twice.
    let (status, dup) = usage(&emu, acct, "api_calls", &cus, "25", &[("identifier", "req-1")]).await;
    assert_eq!(status, 400, "{dup}");
    assert_eq!(error_of(&dup), ("invalid_request_error", ""));
    assert_eq!(message(&dup), "An event already exists with identifier req-1.");

    // A retry with the same Idempotency-Key replays the first answer instead.
    let params = [
        ("event_name", "api_calls"),
        ("payload[stripe_customer_id]", cus.as_str()),
        ("payload[value]", "10"),
        ("identifier", "req-2"),
    ];
    for replayed in [false, true] {
        let (status, headers, body) = emu
            .stripe(
                Method::POST,
                "/v1/billing/meter_events",
                SK_TEST,
                acct,
                Some("retry-2"),
                &params,
            )
            .await;
        assert_eq!(status, 200, "{body}");
        assert_eq!(body["identifier"], "req-2");
        assert_eq!(headers.contains_key("idempotent-replayed"), replayed);
    }

    // Without an identifier, one is generated (UUID-shaped, as Stripe recommends them).
    let (status, generated) = usage(&emu, acct, "api_calls", &cus, "-5", &[]).await;
    assert_eq!(status, 200, "{generated}");
    let identifier = generated["identifier"].as_str().expect("identifier");
    assert_eq!(
        (identifier.len(), identifier.matches('-').count()),
        (36, 4),
        "{identifier}"
    );

    // Identifiers are per account: the platform's own meter may reuse one.
    meter(&emu, None, "api_calls", "sum").await;
    let platform_customer = customer(&emu, None).await;
    let (status, _) = usage(
        &emu,
        None,
        "api_calls",
        &platform_customer,
        "1",
        &[("identifier", "req-1")],
    )
    .await;
    assert_eq!(status, 200);

    let end = (now() / 60 + 1) * 60;
    let start = (before / 60 - 1) * 60;
    assert_eq!(total(&emu, acct, &meter_id, &cus, start, end).await, 25 + 10 - 5);

    // Stripe's refusals of a malformed event; none of them counts.
    let old = (now() - 36 * 86_400).to_string();
    let recent = (now() - 34 * 86_400).to_string();
    let ahead = (now() + 600).to_string();
    let soon = (now() + 60).to_string();
    for (event_name, payload, extra, param, needle) in [
        (
            "nope",
            vec![("stripe_customer_id", cus.as_str()), ("value", "1")],
            vec![],
            "event_name",
            "No active meter",
        ),
        (
            "api_calls",
            vec![("value", "1")],
            vec![],
            "payload",
            "stripe_customer_id",
        ),
        (
            "api_calls",
            vec![("stripe_customer_id", cus.as_str())],
            vec![],
            "payload",
            "Value key value",
        ),
        (
            "api_calls",
            vec![("stripe_customer_id", cus.as_str()), ("value", "1.5")],
            vec![],
            "payload",
            "whole number",
        ),
        (
            "api_calls",
            vec![("stripe_customer_id", cus.as_str()), ("value", "ten")],
            vec![],
            "payload",
            "whole number",
        ),
        (
            "api_calls",
            vec![("stripe_customer_id", cus.as_str()), ("value", "1")],
            vec![("timestamp", old.as_str())],
            "timestamp",
            "35 calendar days",
        ),
        (
            "api_calls",
            vec![("stripe_customer_id", cus.as_str()), ("value", "1")],
            vec![("timestamp", ahead.as_str())],
            "timestamp",
            "5 minutes",
        ),
        (
            "api_calls",
            vec![("stripe_customer_id", cus.as_str()), ("value", "1")],
            vec![("bogus", "1")],
            "bogus",
            "unknown parameter",
        ),
    ] {
        let keys: Vec<String> = payload.iter().map(|(k, _)| format!("payload[{k}]")).collect();
        let mut params: Vec<(&str, &str)> = vec![("event_name", event_name)];
        params.extend(keys.iter().map(String::as_str).zip(payload.iter().map(|(_, v)| *v)));
        params.extend(extra);
        let (status, body) = post(&emu, acct, "/v1/billing/meter_events", &params).await;
        assert_eq!(status, 400, "{params:?}: {body}");
        assert_eq!(body["error"]["type"], "invalid_request_error");
        assert_eq!(body["error"]["param"], param, "{body}");
        assert!(message(&body).contains(needle), "{needle}: {body}");
    }
    let (status, body) = post(&emu, acct, "/v1/billing/meter_events", &[("event_name", "api_calls")]).await;
    assert_eq!((status, error_of(&body).1), (400, "parameter_missing"));
    assert_eq!(total(&emu, acct, &meter_id, &cus, start, end).await, 30);

    // Within Stripe's window, back 34 days and ahead 1 minute, events count where they fall.
    assert_eq!(
        usage(&emu, acct, "api_calls", &cus, "100", &[("timestamp", &recent)])
            .await
            .0,
        200
    );
    assert_eq!(
        usage(&emu, acct, "api_calls", &cus, "1000", &[("timestamp", &soon)])
            .await
            .0,
        200
    );
    assert_eq!(total(&emu, acct, &meter_id, &cus, start, end).await, 30);
    let wide_start = (now() - 35 * 86_400) / 60 * 60;
    let wide_end = (now() / 60 + 3) * 60;
    assert_eq!(total(&emu, acct, &meter_id, &cus, wide_start, wide_end).await, 1130);

    // An inactive meter takes no more events.
    post(&emu, acct, &format!("/v1/billing/meters/{meter_id}/deactivate"), &[]).await;
    let (status, body) = usage(&emu, acct, "api_calls", &cus, "1", &[]).await;
    assert_eq!((status, body["error"]["param"].as_str()), (400, Some("event_name")));
}

#[tokio::test]
async fn event_summaries_aggregate_per_formula_and_grouping_window() {
    let emu = Emu::start().await;
    let sum = meter(&emu, None, "tokens", "sum").await;
    let count = meter(&emu, None, "calls", "count").await;
    let last = meter(&emu, None, "seats", "last").await;
    let cus = customer(&emu, None).await;
    let other = customer(&emu, None).await;
    let hour = now() / 3600 * 3600;
    let (two_ago, one_ago) = (hour - 7200, hour - 3600);
    // Sent out of order: `last` goes by the events' timestamps, not by arrival.
    for (offset, value) in [(one_ago + 30, "11"), (two_ago + 10, "5"), (two_ago + 20, "7")] {
        for event_name in ["tokens", "calls", "seats"] {
            let (status, body) = usage(
                &emu,
                None,
                event_name,
                &cus,
                value,
                &[("timestamp", &offset.to_string())],
            )
            .await;
            assert_eq!(status, 200, "{body}");
        }
    }
    // Another customer's usage, and usage at the end of the range (exclusive), are not counted.
    usage(
        &emu,
        None,
        "tokens",
        &other,
        "1000",
        &[("timestamp", &(one_ago + 1).to_string())],
    )
    .await;
    usage(&emu, None, "tokens", &cus, "1000", &[("timestamp", &hour.to_string())]).await;

    for (meter_id, expected) in [(&sum, 23), (&count, 3), (&last, 11)] {
        assert_eq!(
            total(&emu, None, meter_id, &cus, two_ago - 3600, hour).await,
            expected,
            "{meter_id}"
        );
    }
    assert_eq!(total(&emu, None, &sum, &other, two_ago, hour).await, 1000);
    assert_eq!(
        total(&emu, None, &sum, &cus, hour - 86_400, two_ago).await,
        0,
        "nothing then"
    );

    // Hourly: one summary per hour with usage, newest first, paged like any list.
    let path = format!("/v1/billing/meters/{sum}/event_summaries");
    let range = [
        ("customer", cus.as_str()),
        ("start_time", &(two_ago - 3600).to_string()),
        ("end_time", &hour.to_string()),
        ("value_grouping_window", "hour"),
    ];
    let (status, hourly) = get(&emu, None, &path, &range).await;
    assert_eq!(status, 200, "{hourly}");
    assert_eq!(hourly["url"], path.as_str());
    let summaries: Vec<(i64, i64, i64)> = (hourly["data"].as_array().expect("data").iter())
        .map(|s| {
            assert_eq!(s["object"], "billing.meter_event_summary");
            assert_eq!(s["meter"], sum.as_str());
            assert!(s["id"].as_str().expect("id").starts_with("mtrusg_"));
            (
                s["start_time"].as_i64().expect("start"),
                s["end_time"].as_i64().expect("end"),
                s["aggregated_value"].as_i64().expect("value"),
            )
        })
        .collect();
    assert_eq!(summaries, [(one_ago, hour, 11), (two_ago, one_ago, 12)]);
    let (_, first) = get(&emu, None, &path, &[&range[..], &[("limit", "1")]].concat()).await;
    assert_eq!(first["has_more"], true);
    let cursor = first["data"][0]["id"].as_str().expect("id");
    let (_, second) = get(&emu, None, &path, &[&range[..], &[("starting_after", cursor)]].concat()).await;
    assert_eq!(
        (second["data"][0]["start_time"].as_i64(), second["has_more"].as_bool()),
        (Some(two_ago), Some(false))
    );

    // Stripe's rules for the range.
    let day = hour / 86_400 * 86_400;
    for (params, param) in [
        (vec![("start_time", "0"), ("end_time", "60")], "customer"),
        (
            vec![
                ("customer", cus.as_str()),
                ("start_time", &(hour + 1).to_string()),
                ("end_time", &(hour + 60).to_string()),
            ],
            "start_time",
        ),
        (
            vec![
                ("customer", cus.as_str()),
                ("start_time", &hour.to_string()),
                ("end_time", &hour.to_string()),
            ],
            "start_time",
        ),
        (
            vec![
                ("customer", cus.as_str()),
                ("start_time", &(day + 3600).to_string()),
                ("end_time", &(day + 86_400).to_string()),
                ("value_grouping_window", "day"),
            ],
            "value_grouping_window",
        ),
        (
            vec![
                ("customer", "cus_nobody"),
                ("start_time", &hour.to_string()),
                ("end_time", &(hour + 60).to_string()),
            ],
            "customer",
        ),
    ] {
        let (status, body) = get(&emu, None, &path, &params).await;
        assert_eq!(status, 400, "{params:?}: {body}");
        assert_eq!(body["error"]["param"], param, "{body}");
    }
    let (status, _) = get(
        &emu,
        None,
        "/v1/billing/meters/mtr_test_61nope/event_summaries",
        &[("customer", &cus), ("start_time", "0"), ("end_time", "60")],
    )
    .await;
    assert_eq!(status, 404);
}

#[tokio::test]
async fn metered_prices_name_an_active_meter_of_the_account() {
    let emu = Emu::start().await;
    let account = emu.connect_account().await;
    let acct = Some(account.as_str());
    let meter_id = meter(&emu, acct, "tokens", "sum").await;
    let (status, product) = post(&emu, acct, "/v1/products", &[("name", "Tokens")]).await;
    assert_eq!(status, 200);
    let product = product["id"].as_str().expect("id").to_string();
    let base = [
        ("product", product.as_str()),
        ("currency", "usd"),
        ("recurring[interval]", "month"),
        ("recurring[usage_type]", "metered"),
        ("recurring[meter]", meter_id.as_str()),
    ];

    // Two tenths of a cent per token.
    let (status, decimal) = post(
        &emu,
        acct,
        "/v1/prices",
        &[&base[..], &[("unit_amount_decimal", "0.2")]].concat(),
    )
    .await;
    assert_eq!(status, 200, "{decimal}");
    assert!(decimal["unit_amount"].is_null(), "{decimal}");
    assert_eq!(decimal["unit_amount_decimal"], "0.2");
    assert_eq!(
        decimal["recurring"],
        json!({"interval": "month", "interval_count": 1, "meter": meter_id, "trial_period_days": null, "usage_type": "metered"})
    );
    assert_eq!(decimal["billing_scheme"], "per_unit");
    assert!(decimal["transform_quantity"].is_null());

    // Two dollars per thousand tokens, a started thousand counting whole.
    let (status, package) = post(
        &emu,
        acct,
        "/v1/prices",
        &[
            &base[..],
            &[
                ("unit_amount", "200"),
                ("billing_scheme", "per_unit"),
                ("transform_quantity[divide_by]", "1000"),
                ("transform_quantity[round]", "up"),
            ],
        ]
        .concat(),
    )
    .await;
    assert_eq!(status, 200, "{package}");
    assert_eq!(
        (package["unit_amount"].as_i64(), package["unit_amount_decimal"].as_str()),
        (Some(200), Some("200"))
    );
    assert_eq!(package["transform_quantity"], json!({"divide_by": 1000, "round": "up"}));
    let (_, fetched) = get(
        &emu,
        acct,
        &format!("/v1/prices/{}", package["id"].as_str().expect("id")),
        &[],
    )
    .await;
    assert_eq!(fetched, package);

    // A whole decimal is a whole unit_amount, as at Stripe.
    let (_, whole) = post(
        &emu,
        acct,
        "/v1/prices",
        &[&base[..], &[("unit_amount_decimal", "150.00")]].concat(),
    )
    .await;
    assert_eq!(
        (whole["unit_amount"].as_i64(), whole["unit_amount_decimal"].as_str()),
        (Some(150), Some("150"))
    );

    // Licensed prices are unchanged.
    let (_, licensed) = post(
        &emu,
        acct,
        "/v1/prices",
        &[
            ("product", &product),
            ("currency", "usd"),
            ("unit_amount", "1999"),
            ("recurring[interval]", "month"),
        ],
    )
    .await;
    assert_eq!(licensed["recurring"]["usage_type"], "licensed");
    assert!(licensed["recurring"]["meter"].is_null() && licensed["transform_quantity"].is_null());

    // Refusals.
    let other_meter = meter(&emu, None, "tokens", "sum").await;
    let inactive = meter(&emu, acct, "old_tokens", "sum").await;
    post(&emu, acct, &format!("/v1/billing/meters/{inactive}/deactivate"), &[]).await;
    let licensed_base = [
        ("product", product.as_str()),
        ("currency", "usd"),
        ("recurring[interval]", "month"),
    ];
    for (params, code, param) in [
        (
            [
                &licensed_base[..],
                &[("recurring[usage_type]", "metered"), ("unit_amount", "1")],
            ]
            .concat(),
            "parameter_missing",
            "recurring[meter]",
        ),
        (
            [
                &licensed_base[..],
                &[("recurring[meter]", meter_id.as_str()), ("unit_amount", "1")],
            ]
            .concat(),
            "",
            "recurring[meter]",
        ),
        (
            [
                &licensed_base[..],
                &[
                    ("recurring[usage_type]", "metered"),
                    ("recurring[meter]", other_meter.as_str()),
                    ("unit_amount", "1"),
                ],
            ]
            .concat(),
            "resource_missing",
            "recurring[meter]",
        ),
        (
            [
                &licensed_base[..],
                &[
                    ("recurring[usage_type]", "metered"),
                    ("recurring[meter]", inactive.as_str()),
                    ("unit_amount", "1"),
                ],
            ]
            .concat(),
            "",
            "recurring[meter]",
        ),
        (
            [&base[..], &[("unit_amount_decimal", "0.0000000000001")]].concat(),
            "",
            "unit_amount_decimal",
        ),
        (
            [&base[..], &[("unit_amount_decimal", "-1")]].concat(),
            "",
            "unit_amount_decimal",
        ),
        (
            [&base[..], &[("unit_amount", "1"), ("unit_amount_decimal", "1")]].concat(),
            "parameters_exclusive",
            "unit_amount",
        ),
        (
            [
                &base[..],
                &[("unit_amount", "1"), ("transform_quantity[divide_by]", "1000")],
            ]
            .concat(),
            "parameter_missing",
            "transform_quantity[round]",
        ),
        (
            [
                &base[..],
                &[
                    ("unit_amount", "1"),
                    ("transform_quantity[divide_by]", "0"),
                    ("transform_quantity[round]", "up"),
                ],
            ]
            .concat(),
            "",
            "transform_quantity[divide_by]",
        ),
        (
            [&base[..], &[("unit_amount", "1"), ("billing_scheme", "tiered")]].concat(),
            "",
            "billing_scheme",
        ),
    ] {
        let (status, body) = post(&emu, acct, "/v1/prices", &params).await;
        assert_eq!(status, 400, "{params:?}: {body}");
        assert_eq!(error_of(&body), ("invalid_request_error", code), "{body}");
        assert_eq!(body["error"]["param"], param, "{body}");
    }
    assert_eq!(
        emu.events_of_type(SK_TEST, acct, "price.created").await.len(),
        4,
        "refused prices record nothing"
    );
}
