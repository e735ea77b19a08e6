//! Authentication of the two kinds of caller that reach project data. Each path ends in a
//! scope value (`ProjectScope`, `PlatformScope`) that this crate alone can construct.
//!
//! - `SecretKeyAuth`: developers' servers calling api-multi with a project's `sk_` key.
//! - `DeveloperSession`: the dashboard, with a Clerk session token of the dream-api app.
//! - `connected_event_project`: a signed Stripe event from a developer's connected account.

mod developer;
mod jwks;
mod secret_key;

pub use developer::{Developer, DeveloperSession, PLATFORM_TOKENS_KV};
pub use secret_key::{SecretKeyAuth, authenticate_secret_key, parse_bearer};

use crate::{
    connect,
    error::{ApiError, ApiResult},
    keys::PublishableKey,
    mode::Mode,
    period::Timestamp,
    repo::{Database, PlatformScope, ProjectScope},
};

/// The Connect OAuth callback's authentication: a genuine, unexpired, unused `state` names the
/// developer's platform. Forged, expired and replayed states are all refused the same way.
pub async fn redeem_oauth_state(db: Database, secret: &str, state: &str, now: Timestamp) -> ApiResult<PlatformScope> {
    let refused = || ApiError::invalid_request("Invalid or already used OAuth state; start again from the dashboard");
    let nonce = connect::verify_state(secret, state, now).ok_or_else(refused)?;
    let platform = db.consume_oauth_state(&nonce, now).await?.ok_or_else(refused)?;
    Ok(PlatformScope::new(db, platform))
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
