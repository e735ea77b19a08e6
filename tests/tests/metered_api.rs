//! POST /api/data and GET /api/usage against the running stack: exact counting, limits under
//! concurrency, idempotency, and tenant isolation. Every project is created through the API by
//! its own freshly onboarded developer.

use e2e::{
    MeteredApi, TestEnv,
    journey::{self, TestProject, saas_project},
};
use futures_util::future::join_all;
use serde_json::json;

async fn count_for(api: &MeteredApi, project: &TestProject, user: &str) -> u64 {
    let bearer = project.bearer();
    let reply = api.usage(&[("authorization", &bearer), ("x-user-id", user)]).await;
    assert_eq!(reply.status, 200, "{:?}", reply.body);
    reply.body["usage"]["count"].as_u64().expect("count")
}

#[tokio::test]
async fn counts_each_request_and_stops_at_the_exact_limit() {
    let env = TestEnv::get();
    let api = MeteredApi::new(&env);
    let (_, project) = saas_project(&env, &[("free", Some(5), 0.0)]).await;
    let bearer = project.bearer();
    let headers = [
        ("authorization", bearer.as_str()),
        ("x-user-id", "user_a"),
        ("x-user-plan", "free"),
    ];

    for expected in 1..=5u64 {
        let reply = api.track(&headers).await;
        assert_eq!(reply.status, 200, "{:?}", reply.body);
        assert_eq!(reply.body["success"], true);
        assert_eq!(reply.body["usage"]["count"], expected);
        assert_eq!(reply.body["usage"]["limit"], 5);
        assert_eq!(reply.body["usage"]["plan"], "free");
        assert_eq!(reply.body["usage"]["remaining"], 5 - expected);
    }
    let refused = api.track(&headers).await;
    assert_eq!(refused.status, 429);
    assert_eq!(refused.error_code(), "limit_reached");
    assert_eq!(refused.body["usage"]["count"], 5);
    assert_eq!(refused.body["usage"]["limit"], 5);
    assert_eq!(refused.body["usage"]["remaining"], 0);
    assert_eq!(
        count_for(&api, &project, "user_a").await,
        5,
        "refused requests are not counted"
    );
}

#[tokio::test]
async fn two_hundred_concurrent_requests_at_limit_one_hundred() {
    let env = TestEnv::get();
    let api = MeteredApi::new(&env);
    let (_, project) = saas_project(&env, &[("free", Some(100), 0.0)]).await;
    let bearer = project.bearer();
    let replies = join_all((0..200).map(|_| {
        let api = api.clone();
        let bearer = bearer.clone();
        async move {
            api.track(&[
                ("authorization", &bearer),
                ("x-user-id", "hot_user"),
                ("x-user-plan", "free"),
            ])
            .await
        }
    }))
    .await;

    let mut counts: Vec<u64> = replies
        .iter()
        .filter(|r| r.status == 200)
        .map(|r| r.body["usage"]["count"].as_u64().unwrap())
        .collect();
    let refused = replies
        .iter()
        .filter(|r| r.status == 429 && r.body["code"] == "limit_reached")
        .count();
    let other: Vec<_> = replies
        .iter()
        .filter(|r| r.status != 200 && r.status != 429)
        .map(|r| (r.status, &r.body))
        .collect();
    assert!(other.is_empty(), "unexpected replies: {other:?}");
    counts.sort_unstable();
    assert_eq!(
        counts,
        (1..=100).collect::<Vec<_>>(),
        "each count 1..=100 handed out exactly once"
    );
    assert_eq!(refused, 100);
    assert_eq!(count_for(&api, &project, "hot_user").await, 100);
}

