//! The rules of the platform that need no Workers runtime: key formats and hashing, test and
//! live modes, money, billing periods, tiers and the project configuration, usage counter
//! layouts, the developer's own plan, Stripe Connect's OAuth state and Stripe's objects, the one
//! error type, and the public API: every request and answer type (`api`) and, with `--features
//! openapi`, the OpenAPI documents built from them. Nothing here depends on `worker`,
//! `wasm-bindgen` or `js-sys` (the manifest keeps them out), so all of it is tested natively
//! with `cargo test -p dream-core`, and the workers, the emulator and the SDK can share its
//! shapes.

pub mod api;
pub mod developer_plan;
pub mod error;
pub mod exports;
pub mod input;
pub mod keys;
pub mod mode;
pub mod money;
pub mod oauth_state;
pub mod period;
pub mod stripe;
pub mod team;
pub mod tiers;
pub mod usage;
pub mod webhooks;
pub mod widget;

pub use error::{ApiError, ApiResult, ErrorCode};
