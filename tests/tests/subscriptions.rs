//! Developers' customers paying them (SaaS): the spec's checklist end to end, from a free
//! customer at their limit through checkout, plan change, renewal, a failed renewal, cancel at
//! period end and its undo, to cancellation and free again; with the dashboard checked at each
//! step. Payments happen on the emulator; every state change reaches api-multi as a Connect
//! webhook delivery.

use dream_core::{mode::Mode, period::Timestamp};
use e2e::{
    TestEnv,
    customers::{ProjectApi, clerk_plan, figures, metric},
    journey::{StripeEmulator, saas_project},
};
use serde_json::{Value, json};

const TIERS: &[(&str, Option<u64>, f64)] = &[
    ("free", Some(3), 0.0),
    ("pro", Some(10), 9.99),
    ("team", Some(20), 29.0),
];

fn listed<'a>(dashboard: &'a Value, user: &str) -> &'a Value {
    dashboard["customers"]
        .as_array()
        .and_then(|list| list.iter().find(|c| c["id"] == user))
        .unwrap_or(&Value::Null)
}

/// Stripe's period of a subscription, as RFC 3339 text.
async fn stripe_period(stripe: &StripeEmulator, account: &str, subscription: &str) -> (String, String) {
    let sub = stripe
        .get(&format!("/subscriptions/{subscription}"), Mode::Test, Some(account))
        .await;
    let item = &sub.body["items"]["data"][0];
    let at = |field: &str| Timestamp(item[field].as_i64().expect("period on the item")).to_rfc3339();
    (at("current_period_start"), at("current_period_end"))
}

