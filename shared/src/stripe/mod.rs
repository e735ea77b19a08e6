//! Stripe: the client the workers call Stripe with, the catalog calls built on it, and
//! webhook signatures.

pub mod catalog;
pub mod client;
pub mod webhook;

pub use client::{Form, Stripe};
