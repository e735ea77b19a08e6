//! What every checkout on a project's connected Stripe account needs, subscriptions and Store
//! carts alike: the platform's client acting on that account in the key's mode, and where
//! Checkout sends the customer back.

use crate::{projects::StripeModes, runtime::settings::Setting, storage::ProjectScope, upstream::stripe::Stripe};
use dream_core::{
    error::{ApiError, ApiResult},
    input::parse_redirect,
};

/// The platform's Stripe client acting on the project's connected account, in its key's mode.
pub async fn stripe_for(stripe: &StripeModes, scope: &ProjectScope) -> ApiResult<Stripe> {
    let account = scope
        .stripe_account()
        .await?
        .ok_or_else(|| ApiError::conflict("This project's developer has not connected a Stripe account"))?;
    let mode = scope.project().publishable_key.mode();
    Ok(stripe.for_mode(mode).on_account(&account))
}

/// Where Checkout sends the customer after paying and after giving up: the developer's URLs
/// (validated), else api-multi's own small pages (`api_multi_url`, api-multi's public URL).
pub fn return_urls(
    api_multi_url: &Setting,
    success: Option<&str>,
    cancel: Option<&str>,
) -> ApiResult<(String, String)> {
    let page = |name: &str| -> ApiResult<String> {
        let base = api_multi_url.get()?;
        Ok(format!("{}/checkout/{name}", base.trim_end_matches('/')))
    };
    let success = match success {
        Some(url) => parse_redirect("successUrl", url)?,
        None => format!("{}?session_id={{CHECKOUT_SESSION_ID}}", page("success")?),
    };
    let cancel = match cancel {
        Some(url) => parse_redirect("cancelUrl", url)?,
        None => page("cancel")?,
    };
    Ok((success, cancel))
}
