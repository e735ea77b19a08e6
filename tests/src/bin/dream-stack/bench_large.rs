//! `make bench-large`: does the hot path's cost stay flat as the platform's data grows?
//! Latency of POST /api/data, GET /api/usage and GET /api/dashboard for one real project (made
//! through the API), measured on a nearly empty database, then again after the database was
//! filled with other tenants' data (10^6 usage rows across 10^3 projects, 10^5 subscriptions,
//! customers and events) and with a large history of the project's own. Prints both side by
//! side; asserts nothing about speed. Then the bytes an active user's month of usage costs D1,
//! and the months until D1's size cap at a stated load, with and without retention.

use std::{path::Path, process::ExitCode, time::Instant};

use e2e::{
    TestEnv, journey,
    journey::TestProject,
    stack::{Stack, StackConfig},
};

const FILLER_PROJECTS: i64 = 1_000;
const USAGE_ROWS_PER_FILLER: i64 = 1_000;
const SUBSCRIPTIONS_PER_FILLER: i64 = 100;
const CUSTOMERS_PER_FILLER: i64 = 100;
const EVENTS: i64 = 100_000;
/// The measured project's own history: customers (each with a subscription) and usage months.
const OWN_CUSTOMERS: i64 = 10_000;
const OWN_USAGE_MONTHS: i64 = 5;
const SAMPLES: usize = 200;
const DASHBOARD_SAMPLES: usize = 60;

struct Latency {
    p50_ms: f64,
    p99_ms: f64,
}

struct Round {
    data: Latency,
    usage: Latency,
    dashboard: Latency,
}

