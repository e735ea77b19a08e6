//! Trials and feature entitlements (issue 26): a tier's boolean features answered by
//! `GET /api/entitlements` and `POST /api/check` (refused on free, granted on pro and during a
//! pro trial, an edit seen at once), a 14-day trial with a card that converts at the
//! emulator's renewal, one without a card that lapses, one trial per user, and the dashboard's
//! trial figures.

use dream_core::mode::Mode;
use e2e::{
    TestEnv,
    customers::{ProjectApi, metric},
    journey::{
        Developer, StripeEmulator, TestProject, create_project, eventually, invoice_totals, onboarded_developer,
    },
};
use reqwest::Method;
use serde_json::{Value, json};

async fn project_with(env: &TestEnv, pro_trial: Value) -> (Developer, TestProject) {
    let developer = onboarded_developer(env, "trials")
        .await
        .expect("onboarding a developer");
    let project = create_project(
        &developer,
        json!({"name": "Trials", "projectType": "saas", "tiers": [
            {"name": "free", "price": 0, "limit": 3, "entitlements": ["api"]},
            {"name": "pro", "price": 9.99, "limit": 10, "entitlements": ["api", "sso"], "trial": pro_trial,
             "meters": [{"key": "tokens", "included": 2}]}
        ]}),
    )
    .await
    .expect("creating a project");
    (developer, project)
}

async fn check(api: &ProjectApi, user: &str, feature: &str) -> Value {
    let reply = api
        .post_with("/api/check", &[], json!({"userId": user, "feature": feature}))
        .await;
    assert_eq!(reply.status, 200, "check {feature}: {:?}", reply.body);
    reply.body
}

async fn entitlements(api: &ProjectApi, user: &str) -> Value {
    let reply = api.get(&format!("/api/entitlements?userId={user}"), None).await;
    assert_eq!(reply.status, 200, "{:?}", reply.body);
    reply.body
}

/// Waits until the user's entitlements say `status` (webhooks arrive asynchronously).
async fn wait_for_status(api: &ProjectApi, user: &str, status: Option<&str>) -> Value {
    let last = std::cell::RefCell::new(Value::Null);
    let reached = eventually(&format!("{user} {status:?}"), || async {
        let now = entitlements(api, user).await;
        let reached = now["status"].as_str() == status;
        *last.borrow_mut() = now;
        reached
    })
    .await;
    let last = last.into_inner();
    reached.unwrap_or_else(|e| panic!("{e}; last seen {last}"));
    last
}

