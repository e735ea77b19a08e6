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

/// The binding calls an answer says it waited on (`Server-Timing`), in order.
fn round_trips(reply: &e2e::Reply) -> Vec<String> {
    (reply.header("server-timing").unwrap_or_default().split(','))
        .map(|entry| entry.split(';').next().unwrap_or_default().trim().to_owned())
        .filter(|name| !name.is_empty())
        .collect()
}

#[tokio::test]
async fn a_warm_isolate_counts_in_one_round_trip_and_sees_an_edit_or_a_revocation_at_once() {
    let env = TestEnv::get();
    let api = MeteredApi::new(&env);
    let (developer, project) = saas_project(&env, &[("free", Some(10), 0.0)]).await;
    let bearer = project.bearer();
    let headers = [
        ("authorization", bearer.as_str()),
        ("x-user-id", "warm"),
        ("x-user-plan", "free"),
    ];
    assert_eq!(api.track(&headers).await.status, 200, "the isolate learns the project");
    let warm = api.track(&headers).await;
    assert_eq!(warm.status, 200, "{:?}", warm.body);
    assert_eq!(round_trips(&warm), ["counter"], "{:?}", warm.header("server-timing"));

    // The dashboard lowers the limit; the isolate still holds the old configuration, and the
    // counter tells it so on the very next count.
    let edit = developer
        .oauth(
            reqwest::Method::PUT,
            "/tiers",
            Some(json!({"publishableKey": project.publishable_key, "tier": {"name": "free", "price": 0, "limit": 2}})),
        )
        .await;
    assert_eq!(edit.status, 200, "{:?}", edit.body);
    let after = api.track(&headers).await;
    assert_eq!(
        (after.status, after.error_code(), after.body["usage"]["limit"].as_u64()),
        (429, "limit_reached", Some(2)),
        "{:?}",
        after.body
    );
    let trips = round_trips(&after);
    assert_eq!(trips.first().map(String::as_str), Some("counter"), "{trips:?}");
    assert!(trips.iter().any(|t| t == "d1"), "read again from D1: {trips:?}");
    assert_eq!(trips.iter().filter(|t| *t == "counter").count(), 2, "{trips:?}");
    let settled = api.track(&headers).await;
    assert_eq!(settled.status, 429);
    assert_eq!(round_trips(&settled), ["counter"], "one round trip again");
    assert_eq!(
        count_for(&api, &project, "warm").await,
        2,
        "nothing counted past the new limit"
    );

    // A tier added a moment ago: the isolate's configuration does not know it, asks the
    // counter whether it is current, and reads the project again.
    let added = developer
        .oauth(
            reqwest::Method::POST,
            "/tiers/add",
            Some(json!({"publishableKey": project.publishable_key, "tier": {"name": "team", "price": 0, "limit": 7}})),
        )
        .await;
    assert_eq!(added.status, 200, "{:?}", added.body);
    let team = api
        .track(&[
            ("authorization", bearer.as_str()),
            ("x-user-id", "warm-team"),
            ("x-user-plan", "team"),
        ])
        .await;
    assert_eq!(
        (team.status, team.body["usage"]["limit"].as_u64()),
        (200, Some(7)),
        "{:?}",
        team.body
    );
    let unknown = api
        .track(&[
            ("authorization", bearer.as_str()),
            ("x-user-id", "warm-team"),
            ("x-user-plan", "nope"),
        ])
        .await;
    assert_eq!((unknown.status, unknown.error_code()), (400, "invalid_request"));
    assert_eq!(
        round_trips(&unknown),
        ["counter"],
        "a current configuration's refusal reads nothing again"
    );

    // A rotation without grace revokes the key the isolate remembers: refused at once.
    let rotated = developer.rotate_key(&project.publishable_key).await;
    assert_eq!(rotated.status, 200, "{:?}", rotated.body);
    let other_user = [("authorization", bearer.as_str()), ("x-user-id", "after-rotation")];
    let revoked = api.track(&other_user).await;
    assert_eq!(
        (revoked.status, revoked.error_code()),
        (401, "unauthorized"),
        "{:?}",
        revoked.body
    );
    let new_bearer = format!("Bearer {}", rotated.body["secretKey"].as_str().unwrap());
    let renewed = api
        .track(&[("authorization", new_bearer.as_str()), ("x-user-id", "after-rotation")])
        .await;
    assert_eq!(renewed.status, 200, "{:?}", renewed.body);
}
