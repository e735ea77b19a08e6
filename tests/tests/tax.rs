//! Sales tax (issue 26): a project turns Stripe Tax on; a German customer's subscription is
//! taxed (per the emulator's table: 19 %) and a US one's is not; prices made inclusive are made
//! again on Stripe; a Store cart is taxed and the revenue says how much of it was tax.

use dream_core::mode::Mode;
use e2e::{
    TestEnv,
    customers::{ProjectApi, metric},
    journey::{Developer, StripeEmulator, TestProject, create_project, onboarded_developer},
    shop::{price_of, products, shop},
};
use reqwest::Method;
use serde_json::{Value, json};

async fn set_tax(developer: &Developer, project: &TestProject, settings: Value) -> Value {
    let mut body = json!({"publishableKey": project.publishable_key});
    body.as_object_mut()
        .unwrap()
        .extend(settings.as_object().unwrap().clone());
    let saved = developer.oauth(Method::PUT, "/project-settings", Some(body)).await;
    assert_eq!(saved.status, 200, "{:?}", saved.body);
    saved.body["tax"].clone()
}

async fn pro_tier(developer: &Developer, project: &TestProject) -> Value {
    let tiers = developer
        .oauth(
            Method::GET,
            &format!("/tiers?publishableKey={}", project.publishable_key),
            None,
        )
        .await;
    tiers.body["tiers"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["name"] == "pro")
        .cloned()
        .unwrap()
}

/// Checkout of `pro` for `user`, completed from `country`; the subscription's first invoice.
async fn subscribe_from(api: &ProjectApi, stripe: &StripeEmulator, account: &str, user: &str, country: &str) -> Value {
    let started = api
        .post("/api/create-checkout", Some(user), json!({"tier": "pro"}))
        .await;
    assert_eq!(started.status, 200, "{:?}", started.body);
    let session = started.body["sessionId"].as_str().unwrap();
    let shown = stripe
        .get(&format!("/checkout/sessions/{session}"), Mode::Test, Some(account))
        .await;
    assert_eq!(shown.body["automatic_tax"]["enabled"], true, "{:?}", shown.body);
    let paid = api
        .control_with(
            &format!("/checkout/sessions/{session}/complete"),
            &[("country", country)],
        )
        .await;
    assert_eq!(paid.status, 200, "{:?}", paid.body);
    let subscription = paid.body["session"]["subscription"].as_str().unwrap();
    let invoices = stripe.invoices_of(&account, &subscription).await;
    invoices[0].clone()
}

fn tax_of(invoice: &Value) -> i64 {
    invoice["total_taxes"]
        .as_array()
        .map_or(0, |taxes| taxes.iter().map(|t| t["amount"].as_i64().unwrap()).sum())
}

