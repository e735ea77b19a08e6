//! The few HTML pages a worker serves itself (where Stripe sends a customer after checkout when
//! the developer's app gave no URL of its own). The workers' policy is `default-src 'none'`; a
//! page adds exactly one stylesheet, allowed by its hash, so it renders styled and nothing else
//! (no script, no other style, no framing) can run in it.

use axum::{
    http::{HeaderValue, header},
    response::{Html, IntoResponse, Response},
};
use base64::Engine;
use sha2::{Digest, Sha256};

const STYLE: &str = "\
:root{color-scheme:light dark;--fg:#1f2937;--muted:#4b5563;--card:#fff;--bg:#f3f4f6;--accent:#4f46e5}\
@media (prefers-color-scheme:dark){:root{--fg:#f3f4f6;--muted:#cbd5e1;--card:#1f2937;--bg:#111827;--accent:#a5b4fc}}\
body{margin:0;min-height:100vh;display:grid;place-items:center;background:var(--bg);color:var(--fg);\
font:16px/1.5 system-ui,-apple-system,'Segoe UI',sans-serif}\
main{background:var(--card);max-width:28rem;margin:1rem;padding:2rem 2.25rem;border-radius:12px;\
box-shadow:0 1px 3px rgb(0 0 0/.12),0 8px 24px rgb(0 0 0/.06)}\
.mark{width:2.5rem;height:2.5rem;border-radius:50%;display:grid;place-items:center;font-size:1.25rem;\
color:#fff;background:var(--accent);margin-bottom:1rem}\
h1{font-size:1.375rem;margin:0 0 .5rem}p{margin:0;color:var(--muted)}";

/// `'sha256-…'` of `STYLE`: what the page's policy allows.
pub fn style_source() -> String {
    let digest = Sha256::digest(STYLE.as_bytes());
    format!("'sha256-{}'", base64::engine::general_purpose::STANDARD.encode(digest))
}

/// A small page with a mark (one character), a title and a line of text. The text is ours, not
/// the caller's: nothing is escaped because nothing comes from a request.
pub fn notice(mark: &str, title: &str, message: &str) -> Response {
    let html = format!(
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><meta name=\"viewport\" \
         content=\"width=device-width,initial-scale=1\"><title>{title}</title><style>{STYLE}</style></head>\
         <body><main><div class=\"mark\" aria-hidden=\"true\">{mark}</div><h1>{title}</h1><p>{message}</p>\
         </main></body></html>"
    );
    let policy = format!(
        "default-src 'none'; style-src {}; base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
        style_source()
    );
    let mut response = Html(html).into_response();
    if let Ok(value) = HeaderValue::from_str(&policy) {
        response.headers_mut().insert(header::CONTENT_SECURITY_POLICY, value);
    }
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_policy_allows_the_pages_own_stylesheet_and_nothing_else() {
        let response = notice("✓", "Done", "All good.");
        let policy = response.headers()[header::CONTENT_SECURITY_POLICY]
            .to_str()
            .unwrap()
            .to_owned();
        // printf %s "$STYLE" | openssl dgst -sha256 -binary | base64 gives the same value.
        assert!(policy.contains(&style_source()), "{policy}");
        assert!(policy.starts_with("default-src 'none'; style-src 'sha256-"), "{policy}");
        assert!(
            !policy.contains("unsafe-inline") && !policy.contains("script-src"),
            "{policy}"
        );
    }
}
