//! Injected failures (`/_emulator/faults`): each kind, `after` (done but unanswered) with an
//! idempotent retry, and that the controls themselves are never affected.

mod common;

use common::*;
use reqwest::Method;
use serde_json::json;

#[tokio::test]
async fn the_next_matching_requests_fail_then_the_service_answers_again() {
    let emu = Emu::start().await;
    let (status, _) = emu
        .control(
            "/_emulator/faults",
            json!({"path": "/v1/products", "method": "POST", "kind": "error", "count": 2}),
        )
        .await;
    assert_eq!(status, 200);
    for _ in 0..2 {
        let (status, body) = emu.post("/v1/products", SK_TEST, &[("name", "Mug")]).await;
        assert_eq!(status, 500);
        assert_eq!(body["error"]["type"], "api_error");
    }
    // A fault for one connected account leaves the others alone.
    emu.control(
        "/_emulator/faults",
        json!({"path": "/v1/customers", "kind": "error", "account": "acct_other"}),
    )
    .await;
    assert_eq!(
        emu.post("/v1/customers", SK_TEST, &[("email", "x@example.com")])
            .await
            .0,
        200
    );
    // Other paths and methods were never affected; the third POST succeeds.
    assert_eq!(emu.get("/v1/products", SK_TEST, &[]).await.0, 200);
    let (status, product) = emu.post("/v1/products", SK_TEST, &[("name", "Mug")]).await;
    assert_eq!((status, product["name"].as_str()), (200, Some("Mug")));
    let (_, listed) = emu.json(Method::GET, "/_emulator/faults", None).await;
    assert_eq!(listed["faults"][0]["fired"], 2);
    // Exactly one product was made by the three attempts.
    let (_, all) = emu.get("/v1/products", SK_TEST, &[]).await;
    assert_eq!(all["data"].as_array().map(Vec::len), Some(1));
}

#[tokio::test]
async fn after_does_the_work_and_an_idempotent_retry_gets_the_same_object() {
    let emu = Emu::start().await;
    emu.control(
        "/_emulator/faults",
        json!({"path": "/v1/customers", "kind": "drop", "after": true}),
    )
    .await;
    let first = emu
        .http
        .post(emu.url("/v1/customers"))
        .bearer_auth(SK_TEST)
        .header("Idempotency-Key", "retry-1")
        .form(&[("email", "a@example.com")])
        .send()
        .await;
    // The connection dies before a complete answer: at the headers or in the body.
    if let Ok(answer) = first {
        assert!(answer.text().await.is_err(), "the body is cut");
    }
    let (status, _, customer) = emu
        .stripe(
            Method::POST,
            "/v1/customers",
            SK_TEST,
            None,
            Some("retry-1"),
            &[("email", "a@example.com")],
        )
        .await;
    assert_eq!(status, 200);
    let (_, all) = emu.get("/v1/customers", SK_TEST, &[]).await;
    assert_eq!(all["data"].as_array().map(Vec::len), Some(1), "made once");
    assert_eq!(all["data"][0]["id"], customer["id"]);
}

#[tokio::test]
async fn a_timeout_answers_late_and_clerk_errors_in_clerks_shape() {
    let emu = Emu::start().await;
    emu.control(
        "/_emulator/faults",
        json!({"path": "/v1/prices", "kind": "timeout", "delayMs": 300}),
    )
    .await;
    let started = std::time::Instant::now();
    let (status, _) = emu.get("/v1/prices", SK_TEST, &[]).await;
    assert_eq!(status, 500);
    assert!(started.elapsed().as_millis() >= 300);

    // `delay` is slow but real: the price list still comes back.
    emu.control(
        "/_emulator/faults",
        json!({"path": "/v1/prices", "kind": "delay", "delayMs": 300}),
    )
    .await;
    let started = std::time::Instant::now();
    let (status, body) = emu.get("/v1/prices", SK_TEST, &[]).await;
    assert_eq!((status, body["object"].as_str()), (200, Some("list")));
    assert!(started.elapsed().as_millis() >= 300);

    emu.control("/_emulator/faults", json!({"path": "/clerk/", "kind": "error"}))
        .await;
    let (status, body) = emu
        .json(Method::GET, "/clerk/dream-api/.well-known/jwks.json", None)
        .await;
    assert_eq!(status, 500);
    assert_eq!(body["errors"][0]["code"], "internal_clerk_error");
    // Bad controls are refused; DELETE clears everything.
    assert_eq!(
        emu.control("/_emulator/faults", json!({"path": "", "kind": "error"}))
            .await
            .0,
        400
    );
    assert_eq!(
        emu.control("/_emulator/faults", json!({"path": "/v1", "kind": "melt"}))
            .await
            .0,
        400
    );
    emu.json(Method::DELETE, "/_emulator/faults", None).await;
    assert_eq!(
        emu.json(Method::GET, "/_emulator/faults", None).await.1["faults"],
        json!([])
    );
}

/// The KV fault point the faulty-KV proxy asks before each operation: 204 unless a fault fires.
#[tokio::test]
async fn the_kv_fault_point_answers_unless_a_fault_fires() {
    let emu = Emu::start().await;
    let probe = |key: &str| emu.http.get(emu.url(&format!("/kv/get/{key}"))).send();
    assert_eq!(probe("secretkey:abc:project").await.unwrap().status(), 204);
    emu.control(
        "/_emulator/faults",
        json!({"path": "/kv/get/secretkey:abc", "kind": "error"}),
    )
    .await;
    assert_eq!(probe("secretkey:other:project").await.unwrap().status(), 204);
    assert_eq!(probe("secretkey:abc:project").await.unwrap().status(), 500);
    assert_eq!(probe("secretkey:abc:project").await.unwrap().status(), 204);
}
