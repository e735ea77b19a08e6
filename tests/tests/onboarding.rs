//! The developer's whole journey, as one scenario per project type: sign in → platform id →
//! $15 checkout in the emulator → webhook marks the plan paid → connect Stripe → create a
//! project → use its keys → edit tiers → promote to live → rotate keys.

use dream_core::mode::Mode;
use e2e::{
    MeteredApi, Reply, TestEnv,
    journey::{self, Developer, StripeEmulator, TestProject, eventually, unique_email},
    stack::local_keys,
};
use reqwest::Method;
use serde_json::{Value, json};

async fn clerk_metadata(env: &TestEnv, user_id: &str) -> Value {
    let reply = Reply::from(
        e2e::client()
            .get(format!("{}/v1/users/{user_id}", env.clerk_dev_base()))
            .bearer_auth(local_keys::CLERK_SECRET_KEY)
            .send()
            .await
            .unwrap(),
    )
    .await;
    reply.body["public_metadata"].clone()
}

async fn track(api: &MeteredApi, project: &TestProject, user: &str) -> Reply {
    api.track(&[
        ("authorization", &project.bearer()),
        ("x-user-id", user),
        ("x-user-plan", "free"),
    ])
    .await
}

async fn stripe_account(developer: &Developer) -> String {
    let credentials = developer.front(Method::GET, "/get-credentials", None).await;
    credentials.body["stripeAccountId"]
        .as_str()
        .expect("connected account")
        .to_owned()
}

