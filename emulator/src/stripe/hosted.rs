//! The hosted checkout page at `/checkout/{session id}`: line items, a billing country and
//! postal code when the session asks for an address (automatic tax, or
//! `billing_address_collection=required`), and a card field (none when the session collects no
//! card: `payment_method_collection=if_required` with nothing due). 4242 4242 4242 4242 pays;
//! 4000 0000 0000 0002 is declined and the session stays open.

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;

use super::checkout::CheckoutSession;
use super::payment::{self, Buyer, CardInput};
use crate::App;
use crate::html::{escape, form_fields, found, money, page};
use crate::state::Db;

fn render(db: &Db, session: &CheckoutSession, error: Option<&str>, status: StatusCode) -> Response {
    let mut rows = String::new();
    for line in &session.lines {
        let price = db.prices.get(&line.price);
        let name = price
            .and_then(|p| db.products.get(&p.product))
            .map(|p| p.name.as_str())
            .unwrap_or("(unknown product)");
        let unit = price.map(|p| p.unit_label()).unwrap_or_default();
        // A metered price has no quantity here: its usage is billed at each period's end.
        let (quantity, amount) = match (price, line.quantity) {
            (Some(p), Some(q)) => (q.to_string(), money(p.amount_for(q), &session.currency)),
            _ => ("per usage".to_string(), "billed in arrears".to_string()),
        };
        let every = price
            .and_then(|p| p.recurring.as_ref())
            .map(|r| {
                if r.interval_count == 1 {
                    format!(" / {}", r.interval)
                } else {
                    format!(" / {} {}s", r.interval_count, r.interval)
                }
            })
            .unwrap_or_default();
        rows.push_str(&format!(
            "<tr><td>{}</td><td>{}</td><td>{}{}</td><td>{}</td></tr>",
            escape(name),
            escape(&quantity),
            escape(&unit),
            escape(&every),
            escape(&amount),
        ));
    }
    let known_email = session.customer_email.clone().or_else(|| {
        session
            .customer
            .as_ref()
            .and_then(|c| db.customers.get(c))
            .and_then(|c| c.email.clone())
    });
    let email_field = match known_email {
        Some(email) => format!("<p>Email: <strong>{}</strong></p>", escape(&email)),
        None => "<label>Email<input name=\"email\" type=\"email\" required placeholder=\"you@example.com\"></label>"
            .to_string(),
    };
    let error = error
        .map(|e| format!("<p class=\"error\" role=\"alert\">{}</p>", escape(e)))
        .unwrap_or_default();
    let cancel = session
        .cancel_url
        .as_ref()
        .map(|u| format!("<p><a href=\"{}\">Cancel and go back</a></p>", escape(u)))
        .unwrap_or_default();
    let verb = match (session.mode.as_str(), session.has_trial()) {
        (_, true) => "Start trial",
        ("subscription", false) => "Subscribe",
        _ => "Pay",
    };
    // `if_required` with nothing due today: Stripe's page asks for no card at all.
    // Left optional where a code may bring the total to nothing (then no card is needed).
    let required = if session.allow_promotion_codes == Some(true) {
        ""
    } else {
        " required"
    };
    let card_fields = if session.collects_payment_method() {
        format!(
            "<label>Card number<input name=\"card\" inputmode=\"numeric\" autocomplete=\"cc-number\" value=\"\" placeholder=\"4242 4242 4242 4242\"{required}></label>\
             <label>Expiry<input name=\"exp\" placeholder=\"12 / 34\"></label><label>CVC<input name=\"cvc\" placeholder=\"123\"></label>"
        )
    } else {
        String::new()
    };
    let test_cards = if session.collects_payment_method() {
        "<p>Test cards: 4242 4242 4242 4242 succeeds; 4000 0000 0000 0002 is declined.</p>"
    } else {
        "<p>No card is needed to start this trial.</p>"
    };
    // Stripe's page has a code field when the session allows codes; the code applies as the
    // buyer pays here (a code that empties the total also drops the card with `if_required`).
    let promotion_field = if session.allow_promotion_codes == Some(true) {
        "<label>Promotion code<input name=\"promotion_code\" autocomplete=\"off\" placeholder=\"Add promotion code\"></label>"
    } else {
        ""
    };
    let discounted: i64 = session.discount_shares(db).iter().sum();
    let discount = session
        .discount
        .as_ref()
        .filter(|_| discounted > 0)
        .map(|d| {
            format!(
                "<p>Discount ({}): -{}</p>",
                escape(&d.coupon),
                escape(&money(discounted, &session.currency))
            )
        })
        .unwrap_or_default();
    let tax = tax_line(session);
    let address_fields = address_fields(db, session);
    let trial = match (session.trial_period_days, session.trial_end) {
        (Some(days), _) => format!("<p>Free trial: {days} days, then billed as above.</p>"),
        (None, Some(end)) => format!("<p>Free trial until {end} (Unix time), then billed as above.</p>"),
        _ => String::new(),
    };
    let mode = if session.scope.livemode {
        "live mode"
    } else {
        "test mode"
    };
    let body = format!(
        "<p>{mode} · {id}</p>\
         <table><thead><tr><th>Item</th><th>Qty</th><th>Price</th><th>Amount</th></tr></thead><tbody>{rows}</tbody></table>\
         {trial}{discount}{tax}<p><strong>Total due today: {total}</strong></p>{error}\
         <form method=\"post\" action=\"/checkout/{id}\">{email_field}{address_fields}{promotion_field}{card_fields}\
         <button type=\"submit\">{verb}</button></form>{test_cards}{cancel}",
        id = escape(&session.id),
        total = escape(&money(session.amount_total, &session.currency)),
    );
    page(status, "Checkout", &body)
}

