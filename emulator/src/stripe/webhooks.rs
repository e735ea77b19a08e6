//! Webhook endpoints (`/v1/webhook_endpoints`) and which endpoints an event goes to.
//!
//! Platform endpoints get the platform's own events; Connect endpoints (`connect=true`) get
//! the events of every connected account; an endpoint created with `Stripe-Account` gets
//! that account's events. API endpoints get events of their own mode; command-line
//! endpoints get both modes.

use std::collections::BTreeMap;
use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{Path, RawQuery, State};
use axum::{Extension, Json};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use super::auth::Ctx;
use super::error::{StripeError, StripeResult};
use super::events::{Event, type_matches};
use super::list::{LIST_PARAMS, ListQuery, list as list_object, page};
use super::params::Params;
use super::{API_VERSION, Record, find, find_mut};
use crate::App;
use crate::record;
use crate::state::{Db, Scope};

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct WebhookEndpoint {
    pub id: String,
    pub scope: Scope,
    pub seq: u64,
    pub created: i64,
    pub url: String,
    pub enabled_events: Vec<String>,
    pub connect: bool,
    pub description: Option<String>,
    pub metadata: BTreeMap<String, String>,
    pub secret: String,
    pub enabled: bool,
    pub api_version: Option<String>,
}
record!(WebhookEndpoint, "webhook_endpoint");

impl WebhookEndpoint {
    /// The secret is in the object only when it is created, as Stripe returns it.
    pub fn render(&self, with_secret: bool) -> Value {
        let mut v = json!({
            "id": self.id,
            "object": "webhook_endpoint",
            "api_version": self.api_version,
            "application": null,
            "created": self.created,
            "description": self.description,
            "enabled_events": self.enabled_events,
            "livemode": self.scope.livemode,
            "metadata": self.metadata,
            "status": if self.enabled { "enabled" } else { "disabled" },
            "url": self.url,
        });
        if let (true, Some(map)) = (with_secret, v.as_object_mut()) {
            map.insert("secret".into(), json!(self.secret));
        }
        v
    }
}

/// Where one event is to be delivered.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Target {
    /// `we_...` for API endpoints, `cli_<n>` for the n-th `--webhook`.
    pub endpoint: String,
    pub url: String,
    pub secret: String,
}

pub fn targets(db: &Db, event: &Event) -> Vec<Target> {
    let from_connected = event.scope.account.is_some();
    let mut out: Vec<Target> = db
        .cli_webhooks
        .iter()
        .enumerate()
        .filter(|(_, w)| w.connect == from_connected)
        .map(|(i, w)| Target {
            endpoint: format!("cli_{i}"),
            url: w.url.clone(),
            secret: w.secret.clone(),
        })
        .collect();
    let mut endpoints: Vec<&WebhookEndpoint> = db
        .webhook_endpoints
        .values()
        .filter(|w| w.enabled && w.scope.livemode == event.scope.livemode)
        .filter(|w| {
            if w.connect {
                from_connected
            } else {
                w.scope.account == event.scope.account
            }
        })
        .filter(|w| w.enabled_events.iter().any(|p| type_matches(p, &event.kind)))
        .collect();
    endpoints.sort_by_key(|w| w.seq);
    out.extend(endpoints.into_iter().map(|w| Target {
        endpoint: w.id.clone(),
        url: w.url.clone(),
        secret: w.secret.clone(),
    }));
    out
}

fn valid_url(params: &Params, key: &str) -> StripeResult<String> {
    let url = params.required(key)?;
    match url::Url::parse(&url) {
        Ok(u) if matches!(u.scheme(), "http" | "https") => Ok(url),
        _ => Err(StripeError::invalid(format!("Invalid URL: {url}")).param(params.name(key))),
    }
}

fn enabled_events(params: &Params) -> StripeResult<Option<Vec<String>>> {
    match params.str_list("enabled_events")? {
        Some(events) if events.is_empty() => {
            Err(StripeError::invalid("enabled_events must not be empty").param("enabled_events"))
        }
        other => Ok(other),
    }
}

