//! Developer webhooks in D1: endpoints, the event log, deliveries and their attempts. Events
//! are written by the statements `ProjectScope::push_event` adds to their cause's batch; the
//! sender (`webhooks::sender`, a Durable Object per project) reads what is due and records
//! what each attempt did.

use serde::Deserialize;

use super::{Database, Executed, ProjectScope, SqlParam, Statement, audit::AuditEntry};
use dream_core::{
    api::webhooks::{AttemptView, DeliveryView, EndpointView},
    error::ApiResult,
    period::Timestamp,
    webhooks::{Event, EventType, LOW_STOCK_UNITS, MAX_ENDPOINTS},
};

pub const SELECT_ENDPOINTS: &str = "\
SELECT endpointId, url, description, eventTypes, enabled, disabledReason, disabledAt, secretGeneration,
  previousGeneration, previousUntil, failureStreak, lastSuccessAt, createdAt
FROM webhook_endpoints WHERE publishableKey = ?1 ORDER BY createdAt, rowid";

pub const SELECT_ENDPOINT: &str = "\
SELECT endpointId, url, description, eventTypes, enabled, disabledReason, disabledAt, secretGeneration,
  previousGeneration, previousUntil, failureStreak, lastSuccessAt, createdAt
FROM webhook_endpoints WHERE publishableKey = ?1 AND endpointId = ?2";

/// A new endpoint unless the project already has the most it may. ?1 endpointId,
/// ?2 publishableKey, ?3 url, ?4 description, ?5 eventTypes, ?6 now, ?7 the most.
pub const INSERT_ENDPOINT: &str = "\
INSERT INTO webhook_endpoints (endpointId, publishableKey, url, description, eventTypes, createdAt, updatedAt)
SELECT ?1, ?2, ?3, ?4, ?5, ?6, ?6
WHERE (SELECT COUNT(*) FROM webhook_endpoints WHERE publishableKey = ?2) < ?7";

/// ?1 publishableKey, ?2 endpointId, ?3 url, ?4 description, ?5 eventTypes, ?6 enabled, ?7 now.
/// Enabling an endpoint starts its failure streak again.
pub const UPDATE_ENDPOINT: &str = "\
UPDATE webhook_endpoints SET url = ?3, description = ?4, eventTypes = ?5, updatedAt = ?7,
  failureStreak = CASE WHEN ?6 = 1 AND enabled = 0 THEN 0 ELSE failureStreak END,
  failingSince = CASE WHEN ?6 = 1 AND enabled = 0 THEN NULL ELSE failingSince END,
  disabledReason = CASE WHEN ?6 = 1 THEN NULL ELSE disabledReason END,
  disabledAt = CASE WHEN ?6 = 1 THEN NULL WHEN enabled = 1 THEN ?7 ELSE disabledAt END,
  enabled = ?6
WHERE publishableKey = ?1 AND endpointId = ?2";

pub const DELETE_ENDPOINT: &str = "DELETE FROM webhook_endpoints WHERE publishableKey = ?1 AND endpointId = ?2";

/// What was still to be sent to an endpoint that is disabled or gone fails (replayable).
/// ?1 publishableKey, ?2 endpointId.
pub const FAIL_PENDING_OF_ENDPOINT: &str = "\
UPDATE webhook_deliveries SET status = 'failed', nextAttemptAt = NULL
WHERE publishableKey = ?1 AND endpointId = ?2 AND status = 'pending'";

/// A new secret generation; the replaced one signs too until ?3. ?1 publishableKey,
/// ?2 endpointId, ?3 previousUntil (NULL: not at all), ?4 now.
pub const ROTATE_SECRET: &str = "\
UPDATE webhook_endpoints SET previousGeneration = CASE WHEN ?3 IS NULL THEN NULL ELSE secretGeneration END,
  previousUntil = ?3, secretGeneration = secretGeneration + 1, updatedAt = ?4
WHERE publishableKey = ?1 AND endpointId = ?2
RETURNING secretGeneration";

/// The event, when the statement before it in the batch changed something (its cause was
/// applied, not found already done). ?1 eventId, ?2 publishableKey, ?3 type, ?4 createdAt,
/// ?5 payload, ?6 dedupKey, ?7 cause.
pub const RECORD_EVENT_IF_CHANGED: &str = "\
INSERT OR IGNORE INTO webhook_events (eventId, publishableKey, type, createdAt, payload, dedupKey, cause)
SELECT ?1, ?2, ?3, ?4, ?5, ?6, ?7 WHERE changes() > 0";

/// The event whatever came before (a repeat is ignored by its dedupKey).
pub const RECORD_EVENT: &str = "\
INSERT OR IGNORE INTO webhook_events (eventId, publishableKey, type, createdAt, payload, dedupKey, cause)
VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)";

