//! The edge of every worker: request ids, CORS, security headers and error rendering, applied
//! identically to all three workers by `app()`. Written against plain `http` types so it is
//! unit-tested natively.

use axum::{
    Json, Router,
    body::to_bytes,
    extract::{DefaultBodyLimit, Request, State},
    http::{HeaderMap, HeaderName, HeaderValue, Method, StatusCode, header},
    middleware::{Next, from_fn_with_state},
    response::{IntoResponse, Response},
    routing::get,
};

use dream_core::{error::ApiError, keys::random_hex};

use crate::runtime::{
    log,
    timing::{Timed, Timings},
};

/// Which binding calls the request waited on (`runtime::timing`).
const SERVER_TIMING: HeaderName = HeaderName::from_static("server-timing");

pub const ALLOWED_ORIGINS_VAR: &str = "ALLOWED_ORIGINS";
pub const DASHBOARD_URL_VAR: &str = "DASHBOARD_URL";
pub const REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");
/// Longest rejection text we carry over into an error message.
const MAX_REJECTION_TEXT: usize = 512;
/// Every route's input is bounded before a handler runs. Bodies: the API's JSON is small; routes
/// that take more (uploads, webhooks) set their own limit on the route.
pub const JSON_BODY_LIMIT: usize = 64 * 1024;
/// Our query strings are a publishable key and a name or two, or a usage widget token.
pub const MAX_QUERY_BYTES: usize = 2 * 1024;
// `?token=wt_…` with room for a cache-buster: an over-long token is refused as a token (401),
// never as a query (400).
const _: () = assert!("token=".len() + dream_core::widget::MAX_TOKEN_LEN + 64 <= MAX_QUERY_BYTES);
/// All header names and values together; a session token is at most 8 KB of them.
pub const MAX_HEADER_BYTES: usize = 16 * 1024;
pub const MAX_HEADER_COUNT: usize = 64;
const ALLOWED_METHODS: &str = "GET, POST, PUT, DELETE, OPTIONS";
const ALLOWED_HEADERS: &str = "Authorization, Content-Type, Idempotency-Key, X-User-Id, X-User-Plan, X-Request-Id";
const EXPOSED_HEADERS: &str = "X-Request-Id, Retry-After, Idempotent-Replayed";

/// The id of the request being served; handlers can extract it to put in logs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RequestId(pub String);

impl RequestId {
    /// A new id, unique across isolates (a random half per isolate) without a call into the
    /// runtime's entropy source per request: ids are for finding a request in the logs, not
    /// secrets.
    pub fn next() -> Self {
        REQUEST_IDS.with(|(isolate, sequence)| {
            let n = sequence.get().wrapping_add(1);
            sequence.set(n);
            Self(format!("req_{isolate}{n:016x}"))
        })
    }
}

/// Origins allowed to call from a browser, from the `ALLOWED_ORIGINS` variable:
/// a comma-separated list of exact origins, or `*`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CorsPolicy {
    any: bool,
    origins: Vec<String>,
}

impl CorsPolicy {
    pub fn parse(list: &str) -> Self {
        let origins: Vec<String> = list
            .split(',')
            .map(|o| o.trim().trim_end_matches('/').to_owned())
            .filter(|o| !o.is_empty())
            .collect();
        Self {
            any: origins.iter().any(|o| o == "*"),
            origins,
        }
    }

    /// The dashboard's origin (`DASHBOARD_URL`), plus any extra origins in `ALLOWED_ORIGINS`:
    /// one setting moves the dashboard, its CORS, its sessions and its redirects together.
    pub fn from_env(env: &worker::Env) -> Self {
        let var = |name: &str| env.var(name).map(|v| v.to_string()).unwrap_or_default();
        Self::from_settings(&var(DASHBOARD_URL_VAR), &var(ALLOWED_ORIGINS_VAR))
    }

