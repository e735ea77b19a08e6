//! `POST /api/customers`: a developer's customer as a user of the end-user Clerk app, tied to the
//! project in `publicMetadata.projects.{publishableKey}`, and as a row of the project.
//!
//! One Clerk app serves every project and Clerk allows one user per email, so a person who is a
//! customer of two projects is one Clerk user with one entry per project in their metadata.
//! That identity is the person's, not any project's: no project sets, learns or depends on its
//! password. A password sent here is refused before anything is created (a project that set it
//! could sign in as that person in every other project that later adds them); the person sets
//! it themselves with a code sent to their email (sign-in's "Forgot password?"), or at Clerk's
//! own sign-up. Nothing in our answers says whether the email was known elsewhere.
//!
//! Each project's entry is small and bounded, and a person keeps at most
//! `MAX_PROJECT_CLAIMS` of them (the oldest give way), so no project, nor a developer's many
//! projects, can grow the shared metadata past Clerk's limit and make other projects' updates
//! fail.

use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use crate::{
    auth::SecretKeyAuth,
    clerk_backend::{ClerkBackend, ClerkFailure},
    error::{ApiError, ApiResult, ErrorCode},
    mode::{Mode, ProjectType},
    period::Timestamp,
    repo::customers::{Customer, NewCustomer},
};

pub const MAX_EMAIL_LEN: usize = 254;
pub const MAX_NAME_LEN: usize = 100;
/// Customers a project may add to the shared end-user Clerk app in 24 hours: far above real
/// sign-ups, and what keeps one key from filling the app every project shares.
pub const fn customers_per_day(mode: Mode) -> i64 {
    match mode {
        Mode::Test => 1_000,
        Mode::Live => 50_000,
    }
}

/// Project entries one person's metadata keeps: each about 90 bytes, so at most about 3 KB of
/// Clerk's 8 KB, whoever adds them.
pub const MAX_PROJECT_CLAIMS: usize = 32;

/// The body of `POST /api/customers`.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct CreateCustomerRequest {
    email: String,
    /// Refused (400): only the customer sets their password. Read only to say so.
    #[serde(default)]
    #[cfg_attr(feature = "openapi", schema(ignore))]
    password: Option<Value>,
    #[serde(default)]
    first_name: Option<String>,
    #[serde(default)]
    last_name: Option<String>,
    #[serde(default)]
    plan: Option<String>,
}

/// A validated create request.
#[derive(Debug)]
pub struct CreateCustomer {
    pub email: String,
    pub first_name: Option<String>,
    pub last_name: Option<String>,
    pub plan: Option<String>,
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
        if body.password.is_some() {
            return Err(ApiError::invalid_request(
                "`password` cannot be set through the API: a customer's sign-in identity is shared by every \
                 project they are a customer of, so only they set its password, with a code sent to their email \
                 (the sign-in page's \"Forgot password?\"). Create the customer without it.",
            ));
        }
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
    let bound = customers_per_day(auth.scope.project().publishable_key.mode());
    if auth.scope.customers_added_since(Timestamp(now.0 - 24 * 3600)).await? >= bound {
        return Err(ApiError::new(
            ErrorCode::QuotaExceeded,
            format!("This project added {bound} customers in the last 24 hours, its most; retry later"),
        )
        .with_detail("customersPerDay", bound));
    }
    let pk = auth.scope.project().publishable_key.as_str();
    let plan = request.plan.as_deref();
    let clerk_user_id = match clerk.user_by_email(&request.email).await? {
        Some(user) => {
            let id = user_id(&user)?;
            clerk
                .merge_public_metadata(&id, project_claim(&user, pk, plan, now))
                .await?;
            id
        }
        None => {
            // No password: the identity is the person's to secure (module docs).
            let new_user = json!({
                "email_address": [request.email],
                "first_name": request.first_name,
                "last_name": request.last_name,
                "public_metadata": project_claim(&Value::Null, pk, plan, now),
                "skip_password_requirement": true,
            });
            match clerk.create_user(new_user).await {
                Ok(user) => user_id(&user)?,
                // Another project (or a concurrent retry) created the identity in between.
                Err(ClerkFailure::Refused { code, .. }) if code == "form_identifier_exists" => {
                    let user = clerk
                        .user_by_email(&request.email)
                        .await?
                        .ok_or_else(|| ApiError::internal("Clerk said the email exists but does not list it"))?;
                    let id = user_id(&user)?;
                    clerk
                        .merge_public_metadata(&id, project_claim(&user, pk, plan, now))
                        .await?;
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

/// The metadata patch that records project `pk`'s entry (`{plan, at}`) on a Clerk user whose
/// current state is `user`: a deep merge of that one entry, plus the removal (`null`) of the
/// oldest other entries when the person already has `MAX_PROJECT_CLAIMS`.
pub fn project_claim(user: &Value, pk: &str, plan: Option<&str>, now: Timestamp) -> Value {
    let mut patch = serde_json::Map::new();
    patch.insert(pk.to_owned(), json!({ "plan": plan, "at": now.0 }));
    let current = user.pointer("/public_metadata/projects").and_then(Value::as_object);
    if let Some(current) = current.filter(|c| !c.contains_key(pk)) {
        let mut by_age: Vec<(&String, i64)> = current
            .iter()
            .map(|(key, entry)| (key, entry.get("at").and_then(Value::as_i64).unwrap_or(0)))
            .collect();
        by_age.sort_by_key(|&(key, at)| (at, key.clone()));
        let excess = (current.len() + 1).saturating_sub(MAX_PROJECT_CLAIMS);
        for (key, _) in by_age.into_iter().take(excess) {
            patch.insert(key.clone(), Value::Null);
        }
    }
    json!({ "projects": patch })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_persons_project_entries_stay_bounded_and_the_oldest_give_way() {
        let now = Timestamp(1_000);
        assert_eq!(
            project_claim(&Value::Null, "pk_a", Some("pro"), now),
            json!({"projects": {"pk_a": {"plan": "pro", "at": 1_000}}})
        );
        let full: serde_json::Map<String, Value> = (0..MAX_PROJECT_CLAIMS)
            .map(|i| (format!("pk_{i:02}"), json!({"plan": "free", "at": 100 + i as i64})))
            .collect();
        let user = json!({"public_metadata": {"projects": full}});
        // A project already there only updates its own entry.
        assert_eq!(
            project_claim(&user, "pk_05", None, now),
            json!({"projects": {"pk_05": {"plan": null, "at": 1_000}}})
        );
        // A new one takes the place of the oldest.
        let patch = project_claim(&user, "pk_new", Some("pro"), now);
        let entries = patch["projects"].as_object().unwrap();
        assert_eq!(entries.len(), 2, "{patch}");
        assert_eq!(entries["pk_00"], Value::Null);
        assert_eq!(entries["pk_new"]["plan"], "pro");
        // Entries without a time (written before it was kept) are the oldest.
        let mut legacy = full.clone();
        legacy.insert("pk_legacy".into(), json!({"plan": "free"}));
        let patch = project_claim(&json!({"public_metadata": {"projects": legacy}}), "pk_new", None, now);
        let removed: Vec<&String> = patch["projects"]
            .as_object()
            .unwrap()
            .iter()
            .filter(|(_, v)| v.is_null())
            .map(|(k, _)| k)
            .collect();
        assert_eq!(removed, vec!["pk_00", "pk_legacy"]);
    }

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
