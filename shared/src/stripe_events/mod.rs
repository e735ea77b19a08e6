//! Stripe's webhooks: signatures checked while the body streams, events read (and fetched by id
//! when too large), and Connect events routed to the area they are about (`connect`).

pub mod connect;
pub mod outcome;
pub mod webhook;
