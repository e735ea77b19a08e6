//! A developer's way through the platform, as the dashboard drives it: sign in (Clerk), get a
//! platform id, pay the $15 plan (Stripe Checkout), connect Stripe (Connect OAuth), create
//! projects. Used by the end-to-end tests and by `make dev` to seed its demo project.

use std::time::Duration;

use serde_json::{Value, json};

use crate::{Reply, TestEnv, client, stack::local_keys};

/// A key set as its developer holds it after creation or promotion.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TestProject {
    pub project_id: String,
    pub project_type: dream_core::mode::ProjectType,
    pub mode: dream_core::mode::Mode,
    pub publishable_key: String,
    pub secret_key: String,
}

impl TestProject {
    pub fn bearer(&self) -> String {
        format!("Bearer {}", self.secret_key)
    }
}

/// A signed-in developer and the calls the dashboard makes for them.
#[derive(Clone)]
pub struct Developer {
    pub env: TestEnv,
    pub email: String,
    pub user_id: String,
    pub token: String,
    http: reqwest::Client,
}

/// A unique e-mail for a test's developer.
pub fn unique_email(tag: &str) -> String {
    format!("{tag}-{}@dev.example", dream_core::keys::random_id("u"))
}

/// A session token from the emulated Clerk app (what the sign-in page hands the dashboard).
pub async fn session_token(instance_base: &str, body: Value) -> Result<(String, String), String> {
    let reply = Reply::from(
        client()
            .post(format!("{instance_base}/_emulator/tokens"))
            .json(&body)
            .send()
            .await
            .map_err(|e| e.to_string())?,
    )
    .await;
    match (
        reply.status,
        reply.body["userId"].as_str(),
        reply.body["token"].as_str(),
    ) {
        (200, Some(user), Some(token)) => Ok((user.to_owned(), token.to_owned())),
        _ => Err(format!("token control answered {} {:?}", reply.status, reply.body)),
    }
}

impl Developer {
    pub async fn sign_in(env: &TestEnv, email: &str) -> Result<Self, String> {
        let body = json!({ "email": email, "azp": env.dashboard });
        let (user_id, token) = session_token(&env.clerk_dev_base(), body).await?;
        Ok(Self {
            env: env.clone(),
            email: email.to_owned(),
            user_id,
            token,
            http: client(),
        })
    }

    /// A developer with a session token the test got elsewhere (an accepted invitation).
    pub fn with_session(env: &TestEnv, email: &str, user_id: &str, token: &str) -> Self {
        Self {
            env: env.clone(),
            email: email.to_owned(),
            user_id: user_id.to_owned(),
            token: token.to_owned(),
            http: client(),
        }
    }

    /// A request to one of the dashboard's workers with this developer's session.
    pub async fn call(&self, method: reqwest::Method, url: String, body: Option<Value>) -> Reply {
        let mut req = self.http.request(method, url).bearer_auth(&self.token);
        if let Some(body) = body {
            req = req.json(&body);
        }
        Reply::from(req.send().await.expect("dashboard request")).await
    }

    pub async fn front(&self, method: reqwest::Method, path: &str, body: Option<Value>) -> Reply {
        self.call(method, format!("{}{path}", self.env.front_auth_api), body)
            .await
    }

    pub async fn oauth(&self, method: reqwest::Method, path: &str, body: Option<Value>) -> Reply {
        self.call(method, format!("{}{path}", self.env.oauth_api), body).await
    }

    pub async fn platform_id(&self) -> Result<String, String> {
        let reply = self.front(reqwest::Method::POST, "/generate-platform-id", None).await;
        reply.body["platformId"]
            .as_str()
            .map(str::to_owned)
            .ok_or_else(|| format!("{} {:?}", reply.status, reply.body))
    }

    pub async fn plan(&self) -> Option<String> {
        let reply = self.front(reqwest::Method::GET, "/get-credentials", None).await;
        reply.body["plan"].as_str().map(str::to_owned)
    }

