//! Every malformed or unauthorized call gets a 4xx JSON error with a clear message.

use e2e::{MeteredApi, TestEnv, journey::saas_project};

const TIERS: &[(&str, Option<u64>, f64)] = &[("free", Some(100), 0.0), ("pro", Some(10_000), 15.0)];

#[tokio::test]
async fn bad_credentials_are_401_with_the_reason() {
    let env = TestEnv::get();
    let api = MeteredApi::new(&env);
    let (_, project) = saas_project(&env, TIERS).await;
    let unknown = format!("Bearer sk_test_{}", "0f".repeat(32));
    let pk_as_secret = format!("Bearer {}", project.publishable_key);
    let short = format!("Bearer {}", &project.secret_key[..project.secret_key.len() - 1]);
    let bad_mode = format!("Bearer sk_prod_{}", "ab".repeat(32));
    let huge = format!("Bearer {}", "a".repeat(5000));
    let raw_key = project.secret_key.clone();
    let cases: Vec<(Option<&str>, &str)> = vec![
        (None, "Missing Authorization"),
        (Some(&raw_key), "Bearer"),
        (Some(&pk_as_secret), "publishable key"),
        (Some(&short), "wrong length"),
        (Some(&bad_mode), "mode"),
        (Some(&unknown), "Unknown or revoked"),
        (Some(&huge), "too long"),
    ];
    for (authorization, expected) in cases {
        let mut headers = vec![("x-user-id", "u")];
        if let Some(value) = authorization {
            headers.push(("authorization", value));
        }
        for reply in [api.track(&headers).await, api.usage(&headers).await] {
            assert_eq!(reply.status, 401, "{authorization:?}: {:?}", reply.body);
            assert_eq!(reply.error_code(), "unauthorized");
            assert!(
                reply.body["error"].as_str().unwrap().contains(expected),
                "{authorization:?}: {:?}",
                reply.body
            );
        }
    }
}

#[tokio::test]
async fn bad_headers_are_400_with_the_reason() {
    let env = TestEnv::get();
    let api = MeteredApi::new(&env);
    let (_, project) = saas_project(&env, TIERS).await;
    let bearer = project.bearer();
    let long_user = "u".repeat(129);
    let long_key = "k".repeat(256);
    let cases: Vec<(Vec<(&str, &str)>, &str)> = vec![
        (vec![], "Missing x-user-id"),
        (vec![("x-user-id", "has space")], "visible ASCII"),
        (vec![("x-user-id", &long_user)], "longer than 128"),
        (vec![("x-user-id", "u"), ("x-user-plan", "gold")], "Unknown plan `gold`"),
        (vec![("x-user-id", "u"), ("x-user-plan", "FREE")], "Unknown plan"),
        (
            vec![("x-user-id", "u"), ("idempotency-key", &long_key)],
            "longer than 255",
        ),
    ];
    for (mut headers, expected) in cases {
        headers.push(("authorization", &bearer));
        let reply = api.track(&headers).await;
        assert_eq!(reply.status, 400, "{headers:?}: {:?}", reply.body);
        assert_eq!(reply.error_code(), "invalid_request");
        assert!(
            reply.body["error"].as_str().unwrap().contains(expected),
            "{headers:?}: {:?}",
            reply.body
        );
    }
    // None of the rejected requests were counted.
    let reply = api.usage(&[("authorization", &bearer), ("x-user-id", "u")]).await;
    assert_eq!(reply.body["usage"]["count"], 0);
}

#[tokio::test]
async fn unknown_routes_and_methods_are_json_errors() {
    let env = TestEnv::get();
    let client = e2e::client();
    for base in [&env.api_multi, &env.oauth_api, &env.front_auth_api] {
        let reply = e2e::Reply::from(client.get(format!("{base}/no/such/route")).send().await.unwrap()).await;
        assert_eq!(reply.status, 404);
        assert_eq!(reply.error_code(), "not_found");
    }
    let reply = e2e::Reply::from(
        client
            .delete(format!("{}/api/data", env.api_multi))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(reply.status, 405);
    assert_eq!(reply.error_code(), "invalid_request");
}
