//! Every write flow that calls Stripe or Clerk, under injected failures (`/_emulator/faults`):
//! the caller gets a 502/503 JSON error with the request id, nothing is left half-written (or
//! it is taken off sale again, which the test checks), and the same request once the fault is
//! gone succeeds and does its work once. Webhook handlers that fail half-way (Stripe or Clerk
//! failing after the event arrived, before or after the D1 write) end in the right state, applied
//! once, after Stripe's redelivery.
//!
//! Faults are narrowed to each test's connected account where Stripe sees one; the platform's
//! own calls and Clerk's have none, so the tests of this file take turns.

use dream_core::mode::Mode;
use e2e::{
    Reply, TestEnv,
    customers::{ProjectApi, clerk_plan, metric},
    journey::{self, Developer, StripeEmulator, TestProject},
};
use reqwest::Method;
use serde_json::{Value, json};

static ONE_AT_A_TIME: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

/// Both of the Stripe client's attempts fail the same way.
const BOTH_ATTEMPTS: u32 = 2;

fn assert_upstream_error(reply: &Reply, code: &str, status: u16) {
    assert_eq!((reply.status, reply.error_code()), (status, code), "{:?}", reply.body);
}

async fn products_on(stripe: &StripeEmulator, account: &str, mode: Mode) -> Vec<Value> {
    let reply = stripe.get("/products?limit=100", mode, Some(account)).await;
    reply.body["data"].as_array().cloned().unwrap_or_default()
}

async fn active_products(stripe: &StripeEmulator, account: &str, mode: Mode) -> usize {
    let products = products_on(stripe, account, mode).await;
    products.iter().filter(|p| p["active"] == true).count()
}

async fn project_count(developer: &Developer) -> usize {
    let reply = developer.front(Method::GET, "/projects", None).await;
    reply.body["projects"].as_array().map_or(0, Vec::len)
}

#[tokio::test]
async fn project_creation_fails_cleanly_and_a_retry_creates_it_once() {
    let _turn = ONE_AT_A_TIME.lock().await;
    let env = TestEnv::get();
    let stripe = StripeEmulator::new(&env);
    let developer = journey::onboarded_developer(&env, "fault-create").await.unwrap();
    let account = developer.stripe_account().await.unwrap();
    let body = journey::saas_body(
        "Faulty",
        &[
            ("free", Some(10), 0.0),
            ("pro", Some(100), 9.99),
            ("max", Some(1000), 19.99),
        ],
    );
    for kind in ["error", "drop"] {
        // The first paid tier's product is made, then its price fails: that product must not
        // stay on sale in the developer's Stripe catalogue.
        stripe
            .fault(json!({"path": "/v1/prices", "method": "POST", "kind": kind, "count": BOTH_ATTEMPTS, "account": account}))
            .await;
        let reply = developer.create_project(body.clone()).await;
        assert_upstream_error(&reply, "stripe_error", 502);
        stripe.clear_faults().await;
        assert_eq!(project_count(&developer).await, 0, "{kind}: no project");
        assert_eq!(
            active_products(&stripe, &account, Mode::Test).await,
            0,
            "{kind}: nothing on sale"
        );
    }
    let created = developer.create_project(body).await;
    assert_eq!(created.status, 200, "{:?}", created.body);
    assert_eq!(project_count(&developer).await, 1);
    assert_eq!(
        active_products(&stripe, &account, Mode::Test).await,
        2,
        "pro and max, once"
    );
}

