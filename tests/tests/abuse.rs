//! Callers who attack: a flood of unknown secret keys from one network costs bounded work, and
//! locks out no valid key, not even one sent from the flooding network.

use e2e::{MeteredApi, TestEnv, journey};

fn random_key() -> String {
    format!(
        "Bearer sk_test_{}",
        &dream_core::keys::random_id("x")[2..].repeat(4)[..64]
    )
}

/// The limiter's windows are aligned to the clock (locally as in production): a flood
/// that began late in one would be split between two windows, neither of them full. So it
/// begins with room left in a window: the flood takes a few seconds.
async fn early_in_a_rate_limit_window() {
    const FLOOD_ROOM_SECS: u64 = 20;
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap_or_default();
    let window = u64::from(shared::identity::key_failures::AUTH_FAILURE_PERIOD_SECS);
    let into_window = now.as_secs() % window;
    if window - into_window < FLOOD_ROOM_SECS {
        tokio::time::sleep(std::time::Duration::from_secs(window - into_window)).await;
    }
}

#[tokio::test]
async fn a_flood_of_unknown_keys_from_one_network_is_cut_off_and_valid_keys_still_pass() {
    let env = TestEnv::get();
    let api = MeteredApi::new(&env);
    let (developer, project) = journey::saas_project(&env, &[("free", Some(1000), 0.0)]).await;
    // An IPv6 /64 of its own: the flood rotates through its addresses, as one host can.
    let network = format!("2001:db8:{:x}:{:x}", rand_octet(), rand_octet());
    let address = |i: usize| format!("{network}:{i:x}::1");
    let from = |address: &str, key: &str| {
        let api = api.clone();
        let (address, key) = (address.to_owned(), key.to_owned());
        async move {
            api.usage(&[
                ("authorization", &key),
                ("x-user-id", "u"),
                ("cf-connecting-ip", &address),
            ])
            .await
        }
    };

    // The limit's worth of unknown keys is answered 401 ...
    early_in_a_rate_limit_window().await;
    let limit = shared::identity::key_failures::AUTH_FAILURE_LIMIT as usize;
    for i in 0..limit {
        let reply = from(&address(i), &random_key()).await;
        assert_eq!((reply.status, reply.error_code()), (401, "unauthorized"), "key {i}");
    }
    // ... then unknown keys from anywhere in the network are refused before any lookup ...
    let cut_off = from(&address(limit + 1), &random_key()).await;
    assert_eq!(
        (cut_off.status, cut_off.error_code()),
        (429, "rate_limited"),
        "{:?}",
        cut_off.body
    );
    assert_eq!(cut_off.header("retry-after"), Some("60"));
    // ... but valid keys sent from it are not: a neighbour behind the same NAT keeps working,
    // with a key in use and with one created during the flood (never used before).
    let valid_from_flooder = from(&address(limit + 2), &project.bearer()).await;
    assert_eq!(valid_from_flooder.status, 200, "{:?}", valid_from_flooder.body);
    let fresh = journey::create_project(&developer, journey::saas_body("Fresh", &[("free", Some(1000), 0.0)]))
        .await
        .expect("creating a project");
    let fresh_from_flooder = from(&address(limit + 3), &fresh.bearer()).await;
    assert_eq!(fresh_from_flooder.status, 200, "{:?}", fresh_from_flooder.body);
    // Everyone else is unaffected.
    let other = format!("198.51.100.{}", rand_octet());
    assert_eq!(from(&other, &project.bearer()).await.status, 200);
    let unknown_elsewhere = from(&other, &random_key()).await;
    assert_eq!(unknown_elsewhere.status, 401);
    let next_network = format!("2001:db8:{:x}:{:x}::1", rand_octet(), rand_octet().wrapping_add(1));
    assert_eq!(from(&next_network, &random_key()).await.status, 401);
}

fn rand_octet() -> u8 {
    dream_core::keys::random_id("o")
        .bytes()
        .fold(0u8, |a, b| a.wrapping_mul(31).wrapping_add(b))
}

