//! The organization endpoints and the control of the instance's organization settings.
//!
//!   POST   {instance}/v1/organizations                  create (the creator becomes a member)
//!   GET    {instance}/v1/organizations/{id or slug}     retrieve
//!   PATCH  {instance}/v1/organizations/{id}             update
//!   DELETE {instance}/v1/organizations/{id}             delete, with its memberships and invitations
//!   GET|POST {instance}/_emulator/organization_settings the role an organization's creator gets

use std::sync::Arc;

use axum::Json;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use serde::Deserialize;
use serde_json::{Map, Value, json};

use super::super::error::{ClerkError, require_secret_key};
use super::super::users::{json_body, metadata_field, only, string_field};
use super::super::{ClerkInstance, check_instance};
use super::{DEFAULT_CREATOR_ROLE, MANAGE_MEMBERSHIPS, Organization, can_manage, instance_mut, org_not_found, role};
use crate::App;

/// Lowercase letters, digits and dashes, as Clerk allows in slugs.
fn slugify(name: &str) -> String {
    let mut slug = String::new();
    for c in name.chars().flat_map(char::to_lowercase) {
        if c.is_ascii_alphanumeric() {
            slug.push(c);
        } else if !slug.ends_with('-') {
            slug.push('-');
        }
    }
    let slug = slug.trim_matches('-').to_string();
    if slug.is_empty() { "organization".into() } else { slug }
}

fn valid_slug(slug: &str) -> bool {
    !slug.is_empty()
        && slug
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
}

fn name_field(map: &Map<String, Value>, required: bool) -> Result<Option<String>, ClerkError> {
    let name = string_field(map, "name")?.map(|n| n.trim().to_string());
    match name {
        None if required => Err(ClerkError::unprocessable(
            "form_param_missing",
            "is missing",
            "name must be included.",
            "name",
        )),
        Some(n) if n.is_empty() || n.chars().count() > 256 => Err(ClerkError::unprocessable(
            "form_param_value_invalid",
            "is invalid",
            "name must be between 1 and 256 characters.",
            "name",
        )),
        other => Ok(other),
    }
}

fn slug_field(map: &Map<String, Value>) -> Result<Option<String>, ClerkError> {
    match string_field(map, "slug")? {
        Some(s) if !valid_slug(&s) => Err(ClerkError::unprocessable(
            "form_param_format_invalid",
            "is invalid",
            "slug can contain only lowercase alphanumeric characters and the dash \"-\".",
            "slug",
        )),
        other => Ok(other),
    }
}

fn max_memberships_field(map: &Map<String, Value>) -> Result<Option<i64>, ClerkError> {
    match map.get("max_allowed_memberships") {
        None | Some(Value::Null) => Ok(None),
        Some(v) => v.as_i64().filter(|n| *n >= 0).map(Some).ok_or_else(|| {
            ClerkError::unprocessable(
                "form_param_value_invalid",
                "is invalid",
                "max_allowed_memberships must be an integer greater than or equal to 0.",
                "max_allowed_memberships",
            )
        }),
    }
}

fn slug_taken() -> ClerkError {
    ClerkError::unprocessable(
        "form_identifier_exists",
        "That slug is taken. Please try another.",
        "That slug is taken. Please try another.",
        "slug",
    )
}

