//! The Rust client of dream-api: count your users' requests against their tier, create
//! customers, send them to Stripe Checkout, sell from the Store, and read your figures.
//!
//! ```no_run
//! # async fn run() -> Result<(), dream_api::Error> {
//! let api = dream_api::DreamApi::new("sk_test_…", "https://api.example.com");
//! match api.track_usage("user-42", None).await {
//!     Ok(tracked) => println!("{} requests left", tracked.usage.remaining.unwrap_or(u64::MAX)),
//!     Err(dream_api::Error::LimitReached { .. }) => {
//!         let checkout = api.create_checkout("user-42", "pro", &Default::default()).await?;
//!         println!("upgrade at {}", checkout.url);
//!     }
//!     Err(other) => return Err(other),
//! }
//! # Ok(()) }
//! ```
//!
//! Every POST carries an `Idempotency-Key`, the same on each of the client's own retries, so a
//! retried `track_usage` counts once. Network errors, timeouts, 5xx and `rate_limited` are
//! retried with backoff (honouring `Retry-After`); `limit_reached` and other refusals are not.
//! Natively and inside a Cloudflare Worker (reqwest's wasm32 support). [`webhooks::verify`]
//! checks the signature of the webhooks dream-api sends your app.

mod error;
mod transport;
pub mod types;
pub mod webhooks;

use std::time::Duration;

use reqwest::Method;
use serde_json::json;

pub use error::{Error, ErrorDetails};
pub use types::*;

use transport::Call;

pub type Result<T> = std::result::Result<T, Error>;

#[derive(Debug, Clone)]
pub struct DreamApi {
    http: reqwest::Client,
    base_url: String,
    secret_key: String,
    /// Attempts after the first, for retryable failures.
    pub max_retries: u32,
    /// Per attempt (not on wasm32 older runtimes without AbortSignal).
    pub timeout: Duration,
    /// The first retry's delay; doubled each time, with jitter, at most 8 s.
    pub retry_base_delay: Duration,
    /// A `Retry-After` longer than this is not waited for: the error is returned.
    pub max_retry_after: Duration,
}

impl DreamApi {
    /// `secret_key`: the project's `sk_test_…`/`sk_live_…` (server side only). `base_url`:
    /// api-multi's URL (`http://localhost:8787` under `make dev`).
    pub fn new(secret_key: impl Into<String>, base_url: impl Into<String>) -> Self {
        Self {
            http: reqwest::Client::new(),
            base_url: base_url.into().trim_end_matches('/').to_owned(),
            secret_key: secret_key.into(),
            max_retries: 2,
            timeout: Duration::from_secs(30),
            retry_base_delay: Duration::from_millis(500),
            max_retry_after: Duration::from_secs(60),
        }
    }

    /// Uses your own reqwest client (TLS backend, proxy, connection pool).
    pub fn with_http_client(mut self, http: reqwest::Client) -> Self {
        self.http = http;
        self
    }

    /// Counts one request for the user; `Error::LimitReached` at their tier's limit.
    /// `plan` is the user's tier as your server knows it (overrides their subscription).
    pub async fn track_usage(&self, user_id: &str, plan: Option<&str>) -> Result<Tracked> {
        self.track_usage_with_key(user_id, plan, &transport::new_idempotency_key())
            .await
    }

    /// `track_usage` with your own idempotency key (24 h): a request you retry yourself, e.g.
    /// after a crash, still counts once.
    pub async fn track_usage_with_key(
        &self,
        user_id: &str,
        plan: Option<&str>,
        idempotency_key: &str,
    ) -> Result<Tracked> {
        let call = Call::new(Method::POST, "/api/data")
            .user(user_id, plan)
            .idempotency_key(idempotency_key);
        let (body, replayed) = self.send(call).await?;
        Ok(Tracked {
            usage: field(body, "usage")?,
            replayed,
        })
    }

