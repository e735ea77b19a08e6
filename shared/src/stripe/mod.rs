//! Stripe: the client the workers call Stripe with, the catalog calls built on it, reading
//! Stripe's objects, and webhook signatures and events.

pub mod catalog;
pub mod client;
pub mod objects;
pub mod webhook;

pub use client::{Form, Stripe};
