//! D1 repositories: the only place SQL lives. Each submodule holds its statements as named
//! constants with bound parameters, and the code that runs them; `project_cache` is the KV
//! read-through cache of projects in front of them.
//!
//! Tenant data is reachable only through a [`ProjectScope`], which this crate builds only after
//! authenticating a caller for that project (see `identity`). A worker cannot construct one from a
//! raw publishable key, so an unscoped tenant query cannot be written by accident.

pub mod assets;
pub mod audit;
pub mod customers;
pub mod exports;
pub mod maintenance;
pub mod metrics;
pub mod orders;
pub mod platforms;
pub mod project_cache;
pub mod project_memory;
pub mod projects;
pub mod promotions;
pub mod refunds;
pub mod subscriptions;
pub mod team;
pub mod usage;
pub mod webhooks;

#[cfg(not(target_arch = "wasm32"))]
mod native;

use std::sync::Arc;

use crate::runtime::timing::timed;

use serde::de::DeserializeOwned;
use worker::{D1Database, D1PreparedStatement, D1Result, Env, wasm_bindgen::JsValue};

use dream_core::{
    error::{ApiError, ApiResult, Cause},
    keys::PublishableKey,
    mode::ProjectType,
    team::{Action, Role},
};

pub const DB_BINDING: &str = "DB";

/// The D1 database shared by the three workers (a handle: clones share one binding). Natively
/// (tests) the same statements run on SQLite with the real migrations: D1 is SQLite.
#[derive(Clone)]
pub struct Database(Backend);

#[derive(Clone)]
enum Backend {
    D1(Arc<D1Database>),
    #[cfg(not(target_arch = "wasm32"))]
    Sqlite(Arc<std::sync::Mutex<rusqlite::Connection>>),
}

/// What a statement did: the rows it changed and, for one that returns rows, its rows.
pub(crate) struct Executed(Ran);

enum Ran {
    D1(D1Result),
    #[cfg(not(target_arch = "wasm32"))]
    Sqlite {
        changes: i64,
        rows: Vec<serde_json::Value>,
    },
}

impl Executed {
    /// Rows changed (0 when D1 does not say).
    pub(crate) fn changes(&self) -> i64 {
        match &self.0 {
            Ran::D1(result) => result
                .meta()
                .ok()
                .flatten()
                .and_then(|m| m.changes)
                .map_or(0, |c| c as i64),
            #[cfg(not(target_arch = "wasm32"))]
            Ran::Sqlite { changes, .. } => *changes,
        }
    }

    pub(crate) fn rows<T: DeserializeOwned>(&self) -> ApiResult<Vec<T>> {
        match &self.0 {
            Ran::D1(result) => result.results::<T>().map_err(sql_error),
            #[cfg(not(target_arch = "wasm32"))]
            Ran::Sqlite { rows, .. } => rows
                .iter()
                .map(|row| serde_json::from_value(row.clone()).map_err(ApiError::internal))
                .collect(),
        }
    }
}

impl Database {
    pub fn from_env(env: &Env) -> ApiResult<Self> {
        env.d1(DB_BINDING)
            .map(|db| Self(Backend::D1(Arc::new(db))))
            .map_err(|e| ApiError::internal(format!("D1 binding `{DB_BINDING}`: {e}")))
    }

    /// The native database of the use-case tests: a SQLite connection with the migrations run.
    #[cfg(not(target_arch = "wasm32"))]
    pub fn sqlite(connection: rusqlite::Connection) -> Self {
        Self(Backend::Sqlite(Arc::new(std::sync::Mutex::new(connection))))
    }

    /// Runs SQL as it is (the native tests' own setup, such as a paid plan).
    #[cfg(all(test, not(target_arch = "wasm32")))]
    pub(crate) fn execute_for_test(&self, sql: &str) {
        if let Backend::Sqlite(connection) = &self.0 {
            connection.lock().unwrap().execute_batch(sql).unwrap();
        }
    }

    fn statement(d1: &D1Database, sql: &'static str, params: &[SqlParam]) -> ApiResult<D1PreparedStatement> {
        let values: Vec<JsValue> = params.iter().map(SqlParam::to_js).collect();
        d1.prepare(sql)
            .bind(&values)
            .map_err(|e| sql_error(e).context("binding parameters"))
    }