/// POST /v1/webhook_endpoints
pub async fn create(
    State(app): State<Arc<App>>,
    Extension(ctx): Extension<Ctx>,
    body: Bytes,
) -> StripeResult<Json<Value>> {
    let params = Params::from_form(&body)?;
    params.allow(&[
        "url",
        "enabled_events",
        "connect",
        "description",
        "metadata",
        "api_version",
    ])?;
    let url = valid_url(&params, "url")?;
    let events = enabled_events(&params)?.ok_or_else(|| StripeError::missing("enabled_events"))?;
    let connect = params.bool("connect")?.unwrap_or(false);
    let description = params.str("description")?;
    let metadata = params.metadata()?.map(|m| m.into_map()).unwrap_or_default();
    let api_version = params.str("api_version")?;
    let now = crate::time::now();
    app.mutate(|db| {
        let id = db.id("we_", 24);
        let secret = db.id("whsec_", 32);
        let seq = db.next_seq();
        let endpoint = WebhookEndpoint {
            id: id.clone(),
            scope: ctx.scope.clone(),
            seq,
            created: now,
            url,
            enabled_events: events,
            connect,
            description,
            metadata,
            secret,
            enabled: true,
            api_version: api_version.or_else(|| Some(API_VERSION.to_string())),
        };
        let body = endpoint.render(true);
        db.webhook_endpoints.insert(id, endpoint);
        Ok(Json(body))
    })
}

/// GET /v1/webhook_endpoints/{id}
pub async fn retrieve(
    State(app): State<Arc<App>>,
    Extension(ctx): Extension<Ctx>,
    Path(id): Path<String>,
) -> StripeResult<Json<Value>> {
    app.read(|db| Ok(Json(find(&db.webhook_endpoints, &ctx.scope, &id, None)?.render(false))))
}

/// POST /v1/webhook_endpoints/{id}
pub async fn update(
    State(app): State<Arc<App>>,
    Extension(ctx): Extension<Ctx>,
    Path(id): Path<String>,
    body: Bytes,
) -> StripeResult<Json<Value>> {
    let params = Params::from_form(&body)?;
    params.allow(&["url", "enabled_events", "description", "metadata", "disabled"])?;
    let url = if params.has("url") {
        Some(valid_url(&params, "url")?)
    } else {
        None
    };
    let events = enabled_events(&params)?;
    let description = params.nullable("description")?;
    let metadata = params.metadata()?;
    let disabled = params.bool("disabled")?;
    app.mutate(|db| {
        let endpoint = find_mut(&mut db.webhook_endpoints, &ctx.scope, &id, None)?;
        if let Some(url) = url {
            endpoint.url = url;
        }
        if let Some(events) = events {
            endpoint.enabled_events = events;
        }
        if let Some(description) = description {
            endpoint.description = description;
        }
        if let Some(metadata) = metadata {
            metadata.apply(&mut endpoint.metadata);
        }
        if let Some(disabled) = disabled {
            endpoint.enabled = !disabled;
        }
        Ok(Json(endpoint.render(false)))
    })
}

/// DELETE /v1/webhook_endpoints/{id}
pub async fn delete(
    State(app): State<Arc<App>>,
    Extension(ctx): Extension<Ctx>,
    Path(id): Path<String>,
) -> StripeResult<Json<Value>> {
    app.mutate(|db| {
        find(&db.webhook_endpoints, &ctx.scope, &id, None)?;
        db.webhook_endpoints.remove(&id);
        Ok(Json(json!({ "id": id, "object": "webhook_endpoint", "deleted": true })))
    })
}

/// GET /v1/webhook_endpoints
pub async fn list(
    State(app): State<Arc<App>>,
    Extension(ctx): Extension<Ctx>,
    RawQuery(query): RawQuery,
) -> StripeResult<Json<Value>> {
    let params = Params::from_query(query.as_deref())?;
    params.allow(&LIST_PARAMS)?;
    let q = ListQuery::parse(&params)?;
    app.read(|db| {
        let items: Vec<&WebhookEndpoint> = db
            .webhook_endpoints
            .values()
            .filter(|w| w.scope() == &ctx.scope)
            .collect();
        let (items, has_more) = page(items, &q)?;
        Ok(Json(list_object(
            "/v1/webhook_endpoints",
            items.iter().map(|w| w.render(false)).collect(),
            has_more,
        )))
    })
}
