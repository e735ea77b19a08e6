//! Shared test helpers: an in-process emulator on a free port, a small HTTP client for the
//! Stripe and control APIs, a webhook receiver, the fixtures file and the independent
//! (Python) verifiers.

#![allow(dead_code)]

use std::io::Write;
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::routing::post;
use emulator::{CliWebhook, Config, Running};
use reqwest::header::HeaderMap as ReqHeaders;
use serde_json::{Value, json};

pub const SK_TEST: &str = "sk_test_platform0000000000000000";
pub const SK_LIVE: &str = "sk_live_platform0000000000000000";

pub struct Emu {
    pub running: Running,
    pub base: String,
    pub http: reqwest::Client,
}

pub fn test_config() -> Config {
    Config {
        seed: Some(42),
        retry_base_ms: 50,
        max_delivery_attempts: 4,
        delivery_timeout_ms: 2000,
        ..Config::default()
    }
}

impl Emu {
    pub async fn start() -> Self {
        Self::with(test_config()).await
    }

    pub async fn with(config: Config) -> Self {
        let running = emulator::start(config).await.expect("the emulator starts");
        let base = running.base_url.clone();
        let http = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .expect("client");
        Emu { running, base, http }
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    /// A Stripe request: `method` with form `params` (query for GET), the key, and optional
    /// `Stripe-Account` and `Idempotency-Key`.
    pub async fn stripe(
        &self,
        method: reqwest::Method,
        path: &str,
        key: &str,
        account: Option<&str>,
        idempotency_key: Option<&str>,
        params: &[(&str, &str)],
    ) -> (u16, ReqHeaders, Value) {
        let mut req = self.http.request(method.clone(), self.url(path)).bearer_auth(key);
        if let Some(a) = account {
            req = req.header("Stripe-Account", a);
        }
        if let Some(k) = idempotency_key {
            req = req.header("Idempotency-Key", k);
        }
        req = if method == reqwest::Method::GET {
            req.query(params)
        } else {
            req.form(params)
        };
        let resp = req.send().await.expect("request sent");
        let status = resp.status().as_u16();
        let headers = resp.headers().clone();
        let text = resp.text().await.expect("body");
        let body = serde_json::from_str(&text).unwrap_or_else(|_| panic!("not JSON ({status}): {text}"));
        (status, headers, body)
    }

    pub async fn post(&self, path: &str, key: &str, params: &[(&str, &str)]) -> (u16, Value) {
        let (s, _, b) = self.stripe(reqwest::Method::POST, path, key, None, None, params).await;
        (s, b)
    }

    pub async fn post_as(&self, path: &str, key: &str, account: &str, params: &[(&str, &str)]) -> (u16, Value) {
        let (s, _, b) = self
            .stripe(reqwest::Method::POST, path, key, Some(account), None, params)
            .await;
        (s, b)
    }

    pub async fn get(&self, path: &str, key: &str, params: &[(&str, &str)]) -> (u16, Value) {
        let (s, _, b) = self.stripe(reqwest::Method::GET, path, key, None, None, params).await;
        (s, b)
    }

    pub async fn get_as(&self, path: &str, key: &str, account: &str, params: &[(&str, &str)]) -> (u16, Value) {
        let (s, _, b) = self
            .stripe(reqwest::Method::GET, path, key, Some(account), None, params)
            .await;
        (s, b)
    }

    pub async fn delete(&self, path: &str, key: &str) -> (u16, Value) {
        let (s, _, b) = self.stripe(reqwest::Method::DELETE, path, key, None, None, &[]).await;
        (s, b)
    }

    /// A control or Clerk call with a JSON body.
    pub async fn json(&self, method: reqwest::Method, path: &str, body: Option<Value>) -> (u16, Value) {
        let mut req = self.http.request(method, self.url(path));
        if let Some(b) = body {
            req = req.json(&b);
        }
        let resp = req.send().await.expect("request sent");
        let status = resp.status().as_u16();
        let text = resp.text().await.expect("body");
        (
            status,
            serde_json::from_str(&text).unwrap_or_else(|_| panic!("not JSON ({status}): {text}")),
        )
    }

    pub async fn control(&self, path: &str, body: Value) -> (u16, Value) {
        self.json(reqwest::Method::POST, path, Some(body)).await
    }

    /// Connects a new account through the OAuth code exchange; returns `acct_...`.
    pub async fn connect_account(&self) -> String {
        let (status, grant) = self.control("/_emulator/oauth/authorize", json!({})).await;
        assert_eq!(status, 200, "{grant}");
        let code = grant["code"].as_str().expect("code").to_string();
        let resp = self
            .http
            .post(self.url("/oauth/token"))
            .bearer_auth(SK_TEST)
            .form(&[("grant_type", "authorization_code"), ("code", &code)])
            .send()
            .await
            .expect("token exchange");
        assert_eq!(resp.status().as_u16(), 200);
        let body: Value = resp.json().await.expect("json");
        body["stripe_user_id"].as_str().expect("stripe_user_id").to_string()
    }

    pub async fn product_and_price(
        &self,
        key: &str,
        account: Option<&str>,
        recurring: bool,
        amount: &str,
    ) -> (String, String) {
        let post = |path: &'static str, params: Vec<(&'static str, String)>| async move {
            let params: Vec<(&str, &str)> = params.iter().map(|(k, v)| (*k, v.as_str())).collect();
            self.stripe(reqwest::Method::POST, path, key, account, None, &params)
                .await
        };
        let (s, _, product) = post("/v1/products", vec![("name", "Pro".into())]).await;
        assert_eq!(s, 200, "{product}");
        let product_id = product["id"].as_str().expect("id").to_string();
        let mut params = vec![
            ("product", product_id.clone()),
            ("currency", "usd".into()),
            ("unit_amount", amount.into()),
        ];
        if recurring {
            params.push(("recurring[interval]", "month".into()));
        }
        let (s, _, price) = post("/v1/prices", params).await;
        assert_eq!(s, 200, "{price}");
        (product_id, price["id"].as_str().expect("id").to_string())
    }