    async fn first<T: DeserializeOwned>(&self, sql: &'static str, params: &[SqlParam]) -> ApiResult<Option<T>> {
        match &self.0 {
            Backend::D1(d1) => {
                retrying_busy(|| async {
                    timed("d1", Self::statement(d1, sql, params)?.first::<T>(None))
                        .await
                        .map_err(sql_error)
                })
                .await
            }
            #[cfg(not(target_arch = "wasm32"))]
            Backend::Sqlite(_) => Ok(self.all(sql, params).await?.into_iter().next()),
        }
    }

    async fn all<T: DeserializeOwned>(&self, sql: &'static str, params: &[SqlParam]) -> ApiResult<Vec<T>> {
        match &self.0 {
            Backend::D1(d1) => {
                retrying_busy(|| async {
                    let result = timed("d1", Self::statement(d1, sql, params)?.all())
                        .await
                        .map_err(sql_error)?;
                    result.results::<T>().map_err(sql_error)
                })
                .await
            }
            #[cfg(not(target_arch = "wasm32"))]
            Backend::Sqlite(_) => self.run(sql, params).await?.rows(),
        }
    }

    async fn run(&self, sql: &'static str, params: &[SqlParam]) -> ApiResult<Executed> {
        match &self.0 {
            Backend::D1(d1) => retrying_busy(|| async {
                timed("d1", Self::statement(d1, sql, params)?.run())
                    .await
                    .map_err(sql_error)
            })
            .await
            .map(|r| Executed(Ran::D1(r))),
            #[cfg(not(target_arch = "wasm32"))]
            Backend::Sqlite(_) => Ok(self.batch(&[(sql, params.to_vec())]).await?.remove(0)),
        }
    }

    /// Runs a change and, in the same transaction, the audit entry that records it (written only
    /// if the change touched a row).
    async fn run_audited(
        &self,
        sql: &'static str,
        params: &[SqlParam],
        audit: Option<&audit::AuditEntry>,
    ) -> ApiResult<Executed> {
        let mut statements = vec![(sql, params.to_vec())];
        statements.extend(audit.map(audit::AuditEntry::statement_if_changed));
        Ok(self.batch(&statements).await?.remove(0))
    }

    /// Runs statements as one transaction: all apply or none do.
    async fn batch(&self, statements: &[Statement]) -> ApiResult<Vec<Executed>> {
        match &self.0 {
            Backend::D1(d1) => retrying_busy(|| async {
                let prepared = statements
                    .iter()
                    .map(|(sql, params)| Self::statement(d1, sql, params))
                    .collect::<ApiResult<Vec<_>>>()?;
                timed("d1", d1.batch(prepared)).await.map_err(sql_error)
            })
            .await
            .map(|results| results.into_iter().map(|r| Executed(Ran::D1(r))).collect()),
            #[cfg(not(target_arch = "wasm32"))]
            Backend::Sqlite(connection) => {
                let mut connection = connection
                    .lock()
                    .map_err(|_| ApiError::internal("SQLite lock poisoned"))?;
                native::batch(&mut connection, statements)
            }
        }
    }
}

