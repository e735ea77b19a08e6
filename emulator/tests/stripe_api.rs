//! The Stripe API: Connect OAuth, account and mode isolation, products/prices/customers,
//! idempotency, errors, expansion and persistence across restarts.

mod common;

use common::*;
use reqwest::Method;
use serde_json::json;

#[tokio::test]
async fn oauth_code_exchange_round_trips_state_and_codes_work_once() {
    let emu = Emu::start().await;
    // The authorize page carries the caller's parameters into its form.
    let page = emu
        .http
        .get(emu.url("/oauth/authorize?response_type=code&client_id=ca_123&scope=read_write&state=xyz%2F1&redirect_uri=http%3A%2F%2Flocalhost%3A8788%2Fcallback"))
        .send()
        .await
        .expect("page");
    assert_eq!(page.status().as_u16(), 200);
    let html = page.text().await.expect("html");
    assert!(html.contains("Authorize") && html.contains("xyz/1"), "{html}");

    // Pressing Authorize redirects back with a code and the same state.
    let resp = emu
        .http
        .post(emu.url("/oauth/authorize"))
        .form(&[
            ("client_id", "ca_123"),
            ("scope", "read_write"),
            ("state", "xyz/1"),
            ("redirect_uri", "http://localhost:8788/callback"),
            ("account", "new"),
            ("decision", "authorize"),
        ])
        .send()
        .await
        .expect("authorize");
    assert_eq!(resp.status().as_u16(), 302);
    let location = url::Url::parse(resp.headers()["location"].to_str().expect("ascii")).expect("url");
    assert_eq!(location.path(), "/callback");
    let query: std::collections::HashMap<_, _> = location.query_pairs().into_owned().collect();
    assert_eq!(query.get("state").map(String::as_str), Some("xyz/1"));
    let code = query.get("code").cloned().expect("code");
    assert!(code.starts_with("ac_"));

    let exchange = |key: &'static str, code: String| {
        let http = emu.http.clone();
        let url = emu.url("/oauth/token");
        async move {
            let resp = http
                .post(url)
                .bearer_auth(key)
                .form(&[("grant_type", "authorization_code"), ("code", &code)])
                .send()
                .await
                .expect("token");
            (
                resp.status().as_u16(),
                resp.json::<serde_json::Value>().await.expect("json"),
            )
        }
    };
    let (status, token) = exchange(SK_TEST, code.clone()).await;
    assert_eq!(status, 200, "{token}");
    assert_eq!(token["token_type"], "bearer");
    assert_eq!(token["livemode"], false);
    assert_eq!(token["scope"], "read_write");
    let account = token["stripe_user_id"].as_str().expect("account");
    assert!(account.starts_with("acct_"));
    assert!(token["access_token"].as_str().expect("at").starts_with("sk_test_"));
    assert!(token["refresh_token"].as_str().expect("rt").starts_with("rt_"));
    assert!(
        token["stripe_publishable_key"]
            .as_str()
            .expect("pk")
            .starts_with("pk_test_")
    );

    // The access token works as the account's own key.
    let access = token["access_token"].as_str().expect("at").to_string();
    let (status, own) = emu.get("/v1/account", &access, &[]).await;
    assert_eq!((status, own["id"].as_str()), (200, Some(account)));

    // A code works once; reuse is an OAuth error and revokes what the code issued.
    let (status, reused) = exchange(SK_TEST, code).await;
    assert_eq!(status, 400);
    assert_eq!(reused["error"], "invalid_grant");
    assert!(
        reused["error_description"]
            .as_str()
            .expect("description")
            .contains("already been used")
    );
    let (status, _) = emu.get("/v1/account", &access, &[]).await;
    assert_eq!(status, 401, "the revoked access token no longer authenticates");

    let (status, unknown) = exchange(SK_TEST, "ac_nope".into()).await;
    assert_eq!((status, unknown["error"].as_str()), (400, Some("invalid_grant")));

    // The connected account is listed by the control.
    let (_, accounts) = emu.json(Method::GET, "/_emulator/accounts", None).await;
    assert!(
        accounts["data"]
            .as_array()
            .expect("data")
            .iter()
            .any(|a| a["id"] == account)
    );

    // Deny sends the user back with access_denied and the state.
    let denied = emu
        .http
        .post(emu.url("/oauth/authorize"))
        .form(&[
            ("client_id", "ca_123"),
            ("state", "s2"),
            ("redirect_uri", "http://localhost:8788/callback"),
            ("decision", "deny"),
        ])
        .send()
        .await
        .expect("deny");
    let location = denied.headers()["location"].to_str().expect("ascii").to_string();
    assert!(
        location.contains("error=access_denied") && location.contains("state=s2"),
        "{location}"
    );
}