    pub async fn events_of_type(&self, key: &str, account: Option<&str>, kind: &str) -> Vec<Value> {
        let (s, _, list) = self
            .stripe(
                reqwest::Method::GET,
                "/v1/events",
                key,
                account,
                None,
                &[("type", kind), ("limit", "100")],
            )
            .await;
        assert_eq!(s, 200, "{list}");
        list["data"].as_array().cloned().unwrap_or_default()
    }

    /// Polls the delivery log until `done` holds (or fails after 10 s).
    pub async fn wait_deliveries(&self, what: &str, done: impl Fn(&[Value]) -> bool) -> Vec<Value> {
        for _ in 0..200 {
            let (_, log) = self.json(reqwest::Method::GET, "/_emulator/deliveries", None).await;
            let data = log["data"].as_array().cloned().unwrap_or_default();
            if done(&data) {
                return data;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        panic!("timed out waiting for deliveries: {what}");
    }
}

/// One request the receiver got.
#[derive(Clone, Debug)]
pub struct Received {
    pub signature: String,
    pub body: Vec<u8>,
}

impl Received {
    pub fn event(&self) -> Value {
        serde_json::from_slice(&self.body).expect("event JSON")
    }
}

#[derive(Clone, Default)]
pub struct Receiver {
    pub got: Arc<Mutex<Vec<Received>>>,
    /// Answer 500 to this many requests first.
    pub fail_first: Arc<AtomicUsize>,
}

impl Receiver {
    pub fn received(&self) -> Vec<Received> {
        self.got.lock().expect("lock").clone()
    }
}

async fn receive(State(r): State<Receiver>, headers: HeaderMap, body: Bytes) -> (StatusCode, &'static str) {
    let signature = headers
        .get("stripe-signature")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_string();
    r.got.lock().expect("lock").push(Received {
        signature,
        body: body.to_vec(),
    });
    let failing = r
        .fail_first
        .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1))
        .is_ok();
    if failing {
        (StatusCode::INTERNAL_SERVER_ERROR, "not yet")
    } else {
        (StatusCode::OK, "{\"received\":true}")
    }
}