#[tokio::test]
async fn a_tier_edit_and_a_promotion_fail_cleanly_and_succeed_on_retry() {
    let _turn = ONE_AT_A_TIME.lock().await;
    let env = TestEnv::get();
    let stripe = StripeEmulator::new(&env);
    let (developer, project) = journey::saas_project(&env, &[("free", Some(10), 0.0), ("pro", Some(100), 9.99)]).await;
    let account = developer.stripe_account().await.unwrap();
    let tiers = |developer: Developer, pk: String| async move {
        developer
            .oauth(Method::GET, &format!("/tiers?publishableKey={pk}"), None)
            .await
            .body["tiers"]
            .clone()
    };
    let before = tiers(developer.clone(), project.publishable_key.clone()).await;
    let pro = before
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["name"] == "pro")
        .unwrap()
        .clone();
    let product = format!("/products/{}", pro["productId"].as_str().unwrap());
    let name_before = stripe.get(&product, Mode::Test, Some(&account)).await.body["name"].clone();
    let edit = json!({"publishableKey": project.publishable_key,
        "tier": {"name": "pro", "displayName": "Pro Plus", "price": 14.99, "limit": 200}});

    stripe
        .fault(json!({"path": "/v1/prices", "method": "POST", "kind": "error", "count": BOTH_ATTEMPTS, "account": account}))
        .await;
    let reply = developer.oauth(Method::PUT, "/tiers", Some(edit.clone())).await;
    assert_upstream_error(&reply, "stripe_error", 502);
    stripe.clear_faults().await;
    assert_eq!(
        tiers(developer.clone(), project.publishable_key.clone()).await,
        before,
        "unchanged"
    );
    // The product was renamed before its new price failed: the rename is undone.
    let name_after = stripe.get(&product, Mode::Test, Some(&account)).await.body["name"].clone();
    assert_ne!(name_before, "Pro Plus");
    assert_eq!(name_after, name_before);

    let saved = developer.oauth(Method::PUT, "/tiers", Some(edit)).await;
    assert_eq!((saved.status, saved.body["tier"]["price"].as_f64()), (200, Some(14.99)));
    let prices = stripe.get("/prices?limit=100", Mode::Test, Some(&account)).await;
    let active_prices = prices.body["data"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|p| p["active"] == true)
        .count();
    assert_eq!(active_prices, 1, "only the new price of pro is for sale");

    // Promotion: live products fail; no live key set, nothing on sale in live mode.
    stripe
        .fault(json!({"path": "/v1/products", "method": "POST", "kind": "drop", "count": BOTH_ATTEMPTS, "account": account}))
        .await;
    let promote = json!({"publishableKey": project.publishable_key});
    let reply = developer
        .oauth(Method::POST, "/promote-to-live", Some(promote.clone()))
        .await;
    assert_upstream_error(&reply, "stripe_error", 502);
    stripe.clear_faults().await;
    let projects = developer.front(Method::GET, "/projects", None).await;
    assert!(projects.body["projects"][0]["live"].is_null(), "{:?}", projects.body);
    assert_eq!(active_products(&stripe, &account, Mode::Live).await, 0);

    let live = developer.oauth(Method::POST, "/promote-to-live", Some(promote)).await;
    assert_eq!(live.status, 200, "{:?}", live.body);
    assert_eq!(active_products(&stripe, &account, Mode::Live).await, 1, "pro, once");
}

/// A new developer's SaaS project (free: 10, pro: 100 at 9.99), their Stripe account and the
/// project's API.
async fn paid_tier_project(env: &TestEnv) -> (TestProject, String, ProjectApi) {
    let (developer, project) = journey::saas_project(env, &[("free", Some(10), 0.0), ("pro", Some(100), 9.99)]).await;
    let account = developer.stripe_account().await.unwrap();
    let api = ProjectApi::new(env, &project);
    (project, account, api)
}

async fn sessions_on(stripe: &StripeEmulator, account: &str) -> Vec<Value> {
    let reply = stripe
        .get("/checkout/sessions?limit=100", Mode::Test, Some(account))
        .await;
    reply.body["data"].as_array().cloned().unwrap_or_default()
}

#[tokio::test]
async fn a_customer_checkout_and_portal_fail_cleanly_and_a_lost_answer_still_makes_one_session() {
    let _turn = ONE_AT_A_TIME.lock().await;
    let env = TestEnv::get();
    let stripe = StripeEmulator::new(&env);
    let (_, account, api) = paid_tier_project(&env).await;
    let user = "fault-user";
    for kind in ["error", "drop"] {
        stripe
            .fault(json!({"path": "/v1/checkout/sessions", "method": "POST", "kind": kind, "count": BOTH_ATTEMPTS, "account": account}))
            .await;
        let reply = api
            .post("/api/create-checkout", Some(user), json!({"tier": "pro"}))
            .await;
        assert_upstream_error(&reply, "stripe_error", 502);
        stripe.clear_faults().await;
        assert!(sessions_on(&stripe, &account).await.is_empty(), "{kind}: no session");
    }
    // Stripe makes the session but its first answer is lost: the client's retry carries the
    // same idempotency key and gets the same session.
    stripe
        .fault(json!({"path": "/v1/checkout/sessions", "method": "POST", "kind": "drop", "after": true, "account": account}))
        .await;
    let first = api
        .post("/api/create-checkout", Some(user), json!({"tier": "pro"}))
        .await;
    assert_eq!(first.status, 200, "{:?}", first.body);
    assert_eq!(stripe.clear_faults().await[0]["fired"], 1);
    let again = api
        .post("/api/create-checkout", Some(user), json!({"tier": "pro"}))
        .await;
    assert_eq!(
        (again.body["reused"].as_bool(), &again.body["sessionId"]),
        (Some(true), &first.body["sessionId"])
    );
    assert_eq!(sessions_on(&stripe, &account).await.len(), 1, "one session");

    stripe
        .fault(
            json!({"path": "/v1/billing_portal/sessions", "kind": "error", "count": BOTH_ATTEMPTS, "account": account}),
        )
        .await;
    let portal = api.post("/api/customer-portal", Some(user), json!({})).await;
    assert_upstream_error(&portal, "stripe_error", 502);
    stripe.clear_faults().await;
    let portal = api.post("/api/customer-portal", Some(user), json!({})).await;
    assert_eq!(portal.status, 200, "{:?}", portal.body);
}

