//! The services we call over HTTP: Stripe (the platform account and connected accounts) and
//! Clerk's backend API (developers' and end users' instances).

pub mod clerk;
pub mod stripe;
