//! The sender: one Durable Object per project (named by its publishable key) that sends the
//! project's due deliveries and keeps its alarm at the next one. Its only state is that alarm
//! and the key it serves; what is due, and every attempt, is in D1, where the dashboard reads
//! it. Endpoints are sent to concurrently, each one's deliveries in order of their due time.

use std::time::Duration;

use worker::{Request, Response, State};

use super::WebhookSettings;
use crate::{
    runtime::{OrInternal, clock, outbound},
    storage::{
        Database,
        webhooks::{AttemptRecord, DueDelivery, SenderScope},
    },
};
use dream_core::{
    error::{ApiError, ApiResult},
    keys::random_byte,
    period::Timestamp,
    webhooks::{
        DELIVERY_TIMEOUT_SECS, DISABLE_AFTER_FAILURES, RESPONSE_SNIPPET_BYTES, disable_after_ms, retry_delay_ms,
        signing::signature_header,
    },
};

/// Deliveries one alarm sends at most (the next alarm, at once, takes the rest).
const BATCH: i64 = 50;
const PROJECT_KEY: &str = "publishableKey";
/// When a run failed (D1 unreachable, a missing setting), the next one.
const RUN_RETRY_MS: i64 = 60_000;

/// What one run did, and when the next is due.
#[derive(Debug, Default)]
pub struct Run {
    pub delivered: usize,
    pub failed: usize,
    pub disabled: Vec<String>,
    pub next_due: Option<Timestamp>,
}

/// Sends every delivery of the project due by `now`.
pub async fn send_due(scope: &SenderScope, settings: &WebhookSettings, now: Timestamp) -> ApiResult<Run> {
    let due = scope.due(now, BATCH).await?;
    let mut by_endpoint: Vec<Vec<DueDelivery>> = Vec::new();
    for delivery in due {
        match by_endpoint
            .iter_mut()
            .find(|g| g[0].endpoint_id == delivery.endpoint_id)
        {
            Some(group) => group.push(delivery),
            None => by_endpoint.push(vec![delivery]),
        }
    }
    let runs = futures_util::future::join_all(
        by_endpoint
            .iter()
            .map(|deliveries| send_to_endpoint(scope, settings, deliveries)),
    )
    .await;
    let mut run = Run::default();
    for result in runs {
        let (delivered, failed, disabled) = result?;
        run.delivered += delivered;
        run.failed += failed;
        run.disabled.extend(disabled);
    }
    run.next_due = scope.next_due().await?;
    Ok(run)
}

/// One endpoint's deliveries, in order. After a failure the rest of the batch waits for the
/// next alarm (a second or more away): an endpoint that is down is not sent its whole backlog
/// at once.
async fn send_to_endpoint(
    scope: &SenderScope,
    settings: &WebhookSettings,
    deliveries: &[DueDelivery],
) -> ApiResult<(usize, usize, Option<String>)> {
    let (mut delivered, mut failed) = (0, 0);
    for delivery in deliveries {
        let now = clock::now();
        let outcome = attempt(settings, delivery, now).await?;
        let ok = outcome.status == "delivered";
        let disable_since = Timestamp(now.0 - (disable_after_ms(settings.retry_scale) / 1000) as i64);
        let reason = format!(
            "Disabled after {} failed deliveries in a row since at least {}",
            DISABLE_AFTER_FAILURES,
            disable_since.to_rfc3339()
        );
        // The backlog waits for the failed delivery's retry (a spent one: a minute).
        let backlog_until = outcome.next_attempt_at.unwrap_or(Timestamp(now.0 + 60));
        let settled = scope
            .settle(
                &outcome,
                backlog_until,
                (DISABLE_AFTER_FAILURES, disable_since, &reason),
            )
            .await?;
        if ok {
            delivered += 1;
        } else {
            failed += 1;
        }
        if settled.disabled {
            return Ok((delivered, failed, Some(delivery.endpoint_id.clone())));
        }
        // A failure, or the endpoint changed under this run (disabled, deleted, a replay):
        // the rest waits for the next run, which reads the endpoint again.
        if !ok || !settled.applied {
            break;
        }
    }
    Ok((delivered, failed, None))
}