#[tokio::test]
async fn objects_are_isolated_by_account_and_mode() {
    let emu = Emu::start().await;
    let a = emu.connect_account().await;
    let b = emu.connect_account().await;
    let (_, price_a) = emu.product_and_price(SK_TEST, Some(&a), true, "999").await;

    let (status, found) = emu.get_as(&format!("/v1/prices/{price_a}"), SK_TEST, &a, &[]).await;
    assert_eq!((status, found["id"].as_str()), (200, Some(price_a.as_str())));
    for (label, (status, body)) in [
        (
            "account B",
            emu.get_as(&format!("/v1/prices/{price_a}"), SK_TEST, &b, &[]).await,
        ),
        (
            "platform",
            emu.get(&format!("/v1/prices/{price_a}"), SK_TEST, &[]).await,
        ),
        (
            "live mode of A",
            emu.get_as(&format!("/v1/prices/{price_a}"), SK_LIVE, &a, &[]).await,
        ),
    ] {
        assert_eq!(status, 404, "{label}: {body}");
        assert_eq!(
            error_of(&body),
            ("invalid_request_error", "resource_missing"),
            "{label}"
        );
    }
    let (_, live_miss) = emu.get_as(&format!("/v1/prices/{price_a}"), SK_LIVE, &a, &[]).await;
    assert!(
        live_miss["error"]["message"]
            .as_str()
            .expect("message")
            .contains("exists in test mode")
    );

    // Lists and references are scoped too.
    let (_, list_b) = emu.get_as("/v1/prices", SK_TEST, &b, &[]).await;
    assert_eq!(list_b["data"].as_array().expect("data").len(), 0);
    let (status, body) = emu
        .post_as(
            "/v1/checkout/sessions",
            SK_TEST,
            &b,
            &[
                ("mode", "subscription"),
                ("line_items[0][price]", &price_a),
                ("line_items[0][quantity]", "1"),
            ],
        )
        .await;
    assert_eq!(status, 400, "{body}");
    assert_eq!(body["error"]["param"], "line_items[0][price]");

    // An account that never connected is refused as Stripe refuses it.
    let (status, body) = emu.get_as("/v1/products", SK_TEST, "acct_unknown", &[]).await;
    assert_eq!(status, 403, "{body}");
    assert_eq!(body["error"]["code"], "account_invalid");
}

