//! How usage is counted, independent of where: the layout of a project's usage counters.

pub mod layout;
pub mod rate;