    pub fn from_settings(dashboard_url: &str, extra_origins: &str) -> Self {
        let dashboard = origin_of(dashboard_url);
        let mut policy = Self::parse(extra_origins);
        if let Some(origin) = dashboard
            && !policy.origins.contains(&origin)
        {
            policy.origins.push(origin);
        }
        policy
    }

    pub fn allows(&self, origin: &str) -> bool {
        self.any || self.listed(origin)
    }

    /// Explicitly listed, ignoring `*`: what session tokens' `azp` and redirect targets must be.
    pub fn listed(&self, origin: &str) -> bool {
        self.origins.iter().any(|o| o == origin)
    }
}

/// `scheme://host[:port]` of an absolute http(s) URL. By hand: every worker reads its policy on
/// every request, and a full URL parser adds about 180 KB of Unicode tables to a worker's Wasm.
fn origin_of(url: &str) -> Option<String> {
    let (scheme, rest) = url.split_once("://")?;
    let authority = rest.split(['/', '?', '#']).next()?;
    let plain = !authority.is_empty()
        && !authority.starts_with(':')
        && authority
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "-.:[]".contains(c));
    (matches!(scheme, "http" | "https") && plain).then(|| format!("{scheme}://{}", authority.to_ascii_lowercase()))
}

/// A redirect target supplied by a caller must lead back to one of our dashboard origins,
/// or the endpoint becomes an open redirect.
pub fn allowed_redirect(policy: &CorsPolicy, url: &str) -> Result<String, ApiError> {
    let parsed = url::Url::parse(url).map_err(|_| ApiError::invalid_request(format!("`{url}` is not a URL")))?;
    let origin = parsed.origin().ascii_serialization();
    if matches!(parsed.scheme(), "http" | "https") && policy.listed(&origin) {
        Ok(url.to_owned())
    } else {
        Err(ApiError::invalid_request(format!(
            "Redirect URLs must be on an allowed dashboard origin, not {origin}"
        )))
    }
}

/// Wraps a worker's routes with `/health`, the JSON 404 fallback and the edge middleware.
pub fn app<S: Clone + Send + Sync + 'static>(
    worker: &'static str,
    routes: Router<S>,
    state: S,
    cors: CorsPolicy,
) -> Router {
    routes
        .route("/health", get(move || health(worker)))
        .fallback(not_found)
        .layer(DefaultBodyLimit::max(JSON_BODY_LIMIT))
        .layer(from_fn_with_state(cors, edge))
        .with_state(state)
}

thread_local! {
    /// This isolate's request ids: a random half drawn once, then a sequence.
    static REQUEST_IDS: (String, std::cell::Cell<u64>) = (random_hex(8), std::cell::Cell::new(0));
    /// The isolate's router: built on its first request, cloned (a reference count) for each.
    static ROUTER: std::cell::RefCell<Option<Router>> = const { std::cell::RefCell::new(None) };
}

/// Serves a request with the isolate's router, which `build` makes on the isolate's first
/// request. An isolate runs one deployment, whose bindings and settings never change, so no
/// request pays for building the routes and reading the settings again.
pub async fn serve(
    request: worker::web_sys::Request,
    build: impl FnOnce() -> Router,
) -> worker::Result<worker::web_sys::Response> {
    use tower_service::Service;
    let request = super::wire::request_from_js(request).await?;
    let mut router = ROUTER.with(|slot| slot.borrow_mut().get_or_insert_with(build).clone());
    let response = router.call(request).await.unwrap_or_else(|never| match never {});
    super::wire::response_to_js(response).await
}

/// GET /health
async fn health(worker: &'static str) -> Json<dream_core::api::Health> {
    Json(dream_core::api::Health { status: "ok", worker })
}

async fn not_found(method: Method, uri: axum::http::Uri) -> ApiError {
    ApiError::not_found(format!("No route for {method} {}", uri.path()))
}

