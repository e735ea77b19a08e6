//! A very hot project's users split among several usage counters (issue 11 §3): an operator
//! gives the project more counters, and the guarantees of one counter hold across them: exact
//! limits under concurrency, an Idempotency-Key counted once and refused for another user
//! whichever counters the two count in, and D1 receiving every count.

use dream_core::{
    keys::PublishableKey,
    mode::{Mode, ProjectType},
    period::{BillingPeriod, Timestamp},
    tiers::UsageLimit,
};
use e2e::{
    MeteredApi, Reply, TestEnv,
    customers::{ProjectApi, metric},
    journey::{TestProject, saas_project},
    stack::local_keys::OPERATOR_TOKEN,
};
use futures_util::future::join_all;
use serde_json::{Value, json};
use shared::{
    storage::Project,
    usage::{
        counter_protocol::{CountRequest, counter_name, key_directory_name, users_bound_per_counter},
        metering::users_per_period,
    },
};

/// Where each of the project's rows is, read from the counters' own storage (workerd's local
/// Durable Object files, each naming its object): (counter name, user id) for `table`.
fn rows_in_counters(env: &TestEnv, publishable_key: &str, table: &str) -> Vec<(String, String)> {
    let dir = std::path::Path::new(&env.state_dir).join("v3/do/dream-api-multi-UsageCounter");
    let mut found = Vec::new();
    for entry in std::fs::read_dir(&dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display())) {
        let path = entry.unwrap().path();
        if path.extension().is_none_or(|e| e != "sqlite") {
            continue;
        }
        let conn = rusqlite::Connection::open_with_flags(&path, rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY).unwrap();
        let name: String = conn
            .query_row("SELECT name FROM __miniflare_do_name", [], |r| r.get(0))
            .unwrap_or_default();
        let sql = format!("SELECT userId FROM {table} WHERE publishableKey = ?1");
        let Ok(mut stmt) = conn.prepare(&sql) else { continue };
        let users: Vec<String> = stmt
            .query_map([publishable_key], |r| r.get(0))
            .unwrap()
            .map(Result::unwrap)
            .collect();
        found.extend(users.into_iter().map(|u| (name.clone(), u)));
    }
    found.sort();
    found
}

async fn operator(env: &TestEnv, token: Option<&str>, body: Value) -> Reply {
    let mut req = e2e::client()
        .put(format!("{}/operator/usage-counters", env.oauth_api))
        .json(&body);
    if let Some(token) = token {
        req = req.bearer_auth(token);
    }
    Reply::from(req.send().await.expect("PUT /operator/usage-counters")).await
}

fn now() -> Timestamp {
    let since_epoch = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap();
    Timestamp(since_epoch.as_secs() as i64)
}

fn count_request(project: &TestProject, shards: u32, user: &str, key: Option<&str>) -> (Project, CountRequest) {
    let now = now();
    let project = Project {
        publishable_key: PublishableKey::parse(&project.publishable_key).unwrap(),
        platform_id: String::new(),
        project_type: ProjectType::Saas,
    };
    let request = CountRequest {
        user_id: user.to_owned(),
        plan: "free".to_owned(),
        limit: UsageLimit::UNLIMITED,
        period: BillingPeriod::calendar_month(now),
        now,
        idempotency_key: key.map(str::to_owned),
        request_id: String::new(),
        users_bound: None,
        shards,
        usage_in_d1_before: None,
        meter: "requests".to_owned(),
        quantity: 1,
        overage: None,
        config_epoch: None,
    };
    (project, request)
}

/// The counter a user of `project` counts in this month with `shards` counters.
fn counter_of(project: &TestProject, shards: u32, user: &str) -> String {
    let (project, request) = count_request(project, shards, user, None);
    counter_name(&project, &request)
}

/// The counter that binds an Idempotency-Key to its user.
fn directory_of(project: &TestProject, shards: u32, key: &str) -> String {
    let (project, request) = count_request(project, shards, "anyone", Some(key));
    key_directory_name(&project, &request).expect("several counters")
}

