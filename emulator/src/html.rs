//! The small HTML layer of the hosted pages: escaping and one page frame.

use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Response};

pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// A whole page. `body` must already be escaped HTML.
pub fn page(status: StatusCode, title: &str, body: &str) -> Response {
    let html = format!(
        "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
         <title>{title}</title><style>\
         body{{font-family:system-ui,sans-serif;max-width:40rem;margin:2rem auto;padding:0 1rem;color:#1a1f36}}\
         .banner{{background:#fff4d6;border:1px solid #f5c26b;padding:.5rem .75rem;font-size:.85rem}}\
         .error{{background:#fde8e8;border:1px solid #e66;padding:.5rem .75rem}}\
         table{{border-collapse:collapse;width:100%}}td,th{{border-bottom:1px solid #ddd;padding:.4rem;text-align:left}}\
         input{{font-size:1rem;padding:.4rem;width:100%;box-sizing:border-box;margin:.2rem 0 .8rem}}\
         button{{font-size:1rem;padding:.5rem 1rem;margin:.2rem .2rem .2rem 0;cursor:pointer}}\
         </style></head><body><p class=\"banner\">dream-emulator: a local stand-in, no real payment \
         or account is involved.</p><h1>{title}</h1>{body}</body></html>",
        title = escape(title),
    );
    (status, Html(html)).into_response()
}

pub fn money(amount: i64, currency: &str) -> String {
    let sign = if amount < 0 { "-" } else { "" };
    let abs = amount.unsigned_abs();
    format!("{sign}{}.{:02} {}", abs / 100, abs % 100, currency.to_uppercase())
}

/// A 302 to `location`, as Stripe's pages redirect back to the merchant.
pub fn found(location: &str) -> Response {
    let mut resp = StatusCode::FOUND.into_response();
    if let Ok(value) = axum::http::HeaderValue::from_str(location) {
        resp.headers_mut().insert(axum::http::header::LOCATION, value);
    }
    resp
}

/// The string fields of a submitted HTML form.
pub fn form_fields(body: &[u8]) -> std::collections::HashMap<String, String> {
    form_urlencoded::parse(body)
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect()
}