#[tokio::test]
async fn the_saas_checklist_from_free_to_paid_to_free() {
    let env = TestEnv::get();
    let stripe = StripeEmulator::new(&env);
    let (developer, project) = saas_project(&env, TIERS).await;
    let account = developer.stripe_account().await.unwrap();
    let api = ProjectApi::new(&env, &project);

    // 1. A customer, on the free plan.
    let created = api
        .post(
            "/api/customers",
            None,
            json!({"email": "Ada@Example.com", "firstName": "Ada", "plan": "free"}),
        )
        .await;
    assert_eq!(created.status, 201, "{:?}", created.body);
    let user = created.body["customer"]["id"].as_str().expect("customer id").to_owned();
    assert!(user.starts_with("user_"), "the customer is a Clerk user: {user}");
    assert_eq!(created.body["customer"]["email"], "ada@example.com");
    assert_eq!(created.body["customer"]["plan"], "free");

    // 2. Usage up to the free limit, without a plan header: the customer's plan applies.
    for expected in 1..=3 {
        let reply = api.post("/api/data", Some(&user), json!({})).await;
        assert_eq!(reply.status, 200, "{:?}", reply.body);
        assert_eq!(
            (
                reply.body["usage"]["count"].as_i64(),
                reply.body["usage"]["plan"].as_str()
            ),
            (Some(expected), Some("free"))
        );
    }
    let refused = api.post("/api/data", Some(&user), json!({})).await;
    assert_eq!((refused.status, refused.error_code()), (429, "limit_reached"));
    // The usage counters copy their rows into D1, which the dashboard reads, within seconds.
    let dashboard = api
        .wait_for_dashboard("this period's three requests", |d| metric(d, "usageThisPeriod") == 3)
        .await
        .unwrap();
    assert_eq!(
        (
            metric(&dashboard, "customers"),
            metric(&dashboard, "activeSubscriptions"),
            metric(&dashboard, "usageThisPeriod")
        ),
        (1, 0, 3)
    );
    assert_eq!(listed(&dashboard, &user)["status"], "none");
    // The usage chart: six months, oldest first, this month's three requests on the last one.
    let months = dashboard["usageByMonth"].as_array().unwrap();
    assert_eq!(months.len(), 6);
    assert_eq!(months[5]["requests"], 3);
    assert!(months[..5].iter().all(|m| m["requests"] == 0));
    assert!(months[4]["month"].as_str() < months[5]["month"].as_str());
    assert_eq!(dashboard["tierMix"], json!([{"tier": "free", "customers": 1}]));

    // 3. Upgrade checkout; a second tab gets the same session, not a second one.
    let session = api.checkout(&user, "pro").await.unwrap();
    let again = api
        .post("/api/create-checkout", Some(&user), json!({"tier": "pro"}))
        .await;
    assert_eq!(
        (again.body["sessionId"].as_str(), again.body["reused"].as_bool()),
        (Some(session.as_str()), Some(true))
    );
    assert!(again.body["url"].as_str().unwrap().contains(&session));

    // 4. Paid on the emulator: usage follows the subscription (tier and Stripe's period).
    let subscription = api.pay(&session).await.unwrap().expect("a subscription");
    let usage = api.wait_for_plan(&user, "pro").await.unwrap();
    let (start, end) = stripe_period(&stripe, &account, &subscription).await;
    assert_eq!(usage["limit"], 10);
    assert_eq!(
        (usage["periodStart"].as_str(), usage["periodEnd"].as_str()),
        (Some(start.as_str()), Some(end.as_str()))
    );
    assert_eq!(usage["count"], 0, "a new billing period starts with the subscription");
    let dashboard = api
        .wait_for_dashboard("one active subscription", |d| metric(d, "activeSubscriptions") == 1)
        .await
        .unwrap();
    assert_eq!(metric(&dashboard, "mrrCents"), 999);
    assert_eq!(listed(&dashboard, &user)["plan"], "pro");
    assert_eq!(listed(&dashboard, &user)["currentPeriodEnd"], end.as_str());
    assert_eq!(dashboard["tierMix"], json!([{"tier": "pro", "customers": 1}]));
    assert_eq!(clerk_plan(&env, &user, &project.publishable_key).await, "pro");

    // 5. No second subscription while one is active.
    let second = api
        .post("/api/create-checkout", Some(&user), json!({"tier": "team"}))
        .await;
    assert_eq!((second.status, second.error_code()), (409, "conflict"));

    // 6. Plan change: effective at once for metering, and in Stripe.
    let changed = api.post("/api/change-plan", Some(&user), json!({"tier": "team"})).await;
    assert_eq!(changed.status, 200, "{:?}", changed.body);
    assert_eq!(
        (
            changed.body["changed"].as_bool(),
            changed.body["subscription"]["plan"].as_str()
        ),
        (Some(true), Some("team"))
    );
    assert_eq!(api.usage(&user).await["limit"], 20);
    assert_eq!(clerk_plan(&env, &user, &project.publishable_key).await, "team");
    let retried = api.post("/api/change-plan", Some(&user), json!({"tier": "team"})).await;
    assert_eq!(retried.body["changed"], false, "a retried change changes nothing");
    // Back and forth within Stripe's 24 h idempotency window: every change reaches Stripe (the
    // third once reused the first one's key and got its old answer back, changing nothing).
    for tier in ["pro", "team"] {
        let moved = api.post("/api/change-plan", Some(&user), json!({"tier": tier})).await;
        assert_eq!(
            (moved.status, moved.body["changed"].as_bool()),
            (200, Some(true)),
            "{:?}",
            moved.body
        );
        let live = stripe
            .get(&format!("/subscriptions/{subscription}"), Mode::Test, Some(&account))
            .await;
        assert_eq!(live.body["metadata"]["tier"], tier, "{:?}", live.body);
    }
    api.wait_for_dashboard("MRR of the team tier", |d| metric(d, "mrrCents") == 2900)
        .await
        .unwrap();

    // 7. Renewal: the next period, counted afresh. (The emulator renews without moving the
    // clock, so the new period is ahead of ours: exactly a renewal Stripe made a moment early.)
    let counted = api.post("/api/data", Some(&user), json!({})).await;
    assert_eq!(counted.body["usage"]["count"], 1);
    let renewed = api.control(&format!("/subscriptions/{subscription}/advance")).await;
    assert_eq!(renewed.status, 200, "{:?}", renewed.body);
    let (next_start, next_end) = stripe_period(&stripe, &account, &subscription).await;
    assert_eq!(next_start, end, "the new period starts where the old one ended");
    let usage = api
        .wait_for(&user, |u| u["periodStart"] == next_start.as_str())
        .await
        .unwrap();
    assert_eq!(
        (usage["periodEnd"].as_str(), usage["count"].as_i64()),
        (Some(next_end.as_str()), Some(0))
    );
    let dashboard = api.dashboard().await;
    assert_eq!(listed(&dashboard, &user)["status"], "active");
    assert_eq!(listed(&dashboard, &user)["currentPeriodEnd"], next_end.as_str());

    // 8. A failed renewal: past_due keeps the tier (Stripe is retrying), and shows on the dashboard.
    let failed = api
        .control(&format!("/subscriptions/{subscription}/fail_renewal"))
        .await;
    assert_eq!(failed.status, 200, "{:?}", failed.body);
    let dashboard = api
        .wait_for_dashboard("a past_due subscription", |d| metric(d, "pastDue") == 1)
        .await
        .unwrap();
    assert_eq!(listed(&dashboard, &user)["status"], "past_due");
    assert_eq!(metric(&dashboard, "activeSubscriptions"), 1);
    assert_eq!(api.usage(&user).await["plan"], "team");
    api.control(&format!("/subscriptions/{subscription}/advance")).await;
    api.wait_for_dashboard("the payment recovered", |d| metric(d, "pastDue") == 0)
        .await
        .unwrap();

    // 9. Cancel at period end through Stripe's portal, and undo it.
    let portal = api
        .post(
            "/api/customer-portal",
            Some(&user),
            json!({"returnUrl": "https://app.example/account"}),
        )
        .await;
    assert_eq!(portal.status, 200, "{:?}", portal.body);
    let portal_url = portal.body["url"].as_str().expect("portal url").to_owned();
    api.portal_action(&portal_url, &subscription, "cancel_at_period_end")
        .await
        .unwrap();
    let dashboard = api
        .wait_for_dashboard("a canceling subscription", |d| metric(d, "canceling") == 1)
        .await
        .unwrap();
    assert_eq!(listed(&dashboard, &user)["cancelAtPeriodEnd"], true);
    assert_eq!(
        api.usage(&user).await["plan"],
        "team",
        "canceling keeps the tier until the period ends"
    );
    api.portal_action(&portal_url, &subscription, "resume").await.unwrap();
    api.wait_for_dashboard("the cancellation undone", |d| metric(d, "canceling") == 0)
        .await
        .unwrap();

    // 10. Cancel now: free again, with the calendar month and the free limit.
    api.portal_action(&portal_url, &subscription, "cancel_now")
        .await
        .unwrap();
    let usage = api.wait_for_plan(&user, "free").await.unwrap();
    assert_eq!(usage["limit"], 3);
    assert!(
        usage["periodStart"].as_str().unwrap().ends_with("-01T00:00:00Z"),
        "{usage}"
    );
    let dashboard = api
        .wait_for_dashboard("no active subscription", |d| metric(d, "activeSubscriptions") == 0)
        .await
        .unwrap();
    assert_eq!(
        (metric(&dashboard, "mrrCents"), metric(&dashboard, "canceling")),
        (0, 0)
    );
    assert_eq!(
        (
            listed(&dashboard, &user)["plan"].as_str(),
            listed(&dashboard, &user)["status"].as_str()
        ),
        (Some("free"), Some("canceled"))
    );
    assert_eq!(clerk_plan(&env, &user, &project.publishable_key).await, "free");

    // 11. And they can subscribe again: a new session, not the paid one.
    let again = api.checkout(&user, "pro").await.unwrap();
    assert_ne!(again, session);
}

