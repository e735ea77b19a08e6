//! Meter events (usage reported against a meter's `event_name`), their aggregation per the
//! meter's formula, and the event summaries that show it. Invoices bill metered prices from
//! the same aggregation (`billed_usage`).

use std::collections::BTreeMap;
use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{Path, RawQuery, State};
use axum::{Extension, Json};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

use super::auth::Ctx;
use super::error::{StripeError, StripeResult};
use super::list::{LIST_PARAMS, ListQuery, list as list_object};
use super::meters::Meter;
use super::params::Params;
use super::{Record, expand, find};
use crate::App;
use crate::state::{Db, Scope};

/// Stripe takes events up to 35 days old and 5 minutes ahead (for clock drift).
const MAX_AGE_SECONDS: i64 = 35 * 86_400;
const MAX_AHEAD_SECONDS: i64 = 5 * 60;
/// Stripe keeps an identifier unique "within a rolling period of at least 24 hours": the
/// emulator holds it exactly that long, so nothing relies on more than Stripe promises.
const IDENTIFIER_WINDOW_SECONDS: i64 = 24 * 3600;
const MAX_IDENTIFIER: usize = 100;

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct MeterEvent {
    pub scope: Scope,
    /// The meter its event name named when it arrived: a later meter taking over the name
    /// does not inherit it.
    pub meter: String,
    pub event_name: String,
    pub identifier: String,
    pub created: i64,
    pub timestamp: i64,
    pub customer: String,
    pub value: i64,
    pub payload: BTreeMap<String, String>,
}

impl MeterEvent {
    pub fn render(&self) -> Value {
        json!({
            "object": "billing.meter_event",
            "created": self.created,
            "event_name": self.event_name,
            "identifier": self.identifier,
            "livemode": self.scope.livemode,
            "payload": self.payload,
            "timestamp": self.timestamp,
        })
    }
}

/// Where an identifier is remembered: identifiers are unique per account and mode.
fn identifier_slot(scope: &Scope, identifier: &str) -> String {
    format!(
        "{}|{}|{identifier}",
        scope.account.as_deref().unwrap_or("platform"),
        if scope.livemode { "live" } else { "test" }
    )
}

/// Stripe takes whole numbers only (a negative one corrects earlier usage).
fn whole_number(text: &str) -> Option<i64> {
    let digits = text.strip_prefix('-').unwrap_or(text);
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    text.parse().ok()
}

/// A UUID-shaped identifier for an event sent without one, from the seeded id stream.
fn generated_identifier(db: &mut Db) -> String {
    let hex = format!("{:016x}{:016x}", db.ids.next_u64(), db.ids.next_u64());
    format!(
        "{}-{}-{}-{}-{}",
        &hex[..8],
        &hex[8..12],
        &hex[12..16],
        &hex[16..20],
        &hex[20..]
    )
}

fn payload_error(message: String) -> StripeError {
    StripeError::invalid(message).param("payload")
}

