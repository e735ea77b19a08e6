//! The SDKs' tests against the same stack: a developer with a SaaS and a Store project made
//! through the API, whose secret keys the Rust and TypeScript clients then use; a second
//! developer whose Stripe account the tests may break on purpose (emulator faults) without
//! disturbing the first; and both SDKs' example apps as Workers in workerd. The TypeScript
//! tests run on Node 22, 18, Bun and Deno; the Python SDK's (`sdk/python/tests/stack`, with its
//! Flask example app) in the venv `make test-e2e` installs, then on Python 3.9 and 3.15 in the
//! venvs it installs beside it (`sdk/python/.pythons`), when they are there.
//! `DREAM_SDK_ONLY=python` (or `rust`, `typescript`, comma-separated) runs only those SDKs' tests.

use std::{collections::BTreeMap, path::Path};

use e2e::{
    TestEnv, journey,
    stack::{Stack, WorkerSpec, free_port},
};
use serde_json::json;

/// Each SDK's example app as a Worker: the variable that gives the tests its URL, its name and
/// its wrangler config. The Rust one is built by `make test-e2e`; wrangler bundles the other.
const WORKER_EXAMPLES: [(&str, &str, &str); 2] = [
    (
        "DREAM_SDK_RUST_WORKER_URL",
        "sdk-rust-worker",
        "sdk/rust/worker-example/wrangler.toml",
    ),
    (
        "DREAM_SDK_TS_WORKER_URL",
        "sdk-ts-worker",
        "sdk/typescript/examples/worker/wrangler.toml",
    ),
];

/// What both SDKs' tests expect (`sdk/rust/tests/stack.rs`, `sdk/typescript/test/live.ts`):
/// SaaS tiers free (3 requests, 5,000 tokens) and pro (1,000 requests at $9.99, feature `sso`).
async fn projects(env: &TestEnv) -> Result<Vec<(&'static str, String)>, String> {
    let tiers = [("free", Some(3), 0.0), ("pro", Some(1000), 9.99)];
    let developer = journey::onboarded_developer(env, "sdk").await?;
    // The free tier also meters `tokens` (5,000 a month, hard).
    let mut saas_body = journey::saas_body("SDK SaaS", &tiers);
    saas_body["tiers"][0]["meters"] = json!([{"key": "tokens", "included": 5000}]);
    saas_body["tiers"][1]["entitlements"] = json!(["sso"]);
    let saas = journey::create_project(&developer, saas_body).await?;
    let store = journey::create_project(
        &developer,
        json!({"name": "SDK Store", "projectType": "store", "tiers": [
            {"name": "mug", "displayName": "Coffee Mug", "price": 12.5, "inventory": 50}
        ]}),
    )
    .await?;
    let unlucky = journey::onboarded_developer(env, "sdk-faults").await?;
    let faulty = journey::create_project(&unlucky, journey::saas_body("SDK Faults", &tiers)).await?;
    Ok(vec![
        ("DREAM_SDK_SAAS_SECRET_KEY", saas.secret_key),
        ("DREAM_SDK_STORE_SECRET_KEY", store.secret_key),
        ("DREAM_SDK_FAULTS_SECRET_KEY", faulty.secret_key),
        ("DREAM_SDK_FAULTS_STRIPE_ACCOUNT", unlucky.stripe_account().await?),
        ("DREAM_SDK_REQUIRE_STACK", "1".to_owned()),
    ])
}

