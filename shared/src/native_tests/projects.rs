//! Project edits: a price change is a new Stripe price, a rotation with grace keeps the old key
//! working, going live makes a live key set with its own Stripe objects.

use serde_json::json;

use super::{fixture, now, request_id};
use crate::{
    identity::{Recall, secret_key::authenticate_with},
    projects::ProjectEdit,
    storage::project_cache::Cache,
};
use dream_core::api::projects::GracePeriod;
use dream_core::{error::ErrorCode, keys::SecretKey, mode::Mode, tiers::input::TierInput};

#[tokio::test]
async fn edits_reprice_rotate_and_go_live() {
    let f = fixture().await;
    let platform = f.paying_developer("user_edit").await;
    let created = f
        .project(
            &platform,
            json!({"name": "Api", "projectType": "saas", "tiers": [
                {"name": "free", "price": 0, "limit": 100},
                {"name": "pro", "price": 10, "limit": 1000}]}),
        )
        .await;
    let (first_request, second_request) = (request_id(), request_id());
    let edit = ProjectEdit::open(
        (
            f.stripe.clone(),
            crate::projects::ProjectCaches::none(),
            crate::webhooks::Senders::none(),
        ),
        f.developer("user_edit"),
        &created.publishable_key,
        &first_request,
    )
    .await
    .unwrap();
    let before = edit
        .tiers()
        .await
        .unwrap()
        .into_iter()
        .find(|t| t.name.as_str() == "pro")
        .unwrap();
    let repriced: TierInput = serde_json::from_value(json!({"name": "pro", "price": 15, "limit": 1000})).unwrap();
    let after = edit.update_tier(&repriced, now()).await.unwrap();
    assert_ne!(
        after.price_id, before.price_id,
        "a new price, the old one kept for its subscribers"
    );
    assert_eq!(after.product_id, before.product_id);
    assert_eq!(after.price.get(), 1500);

    // Another developer's project is a 404 to this one.
    let stranger = f.paying_developer("user_other").await;
    drop(stranger);
    let foreign = ProjectEdit::open(
        (
            f.stripe.clone(),
            crate::projects::ProjectCaches::none(),
            crate::webhooks::Senders::none(),
        ),
        f.developer("user_other"),
        &created.publishable_key,
        &request_id(),
    )
    .await
    .err()
    .unwrap();
    assert_eq!(foreign.code(), ErrorCode::NotFound);

    let (new_key, old_stops) = edit.rotate_key(GracePeriod::OneHour, now()).await.unwrap();
    assert!(old_stops.is_some());
    let old = SecretKey::parse(&created.secret_key).unwrap();
    for key in [&old, &new_key] {
        authenticate_with((f.db.clone(), Cache::none()), key, "127.0.0.1", Recall::Kv)
            .await
            .unwrap();
    }
    let edit = ProjectEdit::open(
        (
            f.stripe.clone(),
            crate::projects::ProjectCaches::none(),
            crate::webhooks::Senders::none(),
        ),
        f.developer("user_edit"),
        &created.publishable_key,
        &second_request,
    )
    .await
    .unwrap();
    edit.expire_previous_key(now()).await.unwrap();
    let refused = authenticate_with((f.db.clone(), Cache::none()), &old, "127.0.0.1", Recall::Kv)
        .await
        .err()
        .unwrap();
    assert_eq!(refused.code(), ErrorCode::Unauthorized);

    let live = edit.promote_to_live(None, now()).await.unwrap();
    assert_eq!(live.mode, Mode::Live);
    assert!(live.publishable_key.starts_with("pk_live_"));
    assert_eq!(live.tiers.len(), 2);
    let live_pro = live.tiers.iter().find(|t| t.name.as_str() == "pro").unwrap();
    assert!(live_pro.price_id.is_some() && live_pro.price_id != after.price_id);
    let again = edit.promote_to_live(None, now()).await.err().unwrap();
    assert_eq!(again.code(), ErrorCode::Conflict, "{}", again.message());
}
