//! Developers' customers paying them: subscription checkout, the billing portal and plan
//! changes (`checkout`), and the Connect webhook events that keep our copy of their
//! subscriptions equal to Stripe's (`events`). Everything runs on the developer's connected
//! account, in the mode of the project's key.

pub mod checkout;
pub mod events;
pub mod notify;

use crate::{storage::ProjectScope, upstream::clerk::ClerkBackend};

use dream_core::{
    error::{ApiError, ApiResult},
    mode::ProjectType,
    tiers::{ProjectConfig, Tier},
};

/// Copies the plan D1 says the user is on into their Clerk identity's
/// `publicMetadata.projects.{publishableKey}.plan` (for the developer's frontend, which reads
/// Clerk's session claims). D1 stays the truth; this runs on every delivery of an event, so a
/// failed Clerk call is repaired by Stripe's retry. Users without a Clerk identity are skipped.
pub async fn mirror_plan_to_clerk(clerk: &ClerkBackend, scope: &ProjectScope, user_id: &str) -> ApiResult<()> {
    let Some(clerk_user) = scope.customer(user_id).await?.and_then(|c| c.clerk_user_id) else {
        return Ok(());
    };
    let plan = scope
        .entitlement(user_id)
        .await?
        .map_or_else(|| crate::usage::metering::DEFAULT_PLAN.to_owned(), |e| e.plan);
    let pk = scope.project().publishable_key.as_str();
    let platform = scope.project().platform_id.as_str();
    let mirror = async {
        let user = clerk.user(&clerk_user).await?;
        let patch =
            crate::identity::end_users::project_claim(&user, pk, platform, Some(&plan), crate::runtime::clock::now());
        crate::identity::end_users::claim(&clerk, &clerk_user, patch).await
    };
    mirror
        .await
        .map_err(|e| e.context("mirroring a customer's plan into Clerk"))
}

/// Subscriptions are a SaaS feature; a Store key gets a clear refusal.
pub fn require_saas(config: &ProjectConfig) -> ApiResult<()> {
    match config.project_type {
        ProjectType::Saas => Ok(()),
        ProjectType::Store => Err(ApiError::invalid_request(
            "Subscriptions are for SaaS projects; this key belongs to a Store project (use /api/cart/checkout)",
        )),
    }
}

/// A tier a customer can subscribe to: it exists and is sold through Stripe.
pub fn paid_tier<'c>(config: &'c ProjectConfig, name: &str) -> ApiResult<(&'c Tier, &'c str)> {
    let tier = config.tier(name).ok_or_else(|| {
        let names: Vec<&str> = config.tiers.iter().map(|t| t.name.as_str()).collect();
        ApiError::invalid_request(format!(
            "Unknown tier `{name}`; this project's tiers are: {}",
            names.join(", ")
        ))
    })?;
    match tier.price_id.as_deref() {
        Some(price) if !tier.price.is_free() => Ok((tier, price)),
        _ => Err(ApiError::invalid_request(format!(
            "`{name}` is a free tier: there is nothing to pay (send X-User-Plan or cancel the subscription instead)"
        ))),
    }
}