/// A delivery of each event recorded by cause ?1 to each endpoint of its project that wants its
/// type: due now, or failed at once for a disabled endpoint (replayable once it is enabled).
/// ?2 now.
pub const QUEUE_DELIVERIES: &str = "\
INSERT OR IGNORE INTO webhook_deliveries (eventId, endpointId, publishableKey, status, nextAttemptAt, createdAt)
SELECT ev.eventId, en.endpointId, ev.publishableKey, CASE WHEN en.enabled = 1 THEN 'pending' ELSE 'failed' END,
  CASE WHEN en.enabled = 1 THEN ?2 END, ?2
FROM webhook_events ev JOIN webhook_endpoints en ON en.publishableKey = ev.publishableKey
WHERE ev.cause = ?1 AND EXISTS (SELECT 1 FROM json_each(en.eventTypes) WHERE value IN (ev.type, '*'))
RETURNING status";

/// An order's event, made from its row as the batch left it: `order.paid` and `order.short`
/// (paid beyond the stock left) only in the batch that sold it (`paidAt` is now), or
/// `order.refunded` when the refunded total grew past what was told. ?1 orderId,
/// ?2 publishableKey, ?3 type, ?4 createdAt, ?5 mode, ?6 cause. The id is drawn once per row
/// (a materialized CTE), so the payload carries the id the row has.
pub const RECORD_ORDER_EVENT: &str = "\
WITH o AS MATERIALIZED (
  SELECT 'evt_' || lower(hex(randomblob(16))) AS eventId, orderId, publishableKey, status, email, currency, amountCents,
    paidCents, refundedCents, shortUnits, paidAt FROM orders
  WHERE orderId = ?1 AND publishableKey = ?2 AND status = 'paid'
    AND (?3 = 'order.refunded' OR paidAt = ?4)
    AND (?3 <> 'order.short' OR shortUnits > 0) AND (?3 <> 'order.refunded' OR refundedCents > refundToldCents))
INSERT OR IGNORE INTO webhook_events (eventId, publishableKey, type, createdAt, payload, dedupKey, cause)
SELECT eventId, publishableKey, ?3, ?4,
  json_object('id', eventId, 'type', ?3, 'created', ?4, 'project', publishableKey, 'mode', ?5,
    'data', json_object('orderId', orderId, 'status', status, 'email', email, 'currency', currency,
      'amountCents', amountCents, 'paidCents', paidCents, 'refundedCents', refundedCents, 'shortUnits', shortUnits,
      'paidAt', paidAt, 'items', json((SELECT json_group_array(json_object('product', i.tierName, 'quantity', i.quantity,
        'unitCents', i.unitCents)) FROM order_items i WHERE i.orderId = o.orderId)))),
  ?3 || ':' || orderId || CASE WHEN ?3 = 'order.refunded' THEN ':' || refundedCents ELSE '' END, ?6
FROM o";

/// `product.sold_out` or `product.low_stock` for each product whose stock the order's sale
/// took to 0, or across the low-stock line, only in the batch that sold it. ?1 orderId, ?2 publishableKey, ?3 createdAt,
/// ?4 mode, ?5 cause, ?6 the low-stock line.
pub const RECORD_STOCK_EVENTS: &str = "\
WITH p AS MATERIALIZED (
  SELECT 'evt_' || lower(hex(randomblob(16))) AS eventId, t.publishableKey, t.name, t.displayName, t.inventory,
    CASE WHEN t.inventory = 0 THEN 'product.sold_out' ELSE 'product.low_stock' END AS type
  FROM order_items i JOIN tiers t ON t.publishableKey = i.publishableKey AND t.name = i.tierName
  WHERE i.orderId = ?1 AND i.publishableKey = ?2 AND t.inventory IS NOT NULL
    AND (t.inventory = 0 OR (t.inventory <= ?6 AND t.inventory + i.quantity > ?6))
    AND EXISTS (SELECT 1 FROM orders WHERE orderId = ?1 AND publishableKey = ?2 AND status = 'paid' AND paidAt = ?3))
INSERT OR IGNORE INTO webhook_events (eventId, publishableKey, type, createdAt, payload, dedupKey, cause)
SELECT eventId, publishableKey, type, ?3,
  json_object('id', eventId, 'type', type, 'created', ?3, 'project', publishableKey, 'mode', ?4,
    'data', json_object('product', name, 'displayName', displayName, 'inventory', inventory, 'orderId', ?1)),
  type || ':' || name || ':' || ?1, ?5
FROM p";

/// After `RECORD_ORDER_EVENT` for `order.refunded`: what it told. ?1 orderId, ?2 publishableKey.
pub const MARK_REFUND_TOLD: &str = "\
UPDATE orders SET refundToldCents = refundedCents
WHERE orderId = ?1 AND publishableKey = ?2 AND refundedCents > refundToldCents";

