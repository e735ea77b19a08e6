//! Billing Meters: what a metered price bills. Create, retrieve, rename, list, deactivate and
//! reactivate. Usage arrives as meter events (`meter_events.rs`). Stripe records no v1
//! events for meters, so neither does the emulator.

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{Path, RawQuery, State};
use axum::{Extension, Json};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use super::auth::Ctx;
use super::error::{StripeError, StripeResult};
use super::list::{Filter, list_filtered, retrieve_one};
use super::params::Params;
use super::{Record, expand, find, find_mut};
use crate::App;
use crate::record;
use crate::state::{Db, Scope};

/// Stripe's lengths for a meter's names.
const MAX_DISPLAY_NAME: usize = 250;
const MAX_EVENT_NAME: usize = 100;

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Meter {
    pub id: String,
    pub scope: Scope,
    pub seq: u64,
    pub created: i64,
    pub updated: i64,
    pub display_name: String,
    pub event_name: String,
    /// `sum`, `count` or `last`.
    pub formula: String,
    /// The payload key naming the customer (`stripe_customer_id` unless configured).
    pub customer_key: String,
    /// The payload key holding the value (`value` unless configured).
    pub value_key: String,
    /// `hour` or `day` for pre-aggregated meters: the last event of each window counts.
    pub event_time_window: Option<String>,
    /// `active` or `inactive`.
    pub status: String,
    pub deactivated_at: Option<i64>,
}
record!(Meter, "meter");

impl Meter {
    pub fn render(&self) -> Value {
        json!({
            "id": self.id,
            "object": "billing.meter",
            "created": self.created,
            "customer_mapping": { "event_payload_key": self.customer_key, "type": "by_id" },
            "default_aggregation": { "formula": self.formula },
            "display_name": self.display_name,
            "event_name": self.event_name,
            "event_time_window": self.event_time_window,
            "livemode": self.scope.livemode,
            "status": self.status,
            "status_transitions": { "deactivated_at": self.deactivated_at },
            "updated": self.updated,
            "value_settings": { "event_payload_key": self.value_key },
        })
    }
}

/// An event name belongs to one active meter per account and mode: Stripe routes usage to
/// meters by it.
fn claim_event_name(db: &Db, scope: &Scope, event_name: &str, except: Option<&str>) -> StripeResult<()> {
    let taken = (db.meters.values()).find(|m| {
        m.scope() == scope && m.status == "active" && m.event_name == event_name && Some(m.id.as_str()) != except
    });
    match taken {
        None => Ok(()),
        Some(m) => Err(StripeError::invalid(format!(
            "An active meter with event_name `{event_name}` already exists ({}). Each event_name can be used by only one active meter.",
            m.id
        ))
        .param("event_name")),
    }
}

fn bounded(params: &Params, key: &str, max: usize) -> StripeResult<String> {
    let value = params.required(key)?;
    if value.chars().count() > max {
        return Err(StripeError::invalid(format!(
            "Invalid {}: must be at most {max} characters",
            params.name(key)
        ))
        .param(params.name(key)));
    }
    Ok(value)
}

/// A nested `{event_payload_key}` setting, or its default.
fn payload_key(params: &Params, key: &str, extra: &[&str], default: &str) -> StripeResult<String> {
    let Some(hash) = params.hash(key)? else {
        return Ok(default.to_string());
    };
    hash.allow(&[&["event_payload_key"], extra].concat())?;
    bounded(&hash, "event_payload_key", MAX_EVENT_NAME)
}

/// POST /v1/billing/meters
pub async fn create(
    State(app): State<Arc<App>>,
    Extension(ctx): Extension<Ctx>,
    body: Bytes,
) -> StripeResult<Json<Value>> {
    let params = Params::from_form(&body)?;
    params.allow(&[
        "display_name",
        "event_name",
        "default_aggregation",
        "customer_mapping",
        "value_settings",
        "event_time_window",
    ])?;
    let display_name = bounded(&params, "display_name", MAX_DISPLAY_NAME)?;
    let event_name = bounded(&params, "event_name", MAX_EVENT_NAME)?;
    let aggregation =
        (params.hash("default_aggregation")?).ok_or_else(|| StripeError::missing("default_aggregation"))?;
    aggregation.allow(&["formula"])?;
    let formula = (aggregation.choice("formula", &["sum", "count", "last"])?)
        .ok_or_else(|| StripeError::missing("default_aggregation[formula]"))?;
    let customer_key = payload_key(&params, "customer_mapping", &["type"], "stripe_customer_id")?;
    if let Some(mapping) = params.hash("customer_mapping")? {
        (mapping.choice("type", &["by_id"])?).ok_or_else(|| StripeError::missing("customer_mapping[type]"))?;
    }
    let value_key = payload_key(&params, "value_settings", &[], "value")?;
    let event_time_window = params.choice("event_time_window", &["day", "hour"])?;
    let expand = params.expand()?;
    let now = crate::time::now();
    app.mutate(|db| {
        claim_event_name(db, &ctx.scope, &event_name, None)?;
        // Stripe's meter ids carry the mode: mtr_test_61... and mtr_61....
        let prefix = if ctx.scope.livemode { "mtr_61" } else { "mtr_test_61" };
        let id = db.id(prefix, 30);
        let seq = db.next_seq();
        let meter = Meter {
            id: id.clone(),
            scope: ctx.scope.clone(),
            seq,
            created: now,
            updated: now,
            display_name,
            event_name,
            formula,
            customer_key,
            value_key,
            event_time_window,
            status: "active".into(),
            deactivated_at: None,
        };
        let rendered = meter.render();
        db.meters.insert(id, meter);
        Ok(Json(expand::apply(db, &ctx.scope, rendered, &expand)?))
    })
}

