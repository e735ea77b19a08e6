//! Usage counters: where requests are counted. Durable Objects with SQLite storage, one per
//! project and mode, or for a very hot project several, each holding a share of its users
//! ([`layout`]); named by the publishable key, so test and live never share one. Each is the
//! only writer of its rows: counting scales with the number of projects, and with a hot
//! project's users, instead of sharing one D1 writer among every tenant (docs/design.md,
//! "Usage counters").
//!
//! The object runs the statements of `storage::usage` against its own storage, one request at a
//! time, and copies the rows it changed to D1 on an alarm a few seconds later, in batches: D1
//! stays the record the dashboard reads, at one batch per counter per interval instead of one
//! write per request. It also keeps the metered API's rate limits and the project's
//! configuration epoch (docs/design.md, "The hot path"). `api-multi` declares the Durable Object
//! class and hands its events here; `counters` is the callers' side.

use crate::runtime::OrInternal;
use crate::runtime::clock;
use std::cell::{Cell, RefCell};

use worker::{Env, Request, Response, State};

use dream_core::{
    error::{ApiError, ApiResult, ErrorCode},
    period::Timestamp,
};

use super::counter_protocol::{
    Call, ConfigChange, CountOutcome, MeterOutcome, Operation, Refusal, STALE_CONFIG, StaleConfig, counter_name,
    key_directory_name,
};
use crate::{
    billing::overage,
    edge::rate_limits::{Limit, PROJECT_LIMIT, USER_LIMIT},
    projects::StripeModes,
    runtime::settings::StripeSettings,
    storage::{Database, usage::CounterStore},
    webhooks::Senders,
};
use dream_core::{
    usage::rate::SlidingWindows,
    webhooks::{UsageMove, cap_reached_event, threshold_events},
};

/// The Durable Object namespace binding (wrangler/api-multi.toml).
pub const COUNTER_BINDING: &str = "USAGE_COUNTERS";

/// How long a counted row waits before it is copied to D1 (the dashboard's lag) and its
/// overage reported to Stripe.
pub const FLUSH_DELAY_MS: i64 = 2_000;

/// How long a failed overage report waits before it is sent again.
pub const REPORT_RETRY_MS: i64 = 10_000;

/// A call must be for a user (or an Idempotency-Key) this object holds: the name is the
/// project, the layout and the shard.
fn misrouted(name: Option<String>) -> ApiError {
    ApiError::internal(format!(
        "counter {} was sent a call for another project or shard",
        name.unwrap_or_default()
    ))
}

/// Events one flush copies to D1 at most (the next flush takes the rest).
const OUTBOX_BATCH: i64 = 50;

/// The developer webhooks a count causes: the meter's thresholds it crossed, or the spend cap
/// that refused it.
fn usage_events(call: &Call, outcome: &CountOutcome) -> Vec<dream_core::webhooks::Event> {
    let request = &call.request;
    let after = match outcome {
        CountOutcome::Counted(n) | CountOutcome::LimitReached(n) => *n,
        CountOutcome::Replayed(_) | CountOutcome::TooManyUsers => return Vec::new(),
    };
    let usage = UsageMove {
        project: &call.project.publishable_key,
        user_id: &request.user_id,
        plan: &request.plan,
        meter: &request.meter,
        period: (request.period.start, request.period.end),
        included: request
            .overage
            .as_ref()
            .map_or(request.limit.max(), |terms| Some(terms.included)),
        before: after.saturating_sub(request.quantity),
        after,
    };
    match outcome {
        CountOutcome::Counted(_) => threshold_events(&usage, request.now),
        // With overage billed, only the spend cap refuses a count.
        _ => match request.overage.as_ref().and_then(|terms| terms.spend_cap) {
            Some(cap) => vec![cap_reached_event(
                &UsageMove { before: after, ..usage },
                cap.get(),
                request.now,
            )],
            None => Vec::new(),
        },
    }
}

