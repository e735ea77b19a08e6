//! The emulator driven natively by async-stripe 1.0, the Stripe library of the design: every
//! call the platform makes, built by the library's typed requests, on a connected account
//! (`Stripe-Account`) and with the platform key; every webhook delivery verified and parsed by
//! the library's webhook support. A response or event the library cannot parse fails here
//! with the body it could not read: that is an emulator bug.

mod common;

use std::cell::RefCell;
use std::collections::HashMap;
use std::future::Future;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::body::Bytes;
use common::*;
use serde_json::json;
use stripe_billing::billing_meter::{
    CreateBillingMeter, CreateBillingMeterCustomerMapping, CreateBillingMeterCustomerMappingType,
    CreateBillingMeterDefaultAggregation, CreateBillingMeterDefaultAggregationFormula, CreateBillingMeterValueSettings,
    DeactivateBillingMeter, ListBillingMeter, ReactivateBillingMeter, RetrieveBillingMeter, UpdateBillingMeter,
};
use stripe_billing::billing_meter_event::CreateBillingMeterEvent;
use stripe_billing::billing_meter_event_summary::{
    ListIdBillingMeterEventSummary, ListIdBillingMeterEventSummaryValueGroupingWindow,
};
use stripe_billing::billing_portal_session::CreateBillingPortalSession;
use stripe_billing::subscription::{
    CancelSubscription, ListSubscription, ListSubscriptionStatus, RetrieveSubscription, UpdateSubscription,
    UpdateSubscriptionItems,
};
use stripe_billing::{BillingMeterResourceAggregationSettingsFormula, BillingMeterStatus};
use stripe_checkout::checkout_session::{
    CreateCheckoutSession, CreateCheckoutSessionAutomaticTax, CreateCheckoutSessionCustomerUpdate,
    CreateCheckoutSessionCustomerUpdateAddress, CreateCheckoutSessionDiscounts, CreateCheckoutSessionLineItems,
    CreateCheckoutSessionPaymentIntentData, CreateCheckoutSessionPaymentMethodCollection,
    CreateCheckoutSessionSubscriptionData, CreateCheckoutSessionSubscriptionDataTrialSettings,
    CreateCheckoutSessionSubscriptionDataTrialSettingsEndBehavior,
    CreateCheckoutSessionSubscriptionDataTrialSettingsEndBehaviorMissingPaymentMethod, ExpireCheckoutSession,
    RetrieveCheckoutSession,
};
use stripe_client_core::{
    CustomizedStripeRequest, IdempotencyKey, RequestStrategy, SharedConfigBuilder, StripeClient, StripeClientErr,
    StripeMethod, StripeRequest,
};
use stripe_core::charge::{ListCharge, RetrieveCharge};
use stripe_core::customer::{CreateCustomer, RetrieveCustomer, RetrieveCustomerReturned};
use stripe_core::dispute::{ListDispute, RetrieveDispute};
use stripe_core::refund::{CreateRefund, CreateRefundReason, ListRefund, RetrieveRefund};
use stripe_misc::webhook_endpoint::{
    CreateWebhookEndpoint, CreateWebhookEndpointEnabledEvents, DeleteWebhookEndpoint, ListWebhookEndpoint,
    RetrieveWebhookEndpoint,
};
use stripe_product::price::{
    CreatePrice, CreatePriceRecurring, CreatePriceRecurringInterval, CreatePriceRecurringUsageType,
    CreatePriceTransformQuantity, CreatePriceTransformQuantityRound, ListPrice, RetrievePrice, UpdatePrice,
};
use stripe_product::product::{CreateProduct, RetrieveProduct, UpdateProduct};
use stripe_shared::{
    ApiErrors, ApiErrorsCode, ApiErrorsType, BillingBillResourceInvoicingTaxesTaxTaxBehavior,
    BillingBillResourceInvoicingTaxesTaxTaxabilityReason, ChargeStatus, CheckoutSession,
    CheckoutSessionBillingAddressCollection, CheckoutSessionMode, CheckoutSessionPaymentStatus, CheckoutSessionStatus,
    CheckoutSessionUiMode, DisputeStatus, InvoiceStatus, PaymentIntentStatus,
    PaymentPagesCheckoutSessionAutomaticTaxStatus, PriceBillingScheme, PriceTaxBehavior, PriceType, ProductType,
    RecurringInterval, RecurringUsageType, RefundReason, Subscription, SubscriptionStatus, TransformQuantityRound,
};
use stripe_types::Currency;
use stripe_webhook::{Event, EventObject, Webhook, WebhookError};
use tracing::field::{Field, Visit};
use tracing::span::{Attributes, Id, Record};
use tracing::subscriber::Interest;
use tracing::{Level, Metadata, Subscriber};

/// async-stripe's `StripeClient` trait over the tests' plain-HTTP reqwest client. The
/// library's own client refuses to compile without a TLS stack, which loopback does not need
/// (the workers plug in their `fetch` the same way). The library builds each request (path,
/// query, form body) and parses each response; this only carries them, with the headers the
/// library's hyper client sends, configured by the library's own `SharedConfigBuilder`.
#[derive(Clone)]
struct Stripe {
    http: reqwest::Client,
    config: SharedConfigBuilder,
    /// The last response body, shown when the library cannot parse it.
    last_body: Arc<Mutex<String>>,
}

#[derive(Debug)]
enum CallError {
    /// A Stripe error, parsed with the library's own error type.
    Api(u16, Box<ApiErrors>),
    Transport(String),
    /// The library could not parse a response.
    Parse(String),
}

impl std::fmt::Display for CallError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            CallError::Api(status, error) => write!(f, "Stripe error ({status}): {error:?}"),
            CallError::Transport(e) => write!(f, "transport: {e}"),
            CallError::Parse(e) => write!(f, "unparsable response: {e}"),
        }
    }
}

impl StripeClientErr for CallError {
    fn deserialize_err(msg: impl std::fmt::Display) -> Self {
        CallError::Parse(msg.to_string())
    }
}

thread_local! {
    static LIBRARY_WARNINGS: RefCell<Vec<String>> = const { RefCell::new(Vec::new()) };
}

/// Records what async-stripe logs at WARN or above on the test's thread (tokio tests run on
/// one). The library reads an enum value it does not know as `Unknown(..)` and only logs
/// "Unknown value 'x' for enum 'SubscriptionStatus'", so without this a misspelt status or
/// type would pass; an API version other than its own is logged the same way.
struct LibraryWarnings;

impl LibraryWarnings {
    /// Records until the guard is dropped.
    fn capture() -> tracing::subscriber::DefaultGuard {
        tracing::subscriber::set_default(LibraryWarnings)
    }

    fn assert_none(what: &str, body: &str) {
        let warnings = LIBRARY_WARNINGS.with(|w| std::mem::take(&mut *w.borrow_mut()));
        assert!(
            warnings.is_empty(),
            "{what}: async-stripe warned {warnings:?} about: {body}"
        );
    }
}

struct Message(String);

impl Visit for Message {
    fn record_debug(&mut self, field: &Field, value: &dyn std::fmt::Debug) {
        if field.name() == "message" {
            self.0 = format!("{value:?}");
        }
    }
}

impl Subscriber for LibraryWarnings {
    fn register_callsite(&self, _: &'static Metadata<'static>) -> Interest {
        // Other tests' threads have no subscriber: decide per event, not once per callsite.
        Interest::sometimes()
    }

    fn enabled(&self, metadata: &Metadata<'_>) -> bool {
        *metadata.level() <= Level::WARN && metadata.target().starts_with("stripe")
    }

    fn new_span(&self, _: &Attributes<'_>) -> Id {
        Id::from_u64(1)
    }

    fn record(&self, _: &Id, _: &Record<'_>) {}

    fn record_follows_from(&self, _: &Id, _: &Id) {}

    fn event(&self, event: &tracing::Event<'_>) {
        let mut message = Message(String::new());
        event.record(&mut message);
        let line = format!("{}: {}", event.metadata().target(), message.0);
        LIBRARY_WARNINGS.with(|w| w.borrow_mut().push(line));
    }

    fn enter(&self, _: &Id) {}

    fn exit(&self, _: &Id) {}
}

impl Stripe {
    fn new(emu: &Emu, key: &str) -> Self {
        Stripe {
            http: emu.http.clone(),
            // As api.stripe.com's default base, with the trailing slash the library expects.
            config: SharedConfigBuilder::new(key).url(format!("{}/", emu.base)),
            last_body: Arc::default(),
        }
    }

    /// The same client acting on a connected account, as the platform does.
    fn on_account(&self, account: &str) -> Self {
        Stripe {
            config: self.config.clone().account_id(account.into()),
            ..self.clone()
        }
    }

    fn last_body(&self) -> String {
        self.last_body.lock().expect("lock").clone()
    }

    /// Sends `req` (with the library's idempotent strategy when a key is given) and returns
    /// the parsed response; any failure, or any warning the library logs while parsing,
    /// fails the test with what the emulator answered.
    async fn ok<R>(&self, what: &str, req: &R, idempotency_key: Option<&str>) -> R::Output
    where
        R: StripeRequest,
        R::Output: miniserde::Deserialize,
    {
        match self.send(req, idempotency_key).await {
            Ok(out) => {
                LibraryWarnings::assert_none(what, &self.last_body());
                out
            }
            Err(e @ CallError::Parse(_)) => panic!("{what}: {e}: {}", self.last_body()),
            Err(e) => panic!("{what}: {e}"),
        }
    }

    /// Sends `req`, which must fail with a Stripe error; returns its status and the error.
    async fn err<R>(&self, what: &str, req: &R) -> (u16, Box<ApiErrors>)
    where
        R: StripeRequest,
        R::Output: miniserde::Deserialize,
    {
        match self.send(req, None).await {
            Err(CallError::Api(status, error)) => {
                LibraryWarnings::assert_none(what, &self.last_body());
                (status, error)
            }
            Ok(_) => panic!("{what}: succeeded, expected a Stripe error"),
            Err(e) => panic!("{what}: {e}: {}", self.last_body()),
        }
    }