    /// Starts the $15 checkout and pays it in the emulator with the test card.
    pub async fn pay_platform_plan(&self) -> Result<(), String> {
        let checkout = self.front(reqwest::Method::POST, "/create-checkout", None).await;
        let session = checkout.body["sessionId"]
            .as_str()
            .ok_or_else(|| format!("checkout: {:?}", checkout.body))?;
        let paid = Reply::from(
            self.http
                .post(format!(
                    "{}/_emulator/checkout/sessions/{session}/complete",
                    self.env.emulator
                ))
                .send()
                .await
                .map_err(|e| e.to_string())?,
        )
        .await;
        if paid.status != 200 {
            return Err(format!("completing checkout: {} {:?}", paid.status, paid.body));
        }
        self.wait_for_plan("paid").await
    }

    /// Webhooks are delivered asynchronously: wait until the plan has the expected value.
    pub async fn wait_for_plan(&self, plan: &str) -> Result<(), String> {
        for _ in 0..100 {
            if self.plan().await.as_deref() == Some(plan) {
                return Ok(());
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        Err(format!("plan did not become {plan} (is {:?})", self.plan().await))
    }

    /// Connect OAuth as the dashboard does it: our /authorize URL, the emulator's Authorize
    /// button, Stripe's redirect to the dashboard's callback page, which posts `code` and `state`
    /// to oauth-api with this developer's session. Returns oauth-api's answer.
    pub async fn connect_stripe(&self) -> Result<Reply, String> {
        self.connect_stripe_account("new").await
    }

    /// The same, choosing on Stripe's page an existing account of the emulator (or "new").
    pub async fn connect_stripe_account(&self, account: &str) -> Result<Reply, String> {
        let authorize = self.oauth(reqwest::Method::GET, "/authorize", None).await;
        let url = authorize.body["url"]
            .as_str()
            .ok_or_else(|| format!("authorize: {:?}", authorize.body))?;
        let callback = approve_account_in_emulator(url, account).await?;
        Ok(self.finish_connect(&callback).await)
    }

    /// What the dashboard's `/connect/callback` page does with the URL Stripe sent it to.
    pub async fn finish_connect(&self, callback_url: &str) -> Reply {
        let url = reqwest::Url::parse(callback_url).expect("Stripe redirects to a URL");
        let param = |name: &str| url.query_pairs().find(|(k, _)| k == name).map(|(_, v)| v.into_owned());
        let body = json!({ "code": param("code"), "state": param("state") });
        self.oauth(reqwest::Method::POST, "/connect/callback", Some(body)).await
    }

    /// POST /create-products; the reply carries the one-time secret key.
    pub async fn create_project(&self, body: Value) -> Reply {
        self.oauth(reqwest::Method::POST, "/create-products", Some(body)).await
    }

    /// The Stripe account this developer connected (where their customers' objects live).
    /// POST /promotion-codes for the project: `fields` beside its publishable key.
    pub async fn promotion_code(&self, publishable_key: &str, fields: Value) -> Reply {
        let mut body = json!({ "publishableKey": publishable_key });
        if let (Some(body), Value::Object(fields)) = (body.as_object_mut(), fields) {
            body.extend(fields);
        }
        self.oauth(reqwest::Method::POST, "/promotion-codes", Some(body)).await
    }

    /// POST /rotate-key with no grace period: the old secret key stops at once.
    pub async fn rotate_key(&self, publishable_key: &str) -> Reply {
        self.oauth(
            reqwest::Method::POST,
            "/rotate-key",
            Some(json!({ "publishableKey": publishable_key })),
        )
        .await
    }

    /// POST /upload-asset?filename= with the image's bytes as the body.
    pub async fn upload_image(&self, filename: &str, bytes: Vec<u8>) -> Reply {
        let response = client()
            .post(format!("{}/upload-asset", self.env.front_auth_api))
            .query(&[("filename", filename)])
            .bearer_auth(&self.token)
            .body(bytes)
            .send()
            .await
            .expect("upload request");
        Reply::from(response).await
    }

    /// DELETE /upload-asset?key=
    pub async fn delete_image(&self, key: &str) -> Reply {
        let response = client()
            .delete(format!("{}/upload-asset", self.env.front_auth_api))
            .query(&[("key", key)])
            .bearer_auth(&self.token)
            .send()
            .await
            .expect("delete request");
        Reply::from(response).await
    }

    pub async fn stripe_account(&self) -> Result<String, String> {
        let reply = self.front(reqwest::Method::GET, "/get-credentials", None).await;
        reply.body["stripeAccountId"]
            .as_str()
            .map(str::to_owned)
            .ok_or_else(|| format!("no connected account: {:?}", reply.body))
    }
}

/// A client that reports redirects instead of following them (to see where Stripe sends the
/// browser).
fn no_redirects() -> Result<reqwest::Client, String> {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .map_err(|e| e.to_string())
}

/// Clicks "Authorize" on the emulator's Connect page for `authorize_url` and returns where Stripe
/// sends the browser next (our callback, with `code` and `state`).
pub async fn approve_in_emulator(authorize_url: &str) -> Result<String, String> {
    approve_account_in_emulator(authorize_url, "new").await
}

/// `approve_in_emulator`, choosing `account` (an existing one's id, or "new") on the page.
pub async fn approve_account_in_emulator(authorize_url: &str, account: &str) -> Result<String, String> {
    let url = reqwest::Url::parse(authorize_url).map_err(|e| e.to_string())?;
    let mut form: Vec<(String, String)> = url
        .query_pairs()
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect();
    form.push(("account".into(), account.into()));
    form.push(("decision".into(), "authorize".into()));
    let submit = format!("{}://{}/oauth/authorize", url.scheme(), url.authority());
    let no_redirects = no_redirects()?;
    let response = no_redirects
        .post(submit)
        .form(&form)
        .send()
        .await
        .map_err(|e| e.to_string())?;
    response
        .headers()
        .get("location")
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned)
        .ok_or_else(|| format!("the authorize page answered {} without a redirect", response.status()))
}

/// Signs `email` in through the emulator's hosted sign-in page, as a person would: the first
/// sign-in of an account without a password sets it. Fails on a wrong password.
pub async fn set_password_by_signing_in(env: &TestEnv, email: &str, password: &str) -> Result<(), String> {
    let response = no_redirects()?
        .post(format!("{}/sign-in", env.clerk_dev_base()))
        .form(&[
            ("email", email),
            ("password", password),
            ("redirect_url", &format!("{}/", env.dashboard)),
        ])
        .send()
        .await
        .map_err(|e| e.to_string())?;
    let location = response
        .headers()
        .get("location")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    if response.status().is_redirection() && location.contains("#__session=") {
        Ok(())
    } else {
        Err(format!("the sign-in page answered {} for {email}", response.status()))
    }
}

/// A new developer with a platform, the paid plan and a connected Stripe account.
pub async fn onboarded_developer(env: &TestEnv, tag: &str) -> Result<Developer, String> {
    ensure_onboarded(env, &unique_email(tag)).await
}

/// Signs `email` in and completes whatever onboarding steps they have not done yet.
pub async fn ensure_onboarded(env: &TestEnv, email: &str) -> Result<Developer, String> {
    let developer = Developer::sign_in(env, email).await?;
    developer.platform_id().await?;
    let credentials = developer.front(reqwest::Method::GET, "/get-credentials", None).await;
    if credentials.body["plan"] != "paid" {
        developer.pay_platform_plan().await?;
    }
    if credentials.body["stripeConnected"] != true {
        let callback = developer.connect_stripe().await?;
        if callback.status != 200 {
            return Err(format!(
                "Stripe callback answered {} {:?}",
                callback.status, callback.body
            ));
        }
    }
    Ok(developer)
}

/// Creates a project through the API and returns its keys.
pub async fn create_project(developer: &Developer, body: Value) -> Result<TestProject, String> {
    let reply = developer.create_project(body).await;
    if reply.status != 200 {
        return Err(format!("create-products answered {} {:?}", reply.status, reply.body));
    }
    project_from(&reply.body["project"])
}

pub fn project_from(project: &Value) -> Result<TestProject, String> {
    serde_json::from_value(project.clone()).map_err(|e| format!("{e}: {project}"))
}

/// `tiers` as the create-products body wants them, from (name, limit, price in dollars).
pub fn saas_body(name: &str, tiers: &[(&str, Option<u64>, f64)]) -> Value {
    let tiers: Vec<Value> = tiers
        .iter()
        .map(|(n, limit, price)| json!({ "name": n, "limit": limit, "price": price }))
        .collect();
    json!({ "name": name, "projectType": "saas", "tiers": tiers })
}

/// A fresh onboarded developer and a SaaS project of theirs with these tiers.
pub async fn saas_project(env: &TestEnv, tiers: &[(&str, Option<u64>, f64)]) -> (Developer, TestProject) {
    let developer = onboarded_developer(env, "saas").await.expect("onboarding a developer");
    let project = create_project(&developer, saas_body("Test SaaS", tiers))
        .await
        .expect("creating a project");
    (developer, project)
}

/// POST /promote-to-live for a test project; the live key set.
/// An operator splits a project that has counted nothing yet among `shards` usage counters.
pub async fn split_usage_counters(env: &TestEnv, project: &TestProject, shards: u32) -> Result<(), String> {
    let reply = client()
        .put(format!("{}/operator/usage-counters", env.oauth_api))
        .bearer_auth(local_keys::OPERATOR_TOKEN)
        .json(&json!({"publishableKey": project.publishable_key, "shards": shards, "immediately": true}))
        .send()
        .await
        .map_err(|e| e.to_string())?;
    let reply = Reply::from(reply).await;
    match reply.status {
        200 => Ok(()),
        status => Err(format!("PUT /operator/usage-counters: {status} {:?}", reply.body)),
    }
}

pub async fn promote(developer: &Developer, test: &TestProject) -> Result<TestProject, String> {
    let reply = developer
        .oauth(
            reqwest::Method::POST,
            "/promote-to-live",
            Some(json!({ "publishableKey": test.publishable_key })),
        )
        .await;
    if reply.status != 200 {
        return Err(format!("promote-to-live answered {} {:?}", reply.status, reply.body));
    }
    project_from(&reply.body["project"])
}

/// Direct calls to the Stripe emulator, as the platform (its local keys) or on a connected
/// account: what the tests use to check what the workers did in Stripe.
#[derive(Clone)]
pub struct StripeEmulator {
    pub base: String,
    http: reqwest::Client,
}

impl StripeEmulator {
    pub fn new(env: &TestEnv) -> Self {
        Self {
            base: env.emulator.clone(),
            http: client(),
        }
    }

