//! Support for the end-to-end tests and the local launcher: starting the stack, fixtures, and
//! a typed view of the environment the tests run in.

pub mod fixtures;
pub mod stack;

use std::path::PathBuf;

use fixtures::LocalD1;

/// What the launcher tells the tests about the stack it started (environment variables).
#[derive(Debug, Clone)]
pub struct TestEnv {
    pub api_multi: String,
    pub oauth_api: String,
    pub front_auth_api: String,
    pub d1: LocalD1,
}

pub const ENV_API_MULTI: &str = "DREAM_API_MULTI_URL";
pub const ENV_OAUTH_API: &str = "DREAM_OAUTH_API_URL";
pub const ENV_FRONT_AUTH_API: &str = "DREAM_FRONT_AUTH_API_URL";
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
            d1: LocalD1 {
                state_dir: PathBuf::from(var(ENV_STATE_DIR)),
            },
        }
    }
}

pub fn client() -> reqwest::Client {
    reqwest::Client::builder()
        .timeout(std::time::Duration::from_secs(60))
        .pool_max_idle_per_host(256)
        .build()
        .expect("reqwest client")
}
