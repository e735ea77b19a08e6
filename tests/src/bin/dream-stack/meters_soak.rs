//! Overage reaches the developer's Stripe exactly once through everything that repeats or
//! loses a report: clients retrying their calls, Stripe losing its answers to meter events (the
//! event recorded, our side not told) or failing them outright, and api-multi (the usage
//! counters' host) killed and restarted between counting and reporting. After the soak, each
//! customer's overage in Stripe's meter event summaries equals what the counters counted.
//! A step of its own, after the Rust tests, because it takes api-multi away for a moment.

use std::time::Duration;

use dream_core::mode::Mode;
use e2e::{
    TestEnv,
    customers::ProjectApi,
    journey::{self, StripeEmulator},
    stack::Stack,
};
use futures_util::future::join_all;
use serde_json::{Value, json};

const CALLS_PER_ROUND: usize = 10;
const TOKENS_PER_CALL: u64 = 1_500;
const INCLUDED: u64 = 10_000;

struct Subscriber {
    user: String,
    customer: String,
    period: (i64, i64),
}

/// Every customer's calls of one round at once, each sent twice with its key (a client's retry
/// racing the original).
async fn round(api: &ProjectApi, subscribers: &[Subscriber], round: usize) -> Result<(), String> {
    let calls = subscribers.iter().flat_map(|s| {
        (0..CALLS_PER_ROUND).flat_map(move |i| {
            (0..2).map(move |_| async move {
                let key = format!("soak-{round}-{i}-{}", s.user);
                let headers = [("x-user-id", s.user.as_str()), ("idempotency-key", key.as_str())];
                let body = json!({"meter": "tokens", "quantity": TOKENS_PER_CALL});
                api.post_with("/api/data", &headers, body).await
            })
        })
    });
    for reply in join_all(calls).await {
        if reply.status != 200 {
            return Err(format!("a soak call answered {} {:?}", reply.status, reply.body));
        }
    }
    Ok(())
}

async fn stripe_overage(stripe: &StripeEmulator, account: &str, meter: &str, s: &Subscriber) -> i64 {
    let (start, end) = (s.period.0 / 60 * 60, (s.period.1 + 59) / 60 * 60);
    let path = format!(
        "/billing/meters/{meter}/event_summaries?customer={}&start_time={start}&end_time={end}",
        s.customer
    );
    let reply = stripe.get(&path, Mode::Test, Some(account)).await;
    reply.body["data"].as_array().map_or(-1, |all| {
        all.iter()
            .map(|x| x["aggregated_value"].as_f64().unwrap_or(0.0) as i64)
            .sum()
    })
}

pub async fn run(stack: &mut Stack, env: &TestEnv) -> Result<bool, String> {
    println!("Meters: overage reported to Stripe once, across retries, lost answers and a restart ...");
    let developer = journey::onboarded_developer(env, "soak").await?;
    let project = journey::create_project(
        &developer,
        json!({"name": "Soak", "projectType": "saas", "tiers": [
            {"name": "free", "price": 0, "limit": 10},
            {"name": "pro", "price": 20, "meters": [
                {"key": "tokens", "included": INCLUDED, "overage": {"price": "0.002", "per": 1000}}]}
        ]}),
    )
    .await?;
    let account = developer.stripe_account().await?;
    let api = ProjectApi::new(env, &project);
    let stripe = StripeEmulator::new(env);
    let meters = stripe.get("/billing/meters", Mode::Test, Some(&account)).await;
    let meter = meters.body["data"][0]["id"]
        .as_str()
        .ok_or("no Billing Meter")?
        .to_owned();

    let mut subscribers = Vec::new();
    for n in 0..3 {
        let created = api
            .post("/api/customers", None, json!({"email": format!("soak{n}@example.com")}))
            .await;
        let user = created.body["customer"]["id"].as_str().ok_or("no customer")?.to_owned();
        let subscription = api.subscribe(&user, "pro").await?;
        let sub: Value = stripe
            .get(&format!("/subscriptions/{subscription}"), Mode::Test, Some(&account))
            .await
            .body;
        let item = &sub["items"]["data"][0];
        subscribers.push(Subscriber {
            user,
            customer: sub["customer"].as_str().unwrap_or_default().to_owned(),
            period: (
                item["current_period_start"].as_i64().unwrap_or(0),
                item["current_period_end"].as_i64().unwrap_or(0),
            ),
        });
    }

    // Stripe records three reports but their answers are lost (twice in a row for one, so
    // even our client's own retry fails), and fails two outright.
    let scope = |kind: &str, after: bool, count: u32| json!({"path": "/v1/billing/meter_events", "account": account, "kind": kind, "after": after, "count": count});
    stripe.fault(scope("error", true, 3)).await;
    stripe.fault(scope("error", false, 2)).await;

    round(&api, &subscribers, 0).await?;
    // Killed within the counters' flush delay: reports not yet sent, or on their way.
    stack.restart_api_multi().await?;
    round(&api, &subscribers, 1).await?;

    let expected = (2 * CALLS_PER_ROUND as u64 * TOKENS_PER_CALL - INCLUDED) as i64;
    let mut failures = Vec::new();
    for s in &subscribers {
        let usage = api.get("/api/usage", Some(&s.user)).await;
        let counted = usage.body["meters"]
            .as_array()
            .and_then(|m| m.iter().find(|m| m["meter"] == "tokens"))
            .and_then(|m| m["overage"].as_i64())
            .unwrap_or(-1);
        for _ in 0..600 {
            if stripe_overage(&stripe, &account, &meter, s).await >= counted {
                break;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        // Reports still on their way would only add: wait out one more alarm and read again.
        tokio::time::sleep(Duration::from_secs(3)).await;
        let in_stripe = stripe_overage(&stripe, &account, &meter, s).await;
        if counted != expected || in_stripe != counted {
            failures.push(format!(
                "{}: counted {counted} tokens of overage (expected {expected}), Stripe's meter holds {in_stripe}",
                s.user
            ));
        }
    }
    let fired: Vec<Value> = stripe.clear_faults().await;
    let fired: Vec<i64> = fired.iter().map(|f| f["fired"].as_i64().unwrap_or(0)).collect();
    println!("  faults fired on meter events: {fired:?}; each customer's overage: {expected} tokens");
    for failure in &failures {
        eprintln!("  FAILED: {failure}");
    }
    println!(
        "Meters across a restart: {}",
        if failures.is_empty() { "ok" } else { "FAILED" }
    );
    Ok(failures.is_empty())
}
