//! What became of a Stripe event: the webhook's answer (Stripe shows it in its dashboard).

use serde::Serialize;

/// What became of an event, as the webhook's answer says (Stripe shows it in its dashboard).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase", tag = "outcome")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum Outcome {
    Applied {
        subscription: String,
        status: String,
        plan: String,
    },
    /// A Store order was paid: its held stock is sold.
    OrderSold {
        order: String,
    },
    /// A Store order's session expired unpaid: its hold is released.
    OrderReleased {
        order: String,
    },
    /// A paid Store order's refunds or dispute, as Stripe reports them now, are recorded.
    OrderUpdated {
        order: String,
    },
    /// The account's owner revoked our access: its developer must reconnect it.
    Disconnected {
        account: String,
    },
    Duplicate,
    Ignored {
        reason: &'static str,
    },
}
