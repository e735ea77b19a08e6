//! Meters through a project's life: concurrent quantities against a hard meter, a plan change
//! between two metered tiers (one Billing Meter shared, the metered price swapped), an edit of
//! the overage price (a new metered price, the old one retired), and going live (the live
//! tiers get Stripe objects of their own).

use dream_core::mode::Mode;
use e2e::{
    TestEnv,
    customers::ProjectApi,
    journey::{self, StripeEmulator},
};
use futures_util::future::join_all;
use reqwest::Method;
use serde_json::{Value, json};

fn tokens_meter<'a>(tier: &'a Value) -> &'a Value {
    tier["meters"]
        .as_array()
        .and_then(|m| m.iter().find(|m| m["key"] == "tokens"))
        .unwrap_or(&Value::Null)
}

async fn tiers(developer: &journey::Developer, pk: &str) -> Vec<Value> {
    let reply = developer
        .oauth(Method::GET, &format!("/tiers?publishableKey={pk}"), None)
        .await;
    assert_eq!(reply.status, 200, "{:?}", reply.body);
    reply.body["tiers"].as_array().cloned().unwrap_or_default()
}

fn tier<'a>(tiers: &'a [Value], name: &str) -> &'a Value {
    tiers.iter().find(|t| t["name"] == name).unwrap_or(&Value::Null)
}

#[tokio::test]
async fn concurrent_quantities_never_pass_a_hard_meter() {
    let env = TestEnv::get();
    let developer = journey::onboarded_developer(&env, "meters-race").await.unwrap();
    let project = journey::create_project(
        &developer,
        json!({"name": "Race", "projectType": "saas", "tiers": [
            {"name": "free", "price": 0, "limit": 10, "meters": [{"key": "tokens", "included": 1000}]}]}),
    )
    .await
    .unwrap();
    let api = ProjectApi::new(&env, &project);
    let calls = (0..40).map(|_| {
        let api = &api;
        async move {
            api.post_with(
                "/api/data",
                &[("x-user-id", "racer")],
                json!({"meter": "tokens", "quantity": 100}),
            )
            .await
        }
    });
    let replies = join_all(calls).await;
    let counted = replies.iter().filter(|r| r.status == 200).count();
    let refused = replies
        .iter()
        .filter(|r| r.status == 429 && r.error_code() == "limit_reached")
        .count();
    assert_eq!((counted, refused), (10, 30), "exactly the limit's worth of quantities");
    let usage = api.get("/api/usage", Some("racer")).await;
    let tokens = usage.body["meters"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["meter"] == "tokens")
        .cloned();
    assert_eq!(tokens.unwrap()["count"], 1000);
}