    fn key(mode: dream_core::mode::Mode) -> &'static str {
        match mode {
            dream_core::mode::Mode::Test => local_keys::STRIPE_TEST_KEY,
            dream_core::mode::Mode::Live => local_keys::STRIPE_LIVE_KEY,
        }
    }

    /// `GET /v1{path}` with the platform key of `mode`, on `account` if given.
    pub async fn get(&self, path: &str, mode: dream_core::mode::Mode, account: Option<&str>) -> Reply {
        let mut req = self
            .http
            .get(format!("{}/v1{path}", self.base))
            .bearer_auth(Self::key(mode));
        if let Some(account) = account {
            req = req.header("Stripe-Account", account);
        }
        Reply::from(req.send().await.expect("emulator request")).await
    }

    pub async fn post(&self, path: &str, form: &[(&str, &str)], mode: dream_core::mode::Mode) -> Reply {
        self.post_on(path, form, mode, None).await
    }

    /// `POST /v1{path}` with the platform key of `mode`, on `account` if given.
    pub async fn post_on(
        &self,
        path: &str,
        form: &[(&str, &str)],
        mode: dream_core::mode::Mode,
        account: Option<&str>,
    ) -> Reply {
        let mut req = self
            .http
            .post(format!("{}/v1{path}", self.base))
            .bearer_auth(Self::key(mode))
            .form(form);
        if let Some(account) = account {
            req = req.header("Stripe-Account", account);
        }
        Reply::from(req.send().await.expect("emulator request")).await
    }

