//! A developer's server calling api-multi for its customers: creating them, sending them to
//! checkout and the portal, changing plans, reading usage and the dashboard; and the emulator
//! standing in for the customer's browser (paying, using the portal).

use std::time::Duration;

use serde_json::{Value, json};

use crate::{Reply, TestEnv, client, journey::TestProject};

/// api-multi with one project's secret key.
#[derive(Clone)]
pub struct ProjectApi {
    pub base: String,
    pub emulator: String,
    bearer: String,
    http: reqwest::Client,
}

impl ProjectApi {
    pub fn new(env: &TestEnv, project: &TestProject) -> Self {
        Self {
            base: env.api_multi.clone(),
            emulator: env.emulator.clone(),
            bearer: project.bearer(),
            http: client(),
        }
    }

    /// The same project's key sent to another instance of api-multi (the KV outage one).
    pub fn at(&self, base: &str) -> Self {
        Self {
            base: base.trim_end_matches('/').to_owned(),
            ..self.clone()
        }
    }

    async fn send(&self, method: reqwest::Method, path: &str, user: Option<&str>, body: Option<Value>) -> Reply {
        let user: Vec<(&str, &str)> = user.map(|u| ("x-user-id", u)).into_iter().collect();
        self.send_with(method, path, &user, body).await
    }

    async fn send_with(
        &self,
        method: reqwest::Method,
        path: &str,
        headers: &[(&str, &str)],
        body: Option<Value>,
    ) -> Reply {
        let mut req = self
            .http
            .request(method, format!("{}{path}", self.base))
            .header("authorization", &self.bearer);
        for (name, value) in headers {
            req = req.header(*name, *value);
        }
        if let Some(body) = body {
            req = req.json(&body);
        }
        Reply::from(req.send().await.expect("api-multi request")).await
    }

    pub async fn post(&self, path: &str, user: Option<&str>, body: Value) -> Reply {
        self.send(reqwest::Method::POST, path, user, Some(body)).await
    }

    pub async fn post_with(&self, path: &str, headers: &[(&str, &str)], body: Value) -> Reply {
        self.send_with(reqwest::Method::POST, path, headers, Some(body)).await
    }

    pub async fn get(&self, path: &str, user: Option<&str>) -> Reply {
        self.send(reqwest::Method::GET, path, user, None).await
    }

    /// `usage` of GET /api/usage without a plan header: what billing says the user is on.
    pub async fn usage(&self, user: &str) -> Value {
        let reply = self.get("/api/usage", Some(user)).await;
        assert_eq!(reply.status, 200, "{:?}", reply.body);
        reply.body["usage"].clone()
    }

    pub async fn dashboard(&self) -> Value {
        let reply = self.get("/api/dashboard", None).await;
        assert_eq!(reply.status, 200, "{:?}", reply.body);
        reply.body
    }

    /// POST /api/create-checkout for `user` and `tier`; the session id.
    pub async fn checkout(&self, user: &str, tier: &str) -> Result<String, String> {
        let reply = self
            .post("/api/create-checkout", Some(user), json!({ "tier": tier }))
            .await;
        reply.body["sessionId"]
            .as_str()
            .map(str::to_owned)
            .ok_or_else(|| format!("create-checkout: {} {:?}", reply.status, reply.body))
    }

    /// Pays a checkout session with the test card, as the customer on Stripe's page would;
    /// the subscription id it created, if any.
    pub async fn pay(&self, session: &str) -> Result<Option<String>, String> {
        let reply = Reply::from(
            self.http
                .post(format!(
                    "{}/_emulator/checkout/sessions/{session}/complete",
                    self.emulator
                ))
                .send()
                .await
                .map_err(|e| e.to_string())?,
        )
        .await;
        if reply.status != 200 {
            return Err(format!("paying {session}: {} {:?}", reply.status, reply.body));
        }
        Ok(reply.body["session"]["subscription"].as_str().map(str::to_owned))
    }

    /// Checkout, payment, and the webhook applied: the user meters on `tier`. The subscription id.
    pub async fn subscribe(&self, user: &str, tier: &str) -> Result<String, String> {
        let session = self.checkout(user, tier).await?;
        let subscription = self
            .pay(&session)
            .await?
            .ok_or("the checkout created no subscription")?;
        self.wait_for_plan(user, tier).await?;
        Ok(subscription)
    }