#[tokio::test]
async fn products_prices_customers_crud() {
    let emu = Emu::start().await;
    let (status, product) = emu
        .post(
            "/v1/products",
            SK_TEST,
            &[
                ("name", "Pro plan"),
                ("description", "More requests"),
                ("metadata[tier]", "pro"),
                ("images[]", "http://x/a.png"),
            ],
        )
        .await;
    assert_eq!(status, 200, "{product}");
    let id = product["id"].as_str().expect("id").to_string();
    assert!(id.starts_with("prod_"));
    assert_eq!(product["metadata"], json!({"tier": "pro"}));
    assert_eq!(product["images"], json!(["http://x/a.png"]));

    let (_, archived) = emu
        .post(
            &format!("/v1/products/{id}"),
            SK_TEST,
            &[("active", "false"), ("metadata[tier]", "")],
        )
        .await;
    assert_eq!(archived["active"], false);
    assert_eq!(archived["metadata"], json!({}), "an empty value removes the key");
    let (_, active) = emu.get("/v1/products", SK_TEST, &[("active", "true")]).await;
    assert!(active["data"].as_array().expect("data").is_empty());
    let (_, all) = emu.get("/v1/products", SK_TEST, &[]).await;
    assert_eq!(all["data"][0]["id"], id.as_str());
    assert_eq!(all["object"], "list");
    assert_eq!(all["url"], "/v1/products");

    // Prices: recurring and one-time; amounts immutable.
    let (status, monthly) = emu
        .post(
            "/v1/prices",
            SK_TEST,
            &[
                ("product", &id),
                ("currency", "usd"),
                ("unit_amount", "1500"),
                ("recurring[interval]", "month"),
                ("lookup_key", "pro_monthly"),
            ],
        )
        .await;
    assert_eq!(status, 200, "{monthly}");
    assert_eq!(monthly["type"], "recurring");
    assert_eq!(monthly["recurring"]["interval"], "month");
    assert_eq!(monthly["unit_amount_decimal"], "1500");
    let (_, once) = emu
        .post(
            "/v1/prices",
            SK_TEST,
            &[
                ("product_data[name]", "Mug"),
                ("currency", "usd"),
                ("unit_amount", "900"),
            ],
        )
        .await;
    assert_eq!(once["type"], "one_time");
    assert!(once["recurring"].is_null());
    let monthly_id = monthly["id"].as_str().expect("id");
    let (status, refused) = emu
        .post(&format!("/v1/prices/{monthly_id}"), SK_TEST, &[("unit_amount", "2000")])
        .await;
    assert_eq!(status, 400);
    assert_eq!(error_of(&refused), ("invalid_request_error", "parameter_unknown"));
    assert_eq!(refused["error"]["param"], "unit_amount");
    let (_, updated) = emu
        .post(
            &format!("/v1/prices/{monthly_id}"),
            SK_TEST,
            &[("active", "false"), ("metadata[k]", "v")],
        )
        .await;
    assert_eq!(
        (updated["active"].as_bool(), updated["unit_amount"].as_i64()),
        (Some(false), Some(1500))
    );
    let (_, by_product) = emu.get("/v1/prices", SK_TEST, &[("product", &id)]).await;
    assert_eq!(by_product["data"].as_array().expect("data").len(), 1);
    let (_, by_key) = emu
        .get("/v1/prices", SK_TEST, &[("lookup_keys[]", "pro_monthly")])
        .await;
    assert_eq!(by_key["data"][0]["id"], monthly_id);
    let (status, taken) = emu
        .post(
            "/v1/prices",
            SK_TEST,
            &[
                ("product", &id),
                ("currency", "usd"),
                ("unit_amount", "1"),
                ("lookup_key", "pro_monthly"),
            ],
        )
        .await;
    assert_eq!(status, 400, "{taken}");

    // A product with prices cannot be deleted.
    let (status, _) = emu.delete(&format!("/v1/products/{id}"), SK_TEST).await;
    assert_eq!(status, 400);

    // Customers, with the email filter.
    let (_, c1) = emu
        .post("/v1/customers", SK_TEST, &[("email", "a@example.com"), ("name", "A")])
        .await;
    emu.post("/v1/customers", SK_TEST, &[("email", "b@example.com")]).await;
    let c1_id = c1["id"].as_str().expect("id");
    assert!(c1_id.starts_with("cus_"));
    let (_, found) = emu.get("/v1/customers", SK_TEST, &[("email", "a@example.com")]).await;
    assert_eq!(found["data"].as_array().expect("data").len(), 1);
    assert_eq!(found["data"][0]["id"], c1_id);
    let (_, renamed) = emu
        .post(&format!("/v1/customers/{c1_id}"), SK_TEST, &[("name", "Ann")])
        .await;
    assert_eq!(renamed["name"], "Ann");

    // Every change recorded an event, with previous_attributes on updates.
    let updates = emu.events_of_type(SK_TEST, None, "customer.updated").await;
    assert_eq!(updates[0]["data"]["previous_attributes"], json!({"name": "A"}));
    assert_eq!(
        emu.events_of_type(SK_TEST, None, "price.created").await.len(),
        2,
        "the refused price recorded nothing"
    );
    assert_eq!(emu.events_of_type(SK_TEST, None, "product.updated").await.len(), 1);

    // Pagination.
    let (_, first) = emu.get("/v1/customers", SK_TEST, &[("limit", "1")]).await;
    assert_eq!(first["has_more"], true);
    let last_id = first["data"][0]["id"].as_str().expect("id");
    let (_, second) = emu
        .get("/v1/customers", SK_TEST, &[("limit", "1"), ("starting_after", last_id)])
        .await;
    assert_eq!(
        (second["data"][0]["id"].as_str(), second["has_more"].as_bool()),
        (Some(c1_id), Some(false))
    );
}