/// Every Connect event of a journey, delivered again five times each in a shuffled order: the
/// state stays what Stripe says now (old events carry old states, e.g. `active` before the
/// cancellation, and must not bring them back).
#[tokio::test]
async fn every_event_delivered_five_times_shuffled_changes_nothing() {
    let env = TestEnv::get();
    let stripe = StripeEmulator::new(&env);
    let (developer, project) = saas_project(&env, TIERS).await;
    let account = developer.stripe_account().await.unwrap();
    let api = ProjectApi::new(&env, &project);
    let canceled = api.subscribe("user_canceled", "pro").await.unwrap();
    let kept = api.subscribe("user_kept", "pro").await.unwrap();
    api.post("/api/change-plan", Some("user_kept"), json!({"tier": "team"}))
        .await;
    api.control(&format!("/subscriptions/{kept}/advance")).await;
    let canceling = stripe
        .post_on(
            &format!("/subscriptions/{kept}"),
            &[("cancel_at_period_end", "true")],
            Mode::Test,
            Some(&account),
        )
        .await;
    assert_eq!(canceling.status, 200, "{:?}", canceling.body);
    let deleted = stripe
        .delete_on(&format!("/subscriptions/{canceled}"), Mode::Test, Some(&account))
        .await;
    assert_eq!(deleted.status, 200, "{:?}", deleted.body);
    api.wait_for_plan("user_canceled", "free").await.unwrap();
    let settled = api
        .wait_for_dashboard("the journey's end state", |d| {
            metric(d, "canceling") == 1 && metric(d, "mrrCents") == 2900
        })
        .await
        .unwrap();
    let usage_before = (api.usage("user_canceled").await, api.usage("user_kept").await);

    let events = stripe.get("/events?limit=100", Mode::Test, Some(&account)).await;
    let ids: Vec<Value> = events.body["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["id"].clone())
        .collect();
    assert!(ids.len() >= 15, "the journey recorded its events: {}", ids.len());
    let batch: Vec<Value> = ids.iter().cycle().take(ids.len() * 5).cloned().collect();
    let sent = stripe
        .control("/events/deliver_batch", Some(json!({"ids": batch, "shuffle": true})))
        .await;
    assert_eq!(sent.status, 200, "{:?}", sent.body);
    // Wait until every batch delivery has been answered.
    let mut answered = 0;
    for _ in 0..300 {
        let all = reqwest::get(format!("{}/_emulator/deliveries", env.emulator))
            .await
            .unwrap()
            .json::<Value>()
            .await
            .unwrap();
        let ours: Vec<&Value> = all["data"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|d| {
                d["reason"] == "batch"
                    && ids.contains(&d["event"])
                    && d["url"].as_str().unwrap_or("").starts_with(&env.api_multi)
            })
            .collect();
        answered = ours.iter().filter(|d| d["ok"] == true).count();
        if answered >= batch.len() {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert_eq!(answered, batch.len(), "every replay was answered 2xx");
    assert_eq!(figures(&api.dashboard().await), figures(&settled));
    assert_eq!(
        (api.usage("user_canceled").await, api.usage("user_kept").await),
        usage_before
    );
}

#[tokio::test]
async fn a_paid_tier_with_subscribers_cannot_be_deleted_or_made_free_until_they_leave() {
    use reqwest::Method;
    let env = TestEnv::get();
    let (developer, project) = saas_project(&env, TIERS).await;
    let api = ProjectApi::new(&env, &project);
    let pk = project.publishable_key.clone();
    let user = "user_subscriber";
    let subscription = api.subscribe(user, "pro").await.unwrap();

    let delete_pro = format!("/tiers?publishableKey={pk}&name=pro");
    let refused = developer.oauth(Method::DELETE, &delete_pro, None).await;
    assert_eq!(
        (refused.status, refused.error_code()),
        (409, "conflict"),
        "{:?}",
        refused.body
    );
    assert_eq!(refused.body["subscribers"], 1);
    assert!(refused.body["error"].as_str().unwrap().contains("subscribe to `pro`"));
    let make_free = json!({"publishableKey": pk, "tier": {"name": "pro", "price": 0, "limit": 10}});
    let refused = developer.oauth(Method::PUT, "/tiers", Some(make_free.clone())).await;
    assert_eq!(
        (refused.status, refused.error_code()),
        (409, "conflict"),
        "{:?}",
        refused.body
    );
    assert_eq!(refused.body["subscribers"], 1);
    // Refused changes changed nothing: the subscriber still meters on pro.
    assert_eq!(api.usage(user).await["plan"], "pro");
    // A tier nobody pays for can go.
    let team = developer
        .oauth(Method::DELETE, &format!("/tiers?publishableKey={pk}&name=team"), None)
        .await;
    assert_eq!(team.status, 200, "{:?}", team.body);

    // Once the subscription ended, the tier can be deleted.
    let portal = api
        .post(
            "/api/customer-portal",
            Some(user),
            json!({"returnUrl": "https://app.example/account"}),
        )
        .await;
    assert_eq!(portal.status, 200, "{:?}", portal.body);
    let portal_url = portal.body["url"].as_str().unwrap().to_owned();
    api.portal_action(&portal_url, &subscription, "cancel_now")
        .await
        .unwrap();
    api.wait_for_plan(user, "free").await.unwrap();
    let deleted = developer.oauth(Method::DELETE, &delete_pro, None).await;
    assert_eq!(deleted.status, 200, "{:?}", deleted.body);
}

#[tokio::test]
async fn a_capped_plan_header_never_raises_a_user_above_what_they_pay_for() {
    use reqwest::Method;
    let env = TestEnv::get();
    let (developer, project) = saas_project(&env, TIERS).await;
    let api = ProjectApi::new(&env, &project);
    let metered = e2e::MeteredApi::new(&env);
    let bearer = project.bearer();
    let track = |user: &'static str, plan: &'static str| {
        let (metered, bearer) = (metered.clone(), bearer.clone());
        async move {
            let reply = metered
                .track(&[("authorization", &bearer), ("x-user-id", user), ("x-user-plan", plan)])
                .await;
            assert_eq!(reply.status, 200, "{:?}", reply.body);
            reply.body["usage"]["plan"].as_str().unwrap().to_owned()
        }
    };
    // Trusted (the default): the developer's server vouches for the plan.
    assert_eq!(track("u_header", "pro").await, "pro");
    let settings = |policy: &str| {
        let developer = developer.clone();
        let body = json!({"publishableKey": project.publishable_key, "planHeader": policy});
        async move { developer.oauth(Method::PUT, "/project-settings", Some(body)).await }
    };
    let bad = settings("sometimes").await;
    assert_eq!(bad.status / 100, 4, "{:?}", bad.body);
    let saved = settings("capped").await;
    assert_eq!(
        (saved.status, &saved.body["planHeader"]),
        (200, &json!("capped")),
        "{:?}",
        saved.body
    );
    let tiers = developer
        .oauth(
            Method::GET,
            &format!("/tiers?publishableKey={}", project.publishable_key),
            None,
        )
        .await;
    assert_eq!(tiers.body["planHeader"], "capped");

    // Capped: a user who pays nothing counts on free whatever the header says; a subscriber
    // gets their tier, or a cheaper one the header asks for.
    assert_eq!(track("u_header", "pro").await, "free");
    api.subscribe("u_paying", "pro").await.unwrap();
    assert_eq!(track("u_paying", "team").await, "pro", "not above what they pay for");
    assert_eq!(track("u_paying", "pro").await, "pro");
    assert_eq!(track("u_paying", "free").await, "free", "the header may lower it");
    // Another developer cannot change it.
    let stranger = e2e::journey::onboarded_developer(&env, "settings-stranger")
        .await
        .unwrap();
    let foreign = stranger
        .oauth(
            Method::PUT,
            "/project-settings",
            Some(json!({"publishableKey": project.publishable_key, "planHeader": "trusted"})),
        )
        .await;
    assert_eq!(foreign.status, 404);
}

#[tokio::test]
async fn an_event_over_the_body_bound_is_fetched_from_stripe_by_id_and_applied() {
    let env = TestEnv::get();
    let (developer, project) = saas_project(&env, TIERS).await;
    let api = ProjectApi::new(&env, &project);
    let stripe = StripeEmulator::new(&env);
    let account = developer.stripe_account().await.expect("connected");
    // From now on each of the account's events is larger than webhook::MAX_BODY_BYTES.
    let padding = shared::stripe_events::webhook::MAX_BODY_BYTES + 64 * 1024;
    let padded = stripe
        .control(
            &format!("/accounts/{account}/event_padding"),
            Some(json!({ "bytes": padding })),
        )
        .await;
    assert_eq!(padded.status, 200, "{:?}", padded.body);
    let user = "user_big_events";
    let subscription = api.subscribe(user, "pro").await.expect("the padded events are applied");
    assert_eq!(api.usage(user).await["plan"], "pro");
    // The deliveries themselves were that large, and answered 2xx.
    let events = stripe
        .get(
            &format!("/events?type=customer.subscription.created&limit=5"),
            Mode::Test,
            Some(&account),
        )
        .await;
    let event = (events.body["data"].as_array())
        .and_then(|list| list.iter().find(|e| e["data"]["object"]["id"] == subscription.as_str()))
        .cloned()
        .expect("the subscription's event");
    assert!(event["emulator_padding"].as_str().map_or(0, str::len) >= padding);
    let deliveries = stripe.deliveries(event["id"].as_str().unwrap()).await;
    assert!(
        deliveries
            .iter()
            .any(|d| d["ok"] == true && d["url"].as_str().is_some_and(|u| u.contains("/webhook/stripe"))),
        "{deliveries:?}"
    );
    stripe
        .control(
            &format!("/accounts/{account}/event_padding"),
            Some(json!({ "bytes": 0 })),
        )
        .await;
}

#[tokio::test]
async fn a_late_renewal_keeps_counting_in_the_period_stripe_then_confirms() {
    let env = TestEnv::get();
    let (developer, project) = saas_project(&env, TIERS).await;
    let api = ProjectApi::new(&env, &project);
    let stripe = StripeEmulator::new(&env);
    let account = developer.stripe_account().await.unwrap();
    let user = "user_late_renewal";
    let subscription = api.subscribe(user, "pro").await.unwrap();
    let count = || async {
        let reply = api.track(user, None).await;
        assert_eq!(reply.status, 200, "{:?}", reply.body);
        reply.body["usage"]["count"].as_i64().unwrap()
    };

    // Stripe's current period ended days ago and its renewal has not come (a webhook held up):
    // the user counts in the period Stripe will start where the last one ended.
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64;
    let backdated = stripe
        .control(
            &format!("/subscriptions/{subscription}/backdate"),
            Some(json!({ "billingCycleAnchor": now - 32 * 86_400 })),
        )
        .await;
    assert_eq!(backdated.status, 200, "{:?}", backdated.body);
    let (_, ended) = stripe_period(&stripe, &account, &subscription).await;
    api.wait_for(user, |u| u["periodStart"] == ended.as_str())
        .await
        .expect("counting from where the ended period stopped");
    assert_eq!((count().await, count().await, count().await), (1, 2, 3));

    // The renewal arrives: the same period, and the count goes on instead of starting over.
    let renewed = stripe
        .control(&format!("/subscriptions/{subscription}/advance"), None)
        .await;
    assert_eq!(renewed.status, 200, "{:?}", renewed.body);
    let (next_start, next_end) = stripe_period(&stripe, &account, &subscription).await;
    assert_eq!(next_start, ended);
    let usage = api
        .wait_for(user, |u| u["periodEnd"] == next_end.as_str())
        .await
        .unwrap();
    assert_eq!(usage["count"], 3, "{usage:?}");
    assert_eq!(count().await, 4);
}