    async fn send<R>(&self, req: &R, idempotency_key: Option<&str>) -> Result<R::Output, CallError>
    where
        R: StripeRequest,
        R::Output: miniserde::Deserialize,
    {
        let mut req = req.customize();
        if let Some(key) = idempotency_key {
            req = req.request_strategy(RequestStrategy::Idempotent(
                IdempotencyKey::new(key).expect("idempotency key"),
            ));
        }
        req.send(self).await
    }
}

impl StripeClient for Stripe {
    type Err = CallError;

    fn execute(&self, req: CustomizedStripeRequest) -> impl Future<Output = Result<Bytes, CallError>> + Send {
        let this = self.clone();
        async move {
            let (req, config) = req.into_pieces();
            let base = this.config.api_base.as_deref().unwrap_or_default();
            let mut url = format!("{base}v1{}", req.path);
            if let Some(query) = &req.query {
                url = format!("{url}?{query}");
            }
            let method = match req.method {
                StripeMethod::Get => reqwest::Method::GET,
                StripeMethod::Post => reqwest::Method::POST,
                StripeMethod::Delete => reqwest::Method::DELETE,
            };
            let mut call = this
                .http
                .request(method, url)
                .bearer_auth(&this.config.secret)
                .header("Stripe-Version", this.config.stripe_version.as_str())
                .header("User-Agent", "Stripe/v1 RustBindings/1.0.0-rc.10");
            if let Some(account) = config.account_id.or_else(|| this.config.account_id.clone()) {
                call = call.header("Stripe-Account", account.as_str());
            }
            let strategy = config
                .request_strategy
                .or_else(|| this.config.request_strategy.clone())
                .unwrap_or(RequestStrategy::Once);
            if let Some(key) = strategy.get_key() {
                call = call.header("Idempotency-Key", key.as_str());
            }
            if let Some(body) = req.body {
                call = call
                    .header("Content-Type", "application/x-www-form-urlencoded")
                    .body(body);
            }
            let resp = call.send().await.map_err(|e| CallError::Transport(e.to_string()))?;
            let status = resp.status().as_u16();
            let bytes = resp.bytes().await.map_err(|e| CallError::Transport(e.to_string()))?;
            let text = String::from_utf8_lossy(&bytes).into_owned();
            *this.last_body.lock().expect("lock") = text.clone();
            if !(200..300).contains(&status) {
                // What the library's own client does with an error body.
                return Err(match miniserde::json::from_str::<stripe_shared::Error>(&text) {
                    Ok(e) => CallError::Api(status, e.error),
                    Err(_) => CallError::Parse(format!("error body ({status})")),
                });
            }
            Ok(bytes)
        }
    }
}

fn meta(pairs: &[(&str, &str)]) -> HashMap<String, String> {
    pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
}

fn line(price: &str, quantity: u64) -> CreateCheckoutSessionLineItems {
    let mut item = CreateCheckoutSessionLineItems::new();
    item.price = Some(price.to_string());
    item.quantity = Some(quantity);
    item
}

async fn complete(emu: &Emu, session: &CheckoutSession) {
    let (status, body) = emu
        .control(
            &format!("/_emulator/checkout/sessions/{}/complete", session.id),
            json!({}),
        )
        .await;
    assert_eq!(status, 200, "{body}");
}

async fn control(emu: &Emu, path: &str) {
    let (status, body) = emu.control(path, json!({})).await;
    assert_eq!(status, 200, "{path}: {body}");
}

fn now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .expect("clock")
        .as_secs() as i64
}