/// The project's deliveries due by ?2, oldest first, with what sending needs. ?1 publishableKey,
/// ?3 how many.
pub const SELECT_DUE: &str = "\
SELECT d.eventId, d.endpointId, d.attempts, d.runAttempts, ev.payload, en.url, en.enabled, en.secretGeneration,
  en.previousGeneration, en.previousUntil
FROM webhook_deliveries d
JOIN webhook_events ev ON ev.eventId = d.eventId
JOIN webhook_endpoints en ON en.endpointId = d.endpointId AND en.publishableKey = d.publishableKey
WHERE d.publishableKey = ?1 AND d.status = 'pending' AND d.nextAttemptAt <= ?2
ORDER BY d.nextAttemptAt LIMIT ?3";

/// Pending deliveries whose endpoint is gone (deleted between queueing and sending).
pub const FAIL_ORPHANED: &str = "\
UPDATE webhook_deliveries SET status = 'failed', nextAttemptAt = NULL
WHERE publishableKey = ?1 AND status = 'pending'
  AND NOT EXISTS (SELECT 1 FROM webhook_endpoints en WHERE en.endpointId = webhook_deliveries.endpointId)";

/// When the project's next pending delivery is due. ?1 publishableKey.
pub const SELECT_NEXT_DUE: &str = "\
SELECT MIN(nextAttemptAt) AS nextAttemptAt FROM webhook_deliveries WHERE publishableKey = ?1 AND status = 'pending'";

/// Projects with a delivery overdue by a while (their sender's alarm was lost): the sweep's.
/// ?1 overdue before, ?2 how many.
pub const SELECT_OVERDUE_PROJECTS: &str = "\
SELECT DISTINCT publishableKey FROM webhook_deliveries
WHERE status = 'pending' AND nextAttemptAt <= ?1 LIMIT ?2";

/// ?1 eventId, ?2 endpointId, ?3 attempt, ?4 attemptedAt, ?5 statusCode, ?6 latencyMs, ?7 response.
pub const RECORD_ATTEMPT: &str = "\
INSERT OR REPLACE INTO webhook_attempts (eventId, endpointId, attempt, attemptedAt, statusCode, latencyMs, response)
VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)";

/// The attempt's outcome: ?3 status, ?4 next attempt (NULL unless pending), ?5 attemptedAt,
/// ?6 statusCode. Only a delivery still pending is changed (a replay may have begun meanwhile).
pub const SETTLE_DELIVERY: &str = "\
UPDATE webhook_deliveries SET status = ?3, nextAttemptAt = ?4, attempts = attempts + 1,
  runAttempts = runAttempts + 1, lastAttemptAt = ?5, lastStatusCode = ?6
WHERE eventId = ?1 AND endpointId = ?2 AND status = 'pending'";

/// ?1 endpointId, ?2 now.
pub const ENDPOINT_SUCCEEDED: &str = "\
UPDATE webhook_endpoints SET failureStreak = 0, failingSince = NULL, lastSuccessAt = ?2 WHERE endpointId = ?1";

/// ?1 endpointId, ?2 now.
pub const ENDPOINT_FAILED: &str = "\
UPDATE webhook_endpoints SET failureStreak = failureStreak + 1, failingSince = COALESCE(failingSince, ?2)
WHERE endpointId = ?1";

/// Disables an endpoint whose failures have run at least ?2 times since before ?3.
/// ?1 endpointId, ?4 now, ?5 reason.
pub const DISABLE_FAILING_ENDPOINT: &str = "\
UPDATE webhook_endpoints SET enabled = 0, disabledAt = ?4, disabledReason = ?5, updatedAt = ?4
WHERE endpointId = ?1 AND enabled = 1 AND failureStreak >= ?2 AND failingSince <= ?3
RETURNING publishableKey";

/// A page of the event log, newest first. ?1 publishableKey, ?2 type or NULL, ?3 delivery
/// status or NULL, ?4 ?5 the cursor (createdAt, eventId) or NULL, ?6 how many.
pub const SELECT_EVENTS: &str = "\
SELECT eventId, type, createdAt FROM webhook_events ev
WHERE publishableKey = ?1 AND (?2 IS NULL OR type = ?2)
  AND (?3 IS NULL OR EXISTS (SELECT 1 FROM webhook_deliveries d WHERE d.eventId = ev.eventId AND d.status = ?3))
  AND (?4 IS NULL OR (createdAt, eventId) < (?4, ?5))
ORDER BY createdAt DESC, eventId DESC LIMIT ?6";

/// The deliveries of the events listed in ?2 (a JSON array). ?1 publishableKey.
pub const SELECT_DELIVERIES_OF: &str = "\
SELECT eventId, endpointId, status, attempts, nextAttemptAt, lastAttemptAt, lastStatusCode FROM webhook_deliveries
WHERE publishableKey = ?1 AND eventId IN (SELECT value FROM json_each(?2)) ORDER BY eventId, endpointId";

