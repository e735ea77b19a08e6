//! The worker's side of the usage counters (`counter`): sends a user's call to the counter
//! that holds them, tells a project's counters of a change of its configuration, and reads
//! their answers, refusals included, into the platform's errors.

use serde::de::DeserializeOwned;
use worker::{Env, ObjectNamespace};

use dream_core::{
    error::{ApiError, ApiResult, ErrorCode},
    keys::PublishableKey,
    usage::layout::CounterLayout,
};

use super::counter::COUNTER_BINDING;
use super::counter_protocol::{
    CallRef, ConfigChange, CountOutcome, CountRequest, MeterCounts, MeterOutcome, ORIGIN, Operation, Refusal,
    STALE_CONFIG, StaleConfig, counter_name, counter_names, key_directory_name,
};
use crate::{
    edge::rate_limits::{self, PROJECT_LIMIT, USER_LIMIT},
    storage::Project,
};

/// Tries to tell one counter of a change (about two seconds in all).
const NOTICE_ATTEMPTS: u32 = 3;

/// A counter's answer to a call made with a project configuration: the result, or that the
/// configuration is older than the project's last change (read it from D1 and call again).
#[derive(Debug)]
pub enum Answer<T> {
    Done(T),
    Stale(StaleConfig),
}

/// The worker's side: sends a request to the counter of its user.
pub struct Counters(ObjectNamespace);

impl Counters {
    pub fn from_env(env: &Env) -> ApiResult<Self> {
        env.durable_object(COUNTER_BINDING)
            .map(Self)
            .map_err(|e| ApiError::internal(format!("Durable Object binding `{COUNTER_BINDING}`: {e}")))
    }

    /// Counts one request in the user's counter (the path every release understands).
    pub async fn count(&self, project: &Project, request: &CountRequest) -> ApiResult<Answer<CountOutcome>> {
        self.count_by(Operation::Count, project, request).await
    }

    /// Counts a quantity of a meter (`count` for a single request keeps the previous release's
    /// path, so a deploy in progress counts requests either way).
    pub async fn count_meter(&self, project: &Project, request: &CountRequest) -> ApiResult<Answer<MeterOutcome>> {
        self.count_by(Operation::CountMeter, project, request).await
    }

    /// With several counters and an Idempotency-Key, binds the key to the user first (in its
    /// directory counter, unless that is the user's own, which binds it in the same call).
    async fn count_by<T: DeserializeOwned>(
        &self,
        op: Operation,
        project: &Project,
        request: &CountRequest,
    ) -> ApiResult<Answer<T>> {
        let name = counter_name(project, request);
        if let Some(directory) = key_directory_name(project, request).filter(|d| *d != name) {
            // Binding a key checks no configuration: it cannot be stale.
            self.call::<()>(&directory, Operation::BindKey, project, request)
                .await?;
        }
        self.call(&name, op, project, request).await
    }

    /// Tells every counter of the project (of each layout it had) that its configuration
    /// changed at `at_ms`, after the change was committed: a count made with a configuration
    /// read before is refused as stale and read from D1 again, so the change reaches every
    /// isolate's memory at once. A counter that cannot be told is logged; for it the bound is
    /// the cache's TTL, as for KV.
    pub async fn config_changed(&self, project: &PublishableKey, layouts: &[&CounterLayout], at_ms: u64) {
        let body = match serde_json::to_string(&ConfigChange { at_ms }) {
            Ok(body) => body,
            Err(e) => return crate::runtime::log::error(&format!("config change notice: {e}")),
        };
        let names = counter_names(project, layouts);
        let body = &body;
        let notices = names.iter().map(|name| async move {
            let mut told = Err(String::new());
            // A Durable Object call can fail on its way (the object moving or restarting, a
            // connection lost): telling it again is harmless, the epoch only grows.
            for attempt in 0..NOTICE_ATTEMPTS {
                if attempt > 0 {
                    crate::runtime::clock::sleep(std::time::Duration::from_millis(100 << (2 * attempt))).await;
                }
                told = match self.post(name, Operation::ConfigChanged, body.clone()).await {
                    Ok((200, _)) => Ok(()),
                    Ok((status, text)) => Err(format!("answered {status}: {text}")),
                    Err(e) => Err(e.to_string()),
                };
                if told.is_ok() {
                    break;
                }
            }
            if let Err(e) = told {
                crate::runtime::log::error(&format!(
                    "usage counter {name} not told of a configuration change (its isolates may serve the previous one for the cache TTL): {e}"
                ));
            }
        });
        futures_util::future::join_all(notices).await;
    }

