//! The `data` of each event type: what developers' apps receive, and what the OpenAPI
//! document's `webhooks` section describes (one schema per type, from these types). Events made
//! in SQL (orders, stock) have the same shapes, checked by the native tests.

use serde::{Deserialize, Serialize};

/// `customer.created`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct CustomerCreatedData {
    pub user_id: String,
    pub email: String,
    pub first_name: Option<String>,
    pub last_name: Option<String>,
    /// The plan given at creation, if any.
    pub plan: Option<String>,
}

/// `subscription.created`, `.updated`, `.past_due` and `.canceled`: the subscription as it is
/// now, and what it was before this change.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct SubscriptionData {
    pub subscription_id: String,
    pub user_id: String,
    pub stripe_customer_id: String,
    pub plan: String,
    pub previous_plan: Option<String>,
    /// Stripe's status: `active`, `trialing`, `past_due`, `unpaid`, `canceled`, …
    pub status: String,
    pub previous_status: Option<String>,
    pub current_period_start: Option<String>,
    pub current_period_end: Option<String>,
    pub cancel_at_period_end: bool,
    /// The end of the subscription's free trial, if it started with one (kept after it ends).
    #[serde(default)]
    pub trial_end: Option<String>,
}

/// `usage.threshold`: a user's count of a meter reached `threshold` % of its included amount
/// (80 and 100, each once per user, meter and period).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct UsageThresholdData {
    pub user_id: String,
    pub plan: String,
    pub meter: String,
    pub threshold: u8,
    pub included: u64,
    /// The count that crossed it.
    pub count: u64,
    pub period_start: String,
    pub period_end: String,
}

/// `usage.cap_reached`: the user's spend cap refused a count (once per user and period).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct UsageCapReachedData {
    pub user_id: String,
    pub plan: String,
    /// The meter whose count was refused.
    pub meter: String,
    pub spend_cap_cents: i64,
    pub count: u64,
    pub period_start: String,
    pub period_end: String,
}

/// `order.paid`, `order.short` (paid for units beyond the stock left: `shortUnits`) and
/// `order.refunded` (once per refunded total).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct OrderData {
    pub order_id: String,
    pub status: String,
    pub email: Option<String>,
    pub currency: String,
    pub amount_cents: i64,
    pub paid_cents: Option<i64>,
    pub refunded_cents: i64,
    pub short_units: i64,
    pub paid_at: Option<String>,
    pub items: Vec<OrderItemData>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct OrderItemData {
    pub product: String,
    pub quantity: i64,
    pub unit_cents: i64,
}

/// `product.low_stock` (a sale took its stock to `LOW_STOCK_UNITS` or below) and
/// `product.sold_out` (to 0).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ProductStockData {
    pub product: String,
    pub display_name: String,
    pub inventory: i64,
    /// The sale that took it there.
    pub order_id: String,
}

/// `key.rotated`: the project's secret key was replaced.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct KeyRotatedData {
    pub publishable_key: String,
    pub mode: crate::mode::Mode,
    /// Until when the replaced key still works; absent when it stopped at once.
    pub previous_key_expires_at: Option<String>,
    pub request_id: String,
}

/// `endpoint.test`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct EndpointTestData {
    pub endpoint_id: String,
    pub message: String,
}

/// Serializes a payload type (they hold only plain data: it cannot fail).
pub fn data<T: Serialize>(payload: &T) -> serde_json::Value {
    serde_json::to_value(payload).unwrap_or_default()
}
