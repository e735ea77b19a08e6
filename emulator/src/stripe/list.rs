//! Stripe's list objects and cursor pagination (`limit`, `starting_after`, `ending_before`),
//! newest first; and the body of the plain retrieve and list endpoints.

use std::collections::BTreeMap;

use axum::Json;
use serde_json::{Value, json};

use super::auth::Ctx;
use super::error::{StripeError, StripeResult};
use super::params::Params;
use super::{Record, expand, find};
use crate::App;
use crate::state::Db;

/// Where a kind of object is kept.
pub type Objects<T> = fn(&Db) -> &BTreeMap<String, T>;

/// A list filter: its query parameter, and the field of the object it must equal.
pub type Filter<T> = (&'static str, fn(&T) -> Option<&str>);

/// `GET /v1/{objects}/{id}` of an object that takes no parameter but `expand[]`.
pub fn retrieve_one<T: Record>(
    app: &App,
    ctx: &Ctx,
    query: Option<&str>,
    (objects, id): (Objects<T>, &str),
    render: fn(&T) -> Value,
) -> StripeResult<Json<Value>> {
    let params = Params::from_query(query)?;
    params.allow(&[])?;
    app.read(|db| {
        let rendered = render(find(objects(db), &ctx.scope, id, None)?);
        Ok(Json(expand::apply(db, &ctx.scope, rendered, &params.expand()?)?))
    })
}

/// `GET /v1/{objects}` at `path`: the caller's objects whose fields equal the filters given
/// (each a query parameter and the field it compares), paged, newest first.
pub fn list_filtered<T: Record>(
    app: &App,
    ctx: &Ctx,
    query: Option<&str>,
    (path, objects): (&str, Objects<T>),
    filters: &[Filter<T>],
    render: fn(&T) -> Value,
) -> StripeResult<Json<Value>> {
    let params = Params::from_query(query)?;
    let names: Vec<&str> = filters.iter().map(|(name, _)| *name).collect();
    params.allow(&[&LIST_PARAMS[..], &names].concat())?;
    let q = ListQuery::parse(&params)?;
    let wanted = (filters.iter())
        .map(|(name, field)| Ok((params.str(name)?, *field)))
        .collect::<StripeResult<Vec<_>>>()?;
    app.read(|db| {
        let items: Vec<&T> = objects(db)
            .values()
            .filter(|o| o.scope() == &ctx.scope)
            .filter(|o| (wanted.iter()).all(|(want, field)| want.as_deref().is_none_or(|w| field(o) == Some(w))))
            .collect();
        let (items, has_more) = page(items, &q)?;
        let data = items.iter().map(|o| render(o)).collect();
        Ok(Json(expand::apply(
            db,
            &ctx.scope,
            list(path, data, has_more),
            &params.expand()?,
        )?))
    })
}

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
