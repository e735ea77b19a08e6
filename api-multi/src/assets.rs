//! Product images, streamed from R2.

use axum::{
    body::Body,
    extract::{Path, State},
    http::{HeaderValue, header},
    response::Response,
};
use dream_core::{ApiError, ApiResult};
use shared::{
    projects::assets::{content_type_for, parse_asset_path},
    runtime::OrInternal,
};
use worker::{Env, ResponseBody};

const ASSETS_BUCKET: &str = "ASSETS";

/// GET /api/assets/{platformId}/{file} — public; keys carry an upload timestamp, so an object
/// never changes and can be cached for a year.
#[worker::send]
pub async fn serve(State(env): State<Env>, Path((platform_id, file)): Path<(String, String)>) -> ApiResult<Response> {
    let not_found = || ApiError::not_found("No such asset");
    let key = parse_asset_path(&platform_id, &file).ok_or_else(not_found)?;
    let bucket = env
        .bucket(ASSETS_BUCKET)
        .map_err(|e| ApiError::internal(format!("R2 binding: {e}")))?;
    let object = bucket.get(&key).execute().await.or_internal()?.ok_or_else(not_found)?;
    let size = object.size();
    let etag = object.http_etag();
    let stream = match object.body().ok_or_else(not_found)?.response_body().or_internal()? {
        ResponseBody::Stream(stream) => stream,
        _ => return Err(ApiError::internal("R2 object body is not a stream")),
    };
    let mut response = Response::new(Body::new(worker::Body::new(stream)));
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type_for(&key)));
    headers.insert(header::CONTENT_LENGTH, HeaderValue::from(size));
    headers.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("public, max-age=31536000, immutable"),
    );
    if let Ok(etag) = HeaderValue::from_str(&etag) {
        headers.insert(header::ETAG, etag);
    }
    Ok(response)
}
