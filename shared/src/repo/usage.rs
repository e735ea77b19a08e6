//! Usage counting: the hot path. One atomic statement both counts and enforces the limit, so N
//! concurrent requests at limit L give exactly L successes; with an Idempotency-Key the claim,
//! the count and the record of the result commit together in one D1 batch.

use serde::Deserialize;

use super::{Project, ProjectScope, SqlParam};
use crate::{
    error::{ApiError, ApiResult},
    period::{BillingPeriod, Timestamp},
    tier::UsageLimit,
};

/// Counts one request unless the limit is reached. Parameters:
/// ?1 publishableKey, ?2 userId, ?3 periodStart, ?4 periodEnd, ?5 platformId, ?6 plan,
/// ?7 limit (NULL = unlimited), ?8 now, ?9 idempotencyKey (NULL = none), ?10 requestId,
/// ?11 the most distinct users the project may count in a period (NULL = no bound).
/// With an idempotency key, the insert only proceeds while this request holds the claim.
/// A user the period does not know yet is only let in below the bound.
/// Returns the new count, or no row when the limit, the bound (or a lost claim) stopped it.
pub const COUNT_USAGE: &str = "\
INSERT INTO usage_counts (publishableKey, userId, periodStart, periodEnd, platformId, plan, usageCount, updatedAt)
SELECT ?1, ?2, ?3, ?4, ?5, ?6, 1, ?8
WHERE (?7 IS NULL OR ?7 > 0)
  AND (?9 IS NULL OR EXISTS (SELECT 1 FROM usage_idempotency
                             WHERE publishableKey = ?1 AND idempotencyKey = ?9 AND requestId = ?10))
  AND (?11 IS NULL
       OR EXISTS (SELECT 1 FROM usage_counts WHERE publishableKey = ?1 AND userId = ?2 AND periodStart = ?3)
       OR COALESCE((SELECT users FROM usage_period_users WHERE publishableKey = ?1 AND periodStart = ?3), 0) < ?11)
ON CONFLICT (publishableKey, userId, periodStart) DO UPDATE
SET usageCount = usageCount + 1, plan = excluded.plan, periodEnd = excluded.periodEnd, updatedAt = excluded.updatedAt
WHERE ?7 IS NULL OR usage_counts.usageCount < ?7
RETURNING usageCount";

/// Claims an idempotency key for this request, but only while the limit still allows one more
/// request: a request refused at the limit leaves no claim, so its retry is evaluated afresh.
/// A claim older than the expiry (?8) is taken over. The users bound (?9) refuses it as
/// COUNT_USAGE would. Parameters: ?1 publishableKey, ?2 idempotencyKey, ?3 userId,
/// ?4 requestId, ?5 now, ?6 periodStart, ?7 limit, ?8 expiredBefore, ?9 users bound.
pub const CLAIM_IDEMPOTENCY_KEY: &str = "\
INSERT INTO usage_idempotency (publishableKey, idempotencyKey, userId, requestId, createdAt)
SELECT ?1, ?2, ?3, ?4, ?5
WHERE (?7 IS NULL OR COALESCE((SELECT usageCount FROM usage_counts
                               WHERE publishableKey = ?1 AND userId = ?3 AND periodStart = ?6), 0) < ?7)
  AND (?9 IS NULL
       OR EXISTS (SELECT 1 FROM usage_counts WHERE publishableKey = ?1 AND userId = ?3 AND periodStart = ?6)
       OR COALESCE((SELECT users FROM usage_period_users WHERE publishableKey = ?1 AND periodStart = ?6), 0) < ?9)
ON CONFLICT (publishableKey, idempotencyKey) DO UPDATE
SET userId = excluded.userId, requestId = excluded.requestId, usageCount = NULL, createdAt = excluded.createdAt
WHERE usage_idempotency.createdAt < ?8";

/// Stores the count the claiming request produced, for replays. Parameters: ?1 publishableKey,
/// ?2 idempotencyKey, ?3 userId, ?4 periodStart, ?5 requestId.
pub const RECORD_IDEMPOTENT_RESULT: &str = "\
UPDATE usage_idempotency
SET usageCount = (SELECT usageCount FROM usage_counts WHERE publishableKey = ?1 AND userId = ?3 AND periodStart = ?4)
WHERE publishableKey = ?1 AND idempotencyKey = ?2 AND requestId = ?5";