    /// Counts `quantity` units of one of the tier's meters (`tokens`) for the user, or refuses
    /// them whole at the meter's limit or the tier's spend cap (`Error::LimitReached`).
    pub async fn track_meter(&self, user_id: &str, plan: Option<&str>, meter: &str, quantity: u64) -> Result<Tracked> {
        self.track_meter_with_key(user_id, plan, (meter, quantity), &transport::new_idempotency_key())
            .await
    }

    /// `track_meter` with your own idempotency key: a retry replays the first answer, whatever
    /// its quantity.
    pub async fn track_meter_with_key(
        &self,
        user_id: &str,
        plan: Option<&str>,
        (meter, quantity): (&str, u64),
        idempotency_key: &str,
    ) -> Result<Tracked> {
        let call = Call::new(Method::POST, "/api/data")
            .user(user_id, plan)
            .idempotency_key(idempotency_key)
            .json(json!({ "meter": meter, "quantity": quantity }));
        let (body, replayed) = self.send(call).await?;
        Ok(Tracked {
            usage: field(body, "usage")?,
            replayed,
        })
    }

    /// The user's usage of requests in this period, without counting.
    pub async fn get_usage(&self, user_id: &str, plan: Option<&str>) -> Result<Usage> {
        let (body, _) = self
            .send(Call::new(Method::GET, "/api/usage").user(user_id, plan))
            .await?;
        field(body, "usage")
    }

    /// The user's usage of every meter of their tier in this period, without counting.
    pub async fn get_meters(&self, user_id: &str, plan: Option<&str>) -> Result<Vec<Usage>> {
        let (body, _) = self
            .send(Call::new(Method::GET, "/api/usage").user(user_id, plan))
            .await?;
        field(body, "meters")
    }

    /// What the user's tier grants now: its boolean features and meters, and the subscription
    /// behind it (a trial, a past-due payment, a cancellation at the period's end).
    pub async fn get_entitlements(&self, user_id: &str, plan: Option<&str>) -> Result<Entitlements> {
        decode(
            self.send(Call::new(Method::GET, "/api/entitlements").user(user_id, plan))
                .await?
                .0,
        )
    }

    /// A short-lived token for the user's usage widget (`<dream-usage>`, served by api-multi at
    /// `/widget.js`): it reads that user's plan, usage and tiers, and nothing else.
    /// `expires_in_seconds`: 60 to 3600 (default 600). The widget offers every other tier of
    /// the project; [`Self::widget_token_with_tiers`] chooses which.
    pub async fn widget_token(&self, user_id: &str, expires_in_seconds: Option<i64>) -> Result<WidgetToken> {
        self.widget_token_with_tiers(user_id, expires_in_seconds, None::<&[&str]>)
            .await
    }

    /// `widget_token`, choosing the tiers (by name) the widget may offer this user: all the
    /// project's other tiers when `None`, none when empty.
    pub async fn widget_token_with_tiers(
        &self,
        user_id: &str,
        expires_in_seconds: Option<i64>,
        offer_tiers: Option<&[impl AsRef<str>]>,
    ) -> Result<WidgetToken> {
        let mut body = json!({});
        if let Some(seconds) = expires_in_seconds {
            body["expiresInSeconds"] = json!(seconds);
        }
        if let Some(tiers) = offer_tiers {
            body["offerTiers"] = tiers.iter().map(|t| json!(t.as_ref())).collect();
        }
        let call = Call::new(Method::POST, "/api/widget/tokens")
            .user(user_id, None)
            .json(body);
        decode(self.send(call).await?.0)
    }

    /// Whether the user may use a boolean feature (`sso`) or one more unit of a meter
    /// (`tokens`) now; nothing is counted.
    pub async fn check(&self, user_id: &str, plan: Option<&str>, feature: &str) -> Result<CheckAnswer> {
        let call = Call::new(Method::POST, "/api/check")
            .user(user_id, plan)
            .json(json!({ "feature": feature }));
        decode(self.send(call).await?.0)
    }

