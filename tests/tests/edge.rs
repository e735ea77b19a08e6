//! The middleware every worker shares: health, security headers, request ids and CORS.

use e2e::{Reply, TestEnv};

fn workers(env: &TestEnv) -> [(&'static str, String); 3] {
    [
        ("api-multi", env.api_multi.clone()),
        ("oauth-api", env.oauth_api.clone()),
        ("front-auth-api", env.front_auth_api.clone()),
    ]
}

#[tokio::test]
async fn every_worker_answers_health_with_security_headers() {
    let env = TestEnv::get();
    let client = e2e::client();
    for (name, base) in workers(&env) {
        let reply = Reply::from(client.get(format!("{base}/health")).send().await.unwrap()).await;
        assert_eq!(reply.status, 200);
        assert_eq!(reply.body, serde_json::json!({"status": "ok", "worker": name}));
        assert!(
            reply.header("x-request-id").is_some_and(|id| id.starts_with("req_")),
            "{name}"
        );
        assert_eq!(reply.header("x-content-type-options"), Some("nosniff"));
        assert_eq!(reply.header("x-frame-options"), Some("DENY"));
        assert!(reply.header("strict-transport-security").is_some());
        assert!(reply.header("content-security-policy").is_some());
    }
}

#[tokio::test]
async fn request_ids_are_unique() {
    let env = TestEnv::get();
    let client = e2e::client();
    let mut ids = std::collections::HashSet::new();
    for _ in 0..20 {
        let reply = Reply::from(client.get(format!("{}/health", env.api_multi)).send().await.unwrap()).await;
        assert!(ids.insert(reply.header("x-request-id").unwrap().to_owned()));
    }
}

#[tokio::test]
async fn cors_preflight_and_origin_checks_on_every_worker() {
    let env = TestEnv::get();
    let client = e2e::client();
    let dashboard = env.dashboard.as_str();
    for (name, base) in workers(&env) {
        let preflight = |origin: &str| {
            client
                .request(reqwest::Method::OPTIONS, format!("{base}/api/data"))
                .header("origin", origin)
                .header("access-control-request-method", "POST")
                .header("access-control-request-headers", "authorization, x-user-id")
                .send()
        };
        let ok = Reply::unchecked(preflight(dashboard).await.unwrap()).await;
        assert_eq!(ok.status, 204, "{name}");
        assert_eq!(ok.header("access-control-allow-origin"), Some(dashboard));
        assert!(ok.header("access-control-allow-headers").unwrap().contains("X-User-Id"));
        let denied = Reply::unchecked(preflight("https://evil.example").await.unwrap()).await;
        assert_eq!(denied.status, 403, "{name}");
        assert_eq!(denied.header("access-control-allow-origin"), None);

        let simple = Reply::from(
            client
                .get(format!("{base}/health"))
                .header("origin", dashboard)
                .send()
                .await
                .unwrap(),
        )
        .await;
        assert_eq!(simple.header("access-control-allow-origin"), Some(dashboard));
        assert!(
            simple
                .header("access-control-expose-headers")
                .unwrap()
                .contains("X-Request-Id")
        );
    }
}

#[tokio::test]
async fn the_daily_housekeeping_cron_runs_and_keeps_recent_figures() {
    let env = TestEnv::get();
    let (_, project) = e2e::journey::saas_project(&env, &[("free", Some(10), 0.0)]).await;
    let api = e2e::customers::ProjectApi::new(&env, &project);
    for _ in 0..2 {
        assert_eq!(api.track("u_recent", None).await.status, 200);
    }
    // Counts reach D1 a moment after their requests.
    let before = api
        .wait_for_dashboard("this month's usage in D1", |d| {
            d["usageByMonth"]
                .as_array()
                .and_then(|m| m.last())
                .map(|m| m["requests"].clone())
                == Some(2.into())
        })
        .await
        .unwrap();
    // An audit entry past its retention, and one inside it, of an organization of their own.
    let organization = format!("plt_retention_{}", project.publishable_key);
    let recent = shared::runtime::clock::now().to_rfc3339();
    env.d1_execute(&format!(
        "INSERT INTO audit_log (platformId, actorId, action, requestId, createdAt) VALUES
           ('{organization}', 'user_1', 'tier.updated', 'req_old', '2020-01-01T00:00:00Z'),
           ('{organization}', 'user_1', 'tier.updated', 'req_recent', '{recent}')"
    ));
    let url = format!("{}/__scheduled?cron=17+3+*+*+*", env.api_multi);
    let response = e2e::client().get(url).send().await.unwrap();
    let status = response.status();
    let body = response.text().await.unwrap();
    assert_eq!(status, 200, "{body}");
    assert!(body.contains("Ran scheduled event"), "{body}");
    // Only what is past its retention goes: this period's usage and figures are as they were.
    assert_eq!(api.usage("u_recent").await["count"], 2);
    assert_eq!(api.dashboard().await["usageByMonth"], before["usageByMonth"]);
    let kept = env.d1_rows(&format!(
        "SELECT requestId FROM audit_log WHERE platformId = '{organization}' ORDER BY auditId"
    ));
    let kept: Vec<_> = kept.iter().map(|row| row["requestId"].clone()).collect();
    assert_eq!(kept, ["req_recent"], "the old audit entry is deleted, the recent one kept");
}

#[tokio::test]
async fn oversized_input_is_a_4xx_json_error_on_every_route_of_every_worker() {
    use shared::edge::http::{JSON_BODY_LIMIT, MAX_HEADER_BYTES, MAX_QUERY_BYTES};
    let env = TestEnv::get();
    let client = e2e::client();
    let (developer, project) = e2e::journey::saas_project(&env, &[("free", Some(10), 0.0)]).await;
    // One route per worker that takes a JSON body, and one that takes a query.
    let routes = [
        (env.api_multi.clone(), "/api/customers", "/api/usage"),
        (env.oauth_api.clone(), "/create-products", "/tiers"),
        (env.front_auth_api.clone(), "/create-checkout", "/dashboard"),
    ];
    for (base, post_path, get_path) in routes {
        let long_query = format!("{base}{get_path}?publishableKey={}", "q".repeat(MAX_QUERY_BYTES));
        let reply = Reply::from(client.get(long_query).send().await.unwrap()).await;
        assert_eq!(
            (reply.status, reply.error_code()),
            (400, "invalid_request"),
            "{base}{get_path}"
        );
        assert!(reply.header("x-request-id").is_some());

        let big_header = client
            .get(format!("{base}{get_path}"))
            .header("x-filler", "h".repeat(MAX_HEADER_BYTES))
            .send()
            .await
            .unwrap();
        let reply = Reply::from(big_header).await;
        assert_eq!(
            (reply.status, reply.error_code()),
            (400, "invalid_request"),
            "{base}{get_path}"
        );

        let bearer = if base == env.api_multi {
            project.bearer()
        } else {
            format!("Bearer {}", developer.token)
        };
        let big_body = client
            .post(format!("{base}{post_path}"))
            .header("authorization", &bearer)
            .header("content-type", "application/json")
            .body(format!("{{\"name\":\"{}\"}}", "b".repeat(JSON_BODY_LIMIT)))
            .send()
            .await
            .unwrap();
        let reply = Reply::from(big_body).await;
        assert_eq!(
            (reply.status, reply.error_code()),
            (413, "invalid_request"),
            "{base}{post_path}"
        );
        let deep = format!("{}{}", "[".repeat(20_000), "]".repeat(20_000));
        let nested = client
            .post(format!("{base}{post_path}"))
            .header("authorization", &bearer)
            .header("content-type", "application/json")
            .body(deep)
            .send()
            .await
            .unwrap();
        let reply = Reply::from(nested).await;
        assert!(matches!(reply.status, 400 | 422), "{base}{post_path}: {}", reply.status);
        assert_eq!(reply.error_code(), "invalid_request");
    }
}

#[tokio::test]
async fn every_worker_serves_its_openapi_document_as_committed() {
    let env = TestEnv::get();
    let client = e2e::client();
    for (name, base) in workers(&env) {
        let reply = Reply::from(client.get(format!("{base}/openapi.json")).send().await.unwrap()).await;
        assert_eq!(reply.status, 200, "{name}");
        assert!(
            reply
                .header("content-type")
                .is_some_and(|c| c.starts_with("application/json"))
        );
        assert_eq!(reply.body, e2e::contract::load(name), "{name} serves another document");
        assert_eq!(reply.body["info"]["title"], format!("dream-api {name}"));
    }
}

#[tokio::test]
async fn the_checkout_landing_pages_are_html() {
    let env = TestEnv::get();
    let client = e2e::client();
    for page in ["success", "cancel"] {
        let reply = Reply::from(
            client
                .get(format!("{}/checkout/{page}", env.api_multi))
                .send()
                .await
                .unwrap(),
        )
        .await;
        assert_eq!(reply.status, 200);
        assert!(
            reply.header("content-type").is_some_and(|c| c.starts_with("text/html")),
            "{page}"
        );
        assert!(reply.body.as_str().is_some_and(|html| html.contains("<html")), "{page}");
    }
}