#[tokio::test]
async fn a_feature_granted_by_pro_is_refused_on_free_and_granted_during_a_pro_trial_that_converts() {
    let env = TestEnv::get();
    let stripe = StripeEmulator::new(&env);
    let (developer, project) = project_with(&env, json!({"days": 14})).await;
    let account = developer.stripe_account().await.unwrap();
    let api = ProjectApi::new(&env, &project);
    let user = "trial_user_1";

    // Free: `api` granted, `sso` refused as not in the plan, the requests meter counted.
    let free = entitlements(&api, user).await;
    assert_eq!(
        (free["plan"].as_str(), free["source"].as_str(), free["status"].as_str()),
        (Some("free"), Some("default"), None)
    );
    assert_eq!(free["features"], json!(["api"]));
    assert_eq!(
        free["meters"],
        json!([{"meter": "requests", "included": 3, "overage": false}])
    );
    let sso = check(&api, user, "sso").await;
    assert_eq!(
        (sso["allowed"].as_bool(), sso["reason"].as_str(), sso["plan"].as_str()),
        (Some(false), Some("not_in_plan"), Some("free"))
    );
    assert_eq!(check(&api, user, "api").await["reason"], "granted");
    assert_eq!(
        check(&api, user, "tokens").await["reason"],
        "not_in_plan",
        "a meter only pro has"
    );
    for _ in 0..3 {
        assert_eq!(api.post("/api/data", Some(user), json!({})).await.status, 200);
    }
    let requests = check(&api, user, "requests").await;
    assert_eq!(
        (requests["allowed"].as_bool(), requests["reason"].as_str()),
        (Some(false), Some("limit_reached"))
    );
    assert_eq!(requests["usage"]["count"], 3, "a check counts nothing: {requests}");

    // Bad calls are 400s that say what is wrong.
    let unknown = api
        .post_with("/api/check", &[], json!({"userId": user, "feature": "teleport"}))
        .await;
    assert_eq!(unknown.status, 400);
    assert!(
        unknown.body["error"]
            .as_str()
            .unwrap()
            .contains("api, requests, sso, tokens"),
        "{:?}",
        unknown.body
    );
    let nobody = api.post_with("/api/check", &[], json!({"feature": "sso"})).await;
    assert_eq!((nobody.status, nobody.error_code()), (400, "invalid_request"));
    let two = api
        .post_with(
            "/api/check",
            &[("x-user-id", "someone_else")],
            json!({"userId": user, "feature": "sso"}),
        )
        .await;
    assert_eq!(two.status, 400, "{:?}", two.body);
    assert_eq!(api.get("/api/entitlements", None).await.status, 400);

    // The plan header, as the project's policy trusts it.
    let vouched = api
        .post_with(
            "/api/check",
            &[("x-user-plan", "pro")],
            json!({"userId": user, "feature": "sso"}),
        )
        .await;
    assert_eq!(
        (vouched.body["allowed"].as_bool(), vouched.body["plan"].as_str()),
        (Some(true), Some("pro"))
    );

    // An edit of the free tier's features is seen by the very next check.
    let edit = developer
        .oauth(
            Method::PUT,
            "/tiers",
            Some(json!({"publishableKey": project.publishable_key,
                        "tier": {"name": "free", "price": 0, "limit": 3, "entitlements": ["api", "priority_support"]}})),
        )
        .await;
    assert_eq!(edit.status, 200, "{:?}", edit.body);
    assert_eq!(
        edit.body["tier"]["entitlements"],
        json!(["api", "priority_support"]),
        "{:?}",
        edit.body
    );
    assert_eq!(check(&api, user, "priority_support").await["allowed"], true);
    // A feature named like a meter is refused: the two share one namespace.
    let clash = developer
        .oauth(
            Method::PUT,
            "/tiers",
            Some(json!({"publishableKey": project.publishable_key,
                        "tier": {"name": "free", "price": 0, "limit": 3, "entitlements": ["tokens"]}})),
        )
        .await;
    assert_eq!(clash.status, 400, "{:?}", clash.body);

    // Checkout of pro starts a 14-day trial; paid with a card, the user is trialing on pro.
    let started = api
        .post("/api/create-checkout", Some(user), json!({"tier": "pro"}))
        .await;
    assert_eq!(started.status, 200, "{:?}", started.body);
    assert_eq!(started.body["trialDays"], 14);
    let session = started.body["sessionId"].as_str().unwrap();
    let subscription = api.pay(session).await.unwrap().expect("a subscription");
    let trialing = wait_for_status(&api, user, Some("trialing")).await;
    assert_eq!(
        (trialing["plan"].as_str(), trialing["source"].as_str()),
        (Some("pro"), Some("subscription"))
    );
    let sub = stripe
        .get(&format!("/subscriptions/{subscription}"), Mode::Test, Some(&account))
        .await;
    let trial_end = dream_core::period::Timestamp(sub.body["trial_end"].as_i64().expect("trial_end")).to_rfc3339();
    assert_eq!(trialing["trialEndsAt"].as_str(), Some(trial_end.as_str()));
    assert_eq!(
        trialing["currentPeriodEnd"].as_str(),
        Some(trial_end.as_str()),
        "the trial is the first period"
    );
    let granted = check(&api, user, "sso").await;
    assert_eq!(
        (granted["allowed"].as_bool(), granted["reason"].as_str()),
        (Some(true), Some("granted"))
    );
    let tokens = check(&api, user, "tokens").await;
    assert_eq!(
        (tokens["reason"].as_str(), tokens["usage"]["limit"].as_i64()),
        (Some("within_limit"), Some(2))
    );
    // The trial's usage counts in the trial's period.
    let counted = api.post("/api/data", Some(user), json!({})).await;
    assert_eq!(
        counted.body["usage"]["periodEnd"].as_str(),
        Some(trial_end.as_str()),
        "{:?}",
        counted.body
    );
    let dashboard = api
        .wait_for_dashboard("one trialing subscription", |d| metric(d, "trialing") == 1)
        .await
        .unwrap();
    assert_eq!(
        (
            metric(&dashboard, "activeSubscriptions"),
            metric(&dashboard, "mrrCents"),
            metric(&dashboard, "trialsEnded")
        ),
        (1, 0, 0),
        "a trial pays nothing yet"
    );

    // The trial ends at the emulator's renewal: the card is charged, the user is active on pro.
    let renewed = api.control(&format!("/subscriptions/{subscription}/advance")).await;
    assert_eq!(renewed.status, 200, "{:?}", renewed.body);
    let active = wait_for_status(&api, user, Some("active")).await;
    assert_eq!(
        (active["plan"].as_str(), active["trialEndsAt"].as_str()),
        (Some("pro"), None)
    );
    let dashboard = api
        .wait_for_dashboard("a converted trial", |d| metric(d, "trialsConverted") == 1)
        .await
        .unwrap();
    assert_eq!(
        (
            metric(&dashboard, "trialing"),
            metric(&dashboard, "trialsEnded"),
            metric(&dashboard, "mrrCents")
        ),
        (0, 1, 999)
    );
    let invoices = stripe.invoices_of(&account, &subscription).await;
    let totals = invoice_totals(&invoices);
    assert_eq!(
        totals,
        vec![999, 0],
        "newest first: the first paid period, then the trial's $0 invoice"
    );

    // One trial per user: after canceling, a new checkout starts paying at once.
    let canceled = stripe
        .delete_on(&format!("/subscriptions/{subscription}"), Mode::Test, Some(&account))
        .await;
    assert_eq!(canceled.status, 200, "{:?}", canceled.body);
    wait_for_status(&api, user, None).await;
    assert_eq!(check(&api, user, "sso").await["allowed"], false, "free again");
    let again = api
        .post("/api/create-checkout", Some(user), json!({"tier": "pro"}))
        .await;
    assert_eq!(again.status, 200, "{:?}", again.body);
    assert_eq!(again.body["trialDays"], Value::Null, "{:?}", again.body);
    let dashboard = api.dashboard().await;
    assert_eq!(
        metric(&dashboard, "trialsConverted"),
        1,
        "a conversion stays counted after the cancel"
    );
}

