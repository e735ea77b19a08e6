//! The Clerk Backend API calls the platform makes, on its two instances: the developers'
//! (`dream-api`: plan and platform id in metadata) and the end users' (`end-user-api`: the
//! customers that developers' apps create through api-multi).

use std::time::Duration;

use serde_json::{Value, json};
use worker::Method;

use crate::runtime::{outbound, settings::ClerkSettings};

use dream_core::error::{ApiError, ApiResult, ErrorCode};

pub const DEFAULT_API_BASE: &str = "https://api.clerk.com/v1";
const TIMEOUT: Duration = Duration::from_secs(10);

#[derive(Clone)]
pub struct ClerkBackend {
    base: String,
    secret_key: String,
}

/// How a Clerk call failed.
#[derive(Debug)]
pub enum ClerkFailure {
    /// Clerk refused the request as the caller made it (4xx other than auth): its error code
    /// and human message, fit to pass on.
    Refused { status: u16, code: String, message: String },
    /// Anything that is not the caller's fault: our credentials, Clerk down, a bad answer.
    Failed(ApiError),
}

impl From<ClerkFailure> for ApiError {
    fn from(failure: ClerkFailure) -> Self {
        match failure {
            ClerkFailure::Refused { code, message, .. } => {
                ApiError::invalid_request(format!("Clerk refused: {message}"))
                    .with_detail("clerk", json!({ "code": code }))
            }
            ClerkFailure::Failed(e) => e,
        }
    }
}

/// Clerk down, failing or too slow: nothing the caller did, and worth retrying.
fn unavailable(path: &str, cause: &str) -> ClerkFailure {
    crate::runtime::log::error(&format!("Clerk {path}: {cause}"));
    ClerkFailure::Failed(
        ApiError::new(
            ErrorCode::Unavailable,
            "The sign-in service is unavailable; retry in a few seconds",
        )
        .with_retry_after(RETRY_AFTER_SECS),
    )
}

/// What a caller is told to wait when Clerk is unavailable.
const RETRY_AFTER_SECS: u64 = 5;

impl ClerkBackend {
    /// One Clerk instance's backend API (`ClerkSettings::developers` or `::end_users`).
    pub fn new(settings: &ClerkSettings) -> ApiResult<Self> {
        Ok(Self {
            base: settings.api_base.or(DEFAULT_API_BASE).trim_end_matches('/').to_owned(),
            secret_key: settings.secret_key.get()?.to_owned(),
        })
    }

    async fn call(&self, method: Method, path: &str, body: Option<Value>) -> Result<Value, ClerkFailure> {
        let url = format!("{}{path}", self.base);
        let authorization = format!("Bearer {}", self.secret_key);
        let headers = [
            ("Authorization", authorization.as_str()),
            ("Content-Type", "application/json"),
        ];
        // The path without its query, never the body: either can hold a customer's email.
        let path = path.split_once('?').map_or(path, |(path, _)| path);
        let failed = |cause: String| ClerkFailure::Failed(ApiError::internal(format!("Clerk {path}: {cause}")));
        let response = outbound::send(method, &url, &headers, body.map(|b| b.to_string()), TIMEOUT)
            .await
            .map_err(|e| unavailable(path, &e.to_string()))?;
        if response.status >= 500 {
            return Err(unavailable(path, &format!("HTTP {}", response.status)));
        }
        let parsed: Option<Value> = serde_json::from_str(&response.body).ok();
        if (200..300).contains(&response.status) {
            return parsed.ok_or_else(|| failed("response is not JSON".into()));
        }
        let first_error = parsed.as_ref().and_then(|b| b.pointer("/errors/0"));
        match (response.status, first_error) {
            (400 | 404 | 409 | 422, Some(error)) => {
                let field = |name: &str| error.get(name).and_then(Value::as_str).map(str::to_owned);
                Err(ClerkFailure::Refused {
                    status: response.status,
                    code: field("code").unwrap_or_default(),
                    message: field("long_message")
                        .or_else(|| field("message"))
                        .unwrap_or_else(|| format!("HTTP {}", response.status)),
                })
            }
            // 401/403 mean our key is wrong: our misconfiguration, not the caller's.
            (status, _) => Err(failed(format!("HTTP {status}: {}", response.body))),
        }
    }