async fn attempt<'a>(
    settings: &WebhookSettings,
    delivery: &'a DueDelivery,
    now: Timestamp,
) -> ApiResult<AttemptRecord<'a>> {
    let run_attempts = u32::try_from(delivery.run_attempts + 1).unwrap_or(u32::MAX);
    let mut record = AttemptRecord {
        event_id: &delivery.event_id,
        endpoint_id: &delivery.endpoint_id,
        attempt: delivery.attempts + 1,
        at: now,
        status_code: None,
        latency_ms: 0,
        response: String::new(),
        status: "failed",
        next_attempt_at: None,
    };
    if delivery.enabled != 1 {
        record.response = "The endpoint is disabled; replay the event once it is enabled".to_owned();
        return Ok(record);
    }
    let mut keys = vec![settings.signing_key(&delivery.endpoint_id, delivery.secret_generation)?];
    let previous_signs = (delivery.previous_until.as_deref())
        .and_then(Timestamp::parse_rfc3339)
        .is_some_and(|until| until > now);
    if let (Some(previous), true) = (delivery.previous_generation, previous_signs) {
        keys.push(settings.signing_key(&delivery.endpoint_id, previous)?);
    }
    let timestamp = now.0.to_string();
    let signature = signature_header(&keys, &delivery.event_id, now.0, &delivery.payload);
    let headers = [
        ("content-type", "application/json"),
        ("user-agent", "dream-api-webhooks/1"),
        ("webhook-id", delivery.event_id.as_str()),
        ("webhook-timestamp", timestamp.as_str()),
        ("webhook-signature", signature.as_str()),
    ];
    let started = clock::now_millis();
    let answer = outbound::deliver(
        &delivery.url,
        &headers,
        &delivery.payload,
        Duration::from_secs(DELIVERY_TIMEOUT_SECS),
        RESPONSE_SNIPPET_BYTES,
    )
    .await;
    record.latency_ms = i64::try_from(clock::now_millis().saturating_sub(started)).unwrap_or(i64::MAX);
    let success = match answer {
        Ok(answer) => {
            record.status_code = Some(answer.status);
            record.response = answer.head;
            (200..300).contains(&answer.status)
        }
        Err(e) => {
            record.response = e.to_string();
            false
        }
    };
    if success {
        record.status = "delivered";
    } else if let Some(delay) = retry_delay_ms(run_attempts, settings.retry_scale, random_byte()) {
        record.status = "pending";
        // Whole seconds, rounded up, as every timestamp is stored.
        record.next_attempt_at = Some(Timestamp(now.0 + delay.div_ceil(1000) as i64));
    }
    Ok(record)
}

/// The Durable Object's side (`WebhookSender` in api-multi, which hands it D1 and the settings).
pub struct Sender {
    state: State,
    db: ApiResult<Database>,
    settings: WebhookSettings,
}

impl Sender {
    pub fn new(state: State, db: ApiResult<Database>, settings: WebhookSettings) -> Self {
        Self { state, db, settings }
    }

    /// `POST /nudge` with the publishable key as body: something is due now.
    pub async fn fetch(&self, mut req: Request) -> worker::Result<Response> {
        let key = req.text().await?;
        if dream_core::keys::PublishableKey::parse(&key).is_err() {
            return Response::error("not a publishable key", 400);
        }
        let storage = self.state.storage();
        let known: Option<String> = storage.get(PROJECT_KEY).await.ok().flatten();
        if known.as_deref() != Some(key.as_str()) {
            storage.put(PROJECT_KEY, &key).await?;
        }
        let now = clock::now_millis() as i64;
        match storage.get_alarm().await? {
            Some(at) if at <= now => {}
            _ => storage.set_alarm(0).await?,
        }
        Response::ok("nudged")
    }

    pub async fn alarm(&self) -> worker::Result<Response> {
        match self.run().await {
            Ok(run) => Response::ok(format!(
                "delivered {}, failed {}, disabled {:?}",
                run.delivered, run.failed, run.disabled
            )),
            Err(e) => {
                crate::runtime::log::error(&format!("webhook sender failed, retried in a minute: {e}"));
                // The runtime retries a failed alarm a few times only; this one re-arms itself,
                // slowly enough that a lasting fault (a missing setting) costs little.
                self.state.storage().set_alarm(RUN_RETRY_MS).await?;
                Response::ok("failed; retrying shortly")
            }
        }
    }

    async fn run(&self) -> ApiResult<Run> {
        let storage = self.state.storage();
        let key: Option<String> = storage.get(PROJECT_KEY).await.or_internal()?;
        let key = key.ok_or_else(|| ApiError::internal("webhook sender alarm before any nudge"))?;
        let scope = SenderScope::new(self.db.clone()?, key);
        let run = send_due(&scope, &self.settings, clock::now()).await?;
        if let Some(next) = run.next_due {
            // At least a second ahead: what failed now must not be retried in a loop.
            let now = clock::now_millis() as i64;
            let at = (next.millis() as i64).max(now + 1000);
            storage.set_alarm(at - now).await.or_internal()?;
        }
        Ok(run)
    }
}
