//! HTTP at the edge: CORS, security headers, request ids and JSON bodies (`http`), the
//! conversion between workerd's requests and axum's (`wire`), rate limits, and the few HTML
//! pages the workers serve.

pub mod http;
pub mod pages;
pub mod rate_limits;
mod wire;
