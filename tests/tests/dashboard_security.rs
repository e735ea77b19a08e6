//! The dashboard's routes are a developer's own: sessions are verified strictly, other
//! developers' projects do not exist for them, OAuth states cannot be forged or replayed, and
//! the platform webhook only believes Stripe.

use base64::Engine;
use e2e::{
    Reply, TestEnv,
    journey::{self, Developer, StripeEmulator, session_token, unique_email},
};
use reqwest::Method;
use serde_json::{Value, json};

fn b64(value: &Value) -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(value.to_string())
}

#[tokio::test]
async fn another_developer_gets_404_on_every_project_route() {
    let env = TestEnv::get();
    let (_, victim) = journey::saas_project(&env, &[("free", Some(10), 0.0), ("pro", Some(100), 5.0)]).await;
    let intruder = journey::onboarded_developer(&env, "intruder").await.unwrap();
    let pk = victim.publishable_key.as_str();
    let tier = json!({"name": "free", "price": 0, "limit": 1_000_000});
    let attempts = [
        (Method::GET, format!("/tiers?publishableKey={pk}"), None),
        (
            Method::PUT,
            "/tiers".to_owned(),
            Some(json!({"publishableKey": pk, "tier": tier})),
        ),
        (
            Method::POST,
            "/tiers/add".to_owned(),
            Some(json!({"publishableKey": pk, "tier": {"name": "x", "price": 1}})),
        ),
        (Method::DELETE, format!("/tiers?publishableKey={pk}&name=pro"), None),
        (
            Method::POST,
            "/promote-to-live".to_owned(),
            Some(json!({"publishableKey": pk})),
        ),
        (
            Method::POST,
            "/rotate-key".to_owned(),
            Some(json!({"publishableKey": pk})),
        ),
        (
            Method::POST,
            "/expire-previous-key".to_owned(),
            Some(json!({"publishableKey": pk})),
        ),
    ];
    for (method, path, body) in attempts {
        let reply = intruder.oauth(method.clone(), &path, body).await;
        assert_eq!(
            (reply.status, reply.error_code()),
            (404, "not_found"),
            "{method} {path}: {:?}",
            reply.body
        );
    }
    // Nothing changed: the victim's key still works with its own limits.
    let usage = e2e::MeteredApi::new(&env)
        .usage(&[("authorization", &victim.bearer()), ("x-user-id", "u")])
        .await;
    assert_eq!((usage.status, usage.body["usage"]["limit"].as_u64()), (200, Some(10)));
    let listed = intruder.front(Method::GET, "/projects", None).await;
    assert!(!listed.body.to_string().contains(pk));
}