#[tokio::test]
async fn a_retried_request_with_the_same_idempotency_key_counts_once() {
    let env = TestEnv::get();
    let api = MeteredApi::new(&env);
    let (_, project) = saas_project(&env, &[("free", Some(10), 0.0)]).await;
    let bearer = project.bearer();
    let call = |key: &'static str| {
        let api = api.clone();
        let bearer = bearer.clone();
        async move {
            api.track(&[("authorization", &bearer), ("x-user-id", "u"), ("idempotency-key", key)])
                .await
        }
    };
    let first = call("order-1").await;
    assert_eq!((first.status, first.body["usage"]["count"].as_u64()), (200, Some(1)));
    assert_eq!(first.header("idempotent-replayed"), None);

    // Retries, including concurrent ones, replay the first result without counting.
    let retries = join_all((0..5).map(|_| call("order-1"))).await;
    for retry in &retries {
        assert_eq!(retry.status, 200, "{:?}", retry.body);
        assert_eq!(retry.body["usage"]["count"], 1);
        assert_eq!(retry.header("idempotent-replayed"), Some("true"));
    }
    let second = call("order-2").await;
    assert_eq!(second.body["usage"]["count"], 2);
    assert_eq!(count_for(&api, &project, "u").await, 2);

    // The same key for another user of the project is a conflict, not a silent replay.
    let other_user = api
        .track(&[
            ("authorization", &bearer),
            ("x-user-id", "someone-else"),
            ("idempotency-key", "order-1"),
        ])
        .await;
    assert_eq!(other_user.status, 409);
    assert_eq!(other_user.error_code(), "conflict");
}

#[tokio::test]
async fn unlimited_tiers_count_without_a_limit() {
    let env = TestEnv::get();
    let api = MeteredApi::new(&env);
    let (_, project) = saas_project(&env, &[("free", Some(1), 0.0), ("scale", None, 99.0)]).await;
    let bearer = project.bearer();
    for expected in 1..=30u64 {
        let reply = api
            .track(&[
                ("authorization", &bearer),
                ("x-user-id", "big"),
                ("x-user-plan", "scale"),
            ])
            .await;
        assert_eq!(reply.status, 200, "{:?}", reply.body);
        assert_eq!(reply.body["usage"]["count"], expected);
        assert!(reply.body["usage"]["limit"].is_null());
        assert!(reply.body["usage"]["remaining"].is_null());
    }
}

#[tokio::test]
async fn test_and_live_usage_never_mix() {
    let env = TestEnv::get();
    let api = MeteredApi::new(&env);
    let (developer, test) = saas_project(&env, &[("free", Some(50), 0.0)]).await;
    let live = journey::promote(&developer, &test).await.unwrap();
    assert!(live.publishable_key.starts_with("pk_live_") && live.secret_key.starts_with("sk_live_"));
    assert_eq!(live.project_id, test.project_id);

    for _ in 0..3 {
        let bearer = test.bearer();
        assert_eq!(
            api.track(&[("authorization", &bearer), ("x-user-id", "shared_user")])
                .await
                .status,
            200
        );
    }
    assert_eq!(
        count_for(&api, &live, "shared_user").await,
        0,
        "test usage is invisible to the live key"
    );
    let bearer = live.bearer();
    let live_reply = api
        .track(&[("authorization", &bearer), ("x-user-id", "shared_user")])
        .await;
    assert_eq!(live_reply.body["usage"]["count"], 1, "live counts from zero");
    assert_eq!(
        count_for(&api, &test, "shared_user").await,
        3,
        "live usage is invisible to the test key"
    );
}