pub const SELECT_EVENT: &str = "\
SELECT eventId, type, createdAt, payload FROM webhook_events WHERE publishableKey = ?1 AND eventId = ?2";

pub const SELECT_ATTEMPTS: &str = "\
SELECT a.endpointId, a.attempt, a.attemptedAt, a.statusCode, a.latencyMs, a.response FROM webhook_attempts a
JOIN webhook_events ev ON ev.eventId = a.eventId
WHERE ev.publishableKey = ?1 AND a.eventId = ?2 ORDER BY a.attemptedAt, a.attempt";

/// Sends an event again (same id): to endpoint ?3, or (NULL) to every endpoint it was queued
/// for, if enabled. A delivery already pending is left to its run. ?1 publishableKey,
/// ?2 eventId, ?4 now.
pub const REPLAY_EVENT: &str = "\
INSERT INTO webhook_deliveries (eventId, endpointId, publishableKey, status, nextAttemptAt, createdAt)
SELECT ev.eventId, en.endpointId, ev.publishableKey, 'pending', ?4, ?4
FROM webhook_events ev JOIN webhook_endpoints en ON en.publishableKey = ev.publishableKey
WHERE ev.publishableKey = ?1 AND ev.eventId = ?2 AND en.enabled = 1
  AND (en.endpointId = ?3 OR (?3 IS NULL AND EXISTS (
    SELECT 1 FROM webhook_deliveries d WHERE d.eventId = ev.eventId AND d.endpointId = en.endpointId)))
ON CONFLICT (eventId, endpointId) DO UPDATE SET status = 'pending', runAttempts = 0,
  nextAttemptAt = excluded.nextAttemptAt
WHERE webhook_deliveries.status <> 'pending'";

/// The most deliveries one replay of failures schedules (call again for more).
pub const MAX_REPLAY: i64 = 1_000;

/// Every failed delivery of events since ?2 (to endpoint ?3, or any), to enabled endpoints, up
/// to ?5 of them, due again at ?4. ?1 publishableKey.
pub const REPLAY_FAILED: &str = "\
UPDATE webhook_deliveries SET status = 'pending', runAttempts = 0, nextAttemptAt = ?4
WHERE rowid IN (
  SELECT d.rowid FROM webhook_deliveries d
  JOIN webhook_events ev ON ev.eventId = d.eventId
  JOIN webhook_endpoints en ON en.endpointId = d.endpointId AND en.enabled = 1
  WHERE d.publishableKey = ?1 AND d.status = 'failed' AND ev.createdAt >= ?2 AND (?3 IS NULL OR d.endpointId = ?3)
  LIMIT ?5)";

/// Retention: events older than ?1 go, with their deliveries and attempts, ?2 at most a run.
pub const DELETE_OLD_ATTEMPTS: &str = "\
DELETE FROM webhook_attempts WHERE eventId IN (SELECT eventId FROM webhook_events WHERE createdAt < ?1 ORDER BY createdAt, eventId LIMIT ?2)";
pub const DELETE_OLD_DELIVERIES: &str = "\
DELETE FROM webhook_deliveries WHERE eventId IN (SELECT eventId FROM webhook_events WHERE createdAt < ?1 ORDER BY createdAt, eventId LIMIT ?2)";
pub const DELETE_OLD_EVENTS: &str = "\
DELETE FROM webhook_events WHERE eventId IN (SELECT eventId FROM webhook_events WHERE createdAt < ?1 ORDER BY createdAt, eventId LIMIT ?2)";

/// An endpoint as stored.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct EndpointRow {
    pub endpoint_id: String,
    pub url: String,
    pub description: String,
    pub event_types: String,
    pub enabled: i64,
    pub disabled_reason: Option<String>,
    pub disabled_at: Option<String>,
    pub secret_generation: i64,
    pub previous_generation: Option<i64>,
    pub previous_until: Option<String>,
    pub failure_streak: i64,
    pub last_success_at: Option<String>,
    pub created_at: String,
}

impl EndpointRow {
    pub fn event_types(&self) -> Vec<String> {
        serde_json::from_str(&self.event_types).unwrap_or_default()
    }

    pub fn view(&self, now: Timestamp) -> EndpointView {
        let still_signing = |until: &String| Timestamp::parse_rfc3339(until).is_some_and(|t| t > now);
        EndpointView {
            id: self.endpoint_id.clone(),
            url: self.url.clone(),
            description: self.description.clone(),
            event_types: self.event_types(),
            enabled: self.enabled == 1,
            disabled_reason: self.disabled_reason.clone(),
            disabled_at: self.disabled_at.clone(),
            failure_streak: self.failure_streak,
            last_success_at: self.last_success_at.clone(),
            previous_secret_expires_at: self.previous_until.clone().filter(still_signing),
            created_at: self.created_at.clone(),
        }
    }
}

