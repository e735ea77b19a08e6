//! The usage widget: a token minted by the developer's server for one of its users
//! (`POST /api/widget/tokens`, secret key), and what the widget reads with it from the user's
//! browser (`GET /api/widget`).

use serde::{Deserialize, Serialize};

use super::entitlements::{MeterGrant, PlanSource};
use super::usage::UsageReport;
use crate::{money::Cents, tiers::features::FeatureKey};

/// `POST /api/widget/tokens`.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct WidgetTokenRequest {
    /// Your signed-in user the widget shows (or send `X-User-Id`).
    #[serde(default)]
    pub user_id: Option<String>,
    /// 60-3600; 600 when absent.
    #[serde(default)]
    pub expires_in_seconds: Option<i64>,
    /// The tiers (by name) the widget may offer this user: all the project's other tiers when
    /// absent or null, none when empty. Legacy or internal tiers stay out of the widget this way.
    #[serde(default)]
    pub offer_tiers: Option<Vec<String>>,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct WidgetToken {
    pub success: bool,
    /// `wt_…`: give it to that user's browser; it reads their plan and usage, nothing else.
    pub token: String,
    pub user_id: String,
    pub expires_at: String,
}

/// `GET /api/widget`: what the widget shows one user.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct UsageWidget {
    pub success: bool,
    pub user_id: String,
    /// The project's display name.
    pub project: String,
    pub plan: WidgetTier,
    pub source: PlanSource,
    /// The subscription's status when one entitles the user (`active`, `trialing`, `past_due`).
    pub status: Option<String>,
    pub trial_ends_at: Option<String>,
    pub cancel_at_period_end: bool,
    pub current_period_end: Option<String>,
    /// Every meter of the plan, with this period's usage.
    pub usage: Vec<UsageReport>,
    /// The project's other tiers the token offers (`offerTiers`), cheapest first: what an
    /// upgrade button may offer.
    pub tiers: Vec<WidgetTier>,
}

/// A tier as a customer sees it (no Stripe ids).
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct WidgetTier {
    pub name: String,
    pub display_name: String,
    /// Per month, in the project's currency.
    pub price: Cents,
    pub currency: String,
    pub popular: bool,
    /// The tier's `description`, if it has one.
    pub description: Option<String>,
    pub features: Vec<FeatureKey>,
    pub meters: Vec<MeterGrant>,
}

impl WidgetTier {
    pub fn of(tier: &crate::tiers::Tier) -> Self {
        Self {
            name: tier.name.to_string(),
            display_name: tier.display_name.clone(),
            price: tier.price,
            currency: tier.currency.clone(),
            popular: tier.popular,
            description: tier
                .features
                .get("description")
                .and_then(|d| d.as_str())
                .map(str::to_owned),
            features: tier.entitlements.clone(),
            meters: tier.meters().iter().map(MeterGrant::of).collect(),
        }
    }
}
