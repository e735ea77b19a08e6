//! The Store: products, carts and what happens after a sale.

use serde::{Deserialize, Serialize};
use serde_json::Value;

/// A product as `GET /api/products` shows it.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Product {
    pub name: String,
    pub display_name: String,
    pub description: Option<String>,
    /// In dollars (`9.99`), as the spec shows prices; `priceCents` is exact.
    #[cfg_attr(feature = "openapi", schema(value_type = f64))]
    pub price: Value,
    pub price_cents: i64,
    pub currency: String,
    pub price_id: Option<String>,
    pub image_url: Option<String>,
    /// Units not sold yet; `null`: not tracked (unlimited).
    pub inventory: Option<i64>,
    /// What a new cart can take now: stock minus units held by open checkouts.
    pub available: Option<i64>,
    pub sold_out: bool,
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct CartRequest {
    #[serde(default)]
    pub email: Option<String>,
    #[serde(default)]
    #[cfg_attr(feature = "openapi", schema(required = true))]
    pub items: Vec<CartItem>,
    #[serde(default)]
    pub success_url: Option<String>,
    #[serde(default)]
    pub cancel_url: Option<String>,
    /// Stripe's checkout page offers a field for the buyer's promotion code. Stripe accepts any
    /// active code of your connected account in this mode there, your other projects' and
    /// codes made in Stripe's dashboard included; pass `promotionCode` to allow this project's
    /// only.
    #[serde(default)]
    pub allow_promotion_codes: Option<bool>,
    /// One of the project's promotion codes, applied already (not with `allowPromotionCodes`).
    #[serde(default)]
    pub promotion_code: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct CartItem {
    pub price_id: String,
    pub quantity: i64,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct CartStarted {
    pub url: String,
    pub session_id: String,
    pub order_id: String,
    /// The cart at list prices; a promotion code lowers what Stripe charges (the order's paid
    /// amount, and the revenue figures, are what was paid).
    pub amount_cents: i64,
    pub expires_at: String,
}

/// What a refund from the dashboard did.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct OrderRefunded {
    pub success: bool,
    pub order_id: String,
    /// All of the payment: a refund from the dashboard refunds what is left of it.
    pub refunded_cents: i64,
    /// Whether the order's units are back in stock (asked for, and not returned before).
    pub restocked: bool,
}
