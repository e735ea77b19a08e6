//! Promotion codes (issue 26): a developer makes a 20 % code on their connected account, a
//! checkout applies it (or lets the customer type one), every invoice and the MRR are 20 %
//! lower, a deactivated or unknown code is refused, and codes stay within their project.

use dream_core::mode::Mode;
use e2e::{
    TestEnv,
    customers::{ProjectApi, metric},
    journey::{StripeEmulator, create_project, invoice_totals, onboarded_developer, saas_body, saas_project},
    shop::{price_of, products, shop},
};
use reqwest::Method;
use serde_json::json;

const TIERS: &[(&str, Option<u64>, f64)] = &[("free", Some(3), 0.0), ("pro", Some(10), 9.99)];

#[tokio::test]
async fn a_twenty_percent_code_lowers_every_invoice_and_the_mrr() {
    let env = TestEnv::get();
    let stripe = StripeEmulator::new(&env);
    let (developer, project) = saas_project(&env, TIERS).await;
    let account = developer.stripe_account().await.unwrap();
    let api = ProjectApi::new(&env, &project);
    let pk = project.publishable_key.as_str();

    // The developer makes the code; Stripe holds it on their connected account.
    let created = developer
        .promotion_code(
            pk,
            json!({"code": "LAUNCH20", "percentOff": 20, "duration": "forever", "maxRedemptions": 50}),
        )
        .await;
    assert_eq!(created.status, 201, "{:?}", created.body);
    let code = &created.body["promotionCode"];
    let id = code["id"].as_str().unwrap().to_owned();
    assert_eq!(
        (code["percentOff"].as_f64(), code["active"].as_bool()),
        (Some(20.0), Some(true))
    );
    let on_stripe = stripe
        .get(&format!("/promotion_codes/{id}"), Mode::Test, Some(&account))
        .await;
    assert_eq!(
        (on_stripe.status, on_stripe.body["code"].as_str()),
        (200, Some("LAUNCH20")),
        "{:?}",
        on_stripe.body
    );
    assert_eq!(on_stripe.body["max_redemptions"], 50);

    // What the developer cannot make: the same code in any case, a discount past 100 %.
    let again = developer
        .promotion_code(pk, json!({"code": "launch20", "amountOff": 5, "duration": "once"}))
        .await;
    assert_eq!(
        (again.status, again.error_code()),
        (409, "conflict"),
        "{:?}",
        again.body
    );
    let too_much = developer
        .promotion_code(pk, json!({"code": "FREEBIE", "percentOff": 120, "duration": "once"}))
        .await;
    assert_eq!(too_much.status, 400, "{:?}", too_much.body);
    // Nobody else's: another developer sees no such project.
    let stranger = onboarded_developer(&env, "promo-stranger").await.unwrap();
    let peek = stranger
        .oauth(Method::GET, &format!("/promotion-codes?publishableKey={pk}"), None)
        .await;
    assert_eq!(peek.status, 404, "{:?}", peek.body);

    // A checkout with the code (typed in any case): the first invoice is 20 % lower.
    let user = "promo_user_1";
    let started = api
        .post(
            "/api/create-checkout",
            Some(user),
            json!({"tier": "pro", "promotionCode": "launch20"}),
        )
        .await;
    assert_eq!(started.status, 200, "{:?}", started.body);
    let session = started.body["sessionId"].as_str().unwrap();
    let subscription = api.pay(session).await.unwrap().expect("a subscription");
    let invoices = stripe.invoices_of(&account, &subscription).await;
    assert_eq!(invoice_totals(&invoices), vec![799], "{invoices:?}");
    let dashboard = api
        .wait_for_dashboard("the discounted subscription", |d| metric(d, "activeSubscriptions") == 1)
        .await
        .unwrap();
    assert_eq!(metric(&dashboard, "mrrCents"), 799, "MRR counts what the customer pays");

    // A `forever` code discounts the renewal too.
    let renewed = api.control(&format!("/subscriptions/{subscription}/advance")).await;
    assert_eq!(renewed.status, 200, "{:?}", renewed.body);
    let invoices = stripe.invoices_of(&account, &subscription).await;
    assert_eq!(invoice_totals(&invoices), vec![799, 799]);

    // The list shows Stripe's redemption count; a deactivated code is refused at checkout.
    let listed = developer
        .oauth(Method::GET, &format!("/promotion-codes?publishableKey={pk}"), None)
        .await;
    assert_eq!(listed.status, 200, "{:?}", listed.body);
    assert_eq!(listed.body["codes"][0]["timesRedeemed"], 1, "{:?}", listed.body);
    let off = developer
        .oauth(
            Method::PUT,
            &format!("/promotion-codes/{id}"),
            Some(json!({"publishableKey": pk, "active": false})),
        )
        .await;
    assert_eq!(
        (off.status, off.body["promotionCode"]["active"].as_bool()),
        (200, Some(false)),
        "{:?}",
        off.body
    );
    let on_stripe = stripe
        .get(&format!("/promotion_codes/{id}"), Mode::Test, Some(&account))
        .await;
    assert_eq!(on_stripe.body["active"], false);
    for (body, why) in [
        (json!({"tier": "pro", "promotionCode": "LAUNCH20"}), "deactivated"),
        (json!({"tier": "pro", "promotionCode": "NOSUCHCODE"}), "unknown"),
        (
            json!({"tier": "pro", "promotionCode": "LAUNCH20", "allowPromotionCodes": true}),
            "both",
        ),
    ] {
        let refused = api.post("/api/create-checkout", Some("promo_user_2"), body).await;
        assert_eq!(
            (refused.status, refused.error_code()),
            (400, "invalid_request"),
            "{why}: {:?}",
            refused.body
        );
    }

    // Stripe's own code field: the session offers it, and the customer's code applies.
    let second = developer
        .promotion_code(
            pk,
            json!({"code": "FIVEOFF", "amountOff": 5, "duration": "repeating", "durationInMonths": 3}),
        )
        .await;
    assert_eq!(second.status, 201, "{:?}", second.body);
    let five_off = second.body["promotionCode"]["id"].as_str().unwrap().to_owned();
    // Codes stay in their project: the developer's other project cannot use or change them.
    let other = create_project(&developer, saas_body("Other SaaS", TIERS))
        .await
        .unwrap();
    let other_api = ProjectApi::new(&env, &other);
    let elsewhere = other_api
        .post(
            "/api/create-checkout",
            Some("promo_user_9"),
            json!({"tier": "pro", "promotionCode": "FIVEOFF"}),
        )
        .await;
    assert_eq!(
        (elsewhere.status, elsewhere.error_code()),
        (400, "invalid_request"),
        "{:?}",
        elsewhere.body
    );
    let not_theirs = developer
        .oauth(
            Method::PUT,
            &format!("/promotion-codes/{five_off}"),
            Some(json!({"publishableKey": other.publishable_key, "active": false})),
        )
        .await;
    assert_eq!(not_theirs.status, 404, "{:?}", not_theirs.body);
    let field = api
        .post(
            "/api/create-checkout",
            Some("promo_user_3"),
            json!({"tier": "pro", "allowPromotionCodes": true}),
        )
        .await;
    assert_eq!(field.status, 200, "{:?}", field.body);
    let field_session = field.body["sessionId"].as_str().unwrap();
    let shown = stripe
        .get(
            &format!("/checkout/sessions/{field_session}"),
            Mode::Test,
            Some(&account),
        )
        .await;
    assert_eq!(shown.body["allow_promotion_codes"], true, "{:?}", shown.body);
    let typed = api
        .control_with(
            &format!("/checkout/sessions/{field_session}/complete"),
            &[("promotion_code", "FIVEOFF")],
        )
        .await;
    assert_eq!(typed.status, 200, "{:?}", typed.body);
    assert_eq!(
        typed.body["session"]["total_details"]["amount_discount"], 500,
        "{:?}",
        typed.body
    );
    let dashboard = api
        .wait_for_dashboard("both discounted subscriptions", |d| metric(d, "mrrCents") == 799 + 499)
        .await;
    assert!(dashboard.is_ok(), "{dashboard:?}");
}

