//! Organization memberships: list, add, change the role, remove; and a user's memberships.
//!
//!   GET    {instance}/v1/organizations/{id}/memberships?user_id=&email_address=&role=&order_by=&limit=&offset=
//!   POST   {instance}/v1/organizations/{id}/memberships            `{user_id, role, public_metadata?, private_metadata?}`
//!   PATCH  {instance}/v1/organizations/{id}/memberships/{user_id}  `{role}`
//!   DELETE {instance}/v1/organizations/{id}/memberships/{user_id}  → the removed membership
//!   GET    {instance}/v1/users/{user_id}/organization_memberships?limit=&offset=

use std::sync::Arc;

use axum::Json;
use axum::body::Bytes;
use axum::extract::{Path, RawQuery, State};
use axum::http::HeaderMap;
use serde_json::{Value, json};

use super::super::error::{ClerkError, require_secret_key};
use super::super::users::{json_body, metadata_field, only, string_field};
use super::super::{ClerkInstance, check_instance};
use super::{OrgMembership, instance_mut, org_not_found, role};
use crate::App;

/// `limit` (1-500, default 10) and `offset`, as Clerk's lists take them.
pub struct Page {
    limit: usize,
    offset: usize,
}

impl Page {
    /// Reads `limit` and `offset`; every other parameter goes to `other`.
    pub fn parse(
        query: Option<&str>,
        mut other: impl FnMut(&str, &str) -> Result<(), ClerkError>,
    ) -> Result<Page, ClerkError> {
        let mut page = Page { limit: 10, offset: 0 };
        for (k, v) in form_urlencoded::parse(query.unwrap_or_default().as_bytes()) {
            match k.as_ref() {
                "limit" => {
                    page.limit = v
                        .parse()
                        .ok()
                        .filter(|n| (1..=500).contains(n))
                        .ok_or_else(|| ClerkError::bad_request("limit must be between 1 and 500"))?
                }
                "offset" => {
                    page.offset = v
                        .parse()
                        .map_err(|_| ClerkError::bad_request("offset must be a number"))?
                }
                key => other(key, &v)?,
            }
        }
        Ok(page)
    }

    pub fn of<'a, T>(&self, items: &'a [T]) -> impl Iterator<Item = &'a T> + 'a {
        items.iter().skip(self.offset).take(self.limit)
    }
}

fn missing(param: &str) -> ClerkError {
    ClerkError::unprocessable(
        "form_param_missing",
        "is missing",
        &format!("{param} must be included."),
        param,
    )
}

fn membership_not_found(user_id: &str) -> ClerkError {
    ClerkError::not_found(&format!("No organization membership was found for user {user_id}."))
}

fn list_of(inst: &ClerkInstance, members: &[&OrgMembership], page: &Page) -> Json<Value> {
    let data: Vec<Value> = page.of(members).map(|m| inst.render_membership(m)).collect();
    Json(json!({ "data": data, "total_count": members.len() }))
}

/// GET /clerk/{instance}/v1/organizations/{id}/memberships → `{"data","total_count"}`, newest
/// first unless `order_by=created_at`.
pub async fn list(
    State(app): State<Arc<App>>,
    Path((instance, org)): Path<(String, String)>,
    headers: HeaderMap,
    RawQuery(query): RawQuery,
) -> Result<Json<Value>, ClerkError> {
    check_instance(&instance)?;
    require_secret_key(&headers)?;
    let (mut user_ids, mut emails, mut roles, mut oldest_first) = (Vec::new(), Vec::new(), Vec::new(), false);
    let page = Page::parse(query.as_deref(), |k, v| {
        match k {
            "user_id" | "user_id[]" => user_ids.push(v.to_string()),
            "email_address" | "email_address[]" => emails.push(v.trim().to_ascii_lowercase()),
            "role" | "role[]" => roles.push(v.to_string()),
            "order_by" => match v {
                "-created_at" => oldest_first = false,
                "created_at" | "+created_at" => oldest_first = true,
                _ => return Err(ClerkError::bad_request("order_by must be created_at or -created_at")),
            },
            other => {
                return Err(ClerkError::bad_request(&format!(
                    "Unsupported query parameter: {other}"
                )));
            }
        }
        Ok(())
    })?;
    app.read(|db| {
        let inst = db.clerk.get(&instance).ok_or_else(org_not_found)?;
        let org_id = inst.org(&org)?.id.clone();
        let email_of = |m: &OrgMembership| inst.users.get(&m.user_id).map(|u| u.email.clone());
        let mut members: Vec<&OrgMembership> = inst
            .members_of(&org_id)
            .filter(|m| user_ids.is_empty() || user_ids.contains(&m.user_id))
            .filter(|m| roles.is_empty() || roles.contains(&m.role))
            .filter(|m| emails.is_empty() || email_of(m).is_some_and(|e| emails.contains(&e)))
            .collect();
        members.sort_by_key(|m| m.seq);
        if !oldest_first {
            members.reverse();
        }
        Ok(list_of(inst, &members, &page))
    })
}

