//! Callers who attack: a flood of unknown secret keys from one address costs bounded work.

use e2e::{MeteredApi, TestEnv, journey};

fn random_key() -> String {
    format!("Bearer sk_test_{}", &shared::keys::random_id("x")[2..].repeat(4)[..64])
}

/// The limiter's windows are aligned to the clock (locally as in production): a flood
/// that began late in one would be split between two windows, neither of them full. So it
/// begins with room left in a window: the flood takes a few seconds.
async fn early_in_a_rate_limit_window() {
    const FLOOD_ROOM_SECS: u64 = 20;
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap_or_default();
    let window = u64::from(shared::auth::failures::AUTH_FAILURE_PERIOD_SECS);
    let into_window = now.as_secs() % window;
    if window - into_window < FLOOD_ROOM_SECS {
        tokio::time::sleep(std::time::Duration::from_secs(window - into_window)).await;
    }
}

#[tokio::test]
async fn a_flood_of_unknown_keys_from_one_address_is_cut_off_before_any_lookup() {
    let env = TestEnv::get();
    let api = MeteredApi::new(&env);
    let (_, project) = journey::saas_project(&env, &[("free", Some(1000), 0.0)]).await;
    let address = format!("203.0.113.{}", rand_octet());
    let from = |address: &str, key: &str| {
        let api = api.clone();
        let (address, key) = (address.to_owned(), key.to_owned());
        async move {
            api.usage(&[
                ("authorization", &key),
                ("x-user-id", "u"),
                ("cf-connecting-ip", &address),
            ])
            .await
        }
    };

    // The limit's worth of unknown keys is answered 401 ...
    early_in_a_rate_limit_window().await;
    let limit = shared::auth::failures::AUTH_FAILURE_LIMIT as usize;
    for i in 0..limit {
        let reply = from(&address, &random_key()).await;
        assert_eq!((reply.status, reply.error_code()), (401, "unauthorized"), "key {i}");
    }
    // ... then the address is refused before any lookup, whatever key it sends.
    let cut_off = from(&address, &random_key()).await;
    assert_eq!(
        (cut_off.status, cut_off.error_code()),
        (429, "rate_limited"),
        "{:?}",
        cut_off.body
    );
    assert_eq!(cut_off.header("retry-after"), Some("60"));
    let valid_from_flooder = from(&address, &project.bearer()).await;
    assert_eq!(valid_from_flooder.status, 429);
    // Everyone else is unaffected.
    let other = format!("198.51.100.{}", rand_octet());
    assert_eq!(from(&other, &project.bearer()).await.status, 200);
    let unknown_elsewhere = from(&other, &random_key()).await;
    assert_eq!(unknown_elsewhere.status, 401);
}

fn rand_octet() -> u8 {
    shared::keys::random_id("o")
        .bytes()
        .fold(0u8, |a, b| a.wrapping_mul(31).wrapping_add(b))
}
