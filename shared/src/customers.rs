//! `POST /api/customers`: a developer's customer as a user of the end-user Clerk app, tied to the
//! project in `publicMetadata.projects.{publishableKey}`, and as a row of the project.
//!
//! One Clerk app serves every project and Clerk allows one user per email, so a person who is a
//! customer of two projects is one Clerk user with one entry per project in their metadata.
//! Only the project that first creates the identity sets its password; later projects never
//! change it (that would let one developer take over another developer's customer), and nothing
//! in our answers says whether the email was known elsewhere.

use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use crate::{
    auth::SecretKeyAuth,
    clerk_backend::{ClerkBackend, ClerkFailure},
    error::{ApiError, ApiResult},
    mode::ProjectType,
    period::Timestamp,
    repo::customers::{Customer, NewCustomer},
};

pub const MAX_EMAIL_LEN: usize = 254;
pub const MAX_NAME_LEN: usize = 100;
/// Clerk decides what a good password is; this only bounds what we forward.
pub const MAX_PASSWORD_LEN: usize = 256;

/// The body of `POST /api/customers`.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct CreateCustomerRequest {
    email: String,
    #[serde(default)]
    password: Option<String>,
    #[serde(default)]
    first_name: Option<String>,
    #[serde(default)]
    last_name: Option<String>,
    #[serde(default)]
    plan: Option<String>,
}

/// A validated create request. `Debug` leaves the password out.
pub struct CreateCustomer {
    pub email: String,
    password: Option<String>,
    pub first_name: Option<String>,
    pub last_name: Option<String>,
    pub plan: Option<String>,
}

impl std::fmt::Debug for CreateCustomer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CreateCustomer")
            .field("email", &self.email)
            .field("plan", &self.plan)
            .finish_non_exhaustive()
    }
}

/// Lower-cases and checks an email address: one `@`, a dotted domain, no spaces or controls.
pub fn parse_email(raw: &str) -> ApiResult<String> {
    let email = raw.trim().to_ascii_lowercase();
    let invalid = || ApiError::invalid_request(format!("`email` is not a valid email address: {raw:?}"));
    if email.len() > MAX_EMAIL_LEN {
        return Err(ApiError::invalid_request(format!(
            "`email` is longer than {MAX_EMAIL_LEN} characters"
        )));
    }
    let (local, domain) = email.split_once('@').ok_or_else(invalid)?;
    let well_formed = !local.is_empty()
        && !domain.contains('@')
        && domain.contains('.')
        && !domain.starts_with('.')
        && !domain.ends_with('.')
        && !domain.contains("..")
        && email
            .chars()
            .all(|c| c.is_ascii_graphic() || (!c.is_ascii() && !c.is_control()));
    if well_formed { Ok(email) } else { Err(invalid()) }
}

fn parse_name(field: &str, raw: Option<String>) -> ApiResult<Option<String>> {
    let Some(name) = raw.map(|n| n.trim().to_owned()).filter(|n| !n.is_empty()) else {
        return Ok(None);
    };
    if name.chars().count() > MAX_NAME_LEN || name.chars().any(char::is_control) {
        return Err(ApiError::invalid_request(format!(
            "`{field}` must be at most {MAX_NAME_LEN} characters without control characters"
        )));
    }
    Ok(Some(name))
}

impl CreateCustomer {
    pub fn parse(body: &[u8], auth: &SecretKeyAuth) -> ApiResult<Self> {
        let body: CreateCustomerRequest =
            serde_json::from_slice(body).map_err(|e| ApiError::invalid_request(format!("Invalid JSON body: {e}")))?;
        let password = match body.password {
            Some(p) if p.len() > MAX_PASSWORD_LEN => {
                return Err(ApiError::invalid_request(format!(
                    "`password` is longer than {MAX_PASSWORD_LEN} characters"
                )));
            }
            Some(p) if p.is_empty() => None,
            other => other,
        };
        let plan = match (body.plan, auth.config.project_type) {
            (None, _) => None,
            (Some(_), ProjectType::Store) => {
                return Err(ApiError::invalid_request(
                    "`plan` is for SaaS projects; this key belongs to a Store project",
                ));
            }
            (Some(plan), ProjectType::Saas) => {
                if auth.config.tier(&plan).is_none() {
                    let names: Vec<&str> = auth.config.tiers.iter().map(|t| t.name.as_str()).collect();
                    return Err(ApiError::invalid_request(format!(
                        "Unknown plan `{plan}`; this project's tiers are: {}",
                        names.join(", ")
                    )));
                }
                Some(plan)
            }
        };
        Ok(Self {
            email: parse_email(&body.email)?,
            password,
            first_name: parse_name("firstName", body.first_name)?,
            last_name: parse_name("lastName", body.last_name)?,
            plan,
        })
    }
}

