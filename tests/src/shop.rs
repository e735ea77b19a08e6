//! Store projects for the tests: a shop with products and stock, its product list, carts.

use serde_json::{Value, json};

use crate::{
    TestEnv,
    customers::ProjectApi,
    journey::{self, Developer, TestProject, onboarded_developer},
};

/// A fresh developer's Store project with these products: (name, dollars, stock).
pub async fn shop(env: &TestEnv, products: &[(&str, f64, i64)]) -> (Developer, TestProject) {
    let developer = onboarded_developer(env, "shop").await.unwrap();
    let tiers: Vec<Value> = products
        .iter()
        .map(|(name, price, stock)| json!({"name": name, "price": price, "inventory": stock}))
        .collect();
    let project = journey::create_project(
        &developer,
        json!({"name": "Shop", "projectType": "store", "tiers": tiers}),
    )
    .await
    .unwrap();
    (developer, project)
}

pub async fn products(api: &ProjectApi) -> Vec<Value> {
    let reply = api.get("/api/products", None).await;
    assert_eq!(reply.status, 200, "{:?}", reply.body);
    reply.body["products"].as_array().unwrap().clone()
}

pub fn product<'a>(list: &'a [Value], name: &str) -> &'a Value {
    list.iter().find(|p| p["name"] == name).unwrap()
}

pub fn price_of(list: &[Value], name: &str) -> String {
    product(list, name)["priceId"].as_str().unwrap().to_owned()
}

pub async fn cart(api: &ProjectApi, items: Value) -> crate::Reply {
    api.post(
        "/api/cart/checkout",
        None,
        json!({"email": "buyer@example.com", "items": items}),
    )
    .await
}