/// What an endpoint's settings become.
pub struct EndpointSettings<'a> {
    pub url: &'a str,
    pub description: &'a str,
    pub event_types: &'a [String],
    pub enabled: bool,
}

/// A delivery that is due, with what sending it needs.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DueDelivery {
    pub event_id: String,
    pub endpoint_id: String,
    pub attempts: i64,
    pub run_attempts: i64,
    pub payload: String,
    pub url: String,
    pub enabled: i64,
    pub secret_generation: i64,
    pub previous_generation: Option<i64>,
    pub previous_until: Option<String>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct EventRow {
    pub event_id: String,
    #[serde(rename = "type")]
    pub kind: String,
    pub created_at: String,
    #[serde(default)]
    pub payload: Option<String>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
struct DeliveryRow {
    event_id: String,
    #[serde(flatten)]
    delivery: DeliveryView,
}

/// When an event's statement is recorded in its cause's batch.
#[derive(Debug, Clone, Copy)]
pub enum Emit {
    /// Only if the statement before it changed a row (the cause was applied now, not before).
    IfChanged,
    /// Always; the event's id is fixed by its cause, so a repeat is ignored.
    Always,
}

/// The event log's filters, checked by the caller.
pub struct EventFilter<'a> {
    pub kind: Option<&'a str>,
    pub status: Option<&'a str>,
    pub before: Option<(&'a str, &'a str)>,
    pub limit: i64,
}

/// What one attempt did.
pub struct AttemptRecord<'a> {
    pub event_id: &'a str,
    pub endpoint_id: &'a str,
    pub attempt: i64,
    pub at: Timestamp,
    pub status_code: Option<u16>,
    pub latency_ms: i64,
    pub response: String,
    /// `delivered`, `pending` (with when) or `failed`.
    pub status: &'static str,
    pub next_attempt_at: Option<Timestamp>,
}

/// The statements that record `event` and queue its deliveries, appended to a batch; the index
/// of the queueing statement lets `queued` tell whether any delivery is due.
pub(crate) fn push_event(statements: &mut Vec<Statement>, event: &Event, emit: Emit, now: Timestamp) -> usize {
    let sql = match emit {
        Emit::IfChanged => RECORD_EVENT_IF_CHANGED,
        Emit::Always => RECORD_EVENT,
    };
    // The event is its own cause.
    statements.push((
        sql,
        vec![
            event.id.as_str().into(),
            event.project.as_str().into(),
            event.kind.as_str().into(),
            event.created.as_str().into(),
            event.payload().into(),
            event.dedup_key.as_deref().into(),
            event.id.as_str().into(),
        ],
    ));
    statements.push((
        QUEUE_DELIVERIES,
        vec![event.id.as_str().into(), now.to_rfc3339().into()],
    ));
    statements.len() - 1
}

/// Which of an order's events a batch records.
#[derive(Debug, Clone, Copy)]
pub enum OrderEvents {
    /// A sale: `order.paid`, `order.short`, and the stock events of its products.
    Sold,
    Refunded,
}

/// The statements that record an order's events (from its rows as the batch leaves them) and
/// queue their deliveries; returns the index of the queueing statement.
pub(crate) fn push_order_events(
    statements: &mut Vec<Statement>,
    project: &super::Project,
    order_id: &str,
    which: OrderEvents,
    now: Timestamp,
) -> usize {
    let cause = dream_core::webhooks::new_event_id();
    let pk = SqlParam::from(project.publishable_key.as_str());
    let mode = SqlParam::from(project.publishable_key.mode().as_str());
    let at = SqlParam::from(now.to_rfc3339());
    let order_event = |kind: EventType| {
        (
            RECORD_ORDER_EVENT,
            vec![
                order_id.into(),
                pk.clone(),
                kind.as_str().into(),
                at.clone(),
                mode.clone(),
                cause.as_str().into(),
            ],
        )
    };
    match which {
        OrderEvents::Sold => {
            statements.push(order_event(EventType::OrderPaid));
            statements.push(order_event(EventType::OrderShort));
            statements.push((
                RECORD_STOCK_EVENTS,
                vec![
                    order_id.into(),
                    pk.clone(),
                    at.clone(),
                    mode.clone(),
                    cause.as_str().into(),
                    LOW_STOCK_UNITS.into(),
                ],
            ));
        }
        OrderEvents::Refunded => {
            statements.push(order_event(EventType::OrderRefunded));
            statements.push((MARK_REFUND_TOLD, vec![order_id.into(), pk.clone()]));
        }
    }
    statements.push((QUEUE_DELIVERIES, vec![cause.as_str().into(), at]));
    statements.len() - 1
}

