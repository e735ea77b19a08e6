//! The API's bodies, as `openapi/api-multi/openapi.json` describes them. Unknown fields are
//! ignored, so a newer server does not break an older client.

use serde::{Deserialize, Serialize};
use serde_json::Value;

/// A user's usage of one meter in the current billing period.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Usage {
    pub count: u64,
    /// Units included per period; `None`: unlimited.
    pub limit: Option<u64>,
    pub plan: String,
    /// Included units left.
    pub remaining: Option<u64>,
    pub period_start: String,
    pub period_end: String,
    /// The meter: `requests`, or one of the tier's (`tokens`).
    #[serde(default = "requests")]
    pub meter: String,
    /// Use past `limit` is billed as overage (else refused at `limit`).
    #[serde(default)]
    pub overage_billed: bool,
    /// Units counted past `limit`.
    #[serde(default)]
    pub overage: u64,
    /// What the overage costs so far, in dollars (an exact decimal).
    #[serde(default)]
    pub overage_cost: String,
    /// The tier's spend cap on overage per period, in dollars.
    #[serde(default)]
    pub spend_cap: Option<f64>,
    /// What is left of the cap, in dollars (an exact decimal).
    #[serde(default)]
    pub spend_cap_left: Option<String>,
}

/// `POST /api/widget/tokens`: a `wt_` token for one user's usage widget.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct WidgetToken {
    /// Give it to that user's browser (`<dream-usage token="…">`); it only reads their figures.
    pub token: String,
    pub user_id: String,
    pub expires_at: String,
}

/// `GET /api/entitlements`: what the user's tier grants now.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Entitlements {
    pub user_id: String,
    pub plan: String,
    /// `header`, `subscription`, `customer` or `default`.
    pub source: String,
    /// The subscription's Stripe status (`trialing`, `active`, `past_due`), if one entitles.
    pub status: Option<String>,
    pub trial_ends_at: Option<String>,
    #[serde(default)]
    pub cancel_at_period_end: bool,
    pub current_period_end: Option<String>,
    /// The boolean features the tier grants.
    pub features: Vec<String>,
    pub meters: Vec<MeterGrant>,
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct MeterGrant {
    pub meter: String,
    /// Units included per period; `None`: unlimited.
    pub included: Option<u64>,
    pub overage: bool,
}

/// `POST /api/check`'s answer.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CheckAnswer {
    pub allowed: bool,
    /// `granted`, `not_in_plan`, `within_limit`, `overage` or `limit_reached`.
    pub reason: String,
    pub feature: String,
    pub plan: String,
    /// For a meter: the user's usage of it this period.
    pub usage: Option<Usage>,
}

fn requests() -> String {
    "requests".to_owned()
}

/// What `track_usage` returns.
#[derive(Debug, Clone, PartialEq)]
pub struct Tracked {
    pub usage: Usage,
    /// This answer replays an earlier request with the same idempotency key (nothing counted).
    pub replayed: bool,
}

#[derive(Debug, Clone, Default, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct NewCustomer {
    pub email: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub first_name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub last_name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub plan: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Customer {
    pub id: String,
    pub email: Option<String>,
    pub first_name: Option<String>,
    pub last_name: Option<String>,
    pub plan: String,
    pub created_at: String,
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CustomerCreated {
    /// `false`: the customer already existed in this project (a retry).
    pub created: bool,
    pub customer: Customer,
}

/// Where to send the customer after Stripe's page; the project's defaults when `None`.
#[derive(Debug, Clone, Default, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ReturnUrls {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub success_url: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cancel_url: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Checkout {
    /// Stripe Checkout: send the user here.
    pub url: String,
    pub session_id: String,
    /// The user's open session for this tier, handed out again.
    pub reused: bool,
    /// Days of free trial the subscription starts with (`None`: none).
    #[serde(default)]
    pub trial_days: Option<u16>,
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Subscription {
    pub id: String,
    pub plan: String,
    pub status: String,
    pub cancel_at_period_end: bool,
    pub current_period_start: Option<String>,
    pub current_period_end: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PlanChanged {
    /// `false`: the subscription already was on that tier.
    pub changed: bool,
    pub subscription: Subscription,
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Product {
    pub name: String,
    pub display_name: String,
    pub description: Option<String>,
    pub price_cents: i64,
    pub currency: String,
    pub price_id: Option<String>,
    pub image_url: Option<String>,
    /// Units not sold yet; `None`: not tracked.
    pub inventory: Option<i64>,
    /// What a cart can take now (stock minus units held by open checkouts).
    pub available: Option<i64>,
    pub sold_out: bool,
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct CartItem {
    pub price_id: String,
    pub quantity: u32,
}

#[derive(Debug, Clone, Default, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Cart {
    pub items: Vec<CartItem>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
    #[serde(flatten)]
    pub urls: ReturnUrls,
    #[serde(flatten)]
    pub promotion: Promotion,
}

/// A checkout's discount: Stripe's code field for the customer, or one of the project's
/// promotion codes applied already (not both).
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Promotion {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub allow_promotion_codes: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub promotion_code: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CartCheckout {
    pub url: String,
    pub session_id: String,
    pub order_id: String,
    pub amount_cents: i64,
    /// The cart's stock is held until then.
    pub expires_at: String,
}

/// An ended cart checkout.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct OrderCanceled {
    pub order_id: String,
    /// `expired`: nobody can pay it any more (also when it had ended already).
    pub status: String,
}

/// The project's figures. `figures` holds the SaaS or Store part as JSON (see `docs/api.md`,
/// `SaasFigures` / `StoreFigures`).
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Dashboard {
    pub publishable_key: String,
    pub mode: String,
    /// `saas` or `store`.
    pub project_type: String,
    pub generated_at: String,
    #[serde(flatten)]
    pub figures: serde_json::Map<String, Value>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_cart_sends_its_promotion_beside_its_items_and_only_what_was_given() {
        let cart = Cart {
            items: vec![CartItem {
                price_id: "price_1".into(),
                quantity: 2,
            }],
            promotion: Promotion {
                promotion_code: Some("LAUNCH20".into()),
                ..Default::default()
            },
            ..Default::default()
        };
        assert_eq!(
            serde_json::to_value(&cart).unwrap(),
            serde_json::json!({"items": [{"priceId": "price_1", "quantity": 2}], "promotionCode": "LAUNCH20"})
        );
    }
}
