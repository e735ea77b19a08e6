//! Product image uploads to R2.

use axum::{
    Json,
    body::Bytes,
    extract::{Query, State},
    http::StatusCode,
};
use std::sync::Arc;

use dream_core::api::{AssetDeleted, AssetUploaded, DeleteAssetQuery, StorageUsage, UploadQuery, projects::QUOTA};
use dream_core::{ApiError, ApiResult, error::ErrorCode, mode::Mode, team::Action};
use serde_json::json;
use shared::runtime::clock;
use shared::{
    identity::DeveloperSession,
    projects::{
        assets::{ImageKind, MAX_ASSET_BYTES, object_key, sanitize_filename},
        require_paid,
    },
    runtime::OrInternal,
};
use worker::{Env, HttpMetadata};

use crate::settings::Settings;

pub const ASSETS_BUCKET: &str = "ASSETS";

/// POST /upload-asset?filename=mug.png — the raw image bytes as the body. Only PNG, JPEG, WebP
/// and GIF (detected from the bytes), at most 5 MB, within the developer's quota (reserved in
/// D1 before the object is written, given back if R2 fails). Returns the public URL.
#[worker::send]
pub async fn upload(
    State(env): State<Env>,
    State(settings): State<Arc<Settings>>,
    DeveloperSession(developer): DeveloperSession,
    Query(query): Query<UploadQuery>,
    body: Bytes,
) -> ApiResult<Json<AssetUploaded>> {
    let platform = developer.platform().await?;
    let actor = platform.authorize(Action::Change(Mode::Test))?;
    require_paid(&platform, "Uploading images")?;
    if body.len() > MAX_ASSET_BYTES {
        return Err(ApiError::invalid_request("Images are limited to 5 MB").with_status(StatusCode::PAYLOAD_TOO_LARGE));
    }
    let kind = ImageKind::sniff(&body).ok_or_else(|| {
        ApiError::invalid_request("Only PNG, JPEG, WebP and GIF images can be uploaded")
            .with_status(StatusCode::UNSUPPORTED_MEDIA_TYPE)
    })?;
    let filename = sanitize_filename(query.filename.as_deref().unwrap_or("image"), kind);
    let key = object_key(&platform.platform().platform_id, clock::now_millis(), &filename);
    let bucket = env
        .bucket(ASSETS_BUCKET)
        .map_err(|e| ApiError::internal(format!("R2 binding: {e}")))?;
    let base = settings.api_multi_url.get()?;
    let now = clock::now();
    let uploaded = actor.entry("asset.uploaded", now).target(key.clone()).changes(
        None::<()>,
        json!({ "bytes": body.len(), "contentType": kind.content_type() }),
    );
    if !platform
        .reserve_asset(&key, body.len(), kind.content_type(), QUOTA, &uploaded, now)
        .await?
    {
        return Err(ApiError::new(
            ErrorCode::QuotaExceeded,
            format!(
                "Your image storage is full ({} images or {} MB); this image does not fit",
                QUOTA.max_images,
                QUOTA.max_bytes / (1024 * 1024)
            ),
        )
        .with_detail("quota", StorageUsage::from(platform.asset_usage().await?)));
    }
    let metadata = HttpMetadata {
        content_type: Some(kind.content_type().to_owned()),
        ..Default::default()
    };
    if let Err(e) = bucket.put(&key, body.to_vec()).http_metadata(metadata).execute().await {
        let undone = actor.entry("asset.upload_failed", now).target(key.clone());
        platform.release_asset(&key, &undone).await?;
        return Err(ApiError::internal(e));
    }
    let url = format!("{}/api/assets/{key}", base.trim_end_matches('/'));
    Ok(Json(AssetUploaded {
        url,
        key,
        content_type: kind.content_type().to_owned(),
        size: body.len(),
        quota: platform.asset_usage().await?.into(),
    }))
}

/// DELETE /upload-asset?key={platformId}/{file} — removes one of the developer's images and
/// gives its room back. Anyone else's key is a 404. R2 first: if it fails, the image is still
/// there and still counted.
#[worker::send]
pub async fn delete(
    State(env): State<Env>,
    DeveloperSession(developer): DeveloperSession,
    Query(query): Query<DeleteAssetQuery>,
) -> ApiResult<Json<AssetDeleted>> {
    let platform = developer.platform().await?;
    // Images belong to the platform, and live products may show them.
    let actor = platform.authorize(Action::Change(Mode::Live))?;
    if !platform.owns_asset(&query.key).await? {
        return Err(ApiError::not_found("No such image"));
    }
    let bucket = env
        .bucket(ASSETS_BUCKET)
        .map_err(|e| ApiError::internal(format!("R2 binding: {e}")))?;
    bucket.delete(&query.key).await.or_internal()?;
    let deleted = actor.entry("asset.deleted", clock::now()).target(query.key.clone());
    platform.release_asset(&query.key, &deleted).await?;
    Ok(Json(AssetDeleted {
        quota: platform.asset_usage().await?.into(),
        deleted: query.key,
    }))
}
