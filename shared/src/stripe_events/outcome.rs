//! What became of a Stripe event: the webhook's answer (Stripe shows it in its dashboard).

use dream_core::api::events::Outcome;

use dream_core::error::ApiResult;

pub fn ignored(reason: &'static str) -> ApiResult<Outcome> {
    Ok(Outcome::Ignored { reason })
}