/// POST /v1/billing/meter_events
pub async fn create(
    State(app): State<Arc<App>>,
    Extension(ctx): Extension<Ctx>,
    body: Bytes,
) -> StripeResult<Json<Value>> {
    let params = Params::from_form(&body)?;
    params.allow(&["event_name", "payload", "identifier", "timestamp"])?;
    let event_name = params.required("event_name")?;
    let payload = params
        .string_map("payload")?
        .ok_or_else(|| StripeError::missing("payload"))?;
    let identifier = params.str("identifier")?.filter(|s| !s.is_empty());
    if identifier.as_ref().is_some_and(|i| i.chars().count() > MAX_IDENTIFIER) {
        return Err(StripeError::invalid(format!(
            "Invalid identifier: must be at most {MAX_IDENTIFIER} characters"
        ))
        .param("identifier"));
    }
    let now = crate::time::now();
    let timestamp = params.int("timestamp")?.unwrap_or(now);
    if timestamp < now - MAX_AGE_SECONDS {
        return Err(StripeError::invalid("The timestamp must be within the past 35 calendar days.").param("timestamp"));
    }
    if timestamp > now + MAX_AHEAD_SECONDS {
        return Err(
            StripeError::invalid("The timestamp must not be more than 5 minutes in the future.").param("timestamp"),
        );
    }
    let expand = params.expand()?;
    app.mutate(|db| {
        let meter = (db.meters.values())
            .find(|m| m.scope() == &ctx.scope && m.status == "active" && m.event_name == event_name)
            .ok_or_else(|| {
                StripeError::invalid(format!(
                    "Invalid event_name: {event_name}. No active meter found with this event name."
                ))
                .param("event_name")
            })?;
        let customer = (payload.get(&meter.customer_key))
            .filter(|c| !c.is_empty())
            .ok_or_else(|| {
                payload_error(format!(
                    "Customer mapping key {} not found in payload.",
                    meter.customer_key
                ))
            })?
            .clone();
        let raw = (payload.get(&meter.value_key))
            .ok_or_else(|| payload_error(format!("Value key {} not found in payload.", meter.value_key)))?;
        let value = whole_number(raw).ok_or_else(|| {
            payload_error(format!(
                "Invalid value for payload key {}: {raw:?} is not a whole number.",
                meter.value_key
            ))
        })?;
        let meter_id = meter.id.clone();
        if let Some(id) = &identifier {
            let slot = identifier_slot(&ctx.scope, id);
            // Answered as Stripe answers it (400 invalid_request_error, no error code, this
            // message: reported by integrations that retry, e.g. langfuse/langfuse#16292), and
            // the event is not counted a second time.
            if db
                .meter_event_identifiers
                .get(&slot)
                .is_some_and(|at| now - at < IDENTIFIER_WINDOW_SECONDS)
            {
                return Err(StripeError::invalid(format!(
                    "An event already exists with identifier {id}."
                )));
            }
        }
        let identifier = match identifier {
            Some(id) => id,
            None => generated_identifier(db),
        };
        db.meter_event_identifiers
            .retain(|_, at| now - *at < IDENTIFIER_WINDOW_SECONDS);
        db.meter_event_identifiers
            .insert(identifier_slot(&ctx.scope, &identifier), now);
        let event = MeterEvent {
            scope: ctx.scope.clone(),
            meter: meter_id,
            event_name,
            identifier,
            created: now,
            timestamp,
            customer,
            value,
            payload,
        };
        let rendered = event.render();
        db.meter_events.push(event);
        Ok(Json(expand::apply(db, &ctx.scope, rendered, &expand)?))
    })
}

/// The length of a value grouping window (and of a pre-aggregation window).
fn window_seconds(window: &str) -> i64 {
    if window == "hour" { 3600 } else { 86_400 }
}

/// The meter's aggregate of `customer`'s events with timestamps in [start, end), per window
/// start when `grouping` is given (else one entry at `start`). Windows without events are
/// left out.
fn aggregate(
    db: &Db,
    meter: &Meter,
    customer: &str,
    (start, end): (i64, i64),
    grouping: Option<i64>,
) -> BTreeMap<i64, i64> {
    let mut events: Vec<&MeterEvent> = (db.meter_events.iter())
        .filter(|e| e.meter == meter.id && e.customer == customer && (start..end).contains(&e.timestamp))
        .collect();
    // A pre-aggregated meter keeps only the last event received in each of its windows.
    if let Some(window) = meter.event_time_window.as_deref().map(window_seconds) {
        let mut last: BTreeMap<i64, usize> = BTreeMap::new();
        for (i, e) in events.iter().enumerate() {
            last.insert(e.timestamp.div_euclid(window), i);
        }
        let keep: std::collections::BTreeSet<usize> = last.into_values().collect();
        events = (events.into_iter().enumerate())
            .filter(|(i, _)| keep.contains(i))
            .map(|(_, e)| e)
            .collect();
    }
    let mut groups: BTreeMap<i64, Vec<&MeterEvent>> = BTreeMap::new();
    for e in events {
        let key = grouping.map_or(start, |w| start + (e.timestamp - start).div_euclid(w) * w);
        groups.entry(key).or_default().push(e);
    }
    (groups.into_iter())
        .map(|(key, events)| {
            let value = match meter.formula.as_str() {
                "count" => events.len() as i64,
                // The latest event by timestamp; of equal ones, the last received.
                "last" => events.iter().max_by_key(|e| e.timestamp).map_or(0, |e| e.value),
                _ => events.iter().map(|e| e.value).sum(),
            };
            (key, value)
        })
        .collect()
}

/// The usage a metered price bills for [start, end): never below zero, as Stripe reports a
/// negative cycle as a quantity of 0.
pub fn billed_usage(db: &Db, meter_id: &str, customer: &str, start: i64, end: i64) -> i64 {
    db.meters
        .get(meter_id)
        .map(|meter| aggregate(db, meter, customer, (start, end), None).values().sum::<i64>())
        .unwrap_or_default()
        .max(0)
}