    /// Every meter's count of the user in the request's period, without counting.
    pub async fn meter_counts(&self, project: &Project, request: &CountRequest) -> ApiResult<Answer<MeterCounts>> {
        self.call(
            &counter_name(project, request),
            Operation::MeterCounts,
            project,
            request,
        )
        .await
    }

    async fn call<T: DeserializeOwned>(
        &self,
        name: &str,
        op: Operation,
        project: &Project,
        request: &CountRequest,
    ) -> ApiResult<Answer<T>> {
        let body = serde_json::to_string(&CallRef { project, request })?;
        let (status, text) = self.post(name, op, body).await?;
        match status {
            200 => Ok(Answer::Done(serde_json::from_str(&text)?)),
            STALE_CONFIG => Ok(Answer::Stale(serde_json::from_str(&text)?)),
            // An operation this counter does not know: it runs the previous release (a deploy
            // in progress). Retryable, like a counter restarting.
            404 => Err(unavailable(name, worker::Error::RustError(text))),
            status if status < 500 => {
                let refusal: Refusal = serde_json::from_str(&text)?;
                let bound = [&PROJECT_LIMIT, &USER_LIMIT]
                    .into_iter()
                    .find(|limit| refusal.rate_limit.as_deref() == Some(limit.scope));
                Err(match bound {
                    Some(limit) => {
                        let (pk, user) = (project.publishable_key.as_str(), request.user_id.as_str());
                        rate_limits::note_metered_refusal(limit, pk, user, crate::runtime::clock::now_millis());
                        rate_limits::refused(limit)
                    }
                    None => ApiError::new(refusal.code, refusal.message),
                })
            }
            status => Err(ApiError::internal(format!(
                "usage counter {name} answered {status}: {text}"
            ))),
        }
    }

    /// The project's configuration epoch, as its first counter has it (every change is told to
    /// it, whatever the layout). Counts against the project's rate limit.
    pub async fn config_epoch(&self, project: &PublishableKey) -> ApiResult<u64> {
        let name = counter_names(project, &[]).remove(0);
        match self.post(&name, Operation::ConfigEpoch, String::new()).await? {
            (200, text) => Ok(serde_json::from_str::<StaleConfig>(&text)?.epoch),
            (status, text) => Err(ApiError::internal(format!(
                "usage counter {name} answered {status} for its configuration epoch: {text}"
            ))),
        }
    }

    /// One operation on one counter: the status and text of its answer.
    async fn post(&self, name: &str, op: Operation, body: String) -> ApiResult<(u16, String)> {
        let url = format!("{ORIGIN}{}", op.path());
        crate::runtime::objects::post(&self.0, (name, &url), &body, "counter")
            .await
            .map_err(|e| unavailable(name, e))
    }
}

/// The object could not be reached or its answer was lost (overloaded, restarting). Usually
/// nothing was counted, but an answer lost on its way back may hide a count: an
/// Idempotency-Key makes the retry safe either way.
fn unavailable(name: &str, cause: worker::Error) -> ApiError {
    crate::runtime::log::error(&format!("usage counter {name} unreachable: {cause}"));
    ApiError::new(
        ErrorCode::Unavailable,
        "Usage counting is briefly unavailable; retry shortly with the same Idempotency-Key",
    )
    .with_retry_after(1)
}