/// What a counter answers a call.
enum Served {
    Answer(serde_json::Value),
    Stale(StaleConfig),
    RateLimited(&'static Limit),
}

/// The metered API's bounds (`rate_limits::PROJECT_LIMIT`, `USER_LIMIT`), kept per counter.
struct MeteredLimits {
    project: SlidingWindows,
    users: SlidingWindows,
}

impl MeteredLimits {
    fn new() -> Self {
        Self {
            project: SlidingWindows::new(PROJECT_LIMIT.limit, PROJECT_LIMIT.period_secs),
            users: SlidingWindows::new(USER_LIMIT.limit, USER_LIMIT.period_secs),
        }
    }

    /// Counts the call against the project and, if it counts usage, its user; the bound that
    /// refuses it, if one does (then nothing is counted against either).
    fn admit(&mut self, user: Option<&str>, now_ms: u64) -> Result<(), &'static Limit> {
        if !self.project.admits("", now_ms) {
            return Err(&PROJECT_LIMIT);
        }
        if let Some(user) = user {
            if !self.users.admits(user, now_ms) {
                return Err(&USER_LIMIT);
            }
            self.users.count(user, now_ms);
        }
        self.project.count("", now_ms);
        Ok(())
    }
}

/// The Durable Object's side.
pub struct Counter {
    state: State,
    env: Env,
    store: ApiResult<CounterStore>,
    started_at: Cell<Option<Timestamp>>,
    alarm_set: Cell<bool>,
    /// The project's configuration epoch, read from storage on the first call.
    config_epoch: Cell<Option<u64>>,
    limits: RefCell<MeteredLimits>,
}

impl Counter {
    pub fn new(state: State, env: Env) -> Self {
        let store = CounterStore::open(state.storage().sql(), clock::now());
        Self {
            state,
            env,
            store,
            started_at: Cell::new(None),
            alarm_set: Cell::new(false),
            config_epoch: Cell::new(None),
            limits: RefCell::new(MeteredLimits::new()),
        }
    }

    fn store(&self) -> ApiResult<&CounterStore> {
        self.store.as_ref().map_err(Clone::clone)
    }

    pub async fn fetch(&self, req: Request) -> worker::Result<Response> {
        match self.serve(req).await {
            Ok(Served::Answer(body)) => Response::from_json(&body),
            Ok(Served::Stale(stale)) => Ok(Response::from_json(&stale)?.with_status(STALE_CONFIG)),
            Ok(Served::RateLimited(limit)) => Ok(Response::from_json(&Refusal {
                code: ErrorCode::RateLimited,
                message: format!("Rate limit exceeded {}", limit.whose),
                rate_limit: Some(limit.scope.to_owned()),
            })?
            .with_status(429)),
            Err(e) => {
                let message = e.internal_cause().unwrap_or(e.message()).to_owned();
                if e.code() == ErrorCode::Internal {
                    crate::runtime::log::error(&format!("usage counter: {message}"));
                }
                Ok(Response::from_json(&Refusal {
                    code: e.code(),
                    message,
                    rate_limit: None,
                })?
                .with_status(e.status().as_u16()))
            }
        }
    }

    async fn serve(&self, mut req: Request) -> ApiResult<Served> {
        let path = req.path();
        let op =
            Operation::from_path(&path).ok_or_else(|| ApiError::not_found(format!("no counter operation {path}")))?;
        match op {
            Operation::ConfigChanged => {
                let change: ConfigChange = serde_json::from_str(&req.text().await.or_internal()?)?;
                let epoch = self.store()?.advance_config_epoch(change.at_ms)?;
                self.config_epoch.set(Some(epoch));
                return Ok(Served::Answer(serde_json::to_value(StaleConfig { epoch })?));
            }
            // Asked when a configuration refused a request (an unknown plan or meter): the
            // project's bound keeps a flood of such requests from costing more than counts.
            Operation::ConfigEpoch => {
                if let Err(limit) = self.limits.borrow_mut().admit(None, clock::now_millis()) {
                    return Ok(Served::RateLimited(limit));
                }
                let epoch = self.config_epoch()?;
                return Ok(Served::Answer(serde_json::to_value(StaleConfig { epoch })?));
            }
            _ => {}
        }
        // Parsed here from the text: `json()` would build a JS object and copy it field by field.
        self.serve_call(op, serde_json::from_str(&req.text().await.or_internal()?)?)
            .await
    }