pub const SELECT_IDEMPOTENCY_CLAIM: &str = "\
SELECT userId, requestId, usageCount, createdAt FROM usage_idempotency WHERE publishableKey = ?1 AND idempotencyKey = ?2";

/// A user's first counted request of a period: one more distinct user for the bound.
/// ?1 publishableKey, ?2 periodStart.
pub const NOTE_NEW_PERIOD_USER: &str = "\
INSERT INTO usage_period_users (publishableKey, periodStart, users) VALUES (?1, ?2, 1)
ON CONFLICT (publishableKey, periodStart) DO UPDATE SET users = users + 1";

pub const SELECT_USAGE: &str = "\
SELECT usageCount FROM usage_counts WHERE publishableKey = ?1 AND userId = ?2 AND periodStart = ?3";

/// How long an Idempotency-Key protects against a double count.
pub const IDEMPOTENCY_WINDOW_SECS: i64 = 24 * 3600;

/// One request to count.
#[derive(Debug, Clone)]
pub struct CountRequest<'a> {
    pub user_id: &'a str,
    pub plan: &'a str,
    pub limit: UsageLimit,
    pub period: BillingPeriod,
    pub now: Timestamp,
    pub idempotency_key: Option<&'a str>,
    pub request_id: &'a str,
    /// The most distinct users the project may count in one period (`None`: no bound).
    pub users_bound: Option<u64>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CountOutcome {
    Counted(u64),
    /// The limit stopped it; the count is what the period already holds.
    LimitReached(u64),
    /// The same Idempotency-Key was counted before; this is that request's count.
    Replayed(u64),
    /// A user new to the period, refused: the project counted its bound of users already.
    TooManyUsers(u64),
}

/// What the statements' results say, before the current count of a refused request is read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    Counted(u64),
    Replayed(u64),
    LimitReached,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CountRow {
    pub usage_count: i64,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ClaimRow {
    pub user_id: String,
    pub request_id: String,
    pub usage_count: Option<i64>,
    pub created_at: String,
}

fn as_count(n: i64) -> u64 {
    u64::try_from(n).unwrap_or(0)
}

// Parameter lists, in the order each statement's doc comment gives. Pure, so the native SQL
// tests bind exactly what production binds.
impl CountRequest<'_> {
    pub fn count_params(&self, project: &Project) -> Vec<SqlParam> {
        vec![
            project.publishable_key.as_str().into(),
            self.user_id.into(),
            self.period.start.to_rfc3339().into(),
            self.period.end.to_rfc3339().into(),
            project.platform_id.as_str().into(),
            self.plan.into(),
            self.limit.as_sql().into(),
            self.now.to_rfc3339().into(),
            self.idempotency_key.into(),
            self.request_id.into(),
            self.users_bound_sql().into(),
        ]
    }

    fn users_bound_sql(&self) -> Option<i64> {
        self.users_bound.map(|n| i64::try_from(n).unwrap_or(i64::MAX))
    }

    pub fn new_user_params(&self, project: &Project) -> Vec<SqlParam> {
        vec![
            project.publishable_key.as_str().into(),
            self.period.start.to_rfc3339().into(),
        ]
    }

    /// Claims made before this are past the window: they protect nothing any more.
    fn expired_before(&self) -> String {
        Timestamp(self.now.0 - IDEMPOTENCY_WINDOW_SECS).to_rfc3339()
    }

    pub fn claim_params(&self, project: &Project, key: &str) -> Vec<SqlParam> {
        vec![
            project.publishable_key.as_str().into(),
            key.into(),
            self.user_id.into(),
            self.request_id.into(),
            self.now.to_rfc3339().into(),
            self.period.start.to_rfc3339().into(),
            self.limit.as_sql().into(),
            self.expired_before().into(),
            self.users_bound_sql().into(),
        ]
    }

    pub fn record_params(&self, project: &Project, key: &str) -> Vec<SqlParam> {
        vec![
            project.publishable_key.as_str().into(),
            key.into(),
            self.user_id.into(),
            self.period.start.to_rfc3339().into(),
            self.request_id.into(),
        ]
    }

    pub fn claim_read_params(&self, project: &Project, key: &str) -> Vec<SqlParam> {
        vec![project.publishable_key.as_str().into(), key.into()]
    }

    /// Reads the results of the idempotent batch: the counting statement's row, and the claim
    /// as it stands after the batch.
    pub fn verdict(&self, counted: Option<CountRow>, claim: Option<ClaimRow>) -> ApiResult<Verdict> {
        if let Some(row) = counted {
            return Ok(Verdict::Counted(as_count(row.usage_count)));
        }
        // A claim past the window is not a record to replay: at the limit, the claim statement
        // cannot take it over, and the request is a new one, refused like any other.
        let expired_before = self.expired_before();
        let claim = claim.filter(|c| c.created_at >= expired_before);
        match claim {
            // No claim at all: the limit refused this request before it could claim the key.
            None => Ok(Verdict::LimitReached),
            Some(claim) if claim.request_id != self.request_id && claim.user_id != self.user_id => Err(
                ApiError::conflict("This Idempotency-Key was already used for a different X-User-Id"),
            ),
            Some(ClaimRow {
                request_id,
                usage_count: Some(count),
                ..
            }) if request_id != self.request_id => Ok(Verdict::Replayed(as_count(count))),
            // Claimed by this request but not counted, or claimed without a recorded count: the
            // claim, count and record commit together, so neither can happen; say so loudly.
            Some(_) => Err(ApiError::internal("idempotency claim without a matching count")),
        }
    }
}

