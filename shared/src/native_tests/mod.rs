//! The use cases run natively: the real migrations in SQLite (D1 is SQLite), the Stripe and
//! Clerk clients pointed at the emulator started in-process, no KV (every read goes to D1).
//! Everything is created through the use cases themselves, as the end-to-end tests create it
//! through the API; only a developer's paid plan is set directly (its webhook is tested end to end).

mod operator;
mod projects;
mod store;
mod subscriptions;
mod team;
mod webhooks;

use serde_json::{Value, json};

use crate::{
    identity::{Developer, Recall, SecretKeyAuth, secret_key::authenticate_with, session_tokens::SessionClaims},
    projects::{StripeModes, create_project},
    runtime::settings::{ClerkSettings, Setting, StripeSettings},
    storage::{Database, PlatformScope, project_cache::Cache},
    stripe_events::{
        connect::{ConnectDeps, dispatch},
        webhook::StripeEvent,
    },
    upstream::clerk::ClerkBackend,
};

use dream_core::api::{events::Outcome, projects::CreatedKeySet};
use dream_core::{keys::SecretKey, mode::Mode, period::Timestamp, tiers::input::CreateProjectInput};

const STRIPE_TEST_KEY: &str = "sk_test_nativeplatform";
const STRIPE_LIVE_KEY: &str = "sk_live_nativeplatform";

pub struct Fixture {
    emulator: emulator::Running,
    pub db: Database,
    pub stripe: StripeModes,
    pub end_users: ClerkBackend,
    pub api_multi_url: Setting,
    http: reqwest::Client,
}

/// One migrated database and one emulator per test: tests share nothing.
pub async fn fixture() -> Fixture {
    let emulator = emulator::start(emulator::Config::default()).await.unwrap();
    let base = emulator.base_url.clone();
    let connection = rusqlite::Connection::open_in_memory().unwrap();
    connection.execute_batch("PRAGMA foreign_keys = ON;").unwrap();
    connection.execute_batch(&migrations()).unwrap();
    let stripe = StripeModes::new(&StripeSettings {
        api_base: Setting::fixed("STRIPE_API_BASE", Some(&base)),
        test_secret_key: Setting::fixed("STRIPE_TEST_SECRET_KEY", Some(STRIPE_TEST_KEY)),
        live_secret_key: Setting::fixed("STRIPE_LIVE_SECRET_KEY", Some(STRIPE_LIVE_KEY)),
    })
    .unwrap();
    let end_users = ClerkBackend::new(&ClerkSettings {
        api_base: Setting::fixed(
            "CLERK_END_USER_API_BASE",
            Some(&format!("{base}/clerk/end-user-api/v1")),
        ),
        secret_key: Setting::fixed("CLERK_END_USER_SECRET_KEY", Some("sk_test_nativeendusers")),
    })
    .unwrap();
    Fixture {
        emulator,
        db: Database::sqlite(connection),
        stripe,
        end_users,
        api_multi_url: Setting::fixed("API_MULTI_URL", Some("https://api.example.com")),
        http: reqwest::Client::new(),
    }
}

fn migrations() -> String {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../migrations");
    let mut files: Vec<_> = std::fs::read_dir(dir).unwrap().map(|e| e.unwrap().path()).collect();
    files.sort();
    files
        .iter()
        .map(|f| std::fs::read_to_string(f).unwrap())
        .collect::<Vec<_>>()
        .join("\n")
}

/// Each call its own, as the edge gives each request its own (Stripe idempotency keys derive
/// from it).
pub fn request_id() -> String {
    dream_core::keys::random_id("req")
}

/// An audit entry by a native test's owner, for the writes the tests make directly.
pub fn audit_entry(platform_id: &str, action: &'static str) -> crate::storage::audit::AuditEntry {
    crate::storage::audit::Actor {
        platform_id: platform_id.to_owned(),
        id: "user_native".to_owned(),
        email: None,
        role: Some(dream_core::team::Role::Owner),
        request_id: request_id(),
    }
    .entry(action, now())
}

pub fn now() -> Timestamp {
    crate::runtime::clock::now()
}

impl Fixture {
    /// A signed-in developer (as session verification hands them to a route).
    pub fn developer(&self, user: &str) -> Developer {
        let claims: SessionClaims =
            serde_json::from_value(json!({"sub": user, "iss": "https://clerk.native.test", "exp": i64::MAX})).unwrap();
        Developer::verified(claims, self.db.clone())
    }

    /// A developer on the paid plan with a connected Stripe account.
    pub async fn paying_developer(&self, user: &str) -> PlatformScope {
        let (platform, _) = self.developer(user).ensure_platform(now()).await.unwrap();
        let id = platform.platform().platform_id.clone();
        self.db
            .execute_for_test(&format!("UPDATE platforms SET plan = 'paid' WHERE platformId = '{id}'"));
        let approved: Value = self.emulator_post("/_emulator/oauth/authorize", json!({})).await;
        let grant = self
            .stripe
            .for_mode(Mode::Test)
            .exchange_oauth_code(&self.emulator.base_url, approved["code"].as_str().unwrap())
            .await
            .unwrap();
        platform
            .save_stripe_connection(
                &grant.stripe_user_id,
                grant.scope.as_deref(),
                grant.livemode,
                &audit_entry(&id, "stripe.connected"),
                now(),
            )
            .await
            .unwrap();
        self.developer(user).platform().await.unwrap()
    }

    pub async fn project(&self, platform: &PlatformScope, input: Value) -> CreatedKeySet {
        let input: CreateProjectInput = serde_json::from_value(input).unwrap();
        create_project(platform, &self.stripe, &Cache::none(), &input, now(), &request_id())
            .await
            .unwrap()
    }

    /// What `SecretKeyAuth` gives a route called with this key.
    pub async fn auth(&self, secret: &str) -> SecretKeyAuth {
        let key = SecretKey::parse(secret).unwrap();
        authenticate_with((self.db.clone(), Cache::none()), &key, "127.0.0.1", Recall::Kv)
            .await
            .unwrap()
    }

    pub async fn emulator_post(&self, path: &str, body: Value) -> Value {
        let response = self
            .http
            .post(format!("{}{path}", self.emulator.base_url))
            .header("content-type", "application/json")
            .body(body.to_string())
            .send()
            .await
            .unwrap();
        let status = response.status();
        let body: Value = serde_json::from_str(&response.text().await.unwrap()).unwrap();
        assert!(status.is_success(), "{path}: {status} {body}");
        body
    }

    /// The connected account's newest event of `kind`, as Stripe would deliver it.
    pub async fn latest_event(&self, account: &str, kind: &str) -> (StripeEvent, String) {
        let list: Value = self
            .stripe
            .for_mode(Mode::Test)
            .on_account(account)
            .get(&format!("/events?type={kind}&limit=1"))
            .await
            .unwrap();
        let mut event = list["data"][0].clone();
        assert!(event.is_object(), "no {kind} event on {account}: {list}");
        event["account"] = json!(account);
        let payload = event.to_string();
        (serde_json::from_value(event).unwrap(), payload)
    }

    /// Delivers an event to the Connect webhook's dispatcher.
    pub async fn deliver(&self, (event, payload): &(StripeEvent, String)) -> Outcome {
        let deps = ConnectDeps {
            db: self.db.clone(),
            stripe: self.stripe.clone(),
            end_users: self.end_users.clone(),
            senders: crate::webhooks::Senders::none(),
        };
        dispatch(&deps, event, payload).await.unwrap()
    }
}