#[tokio::test]
async fn a_trial_without_a_card_lapses_when_it_ends() {
    let env = TestEnv::get();
    let stripe = StripeEmulator::new(&env);
    let (developer, project) = project_with(&env, json!({"days": 7, "cardRequired": false})).await;
    let account = developer.stripe_account().await.unwrap();
    let api = ProjectApi::new(&env, &project);
    let user = "cardless_1";

    let started = api
        .post("/api/create-checkout", Some(user), json!({"tier": "pro"}))
        .await;
    assert_eq!(
        (started.status, started.body["trialDays"].as_i64()),
        (200, Some(7)),
        "{:?}",
        started.body
    );
    let session = started.body["sessionId"].as_str().unwrap();
    let on_stripe = stripe
        .get(&format!("/checkout/sessions/{session}"), Mode::Test, Some(&account))
        .await;
    assert_eq!(on_stripe.body["payment_method_collection"], "if_required");
    // The customer leaves Stripe's page without giving a card.
    let subscription = api.pay(session).await.unwrap().expect("a subscription");
    let on_stripe = stripe
        .get(&format!("/subscriptions/{subscription}"), Mode::Test, Some(&account))
        .await;
    assert_eq!(
        (
            on_stripe.body["status"].as_str(),
            &on_stripe.body["default_payment_method"]
        ),
        (Some("trialing"), &Value::Null)
    );
    let trialing = wait_for_status(&api, user, Some("trialing")).await;
    assert_eq!(trialing["plan"], "pro");
    assert_eq!(
        check(&api, user, "sso").await["allowed"],
        true,
        "granted during the trial"
    );

    // The trial ends with no card: Stripe cancels the subscription, the user is free again.
    let ended = api.control(&format!("/subscriptions/{subscription}/advance")).await;
    assert_eq!(ended.status, 200, "{:?}", ended.body);
    let free = wait_for_status(&api, user, None).await;
    assert_eq!(
        (free["plan"].as_str(), free["source"].as_str()),
        (Some("free"), Some("default"))
    );
    assert_eq!(check(&api, user, "sso").await["reason"], "not_in_plan");
    let dashboard = api
        .wait_for_dashboard("a lapsed trial", |d| metric(d, "trialsEnded") == 1)
        .await
        .unwrap();
    assert_eq!(
        (
            metric(&dashboard, "trialing"),
            metric(&dashboard, "trialsConverted"),
            metric(&dashboard, "activeSubscriptions")
        ),
        (0, 0, 0)
    );
}
