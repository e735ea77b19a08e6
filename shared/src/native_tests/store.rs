//! The Store's use cases: a cart holds stock, a retry with its Idempotency-Key holds nothing
//! more, payment sells it once (however often Stripe delivers the event), and the project's
//! figures count the sale.

use serde_json::json;

use super::{fixture, now};
use crate::{projects::figures::project_dashboard, store};
use dream_core::api::{events::Outcome, figures::Figures, store::Product};
use dream_core::error::ErrorCode;

fn available(products: &[Product], name: &str) -> Option<i64> {
    products.iter().find(|p| p.name == name).and_then(|p| p.available)
}

#[tokio::test]
async fn a_cart_holds_stock_sells_once_and_counts_in_the_figures() {
    let f = fixture().await;
    let platform = f.paying_developer("user_store").await;
    let created = f
        .project(
            &platform,
            json!({"name": "Shop", "projectType": "store", "tiers": [
                {"name": "mug", "price": 12, "inventory": 5},
                {"name": "shirt", "price": 20, "inventory": 2}]}),
        )
        .await;
    let auth = f.auth(&created.secret_key).await;
    let products = store::products(&auth, now()).await.unwrap();
    assert_eq!(
        (available(&products, "mug"), available(&products, "shirt")),
        (Some(5), Some(2))
    );
    let mug = products
        .iter()
        .find(|p| p.name == "mug")
        .unwrap()
        .price_id
        .clone()
        .unwrap();

    let body = json!({"items": [{"priceId": mug, "quantity": 2}]}).to_string();
    let deps = (&f.stripe, &f.api_multi_url);
    let cart = store::checkout(deps, &auth, Some("cart-1"), body.as_bytes(), now())
        .await
        .unwrap();
    assert_eq!(cart.amount_cents, 2400);
    assert_eq!(available(&store::products(&auth, now()).await.unwrap(), "mug"), Some(3));

    // The same key and body: the same session, nothing more held. Another body: refused.
    let again = store::checkout(deps, &auth, Some("cart-1"), body.as_bytes(), now())
        .await
        .unwrap();
    assert_eq!(
        (again.session_id.as_str(), again.order_id.as_str()),
        (cart.session_id.as_str(), cart.order_id.as_str())
    );
    assert_eq!(available(&store::products(&auth, now()).await.unwrap(), "mug"), Some(3));
    let other = json!({"items": [{"priceId": mug, "quantity": 1}]}).to_string();
    let reused = store::checkout(deps, &auth, Some("cart-1"), other.as_bytes(), now())
        .await
        .unwrap_err();
    assert_eq!(reused.code(), ErrorCode::Conflict, "{}", reused.message());

    // More shirts than there are: refused whole, nothing held.
    let shirt = products
        .iter()
        .find(|p| p.name == "shirt")
        .unwrap()
        .price_id
        .clone()
        .unwrap();
    let too_many = json!({"items": [{"priceId": shirt, "quantity": 3}]}).to_string();
    let short = store::checkout(deps, &auth, None, too_many.as_bytes(), now())
        .await
        .unwrap_err();
    assert_eq!(short.code(), ErrorCode::Conflict, "{}", short.message());
    assert_eq!(
        available(&store::products(&auth, now()).await.unwrap(), "shirt"),
        Some(2)
    );

    // Paid: the dispatcher sells the hold once, however often the event comes.
    f.emulator_post(
        &format!("/_emulator/checkout/sessions/{}/complete", cart.session_id),
        json!({}),
    )
    .await;
    let account = auth.scope.stripe_account().await.unwrap().unwrap();
    let event = f.latest_event(&account, "checkout.session.completed").await;
    assert_eq!(
        f.deliver(&event).await,
        Outcome::OrderSold {
            order: cart.order_id.clone()
        }
    );
    assert_eq!(f.deliver(&event).await, Outcome::Duplicate);
    let products = store::products(&auth, now()).await.unwrap();
    let sold_mug = products.iter().find(|p| p.name == "mug").unwrap();
    assert_eq!((sold_mug.inventory, sold_mug.available), (Some(3), Some(3)));

    let dashboard = project_dashboard(&auth.scope, (auth.config.tax, auth.config.currency), now())
        .await
        .unwrap();
    let Figures::Store(figures) = dashboard.figures else {
        panic!("a Store project's figures are the Store's");
    };
    assert_eq!((figures.metrics.total_sales, figures.metrics.units_sold), (1, 2));
    assert_eq!(figures.metrics.revenue_cents, 2400);
    assert_eq!(figures.metrics.open_checkouts, 0);
}
