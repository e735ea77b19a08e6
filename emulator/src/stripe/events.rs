//! Events: every change records one (`Db::emit`), with a snapshot of the object, the
//! previous values of what changed, and the request that caused it. Retrieve and list.

use std::sync::Arc;

use axum::extract::{Path, RawQuery, State};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use axum::{Extension, Json};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value, json};

use super::auth::Ctx;
use super::error::{StripeError, StripeResult};
use super::list::{LIST_PARAMS, ListQuery, list as list_object, page};
use super::params::Params;
use super::{API_VERSION, Record, find};
use crate::App;
use crate::record;
use crate::state::{Db, Scope};

/// The API request behind an event: null for changes made on hosted pages, by the
/// emulator's controls or by time passing, as Stripe reports automatic changes.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ReqInfo {
    pub id: Option<String>,
    pub idempotency_key: Option<String>,
}

impl ReqInfo {
    pub fn none() -> Self {
        Self::default()
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Event {
    pub id: String,
    pub scope: Scope,
    pub seq: u64,
    pub created: i64,
    #[serde(rename = "type")]
    pub kind: String,
    pub object: Value,
    pub previous_attributes: Option<Value>,
    pub request: ReqInfo,
    pub pending_webhooks: u32,
    /// Bytes of `emulator_padding`, copied from the account (or the platform's setting) when the
    /// event was recorded.
    #[serde(default)]
    pub padding: usize,
}
record!(Event, "event");

/// An event as Stripe writes it: its fields in Stripe's order, `id` first and the connected
/// account before `data`, so a receiver can read who and what from the head of a long body.
#[derive(Serialize)]
pub struct WireEvent<'a> {
    id: &'a str,
    object: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    account: Option<&'a str>,
    api_version: &'static str,
    created: i64,
    data: Map<String, Value>,
    livemode: bool,
    pending_webhooks: u32,
    request: Value,
    #[serde(rename = "type")]
    kind: &'a str,
    /// `/_emulator/accounts/{id}/event_padding`: bulk, so tests can produce events as large as
    /// Stripe's biggest.
    #[serde(skip_serializing_if = "String::is_empty")]
    emulator_padding: String,
}

impl Event {
    pub fn wire(&self) -> WireEvent<'_> {
        let mut data = Map::new();
        data.insert("object".into(), self.object.clone());
        if let Some(previous) = &self.previous_attributes {
            data.insert("previous_attributes".into(), previous.clone());
        }
        WireEvent {
            id: &self.id,
            object: "event",
            // Stripe names the connected account on events that happened on one.
            account: self.scope.account.as_deref(),
            api_version: API_VERSION,
            created: self.created,
            data,
            livemode: self.scope.livemode,
            pending_webhooks: self.pending_webhooks,
            request: json!({ "id": self.request.id, "idempotency_key": self.request.idempotency_key }),
            kind: &self.kind,
            emulator_padding: "x".repeat(self.padding),
        }
    }

    /// The body of a delivery or of `GET /v1/events/{id}`, in Stripe's field order.
    pub fn to_json(&self) -> Vec<u8> {
        serde_json::to_vec(&self.wire()).unwrap_or_default()
    }

    pub fn render(&self) -> Value {
        serde_json::to_value(self.wire()).unwrap_or_default()
    }
}

/// The top-level fields of `before` that differ in `after`, with their old values: Stripe's
/// `previous_attributes`. `updated` is bookkeeping, not a change anyone acts on.
pub fn diff(before: &Value, after: &Value) -> Option<Value> {
    let (Some(b), Some(a)) = (before.as_object(), after.as_object()) else {
        return None;
    };
    let changed: Map<String, Value> = b
        .iter()
        .filter(|(k, v)| k.as_str() != "updated" && a.get(k.as_str()) != Some(*v))
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    (!changed.is_empty()).then_some(Value::Object(changed))
}

impl Db {
    /// Records an event and queues it for delivery once the current mutation ends.
    pub fn emit(
        &mut self,
        scope: &Scope,
        kind: &str,
        object: Value,
        previous_attributes: Option<Value>,
        req: &ReqInfo,
        now: i64,
    ) -> String {
        let id = self.id("evt_", 24);
        let seq = self.next_seq();
        let mut event = Event {
            id: id.clone(),
            scope: scope.clone(),
            seq,
            created: now,
            kind: kind.to_string(),
            object,
            previous_attributes,
            request: req.clone(),
            pending_webhooks: 0,
            padding: match &scope.account {
                Some(account) => self.accounts.get(account).map_or(0, |a| a.event_padding),
                None => self.platform_event_padding,
            },
        };
        event.pending_webhooks = super::webhooks::targets(self, &event).len() as u32;
        self.events.insert(id.clone(), event);
        self.outbox.push(id.clone());
        id
    }
}

/// GET /v1/events/{id}
pub async fn retrieve(
    State(app): State<Arc<App>>,
    Extension(ctx): Extension<Ctx>,
    Path(id): Path<String>,
) -> StripeResult<Response> {
    let body = app.read(|db| Ok::<_, StripeError>(find(&db.events, &ctx.scope, &id, None)?.to_json()))?;
    Ok(([(header::CONTENT_TYPE, "application/json")], body).into_response())
}

/// GET /v1/events
pub async fn list_events(app: &App, ctx: &Ctx, query: Option<&str>) -> StripeResult<Value> {
    let params = Params::from_query(query)?;
    params.allow(&[&LIST_PARAMS[..], &["type", "types"]].concat())?;
    let q = ListQuery::parse(&params)?;
    let kind = params.str("type")?;
    let kinds = params.str_list("types")?;
    app.read(|db| {
        let items: Vec<&Event> = db
            .events
            .values()
            .filter(|e| e.scope() == &ctx.scope)
            .filter(|e| kind.as_ref().is_none_or(|k| type_matches(k, &e.kind)))
            .filter(|e| {
                kinds
                    .as_ref()
                    .is_none_or(|ks| ks.iter().any(|k| type_matches(k, &e.kind)))
            })
            .collect();
        let (items, has_more) = page(items, &q)?;
        Ok(list_object(
            "/v1/events",
            items.iter().map(|e| e.render()).collect(),
            has_more,
        ))
    })
}

pub async fn list(
    State(app): State<Arc<App>>,
    Extension(ctx): Extension<Ctx>,
    RawQuery(query): RawQuery,
) -> StripeResult<Json<Value>> {
    list_events(&app, &ctx, query.as_deref()).await.map(Json)
}

/// `customer.subscription.*` matches every subscription event, as in Stripe's filters.
pub fn type_matches(pattern: &str, kind: &str) -> bool {
    match pattern.strip_suffix('*') {
        Some(prefix) => kind.starts_with(prefix),
        None => pattern == kind,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn diff_keeps_old_values_of_changed_fields_only() {
        let before = json!({"a": 1, "b": {"x": 1}, "updated": 1, "same": "s"});
        let after = json!({"a": 2, "b": {"x": 2}, "updated": 2, "same": "s"});
        assert_eq!(diff(&before, &after), Some(json!({"a": 1, "b": {"x": 1}})));
        assert_eq!(diff(&before, &before), None);
    }

    #[test]
    fn wildcard_types() {
        assert!(type_matches("customer.subscription.*", "customer.subscription.updated"));
        assert!(type_matches("*", "invoice.paid"));
        assert!(!type_matches("invoice.paid", "invoice.payment_failed"));
    }
}
