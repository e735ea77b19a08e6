//! Usage counters: where requests are counted. Durable Objects with SQLite storage, one per
//! project and mode, or for a very hot project several, each holding a share of its users
//! ([`layout`]); named by the publishable key, so test and live never share one. Each is the
//! only writer of its rows: counting scales with the number of projects, and with a hot
//! project's users, instead of sharing one D1 writer among every tenant (docs/design.md,
//! "Usage counters").
//!
//! The object runs the statements of `repo::usage` against its own storage, one request at a
//! time, and copies the rows it changed to D1 on an alarm a few seconds later, in batches: D1
//! stays the record the dashboard reads, at one batch per counter per interval instead of one
//! write per request. `api-multi` declares the Durable Object class and hands its events here.

pub mod layout;

use std::cell::Cell;

use serde::{Deserialize, Serialize, de::DeserializeOwned};
use worker::{Env, Method, ObjectNamespace, Request, RequestInit, Response, State};

use crate::{
    error::{ApiError, ApiResult, ErrorCode},
    period::{self, Timestamp},
    repo::{
        Database, Project,
        usage::{CountOutcome, CountRequest, CounterStore},
    },
};

/// The Durable Object namespace binding (wrangler/api-multi.toml).
pub const COUNTER_BINDING: &str = "USAGE_COUNTERS";

/// How long a counted row waits before it is copied to D1 (the dashboard's lag).
pub const FLUSH_DELAY_MS: i64 = 2_000;

const ORIGIN: &str = "https://usage-counter";

/// The counter holding a user's rows in the request's period: `{publishableKey}/0` while the
/// project has one counter (the name it always had), `{publishableKey}/{shards}/{shard}` with
/// more. A layout applies only to periods no counter has seen yet, so reusing a name of an
/// earlier layout with as many counters finds no rows of those periods.
pub fn counter_name(project: &Project, request: &CountRequest) -> String {
    shard_name(project, request.shards, &request.user_id)
}

/// With several counters, an Idempotency-Key is bound to its first user in the counter its
/// own hash picks, so a key reused for another user is a 409 whichever counters the two
/// users count in (with one counter, its claims already say so).
pub fn key_directory_name(project: &Project, request: &CountRequest) -> Option<String> {
    let key = request.idempotency_key.as_deref().filter(|_| request.shards > 1)?;
    Some(shard_name(project, request.shards, key))
}

fn shard_name(project: &Project, shards: u32, hashed: &str) -> String {
    let pk = project.publishable_key.as_str();
    match shards {
        0 | 1 => format!("{pk}/0"),
        n => format!("{pk}/{n}/{}", shard(hashed, u64::from(n))),
    }
}

/// Stable across releases and platforms: a user must never change counter mid-period.
fn shard(hashed: &str, shards: u64) -> u64 {
    fnv1a(hashed.as_bytes()) % shards
}

/// The project limiter's key for a user: a project with several counters has a rate limit
/// per counter, so its allowance grows with them (`ratelimit::PROJECT_LIMIT`).
pub fn rate_limit_key(project: &Project, shards: u32, user_id: &str) -> String {
    match shards {
        0 | 1 => project.publishable_key.as_str().to_owned(),
        _ => shard_name(project, shards, user_id),
    }
}

/// 64-bit FNV-1a.
fn fnv1a(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |h, &b| {
        (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
    })
}

/// Each counter admits its share of the project's distinct users per period.
pub fn users_bound_per_counter(project_bound: u64, shards: u32) -> u64 {
    project_bound.div_ceil(u64::from(shards.max(1)))
}

#[derive(Serialize)]
struct CallRef<'a> {
    project: &'a Project,
    request: &'a CountRequest,
}

#[derive(Deserialize)]
struct Call {
    project: Project,
    request: CountRequest,
}

#[derive(Serialize, Deserialize)]
struct Refusal {
    code: ErrorCode,
    message: String,
}

/// The worker's side: sends a request to the counter of its user.
pub struct Counters(ObjectNamespace);