#[tokio::test]
async fn saas_journey_from_sign_in_to_rotated_live_keys() {
    let env = TestEnv::get();
    let api = MeteredApi::new(&env);
    let stripe = StripeEmulator::new(&env);
    let developer = Developer::sign_in(&env, &unique_email("journey")).await.unwrap();

    // Platform id: created once, the same on every call, mirrored into Clerk.
    let platform_id = developer.platform_id().await.unwrap();
    assert!(platform_id.starts_with("plt_"), "{platform_id}");
    assert_eq!(developer.platform_id().await.unwrap(), platform_id);
    assert_eq!(
        clerk_metadata(&env, &developer.user_id).await["platformId"],
        platform_id.as_str()
    );
    assert_eq!(developer.plan().await.as_deref(), Some("free"));

    // Unpaid: no projects.
    let refused = developer
        .create_project(journey::saas_body("Too early", &[("free", Some(3), 0.0)]))
        .await;
    assert_eq!(refused.status, 403, "{:?}", refused.body);

    // $15 checkout, paid in the emulator; the webhook marks the plan paid in D1 and Clerk.
    let checkout = developer.front(Method::POST, "/create-checkout", None).await;
    assert_eq!(checkout.status, 200, "{:?}", checkout.body);
    let url = checkout.body["url"].as_str().unwrap();
    assert!(url.starts_with(&format!("{}/checkout/cs_test_", env.emulator)), "{url}");
    developer.pay_platform_plan().await.unwrap();
    eventually("Clerk metadata plan=paid", || async {
        clerk_metadata(&env, &developer.user_id).await["plan"] == "paid"
    })
    .await
    .unwrap();
    let again = developer.front(Method::POST, "/create-checkout", None).await;
    assert_eq!(again.status, 409, "a paid platform is not sold the plan twice");

    // Connect Stripe through the OAuth pages.
    let callback = developer.connect_stripe().await.unwrap();
    assert_eq!(callback.status, 200, "{:?}", callback.body);
    assert_eq!(callback.body["connected"], true);
    let account = stripe_account(&developer).await;
    assert!(account.starts_with("acct_"), "{account}");

    // A SaaS project: free (3 requests) and pro ($9.99, 100).
    let created = developer
        .create_project(journey::saas_body(
            "Chat API",
            &[("free", Some(3), 0.0), ("pro", Some(100), 9.99)],
        ))
        .await;
    assert_eq!(created.status, 200, "{:?}", created.body);
    let test = journey::project_from(&created.body["project"]).unwrap();
    assert_eq!(test.mode, Mode::Test);
    let tiers = created.body["project"]["tiers"].as_array().unwrap();
    let pro_price = tiers.iter().find(|t| t["name"] == "pro").unwrap()["priceId"]
        .as_str()
        .unwrap()
        .to_owned();
    assert!(
        tiers.iter().find(|t| t["name"] == "free").unwrap()["priceId"].is_null(),
        "free tiers need no Stripe price"
    );
    // The price exists on the developer's connected account, recurring monthly, and nowhere else.
    let price = stripe
        .get(&format!("/prices/{pro_price}"), Mode::Test, Some(&account))
        .await;
    assert_eq!(
        (price.status, price.body["unit_amount"].as_i64()),
        (200, Some(999)),
        "{:?}",
        price.body
    );
    assert_eq!(price.body["recurring"]["interval"], "month");
    assert_eq!(
        stripe
            .get(&format!("/prices/{pro_price}"), Mode::Test, None)
            .await
            .status,
        404
    );

    // Its test secret key works on the metered API; free allows 3.
    for expected in 1..=3 {
        assert_eq!(track(&api, &test, "alice").await.body["usage"]["count"], expected);
    }
    assert_eq!(track(&api, &test, "alice").await.status, 429);

    // Raise the free limit: no new keys, and api-multi enforces it on the next request.
    let edit = developer
        .oauth(
            Method::PUT,
            "/tiers",
            Some(json!({"publishableKey": test.publishable_key, "tier": {"name": "free", "price": 0, "limit": 5}})),
        )
        .await;
    assert_eq!(edit.status, 200, "{:?}", edit.body);
    assert_eq!(track(&api, &test, "alice").await.body["usage"]["count"], 4);
    assert_eq!(track(&api, &test, "alice").await.body["usage"]["count"], 5);
    let at_limit = track(&api, &test, "alice").await;
    assert_eq!(
        (at_limit.status, at_limit.body["usage"]["limit"].as_u64()),
        (429, Some(5))
    );

    // A price change is a new Stripe price; the old one is deactivated.
    let repriced = developer
        .oauth(
            Method::PUT,
            "/tiers",
            Some(
                json!({"publishableKey": test.publishable_key, "tier": {"name": "pro", "price": 19.99, "limit": 100}}),
            ),
        )
        .await;
    let new_price = repriced.body["tier"]["priceId"].as_str().unwrap();
    assert_ne!(new_price, pro_price);
    assert_eq!(
        stripe
            .get(&format!("/prices/{pro_price}"), Mode::Test, Some(&account))
            .await
            .body["active"],
        false
    );
    assert_eq!(
        stripe
            .get(&format!("/prices/{new_price}"), Mode::Test, Some(&account))
            .await
            .body["unit_amount"],
        1999
    );

    // Add a tier and use it at once; delete it and its product is archived.
    let added = developer
        .oauth(
            Method::POST,
            "/tiers/add",
            Some(json!({"publishableKey": test.publishable_key, "tier": {"name": "team", "price": 49, "limit": 1000}})),
        )
        .await;
    assert_eq!(added.status, 200, "{:?}", added.body);
    let team = api
        .track(&[
            ("authorization", &test.bearer()),
            ("x-user-id", "bob"),
            ("x-user-plan", "team"),
        ])
        .await;
    assert_eq!((team.status, team.body["usage"]["limit"].as_u64()), (200, Some(1000)));
    let team_product = added.body["tier"]["productId"].as_str().unwrap().to_owned();
    let deleted = developer
        .oauth(
            Method::DELETE,
            &format!("/tiers?publishableKey={}&name=team", test.publishable_key),
            None,
        )
        .await;
    assert_eq!(deleted.status, 200, "{:?}", deleted.body);
    assert_eq!(
        stripe
            .get(&format!("/products/{team_product}"), Mode::Test, Some(&account))
            .await
            .body["active"],
        false
    );
    let gone = api
        .track(&[
            ("authorization", &test.bearer()),
            ("x-user-id", "bob"),
            ("x-user-plan", "team"),
        ])
        .await;
    assert_eq!(gone.status, 400, "a deleted tier is no longer a plan");
    let listed = developer
        .oauth(
            Method::GET,
            &format!("/tiers?publishableKey={}", test.publishable_key),
            None,
        )
        .await;
    assert_eq!(listed.body["tiers"].as_array().unwrap().len(), 2);

    // Promote to live: new live products and keys; live sees none of the test data.
    let live = journey::promote(&developer, &test).await.unwrap();
    assert_eq!(
        (live.mode, live.project_id.as_str()),
        (Mode::Live, test.project_id.as_str())
    );
    assert_eq!(track(&api, &live, "alice").await.body["usage"]["count"], 1);
    let live_tiers = developer
        .oauth(
            Method::GET,
            &format!("/tiers?publishableKey={}", live.publishable_key),
            None,
        )
        .await;
    let live_price = live_tiers.body["tiers"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["name"] == "pro")
        .unwrap()["priceId"]
        .clone();
    let live_price = stripe
        .get(
            &format!("/prices/{}", live_price.as_str().unwrap()),
            Mode::Live,
            Some(&account),
        )
        .await;
    assert_eq!(
        (
            live_price.body["livemode"].as_bool(),
            live_price.body["unit_amount"].as_i64()
        ),
        (Some(true), Some(1999))
    );
    let twice = developer
        .oauth(
            Method::POST,
            "/promote-to-live",
            Some(json!({"publishableKey": test.publishable_key})),
        )
        .await;
    assert_eq!(twice.status, 409, "{:?}", twice.body);
    let promoted_live_key = developer
        .oauth(
            Method::POST,
            "/promote-to-live",
            Some(json!({"publishableKey": live.publishable_key})),
        )
        .await;
    assert_eq!(
        (promoted_live_key.status, promoted_live_key.error_code()),
        (409, "conflict"),
        "as documented: {:?}",
        promoted_live_key.body
    );

    // Rotate the live secret: the old key is refused at once, the new one keeps the usage.
    let rotated = developer.rotate_key(&live.publishable_key).await;
    assert_eq!(rotated.status, 200, "{:?}", rotated.body);
    let new_secret = rotated.body["secretKey"].as_str().unwrap().to_owned();
    assert!(new_secret.starts_with("sk_live_") && new_secret != live.secret_key);
    assert_eq!(
        track(&api, &live, "alice").await.status,
        401,
        "the old live key is refused"
    );
    let renewed = TestProject {
        secret_key: new_secret,
        ..live.clone()
    };
    assert_eq!(track(&api, &renewed, "alice").await.body["usage"]["count"], 2);
    assert_eq!(
        track(&api, &test, "carol").await.status,
        200,
        "the test key is untouched"
    );

    // The dashboard tree, and no secret key anywhere in what the dashboard can read.
    let projects = developer.front(Method::GET, "/projects", None).await;
    let tree = projects.body["projects"].as_array().unwrap();
    assert_eq!(tree.len(), 1);
    assert_eq!(tree[0]["test"]["publishableKey"], test.publishable_key.as_str());
    assert_eq!(tree[0]["live"]["publishableKey"], live.publishable_key.as_str());
    assert_eq!(tree[0]["test"]["tierCount"], 2);
    let credentials = developer.front(Method::GET, "/get-credentials", None).await;
    for body in [&projects.body, &credentials.body, &live_tiers.body] {
        assert!(!body.to_string().contains("sk_"), "a secret leaked: {body}");
    }
    assert_eq!(
        credentials.body["publishableKeys"]["live"][0],
        live.publishable_key.as_str()
    );
}