/// Whether the queueing statements at `at` made any delivery due now.
pub(crate) fn queued(results: &[Executed], at: &[usize]) -> bool {
    #[derive(Deserialize)]
    struct Queued {
        status: String,
    }
    at.iter().filter_map(|&i| results.get(i)).any(|r| {
        r.rows::<Queued>()
            .is_ok_and(|rows| rows.iter().any(|q| q.status == "pending"))
    })
}

impl ProjectScope {
    pub async fn webhook_endpoints(&self) -> ApiResult<Vec<EndpointRow>> {
        self.db.all(SELECT_ENDPOINTS, &[self.pk()]).await
    }

    pub async fn webhook_endpoint(&self, endpoint_id: &str) -> ApiResult<Option<EndpointRow>> {
        self.db.first(SELECT_ENDPOINT, &[self.pk(), endpoint_id.into()]).await
    }

    /// Whether it was created (false: the project has `MAX_ENDPOINTS` already).
    pub async fn create_webhook_endpoint(
        &self,
        endpoint_id: &str,
        settings: &EndpointSettings<'_>,
        audit: &AuditEntry,
        now: Timestamp,
    ) -> ApiResult<bool> {
        let params = vec![
            endpoint_id.into(),
            self.pk(),
            settings.url.into(),
            settings.description.into(),
            serde_json::to_string(settings.event_types).unwrap_or_default().into(),
            now.to_rfc3339().into(),
            (MAX_ENDPOINTS as i64).into(),
        ];
        Ok((self.db)
            .run_audited(INSERT_ENDPOINT, &params, Some(audit))
            .await?
            .changes()
            > 0)
    }

    /// Whether the endpoint exists. Disabling it fails what it still had to receive.
    pub async fn update_webhook_endpoint(
        &self,
        endpoint_id: &str,
        settings: &EndpointSettings<'_>,
        audit: &AuditEntry,
        now: Timestamp,
    ) -> ApiResult<bool> {
        let params = vec![
            self.pk(),
            endpoint_id.into(),
            settings.url.into(),
            settings.description.into(),
            serde_json::to_string(settings.event_types).unwrap_or_default().into(),
            i64::from(settings.enabled).into(),
            now.to_rfc3339().into(),
        ];
        let mut statements = vec![(UPDATE_ENDPOINT, params), audit.statement_if_changed()];
        if !settings.enabled {
            statements.push((FAIL_PENDING_OF_ENDPOINT, vec![self.pk(), endpoint_id.into()]));
        }
        let results = self.db.batch(&statements).await?;
        Ok(results.first().map_or(0, Executed::changes) > 0)
    }

    pub async fn delete_webhook_endpoint(&self, endpoint_id: &str, audit: &AuditEntry) -> ApiResult<bool> {
        let key = [self.pk(), endpoint_id.into()];
        let results = self
            .db
            .batch(&[
                (DELETE_ENDPOINT, key.to_vec()),
                audit.statement_if_changed(),
                (FAIL_PENDING_OF_ENDPOINT, key.to_vec()),
            ])
            .await?;
        Ok(results.first().map_or(0, Executed::changes) > 0)
    }

    /// The new secret generation, if the endpoint exists.
    pub async fn rotate_webhook_secret(
        &self,
        endpoint_id: &str,
        previous_until: Option<Timestamp>,
        audit: &AuditEntry,
        now: Timestamp,
    ) -> ApiResult<Option<i64>> {
        #[derive(Deserialize)]
        #[serde(rename_all = "camelCase")]
        struct Row {
            secret_generation: i64,
        }
        let params = [
            self.pk(),
            endpoint_id.into(),
            previous_until.map(Timestamp::to_rfc3339).into(),
            now.to_rfc3339().into(),
        ];
        let rows: Vec<Row> = self.db.run_audited(ROTATE_SECRET, &params, Some(audit)).await?.rows()?;
        Ok(rows.first().map(|r| r.secret_generation))
    }

    /// Records a test event with one delivery, to `endpoint_id` only (if it is enabled), in one
    /// batch. Whether that delivery was queued.
    pub async fn record_test_event(&self, event: &Event, endpoint_id: &str, now: Timestamp) -> ApiResult<bool> {
        let statements = [
            (
                RECORD_EVENT,
                vec![
                    event.id.as_str().into(),
                    event.project.as_str().into(),
                    event.kind.as_str().into(),
                    event.created.as_str().into(),
                    event.payload().into(),
                    SqlParam::Null,
                    event.id.as_str().into(),
                ],
            ),
            (
                REPLAY_EVENT,
                vec![
                    self.pk(),
                    event.id.as_str().into(),
                    endpoint_id.into(),
                    now.to_rfc3339().into(),
                ],
            ),
        ];
        let results = self.db.batch(&statements).await?;
        Ok(results.get(1).map_or(0, Executed::changes) > 0)
    }

