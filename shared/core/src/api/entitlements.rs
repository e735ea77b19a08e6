//! What a user's tier grants: `GET /api/entitlements` and `POST /api/check`.

use serde::{Deserialize, Serialize};

use super::usage::UsageReport;
use crate::tiers::{UsageLimit, features::FeatureKey};

/// `GET /api/entitlements?userId=`.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[cfg_attr(feature = "openapi", derive(utoipa::IntoParams))]
#[cfg_attr(feature = "openapi", into_params(parameter_in = Query))]
pub struct EntitlementsQuery {
    /// Your user's id (or send `X-User-Id`).
    #[serde(default)]
    pub user_id: Option<String>,
}

/// `GET /api/entitlements`.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Entitlements {
    pub success: bool,
    pub user_id: String,
    /// The tier the user is on now (the same rule as metering: `X-User-Plan`, else their
    /// subscription, else their customer record's plan, else `free`).
    pub plan: String,
    pub source: PlanSource,
    /// The subscription's Stripe status when one entitles the user: `active`, `trialing` or
    /// `past_due` (Stripe is retrying a payment; access stays).
    pub status: Option<String>,
    /// When the trial ends, while the user is `trialing`.
    pub trial_ends_at: Option<String>,
    /// The subscription ends at `currentPeriodEnd` (the user canceled; access stays until then).
    pub cancel_at_period_end: bool,
    pub current_period_end: Option<String>,
    /// The boolean features the tier grants.
    pub features: Vec<FeatureKey>,
    /// The tier's meters with what each includes per period.
    pub meters: Vec<MeterGrant>,
}

/// Where the user's plan comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum PlanSource {
    /// `X-User-Plan`, as the project's plan-header policy allows it.
    Header,
    /// The user's subscription (trialing, active or past due).
    Subscription,
    /// The plan the user's customer record was created with.
    Customer,
    /// None of those: the project's `free` tier.
    Default,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct MeterGrant {
    pub meter: String,
    /// Units included per period; `null`: unlimited.
    pub included: UsageLimit,
    /// Whether use past `included` is billed (for a subscriber to the tier) instead of refused.
    pub overage: bool,
}

impl MeterGrant {
    /// What a tier's meter grants, as the entitlements and the widget show it.
    pub fn of(meter: &crate::tiers::meters::Meter) -> Self {
        Self {
            meter: meter.key.to_string(),
            included: meter.included,
            overage: meter.overage.is_some(),
        }
    }
}

/// `POST /api/check`.
#[derive(Debug, Deserialize, Default)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct CheckRequest {
    /// Your user's id (or send `X-User-Id`).
    #[serde(default)]
    pub user_id: Option<String>,
    /// A boolean feature or a meter of the project.
    #[serde(default)]
    #[cfg_attr(feature = "openapi", schema(required = true))]
    pub feature: String,
}

/// `POST /api/check`'s answer.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct CheckAnswer {
    pub success: bool,
    pub allowed: bool,
    pub reason: CheckReason,
    pub feature: String,
    pub plan: String,
    /// For a meter: the user's usage of it this period (nothing counted by the check).
    pub usage: Option<UsageReport>,
}

/// Why a check is allowed or not.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum CheckReason {
    /// A boolean feature the tier grants.
    Granted,
    /// The tier has no such feature or meter (another tier of the project has).
    NotInPlan,
    /// A meter with included units left (or unlimited).
    WithinLimit,
    /// A meter past its included units whose overage is billed, under any spend cap.
    Overage,
    /// A meter at its limit (or its billed overage at the tier's spend cap).
    LimitReached,
}
