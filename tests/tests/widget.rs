//! The usage widget (issue 29): a token minted with the secret key reads one user's plan,
//! usage and the tiers to upgrade to, from any origin, and nothing else: it counts nothing,
//! reads no other user, expires, cannot be forged, and stops with the key that minted it.

use e2e::{TestEnv, customers::ProjectApi, journey::saas_project};
use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};
use serde_json::{Value, json};

const TIERS: &[(&str, Option<u64>, f64)] = &[("free", Some(5), 0.0), ("pro", Some(100), 9.99)];

async fn read(env: &TestEnv, token: &str) -> e2e::Reply {
    e2e::Reply::from(
        e2e::client()
            .get(format!("{}/api/widget", env.api_multi))
            .query(&[("token", token)])
            .header("Origin", "https://app.example")
            .send()
            .await
            .expect("widget read"),
    )
    .await
}

fn count(widget: &Value, meter: &str) -> Option<u64> {
    widget["usage"]
        .as_array()?
        .iter()
        .find(|m| m["meter"] == meter)
        .and_then(|m| m["count"].as_u64())
}

#[tokio::test]
async fn a_widget_token_reads_one_users_usage_and_nothing_else() {
    let env = TestEnv::get();
    let (developer, project) = saas_project(&env, TIERS).await;
    let api = ProjectApi::new(&env, &project);
    for _ in 0..3 {
        let counted = api.post("/api/data", Some("alice"), json!({})).await;
        assert_eq!(counted.status, 200, "{:?}", counted.body);
    }

    let minted = api.post("/api/widget/tokens", None, json!({"userId": "alice"})).await;
    assert_eq!(minted.status, 200, "{:?}", minted.body);
    let token = minted.body["token"].as_str().unwrap().to_owned();
    assert!(token.starts_with("wt_"));
    assert_eq!(minted.body["userId"], "alice");

    // From any origin, with the token alone: alice's plan, usage and the tier above hers.
    let widget = read(&env, &token).await;
    assert_eq!(widget.status, 200, "{:?}", widget.body);
    assert_eq!(widget.header("access-control-allow-origin"), Some("*"));
    assert_eq!(widget.body["userId"], "alice");
    assert_eq!(widget.body["plan"]["name"], "free");
    assert_eq!(count(&widget.body, "requests"), Some(3));
    assert_eq!(offered(&widget.body), ["pro"]);
    assert!(
        !widget.body.to_string().contains("price_"),
        "no Stripe ids: {}",
        widget.body
    );

    // It counts nothing, and reading does not count either.
    let counted = e2e::Reply::from(
        e2e::client()
            .post(format!("{}/api/data", env.api_multi))
            .bearer_auth(&token)
            .header("X-User-Id", "alice")
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(counted.status, 401, "{:?}", counted.body);
    assert_eq!(count(&read(&env, &token).await.body, "requests"), Some(3));

    // Bob's token reads bob; alice's token edited to say bob is refused.
    let bob = api.post("/api/widget/tokens", None, json!({"userId": "bob"})).await;
    let bob_token = bob.body["token"].as_str().unwrap();
    assert_eq!(count(&read(&env, bob_token).await.body, "requests"), Some(0));
    let (alice_payload, alice_tag) = token.split_once('.').unwrap();
    let (bob_payload, _) = bob_token.split_once('.').unwrap();
    for forged in [
        format!("{bob_payload}.{alice_tag}"),
        format!("{alice_payload}x.{alice_tag}"),
        "wt_nope".to_owned(),
    ] {
        let refused = read(&env, &forged).await;
        assert_eq!(
            (refused.status, refused.error_code()),
            (401, "unauthorized"),
            "{forged}: {:?}",
            refused.body
        );
    }

    // Bad requests: a lifetime out of bounds, no user.
    for body in [json!({"userId": "alice", "expiresInSeconds": 5}), json!({})] {
        let refused = api.post("/api/widget/tokens", None, body).await;
        assert_eq!(refused.status, 400, "{:?}", refused.body);
    }

    // The script is served to any page.
    let script = e2e::client()
        .get(format!("{}/widget.js", env.api_multi))
        .send()
        .await
        .unwrap();
    assert_eq!(script.status(), 200);
    assert!(
        script.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/javascript")
    );
    assert!(
        script
            .text()
            .await
            .unwrap()
            .contains("customElements.define(\"dream-usage\"")
    );

    // Rotating the secret key retires every token it minted.
    let rotated = developer.rotate_key(&project.publishable_key).await;
    assert_eq!(rotated.status, 200, "{:?}", rotated.body);
    let retired = read(&env, &token).await;
    assert_eq!(retired.status, 401, "{:?}", retired.body);
}

fn offered(widget: &Value) -> Vec<String> {
    widget["tiers"]
        .as_array()
        .unwrap_or_else(|| panic!("no tiers: {widget}"))
        .iter()
        .filter_map(|t| t["name"].as_str().map(str::to_owned))
        .collect()
}

#[tokio::test]
async fn a_token_offers_only_the_tiers_its_server_chose() {
    let env = TestEnv::get();
    let tiers = &[
        ("free", Some(5), 0.0),
        ("legacy", Some(50), 4.0),
        ("pro", Some(100), 9.99),
        ("scale", Some(1000), 49.0),
    ];
    let (_, project) = saas_project(&env, tiers).await;
    let api = ProjectApi::new(&env, &project);
    let offering = |offer: Value| {
        let (api, env) = (&api, &env);
        async move {
            let mut body = json!({"userId": "carol"});
            if !offer.is_null() {
                body["offerTiers"] = offer;
            }
            let minted = api.post("/api/widget/tokens", None, body).await;
            assert_eq!(minted.status, 200, "{:?}", minted.body);
            let widget = read(env, minted.body["token"].as_str().unwrap()).await;
            assert_eq!(widget.status, 200, "{:?}", widget.body);
            offered(&widget.body)
        }
    };
    // Every other tier, cheapest first, unless the server chose; the user's own plan never.
    assert_eq!(offering(Value::Null).await, ["legacy", "pro", "scale"]);
    assert_eq!(offering(json!(["scale", "pro", "free"])).await, ["pro", "scale"]);
    assert_eq!(offering(json!([])).await, Vec::<String>::new());
    let minted = api
        .post("/api/widget/tokens", None, json!({"userId": "carol", "offerTiers": null}))
        .await;
    assert_eq!(offered(&read(&env, minted.body["token"].as_str().unwrap()).await.body), ["legacy", "pro", "scale"]);

    // The list is signed: the same token re-encoded without it (every tier) is refused.
    let minted = api
        .post("/api/widget/tokens", None, json!({"userId": "carol", "offerTiers": ["pro"]}))
        .await;
    let token = minted.body["token"].as_str().unwrap();
    let (payload, tag) = token.strip_prefix("wt_").unwrap().split_once('.').unwrap();
    let mut claims: Value = serde_json::from_slice(&URL_SAFE_NO_PAD.decode(payload).unwrap()).unwrap();
    assert_eq!(claims["tiers"], json!(["pro"]), "{claims}");
    claims.as_object_mut().unwrap().remove("tiers");
    let widened = format!("wt_{}.{tag}", URL_SAFE_NO_PAD.encode(claims.to_string()));
    let refused = read(&env, &widened).await;
    assert_eq!((refused.status, refused.error_code()), (401, "unauthorized"), "{:?}", refused.body);

    for (offer, says) in [
        (json!(["platinum"]), "no tier \"platinum\""),
        (json!(["pro", "pro"]), "twice"),
        (json!(["Pro"]), "no tier \"Pro\""),
        (json!([""]), "no tier \"\""),
        (json!(["pro", null]), "offerTiers[1]"),
        (json!("pro"), "offerTiers"),
    ] {
        let refused = api
            .post("/api/widget/tokens", None, json!({"userId": "carol", "offerTiers": offer}))
            .await;
        assert_eq!(
            (refused.status, refused.error_code()),
            (400, "invalid_request"),
            "{offer}: {:?}",
            refused.body
        );
        assert!(
            refused.body["error"].as_str().unwrap().contains(says),
            "{offer}: {:?}",
            refused.body
        );
    }
}