    pub async fn webhook_events(&self, filter: &EventFilter<'_>) -> ApiResult<Vec<(EventRow, Vec<DeliveryView>)>> {
        let (before_at, before_id) = filter.before.unzip();
        let params = [
            self.pk(),
            filter.kind.into(),
            filter.status.into(),
            before_at.into(),
            before_id.into(),
            filter.limit.into(),
        ];
        let events: Vec<EventRow> = self.db.all(SELECT_EVENTS, &params).await?;
        let ids: Vec<&str> = events.iter().map(|e| e.event_id.as_str()).collect();
        let ids = serde_json::to_string(&ids).unwrap_or_default();
        let deliveries: Vec<DeliveryRow> = self.db.all(SELECT_DELIVERIES_OF, &[self.pk(), ids.into()]).await?;
        Ok(events
            .into_iter()
            .map(|event| {
                let of_event = (deliveries.iter())
                    .filter(|d| d.event_id == event.event_id)
                    .map(|d| d.delivery.clone())
                    .collect();
                (event, of_event)
            })
            .collect())
    }

    pub async fn webhook_event(
        &self,
        event_id: &str,
    ) -> ApiResult<Option<(EventRow, Vec<DeliveryView>, Vec<AttemptView>)>> {
        let Some(event) = self
            .db
            .first::<EventRow>(SELECT_EVENT, &[self.pk(), event_id.into()])
            .await?
        else {
            return Ok(None);
        };
        let ids = serde_json::to_string(&[event_id]).unwrap_or_default();
        let deliveries: Vec<DeliveryRow> = self.db.all(SELECT_DELIVERIES_OF, &[self.pk(), ids.into()]).await?;
        let attempts = self.db.all(SELECT_ATTEMPTS, &[self.pk(), event_id.into()]).await?;
        Ok(Some((
            event,
            deliveries.into_iter().map(|d| d.delivery).collect(),
            attempts,
        )))
    }

    /// Deliveries scheduled again.
    pub async fn replay_webhook_event(
        &self,
        event_id: &str,
        endpoint_id: Option<&str>,
        now: Timestamp,
    ) -> ApiResult<i64> {
        let params = [self.pk(), event_id.into(), endpoint_id.into(), now.to_rfc3339().into()];
        Ok(self.db.run(REPLAY_EVENT, &params).await?.changes())
    }

    pub async fn replay_failed_webhooks(
        &self,
        since: Timestamp,
        endpoint_id: Option<&str>,
        now: Timestamp,
    ) -> ApiResult<i64> {
        let params = [
            self.pk(),
            since.to_rfc3339().into(),
            endpoint_id.into(),
            now.to_rfc3339().into(),
            MAX_REPLAY.into(),
        ];
        Ok(self.db.run(REPLAY_FAILED, &params).await?.changes())
    }
}

/// The sender's access: one project's deliveries, named by the Durable Object that sends them
/// (its name is the publishable key; nothing outside this crate builds one).
pub struct SenderScope {
    db: Database,
    publishable_key: String,
}

impl SenderScope {
    pub(crate) fn new(db: Database, publishable_key: String) -> Self {
        Self { db, publishable_key }
    }

    fn pk(&self) -> SqlParam {
        self.publishable_key.as_str().into()
    }

    pub async fn due(&self, now: Timestamp, limit: i64) -> ApiResult<Vec<DueDelivery>> {
        self.db.run(FAIL_ORPHANED, &[self.pk()]).await?;
        self.db
            .all(SELECT_DUE, &[self.pk(), now.to_rfc3339().into(), limit.into()])
            .await
    }

    pub async fn next_due(&self) -> ApiResult<Option<Timestamp>> {
        #[derive(Deserialize)]
        #[serde(rename_all = "camelCase")]
        struct Row {
            next_attempt_at: Option<String>,
        }
        let row: Option<Row> = self.db.first(SELECT_NEXT_DUE, &[self.pk()]).await?;
        Ok(row
            .and_then(|r| r.next_attempt_at)
            .and_then(|t| Timestamp::parse_rfc3339(&t)))
    }

