//! Currencies (issue 26): a project priced in euros has euro prices on Stripe, euro invoices,
//! euro codes and euro figures; a Store's orders are in its currency; yen, which have no
//! decimals, are whole yen on Stripe and in every figure.

use dream_core::mode::Mode;
use e2e::{
    TestEnv,
    customers::{ProjectApi, metric},
    journey::{StripeEmulator, create_project, invoice_totals, onboarded_developer},
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

    // Refused before anything is made: an unknown currency.
    let refused = developer
        .oauth(
            Method::POST,
            "/create-products",
            Some(
                json!({"name": "X", "projectType": "saas", "currency": "xyz", "tiers": [{"name": "free", "price": 0}]}),
            ),
        )
        .await;
    // A body that does not parse is a 422 `invalid_request`, as on every dashboard route.
    assert_eq!(
        (refused.status, refused.error_code()),
        (422, "invalid_request"),
        "{:?}",
        refused.body
    );
    assert!(
        refused.body["error"].as_str().unwrap().contains("one of"),
        "{:?}",
        refused.body
    );

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

#[tokio::test]
async fn a_yen_project_counts_whole_yen_everywhere() {
    let env = TestEnv::get();
    let stripe = StripeEmulator::new(&env);
    let developer = onboarded_developer(&env, "yen").await.unwrap();
    let account = developer.stripe_account().await.unwrap();
    let fraction = developer
        .oauth(
            Method::POST,
            "/create-products",
            Some(json!({"name": "Yen", "projectType": "saas", "currency": "jpy",
                        "tiers": [{"name": "free", "price": 0}, {"name": "pro", "price": 1500.5}]})),
        )
        .await;
    assert_eq!(fraction.status, 400, "{:?}", fraction.body);
    assert!(
        fraction.body["error"].as_str().unwrap().contains("JPY has no decimals"),
        "{:?}",
        fraction.body
    );

    let project = create_project(
        &developer,
        json!({"name": "Yen API", "projectType": "saas", "currency": "jpy",
               "tiers": [{"name": "free", "price": 0, "limit": 3}, {"name": "pro", "price": 1500, "limit": 10}]}),
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
    let pro = tiers.body["tiers"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["name"] == "pro")
        .unwrap()
        .clone();
    assert_eq!(
        (pro["price"].as_i64(), pro["currency"].as_str()),
        (Some(1500), Some("jpy")),
        "{pro}"
    );
    let price = stripe
        .get(
            &format!("/prices/{}", pro["priceId"].as_str().unwrap()),
            Mode::Test,
            Some(&account),
        )
        .await;
    assert_eq!(price.body["unit_amount"], 1500, "whole yen on Stripe: {:?}", price.body);
    let code = developer
        .promotion_code(
            &project.publishable_key,
            json!({"code": "YEN100", "amountOff": 100, "duration": "once"}),
        )
        .await;
    assert_eq!(code.status, 201, "{:?}", code.body);
    let coupon = stripe
        .get(
            &format!("/coupons/{}", code.body["promotionCode"]["couponId"].as_str().unwrap()),
            Mode::Test,
            Some(&account),
        )
        .await;
    assert_eq!(coupon.body["amount_off"], 100);

    let api = ProjectApi::new(&env, &project);
    let subscription = api.subscribe("yen_user", "pro").await.unwrap();
    assert_eq!(
        invoice_totals(&stripe.invoices_of(&account, &subscription).await),
        vec![1500]
    );
    let dashboard = api
        .wait_for_dashboard("the yen subscription", |d| metric(d, "activeSubscriptions") == 1)
        .await
        .unwrap();
    assert_eq!(
        (dashboard["currency"].as_str(), metric(&dashboard, "mrrCents")),
        (Some("jpy"), 1500)
    );

    // A Store in yen holds and sells whole yen.
    let shop = create_project(
        &developer,
        json!({"name": "Yen Shop", "projectType": "store", "currency": "jpy",
               "tiers": [{"name": "mug", "price": 1200, "inventory": 5}]}),
    )
    .await
    .unwrap();
    let shop_api = ProjectApi::new(&env, &shop);
    let listed = shop_api.get("/api/products", None).await;
    let products = listed.body["products"].as_array().unwrap().clone();
    assert_eq!(
        (products[0]["price"].as_i64(), products[0]["priceCents"].as_i64()),
        (Some(1200), Some(1200))
    );
    let cart = shop_api
        .post(
            "/api/cart/checkout",
            None,
            json!({"email": "buyer@example.com", "items": [{"priceId": price_of(&products, "mug"), "quantity": 2}]}),
        )
        .await;
    assert_eq!(
        (cart.status, cart.body["amountCents"].as_i64()),
        (200, Some(2400)),
        "{:?}",
        cart.body
    );
    let paid = shop_api
        .control(&format!(
            "/checkout/sessions/{}/complete",
            cart.body["sessionId"].as_str().unwrap()
        ))
        .await;
    assert_eq!(paid.body["session"]["amount_total"], 2400, "{:?}", paid.body);
    let dashboard = shop_api
        .wait_for_dashboard("the yen sale", |d| metric(d, "totalSales") == 1)
        .await
        .unwrap();
    assert_eq!(metric(&dashboard, "revenueCents"), 2400);
}