async fn edge(State(cors): State<CorsPolicy>, mut request: Request, next: Next) -> Response {
    let request_id = RequestId::next();
    let timings = std::sync::Arc::new(Timings::default());
    let origin = request
        .headers()
        .get(header::ORIGIN)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    let is_preflight =
        request.method() == Method::OPTIONS && request.headers().contains_key(header::ACCESS_CONTROL_REQUEST_METHOD);

    let response = match (&origin, is_preflight) {
        (Some(origin), true) if cors.allows(origin) => preflight(),
        (Some(origin), true) => ApiError::unauthorized(format!("Origin {origin} is not allowed"))
            .with_status(StatusCode::FORBIDDEN)
            .into_response(),
        _ => match oversized(&request) {
            Some(problem) => ApiError::invalid_request(problem).into_response(),
            None => {
                request.extensions_mut().insert(request_id.clone());
                Timed::new(next.run(request), timings.clone()).await
            }
        },
    };
    let mut response = render_errors(response, &request_id).await;
    let allowed_origin = origin.filter(|o| cors.allows(o));
    decorate(response.headers_mut(), &request_id, allowed_origin.as_deref());
    if let Some(value) = timings.header_value().and_then(|v| HeaderValue::from_str(&v).ok()) {
        response.headers_mut().insert(SERVER_TIMING, value);
    }
    response
}

/// What is too big about a request's query or headers, if anything.
fn oversized(request: &Request) -> Option<String> {
    if request.uri().query().is_some_and(|q| q.len() > MAX_QUERY_BYTES) {
        return Some(format!("The query string is longer than {MAX_QUERY_BYTES} bytes"));
    }
    let headers = request.headers();
    let bytes: usize = headers
        .iter()
        .map(|(name, value)| name.as_str().len() + value.len())
        .sum();
    if headers.len() > MAX_HEADER_COUNT || bytes > MAX_HEADER_BYTES {
        return Some(format!(
            "Too many or too large headers (at most {MAX_HEADER_COUNT} headers and {MAX_HEADER_BYTES} bytes)"
        ));
    }
    None
}

fn preflight() -> Response {
    let mut response = StatusCode::NO_CONTENT.into_response();
    let headers = response.headers_mut();
    headers.insert(
        header::ACCESS_CONTROL_ALLOW_METHODS,
        HeaderValue::from_static(ALLOWED_METHODS),
    );
    headers.insert(
        header::ACCESS_CONTROL_ALLOW_HEADERS,
        HeaderValue::from_static(ALLOWED_HEADERS),
    );
    headers.insert(header::ACCESS_CONTROL_MAX_AGE, HeaderValue::from_static("600"));
    response
}

/// Turns an `ApiError` left by a handler, or a bare error status from the router or an axum
/// extractor (405, a JSON syntax error), into the one JSON error shape.
async fn render_errors(response: Response, request_id: &RequestId) -> Response {
    // A route open to every origin (the usage widget's) stays open on its errors, so the page
    // can read why.
    let open_to = response.headers().get(header::ACCESS_CONTROL_ALLOW_ORIGIN).cloned();
    let error = if let Some(error) = response.extensions().get::<ApiError>() {
        error.clone()
    } else if response.status().is_client_error() || response.status().is_server_error() {
        let is_json = response
            .headers()
            .get(header::CONTENT_TYPE)
            .is_some_and(|v| v.as_bytes().starts_with(b"application/json"));
        if is_json {
            return response;
        }
        let status = response.status();
        let text = to_bytes(response.into_body(), MAX_REJECTION_TEXT * 4)
            .await
            .map(|b| {
                String::from_utf8_lossy(&b)
                    .chars()
                    .take(MAX_REJECTION_TEXT)
                    .collect::<String>()
            })
            .unwrap_or_default();
        let message = if text.trim().is_empty() {
            status.canonical_reason().unwrap_or("Error").to_owned()
        } else {
            text
        };
        ApiError::new(dream_core::error::ErrorCode::for_status(status), message).with_status(status)
    } else {
        return response;
    };

    if let Some(cause) = error.internal_cause() {
        log::error(&format!("{} {}: {cause}", request_id.0, error.code().as_str()));
    }
    let mut rendered = (error.status(), Json(error.body(&request_id.0))).into_response();
    if let Some(secs) = error.retry_after_secs() {
        rendered
            .headers_mut()
            .insert(header::RETRY_AFTER, HeaderValue::from(secs));
    }
    if let Some(origin) = open_to {
        rendered
            .headers_mut()
            .insert(header::ACCESS_CONTROL_ALLOW_ORIGIN, origin);
    }
    rendered
}

