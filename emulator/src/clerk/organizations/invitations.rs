//! Organization invitations: create (which "sends" the email with the accept link to the
//! instance's outbox), list, retrieve, revoke, and the control that expires one.
//!
//!   POST {instance}/v1/organizations/{id}/invitations
//!   GET  {instance}/v1/organizations/{id}/invitations?status=&email_address=&order_by=&limit=&offset=
//!   GET  {instance}/v1/organizations/{id}/invitations/{inv}
//!   POST {instance}/v1/organizations/{id}/invitations/{inv}/revoke
//!   POST {instance}/_emulator/organization_invitations/{inv}/expire

use std::sync::Arc;

use axum::Json;
use axum::body::Bytes;
use axum::extract::{Path, RawQuery, State};
use axum::http::{HeaderMap, StatusCode};
use serde_json::{Value, json};

use super::super::error::{ClerkError, require_secret_key};
use super::super::reset::{SentEmail, send};
use super::super::signin::origin_of;
use super::super::users::{json_body, metadata_field, normalize_email, only, string_field};
use super::super::{ClerkInstance, check_instance, issuer};
use super::{OrgInvitation, accept_url, can_manage, instance_mut, org_not_found, role};
use crate::App;

/// Clerk's default lifetime of an invitation, and the longest it accepts.
pub const DEFAULT_EXPIRES_IN_DAYS: i64 = 30;
const MAX_EXPIRES_IN_DAYS: i64 = 365;
const DAY_MS: i64 = 86_400_000;

fn invitation_not_found(id: &str) -> ClerkError {
    ClerkError::not_found(&format!("No invitation was found with id {id}."))
}

fn missing(param: &str) -> ClerkError {
    ClerkError::unprocessable(
        "form_param_missing",
        "is missing",
        &format!("{param} must be included."),
        param,
    )
}

/// `user_id` (an inviter or revoker) must be a member who can manage memberships.
fn check_admin(inst: &ClerkInstance, org_id: &str, user_id: Option<&str>) -> Result<(), ClerkError> {
    let Some(user_id) = user_id else {
        return Ok(());
    };
    match inst.membership(org_id, user_id) {
        Some(m) if can_manage(&m.role) => Ok(()),
        _ => Err(ClerkError::new(
            StatusCode::FORBIDDEN,
            "not_an_admin_in_organization",
            "not an admin",
            "Current user is not an administrator in the organization. Only administrators can perform this action.",
        )),
    }
}

