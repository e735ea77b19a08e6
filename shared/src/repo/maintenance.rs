//! Housekeeping run by api-multi's daily cron: rows whose purpose has expired.

use super::Database;
use crate::{error::ApiResult, period::Timestamp, repo::usage::IDEMPOTENCY_WINDOW_SECS};

/// Idempotency claims older than their window protect nothing. ?1 the cutoff.
pub const PURGE_IDEMPOTENCY_CLAIMS: &str = "DELETE FROM usage_idempotency WHERE createdAt < ?1";
/// OAuth states past their expiry can no longer be redeemed. ?1 now.
pub const PURGE_OAUTH_STATES: &str = "DELETE FROM oauth_states WHERE expiresAt < ?1";

impl Database {
    /// Deletes expired rows; returns how many of each kind went.
    pub async fn purge_expired(&self, now: Timestamp) -> ApiResult<(usize, usize)> {
        let cutoff = Timestamp(now.0 - IDEMPOTENCY_WINDOW_SECS).to_rfc3339();
        let results = self
            .batch(&[
                (PURGE_IDEMPOTENCY_CLAIMS, vec![cutoff.into()]),
                (PURGE_OAUTH_STATES, vec![now.to_rfc3339().into()]),
            ])
            .await?;
        let changes = |i: usize| {
            results
                .get(i)
                .and_then(|r| r.meta().ok().flatten())
                .and_then(|m| m.changes)
                .unwrap_or(0)
        };
        Ok((changes(0), changes(1)))
    }
}
