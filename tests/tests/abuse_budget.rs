//! The platform-wide budget on unknown-key lookups (issue 22 §2): a flood of unknown keys spread
//! over as many networks as keys (so no network's own bound is reached) still costs at most the
//! budget's D1 lookups a minute; past it, keys never seen are refused before D1 from anywhere,
//! while valid keys pass from everywhere. Its own test binary: while the budget is spent, every
//! unknown key of the platform is refused, which other tests' expectations would not survive, so
//! it waits for the budget to come back before it ends.

use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use e2e::{MeteredApi, TestEnv, journey};
use futures_util::StreamExt;
use shared::identity::key_failures::{AUTH_FAILURE_PERIOD_SECS, UNKNOWN_KEY_BUDGET};

fn random_key() -> String {
    format!(
        "Bearer sk_test_{}",
        &dream_core::keys::random_id("x")[2..].repeat(4)[..64]
    )
}

/// One address per request, in the shared address space (100.64.0.0/10), which no other test uses.
fn address(i: usize) -> String {
    format!("100.{}.{}.{}", 64 + (i >> 16) % 64, (i >> 8) % 256, i % 256)
}

fn secs_into_window() -> u64 {
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default()
        .as_secs();
    now % u64::from(AUTH_FAILURE_PERIOD_SECS)
}

#[tokio::test]
async fn unknown_keys_from_everywhere_stop_at_the_platform_budget_and_valid_keys_still_pass() {
    let env = TestEnv::get();
    let api = MeteredApi::new(&env);
    let (_, project) = journey::saas_project(&env, &[("free", Some(1000), 0.0)]).await;
    let call = |address: String, key: String| {
        let api = api.clone();
        async move {
            api.usage(&[
                ("authorization", &key),
                ("x-user-id", "u"),
                ("cf-connecting-ip", &address),
            ])
            .await
        }
    };
    // The flood must fall in one window of the limiter (aligned to the clock): start early in one.
    let window = u64::from(AUTH_FAILURE_PERIOD_SECS);
    if window - secs_into_window() < 40 {
        tokio::time::sleep(Duration::from_secs(window - secs_into_window())).await;
    }
    let budget = UNKNOWN_KEY_BUDGET as usize;
    const EXTRA: usize = 60;
    let statuses: Vec<u16> = futures_util::stream::iter(0..budget + EXTRA)
        .map(|i| {
            let reply = call(address(i), random_key());
            async move { reply.await.status }
        })
        .buffer_unordered(16)
        .collect()
        .await;
    let tripped_at = Instant::now();
    let looked_up = statuses.iter().filter(|s| **s == 401).count();
    let refused = statuses.iter().filter(|s| **s == 429).count();
    assert_eq!(looked_up + refused, statuses.len(), "only 401 or 429: {statuses:?}");
    // Unknown keys earlier tests sent in this window count too: fewer lookups, never more.
    assert!(looked_up <= budget + 16, "{looked_up} lookups for a budget of {budget}");
    assert!(refused >= EXTRA - 16, "{refused} refused");

    // Past the budget an unknown key is refused from a network that sent none ...
    let fresh = call(address(budget + EXTRA + 1), random_key()).await;
    assert_eq!(
        (fresh.status, fresh.error_code()),
        (429, "rate_limited"),
        "{:?}",
        fresh.body
    );
    // ... while a valid key passes from anywhere, a new network included.
    let valid = call(address(budget + EXTRA + 2), project.bearer()).await;
    assert_eq!(valid.status, 200, "{:?}", valid.body);

    // The budget comes back: the isolate's memory of it lasts a minute, and the limiter's window
    // ends at the next minute boundary. Waiting for both keeps the next tests' unknown keys 401s.
    let remembered = Duration::from_secs(window + 1).saturating_sub(tripped_at.elapsed());
    let to_next_window = Duration::from_secs(window - secs_into_window() + 1);
    tokio::time::sleep(remembered.max(to_next_window)).await;
    let later = call(address(budget + EXTRA + 3), random_key()).await;
    assert_eq!(later.status, 401, "{:?}", later.body);
}