/// The tax of a session with automatic tax: its amount once the address is known, else a note
/// that it follows the billing country entered below.
fn tax_line(session: &CheckoutSession) -> String {
    if !session.automatic_tax {
        return String::new();
    }
    match &session.taxes {
        None => "<p>Tax: calculated from your billing country when you pay.</p>".to_string(),
        Some(taxes) => {
            let included = taxes.iter().all(|t| t.inclusive);
            format!(
                "<p>Tax{}: {}</p>",
                if included { " (included)" } else { "" },
                escape(&money(session.amount_tax(), &session.currency))
            )
        }
    }
}

/// Country (two letters) and postal code, prefilled with the customer's saved address.
fn address_fields(db: &Db, session: &CheckoutSession) -> String {
    if !session.collects_address() {
        return String::new();
    }
    let saved = session.saved_address(db).unwrap_or_default();
    format!(
        "<label>Billing country (two letters, e.g. DE)<input name=\"country\" required maxlength=\"2\" \
         autocomplete=\"country\" value=\"{}\" placeholder=\"US\"></label>\
         <label>Postal code<input name=\"postal_code\" autocomplete=\"postal-code\" value=\"{}\"></label>",
        escape(saved.country.as_deref().unwrap_or_default()),
        escape(saved.postal_code.as_deref().unwrap_or_default()),
    )
}

fn gone(session: &CheckoutSession) -> Response {
    let message = match session.status.as_str() {
        "complete" => "This Checkout Session has already been paid.",
        _ => "This Checkout Session is no longer available.",
    };
    page(StatusCode::GONE, "Checkout", &format!("<p>{}</p>", escape(message)))
}

fn missing() -> Response {
    page(StatusCode::NOT_FOUND, "Checkout", "<p>No such Checkout Session.</p>")
}

/// GET /checkout/{id}
pub async fn page_route(State(app): State<Arc<App>>, Path(id): Path<String>) -> Response {
    app.read(|db| match db.checkout_sessions.get(&id) {
        None => missing(),
        Some(s) if s.status != "open" => gone(s),
        Some(s) => render(db, s, None, StatusCode::OK),
    })
}

/// POST /checkout/{id}: the Pay button. Success redirects (302) to the success URL.
pub async fn pay(State(app): State<Arc<App>>, Path(id): Path<String>, body: Bytes) -> Response {
    let fields = form_fields(&body);
    // A page without a card field sends none: a trial started without a card.
    let buyer = Buyer {
        card: match fields.get("card") {
            None => CardInput::Absent,
            Some(c) if c.trim().is_empty() => CardInput::Blank,
            Some(c) => CardInput::Number(c.clone()),
        },
        email: fields.get("email").filter(|e| !e.is_empty()).cloned(),
        promotion_code: fields
            .get("promotion_code")
            .filter(|c| !c.trim().is_empty())
            .map(|c| c.trim().to_string()),
        country: fields.get("country").filter(|c| !c.trim().is_empty()).cloned(),
        postal_code: fields.get("postal_code").filter(|c| !c.trim().is_empty()).cloned(),
        name: None,
    };
    let now = crate::time::now();
    let outcome = app.mutate(|db| payment::complete(db, &id, buyer, now));
    match outcome {
        Ok(done) => match done.redirect {
            Some(url) => found(&url),
            None => page(
                StatusCode::OK,
                "Payment complete",
                "<p>Thanks: the payment succeeded. You can close this page.</p>",
            ),
        },
        Err(e) => app.read(|db| match db.checkout_sessions.get(&id) {
            None => missing(),
            Some(s) if s.status != "open" => gone(s),
            Some(s) => render(db, s, Some(&e.message), e.status),
        }),
    }
}