/// Every call the platform makes, as `stripe` (a connected account or the platform itself).
async fn platform_calls(emu: &Emu, stripe: &Stripe, label: &str) {
    // Products: a SaaS tier and a Store product, as the dashboard publishes them.
    let product = stripe
        .ok(
            "create product",
            &CreateProduct::new("Pro")
                .description("Everything in Free, and more")
                .images(vec!["https://example.com/pro.png".to_string()])
                .metadata(meta(&[("projectId", "prj_1"), ("tier", "pro")])),
            Some(&format!("{label}-product-pro")),
        )
        .await;
    assert!(product.id.as_str().starts_with("prod_"), "{:?}", product.id);
    assert_eq!(product.name, "Pro");
    assert_eq!(product.description.as_deref(), Some("Everything in Free, and more"));
    assert_eq!(product.images, ["https://example.com/pro.png"]);
    assert_eq!(product.metadata, meta(&[("projectId", "prj_1"), ("tier", "pro")]));
    assert!(product.active && !product.livemode);
    assert_eq!(product.type_, ProductType::Service);

    let updated = stripe
        .ok(
            "rename product",
            &UpdateProduct::new(product.id.clone()).name("Pro (2026)"),
            Some(&format!("{label}-product-rename")),
        )
        .await;
    assert_eq!(
        (updated.id.as_str(), updated.name.as_str()),
        (product.id.as_str(), "Pro (2026)")
    );
    assert!(updated.updated >= product.updated);

    let mug = stripe
        .ok(
            "create store product",
            &CreateProduct::new("Mug").metadata(meta(&[("kind", "store")])),
            None,
        )
        .await;

    // Prices: recurring monthly for the tier, one-time for the Store product.
    let monthly = |amount: i64, key: &str| {
        CreatePrice::new(Currency::USD)
            .product(product.id.as_str())
            .unit_amount(amount)
            .recurring(CreatePriceRecurring::new(CreatePriceRecurringInterval::Month))
            .metadata(meta(&[("tier", key)]))
    };
    let first = stripe.ok("create monthly price", &monthly(1500, "pro"), None).await;
    assert!(first.id.as_str().starts_with("price_"));
    assert_eq!(first.type_, PriceType::Recurring);
    assert_eq!(first.unit_amount, Some(1500));
    assert_eq!(first.currency, Currency::USD);
    assert_eq!(first.product.id(), &product.id);
    let recurring = first.recurring.as_ref().expect("recurring");
    assert_eq!(
        (recurring.interval.clone(), recurring.interval_count),
        (RecurringInterval::Month, 1)
    );
    assert_eq!(first.metadata, meta(&[("tier", "pro")]));

    let one_time = stripe
        .ok(
            "create one-time price",
            &CreatePrice::new(Currency::USD)
                .product(mug.id.as_str())
                .unit_amount(1200)
                .metadata(meta(&[("sku", "mug-1")])),
            None,
        )
        .await;
    assert_eq!(one_time.type_, PriceType::OneTime);
    assert!(one_time.recurring.is_none());
    assert_eq!(
        (one_time.unit_amount, one_time.metadata.get("sku").map(String::as_str)),
        (Some(1200), Some("mug-1"))
    );

    // A tier's price changes: a new price, then the old one is taken off sale.
    let price = stripe.ok("create replacement price", &monthly(2000, "pro"), None).await;
    let retired = stripe
        .ok(
            "deactivate price",
            &UpdatePrice::new(first.id.clone()).active(false),
            None,
        )
        .await;
    assert!(!retired.active);
    let fetched = stripe
        .ok("retrieve price", &RetrievePrice::new(first.id.clone()), None)
        .await;
    assert!(!fetched.active);
    assert_eq!(fetched.unit_amount, Some(1500));
    let on_sale = stripe
        .ok(
            "list active prices",
            &ListPrice::new().product(product.id.as_str()).active(true),
            None,
        )
        .await;
    let ids: Vec<&str> = on_sale.data.iter().map(|p| p.id.as_str()).collect();
    assert_eq!(ids, [price.id.as_str()]);
    let all = stripe
        .ok("list prices", &ListPrice::new().product(product.id.as_str()), None)
        .await;
    assert_eq!(all.data.len(), 2);
    assert!(!all.has_more);

    // Customers.
    let customer = stripe
        .ok(
            "create customer",
            &CreateCustomer::new()
                .email("buyer@example.com")
                .metadata(meta(&[("userId", "user_1")])),
            Some(&format!("{label}-customer")),
        )
        .await;
    assert!(customer.id.as_str().starts_with("cus_"));
    assert_eq!(customer.email.as_deref(), Some("buyer@example.com"));
    match stripe
        .ok("retrieve customer", &RetrieveCustomer::new(customer.id.clone()), None)
        .await
    {
        RetrieveCustomerReturned::Customer(c) => {
            assert_eq!(c.id, customer.id);
            assert_eq!(c.metadata, Some(meta(&[("userId", "user_1")])));
        }
        RetrieveCustomerReturned::DeletedCustomer(c) => panic!("a live customer parsed as deleted: {c:?}"),
    }

    // Checkout, subscription mode. The platform retries with the same key; the library's
    // idempotent strategy sends it and the replay is the same session.
    let mut subscription_data = CreateCheckoutSessionSubscriptionData::new();
    subscription_data.metadata = Some(meta(&[("plan", "pro")]));
    let create = CreateCheckoutSession::new()
        .mode(CheckoutSessionMode::Subscription)
        .line_items(vec![line(price.id.as_str(), 1)])
        .customer(customer.id.as_str())
        .success_url("http://localhost:5173/done?session={CHECKOUT_SESSION_ID}")
        .cancel_url("http://localhost:5173/pricing")
        .client_reference_id("user_1")
        .metadata(meta(&[("publishableKey", "pk_test_1")]))
        .subscription_data(subscription_data)
        .ui_mode(CheckoutSessionUiMode::HostedPage);
    let key = format!("{label}-checkout-1");
    let session = stripe.ok("create subscription session", &create, Some(&key)).await;
    let replay = stripe.ok("replay session", &create, Some(&key)).await;
    assert_eq!(replay.id, session.id);
    assert!(session.id.as_str().starts_with("cs_test_"));
    assert_eq!(session.mode, CheckoutSessionMode::Subscription);
    assert_eq!(session.status, Some(CheckoutSessionStatus::Open));
    assert_eq!(session.payment_status, CheckoutSessionPaymentStatus::Unpaid);
    assert_eq!(session.ui_mode, Some(CheckoutSessionUiMode::HostedPage));
    assert_eq!(
        (session.amount_subtotal, session.amount_total),
        (Some(2000), Some(2000))
    );
    assert_eq!(session.currency, Some(Currency::USD));
    assert_eq!(session.customer.as_ref().map(|c| c.id()), Some(&customer.id));
    assert_eq!(session.client_reference_id.as_deref(), Some("user_1"));
    assert_eq!(session.metadata, Some(meta(&[("publishableKey", "pk_test_1")])));
    assert!(session.expires_at > session.created);
    let url = session.url.clone().expect("an open session has a URL");
    assert!(url.starts_with(&format!("{}/checkout/", emu.base)), "{url}");

    // Checkout, payment mode: a guest with an email, payment intent metadata, a deadline.
    let expires_at = now() + 3600;
    let mut payment_intent_data = CreateCheckoutSessionPaymentIntentData::new();
    payment_intent_data.metadata = Some(meta(&[("order", "42")]));
    let store = |email: &str| {
        CreateCheckoutSession::new()
            .mode(CheckoutSessionMode::Payment)
            .line_items(vec![line(one_time.id.as_str(), 2)])
            .customer_email(email)
            .payment_intent_data(payment_intent_data.clone())
            .expires_at(expires_at)
            .success_url("http://localhost:5173/thanks")
            .cancel_url("http://localhost:5173/store")
            .metadata(meta(&[("cart", "c_1")]))
    };
    let purchase = stripe
        .ok("create payment session", &store("guest@example.com"), None)
        .await;
    assert_eq!(purchase.mode, CheckoutSessionMode::Payment);
    assert_eq!(purchase.amount_total, Some(2400));
    assert_eq!(purchase.expires_at, expires_at);
    assert_eq!(purchase.customer_email.as_deref(), Some("guest@example.com"));
    assert!(purchase.customer.is_none());

    // Expire an abandoned one.
    let abandoned = stripe
        .ok("create session to expire", &store("late@example.com"), None)
        .await;
    let expired = stripe
        .ok(
            "expire session",
            &ExpireCheckoutSession::new(abandoned.id.clone()),
            None,
        )
        .await;
    assert_eq!(expired.status, Some(CheckoutSessionStatus::Expired));
    assert!(expired.url.is_none());

    // Pay both; the subscription session, retrieved with its expansions, is complete.
    complete(emu, &session).await;
    complete(emu, &purchase).await;
    let done = stripe
        .ok(
            "retrieve completed session",
            &RetrieveCheckoutSession::new(session.id.clone())
                .expand(vec!["line_items".to_string(), "subscription".to_string()]),
            None,
        )
        .await;
    assert_eq!(done.status, Some(CheckoutSessionStatus::Complete));
    assert_eq!(done.payment_status, CheckoutSessionPaymentStatus::Paid);
    assert!(done.url.is_none());
    let items = done.line_items.as_ref().expect("expanded line items");
    assert_eq!(items.data.len(), 1);
    assert_eq!(items.data[0].price.as_ref().map(|p| &p.id), Some(&price.id));
    assert_eq!((items.data[0].quantity, items.data[0].amount_total), (Some(1), 2000));
    let subscription = done
        .subscription
        .as_ref()
        .and_then(|s| s.as_object())
        .expect("expanded subscription")
        .clone();
    assert_eq!(subscription.status, SubscriptionStatus::Active);
    assert_eq!(subscription.metadata, meta(&[("plan", "pro")]));
    let paid = stripe
        .ok(
            "retrieve paid purchase",
            &RetrieveCheckoutSession::new(purchase.id.clone()),
            None,
        )
        .await;
    assert_eq!(paid.status, Some(CheckoutSessionStatus::Complete));
    let pi = paid.payment_intent.as_ref().expect("payment intent").id().clone();
    refund_purchase(stripe, label, pi.as_str()).await;

    // Subscriptions: what the plan check reads, and what the dashboard changes.
    let listed = stripe
        .ok(
            "list subscriptions",
            &ListSubscription::new()
                .customer(customer.id.as_str())
                .status(ListSubscriptionStatus::All),
            None,
        )
        .await;
    assert_eq!(listed.data.len(), 1);
    let sub = &listed.data[0];
    assert_eq!(sub.id, subscription.id);
    assert_eq!(sub.customer.id(), &customer.id);
    let item = &sub.items.data[0];
    assert_eq!(item.price.id, price.id);
    assert_eq!(item.quantity, Some(1));
    assert!(item.current_period_end > item.current_period_start);
    assert!(sub.latest_invoice.is_some());

    let retrieved = stripe
        .ok(
            "retrieve subscription",
            &RetrieveSubscription::new(sub.id.clone()),
            None,
        )
        .await;
    assert_eq!(
        (retrieved.id.clone(), retrieved.status.clone()),
        (sub.id.clone(), SubscriptionStatus::Active)
    );

    let cancelling = stripe
        .ok(
            "cancel at period end",
            &UpdateSubscription::new(sub.id.clone()).cancel_at_period_end(true),
            None,
        )
        .await;
    assert!(cancelling.cancel_at_period_end);
    assert_eq!(cancelling.status, SubscriptionStatus::Active);
    let resumed = stripe
        .ok(
            "undo cancel at period end",
            &UpdateSubscription::new(sub.id.clone()).cancel_at_period_end(false),
            None,
        )
        .await;
    assert!(!resumed.cancel_at_period_end);

    // A plan change: the item keeps its id and takes the new price.
    let premium = stripe.ok("create upgrade price", &monthly(3000, "premium"), None).await;
    let mut change = UpdateSubscriptionItems::new();
    change.id = Some(item.id.to_string());
    change.price = Some(premium.id.to_string());
    let changed = stripe
        .ok(
            "change price",
            &UpdateSubscription::new(sub.id.clone()).items(vec![change]),
            None,
        )
        .await;
    assert_eq!(changed.items.data.len(), 1);
    assert_eq!(changed.items.data[0].id, item.id);
    assert_eq!(changed.items.data[0].price.id, premium.id);
    assert_eq!(changed.items.data[0].price.unit_amount, Some(3000));

    // Billing portal.
    let portal = stripe
        .ok(
            "create portal session",
            &CreateBillingPortalSession::new()
                .customer(customer.id.as_str())
                .return_url("http://localhost:5173/dashboard"),
            None,
        )
        .await;
    assert!(portal.id.as_str().starts_with("bps_"));
    assert_eq!(portal.customer, customer.id.as_str());
    assert_eq!(portal.return_url.as_deref(), Some("http://localhost:5173/dashboard"));
    assert!(
        portal.url.starts_with(&format!("{}/p/session/", emu.base)),
        "{}",
        portal.url
    );

    // Cancel now; the default list then omits it, `status=all` still shows it.
    let canceled = stripe
        .ok("cancel subscription", &CancelSubscription::new(sub.id.clone()), None)
        .await;
    assert_eq!(canceled.status, SubscriptionStatus::Canceled);
    assert!(canceled.ended_at.is_some() && canceled.canceled_at.is_some());
    let current = stripe
        .ok(
            "list current subscriptions",
            &ListSubscription::new().customer(customer.id.as_str()),
            None,
        )
        .await;
    assert!(current.data.is_empty());
    let everything = stripe
        .ok(
            "list all subscriptions",
            &ListSubscription::new()
                .customer(customer.id.as_str())
                .status(ListSubscriptionStatus::All),
            None,
        )
        .await;
    assert_eq!(everything.data[0].status, SubscriptionStatus::Canceled);

    // Deleting a tier archives its product.
    let archived = stripe
        .ok(
            "archive product",
            &UpdateProduct::new(product.id.clone()).active(false),
            None,
        )
        .await;
    assert!(!archived.active);
    let fetched = stripe
        .ok("retrieve product", &RetrieveProduct::new(product.id.clone()), None)
        .await;
    assert_eq!((fetched.active, fetched.name.as_str()), (false, "Pro (2026)"));

    // Errors parse as the library's error type.
    let (status, error) = stripe
        .err("missing product", &RetrieveProduct::new("prod_missing"))
        .await;
    assert_eq!(status, 404);
    assert_eq!(error.type_, ApiErrorsType::InvalidRequestError);
    assert_eq!(error.code, Some(ApiErrorsCode::ResourceMissing));
    assert!(
        error.message.as_deref().unwrap_or_default().contains("prod_missing"),
        "{error:?}"
    );
    let (status, error) = stripe
        .err(
            "checkout with an unknown price",
            &CreateCheckoutSession::new()
                .mode(CheckoutSessionMode::Subscription)
                .line_items(vec![line("price_missing", 1)])
                .success_url("http://localhost:5173/done"),
        )
        .await;
    assert_eq!(status, 400);
    assert_eq!(error.code, Some(ApiErrorsCode::ResourceMissing));
    assert_eq!(error.param.as_deref(), Some("line_items[0][price]"));
}

