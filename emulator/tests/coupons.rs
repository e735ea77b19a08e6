//! Coupons and promotion codes through their API: Stripe's shapes (the current promotion
//! code shape, with its coupon under `promotion`), ids per account, refusals, updates, lists
//! and their filters, deletion. What they do to checkouts, subscriptions and invoices is
//! `discounts.rs`.

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

#[tokio::test]
async fn coupons_have_stripes_shape_and_refusals() {
    let emu = Emu::start().await;
    let coupon = post(
        &emu,
        "/v1/coupons",
        &[("percent_off", "20"), ("duration", "forever"), ("name", "Twenty")],
    )
    .await;
    let id = coupon["id"].as_str().expect("id");
    assert!(
        id.len() == 8 && id.bytes().all(|b| b.is_ascii_uppercase() || b.is_ascii_digit()),
        "{id}"
    );
    assert_eq!(
        (
            &coupon["object"],
            &coupon["percent_off"],
            &coupon["amount_off"],
            &coupon["valid"],
            &coupon["times_redeemed"]
        ),
        (&json!("coupon"), &json!(20.0), &Value::Null, &json!(true), &json!(0))
    );
    assert!(coupon["percent_off"].is_f64(), "a float, as Stripe writes it");

    let fixed = post(
        &emu,
        "/v1/coupons",
        &[
            ("id", "TENOFF"),
            ("amount_off", "1000"),
            ("currency", "USD"),
            ("duration", "repeating"),
            ("duration_in_months", "3"),
            ("max_redemptions", "5"),
            ("metadata[campaign]", "spring"),
        ],
    )
    .await;
    assert_eq!(
        (
            &fixed["id"],
            &fixed["currency"],
            &fixed["duration_in_months"],
            &fixed["max_redemptions"]
        ),
        (&json!("TENOFF"), &json!("usd"), &json!(3), &json!(5))
    );
    assert_eq!(get(&emu, "/v1/coupons/TENOFF", &[]).await, fixed);
    // The default duration is once.
    let once = post(&emu, "/v1/coupons", &[("amount_off", "50"), ("currency", "usd")]).await;
    assert_eq!(once["duration"], "once");

    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64;
    let past = (now - 60).to_string();
    for (params, expected) in [
        (
            vec![("id", "TENOFF"), ("percent_off", "5")],
            refused(400, "id", "resource_already_exists"),
        ),
        (vec![("duration", "forever")], refused(400, "percent_off", "")),
        (
            vec![("percent_off", "5"), ("amount_off", "5"), ("currency", "usd")],
            refused(400, "amount_off", "parameters_exclusive"),
        ),
        (
            vec![("amount_off", "500")],
            refused(400, "currency", "parameter_missing"),
        ),
        (vec![("percent_off", "120")], refused(400, "percent_off", "")),
        (vec![("percent_off", "0")], refused(400, "percent_off", "")),
        (
            vec![("percent_off", "5"), ("duration", "repeating")],
            refused(400, "duration_in_months", "parameter_missing"),
        ),
        (
            vec![("percent_off", "5"), ("duration_in_months", "2")],
            refused(400, "duration_in_months", ""),
        ),
        (
            vec![("percent_off", "5"), ("duration", "weekly")],
            refused(400, "duration", ""),
        ),
        (
            vec![("percent_off", "5"), ("redeem_by", &past)],
            refused(400, "redeem_by", ""),
        ),
        (
            vec![("percent_off", "5"), ("max_redemptions", "0")],
            refused(400, "max_redemptions", ""),
        ),
        (
            vec![("percent_off", "5"), ("applies_to[products][]", "prod_x")],
            refused(400, "applies_to", "parameter_unknown"),
        ),
    ] {
        let (status, body) = emu.post("/v1/coupons", SK_TEST, &params).await;
        assert_eq!(refusal(status, &body), expected, "{params:?}: {body}");
    }

    // Only the name and metadata change.
    let renamed = post(&emu, "/v1/coupons/TENOFF", &[("name", "Ten off")]).await;
    assert_eq!(renamed["name"], "Ten off");
    let (status, body) = emu.post("/v1/coupons/TENOFF", SK_TEST, &[("percent_off", "5")]).await;
    assert_eq!(refusal(status, &body), refused(400, "percent_off", "parameter_unknown"));
    let updated = emu.events_of_type(SK_TEST, None, "coupon.updated").await;
    assert_eq!(updated[0]["data"]["previous_attributes"], json!({"name": null}));

    let listed = get(&emu, "/v1/coupons", &[("limit", "2")]).await;
    assert_eq!(listed["data"].as_array().expect("data").len(), 2);
    assert_eq!(listed["has_more"], true);

    // A coupon id is the account's own: a connected account may have its own TENOFF.
    let account = emu.connect_account().await;
    let (status, theirs) = emu
        .post_as(
            "/v1/coupons",
            SK_TEST,
            &account,
            &[("id", "TENOFF"), ("percent_off", "10")],
        )
        .await;
    assert_eq!((status, &theirs["percent_off"]), (200, &json!(10.0)), "{theirs}");
    assert_eq!(get(&emu, "/v1/coupons/TENOFF", &[]).await["amount_off"], 1000);

    let (status, deleted) = emu.delete("/v1/coupons/TENOFF", SK_TEST).await;
    assert_eq!(
        (status, deleted),
        (200, json!({"id": "TENOFF", "object": "coupon", "deleted": true}))
    );
    let (status, gone) = emu.get("/v1/coupons/TENOFF", SK_TEST, &[]).await;
    assert_eq!(refusal(status, &gone), refused(404, "id", "resource_missing"));
    assert_eq!(emu.events_of_type(SK_TEST, None, "coupon.created").await.len(), 3);
    assert_eq!(emu.events_of_type(SK_TEST, None, "coupon.deleted").await.len(), 1);
}

