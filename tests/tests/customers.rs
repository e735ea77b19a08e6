//! Customers and the Connect webhook under attack and misuse: forged, stale and tampered
//! deliveries; another developer's Stripe account forging a project's key into its metadata;
//! customers invisible across projects; and every route refusing bad input with a clear 4xx.

use std::time::{SystemTime, UNIX_EPOCH};

use dream_core::{mode::Mode, period::Timestamp};
use e2e::{
    Reply, TestEnv, client,
    customers::{ProjectApi, clerk_plan, end_user_api, figures},
    journey::{self, StripeEmulator, onboarded_developer, saas_project},
};
use serde_json::{Value, json};
use shared::stripe_events::webhook::sign;

const TIERS: &[(&str, Option<u64>, f64)] = &[("free", Some(3), 0.0), ("pro", Some(10), 9.99)];

fn now() -> Timestamp {
    Timestamp(SystemTime::now().duration_since(UNIX_EPOCH).unwrap().as_secs() as i64)
}

async fn deliver(env: &TestEnv, body: &str, signature: Option<String>) -> Reply {
    let mut req = client()
        .post(format!("{}/webhook/stripe", env.api_multi))
        .header("content-type", "application/json")
        .body(body.to_owned());
    if let Some(signature) = signature {
        req = req.header("stripe-signature", signature);
    }
    Reply::from(req.send().await.unwrap()).await
}

#[tokio::test]
async fn forged_stale_and_tampered_deliveries_are_refused_and_change_nothing() {
    let env = TestEnv::get();
    let stripe = StripeEmulator::new(&env);
    let (developer, project) = saas_project(&env, TIERS).await;
    let account = developer.stripe_account().await.unwrap();
    let api = ProjectApi::new(&env, &project);
    let subscription = api.subscribe("user_1", "pro").await.unwrap();
    let before = figures(&api.dashboard().await);

    // A genuine event of this subscription, rewritten to say it was canceled.
    let events = stripe
        .get("/events?type=customer.subscription.created", Mode::Test, Some(&account))
        .await;
    let mut event = events.body["data"][0].clone();
    assert_eq!(event["data"]["object"]["id"], subscription.as_str());
    event["id"] = json!(format!("evt_forged_{}", now().0));
    event["type"] = json!("customer.subscription.deleted");
    event["data"]["object"]["status"] = json!("canceled");
    let body = event.to_string();
    let secret = &env.connect_webhook_secret;

    let cases = [
        ("no signature", None),
        ("another secret", Some(sign(body.as_bytes(), "whsec_attacker", now()))),
        (
            "stale timestamp",
            Some(sign(body.as_bytes(), secret, Timestamp(now().0 - 301))),
        ),
        ("garbage", Some("t=1,v1=zz".to_owned())),
    ];
    for (what, signature) in cases {
        let reply = deliver(&env, &body, signature).await;
        assert_eq!(
            (reply.status, reply.error_code()),
            (400, "invalid_request"),
            "{what}: {:?}",
            reply.body
        );
    }
    let signed = sign(body.as_bytes(), secret, now());
    let tampered = body.replace("\"canceled\"", "\"incomplete_expired\"");
    let reply = deliver(&env, &tampered, Some(signed.clone())).await;
    assert_eq!(reply.status, 400, "a tampered body: {:?}", reply.body);
    assert_eq!(
        figures(&api.dashboard().await),
        before,
        "nothing refused changed anything"
    );
    assert_eq!(api.usage("user_1").await["plan"], "pro");

    // Correctly signed but lying about the state: the state is read from Stripe, not the body.
    let reply = deliver(&env, &body, Some(signed)).await;
    assert_eq!(reply.status, 200, "{:?}", reply.body);
    assert_eq!(reply.body["result"]["outcome"], "applied");
    assert_eq!(reply.body["result"]["status"], "active");
    assert_eq!(api.usage("user_1").await["plan"], "pro");
}

