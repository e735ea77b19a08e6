//! The SDKs' tests against the same stack: a developer with a SaaS and a Store project made
//! through the API, whose secret keys the Rust and TypeScript clients then use.

use std::path::Path;

use e2e::{TestEnv, journey};
use serde_json::json;

/// What both SDKs' tests expect (`sdk/rust/tests/stack.rs`, `sdk/typescript/test/live.ts`).
async fn projects(env: &TestEnv) -> Result<Vec<(&'static str, String)>, String> {
    let developer = journey::onboarded_developer(env, "sdk").await?;
    let saas = journey::create_project(
        &developer,
        journey::saas_body("SDK SaaS", &[("free", Some(3), 0.0), ("pro", Some(1000), 9.99)]),
    )
    .await?;
    let store = journey::create_project(
        &developer,
        json!({"name": "SDK Store", "projectType": "store", "tiers": [
            {"name": "mug", "displayName": "Coffee Mug", "price": 12.5, "inventory": 50}
        ]}),
    )
    .await?;
    Ok(vec![
        ("DREAM_SDK_SAAS_SECRET_KEY", saas.secret_key),
        ("DREAM_SDK_STORE_SECRET_KEY", store.secret_key),
        ("DREAM_SDK_REQUIRE_STACK", "1".to_owned()),
    ])
}

pub async fn run(root: &Path, env: &TestEnv, node_path: &str) -> Result<bool, String> {
    println!("SDK tests (sdk/rust, sdk/typescript) ...");
    let vars = projects(env).await?;
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".to_owned());
    let rust = tokio::process::Command::new(cargo)
        .current_dir(root)
        .args(["test", "-p", "dream-api", "--quiet"])
        .envs(env.vars())
        .envs(vars.iter().map(|(k, v)| (*k, v.as_str())))
        .kill_on_drop(true)
        .status()
        .await
        .map_err(|e| e.to_string())?;
    let typescript = tokio::process::Command::new("npm")
        .current_dir(root.join("sdk/typescript"))
        .args(["run", "--silent", "test:integration"])
        .env("PATH", node_path)
        .envs(env.vars())
        .envs(vars.iter().map(|(k, v)| (*k, v.as_str())))
        .kill_on_drop(true)
        .status()
        .await
        .map_err(|e| e.to_string())?;
    Ok(rust.success() && typescript.success())
}