#[tokio::test]
async fn a_german_subscription_is_taxed_a_us_one_is_not_and_inclusive_prices_are_made_again() {
    let env = TestEnv::get();
    let stripe = StripeEmulator::new(&env);
    let developer = onboarded_developer(&env, "tax").await.unwrap();
    // `pro` bills token overage: its metered price must say how tax applies too.
    let project = create_project(
        &developer,
        json!({"name": "Taxed", "projectType": "saas", "tiers": [
            {"name": "free", "price": 0, "limit": 3},
            {"name": "pro", "price": 9.99, "limit": 10,
             "meters": [{"key": "tokens", "included": 100, "overage": {"price": "0.01", "per": 1}}]}
        ]}),
    )
    .await
    .unwrap();
    let account = developer.stripe_account().await.unwrap();
    let api = ProjectApi::new(&env, &project);

    let before = pro_tier(&developer, &project).await;
    assert_eq!(
        before["taxBehavior"], "exclusive",
        "new prices say how tax applies: {before}"
    );
    let tax = set_tax(&developer, &project, json!({"automaticTax": true})).await;
    assert_eq!(tax, json!({"automaticTax": true, "taxBehavior": "exclusive"}));
    assert_eq!(
        pro_tier(&developer, &project).await["priceId"],
        before["priceId"],
        "nothing to make again"
    );

    let german = subscribe_from(&api, &stripe, &account, "tax_de", "DE").await;
    assert_eq!(
        (german["total"].as_i64(), tax_of(&german)),
        (Some(1189), 190),
        "{german}"
    );
    let american = subscribe_from(&api, &stripe, &account, "tax_us", "US").await;
    assert_eq!(
        (american["total"].as_i64(), tax_of(&american)),
        (Some(999), 0),
        "{american}"
    );
    let dashboard = api
        .wait_for_dashboard("two subscriptions", |d| metric(d, "activeSubscriptions") == 2)
        .await
        .unwrap();
    assert_eq!(metric(&dashboard, "mrrCents"), 2 * 999, "MRR before tax");
    assert_eq!(
        dashboard["tax"],
        json!({"automaticTax": true, "taxBehavior": "exclusive"})
    );

    // Prices that include tax: each paid tier's Stripe price is made again.
    set_tax(&developer, &project, json!({"taxBehavior": "inclusive"})).await;
    let after = pro_tier(&developer, &project).await;
    assert_ne!(after["priceId"], before["priceId"]);
    assert_eq!(after["taxBehavior"], "inclusive");
    let price = stripe
        .get(
            &format!("/prices/{}", after["priceId"].as_str().unwrap()),
            Mode::Test,
            Some(&account),
        )
        .await;
    assert_eq!(
        (price.body["tax_behavior"].as_str(), price.body["unit_amount"].as_i64()),
        (Some("inclusive"), Some(999))
    );
    let old = stripe
        .get(
            &format!("/prices/{}", before["priceId"].as_str().unwrap()),
            Mode::Test,
            Some(&account),
        )
        .await;
    assert_eq!(old.body["active"], false, "the replaced price sells nothing new");
    let metered = after["meters"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["key"] == "tokens")
        .and_then(|m| m["priceId"].as_str())
        .unwrap()
        .to_owned();
    let metered = stripe
        .get(&format!("/prices/{metered}"), Mode::Test, Some(&account))
        .await;
    assert_eq!(metered.body["tax_behavior"], "inclusive", "{:?}", metered.body);
    let included = subscribe_from(&api, &stripe, &account, "tax_de_2", "DE").await;
    assert_eq!(
        (included["total"].as_i64(), tax_of(&included)),
        (Some(999), 160),
        "{included}"
    );

    // A value that is not a tax behaviour is refused.
    let bad = developer
        .oauth(
            Method::PUT,
            "/project-settings",
            Some(json!({"publishableKey": project.publishable_key, "taxBehavior": "sometimes"})),
        )
        .await;
    assert_eq!(
        (bad.status, bad.error_code()),
        (422, "invalid_request"),
        "{:?}",
        bad.body
    );
}

#[tokio::test]
async fn a_taxed_cart_shows_its_tax_in_the_revenue() {
    let env = TestEnv::get();
    let stripe = StripeEmulator::new(&env);
    let (developer, project) = shop(&env, &[("mug", 12.5, 10)]).await;
    let account = developer.stripe_account().await.unwrap();
    let api = ProjectApi::new(&env, &project);
    set_tax(&developer, &project, json!({"automaticTax": true})).await;
    let price = price_of(&products(&api).await, "mug");
    let cart = api
        .post(
            "/api/cart/checkout",
            None,
            json!({"email": "buyer@example.com", "items": [{"priceId": price, "quantity": 2}]}),
        )
        .await;
    assert_eq!(cart.status, 200, "{:?}", cart.body);
    let session = cart.body["sessionId"].as_str().unwrap();
    let shown = stripe
        .get(&format!("/checkout/sessions/{session}"), Mode::Test, Some(&account))
        .await;
    assert_eq!(shown.body["automatic_tax"]["enabled"], true);
    let paid = api
        .control_with(&format!("/checkout/sessions/{session}/complete"), &[("country", "FR")])
        .await;
    assert_eq!(paid.status, 200, "{:?}", paid.body);
    assert_eq!(
        paid.body["session"]["total_details"]["amount_tax"], 500,
        "20 % of 25.00"
    );
    let dashboard = api
        .wait_for_dashboard("the taxed sale", |d| metric(d, "totalSales") == 1)
        .await
        .unwrap();
    assert_eq!(
        (metric(&dashboard, "revenueCents"), metric(&dashboard, "taxCents")),
        (3000, 500)
    );
}
