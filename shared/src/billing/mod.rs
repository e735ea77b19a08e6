//! Money owed: the developer's own plan with us (`developer_plan`), and their customers'
//! subscriptions to their tiers (`subscriptions`), the overage of metered tiers reported to
//! Stripe (`overage`), the promotion codes their checkouts accept (`promotions`), and Stripe Tax
//! on them (`tax`).

pub mod developer_plan;
pub mod overage;
pub mod promotions;
pub mod subscriptions;
pub mod tax;
