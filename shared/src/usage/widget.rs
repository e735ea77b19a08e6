//! The usage widget: a developer's server mints a short-lived token for one of its users
//! (`POST /api/widget/tokens`), and the widget in that user's browser reads the user's plan,
//! this period's usage and the tiers an upgrade may offer (`GET /api/widget`), the same figures
//! `GET /api/entitlements` and `GET /api/usage` give the server, counting nothing.

use axum::http::HeaderMap;

use dream_core::{
    api::widget::{UsageWidget, WidgetTier, WidgetToken, WidgetTokenRequest},
    error::{ApiError, ApiResult},
    mode::ProjectType,
    period::Timestamp,
    widget::{self, WidgetClaims},
};

use crate::{
    identity::SecretKeyAuth,
    usage::{counters::Counters, entitlements::entitlements, metering},
};

fn saas_only(auth: &SecretKeyAuth) -> ApiResult<()> {
    if auth.config.project_type == ProjectType::Saas {
        Ok(())
    } else {
        Err(ApiError::invalid_request(
            "The usage widget shows plans and usage: it needs a SaaS project; this key belongs to a Store project",
        ))
    }
}

/// POST /api/widget/tokens
pub fn mint(
    (auth, platform_secret): (&SecretKeyAuth, &str),
    request: &WidgetTokenRequest,
    user_header: Option<&str>,
    now: Timestamp,
) -> ApiResult<WidgetToken> {
    saas_only(auth)?;
    // Only the user counts here: the metered routes' other headers (a plan, an idempotency key)
    // mean nothing to a token.
    if let (Some(body), Some(header)) = (request.user_id.as_deref(), user_header)
        && body != header
    {
        return Err(ApiError::invalid_request(
            "userId and the X-User-Id header name different users",
        ));
    }
    let user = metering::UsageHeaders::parse_naming(request.user_id.as_deref().or(user_header), &HeaderMap::new())?;
    let lifetime = widget::lifetime(request.expires_in_seconds)?;
    let claims = WidgetClaims {
        pk: auth.scope.project().publishable_key.as_str().to_owned(),
        sub: user.user_id.clone(),
        iat: now.0,
        exp: now.0 + lifetime,
        tiers: request.offer_tiers.as_deref().map(|names| offered_tiers(auth, names)).transpose()?,
    };
    Ok(WidgetToken {
        success: true,
        token: widget::mint(&claims, &auth.widget_signing_key(platform_secret)),
        user_id: user.user_id,
        expires_at: Timestamp(claims.exp).to_rfc3339(),
    })
}

/// `offerTiers`, checked against the project's tiers so a typo is a 400 now rather than a
/// button that never shows.
fn offered_tiers(auth: &SecretKeyAuth, names: &[String]) -> ApiResult<Vec<String>> {
    let mut offered: Vec<String> = Vec::with_capacity(names.len().min(auth.config.tiers.len()));
    for name in names {
        if auth.config.tier(name).is_none() {
            let known: Vec<&str> = auth.config.tiers.iter().map(|t| t.name.as_str()).collect();
            let shown: String = name.chars().take(dream_core::tiers::TIER_NAME_MAX + 1).collect();
            return Err(ApiError::invalid_request(format!(
                "offerTiers: this project has no tier {shown:?} (its tiers: {})",
                known.join(", ")
            )));
        }
        if offered.contains(name) {
            return Err(ApiError::invalid_request(format!("offerTiers names {name:?} twice")));
        }
        offered.push(name.clone());
    }
    Ok(offered)
}

/// The `token` parameter of the widget's query (other parameters, a cache-buster, are ignored).
pub fn token_in_query(query: Option<&str>) -> ApiResult<String> {
    query
        .and_then(|q| url::form_urlencoded::parse(q.as_bytes()).find(|(k, _)| k == "token"))
        .map(|(_, v)| v.into_owned())
        .ok_or_else(|| ApiError::unauthorized("Missing widget token: GET /api/widget?token=wt_…"))
}

/// GET /api/widget: for the user the token names, as their developer's server would see it.
pub async fn view(auth: &SecretKeyAuth, counters: &Counters, claims: &WidgetClaims, now: Timestamp) -> ApiResult<UsageWidget> {
    saas_only(auth)?;
    let user = metering::UsageHeaders::parse_naming(Some(&claims.sub), &HeaderMap::new())?;
    let granted = entitlements(auth, counters, &user, now).await?;
    let usage = metering::current_usage(auth, counters, &user, now).await?;
    // Answered on a configuration read again meanwhile (a tier added this second): retry.
    let plan = auth.config.tier(&granted.plan).ok_or_else(|| {
        ApiError::new(
            dream_core::ErrorCode::Unavailable,
            "This project's configuration is being changed; retry shortly",
        )
        .with_retry_after(1)
    })?;
    let mut tiers: Vec<WidgetTier> = auth
        .config
        .tiers
        .iter()
        // A tier deleted since minting simply drops out.
        .filter(|t| t.name != plan.name && claims.offers(t.name.as_str()))
        .map(WidgetTier::of)
        .collect();
    tiers.sort_by_key(|t| t.price);
    Ok(UsageWidget {
        success: true,
        user_id: granted.user_id,
        project: auth.config.name.clone(),
        plan: WidgetTier::of(plan),
        source: granted.source,
        status: granted.status,
        trial_ends_at: granted.trial_ends_at,
        cancel_at_period_end: granted.cancel_at_period_end,
        current_period_end: granted.current_period_end,
        usage,
        tiers,
    })
}
