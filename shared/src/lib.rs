//! The Workers-bound half of the platform (the rules with no runtime are in `dream-core`,
//! `shared/core`). One folder per area of the product:
//!
//! - `identity`: who is calling: developer sessions, secret keys, end users (Clerk).
//! - `usage`: counting requests: metering rules, the usage counters, operators' counter changes.
//! - `billing`: money owed: the developer's own plan, and their customers' subscriptions.
//! - `store`: one-off sales: carts, held stock, what happens after a sale.
//! - `projects`: a developer's projects, their Stripe products, images and dashboard figures.
//! - `stripe_events`: Stripe's webhooks, verified and read.
//! - `edge`: HTTP: CORS, request ids, rate limits, the pages we serve.
//! - `upstream`: the HTTP clients of Stripe and Clerk.
//! - `webhooks`: telling developers' apps what happened: events, signed deliveries, replay.
//! - `storage`: D1 (the only place SQL lives) and the KV cache in front of it.
//! - `runtime`: the Workers runtime: clock, logs, outbound fetch, timeouts, configuration.
//!
//! Everything here that does not touch a JS binding is unit-tested natively (`cargo test -p
//! shared`); the SQL is exercised natively against the real migrations with SQLite.

pub mod billing;
pub mod edge;
pub mod identity;
pub mod projects;
pub mod runtime;
pub mod storage;
pub mod store;
pub mod stripe_events;
pub mod upstream;
pub mod usage;
pub mod webhooks;

#[cfg(all(test, not(target_arch = "wasm32")))]
mod native_tests;
