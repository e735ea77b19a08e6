//! Developers' uploaded images: a row per R2 object, for the per-developer quota.

use dream_core::api::projects::{AssetQuota, AssetUsage};
use serde::Deserialize;

use super::PlatformScope;
use dream_core::{error::ApiResult, period::Timestamp};

/// Reserves a new image only while the platform stays within both limits after it: the count
/// and the bytes are checked by the insert itself, so concurrent uploads cannot pass the quota
/// together. ?1 objectKey, ?2 platformId, ?3 bytes, ?4 contentType, ?5 now, ?6 most images,
/// ?7 most bytes.
pub const RESERVE_ASSET: &str = "\
INSERT INTO assets (objectKey, platformId, bytes, contentType, createdAt)
SELECT ?1, ?2, ?3, ?4, ?5
WHERE (SELECT COUNT(*) FROM assets WHERE platformId = ?2) < ?6
  AND (SELECT COALESCE(SUM(bytes), 0) FROM assets WHERE platformId = ?2) + ?3 <= ?7";

/// Gives a reservation back when the object could not be stored. ?1 objectKey, ?2 platformId.
pub const RELEASE_ASSET: &str = "DELETE FROM assets WHERE objectKey = ?1 AND platformId = ?2";

/// One of the platform's images. ?1 objectKey, ?2 platformId.
pub const SELECT_ASSET: &str = "SELECT bytes FROM assets WHERE objectKey = ?1 AND platformId = ?2";

/// ?1 platformId.
pub const SELECT_ASSET_USAGE: &str =
    "SELECT COUNT(*) AS images, COALESCE(SUM(bytes), 0) AS bytes FROM assets WHERE platformId = ?1";

impl PlatformScope {
    /// False when the image would take the platform past its quota (nothing is written then).
    pub async fn reserve_asset(
        &self,
        key: &str,
        bytes: usize,
        content_type: &str,
        quota: AssetQuota,
        audit: &super::audit::AuditEntry,
        now: Timestamp,
    ) -> ApiResult<bool> {
        let params = [
            key.into(),
            self.platform.platform_id.as_str().into(),
            (bytes as i64).into(),
            content_type.into(),
            now.to_rfc3339().into(),
            quota.max_images.into(),
            quota.max_bytes.into(),
        ];
        let result = self.db.run_audited(RESERVE_ASSET, &params, Some(audit)).await?;
        Ok(result.changes() == 1)
    }

    /// False when the platform has no such image.
    pub async fn release_asset(&self, key: &str, audit: &super::audit::AuditEntry) -> ApiResult<bool> {
        let result = self
            .db
            .run_audited(
                RELEASE_ASSET,
                &[key.into(), self.platform.platform_id.as_str().into()],
                Some(audit),
            )
            .await?;
        Ok(result.changes() == 1)
    }

    pub async fn owns_asset(&self, key: &str) -> ApiResult<bool> {
        #[derive(Deserialize)]
        struct Row {
            #[allow(dead_code)]
            bytes: i64,
        }
        let row: Option<Row> = self
            .db
            .first(SELECT_ASSET, &[key.into(), self.platform.platform_id.as_str().into()])
            .await?;
        Ok(row.is_some())
    }

    pub async fn asset_usage(&self) -> ApiResult<AssetUsage> {
        let row: Option<AssetUsage> = self
            .db
            .first(SELECT_ASSET_USAGE, &[self.platform.platform_id.as_str().into()])
            .await?;
        Ok(row.unwrap_or(AssetUsage { images: 0, bytes: 0 }))
    }
}
