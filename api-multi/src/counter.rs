//! The usage counter Durable Object class (`USAGE_COUNTERS` in wrangler/api-multi.toml). The
//! class must be exported by the worker that declares it; what it does is `shared::usage::counter`.

use shared::usage::counter::Counter;
use worker::{DurableObject, Env, Request, Response, Result, State, durable_object};

#[durable_object]
pub struct UsageCounter {
    counter: Counter,
}

impl DurableObject for UsageCounter {
    fn new(state: State, env: Env) -> Self {
        Self {
            counter: Counter::new(state, env),
        }
    }

    async fn fetch(&self, req: Request) -> Result<Response> {
        self.counter.fetch(req).await
    }

    async fn alarm(&self) -> Result<Response> {
        self.counter.alarm().await
    }
}