#[tokio::test]
async fn a_cart_whose_checkout_fails_gives_its_stock_back_and_a_failed_sale_webhook_sells_once() {
    let _turn = ONE_AT_A_TIME.lock().await;
    let env = TestEnv::get();
    let stripe = StripeEmulator::new(&env);
    let developer = journey::onboarded_developer(&env, "fault-store").await.unwrap();
    let account = developer.stripe_account().await.unwrap();
    let store: TestProject = journey::create_project(
        &developer,
        json!({"name": "Faulty Store", "projectType": "store", "tiers": [{"name": "mug", "price": 12.5, "inventory": 3}]}),
    )
    .await
    .unwrap();
    let api = ProjectApi::new(&env, &store);
    let mug = |api: ProjectApi| async move {
        let reply = api.get("/api/products", None).await;
        reply.body["products"][0].clone()
    };
    let price_id = mug(api.clone()).await["priceId"].as_str().unwrap().to_owned();
    let cart = json!({"items": [{"priceId": price_id, "quantity": 2}]});
    stripe
        .fault(json!({"path": "/v1/checkout/sessions", "method": "POST", "kind": "error", "count": BOTH_ATTEMPTS, "account": account}))
        .await;
    let reply = api.post("/api/cart/checkout", None, cart.clone()).await;
    assert_upstream_error(&reply, "stripe_error", 502);
    stripe.clear_faults().await;
    assert_eq!(mug(api.clone()).await["available"], 3, "the hold was released");

    let order = api.post("/api/cart/checkout", None, cart).await;
    assert_eq!(order.status, 200, "{:?}", order.body);
    assert_eq!(mug(api.clone()).await["available"], 1);
    assert_eq!(sessions_on(&stripe, &account).await.len(), 1);

    // Paid, but reading the session back fails while the webhook is handled: that delivery
    // fails before any write and Stripe's redelivery sells the two mugs, once.
    let session = order.body["sessionId"].as_str().unwrap().to_owned();
    let read_back = format!("/v1/checkout/sessions/{session}");
    stripe
        .fault(json!({"path": read_back, "method": "GET", "kind": "error", "count": BOTH_ATTEMPTS, "account": account}))
        .await;
    api.pay(&session).await.unwrap();
    let dashboard = api
        .wait_for_dashboard("the sale", |d| metric(d, "totalSales") == 1)
        .await
        .unwrap();
    assert_eq!(fired(&stripe.clear_faults().await, &read_back), BOTH_ATTEMPTS as u64);
    assert_eq!(
        (metric(&dashboard, "unitsSold"), metric(&dashboard, "revenueCents")),
        (2, 2500)
    );
    assert_eq!(mug(api.clone()).await["available"], 1, "sold from the hold, not twice");
}

