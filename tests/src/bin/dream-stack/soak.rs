//! `dream-stack soak [MINUTES]` (`make soak`, not in CI): a mixed workload against the stack
//! `make dev` is running, for a set time, then the books. Usage from many users of several SaaS
//! projects (some with Idempotency-Keys, some of those sent twice as a retry would), customers
//! subscribing through Checkout, Store carts paid or left open, dashboard reads; every payment
//! reaches api-multi as a webhook. Afterwards every user's count, each project's subscriptions
//! and MRR and the Store's sales must be exactly what the driver did. Prints the error rate and
//! the latency percentiles of each operation; fails on any wrong figure or unexpected answer.

use std::{
    collections::{BTreeMap, HashMap},
    process::ExitCode,
    sync::{
        Arc, Mutex,
        atomic::{AtomicU64, Ordering},
    },
    time::{Duration, Instant},
};

use e2e::{
    Reply, TestEnv,
    customers::{ProjectApi, metric},
    journey::{self, TestProject},
    stack::{DEV_DASHBOARD_PORT, DEV_EMULATOR_PORT, DEV_PORTS},
};
use serde_json::json;

const SAAS_PROJECTS: usize = 4;
const USERS_PER_PROJECT: usize = 150;
const FREE_LIMIT: u64 = 40;
const PRO_CENTS: i64 = 999;
const MUG_CENTS: i64 = 1250;
/// Concurrent metering clients (the rest run one each).
const USAGE_CLIENTS: usize = 12;

/// The stack of `make dev`, on its fixed ports.
fn dev_env() -> TestEnv {
    let url = |port: u16| format!("http://127.0.0.1:{port}");
    TestEnv {
        api_multi: url(DEV_PORTS[0]),
        oauth_api: url(DEV_PORTS[1]),
        front_auth_api: url(DEV_PORTS[2]),
        emulator: url(DEV_EMULATOR_PORT),
        connect_webhook_secret: String::new(),
        dashboard: format!("http://localhost:{DEV_DASHBOARD_PORT}"),
        api_multi_faulty_kv: None,
        state_dir: e2e::stack::repo_root().join(".dev/state").display().to_string(),
    }
}

/// What the driver did, to compare with what the platform recorded.
#[derive(Default)]
struct Books {
    /// (project index, user) → requests answered as counted (not replays).
    counted: Mutex<HashMap<(usize, String), u64>>,
    subscriptions: [AtomicU64; SAAS_PROJECTS],
    sales: AtomicU64,
    units_sold: AtomicU64,
}

/// Latencies (ms) and unexpected answers per operation.
#[derive(Default)]
struct Stats {
    latencies: Mutex<BTreeMap<&'static str, Vec<f64>>>,
    unexpected: Mutex<Vec<String>>,
}

impl Stats {
    fn record(&self, op: &'static str, started: Instant) {
        let ms = started.elapsed().as_secs_f64() * 1000.0;
        self.latencies.lock().unwrap().entry(op).or_default().push(ms);
    }

    fn unexpected(&self, op: &str, reply: &Reply) {
        self.unexpected
            .lock()
            .unwrap()
            .push(format!("{op}: {} {}", reply.status, reply.body));
    }
}

/// A cheap deterministic generator: the workload's choices, not secrets.
struct Dice(u64);

impl Dice {
    fn new(seed: u64) -> Self {
        Self(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1)
    }

    fn below(&mut self, n: usize) -> usize {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        (self.0 % n as u64) as usize
    }
}

struct Setup {
    saas: Vec<ProjectApi>,
    store: ProjectApi,
    mug_price: String,
}

async fn set_up(env: &TestEnv) -> Result<Setup, String> {
    let developer = journey::onboarded_developer(env, "soak").await?;
    let mut saas = Vec::new();
    for n in 0..SAAS_PROJECTS {
        let body = journey::saas_body(
            &format!("Soak SaaS {n}"),
            &[("free", Some(FREE_LIMIT), 0.0), ("pro", Some(100_000), 9.99)],
        );
        let project: TestProject = journey::create_project(&developer, body).await?;
        saas.push(ProjectApi::new(env, &project));
    }
    let store: TestProject = journey::create_project(
        &developer,
        json!({"name": "Soak Store", "projectType": "store",
               "tiers": [{"name": "mug", "price": 12.5, "inventory": 1_000_000}]}),
    )
    .await?;
    let store = ProjectApi::new(env, &store);
    let products = store.get("/api/products", None).await;
    let mug_price = products.body["products"][0]["priceId"]
        .as_str()
        .ok_or_else(|| format!("no mug: {:?}", products.body))?
        .to_owned();
    Ok(Setup { saas, store, mug_price })
}