fn summary_id(meter: &str, customer: &str, start: i64, end: i64) -> String {
    let digest = Sha256::new()
        .chain_update(format!("{meter}|{customer}|{start}|{end}"))
        .finalize();
    format!("mtrusg_{}", &hex::encode(digest)[..24])
}

fn time_param(params: &Params, key: &str) -> StripeResult<i64> {
    let t = params.int(key)?.ok_or_else(|| StripeError::missing(key))?;
    if t.rem_euclid(60) != 0 {
        return Err(StripeError::invalid(format!("{key} must be aligned with minute boundaries.")).param(key));
    }
    Ok(t)
}

/// GET /v1/billing/meters/{id}/event_summaries
pub async fn summaries(
    State(app): State<Arc<App>>,
    Extension(ctx): Extension<Ctx>,
    Path(id): Path<String>,
    RawQuery(query): RawQuery,
) -> StripeResult<Json<Value>> {
    let params = Params::from_query(query.as_deref())?;
    params.allow(
        &[
            &LIST_PARAMS[..],
            &["customer", "start_time", "end_time", "value_grouping_window"],
        ]
        .concat(),
    )?;
    let q = ListQuery::parse(&params)?;
    let customer = params.required("customer")?;
    let (start, end) = (time_param(&params, "start_time")?, time_param(&params, "end_time")?);
    if start >= end {
        return Err(StripeError::invalid("start_time must be before end_time.").param("start_time"));
    }
    let window = params.choice("value_grouping_window", &["day", "hour"])?;
    let grouping = window.as_deref().map(window_seconds);
    if let (Some(w), Some(name)) = (grouping, &window)
        && (start.rem_euclid(w) != 0 || end.rem_euclid(w) != 0)
    {
        return Err(StripeError::invalid(format!(
            "With value_grouping_window={name}, start_time and end_time must be aligned with {name} boundaries (UTC)."
        ))
        .param("value_grouping_window"));
    }
    app.read(|db| {
        let meter = find(&db.meters, &ctx.scope, &id, None)?;
        find(&db.customers, &ctx.scope, &customer, Some("customer"))?;
        let mut values = aggregate(db, meter, &customer, (start, end), grouping);
        if grouping.is_none() && values.is_empty() {
            values.insert(start, 0);
        }
        // Newest window first, as Stripe's lists run.
        let summaries: Vec<(String, Value)> = (values.into_iter().rev())
            .map(|(from, value)| {
                let to = grouping.map_or(end, |w| (from + w).min(end));
                let id = summary_id(&meter.id, &customer, from, to);
                let rendered = json!({
                    "id": id,
                    "object": "billing.meter_event_summary",
                    "aggregated_value": value,
                    "end_time": to,
                    "livemode": meter.scope.livemode,
                    "meter": meter.id,
                    "start_time": from,
                });
                (id, rendered)
            })
            .collect();
        let (data, has_more) = page(summaries, &q)?;
        let url = format!("/v1/billing/meters/{id}/event_summaries");
        Ok(Json(expand::apply(
            db,
            &ctx.scope,
            list_object(&url, data, has_more),
            &params.expand()?,
        )?))
    })
}

/// One page of computed summaries (they are not stored, so `list::page` does not apply).
fn page(mut items: Vec<(String, Value)>, q: &ListQuery) -> StripeResult<(Vec<Value>, bool)> {
    let position = |items: &[(String, Value)], id: &str, param: &str| {
        (items.iter().position(|(i, _)| i == id))
            .ok_or_else(|| StripeError::no_such("billing.meter_event_summary", id, Some(param), None))
    };
    let (slice, has_more) = if let Some(after) = &q.starting_after {
        let mut rest = items.split_off(position(&items, after, "starting_after")? + 1);
        let has_more = rest.len() > q.limit;
        rest.truncate(q.limit);
        (rest, has_more)
    } else if let Some(before) = &q.ending_before {
        let pos = position(&items, before, "ending_before")?;
        let from = pos.saturating_sub(q.limit);
        (items.drain(from..pos).collect(), from > 0)
    } else {
        let has_more = items.len() > q.limit;
        items.truncate(q.limit);
        (items, has_more)
    };
    Ok((slice.into_iter().map(|(_, v)| v).collect(), has_more))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_are_whole_numbers() {
        assert_eq!(whole_number("25"), Some(25));
        assert_eq!(whole_number("-3"), Some(-3));
        for bad in ["", "-", "1.5", "1e3", " 1", "abc", "+1", "99999999999999999999"] {
            assert_eq!(whole_number(bad), None, "{bad}");
        }
    }
}
