//! The client against a running local stack (`make test` starts one and creates the two
//! projects; see `dream-stack`'s SDK step). Without it these tests say so and pass, unless
//! DREAM_SDK_REQUIRE_STACK is set, as `make test` does.

#[path = "../examples/gated_server.rs"]
mod gated_server;
mod proxy;

use std::time::Duration;

use dream_api::{Cart, CartItem, DreamApi, Error, NewCustomer};

struct Stack {
    url: String,
    saas_key: String,
    store_key: String,
}

fn var(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|v| !v.is_empty())
}

/// Skips a test without a stack, except under DREAM_SDK_REQUIRE_STACK (`make test`).
fn skipped(needs: &str) {
    assert!(
        std::env::var_os("DREAM_SDK_REQUIRE_STACK").is_none(),
        "DREAM_SDK_REQUIRE_STACK is set but {needs} is not"
    );
    eprintln!("skipped: needs {needs} (run `make test`)");
}

fn stack() -> Option<Stack> {
    match (
        var("DREAM_API_MULTI_URL"),
        var("DREAM_SDK_SAAS_SECRET_KEY"),
        var("DREAM_SDK_STORE_SECRET_KEY"),
    ) {
        (Some(url), Some(saas_key), Some(store_key)) => Some(Stack {
            url,
            saas_key,
            store_key,
        }),
        _ => {
            skipped("the local stack's variables");
            None
        }
    }
}

fn user(tag: &str) -> String {
    let mut bytes = [0u8; 6];
    getrandom::fill(&mut bytes).unwrap();
    format!(
        "sdk-{tag}-{}",
        bytes.iter().map(|b| format!("{b:02x}")).collect::<String>()
    )
}

/// The Store test project's one product.
async fn the_mug(store: &DreamApi) -> dream_api::Product {
    let products = store.products().await.unwrap();
    products.into_iter().find(|p| p.name == "mug").expect("a mug")
}

fn cart_of(product: &dream_api::Product, quantity: u32) -> Cart {
    Cart {
        items: vec![CartItem {
            price_id: product.price_id.clone().expect("a product has a price"),
            quantity,
        }],
        ..Default::default()
    }
}

/// The SaaS test project's tiers: `free` (3 requests, 5,000 tokens) and `pro` (1000, $9.99).
const FREE_LIMIT: u64 = 3;

#[tokio::test]
async fn usage_counts_until_the_limit_then_limit_reached_carries_the_usage() {
    let Some(stack) = stack() else { return };
    let api = DreamApi::new(&stack.saas_key, &stack.url);
    let who = user("limit");
    for n in 1..=FREE_LIMIT {
        let tracked = api.track_usage(&who, None).await.unwrap();
        assert_eq!((tracked.usage.count, tracked.replayed), (n, false));
    }
    match api.track_usage(&who, None).await {
        Err(Error::LimitReached { usage, details }) => {
            assert_eq!((usage.count, usage.limit, usage.remaining), (3, Some(3), Some(0)));
            assert!(details.request_id.unwrap().starts_with("req_"));
        }
        other => panic!("expected LimitReached, got {other:?}"),
    }
    assert_eq!(api.get_usage(&who, None).await.unwrap().count, FREE_LIMIT);
}

#[tokio::test]
async fn a_meter_counts_quantities_and_refuses_one_past_its_limit_whole() {
    let Some(stack) = stack() else { return };
    let api = DreamApi::new(&stack.saas_key, &stack.url);
    let who = user("tokens");
    let tracked = api.track_meter(&who, None, "tokens", 4_000).await.unwrap();
    assert_eq!((tracked.usage.meter.as_str(), tracked.usage.count), ("tokens", 4_000));
    assert_eq!(tracked.usage.limit, Some(5_000));
    match api.track_meter(&who, None, "tokens", 1_001).await {
        Err(Error::LimitReached { usage, .. }) => assert_eq!(usage.count, 4_000, "nothing counted"),
        other => panic!("expected LimitReached, got {other:?}"),
    }
    // A retry under the same key replays the first answer, whatever its quantity.
    let first = api
        .track_meter_with_key(&who, None, ("tokens", 10), "tokens-once")
        .await
        .unwrap();
    let again = api
        .track_meter_with_key(&who, None, ("tokens", 999), "tokens-once")
        .await
        .unwrap();
    assert_eq!((again.usage.count, again.replayed), (first.usage.count, true));
    let meters = api.get_meters(&who, None).await.unwrap();
    let counts: Vec<(&str, u64)> = meters.iter().map(|m| (m.meter.as_str(), m.count)).collect();
    assert_eq!(counts, [("requests", 0), ("tokens", 4_010)]);
}