/// A store purchase of 2400 (payment intent `pi`, metadata `order=42`): its charge, a partial
/// refund (replayed with its idempotency key), the rest, and the error after that.
async fn refund_purchase(stripe: &Stripe, label: &str, pi: &str) {
    let charges = stripe
        .ok("list charges", &ListCharge::new().payment_intent(pi), None)
        .await;
    assert_eq!(charges.data.len(), 1);
    let charge = stripe
        .ok(
            "retrieve charge",
            &RetrieveCharge::new(charges.data[0].id.clone()),
            None,
        )
        .await;
    assert!(charge.id.as_str().starts_with("ch_"));
    assert_eq!(
        (charge.amount, charge.amount_captured, charge.amount_refunded),
        (2400, 2400, 0)
    );
    assert!(charge.paid && charge.captured && !charge.refunded && !charge.disputed);
    assert_eq!(charge.status, ChargeStatus::Succeeded);
    assert_eq!(charge.payment_intent.as_ref().map(|p| p.id().as_str()), Some(pi));
    assert_eq!(charge.metadata, meta(&[("order", "42")]));

    let partial = CreateRefund::new()
        .payment_intent(pi)
        .amount(400)
        .reason(CreateRefundReason::RequestedByCustomer)
        .metadata(meta(&[("ticket", "T-1")]));
    let key = format!("{label}-refund-1");
    let refund = stripe.ok("partial refund", &partial, Some(&key)).await;
    let replay = stripe.ok("replay refund", &partial, Some(&key)).await;
    assert_eq!(replay.id, refund.id);
    assert!(refund.id.as_str().starts_with("re_"));
    assert_eq!(refund.amount, 400);
    assert_eq!(refund.reason, Some(RefundReason::RequestedByCustomer));
    assert_eq!(refund.status.as_deref(), Some("succeeded"));
    assert_eq!(refund.charge.as_ref().map(|c| c.id()), Some(&charge.id));
    assert_eq!(refund.metadata, Some(meta(&[("ticket", "T-1")])));
    let rest = stripe
        .ok("refund the rest", &CreateRefund::new().charge(charge.id.as_str()), None)
        .await;
    assert_eq!(rest.amount, 2000);
    let (status, error) = stripe
        .err(
            "refund a refunded charge",
            &CreateRefund::new().charge(charge.id.as_str()),
        )
        .await;
    assert_eq!((status, error.code), (400, Some(ApiErrorsCode::ChargeAlreadyRefunded)));

    let refunds = stripe
        .ok("list refunds", &ListRefund::new().payment_intent(pi), None)
        .await;
    let ids: Vec<&str> = refunds.data.iter().map(|r| r.id.as_str()).collect();
    assert_eq!(ids, [rest.id.as_str(), refund.id.as_str()]);
    let fetched = stripe
        .ok("retrieve refund", &RetrieveRefund::new(refund.id.clone()), None)
        .await;
    assert_eq!(fetched.amount, 400);
    let charge = stripe
        .ok(
            "retrieve refunded charge",
            &RetrieveCharge::new(charge.id.clone()),
            None,
        )
        .await;
    assert_eq!((charge.amount_refunded, charge.refunded), (2400, true));
}

#[tokio::test]
async fn typed_requests_on_a_connected_account_and_the_platform() {
    let _warnings = LibraryWarnings::capture();
    let emu = Emu::start().await;
    let platform = Stripe::new(&emu, SK_TEST);
    let account = emu.connect_account().await;
    let connected = platform.on_account(&account);
    platform_calls(&emu, &connected, "connected").await;
    platform_calls(&emu, &platform, "platform").await;

    // The account's objects are invisible to the platform, as at Stripe.
    let theirs = connected
        .ok("create product", &CreateProduct::new("Theirs"), None)
        .await;
    let (status, error) = platform
        .err("another account's product", &RetrieveProduct::new(theirs.id.clone()))
        .await;
    assert_eq!((status, error.code), (404, Some(ApiErrorsCode::ResourceMissing)));
    let (status, error) = platform
        .on_account("acct_unknown")
        .err("unknown account", &RetrieveProduct::new(theirs.id.clone()))
        .await;
    assert_eq!((status, error.code), (403, Some(ApiErrorsCode::AccountInvalid)));

    // Webhook endpoints: a Connect endpoint, as api-multi registers.
    let created = platform
        .ok(
            "create webhook endpoint",
            &CreateWebhookEndpoint::new(
                vec![
                    CreateWebhookEndpointEnabledEvents::CheckoutSessionCompleted,
                    CreateWebhookEndpointEnabledEvents::CustomerSubscriptionUpdated,
                ],
                "http://127.0.0.1:9/webhook/stripe",
            )
            .connect(true)
            .description("api-multi"),
            None,
        )
        .await;
    assert!(created.id.as_str().starts_with("we_"));
    assert!(created.secret.as_deref().unwrap_or_default().starts_with("whsec_"));
    assert_eq!(
        created.enabled_events,
        ["checkout.session.completed", "customer.subscription.updated"]
    );
    assert_eq!(created.status, "enabled");
    let fetched = platform
        .ok(
            "retrieve webhook endpoint",
            &RetrieveWebhookEndpoint::new(created.id.clone()),
            None,
        )
        .await;
    assert_eq!(fetched.url, "http://127.0.0.1:9/webhook/stripe");
    assert!(fetched.secret.is_none(), "the secret is shown only on create");
    let listed = platform
        .ok("list webhook endpoints", &ListWebhookEndpoint::new(), None)
        .await;
    assert_eq!(
        listed.data.iter().map(|w| w.id.as_str()).collect::<Vec<_>>(),
        [created.id.as_str()]
    );
    let deleted = platform
        .ok(
            "delete webhook endpoint",
            &DeleteWebhookEndpoint::new(created.id.clone()),
            None,
        )
        .await;
    assert_eq!(deleted.id, created.id);
    let listed = platform
        .ok("list webhook endpoints", &ListWebhookEndpoint::new(), None)
        .await;
    assert!(listed.data.is_empty());
}

/// Verifies and parses every delivery with async-stripe's `Webhook::construct_event`.
fn parse_all(secret: &str, received: &[Received]) -> Vec<Event> {
    received
        .iter()
        .map(|r| {
            let body = std::str::from_utf8(&r.body).expect("UTF-8 body");
            let event = Webhook::construct_event(body, &r.signature, secret)
                .unwrap_or_else(|e| panic!("async-stripe refuses a delivery ({e}): {body}"));
            LibraryWarnings::assert_none(event.type_.as_str(), body);
            // An event type the library does not know parses, silently, as `Unknown`.
            assert!(
                !matches!(event.data.object, EventObject::Unknown(_)),
                "{}: not parsed as its type",
                event.type_.as_str()
            );
            event
        })
        .collect()
}

async fn wait_for(receiver: &Receiver, count: usize, what: &str) -> Vec<Received> {
    for _ in 0..200 {
        let got = receiver.received();
        if got.len() >= count {
            return got;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("{what}: {} of {count} deliveries arrived", receiver.received().len());
}

fn of_type<'a>(events: &'a [Event], kind: &str) -> Vec<&'a Event> {
    events.iter().filter(|e| e.type_.as_str() == kind).collect()
}

fn subscriptions<'a>(events: &'a [Event], kind: &str) -> Vec<&'a Subscription> {
    of_type(events, kind)
        .into_iter()
        .map(|e| match &e.data.object {
            EventObject::CustomerSubscriptionCreated(s)
            | EventObject::CustomerSubscriptionUpdated(s)
            | EventObject::CustomerSubscriptionDeleted(s) => &**s,
            other => panic!("{kind} carries {other:?}"),
        })
        .collect()
}

