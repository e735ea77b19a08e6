//! The Clerk Backend API calls the platform makes (`CLERK_API_BASE`, default Clerk's own).

use std::time::Duration;

use serde_json::Value;
use worker::{Env, Method};

use crate::{
    config,
    error::{ApiError, ApiResult},
    outbound,
};

pub const DEFAULT_API_BASE: &str = "https://api.clerk.com/v1";
const TIMEOUT: Duration = Duration::from_secs(10);

pub struct ClerkBackend {
    base: String,
    secret_key: String,
}

impl ClerkBackend {
    /// The developers' Clerk app (`CLERK_API_BASE`, `CLERK_SECRET_KEY`).
    pub fn developers(env: &Env) -> ApiResult<Self> {
        Ok(Self {
            base: config::or_default(env, "CLERK_API_BASE", DEFAULT_API_BASE)
                .trim_end_matches('/')
                .to_owned(),
            secret_key: config::required(env, "CLERK_SECRET_KEY")?,
        })
    }

    async fn call(&self, method: Method, path: &str, body: Option<Value>) -> ApiResult<Value> {
        let url = format!("{}{path}", self.base);
        let authorization = format!("Bearer {}", self.secret_key);
        let headers = [
            ("Authorization", authorization.as_str()),
            ("Content-Type", "application/json"),
        ];
        let response = outbound::send(method, &url, &headers, body.map(|b| b.to_string()), TIMEOUT)
            .await
            .map_err(|e| ApiError::internal(format!("Clerk {path}: {e}")))?;
        if !(200..300).contains(&response.status) {
            return Err(ApiError::internal(format!(
                "Clerk {path}: HTTP {}: {}",
                response.status, response.body
            )));
        }
        serde_json::from_str(&response.body).map_err(|e| ApiError::internal(format!("Clerk {path} response: {e}")))
    }

    /// Merges keys into the user's `public_metadata` (Clerk merges at the top level).
    pub async fn merge_public_metadata(&self, user_id: &str, metadata: Value) -> ApiResult<()> {
        let path = format!("/users/{user_id}/metadata");
        self.call(
            Method::Patch,
            &path,
            Some(serde_json::json!({ "public_metadata": metadata })),
        )
        .await
        .map(|_| ())
    }
}
