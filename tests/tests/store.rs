//! A Store project end to end: images uploaded to R2 and served back, products with inventory
//! as one-time Stripe prices on the connected account.

use dream_core::mode::Mode;
use e2e::{
    MeteredApi, Reply, TestEnv,
    journey::{self, StripeEmulator},
};
use reqwest::Method;
use serde_json::json;

/// A 1×1 PNG.
const PNG: &[u8] = &[
    0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A, 0x00, 0x00, 0x00, 0x0D, 0x49, 0x48, 0x44, 0x52, 0x00, 0x00, 0x00,
    0x01, 0x00, 0x00, 0x00, 0x01, 0x08, 0x06, 0x00, 0x00, 0x00, 0x1F, 0x15, 0xC4, 0x89, 0x00, 0x00, 0x00, 0x0D, 0x49,
    0x44, 0x41, 0x54, 0x78, 0x9C, 0x63, 0xF8, 0xCF, 0xC0, 0x00, 0x00, 0x03, 0x01, 0x01, 0x00, 0xC9, 0xFE, 0x92, 0xEF,
    0x00, 0x00, 0x00, 0x00, 0x49, 0x45, 0x4E, 0x44, 0xAE, 0x42, 0x60, 0x82,
];

#[tokio::test]
async fn store_journey_with_images_and_inventory() {
    let env = TestEnv::get();
    let stripe = StripeEmulator::new(&env);
    let developer = journey::onboarded_developer(&env, "store").await.unwrap();
    let platform_id = developer.platform_id().await.unwrap();

    // Upload an image; it is served back, byte for byte, with the right headers.
    let uploaded = developer.upload_image("../Mug Photo.png", PNG.to_vec()).await;
    assert_eq!(uploaded.status, 200, "{:?}", uploaded.body);
    let key = uploaded.body["key"].as_str().unwrap();
    assert!(
        key.starts_with(&format!("{platform_id}/")) && key.ends_with("-mug-photo.png"),
        "{key}"
    );
    let image_url = uploaded.body["url"].as_str().unwrap().to_owned();
    let served = e2e::client().get(&image_url).send().await.unwrap();
    assert_eq!(served.status(), 200);
    assert_eq!(served.headers()["content-type"], "image/png");
    assert!(
        served.headers()["cache-control"]
            .to_str()
            .unwrap()
            .contains("immutable")
    );
    assert_eq!(served.bytes().await.unwrap().as_ref(), PNG);

    // Only real raster images, at most 5 MB; unknown assets are a JSON 404.
    let svg = developer
        .upload_image(
            "x.svg",
            b"<svg xmlns='http://www.w3.org/2000/svg'><script>alert(1)</script></svg>".to_vec(),
        )
        .await;
    assert_eq!((svg.status, svg.error_code()), (415, "invalid_request"));
    let mut huge = PNG.to_vec();
    huge.resize(5 * 1024 * 1024 + 1, 0);
    assert_eq!(developer.upload_image("big.png", huge).await.status, 413);
    let missing = Reply::from(
        e2e::client()
            .get(format!("{}/api/assets/{platform_id}/nope.png", env.api_multi))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!((missing.status, missing.error_code()), (404, "not_found"));
    let anonymous = Reply::from(
        e2e::client()
            .post(format!("{}/upload-asset", env.front_auth_api))
            .body(PNG.to_vec())
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(anonymous.status, 401, "uploads need a developer session");

    // A Store project: products with inventory and images, sold as one-time prices.
    let store = journey::create_project(
        &developer,
        json!({"name": "Mug Shop", "projectType": "store", "tiers": [
            {"name": "mug", "displayName": "Coffee Mug", "price": 12.5, "inventory": 3, "imageUrl": image_url, "description": "Ceramic"},
            {"name": "poster", "price": 20, "inventory": 10}
        ]}),
    )
    .await
    .unwrap();
    let tiers = developer
        .oauth(
            Method::GET,
            &format!("/tiers?publishableKey={}", store.publishable_key),
            None,
        )
        .await;
    assert_eq!(tiers.body["projectType"], "store");
    let mug = tiers.body["tiers"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["name"] == "mug")
        .unwrap()
        .clone();
    assert_eq!(
        (mug["inventory"].as_i64(), mug["price"].as_f64()),
        (Some(3), Some(12.5))
    );
    assert_eq!(mug["features"]["imageUrl"], image_url.as_str());
    let account = developer.front(Method::GET, "/get-credentials", None).await.body["stripeAccountId"]
        .as_str()
        .unwrap()
        .to_owned();
    let price = stripe
        .get(
            &format!("/prices/{}", mug["priceId"].as_str().unwrap()),
            Mode::Test,
            Some(&account),
        )
        .await;
    assert_eq!(price.body["unit_amount"], 1250);
    assert!(
        price.body["recurring"].is_null(),
        "Store prices are one-time: {:?}",
        price.body
    );
    let product = stripe
        .get(
            &format!("/products/{}", mug["productId"].as_str().unwrap()),
            Mode::Test,
            Some(&account),
        )
        .await;
    assert_eq!(product.body["images"][0], image_url.as_str());

    // Stock edits: selling out is recorded; a Store key has no usage metering.
    let sold_out = developer
        .oauth(Method::PUT, "/tiers", Some(json!({"publishableKey": store.publishable_key, "tier": {"name": "mug", "price": 12.5, "inventory": 0}})))
        .await;
    assert_eq!(
        (sold_out.status, sold_out.body["tier"]["soldOut"].as_bool()),
        (200, Some(true)),
        "{:?}",
        sold_out.body
    );
    let metered = MeteredApi::new(&env)
        .track(&[("authorization", &store.bearer()), ("x-user-id", "u")])
        .await;
    assert_eq!(metered.status, 400);

    // Types never mix: no usage limits on products.
    let mixed = developer
        .oauth(
            Method::POST,
            "/tiers/add",
            Some(json!({"publishableKey": store.publishable_key, "tier": {"name": "sub", "price": 5, "limit": 10}})),
        )
        .await;
    assert_eq!(mixed.status, 400, "{:?}", mixed.body);
    assert!(mixed.body["error"].as_str().unwrap().contains("tier.limit"));

    // Go live: live one-time prices with the products' stock carried over; then rotate the live
    // secret (a Store key authenticates, it just has no usage metering).
    let live = journey::promote(&developer, &store).await.unwrap();
    let live_tiers = developer
        .oauth(
            Method::GET,
            &format!("/tiers?publishableKey={}", live.publishable_key),
            None,
        )
        .await;
    let poster = live_tiers.body["tiers"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["name"] == "poster")
        .unwrap()
        .clone();
    assert_eq!(poster["inventory"], 10);
    let live_price = stripe
        .get(
            &format!("/prices/{}", poster["priceId"].as_str().unwrap()),
            Mode::Live,
            Some(&account),
        )
        .await;
    assert_eq!(
        (
            live_price.body["livemode"].as_bool(),
            live_price.body["unit_amount"].as_i64()
        ),
        (Some(true), Some(2000))
    );
    assert!(live_price.body["recurring"].is_null());
    let rotated = developer.rotate_key(&live.publishable_key).await;
    let new_secret = rotated.body["secretKey"].as_str().unwrap().to_owned();
    let api = MeteredApi::new(&env);
    let old_key = api
        .usage(&[("authorization", &live.bearer()), ("x-user-id", "u")])
        .await;
    assert_eq!(old_key.status, 401, "the old live key is refused");
    let new_key = api
        .usage(&[("authorization", &format!("Bearer {new_secret}")), ("x-user-id", "u")])
        .await;
    assert_eq!(
        (new_key.status, new_key.error_code()),
        (400, "invalid_request"),
        "authenticated: a Store project"
    );
}

#[tokio::test]
async fn uploads_stop_at_the_developers_quota_with_a_clear_error() {
    let env = TestEnv::get();
    let developer = journey::onboarded_developer(&env, "quota").await.unwrap();
    let max = dream_core::api::projects::QUOTA.max_images as usize;
    let mut accepted = 0;
    let mut keys = Vec::new();
    for chunk in (0..max).collect::<Vec<_>>().chunks(10) {
        let names: Vec<String> = chunk.iter().map(|i| format!("p{i}.png")).collect();
        let replies =
            futures_util::future::join_all(names.iter().map(|name| developer.upload_image(name, PNG.to_vec()))).await;
        for reply in replies {
            assert_eq!(reply.status, 200, "{:?}", reply.body);
            keys.push(reply.body["key"].as_str().unwrap().to_owned());
            accepted += 1;
        }
    }
    assert_eq!(accepted, max);
    let over = developer.upload_image("one-more.png", PNG.to_vec()).await;
    assert_eq!(
        (over.status, over.error_code()),
        (403, "quota_exceeded"),
        "{:?}",
        over.body
    );
    assert_eq!(over.body["quota"]["images"], max as i64);
    assert!(over.body["error"].as_str().unwrap().contains("storage is full"));

    // Deleting an image gives its room back; another developer cannot delete it.
    let kept = keys[0].clone();
    let other = journey::onboarded_developer(&env, "quota-other").await.unwrap();
    let stranger = other.delete_image(&kept).await;
    assert_eq!(stranger.status, 404, "{:?}", stranger.body);
    let deleted = developer.delete_image(&kept).await;
    assert_eq!(deleted.status, 200, "{:?}", deleted.body);
    assert_eq!(deleted.body["quota"]["images"], max as i64 - 1);
    let served = e2e::client()
        .get(format!("{}/api/assets/{kept}", env.api_multi))
        .send()
        .await
        .unwrap();
    assert_eq!(served.status(), 404, "the object is gone from R2");
    assert_eq!(developer.upload_image("room-again.png", PNG.to_vec()).await.status, 200);
    // Another developer's quota is their own.
    let fine = other.upload_image("first.png", PNG.to_vec()).await;
    assert_eq!(fine.status, 200, "{:?}", fine.body);
    assert_eq!(fine.body["quota"]["images"], 1);
}