#[tokio::test]
async fn a_rotation_with_a_grace_period_keeps_the_old_key_working_until_the_next_rotation() {
    let env = TestEnv::get();
    let api = MeteredApi::new(&env);
    let (developer, project) = journey::saas_project(&env, &[("free", Some(100), 0.0)]).await;
    let rotate = |grace: Value| {
        let developer = developer.clone();
        let pk = project.publishable_key.clone();
        async move {
            let mut body = json!({"publishableKey": pk});
            if !grace.is_null() {
                body["gracePeriod"] = grace;
            }
            developer.oauth(Method::POST, "/rotate-key", Some(body)).await
        }
    };
    let with_key = |secret: &str| TestProject {
        secret_key: secret.to_owned(),
        ..project.clone()
    };

    let bad = rotate(json!("2h")).await;
    assert_eq!(
        (bad.status, bad.error_code()),
        (422, "invalid_request"),
        "{:?}",
        bad.body
    );
    assert_eq!(
        track(&api, &project, "u").await.status,
        200,
        "a refused rotation changes nothing"
    );

    let first = rotate(json!("1h")).await;
    assert_eq!(first.status, 200, "{:?}", first.body);
    let until = first.body["previousKeyExpiresAt"].as_str().unwrap().to_owned();
    let remaining = dream_core::period::Timestamp::parse_rfc3339(&until).unwrap().0 - chrono_now();
    assert!((3_500..=3_600).contains(&remaining), "{until}");
    let second_key = with_key(first.body["secretKey"].as_str().unwrap());
    assert_eq!(
        track(&api, &project, "u").await.body["usage"]["count"],
        2,
        "old key, same counter"
    );
    assert_eq!(track(&api, &second_key, "u").await.body["usage"]["count"], 3);
    let projects = developer.front(Method::GET, "/projects", None).await;
    assert_eq!(
        projects.body["projects"][0]["test"]["previousKeyExpiresAt"],
        until.as_str()
    );

    // Rotating again ends the earlier grace at once: only the key just replaced may linger.
    let second = rotate(Value::Null).await;
    assert_eq!(second.status, 200, "{:?}", second.body);
    assert_eq!(second.body["previousKeyExpiresAt"], Value::Null);
    for old in [&project, &second_key] {
        assert_eq!(track(&api, old, "u").await.status, 401);
    }
    let third_key = with_key(second.body["secretKey"].as_str().unwrap());
    assert_eq!(track(&api, &third_key, "u").await.body["usage"]["count"], 4);

    // A grace period can be ended early: the previous key stops at once, the current one works.
    let expire = |pk: String| {
        let developer = developer.clone();
        async move {
            developer
                .oauth(
                    Method::POST,
                    "/expire-previous-key",
                    Some(json!({"publishableKey": pk})),
                )
                .await
        }
    };
    let nothing = expire(project.publishable_key.clone()).await;
    assert_eq!(
        (nothing.status, nothing.error_code()),
        (409, "conflict"),
        "no key in its grace"
    );
    let third = rotate(json!("24h")).await;
    let fourth_key = with_key(third.body["secretKey"].as_str().unwrap());
    assert_eq!(track(&api, &third_key, "u").await.status, 200, "in its grace");
    let stopped = expire(project.publishable_key.clone()).await;
    assert_eq!(stopped.status, 200, "{:?}", stopped.body);
    assert_eq!(track(&api, &third_key, "u").await.status, 401, "stopped at once");
    assert_eq!(track(&api, &fourth_key, "u").await.body["usage"]["count"], 6);
    let projects = developer.front(Method::GET, "/projects", None).await;
    assert_eq!(
        projects.body["projects"][0]["test"]["previousKeyExpiresAt"],
        stopped.body["previousKeyExpiredAt"]
    );
    let again = expire(project.publishable_key.clone()).await;
    assert_eq!(again.status, 409);
    // Another developer's project is not found.
    let (stranger, _) = journey::saas_project(&env, &[("free", Some(100), 0.0)]).await;
    let foreign = stranger
        .oauth(
            Method::POST,
            "/expire-previous-key",
            Some(json!({"publishableKey": project.publishable_key})),
        )
        .await;
    assert_eq!((foreign.status, foreign.error_code()), (404, "not_found"));
}

