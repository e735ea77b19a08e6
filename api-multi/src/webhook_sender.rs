//! The webhook sender Durable Object class (`WEBHOOK_SENDERS` in wrangler/api-multi.toml): one
//! per project and mode. What it does is `shared::webhooks::sender`.

use shared::{storage::Database, webhooks::sender::Sender};
use worker::{DurableObject, Env, Request, Response, Result, State, durable_object};

#[durable_object]
pub struct WebhookSender {
    sender: Sender,
}

impl DurableObject for WebhookSender {
    fn new(state: State, env: Env) -> Self {
        Self {
            sender: Sender::new(state, Database::from_env(&env), crate::settings::webhooks(&env)),
        }
    }

    async fn fetch(&self, req: Request) -> Result<Response> {
        self.sender.fetch(req).await
    }

    async fn alarm(&self) -> Result<Response> {
        self.sender.alarm().await
    }
}