    /// An operation on the counts, for a user of the project.
    async fn serve_call(&self, op: Operation, call: Call) -> ApiResult<Served> {
        let name = self.state.id().name();
        let holds = |expected: Option<String>| name.is_none() || name == expected;
        let is_key_directory = holds(key_directory_name(&call.project, &call.request));
        match op {
            Operation::BindKey => {
                if !is_key_directory {
                    return Err(misrouted(name));
                }
                // Each binding is a row: the project's bound keeps a flood of fresh keys from
                // filling the directory.
                if let Err(limit) = self.limits.borrow_mut().admit(None, clock::now_millis()) {
                    return Ok(Served::RateLimited(limit));
                }
                let key = call.request.idempotency_key.as_deref().unwrap_or_default();
                self.store()?.bind_key(&call.project, &call.request, key)?;
                // Only the flush alarm purges expired bindings, and a counter may only ever bind.
                self.schedule_flush().await?;
                Ok(Served::Answer(serde_json::Value::Null))
            }
            // Count, Usage, CountMeter, MeterCounts (the configuration's operations are not calls).
            _ => {
                if !holds(Some(counter_name(&call.project, &call.request))) {
                    return Err(misrouted(name));
                }
                // Before the rate limits: a stale call is made again, and must not count twice.
                let epoch = self.config_epoch()?;
                if call.request.config_epoch.is_some_and(|theirs| theirs < epoch) {
                    return Ok(Served::Stale(StaleConfig { epoch }));
                }
                let counts_usage = matches!(op, Operation::Count | Operation::CountMeter);
                let user = counts_usage.then_some(call.request.user_id.as_str());
                if let Err(limit) = self.limits.borrow_mut().admit(user, clock::now_millis()) {
                    return Ok(Served::RateLimited(limit));
                }
                self.count_or_read(op, &call, is_key_directory)
                    .await
                    .map(Served::Answer)
            }
        }
    }

    fn config_epoch(&self) -> ApiResult<u64> {
        if let Some(epoch) = self.config_epoch.get() {
            return Ok(epoch);
        }
        let epoch = self.store()?.config_epoch()?;
        self.config_epoch.set(Some(epoch));
        Ok(epoch)
    }

    async fn count_or_read(&self, op: Operation, call: &Call, is_key_directory: bool) -> ApiResult<serde_json::Value> {
        self.seed(call).await?;
        let store = self.store()?;
        // Rows counted before the host restarted wait for a flush even if no alarm survived.
        if !self.alarm_set.get() && store.has_unflushed()? {
            self.schedule_flush().await?;
        }
        match op {
            Operation::Usage => return Ok(serde_json::to_value(store.usage_count(&call.project, &call.request)?)?),
            Operation::MeterCounts => {
                return Ok(serde_json::to_value(store.meter_counts(&call.project, &call.request)?)?);
            }
            _ => {}
        }
        if let Some(key) = call.request.idempotency_key.as_deref()
            && call.request.shards > 1
            && is_key_directory
        {
            store.bind_key(&call.project, &call.request, key)?;
        }
        let answer = match op {
            Operation::CountMeter => store.count_meter(&call.project, &call.request)?,
            _ => MeterOutcome {
                outcome: store.count(&call.project, &call.request)?,
                spent_nanocents: None,
            },
        };
        // In the count's own transaction: nothing is awaited between the two.
        let events = usage_events(call, &answer.outcome);
        store.record_outbox(&events, call.request.now)?;
        if !events.is_empty()
            && let Err(e) = self.schedule_flush().await
        {
            crate::runtime::log::error(&format!("usage counter: scheduling a flush failed: {e}"));
        }
        // The count is committed: failing the request now would invite a retry that counts
        // again. A flush not scheduled here is scheduled by the next call.
        if matches!(answer.outcome, CountOutcome::Counted(_))
            && let Err(e) = self.schedule_flush().await
        {
            crate::runtime::log::error(&format!("usage counter: scheduling a flush failed: {e}"));
        }
        Ok(match op {
            Operation::CountMeter => serde_json::to_value(answer)?,
            _ => serde_json::to_value(answer.outcome)?,
        })
    }

