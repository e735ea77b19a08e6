//! Between workerd's `Request`/`Response` and axum's, for every request of every worker.
//! workers-rs' own conversion streams every body through a `ReadableStream` (a promise and a
//! Wasm call per chunk, both ways) and copies the request's `cf` object, which nothing here
//! reads: on the metered path that was a tenth of the isolate's time (`make bench`'s profile).
//! A body whose size is known and small crosses in one piece; a larger or unknown one keeps
//! the streaming conversion, so a big upload or an R2 object is never held whole.

use axum::body::HttpBody as _;
use axum::{body::Body, extract::Request, http::HeaderValue, response::Response};
use worker::wasm_bindgen::prelude::wasm_bindgen;
use worker::{js_sys, wasm_bindgen_futures::JsFuture, web_sys};

// Headers cross in one string each way, `name:value` lines: iterating a `Headers` from Wasm
// cost an iterator call and two string copies per header, and building one an `append` per
// header (with the ResponseInit, four more calls); the profile put 4 % of the isolate there.
// Neither a name nor a value can hold a newline, and a name cannot hold a colon.
#[wasm_bindgen(wasm_bindgen = worker::wasm_bindgen, inline_js = r#"
export function headerLines(headers) {
  let lines = "";
  for (const [name, value] of headers) lines += name + ":" + value + "\n";
  return lines;
}
export function respond(body, status, lines) {
  const headers = new Headers();
  for (const line of lines.split("\n")) {
    const colon = line.indexOf(":");
    if (colon > 0) headers.append(line.slice(0, colon), line.slice(colon + 1));
  }
  return new Response(body.length > 0 ? body.slice() : null, { status, headers });
}
"#)]
extern "C" {
    #[wasm_bindgen(js_name = headerLines)]
    fn header_lines(headers: &web_sys::Headers) -> String;
    /// `new Response` with a copy of `body`: `body` is a view into Wasm memory, freed when this
    /// returns, and workerd keeps the buffer it is given rather than copying it (and sends it
    /// later, while other requests run). An empty body is no body, as a 204 or 304 needs.
    #[wasm_bindgen(catch)]
    fn respond(body: &[u8], status: u16, lines: &str) -> Result<web_sys::Response, worker::wasm_bindgen::JsValue>;
}

/// The largest body copied whole: far above a metered request or a JSON answer.
const SMALL_BODY: u64 = 64 * 1024;

/// The request as axum sees it. Its body is read at once when its `Content-Length` is small.
pub async fn request_from_js(request: web_sys::Request) -> worker::Result<Request> {
    let mut builder = axum::http::Request::builder()
        .method(request.method().as_str())
        .uri(request.url());
    if let Some(headers) = builder.headers_mut() {
        for (name, value) in header_lines(&request.headers())
            .lines()
            .filter_map(|line| line.split_once(':'))
        {
            headers.append(
                axum::http::HeaderName::from_bytes(name.as_bytes())?,
                HeaderValue::from_str(value)?,
            );
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
    let mut lines = String::with_capacity(64 * parts.headers.len());
    for (name, value) in &parts.headers {
        lines.push_str(name.as_str());
        lines.push(':');
        lines.push_str(&String::from_utf8_lossy(value.as_bytes()));
        lines.push('\n');
    }
    let bytes = axum::body::to_bytes(body, length as usize)
        .await
        .map_err(|e| worker::Error::RustError(format!("reading the response body: {e}")))?;
    Ok(respond(&bytes, parts.status.as_u16(), &lines)?)
}
