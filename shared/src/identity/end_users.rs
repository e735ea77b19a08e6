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

use dream_core::api::customers::{CreateCustomerRequest, CustomerView};
use serde_json::{Value, json};

use crate::{
    identity::SecretKeyAuth,
    storage::customers::{Customer, NewCustomer},
    upstream::clerk::{ClerkBackend, ClerkFailure},
    webhooks::Senders,
};

use dream_core::{
    error::{ApiError, ApiResult, ErrorCode},
    input::parse_email,
    mode::{Mode, ProjectType},
    period::Timestamp,
    webhooks::{
        Event, EventType,
        payloads::{self, CustomerCreatedData},
    },
};

pub const MAX_NAME_LEN: usize = 100;
/// Customers a project may add to the shared end-user Clerk app in 24 hours: far above real
/// sign-ups, and what keeps one key from filling the app every project shares.
pub const fn customers_per_day(mode: Mode) -> i64 {
    match mode {
        Mode::Test => 1_000,
        Mode::Live => 50_000,
    }
}

/// Project entries one person's metadata keeps: each about 120 bytes, so at most about 4 KB of
/// Clerk's 8 KB, whoever adds them.
pub const MAX_PROJECT_CLAIMS: usize = 32;
/// Entries one developer may hold on one person: filling a person's metadata takes eight paying
/// developers, not one with many projects.
pub const PROJECT_CLAIMS_PER_DEVELOPER: usize = 4;

/// A validated create request.
#[derive(Debug)]
pub struct CreateCustomer {
    pub email: String,
    pub first_name: Option<String>,
    pub last_name: Option<String>,
    pub plan: Option<String>,
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
            dream_core::input::parse_json(body)?;
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
    senders: &Senders,
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
    let platform = auth.scope.project().platform_id.as_str();
    let plan = request.plan.as_deref();
    let clerk_user_id = match clerk.user_by_email(&request.email).await? {
        Some(user) => {
            let id = user_id(&user)?;
            claim(clerk, &id, project_claim(&user, pk, platform, plan, now)).await?;
            id
        }
        None => {
            // No password: the identity is the person's to secure (module docs).
            let new_user = json!({
                "email_address": [request.email],
                "first_name": request.first_name,
                "last_name": request.last_name,
                "public_metadata": project_claim(&Value::Null, pk, platform, plan, now),
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
                    claim(clerk, &id, project_claim(&user, pk, platform, plan, now)).await?;
                    id
                }
                Err(failure) => return Err(failure.into()),
            }
        }
    };
    let event = Event::new(
        EventType::CustomerCreated,
        &auth.scope.project().publishable_key,
        now,
        payloads::data(&CustomerCreatedData {
            user_id: clerk_user_id.clone(),
            email: request.email.clone(),
            first_name: request.first_name.clone(),
            last_name: request.last_name.clone(),
            plan: request.plan.clone(),
        }),
    );
    let (created, queued) = auth
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
            &event,
            now,
        )
        .await?;
    if queued {
        senders.nudge(pk).await;
    }
    let stored = auth
        .scope
        .customer_by_email(&request.email)
        .await?
        .ok_or_else(|| ApiError::internal("customer row missing after insert"))?;
    Ok((stored.into(), created))
}

/// Writes a claim patch, unless there is none to write (the person is full of other claims).
pub async fn claim(clerk: &ClerkBackend, user_id: &str, patch: Option<Value>) -> ApiResult<()> {
    match patch {
        Some(patch) => clerk.merge_public_metadata(user_id, patch).await,
        None => Ok(()),
    }
}