    /// A customer of this project (a retry with the same email returns the same one).
    pub async fn create_customer(&self, customer: &NewCustomer) -> Result<CustomerCreated> {
        let call = Call::new(Method::POST, "/api/customers").json(json!(customer));
        decode(self.send(call).await?.0)
    }

    /// A Stripe Checkout page subscribing the user to a paid tier.
    pub async fn create_checkout(&self, user_id: &str, tier: &str, urls: &ReturnUrls) -> Result<Checkout> {
        self.create_checkout_with_promotion(user_id, tier, urls, &Promotion::default())
            .await
    }

    /// `create_checkout` with a promotion code applied, or Stripe's field for the customer's.
    pub async fn create_checkout_with_promotion(
        &self,
        user_id: &str,
        tier: &str,
        urls: &ReturnUrls,
        promotion: &Promotion,
    ) -> Result<Checkout> {
        let mut body = json!(urls);
        body["tier"] = json!(tier);
        if let (Some(body), serde_json::Value::Object(promotion)) = (body.as_object_mut(), json!(promotion)) {
            body.extend(promotion);
        }
        let call = Call::new(Method::POST, "/api/create-checkout")
            .user(user_id, None)
            .json(body);
        decode(self.send(call).await?.0)
    }

    /// Stripe's billing portal for the user; returns its URL.
    pub async fn customer_portal(&self, user_id: &str, return_url: Option<&str>) -> Result<String> {
        let body = match return_url {
            Some(url) => json!({ "returnUrl": url }),
            None => json!({}),
        };
        let call = Call::new(Method::POST, "/api/customer-portal")
            .user(user_id, None)
            .json(body);
        field(self.send(call).await?.0, "url")
    }

    /// Moves the user's subscription to another paid tier.
    pub async fn change_plan(&self, user_id: &str, tier: &str) -> Result<PlanChanged> {
        let call = Call::new(Method::POST, "/api/change-plan")
            .user(user_id, None)
            .json(json!({ "tier": tier }));
        decode(self.send(call).await?.0)
    }

    /// The project's figures. Usage figures trail counting by about 2 seconds (the usage
    /// counters copy into the dashboard's database); [`Self::get_usage`] is exact.
    pub async fn dashboard(&self) -> Result<Dashboard> {
        decode(self.send(Call::new(Method::GET, "/api/dashboard")).await?.0)
    }

    /// The Store's products with price, stock and availability.
    pub async fn products(&self) -> Result<Vec<Product>> {
        field(self.send(Call::new(Method::GET, "/api/products")).await?.0, "products")
    }

    /// Holds the cart's stock and returns a Stripe Checkout page for it.
    pub async fn cart_checkout(&self, cart: &Cart) -> Result<CartCheckout> {
        let call = Call::new(Method::POST, "/api/cart/checkout").json(json!(cart));
        decode(self.send(call).await?.0)
    }

    /// Ends an open cart checkout (`order_id` from [`Self::cart_checkout`]): it can no longer
    /// be paid and its stock is available again at once. Asking again answers the same.
    pub async fn cancel_order(&self, order_id: &str) -> Result<OrderCanceled> {
        // The id goes into the path: only the shape our order ids have.
        let well_formed = order_id
            .strip_prefix("ord_")
            .is_some_and(|rest| !rest.is_empty() && rest.bytes().all(|b| b.is_ascii_alphanumeric()));
        if !well_formed {
            return Err(Error::InvalidArgument(format!(
                "`{order_id}` is not an order id (`ord_…`)"
            )));
        }
        let call = Call::new(Method::POST, format!("/api/orders/{order_id}/cancel"));
        decode(self.send(call).await?.0)
    }
}

fn decode<T: serde::de::DeserializeOwned>(body: serde_json::Value) -> Result<T> {
    serde_json::from_value(body).map_err(|e| Error::Decode(e.to_string()))
}

fn field<T: serde::de::DeserializeOwned>(mut body: serde_json::Value, name: &str) -> Result<T> {
    decode(body.get_mut(name).map(serde_json::Value::take).unwrap_or_default())
}
