//! Money owed: the developer's own plan with us (`developer_plan`), and their customers'
//! subscriptions to their tiers (`subscriptions`).

pub mod developer_plan;
pub mod subscriptions;