#[tokio::test]
async fn deliveries_verify_and_parse_as_async_stripe_events() {
    let _warnings = LibraryWarnings::capture();
    let emu = Emu::start().await;
    let platform = Stripe::new(&emu, SK_TEST);
    let account = emu.connect_account().await;
    let connected = platform.on_account(&account);

    // Registered through the library: a Connect endpoint for every event type (api-multi),
    // and a platform endpoint for the billing events front-auth-api listens to.
    let (connect_rx, connect_url) = receiver(0).await;
    let connect_hook = platform
        .ok(
            "create Connect endpoint",
            &CreateWebhookEndpoint::new(vec![CreateWebhookEndpointEnabledEvents::All], connect_url).connect(true),
            None,
        )
        .await;
    let connect_secret = connect_hook.secret.expect("secret on create");
    let (platform_rx, platform_url) = receiver(0).await;
    let platform_hook = platform
        .ok(
            "create platform endpoint",
            &CreateWebhookEndpoint::new(
                vec![
                    CreateWebhookEndpointEnabledEvents::CheckoutSessionCompleted,
                    CreateWebhookEndpointEnabledEvents::CustomerSubscriptionCreated,
                    CreateWebhookEndpointEnabledEvents::CustomerSubscriptionUpdated,
                    CreateWebhookEndpointEnabledEvents::CustomerSubscriptionDeleted,
                    CreateWebhookEndpointEnabledEvents::InvoicePaid,
                    CreateWebhookEndpointEnabledEvents::InvoicePaymentFailed,
                ],
                platform_url,
            ),
            None,
        )
        .await;
    let platform_secret = platform_hook.secret.expect("secret on create");

    // On the connected account: the catalogue, a subscription through its whole life, a
    // guest purchase and an abandoned checkout.
    let product = connected.ok("create product", &CreateProduct::new("Pro"), None).await;
    let price = connected
        .ok(
            "create price",
            &CreatePrice::new(Currency::USD)
                .product(product.id.as_str())
                .unit_amount(900)
                .recurring(CreatePriceRecurring::new(CreatePriceRecurringInterval::Month)),
            None,
        )
        .await;
    let one_time = connected
        .ok(
            "create one-time price",
            &CreatePrice::new(Currency::USD)
                .product(product.id.as_str())
                .unit_amount(500),
            None,
        )
        .await;
    let mut subscription_data = CreateCheckoutSessionSubscriptionData::new();
    subscription_data.metadata = Some(meta(&[("plan", "pro")]));
    let session = connected
        .ok(
            "create subscription session",
            &CreateCheckoutSession::new()
                .mode(CheckoutSessionMode::Subscription)
                .line_items(vec![line(price.id.as_str(), 1)])
                .customer_email("sub@example.com")
                .client_reference_id("user_9")
                .success_url("http://localhost:5173/done")
                .subscription_data(subscription_data),
            Some("deliveries-checkout"),
        )
        .await;
    complete(&emu, &session).await;
    let paid = connected
        .ok(
            "retrieve session",
            &RetrieveCheckoutSession::new(session.id.clone()),
            None,
        )
        .await;
    let sub_id = paid.subscription.as_ref().expect("subscription").id().clone();
    connected
        .ok(
            "cancel at period end",
            &UpdateSubscription::new(sub_id.clone()).cancel_at_period_end(true),
            None,
        )
        .await;
    connected
        .ok(
            "undo cancel at period end",
            &UpdateSubscription::new(sub_id.clone()).cancel_at_period_end(false),
            None,
        )
        .await;
    control(&emu, &format!("/_emulator/subscriptions/{sub_id}/advance")).await;
    control(&emu, &format!("/_emulator/subscriptions/{sub_id}/fail_renewal")).await;
    control(&emu, &format!("/_emulator/subscriptions/{sub_id}/advance")).await;
    let mut payment_intent_data = CreateCheckoutSessionPaymentIntentData::new();
    payment_intent_data.metadata = Some(meta(&[("order", "7")]));
    let purchase = connected
        .ok(
            "create payment session",
            &CreateCheckoutSession::new()
                .mode(CheckoutSessionMode::Payment)
                .line_items(vec![line(one_time.id.as_str(), 3)])
                .customer_email("guest@example.com")
                .payment_intent_data(payment_intent_data)
                .success_url("http://localhost:5173/thanks"),
            None,
        )
        .await;
    complete(&emu, &purchase).await;
    let bought = connected
        .ok(
            "retrieve purchase",
            &RetrieveCheckoutSession::new(purchase.id.clone()),
            None,
        )
        .await;
    let purchase_pi = bought.payment_intent.as_ref().expect("payment intent").id().clone();
    connected
        .ok(
            "partial refund",
            &CreateRefund::new().payment_intent(purchase_pi.as_str()).amount(500),
            None,
        )
        .await;
    let (status, opened) = emu
        .control(
            &format!("/_emulator/payment_intents/{purchase_pi}/dispute"),
            json!({"reason": "product_not_received"}),
        )
        .await;
    assert_eq!(status, 200, "{opened}");
    let dispute_id = opened["id"].as_str().expect("dispute id").to_string();
    let (status, closed) = emu
        .control(
            &format!("/_emulator/disputes/{dispute_id}/close"),
            json!({"outcome": "won"}),
        )
        .await;
    assert_eq!(status, 200, "{closed}");
    let dispute = connected
        .ok("retrieve dispute", &RetrieveDispute::new(dispute_id.as_str()), None)
        .await;
    assert_eq!(
        (dispute.amount, dispute.status.clone(), dispute.reason.as_str()),
        (1000, DisputeStatus::Won, "product_not_received")
    );
    let disputes = connected
        .ok(
            "list disputes",
            &ListDispute::new().payment_intent(purchase_pi.as_str()),
            None,
        )
        .await;
    assert_eq!(disputes.data.len(), 1);
    let abandoned = connected
        .ok(
            "create session to expire",
            &CreateCheckoutSession::new()
                .mode(CheckoutSessionMode::Payment)
                .line_items(vec![line(one_time.id.as_str(), 1)])
                .success_url("http://localhost:5173/thanks"),
            None,
        )
        .await;
    connected
        .ok(
            "expire session",
            &ExpireCheckoutSession::new(abandoned.id.clone()),
            None,
        )
        .await;
    connected
        .ok(
            "deactivate price",
            &UpdatePrice::new(one_time.id.clone()).active(false),
            None,
        )
        .await;
    connected
        .ok(
            "archive product",
            &UpdateProduct::new(product.id.clone()).active(false),
            None,
        )
        .await;
    connected
        .ok("cancel subscription", &CancelSubscription::new(sub_id.clone()), None)
        .await;

    // On the platform: a developer subscribes to the platform's plan.
    let plan = platform
        .ok("create plan product", &CreateProduct::new("Dream API Pro"), None)
        .await;
    let plan_price = platform
        .ok(
            "create plan price",
            &CreatePrice::new(Currency::USD)
                .product(plan.id.as_str())
                .unit_amount(2900)
                .recurring(CreatePriceRecurring::new(CreatePriceRecurringInterval::Month)),
            None,
        )
        .await;
    let developer = platform
        .ok(
            "create developer",
            &CreateCustomer::new().email("dev@example.com"),
            None,
        )
        .await;
    let upgrade = platform
        .ok(
            "create platform session",
            &CreateCheckoutSession::new()
                .mode(CheckoutSessionMode::Subscription)
                .line_items(vec![line(plan_price.id.as_str(), 1)])
                .customer(developer.id.as_str())
                .success_url("http://localhost:5173/dashboard"),
            None,
        )
        .await;
    complete(&emu, &upgrade).await;

    // Every event the account recorded reaches the Connect endpoint and parses.
    let recorded = emu.events_of_type(SK_TEST, Some(&account), "*").await;
    let got = wait_for(&connect_rx, recorded.len(), "Connect endpoint").await;
    let events = parse_all(&connect_secret, &got);
    assert_eq!(events.len(), recorded.len());
    for event in &events {
        assert_eq!(
            event.account.as_deref(),
            Some(account.as_str()),
            "{}",
            event.type_.as_str()
        );
        assert!(!event.livemode);
        assert_eq!(event.api_version.as_ref(), Some(&stripe_client_core::VERSION));
    }
    let mut kinds: Vec<&str> = events.iter().map(|e| e.type_.as_str()).collect();
    kinds.sort_unstable();
    kinds.dedup();
    assert_eq!(
        kinds,
        [
            "charge.dispute.closed",
            "charge.dispute.created",
            "charge.dispute.funds_reinstated",
            "charge.dispute.funds_withdrawn",
            "charge.refunded",
            "charge.succeeded",
            "checkout.session.completed",
            "checkout.session.expired",
            "customer.created",
            "customer.subscription.created",
            "customer.subscription.deleted",
            "customer.subscription.updated",
            "invoice.created",
            "invoice.finalized",
            "invoice.paid",
            "invoice.payment_failed",
            "invoice.payment_succeeded",
            "payment_intent.payment_failed",
            "payment_intent.succeeded",
            "price.created",
            "price.updated",
            "product.created",
            "product.updated",
            "refund.created",
        ]
    );

    // The purchase's money: charged, a third refunded, the rest disputed and won.
    let charged: Vec<_> = of_type(&events, "charge.succeeded")
        .into_iter()
        .map(|e| match &e.data.object {
            EventObject::ChargeSucceeded(c) => c.clone(),
            other => panic!("{other:?}"),
        })
        .collect();
    assert_eq!(charged.len(), 4, "checkout, renewal, recovery, purchase");
    let bought = charged
        .iter()
        .find(|c| c.payment_intent.as_ref().map(|p| p.id()) == Some(&purchase_pi))
        .expect("the purchase's charge");
    assert_eq!(
        (bought.amount, bought.metadata.get("order").map(String::as_str)),
        (1500, Some("7"))
    );
    match &of_type(&events, "charge.refunded")[0].data.object {
        EventObject::ChargeRefunded(c) => {
            assert_eq!(
                (c.id.clone(), c.amount_refunded, c.refunded),
                (bought.id.clone(), 500, false)
            );
        }
        other => panic!("{other:?}"),
    }
    match &of_type(&events, "refund.created")[0].data.object {
        EventObject::RefundCreated(r) => assert_eq!(r.amount, 500),
        other => panic!("{other:?}"),
    }
    // In the order recorded (deliveries of separate changes may overtake each other).
    let recorded_order: Vec<&str> = recorded.iter().rev().filter_map(|e| e["id"].as_str()).collect();
    let mut in_order: Vec<&Event> = events.iter().collect();
    in_order.sort_by_key(|e| recorded_order.iter().position(|id| *id == e.id.as_str()));
    let disputed: Vec<(&str, DisputeStatus, i64)> = in_order
        .iter()
        .filter_map(|e| match &e.data.object {
            EventObject::ChargeDisputeCreated(d)
            | EventObject::ChargeDisputeFundsWithdrawn(d)
            | EventObject::ChargeDisputeFundsReinstated(d)
            | EventObject::ChargeDisputeClosed(d) => Some((e.type_.as_str(), d.status.clone(), d.amount)),
            _ => None,
        })
        .collect();
    assert_eq!(
        disputed,
        [
            ("charge.dispute.created", DisputeStatus::NeedsResponse, 1000),
            ("charge.dispute.funds_withdrawn", DisputeStatus::NeedsResponse, 1000),
            ("charge.dispute.funds_reinstated", DisputeStatus::Won, 1000),
            ("charge.dispute.closed", DisputeStatus::Won, 1000),
        ]
    );

    // Checkout sessions: the subscription and the guest purchase complete, one expires.
    let completed: Vec<&CheckoutSession> = of_type(&events, "checkout.session.completed")
        .into_iter()
        .map(|e| match &e.data.object {
            EventObject::CheckoutSessionCompleted(s) => &**s,
            other => panic!("{other:?}"),
        })
        .collect();
    assert_eq!(completed.len(), 2);
    let sub_session = completed
        .iter()
        .find(|s| s.id == session.id)
        .expect("subscription session");
    assert_eq!(sub_session.payment_status, CheckoutSessionPaymentStatus::Paid);
    assert_eq!(sub_session.status, Some(CheckoutSessionStatus::Complete));
    assert_eq!(sub_session.client_reference_id.as_deref(), Some("user_9"));
    assert_eq!(sub_session.subscription.as_ref().map(|s| s.id()), Some(&sub_id));
    assert!(sub_session.customer.is_some());
    let guest = completed.iter().find(|s| s.id == purchase.id).expect("payment session");
    assert_eq!(guest.amount_total, Some(1500));
    assert!(guest.customer.is_none(), "guest checkout creates no customer");
    let details = guest.customer_details.as_ref().expect("customer_details");
    assert_eq!(details.email.as_deref(), Some("guest@example.com"));
    match &of_type(&events, "checkout.session.expired")[0].data.object {
        EventObject::CheckoutSessionExpired(s) => {
            assert_eq!(
                (&s.id, s.status.clone()),
                (&abandoned.id, Some(CheckoutSessionStatus::Expired))
            );
        }
        other => panic!("{other:?}"),
    }

    // The subscription's life: created active, the two cancel-at-period-end flips (with
    // what they changed), past due after the failed renewal, active again, then canceled.
    let created = subscriptions(&events, "customer.subscription.created");
    assert_eq!(created.len(), 1);
    assert_eq!(
        (&created[0].id, created[0].status.clone()),
        (&sub_id, SubscriptionStatus::Active)
    );
    assert_eq!(created[0].metadata, meta(&[("plan", "pro")]));
    assert_eq!(created[0].items.data[0].price.id, price.id);
    let updates = of_type(&events, "customer.subscription.updated");
    let flipped = updates
        .iter()
        .find(|e| match &e.data.object {
            EventObject::CustomerSubscriptionUpdated(s) => s.cancel_at_period_end,
            _ => false,
        })
        .expect("an update setting cancel_at_period_end");
    let previous = format!("{:?}", flipped.data.previous_attributes);
    assert!(previous.contains("cancel_at_period_end"), "{previous}");
    let statuses: Vec<SubscriptionStatus> = subscriptions(&events, "customer.subscription.updated")
        .iter()
        .map(|s| s.status.clone())
        .collect();
    assert!(statuses.contains(&SubscriptionStatus::PastDue), "{statuses:?}");
    assert_eq!(statuses.last(), Some(&SubscriptionStatus::Active));
    let deleted = subscriptions(&events, "customer.subscription.deleted");
    assert_eq!(
        (&deleted[0].id, deleted[0].status.clone()),
        (&sub_id, SubscriptionStatus::Canceled)
    );

    // Invoices and payment intents: paid at checkout and renewals, one failed renewal.
    let invoices_paid: Vec<_> = of_type(&events, "invoice.paid")
        .into_iter()
        .map(|e| match &e.data.object {
            EventObject::InvoicePaid(i) => i.clone(),
            other => panic!("{other:?}"),
        })
        .collect();
    assert_eq!(invoices_paid.len(), 3, "checkout, renewal, recovery");
    for invoice in &invoices_paid {
        assert_eq!(invoice.status, Some(InvoiceStatus::Paid));
        assert_eq!((invoice.amount_paid, invoice.amount_remaining), (900, 0));
        assert_eq!(invoice.lines.data[0].amount, 900);
    }
    match &of_type(&events, "invoice.payment_failed")[0].data.object {
        EventObject::InvoicePaymentFailed(i) => {
            assert_eq!(i.status, Some(InvoiceStatus::Open));
            assert_eq!((i.amount_due, i.amount_paid), (900, 0));
            assert!(i.attempted);
        }
        other => panic!("{other:?}"),
    }
    match &of_type(&events, "payment_intent.payment_failed")[0].data.object {
        EventObject::PaymentIntentPaymentFailed(p) => {
            assert_eq!(p.status, PaymentIntentStatus::RequiresPaymentMethod);
            let error = p.last_payment_error.as_ref().expect("last_payment_error");
            assert_eq!(error.type_, ApiErrorsType::CardError);
            assert_eq!(error.code, Some(ApiErrorsCode::CardDeclined));
        }
        other => panic!("{other:?}"),
    }
    let succeeded: Vec<_> = of_type(&events, "payment_intent.succeeded")
        .into_iter()
        .map(|e| match &e.data.object {
            EventObject::PaymentIntentSucceeded(p) => p.clone(),
            other => panic!("{other:?}"),
        })
        .collect();
    assert!(succeeded.iter().all(|p| p.status == PaymentIntentStatus::Succeeded));
    let order = succeeded
        .iter()
        .find(|p| p.metadata.get("order").map(String::as_str) == Some("7"))
        .expect("the purchase's payment intent carries payment_intent_data.metadata");
    assert_eq!(order.amount, 1500);

    // The catalogue's events.
    match &of_type(&events, "product.updated")[0].data.object {
        EventObject::ProductUpdated(p) => assert_eq!((&p.id, p.active), (&product.id, false)),
        other => panic!("{other:?}"),
    }
    match &of_type(&events, "price.updated")[0].data.object {
        EventObject::PriceUpdated(p) => assert_eq!((&p.id, p.active), (&one_time.id, false)),
        other => panic!("{other:?}"),
    }
    assert_eq!(of_type(&events, "price.created").len(), 2);

    // The platform endpoint gets only the platform's own billing events.
    let expected = [
        "checkout.session.completed",
        "customer.subscription.created",
        "invoice.paid",
    ];
    wait_for(&platform_rx, expected.len(), "platform endpoint").await;
    // Long enough for a delivery that should not happen to arrive.
    tokio::time::sleep(Duration::from_millis(200)).await;
    let events = parse_all(&platform_secret, &platform_rx.received());
    let mut kinds: Vec<&str> = events.iter().map(|e| e.type_.as_str()).collect();
    kinds.sort_unstable();
    assert_eq!(kinds, expected);
    for event in &events {
        assert!(event.account.is_none());
        match &event.data.object {
            EventObject::CheckoutSessionCompleted(s) => assert_eq!(s.id, upgrade.id),
            EventObject::CustomerSubscriptionCreated(s) => assert_eq!(s.customer.id(), &developer.id),
            EventObject::InvoicePaid(i) => assert_eq!(i.amount_paid, 2900),
            other => panic!("{other:?}"),
        }
    }

    // A signature made with another secret, or over another body, is refused.
    let first = &platform_rx.received()[0];
    let body = std::str::from_utf8(&first.body).expect("UTF-8");
    assert!(matches!(
        Webhook::construct_event(body, &first.signature, &connect_secret),
        Err(WebhookError::BadSignature)
    ));
    assert!(matches!(
        Webhook::construct_event(&format!("{body} "), &first.signature, &platform_secret),
        Err(WebhookError::BadSignature)
    ));
}

