//! Stripe: webhook signatures and the client the workers use to call Stripe.

pub mod webhook;
