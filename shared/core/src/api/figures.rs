//! A project's figures: `GET /api/dashboard` and the dashboard's `GET /dashboard`.

use serde::{Deserialize, Serialize};

use super::store::Product;
use crate::{
    mode::{Mode, ProjectType},
    tiers::meters::Amount,
};

/// The project's figures as both dashboard routes return them.
#[derive(Debug, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct ProjectDashboard {
    pub publishable_key: String,
    pub mode: Mode,
    pub project_type: ProjectType,
    pub generated_at: String,
    /// Whether the figures include tax: with `automaticTax`, Store revenue includes the tax
    /// buyers paid (`taxCents`), and MRR includes it when prices are `inclusive`.
    pub tax: crate::tiers::tax::TaxSettings,
    /// What every amount is in (`*Cents`: hundredths of it). A project has one currency, so no
    /// figure adds two together.
    pub currency: crate::money::Currency,
    #[serde(flatten)]
    pub figures: Figures,
}

/// A SaaS project's figures or a Store's, by `projectType`.
#[derive(Debug, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(untagged)]
pub enum Figures {
    Saas(SaasFigures),
    Store(StoreFigures),
}

#[derive(Debug, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct SaasFigures {
    pub metrics: SaasSummary,
    /// The newest customers (at most 100); `metrics` counts all of them.
    pub customers: Vec<CustomerSummary>,
    /// The last six months, oldest first.
    pub usage_by_month: Vec<MonthUsage>,
    pub tier_mix: Vec<TierShare>,
    /// The meters besides requests, this billing period (open periods), by name.
    pub meters: Vec<MeterFigure>,
    /// Subscribers whose overage this period has used 80 % or more of their tier's spend cap,
    /// nearest first (at most 20).
    pub near_cap: Vec<NearCap>,
}

/// One meter across the project's users this period.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct MeterFigure {
    pub meter: String,
    /// Users who counted any of it.
    pub users: i64,
    pub units: i64,
    /// Units past the included amounts of subscribers billed for them.
    pub overage_units: i64,
    /// What that overage bills at the tiers' prices, in dollars (exact decimal).
    pub overage_revenue: Amount,
}

/// A subscriber close to their tier's spend cap.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct NearCap {
    pub user_id: String,
    pub plan: String,
    /// Their overage so far this period, in dollars.
    pub spent: Amount,
    /// The tier's cap, in dollars.
    pub cap: Amount,
}

#[derive(Debug, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct StoreFigures {
    /// The last 30 days, oldest first.
    pub revenue_by_day: Vec<DayRevenue>,
    pub metrics: StoreMetrics,
    pub products: Vec<Product>,
    pub recent_orders: Vec<RecentOrder>,
    /// Checkouts a buyer can still pay (holding stock), newest first: each can be canceled.
    pub open_orders: Vec<OpenOrder>,
}

#[derive(Debug, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct StoreMetrics {
    pub total_sales: i64,
    pub units_sold: i64,
    /// What paid orders brought in: payments less refunds and lost disputes (tax Stripe
    /// collected included: `taxCents`).
    pub revenue_cents: i64,
    pub refunded_cents: i64,
    /// The tax buyers paid on paid orders (with automatic tax), part of what they paid.
    pub tax_cents: i64,
    pub disputes_lost_cents: i64,
    /// Disputes not decided yet (the developer has evidence to send in Stripe).
    pub open_disputes: i64,
    pub open_checkouts: i64,
    pub products: usize,
    pub in_stock: i64,
    pub low_stock: usize,
    pub sold_out: usize,
}

#[derive(Debug, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct CustomerSummary {
    pub id: String,
    pub email: Option<String>,
    pub plan: String,
    /// The subscription's Stripe status; `none` for a customer who never subscribed.
    pub status: String,
    pub cancel_at_period_end: bool,
    pub usage: i64,
    pub current_period_end: Option<String>,
    pub created_at: String,
}

#[derive(Debug, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct RecentOrder {
    pub order_id: String,
    pub email: Option<String>,
    pub amount_cents: i64,
    pub currency: String,
    pub paid_at: Option<String>,
    /// Units paid for beyond the stock left for this order: its payment was applied after its
    /// hold ended and other carts had taken them. The developer restocks or refunds them.
    pub short_units: i64,
    /// What Stripe refunded of it so far (from the dashboard, Stripe's, or the API).
    pub refunded_cents: i64,
    /// Whether a refund from the dashboard returned its units to stock.
    pub restocked: bool,
    /// Stripe's dispute status (`needs_response`, `under_review`, `won`, `lost`, …), if disputed.
    pub dispute_status: Option<String>,
    pub disputed_cents: i64,
    /// Passed through as stored (typing it here would cost the Worker a deserializer).
    #[cfg_attr(feature = "openapi", schema(value_type = Vec<OrderLine>))]
    pub items: serde_json::Value,
}

/// A checkout a buyer can still pay: its stock is held until it expires or is canceled.
#[derive(Debug, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct OpenOrder {
    pub order_id: String,
    pub email: Option<String>,
    pub amount_cents: i64,
    pub currency: String,
    pub created_at: String,
    pub expires_at: String,
    #[cfg_attr(feature = "openapi", schema(value_type = Vec<OrderLine>))]
    pub items: serde_json::Value,
}

/// One line of a sold order, as it was priced at checkout (as `storage::orders` stores it).
#[cfg(feature = "openapi")]
#[derive(Debug, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct OrderLine {
    /// The product's name (its tier name).
    pub product: String,
    pub quantity: i64,
    pub unit_cents: i64,
}

#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "camelCase")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct MonthUsage {
    pub month: String,
    pub requests: i64,
}

#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "camelCase")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct TierShare {
    pub tier: String,
    pub customers: i64,
}

#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "camelCase")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct SaasSummary {
    pub active_subscriptions: i64,
    pub canceling: i64,
    pub past_due: i64,
    pub mrr_cents: i64,
    pub usage_this_period: i64,
    pub customers: i64,
    /// Subscriptions in their free trial now (counted in `activeSubscriptions` too).
    pub trialing: i64,
    /// Trials that are over: ended, canceled during the trial, or converted early.
    pub trials_ended: i64,
    /// Of those, the ones that became paying subscriptions: the conversion rate is
    /// `trialsConverted / trialsEnded`.
    pub trials_converted: i64,
}

#[derive(Debug, Clone, PartialEq, Eq, Deserialize, serde::Serialize)]
#[serde(rename_all = "camelCase")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct DayRevenue {
    pub day: String,
    pub revenue_cents: i64,
    pub orders: i64,
}