/// A webhook receiver on a free loopback port; returns it and its URL.
pub async fn receiver(fail_first: usize) -> (Receiver, String) {
    let r = Receiver::default();
    r.fail_first.store(fail_first, Ordering::SeqCst);
    let app = axum::Router::new().route("/hook", post(receive)).with_state(r.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let url = format!("http://{}/hook", listener.local_addr().expect("addr"));
    tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    (r, url)
}

pub fn cli_webhook(url: &str, secret: &str, connect: bool) -> CliWebhook {
    CliWebhook {
        url: url.into(),
        secret: secret.into(),
        connect,
    }
}

/// Stripe's published example objects, read at test time from `../shared/` (never copied
/// into the repository).
pub fn fixtures() -> Value {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../shared/stripe/fixtures3.json");
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| {
        panic!(
            "cannot read {} ({e}): the shape tests need Stripe's fixtures3.json beside the repository, at ../shared/stripe/",
            path.display()
        )
    });
    let all: Value = serde_json::from_str(&text).expect("fixtures3.json is JSON");
    all["resources"].clone()
}

fn python(script: &str, args: &[&str], stdin: &[u8]) -> String {
    let mut child = Command::new("python3")
        .arg("-c")
        .arg(script)
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("python3 is needed for the independent verifiers");
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(stdin)
        .expect("write stdin");
    let out = child.wait_with_output().expect("python3 ran");
    assert!(
        out.status.success(),
        "python3 failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).expect("utf-8")
}

/// Verifies Stripe signatures with Python's hmac, independently of the emulator's code:
/// returns one bool per `(secret, Stripe-Signature, body)`.
pub fn python_verify_signatures(items: &[(String, String, Vec<u8>)]) -> Vec<bool> {
    const SCRIPT: &str = r#"
import base64, hashlib, hmac, json, sys
out = []
for secret, header, body in json.load(sys.stdin):
    parts = dict(p.split("=", 1) for p in header.split(","))
    signed = parts["t"].encode() + b"." + base64.b64decode(body)
    expected = hmac.new(secret.encode(), signed, hashlib.sha256).hexdigest()
    out.append(hmac.compare_digest(expected, parts.get("v1", "")))
print(json.dumps(out))
"#;
    use base64::Engine;
    let input: Vec<Value> = items
        .iter()
        .map(|(s, h, b)| json!([s, h, base64::engine::general_purpose::STANDARD.encode(b)]))
        .collect();
    let out = python(SCRIPT, &[], serde_json::to_string(&input).expect("json").as_bytes());
    serde_json::from_str(out.trim()).expect("python output")
}

/// Verifies an RS256 JWT against a JWKS with Python's `cryptography`; returns the claims.
pub fn python_verify_jwt(jwks: &Value, token: &str) -> Value {
    const SCRIPT: &str = r#"
import base64, json, sys
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa
jwks, token = json.loads(sys.argv[1]), sys.argv[2]
def d(x): return base64.urlsafe_b64decode(x + "=" * (-len(x) % 4))
h, p, s = token.split(".")
header = json.loads(d(h))
assert header["alg"] == "RS256", header
key = next(k for k in jwks["keys"] if k["kid"] == header["kid"])
public = rsa.RSAPublicNumbers(int.from_bytes(d(key["e"]), "big"), int.from_bytes(d(key["n"]), "big")).public_key()
public.verify(d(s), (h + "." + p).encode(), padding.PKCS1v15(), hashes.SHA256())
print(json.dumps(json.loads(d(p))))
"#;
    let out = python(SCRIPT, &[&jwks.to_string(), token], b"");
    serde_json::from_str(out.trim()).expect("claims")
}

pub fn error_of(body: &Value) -> (&str, &str) {
    (
        body["error"]["type"].as_str().unwrap_or_default(),
        body["error"]["code"].as_str().unwrap_or_default(),
    )
}