/// Serves an example Worker with the SaaS project's key, as a developer would deploy it.
async fn start_worker_example(
    stack: &mut Stack,
    env: &TestEnv,
    (name, config): (&'static str, &str),
    saas_key: &str,
) -> Result<String, String> {
    let port = free_port();
    let vars = BTreeMap::from([
        ("DREAM_API_BASE_URL".to_owned(), env.api_multi.clone()),
        ("DREAM_API_SECRET_KEY".to_owned(), saas_key.to_owned()),
    ]);
    let config = config.to_owned();
    stack
        .add_worker(WorkerSpec {
            name,
            config,
            port,
            vars,
            companions: Vec::new(),
        })
        .await?;
    Ok(format!("http://127.0.0.1:{port}"))
}

pub async fn run(root: &Path, stack: &mut Stack, env: &TestEnv, node_path: &str) -> Result<bool, String> {
    println!("SDK tests (sdk/rust, sdk/typescript, sdk/python, their example apps) ...");
    let mut vars = projects(env).await?;
    let saas_key = vars[0].1.clone();
    for (variable, name, config) in WORKER_EXAMPLES {
        let url = start_worker_example(stack, env, (name, config), &saas_key).await?;
        vars.push((variable, url));
    }
    // Each run gets the stack's variables and the projects' keys.
    let run = |program: &str, dir: std::path::PathBuf, args: &[&str]| {
        let mut command = tokio::process::Command::new(program);
        command
            .current_dir(dir)
            .args(args)
            .env("PATH", node_path)
            .envs(env.vars())
            .envs(vars.iter().map(|(k, v)| (*k, v.as_str())))
            .kill_on_drop(true);
        async move { command.status().await.map(|s| s.success()).map_err(|e| e.to_string()) }
    };
    let only = std::env::var("DREAM_SDK_ONLY").unwrap_or_default();
    let wanted = |sdk: &str| only.trim().is_empty() || only.split(',').any(|s| s.trim() == sdk);
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".to_owned());
    let mut rust = true;
    if wanted("rust") {
        rust = run(&cargo, root.to_path_buf(), &["test", "-p", "dream-api", "--quiet"]).await?;
    }
    // Node 22 with the example server, then Node 18, Bun and Deno (`sdk/typescript/runtimes`).
    let mut typescript = true;
    if wanted("typescript") {
        for script in ["test:integration", "test:integration:runtimes"] {
            typescript &= run("npm", root.join("sdk/typescript"), &["run", "--silent", script]).await?;
        }
    }
    // The Python SDK's tests and its example app, with the same variables: in its venv, then
    // on each other Python `make` installed for it (the oldest and the newest it supports).
    let mut python = true;
    if wanted("python") {
        for venv in python_venvs(root) {
            let pytest = venv.join("bin/pytest");
            println!(
                "Python SDK stack tests (sdk/python/tests/stack) on {} ({}) ...",
                python_version(&venv),
                venv.strip_prefix(root).unwrap_or(venv.as_path()).display()
            );
            python &= run(
                &pytest.to_string_lossy(),
                root.to_path_buf(),
                &["-q", "sdk/python/tests/stack"],
            )
            .await?;
        }
    }
    Ok(rust && typescript && python)
}

/// sdk/python/.venv, then the venvs `make` makes for the oldest and newest Python the SDK
/// supports (`sdk/python/.pythons/<version>/venv`, the Makefile's PY_SDK_MATRIX), oldest first;
/// without them (a stack run without `make test-e2e`) only the first.
fn python_venvs(root: &Path) -> Vec<std::path::PathBuf> {
    let pythons = root.join("sdk/python/.pythons");
    let mut matrix: Vec<(Vec<u32>, std::path::PathBuf)> = std::fs::read_dir(&pythons)
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|entry| {
            let name = entry.file_name().to_string_lossy().into_owned();
            let version = name.split('.').map(|n| n.parse().ok()).collect::<Option<Vec<u32>>>()?;
            let venv = entry.path().join("venv");
            venv.join(".installed").exists().then_some((version, venv))
        })
        .collect();
    matrix.sort();
    std::iter::once(root.join("sdk/python/.venv"))
        .chain(matrix.into_iter().map(|(_, venv)| venv))
        .collect()
}

/// "Python 3.9.2", as the venv's interpreter says it.
fn python_version(venv: &Path) -> String {
    std::process::Command::new(venv.join("bin/python"))
        .arg("--version")
        .output()
        .ok()
        .map(|out| String::from_utf8_lossy(&out.stdout).trim().to_owned())
        .filter(|version| !version.is_empty())
        .unwrap_or_else(|| "Python ?".to_owned())
}