#[tokio::test]
async fn idempotency_keys_replay_or_refuse() {
    let emu = Emu::start().await;
    let params = [("email", "same@example.com")];
    let (s1, h1, first) = emu
        .stripe(Method::POST, "/v1/customers", SK_TEST, None, Some("key-1"), &params)
        .await;
    let (s2, h2, second) = emu
        .stripe(Method::POST, "/v1/customers", SK_TEST, None, Some("key-1"), &params)
        .await;
    assert_eq!((s1, s2), (200, 200));
    assert_eq!(first, second, "the replay is the first response");
    assert!(h1.get("idempotent-replayed").is_none());
    assert_eq!(
        h2.get("idempotent-replayed").and_then(|v| v.to_str().ok()),
        Some("true")
    );
    assert_eq!(h1.get("request-id"), h2.get("request-id"));
    let (_, list) = emu.get("/v1/customers", SK_TEST, &[]).await;
    assert_eq!(list["data"].as_array().expect("data").len(), 1, "created once");

    let (status, _, refused) = emu
        .stripe(
            Method::POST,
            "/v1/customers",
            SK_TEST,
            None,
            Some("key-1"),
            &[("email", "other@example.com")],
        )
        .await;
    assert_eq!(status, 400);
    assert_eq!(refused["error"]["type"], "idempotency_error");

    // Keys are per mode: the same key in live mode is a new request.
    let (status, _, live) = emu
        .stripe(Method::POST, "/v1/customers", SK_LIVE, None, Some("key-1"), &params)
        .await;
    assert_eq!(status, 200);
    assert_ne!(live["id"], first["id"]);
    assert_eq!(live["livemode"], true);

    // The event records the request and its key.
    let created = emu.events_of_type(SK_TEST, None, "customer.created").await;
    assert_eq!(created.len(), 1);
    assert_eq!(created[0]["request"]["idempotency_key"], "key-1");
    assert_eq!(
        created[0]["request"]["id"].as_str(),
        h1.get("request-id").and_then(|v| v.to_str().ok())
    );
}

