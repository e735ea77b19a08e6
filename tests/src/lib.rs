//! Support for the end-to-end tests and the local launcher: starting the stack, fixtures, and
//! a typed view of the environment the tests run in.

pub mod contract;
pub mod customers;
pub mod dashboard;
pub mod journey;
pub mod shop;
pub mod stack;
pub mod team;
pub mod webhooks;

/// What the launcher tells the tests about the stack it started (environment variables).
#[derive(Debug, Clone)]
pub struct TestEnv {
    pub api_multi: String,
    pub oauth_api: String,
    pub front_auth_api: String,
    /// The Stripe + Clerk emulator's base URL.
    pub emulator: String,
    /// The signing secret of api-multi's Connect webhook endpoint (to forge and replay
    /// deliveries in tests).
    pub connect_webhook_secret: String,
    /// The dashboard's URL: its origin is what the workers allow (CORS, sessions' `azp`).
    pub dashboard: String,
    /// api-multi once more, on the same D1, counters and KV, but reaching KV through the
    /// faulty-KV proxy (the emulator's faults on `/kv/...` make it fail or slow); the launcher
    /// starts it for the test run only.
    pub api_multi_faulty_kv: Option<String>,
    /// The stack's local state (D1, KV, R2 and the Durable Objects' storage), for tests that
    /// check where data landed.
    pub state_dir: String,
}

pub const ENV_API_MULTI: &str = "DREAM_API_MULTI_URL";
pub const ENV_OAUTH_API: &str = "DREAM_OAUTH_API_URL";
pub const ENV_FRONT_AUTH_API: &str = "DREAM_FRONT_AUTH_API_URL";
pub const ENV_EMULATOR: &str = "DREAM_EMULATOR_URL";
pub const ENV_CONNECT_WEBHOOK_SECRET: &str = "DREAM_CONNECT_WEBHOOK_SECRET";
pub const ENV_DASHBOARD: &str = "DREAM_DASHBOARD_URL";
pub const ENV_API_MULTI_FAULTY_KV: &str = "DREAM_API_MULTI_FAULTY_KV_URL";
pub const ENV_STATE_DIR: &str = "DREAM_STATE_DIR";

impl TestEnv {
    /// Panics with instructions when run outside `make test`.
    pub fn get() -> Self {
        let var = |name: &str| {
            std::env::var(name).unwrap_or_else(|_| {
                panic!("{name} is not set: run the end-to-end tests with `make test` (it starts the local stack)")
            })
        };
        Self {
            api_multi: var(ENV_API_MULTI),
            oauth_api: var(ENV_OAUTH_API),
            front_auth_api: var(ENV_FRONT_AUTH_API),
            emulator: var(ENV_EMULATOR),
            connect_webhook_secret: var(ENV_CONNECT_WEBHOOK_SECRET),
            dashboard: var(ENV_DASHBOARD),
            api_multi_faulty_kv: std::env::var(ENV_API_MULTI_FAULTY_KV).ok(),
            state_dir: var(ENV_STATE_DIR),
        }
    }

    /// The same values a running stack has (the launcher's own view).
    pub fn of(stack: &stack::Stack) -> Self {
        let config = &stack.config;
        Self {
            api_multi: config.url("api-multi"),
            oauth_api: config.url("oauth-api"),
            front_auth_api: config.url("front-auth-api"),
            emulator: config.emulator.url(),
            connect_webhook_secret: stack.secrets.connect_webhook.clone(),
            dashboard: config.dashboard_url(),
            api_multi_faulty_kv: (config.workers.iter())
                .find(|w| w.name == stack::API_MULTI_FAULTY_KV)
                .map(|w| format!("http://127.0.0.1:{}", w.port)),
            state_dir: config.state_dir.display().to_string(),
        }
    }

    /// The variables that hand this environment to the test processes.
    pub fn vars(&self) -> Vec<(&'static str, &str)> {
        let mut vars = vec![
            (ENV_API_MULTI, self.api_multi.as_str()),
            (ENV_OAUTH_API, &self.oauth_api),
            (ENV_FRONT_AUTH_API, &self.front_auth_api),
            (ENV_EMULATOR, &self.emulator),
            (ENV_CONNECT_WEBHOOK_SECRET, &self.connect_webhook_secret),
            (ENV_DASHBOARD, &self.dashboard),
            (ENV_STATE_DIR, &self.state_dir),
        ];
        if let Some(url) = &self.api_multi_faulty_kv {
            vars.push((ENV_API_MULTI_FAULTY_KV, url));
        }
        vars
    }

