//! Counting requests: the metering rules of `POST /api/data` and `GET /api/usage`, what a
//! user's tier grants (`GET /api/entitlements`, `POST /api/check`), the usage counters
//! (Durable Objects) that count them, and the operators' changes to a project's counters.

pub mod counter;
pub mod counter_protocol;
pub mod counters;
pub mod entitlements;
pub mod metering;
pub mod operator;
pub mod widget;