/// Usage-based billing as the platform drives it, through the library's typed requests and
/// responses: a meter, a metered price on it beside a flat one, a subscription checkout with
/// no quantity for the metered line, meter events (a retried identifier refused), their
/// summary, and the renewal invoice's overage line parsed from its webhook.
#[tokio::test]
async fn metered_billing_through_typed_requests() {
    let _warnings = LibraryWarnings::capture();
    let emu = Emu::start().await;
    let platform = Stripe::new(&emu, SK_TEST);
    let account = emu.connect_account().await;
    let connected = platform.on_account(&account);
    let (hook_rx, hook_url) = receiver(0).await;
    let hook = platform
        .ok(
            "create Connect endpoint",
            &CreateWebhookEndpoint::new(vec![CreateWebhookEndpointEnabledEvents::InvoicePaid], hook_url).connect(true),
            None,
        )
        .await;
    let secret = hook.secret.expect("secret on create");

    // The meter, renamed, listed, deactivated and back.
    let meter = connected
        .ok(
            "create meter",
            &CreateBillingMeter::new(
                CreateBillingMeterDefaultAggregation::new(CreateBillingMeterDefaultAggregationFormula::Sum),
                "API requests",
                "api_requests",
            )
            .customer_mapping(CreateBillingMeterCustomerMapping::new(
                "stripe_customer_id",
                CreateBillingMeterCustomerMappingType::ById,
            ))
            .value_settings(CreateBillingMeterValueSettings::new("value")),
            Some("meter-1"),
        )
        .await;
    assert!(meter.id.as_str().starts_with("mtr_test_"), "{:?}", meter.id);
    assert_eq!(
        (meter.status.clone(), meter.default_aggregation.formula.clone()),
        (
            BillingMeterStatus::Active,
            BillingMeterResourceAggregationSettingsFormula::Sum
        )
    );
    assert_eq!(meter.customer_mapping.event_payload_key, "stripe_customer_id");
    assert_eq!(meter.value_settings.event_payload_key, "value");
    assert!(meter.event_time_window.is_none() && meter.status_transitions.deactivated_at.is_none());
    let renamed = connected
        .ok(
            "rename meter",
            &UpdateBillingMeter::new(meter.id.clone()).display_name("Requests"),
            None,
        )
        .await;
    assert_eq!(renamed.display_name, "Requests");
    let off = connected
        .ok("deactivate meter", &DeactivateBillingMeter::new(meter.id.clone()), None)
        .await;
    assert_eq!(off.status, BillingMeterStatus::Inactive);
    assert!(off.status_transitions.deactivated_at.is_some());
    let inactive = connected
        .ok(
            "list inactive meters",
            &ListBillingMeter::new().status(BillingMeterStatus::Inactive),
            None,
        )
        .await;
    assert_eq!(inactive.data.len(), 1);
    connected
        .ok("reactivate meter", &ReactivateBillingMeter::new(meter.id.clone()), None)
        .await;
    let fetched = connected
        .ok("retrieve meter", &RetrieveBillingMeter::new(meter.id.clone()), None)
        .await;
    assert_eq!(
        (fetched.status, fetched.event_name.as_str()),
        (BillingMeterStatus::Active, "api_requests")
    );

    // The tier's flat price and its overage: 2.00 USD per started 1,000 requests.
    let product = connected.ok("create product", &CreateProduct::new("Pro"), None).await;
    let flat = connected
        .ok(
            "create flat price",
            &CreatePrice::new(Currency::USD)
                .product(product.id.as_str())
                .unit_amount(1999)
                .recurring(CreatePriceRecurring::new(CreatePriceRecurringInterval::Month)),
            None,
        )
        .await;
    let mut recurring = CreatePriceRecurring::new(CreatePriceRecurringInterval::Month);
    recurring.usage_type = Some(CreatePriceRecurringUsageType::Metered);
    recurring.meter = Some(meter.id.to_string());
    let overage = connected
        .ok(
            "create metered price",
            &CreatePrice::new(Currency::USD)
                .product(product.id.as_str())
                .unit_amount_decimal("200")
                .billing_scheme(PriceBillingScheme::PerUnit)
                .transform_quantity(CreatePriceTransformQuantity::new(
                    1000,
                    CreatePriceTransformQuantityRound::Up,
                ))
                .recurring(recurring),
            None,
        )
        .await;
    let metered = overage.recurring.as_ref().expect("recurring");
    assert_eq!(
        (metered.usage_type.clone(), metered.meter.as_deref()),
        (RecurringUsageType::Metered, Some(meter.id.as_str()))
    );
    let transform = overage.transform_quantity.as_ref().expect("transform_quantity");
    assert_eq!(
        (transform.divide_by, transform.round.clone()),
        (1000, TransformQuantityRound::Up)
    );
    assert_eq!(
        (overage.unit_amount, overage.unit_amount_decimal.as_deref()),
        (Some(200), Some("200"))
    );
    let tenth = connected
        .ok(
            "create sub-cent price",
            &CreatePrice::new(Currency::USD)
                .product(product.id.as_str())
                .unit_amount_decimal("0.2")
                .recurring(CreatePriceRecurring::new(CreatePriceRecurringInterval::Month)),
            None,
        )
        .await;
    assert_eq!(
        (tenth.unit_amount, tenth.unit_amount_decimal.as_deref()),
        (None, Some("0.2"))
    );

    // Checkout: the metered line has no quantity.
    let mut usage_line = CreateCheckoutSessionLineItems::new();
    usage_line.price = Some(overage.id.to_string());
    let session = connected
        .ok(
            "create metered session",
            &CreateCheckoutSession::new()
                .mode(CheckoutSessionMode::Subscription)
                .line_items(vec![line(flat.id.as_str(), 1), usage_line])
                .customer_email("usage@example.com")
                .success_url("http://localhost:5173/done"),
            None,
        )
        .await;
    assert_eq!(session.amount_total, Some(1999));
    complete(&emu, &session).await;
    let paid = connected
        .ok(
            "retrieve session",
            &RetrieveCheckoutSession::new(session.id.clone()),
            None,
        )
        .await;
    let sub_id = paid.subscription.as_ref().expect("subscription").id().clone();
    let customer = paid.customer.as_ref().expect("customer").id().to_string();
    let sub = connected
        .ok(
            "retrieve subscription",
            &RetrieveSubscription::new(sub_id.clone()),
            None,
        )
        .await;
    let usage_item = (sub.items.data.iter())
        .find(|i| i.price.id == overage.id)
        .expect("the metered item");
    assert_eq!(usage_item.quantity, None, "a metered item has no quantity");
    assert_eq!(usage_item.plan.usage_type, stripe_shared::PlanUsageType::Metered);

    // Usage: 15,000 requests beyond the tier, one batch retried with its identifier.
    let started = now();
    let report = |identifier: &str| {
        CreateBillingMeterEvent::new(
            "api_requests",
            meta(&[("stripe_customer_id", customer.as_str()), ("value", "5000")]),
        )
        .identifier(identifier)
        .timestamp(started)
    };
    for batch in ["b-1", "b-2", "b-3"] {
        let event = connected.ok("report usage", &report(batch), None).await;
        assert_eq!(
            (event.identifier.as_str(), event.event_name.as_str(), event.timestamp),
            (batch, "api_requests", started)
        );
        assert_eq!(event.payload.get("value").map(String::as_str), Some("5000"));
    }
    let (status, error) = connected.err("report a batch again", &report("b-2")).await;
    assert_eq!(
        (status, error.type_.clone(), error.code.clone()),
        (400, ApiErrorsType::InvalidRequestError, None)
    );
    assert_eq!(
        error.message.as_deref(),
        Some("An event already exists with identifier b-2.")
    );
    let from = started / 60 * 60;
    let summaries = connected
        .ok(
            "list event summaries",
            &ListIdBillingMeterEventSummary::new(meter.id.clone(), customer.as_str(), from + 3600, from),
            None,
        )
        .await;
    assert_eq!(summaries.data.len(), 1);
    let summary = &summaries.data[0];
    assert_eq!(
        (
            summary.aggregated_value,
            summary.start_time,
            summary.end_time,
            summary.meter.as_str()
        ),
        (15_000.0, from, from + 3600, meter.id.as_str())
    );
    let hourly = connected
        .ok(
            "list hourly summaries",
            &ListIdBillingMeterEventSummary::new(
                meter.id.clone(),
                customer.as_str(),
                (from / 3600 + 1) * 3600,
                from / 3600 * 3600,
            )
            .value_grouping_window(ListIdBillingMeterEventSummaryValueGroupingWindow::Hour),
            None,
        )
        .await;
    assert_eq!(hourly.data.len(), 1);

    // The renewal bills it; its invoice.paid webhook parses with the overage line.
    control(&emu, &format!("/_emulator/subscriptions/{sub_id}/advance")).await;
    let got = wait_for(&hook_rx, 2, "invoice.paid of checkout and renewal").await;
    let events = parse_all(&secret, &got);
    let renewal = events
        .iter()
        .filter_map(|e| match &e.data.object {
            EventObject::InvoicePaid(i) => Some(i),
            _ => None,
        })
        .find(|i| i.billing_reason == Some(stripe_shared::InvoiceBillingReason::SubscriptionCycle))
        .expect("the renewal's invoice.paid");
    assert_eq!(renewal.amount_paid, 1999 + 3000);
    let line = (renewal.lines.data.iter())
        .find(|l| {
            let details = l.pricing.as_ref().and_then(|p| p.price_details.as_ref());
            details.is_some_and(|d| d.price.id() == &overage.id)
        })
        .expect("the overage line");
    assert_eq!((line.quantity, line.amount), (Some(15_000), 3000));
    assert!(line.period.end - line.period.start >= 28 * 86_400);
}

