//! dream-emulator: the parts of Stripe and Clerk the platform uses, served on loopback.
//!
//! `start` binds 127.0.0.1, loads or creates the state and serves until `Running::shutdown`.
//! Tests start it in-process on port 0; the binary (`main.rs`) adds the CLI around it.

// Stripe objects are large `json!` literals.
#![recursion_limit = "256"]

pub mod clerk;
pub mod cli;
pub mod controls;
pub mod faults;
pub mod form;
pub mod html;
pub mod ids;
pub mod state;
pub mod stripe;
pub mod time;

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use axum::Router;
use tokio::sync::{Notify, oneshot};
use tokio::task::JoinHandle;

use crate::state::Db;
use crate::stripe::delivery::{self, DeliveryLog};

/// A webhook endpoint given on the command line: it receives every event of its kind in
/// both test and live mode, and survives `/_emulator/reset`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CliWebhook {
    pub url: String,
    pub secret: String,
    pub connect: bool,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Config {
    pub port: u16,
    pub state_file: Option<PathBuf>,
    pub seed: Option<u64>,
    pub webhooks: Vec<CliWebhook>,
    pub retry_base_ms: u64,
    pub max_delivery_attempts: u32,
    pub delivery_timeout_ms: u64,
    /// One line per request on stderr; off in tests to keep their output readable.
    pub log_requests: bool,
}

impl Default for Config {
    fn default() -> Self {
        Self {
            port: 0,
            state_file: None,
            seed: None,
            webhooks: Vec::new(),
            retry_base_ms: 1000,
            max_delivery_attempts: 5,
            delivery_timeout_ms: 10_000,
            log_requests: false,
        }
    }
}

/// Everything a request handler needs: the state, the configuration and the base URL that
/// hosted pages and token issuers are built from.
pub struct App {
    db: Mutex<Db>,
    pub config: Config,
    pub base_url: String,
    pub http: reqwest::Client,
    pub deliveries: DeliveryLog,
    pub holds: delivery::Holds,
    pub faults: faults::Faults,
    /// Bumped by `/_emulator/reset` so deliveries still retrying from before it stop.
    pub generation: AtomicU64,
    dirty: Notify,
}

impl App {
    /// The state lock. A handler that panicked mid-mutation poisons it; the emulator keeps
    /// serving the state as it was left rather than failing every later request.
    pub fn db(&self) -> MutexGuard<'_, Db> {
        self.db.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Runs a mutation, then persists and dispatches the events it recorded. The lock is
    /// released before any webhook is sent, so deliveries never block the API call.
    pub fn mutate<T>(self: &Arc<Self>, f: impl FnOnce(&mut Db) -> T) -> T {
        let (out, outbox) = {
            let mut db = self.db();
            let out = f(&mut db);
            (out, std::mem::take(&mut db.outbox))
        };
        self.dirty.notify_one();
        if !outbox.is_empty() {
            delivery::dispatch_new(self, outbox);
        }
        out
    }

    pub fn read<T>(&self, f: impl FnOnce(&Db) -> T) -> T {
        f(&self.db())
    }

    pub fn current_generation(&self) -> u64 {
        self.generation.load(Ordering::SeqCst)
    }

    /// Clears every object, event, user and delivery. Keys of the Clerk instances, the
    /// seed and the command-line webhooks stay, so tokens and configuration survive.
    pub fn reset(self: &Arc<Self>) {
        self.generation.fetch_add(1, Ordering::SeqCst);
        self.mutate(|db| db.reset());
        self.deliveries.clear();
        self.faults.clear();
    }

    fn save(&self) -> std::io::Result<()> {
        let Some(path) = &self.config.state_file else {
            return Ok(());
        };
        let json = {
            let db = self.db();
            serde_json::to_vec_pretty(&*db).map_err(std::io::Error::other)?
        };
        state::write_atomically(path, &json)
    }
}

pub struct Running {
    pub addr: SocketAddr,
    pub base_url: String,
    pub app: Arc<App>,
    shutdown: Option<oneshot::Sender<()>>,
    server: JoinHandle<std::io::Result<()>>,
    saver: JoinHandle<()>,
}

impl Running {
    /// Stops accepting requests, waits for the server to finish and writes the state once
    /// more, so nothing mutated just before a restart is lost.
    pub async fn shutdown(mut self) -> std::io::Result<()> {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        let served = self.server.await.map_err(std::io::Error::other)?;
        self.saver.abort();
        self.app.save()?;
        served
    }
}

#[derive(Debug)]
pub struct StartError(pub String);

impl std::fmt::Display for StartError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for StartError {}

pub async fn start(config: Config) -> Result<Running, StartError> {
    let listener = tokio::net::TcpListener::bind(("127.0.0.1", config.port))
        .await
        .map_err(|e| StartError(format!("cannot bind 127.0.0.1:{}: {e}", config.port)))?;
    let addr = listener.local_addr().map_err(|e| StartError(e.to_string()))?;
    let base_url = format!("http://{addr}");

    let mut db =
        state::load_or_create(config.state_file.as_deref(), config.seed).map_err(|e| StartError(e.to_string()))?;
    db.cli_webhooks = config.webhooks.clone();
    db.base_url = base_url.clone();
    let http = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .timeout(Duration::from_millis(config.delivery_timeout_ms))
        .build()
        .map_err(|e| StartError(format!("cannot build the webhook client: {e}")))?;
    let app = Arc::new(App {
        db: Mutex::new(db),
        config,
        base_url: base_url.clone(),
        http,
        deliveries: DeliveryLog::default(),
        holds: delivery::Holds::default(),
        faults: faults::Faults::default(),
        generation: AtomicU64::new(0),
        dirty: Notify::new(),
    });
    // Write the state once at start so a fresh seed (and the platform account) is on disk.
    app.save()
        .map_err(|e| StartError(format!("cannot write the state file: {e}")))?;

    let saver = tokio::spawn(save_when_dirty(app.clone()));
    let router = router(app.clone());
    let (tx, rx) = oneshot::channel::<()>();
    let server = tokio::spawn(async move {
        axum::serve(listener, router)
            .with_graceful_shutdown(async move {
                let _ = rx.await;
            })
            .await
    });
    Ok(Running {
        addr,
        base_url,
        app,
        shutdown: Some(tx),
        server,
        saver,
    })
}

/// Debounces saves: a burst of mutations (a checkout completion records a dozen objects)
/// is written once.
async fn save_when_dirty(app: Arc<App>) {
    loop {
        app.dirty.notified().await;
        tokio::time::sleep(Duration::from_millis(100)).await;
        if let Err(e) = app.save() {
            eprintln!("dream-emulator: cannot save the state: {e}");
        }
    }
}

pub fn router(app: Arc<App>) -> Router {
    let logged = app.config.log_requests;
    let router = Router::new()
        .merge(stripe::router(app.clone()))
        .merge(clerk::router(app.clone()))
        .merge(controls::router(app.clone()))
        .merge(faults::kv_router())
        .fallback(stripe::error::unknown_url)
        .layer(axum::middleware::from_fn_with_state(app.clone(), faults::inject))
        .with_state(app);
    if logged {
        router.layer(axum::middleware::from_fn(log_request))
    } else {
        router
    }
}

async fn log_request(req: axum::extract::Request, next: axum::middleware::Next) -> axum::response::Response {
    let line = format!("{} {}", req.method(), req.uri().path());
    let resp = next.run(req).await;
    eprintln!("dream-emulator: {line} -> {}", resp.status().as_u16());
    resp
}
