//! Customers' subscriptions: checkout, the portal and plan changes.

use serde::{Deserialize, Serialize};

use crate::{period::Timestamp, stripe::objects::SubscriptionState};

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct CheckoutRequest {
    #[serde(default)]
    #[cfg_attr(feature = "openapi", schema(required = true))]
    pub tier: String,
    #[serde(default)]
    pub success_url: Option<String>,
    #[serde(default)]
    pub cancel_url: Option<String>,
    /// Stripe's checkout page offers a field for the customer's promotion code. Stripe accepts
    /// any active code of your connected account in this mode there, your other projects' and
    /// codes made in Stripe's dashboard included; pass `promotionCode` to allow this project's
    /// only.
    #[serde(default)]
    pub allow_promotion_codes: Option<bool>,
    /// One of the project's promotion codes, applied already (not with `allowPromotionCodes`).
    #[serde(default)]
    pub promotion_code: Option<String>,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct CheckoutStarted {
    pub url: String,
    pub session_id: String,
    /// The user's open session for the same tier, handed out again.
    pub reused: bool,
    /// Days of free trial the subscription starts with; `null`: none (the tier has no trial,
    /// or this user already had one in this project).
    pub trial_days: Option<u16>,
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct PortalRequest {
    #[serde(default)]
    pub return_url: Option<String>,
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ChangePlanRequest {
    #[serde(default)]
    #[cfg_attr(feature = "openapi", schema(required = true))]
    pub tier: String,
}

/// A subscription as the API shows it.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct SubscriptionView {
    pub id: String,
    pub plan: String,
    pub status: String,
    pub cancel_at_period_end: bool,
    pub current_period_start: Option<String>,
    pub current_period_end: Option<String>,
}

impl SubscriptionView {
    pub fn of(state: &SubscriptionState, plan: &str) -> Self {
        let time = |t: i64| Timestamp(t).to_rfc3339();
        Self {
            id: state.id.clone(),
            plan: plan.to_owned(),
            status: state.status.clone(),
            cancel_at_period_end: state.cancel_at_period_end,
            current_period_start: state.period.map(|p| time(p.0)),
            current_period_end: state.period.map(|p| time(p.1)),
        }
    }
}