#[tokio::test]
async fn a_store_cart_takes_a_code_and_the_revenue_is_what_was_paid() {
    let env = TestEnv::get();
    let (developer, project) = shop(&env, &[("mug", 12.5, 10)]).await;
    let api = ProjectApi::new(&env, &project);
    let pk = project.publishable_key.as_str();
    let made = developer
        .promotion_code(pk, json!({"code": "MUGS5", "amountOff": 5, "duration": "once"}))
        .await;
    assert_eq!(made.status, 201, "{:?}", made.body);
    let price = price_of(&products(&api).await, "mug");
    let cart = api
        .post(
            "/api/cart/checkout",
            None,
            json!({"email": "buyer@example.com", "items": [{"priceId": price, "quantity": 2}], "promotionCode": "mugs5"}),
        )
        .await;
    assert_eq!(
        (cart.status, cart.body["amountCents"].as_i64()),
        (200, Some(2500)),
        "{:?}",
        cart.body
    );
    let paid = api
        .control(&format!(
            "/checkout/sessions/{}/complete",
            cart.body["sessionId"].as_str().unwrap()
        ))
        .await;
    assert_eq!(paid.status, 200, "{:?}", paid.body);
    assert_eq!(paid.body["session"]["amount_total"], 2000, "{:?}", paid.body);
    let dashboard = api
        .wait_for_dashboard("the discounted sale", |d| metric(d, "totalSales") == 1)
        .await
        .unwrap();
    assert_eq!(
        metric(&dashboard, "revenueCents"),
        2000,
        "revenue is what the buyer paid"
    );
    // A code that makes the cart free: Stripe asks for no payment, and it is sold all the same.
    let free = developer
        .promotion_code(pk, json!({"code": "ONTHEHOUSE", "percentOff": 100, "duration": "once"}))
        .await;
    assert_eq!(free.status, 201, "{:?}", free.body);
    let gift = api
        .post(
            "/api/cart/checkout",
            None,
            json!({"email": "friend@example.com", "items": [{"priceId": price, "quantity": 1}], "promotionCode": "ONTHEHOUSE"}),
        )
        .await;
    assert_eq!(gift.status, 200, "{:?}", gift.body);
    let given = api
        .control(&format!(
            "/checkout/sessions/{}/complete",
            gift.body["sessionId"].as_str().unwrap()
        ))
        .await;
    assert_eq!(
        given.body["session"]["payment_status"], "no_payment_required",
        "{:?}",
        given.body
    );
    let dashboard = api
        .wait_for_dashboard("the free sale", |d| metric(d, "totalSales") == 2)
        .await
        .unwrap();
    assert_eq!(
        (metric(&dashboard, "revenueCents"), metric(&dashboard, "unitsSold")),
        (2000, 3)
    );
    let unknown = api
        .post(
            "/api/cart/checkout",
            None,
            json!({"items": [{"priceId": price, "quantity": 1}], "promotionCode": "LAUNCH20"}),
        )
        .await;
    assert_eq!(
        (unknown.status, unknown.error_code()),
        (400, "invalid_request"),
        "{:?}",
        unknown.body
    );
}