/// A statement of a batch: its SQL and parameters (kept, so a retried batch can be rebuilt).
pub(crate) type Statement = (&'static str, Vec<SqlParam>);

/// Enough for about four seconds of local contention (a loaded 2-core CI machine has seen more
/// than the one second six retries gave).
const BUSY_RETRIES: u32 = 10;
const BUSY_MAX_DELAY_MS: u64 = 1_000;

/// "database is locked" means the statement was not applied, so it is always safe to retry.
/// Production D1 has a single writer and never answers this; local `wrangler dev` runs one
/// workerd per worker over a shared SQLite file and does, when two workers write at once.
/// (Other D1 errors are not retried: after a lost connection a write may have happened.)
async fn retrying_busy<T, F, Fut>(mut operation: F) -> ApiResult<T>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = ApiResult<T>>,
{
    let mut attempt = 0;
    loop {
        match operation().await {
            Err(e) if attempt < BUSY_RETRIES && e.cause() == Some(&Cause::DatabaseBusy) => {
                attempt += 1;
                let base = (5u64 << attempt).min(BUSY_MAX_DELAY_MS);
                let jitter = u64::from(dream_core::keys::random_byte()) % base;
                crate::runtime::clock::sleep(std::time::Duration::from_millis(base + jitter)).await;
            }
            other => return other,
        }
    }
}

/// D1 reports constraint failures and contention only as message text: read it here, once, into
/// a typed cause the callers match.
pub(crate) fn sql_error(error: worker::Error) -> ApiError {
    let message = error.to_string();
    let cause = Cause::of_sqlite_message(&message);
    let error = ApiError::internal(message);
    match cause {
        Some(cause) => error.with_cause(cause),
        None => error,
    }
}

/// A developer's platform, reachable only from a verified developer session (or a consumed
/// OAuth state). Project lookups through it are limited to the platform's own projects.
pub struct PlatformScope {
    db: Database,
    platform: platforms::Platform,
    caller: Caller,
}

/// The member a platform scope was opened for: who they are and their role in it.
#[derive(Debug, Clone)]
pub struct Caller {
    pub user_id: String,
    /// As the session token says (the `dream-api` JWT template adds it).
    pub email: Option<String>,
    pub role: Role,
    pub request_id: String,
}

impl PlatformScope {
    pub(crate) fn new(db: Database, platform: platforms::Platform, caller: Caller) -> Self {
        Self { db, platform, caller }
    }

    pub fn platform(&self) -> &platforms::Platform {
        &self.platform
    }

    pub fn caller(&self) -> &Caller {
        &self.caller
    }

    /// The caller's permission for `action` (a 403 naming the role it needs), as the actor of
    /// the audit entries that record what they then change.
    pub fn authorize(&self, action: Action) -> ApiResult<audit::Actor> {
        self.caller.role.authorize(action)?;
        Ok(self.actor())
    }

    fn actor(&self) -> audit::Actor {
        audit::Actor {
            platform_id: self.platform.platform_id.clone(),
            id: self.caller.user_id.clone(),
            email: self.caller.email.clone(),
            role: Some(self.caller.role),
            request_id: self.caller.request_id.clone(),
        }
    }

    fn platform_param(&self) -> SqlParam {
        self.platform.platform_id.as_str().into()
    }
}

/// Who a project is; read-only, known once the caller is authenticated.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Project {
    pub publishable_key: PublishableKey,
    pub platform_id: String,
    pub project_type: ProjectType,
}

/// Access to one project's data. Every method filters by this project's publishable key.
pub struct ProjectScope {
    db: Database,
    project: Project,
}

impl ProjectScope {
    /// Only the authentication paths of this crate may call this.
    pub(crate) fn new(db: Database, project: Project) -> Self {
        Self { db, project }
    }

    pub fn project(&self) -> &Project {
        &self.project
    }

    /// The database the scope reads (a configuration read again by the authentication path).
    pub(crate) fn database(&self) -> &Database {
        &self.db
    }

    fn pk(&self) -> SqlParam {
        SqlParam::from(self.project.publishable_key.as_str())
    }

    /// The Stripe account the project's developer connected (its products and customers live
    /// there).
    pub async fn stripe_account(&self) -> ApiResult<Option<String>> {
        #[derive(serde::Deserialize)]
        #[serde(rename_all = "camelCase")]
        struct Row {
            stripe_user_id: String,
        }
        let row: Option<Row> = self
            .db
            .first(
                platforms::SELECT_STRIPE_CONNECTION,
                &[self.project.platform_id.as_str().into()],
            )
            .await?;
        Ok(row.map(|r| r.stripe_user_id))
    }
}

/// A bound parameter, independent of D1 so the statements' parameter lists can be built and
/// run natively in tests exactly as production builds them.
#[derive(Debug, Clone, PartialEq)]
pub enum SqlParam {
    Text(String),
    Int(i64),
    Null,
}

impl SqlParam {
    /// D1 takes JS numbers: exact up to 2^53, far beyond any count or amount we store.
    pub(crate) fn to_js(&self) -> JsValue {
        match self {
            Self::Text(s) => JsValue::from(s.as_str()),
            Self::Int(n) => JsValue::from_f64(*n as f64),
            Self::Null => JsValue::NULL,
        }
    }
}

impl From<&str> for SqlParam {
    fn from(s: &str) -> Self {
        Self::Text(s.to_owned())
    }
}

impl From<String> for SqlParam {
    fn from(s: String) -> Self {
        Self::Text(s)
    }
}

impl From<i64> for SqlParam {
    fn from(n: i64) -> Self {
        Self::Int(n)
    }
}

impl<T: Into<SqlParam>> From<Option<T>> for SqlParam {
    fn from(v: Option<T>) -> Self {
        v.map_or(Self::Null, Into::into)
    }
}