#[tokio::test]
async fn bad_session_tokens_are_refused_with_the_reason() {
    let env = TestEnv::get();
    let email = unique_email("tokens");
    let valid = Developer::sign_in(&env, &email).await.unwrap();
    let clerk = env.clerk_dev_base();
    let mint = |extra: Value| {
        let mut body = json!({"email": email, "azp": env.dashboard});
        body.as_object_mut().unwrap().extend(extra.as_object().unwrap().clone());
        session_token(&clerk, body)
    };
    let (_, expired) = mint(json!({"expiresInSeconds": -60})).await.unwrap();
    let (_, not_yet) = mint(json!({"notBeforeOffsetSeconds": 600})).await.unwrap();
    let (_, wrong_azp) = mint(json!({"azp": "https://evil.example"})).await.unwrap();
    let (_, other_instance) = session_token(&env.clerk_end_user_base(), json!({"email": email}))
        .await
        .unwrap();
    let parts: Vec<&str> = valid.token.split('.').collect();
    let claims: Value = serde_json::from_slice(
        &base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(parts[1])
            .unwrap(),
    )
    .unwrap();
    let mut forged_claims = claims.clone();
    forged_claims["sub"] = json!("user_someone_else");
    let bad_signature = format!("{}.{}.{}", parts[0], b64(&forged_claims), parts[2]);
    let unknown_kid = format!(
        "{}.{}.{}",
        b64(&json!({"alg": "RS256", "kid": "not-a-key"})),
        parts[1],
        parts[2]
    );
    let alg_none = format!("{}.{}.", b64(&json!({"alg": "none", "typ": "JWT"})), parts[1]);

    let cases = [
        (None, "Missing session"),
        (Some("garbage".to_owned()), "malformed"),
        (Some(expired), "expired"),
        (Some(not_yet), "not valid yet"),
        (Some(wrong_azp), "another origin"),
        (Some(other_instance), "unknown key"),
        (Some(bad_signature), "signature"),
        (Some(unknown_kid), "unknown key"),
        (Some(alg_none), "RS256"),
    ];
    for (token, expected) in cases {
        let mut req = e2e::client().post(format!("{}/generate-platform-id", env.front_auth_api));
        if let Some(token) = &token {
            req = req.bearer_auth(token);
        }
        let reply = Reply::from(req.send().await.unwrap()).await;
        assert_eq!(
            (reply.status, reply.error_code()),
            (401, "unauthorized"),
            "{expected}: {:?}",
            reply.body
        );
        assert!(
            reply.body["error"].as_str().unwrap().contains(expected),
            "{expected}: {:?}",
            reply.body
        );
    }
    // The same checks guard oauth-api.
    let reply = Reply::from(
        e2e::client()
            .get(format!("{}/authorize", env.oauth_api))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(reply.status, 401);
    assert_eq!(
        valid.front(Method::POST, "/generate-platform-id", None).await.status,
        200
    );
}

#[tokio::test]
async fn forged_replayed_and_other_developers_oauth_states_are_refused() {
    let env = TestEnv::get();
    let developer = Developer::sign_in(&env, &unique_email("oauth")).await.unwrap();
    developer.platform_id().await.unwrap();
    let post = |who: &Developer, body: Value| {
        let who = who.clone();
        async move { who.oauth(Method::POST, "/connect/callback", Some(body)).await }
    };

    let forged = post(
        &developer,
        json!({"code": "ac_x", "state": "ost_forged.9999999999.00ff"}),
    )
    .await;
    assert_eq!((forged.status, forged.error_code()), (400, "invalid_request"));
    let missing = post(&developer, json!({"code": "ac_x"})).await;
    assert_eq!((missing.status, missing.error_code()), (422, "invalid_request"));

    // Stripe sends the browser to the dashboard's page, never to a worker.
    let authorize = developer.oauth(Method::GET, "/authorize", None).await;
    let url = authorize.body["url"].as_str().unwrap();
    let redirect = journey::approve_in_emulator(url).await.unwrap();
    assert!(
        redirect.starts_with(&format!("{}/connect/callback?", env.dashboard)),
        "{redirect}"
    );

    // The same Stripe redirect relayed with another developer's session (a link planted in
    // their browser) is refused and does not use up the state ...
    let intruder = journey::onboarded_developer(&env, "oauth-intruder").await.unwrap();
    let intruder_account = intruder.stripe_account().await.unwrap();
    let planted = intruder.finish_connect(&redirect).await;
    assert_eq!(
        (planted.status, planted.error_code()),
        (403, "unauthorized"),
        "{:?}",
        planted.body
    );
    assert_eq!(intruder.stripe_account().await.unwrap(), intruder_account);
    // ... so its owner can still finish, once.
    let finished = developer.finish_connect(&redirect).await;
    assert_eq!(finished.status, 200, "{:?}", finished.body);
    assert_eq!(finished.body["connected"], true);
    assert_eq!(
        finished.body["stripeAccountId"].as_str(),
        Some(developer.stripe_account().await.unwrap().as_str())
    );
    let replayed = developer.finish_connect(&redirect).await;
    assert_eq!((replayed.status, replayed.error_code()), (400, "invalid_request"));
    // A genuine state with its signature tampered is refused too.
    let tampered = redirect.replace("state=ost_", "state=ost_0");
    assert_eq!(developer.finish_connect(&tampered).await.status, 400);
    // Without a session there is nothing to bind the state to.
    let anonymous = e2e::client()
        .post(format!("{}/connect/callback", env.oauth_api))
        .json(&json!({"code": "ac_x", "state": "x"}))
        .send()
        .await
        .unwrap();
    assert_eq!(anonymous.status(), 401);
}

#[tokio::test]
async fn unpaid_developers_cannot_create_projects_and_cancellation_revokes_the_plan() {
    let env = TestEnv::get();
    let stripe = StripeEmulator::new(&env);
    let developer = journey::onboarded_developer(&env, "cancel").await.unwrap();
    let body = journey::saas_body("P", &[("free", Some(1), 0.0)]);
    let test = journey::create_project(&developer, body.clone()).await.unwrap();
    let live = journey::promote(&developer, &test).await.unwrap();

    // Cancel the platform subscription in Stripe: the webhook makes the plan free.
    let subscription = platform_subscription(&stripe, &developer).await;
    let cancelled = stripe
        .delete(&format!("/subscriptions/{subscription}"), dream_core::mode::Mode::Test)
        .await;
    assert_eq!(cancelled.status, 200, "{:?}", cancelled.body);
    developer.wait_for_plan("free").await.unwrap();
    let refused = developer.create_project(body).await;
    assert_eq!(
        (refused.status, refused.error_code()),
        (403, "unauthorized"),
        "{:?}",
        refused.body
    );
    // A lapsed plan: no edits, but both keys keep metering through the 14-day grace period,
    // and the dashboard is told when live keys will pause.
    let edit = developer
        .oauth(
            Method::POST,
            "/tiers/add",
            Some(json!({"publishableKey": test.publishable_key, "tier": {"name": "pro", "price": 5, "limit": 10}})),
        )
        .await;
    assert_eq!(
        (edit.status, edit.error_code()),
        (403, "unauthorized"),
        "{:?}",
        edit.body
    );
    assert!(edit.body["error"].as_str().unwrap().contains("paid plan"));
    let credentials = developer.front(Method::GET, "/get-credentials", None).await;
    let ended =
        dream_core::period::Timestamp::parse_rfc3339(credentials.body["planEndedAt"].as_str().unwrap()).unwrap();
    let pause =
        dream_core::period::Timestamp::parse_rfc3339(credentials.body["liveKeysPauseAt"].as_str().unwrap()).unwrap();
    assert_eq!(pause.0 - ended.0, dream_core::developer_plan::LIVE_KEY_GRACE_SECS);
    let api = e2e::MeteredApi::new(&env);
    for project in [&test, &live] {
        let usage = api
            .usage(&[("authorization", &project.bearer()), ("x-user-id", "u")])
            .await;
        assert_eq!(usage.status, 200, "{:?}", usage.body);
    }
    let rotated = developer.rotate_key(&live.publishable_key).await;
    assert_eq!(
        rotated.status, 200,
        "a leaked key can still be rotated: {:?}",
        rotated.body
    );
    // Uploads need the plan too.
    let png = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR".to_vec();
    let upload = developer.upload_image("a.png", png).await;
    assert_eq!(
        (upload.status, upload.error_code()),
        (403, "unauthorized"),
        "{:?}",
        upload.body
    );
    assert!(upload.body["error"].as_str().unwrap().contains("paid plan"));
}

/// The platform subscription of `developer`, found in Stripe by the platform id in its metadata.
async fn platform_subscription(stripe: &StripeEmulator, developer: &Developer) -> String {
    let platform_id = developer.platform_id().await.unwrap();
    let subscriptions = stripe
        .get(
            "/subscriptions?status=all&limit=100",
            dream_core::mode::Mode::Test,
            None,
        )
        .await;
    subscriptions.body["data"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["metadata"]["platformId"] == platform_id.as_str())
        .expect("the platform subscription")["id"]
        .as_str()
        .unwrap()
        .to_owned()
}

#[tokio::test]
async fn live_keys_pause_fourteen_days_after_the_plan_ended_and_test_keys_go_on() {
    let env = TestEnv::get();
    let stripe = StripeEmulator::new(&env);
    let api = e2e::MeteredApi::new(&env);
    let mut ended_ago = Vec::new();
    // One developer whose plan ended 15 days ago, one 13 days ago (still in the grace period).
    for days in [15, 13] {
        let developer = journey::onboarded_developer(&env, "lapsed").await.unwrap();
        let test = journey::create_project(&developer, journey::saas_body("P", &[("free", Some(10), 0.0)]))
            .await
            .unwrap();
        let live = journey::promote(&developer, &test).await.unwrap();
        // A subscription canceled on a Stripe test clock frozen that many days ago; its
        // `customer.subscription.deleted` arrives now, as a late webhook would.
        let subscription = platform_subscription(&stripe, &developer).await;
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_secs() as i64;
        let ended_at = now - days * 86_400;
        let ended = Reply::from(
            e2e::client()
                .post(format!(
                    "{}/_emulator/subscriptions/{subscription}/end_at",
                    env.emulator
                ))
                .json(&json!({ "endedAt": ended_at }))
                .send()
                .await
                .unwrap(),
        )
        .await;
        assert_eq!(ended.status, 200, "{:?}", ended.body);
        developer.wait_for_plan("free").await.unwrap();
        let credentials = developer.front(Method::GET, "/get-credentials", None).await;
        let recorded = credentials.body["planEndedAt"].as_str().unwrap();
        assert_eq!(
            dream_core::period::Timestamp::parse_rfc3339(recorded),
            Some(dream_core::period::Timestamp(ended_at)),
            "the grace counts from when Stripe ended the subscription, not from the webhook"
        );
        ended_ago.push((days, test, live));
    }
    for (days, test, live) in &ended_ago {
        let track = |project: &journey::TestProject| {
            let bearer = project.bearer();
            let api = api.clone();
            async move {
                api.track(&[("authorization", &bearer), ("x-user-id", "u"), ("x-user-plan", "free")])
                    .await
            }
        };
        let test_reply = track(test).await;
        assert_eq!(test_reply.status, 200, "test keys never pause: {:?}", test_reply.body);
        let live_reply = track(live).await;
        if *days > 14 {
            assert_eq!(
                (live_reply.status, live_reply.error_code()),
                (402, "payment_required"),
                "{:?}",
                live_reply.body
            );
            assert!(live_reply.body["pausedSince"].is_string(), "{:?}", live_reply.body);
            let usage = api
                .usage(&[("authorization", &live.bearer()), ("x-user-id", "u")])
                .await;
            assert_eq!(usage.status, 402, "reads pause too: {:?}", usage.body);
        } else {
            assert_eq!(live_reply.status, 200, "within the grace period: {:?}", live_reply.body);
        }
    }
}

#[tokio::test]
async fn the_platform_webhook_verifies_signatures_and_ignores_replays() {
    let env = TestEnv::get();
    let stripe = StripeEmulator::new(&env);
    let url = format!("{}/webhook/stripe", env.front_auth_api);
    let event = json!({"id": "evt_forged", "type": "checkout.session.completed", "created": 1, "data": {"object": {}}})
        .to_string();
    let unsigned = Reply::from(e2e::client().post(&url).body(event.clone()).send().await.unwrap()).await;
    assert_eq!((unsigned.status, unsigned.error_code()), (400, "invalid_request"));
    // Signed now, so only the HMAC (not the timestamp tolerance) can reject it.
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64;
    let forged_header =
        shared::stripe_events::webhook::sign(event.as_bytes(), "whsec_not_ours", dream_core::period::Timestamp(now));
    let forged = Reply::from(
        e2e::client()
            .post(&url)
            .header("stripe-signature", forged_header)
            .body(event)
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(forged.status, 400);

    // A real event delivered twice at once is applied once; the plan stays paid.
    let developer = journey::onboarded_developer(&env, "replay").await.unwrap();
    let platform_id = developer.platform_id().await.unwrap();
    let completed = stripe.events("checkout.session.completed").await;
    let event_id = completed
        .iter()
        .find(|e| e["data"]["object"]["client_reference_id"] == platform_id.as_str())
        .expect("the platform checkout event")["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let twice = stripe.control(&format!("/events/{event_id}/deliver_twice"), None).await;
    assert_eq!(twice.status, 200, "{:?}", twice.body);
    journey::eventually("three deliveries", || async {
        stripe.deliveries(&event_id).await.len() >= 3
    })
    .await
    .unwrap();
    let deliveries = stripe.deliveries(&event_id).await;
    let duplicates = deliveries
        .iter()
        .filter_map(|d| serde_json::from_str::<Value>(d["response_body"].as_str().unwrap_or("{}")).ok())
        .filter(|body| body["duplicate"] == true)
        .count();
    assert!(deliveries.iter().all(|d| d["status"] == 200), "{deliveries:?}");
    assert_eq!(
        duplicates,
        deliveries.len() - 1,
        "only the first delivery applied the event: {deliveries:?}"
    );
    assert_eq!(developer.plan().await.as_deref(), Some("paid"));
}

#[tokio::test]
async fn create_products_rejects_bad_input_with_the_field_name() {
    let env = TestEnv::get();
    let developer = journey::onboarded_developer(&env, "validation").await.unwrap();
    let cases = [
        (json!({"name": "X", "projectType": "saas", "tiers": []}), "tiers"),
        (
            json!({"name": "X", "projectType": "saas", "tiers": [{"name": "Free", "price": 0}]}),
            "tier name",
        ),
        (
            json!({"name": "X", "projectType": "saas", "tiers": [{"name": "free", "price": -1}]}),
            "negative",
        ),
        (
            json!({"name": "X", "projectType": "saas", "tiers": [{"name": "free", "price": 0.001}]}),
            "2 decimals",
        ),
        (
            json!({"name": "X", "projectType": "saas", "tiers": [{"name": "a", "price": 0}, {"name": "a", "price": 1}]}),
            "tiers[1].name",
        ),
        (
            json!({"name": "X", "projectType": "saas", "tiers": [{"name": "a", "price": 0, "inventory": 3}]}),
            "tiers[0].inventory",
        ),
        (
            json!({"name": "X", "projectType": "store", "tiers": [{"name": "a", "price": 5, "limit": 3}]}),
            "tiers[0].limit",
        ),
        (
            json!({"name": "X", "projectType": "hybrid", "tiers": []}),
            "projectType",
        ),
        (json!({"projectType": "saas", "tiers": []}), "name"),
    ];
    for (body, expected) in cases {
        let reply = developer.create_project(body.clone()).await;
        assert!(
            (400..500).contains(&reply.status),
            "{body}: {} {:?}",
            reply.status,
            reply.body
        );
        assert_eq!(reply.error_code(), "invalid_request", "{body}");
        assert!(
            reply.body["error"].as_str().unwrap().contains(expected),
            "{body}: {:?}",
            reply.body
        );
    }
    let projects = developer.front(Method::GET, "/projects", None).await;
    assert_eq!(projects.body["projects"], json!([]), "no partial project was written");
}

#[tokio::test]
async fn only_a_subscription_to_the_platform_price_grants_the_plan() {
    let env = TestEnv::get();
    let stripe = StripeEmulator::new(&env);
    let developer = Developer::sign_in(&env, &unique_email("other-price")).await.unwrap();
    let platform_id = developer.platform_id().await.unwrap();

    // A subscription checkout on the platform account for some other price, carrying our
    // platform id as Stripe would let anyone do: completed, delivered, and not a plan.
    let test = dream_core::mode::Mode::Test;
    let product = stripe.post("/products", &[("name", "Something else")], test).await;
    let product_id = product.body["id"].as_str().unwrap();
    let price = stripe
        .post(
            "/prices",
            &[
                ("product", product_id),
                ("unit_amount", "100"),
                ("currency", "usd"),
                ("recurring[interval]", "month"),
            ],
            test,
        )
        .await;
    let session = stripe
        .post(
            "/checkout/sessions",
            &[
                ("mode", "subscription"),
                ("line_items[0][price]", price.body["id"].as_str().unwrap()),
                ("line_items[0][quantity]", "1"),
                ("success_url", &format!("{}/ok", env.dashboard)),
                ("client_reference_id", &platform_id),
                ("metadata[platformId]", &platform_id),
                ("subscription_data[metadata][platformId]", &platform_id),
            ],
            test,
        )
        .await;
    let session_id = session.body["id"].as_str().unwrap().to_owned();
    assert_eq!(
        stripe
            .control(&format!("/checkout/sessions/{session_id}/complete"), None)
            .await
            .status,
        200
    );
    let event = stripe
        .events("checkout.session.completed")
        .await
        .into_iter()
        .find(|e| e["data"]["object"]["id"] == session_id.as_str())
        .expect("the completion event");
    let event_id = event["id"].as_str().unwrap().to_owned();
    journey::eventually("the webhook delivery", || async {
        stripe.deliveries(&event_id).await.iter().any(|d| d["status"] == 200)
    })
    .await
    .unwrap();
    assert_eq!(developer.plan().await.as_deref(), Some("free"));
    let refused = developer
        .create_project(journey::saas_body("P", &[("free", Some(1), 0.0)]))
        .await;
    assert_eq!(refused.status, 403);
}

#[tokio::test]
async fn an_open_platform_checkout_is_handed_out_again() {
    let env = TestEnv::get();
    let developer = Developer::sign_in(&env, &unique_email("two-tabs")).await.unwrap();
    developer.platform_id().await.unwrap();
    let first = developer.front(Method::POST, "/create-checkout", None).await;
    let second = developer.front(Method::POST, "/create-checkout", None).await;
    assert_eq!(first.status, 200, "{:?}", first.body);
    assert_eq!(
        first.body["sessionId"], second.body["sessionId"],
        "two tabs, one checkout"
    );
}

#[tokio::test]
async fn switching_stripe_accounts_is_refused_while_projects_use_the_current_one() {
    let env = TestEnv::get();
    let (developer, _) = journey::saas_project(&env, &[("free", Some(1), 0.0), ("pro", Some(10), 5.0)]).await;
    let before = developer.front(Method::GET, "/get-credentials", None).await.body["stripeAccountId"].clone();
    let callback = developer.connect_stripe().await.unwrap();
    assert_eq!(
        (callback.status, callback.error_code()),
        (409, "conflict"),
        "{:?}",
        callback.body
    );
    assert_eq!(callback.body["stripeAccountId"], before);
    let after = developer.front(Method::GET, "/get-credentials", None).await.body["stripeAccountId"].clone();
    assert_eq!(before, after);
}

#[tokio::test]
async fn a_paid_checkout_whose_webhook_is_late_never_leads_to_a_second_subscription() {
    let env = TestEnv::get();
    let stripe = StripeEmulator::new(&env);
    let developer = Developer::sign_in(&env, &unique_email("late-webhook")).await.unwrap();
    let platform_id = developer.platform_id().await.unwrap();
    assert_eq!(stripe.hold_webhooks(&platform_id).await.status, 200);

    let first = developer.front(Method::POST, "/create-checkout", None).await;
    let session = first.body["sessionId"].as_str().unwrap().to_owned();
    let paid = stripe
        .control(&format!("/checkout/sessions/{session}/complete"), None)
        .await;
    assert_eq!(paid.status, 200, "{:?}", paid.body);
    assert_eq!(developer.plan().await.as_deref(), Some("free"), "the webhook is held");

    // Paid, not yet confirmed: no second session (a second subscription), whatever the tab.
    for _ in 0..2 {
        let again = developer.front(Method::POST, "/create-checkout", None).await;
        assert_eq!(
            (again.status, again.error_code()),
            (409, "conflict"),
            "{:?}",
            again.body
        );
        assert_eq!(again.body["sessionId"], session.as_str());
    }

    // The webhook arrives: the plan is paid, and still only one subscription exists.
    assert_eq!(stripe.release_webhooks(&platform_id).await.status, 200);
    developer.wait_for_plan("paid").await.unwrap();
    let customer = paid.body["session"]["customer"].as_str().unwrap().to_owned();
    let subscriptions = stripe
        .get(
            &format!("/subscriptions?customer={customer}&status=all"),
            dream_core::mode::Mode::Test,
            None,
        )
        .await;
    assert_eq!(subscriptions.body["data"].as_array().unwrap().len(), 1);

    // Cancelled later: a new checkout is allowed, for the same Stripe customer.
    let subscription = paid.body["session"]["subscription"].as_str().unwrap().to_owned();
    assert_eq!(
        stripe
            .delete(&format!("/subscriptions/{subscription}"), dream_core::mode::Mode::Test)
            .await
            .status,
        200
    );
    developer.wait_for_plan("free").await.unwrap();
    let renewed = developer.front(Method::POST, "/create-checkout", None).await;
    assert_eq!(renewed.status, 200, "{:?}", renewed.body);
    let new_session = stripe
        .get(
            &format!("/checkout/sessions/{}", renewed.body["sessionId"].as_str().unwrap()),
            dream_core::mode::Mode::Test,
            None,
        )
        .await;
    assert_eq!(new_session.body["customer"], customer.as_str());
}

#[tokio::test]
async fn one_stripe_account_belongs_to_one_developer_and_its_owner_can_revoke_us() {
    let env = TestEnv::get();
    let (owner, project) = journey::saas_project(&env, &[("free", Some(10), 0.0)]).await;
    let account = owner.stripe_account().await.unwrap();
    // Another developer cannot link the same account (and so reach its customers and money).
    let other = journey::Developer::sign_in(&env, &journey::unique_email("second-owner"))
        .await
        .unwrap();
    other.platform_id().await.unwrap();
    other.pay_platform_plan().await.unwrap();
    other.wait_for_plan("paid").await.unwrap();
    let taken = other.connect_stripe_account(&account).await.unwrap();
    assert_eq!(
        (taken.status, taken.error_code()),
        (409, "conflict"),
        "{:?}",
        taken.body
    );
    let credentials = other.front(Method::GET, "/get-credentials", None).await;
    assert_eq!(credentials.body["stripeConnected"], false);

    // The account's owner removes dream-api in Stripe: the Connect event is recorded, and the
    // developer must reconnect it before anything reaches Stripe again.
    let revoked = e2e::client()
        .post(format!("{}/_emulator/accounts/{account}/deauthorize", env.emulator))
        .send()
        .await
        .unwrap();
    assert_eq!(revoked.status(), 200);
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    loop {
        let credentials = owner.front(Method::GET, "/get-credentials", None).await;
        if credentials.body["stripeConnected"] == false {
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "the revocation never arrived: {:?}",
            credentials.body
        );
        tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    }
    let refused = owner
        .create_project(journey::saas_body("After revocation", &[("free", Some(10), 0.0)]))
        .await;
    assert_eq!(refused.status, 409, "{:?}", refused.body);
    // Its projects' products live on that account: only it may be connected again.
    let elsewhere = owner.connect_stripe_account("new").await.unwrap();
    assert_eq!(
        (elsewhere.status, elsewhere.error_code()),
        (409, "conflict"),
        "{:?}",
        elsewhere.body
    );
    let again = owner.connect_stripe_account(&account).await.unwrap();
    assert_eq!(again.status, 200, "{:?}", again.body);
    let tiers = owner
        .oauth(
            Method::GET,
            &format!("/tiers?publishableKey={}", project.publishable_key),
            None,
        )
        .await;
    assert_eq!(tiers.status, 200);
    journey::create_project(&owner, journey::saas_body("Reconnected", &[("free", Some(10), 0.0)]))
        .await
        .expect("connected again");
}