    /// Records an attempt and its outcome, and the endpoint's streak. After a failure the
    /// endpoint's other pending deliveries wait until `backlog_until` (a down endpoint is not
    /// sent its backlog, nor does it hold up the project's other endpoints), and the endpoint
    /// is disabled (failing what it still had to receive) when its failures have run
    /// `disable` long.
    pub async fn settle(
        &self,
        attempt: &AttemptRecord<'_>,
        backlog_until: Timestamp,
        disable: (i64, Timestamp, &str),
    ) -> ApiResult<Settled> {
        let at = attempt.at.to_rfc3339();
        let mut statements: Vec<Statement> = vec![
            (
                RECORD_ATTEMPT,
                vec![
                    attempt.event_id.into(),
                    attempt.endpoint_id.into(),
                    attempt.attempt.into(),
                    at.as_str().into(),
                    attempt.status_code.map(i64::from).into(),
                    attempt.latency_ms.into(),
                    attempt.response.as_str().into(),
                ],
            ),
            (
                SETTLE_DELIVERY,
                vec![
                    attempt.event_id.into(),
                    attempt.endpoint_id.into(),
                    attempt.status.into(),
                    attempt.next_attempt_at.map(Timestamp::to_rfc3339).into(),
                    at.as_str().into(),
                    attempt.status_code.map(i64::from).into(),
                ],
            ),
        ];
        let endpoint = SqlParam::from(attempt.endpoint_id);
        if attempt.status == "delivered" {
            statements.push((ENDPOINT_SUCCEEDED, vec![endpoint, at.as_str().into()]));
            let results = self.db.batch(&statements).await?;
            return Ok(Settled {
                applied: results.get(1).map_or(0, Executed::changes) > 0,
                disabled: false,
            });
        }
        let (failures, failing_since, reason) = disable;
        statements.push((
            DEFER_ENDPOINT_BACKLOG,
            vec![self.pk(), endpoint.clone(), backlog_until.to_rfc3339().into()],
        ));
        statements.push((ENDPOINT_FAILED, vec![endpoint.clone(), at.as_str().into()]));
        statements.push((
            DISABLE_FAILING_ENDPOINT,
            vec![
                endpoint.clone(),
                failures.into(),
                failing_since.to_rfc3339().into(),
                at.as_str().into(),
                reason.into(),
            ],
        ));
        statements.push((FAIL_PENDING_OF_DISABLED, vec![self.pk(), endpoint]));
        let results = self.db.batch(&statements).await?;
        Ok(Settled {
            applied: results.get(1).map_or(0, Executed::changes) > 0,
            disabled: results.get(4).map_or(0, Executed::changes) > 0,
        })
    }
}

/// What settling an attempt did.
#[derive(Debug, Clone, Copy)]
pub struct Settled {
    /// The delivery was still pending: false when the endpoint was disabled, deleted or its
    /// delivery replayed while the attempt was on its way (the sender stops that endpoint).
    pub applied: bool,
    /// The endpoint was disabled now.
    pub disabled: bool,
}

/// After a failed attempt: the endpoint's other pending deliveries due before ?3 wait until
/// then. ?1 publishableKey, ?2 endpointId.
pub const DEFER_ENDPOINT_BACKLOG: &str = "\
UPDATE webhook_deliveries SET nextAttemptAt = ?3
WHERE publishableKey = ?1 AND endpointId = ?2 AND status = 'pending' AND nextAttemptAt < ?3";

/// After `DISABLE_FAILING_ENDPOINT`: a disabled endpoint's pending deliveries fail.
/// ?1 publishableKey, ?2 endpointId.
pub const FAIL_PENDING_OF_DISABLED: &str = "\
UPDATE webhook_deliveries SET status = 'failed', nextAttemptAt = NULL
WHERE publishableKey = ?1 AND endpointId = ?2 AND status = 'pending'
  AND EXISTS (SELECT 1 FROM webhook_endpoints WHERE endpointId = ?2 AND enabled = 0)";

impl Database {
    /// Records events made elsewhere (a usage counter's outbox) with their deliveries; a copy
    /// made twice is one event (each has a dedup key). Whether a delivery is due.
    pub async fn record_webhook_events(&self, events: &[Event], now: Timestamp) -> ApiResult<bool> {
        let mut statements = Vec::with_capacity(events.len() * 2);
        let queues: Vec<usize> = events
            .iter()
            .map(|event| push_event(&mut statements, event, Emit::Always, now))
            .collect();
        if statements.is_empty() {
            return Ok(false);
        }
        let results = self.batch(&statements).await?;
        Ok(queued(&results, &queues))
    }

    /// The sweep's: projects whose sender should have sent something by `overdue_before`.
    pub async fn overdue_webhook_projects(&self, overdue_before: Timestamp, limit: i64) -> ApiResult<Vec<String>> {
        #[derive(Deserialize)]
        #[serde(rename_all = "camelCase")]
        struct Row {
            publishable_key: String,
        }
        let rows: Vec<Row> = self
            .all(
                SELECT_OVERDUE_PROJECTS,
                &[overdue_before.to_rfc3339().into(), limit.into()],
            )
            .await?;
        Ok(rows.into_iter().map(|r| r.publishable_key).collect())
    }

    /// Retention: events older than `before` (and their deliveries), at most `limit` a run.
    pub async fn purge_webhook_events(&self, before: Timestamp, limit: i64) -> ApiResult<i64> {
        let params = vec![before.to_rfc3339().into(), limit.into()];
        let results = self
            .batch(&[
                (DELETE_OLD_ATTEMPTS, params.clone()),
                (DELETE_OLD_DELIVERIES, params.clone()),
                (DELETE_OLD_EVENTS, params),
            ])
            .await?;
        Ok(results.get(2).map_or(0, Executed::changes))
    }
}