#[tokio::test]
async fn another_developers_account_cannot_write_into_a_project() {
    let env = TestEnv::get();
    let stripe = StripeEmulator::new(&env);
    let (_, victim) = saas_project(&env, TIERS).await;
    let attacker = onboarded_developer(&env, "attacker").await.unwrap();
    let acct = attacker.stripe_account().await.unwrap();
    let on = |path: &'static str, form: Vec<(&'static str, String)>| {
        let (stripe, acct) = (stripe.clone(), acct.clone());
        async move { stripe.create_on(&acct, path, &form).await }
    };
    // The attacker's own product, price and customer, with the victim's key in the metadata.
    let pk = victim.publishable_key.clone();
    let product = on("/products", vec![("name", "Pro".into())]).await;
    let price = on(
        "/prices",
        vec![
            ("product", product),
            ("unit_amount", "100".into()),
            ("currency", "usd".into()),
            ("recurring[interval]", "month".into()),
        ],
    )
    .await;
    let customer = on("/customers", vec![("email", "x@attacker.example".into())]).await;
    let session = on(
        "/checkout/sessions",
        vec![
            ("mode", "subscription".into()),
            ("customer", customer),
            ("line_items[0][price]", price),
            ("line_items[0][quantity]", "1".into()),
            ("success_url", "https://attacker.example/ok".into()),
            ("metadata[publishableKey]", pk.clone()),
            ("metadata[userId]", "victim_user".into()),
            ("metadata[tier]", "pro".into()),
            ("subscription_data[metadata][publishableKey]", pk.clone()),
            ("subscription_data[metadata][userId]", "victim_user".into()),
            ("subscription_data[metadata][tier]", "pro".into()),
        ],
    )
    .await;
    let api = ProjectApi::new(&env, &victim);
    let subscription = api.pay(&session).await.unwrap().expect("subscription");

    // Wait until api-multi has answered the forged events, then check nothing changed.
    let events = stripe.get("/events?limit=100", Mode::Test, Some(&acct)).await;
    let forged: Vec<String> = events.body["data"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| {
            e["data"]["object"]["id"] == subscription.as_str()
                || e["data"]["object"]["subscription"] == subscription.as_str()
        })
        .map(|e| e["id"].as_str().unwrap().to_owned())
        .collect();
    assert!(!forged.is_empty());
    for id in &forged {
        journey::eventually("the forged event to be answered", || async {
            stripe
                .deliveries(id)
                .await
                .iter()
                .any(|d| d["url"].as_str().unwrap_or("").starts_with(&env.api_multi) && d["ok"] == true)
        })
        .await
        .unwrap();
        let answers = stripe.deliveries(id).await;
        let body = answers
            .iter()
            .find(|d| d["url"].as_str().unwrap_or("").starts_with(&env.api_multi))
            .unwrap()["response_body"]
            .as_str()
            .unwrap()
            .to_owned();
        assert!(body.contains("\"ignored\""), "{id}: {body}");
    }
    assert_eq!(api.usage("victim_user").await["plan"], "free");
    let dashboard = api.dashboard().await;
    assert_eq!(dashboard["metrics"]["activeSubscriptions"], 0);
    assert_eq!(dashboard["metrics"]["customers"], 0);
}

#[tokio::test]
async fn customers_are_per_project_and_retries_return_the_same_customer() {
    let env = TestEnv::get();
    let (developer, a) = saas_project(&env, TIERS).await;
    let (_, b) = saas_project(&env, TIERS).await;
    let a_live = journey::promote(&developer, &a).await.unwrap();
    let (api_a, api_b, api_live) = (
        ProjectApi::new(&env, &a),
        ProjectApi::new(&env, &b),
        ProjectApi::new(&env, &a_live),
    );
    let email = format!("shared-{}@example.com", now().0);
    let body = json!({"email": email, "plan": "pro"});

    let first = api_a.post("/api/customers", None, body.clone()).await;
    assert_eq!(first.status, 201, "{:?}", first.body);
    let retry = api_a.post("/api/customers", None, body.clone()).await;
    assert_eq!((retry.status, retry.body["created"].as_bool()), (200, Some(false)));
    assert_eq!(retry.body["customer"]["id"], first.body["customer"]["id"]);

    // The same person in another developer's project and in the live mode of the first.
    let in_b = api_b.post("/api/customers", None, json!({"email": email})).await;
    assert_eq!(in_b.status, 201, "{:?}", in_b.body);
    assert_eq!(in_b.body["customer"]["plan"], "free", "B does not see A's plan");
    let in_live = api_live.post("/api/customers", None, json!({"email": email})).await;
    assert_eq!(in_live.status, 201, "{:?}", in_live.body);

    let only_in_a = api_a
        .post(
            "/api/customers",
            None,
            json!({"email": format!("only-a-{}@example.com", now().0)}),
        )
        .await;
    let only_id = only_in_a.body["customer"]["id"].as_str().unwrap().to_owned();
    let listed = |d: &Value| -> Vec<String> {
        d["customers"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| c["email"].as_str().unwrap_or("").to_owned())
            .collect()
    };
    assert_eq!(listed(&api_a.dashboard().await).len(), 2);
    assert_eq!(listed(&api_b.dashboard().await), vec![email.clone()]);
    assert_eq!(listed(&api_live.dashboard().await), vec![email.clone()]);
    assert_eq!(api_a.usage(&only_id).await["plan"], "free");
    assert_eq!(
        api_a.usage(first.body["customer"]["id"].as_str().unwrap()).await["plan"],
        "pro"
    );
    assert_eq!(
        api_b.usage(first.body["customer"]["id"].as_str().unwrap()).await["plan"],
        "free"
    );
    let portal = api_b.post("/api/customer-portal", Some(&only_id), json!({})).await;
    assert_eq!((portal.status, portal.error_code()), (404, "not_found"));
}

