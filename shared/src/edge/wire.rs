//! Between workerd's `Request`/`Response` and axum's, for every request of every worker.
//! workers-rs' own conversion streams every body through a `ReadableStream` (a promise and a
//! Wasm call per chunk, both ways) and copies the request's `cf` object, which nothing here
//! reads: on the metered path that was a tenth of the isolate's time (`make bench`'s profile).
//! A body whose size is known and small crosses in one piece; a larger or unknown one keeps
//! the streaming conversion, so a big upload or an R2 object is never held whole.

use axum::body::HttpBody as _;
use axum::{body::Body, extract::Request, http::HeaderValue, response::Response};
use worker::{js_sys, wasm_bindgen::JsCast, wasm_bindgen_futures::JsFuture, web_sys};

/// The largest body copied whole: far above a metered request or a JSON answer.
const SMALL_BODY: u64 = 64 * 1024;

/// The request as axum sees it. Its body is read at once when its `Content-Length` is small.
pub async fn request_from_js(request: web_sys::Request) -> worker::Result<Request> {
    let mut builder = axum::http::Request::builder()
        .method(request.method().as_str())
        .uri(request.url());
    if let Some(headers) = builder.headers_mut() {
        for entry in request.headers().entries() {
            let pair: js_sys::Array = entry?.unchecked_into();
            let (name, value) = (pair.get(0).as_string(), pair.get(1).as_string());
            if let (Some(name), Some(value)) = (name, value) {
                headers.append(
                    axum::http::HeaderName::from_bytes(name.as_bytes())?,
                    HeaderValue::from_str(&value)?,
                );
            }
        }
    }
    let length = (builder.headers_ref())
        .and_then(|h| h.get(axum::http::header::CONTENT_LENGTH))
        .and_then(|v| v.to_str().ok()?.parse::<u64>().ok());
    let body = match (request.body(), length) {
        (None, _) | (_, Some(0)) => Body::empty(),
        (Some(_), Some(length)) if length <= SMALL_BODY => {
            let buffer = JsFuture::from(request.array_buffer()?).await?;
            Body::from(js_sys::Uint8Array::new(&buffer).to_vec())
        }
        (Some(stream), _) => Body::new(worker::Body::new(stream)),
    };
    Ok(builder.body(body)?)
}

/// The response as workerd sends it. A small body of known size is copied whole.
pub async fn response_to_js(response: Response) -> worker::Result<web_sys::Response> {
    let (parts, body) = response.into_parts();
    let Some(length) = body.size_hint().exact().filter(|n| *n <= SMALL_BODY) else {
        return worker::response_to_wasm(Response::from_parts(parts, body));
    };
    let headers = web_sys::Headers::new()?;
    for (name, value) in &parts.headers {
        headers.append(name.as_str(), &String::from_utf8_lossy(value.as_bytes()))?;
    }
    let init = web_sys::ResponseInit::new();
    init.set_status(parts.status.as_u16());
    init.set_headers(&headers);
    let mut bytes = axum::body::to_bytes(body, length as usize)
        .await
        .map_err(|e| worker::Error::RustError(format!("reading the response body: {e}")))?
        .to_vec();
    // A 204 or 304 must have no body at all, not an empty one.
    let body = (!bytes.is_empty()).then_some(bytes.as_mut_slice());
    Ok(web_sys::Response::new_with_opt_u8_array_and_init(body, &init)?)
}