impl Counters {
    pub fn from_env(env: &Env) -> ApiResult<Self> {
        env.durable_object(COUNTER_BINDING)
            .map(Self)
            .map_err(|e| ApiError::internal(format!("Durable Object binding `{COUNTER_BINDING}`: {e}")))
    }

    /// Counts in the user's counter; with several counters and an Idempotency-Key, binds the
    /// key to the user first (in its directory counter, unless that is the user's own, which
    /// binds it in the same call).
    pub async fn count(&self, project: &Project, request: &CountRequest) -> ApiResult<CountOutcome> {
        let name = counter_name(project, request);
        if let Some(directory) = key_directory_name(project, request).filter(|d| *d != name) {
            self.call::<()>(&directory, "bind-key", project, request).await?;
        }
        self.call(&name, "count", project, request).await
    }

    /// The user's count in the request's period, without counting.
    pub async fn usage(&self, project: &Project, request: &CountRequest) -> ApiResult<u64> {
        self.call(&counter_name(project, request), "usage", project, request)
            .await
    }

    async fn call<T: DeserializeOwned>(
        &self,
        name: &str,
        op: &str,
        project: &Project,
        request: &CountRequest,
    ) -> ApiResult<T> {
        let body = serde_json::to_string(&CallRef { project, request })?;
        let mut init = RequestInit::new();
        init.with_method(Method::Post).with_body(Some(body.into()));
        let stub = self.0.get_by_name(name)?;
        let mut response = stub
            .fetch_with_request(Request::new_with_init(&format!("{ORIGIN}/{op}"), &init)?)
            .await
            .map_err(|e| unavailable(name, e))?;
        let text = response.text().await?;
        match response.status_code() {
            200 => Ok(serde_json::from_str(&text)?),
            status if status < 500 => {
                let refusal: Refusal = serde_json::from_str(&text)?;
                Err(ApiError::new(refusal.code, refusal.message))
            }
            status => Err(ApiError::internal(format!(
                "usage counter {name} answered {status}: {text}"
            ))),
        }
    }
}

/// The object could not be reached or its answer was lost (overloaded, restarting). Usually
/// nothing was counted, but an answer lost on its way back may hide a count: an
/// Idempotency-Key makes the retry safe either way.
fn unavailable(name: &str, cause: worker::Error) -> ApiError {
    crate::log::error(&format!("usage counter {name} unreachable: {cause}"));
    ApiError::new(
        ErrorCode::Unavailable,
        "Usage counting is briefly unavailable; retry shortly with the same Idempotency-Key",
    )
    .with_retry_after(1)
}

/// A call must be for a user (or an Idempotency-Key) this object holds: the name is the
/// project, the layout and the shard.
fn misrouted(name: Option<String>) -> ApiError {
    ApiError::internal(format!(
        "counter {} was sent a call for another project or shard",
        name.unwrap_or_default()
    ))
}

/// The Durable Object's side.
pub struct Counter {
    state: State,
    env: Env,
    store: ApiResult<CounterStore>,
    started_at: Cell<Option<Timestamp>>,
    alarm_set: Cell<bool>,
}

impl Counter {
    pub fn new(state: State, env: Env) -> Self {
        let store = CounterStore::open(state.storage().sql(), period::now());
        Self {
            state,
            env,
            store,
            started_at: Cell::new(None),
            alarm_set: Cell::new(false),
        }
    }

    fn store(&self) -> ApiResult<&CounterStore> {
        self.store.as_ref().map_err(Clone::clone)
    }

    pub async fn fetch(&self, req: Request) -> worker::Result<Response> {
        match self.serve(req).await {
            Ok(body) => Response::from_json(&body),
            Err(e) => {
                let message = e.internal_cause().unwrap_or(e.message()).to_owned();
                if e.code() == ErrorCode::Internal {
                    crate::log::error(&format!("usage counter: {message}"));
                }
                Ok(Response::from_json(&Refusal {
                    code: e.code(),
                    message,
                })?
                .with_status(e.status().as_u16()))
            }
        }
    }