    /// Runs `sql` on the stack's local D1 database, as `wrangler d1 execute --local` would: for
    /// tests that need rows the API cannot make (a project from before a migration, a day's worth
    /// of customers).
    pub fn d1_execute(&self, sql: &str) {
        let file = stack::d1_file(std::path::Path::new(&self.state_dir)).expect("the local D1");
        let conn = rusqlite::Connection::open(file).expect("opening the local D1");
        conn.busy_timeout(std::time::Duration::from_secs(10))
            .expect("a busy timeout");
        conn.execute_batch(sql).unwrap_or_else(|e| panic!("{sql}: {e}"));
    }

    /// Reads rows of the stack's local D1 database (what an export must match), each as a
    /// JSON object by column name.
    pub fn d1_rows(&self, sql: &str) -> Vec<serde_json::Map<String, serde_json::Value>> {
        let file = stack::d1_file(std::path::Path::new(&self.state_dir)).expect("the local D1");
        let conn = rusqlite::Connection::open(file).expect("opening the local D1");
        conn.busy_timeout(std::time::Duration::from_secs(10))
            .expect("a busy timeout");
        let mut statement = conn.prepare(sql).unwrap_or_else(|e| panic!("{sql}: {e}"));
        let names: Vec<String> = statement.column_names().map(str::to_owned).collect();
        statement
            .query_map([], |row| {
                let mut object = serde_json::Map::new();
                for (i, name) in names.iter().enumerate() {
                    let value = match row.get_ref(i)? {
                        rusqlite::types::ValueRef::Null => serde_json::Value::Null,
                        rusqlite::types::ValueRef::Integer(n) => n.into(),
                        rusqlite::types::ValueRef::Real(x) => x.into(),
                        rusqlite::types::ValueRef::Text(t) => String::from_utf8_lossy(t).into_owned().into(),
                        rusqlite::types::ValueRef::Blob(_) => serde_json::Value::Null,
                    };
                    object.insert(name.clone(), value);
                }
                Ok(object)
            })
            .unwrap_or_else(|e| panic!("{sql}: {e}"))
            .map(|row| row.expect("a row"))
            .collect()
    }

    /// The developers' Clerk instance in the emulator.
    pub fn clerk_dev_base(&self) -> String {
        format!("{}/clerk/dream-api", self.emulator)
    }

    pub fn clerk_end_user_base(&self) -> String {
        format!("{}/clerk/end-user-api", self.emulator)
    }
}

pub fn client() -> reqwest::Client {
    reqwest::Client::builder()
        .timeout(std::time::Duration::from_secs(60))
        .pool_max_idle_per_host(256)
        .build()
        .expect("reqwest client")
}

/// A response as the tests look at it.
#[derive(Debug)]
pub struct Reply {
    pub status: u16,
    pub headers: reqwest::header::HeaderMap,
    pub body: serde_json::Value,
}

impl Reply {
    /// Also checks the answer against the worker's OpenAPI document (`contract`).
    pub async fn from(resp: reqwest::Response) -> Self {
        let url = resp.url().clone();
        let reply = Self::unchecked(resp).await;
        contract::check(&url, reply.status, reply.header("content-type"), &reply.body);
        reply
    }

    /// An answer that is not an API operation's (a CORS preflight), unchecked.
    pub async fn unchecked(resp: reqwest::Response) -> Self {
        let status = resp.status().as_u16();
        let headers = resp.headers().clone();
        let text = resp.text().await.unwrap_or_default();
        let body = serde_json::from_str(&text).unwrap_or(serde_json::Value::String(text));
        Self { status, headers, body }
    }

    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    /// Asserts the platform's error shape and returns the code.
    pub fn error_code(&self) -> &str {
        assert!(self.body["error"].is_string(), "no error message in {:?}", self.body);
        let request_id = self.body["requestId"].as_str().expect("requestId in error body");
        assert_eq!(
            Some(request_id),
            self.header("x-request-id"),
            "body and header request ids differ"
        );
        self.body["code"].as_str().expect("code in error body")
    }
}

/// Calls to api-multi's metered endpoints.
#[derive(Clone)]
pub struct MeteredApi {
    pub base: String,
    pub client: reqwest::Client,
}

impl MeteredApi {
    pub fn new(env: &TestEnv) -> Self {
        Self {
            base: env.api_multi.clone(),
            client: client(),
        }
    }

    /// POST /api/data with the given headers (name, value).
    pub async fn track(&self, headers: &[(&str, &str)]) -> Reply {
        let mut req = self.client.post(format!("{}/api/data", self.base));
        for (name, value) in headers {
            req = req.header(*name, *value);
        }
        Reply::from(req.send().await.expect("POST /api/data")).await
    }

    pub async fn usage(&self, headers: &[(&str, &str)]) -> Reply {
        let mut req = self.client.get(format!("{}/api/usage", self.base));
        for (name, value) in headers {
            req = req.header(*name, *value);
        }
        Reply::from(req.send().await.expect("GET /api/usage")).await
    }
}