/// A customer as the API shows it.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct CustomerView {
    pub id: String,
    pub email: Option<String>,
    pub first_name: Option<String>,
    pub last_name: Option<String>,
    pub plan: String,
    pub created_at: String,
}

impl From<Customer> for CustomerView {
    fn from(c: Customer) -> Self {
        Self {
            id: c.user_id,
            email: c.email,
            first_name: c.first_name,
            last_name: c.last_name,
            plan: c.plan.unwrap_or_else(|| crate::metering::DEFAULT_PLAN.to_owned()),
            created_at: c.created_at,
        }
    }
}

fn user_id(user: &Value) -> ApiResult<String> {
    user.get("id")
        .and_then(Value::as_str)
        .map(str::to_owned)
        .ok_or_else(|| ApiError::internal("Clerk user without an id"))
}

/// Creates the customer, or returns the one this project already has with that email (a
/// retry). Returns the customer and whether this call created it.
pub async fn create(
    auth: &SecretKeyAuth,
    clerk: &ClerkBackend,
    request: CreateCustomer,
    now: Timestamp,
) -> ApiResult<(CustomerView, bool)> {
    if let Some(existing) = auth.scope.customer_by_email(&request.email).await? {
        return Ok((existing.into(), false));
    }
    let pk = auth.scope.project().publishable_key.as_str();
    let membership = json!({ "projects": { pk: { "plan": request.plan } } });
    let clerk_user_id = match clerk.user_by_email(&request.email).await? {
        Some(user) => {
            let id = user_id(&user)?;
            clerk.merge_public_metadata(&id, membership).await?;
            id
        }
        None => {
            let mut new_user = json!({
                "email_address": [request.email],
                "first_name": request.first_name,
                "last_name": request.last_name,
                "public_metadata": membership,
            });
            if let Some(password) = &request.password {
                new_user["password"] = json!(password);
            }
            match clerk.create_user(new_user).await {
                Ok(user) => user_id(&user)?,
                // Another project (or a concurrent retry) created the identity in between.
                Err(ClerkFailure::Refused { code, .. }) if code == "form_identifier_exists" => {
                    let user = clerk
                        .user_by_email(&request.email)
                        .await?
                        .ok_or_else(|| ApiError::internal("Clerk said the email exists but does not list it"))?;
                    let id = user_id(&user)?;
                    clerk.merge_public_metadata(&id, membership).await?;
                    id
                }
                Err(failure) => return Err(failure.into()),
            }
        }
    };
    let created = auth
        .scope
        .insert_customer(
            &NewCustomer {
                user_id: &clerk_user_id,
                email: &request.email,
                clerk_user_id: &clerk_user_id,
                first_name: request.first_name.as_deref(),
                last_name: request.last_name.as_deref(),
                plan: request.plan.as_deref(),
            },
            now,
        )
        .await?;
    let stored = auth
        .scope
        .customer_by_email(&request.email)
        .await?
        .ok_or_else(|| ApiError::internal("customer row missing after insert"))?;
    Ok((stored.into(), created))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn emails_are_normalised_and_checked() {
        assert_eq!(parse_email(" Ada@Example.COM ").unwrap(), "ada@example.com");
        assert_eq!(parse_email("a+tag@sub.example.io").unwrap(), "a+tag@sub.example.io");
        for bad in [
            "",
            "ada",
            "@example.com",
            "ada@",
            "ada@example",
            "ada@@example.com",
            "a da@example.com",
            "ada@.example.com",
            "ada@example..com",
            "ada@example.com.",
        ] {
            assert!(parse_email(bad).is_err(), "{bad:?}");
        }
        let long = format!("{}@example.com", "a".repeat(250));
        assert!(parse_email(&long).unwrap_err().message().contains("longer than"));
    }

    #[test]
    fn names_are_trimmed_and_bounded() {
        assert_eq!(
            parse_name("firstName", Some("  Ada ".into())).unwrap().as_deref(),
            Some("Ada")
        );
        assert_eq!(parse_name("firstName", Some("   ".into())).unwrap(), None);
        assert!(parse_name("firstName", Some("x".repeat(101))).is_err());
        assert!(parse_name("lastName", Some("a\u{0}b".into())).is_err());
    }
}