#[tokio::test]
async fn only_an_operator_changes_counters_and_bad_requests_are_refused() {
    let env = TestEnv::get();
    let (_, project) = saas_project(&env, &[("free", Some(5), 0.0)]).await;
    let body = json!({"publishableKey": project.publishable_key, "shards": 2});
    assert_eq!(operator(&env, None, body.clone()).await.status, 401);
    let wrong = operator(&env, Some("op_guess"), body.clone()).await;
    assert_eq!((wrong.status, wrong.error_code()), (401, "unauthorized"));
    let cases = [
        (
            json!({"publishableKey": project.publishable_key, "shards": 0}),
            400,
            "between 1 and 64",
        ),
        (
            json!({"publishableKey": project.publishable_key, "shards": 65}),
            400,
            "between 1 and 64",
        ),
        (
            json!({"publishableKey": "sk_test_nope", "shards": 2}),
            400,
            "publishableKey",
        ),
        (
            json!({"publishableKey": project.publishable_key, "shards": 2, "extra": 1}),
            400,
            "unknown field",
        ),
        (json!({"publishableKey": project.publishable_key}), 400, "shards"),
        (
            json!({"publishableKey": format!("pk_test_{}", "0".repeat(32)), "shards": 2}),
            404,
            "No project",
        ),
    ];
    for (body, status, message) in cases {
        let reply = operator(&env, Some(OPERATOR_TOKEN), body.clone()).await;
        assert_eq!(reply.status, status, "{body}: {:?}", reply.body);
        assert!(
            reply.body["error"].as_str().unwrap_or_default().contains(message),
            "{body}: {:?}",
            reply.body
        );
    }
}

