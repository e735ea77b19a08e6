//! Writes each worker's OpenAPI document (`openapi/<worker>/openapi.json`, served by the worker
//! at `/openapi.json`) and their readable rendering (`docs/api.md`).
//!
//!   cargo run -p dream-core --features openapi --bin openapi            write them
//!   cargo run -p dream-core --features openapi --bin openapi -- --check fail if they are stale, or
//!                                                                   if a router has a route the
//!                                                                   document lacks (or the reverse)

use std::{
    collections::BTreeSet,
    path::{Path, PathBuf},
    process::ExitCode,
};

use dream_core::api::openapi::{WORKERS, document};
use serde_json::Value;

mod render;

fn main() -> ExitCode {
    let check = std::env::args().any(|a| a == "--check");
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..");
    let mut problems = Vec::new();
    let mut documents = Vec::new();
    for worker in WORKERS {
        let doc = document(worker).expect("a document for every worker");
        let json = doc;
        let invalid = dream_core::api::openapi::path_parameter_problems(&json);
        if !invalid.is_empty() {
            // Never written: a document a validator rejects would break every generated client.
            problems.extend(invalid.into_iter().map(|p| format!("{worker}: {p}")));
            continue;
        }
        problems.extend(route_drift(worker, &json, &root));
        let path = root.join(format!("openapi/{worker}/openapi.json"));
        let text = serde_json::to_string_pretty(&json).expect("json") + "\n";
        problems.extend(write_or_compare(&path, &text, check));
        documents.push((worker, json));
    }
    if documents.len() == WORKERS.len() {
        let markdown = render::markdown(&documents);
        problems.extend(write_or_compare(&root.join("docs/api.md"), &markdown, check));
    }
    if problems.is_empty() {
        if !check {
            println!("wrote openapi/<worker>/openapi.json and docs/api.md");
        }
        return ExitCode::SUCCESS;
    }
    for problem in &problems {
        eprintln!("openapi: {problem}");
    }
    ExitCode::FAILURE
}

fn write_or_compare(path: &Path, text: &str, check: bool) -> Option<String> {
    let current = std::fs::read_to_string(path).unwrap_or_default();
    if current == text {
        return None;
    }
    if check {
        return Some(format!(
            "{} is not what the code generates; run `make openapi` and commit the result",
            path.display()
        ));
    }
    std::fs::create_dir_all(path.parent().expect("a parent")).expect("create the folder");
    std::fs::write(path, text).expect("write the document");
    None
}

/// The routes the worker's router registers (`<worker>/src/lib.rs`, plus the `/health` every
/// worker gets) against the operations of its document, both ways.
fn route_drift(worker: &str, doc: &Value, root: &Path) -> Vec<String> {
    let source = std::fs::read_to_string(root.join(format!("{worker}/src/lib.rs"))).expect("the worker's lib.rs");
    let mut routed = router_operations(&source);
    routed.insert(("get".to_owned(), "/health".to_owned()));
    let documented: BTreeSet<(String, String)> = doc["paths"]
        .as_object()
        .into_iter()
        .flatten()
        .flat_map(|(path, item)| {
            item.as_object()
                .into_iter()
                .flatten()
                .filter(|(method, _)| METHODS.contains(&method.as_str()))
                .map(move |(method, _)| (method.clone(), path.clone()))
        })
        .collect();
    let mut problems: Vec<String> = routed
        .difference(&documented)
        .map(|(m, p)| format!("{worker}: {} {p} is routed but not in the document", m.to_uppercase()))
        .collect();
    problems.extend(
        documented
            .difference(&routed)
            .map(|(m, p)| format!("{worker}: {} {p} is documented but not routed", m.to_uppercase())),
    );
    problems
}

const METHODS: [&str; 5] = ["get", "post", "put", "delete", "patch"];

/// `(method, path)` of every `.route("path", get(..).post(..))` in a router's source.
fn router_operations(source: &str) -> BTreeSet<(String, String)> {
    let mut found = BTreeSet::new();
    let mut rest = source;
    while let Some(start) = rest.find(".route(") {
        let call = &rest[start + ".route(".len()..];
        let end = closing_paren(call);
        let args = &call[..end];
        let path = args.split('"').nth(1).unwrap_or_default().to_owned();
        let after_path = args.splitn(3, '"').nth(2).unwrap_or_default();
        for method in METHODS {
            let needle = format!("{method}(");
            let mut from = 0;
            while let Some(i) = after_path[from..].find(&needle) {
                let at = from + i;
                let before = after_path[..at].chars().next_back();
                if !before.is_some_and(|c| c.is_alphanumeric() || c == '_' || c == ':') {
                    found.insert((method.to_owned(), path.clone()));
                }
                from = at + needle.len();
            }
        }
        rest = &call[end..];
    }
    found
}

/// The index of the `)` closing a call whose `(` was just consumed.
fn closing_paren(text: &str) -> usize {
    let mut depth = 1;
    for (i, c) in text.char_indices() {
        match c {
            '(' => depth += 1,
            ')' => {
                depth -= 1;
                if depth == 0 {
                    return i;
                }
            }
            _ => {}
        }
    }
    text.len()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_routes_with_chained_methods_and_layers() {
        let source = r#"Router::new()
            .route("/api/data", post(usage::track))
            .route(
                "/upload-asset",
                post(assets::upload)
                    .layer(DefaultBodyLimit::max(shared::projects::assets::MAX + 1))
                    .delete(assets::delete),
            )
            .route("/tiers", get(p::list).put(p::update).delete(p::delete))"#;
        let ops: Vec<String> = router_operations(source)
            .into_iter()
            .map(|(m, p)| format!("{m} {p}"))
            .collect();
        assert_eq!(
            ops,
            [
                "delete /tiers",
                "delete /upload-asset",
                "get /tiers",
                "post /api/data",
                "post /upload-asset",
                "put /tiers"
            ]
        );
    }
}