#[tokio::test]
async fn entitlements_and_checks_answer_what_the_tier_grants() {
    let Some(stack) = stack() else { return };
    let api = DreamApi::new(&stack.saas_key, &stack.url);
    let who = user("entitled");
    let free = api.get_entitlements(&who, None).await.unwrap();
    assert_eq!(
        (free.plan.as_str(), free.source.as_str(), free.status),
        ("free", "default", None)
    );
    assert!(free.features.is_empty());
    let refused = api.check(&who, None, "sso").await.unwrap();
    assert_eq!((refused.allowed, refused.reason.as_str()), (false, "not_in_plan"));
    let granted = api.check(&who, Some("pro"), "sso").await.unwrap();
    assert_eq!(
        (granted.allowed, granted.reason.as_str(), granted.plan.as_str()),
        (true, "granted", "pro")
    );
    let tokens = api.check(&who, None, "tokens").await.unwrap();
    assert_eq!(
        (tokens.reason.as_str(), tokens.usage.map(|u| u.limit)),
        ("within_limit", Some(Some(5_000)))
    );
    match api.check(&who, None, "teleport").await {
        Err(Error::InvalidRequest(details)) => assert!(details.message.contains("sso"), "{}", details.message),
        other => panic!("expected InvalidRequest, got {other:?}"),
    }
}

#[tokio::test]
async fn a_widget_token_is_minted_for_one_user() {
    let Some(stack) = stack() else { return };
    let api = DreamApi::new(&stack.saas_key, &stack.url);
    let who = user("widget");
    let minted = api.widget_token(&who, Some(300)).await.unwrap();
    assert!(minted.token.starts_with("wt_"), "{}", minted.token);
    assert_eq!(minted.user_id, who);
    match api.widget_token(&who, Some(5)).await {
        Err(Error::InvalidRequest(details)) => {
            assert!(details.message.contains("expiresInSeconds"), "{}", details.message)
        }
        other => panic!("expected InvalidRequest, got {other:?}"),
    }
    // The server chooses what the widget offers: nothing here, and only tiers that exist.
    let quiet = api.widget_token_with_tiers(&who, None, Some(&[] as &[&str])).await.unwrap();
    let widget: serde_json::Value = reqwest::Client::new()
        // A token is URL-safe as it is (`wt_`, base64url, `.`).
        .get(format!("{}/api/widget?token={}", stack.url, quiet.token))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(widget["tiers"], serde_json::json!([]), "{widget}");
    match api.widget_token_with_tiers(&who, None, Some(&["platinum".to_owned()])).await {
        Err(Error::InvalidRequest(details)) => assert!(details.message.contains("platinum"), "{}", details.message),
        other => panic!("expected InvalidRequest, got {other:?}"),
    }
}

#[tokio::test]
async fn a_retry_after_a_lost_answer_counts_once() {
    let Some(stack) = stack() else { return };
    // The first answer to POST /api/data is read from the server and then dropped on the floor,
    // so the request was counted but the client saw the connection die.
    let proxy = proxy::start(&stack.url, "POST /api/data", 1).await;
    let mut api = DreamApi::new(&stack.saas_key, &proxy.url);
    api.retry_base_delay = Duration::from_millis(50);
    let who = user("retry");
    let tracked = api.track_usage(&who, None).await.unwrap();
    assert_eq!(proxy.dropped(), 1, "the proxy dropped one answer");
    assert!(tracked.replayed, "the retry is answered as a replay");
    assert_eq!(tracked.usage.count, 1);
    let direct = DreamApi::new(&stack.saas_key, &stack.url);
    assert_eq!(direct.get_usage(&who, None).await.unwrap().count, 1, "counted once");
    // Without retries the same fault is the caller's error.
    let proxy = proxy::start(&stack.url, "POST /api/data", 1).await;
    let mut once = DreamApi::new(&stack.saas_key, &proxy.url);
    once.max_retries = 0;
    assert!(matches!(once.track_usage(&who, None).await, Err(Error::Connection(_))));
}

