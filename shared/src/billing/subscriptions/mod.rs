//! Developers' customers paying them: subscription checkout, the billing portal and plan
//! changes (`checkout`), and the Connect webhook events that keep our copy of their
//! subscriptions equal to Stripe's (`events`). Everything runs on the developer's connected
//! account, in the mode of the project's key.

pub mod checkout;
pub mod events;

use serde::Deserialize;
use worker::Env;

use crate::{
    clerk_backend::ClerkBackend,
    config,
    error::{ApiError, ApiResult},
    mode::ProjectType,
    projects::StripeModes,
    repo::ProjectScope,
    stripe::Stripe,
    tier::{ProjectConfig, Tier},
};

/// The longest redirect URL we pass to Stripe (Stripe's own limit is 5000).
pub const MAX_URL_LEN: usize = 2048;

/// The platform's Stripe client acting on the project's connected account, in its key's mode.
pub async fn stripe_for(env: &Env, scope: &ProjectScope) -> ApiResult<Stripe> {
    let account = scope
        .stripe_account()
        .await?
        .ok_or_else(|| ApiError::conflict("This project's developer has not connected a Stripe account"))?;
    let mode = scope.project().publishable_key.mode();
    Ok(StripeModes::from_env(env)?.for_mode(mode).on_account(&account))
}

/// Copies the plan D1 says the user is on into their Clerk identity's
/// `publicMetadata.projects.{publishableKey}.plan` (for the developer's frontend, which reads
/// Clerk's session claims). D1 stays the truth; this runs on every delivery of an event, so a
/// failed Clerk call is repaired by Stripe's retry. Users without a Clerk identity are skipped.
pub async fn mirror_plan_to_clerk(env: &Env, scope: &ProjectScope, user_id: &str) -> ApiResult<()> {
    let Some(clerk_user) = scope.customer(user_id).await?.and_then(|c| c.clerk_user_id) else {
        return Ok(());
    };
    let plan = scope
        .entitlement(user_id)
        .await?
        .map_or_else(|| crate::metering::DEFAULT_PLAN.to_owned(), |e| e.plan);
    let pk = scope.project().publishable_key.as_str();
    let clerk = ClerkBackend::end_users(env)?;
    let platform = scope.project().platform_id.as_str();
    let mirror = async {
        let user = clerk.user(&clerk_user).await?;
        let patch = crate::customers::project_claim(&user, pk, platform, Some(&plan), crate::period::now());
        crate::customers::claim(&clerk, &clerk_user, patch).await
    };
    mirror
        .await
        .map_err(|e| e.context("mirroring a customer's plan into Clerk"))
}

/// Where Checkout sends the customer after paying and after giving up: the developer's URLs
/// (validated), else api-multi's own small pages (`API_MULTI_URL`).
pub fn return_urls(env: &Env, success: Option<&str>, cancel: Option<&str>) -> ApiResult<(String, String)> {
    let page = |name: &str| -> ApiResult<String> {
        let base = config::required(env, "API_MULTI_URL")?;
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

/// A redirect URL given by the developer: absolute http(s) with a host, bounded, printable.
/// Stripe checks it again; this refuses what is plainly wrong with a message naming the field.
/// (A full URL parser would add its Unicode tables to api-multi's Wasm for no real gain.)
pub fn parse_redirect(field: &str, url: &str) -> ApiResult<String> {
    if url.len() > MAX_URL_LEN {
        return Err(ApiError::invalid_request(format!(
            "`{field}` is longer than {MAX_URL_LEN} characters"
        )));
    }
    let rest = url.strip_prefix("https://").or_else(|| url.strip_prefix("http://"));
    let host = rest.map(|r| r.split(['/', '?', '#']).next().unwrap_or(""));
    let printable = url.chars().all(|c| !c.is_whitespace() && !c.is_control());
    match host {
        Some(host) if printable && !host.is_empty() && !host.starts_with(':') && !host.contains('@') => {
            Ok(url.to_owned())
        }
        _ => Err(ApiError::invalid_request(format!(
            "`{field}` must be an absolute http(s) URL"
        ))),
    }
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

/// Parses a JSON body into `T`, or an empty body into `T::default()`.
pub fn json_body<T: for<'de> Deserialize<'de> + Default>(body: &[u8]) -> ApiResult<T> {
    if body.iter().all(u8::is_ascii_whitespace) {
        return Ok(T::default());
    }
    serde_json::from_slice(body).map_err(|e| ApiError::invalid_request(format!("Invalid JSON body: {e}")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn redirect_urls_must_be_absolute_http() {
        assert!(parse_redirect("successUrl", "https://app.example/ok?s={CHECKOUT_SESSION_ID}").is_ok());
        assert!(parse_redirect("successUrl", "http://localhost:3000/done").is_ok());
        for bad in [
            "javascript:alert(1)",
            "/relative",
            "ftp://x.example/",
            "https://",
            "https:///path",
            "not a url",
            "https://a b.example/",
            "https://user@evil.example/",
        ] {
            let err = parse_redirect("cancelUrl", bad).unwrap_err();
            assert!(err.message().contains("cancelUrl"), "{bad}: {}", err.message());
        }
        let long = format!("https://x.example/{}", "a".repeat(MAX_URL_LEN));
        assert!(
            parse_redirect("successUrl", &long)
                .unwrap_err()
                .message()
                .contains("longer")
        );
    }
}
