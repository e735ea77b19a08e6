//! Stripe's list objects and cursor pagination (`limit`, `starting_after`, `ending_before`),
//! newest first.

use serde_json::{Value, json};

use super::Record;
use super::error::{StripeError, StripeResult};
use super::params::Params;

/// The pagination parameters every list endpoint accepts.
pub const LIST_PARAMS: [&str; 3] = ["limit", "starting_after", "ending_before"];

pub struct ListQuery {
    pub limit: usize,
    pub starting_after: Option<String>,
    pub ending_before: Option<String>,
}

impl ListQuery {
    pub fn parse(params: &Params) -> StripeResult<Self> {
        let limit = match params.int("limit")? {
            None => 10,
            Some(n) if (1..=100).contains(&n) => n as usize,
            Some(n) => {
                return Err(
                    StripeError::invalid(format!("Invalid limit: must be between 1 and 100 (got {n})")).param("limit"),
                );
            }
        };
        let starting_after = params.str("starting_after")?.filter(|s| !s.is_empty());
        let ending_before = params.str("ending_before")?.filter(|s| !s.is_empty());
        Ok(Self {
            limit,
            starting_after,
            ending_before,
        })
    }
}

/// One page of `items` (already filtered to the caller's scope) and whether more follow.
pub fn page<'a, T: Record>(mut items: Vec<&'a T>, q: &ListQuery) -> StripeResult<(Vec<&'a T>, bool)> {
    items.sort_by_key(|r| std::cmp::Reverse(r.seq()));
    let cursor_missing = |id: &str, param: &str| StripeError::no_such(T::NOUN, id, Some(param), None);
    if let Some(after) = &q.starting_after {
        let pos = items
            .iter()
            .position(|r| r.id() == after)
            .ok_or_else(|| cursor_missing(after, "starting_after"))?;
        let mut rest = items.split_off(pos + 1);
        let has_more = rest.len() > q.limit;
        rest.truncate(q.limit);
        Ok((rest, has_more))
    } else if let Some(before) = &q.ending_before {
        let pos = items
            .iter()
            .position(|r| r.id() == before)
            .ok_or_else(|| cursor_missing(before, "ending_before"))?;
        let start = pos.saturating_sub(q.limit);
        Ok((items[start..pos].to_vec(), start > 0))
    } else {
        let has_more = items.len() > q.limit;
        items.truncate(q.limit);
        Ok((items, has_more))
    }
}

pub fn list(url: &str, data: Vec<Value>, has_more: bool) -> Value {
    json!({ "object": "list", "data": data, "has_more": has_more, "url": url })
}