    /// Merges keys into the user's `public_metadata` (Clerk merges nested objects deeply).
    pub async fn merge_public_metadata(&self, user_id: &str, metadata: Value) -> ApiResult<()> {
        let path = format!("/users/{user_id}/metadata");
        self.call(Method::Patch, &path, Some(json!({ "public_metadata": metadata })))
            .await
            .map(|_| ())
            .map_err(ApiError::from)
    }

    /// The user with this id.
    pub async fn user(&self, user_id: &str) -> ApiResult<Value> {
        self.call(Method::Get, &format!("/users/{user_id}"), None)
            .await
            .map_err(ApiError::from)
    }

    /// The user with this (primary or other) email address, if any.
    pub async fn user_by_email(&self, email: &str) -> ApiResult<Option<Value>> {
        let query = url::form_urlencoded::Serializer::new(String::new())
            .append_pair("email_address", email)
            .finish();
        let users = self.call(Method::Get, &format!("/users?{query}"), None).await?;
        // Clerk answers a bare array; some SDK versions wrap it in `data`.
        let list = users.as_array().or_else(|| users.get("data").and_then(Value::as_array));
        Ok(list.and_then(|l| l.first()).cloned())
    }

    /// Creates a user; Clerk's refusals (an email already taken, a weak password) come back as
    /// `ClerkFailure::Refused` for the caller to act on.
    pub async fn create_user(&self, user: Value) -> Result<Value, ClerkFailure> {
        self.call(Method::Post, "/users", Some(user)).await
    }

    /// A new organization made by `created_by` (who becomes its first member in Clerk).
    pub async fn create_organization(&self, name: &str, created_by: &str, platform_id: &str) -> ApiResult<String> {
        let body = json!({
            "name": name,
            "created_by": created_by,
            "public_metadata": { "platformId": platform_id },
        });
        let organization = self.call(Method::Post, "/organizations", Some(body)).await?;
        id_of(&organization, "/organizations")
    }

    pub async fn delete_organization(&self, organization: &str) -> ApiResult<()> {
        self.call(Method::Delete, &format!("/organizations/{organization}"), None)
            .await
            .map(|_| ())
            .map_err(ApiError::from)
    }

    /// Clerk emails the invitation; accepting it signs the person in with that email and lands
    /// them on `redirect_url`. Returns Clerk's invitation id.
    pub async fn invite_to_organization(&self, organization: &str, invitation: Value) -> ApiResult<String> {
        let path = format!("/organizations/{organization}/invitations");
        let made = self.call(Method::Post, &path, Some(invitation)).await?;
        id_of(&made, "/organizations/{id}/invitations")
    }

    pub async fn revoke_organization_invitation(
        &self,
        organization: &str,
        invitation: &str,
        by: &str,
    ) -> ApiResult<()> {
        let path = format!("/organizations/{organization}/invitations/{invitation}/revoke");
        self.call(Method::Post, &path, Some(json!({ "requesting_user_id": by })))
            .await
            .map(|_| ())
            .map_err(ApiError::from)
    }

    pub async fn set_organization_role(&self, organization: &str, user_id: &str, role: &str) -> ApiResult<()> {
        let path = format!("/organizations/{organization}/memberships/{user_id}");
        self.call(Method::Patch, &path, Some(json!({ "role": role })))
            .await
            .map(|_| ())
            .map_err(ApiError::from)
    }

    pub async fn remove_organization_member(&self, organization: &str, user_id: &str) -> ApiResult<()> {
        let path = format!("/organizations/{organization}/memberships/{user_id}");
        self.call(Method::Delete, &path, None)
            .await
            .map(|_| ())
            .map_err(ApiError::from)
    }
}

fn id_of(object: &Value, path: &str) -> ApiResult<String> {
    object
        .get("id")
        .and_then(Value::as_str)
        .map(str::to_owned)
        .ok_or_else(|| ApiError::internal(format!("Clerk {path}: answer without an id")))
}