/// The metadata patch that records project `pk`'s entry (`{plan, at, by}`, `by` its developer's
/// platform) on a Clerk user whose current state is `user`, as a deep merge of that one entry.
/// A developer keeps at most `PROJECT_CLAIMS_PER_DEVELOPER` entries on one person (its own
/// oldest give way); no project ever removes another developer's. A person who has
/// `MAX_PROJECT_CLAIMS` entries of other developers already gets none for `pk` (`None`): its
/// own plan stays in D1, the truth, and nobody else's claim is touched.
pub fn project_claim(user: &Value, pk: &str, platform: &str, plan: Option<&str>, now: Timestamp) -> Option<Value> {
    let mut patch = serde_json::Map::new();
    let entry = json!({ "plan": plan, "at": now.0, "by": platform });
    let current = user.pointer("/public_metadata/projects").and_then(Value::as_object);
    let Some(current) = current.filter(|c| !c.contains_key(pk)) else {
        patch.insert(pk.to_owned(), entry);
        return Some(json!({ "projects": patch }));
    };
    let age = |entry: &Value| entry.get("at").and_then(Value::as_i64).unwrap_or(0);
    let mut own: Vec<(&String, i64)> = current
        .iter()
        .filter(|(_, e)| e.get("by").and_then(Value::as_str) == Some(platform))
        .map(|(key, e)| (key, age(e)))
        .collect();
    own.sort_by_key(|&(key, at)| (at, key.clone()));
    let own_excess = (own.len() + 1).saturating_sub(PROJECT_CLAIMS_PER_DEVELOPER);
    for (key, _) in own.into_iter().take(own_excess) {
        patch.insert(key.clone(), Value::Null);
    }
    if current.len() - own_excess + 1 > MAX_PROJECT_CLAIMS {
        return None;
    }
    patch.insert(pk.to_owned(), entry);
    Some(json!({ "projects": patch }))
}

impl From<Customer> for CustomerView {
    fn from(c: Customer) -> Self {
        Self {
            id: c.user_id,
            email: c.email,
            first_name: c.first_name,
            last_name: c.last_name,
            plan: c
                .plan
                .unwrap_or_else(|| crate::usage::metering::DEFAULT_PLAN.to_owned()),
            created_at: c.created_at,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_developer_replaces_only_its_own_entries_and_a_full_person_takes_no_more() {
        let now = Timestamp(1_000);
        assert_eq!(
            project_claim(&Value::Null, "pk_a", "plt_1", Some("pro"), now),
            Some(json!({"projects": {"pk_a": {"plan": "pro", "at": 1_000, "by": "plt_1"}}}))
        );
        let person = |entries: Vec<(String, &str, i64)>| {
            let map: serde_json::Map<String, Value> = entries
                .into_iter()
                .map(|(pk, by, at)| (pk, json!({"plan": "free", "at": at, "by": by})))
                .collect();
            json!({"public_metadata": {"projects": map}})
        };
        // A project already there only updates its own entry.
        let two = person(vec![("pk_a".into(), "plt_1", 10), ("pk_b".into(), "plt_2", 5)]);
        assert_eq!(
            project_claim(&two, "pk_a", "plt_1", None, now),
            Some(json!({"projects": {"pk_a": {"plan": null, "at": 1_000, "by": "plt_1"}}}))
        );
        // A developer at its share replaces its own oldest entry, never another developer's.
        let mut entries: Vec<(String, &str, i64)> = (0..PROJECT_CLAIMS_PER_DEVELOPER as i64)
            .map(|i| (format!("pk_own{i}"), "plt_1", 100 + i))
            .collect();
        entries.push(("pk_other".into(), "plt_2", 1));
        let patch = project_claim(&person(entries), "pk_new", "plt_1", Some("pro"), now).unwrap();
        let changed = patch["projects"].as_object().unwrap();
        assert_eq!(changed.len(), 2, "{patch}");
        assert_eq!(changed["pk_own0"], Value::Null);
        assert_eq!(changed["pk_new"]["plan"], "pro");
        // A person full of other developers' entries takes no new one, and loses none.
        let full: Vec<(String, &str, i64)> = (0..MAX_PROJECT_CLAIMS as i64)
            .map(|i| (format!("pk_{i}"), if i % 2 == 0 { "plt_x" } else { "plt_y" }, i))
            .collect();
        assert_eq!(project_claim(&person(full), "pk_new", "plt_1", None, now), None);
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