#[tokio::test]
async fn every_refusal_is_its_own_error_with_the_request_id() {
    let Some(stack) = stack() else { return };
    let bad_key = DreamApi::new(
        "sk_test_0000000000000000000000000000000000000000000000000000000000000000",
        &stack.url,
    );
    let e = bad_key.get_usage("someone", None).await.unwrap_err();
    assert!(matches!(e, Error::Unauthorized(_)), "{e:?}");
    assert!(e.request_id().is_some_and(|id| id.starts_with("req_")));

    let api = DreamApi::new(&stack.saas_key, &stack.url);
    let who = user("errors");
    let e = api
        .create_checkout(&who, "no-such-tier", &Default::default())
        .await
        .unwrap_err();
    assert!(matches!(e, Error::InvalidRequest(_)), "{e:?}");
    let e = api.customer_portal(&who, None).await.unwrap_err();
    assert!(matches!(e, Error::NotFound(_)), "{e:?}");
    let e = api.change_plan(&who, "pro").await.unwrap_err();
    assert!(matches!(e, Error::NotFound(_)), "{e:?}");

    let store = DreamApi::new(&stack.store_key, &stack.url);
    let mug = the_mug(&store).await;
    let too_many = cart_of(&mug, 99);
    match store.cart_checkout(&too_many).await.unwrap_err() {
        Error::Conflict(d) => assert!(d.body["available"].is_i64(), "{:?}", d.body),
        other => panic!("expected Conflict, got {other:?}"),
    }

    // A flood of unknown keys from one address is limited before authentication: 429
    // rate_limited with Retry-After, which the client does not wait out when it is too long.
    let mut octets = [0u8; 2];
    getrandom::fill(&mut octets).unwrap();
    let address = format!("198.51.{}.{}", octets[0], 1 + octets[1] % 250);
    let flooding = reqwest::Client::builder()
        .default_headers(
            [("cf-connecting-ip".parse().unwrap(), address.parse().unwrap())]
                .into_iter()
                .collect(),
        )
        .build()
        .unwrap();
    let mut limited = None;
    // 250 > 2 × 100: however a 60 s window of the limiter splits the flood, one window sees
    // more than its 100 (150 failed when a window turned mid-flood).
    for n in 0..250 {
        // A different unknown key each time: a repeated one is refused from memory, uncounted.
        let mut flood = DreamApi::new(format!("sk_test_{n:064}"), &stack.url).with_http_client(flooding.clone());
        flood.max_retries = 0;
        flood.max_retry_after = Duration::from_secs(1);
        if let Err(e @ Error::RateLimited { .. }) = flood.get_usage(&user("flood"), None).await {
            limited = Some(e);
            break;
        }
    }
    match limited.expect("the flood is limited") {
        Error::RateLimited { retry_after, details } => {
            assert!(retry_after.is_some_and(|d| d.as_secs() > 0));
            assert!(details.request_id.is_some());
        }
        _ => unreachable!(),
    }
}

#[tokio::test]
async fn every_route_answers_through_the_client() {
    let Some(stack) = stack() else { return };
    let api = DreamApi::new(&stack.saas_key, &stack.url);
    let who = user("routes");
    let email = format!("{who}@example.com");
    let new = NewCustomer {
        email: email.clone(),
        first_name: Some("Ada".into()),
        ..Default::default()
    };
    let first = api.create_customer(&new).await.unwrap();
    assert!(first.created);
    let again = api.create_customer(&new).await.unwrap();
    assert_eq!(
        (again.created, again.customer.id.clone()),
        (false, first.customer.id.clone())
    );

    let checkout = api.create_checkout(&who, "pro", &Default::default()).await.unwrap();
    assert!(checkout.url.starts_with("http") && checkout.session_id.starts_with("cs_"));
    let reused = api.create_checkout(&who, "pro", &Default::default()).await.unwrap();
    assert!(reused.reused);
    let portal = api.customer_portal(&who, None).await.unwrap();
    assert!(portal.starts_with("http"));

    let dashboard = api.dashboard().await.unwrap();
    assert_eq!(dashboard.project_type, "saas");
    assert!(dashboard.figures["metrics"]["customers"].as_i64().unwrap() >= 1);

    let store = DreamApi::new(&stack.store_key, &stack.url);
    let mug = the_mug(&store).await;
    let cart = Cart {
        email: Some(email),
        ..cart_of(&mug, 1)
    };
    let order = store.cart_checkout(&cart).await.unwrap();
    assert_eq!(order.amount_cents, mug.price_cents);
    let after = the_mug(&store).await;
    assert_eq!(after.available, mug.available.map(|n| n - 1), "one mug held");
    assert_eq!(store.dashboard().await.unwrap().project_type, "store");
    let canceled = store.cancel_order(&order.order_id).await.unwrap();
    assert_eq!(
        (canceled.order_id.as_str(), canceled.status.as_str()),
        (order.order_id.as_str(), "expired")
    );
    assert_eq!(the_mug(&store).await.available, mug.available, "the hold is released");
    assert!(store.cancel_order("ord_1/../../data").await.is_err());
}

#[tokio::test]
async fn the_example_gates_reports_and_sends_over_limit_users_to_checkout() {
    let Some(stack) = stack() else { return };
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    let app = gated_server::app(DreamApi::new(&stack.saas_key, &stack.url));
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    assert_gates_reports(&format!("http://{address}")).await;
}