#[tokio::test]
async fn a_plan_change_swaps_the_metered_price_and_an_edit_makes_a_new_one() {
    let env = TestEnv::get();
    let stripe = StripeEmulator::new(&env);
    let developer = journey::onboarded_developer(&env, "meters-change").await.unwrap();
    let project = journey::create_project(
        &developer,
        json!({"name": "Two plans", "projectType": "saas", "tiers": [
            {"name": "free", "price": 0, "limit": 100},
            {"name": "pro", "price": 20, "meters": [
                {"key": "tokens", "included": 10000, "overage": {"price": "0.002", "per": 1000}}]},
            {"name": "team", "price": 50, "meters": [
                {"key": "tokens", "included": 50000, "overage": {"price": "0.001", "per": 1000}}]}
        ]}),
    )
    .await
    .unwrap();
    let account = developer.stripe_account().await.unwrap();
    let api = ProjectApi::new(&env, &project);

    // Both tiers report to one Billing Meter; each has its own metered price.
    let listed = tiers(&developer, &project.publishable_key).await;
    let (pro, team) = (tokens_meter(tier(&listed, "pro")), tokens_meter(tier(&listed, "team")));
    assert!(pro["stripeMeterId"].is_string(), "{pro}");
    assert_eq!(pro["stripeMeterId"], team["stripeMeterId"]);
    assert_ne!(pro["priceId"], team["priceId"]);
    let meters = stripe.get("/billing/meters", Mode::Test, Some(&account)).await;
    assert_eq!(
        meters.body["data"].as_array().map(Vec::len),
        Some(1),
        "{:?}",
        meters.body
    );

    let created = api
        .post("/api/customers", None, json!({"email": "mover@example.com"}))
        .await;
    let user = created.body["customer"]["id"].as_str().unwrap().to_owned();
    let subscription = api.subscribe(&user, "pro").await.unwrap();
    let changed = api.post("/api/change-plan", Some(&user), json!({"tier": "team"})).await;
    assert_eq!(changed.status, 200, "{:?}", changed.body);
    let live = stripe
        .get(&format!("/subscriptions/{subscription}"), Mode::Test, Some(&account))
        .await;
    let prices: Vec<&str> = live.body["items"]["data"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|i| i["price"]["id"].as_str())
        .collect();
    let team_flat = tier(&listed, "team")["priceId"].as_str().unwrap();
    assert_eq!(prices.len(), 2, "{:?}", live.body);
    assert!(
        prices.contains(&team_flat) && prices.contains(&team["priceId"].as_str().unwrap()),
        "{prices:?}"
    );
    // Metering follows at once: team's included amount.
    let counted = api
        .post_with(
            "/api/data",
            &[("x-user-id", user.as_str())],
            json!({"meter": "tokens", "quantity": 1}),
        )
        .await;
    assert_eq!(counted.body["usage"]["limit"], 50_000, "{:?}", counted.body);

    // A new overage price is a new metered price; the old one is taken off sale.
    let edited = developer
        .oauth(
            Method::PUT,
            "/tiers",
            Some(
                json!({"publishableKey": project.publishable_key, "tier": {"name": "team", "price": 50,
                "meters": [{"key": "tokens", "included": 50000, "overage": {"price": "0.0015", "per": 1000}}]}}),
            ),
        )
        .await;
    assert_eq!(edited.status, 200, "{:?}", edited.body);
    let new_meter = tokens_meter(&edited.body["tier"]);
    assert_ne!(new_meter["priceId"], team["priceId"]);
    assert_eq!(
        new_meter["stripeMeterId"], team["stripeMeterId"],
        "the same Billing Meter"
    );
    let old = stripe
        .get(
            &format!("/prices/{}", team["priceId"].as_str().unwrap()),
            Mode::Test,
            Some(&account),
        )
        .await;
    assert_eq!(old.body["active"], false, "{:?}", old.body);
    let new = stripe
        .get(
            &format!("/prices/{}", new_meter["priceId"].as_str().unwrap()),
            Mode::Test,
            Some(&account),
        )
        .await;
    assert_eq!(new.body["unit_amount_decimal"], "0.15");
    // An edit of the included amount alone changes nothing in Stripe.
    let included_only = developer
        .oauth(
            Method::PUT,
            "/tiers",
            Some(
                json!({"publishableKey": project.publishable_key, "tier": {"name": "team", "price": 50,
                "meters": [{"key": "tokens", "included": 60000, "overage": {"price": "0.0015", "per": 1000}}]}}),
            ),
        )
        .await;
    assert_eq!(included_only.status, 200, "{:?}", included_only.body);
    assert_eq!(
        tokens_meter(&included_only.body["tier"])["priceId"],
        new_meter["priceId"]
    );
}