#[tokio::test]
async fn promotion_codes_have_the_current_shape_unique_active_codes_and_list_filters() {
    let emu = Emu::start().await;
    post(
        &emu,
        "/v1/coupons",
        &[("id", "SUMMER"), ("percent_off", "20"), ("max_redemptions", "10")],
    )
    .await;
    let code = post(
        &emu,
        "/v1/promotion_codes",
        &[
            ("promotion[type]", "coupon"),
            ("promotion[coupon]", "SUMMER"),
            ("code", "SAVE20"),
            ("max_redemptions", "3"),
            ("restrictions[first_time_transaction]", "true"),
            ("metadata[channel]", "newsletter"),
        ],
    )
    .await;
    let id = code["id"].as_str().expect("id").to_string();
    assert!(id.starts_with("promo_"), "{id}");
    assert_eq!(
        (
            &code["object"],
            &code["code"],
            &code["active"],
            &code["promotion"],
            &code["times_redeemed"]
        ),
        (
            &json!("promotion_code"),
            &json!("SAVE20"),
            &json!(true),
            &json!({"coupon": "SUMMER", "type": "coupon"}),
            &json!(0)
        )
    );
    assert_eq!(
        code["restrictions"],
        json!({"first_time_transaction": true, "minimum_amount": null, "minimum_amount_currency": null})
    );
    assert!(
        code.get("coupon").is_none(),
        "the current API has no top-level coupon: {code}"
    );
    // Older API versions name the coupon at the top level; the object is the same.
    let legacy = post(&emu, "/v1/promotion_codes", &[("coupon", "SUMMER"), ("code", "SUNNY")]).await;
    assert_eq!(legacy["promotion"]["coupon"], "SUMMER");
    let generated = post(&emu, "/v1/promotion_codes", &[("coupon", "SUMMER")]).await;
    assert!(!generated["code"].as_str().expect("code").is_empty());
    // expand[]=promotion.coupon gives the coupon.
    let expanded = get(
        &emu,
        &format!("/v1/promotion_codes/{id}"),
        &[("expand[]", "promotion.coupon")],
    )
    .await;
    assert_eq!(expanded["promotion"]["coupon"]["percent_off"], 20.0);

    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64;
    let past = (now - 1).to_string();
    for (params, expected) in [
        (vec![("coupon", "SUMMER"), ("code", "save20")], refused(400, "code", "")),
        (
            vec![("code", "NOCOUPON")],
            refused(400, "promotion", "parameter_missing"),
        ),
        (
            vec![("promotion[type]", "coupon"), ("promotion[coupon]", "NOPE")],
            refused(400, "promotion[coupon]", "resource_missing"),
        ),
        (
            vec![
                ("promotion[type]", "coupon"),
                ("promotion[coupon]", "SUMMER"),
                ("coupon", "SUMMER"),
            ],
            refused(400, "coupon", "parameters_exclusive"),
        ),
        (
            vec![("promotion[coupon]", "SUMMER")],
            refused(400, "promotion[type]", "parameter_missing"),
        ),
        (
            vec![("coupon", "SUMMER"), ("code", "BAD CODE")],
            refused(400, "code", ""),
        ),
        (
            vec![("coupon", "SUMMER"), ("expires_at", &past)],
            refused(400, "expires_at", ""),
        ),
        (
            vec![("coupon", "SUMMER"), ("max_redemptions", "11")],
            refused(400, "max_redemptions", ""),
        ),
    ] {
        let (status, body) = emu.post("/v1/promotion_codes", SK_TEST, &params).await;
        assert_eq!(refusal(status, &body), expected, "{params:?}: {body}");
    }

    let by_code = get(&emu, "/v1/promotion_codes", &[("code", "save20")]).await;
    assert_eq!(by_code["data"][0]["id"], id.as_str());
    let by_coupon = get(&emu, "/v1/promotion_codes", &[("coupon", "SUMMER")]).await;
    assert_eq!(by_coupon["data"].as_array().expect("data").len(), 3);

    // Deactivated, its code is free again; reactivating it then is refused.
    let off = post(&emu, &format!("/v1/promotion_codes/{id}"), &[("active", "false")]).await;
    assert_eq!(off["active"], false);
    let updated = emu.events_of_type(SK_TEST, None, "promotion_code.updated").await;
    assert_eq!(updated[0]["data"]["previous_attributes"], json!({"active": true}));
    let inactive = get(&emu, "/v1/promotion_codes", &[("active", "false")]).await;
    assert_eq!(inactive["data"].as_array().expect("data").len(), 1);
    post(&emu, "/v1/promotion_codes", &[("coupon", "SUMMER"), ("code", "Save20")]).await;
    let (status, body) = emu
        .post(&format!("/v1/promotion_codes/{id}"), SK_TEST, &[("active", "true")])
        .await;
    assert_eq!(refusal(status, &body), refused(400, "code", ""), "{body}");
    let (status, body) = emu
        .post(&format!("/v1/promotion_codes/{id}"), SK_TEST, &[("code", "OTHER")])
        .await;
    assert_eq!(refusal(status, &body), refused(400, "code", "parameter_unknown"));
    assert_eq!(
        emu.events_of_type(SK_TEST, None, "promotion_code.created").await.len(),
        4
    );
}