/// A form post to the end-user Clerk app's pages, as the person's browser would send it:
/// (status, redirect location, page).
async fn end_user_form(env: &TestEnv, path: &str, fields: &[(&str, &str)]) -> (u16, Option<String>, String) {
    let no_redirects = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let resp = no_redirects
        .post(format!("{}{path}", env.clerk_end_user_base()))
        .form(fields)
        .send()
        .await
        .expect("the Clerk emulator");
    let status = resp.status().as_u16();
    let location = resp.headers().get("location").map(|l| l.to_str().unwrap().to_owned());
    (status, location, resp.text().await.unwrap())
}

async fn end_user_sign_in(env: &TestEnv, email: &str, password: &str) -> u16 {
    let fields = [
        ("email", email),
        ("password", password),
        ("redirect_url", "http://localhost:3000/app"),
    ];
    end_user_form(env, "/sign-in", &fields).await.0
}

#[tokio::test]
async fn no_project_can_set_learn_or_depend_on_another_projects_customer_credentials() {
    let env = TestEnv::get();
    let (_, a) = saas_project(&env, TIERS).await;
    let (_, b) = saas_project(&env, TIERS).await;
    let (api_a, api_b) = (ProjectApi::new(&env, &a), ProjectApi::new(&env, &b));
    let victim = format!("victim-{}@corp.example", now().0);

    // Developer A tries to plant a password on a person: refused before anything is created,
    // however weak or strong, so a bad password says nothing about who exists.
    for password in ["a-knows-this-one", "abc"] {
        let planted = api_a
            .post("/api/customers", None, json!({"email": victim, "password": password}))
            .await;
        assert_eq!(
            (planted.status, planted.error_code()),
            (400, "invalid_request"),
            "{:?}",
            planted.body
        );
        assert!(
            planted.body["error"]
                .as_str()
                .unwrap()
                .contains("only they set its password")
        );
    }
    let clerk_users = end_user_api(&env, &format!("/v1/users?email_address={victim}")).await;
    assert_eq!(
        clerk_users.as_array().map(Vec::len),
        Some(0),
        "nothing created: {clerk_users}"
    );
    assert_eq!(api_a.dashboard().await["metrics"]["customers"], 0);

    // A adds the person without one; B adds them later and gets the same answer as for an email
    // nobody knew: nothing tells B the person was A's customer.
    let in_a = api_a.post("/api/customers", None, json!({"email": victim})).await;
    assert_eq!(in_a.status, 201, "{:?}", in_a.body);
    let in_b = api_b.post("/api/customers", None, json!({"email": victim})).await;
    let fresh = api_b
        .post(
            "/api/customers",
            None,
            json!({"email": format!("fresh-{}@corp.example", now().0)}),
        )
        .await;
    assert_eq!(
        (in_b.status, &in_b.body["created"]),
        (fresh.status, &fresh.body["created"])
    );
    let shape = |r: &Reply| -> Vec<String> { r.body["customer"].as_object().unwrap().keys().cloned().collect() };
    assert_eq!(shape(&in_b), shape(&fresh));

    // No password a project could know opens B's customer ...
    assert_eq!(end_user_sign_in(&env, &victim, "a-knows-this-one").await, 422);
    // ... until the person sets their own, with the code only their inbox receives.
    let (status, _, _) = end_user_form(&env, "/reset-password", &[("email", &victim)]).await;
    assert_eq!(status, 200);
    let outbox = end_user_api(&env, &format!("/_emulator/emails?to={victim}")).await;
    let code = outbox["data"][0]["code"]
        .as_str()
        .expect("a code was emailed")
        .to_owned();
    let (status, location, _) = end_user_form(
        &env,
        "/reset-password/verify",
        &[("email", &victim), ("code", &code), ("password", "victims-own-secret")],
    )
    .await;
    assert_eq!(
        (status, location),
        (200, None),
        "no redirect asked: a page says it is set"
    );
    assert_eq!(end_user_sign_in(&env, &victim, "a-knows-this-one").await, 422);
    assert_eq!(end_user_sign_in(&env, &victim, "victims-own-secret").await, 302);

    // Each project's claim on the person is its own small entry.
    let id = in_a.body["customer"]["id"].as_str().unwrap();
    assert_eq!(in_b.body["customer"]["id"], id, "one identity per person");
    assert_eq!(clerk_plan(&env, id, &a.publishable_key).await, Value::Null);
    let user = end_user_api(&env, &format!("/v1/users/{id}")).await;
    let projects = user["public_metadata"]["projects"].as_object().unwrap();
    assert_eq!(projects.len(), 2, "{projects:?}");
    assert!(projects.values().all(|entry| entry["at"].is_i64()), "{projects:?}");
}