    /// A period that began before this counter existed may have rows in D1 only, if the project
    /// counted before the counters were deployed (`CountRequest::may_need_seed`): the first
    /// call for such a user and period carries their row over, with every other call of this
    /// counter held until it is in. A project created since never waits on D1 here.
    async fn seed(&self, call: &Call) -> ApiResult<()> {
        let store = self.store()?;
        let started_at = match self.started_at.get() {
            Some(t) => t,
            None => {
                let t = store.started_at()?;
                self.started_at.set(Some(t));
                t
            }
        };
        // D1 held counts of requests only before the counters existed.
        let before_meters = call.request.meter == dream_core::tiers::meters::REQUESTS;
        if !before_meters || !call.request.may_need_seed(started_at) || store.has_row(&call.project, &call.request)? {
            return Ok(());
        }
        let (env, store, project, request) = (
            self.env.clone(),
            store.clone(),
            call.project.clone(),
            call.request.clone(),
        );
        self.state
            .block_concurrency_while(async move {
                let seeded = async {
                    if let Some(row) = Database::from_env(&env)?.usage_row(&project, &request).await? {
                        store.seed(&row)?;
                    }
                    Ok::<_, ApiError>(())
                };
                seeded.await.map_err(|e| worker::Error::RustError(e.to_string()))
            })
            .await
            .map_err(|e| ApiError::internal(format!("seeding a usage counter from D1: {e}")))
    }

    /// Sets the flush alarm unless one is pending. `alarm_set` turns true only once the alarm
    /// is known to be set, so after a failure the next call checks again.
    async fn schedule_flush(&self) -> ApiResult<()> {
        if self.alarm_set.get() {
            return Ok(());
        }
        let storage = self.state.storage();
        if storage.get_alarm().await.or_internal()?.is_none() {
            storage.set_alarm(FLUSH_DELAY_MS).await.or_internal()?;
        }
        self.alarm_set.set(true);
        Ok(())
    }

    /// The alarm: copies the changed rows to D1 and reports overage to Stripe. On failure the
    /// rows stay marked and the reports pending, and the flush re-arms the alarm; any later
    /// count schedules one too, so nothing is lost.
    pub async fn alarm(&self) -> worker::Result<Response> {
        self.alarm_set.set(false);
        match self.flush().await {
            Ok(copied) => Response::ok(format!("copied {copied} rows to D1")),
            Err(e) => {
                crate::runtime::log::error(&format!("usage counter flush failed: {e}"));
                Err(worker::Error::RustError(e.to_string()))
            }
        }
    }