#[tokio::test]
async fn customers_wait_out_a_clerk_outage_with_503_and_are_created_once() {
    let _turn = ONE_AT_A_TIME.lock().await;
    let env = TestEnv::get();
    let stripe = StripeEmulator::new(&env);
    let (_, project) = journey::saas_project(&env, &[("free", Some(10), 0.0)]).await;
    let api = ProjectApi::new(&env, &project);
    let email = journey::unique_email("fault-customer");
    let customer = json!({"email": email, "firstName": "Ada"});
    // An error, then a Clerk too slow to answer within the worker's 10 s.
    for fault in [
        json!({"path": "/clerk/end-user-api/", "kind": "error", "count": 10}),
        json!({"path": "/clerk/end-user-api/", "kind": "timeout", "delayMs": 11_000, "count": 1}),
    ] {
        stripe.fault(fault).await;
        let reply = api.post("/api/customers", None, customer.clone()).await;
        assert_upstream_error(&reply, "unavailable", 503);
        assert_eq!(reply.header("retry-after"), Some("5"));
        stripe.clear_faults().await;
        let figures = api.dashboard().await;
        assert_eq!(figures["metrics"]["customers"], 0, "no customer half-made");
    }
    let created = api.post("/api/customers", None, customer.clone()).await;
    assert_eq!((created.status, created.body["created"].as_bool()), (201, Some(true)));
    let again = api.post("/api/customers", None, customer).await;
    assert_eq!(
        (again.status, &again.body["customer"]["id"]),
        (200, &created.body["customer"]["id"])
    );
    assert_eq!(api.dashboard().await["metrics"]["customers"], 1);
}

#[tokio::test]
async fn the_platform_plan_checkout_fails_cleanly_and_works_after() {
    let _turn = ONE_AT_A_TIME.lock().await;
    let env = TestEnv::get();
    let stripe = StripeEmulator::new(&env);
    let developer = Developer::sign_in(&env, &journey::unique_email("fault-plan"))
        .await
        .unwrap();
    developer.platform_id().await.unwrap();
    stripe
        .fault(json!({"path": "/v1/checkout/sessions", "method": "POST", "kind": "error", "count": BOTH_ATTEMPTS}))
        .await;
    let reply = developer.front(Method::POST, "/create-checkout", None).await;
    assert_upstream_error(&reply, "stripe_error", 502);
    stripe.clear_faults().await;
    assert_eq!(developer.plan().await.as_deref(), Some("free"));
    developer.pay_platform_plan().await.unwrap();
    developer.wait_for_plan("paid").await.unwrap();
}

/// How often the faults on `path` fired, from a listing by `clear_faults`.
fn fired(faults: &[Value], path: &str) -> u64 {
    faults
        .iter()
        .filter(|f| f["path"] == path)
        .filter_map(|f| f["fired"].as_u64())
        .sum()
}

#[tokio::test]
async fn a_subscription_webhook_failing_half_way_is_applied_once_on_stripes_retry() {
    let _turn = ONE_AT_A_TIME.lock().await;
    let env = TestEnv::get();
    let stripe = StripeEmulator::new(&env);
    let (project, account, api) = paid_tier_project(&env).await;
    // A customer with a Clerk account: handling the payment is a D1 write, then Clerk's copy.
    let created = api
        .post(
            "/api/customers",
            None,
            json!({"email": journey::unique_email("fault-webhook")}),
        )
        .await;
    assert_eq!(created.status, 201, "{:?}", created.body);
    let user = created.body["customer"]["id"].as_str().unwrap().to_owned();
    let session = api.checkout(&user, "pro").await.unwrap();

    // Before anything is written, reading the subscription from Stripe fails (both attempts of
    // one delivery); once D1 has the plan, mirroring it into Clerk fails. Each failed delivery
    // is answered with an error, so the emulator redelivers it as Stripe does.
    let clerk_metadata = format!("/users/{user}/metadata");
    stripe
        .fault(json!({"path": "/v1/subscriptions/", "method": "GET", "kind": "error", "count": BOTH_ATTEMPTS, "account": account}))
        .await;
    stripe
        .fault(json!({"path": clerk_metadata, "method": "PATCH", "kind": "error", "count": 1}))
        .await;
    api.pay(&session).await.unwrap().expect("a subscription");

    api.wait_for_plan(&user, "pro").await.unwrap();
    journey::eventually("Clerk's copy of the plan", || async {
        clerk_plan(&env, &user, &project.publishable_key).await == "pro"
    })
    .await
    .unwrap();
    let faults = stripe.clear_faults().await;
    assert_eq!(fired(&faults, "/v1/subscriptions/"), BOTH_ATTEMPTS as u64, "{faults:?}");
    assert_eq!(fired(&faults, &clerk_metadata), 1, "{faults:?}");
    // Applied once: one subscription, its price once in MRR, the usage period restarted once.
    let dashboard = api
        .wait_for_dashboard("one active subscription", |d| metric(d, "activeSubscriptions") == 1)
        .await
        .unwrap();
    assert_eq!(metric(&dashboard, "mrrCents"), 999);
    let counted = api.post("/api/data", Some(&user), json!({})).await;
    assert_eq!(counted.body["usage"]["count"], 1, "{:?}", counted.body);
}