/// POST /clerk/{instance}/v1/organizations
pub async fn create(
    State(app): State<Arc<App>>,
    Path(instance): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Json<Value>, ClerkError> {
    check_instance(&instance)?;
    require_secret_key(&headers)?;
    let map = json_body(&body)?;
    only(
        &map,
        &[
            "name",
            "created_by",
            "slug",
            "public_metadata",
            "private_metadata",
            "max_allowed_memberships",
        ],
    )?;
    let name = name_field(&map, true)?.unwrap_or_default();
    let slug = slug_field(&map)?;
    let created_by = string_field(&map, "created_by")?;
    let public = metadata_field(&map, "public_metadata")?.unwrap_or_else(|| json!({}));
    let private = metadata_field(&map, "private_metadata")?.unwrap_or_else(|| json!({}));
    let max = max_memberships_field(&map)?.unwrap_or(0);
    let now = crate::time::now_ms();
    app.mutate(|db| {
        let crate::state::Db { clerk, ids, .. } = db;
        let inst = clerk
            .get_mut(&instance)
            .ok_or_else(|| ClerkError::not_found("No such instance"))?;
        let creator_role = inst
            .creator_role
            .clone()
            .unwrap_or_else(|| DEFAULT_CREATOR_ROLE.to_string());
        if let Some(user_id) = &created_by
            && !inst.users.contains_key(user_id)
        {
            return Err(ClerkError::new(
                StatusCode::BAD_REQUEST,
                "organization_creator_not_found",
                "creator not found",
                &format!("No users found with id {user_id}."),
            ));
        }
        let taken = |s: &str| inst.organizations.values().any(|o| o.slug == s);
        let slug = match slug {
            Some(s) if taken(&s) => return Err(slug_taken()),
            Some(s) => s,
            None => {
                let base = slugify(&name);
                let mut candidate = base.clone();
                let mut n = 1;
                while taken(&candidate) {
                    n += 1;
                    candidate = format!("{base}-{n}");
                }
                candidate
            }
        };
        let id = ids.id("org_", 27);
        inst.seq += 1;
        inst.organizations.insert(
            id.clone(),
            Organization {
                id: id.clone(),
                seq: inst.seq,
                name,
                slug,
                public_metadata: public,
                private_metadata: private,
                created_by: created_by.clone(),
                max_allowed_memberships: max,
                admin_delete_enabled: true,
                created_at: now,
                updated_at: now,
            },
        );
        if let Some(user_id) = &created_by {
            inst.add_membership(ids, &id, user_id, &creator_role, json!({}), json!({}), now)?;
        }
        let org = inst.org(&id)?;
        Ok(Json(inst.render_org(org)))
    })
}

/// GET /clerk/{instance}/v1/organizations/{id or slug}
pub async fn retrieve(
    State(app): State<Arc<App>>,
    Path((instance, id)): Path<(String, String)>,
    headers: HeaderMap,
) -> Result<Json<Value>, ClerkError> {
    check_instance(&instance)?;
    require_secret_key(&headers)?;
    app.read(|db| {
        let inst = db.clerk.get(&instance).ok_or_else(org_not_found)?;
        Ok(Json(inst.render_org(inst.org(&id)?)))
    })
}

/// PATCH /clerk/{instance}/v1/organizations/{id}: replaces the fields given.
pub async fn update(
    State(app): State<Arc<App>>,
    Path((instance, id)): Path<(String, String)>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Json<Value>, ClerkError> {
    check_instance(&instance)?;
    require_secret_key(&headers)?;
    let map = json_body(&body)?;
    only(
        &map,
        &[
            "name",
            "slug",
            "public_metadata",
            "private_metadata",
            "max_allowed_memberships",
            "admin_delete_enabled",
        ],
    )?;
    let name = name_field(&map, false)?;
    let slug = slug_field(&map)?;
    let public = metadata_field(&map, "public_metadata")?;
    let private = metadata_field(&map, "private_metadata")?;
    let max = max_memberships_field(&map)?;
    let admin_delete = map.get("admin_delete_enabled").and_then(Value::as_bool);
    let now = crate::time::now_ms();
    app.mutate(|db| {
        let inst = instance_mut(db, &instance)?;
        let org_id = inst.org(&id)?.id.clone();
        if let Some(s) = &slug
            && inst.organizations.values().any(|o| o.slug == *s && o.id != org_id)
        {
            return Err(slug_taken());
        }
        let org = inst.organizations.get_mut(&org_id).ok_or_else(org_not_found)?;
        if let Some(v) = name {
            org.name = v;
        }
        if let Some(v) = slug {
            org.slug = v;
        }
        if let Some(v) = public {
            org.public_metadata = v;
        }
        if let Some(v) = private {
            org.private_metadata = v;
        }
        if let Some(v) = max {
            org.max_allowed_memberships = v;
        }
        if let Some(v) = admin_delete {
            org.admin_delete_enabled = v;
        }
        org.updated_at = now;
        Ok(Json(inst.render_org(inst.org(&org_id)?)))
    })
}

/// DELETE /clerk/{instance}/v1/organizations/{id}: with its memberships and invitations.
pub async fn delete(
    State(app): State<Arc<App>>,
    Path((instance, id)): Path<(String, String)>,
    headers: HeaderMap,
) -> Result<Json<Value>, ClerkError> {
    check_instance(&instance)?;
    require_secret_key(&headers)?;
    app.mutate(|db| {
        let inst = instance_mut(db, &instance)?;
        let org_id = inst.org(&id)?.id.clone();
        inst.organizations.remove(&org_id);
        inst.org_memberships.retain(|_, m| m.organization_id != org_id);
        inst.org_invitations.retain(|_, i| i.organization_id != org_id);
        Ok(Json(json!({ "object": "organization", "id": org_id, "deleted": true })))
    })
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct SettingsBody {
    creator_role: String,
}

fn settings_of(inst: &ClerkInstance) -> Value {
    json!({ "creatorRole": inst.creator_role.as_deref().unwrap_or(DEFAULT_CREATOR_ROLE) })
}

/// GET /clerk/{instance}/_emulator/organization_settings → `{"creatorRole"}`
pub async fn settings(State(app): State<Arc<App>>, Path(instance): Path<String>) -> Result<Json<Value>, ClerkError> {
    check_instance(&instance)?;
    app.read(|db| {
        let inst = db.clerk.get(&instance).ok_or_else(org_not_found)?;
        Ok(Json(settings_of(inst)))
    })
}

/// POST /clerk/{instance}/_emulator/organization_settings `{"creatorRole"}`: the role the
/// creator of a new organization gets (Clerk's dashboard setting). It must be able to manage
/// memberships, as Clerk requires of the creator role. Reset restores `org:admin`.
pub async fn set_settings(
    State(app): State<Arc<App>>,
    Path(instance): Path<String>,
    body: Bytes,
) -> Result<Json<Value>, ClerkError> {
    check_instance(&instance)?;
    let body: SettingsBody = serde_json::from_slice(&body)
        .map_err(|e| ClerkError::bad_request(&format!("Expected {{\"creatorRole\"}}: {e}")))?;
    role(&body.creator_role)?;
    if !can_manage(&body.creator_role) {
        return Err(ClerkError::unprocessable(
            "organization_missing_creator_role_permissions",
            "missing permissions for creator role",
            &format!("The creator role must contain the following permissions: {MANAGE_MEMBERSHIPS}"),
            "creatorRole",
        ));
    }
    app.mutate(|db| {
        let inst = instance_mut(db, &instance)?;
        inst.creator_role = Some(body.creator_role);
        Ok(Json(settings_of(inst)))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slugs_come_from_names() {
        assert_eq!(slugify("Acme Inc."), "acme-inc");
        assert_eq!(slugify("  Dream  API / Team 2 "), "dream-api-team-2");
        assert_eq!(slugify("!!!"), "organization");
        assert!(valid_slug("acme-2") && !valid_slug("Acme") && !valid_slug("a_b") && !valid_slug(""));
    }
}
