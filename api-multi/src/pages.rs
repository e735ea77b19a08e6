//! Where Stripe sends a customer after checkout when the developer's app gave no URL of its own.

use axum::response::Response;
use shared::edge::pages::notice;

/// GET /checkout/success
pub async fn success() -> Response {
    notice(
        "✓",
        "Payment received",
        "Thank you. Your payment went through; you can close this tab.",
    )
}

/// GET /checkout/cancel
pub async fn cancel() -> Response {
    notice("×", "Checkout canceled", "Nothing was charged. You can close this tab.")
}