/// Every KV operation of the stack's faulty-KV api-multi fails until the faults are cleared.
const KV_DOWN: u32 = 10_000;
/// A slow KV answers after this long: far past the 300 ms a read or refill is given.
const KV_SLOW_MS: u64 = 20_000;

/// Makes every KV read and refill of the faulty-KV api-multi fail (`error`) or answer late
/// (`delay`) until the faults are cleared.
async fn break_kv(stripe: &StripeEmulator, kind: &str) {
    for operation in ["get", "put"] {
        let path = format!("/kv/{operation}/");
        (stripe.fault(json!({"path": path, "kind": kind, "delayMs": KV_SLOW_MS, "count": KV_DOWN}))).await;
    }
}

/// KV down (every read and refill of the faulty-KV api-multi fails; it shares D1, KV and the
/// usage counters with the healthy one): a key its isolate does not remember is authenticated
/// from D1, every request is counted in the same counters as the healthy instance's, and a
/// rotation's revoked key is refused there at once (its counter says the project changed).
#[tokio::test]
async fn with_kv_down_requests_are_authenticated_from_d1_and_counted() {
    // Its onboarding checks out the platform plan, which another test here breaks on purpose.
    let _turn = ONE_AT_A_TIME.lock().await;
    let env = TestEnv::get();
    let stripe = StripeEmulator::new(&env);
    let outage_url = (env.api_multi_faulty_kv.clone()).expect("the launcher starts api-multi with a faulty KV");
    let (developer, project) = journey::saas_project(&env, &[("free", Some(3), 0.0)]).await;
    let healthy = ProjectApi::new(&env, &project);
    let outage = healthy.at(&outage_url);
    break_kv(&stripe, "error").await;
    let user = "kv-outage-user";
    for (n, api) in [(1, &outage), (2, &healthy), (3, &outage)] {
        let counted = api.post("/api/data", Some(user), json!({})).await;
        assert_eq!(counted.status, 200, "{:?}", counted.body);
        assert_eq!(counted.body["usage"]["count"], n);
    }
    let refused = outage.post("/api/data", Some(user), json!({})).await;
    assert_eq!((refused.status, refused.error_code()), (429, "limit_reached"));
    assert_eq!(outage.usage(user).await["count"], 3);

    let rotated = developer.rotate_key(&project.publishable_key).await;
    assert_eq!(rotated.status, 200, "{:?}", rotated.body);
    let old_key = outage.get("/api/usage", Some(user)).await;
    assert_eq!((old_key.status, old_key.error_code()), (401, "unauthorized"));
    // A route that keeps no configuration in memory reads KV (down), then D1.
    let old_key_elsewhere = outage.get("/api/products", None).await;
    assert_eq!(
        (old_key_elsewhere.status, old_key_elsewhere.error_code()),
        (401, "unauthorized")
    );
    let renewed = TestProject {
        secret_key: rotated.body["secretKey"].as_str().unwrap().to_owned(),
        ..project.clone()
    };
    let usage = ProjectApi::new(&env, &renewed).at(&outage_url).usage(user).await;
    assert_eq!(usage["count"], 3, "the new key reads the same rows");
    // KV is asked for a key the isolate does not remember (the first request, the new key's),
    // and refilled after each D1 read; the isolate's memory answers the others.
    let faults = stripe.clear_faults().await;
    assert!(
        fired(&faults, "/kv/get/") >= 2 && fired(&faults, "/kv/put/") >= 2,
        "{faults:?}"
    );
}