/// POST /clerk/{instance}/v1/organizations/{id}/invitations
pub async fn create(
    State(app): State<Arc<App>>,
    Path((instance, org)): Path<(String, String)>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Json<Value>, ClerkError> {
    check_instance(&instance)?;
    require_secret_key(&headers)?;
    let map = json_body(&body)?;
    only(
        &map,
        &[
            "email_address",
            "inviter_user_id",
            "role",
            "public_metadata",
            "private_metadata",
            "redirect_url",
            "expires_in_days",
            "notify",
        ],
    )?;
    let email = normalize_email(&string_field(&map, "email_address")?.ok_or_else(|| missing("email_address"))?)?;
    let role_key = string_field(&map, "role")?.ok_or_else(|| missing("role"))?;
    role(&role_key)?;
    let inviter = string_field(&map, "inviter_user_id")?;
    let public = metadata_field(&map, "public_metadata")?.unwrap_or_else(|| json!({}));
    let private = metadata_field(&map, "private_metadata")?.unwrap_or_else(|| json!({}));
    let redirect_url = string_field(&map, "redirect_url")?;
    if redirect_url.as_deref().is_some_and(|u| origin_of(u).is_none()) {
        return Err(ClerkError::unprocessable(
            "form_param_format_invalid",
            "is invalid",
            "redirect_url must be an absolute URL with an http or https scheme.",
            "redirect_url",
        ));
    }
    let days = match map.get("expires_in_days") {
        None | Some(Value::Null) => DEFAULT_EXPIRES_IN_DAYS,
        Some(v) => v
            .as_i64()
            .filter(|d| (1..=MAX_EXPIRES_IN_DAYS).contains(d))
            .ok_or_else(|| {
                ClerkError::unprocessable(
                    "form_param_value_invalid",
                    "is invalid",
                    &format!("expires_in_days must be an integer between 1 and {MAX_EXPIRES_IN_DAYS}."),
                    "expires_in_days",
                )
            })?,
    };
    let notify = map.get("notify").and_then(Value::as_bool).unwrap_or(true);
    let now = crate::time::now_ms();
    app.mutate(|db| {
        let issuer = issuer(&db.base_url, &instance);
        let crate::state::Db { clerk, ids, .. } = db;
        let inst = clerk.get_mut(&instance).ok_or_else(org_not_found)?;
        let org = inst.org(&org)?.clone();
        check_admin(inst, &org.id, inviter.as_deref())?;
        if let Some(user) = inst.find_by_email(&email)
            && inst.membership(&org.id, &user.id).is_some()
        {
            return Err(ClerkError::new(
                StatusCode::BAD_REQUEST,
                "already_a_member_in_organization",
                "already a member",
                &format!("{email} is already a member of the organization."),
            ));
        }
        let duplicate = inst
            .org_invitations
            .values()
            .any(|i| i.organization_id == org.id && i.email == email && i.status_at(now) == "pending");
        if duplicate {
            return Err(ClerkError::new(
                StatusCode::BAD_REQUEST,
                "organization_invitation_not_unique",
                "organization invitation not unique",
                "Organizations cannot have duplicate pending invitations for an email address.",
            ));
        }
        inst.check_quota(&org, now)?;
        let id = ids.id("orginv_", 27);
        let ticket = ids.chars(48);
        inst.seq += 1;
        let invitation = OrgInvitation {
            id: id.clone(),
            seq: inst.seq,
            organization_id: org.id.clone(),
            email: email.clone(),
            role: role_key,
            inviter_id: inviter,
            status: "pending".into(),
            public_metadata: public,
            private_metadata: private,
            redirect_url,
            ticket,
            expires_at: now + days * DAY_MS,
            created_at: now,
            updated_at: now,
        };
        if notify {
            send(
                inst,
                SentEmail {
                    to: email,
                    subject: format!("You're invited to join {}", org.name),
                    code: String::new(),
                    link: Some(accept_url(&issuer, &invitation.ticket)),
                    sent_at_ms: now,
                },
            );
        }
        let rendered = inst.render_invitation(&invitation, &issuer, now);
        inst.org_invitations.insert(id, invitation);
        Ok(Json(rendered))
    })
}

/// GET /clerk/{instance}/v1/organizations/{id}/invitations → `{"data","total_count"}`, newest first.
pub async fn list(
    State(app): State<Arc<App>>,
    Path((instance, org)): Path<(String, String)>,
    headers: HeaderMap,
    RawQuery(query): RawQuery,
) -> Result<Json<Value>, ClerkError> {
    check_instance(&instance)?;
    require_secret_key(&headers)?;
    let (mut statuses, mut emails, mut oldest_first) = (Vec::new(), Vec::new(), false);
    let page = super::memberships::Page::parse(query.as_deref(), |k, v| {
        match k {
            "status" | "status[]" => match v {
                "pending" | "accepted" | "revoked" | "expired" => statuses.push(v.to_string()),
                _ => {
                    return Err(ClerkError::bad_request(
                        "status must be one of pending, accepted, revoked, expired",
                    ));
                }
            },
            "email_address" | "email_address[]" => emails.push(v.trim().to_ascii_lowercase()),
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
    let now = crate::time::now_ms();
    app.read(|db| {
        let inst = db.clerk.get(&instance).ok_or_else(org_not_found)?;
        let org_id = inst.org(&org)?.id.clone();
        let mut found: Vec<&OrgInvitation> = inst
            .org_invitations
            .values()
            .filter(|i| i.organization_id == org_id)
            .filter(|i| statuses.is_empty() || statuses.iter().any(|s| s == i.status_at(now)))
            .filter(|i| emails.is_empty() || emails.contains(&i.email))
            .collect();
        found.sort_by_key(|i| i.seq);
        if !oldest_first {
            found.reverse();
        }
        let issuer = issuer(&db.base_url, &instance);
        let data: Vec<Value> = page
            .of(&found)
            .map(|i| inst.render_invitation(i, &issuer, now))
            .collect();
        Ok(Json(json!({ "data": data, "total_count": found.len() })))
    })
}

/// GET /clerk/{instance}/v1/organizations/{id}/invitations/{inv}
pub async fn retrieve(
    State(app): State<Arc<App>>,
    Path((instance, org, inv)): Path<(String, String, String)>,
    headers: HeaderMap,
) -> Result<Json<Value>, ClerkError> {
    check_instance(&instance)?;
    require_secret_key(&headers)?;
    let now = crate::time::now_ms();
    app.read(|db| {
        let inst = db.clerk.get(&instance).ok_or_else(org_not_found)?;
        let org_id = &inst.org(&org)?.id;
        let invitation = inst
            .org_invitations
            .get(&inv)
            .filter(|i| i.organization_id == *org_id)
            .ok_or_else(|| invitation_not_found(&inv))?;
        Ok(Json(inst.render_invitation(
            invitation,
            &issuer(&db.base_url, &instance),
            now,
        )))
    })
}

/// POST /clerk/{instance}/v1/organizations/{id}/invitations/{inv}/revoke `{requesting_user_id?}`
pub async fn revoke(
    State(app): State<Arc<App>>,
    Path((instance, org, inv)): Path<(String, String, String)>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Json<Value>, ClerkError> {
    check_instance(&instance)?;
    require_secret_key(&headers)?;
    let requester = if body.iter().all(u8::is_ascii_whitespace) {
        None
    } else {
        let map = json_body(&body)?;
        only(&map, &["requesting_user_id"])?;
        string_field(&map, "requesting_user_id")?
    };
    let now = crate::time::now_ms();
    app.mutate(|db| {
        let issuer = issuer(&db.base_url, &instance);
        let inst = instance_mut(db, &instance)?;
        let org_id = inst.org(&org)?.id.clone();
        check_admin(inst, &org_id, requester.as_deref())?;
        let invitation = inst
            .org_invitations
            .get_mut(&inv)
            .filter(|i| i.organization_id == org_id)
            .ok_or_else(|| invitation_not_found(&inv))?;
        if invitation.status != "pending" {
            return Err(not_pending());
        }
        invitation.status = "revoked".into();
        invitation.updated_at = now;
        let invitation = invitation.clone();
        Ok(Json(inst.render_invitation(&invitation, &issuer, now)))
    })
}

fn not_pending() -> ClerkError {
    ClerkError::new(
        StatusCode::BAD_REQUEST,
        "organization_invitation_not_pending",
        "invitation not pending",
        "Only organization invitations with \"pending\" status can be revoked.",
    )
}

/// POST /clerk/{instance}/_emulator/organization_invitations/{inv}/expire: a pending invitation
/// reaches its `expires_at` now (time does not pass in the emulator otherwise).
pub async fn expire(
    State(app): State<Arc<App>>,
    Path((instance, inv)): Path<(String, String)>,
) -> Result<Json<Value>, ClerkError> {
    check_instance(&instance)?;
    let now = crate::time::now_ms();
    app.mutate(|db| {
        let issuer = issuer(&db.base_url, &instance);
        let inst = instance_mut(db, &instance)?;
        let invitation = inst
            .org_invitations
            .get_mut(&inv)
            .ok_or_else(|| invitation_not_found(&inv))?;
        if invitation.status_at(now) != "pending" {
            return Err(not_pending());
        }
        invitation.expires_at = now - 1;
        let invitation = invitation.clone();
        Ok(Json(inst.render_invitation(&invitation, &issuer, now)))
    })
}