impl ProjectScope {
    pub async fn count_usage(&self, req: &CountRequest<'_>) -> ApiResult<CountOutcome> {
        let verdict = match req.idempotency_key {
            None => self.count_once(req).await,
            Some(key) => self.count_idempotent(req, key).await,
        }
        .map_err(|e| e.context("counting usage"))?;
        Ok(match verdict {
            Verdict::Counted(n) => {
                if n == 1 {
                    // A new row starts at 1 and an existing one never returns to it.
                    self.db
                        .run(NOTE_NEW_PERIOD_USER, &req.new_user_params(&self.project))
                        .await
                        .map_err(|e| e.context("noting a new user of the period"))?;
                }
                CountOutcome::Counted(n)
            }
            Verdict::Replayed(n) => CountOutcome::Replayed(n),
            Verdict::LimitReached => {
                let count = self.usage_count(req.user_id, &req.period).await?;
                match req.users_bound {
                    // Nothing counted for a user a positive limit would admit: the bound said no.
                    Some(bound) if count == 0 && req.limit.as_sql() != Some(0) => CountOutcome::TooManyUsers(bound),
                    _ => CountOutcome::LimitReached(count),
                }
            }
        })
    }

    async fn count_once(&self, req: &CountRequest<'_>) -> ApiResult<Verdict> {
        let counted: Option<CountRow> = self.db.first(COUNT_USAGE, &req.count_params(&self.project)).await?;
        Ok(counted.map_or(Verdict::LimitReached, |row| Verdict::Counted(as_count(row.usage_count))))
    }

    /// Claim, count, record and read back in one D1 batch (one transaction, one round trip).
    async fn count_idempotent(&self, req: &CountRequest<'_>, key: &str) -> ApiResult<Verdict> {
        let p = &self.project;
        let statements = [
            (CLAIM_IDEMPOTENCY_KEY, req.claim_params(p, key)),
            (COUNT_USAGE, req.count_params(p)),
            (RECORD_IDEMPOTENT_RESULT, req.record_params(p, key)),
            (SELECT_IDEMPOTENCY_CLAIM, req.claim_read_params(p, key)),
        ];
        let results = self.db.batch(&statements).await?;
        let [_, counted, _, claim] = <[worker::D1Result; 4]>::try_from(results)
            .map_err(|r| ApiError::internal(format!("batch returned {} results, expected 4", r.len())))?;
        let counted = counted.results::<CountRow>()?.into_iter().next();
        let claim = claim.results::<ClaimRow>()?.into_iter().next();
        req.verdict(counted, claim)
    }

    /// Requests counted for a user in a period (0 if none yet).
    pub async fn usage_count(&self, user_id: &str, period: &BillingPeriod) -> ApiResult<u64> {
        let row: Option<CountRow> = self
            .db
            .first(
                SELECT_USAGE,
                &[self.pk(), user_id.into(), period.start.to_rfc3339().into()],
            )
            .await?;
        Ok(row.map_or(0, |r| as_count(r.usage_count)))
    }
}