#[tokio::test]
async fn going_live_gives_the_live_tiers_meters_of_their_own() {
    let env = TestEnv::get();
    let stripe = StripeEmulator::new(&env);
    let developer = journey::onboarded_developer(&env, "meters-live").await.unwrap();
    let test = journey::create_project(
        &developer,
        json!({"name": "Live tokens", "projectType": "saas", "tiers": [
            {"name": "free", "price": 0, "limit": 100},
            {"name": "pro", "price": 20, "spendCap": 5, "meters": [
                {"key": "tokens", "included": 10000, "overage": {"price": "0.002", "per": 1000}}]}]}),
    )
    .await
    .unwrap();
    let live = journey::promote(&developer, &test).await.unwrap();
    let account = developer.stripe_account().await.unwrap();
    let test_pro = tokens_meter(tier(&tiers(&developer, &test.publishable_key).await, "pro")).clone();
    let live_tiers = tiers(&developer, &live.publishable_key).await;
    let live_pro = tier(&live_tiers, "pro");
    assert_eq!(live_pro["spendCap"], 5);
    let live_meter = tokens_meter(live_pro);
    assert_eq!(
        (live_meter["included"].as_i64(), live_meter["overage"]["price"].as_str()),
        (Some(10_000), Some("0.002"))
    );
    assert!(
        live_meter["priceId"].is_string() && live_meter["priceId"] != test_pro["priceId"],
        "{live_meter}"
    );
    let on_live = stripe
        .get(
            &format!("/billing/meters/{}", live_meter["stripeMeterId"].as_str().unwrap()),
            Mode::Live,
            Some(&account),
        )
        .await;
    assert_eq!(
        on_live.status, 200,
        "the meter is on the live account: {:?}",
        on_live.body
    );
    let on_test = stripe
        .get(
            &format!("/billing/meters/{}", live_meter["stripeMeterId"].as_str().unwrap()),
            Mode::Test,
            Some(&account),
        )
        .await;
    assert_eq!(on_test.status, 404, "test and live never share one");
}

#[tokio::test]
async fn overage_added_to_a_tier_reaches_only_subscriptions_that_carry_it() {
    let env = TestEnv::get();
    let developer = journey::onboarded_developer(&env, "meters-added").await.unwrap();
    let project = journey::create_project(
        &developer,
        json!({"name": "Added later", "projectType": "saas", "tiers": [
            {"name": "free", "price": 0, "limit": 100},
            {"name": "pro", "price": 20, "meters": [{"key": "tokens", "included": 1000}]}]}),
    )
    .await
    .unwrap();
    let api = ProjectApi::new(&env, &project);
    let subscribe = |email: &'static str| {
        let api = &api;
        async move {
            let created = api.post("/api/customers", None, json!({"email": email})).await;
            let user = created.body["customer"]["id"].as_str().unwrap().to_owned();
            api.subscribe(&user, "pro").await.unwrap();
            user
        }
    };
    let early = subscribe("early@example.com").await;
    // An edit from a client that knows nothing of meters keeps them.
    let renamed = developer
        .oauth(
            Method::PUT,
            "/tiers",
            Some(json!({"publishableKey": project.publishable_key, "tier": {"name": "pro", "price": 20, "displayName": "Pro 2"}})),
        )
        .await;
    assert_eq!(renamed.status, 200, "{:?}", renamed.body);
    assert_eq!(
        tokens_meter(&renamed.body["tier"])["included"],
        1000,
        "{:?}",
        renamed.body
    );
    // Now overage past the 1,000.
    let metered = developer
        .oauth(
            Method::PUT,
            "/tiers",
            Some(
                json!({"publishableKey": project.publishable_key, "tier": {"name": "pro", "price": 20,
                "meters": [{"key": "tokens", "included": 1000, "overage": {"price": "0.01"}}]}}),
            ),
        )
        .await;
    assert_eq!(metered.status, 200, "{:?}", metered.body);
    let late = subscribe("late@example.com").await;
    let use_tokens = |user: String| {
        let api = &api;
        async move {
            api.post_with(
                "/api/data",
                &[("x-user-id", user.as_str())],
                json!({"meter": "tokens", "quantity": 1500}),
            )
            .await
        }
    };
    // The early subscription has no metered item: nobody would bill it, so it stays a limit.
    let refused = use_tokens(early).await;
    assert_eq!(
        (refused.status, refused.error_code()),
        (429, "limit_reached"),
        "{:?}",
        refused.body
    );
    assert_eq!(refused.body["usage"]["overageBilled"], false);
    let billed = use_tokens(late).await;
    assert_eq!(billed.status, 200, "{:?}", billed.body);
    assert_eq!(
        (
            billed.body["usage"]["overage"].as_i64(),
            billed.body["usage"]["overageBilled"].as_bool()
        ),
        (Some(500), Some(true))
    );
}