#[tokio::test]
async fn a_project_split_among_four_counters_keeps_every_guarantee_of_one() {
    let env = TestEnv::get();
    let api = MeteredApi::new(&env);
    let (_, project) = saas_project(&env, &[("free", Some(20), 0.0)]).await;
    let set = |shards: u32, immediately: bool| {
        let body = json!({"publishableKey": project.publishable_key, "shards": shards, "immediately": immediately});
        operator(&env, Some(OPERATOR_TOKEN), body)
    };
    // api-multi caches the project (with one counter) on its first request; the change evicts it.
    let bearer = project.bearer();
    let before = api
        .usage(&[("authorization", &bearer), ("x-user-id", "hot_user_0")])
        .await;
    assert_eq!(before.status, 200, "{:?}", before.body);
    let shown = |token: Option<&'static str>| {
        let url = format!(
            "{}/operator/usage-counters?publishableKey={}",
            env.oauth_api, project.publishable_key
        );
        async move {
            let mut req = e2e::client().get(url);
            if let Some(token) = token {
                req = req.bearer_auth(token);
            }
            Reply::from(req.send().await.expect("GET /operator/usage-counters")).await
        }
    };
    assert_eq!(shown(None).await.status, 401);
    let one = shown(Some(OPERATOR_TOKEN)).await;
    assert_eq!(
        (one.status, &one.body["shardsNow"], &one.body["layout"]),
        (200, &json!(1), &json!([]))
    );
    let split = set(4, true).await;
    assert_eq!(split.status, 200, "{:?}", split.body);
    assert_eq!(split.body["shardsNow"], 4);
    assert_eq!(split.body["layout"], json!([{"fromSecs": 0, "shards": 4}]));
    assert_eq!(shown(Some(OPERATOR_TOKEN)).await.body, split.body);

    let users: Vec<String> = (0..8).map(|i| format!("hot_user_{i}")).collect();
    let mut counters: Vec<String> = users.iter().map(|u| counter_of(&project, 4, u)).collect();
    counters.sort();
    counters.dedup();
    assert_eq!(
        counters.len(),
        4,
        "the users spread over all four counters: {counters:?}"
    );

    // 30 concurrent requests per user at limit 20, all users at once.
    let replies = join_all(users.iter().flat_map(|user| {
        (0..30).map(|_| {
            let (api, bearer, user) = (api.clone(), bearer.clone(), user.clone());
            async move {
                let reply = api.track(&[("authorization", &bearer), ("x-user-id", &user)]).await;
                (user, reply)
            }
        })
    }))
    .await;
    for user in &users {
        let mine: Vec<&Reply> = replies.iter().filter(|(u, _)| u == user).map(|(_, r)| r).collect();
        let mut counts: Vec<u64> = mine
            .iter()
            .filter(|r| r.status == 200)
            .map(|r| r.body["usage"]["count"].as_u64().unwrap())
            .collect();
        counts.sort_unstable();
        assert_eq!(
            counts,
            (1..=20).collect::<Vec<_>>(),
            "{user}: each count handed out once"
        );
        let refused = mine
            .iter()
            .filter(|r| r.status == 429 && r.error_code() == "limit_reached");
        assert_eq!(refused.count(), 10, "{user}");
    }

    // Each user's row is in the counter its name says, and only there.
    let hot_rows: Vec<(String, String)> = rows_in_counters(&env, &project.publishable_key, "usage_counts");
    let mut expected: Vec<(String, String)> = users.iter().map(|u| (counter_of(&project, 4, u), u.clone())).collect();
    expected.sort();
    assert_eq!(hot_rows, expected);

    // An Idempotency-Key is bound to its first user, wherever each counts: keys whose directory
    // is the first user's counter, the second's, or a third.
    let (first, second) = ("key_user_a", "key_user_b");
    let (first_counter, second_counter) = (counter_of(&project, 4, first), counter_of(&project, 4, second));
    assert_ne!(first_counter, second_counter);
    let directories: Vec<String> = (0..8)
        .map(|i| directory_of(&project, 4, &format!("order-{i}")))
        .collect();
    assert!(
        directories.contains(&first_counter)
            && directories.contains(&second_counter)
            && directories.iter().any(|d| *d != first_counter && *d != second_counter),
        "the keys cover every case: {directories:?}"
    );
    let keyed = |user: &'static str, key: String| {
        let (api, bearer) = (api.clone(), bearer.clone());
        async move {
            api.track(&[
                ("authorization", &bearer),
                ("x-user-id", user),
                ("idempotency-key", &key),
            ])
            .await
        }
    };
    for i in 0..8 {
        let key = format!("order-{i}");
        let counted = keyed(first, key.clone()).await;
        assert_eq!(
            (counted.status, counted.body["usage"]["count"].as_u64()),
            (200, Some(i + 1))
        );
        let retries = join_all((0..3).map(|_| keyed(first, key.clone()))).await;
        for retry in retries {
            assert_eq!(retry.status, 200, "{:?}", retry.body);
            assert_eq!(retry.body["usage"]["count"].as_u64(), Some(i + 1));
            assert_eq!(retry.header("idempotent-replayed"), Some("true"));
        }
        let reused = keyed(second, key.clone()).await;
        assert_eq!((reused.status, reused.error_code()), (409, "conflict"), "{key}");
    }
    let bindings = rows_in_counters(&env, &project.publishable_key, "usage_key_owners");
    let mut expected: Vec<(String, String)> = (0..8)
        .map(|i| (directory_of(&project, 4, &format!("order-{i}")), first.to_owned()))
        .collect();
    expected.sort();
    assert_eq!(
        bindings, expected,
        "one binding per key, to its first user, in the key's counter"
    );
    let second_usage = api.usage(&[("authorization", &bearer), ("x-user-id", second)]).await;
    assert_eq!(second_usage.body["usage"]["count"], 0, "a refused key counted nothing");

    // D1, which the dashboard reads, receives every count from every counter.
    let total = 8 * 20 + 8;
    ProjectApi::new(&env, &project)
        .wait_for_dashboard(&format!("{total} requests"), |d| metric(d, "usageThisPeriod") == total)
        .await
        .unwrap();

    // The project has counted: more counters apply to periods starting later, and running
    // periods keep theirs (a user at the limit stays there).
    let now_for_all = set(8, true).await;
    assert_eq!((now_for_all.status, now_for_all.error_code()), (409, "conflict"));
    let later = set(8, false).await;
    assert_eq!(later.status, 200, "{:?}", later.body);
    assert_eq!(later.body["shardsNow"], 4);
    let from = later.body["layout"][1]["fromSecs"].as_i64().unwrap();
    assert!(from > now().0 + 60, "applies once every cache knows it: {from}");
    assert_eq!(later.body["layout"][1]["shards"], 8);
    assert_eq!(shown(Some(OPERATOR_TOKEN)).await.body, later.body);
    let pending = set(16, false).await;
    assert_eq!((pending.status, pending.error_code()), (409, "conflict"));
    let at_limit = api.track(&[("authorization", &bearer), ("x-user-id", &users[0])]).await;
    assert_eq!((at_limit.status, at_limit.error_code()), (429, "limit_reached"));
}