    /// Creates an object on `account` (test mode) and returns its id; anything but 200 fails
    /// the test. For tests that play another developer acting on their own Stripe account.
    pub async fn create_on(&self, account: &str, path: &str, form: &[(&str, String)]) -> String {
        let form: Vec<(&str, &str)> = form.iter().map(|(k, v)| (*k, v.as_str())).collect();
        let reply = self
            .post_on(path, &form, dream_core::mode::Mode::Test, Some(account))
            .await;
        assert_eq!(reply.status, 200, "{path}: {:?}", reply.body);
        reply.body["id"].as_str().expect("an object id").to_owned()
    }

    pub async fn delete(&self, path: &str, mode: dream_core::mode::Mode) -> Reply {
        self.delete_on(path, mode, None).await
    }

    pub async fn delete_on(&self, path: &str, mode: dream_core::mode::Mode, account: Option<&str>) -> Reply {
        let mut req = self
            .http
            .delete(format!("{}/v1{path}", self.base))
            .bearer_auth(Self::key(mode));
        if let Some(account) = account {
            req = req.header("Stripe-Account", account);
        }
        Reply::from(req.send().await.expect("emulator request")).await
    }

    /// A test control under `/_emulator`.
    pub async fn control(&self, path: &str, body: Option<Value>) -> Reply {
        let mut req = self.http.post(format!("{}/_emulator{path}", self.base));
        if let Some(body) = body {
            req = req.json(&body);
        }
        Reply::from(req.send().await.expect("emulator control")).await
    }