pub async fn run() -> Result<ExitCode, String> {
    let base = std::env::temp_dir().join(format!("dream-bench-large-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&base);
    let config = StackConfig::on_free_ports(&base);
    println!("Starting the local stack ({}) ...", base.display());
    let mut stack = Stack::start(config.clone()).await?;
    let env = TestEnv::of(&stack);
    let prepared = async {
        let developer = journey::onboarded_developer(&env, "bench-large").await?;
        let project = journey::create_project(
            &developer,
            journey::saas_body("Large", &[("free", Some(1_000_000_000), 0.0), ("pro", None, 10.0)]),
        )
        .await?;
        let platform = developer.platform_id().await?;
        let small = round(&env, &project).await?;
        Ok::<_, String>((project, platform, small))
    }
    .await;
    stack.stop().await;
    let (project, platform, small) = prepared?;

    // The workers are stopped, so nothing else has the database open while it is filled.
    let database = e2e::stack::d1_file(&config.state_dir)?;
    let started = Instant::now();
    let usage_bytes =
        fill(&database, &project, &platform).map_err(|e| format!("filling {}: {e}", database.display()))?;
    let filled_in = started.elapsed().as_secs_f64();
    let size_mb = std::fs::metadata(&database).map(|m| m.len()).unwrap_or(0) as f64 / 1e6;

    let mut stack = Stack::start(config).await?;
    let env = TestEnv::of(&stack);
    let large = round(&env, &project).await;
    stack.stop().await;
    let large = large?;
    let _ = std::fs::remove_dir_all(&base);

    println!(
        "\nFilled local D1 in {filled_in:.1} s to {size_mb:.0} MB: {} usage rows across {FILLER_PROJECTS} other projects, \
         {} subscriptions, {} customers, {EVENTS} events; the measured project itself: {OWN_CUSTOMERS} customers with \
         subscriptions and {} usage rows.\n",
        FILLER_PROJECTS * USAGE_ROWS_PER_FILLER,
        FILLER_PROJECTS * SUBSCRIPTIONS_PER_FILLER + OWN_CUSTOMERS,
        FILLER_PROJECTS * CUSTOMERS_PER_FILLER + OWN_CUSTOMERS,
        OWN_CUSTOMERS * OWN_USAGE_MONTHS,
    );
    println!(
        "{:<22} {:>12} {:>12} {:>12} {:>12} {:>10}",
        "sequential requests", "small p50", "small p99", "large p50", "large p99", "p50 ratio"
    );
    for (name, s, l) in [
        ("POST /api/data", &small.data, &large.data),
        ("GET /api/usage", &small.usage, &large.usage),
        ("GET /api/dashboard", &small.dashboard, &large.dashboard),
    ] {
        println!(
            "{name:<22} {:>12.2} {:>12.2} {:>12.2} {:>12.2} {:>10.2}",
            s.p50_ms,
            s.p99_ms,
            l.p50_ms,
            l.p99_ms,
            l.p50_ms / s.p50_ms
        );
    }
    println!("(milliseconds; loopback, wrangler dev + local D1)");
    print_growth(usage_bytes);
    Ok(ExitCode::SUCCESS)
}

/// D1's hard size cap per database; past it every write of every tenant fails.
const D1_CAP_BYTES: f64 = 10e9;
/// The load the figures are stated for: active end users a month, all projects together.
const STATED_ACTIVE_USERS_PER_MONTH: f64 = 1e6;

/// What usage costs the shared database, and how long it lasts at the stated load: without
/// retention, and with the daily job's roll-up of periods over 13 months old.
fn print_growth(usage_bytes: u64) {
    let rows = (FILLER_PROJECTS * USAGE_ROWS_PER_FILLER) as f64;
    let per_user_month = usage_bytes as f64 / rows;
    let per_month = per_user_month * STATED_ACTIVE_USERS_PER_MONTH;
    let retained = per_month * f64::from(shared::storage::maintenance::RAW_USAGE_MONTHS);
    println!(
        "\nD1 growth: {per_user_month:.0} bytes per active user per month (a usage row and its indexes, measured on \
         {rows:.0} rows). At {:.0} active users a month across the platform that is {:.2} GB a month: without \
         retention the {:.0} GB cap is reached in {:.0} months; with usage rolled up after {} months, usage holds \
         at {:.1} GB ({:.0}% of the cap) plus one small row per project and month.",
        STATED_ACTIVE_USERS_PER_MONTH,
        per_month / 1e9,
        D1_CAP_BYTES / 1e9,
        D1_CAP_BYTES / per_month,
        shared::storage::maintenance::RAW_USAGE_MONTHS,
        retained / 1e9,
        100.0 * retained / D1_CAP_BYTES,
    );
}

async fn round(env: &TestEnv, project: &TestProject) -> Result<Round, String> {
    let client = e2e::client();
    let bearer = project.bearer();
    let time = |method: reqwest::Method, path: &'static str, user: Option<String>| {
        let mut request = client
            .request(method, format!("{}{path}", env.api_multi))
            .header("authorization", &bearer);
        if let Some(user) = user {
            request = request.header("x-user-id", user).header("x-user-plan", "free");
        }
        async move {
            let started = Instant::now();
            let response = request.send().await.map_err(|e| e.to_string())?;
            let status = response.status();
            let _ = response.bytes().await;
            if !status.is_success() {
                return Err(format!("{path} answered {status}"));
            }
            Ok::<f64, String>(started.elapsed().as_secs_f64() * 1000.0)
        }
    };
    let (mut data, mut usage, mut dashboard) = (
        Vec::with_capacity(SAMPLES),
        Vec::with_capacity(SAMPLES),
        Vec::with_capacity(DASHBOARD_SAMPLES),
    );
    for i in 0..(SAMPLES + 20) {
        let user = Some(format!("bench-user-{}", i % 100));
        let d = time(reqwest::Method::POST, "/api/data", user.clone()).await?;
        let u = time(reqwest::Method::GET, "/api/usage", user).await?;
        // The first 20 warm the isolate, SQLite's page cache and the KV auth cache.
        if i >= 20 {
            data.push(d);
            usage.push(u);
        }
    }
    for i in 0..(DASHBOARD_SAMPLES + 5) {
        let d = time(reqwest::Method::GET, "/api/dashboard", None).await?;
        if i >= 5 {
            dashboard.push(d);
        }
    }
    Ok(Round {
        data: latency(data),
        usage: latency(usage),
        dashboard: latency(dashboard),
    })
}

fn latency(mut samples: Vec<f64>) -> Latency {
    samples.sort_by(f64::total_cmp);
    let at = |q: f64| samples[((samples.len() as f64 - 1.0) * q).round() as usize];
    Latency {
        p50_ms: at(0.50),
        p99_ms: at(0.99),
    }
}

/// Other tenants' data, and the measured project's own history, in one transaction of
/// set-based inserts (recursive CTEs generate the rows).
/// Fills the database; returns the bytes the other projects' usage rows (one per user and
/// month, with their indexes) added to it.
fn fill(database: &Path, project: &TestProject, platform: &str) -> rusqlite::Result<u64> {
    let mut conn = rusqlite::Connection::open(database)?;
    let tx = conn.transaction()?;
    // Pages as this transaction sees them, its own writes included.
    let bytes = |tx: &rusqlite::Transaction| -> rusqlite::Result<u64> {
        let pages: i64 = tx.query_row("PRAGMA page_count", [], |r| r.get(0))?;
        let page_size: i64 = tx.query_row("PRAGMA page_size", [], |r| r.get(0))?;
        Ok((pages * page_size) as u64)
    };
    let n = |count: i64| {
        format!(
            "WITH RECURSIVE n(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM n WHERE i < {}) ",
            count - 1
        )
    };
    let t = "'2026-01-01T00:00:00Z'";
    // Other developers and their projects, two tiers each.
    tx.execute_batch(&format!(
        "{n} INSERT INTO platforms (platformId, clerkUserId, createdAt) SELECT printf('plt_fill%04d', i), printf('user_fill%04d', i), {t} FROM n;
         {n} INSERT INTO api_keys (publishableKey, platformId, projectId, projectType, mode, name, secretKeyHash, createdAt, updatedAt)
             SELECT printf('pk_test_fill%024d', i), printf('plt_fill%04d', i), printf('prj_fill%04d', i), 'saas', 'test', 'Filler', printf('%064d', i), {t}, {t} FROM n;
         {n} INSERT INTO tiers (publishableKey, name, platformId, projectType, mode, displayName, \"limit\", createdAt, updatedAt)
             SELECT printf('pk_test_fill%024d', i), tier, printf('plt_fill%04d', i), 'saas', 'test', tier, 1000, {t}, {t}
             FROM n, (SELECT 'free' AS tier UNION ALL SELECT 'pro');",
        n = n(FILLER_PROJECTS)
    ))?;
    // Their usage: users × months, spread over the last six months.
    let before_usage = bytes(&tx)?;
    tx.execute_batch(&format!(
        "{p} , u(j) AS (SELECT 0 UNION ALL SELECT j + 1 FROM u WHERE j < {users})
         INSERT INTO usage_counts (publishableKey, userId, periodStart, periodEnd, platformId, plan, usageCount, updatedAt)
         SELECT printf('pk_test_fill%024d', i), printf('user-%d', j / 6), strftime('%Y-%m-01T00:00:00Z', 'now', printf('%+d months', -(j % 6))),
                strftime('%Y-%m-01T00:00:00Z', 'now', printf('%+d months', 1 - j % 6)), printf('plt_fill%04d', i), 'free', 1 + j % 50, {t}
         FROM n, u;",
        p = n(FILLER_PROJECTS).trim_end(),
        users = USAGE_ROWS_PER_FILLER - 1
    ))?;
    let usage_bytes = bytes(&tx)? - before_usage;
    let subscriptions = |pk: &str, platform: &str, projects: i64, per: i64, id: &str| {
        format!(
            "{p} , k(j) AS (SELECT 0 UNION ALL SELECT j + 1 FROM k WHERE j < {per1})
             INSERT INTO customers (publishableKey, userId, platformId, email, plan, createdAt, updatedAt)
             SELECT {pk}, printf('user-%d', j), {platform}, printf('c%d-%d@example.com', i, j), 'free',
                    strftime('%Y-%m-%dT%H:%M:%SZ', 'now', printf('-%d minutes', j)), {t} FROM n, k;
             {p} , k(j) AS (SELECT 0 UNION ALL SELECT j + 1 FROM k WHERE j < {per1})
             INSERT INTO subscriptions (subscriptionId, publishableKey, userId, platformId, plan, amount, status,
                    currentPeriodStart, currentPeriodEnd, cancelAtPeriodEnd, updatedAt, mrrCents)
             SELECT printf('sub_{id}_%d_%d', i, j), {pk}, printf('user-%d', j), {platform}, 'pro', 1000,
                    CASE j % 4 WHEN 0 THEN 'canceled' WHEN 1 THEN 'past_due' ELSE 'active' END,
                    strftime('%Y-%m-%dT00:00:00Z', 'now', '-10 days'), strftime('%Y-%m-%dT00:00:00Z', 'now', '+20 days'),
                    j % 7 = 0, {t}, 1000 FROM n, k;",
            p = n(projects).trim_end(),
            per1 = per - 1,
        )
    };
    tx.execute_batch(&subscriptions(
        "printf('pk_test_fill%024d', i)",
        "printf('plt_fill%04d', i)",
        FILLER_PROJECTS,
        SUBSCRIPTIONS_PER_FILLER.max(CUSTOMERS_PER_FILLER),
        "fill",
    ))?;
    tx.execute_batch(&format!(
        "{n} INSERT INTO events (eventId, source, type, platformId, publishableKey, payload_json, createdAt)
         SELECT printf('evt_fill%08d', i), 'stripe', 'customer.subscription.updated', printf('plt_fill%04d', i % {FILLER_PROJECTS}),
                printf('pk_test_fill%024d', i % {FILLER_PROJECTS}), '{{}}', {t} FROM n;",
        n = n(EVENTS)
    ))?;
    // The measured project's own customers, subscriptions and months of usage.
    let pk = format!("'{}'", project.publishable_key);
    let plt = format!("'{platform}'");
    tx.execute_batch(&subscriptions(&pk, &plt, 1, OWN_CUSTOMERS, "own"))?;
    tx.execute_batch(&format!(
        "{n} , m(j) AS (SELECT 1 UNION ALL SELECT j + 1 FROM m WHERE j < {months})
         INSERT INTO usage_counts (publishableKey, userId, periodStart, periodEnd, platformId, plan, usageCount, updatedAt)
         SELECT {pk}, printf('user-%d', i), strftime('%Y-%m-01T00:00:00Z', 'now', printf('%+d months', -j)),
                strftime('%Y-%m-01T00:00:00Z', 'now', printf('%+d months', 1 - j)), {plt}, 'free', 1 + i % 90, {t}
         FROM n, m;",
        n = n(OWN_CUSTOMERS).trim_end(),
        months = OWN_USAGE_MONTHS
    ))?;
    // No ANALYZE: the planner works without statistics, as the plan test checks it does.
    tx.commit()?;
    Ok(usage_bytes)
}
