//! Every response the end-to-end tests receive from a worker is checked against that worker's
//! committed OpenAPI document (`openapi/<worker>/openapi.json`): the status must be one the
//! operation documents, and a JSON body must match the documented schema. So the contract is
//! shown true by every test, not only well-formed.
//!
//! `reqwest::Response` does not carry its request's method, so an answer is matched by path:
//! where a path has several methods (`/tiers`, `/upload-asset`), it must fit one of them.

use std::{
    collections::HashMap,
    io::Write,
    sync::{Mutex, OnceLock},
};

use serde_json::{Value, json};

use crate::{ENV_API_MULTI, ENV_API_MULTI_FAULTY_KV, ENV_FRONT_AUTH_API, ENV_OAUTH_API};

/// When set, each checked answer is appended there as `worker METHOD path status` (the
/// launcher prints which documented operations no test reached).
pub const ENV_CONTRACT_LOG: &str = "DREAM_CONTRACT_LOG";

const METHODS: [&str; 4] = ["get", "post", "put", "delete"];

struct Document {
    worker: &'static str,
    base: String,
    doc: Value,
}

fn documents() -> &'static [Document] {
    static DOCS: OnceLock<Vec<Document>> = OnceLock::new();
    DOCS.get_or_init(|| {
        [
            ("api-multi", ENV_API_MULTI),
            ("api-multi", ENV_API_MULTI_FAULTY_KV),
            ("oauth-api", ENV_OAUTH_API),
            ("front-auth-api", ENV_FRONT_AUTH_API),
        ]
        .into_iter()
        // Outside the test run (the launcher itself) there is nothing to check against.
        .filter_map(|(worker, var)| {
            let base = std::env::var(var).ok()?;
            Some(Document {
                worker,
                base: base.trim_end_matches('/').to_owned(),
                doc: load(worker),
            })
        })
        .collect()
    })
}

pub fn load(worker: &str) -> Value {
    let path = format!("{}/../openapi/{worker}/openapi.json", env!("CARGO_MANIFEST_DIR"));
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
    serde_json::from_str(&text).expect("the OpenAPI document is JSON")
}

/// Whether a concrete path fits a templated one (`/api/assets/{platform_id}/{file}`).
pub fn path_matches(template: &str, path: &str) -> bool {
    let (t, p): (Vec<&str>, Vec<&str>) = (template.split('/').collect(), path.split('/').collect());
    t.len() == p.len()
        && t.iter()
            .zip(&p)
            .all(|(t, p)| (t.starts_with('{') && !p.is_empty()) || t == p)
}

/// Panics (failing the test) when a worker's answer is not what its document says.
pub fn check(url: &reqwest::Url, status: u16, content_type: Option<&str>, body: &Value) {
    let origin = url.origin().ascii_serialization();
    let Some(document) = documents().iter().find(|d| d.base == origin) else {
        return;
    };
    let path = url.path();
    // Static files (`/openapi.json`) come from the asset store, not from a documented route.
    if path == "/openapi.json" {
        return;
    }
    let paths = document.doc["paths"].as_object().expect("paths");
    let Some((template, item)) = paths.iter().find(|(t, _)| path_matches(t, path)) else {
        // An unknown route must still be our JSON 404 (or a CORS preflight's answer).
        assert!(
            status == 404 || status == 204 || status == 403,
            "{} answered {status} on {path}, which its OpenAPI document does not have",
            document.worker
        );
        return;
    };
    let operations: Vec<(&str, &Value)> = METHODS.iter().filter_map(|m| item.get(*m).map(|op| (*m, op))).collect();
    // CORS preflights and refused methods are the edge's, on every path.
    if status == 204 || status == 405 {
        return;
    }
    let key = status.to_string();
    let documented: Vec<(&str, &Value)> = operations
        .iter()
        .filter_map(|(m, op)| op["responses"].get(&key).map(|r| (*m, r)))
        .collect();
    assert!(
        !documented.is_empty(),
        "{} {template}: status {status} is not in the OpenAPI document (body {body})",
        document.worker
    );
    let is_json = content_type.is_some_and(|c| c.starts_with("application/json"));
    let mut failures = Vec::new();
    let mut matched = None;
    for (method, response) in &documented {
        let Some(schema) = response["content"]["application/json"].get("schema") else {
            if !is_json || status >= 400 {
                matched = Some(*method);
                break;
            }
            failures.push(format!("{method}: the document gives no JSON body for {status}"));
            continue;
        };
        if !is_json {
            failures.push(format!("{method}: a {content_type:?} body where JSON is documented"));
            continue;
        }
        match validate(document, schema, body) {
            Ok(()) => {
                matched = Some(*method);
                break;
            }
            Err(e) => failures.push(format!("{method}: {e}")),
        }
    }
    let Some(method) = matched else {
        panic!(
            "{} {template} {status}: the body does not match the OpenAPI document:\n  {}\nbody: {body}",
            document.worker,
            failures.join("\n  ")
        );
    };
    record(document.worker, method, template, status);
}

fn validate(document: &Document, schema: &Value, body: &Value) -> Result<(), String> {
    static VALIDATORS: OnceLock<Mutex<HashMap<String, jsonschema::Validator>>> = OnceLock::new();
    let cache_key = format!("{}:{schema}", document.worker);
    let mut cache = VALIDATORS.get_or_init(Default::default).lock().expect("validators");
    if !cache.contains_key(&cache_key) {
        // The response schema with the document's components beside it, so `$ref`s resolve.
        let mut root = json!({ "components": document.doc["components"] });
        for (k, v) in schema.as_object().expect("a schema object") {
            root[k] = v.clone();
        }
        let validator = jsonschema::draft202012::new(&root).map_err(|e| format!("bad schema: {e}"))?;
        cache.insert(cache_key.clone(), validator);
    }
    let errors: Vec<String> = cache[&cache_key]
        .iter_errors(body)
        .map(|e| format!("{} at {}", e, e.instance_path()))
        .collect();
    if errors.is_empty() {
        Ok(())
    } else {
        Err(errors.join("; "))
    }
}

fn record(worker: &str, method: &str, template: &str, status: u16) {
    let Ok(path) = std::env::var(ENV_CONTRACT_LOG) else {
        return;
    };
    if let Ok(mut file) = std::fs::OpenOptions::new().create(true).append(true).open(path) {
        let _ = writeln!(file, "{worker} {} {template} {status}", method.to_uppercase());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn templated_segments_match_one_segment() {
        assert!(path_matches(
            "/api/assets/{platform_id}/{file}",
            "/api/assets/plt_1/a.png"
        ));
        assert!(!path_matches("/api/assets/{platform_id}/{file}", "/api/assets/plt_1"));
        assert!(!path_matches("/api/data", "/api/usage"));
        assert!(path_matches("/tiers", "/tiers"));
    }
}