    /// Makes the next matching Stripe or Clerk requests fail (`/_emulator/faults`).
    pub async fn fault(&self, fault: Value) {
        let reply = self.control("/faults", Some(fault)).await;
        assert_eq!(reply.status, 200, "{:?}", reply.body);
    }

    /// Removes every injected fault; returns them with how often each fired.
    pub async fn clear_faults(&self) -> Vec<Value> {
        let url = format!("{}/_emulator/faults", self.base);
        let listed = Reply::from(self.http.get(&url).send().await.expect("faults")).await;
        Reply::from(self.http.delete(&url).send().await.expect("faults")).await;
        listed.body["faults"].as_array().cloned().unwrap_or_default()
    }

    /// Holds back webhook deliveries of events mentioning `containing` (a slow delivery path)
    /// until `release_webhooks` sends them.
    pub async fn hold_webhooks(&self, containing: &str) -> Reply {
        self.control("/webhooks/hold", Some(json!({ "containing": containing })))
            .await
    }

    pub async fn release_webhooks(&self, containing: &str) -> Reply {
        let req = self
            .http
            .delete(format!("{}/_emulator/webhooks/hold", self.base))
            .json(&json!({ "containing": containing }));
        Reply::from(req.send().await.expect("emulator control")).await
    }

    /// Delivery attempts of one event, oldest first.
    pub async fn deliveries(&self, event: &str) -> Vec<Value> {
        let url = format!("{}/_emulator/deliveries", self.base);
        let reply = Reply::from(
            self.http
                .get(url)
                .query(&[("event", event)])
                .send()
                .await
                .expect("deliveries"),
        )
        .await;
        match reply.body {
            Value::Array(items) => items,
            other => other.get("data").and_then(Value::as_array).cloned().unwrap_or_default(),
        }
    }

    /// A subscription's invoices on the connected account, newest first.
    pub async fn invoices_of(&self, account: &str, subscription: &str) -> Vec<Value> {
        let reply = self
            .get(
                &format!("/invoices?subscription={subscription}"),
                dream_core::mode::Mode::Test,
                Some(account),
            )
            .await;
        reply.body["data"].as_array().cloned().unwrap_or_default()
    }

    /// The platform's events of a type, newest first.
    pub async fn events(&self, kind: &str) -> Vec<Value> {
        let reply = self
            .get(
                &format!("/events?type={kind}&limit=100"),
                dream_core::mode::Mode::Test,
                None,
            )
            .await;
        reply.body["data"].as_array().cloned().unwrap_or_default()
    }
}

/// The totals of invoices (as `invoices_of` lists them).
pub fn invoice_totals(invoices: &[Value]) -> Vec<i64> {
    invoices.iter().map(|i| i["total"].as_i64().unwrap_or(-1)).collect()
}

/// Waits until `check` holds, polling (webhooks arrive asynchronously).
pub async fn eventually<F, Fut>(what: &str, mut check: F) -> Result<(), String>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    for _ in 0..100 {
        if check().await {
            return Ok(());
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    Err(format!("timed out waiting for {what}"))
}
