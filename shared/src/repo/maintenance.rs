//! Housekeeping run by api-multi's daily cron: rows whose purpose has expired. (Idempotency
//! claims live in the usage counters, which purge their own: see `usage::CounterStore::purge`.)

use super::Database;
use crate::{error::ApiResult, period::Timestamp};

/// OAuth states past their expiry can no longer be redeemed. ?1 now.
pub const PURGE_OAUTH_STATES: &str = "DELETE FROM oauth_states WHERE expiresAt < ?1";

impl Database {
    /// Deletes expired OAuth states; returns how many went.
    pub async fn purge_expired(&self, now: Timestamp) -> ApiResult<usize> {
        let result = self.run(PURGE_OAUTH_STATES, &[now.to_rfc3339().into()]).await?;
        Ok(result.meta().ok().flatten().and_then(|m| m.changes).unwrap_or(0))
    }
}