/// GET /v1/billing/meters/{id}
pub async fn retrieve(
    State(app): State<Arc<App>>,
    Extension(ctx): Extension<Ctx>,
    Path(id): Path<String>,
    RawQuery(query): RawQuery,
) -> StripeResult<Json<Value>> {
    retrieve_one(&app, &ctx, query.as_deref(), (|db| &db.meters, &id), Meter::render)
}

/// GET /v1/billing/meters (`status`)
pub async fn list(
    State(app): State<Arc<App>>,
    Extension(ctx): Extension<Ctx>,
    RawQuery(query): RawQuery,
) -> StripeResult<Json<Value>> {
    // An unknown status is refused, not silently matched against nothing.
    Params::from_query(query.as_deref())?.choice("status", &["active", "inactive"])?;
    let filters: [Filter<Meter>; 1] = [("status", |m| Some(m.status.as_str()))];
    list_filtered(
        &app,
        &ctx,
        query.as_deref(),
        ("/v1/billing/meters", |db| &db.meters),
        &filters,
        Meter::render,
    )
}

/// Changes a meter of the caller's and answers it.
fn change(
    app: &Arc<App>,
    ctx: &Ctx,
    id: &str,
    body: &[u8],
    allowed: &[&str],
    apply: impl FnOnce(&mut Db, &Params, i64) -> StripeResult<()>,
) -> StripeResult<Json<Value>> {
    let params = Params::from_form(body)?;
    params.allow(allowed)?;
    let expand = params.expand()?;
    let now = crate::time::now();
    app.mutate(|db| {
        find(&db.meters, &ctx.scope, id, None)?;
        apply(db, &params, now)?;
        let rendered = find(&db.meters, &ctx.scope, id, None)?.render();
        Ok(Json(expand::apply(db, &ctx.scope, rendered, &expand)?))
    })
}

/// POST /v1/billing/meters/{id}: only the display name can change, as at Stripe.
pub async fn update(
    State(app): State<Arc<App>>,
    Extension(ctx): Extension<Ctx>,
    Path(id): Path<String>,
    body: Bytes,
) -> StripeResult<Json<Value>> {
    let scope = ctx.scope.clone();
    change(&app, &ctx, &id, &body, &["display_name"], |db, params, now| {
        let name = if params.has("display_name") {
            Some(bounded(params, "display_name", MAX_DISPLAY_NAME)?)
        } else {
            None
        };
        let meter = find_mut(&mut db.meters, &scope, &id, None)?;
        if let Some(name) = name {
            meter.display_name = name;
            meter.updated = now;
        }
        Ok(())
    })
}

/// POST /v1/billing/meters/{id}/deactivate: events naming it are refused from now on, and
/// its event name is free for another meter. Deactivating an inactive meter changes nothing.
pub async fn deactivate(
    State(app): State<Arc<App>>,
    Extension(ctx): Extension<Ctx>,
    Path(id): Path<String>,
    body: Bytes,
) -> StripeResult<Json<Value>> {
    let scope = ctx.scope.clone();
    change(&app, &ctx, &id, &body, &[], |db, _, now| {
        let meter = find_mut(&mut db.meters, &scope, &id, None)?;
        if meter.status == "active" {
            meter.status = "inactive".into();
            meter.deactivated_at = Some(now);
            meter.updated = now;
        }
        Ok(())
    })
}

/// POST /v1/billing/meters/{id}/reactivate: refused while another active meter has taken
/// its event name.
pub async fn reactivate(
    State(app): State<Arc<App>>,
    Extension(ctx): Extension<Ctx>,
    Path(id): Path<String>,
    body: Bytes,
) -> StripeResult<Json<Value>> {
    let scope = ctx.scope.clone();
    change(&app, &ctx, &id, &body, &[], |db, _, now| {
        let event_name = find(&db.meters, &scope, &id, None)?.event_name.clone();
        claim_event_name(db, &scope, &event_name, Some(&id))?;
        let meter = find_mut(&mut db.meters, &scope, &id, None)?;
        if meter.status != "active" {
            meter.status = "active".into();
            meter.deactivated_at = None;
            meter.updated = now;
        }
        Ok(())
    })
}
