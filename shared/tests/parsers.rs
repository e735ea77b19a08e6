//! Every parser of caller input in `shared`, fed arbitrary input: none panics, and every
//! refusal is a 4xx `ApiError` (never a 500). Bounded: a few hundred cases per parser, so it
//! runs in seconds in `make test`.

use axum::http::{HeaderMap, HeaderName, HeaderValue};
use dream_core::api::{
    ConnectCallback, PlatformCheckoutRequest, PromoteRequest, RotateRequest, TierChange,
    store::CartRequest,
    subscriptions::{ChangePlanRequest, CheckoutRequest, PortalRequest},
};
use dream_core::input::{json_body, parse_redirect};
use dream_core::{
    ApiResult,
    input::parse_email,
    keys::{PublishableKey, SecretKey},
    money::Cents,
    period::Timestamp,
    tiers::{TierName, input::CreateProjectInput},
};
use proptest::prelude::*;
use serde_json::{Map, Value};
use shared::{
    identity::parse_bearer,
    stripe_events::webhook::verified_event,
    usage::metering::{UsageHeaders, parse_user_id},
};

fn assert_4xx<T>(result: ApiResult<T>) {
    if let Err(e) = result {
        assert!(
            e.status().is_client_error(),
            "{} for a caller's input: {e:?}",
            e.status()
        );
    }
}

/// Field names the bodies use, so generated objects reach past "unknown field".
const FIELDS: [&str; 22] = [
    "tier",
    "items",
    "priceId",
    "quantity",
    "email",
    "successUrl",
    "cancelUrl",
    "returnUrl",
    "name",
    "projectType",
    "tiers",
    "price",
    "limit",
    "inventory",
    "features",
    "popular",
    "displayName",
    "description",
    "imageUrl",
    "publishableKey",
    "gracePeriod",
    "code",
];

fn json_value() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(Value::from),
        any::<f64>().prop_map(|f| serde_json::Number::from_f64(f).map_or(Value::Null, Value::Number)),
        "[a-z0-9_.:/@ -]{0,40}".prop_map(Value::String),
        any::<String>().prop_map(Value::String),
    ];
    leaf.prop_recursive(4, 48, 8, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
            prop::collection::vec((prop::sample::select(FIELDS.to_vec()), inner), 0..8).prop_map(|pairs| {
                Value::Object(pairs.into_iter().map(|(k, v)| (k.to_owned(), v)).collect::<Map<_, _>>())
            }),
        ]
    })
}

fn body() -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        json_value().prop_map(|v| serde_json::to_vec(&v).unwrap()),
        prop::collection::vec(any::<u8>(), 0..200),
        // Deep nesting: serde_json's recursion limit must come back as a 4xx, not a crash.
        (1usize..400).prop_map(|depth| format!("{}{}", "[".repeat(depth), "]".repeat(depth)).into_bytes()),
    ]
}

fn headers(values: &[(&'static str, Vec<u8>)]) -> HeaderMap {
    let mut map = HeaderMap::new();
    for (name, value) in values {
        if let Ok(value) = HeaderValue::from_bytes(value) {
            map.insert(HeaderName::from_static(name), value);
        }
    }
    map
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 400, ..ProptestConfig::default() })]

    #[test]
    fn json_bodies(bytes in body()) {
        assert_4xx(json_body::<CheckoutRequest>(&bytes));
        assert_4xx(json_body::<PortalRequest>(&bytes));
        assert_4xx(json_body::<ChangePlanRequest>(&bytes));
        assert_4xx(json_body::<CartRequest>(&bytes));
        assert_4xx(json_body::<PlatformCheckoutRequest>(&bytes));
        // The dashboard's typed bodies: a parse error is axum's 422; what parses is validated.
        if let Ok(input) = serde_json::from_slice::<CreateProjectInput>(&bytes) {
            assert_4xx(input.validate());
        }
        if let Ok(change) = serde_json::from_slice::<TierChange>(&bytes) {
            assert_4xx(change.tier.validate(dream_core::mode::ProjectType::Saas, "tier"));
            assert_4xx(change.tier.validate(dream_core::mode::ProjectType::Store, "tier"));
        }
        // No panic is all these promise: their fields are checked against the database.
        let _ = serde_json::from_slice::<PromoteRequest>(&bytes);
        let _ = serde_json::from_slice::<RotateRequest>(&bytes);
        let _ = serde_json::from_slice::<ConnectCallback>(&bytes);
    }

    #[test]
    fn metering_headers(user in prop::collection::vec(any::<u8>(), 0..300),
                        plan in prop::collection::vec(any::<u8>(), 0..80),
                        key in prop::collection::vec(any::<u8>(), 0..300)) {
        let map = headers(&[("x-user-id", user), ("x-user-plan", plan), ("idempotency-key", key)]);
        assert_4xx(UsageHeaders::parse(&map));
        assert_4xx(parse_user_id(&map));
    }

    #[test]
    fn credentials(raw in any::<String>(), hexish in "(Bearer )?(sk|pk)_(test|live|prod)_[0-9a-fA-F]{0,70}") {
        for text in [raw.as_str(), hexish.as_str()] {
            assert_4xx(parse_bearer(Some(text)));
            let _ = SecretKey::parse(text);
            let _ = PublishableKey::parse(text);
        }
        assert_4xx(parse_bearer(None));
    }

    #[test]
    fn scalar_fields(text in any::<String>(), numeric in "-?[0-9]{0,9}(\\.[0-9]{0,4})?(e[0-9]{1,3})?") {
        for t in [text.as_str(), numeric.as_str()] {
            let _ = Cents::parse_dollars(t);
            let _ = TierName::parse(t);
            let _ = Timestamp::parse_rfc3339(t);
            assert_4xx(parse_email(t));
            assert_4xx(parse_redirect("successUrl", t));
        }
    }

    #[test]
    fn stripe_webhook_deliveries(bytes in body(), signature in any::<Option<String>>(),
                                 shaped in "t=[0-9]{0,12}(,v1=[0-9a-f]{0,64}){0,12}") {
        let now = Timestamp(1_800_000_000);
        assert_4xx(verified_event(&bytes, signature.as_deref(), "whsec_test", now));
        assert_4xx(verified_event(&bytes, Some(&shaped), "whsec_test", now));
    }
}