/// A response body the library has no request type for here (coupons and promotion codes: the
/// platform creates none), parsed with its object type as its client would.
fn typed<T: miniserde::Deserialize>(what: &str, body: &serde_json::Value) -> T {
    let text = body.to_string();
    let parsed = miniserde::json::from_str::<T>(&text).unwrap_or_else(|e| panic!("{what}: unparsable ({e}): {text}"));
    LibraryWarnings::assert_none(what, &text);
    parsed
}

#[tokio::test]
async fn trials_and_discounts_parse_as_async_stripe_objects_and_events() {
    let _warnings = LibraryWarnings::capture();
    let emu = Emu::start().await;
    let platform = Stripe::new(&emu, SK_TEST);
    let (rx, url) = receiver(0).await;
    let hook = platform
        .ok(
            "create endpoint",
            &CreateWebhookEndpoint::new(vec![CreateWebhookEndpointEnabledEvents::All], url),
            None,
        )
        .await;
    let secret = hook.secret.expect("secret on create");
    let product = platform.ok("create product", &CreateProduct::new("Pro"), None).await;
    let price = platform
        .ok(
            "create price",
            &CreatePrice::new(Currency::USD)
                .product(product.id.as_str())
                .unit_amount(2500)
                .recurring(CreatePriceRecurring::new(CreatePriceRecurringInterval::Month)),
            None,
        )
        .await;

    let (status, body) = emu
        .post(
            "/v1/coupons",
            SK_TEST,
            &[("id", "TWENTY"), ("percent_off", "20"), ("duration", "forever")],
        )
        .await;
    assert_eq!(status, 200, "{body}");
    let coupon: stripe_shared::Coupon = typed("coupon", &body);
    assert_eq!((coupon.percent_off, coupon.valid), (Some(20.0), true));
    let (status, body) = emu
        .post(
            "/v1/promotion_codes",
            SK_TEST,
            &[
                ("promotion[type]", "coupon"),
                ("promotion[coupon]", "TWENTY"),
                ("code", "SAVE20"),
            ],
        )
        .await;
    assert_eq!(status, 200, "{body}");
    let promo: stripe_shared::PromotionCode = typed("promotion code", &body);
    assert_eq!(promo.promotion.coupon.as_ref().map(|c| c.id().as_str()), Some("TWENTY"));
    let (status, body) = emu
        .post(
            &format!("/v1/promotion_codes/{}", promo.id),
            SK_TEST,
            &[("metadata[batch]", "1")],
        )
        .await;
    assert_eq!(status, 200, "{body}");

    // A 14-day trial without a card, paused at its end if none is added, with the code.
    let mut data = CreateCheckoutSessionSubscriptionData::new();
    data.trial_period_days = Some(14);
    data.trial_settings = Some(CreateCheckoutSessionSubscriptionDataTrialSettings::new(
        CreateCheckoutSessionSubscriptionDataTrialSettingsEndBehavior::new(
            CreateCheckoutSessionSubscriptionDataTrialSettingsEndBehaviorMissingPaymentMethod::Pause,
        ),
    ));
    let mut discount = CreateCheckoutSessionDiscounts::new();
    discount.promotion_code = Some(promo.id.to_string());
    let session = platform
        .ok(
            "create trial session",
            &CreateCheckoutSession::new()
                .mode(CheckoutSessionMode::Subscription)
                .line_items(vec![line(price.id.as_str(), 1)])
                .customer_email("trial@example.com")
                .payment_method_collection(CreateCheckoutSessionPaymentMethodCollection::IfRequired)
                .discounts(vec![discount])
                .subscription_data(data),
            None,
        )
        .await;
    assert_eq!(
        session.payment_method_collection.as_ref().map(|p| p.as_str()),
        Some("if_required")
    );
    complete(&emu, &session).await;
    let done = platform
        .ok(
            "retrieve session",
            &RetrieveCheckoutSession::new(session.id.clone()),
            None,
        )
        .await;
    assert_eq!(done.payment_status, CheckoutSessionPaymentStatus::NoPaymentRequired);
    let applied = done.discounts.as_deref().unwrap_or_default();
    assert_eq!(
        applied.first().and_then(|d| d.coupon.as_ref()).map(|c| c.id().as_str()),
        Some("TWENTY")
    );
    let sub_id = done.subscription.as_ref().expect("subscription").id().clone();
    let sub = platform
        .ok(
            "retrieve subscription with its discounts",
            &RetrieveSubscription::new(sub_id.clone()).expand(vec!["discounts".to_string()]),
            None,
        )
        .await;
    assert_eq!(sub.status, SubscriptionStatus::Trialing);
    assert!(sub.trial_end.is_some() && sub.default_payment_method.is_none());
    let discount = sub
        .discounts
        .first()
        .and_then(|d| d.as_object())
        .expect("an expanded discount");
    assert_eq!(discount.source.coupon.as_ref().map(|c| c.id().as_str()), Some("TWENTY"));
    assert_eq!(
        discount.promotion_code.as_ref().map(|p| p.id().as_str()),
        Some(promo.id.as_str())
    );
    let listed = platform
        .ok(
            "list subscriptions with their discounts",
            &ListSubscription::new().expand(vec!["data.discounts".to_string()]),
            None,
        )
        .await;
    assert!(listed.data[0].discounts[0].is_object());

    control(&emu, &format!("/_emulator/subscriptions/{sub_id}/trial_will_end")).await;
    control(&emu, &format!("/_emulator/subscriptions/{sub_id}/advance")).await;
    let (status, body) = emu.delete("/v1/coupons/TWENTY", SK_TEST).await;
    assert_eq!(status, 200, "{body}");

    let (_, recorded) = emu.get("/v1/events", SK_TEST, &[("limit", "100")]).await;
    let count = recorded["data"].as_array().map_or(0, Vec::len);
    let events = parse_all(&secret, &wait_for(&rx, count, "trial and discount events").await);
    for kind in [
        "coupon.created",
        "coupon.deleted",
        "promotion_code.created",
        "promotion_code.updated",
        "customer.subscription.created",
        "customer.subscription.trial_will_end",
        "customer.subscription.paused",
        "invoice.paid",
        "checkout.session.completed",
    ] {
        assert_eq!(of_type(&events, kind).len(), 1, "{kind}");
    }
    match &of_type(&events, "customer.subscription.paused")[0].data.object {
        EventObject::CustomerSubscriptionPaused(s) => assert_eq!(s.status, SubscriptionStatus::Paused),
        other => panic!("customer.subscription.paused carries {other:?}"),
    }
}

