//! Product image uploads to R2.

use axum::{
    Json,
    body::Bytes,
    extract::{Query, State},
    http::StatusCode,
};
use serde::Deserialize;
use serde_json::{Value, json};
use shared::{
    ApiError, ApiResult,
    assets::{ImageKind, MAX_ASSET_BYTES, object_key, sanitize_filename},
    auth::DeveloperSession,
    config, period,
    projects::require_paid,
};
use worker::{Env, HttpMetadata};

pub const ASSETS_BUCKET: &str = "ASSETS";

#[derive(Deserialize)]
pub struct UploadQuery {
    filename: Option<String>,
}

/// POST /upload-asset?filename=mug.png — the raw image bytes as the body. Only PNG, JPEG, WebP
/// and GIF (detected from the bytes), at most 5 MB. Returns the public URL.
#[worker::send]
pub async fn upload(
    State(env): State<Env>,
    DeveloperSession(developer): DeveloperSession,
    Query(query): Query<UploadQuery>,
    body: Bytes,
) -> ApiResult<Json<Value>> {
    let platform = developer.platform().await?;
    require_paid(&platform, "Uploading images")?;
    if body.len() > MAX_ASSET_BYTES {
        return Err(ApiError::invalid_request("Images are limited to 5 MB").with_status(StatusCode::PAYLOAD_TOO_LARGE));
    }
    let kind = ImageKind::sniff(&body).ok_or_else(|| {
        ApiError::invalid_request("Only PNG, JPEG, WebP and GIF images can be uploaded")
            .with_status(StatusCode::UNSUPPORTED_MEDIA_TYPE)
    })?;
    let filename = sanitize_filename(query.filename.as_deref().unwrap_or("image"), kind);
    let key = object_key(&platform.platform().platform_id, period::now_millis(), &filename);
    let bucket = env
        .bucket(ASSETS_BUCKET)
        .map_err(|e| ApiError::internal(format!("R2 binding: {e}")))?;
    let metadata = HttpMetadata {
        content_type: Some(kind.content_type().to_owned()),
        ..Default::default()
    };
    bucket
        .put(&key, body.to_vec())
        .http_metadata(metadata)
        .execute()
        .await?;
    let base = config::required(&env, "API_MULTI_URL")?;
    let url = format!("{}/api/assets/{key}", base.trim_end_matches('/'));
    Ok(Json(
        json!({ "url": url, "key": key, "contentType": kind.content_type(), "size": body.len() }),
    ))
}