fn chrono_now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64
}

/// A project holds at most 20 tiers: the 21st is a 409, as documented, and is not made.
#[tokio::test]
async fn a_project_full_of_tiers_refuses_one_more_with_a_conflict() {
    let env = TestEnv::get();
    let names: Vec<String> = (1..=dream_core::tiers::input::MAX_TIERS)
        .map(|n| format!("t{n}"))
        .collect();
    let tiers: Vec<(&str, Option<u64>, f64)> = names.iter().map(|n| (n.as_str(), Some(10), 0.0)).collect();
    let (developer, project) = journey::saas_project(&env, &tiers).await;
    let one_more = developer
        .oauth(
            Method::POST,
            "/tiers/add",
            Some(json!({"publishableKey": project.publishable_key, "tier": {"name": "extra", "price": 0, "limit": 5}})),
        )
        .await;
    assert_eq!(
        (one_more.status, one_more.error_code()),
        (409, "conflict"),
        "{:?}",
        one_more.body
    );
    assert!(
        one_more.body["error"].as_str().unwrap().contains("at most 20"),
        "{:?}",
        one_more.body
    );
    let listed = developer
        .oauth(
            Method::GET,
            &format!("/tiers?publishableKey={}", project.publishable_key),
            None,
        )
        .await;
    assert_eq!(
        listed.body["tiers"].as_array().map(Vec::len),
        Some(dream_core::tiers::input::MAX_TIERS)
    );
}

#[tokio::test]
async fn a_platform_event_over_the_body_bound_is_fetched_by_id_and_marks_the_plan_paid() {
    let env = TestEnv::get();
    let stripe = StripeEmulator::new(&env);
    let platform = stripe.get("/account", Mode::Test, None).await;
    let account = platform.body["id"].as_str().expect("the platform account").to_owned();
    let padding = shared::stripe_events::webhook::MAX_BODY_BYTES + 64 * 1024;
    let pad = |bytes: usize| {
        let path = format!("/accounts/{account}/event_padding");
        let stripe = &stripe;
        async move { stripe.control(&path, Some(json!({ "bytes": bytes }))).await }
    };
    assert_eq!(pad(padding).await.status, 200);
    let developer = Developer::sign_in(&env, &unique_email("big-events")).await.unwrap();
    developer.platform_id().await.unwrap();
    let paid = developer.pay_platform_plan().await;
    pad(0).await;
    paid.expect("the padded checkout event marks the plan paid");
    let events = stripe
        .get("/events?type=checkout.session.completed&limit=20", Mode::Test, None)
        .await;
    let largest = (events.body["data"].as_array().unwrap().iter())
        .map(|e| e["emulator_padding"].as_str().map_or(0, str::len))
        .max();
    assert!(largest >= Some(padding), "the platform's events were that large");
}