/// The same example as a Cloudflare Worker (`worker-example/`), which `make test` serves in
/// workerd with the SaaS project's key: the SDK on the Worker's fetch, not on tokio.
#[tokio::test]
async fn the_example_worker_gates_reports_inside_workerd() {
    let Some(worker) = var("DREAM_SDK_RUST_WORKER_URL") else {
        return skipped("DREAM_SDK_RUST_WORKER_URL (the example Worker serving the SaaS key)");
    };
    assert_gates_reports(&worker).await;
}

/// `FREE_LIMIT` reports, each counted, then a redirect to a `pro` checkout.
async fn assert_gates_reports(app: &str) {
    let browser = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let who = user("example");
    for n in 1..=FREE_LIMIT {
        let answer = browser.get(format!("{app}/report?user={who}")).send().await.unwrap();
        assert_eq!(answer.status(), 200);
        assert!(answer.text().await.unwrap().contains(&format!("request {n} ")));
    }
    let over = browser.get(format!("{app}/report?user={who}")).send().await.unwrap();
    assert_eq!(over.status(), 303, "sent to checkout");
    let location = over.headers()["location"].to_str().unwrap();
    assert!(location.contains("checkout"), "{location}");
}

/// Makes the emulator fail the requests `fault` matches (`/_emulator/faults`).
async fn inject_fault(emulator: &str, fault: serde_json::Value) {
    let url = format!("{emulator}/_emulator/faults");
    let set = reqwest::Client::new().post(url).json(&fault).send().await.unwrap();
    assert_eq!(set.status(), 200);
}

async fn clear_faults(emulator: &str) {
    let url = format!("{emulator}/_emulator/faults");
    assert_eq!(reqwest::Client::new().delete(url).send().await.unwrap().status(), 200);
}

/// Stripe failing under the platform is `Error::Stripe` (502 `stripe_error`) after the client's
/// retries, and the same call succeeds once Stripe is back. Uses a project of its own developer,
/// whose Stripe account the emulator breaks without touching the other tests' account.
#[tokio::test]
async fn stripe_failing_is_a_stripe_error_and_the_call_works_once_it_recovers() {
    let (Some(emulator), Some(key), Some(account)) = (
        var("DREAM_EMULATOR_URL"),
        var("DREAM_SDK_FAULTS_SECRET_KEY"),
        var("DREAM_SDK_FAULTS_STRIPE_ACCOUNT"),
    ) else {
        return skipped("DREAM_EMULATOR_URL, DREAM_SDK_FAULTS_SECRET_KEY and DREAM_SDK_FAULTS_STRIPE_ACCOUNT");
    };
    let Some(stack) = stack() else { return };
    inject_fault(
        &emulator,
        serde_json::json!({
            "path": "/v1/checkout/sessions", "method": "POST", "kind": "error", "count": 100, "account": account
        }),
    )
    .await;

    let mut api = DreamApi::new(&key, &stack.url);
    api.retry_base_delay = Duration::from_millis(20);
    let who = user("stripe-down");
    let failed = api.create_checkout(&who, "pro", &Default::default()).await;
    clear_faults(&emulator).await;
    match failed {
        Err(Error::Stripe(details)) => {
            assert_eq!(details.status, 502);
            assert!(details.request_id.is_some_and(|id| id.starts_with("req_")));
        }
        other => panic!("expected Error::Stripe, got {other:?}"),
    }
    let checkout = api.create_checkout(&who, "pro", &Default::default()).await.unwrap();
    assert!(checkout.session_id.starts_with("cs_"));
}

/// Clerk (sign-in) failing under the platform is `Error::Unavailable` (503) after the client's
/// retries, and the same customer is created once it recovers. The fault matches only this
/// test's e-mail (in the lookup's query), so the other tests' customers are untouched.
#[tokio::test]
async fn clerk_failing_is_unavailable_and_the_customer_is_created_once_it_recovers() {
    let Some(emulator) = var("DREAM_EMULATOR_URL") else {
        return skipped("DREAM_EMULATOR_URL");
    };
    let Some(stack) = stack() else { return };
    let who = user("clerk-down");
    inject_fault(
        &emulator,
        serde_json::json!({"path": who, "kind": "error", "count": 100}),
    )
    .await;

    let mut api = DreamApi::new(&stack.saas_key, &stack.url);
    api.retry_base_delay = Duration::from_millis(20);
    let new = NewCustomer {
        email: format!("{who}@example.com"),
        ..Default::default()
    };
    let failed = api.create_customer(&new).await;
    clear_faults(&emulator).await;
    match failed {
        Err(Error::Unavailable(details)) => {
            assert_eq!(details.status, 503);
            assert!(details.request_id.is_some_and(|id| id.starts_with("req_")));
        }
        other => panic!("expected Error::Unavailable, got {other:?}"),
    }
    let created = api.create_customer(&new).await.unwrap();
    assert!(created.created, "made once Clerk is back");
}
