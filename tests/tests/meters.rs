//! Usage-based billing end to end: a tier with a `tokens` meter (10,000 included, then $0.002
//! per 1,000), a customer who uses 25,000 tokens through concurrent and retried calls, the
//! overage reported to the developer's Stripe as Billing Meter events exactly once, and the
//! renewal invoice on the connected account billing exactly 15,000 tokens of overage. Plus the
//! hard limits, the spend cap and the validation around them.

use dream_core::mode::Mode;
use e2e::{
    TestEnv,
    customers::ProjectApi,
    journey::{self, StripeEmulator},
};
use serde_json::{Value, json};

/// free: 100 requests and 1,000 tokens, hard; pro ($20): 10,000 tokens then $0.002 per 1,000.
fn metered_project(cap: Option<f64>) -> Value {
    json!({"name": "Tokens API", "projectType": "saas", "tiers": [
        {"name": "free", "price": 0, "limit": 100, "meters": [{"key": "tokens", "included": 1000}]},
        {"name": "pro", "price": 20, "spendCap": cap, "meters": [
            {"key": "tokens", "included": 10000, "overage": {"price": "0.002", "per": 1000}}
        ]}
    ]})
}

async fn customer(api: &ProjectApi, email: &str) -> String {
    let created = api.post("/api/customers", None, json!({"email": email})).await;
    assert_eq!(created.status, 201, "{:?}", created.body);
    created.body["customer"]["id"].as_str().unwrap().to_owned()
}

async fn use_tokens(api: &ProjectApi, user: &str, quantity: u64, key: Option<&str>) -> e2e::Reply {
    let mut headers = vec![("x-user-id", user)];
    if let Some(key) = key {
        headers.push(("idempotency-key", key));
    }
    api.post_with("/api/data", &headers, json!({"meter": "tokens", "quantity": quantity}))
        .await
}

fn meter<'a>(usage: &'a Value, key: &str) -> &'a Value {
    usage["meters"]
        .as_array()
        .and_then(|meters| meters.iter().find(|m| m["meter"] == key))
        .unwrap_or(&Value::Null)
}

