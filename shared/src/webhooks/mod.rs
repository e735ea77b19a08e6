//! Developer webhooks: telling a developer's app what happened in its project.
//!
//! An event is written in the same D1 batch as its cause (`storage::webhooks::push_event`),
//! with one delivery per endpoint that wants it; then the project's sender, a Durable Object
//! (`sender`), is nudged. The sender signs (Standard Webhooks) and sends what is due, records
//! every attempt, and sets its alarm for the next retry. If the nudge is lost (the worker died
//! right after the commit), the minute cron's sweep nudges every project with an overdue
//! delivery. `manage` is what the dashboard's routes do: endpoints, the log, replay.

pub mod manage;
pub mod sender;

use worker::ObjectNamespace;

use crate::runtime::settings::Setting;
use dream_core::{
    error::ApiResult,
    period::Timestamp,
    webhooks::{EVENT_RETENTION_DAYS, signing::SigningKey},
};

/// The cron (wrangler/api-multi.toml) that runs `sweep`.
pub const SWEEP_CRON: &str = "* * * * *";
/// A delivery this late has lost its nudge or its sender's alarm.
const OVERDUE_SECS: i64 = 30;
/// Senders one sweep nudges at most (the next sweep, a minute later, takes the rest).
const SWEEP_BATCH: i64 = 200;

/// Events past their retention deleted by one sweep at most: 1.4 million a day, every minute.
const PURGE_BATCH: i64 = 1_000;

/// What one sweep did.
#[derive(Debug, Default)]
pub struct Swept {
    pub nudged: usize,
    pub purged: i64,
}

/// Nudges the sender of every project with a delivery overdue (what recovers a nudge lost when
/// a worker died right after committing an event, or an alarm lost with its object), and
/// deletes a batch of events past their retention (every minute, so the log keeps pace with
/// the platform however many events it makes).
pub async fn sweep(db: &crate::storage::Database, senders: &Senders, now: Timestamp) -> ApiResult<Swept> {
    let overdue = db
        .overdue_webhook_projects(Timestamp(now.0 - OVERDUE_SECS), SWEEP_BATCH)
        .await?;
    for key in &overdue {
        senders.nudge(key).await;
    }
    let retention = EVENT_RETENTION_DAYS as i64 * 24 * 3600;
    let purged = db
        .purge_webhook_events(Timestamp(now.0 - retention), PURGE_BATCH)
        .await?;
    Ok(Swept {
        nudged: overdue.len(),
        purged,
    })
}

/// The senders' Durable Object namespace (api-multi declares the class; oauth-api binds it by
/// `script_name`).
pub const SENDER_BINDING: &str = "WEBHOOK_SENDERS";
const ORIGIN: &str = "https://webhook-sender";

/// The platform's key that endpoint secrets derive from, and how fast retries run.
#[derive(Debug, Clone)]
pub struct WebhookSettings {
    pub secret_key: Setting,
    /// Divides the retry schedule (1 in production; the local stack runs it faster so its
    /// tests see a whole schedule, and an endpoint disabled, in seconds).
    pub retry_scale: u64,
}

impl WebhookSettings {
    pub fn new(secret_key: Setting, retry_scale: Option<&str>) -> Self {
        Self {
            secret_key,
            retry_scale: retry_scale
                .and_then(|s| s.parse().ok())
                .filter(|&s| s >= 1)
                .unwrap_or(1),
        }
    }

    /// The signing key of one generation of an endpoint's secret.
    pub fn signing_key(&self, endpoint_id: &str, generation: i64) -> ApiResult<SigningKey> {
        Ok(SigningKey::derive(
            self.secret_key.get()?.as_bytes(),
            endpoint_id,
            generation,
        ))
    }
}

/// The worker's side of the senders: a nudge makes a project's sender look for due deliveries.
#[derive(Clone)]
pub struct Senders(Option<ObjectNamespace>);

impl Senders {
    /// The `SENDER_BINDING` namespace as the worker found it. Without the binding (a worker
    /// deployed without it), nudges are skipped: the sweep delivers within a minute.
    pub fn new(namespace: Option<ObjectNamespace>) -> Self {
        Self(namespace)
    }

    pub fn none() -> Self {
        Self(None)
    }

    /// Asks the project's sender to send what is due. Never fails the caller: a lost nudge is
    /// what the sweep is for.
    pub async fn nudge(&self, publishable_key: &str) {
        let Some(namespace) = &self.0 else { return };
        let url = format!("{ORIGIN}/nudge");
        let called =
            crate::runtime::objects::post(namespace, (publishable_key, &url), publishable_key, "webhook-sender");
        let result = match called.await {
            Ok((200, _)) => Ok(()),
            Ok((status, _)) => Err(worker::Error::RustError(format!("answered {status}"))),
            Err(e) => Err(e),
        };
        if let Err(e) = result {
            crate::runtime::log::error(&format!(
                "webhook sender of {publishable_key} not nudged (the sweep will): {e}"
            ));
        }
    }
}