#[tokio::test]
async fn bad_input_gets_a_clear_4xx_and_writes_nothing() {
    let env = TestEnv::get();
    let (developer, project) = saas_project(&env, TIERS).await;
    let api = ProjectApi::new(&env, &project);
    let cases: Vec<(&str, Option<&str>, Value, u16, &str)> = vec![
        ("/api/customers", None, json!({}), 400, "email"),
        ("/api/customers", None, json!({"email": "not-an-email"}), 400, "email"),
        (
            "/api/customers",
            None,
            json!({"email": "a@b.io", "plan": "gold"}),
            400,
            "Unknown plan",
        ),
        (
            "/api/customers",
            None,
            json!({"email": "a@b.io", "admin": true}),
            400,
            "unknown field",
        ),
        (
            "/api/customers",
            None,
            json!({"email": "a@b.io", "firstName": "x".repeat(101)}),
            400,
            "firstName",
        ),
        ("/api/create-checkout", None, json!({"tier": "pro"}), 400, "x-user-id"),
        ("/api/create-checkout", Some("u1"), json!({}), 400, "tier"),
        (
            "/api/create-checkout",
            Some("u1"),
            json!({"tier": "gold"}),
            400,
            "Unknown tier",
        ),
        (
            "/api/create-checkout",
            Some("u1"),
            json!({"tier": "free"}),
            400,
            "free tier",
        ),
        (
            "/api/create-checkout",
            Some("u1"),
            json!({"tier": "pro", "successUrl": "javascript:alert(1)"}),
            400,
            "successUrl",
        ),
        (
            "/api/create-checkout",
            Some("u1"),
            json!({"tier": "pro", "cancelUrl": "/relative"}),
            400,
            "cancelUrl",
        ),
        (
            "/api/create-checkout",
            Some("u 1"),
            json!({"tier": "pro"}),
            400,
            "visible ASCII",
        ),
        ("/api/customer-portal", Some("u1"), json!({}), 404, "billing account"),
        (
            "/api/customer-portal",
            Some("u1"),
            json!({"returnUrl": "ftp://x"}),
            400,
            "returnUrl",
        ),
        (
            "/api/change-plan",
            Some("u1"),
            json!({"tier": "pro"}),
            404,
            "no active subscription",
        ),
        (
            "/api/change-plan",
            Some("u1"),
            json!({"tier": "free"}),
            400,
            "free tier",
        ),
    ];
    for (path, user, body, status, expected) in cases {
        let reply = api.post(path, user, body.clone()).await;
        assert_eq!(reply.status, status, "{path} {body}: {:?}", reply.body);
        reply.error_code();
        let message = reply.body["error"].as_str().unwrap();
        assert!(message.contains(expected), "{path} {body}: {message}");
    }
    let dashboard = api.dashboard().await;
    assert_eq!(
        dashboard["metrics"]["customers"], 0,
        "no refused request wrote a customer"
    );

    let unauthenticated = Reply::from(
        client()
            .get(format!("{}/api/dashboard", env.api_multi))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(
        (unauthenticated.status, unauthenticated.error_code()),
        (401, "unauthorized")
    );

    // A Store key gets a clear refusal for subscriptions and plans.
    let store = journey::create_project(
        &developer,
        json!({"name": "Shop", "projectType": "store", "tiers": [{"name": "mug", "price": 12, "inventory": 3}]}),
    )
    .await
    .unwrap();
    let shop = ProjectApi::new(&env, &store);
    let refused = shop
        .post("/api/create-checkout", Some("u1"), json!({"tier": "mug"}))
        .await;
    assert_eq!((refused.status, refused.error_code()), (400, "invalid_request"));
    assert!(refused.body["error"].as_str().unwrap().contains("Store"));
    let with_plan = shop
        .post("/api/customers", None, json!({"email": "b@shop.io", "plan": "mug"}))
        .await;
    assert_eq!(with_plan.status, 400);
    assert_eq!(shop.dashboard().await["metrics"]["inStock"], 3);
}

#[tokio::test]
async fn the_developers_dashboard_shows_the_same_figures_and_only_to_them() {
    let env = TestEnv::get();
    let (developer, project) = saas_project(&env, TIERS).await;
    let api = ProjectApi::new(&env, &project);
    api.subscribe("user_1", "pro").await.unwrap();
    let path = format!("/dashboard?publishableKey={}", project.publishable_key);
    let by_session = developer.front(reqwest::Method::GET, &path, None).await;
    assert_eq!(by_session.status, 200, "{:?}", by_session.body);
    assert_eq!(figures(&by_session.body), figures(&api.dashboard().await));
    assert_eq!(by_session.body["metrics"]["mrrCents"], 999);

    let other = onboarded_developer(&env, "other").await.unwrap();
    let refused = other.front(reqwest::Method::GET, &path, None).await;
    assert_eq!((refused.status, refused.error_code()), (404, "not_found"));
}

#[tokio::test]
async fn a_project_adds_a_bounded_number_of_customers_a_day_to_the_shared_sign_in() {
    let env = TestEnv::get();
    let (_, project) = saas_project(&env, TIERS).await;
    let api = ProjectApi::new(&env, &project);
    let bound = shared::identity::end_users::customers_per_day(Mode::Test);
    // A day's worth of customers, as if the API had made them (through it, the per-project
    // rate limit would stretch this over minutes).
    let at = |t: Timestamp| t.to_rfc3339();
    env.d1_execute(&format!(
        "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < {bound})
         INSERT INTO customers (publishableKey, userId, platformId, email, createdAt, updatedAt)
         SELECT k.publishableKey, 'bulk_' || n.i, k.platformId, 'bulk' || n.i || '@example.com', '{now}', '{now}'
         FROM n, api_keys k WHERE k.publishableKey = '{pk}';",
        now = at(now()),
        pk = project.publishable_key,
    ));
    let create = |email: &str| api.post("/api/customers", None, json!({ "email": email }));
    let refused = create("one-more@example.com").await;
    assert_eq!(
        (refused.status, refused.error_code()),
        (403, "quota_exceeded"),
        "{:?}",
        refused.body
    );
    assert_eq!(refused.body["customersPerDay"], bound);
    // Another project is not held back by this one.
    let (_, other) = saas_project(&env, TIERS).await;
    let elsewhere = ProjectApi::new(&env, &other)
        .post("/api/customers", None, json!({ "email": "one-more@example.com" }))
        .await;
    assert_eq!(elsewhere.status, 201, "{:?}", elsewhere.body);
    // A day later the bound has room again.
    env.d1_execute(&format!(
        "UPDATE customers SET createdAt = '{}' WHERE publishableKey = '{}' AND userId LIKE 'bulk\\_%' ESCAPE '\\';",
        at(Timestamp(now().0 - 25 * 3600)),
        project.publishable_key,
    ));
    let next_day = create("next-day@example.com").await;
    assert_eq!(next_day.status, 201, "{:?}", next_day.body);
}