/// POST /clerk/{instance}/v1/organizations/{id}/memberships
pub async fn create(
    State(app): State<Arc<App>>,
    Path((instance, org)): Path<(String, String)>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Json<Value>, ClerkError> {
    check_instance(&instance)?;
    require_secret_key(&headers)?;
    let map = json_body(&body)?;
    only(&map, &["user_id", "role", "public_metadata", "private_metadata"])?;
    let user_id = string_field(&map, "user_id")?.ok_or_else(|| missing("user_id"))?;
    let role_key = string_field(&map, "role")?.ok_or_else(|| missing("role"))?;
    role(&role_key)?;
    let public = metadata_field(&map, "public_metadata")?.unwrap_or_else(|| json!({}));
    let private = metadata_field(&map, "private_metadata")?.unwrap_or_else(|| json!({}));
    let now = crate::time::now_ms();
    app.mutate(|db| {
        let crate::state::Db { clerk, ids, .. } = db;
        let inst = clerk.get_mut(&instance).ok_or_else(org_not_found)?;
        let org = inst.org(&org)?.clone();
        if !inst.users.contains_key(&user_id) {
            return Err(ClerkError::not_found(&format!("No user was found with id {user_id}")));
        }
        if inst.membership(&org.id, &user_id).is_none() {
            inst.check_quota(&org, now)?;
        }
        let id = inst.add_membership(ids, &org.id, &user_id, &role_key, public, private, now)?;
        let membership = inst
            .org_memberships
            .get(&id)
            .ok_or_else(|| membership_not_found(&user_id))?;
        Ok(Json(inst.render_membership(membership)))
    })
}

/// PATCH /clerk/{instance}/v1/organizations/{id}/memberships/{user_id} `{role}`
pub async fn update(
    State(app): State<Arc<App>>,
    Path((instance, org, user_id)): Path<(String, String, String)>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Json<Value>, ClerkError> {
    check_instance(&instance)?;
    require_secret_key(&headers)?;
    let map = json_body(&body)?;
    only(&map, &["role"])?;
    let role_key = string_field(&map, "role")?.ok_or_else(|| missing("role"))?;
    role(&role_key)?;
    let now = crate::time::now_ms();
    app.mutate(|db| {
        let inst = instance_mut(db, &instance)?;
        let org_id = inst.org(&org)?.id.clone();
        let id = inst
            .membership(&org_id, &user_id)
            .map(|m| m.id.clone())
            .ok_or_else(|| membership_not_found(&user_id))?;
        inst.check_managers_remain(&org_id, &user_id, Some(&role_key))?;
        let membership = inst
            .org_memberships
            .get_mut(&id)
            .ok_or_else(|| membership_not_found(&user_id))?;
        if membership.role != role_key {
            membership.role = role_key;
            membership.updated_at = now;
        }
        let membership = membership.clone();
        Ok(Json(inst.render_membership(&membership)))
    })
}

/// DELETE /clerk/{instance}/v1/organizations/{id}/memberships/{user_id} → the removed membership
pub async fn delete(
    State(app): State<Arc<App>>,
    Path((instance, org, user_id)): Path<(String, String, String)>,
    headers: HeaderMap,
) -> Result<Json<Value>, ClerkError> {
    check_instance(&instance)?;
    require_secret_key(&headers)?;
    app.mutate(|db| {
        let inst = instance_mut(db, &instance)?;
        let org_id = inst.org(&org)?.id.clone();
        let id = inst
            .membership(&org_id, &user_id)
            .map(|m| m.id.clone())
            .ok_or_else(|| membership_not_found(&user_id))?;
        inst.check_managers_remain(&org_id, &user_id, None)?;
        // Rendered before removal, so `organization.members_count` still counts it, as
        // the object Clerk returns describes the membership as it was.
        let rendered = inst
            .org_memberships
            .get(&id)
            .map(|m| inst.render_membership(m))
            .ok_or_else(|| membership_not_found(&user_id))?;
        inst.org_memberships.remove(&id);
        Ok(Json(rendered))
    })
}

/// GET /clerk/{instance}/v1/users/{user_id}/organization_memberships → `{"data","total_count"}`,
/// newest first.
pub async fn of_user(
    State(app): State<Arc<App>>,
    Path((instance, user_id)): Path<(String, String)>,
    headers: HeaderMap,
    RawQuery(query): RawQuery,
) -> Result<Json<Value>, ClerkError> {
    check_instance(&instance)?;
    require_secret_key(&headers)?;
    let page = Page::parse(query.as_deref(), |k, _| {
        Err(ClerkError::bad_request(&format!("Unsupported query parameter: {k}")))
    })?;
    app.read(|db| {
        let inst = db.clerk.get(&instance).ok_or_else(org_not_found)?;
        if !inst.users.contains_key(&user_id) {
            return Err(ClerkError::not_found("User not found"));
        }
        let mut members: Vec<&OrgMembership> = inst.org_memberships.values().filter(|m| m.user_id == user_id).collect();
        members.sort_by_key(|m| std::cmp::Reverse(m.seq));
        Ok(list_of(inst, &members, &page))
    })
}
