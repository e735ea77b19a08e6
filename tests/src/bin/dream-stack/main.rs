//! `dream-stack`: runs the local platform.
//!
//!   dream-stack dev          the platform on fixed ports with persistent state in `.dev/`
//!                            (`make dev`), a demo project, until Ctrl-C
//!   dream-stack test [ARGS]  a fresh stack on free ports, the end-to-end tests against it,
//!                            then everything stopped (`make test`); ARGS go to the test harness
//!   dream-stack bench        throughput and latency of POST /api/data (`make bench`)

use std::{path::Path, process::ExitCode};

use e2e::{
    ENV_API_MULTI, ENV_FRONT_AUTH_API, ENV_OAUTH_API, ENV_STATE_DIR,
    fixtures::{DEMO_TIERS, LocalD1, TestProject},
    stack::{DEV_PORTS, Stack, StackConfig, free_port, repo_root},
};
use shared::mode::{Mode, ProjectType};
use tokio::signal::unix::{SignalKind, signal};

mod bench;

#[tokio::main]
async fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let result = match args.first().map(String::as_str) {
        Some("dev") => dev().await,
        Some("test") => test(&args[1..]).await,
        Some("bench") => bench::run().await,
        _ => Err("usage: dream-stack dev | test [test args] | bench".to_owned()),
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
    let config = StackConfig::with_ports(&base, DEV_PORTS);
    println!(
        "Starting dream-api locally (state in {}, logs in {}) ...",
        config.state_dir.display(),
        config.log_dir.display()
    );
    let mut stack = Stack::start(config).await?;
    let demo = match ensure_demo_project(&stack, &base).await {
        Ok(demo) => demo,
        Err(e) => {
            stack.stop().await;
            return Err(e);
        }
    };
    print_banner(&stack.config, &demo, &base.join("demo-project.json"));
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

/// The demo project survives restarts: reuse it while it still exists in the persisted D1.
async fn ensure_demo_project(stack: &Stack, base: &Path) -> Result<TestProject, String> {
    let d1 = LocalD1 {
        state_dir: stack.config.state_dir.clone(),
    };
    let path = base.join("demo-project.json");
    if let Ok(text) = std::fs::read_to_string(&path)
        && let Ok(demo) = serde_json::from_str::<TestProject>(&text)
        && d1.project_exists(&demo.publishable_key).await?
    {
        write_demo_file(&path, &demo, stack)?;
        return Ok(demo);
    }
    let demo = d1.create_project(ProjectType::Saas, Mode::Test, &DEMO_TIERS).await?;
    write_demo_file(&path, &demo, stack)?;
    Ok(demo)
}

fn write_demo_file(path: &Path, demo: &TestProject, stack: &Stack) -> Result<(), String> {
    let mut json = serde_json::to_value(demo).map_err(|e| e.to_string())?;
    json["apiMultiUrl"] = stack.config.url("api-multi").into();
    json["oauthApiUrl"] = stack.config.url("oauth-api").into();
    json["frontAuthApiUrl"] = stack.config.url("front-auth-api").into();
    let text = serde_json::to_string_pretty(&json).map_err(|e| e.to_string())?;
    std::fs::write(path, text + "\n").map_err(|e| format!("{}: {e}", path.display()))
}

fn print_banner(config: &StackConfig, demo: &TestProject, demo_file: &Path) {
    let api = config.url("api-multi");
    println!(
        "\n\
dream-api is running:
  api-multi       {api}
  oauth-api       {}
  front-auth-api  {}

Demo SaaS project (test mode; tiers: free = 100 requests/month, pro = 10000):
  publishable key  {}
  secret key       {}
  (also in {})

Try it:
  curl -X POST {api}/api/data \\
    -H 'Authorization: Bearer {}' \\
    -H 'X-User-Id: user_123' -H 'X-User-Plan: free'

Press Ctrl-C to stop.",
        config.url("oauth-api"),
        config.url("front-auth-api"),
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
    let config = StackConfig::with_ports(&base, [free_port(), free_port(), free_port()]);
    println!(
        "Starting a fresh local stack for the end-to-end tests ({}) ...",
        base.display()
    );
    let mut stack = Stack::start(config).await?;

    let mut cmd = tokio::process::Command::new(&cargo);
    cmd.current_dir(&root)
        .args(["test", "-p", "e2e", "--tests", "--quiet", "--"])
        .args(harness_args)
        .env(ENV_API_MULTI, stack.config.url("api-multi"))
        .env(ENV_OAUTH_API, stack.config.url("oauth-api"))
        .env(ENV_FRONT_AUTH_API, stack.config.url("front-auth-api"))
        .env(ENV_STATE_DIR, &stack.config.state_dir)
        .kill_on_drop(true);
    let outcome = tokio::select! {
        status = cmd.status() => status.map_err(|e| e.to_string()),
        _ = shutdown_signal() => Err("interrupted".to_owned()),
    };
    let passed = matches!(outcome, Ok(status) if status.success());
    if !passed {
        for worker in e2e::stack::WORKERS {
            eprintln!("--- last lines of {worker}'s log ---\n{}", stack.log_tail(worker));
        }
    }
    stack.stop().await;
    if passed {
        let _ = std::fs::remove_dir_all(&base);
    } else {
        eprintln!("Stack state and logs kept in {}", base.display());
    }
    outcome?;
    Ok(if passed { ExitCode::SUCCESS } else { ExitCode::FAILURE })
}