    async fn serve(&self, mut req: Request) -> ApiResult<serde_json::Value> {
        let op = req.path();
        let call: Call = req.json().await?;
        let name = self.state.id().name();
        let holds = |expected: Option<String>| name.is_none() || name == expected;
        let is_key_directory = holds(key_directory_name(&call.project, &call.request));
        if op == "/bind-key" {
            if !is_key_directory {
                return Err(misrouted(name));
            }
            let key = call.request.idempotency_key.as_deref().unwrap_or_default();
            self.store()?.bind_key(&call.project, &call.request, key)?;
            // Only the flush alarm purges expired bindings, and a counter may only ever bind.
            self.schedule_flush().await?;
            return Ok(serde_json::Value::Null);
        }
        if !holds(Some(counter_name(&call.project, &call.request))) {
            return Err(misrouted(name));
        }
        self.seed(&call).await?;
        let store = self.store()?;
        // Rows counted before the host restarted wait for a flush even if no alarm survived.
        if !self.alarm_set.get() && store.has_unflushed()? {
            self.schedule_flush().await?;
        }
        Ok(match op.as_str() {
            "/count" => {
                if let Some(key) = call.request.idempotency_key.as_deref()
                    && call.request.shards > 1
                    && is_key_directory
                {
                    store.bind_key(&call.project, &call.request, key)?;
                }
                let outcome = store.count(&call.project, &call.request)?;
                // The count is committed: failing the request now would invite a retry that
                // counts again. A flush not scheduled here is scheduled by the next call.
                if matches!(outcome, CountOutcome::Counted(_))
                    && let Err(e) = self.schedule_flush().await
                {
                    crate::log::error(&format!("usage counter: scheduling a flush failed: {e}"));
                }
                serde_json::to_value(outcome)?
            }
            "/usage" => serde_json::to_value(store.usage_count(&call.project, &call.request)?)?,
            _ => return Err(ApiError::not_found(format!("no counter operation {op}"))),
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
        if !call.request.may_need_seed(started_at) || store.has_row(&call.project, &call.request)? {
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
        if storage.get_alarm().await?.is_none() {
            storage.set_alarm(FLUSH_DELAY_MS).await?;
        }
        self.alarm_set.set(true);
        Ok(())
    }

    /// The alarm: copies the changed rows to D1. On failure the rows stay marked and the
    /// runtime retries the alarm; any later count schedules one too, so nothing is lost.
    pub async fn alarm(&self) -> worker::Result<Response> {
        self.alarm_set.set(false);
        match self.flush().await {
            Ok(copied) => Response::ok(format!("copied {copied} rows to D1")),
            Err(e) => {
                crate::log::error(&format!("usage counter flush failed: {e}"));
                Err(worker::Error::RustError(e.to_string()))
            }
        }
    }

    async fn flush(&self) -> ApiResult<usize> {
        let store = self.store()?;
        let (generation, rows) = store.unflushed()?;
        if !rows.is_empty() {
            Database::from_env(&self.env)?.copy_usage_rows(&rows).await?;
        }
        store.forget_flushed(generation)?;
        store.purge(period::now())?;
        // Counted while the copy was on its way: the next flush takes them.
        if store.has_unflushed()? {
            self.schedule_flush().await?;
        }
        Ok(rows.len())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{
        keys::KeyPair,
        mode::{Mode, ProjectType},
        period::{BillingPeriod, Timestamp},
        tier::UsageLimit,
    };

    fn project(mode: Mode) -> Project {
        Project {
            publishable_key: KeyPair::generate(mode).publishable,
            platform_id: "plt_1".to_owned(),
            project_type: ProjectType::Saas,
        }
    }

    fn request(user_id: &str, shards: u32, key: Option<&str>) -> CountRequest {
        let now = Timestamp(1_796_000_000);
        CountRequest {
            user_id: user_id.to_owned(),
            plan: "free".to_owned(),
            limit: UsageLimit::limited(10),
            period: BillingPeriod::calendar_month(now),
            now,
            idempotency_key: key.map(str::to_owned),
            request_id: "req_1".to_owned(),
            users_bound: None,
            shards,
            usage_in_d1_before: None,
        }
    }

    #[test]
    fn only_a_project_that_counted_in_d1_before_its_counter_is_ever_seeded() {
        let mut req = request("user_1", 1, None);
        let start = req.period.start;
        let after_start = Timestamp(start.0 + 86_400);
        // A project created since the counters: its counter never asks D1.
        assert!(!req.may_need_seed(after_start));
        // One that counted in D1 until after this period began: its new counter must.
        req.usage_in_d1_before = Some(Timestamp(start.0 + 3_600));
        assert!(req.may_need_seed(after_start));
        // ... but not for periods that began after it stopped counting in D1,
        req.usage_in_d1_before = Some(Timestamp(start.0 - 1));
        assert!(!req.may_need_seed(after_start));
        // nor for a period that began after the counter did.
        req.usage_in_d1_before = Some(Timestamp(i64::MAX));
        assert!(!req.may_need_seed(start));
        // A caller of the previous release sends no field: assume D1 may hold counts.
        let old: CountRequest = serde_json::from_value({
            let mut v = serde_json::to_value(request("user_1", 1, None)).unwrap();
            assert!(v.as_object_mut().unwrap().remove("usage_in_d1_before").is_some());
            v
        })
        .unwrap();
        assert!(old.may_need_seed(after_start));
    }

    #[test]
    fn a_user_always_has_the_same_counter_and_projects_and_modes_never_share_one() {
        let (test, live) = (project(Mode::Test), project(Mode::Live));
        let user_1 = request("user_1", 1, None);
        assert_eq!(counter_name(&test, &user_1), counter_name(&test, &user_1));
        assert_ne!(counter_name(&test, &user_1), counter_name(&live, &user_1));
        // One counter keeps the name counters had before layouts: `{pk}/0`.
        assert_eq!(
            counter_name(&test, &user_1),
            format!("{}/0", test.publishable_key.as_str())
        );
        assert_eq!(
            counter_name(&test, &request("user_1", 4, None)),
            format!("{}/4/{}", test.publishable_key.as_str(), shard("user_1", 4))
        );
        // Pinned to FNV-1a's published test vectors: a change of hash would move every user to
        // a fresh counter mid-period.
        assert_eq!(fnv1a(b"a"), 0xaf63_dc4c_8601_ec8c);
        assert_eq!(fnv1a(b"foobar"), 0x8594_4171_f739_67e8);
        let shards: Vec<u64> = ["a", "b", "user_2abc", "u@example.com"]
            .iter()
            .map(|u| shard(u, 4))
            .collect();
        assert_eq!(shards, [0, 1, 1, 1]);
    }

    #[test]
    fn users_spread_over_every_shard_and_the_bound_is_split_among_them() {
        let mut per_shard = [0u32; 4];
        for i in 0..10_000 {
            per_shard[shard(&format!("user_{i}"), 4) as usize] += 1;
        }
        assert!(per_shard.iter().all(|&n| (2_300..2_700).contains(&n)), "{per_shard:?}");
        assert_eq!(users_bound_per_counter(50_000, 1), 50_000);
        assert_eq!(users_bound_per_counter(50_000, 4), 12_500);
        assert_eq!(
            users_bound_per_counter(50_000, 3) * 3,
            50_001,
            "the shards admit at least the bound"
        );
    }

    #[test]
    fn a_key_has_a_directory_only_among_several_counters_and_the_rate_limit_grows_with_them() {
        let p = project(Mode::Test);
        assert_eq!(key_directory_name(&p, &request("u", 1, Some("k"))), None);
        assert_eq!(key_directory_name(&p, &request("u", 4, None)), None);
        let pk = p.publishable_key.as_str();
        // The directory depends on the key, not on the user.
        let a = key_directory_name(&p, &request("user_a", 4, Some("retry-1")));
        let b = key_directory_name(&p, &request("user_b", 4, Some("retry-1")));
        assert_eq!(a, b);
        assert_eq!(a, Some(format!("{pk}/4/{}", shard("retry-1", 4))));
        assert_eq!(rate_limit_key(&p, 1, "user_a"), pk);
        assert_eq!(
            rate_limit_key(&p, 4, "user_a"),
            counter_name(&p, &request("user_a", 4, None))
        );
    }
}