    /// Webhooks arrive asynchronously: waits until the user's usage report names `plan`.
    pub async fn wait_for_plan(&self, user: &str, plan: &str) -> Result<Value, String> {
        self.wait_for(user, |usage| usage["plan"] == plan).await
    }

    pub async fn wait_for(&self, user: &str, check: impl Fn(&Value) -> bool) -> Result<Value, String> {
        let mut last = Value::Null;
        for _ in 0..150 {
            last = self.usage(user).await;
            if check(&last) {
                return Ok(last);
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        Err(format!("usage of {user} never matched; last: {last}"))
    }

    /// Waits until the dashboard satisfies `check`; returns it.
    pub async fn wait_for_dashboard(&self, what: &str, check: impl Fn(&Value) -> bool) -> Result<Value, String> {
        self.wait_for_dashboard_within(Duration::from_secs(15), check)
            .await
            .map_err(|last| format!("dashboard never showed {what}; last: {last}"))
    }

    /// Waits up to `limit` for the dashboard to satisfy `check`; the last reading either way.
    pub async fn wait_for_dashboard_within(
        &self,
        limit: Duration,
        check: impl Fn(&Value) -> bool,
    ) -> Result<Value, Value> {
        let until = std::time::Instant::now() + limit;
        loop {
            let last = self.dashboard().await;
            if check(&last) {
                return Ok(last);
            }
            if std::time::Instant::now() >= until {
                return Err(last);
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// POST /api/data for `user`, with an Idempotency-Key when given.
    pub async fn track(&self, user: &str, idempotency_key: Option<&str>) -> Reply {
        let mut req = (self.http.post(format!("{}/api/data", self.base)))
            .header("authorization", &self.bearer)
            .header("x-user-id", user)
            .json(&json!({}));
        if let Some(key) = idempotency_key {
            req = req.header("idempotency-key", key);
        }
        Reply::from(req.send().await.expect("api-multi request")).await
    }

    /// A test control under `/_emulator` (renewals, failed payments).
    pub async fn control(&self, path: &str) -> Reply {
        Reply::from(
            self.http
                .post(format!("{}/_emulator{path}", self.emulator))
                .send()
                .await
                .expect("emulator control"),
        )
        .await
    }

    /// A test control with form fields (what the customer typed on Stripe's page).
    pub async fn control_with(&self, path: &str, fields: &[(&str, &str)]) -> Reply {
        Reply::from(
            self.http
                .post(format!("{}/_emulator{path}", self.emulator))
                .form(fields)
                .send()
                .await
                .expect("emulator control"),
        )
        .await
    }

    /// Clicks a button of the Stripe billing portal page at `portal_url` (`cancel_at_period_end`,
    /// `resume`, `cancel_now`), as the customer's browser would.
    pub async fn portal_action(&self, portal_url: &str, subscription: &str, action: &str) -> Result<(), String> {
        let no_redirects = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .map_err(|e| e.to_string())?;
        let response = no_redirects
            .post(format!("{portal_url}/subscriptions/{subscription}/{action}"))
            .send()
            .await
            .map_err(|e| e.to_string())?;
        if response.status().is_redirection() {
            Ok(())
        } else {
            Err(format!("portal {action}: {}", response.status()))
        }
    }
}

/// The plan Clerk's metadata holds for this customer in this project (what the developer's
/// frontend reads from the end user's session).
pub async fn clerk_plan(env: &TestEnv, user: &str, publishable_key: &str) -> Value {
    let user = end_user_api(env, &format!("/v1/users/{user}")).await;
    user["public_metadata"]["projects"][publishable_key]["plan"].clone()
}

/// A GET of the end-user Clerk app's Backend API or emulator controls, as JSON.
pub async fn end_user_api(env: &TestEnv, path_and_query: &str) -> Value {
    client()
        .get(format!("{}{path_and_query}", env.clerk_end_user_base()))
        .bearer_auth("sk_test_any")
        .send()
        .await
        .expect("the Clerk emulator")
        .json::<Value>()
        .await
        .expect("JSON")
}

/// One figure of a dashboard's `metrics` (-1 when absent, so a comparison fails loudly).
pub fn metric(dashboard: &Value, name: &str) -> i64 {
    dashboard["metrics"][name].as_i64().unwrap_or(-1)
}

/// The figures of a dashboard, without the time it was generated (to compare two readings).
pub fn figures(dashboard: &Value) -> Value {
    let mut copy = dashboard.clone();
    if let Some(map) = copy.as_object_mut() {
        map.remove("generatedAt");
    }
    copy
}
