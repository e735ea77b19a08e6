//! The dream-api core shared by the three workers: identity (keys, modes), the tier and money
//! model, billing periods, the one error type, the HTTP edge (CORS, security headers, request
//! ids), authentication, the metering rules, and the D1/KV data layer.
//!
//! Everything here that does not touch a JS binding is unit-tested natively (`cargo test -p
//! shared`); the SQL is exercised natively against the real migrations with SQLite.

pub mod api;
pub mod assets;
pub mod auth;
pub mod billing;
pub mod cache;
pub mod catalog;
pub mod clerk;
pub mod clerk_backend;
pub mod config;
pub mod connect;
pub mod counter;
pub mod customer_billing;
pub mod customers;
pub mod deadline;
pub mod error;
pub mod http;
pub mod keys;
pub mod log;
pub mod metering;
pub mod metrics;
pub mod mode;
pub mod money;
pub mod operator;
pub mod outbound;
pub mod pages;
pub mod period;
pub mod plan;
pub mod projects;
pub mod ratelimit;
pub mod repo;
pub mod store;
pub mod stripe;
pub mod tier;

pub use error::{ApiError, ApiResult, ErrorCode};
