//! Operators' counter changes: only with the operator token, applied at once only to a project
//! that has counted nothing, read back as they are stored.

use axum::http::{HeaderMap, HeaderValue, header};
use serde_json::json;
use sha2::{Digest, Sha256};

use super::{fixture, now};
use crate::{runtime::settings::Setting, usage::operator};
use dream_core::api::usage::UsageCountersRequest;
use dream_core::error::ErrorCode;

#[tokio::test]
async fn counters_change_only_for_an_operator_and_read_back() {
    let f = fixture().await;
    let platform = f.paying_developer("user_ops").await;
    let created = f
        .project(
            &platform,
            json!({"name": "Hot", "projectType": "saas", "tiers": [{"name": "free", "price": 0, "limit": 100}]}),
        )
        .await;

    let hash = Setting::fixed(
        "OPERATOR_TOKEN_SHA256",
        Some(&hex::encode(Sha256::digest(b"op_native"))),
    );
    let mut headers = HeaderMap::new();
    assert_eq!(
        operator::authenticate(&hash, &headers).unwrap_err().code(),
        ErrorCode::Unauthorized
    );
    headers.insert(header::AUTHORIZATION, HeaderValue::from_static("Bearer op_wrong"));
    assert_eq!(
        operator::authenticate(&hash, &headers).unwrap_err().code(),
        ErrorCode::Unauthorized
    );
    headers.insert(header::AUTHORIZATION, HeaderValue::from_static("Bearer op_native"));
    operator::authenticate(&hash, &headers).unwrap();
    let unset = Setting::fixed("OPERATOR_TOKEN_SHA256", None);
    assert_eq!(
        operator::authenticate(&unset, &headers).unwrap_err().code(),
        ErrorCode::NotFound
    );

    let body = json!({"publishableKey": created.publishable_key, "shards": 4, "immediately": true}).to_string();
    let request = UsageCountersRequest::parse(body.as_bytes()).unwrap();
    let changed = operator::set_usage_counters(
        (&f.db, &crate::projects::ProjectCaches::none()),
        &request,
        "req_native",
        now(),
    )
    .await
    .unwrap();
    assert_eq!(changed.shards_now, 4);
    let query = format!("publishableKey={}", created.publishable_key);
    let read = operator::usage_counters(&f.db, Some(&query), now()).await.unwrap();
    assert_eq!((read.shards_now, read.layout.len()), (4, changed.layout.len()));

    let bad = UsageCountersRequest::parse(br#"{"publishableKey": "pk_test_nope", "shards": 2}"#).unwrap();
    let err = operator::set_usage_counters(
        (&f.db, &crate::projects::ProjectCaches::none()),
        &bad,
        "req_native",
        now(),
    )
    .await
    .unwrap_err();
    assert_eq!(err.code(), ErrorCode::InvalidRequest, "{}", err.message());
}
