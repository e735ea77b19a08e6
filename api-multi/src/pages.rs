//! Where Stripe sends a customer after checkout when the developer's app gave no URL of its own.

use axum::response::Html;

fn page(title: &str, message: &str) -> Html<String> {
    Html(format!(
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><meta name=\"viewport\" \
         content=\"width=device-width,initial-scale=1\"><title>{title}</title></head>\
         <body style=\"font-family:system-ui,sans-serif;max-width:32rem;margin:4rem auto;padding:0 1rem\">\
         <h1>{title}</h1><p>{message}</p></body></html>"
    ))
}

/// GET /checkout/success
pub async fn success() -> Html<String> {
    page(
        "Payment received",
        "Thank you. Your subscription is active; you can close this tab.",
    )
}

/// GET /checkout/cancel
pub async fn cancel() -> Html<String> {
    page("Checkout canceled", "Nothing was charged. You can close this tab.")
}