#[tokio::test]
async fn a_developer_cannot_fill_the_shared_database_with_projects() {
    let env = TestEnv::get();
    let (developer, first) = journey::saas_project(&env, &[("free", Some(10), 0.0)]).await;
    let max = shared::storage::projects::MAX_PROJECTS;
    for i in 1..max {
        let body = journey::saas_body(&format!("P{i}"), &[("free", Some(10), 0.0)]);
        journey::create_project(&developer, body)
            .await
            .expect("within the bound");
    }
    let refused = developer
        .create_project(journey::saas_body("One more", &[("free", Some(10), 0.0)]))
        .await;
    assert_eq!(
        (refused.status, refused.error_code()),
        (403, "quota_exceeded"),
        "{:?}",
        refused.body
    );
    assert_eq!(refused.body["maxProjects"], max);
    let listed = developer.front(reqwest::Method::GET, "/projects", None).await;
    assert_eq!(
        listed.body["projects"].as_array().map(Vec::len),
        Some(max as usize),
        "{:?}",
        listed.body
    );
    // Projects it has can still go live.
    journey::promote(&developer, &first)
        .await
        .expect("going live is not a new project");
}

#[tokio::test]
async fn one_key_cannot_spend_the_shared_stripe_and_clerk_allowances() {
    let env = TestEnv::get();
    let (_, project) = journey::saas_project(&env, &[("free", Some(10), 0.0)]).await;
    let http = e2e::client();
    let limit = shared::edge::rate_limits::UPSTREAM_LIMIT.limit as usize;
    // Checkouts without X-User-Id: each is counted, then refused before reaching Stripe.
    let checkout = || {
        http.post(format!("{}/api/create-checkout", env.api_multi))
            .bearer_auth(&project.secret_key)
            .json(&serde_json::json!({"tier": "free"}))
            .send()
    };
    early_in_a_rate_limit_window().await;
    for i in 0..limit {
        let reply = e2e::Reply::from(checkout().await.unwrap()).await;
        assert_eq!(reply.status, 400, "call {i}: {:?}", reply.body);
    }
    let limited = e2e::Reply::from(checkout().await.unwrap()).await;
    assert_eq!(
        (limited.status, limited.error_code()),
        (429, "rate_limited"),
        "{:?}",
        limited.body
    );
    assert_eq!(limited.body["rateLimit"]["scope"], "project+upstream");
    let customer = http
        .post(format!("{}/api/customers", env.api_multi))
        .bearer_auth(&project.secret_key)
        .json(&serde_json::json!({"email": "later@example.com"}))
        .send()
        .await
        .unwrap();
    assert_eq!(customer.status(), 429, "every upstream route shares the bound");
    // The metered API is bounded on its own, and still answers.
    let usage = MeteredApi::new(&env)
        .track(&[("authorization", &project.bearer()), ("x-user-id", "u")])
        .await;
    assert_eq!(usage.status, 200, "{:?}", usage.body);
}

#[tokio::test]
async fn one_developer_account_cannot_spend_the_dashboard_workers_for_everyone() {
    use futures_util::StreamExt;
    let env = TestEnv::get();
    let (flooder, _) = journey::saas_project(&env, &[("free", Some(10), 0.0)]).await;
    let (neighbour, _) = journey::saas_project(&env, &[("free", Some(10), 0.0)]).await;
    let limit = shared::edge::rate_limits::DEVELOPER_LIMIT.limit as usize;
    const EXTRA: usize = 30;
    early_in_a_rate_limit_window().await;
    let replies: Vec<e2e::Reply> = futures_util::stream::iter(0..limit + EXTRA)
        .map(|_| flooder.front(reqwest::Method::GET, "/projects", None))
        .buffer_unordered(8)
        .collect()
        .await;
    let passed = replies.iter().filter(|r| r.status == 200).count();
    let refused: Vec<&e2e::Reply> = replies.iter().filter(|r| r.status == 429).collect();
    assert_eq!(passed + refused.len(), replies.len(), "only 200 or 429");
    // Onboarding's own calls may share the window: they leave less room, never more.
    assert!(passed <= limit && passed + 40 >= limit, "{passed} of {limit} passed");
    assert!(refused.len() >= EXTRA, "{} refused", refused.len());
    for reply in refused {
        assert_eq!(reply.error_code(), "rate_limited", "{:?}", reply.body);
        assert_eq!(reply.body["rateLimit"]["scope"], "developer", "{:?}", reply.body);
    }
    let other = neighbour.front(reqwest::Method::GET, "/projects", None).await;
    assert_eq!(other.status, 200, "another developer is not refused: {:?}", other.body);
}
