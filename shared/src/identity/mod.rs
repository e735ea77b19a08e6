//! Authentication of the two kinds of caller that reach project data. Each path ends in a
//! scope value (`ProjectScope`, `PlatformScope`) that this crate alone can construct.
//!
//! - `SecretKeyAuth`: developers' servers calling api-multi with a project's `sk_` key.
//! - `DeveloperSession`: the dashboard, with a Clerk session token of the dream-api app.
//! - `connected_event_project`: a signed Stripe event from a developer's connected account.

mod developer;
pub mod end_users;
mod jwks;
pub mod key_failures;
pub(crate) mod secret_key;
pub mod session_tokens;
pub mod team;

pub use developer::{Developer, DeveloperSession, PLATFORM_TOKENS_KV, SessionSettings};
pub use secret_key::{
    MeteredAuth, Recall, SecretKeyAuth, authenticate_secret_key, authenticate_widget_token, parse_bearer,
};

use axum::http::StatusCode;

use dream_core::{
    error::{ApiError, ApiResult},
    keys::PublishableKey,
    mode::Mode,
    oauth_state,
    period::Timestamp,
};

use crate::storage::{Database, PlatformScope, ProjectScope, platforms::StateRedemption};

/// The Connect OAuth callback's check, made with the developer's own session: a genuine,
/// unexpired, unused `state` issued to this developer's platform. Forged, expired and replayed
/// states are refused alike; a state issued to another developer (a link planted in someone
/// else's browser) is refused with 403 and stays usable by its owner.
pub async fn redeem_oauth_state(platform: &PlatformScope, secret: &str, state: &str, now: Timestamp) -> ApiResult<()> {
    let refused = || ApiError::invalid_request("Invalid or already used OAuth state; start again from the dashboard");
    let nonce = oauth_state::verify_state(secret, state, now).ok_or_else(refused)?;
    match platform.redeem_oauth_state(&nonce, now).await? {
        StateRedemption::Redeemed => Ok(()),
        StateRedemption::OtherPlatform => Err(ApiError::unauthorized(
            "This Stripe authorization was started by another dream-api account; start again from your dashboard",
        )
        .with_status(StatusCode::FORBIDDEN)),
        StateRedemption::Unusable => Err(refused()),
    }
}

/// The project a connected account's event may touch: the one its metadata names, only if that
/// project's developer connected this very account and the event's mode is the key's mode. A
/// developer who forges another project's key into their own Stripe objects gets `None`.
pub async fn connected_event_project(
    db: Database,
    publishable_key: &str,
    account: &str,
    livemode: bool,
) -> ApiResult<Option<ProjectScope>> {
    let Ok(key) = PublishableKey::parse(publishable_key) else {
        return Ok(None);
    };
    if (key.mode() == Mode::Live) != livemode {
        return Ok(None);
    }
    Ok(db
        .project_on_account(&key, account)
        .await?
        .map(|project| ProjectScope::new(db, project)))
}