/// The users bound, reached for real: 50,000 distinct users in test mode would take a quarter of
/// an hour here, but a project split among 64 counters lets each admit its share (782), and
/// users can be picked that all land in one counter.
#[tokio::test]
async fn a_counter_full_of_users_refuses_new_ones_and_keeps_counting_the_known_ones() {
    let env = TestEnv::get();
    let api = MeteredApi::new(&env);
    let (_, project) = saas_project(&env, &[("free", Some(5), 0.0)]).await;
    e2e::journey::split_usage_counters(&env, &project, 64).await.unwrap();
    let bound = users_per_period(Mode::Test);
    let share = users_bound_per_counter(bound, 64);
    let full = counter_of(&project, 64, "bound_user_0");
    let (mut same, mut elsewhere) = (Vec::new(), None);
    for i in 0.. {
        let user = format!("bound_user_{i}");
        if counter_of(&project, 64, &user) == full {
            same.push(user);
        } else if elsewhere.is_none() {
            elsewhere = Some(user);
        }
        if same.len() as u64 == share + 1 {
            break;
        }
    }
    let bearer = project.bearer();
    let track = |user: String| {
        let (api, bearer) = (api.clone(), bearer.clone());
        async move { api.track(&[("authorization", &bearer), ("x-user-id", &user)]).await }
    };
    let newcomer = same.pop().unwrap();
    for chunk in same.chunks(20) {
        for reply in join_all(chunk.iter().cloned().map(track)).await {
            assert_eq!(reply.status, 200, "{:?}", reply.body);
        }
    }
    let refused = track(newcomer.clone()).await;
    assert_eq!((refused.status, refused.error_code()), (403, "quota_exceeded"));
    assert_eq!(refused.body["usersPerPeriod"], bound);
    let message = refused.body["error"].as_str().unwrap();
    assert!(message.contains(&format!("its share ({share})")), "{message}");
    let again = track(newcomer).await;
    assert_eq!(again.status, 403, "still refused: {:?}", again.body);

    let known = track(same[0].clone()).await;
    assert_eq!((known.status, known.body["usage"]["count"].as_u64()), (200, Some(2)));
    let other_counter = track(elsewhere.unwrap()).await;
    assert_eq!(
        other_counter.status, 200,
        "other counters still admit users: {:?}",
        other_counter.body
    );
}

#[tokio::test]
async fn a_new_projects_counter_never_reads_d1_and_an_older_projects_carries_its_d1_counts_over() {
    let env = TestEnv::get();
    let api = MeteredApi::new(&env);
    let (developer, project) = saas_project(&env, &[("free", Some(1_000), 0.0)]).await;
    let pk = project.publishable_key.clone();
    let period = BillingPeriod::calendar_month(now());
    // A row only D1 has, as the code before the usage counters wrote them.
    let d1_only_row = |user: &str, count: u32| {
        format!(
            "INSERT INTO usage_counts (publishableKey, userId, periodStart, periodEnd, platformId, plan, \
             usageCount, updatedAt) SELECT publishableKey, '{user}', '{}', '{}', platformId, 'free', {count}, '{}' \
             FROM api_keys WHERE publishableKey = '{pk}';",
            period.start.to_rfc3339(),
            period.end.to_rfc3339(),
            period.start.to_rfc3339(),
        )
    };
    let count = |user: &'static str| {
        let (api, bearer) = (&api, project.bearer());
        async move {
            let reply = api.track(&[("authorization", &bearer), ("x-user-id", user)]).await;
            assert_eq!(reply.status, 200, "{:?}", reply.body);
            reply.body["usage"]["count"].as_u64().expect("a count")
        }
    };
    // A project created since the counters: nothing it counted can be in D1 only, so its
    // counter never asks D1 (such a row cannot be real; a counter that read it would say 8).
    env.d1_execute(&d1_only_row("u_new", 7));
    assert_eq!(count("u_new").await, 1);

    // A project that counted in D1 until after this period began (migration 0018 marks every
    // project that existed before it): its counter carries each user's D1 row over once.
    let until = Timestamp(now().0 + 3_600).to_rfc3339();
    env.d1_execute(&format!(
        "UPDATE api_keys SET usageInD1Before = '{until}' WHERE publishableKey = '{pk}'; {}",
        d1_only_row("u_legacy", 5)
    ));
    // Any edit evicts the cached project; this one changes nothing else.
    let settings = json!({"publishableKey": pk, "planHeader": "trusted"});
    let saved = developer
        .oauth(reqwest::Method::PUT, "/project-settings", Some(settings))
        .await;
    assert_eq!(saved.status, 200, "{:?}", saved.body);
    assert_eq!(count("u_legacy").await, 6, "the D1 row carried over");
    assert_eq!(count("u_legacy").await, 7);
    assert_eq!(count("u_new").await, 2, "a row the counter has is never read again");
}