#[tokio::test]
async fn errors_have_stripes_shape() {
    let emu = Emu::start().await;
    let resp = emu.http.get(emu.url("/v1/customers")).send().await.expect("sent");
    assert_eq!(resp.status().as_u16(), 401);
    let body: serde_json::Value = resp.json().await.expect("json");
    assert_eq!(body["error"]["type"], "invalid_request_error");
    assert!(
        body["error"]["message"]
            .as_str()
            .expect("m")
            .contains("did not provide an API key")
    );

    let (status, body) = emu.get("/v1/customers", "sk_nonsense", &[]).await;
    assert_eq!(
        (status, body["error"]["type"].as_str()),
        (401, Some("invalid_request_error"))
    );

    // Basic auth with the key as the user name is accepted, as by Stripe.
    let resp = emu
        .http
        .get(emu.url("/v1/customers"))
        .basic_auth(SK_TEST, Some(""))
        .send()
        .await
        .expect("sent");
    assert_eq!(resp.status().as_u16(), 200);

    let (status, body) = emu.post("/v1/products", SK_TEST, &[]).await;
    assert_eq!(status, 400);
    assert_eq!(error_of(&body), ("invalid_request_error", "parameter_missing"));
    assert_eq!(body["error"]["param"], "name");
    assert!(body["error"]["message"].is_string());

    let (status, body) = emu.get("/v1/customers/cus_missing", SK_TEST, &[]).await;
    assert_eq!(status, 404);
    assert_eq!(error_of(&body), ("invalid_request_error", "resource_missing"));
    assert_eq!(body["error"]["message"], "No such customer: 'cus_missing'");

    let (status, body) = emu
        .post("/v1/products", SK_TEST, &[("name", "x"), ("bogus", "1")])
        .await;
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (400, Some("parameter_unknown"))
    );

    let (status, body) = emu.get("/v1/customers", SK_TEST, &[("limit", "abc")]).await;
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (400, Some("parameter_invalid_integer"))
    );

    let (status, body) = emu.get("/v1/nothing_here", SK_TEST, &[]).await;
    assert_eq!(status, 404);
    assert!(
        body["error"]["message"]
            .as_str()
            .expect("m")
            .starts_with("Unrecognized request URL")
    );
}

#[tokio::test]
async fn state_file_keeps_objects_accounts_and_keys_across_restarts() {
    let dir = std::env::temp_dir().join(format!("dream-emulator-test-{}", std::process::id()));
    let path = dir.join("state.json");
    let _ = std::fs::remove_file(&path);
    let config = emulator::Config {
        state_file: Some(path.clone()),
        ..test_config()
    };

    let emu = Emu::with(config.clone()).await;
    let account = emu.connect_account().await;
    let (product, _) = emu.product_and_price(SK_TEST, Some(&account), true, "500").await;
    let (_, issued) = emu
        .control(
            "/clerk/dream-api/_emulator/tokens",
            json!({"email": "keep@example.com"}),
        )
        .await;
    let (_, jwks_before) = emu
        .json(Method::GET, "/clerk/dream-api/.well-known/jwks.json", None)
        .await;
    emu.running.shutdown().await.expect("clean shutdown");
    assert!(path.exists(), "the state was written");

    let emu = Emu::with(config).await;
    let (status, found) = emu
        .get_as(&format!("/v1/products/{product}"), SK_TEST, &account, &[])
        .await;
    assert_eq!(status, 200, "{found}");
    let (_, jwks_after) = emu
        .json(Method::GET, "/clerk/dream-api/.well-known/jwks.json", None)
        .await;
    assert_eq!(jwks_before, jwks_after, "the same key after a restart");
    let claims = python_verify_jwt(&jwks_after, issued["token"].as_str().expect("token"));
    assert_eq!(claims["sub"], issued["userId"]);
    // New ids do not collide with the ones handed out before the restart.
    let (again, _) = emu.product_and_price(SK_TEST, Some(&account), true, "500").await;
    assert_ne!(again, product);
    emu.running.shutdown().await.expect("clean shutdown");
    let _ = std::fs::remove_dir_all(&dir);
}

#[tokio::test]
async fn a_seed_repeats_ids_and_keys() {
    async fn run() -> (String, String, serde_json::Value) {
        let emu = Emu::start().await;
        let (product, price) = emu.product_and_price(SK_TEST, None, true, "100").await;
        let (_, jwks) = emu
            .json(Method::GET, "/clerk/end-user-api/.well-known/jwks.json", None)
            .await;
        (product, price, jwks)
    }
    let (first, second) = (run().await, run().await);
    assert_eq!(first, second, "the same seed and requests give the same ids and keys");
    let other = Emu::with(emulator::Config {
        seed: Some(43),
        ..test_config()
    })
    .await;
    let (product, _) = other.product_and_price(SK_TEST, None, true, "100").await;
    assert_ne!(product, first.0);
}