/// One metering client: random users of random projects; a fifth of the requests carry an
/// Idempotency-Key, and a third of those are sent again at once, as a retry would be.
async fn meter(setup: Arc<Setup>, books: Arc<Books>, stats: Arc<Stats>, seed: u64, until: Instant) {
    let mut dice = Dice::new(seed);
    while Instant::now() < until {
        let project = dice.below(SAAS_PROJECTS);
        let user = format!("soak-user-{}", dice.below(USERS_PER_PROJECT));
        let api = &setup.saas[project];
        let key = (dice.below(5) == 0).then(|| dream_core::keys::random_id("soak"));
        let sends = if key.is_some() && dice.below(3) == 0 { 2 } else { 1 };
        for attempt in 0..sends {
            let started = Instant::now();
            let reply = api.track(&user, key.as_deref()).await;
            stats.record("POST /api/data", started);
            match (reply.status, reply.body["error"].is_null()) {
                (200, true) if reply.header("idempotent-replayed") == Some("true") => {
                    if attempt == 0 {
                        stats.unexpected("a fresh Idempotency-Key replayed", &reply);
                    }
                }
                (200, true) => {
                    if attempt == 1 {
                        stats.unexpected("a retried Idempotency-Key counted again", &reply);
                    }
                    *books
                        .counted
                        .lock()
                        .unwrap()
                        .entry((project, user.clone()))
                        .or_default() += 1;
                }
                (429, false) => {}
                _ => stats.unexpected("POST /api/data", &reply),
            }
        }
    }
}