/// What Stripe's meter holds for `customer` over the subscription's current period.
async fn stripe_summary(
    stripe: &StripeEmulator,
    account: &str,
    meter: &str,
    customer: &str,
    (start, end): (i64, i64),
) -> i64 {
    // Summaries take whole minutes.
    let (start, end) = (start / 60 * 60, (end + 59) / 60 * 60);
    let reply = stripe
        .get(
            &format!("/billing/meters/{meter}/event_summaries?customer={customer}&start_time={start}&end_time={end}"),
            Mode::Test,
            Some(account),
        )
        .await;
    assert_eq!(reply.status, 200, "{:?}", reply.body);
    reply.body["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["aggregated_value"].as_f64().unwrap_or(0.0) as i64)
        .sum()
}

#[tokio::test]
async fn overage_past_the_included_tokens_is_billed_exactly_once_at_renewal() {
    let env = TestEnv::get();
    let stripe = StripeEmulator::new(&env);
    let developer = journey::onboarded_developer(&env, "meters").await.unwrap();
    let project = journey::create_project(&developer, metered_project(None))
        .await
        .unwrap();
    let account = developer.stripe_account().await.unwrap();
    let api = ProjectApi::new(&env, &project);

    // The tier's meter and overage price live on the developer's connected account.
    let meters = stripe.get("/billing/meters", Mode::Test, Some(&account)).await;
    let stripe_meter = meters.body["data"]
        .as_array()
        .and_then(|all| {
            all.iter()
                .find(|m| m["event_name"].as_str().is_some_and(|e| e.starts_with("tokens_")))
        })
        .cloned()
        .unwrap_or_else(|| panic!("a tokens meter on the account: {:?}", meters.body));
    let meter_id = stripe_meter["id"].as_str().unwrap().to_owned();

    let user = customer(&api, "tokens@example.com").await;
    let subscription = api.subscribe(&user, "pro").await.unwrap();
    let live = stripe
        .get(&format!("/subscriptions/{subscription}"), Mode::Test, Some(&account))
        .await;
    let items = live.body["items"]["data"].as_array().unwrap();
    assert_eq!(items.len(), 2, "the flat price and the metered one: {:?}", live.body);
    let metered = items
        .iter()
        .find(|i| i["price"]["recurring"]["usage_type"] == "metered")
        .expect("a metered item");
    assert_eq!(metered["price"]["recurring"]["meter"], meter_id.as_str());
    assert_eq!(metered["price"]["unit_amount_decimal"], "0.2");
    assert_eq!(metered["price"]["transform_quantity"]["divide_by"], 1000);
    let customer_id = live.body["customer"].as_str().unwrap().to_owned();
    let period = (
        items[0]["current_period_start"].as_i64().unwrap(),
        items[0]["current_period_end"].as_i64().unwrap(),
    );

    // 25,000 tokens: 20 calls of 1,000 at once, each sent twice with its key (a client's
    // retry racing the original), then 5 calls of 1,000 retried one after the other.
    let concurrent = (0..20).flat_map(|i| {
        let (api, user) = (&api, &user);
        (0..2).map(move |_| async move {
            let key = format!("tokens-batch-{i}");
            use_tokens(api, user, 1000, Some(&key)).await
        })
    });
    let replies = futures_util::future::join_all(concurrent).await;
    for reply in &replies {
        assert_eq!(reply.status, 200, "{:?}", reply.body);
    }
    let replayed = replies
        .iter()
        .filter(|r| r.header("idempotent-replayed") == Some("true"))
        .count();
    assert_eq!(replayed, 20, "each key counted once, its twin replayed");
    for i in 0..5 {
        let key = format!("tokens-tail-{i}");
        let first = use_tokens(&api, &user, 1000, Some(&key)).await;
        assert_eq!(first.status, 200, "{:?}", first.body);
        // A retry with another quantity still replays the first answer.
        let retry = use_tokens(&api, &user, 7, Some(&key)).await;
        assert_eq!(retry.body["usage"], first.body["usage"]);
    }
    let last = use_tokens(&api, &user, 1000, Some("tokens-tail-4")).await;
    assert_eq!(last.body["usage"]["count"], 25_000);
    assert_eq!(last.body["usage"]["overage"], 15_000);
    assert_eq!(last.body["usage"]["overageCost"], "0.03");
    assert_eq!(last.body["usage"]["overageBilled"], true);
    assert_eq!(last.body["usage"]["limit"], 10_000);
    assert_eq!(last.body["usage"]["remaining"], 0);

    // GET /api/usage: every meter; requests are counted apart.
    let overview = api.get("/api/usage", Some(&user)).await;
    assert_eq!(overview.status, 200, "{:?}", overview.body);
    assert_eq!(meter(&overview.body, "tokens")["count"], 25_000);
    assert_eq!(meter(&overview.body, "requests")["count"], 0);
    assert_eq!(overview.body["usage"]["meter"], "requests");

    // The counter reports the overage on its alarm: Stripe's meter ends up with exactly 15,000.
    let mut reported = 0;
    for _ in 0..300 {
        reported = stripe_summary(&stripe, &account, &meter_id, &customer_id, period).await;
        if reported >= 15_000 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert_eq!(reported, 15_000, "Stripe's meter holds the overage, once");

    // Renewal: the invoice bills the next month's flat price and this month's overage.
    let renewed = api.control(&format!("/subscriptions/{subscription}/advance")).await;
    assert_eq!(renewed.status, 200, "{:?}", renewed.body);
    let invoices = stripe
        .get(
            &format!("/invoices?subscription={subscription}"),
            Mode::Test,
            Some(&account),
        )
        .await;
    let renewal = invoices.body["data"]
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["billing_reason"] == "subscription_cycle")
        .cloned()
        .unwrap_or_else(|| panic!("a renewal invoice: {:?}", invoices.body));
    let lines = renewal["lines"]["data"].as_array().unwrap();
    let amounts: Vec<i64> = lines.iter().map(|l| l["amount"].as_i64().unwrap()).collect();
    assert!(amounts.contains(&2000), "the flat line: {lines:?}");
    // 15 packages of 1,000 at $0.002: 3 cents.
    let overage = lines
        .iter()
        .find(|l| l["amount"] == 3)
        .unwrap_or_else(|| panic!("an overage line of $0.03: {lines:?}"));
    assert_eq!(overage["quantity"], 15_000, "exactly 15,000 tokens of overage");
    assert_eq!(overage["pricing"]["unit_amount_decimal"], "0.2");
    assert_eq!(renewal["total"], 2003);
    // Stripe still holds each unit once: no report was sent twice.
    assert_eq!(
        stripe_summary(&stripe, &account, &meter_id, &customer_id, period).await,
        15_000
    );
}

#[tokio::test]
async fn the_dashboard_shows_each_meter_its_overage_revenue_and_who_nears_the_cap() {
    let env = TestEnv::get();
    let developer = journey::onboarded_developer(&env, "meters-figures").await.unwrap();
    // A cap of $0.01: 5 packages past the 10,000 included.
    let project = journey::create_project(&developer, metered_project(Some(0.01)))
        .await
        .unwrap();
    let api = ProjectApi::new(&env, &project);
    let capped = customer(&api, "near-cap@example.com").await;
    api.subscribe(&capped, "pro").await.unwrap();
    assert_eq!(use_tokens(&api, &capped, 14_000, None).await.status, 200);
    // Free users count tokens too, never billed.
    assert_eq!(use_tokens(&api, "free-user", 700, None).await.status, 200);
    let dashboard = api
        .wait_for_dashboard("the tokens meter", |d| {
            d["meters"]
                .as_array()
                .is_some_and(|m| m.iter().any(|m| m["units"] == 14_700))
        })
        .await
        .unwrap();
    let tokens = &dashboard["meters"][0];
    assert_eq!(
        (
            tokens["meter"].as_str(),
            tokens["users"].as_i64(),
            tokens["overageUnits"].as_i64()
        ),
        (Some("tokens"), Some(2), Some(4_000))
    );
    assert_eq!(tokens["overageRevenue"], "0.008", "4 packages of 1,000 at $0.002");
    let near = dashboard["nearCap"].as_array().unwrap();
    assert_eq!(near.len(), 1, "{near:?}");
    assert_eq!(
        (near[0]["userId"].as_str(), near[0]["spent"].as_str()),
        (Some(capped.as_str()), Some("0.008"))
    );
    assert_eq!(near[0]["cap"], "0.01");
}

#[tokio::test]
async fn hard_meters_refuse_a_quantity_whole_and_bad_calls_are_told_why() {
    let env = TestEnv::get();
    let developer = journey::onboarded_developer(&env, "meters-hard").await.unwrap();
    let project = journey::create_project(&developer, metered_project(None))
        .await
        .unwrap();
    let api = ProjectApi::new(&env, &project);
    let user = "hard-user";

    // free: 1,000 tokens, hard.
    assert_eq!(use_tokens(&api, user, 600, None).await.body["usage"]["count"], 600);
    let over = use_tokens(&api, user, 401, None).await;
    assert_eq!(
        (over.status, over.error_code()),
        (429, "limit_reached"),
        "{:?}",
        over.body
    );
    assert_eq!(
        over.body["usage"]["count"], 600,
        "nothing of the refused quantity was counted"
    );
    assert_eq!(over.body["usage"]["overageBilled"], false);
    assert_eq!(use_tokens(&api, user, 400, None).await.body["usage"]["count"], 1000);
    // No body still counts one request, as it always did.
    let request = api.post("/api/data", Some(user), json!({})).await;
    assert_eq!(
        (
            request.body["usage"]["meter"].as_str(),
            request.body["usage"]["count"].as_i64()
        ),
        (Some("requests"), Some(1))
    );

    for (body, expected) in [
        (json!({"meter": "tokenz"}), "Unknown meter `tokenz`"),
        (json!({"meter": "tokens", "quantity": 0}), "quantity must be"),
        (
            json!({"meter": "tokens", "quantity": 1_000_000_001u64}),
            "quantity must be",
        ),
        (json!({"meter": "tokens", "quantity": -5}), "Invalid JSON body"),
        (json!({"meter": "Tokens!"}), "meter must be"),
        (json!({"quantity": 2, "extra": true}), "unknown field"),
    ] {
        let reply = api.post("/api/data", Some(user), body.clone()).await;
        assert_eq!(
            (reply.status, reply.error_code()),
            (400, "invalid_request"),
            "{body}: {:?}",
            reply.body
        );
        assert!(
            reply.body["error"].as_str().unwrap().contains(expected),
            "{body}: {:?}",
            reply.body
        );
    }
    // A paid tier named by the plan header alone has no subscription to bill: hard at 10,000.
    let headers = [("x-user-id", "header-user"), ("x-user-plan", "pro")];
    let big = api
        .post_with("/api/data", &headers, json!({"meter": "tokens", "quantity": 10_001}))
        .await;
    assert_eq!((big.status, big.error_code()), (429, "limit_reached"), "{:?}", big.body);

    // Tier rules: overage needs a price and an included amount; limit and a requests meter clash.
    for (tiers, expected) in [
        (
            json!([{"name": "free", "price": 0, "meters": [{"key": "tokens", "included": 5, "overage": {"price": "1"}}]}]),
            "give the tier a price",
        ),
        (
            json!([{"name": "pro", "price": 5, "meters": [{"key": "tokens", "overage": {"price": "1"}}]}]),
            "give `included`",
        ),
        (
            json!([{"name": "pro", "price": 5, "limit": 5, "meters": [{"key": "requests", "included": 5}]}]),
            "not both",
        ),
        (json!([{"name": "pro", "price": 5, "spendCap": 10}]), "spend cap"),
    ] {
        let reply = developer
            .create_project(json!({"name": "Bad", "projectType": "saas", "tiers": tiers}))
            .await;
        assert_eq!(reply.status, 400, "{tiers}: {:?}", reply.body);
        assert!(
            reply.body["error"].as_str().unwrap().contains(expected),
            "{tiers}: {:?}",
            reply.body
        );
    }
}

#[tokio::test]
async fn the_spend_cap_stops_overage_where_the_cap_runs_out() {
    let env = TestEnv::get();
    let developer = journey::onboarded_developer(&env, "meters-cap").await.unwrap();
    // $0.01 of overage: 5 packages of 1,000 tokens past the 10,000 included.
    let project = journey::create_project(&developer, metered_project(Some(0.01)))
        .await
        .unwrap();
    let api = ProjectApi::new(&env, &project);
    let user = customer(&api, "capped@example.com").await;
    api.subscribe(&user, "pro").await.unwrap();

    let counted = use_tokens(&api, &user, 14_500, None).await;
    assert_eq!(counted.status, 200, "{:?}", counted.body);
    assert_eq!(counted.body["usage"]["spendCap"], 0.01);
    assert_eq!(
        counted.body["usage"]["spendCapLeft"], "0",
        "a started package is billed whole"
    );
    let refused = use_tokens(&api, &user, 501, None).await;
    assert_eq!(
        (refused.status, refused.error_code()),
        (429, "limit_reached"),
        "{:?}",
        refused.body
    );
    assert!(
        refused.body["error"].as_str().unwrap().contains("Spend cap"),
        "{:?}",
        refused.body
    );
    let fits = use_tokens(&api, &user, 500, None).await;
    assert_eq!(
        fits.body["usage"]["count"], 15_000,
        "the rest of the last package still fits"
    );
    let overview = api.get("/api/usage", Some(&user)).await;
    assert_eq!(meter(&overview.body, "tokens")["spendCapLeft"], "0");
}