#[tokio::test]
async fn one_project_cannot_read_or_change_another_projects_usage() {
    let env = TestEnv::get();
    let api = MeteredApi::new(&env);
    let (_, a) = saas_project(&env, &[("free", Some(100), 0.0)]).await;
    let (_, b) = saas_project(&env, &[("free", Some(100), 0.0)]).await;
    for _ in 0..4 {
        let bearer = b.bearer();
        api.track(&[("authorization", &bearer), ("x-user-id", "victim")]).await;
    }
    // A sees nothing of B's user and its writes land in A's own counter.
    assert_eq!(count_for(&api, &a, "victim").await, 0);
    let bearer = a.bearer();
    let reply = api.track(&[("authorization", &bearer), ("x-user-id", "victim")]).await;
    assert_eq!(reply.body["usage"]["count"], 1);
    assert_eq!(count_for(&api, &b, "victim").await, 4, "B's count is untouched");
    // Publishable keys in headers or query strings select nothing: the secret key decides.
    let url = format!("{}/api/usage?publishableKey={}", api.base, b.publishable_key);
    let reply = e2e::Reply::from(
        api.client
            .get(url)
            .header("authorization", a.bearer())
            .header("x-user-id", "victim")
            .header("x-project-id", &b.publishable_key)
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(reply.body["usage"]["count"], 1, "still A's counter: {:?}", reply.body);
}

#[tokio::test]
async fn plan_defaults_to_free_and_unknown_plans_are_rejected() {
    let env = TestEnv::get();
    let api = MeteredApi::new(&env);
    let (_, project) = saas_project(&env, &[("free", Some(100), 0.0), ("pro", Some(10_000), 15.0)]).await;
    let bearer = project.bearer();
    let reply = api.track(&[("authorization", &bearer), ("x-user-id", "u")]).await;
    assert_eq!(reply.body["usage"]["plan"], "free");
    let pro = api
        .track(&[("authorization", &bearer), ("x-user-id", "u"), ("x-user-plan", "pro")])
        .await;
    assert_eq!((pro.status, pro.body["usage"]["limit"].as_u64()), (200, Some(10_000)));
    let bad = api
        .track(&[
            ("authorization", &bearer),
            ("x-user-id", "u"),
            ("x-user-plan", "enterprise"),
        ])
        .await;
    assert_eq!(bad.status, 400);
    assert_eq!(bad.error_code(), "invalid_request");
    assert!(
        bad.body["error"].as_str().unwrap().contains("free, pro"),
        "{:?}",
        bad.body
    );

    let (_, no_free) = saas_project(&env, &[("pro", Some(10), 5.0)]).await;
    let bearer = no_free.bearer();
    let reply = api.track(&[("authorization", &bearer), ("x-user-id", "u")]).await;
    assert_eq!(reply.status, 400);
    assert!(
        reply.body["error"]
            .as_str()
            .unwrap()
            .contains("X-User-Plan is required"),
        "{:?}",
        reply.body
    );
}

#[tokio::test]
async fn store_projects_have_no_usage_metering() {
    let env = TestEnv::get();
    let api = MeteredApi::new(&env);
    let developer = journey::onboarded_developer(&env, "store").await.unwrap();
    let store = journey::create_project(
        &developer,
        json!({"name": "Shop", "projectType": "store", "tiers": [{"name": "mug", "price": 12, "inventory": 5}]}),
    )
    .await
    .unwrap();
    let bearer = store.bearer();
    let reply = api.track(&[("authorization", &bearer), ("x-user-id", "u")]).await;
    assert_eq!(reply.status, 400);
    assert_eq!(reply.error_code(), "invalid_request");
}

#[tokio::test]
async fn bursts_beyond_the_rate_limit_get_429_rate_limited() {
    let env = TestEnv::get();
    let api = MeteredApi::new(&env);
    let (_, project) = saas_project(&env, &[("free", None, 0.0)]).await;
    let bearer = project.bearer();
    // The limiter's windows are aligned to the clock (locally as in production), so a burst can
    // straddle a boundary: keep going until it refuses, up to three limits' worth of requests
    // (which spans at most one boundary, so one window must overflow).
    let limit = shared::edge::rate_limits::USER_LIMIT.limit as usize;
    let mut replies = Vec::new();
    while replies.len() < 3 * limit && !replies.iter().any(|r: &e2e::Reply| r.status == 429) {
        replies.extend(
            join_all((0..50).map(|_| {
                let api = api.clone();
                let bearer = bearer.clone();
                async move { api.track(&[("authorization", &bearer), ("x-user-id", "bursty")]).await }
            }))
            .await,
        );
    }
    let limited: Vec<_> = replies.iter().filter(|r| r.status == 429).collect();
    assert!(
        !limited.is_empty(),
        "none of {} requests was rate limited",
        replies.len()
    );
    assert!(
        replies.iter().filter(|r| r.status == 200).count() >= limit,
        "the limit itself is honoured"
    );
    let sample = limited[0];
    assert_eq!(sample.error_code(), "rate_limited");
    assert_eq!(
        sample.body["rateLimit"]["limit"],
        shared::edge::rate_limits::USER_LIMIT.limit
    );
    assert!(sample.header("retry-after").is_some());
    let counted = count_for(&api, &project, "bursty").await;
    assert_eq!(
        counted as usize,
        replies.iter().filter(|r| r.status == 200).count(),
        "rate-limited requests are not counted"
    );
    // Another user of the same project is not affected.
    let other = api.track(&[("authorization", &bearer), ("x-user-id", "calm")]).await;
    assert_eq!(other.status, 200);
}