fn decorate(headers: &mut HeaderMap, request_id: &RequestId, allowed_origin: Option<&str>) {
    if let Ok(id) = HeaderValue::from_str(&request_id.0) {
        headers.insert(REQUEST_ID, id);
    }
    let defaults = [
        (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
        (header::X_FRAME_OPTIONS, "DENY"),
        (header::REFERRER_POLICY, "no-referrer"),
        (header::STRICT_TRANSPORT_SECURITY, "max-age=63072000; includeSubDomains"),
        (
            header::CONTENT_SECURITY_POLICY,
            "default-src 'none'; frame-ancestors 'none'",
        ),
        (
            HeaderName::from_static("permissions-policy"),
            "camera=(), microphone=(), geolocation=()",
        ),
        // API answers are per caller; assets set their own caching.
        (header::CACHE_CONTROL, "no-store"),
    ];
    for (name, value) in defaults {
        headers.entry(name).or_insert(HeaderValue::from_static(value));
    }
    headers.append(header::VARY, HeaderValue::from_static("Origin"));
    if let Some(origin) = allowed_origin.and_then(|o| HeaderValue::from_str(o).ok()) {
        headers.insert(header::ACCESS_CONTROL_ALLOW_ORIGIN, origin);
        headers.insert(
            header::ACCESS_CONTROL_EXPOSE_HEADERS,
            HeaderValue::from_static(EXPOSED_HEADERS),
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::{body::Body, routing::post};
    use http_body_util::BodyExt;
    use tower::ServiceExt;

    fn test_app() -> Router {
        let routes = Router::new()
            .route("/boom", get(|| async { ApiError::internal("secret db detail") }))
            .route("/echo", post(|Json(v): Json<serde_json::Value>| async move { Json(v) }))
            .route(
                "/limited",
                get(|| async {
                    ApiError::new(dream_core::error::ErrorCode::RateLimited, "slow down").with_retry_after(7)
                }),
            );
        app(
            "test-worker",
            routes,
            (),
            CorsPolicy::parse("https://dash.example.com, http://localhost:5173/"),
        )
    }

    async fn call(req: axum::http::Request<Body>) -> (StatusCode, HeaderMap, serde_json::Value) {
        let response = test_app().oneshot(req).await.unwrap();
        let status = response.status();
        let headers = response.headers().clone();
        let bytes = response.into_body().collect().await.unwrap().to_bytes();
        let json = if bytes.is_empty() {
            serde_json::Value::Null
        } else {
            serde_json::from_slice(&bytes).unwrap()
        };
        (status, headers, json)
    }

    fn get_req(path: &str) -> axum::http::Request<Body> {
        axum::http::Request::get(path).body(Body::empty()).unwrap()
    }

    #[tokio::test]
    async fn oversized_queries_headers_bodies_and_nesting_are_4xx_json() {
        let long_query = format!("/health?{}", "a".repeat(MAX_QUERY_BYTES + 1));
        let (status, _, body) = call(get_req(&long_query)).await;
        assert_eq!(
            (status, body["code"].as_str()),
            (StatusCode::BAD_REQUEST, Some("invalid_request"))
        );

        let mut big_header = get_req("/health");
        big_header.headers_mut().insert(
            "x-filler",
            HeaderValue::from_str(&"b".repeat(MAX_HEADER_BYTES)).unwrap(),
        );
        assert_eq!(call(big_header).await.0, StatusCode::BAD_REQUEST);
        let mut many = get_req("/health");
        for i in 0..=MAX_HEADER_COUNT {
            many.headers_mut().insert(
                HeaderName::from_bytes(format!("x-h{i}").as_bytes()).unwrap(),
                HeaderValue::from_static("1"),
            );
        }
        assert_eq!(call(many).await.0, StatusCode::BAD_REQUEST);

        let post = |body: String| {
            axum::http::Request::post("/echo")
                .header(header::CONTENT_TYPE, "application/json")
                .body(Body::from(body))
                .unwrap()
        };
        let (status, _, body) = call(post(format!("\"{}\"", "c".repeat(JSON_BODY_LIMIT)))).await;
        assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE);
        assert_eq!(body["code"], "invalid_request");
        let deep = format!("{}{}", "[".repeat(10_000), "]".repeat(10_000));
        let (status, _, body) = call(post(deep)).await;
        assert!(status.is_client_error(), "{status}");
        assert_eq!(body["code"], "invalid_request");
        // Within the bounds, the same route works.
        assert_eq!(call(post("[[1]]".into())).await.0, StatusCode::OK);
    }

    #[test]
    fn request_ids_are_unique_and_keep_their_shape() {
        let (a, b) = (RequestId::next().0, RequestId::next().0);
        assert_ne!(a, b);
        for id in [&a, &b] {
            let hex = id.strip_prefix("req_").expect("prefixed");
            assert_eq!(hex.len(), 32, "{id}");
            assert!(hex.bytes().all(|c| c.is_ascii_hexdigit()), "{id}");
        }
        assert_eq!(a[..20], b[..20], "one isolate's random half");
    }

    #[tokio::test]
    async fn health_has_security_headers_and_request_id() {
        let (status, headers, body) = call(get_req("/health")).await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(body, serde_json::json!({"status": "ok", "worker": "test-worker"}));
        assert!(headers[REQUEST_ID].to_str().unwrap().starts_with("req_"));
        assert_eq!(headers[header::X_CONTENT_TYPE_OPTIONS], "nosniff");
        assert_eq!(headers[header::X_FRAME_OPTIONS], "DENY");
        assert!(headers.contains_key(header::STRICT_TRANSPORT_SECURITY));
        assert!(!headers.contains_key(header::ACCESS_CONTROL_ALLOW_ORIGIN));
    }

    #[tokio::test]
    async fn unknown_route_and_wrong_method_are_json_errors() {
        let (status, headers, body) = call(get_req("/nope")).await;
        assert_eq!(status, StatusCode::NOT_FOUND);
        assert_eq!(body["code"], "not_found");
        assert_eq!(body["requestId"], headers[REQUEST_ID].to_str().unwrap());

        let (status, _, body) = call(axum::http::Request::delete("/health").body(Body::empty()).unwrap()).await;
        assert_eq!(status, StatusCode::METHOD_NOT_ALLOWED);
        assert_eq!(body["code"], "invalid_request");
    }

    #[tokio::test]
    async fn body_rejections_become_json_errors() {
        let req = axum::http::Request::post("/echo")
            .header(header::CONTENT_TYPE, "application/json")
            .body(Body::from("{not json"))
            .unwrap();
        let (status, _, body) = call(req).await;
        assert_eq!(status, StatusCode::BAD_REQUEST);
        assert_eq!(body["code"], "invalid_request");
        assert!(body["error"].as_str().unwrap().contains("JSON"), "{body}");
    }

    #[tokio::test]
    async fn internal_errors_hide_their_cause() {
        let (status, _, body) = call(get_req("/boom")).await;
        assert_eq!(status, StatusCode::INTERNAL_SERVER_ERROR);
        assert_eq!(body["code"], "internal");
        assert!(!body.to_string().contains("secret db detail"));
    }

    #[tokio::test]
    async fn retry_after_header_is_set() {
        let (status, headers, body) = call(get_req("/limited")).await;
        assert_eq!(status, StatusCode::TOO_MANY_REQUESTS);
        assert_eq!(headers[header::RETRY_AFTER], "7");
        assert_eq!(body["code"], "rate_limited");
    }

    #[tokio::test]
    async fn cors_reflects_only_allowed_origins() {
        let with_origin = |origin: &str| {
            axum::http::Request::get("/health")
                .header(header::ORIGIN, origin)
                .body(Body::empty())
                .unwrap()
        };
        let (_, headers, _) = call(with_origin("https://dash.example.com")).await;
        assert_eq!(headers[header::ACCESS_CONTROL_ALLOW_ORIGIN], "https://dash.example.com");
        let (_, headers, _) = call(with_origin("http://localhost:5173")).await;
        assert_eq!(headers[header::ACCESS_CONTROL_ALLOW_ORIGIN], "http://localhost:5173");
        let (_, headers, _) = call(with_origin("https://evil.example.com")).await;
        assert!(!headers.contains_key(header::ACCESS_CONTROL_ALLOW_ORIGIN));
    }

    #[tokio::test]
    async fn preflight_is_answered_for_allowed_origins_only() {
        let preflight = |origin: &str| {
            axum::http::Request::builder()
                .method(Method::OPTIONS)
                .uri("/anything")
                .header(header::ORIGIN, origin)
                .header(header::ACCESS_CONTROL_REQUEST_METHOD, "POST")
                .body(Body::empty())
                .unwrap()
        };
        let (status, headers, _) = call(preflight("https://dash.example.com")).await;
        assert_eq!(status, StatusCode::NO_CONTENT);
        assert!(
            headers[header::ACCESS_CONTROL_ALLOW_HEADERS]
                .to_str()
                .unwrap()
                .contains("Idempotency-Key")
        );
        assert_eq!(headers[header::ACCESS_CONTROL_ALLOW_ORIGIN], "https://dash.example.com");
        let (status, headers, body) = call(preflight("https://evil.example.com")).await;
        assert_eq!(status, StatusCode::FORBIDDEN);
        assert_eq!(body["code"], "unauthorized");
        assert!(!headers.contains_key(header::ACCESS_CONTROL_ALLOW_ORIGIN));
    }

    #[test]
    fn redirects_stay_on_dashboard_origins() {
        let policy = CorsPolicy::parse("http://localhost:5173");
        assert!(allowed_redirect(&policy, "http://localhost:5173/dashboard?x=1").is_ok());
        for bad in [
            "https://evil.example/phish",
            "javascript:alert(1)",
            "//evil.example",
            "http://localhost:5173.evil.example/",
        ] {
            assert!(allowed_redirect(&policy, bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn the_dashboard_url_alone_sets_the_allowed_origin() {
        let policy = CorsPolicy::from_settings("https://dash.example.com/app/", "");
        assert!(policy.listed("https://dash.example.com"));
        assert!(!policy.allows("https://other.example.com"));
        let both = CorsPolicy::from_settings("https://dash.example.com", "https://admin.example.com");
        assert!(both.listed("https://dash.example.com") && both.listed("https://admin.example.com"));
        assert!(!CorsPolicy::from_settings("not a url", "").allows("null"));
        assert!(!CorsPolicy::from_settings("javascript:alert(1)", "").allows("null"));
        for bad in [
            "https://",
            "https://user@evil.example",
            "ftp://x.example",
            "https://a b/",
        ] {
            assert_eq!(origin_of(bad), None, "{bad}");
        }
        assert_eq!(
            origin_of("http://LocalHost:5173/x?y#z").as_deref(),
            Some("http://localhost:5173")
        );
    }

    #[test]
    fn wildcard_policy() {
        assert!(CorsPolicy::parse("*").allows("https://anything.example"));
        assert!(!CorsPolicy::parse("*").listed("https://anything.example"));
        assert!(allowed_redirect(&CorsPolicy::parse("*"), "https://evil.example/").is_err());
        assert!(!CorsPolicy::parse("").allows("https://anything.example"));
    }
}
