//! `docs/api.md`: the documents as a page people read (GitHub renders it).

use std::collections::BTreeMap;
use std::fmt::Write;

use serde_json::Value;

pub fn markdown(documents: &[(&str, Value)]) -> String {
    let mut out = String::from(
        "# The dream-api HTTP API\n\n\
         Generated from the code by `make openapi`; do not edit. The machine-readable OpenAPI 3.1 \
         documents are [`openapi/<worker>/openapi.json`](../openapi/), and each worker serves its own \
         at `/openapi.json`. Every error has the same body, [`ErrorBody`](#errorbody), with its \
         `requestId` also in the `X-Request-Id` header.\n\n",
    );
    for (worker, doc) in documents {
        let _ = writeln!(out, "- [{worker}](#{worker}): {}", text(&doc["info"]["description"]));
    }
    let mut schemas = BTreeMap::new();
    for (worker, doc) in documents {
        let _ = writeln!(out, "\n## {worker}\n\n{}\n", text(&doc["info"]["description"]));
        for (name, scheme) in doc["components"]["securitySchemes"].as_object().into_iter().flatten() {
            let _ = writeln!(
                out,
                "Authentication `{name}`: `Authorization: Bearer …`, {}\n",
                text(&scheme["description"])
            );
        }
        for (path, item) in doc["paths"].as_object().into_iter().flatten() {
            for (method, op) in item.as_object().into_iter().flatten() {
                operation(&mut out, method, path, op);
            }
        }
        for (name, schema) in doc["components"]["schemas"].as_object().into_iter().flatten() {
            schemas.insert(name.clone(), schema.clone());
        }
    }
    out.push_str("\n## Schemas\n");
    for (name, schema) in &schemas {
        let _ = writeln!(out, "\n### {name}\n");
        if let Some(d) = schema["description"].as_str() {
            let _ = writeln!(out, "{d}\n");
        }
        match schema["properties"].as_object() {
            Some(props) => {
                let required: Vec<&str> = schema["required"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .filter_map(Value::as_str)
                    .collect();
                out.push_str("| field | type | required | description |\n|---|---|---|---|\n");
                for (field, prop) in props {
                    let _ = writeln!(
                        out,
                        "| `{field}` | {} | {} | {} |",
                        type_of(prop),
                        if required.contains(&field.as_str()) { "yes" } else { "" },
                        cell(prop["description"].as_str().unwrap_or_default())
                    );
                }
            }
            None => {
                let _ = writeln!(out, "{}", type_of(schema));
            }
        }
    }
    out
}

fn operation(out: &mut String, method: &str, path: &str, op: &Value) {
    let id = op["operationId"].as_str().unwrap_or_default();
    let _ = writeln!(out, "### `{} {path}` ({id})\n", method.to_uppercase());
    for key in ["summary", "description"] {
        if let Some(t) = op[key].as_str() {
            let _ = writeln!(out, "{t}\n");
        }
    }
    if let Some(security) = op["security"].as_array() {
        let names: Vec<String> = security
            .iter()
            .filter_map(Value::as_object)
            .flat_map(|o| o.keys().map(|k| format!("`{k}`")))
            .collect();
        let _ = writeln!(out, "Authentication: {}\n", names.join(", "));
    }
    if let Some(params) = op["parameters"].as_array() {
        out.push_str("| parameter | in | required | description |\n|---|---|---|---|\n");
        for p in params {
            let _ = writeln!(
                out,
                "| `{}` | {} | {} | {} |",
                text(&p["name"]),
                text(&p["in"]),
                if p["required"] == Value::Bool(true) { "yes" } else { "" },
                cell(p["description"].as_str().unwrap_or_default())
            );
        }
        out.push('\n');
    }
    if let Some(content) = op["requestBody"]["content"].as_object() {
        for (media, c) in content {
            let _ = writeln!(out, "Request body ({media}): {}\n", type_of(&c["schema"]));
        }
    }
    out.push_str("| status | meaning | body |\n|---|---|---|\n");
    for (status, response) in op["responses"].as_object().into_iter().flatten() {
        let body = response["content"]
            .as_object()
            .and_then(|c| c.values().next())
            .map(|c| type_of(&c["schema"]))
            .unwrap_or_default();
        let _ = writeln!(
            out,
            "| {status} | {} | {body} |",
            cell(response["description"].as_str().unwrap_or_default())
        );
    }
    out.push('\n');
}

/// A schema in a few words: a link for references, `A \| null`, `[A]`, enums as values.
fn type_of(schema: &Value) -> String {
    if let Some(r) = schema["$ref"].as_str() {
        let name = r.rsplit('/').next().unwrap_or(r);
        return format!("[{name}](#{})", name.to_lowercase());
    }
    if let Some(values) = schema["enum"].as_array() {
        let names: Vec<String> = values.iter().map(|v| format!("`{v}`")).collect();
        return names.join(" \\| ");
    }
    for key in ["oneOf", "anyOf", "allOf"] {
        if let Some(parts) = schema[key].as_array() {
            let joiner = if key == "allOf" { " and " } else { " \\| " };
            return parts.iter().map(type_of).collect::<Vec<_>>().join(joiner);
        }
    }
    let kinds: Vec<String> = match &schema["type"] {
        Value::String(t) => vec![t.clone()],
        Value::Array(ts) => ts.iter().filter_map(Value::as_str).map(str::to_owned).collect(),
        _ if schema.get("properties").is_some() => vec!["object".to_owned()],
        _ => vec!["any".to_owned()],
    };
    kinds
        .into_iter()
        .map(|k| match k.as_str() {
            "array" => format!("[{}]", type_of(&schema["items"])),
            _ => k,
        })
        .collect::<Vec<_>>()
        .join(" \\| ")
}

fn text(v: &Value) -> String {
    v.as_str().unwrap_or_default().to_owned()
}

/// Text safe inside a table cell.
fn cell(t: &str) -> String {
    t.replace('|', "\\|").replace('\n', " ")
}