/// KV slow (every read and refill of the faulty-KV api-multi answers after 20 s): requests do
/// not wait for it. A key the isolate does not remember is answered from D1 once the 300 ms a
/// read gets have passed, every request counts in the same counters, and a rotation's revoked
/// key is refused at once.
#[tokio::test]
async fn with_kv_slow_requests_are_answered_from_d1_without_waiting_for_it() {
    let _turn = ONE_AT_A_TIME.lock().await;
    let env = TestEnv::get();
    let stripe = StripeEmulator::new(&env);
    let slow_url = (env.api_multi_faulty_kv.clone()).expect("the launcher starts api-multi with a faulty KV");
    let (developer, project) = journey::saas_project(&env, &[("free", Some(4), 0.0)]).await;
    let healthy = ProjectApi::new(&env, &project);
    let slow = healthy.at(&slow_url);
    let user = "kv-slow-user";
    // Healthy first: the project is cached in KV, so the slow read below (the slow instance has
    // never seen the key, so it asks KV) is a hit that comes late.
    let counted = healthy.post("/api/data", Some(user), json!({})).await;
    assert_eq!(counted.body["usage"]["count"].as_i64(), Some(1), "{:?}", counted.body);

    break_kv(&stripe, "delay").await;
    for n in [2, 3, 4] {
        let started = std::time::Instant::now();
        let counted = slow.post("/api/data", Some(user), json!({})).await;
        assert_eq!(
            (counted.status, counted.body["usage"]["count"].as_i64()),
            (200, Some(n)),
            "{:?}",
            counted.body
        );
        // Not a speed target: a worker that waited for KV would answer after 20 s, one that gave
        // up at its deadline well within it.
        let waited = started.elapsed().as_millis();
        assert!(waited < u128::from(KV_SLOW_MS / 2), "waited {waited} ms for a slow KV");
    }
    let refused = slow.post("/api/data", Some(user), json!({})).await;
    assert_eq!((refused.status, refused.error_code()), (429, "limit_reached"));
    let rotated = developer.rotate_key(&project.publishable_key).await;
    assert_eq!(rotated.status, 200, "{:?}", rotated.body);
    let old_key = slow.get("/api/usage", Some(user)).await;
    assert_eq!((old_key.status, old_key.error_code()), (401, "unauthorized"));
    let old_key_elsewhere = slow.get("/api/products", None).await;
    assert_eq!(
        (old_key_elsewhere.status, old_key_elsewhere.error_code()),
        (401, "unauthorized")
    );
    let faults = stripe.clear_faults().await;
    // The first request asked KV (late) and refilled it (late); the isolate's memory answered
    // the others, and the revoked key was read again from D1 when its counter said so.
    assert!(
        fired(&faults, "/kv/get/") >= 1 && fired(&faults, "/kv/put/") >= 1,
        "{faults:?}"
    );

    let renewed = TestProject {
        secret_key: rotated.body["secretKey"].as_str().unwrap().to_owned(),
        ..project.clone()
    };
    let usage = ProjectApi::new(&env, &renewed).at(&slow_url).usage(user).await;
    assert_eq!(usage["count"], 4, "once KV is back, the new key reads the same rows");
}

#[tokio::test]
async fn developer_sessions_outlive_a_clerk_jwks_outage() {
    use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};
    let _turn = ONE_AT_A_TIME.lock().await;
    let env = TestEnv::get();
    let stripe = StripeEmulator::new(&env);
    let developer = Developer::sign_in(&env, &journey::unique_email("fault-jwks"))
        .await
        .unwrap();
    developer.platform_id().await.unwrap();
    let jwks = "/clerk/dream-api/.well-known/jwks.json";
    stripe
        .fault(json!({"path": jwks, "kind": "error", "count": 1000}))
        .await;
    // A token naming a key nobody has makes front-auth-api refetch the key set (at most once per
    // 30 s): ask until a refetch has met the outage. Each answer is a 401, never a 5xx.
    let part = |v: Value| URL_SAFE_NO_PAD.encode(v.to_string());
    let forged = format!(
        "{}.{}.{}",
        part(json!({"alg": "RS256", "typ": "JWT", "kid": "ins_rotated_away"})),
        part(json!({"sub": "user_x"})),
        URL_SAFE_NO_PAD.encode([0u8; 256])
    );
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(45);
    loop {
        let reply = Reply::from(
            e2e::client()
                .get(format!("{}/get-credentials", env.front_auth_api))
                .bearer_auth(&forged)
                .send()
                .await
                .unwrap(),
        )
        .await;
        assert_eq!(
            (reply.status, reply.error_code()),
            (401, "unauthorized"),
            "{:?}",
            reply.body
        );
        let listed = e2e::client()
            .get(format!("{}/_emulator/faults", env.emulator))
            .send()
            .await
            .unwrap()
            .json::<Value>()
            .await
            .unwrap();
        if fired(listed["faults"].as_array().unwrap(), jwks) > 0 {
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "front-auth-api never refetched the keys"
        );
        tokio::time::sleep(std::time::Duration::from_secs(2)).await;
    }
    // The keys it has still verify real sessions while Clerk's JWKS cannot be fetched.
    let still = developer.front(Method::GET, "/get-credentials", None).await;
    assert_eq!(still.status, 200, "{:?}", still.body);
    stripe.clear_faults().await;
}