/// Automatic tax as the platform would ask for it, built by the library's typed requests: an
/// exclusive price, a subscription checkout for an existing customer with
/// `customer_update[address]=auto` and a guest cart in payment mode; the taxed session, line
/// items, subscription, customer, invoice and tax rate parsed with the library's types, and
/// the taxed `invoice.paid` parsed from its delivery.
#[tokio::test]
async fn automatic_tax_parses_as_async_stripe_objects_and_events() {
    let _warnings = LibraryWarnings::capture();
    let emu = Emu::start().await;
    let platform = Stripe::new(&emu, SK_TEST);
    let (rx, url) = receiver(0).await;
    let hook = platform
        .ok(
            "create endpoint",
            &CreateWebhookEndpoint::new(vec![CreateWebhookEndpointEnabledEvents::All], url),
            None,
        )
        .await;
    let secret = hook.secret.expect("secret on create");
    let product = platform.ok("create product", &CreateProduct::new("Pro"), None).await;
    let monthly = platform
        .ok(
            "create a taxed price",
            &CreatePrice::new(Currency::EUR)
                .product(product.id.as_str())
                .unit_amount(999)
                .tax_behavior(PriceTaxBehavior::Exclusive)
                .recurring(CreatePriceRecurring::new(CreatePriceRecurringInterval::Month)),
            None,
        )
        .await;
    assert_eq!(monthly.tax_behavior, Some(PriceTaxBehavior::Exclusive));
    let customer = platform
        .ok(
            "create customer",
            &CreateCustomer::new().email("steuer@example.com"),
            None,
        )
        .await;

    let mut update = CreateCheckoutSessionCustomerUpdate::new();
    update.address = Some(CreateCheckoutSessionCustomerUpdateAddress::Auto);
    let session = platform
        .ok(
            "create a taxed subscription session",
            &CreateCheckoutSession::new()
                .mode(CheckoutSessionMode::Subscription)
                .line_items(vec![line(monthly.id.as_str(), 1)])
                .customer(customer.id.as_str())
                .customer_update(update)
                .automatic_tax(CreateCheckoutSessionAutomaticTax::new(true)),
            None,
        )
        .await;
    assert!(session.automatic_tax.enabled);
    assert_eq!(
        session.automatic_tax.status,
        Some(PaymentPagesCheckoutSessionAutomaticTaxStatus::RequiresLocationInputs)
    );
    let (status, body) = emu
        .control(
            &format!("/_emulator/checkout/sessions/{}/complete", session.id),
            json!({"country": "DE", "postal_code": "10115"}),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    let done = platform
        .ok(
            "retrieve the taxed session",
            &RetrieveCheckoutSession::new(session.id.clone()).expand(vec!["line_items".to_string()]),
            None,
        )
        .await;
    assert_eq!(
        done.automatic_tax.status,
        Some(PaymentPagesCheckoutSessionAutomaticTaxStatus::Complete)
    );
    assert_eq!((done.amount_subtotal, done.amount_total), (Some(999), Some(1189)));
    assert_eq!(done.total_details.as_ref().map(|t| t.amount_tax), Some(190));
    let address = done.customer_details.as_ref().and_then(|d| d.address.as_ref());
    assert_eq!(address.and_then(|a| a.country.as_deref()), Some("DE"));
    let items = done.line_items.as_ref().expect("line_items expanded");
    assert_eq!((items.data[0].amount_tax, items.data[0].amount_total), (190, 1189));

    let sub_id = done.subscription.as_ref().expect("subscription").id().clone();
    let sub = platform
        .ok(
            "retrieve the taxed subscription",
            &RetrieveSubscription::new(sub_id.clone()),
            None,
        )
        .await;
    assert!(sub.automatic_tax.enabled);
    match platform
        .ok(
            "retrieve the customer",
            &RetrieveCustomer::new(customer.id.clone()),
            None,
        )
        .await
    {
        RetrieveCustomerReturned::Customer(c) => {
            assert_eq!(c.address.and_then(|a| a.country).as_deref(), Some("DE"));
        }
        RetrieveCustomerReturned::DeletedCustomer(c) => panic!("a live customer parsed as deleted: {c:?}"),
    }
    let invoice_id = done
        .invoice
        .as_ref()
        .expect("invoice")
        .id()
        .clone()
        .expect("invoice id");
    let (status, body) = emu.get(&format!("/v1/invoices/{invoice_id}"), SK_TEST, &[]).await;
    assert_eq!(status, 200, "{body}");
    let invoice: stripe_shared::Invoice = typed("taxed invoice", &body);
    assert_eq!((invoice.total, invoice.total_excluding_tax), (1189, Some(999)));
    assert_eq!(
        invoice.automatic_tax.status,
        Some(stripe_shared::AutomaticTaxStatus::Complete)
    );
    let tax = &invoice.total_taxes.as_deref().expect("total_taxes")[0];
    assert_eq!(
        (
            &tax.amount,
            &tax.tax_behavior,
            &tax.taxability_reason,
            &tax.taxable_amount
        ),
        (
            &190,
            &BillingBillResourceInvoicingTaxesTaxTaxBehavior::Exclusive,
            &BillingBillResourceInvoicingTaxesTaxTaxabilityReason::StandardRated,
            &Some(999)
        )
    );
    let line_taxes = invoice.lines.data[0].taxes.as_deref().expect("line taxes");
    assert_eq!(line_taxes[0].amount, 190);
    let rate_id = tax
        .tax_rate_details
        .as_ref()
        .expect("tax_rate_details")
        .tax_rate
        .id()
        .clone();
    let (status, body) = emu.get(&format!("/v1/tax_rates/{rate_id}"), SK_TEST, &[]).await;
    assert_eq!(status, 200, "{body}");
    let rate: stripe_shared::TaxRate = typed("tax rate", &body);
    assert_eq!(
        (rate.percentage, rate.country.as_deref(), rate.inclusive),
        (19.0, Some("DE"), false)
    );
    control(&emu, &format!("/_emulator/subscriptions/{sub_id}/advance")).await;

    // A guest cart in payment mode, its billing address required.
    let once = platform
        .ok(
            "create a one-time taxed price",
            &CreatePrice::new(Currency::EUR)
                .product(product.id.as_str())
                .unit_amount(1000)
                .tax_behavior(PriceTaxBehavior::Inclusive),
            None,
        )
        .await;
    let cart = platform
        .ok(
            "create a taxed cart",
            &CreateCheckoutSession::new()
                .mode(CheckoutSessionMode::Payment)
                .line_items(vec![line(once.id.as_str(), 2)])
                .billing_address_collection(CheckoutSessionBillingAddressCollection::Required)
                .automatic_tax(CreateCheckoutSessionAutomaticTax::new(true)),
            None,
        )
        .await;
    let (status, body) = emu
        .control(
            &format!("/_emulator/checkout/sessions/{}/complete", cart.id),
            json!({"country": "IT", "email": "ospite@example.com"}),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    let paid = platform
        .ok(
            "retrieve the cart",
            &RetrieveCheckoutSession::new(cart.id.clone()),
            None,
        )
        .await;
    // 20.00 with 22 % in it: 3.61 of tax.
    assert_eq!(paid.amount_total, Some(2000));
    assert_eq!(paid.total_details.as_ref().map(|t| t.amount_tax), Some(361));

    let (_, recorded) = emu.get("/v1/events", SK_TEST, &[("limit", "100")]).await;
    let count = recorded["data"].as_array().map_or(0, Vec::len);
    let events = parse_all(&secret, &wait_for(&rx, count, "taxed events").await);
    let taxed: Vec<i64> = of_type(&events, "invoice.paid")
        .iter()
        .map(|e| match &e.data.object {
            EventObject::InvoicePaid(i) => i.total_taxes.as_deref().map_or(0, |t| t[0].amount),
            other => panic!("invoice.paid carries {other:?}"),
        })
        .collect();
    assert_eq!(taxed, vec![190, 190]);
    assert_eq!(of_type(&events, "customer.updated").len(), 1);
}
