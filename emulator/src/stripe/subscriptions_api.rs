//! The subscriptions API: retrieve, list, update (`cancel_at_period_end`, price and quantity
//! changes via `items[]`, metadata), cancel. The object and its lifecycle are
//! `subscriptions.rs`.

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{Path, RawQuery, State};
use axum::{Extension, Json};
use serde_json::Value;

use super::auth::Ctx;
use super::error::{StripeError, StripeResult};
use super::list::{LIST_PARAMS, ListQuery, list as list_object, page};
use super::params::Params;
use super::subscription_items;
use super::subscriptions::{Subscription, set_cancel_at_period_end};
use super::{Record, expand, find, find_mut};
use crate::App;

/// GET /v1/subscriptions/{id}
pub async fn retrieve(
    State(app): State<Arc<App>>,
    Extension(ctx): Extension<Ctx>,
    Path(id): Path<String>,
    RawQuery(query): RawQuery,
) -> StripeResult<Json<Value>> {
    let params = Params::from_query(query.as_deref())?;
    params.allow(&[])?;
    app.read(|db| {
        let rendered = find(&db.subscriptions, &ctx.scope, &id, None)?.render(db);
        Ok(Json(expand::apply(db, &ctx.scope, rendered, &params.expand()?)?))
    })
}

/// POST /v1/subscriptions/{id}. Price changes take effect at once without proration
/// invoices (see the README's gaps).
pub async fn update(
    State(app): State<Arc<App>>,
    Extension(ctx): Extension<Ctx>,
    Path(id): Path<String>,
    body: Bytes,
) -> StripeResult<Json<Value>> {
    let params = Params::from_form(&body)?;
    params.allow(&[
        "cancel_at_period_end",
        "items",
        "metadata",
        "description",
        "proration_behavior",
        "payment_behavior",
    ])?;
    params.choice("proration_behavior", &["create_prorations", "none", "always_invoice"])?;
    params.choice(
        "payment_behavior",
        &[
            "allow_incomplete",
            "default_incomplete",
            "error_if_incomplete",
            "pending_if_incomplete",
        ],
    )?;
    let cancel_at_period_end = params.bool("cancel_at_period_end")?;
    let metadata = params.metadata()?;
    let description = params.nullable("description")?;
    let mut changes = subscription_items::parse(&params)?;
    let expand = params.expand()?;
    let now = crate::time::now();
    app.mutate(|db| {
        let sub = find(&db.subscriptions, &ctx.scope, &id, None)?.clone();
        if sub.status == "canceled" {
            return Err(StripeError::invalid(
                "A canceled subscription can only update its cancellation_details and metadata.",
            ));
        }
        subscription_items::validate(db, &ctx.scope, &sub, &mut changes)?;
        let new_item_ids: Vec<String> = changes
            .iter()
            .filter(|c| c.id.is_none())
            .map(|_| db.id("si_", 14))
            .collect();
        let rendered = db.update_subscription(&id, &ctx.req, now, |sub| {
            subscription_items::apply(sub, changes, new_item_ids, now);
            if sub.items.is_empty() {
                return Err(StripeError::invalid("A subscription must keep at least one item."));
            }
            if let Some(on) = cancel_at_period_end
                && on != sub.cancel_at_period_end
            {
                set_cancel_at_period_end(sub, on, now);
            }
            if let Some(m) = metadata {
                m.apply(&mut sub.metadata);
            }
            if let Some(d) = description {
                sub.description = d;
            }
            Ok(())
        })?;
        Ok(Json(expand::apply(db, &ctx.scope, rendered, &expand)?))
    })
}

/// DELETE /v1/subscriptions/{id}: cancels at once.
pub async fn cancel(
    State(app): State<Arc<App>>,
    Extension(ctx): Extension<Ctx>,
    Path(id): Path<String>,
    RawQuery(query): RawQuery,
    body: Bytes,
) -> StripeResult<Json<Value>> {
    // The parameters of a DELETE may come in the query or the body.
    let params = if body.is_empty() {
        Params::from_query(query.as_deref())?
    } else {
        Params::from_form(&body)?
    };
    params.allow(&["invoice_now", "prorate", "cancellation_details"])?;
    let expand = params.expand()?;
    let now = crate::time::now();
    app.mutate(|db| {
        find_mut(&mut db.subscriptions, &ctx.scope, &id, None)?;
        let rendered = db.end_subscription(&id, "cancellation_requested", &ctx.req, now)?;
        Ok(Json(expand::apply(db, &ctx.scope, rendered, &expand)?))
    })
}

/// GET /v1/subscriptions: by default every status but `canceled`, as in Stripe.
pub async fn list(
    State(app): State<Arc<App>>,
    Extension(ctx): Extension<Ctx>,
    RawQuery(query): RawQuery,
) -> StripeResult<Json<Value>> {
    let params = Params::from_query(query.as_deref())?;
    params.allow(&[&LIST_PARAMS[..], &["customer", "status", "price"]].concat())?;
    let q = ListQuery::parse(&params)?;
    let customer = params.str("customer")?;
    let price = params.str("price")?;
    let status = params.choice(
        "status",
        &[
            "active",
            "all",
            "canceled",
            "ended",
            "incomplete",
            "incomplete_expired",
            "past_due",
            "paused",
            "trialing",
            "unpaid",
        ],
    )?;
    app.read(|db| {
        let items: Vec<&Subscription> = db
            .subscriptions
            .values()
            .filter(|s| s.scope() == &ctx.scope)
            .filter(|s| customer.as_ref().is_none_or(|c| &s.customer == c))
            .filter(|s| price.as_ref().is_none_or(|p| s.items.iter().any(|i| &i.price == p)))
            .filter(|s| match status.as_deref() {
                None => s.status != "canceled",
                Some("all") => true,
                Some("ended") => s.status == "canceled",
                Some(st) => s.status == st,
            })
            .collect();
        let (items, has_more) = page(items, &q)?;
        let data = items.iter().map(|s| s.render(db)).collect();
        Ok(Json(expand::apply(
            db,
            &ctx.scope,
            list_object("/v1/subscriptions", data, has_more),
            &params.expand()?,
        )?))
    })
}