    /// Copies the changed rows to D1 and reports overage to Stripe, each whatever happened to
    /// the other. A failure of either re-arms the alarm itself (the runtime's own alarm retries
    /// give up after a few, and a counter nobody calls would then never finish).
    async fn flush(&self) -> ApiResult<usize> {
        let store = self.store()?;
        let db = Database::from_env(&self.env)?;
        let copied = self.copy_to_d1(&db).await;
        let reported = self.report_overage(&db).await;
        let told = self.copy_webhooks(&db).await;
        store.purge(clock::now())?;
        let failed = (copied.as_ref().err())
            .or(reported.as_ref().err())
            .or(told.as_ref().err());
        if let Some(e) = failed {
            crate::runtime::log::error(&format!("usage counter: flush failed, retried shortly: {e}"));
            self.state.storage().set_alarm(REPORT_RETRY_MS).await.or_internal()?;
            self.alarm_set.set(true);
            return Ok(0);
        }
        if store.has_unflushed()? || store.has_unreported_overage()? || !store.outbox(1)?.is_empty() {
            // Counted while the copy or a report was on its way: the next flush takes them.
            self.schedule_flush().await?;
        }
        copied
    }

    /// Copies the developer webhooks counts caused to D1, then nudges the project's sender.
    async fn copy_webhooks(&self, db: &Database) -> ApiResult<()> {
        let store = self.store()?;
        let events = store.outbox(OUTBOX_BATCH)?;
        let Some(first) = events.first() else {
            return Ok(());
        };
        if db.record_webhook_events(&events, clock::now()).await? {
            let senders = Senders::new(self.env.durable_object(crate::webhooks::SENDER_BINDING).ok());
            senders.nudge(&first.project).await;
        }
        store.forget_outbox(&events)
    }

    async fn copy_to_d1(&self, db: &Database) -> ApiResult<usize> {
        let store = self.store()?;
        let (generation, rows) = store.unflushed()?;
        if !rows.is_empty() {
            db.copy_usage_rows(&rows).await?;
        }
        store.forget_flushed(generation)?;
        Ok(rows.len())
    }

    /// Sends every overage report not yet confirmed. One that fails keeps its identifier for
    /// the retry and holds up no other; the first failure is returned.
    async fn report_overage(&self, db: &Database) -> ApiResult<()> {
        let store = self.store()?;
        let now = clock::now();
        let reports = store.overage_reports(now)?;
        let stale = store.stale_reports(now)?;
        if stale > 0 {
            crate::runtime::log::error(&format!(
                "usage counter: {stale} overage reports unconfirmed for a day are no longer sent; \
                 reconcile them with Stripe's meter event summaries"
            ));
        }
        let Some(first) = reports.first() else {
            return Ok(());
        };
        // A counter holds one project and mode: one connected account for the whole batch.
        let project = dream_core::keys::PublishableKey::parse(&first.publishable_key)
            .map_err(|_| ApiError::internal("overage report of a malformed publishable key"))?;
        let account = db
            .stripe_account_of_project(&project)
            .await?
            .ok_or_else(|| ApiError::conflict("the project's Stripe account is no longer connected"))?;
        let stripes = StripeModes::new(&StripeSettings::read(&self.env))?;
        let stripe = stripes.for_mode(project.mode()).on_account(&account);
        let mut failure = None;
        for report in &reports {
            match overage::send(&stripe, report).await {
                Ok(()) => store.confirm_report(report)?,
                Err(e) => {
                    store.note_report_failed(report)?;
                    failure.get_or_insert(e);
                }
            }
        }
        failure.map_or(Ok(()), Err)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_refused_call_counts_against_neither_bound() {
        let mut limits = MeteredLimits::new();
        let now = 60_000;
        for _ in 0..USER_LIMIT.limit {
            assert!(limits.admit(Some("u"), now).is_ok());
        }
        assert!(matches!(limits.admit(Some("u"), now), Err(limit) if limit.scope == USER_LIMIT.scope));
        // The user's refusal took nothing of the project's bound: others go on until it is full.
        for _ in 0..(PROJECT_LIMIT.limit - USER_LIMIT.limit) {
            assert!(limits.admit(None, now).is_ok());
        }
        assert!(matches!(limits.admit(Some("v"), now), Err(limit) if limit.scope == PROJECT_LIMIT.scope));
        assert!(
            limits.users.admits("v", now),
            "the project's refusal counted nothing for the user"
        );
    }
}
