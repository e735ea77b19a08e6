//! Authentication of the two kinds of caller that reach project data. Each path ends in a
//! scope value (`ProjectScope`, `PlatformScope`) that this crate alone can construct.
//!
//! - `SecretKeyAuth`: developers' servers calling api-multi with a project's `sk_` key.
//! - `DeveloperSession`: the dashboard, with a Clerk session token of the dream-api app.

mod developer;
mod jwks;
mod secret_key;

pub use developer::{Developer, DeveloperSession, PLATFORM_TOKENS_KV};
pub use secret_key::{SecretKeyAuth, authenticate_secret_key, parse_bearer};

use crate::{
    connect,
    error::{ApiError, ApiResult},
    period::Timestamp,
    repo::{Database, PlatformScope},
};

/// The Connect OAuth callback's authentication: a genuine, unexpired, unused `state` names the
/// developer's platform. Forged, expired and replayed states are all refused the same way.
pub async fn redeem_oauth_state(db: Database, secret: &str, state: &str, now: Timestamp) -> ApiResult<PlatformScope> {
    let refused = || ApiError::invalid_request("Invalid or already used OAuth state; start again from the dashboard");
    let nonce = connect::verify_state(secret, state, now).ok_or_else(refused)?;
    let platform = db.consume_oauth_state(&nonce, now).await?.ok_or_else(refused)?;
    Ok(PlatformScope::new(db, platform))
}
