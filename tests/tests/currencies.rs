//! Currencies (issue 26): a project priced in euros has euro prices on Stripe, euro invoices,
//! euro codes and euro figures; a Store's orders are in its currency; a zero-decimal currency
//! is refused with a message that says why.

use dream_core::mode::Mode;
use e2e::{
    TestEnv,
    customers::{ProjectApi, metric},
    journey::{StripeEmulator, create_project, onboarded_developer},
    shop::price_of,
};
use reqwest::Method;
use serde_json::json;

#[tokio::test]
async fn a_euro_project_prices_bills_and_counts_in_euros() {
    let env = TestEnv::get();
    let stripe = StripeEmulator::new(&env);
    let developer = onboarded_developer(&env, "euros").await.unwrap();
    let account = developer.stripe_account().await.unwrap();

    // Refused before anything is made: a currency without decimals, an unknown one.
    for (currency, why) in [("jpy", "no decimals"), ("xyz", "one of")] {
        let refused = developer
            .oauth(
                Method::POST,
                "/create-products",
                Some(json!({"name": "Yen", "projectType": "saas", "currency": currency,
                            "tiers": [{"name": "free", "price": 0}]})),
            )
            .await;
        // A body that does not parse is a 422 `invalid_request`, as on every dashboard route.
        assert_eq!(
            (refused.status, refused.error_code()),
            (422, "invalid_request"),
            "{currency}: {:?}",
            refused.body
        );
        assert!(
            refused.body["error"].as_str().unwrap().contains(why),
            "{:?}",
            refused.body
        );
    }

    let project = create_project(
        &developer,
        json!({"name": "Euro API", "projectType": "saas", "currency": "EUR",
               "tiers": [{"name": "free", "price": 0, "limit": 3}, {"name": "pro", "price": 9.99, "limit": 10}]}),
    )
    .await
    .unwrap();
    let tiers = developer
        .oauth(
            Method::GET,
            &format!("/tiers?publishableKey={}", project.publishable_key),
            None,
        )
        .await;
    assert_eq!(tiers.body["currency"], "eur", "{:?}", tiers.body);
    let pro = tiers.body["tiers"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["name"] == "pro")
        .unwrap()
        .clone();
    assert_eq!(pro["currency"], "eur");
    let price = stripe
        .get(
            &format!("/prices/{}", pro["priceId"].as_str().unwrap()),
            Mode::Test,
            Some(&account),
        )
        .await;
    assert_eq!(
        (price.body["currency"].as_str(), price.body["unit_amount"].as_i64()),
        (Some("eur"), Some(999))
    );

    // A code in euros, a subscription billed in euros, figures in euros.
    let code = developer
        .promotion_code(
            &project.publishable_key,
            json!({"code": "EURO2", "amountOff": 2, "duration": "once"}),
        )
        .await;
    assert_eq!(
        (code.status, code.body["promotionCode"]["currency"].as_str()),
        (201, Some("eur")),
        "{:?}",
        code.body
    );
    let coupon = stripe
        .get(
            &format!("/coupons/{}", code.body["promotionCode"]["couponId"].as_str().unwrap()),
            Mode::Test,
            Some(&account),
        )
        .await;
    assert_eq!(
        (coupon.body["currency"].as_str(), coupon.body["amount_off"].as_i64()),
        (Some("eur"), Some(200))
    );
    let api = ProjectApi::new(&env, &project);
    let subscription = api.subscribe("euro_user", "pro").await.unwrap();
    let invoices = stripe.invoices_of(&account, &subscription).await;
    assert_eq!(invoices[0]["currency"], "eur");
    let dashboard = api
        .wait_for_dashboard("the euro subscription", |d| metric(d, "activeSubscriptions") == 1)
        .await
        .unwrap();
    assert_eq!(
        (dashboard["currency"].as_str(), metric(&dashboard, "mrrCents")),
        (Some("eur"), 999)
    );
}

#[tokio::test]
async fn a_pound_store_sells_in_pounds() {
    let env = TestEnv::get();
    let developer = onboarded_developer(&env, "pounds").await.unwrap();
    let project = create_project(
        &developer,
        json!({"name": "Pound Shop", "projectType": "store", "currency": "gbp",
               "tiers": [{"name": "mug", "price": 8.5, "inventory": 5}]}),
    )
    .await
    .unwrap();
    let api = ProjectApi::new(&env, &project);
    let listed = api.get("/api/products", None).await;
    let products = listed.body["products"].as_array().unwrap().clone();
    assert_eq!(products[0]["currency"], "gbp", "{:?}", listed.body);
    let cart = api
        .post(
            "/api/cart/checkout",
            None,
            json!({"email": "buyer@example.com", "items": [{"priceId": price_of(&products, "mug"), "quantity": 2}]}),
        )
        .await;
    assert_eq!(cart.status, 200, "{:?}", cart.body);
    let paid = api
        .control(&format!(
            "/checkout/sessions/{}/complete",
            cart.body["sessionId"].as_str().unwrap()
        ))
        .await;
    assert_eq!(
        (paid.status, paid.body["session"]["currency"].as_str()),
        (200, Some("gbp")),
        "{:?}",
        paid.body
    );
    let dashboard = api
        .wait_for_dashboard("the pound sale", |d| metric(d, "totalSales") == 1)
        .await
        .unwrap();
    assert_eq!(
        (dashboard["currency"].as_str(), metric(&dashboard, "revenueCents")),
        (Some("gbp"), 1700)
    );
    assert_eq!(
        dashboard["recentOrders"][0]["currency"], "gbp",
        "{:?}",
        dashboard["recentOrders"]
    );
}
