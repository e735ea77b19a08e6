//! Stripe's objects as the platform reads them (the client that fetches them is in `shared`).

pub mod objects;
