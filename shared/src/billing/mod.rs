//! Money owed: the developer's own plan with us (`developer_plan`), and their customers'
//! subscriptions to their tiers (`subscriptions`), and the overage of metered tiers reported to
//! Stripe (`overage`).

pub mod developer_plan;
pub mod overage;
pub mod subscriptions;