/// Customers subscribing to `pro`: Checkout, payment on the emulator, the webhooks.
async fn subscribe(setup: Arc<Setup>, books: Arc<Books>, stats: Arc<Stats>, until: Instant) {
    let mut n = 0;
    while Instant::now() < until {
        let project = n % SAAS_PROJECTS;
        let user = format!("soak-subscriber-{n}");
        n += 1;
        let api = &setup.saas[project];
        let started = Instant::now();
        let reply = api
            .post("/api/create-checkout", Some(&user), json!({"tier": "pro"}))
            .await;
        stats.record("POST /api/create-checkout", started);
        let Some(session) = reply.body["sessionId"].as_str() else {
            stats.unexpected("POST /api/create-checkout", &reply);
            continue;
        };
        match api.pay(session).await {
            Ok(Some(_)) => {
                books.subscriptions[project].fetch_add(1, Ordering::Relaxed);
            }
            other => stats
                .unexpected
                .lock()
                .unwrap()
                .push(format!("paying {session}: {other:?}")),
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
}

/// Store buyers: carts of one to three mugs, two of every three paid, the third left open.
async fn shop(setup: Arc<Setup>, books: Arc<Books>, stats: Arc<Stats>, until: Instant) {
    let mut dice = Dice::new(7);
    while Instant::now() < until {
        let quantity = 1 + dice.below(3) as u64;
        let cart = json!({"email": "soak-buyer@example.com",
                          "items": [{"priceId": setup.mug_price, "quantity": quantity}]});
        let started = Instant::now();
        let reply = setup.store.post("/api/cart/checkout", None, cart).await;
        stats.record("POST /api/cart/checkout", started);
        let Some(session) = reply.body["sessionId"].as_str() else {
            stats.unexpected("POST /api/cart/checkout", &reply);
            continue;
        };
        if dice.below(3) != 0 {
            match setup.store.pay(session).await {
                Ok(_) => {
                    books.sales.fetch_add(1, Ordering::Relaxed);
                    books.units_sold.fetch_add(quantity, Ordering::Relaxed);
                }
                Err(e) => stats
                    .unexpected
                    .lock()
                    .unwrap()
                    .push(format!("paying cart {session}: {e}")),
            }
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
}

/// The developer's server reading figures.
async fn read_dashboards(setup: Arc<Setup>, stats: Arc<Stats>, until: Instant) {
    let mut dice = Dice::new(11);
    while Instant::now() < until {
        let pick = dice.below(SAAS_PROJECTS + 1);
        let api = setup.saas.get(pick).unwrap_or(&setup.store);
        let started = Instant::now();
        let reply = api.get("/api/dashboard", None).await;
        stats.record("GET /api/dashboard", started);
        if reply.status != 200 {
            stats.unexpected("GET /api/dashboard", &reply);
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
}

/// Every figure the platform holds against what the driver did; the mismatches.
async fn audit(setup: &Setup, books: &Books) -> Vec<String> {
    let mut wrong = Vec::new();
    let counted = books.counted.lock().unwrap().clone();
    for ((project, user), expected) in &counted {
        let usage = setup.saas[*project].usage(user).await;
        if usage["count"].as_u64() != Some(*expected) {
            wrong.push(format!(
                "project {project} {user}: counted {expected}, its usage counter says {}",
                usage["count"]
            ));
        }
    }
    for (project, api) in setup.saas.iter().enumerate() {
        let subscriptions = books.subscriptions[project].load(Ordering::Relaxed) as i64;
        let usage: u64 = (counted.iter())
            .filter(|((p, _), _)| *p == project)
            .map(|(_, n)| n)
            .sum();
        // Webhooks may still be arriving, and the counters copy to D1 within seconds: give
        // them a minute.
        let settled = api
            .wait_for_dashboard_within(Duration::from_secs(60), |d| {
                metric(d, "activeSubscriptions") == subscriptions && metric(d, "usageThisPeriod") == usage as i64
            })
            .await;
        let dashboard = settled.unwrap_or_else(|last| last);
        let figures = (
            metric(&dashboard, "activeSubscriptions"),
            metric(&dashboard, "mrrCents"),
            metric(&dashboard, "usageThisPeriod"),
        );
        let expected = (subscriptions, subscriptions * PRO_CENTS, usage as i64);
        if figures != expected {
            wrong.push(format!(
                "project {project}: (subscriptions, MRR, usage) {figures:?}, the driver made {expected:?}"
            ));
        }
    }
    let sales = books.sales.load(Ordering::Relaxed) as i64;
    let units = books.units_sold.load(Ordering::Relaxed) as i64;
    let dashboard = (setup.store)
        .wait_for_dashboard_within(Duration::from_secs(60), |d| metric(d, "totalSales") == sales)
        .await
        .unwrap_or_else(|last| last);
    let figures = (
        metric(&dashboard, "totalSales"),
        metric(&dashboard, "unitsSold"),
        metric(&dashboard, "revenueCents"),
    );
    if figures != (sales, units, units * MUG_CENTS) {
        wrong.push(format!(
            "store: (sales, units, revenue) {figures:?}, the driver sold {:?}",
            (sales, units, units * MUG_CENTS)
        ));
    }
    wrong
}

fn percentile(sorted: &[f64], p: f64) -> f64 {
    let rank = ((p / 100.0) * (sorted.len() as f64 - 1.0)).round() as usize;
    sorted.get(rank).copied().unwrap_or(f64::NAN)
}

fn report(stats: &Stats, elapsed: Duration) {
    let seconds = elapsed.as_secs_f64();
    println!(
        "\n{:<28} {:>8} {:>8} {:>8} {:>8} {:>8}",
        "operation", "count", "per s", "p50 ms", "p95 ms", "p99 ms"
    );
    for (op, samples) in stats.latencies.lock().unwrap().iter_mut() {
        samples.sort_by(f64::total_cmp);
        println!(
            "{op:<28} {:>8} {:>8.1} {:>8.1} {:>8.1} {:>8.1}",
            samples.len(),
            samples.len() as f64 / seconds,
            percentile(samples, 50.0),
            percentile(samples, 95.0),
            percentile(samples, 99.0)
        );
    }
}

pub async fn run(args: &[String]) -> Result<ExitCode, String> {
    let minutes: f64 = match args.first() {
        Some(text) => text
            .parse()
            .map_err(|_| format!("soak MINUTES: not a number: {text}"))?,
        None => 10.0,
    };
    let env = dev_env();
    for url in [&env.api_multi, &env.oauth_api, &env.front_auth_api] {
        let up = e2e::client().get(format!("{url}/health")).send().await;
        if !up.is_ok_and(|r| r.status().is_success()) {
            return Err(format!(
                "nothing answers at {url}: start the platform with `make dev` first"
            ));
        }
    }
    println!("Soak: setting up a developer, {SAAS_PROJECTS} SaaS projects and a Store on `make dev`'s stack ...");
    let setup = Arc::new(set_up(&env).await?);
    let (books, stats) = (Arc::new(Books::default()), Arc::new(Stats::default()));
    let started = Instant::now();
    let until = started + Duration::from_secs_f64(minutes * 60.0);
    println!("Driving the workload for {minutes} minutes ...");
    let mut tasks = Vec::new();
    for seed in 0..USAGE_CLIENTS as u64 {
        tasks.push(tokio::spawn(meter(
            setup.clone(),
            books.clone(),
            stats.clone(),
            seed + 1,
            until,
        )));
    }
    tasks.push(tokio::spawn(subscribe(
        setup.clone(),
        books.clone(),
        stats.clone(),
        until,
    )));
    tasks.push(tokio::spawn(shop(setup.clone(), books.clone(), stats.clone(), until)));
    tasks.push(tokio::spawn(read_dashboards(setup.clone(), stats.clone(), until)));
    for task in tasks {
        task.await.map_err(|e| e.to_string())?;
    }
    let elapsed = started.elapsed();
    report(&stats, elapsed);
    let requests: usize = stats.latencies.lock().unwrap().values().map(Vec::len).sum();
    let unexpected = stats.unexpected.lock().unwrap().clone();
    println!(
        "\nUnexpected answers: {} of {requests} requests ({:.3} %)",
        unexpected.len(),
        100.0 * unexpected.len() as f64 / requests.max(1) as f64
    );
    for line in unexpected.iter().take(20) {
        println!("  {line}");
    }
    println!("Checking the books ...");
    let wrong = audit(&setup, &books).await;
    let users = books.counted.lock().unwrap().len();
    println!(
        "Books: {users} users' counts, {} subscriptions, {} sales ({} units): {} mismatches",
        books
            .subscriptions
            .iter()
            .map(|s| s.load(Ordering::Relaxed))
            .sum::<u64>(),
        books.sales.load(Ordering::Relaxed),
        books.units_sold.load(Ordering::Relaxed),
        wrong.len()
    );
    for line in &wrong {
        println!("  {line}");
    }
    Ok(if wrong.is_empty() && unexpected.is_empty() {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}
