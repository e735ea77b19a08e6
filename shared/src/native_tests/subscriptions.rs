//! Customers' subscriptions: checkout, the event that records the subscription, a plan change
//! (once, however often it is asked) and the billing portal.

use serde_json::json;

use super::{fixture, now};
use crate::billing::subscriptions::checkout;
use dream_core::api::events::Outcome;
use dream_core::error::ErrorCode;

#[tokio::test]
async fn a_customer_subscribes_changes_plan_once_and_reaches_the_portal() {
    let f = fixture().await;
    let platform = f.paying_developer("user_saas").await;
    let created = f
        .project(
            &platform,
            json!({"name": "Api", "projectType": "saas", "tiers": [
                {"name": "free", "price": 0, "limit": 100},
                {"name": "pro", "price": 10, "limit": 1000},
                {"name": "team", "price": 30, "limit": 10000}]}),
        )
        .await;
    let auth = f.auth(&created.secret_key).await;
    let deps = (&f.stripe, &f.api_multi_url);

    let free = checkout::start(deps, &auth, "u1", br#"{"tier": "free"}"#, now())
        .await
        .unwrap_err();
    assert_eq!(free.code(), ErrorCode::InvalidRequest, "{}", free.message());
    let started = checkout::start(deps, &auth, "u1", br#"{"tier": "pro"}"#, now())
        .await
        .unwrap();
    f.emulator_post(
        &format!("/_emulator/checkout/sessions/{}/complete", started.session_id),
        json!({}),
    )
    .await;
    let account = auth.scope.stripe_account().await.unwrap().unwrap();
    let event = f.latest_event(&account, "checkout.session.completed").await;
    let Outcome::Applied { plan, status, .. } = f.deliver(&event).await else {
        panic!("the subscription's checkout is applied");
    };
    assert_eq!((plan.as_str(), status.as_str()), ("pro", "active"));
    let entitled = auth.scope.entitled_subscription("u1").await.unwrap().unwrap();
    assert_eq!(entitled.plan, "pro");

    // A second checkout for a subscribed user is refused: plans change through change-plan.
    let twice = checkout::start(deps, &auth, "u1", br#"{"tier": "team"}"#, now())
        .await
        .unwrap_err();
    assert_eq!(twice.code(), ErrorCode::Conflict, "{}", twice.message());
    let senders = crate::webhooks::Senders::none();
    let change = (&f.stripe, &f.end_users, &senders);
    let (view, changed) = checkout::change_plan(change, &auth, "u1", br#"{"tier": "team"}"#)
        .await
        .unwrap();
    assert!(changed);
    assert_eq!(view.plan, "team");
    let (_, again) = checkout::change_plan(change, &auth, "u1", br#"{"tier": "team"}"#)
        .await
        .unwrap();
    assert!(!again, "a retried change changes nothing");

    let portal = checkout::portal(&f.stripe, &auth, "u1", b"", "req_native")
        .await
        .unwrap();
    assert!(portal.starts_with("http"), "{portal}");
    let nobody = checkout::portal(&f.stripe, &auth, "u2", b"", "req_native")
        .await
        .unwrap_err();
    assert_eq!(nobody.code(), ErrorCode::NotFound);
}
