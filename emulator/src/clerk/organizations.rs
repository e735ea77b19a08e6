//! Organizations: the part of Clerk's Backend API the platform's teams use, per instance.
//! This file holds the stored objects, the roles and their renderings in Clerk's shapes; the
//! endpoints are in the submodules: organizations (`api`), invitations, memberships, and the
//! page that accepts an invitation (`accept`).

pub mod accept;
pub mod api;
pub mod invitations;
pub mod memberships;

pub use api::{create, delete, retrieve, set_settings, settings, update};

use axum::http::StatusCode;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use super::ClerkInstance;
use super::error::ClerkError;
use crate::ids::IdGen;

/// The role an organization's creator gets unless `organization_settings` names another.
pub const DEFAULT_CREATOR_ROLE: &str = "org:admin";
/// The permission Clerk requires at least one member of an organization to keep.
pub const MANAGE_MEMBERSHIPS: &str = "org:sys_memberships:manage";
const ADMIN_PERMISSIONS: &[&str] = &[
    "org:sys_profile:manage",
    "org:sys_profile:delete",
    "org:sys_memberships:read",
    "org:sys_memberships:manage",
    "org:sys_domains:read",
    "org:sys_domains:manage",
];
const MEMBER_PERMISSIONS: &[&str] = &["org:sys_memberships:read"];

pub struct Role {
    pub key: &'static str,
    pub name: &'static str,
    pub permissions: &'static [&'static str],
}

/// Clerk's two default roles and the custom roles the platform configures in its instances.
/// The custom roles' system permissions are the emulator's choice: an owner manages like an
/// admin; developers and viewers read memberships like members.
pub const ROLES: [Role; 5] = [
    Role {
        key: "org:admin",
        name: "Admin",
        permissions: ADMIN_PERMISSIONS,
    },
    Role {
        key: "org:member",
        name: "Member",
        permissions: MEMBER_PERMISSIONS,
    },
    Role {
        key: "org:owner",
        name: "Owner",
        permissions: ADMIN_PERMISSIONS,
    },
    Role {
        key: "org:developer",
        name: "Developer",
        permissions: MEMBER_PERMISSIONS,
    },
    Role {
        key: "org:viewer",
        name: "Viewer",
        permissions: MEMBER_PERMISSIONS,
    },
];

/// The role with this key, or Clerk's 404 for an unknown role.
pub fn role(key: &str) -> Result<&'static Role, ClerkError> {
    ROLES.iter().find(|r| r.key == key).ok_or_else(|| {
        ClerkError::new(
            StatusCode::NOT_FOUND,
            "resource_not_found",
            "not found",
            "Organization role not found",
        )
        .param("role")
    })
}

fn can_manage(role_key: &str) -> bool {
    role(role_key).is_ok_and(|r| r.permissions.contains(&MANAGE_MEMBERSHIPS))
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Organization {
    pub id: String,
    pub seq: u64,
    pub name: String,
    pub slug: String,
    pub public_metadata: Value,
    pub private_metadata: Value,
    pub created_by: Option<String>,
    /// 0: no limit.
    pub max_allowed_memberships: i64,
    pub admin_delete_enabled: bool,
    pub created_at: i64,
    pub updated_at: i64,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct OrgMembership {
    pub id: String,
    pub seq: u64,
    pub organization_id: String,
    pub user_id: String,
    pub role: String,
    pub public_metadata: Value,
    pub private_metadata: Value,
    pub created_at: i64,
    pub updated_at: i64,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct OrgInvitation {
    pub id: String,
    pub seq: u64,
    pub organization_id: String,
    pub email: String,
    pub role: String,
    pub inviter_id: Option<String>,
    /// `pending`, `accepted` or `revoked`; a pending one past `expires_at` shows as `expired`.
    pub status: String,
    pub public_metadata: Value,
    pub private_metadata: Value,
    pub redirect_url: Option<String>,
    /// The opaque secret in the emailed link; whoever holds it may accept.
    pub ticket: String,
    pub expires_at: i64,
    pub created_at: i64,
    pub updated_at: i64,
}

impl OrgInvitation {
    pub fn status_at(&self, now_ms: i64) -> &str {
        if self.status == "pending" && self.expires_at <= now_ms {
            "expired"
        } else {
            &self.status
        }
    }
}

/// Clerk's 404 for an organization (also for a slug that names none).
pub fn org_not_found() -> ClerkError {
    ClerkError::not_found("Given organization not found.")
}

pub fn not_a_member() -> ClerkError {
    ClerkError::new(
        StatusCode::FORBIDDEN,
        "not_a_member_in_organization",
        "not a member",
        "Current user is not a member of the organization. Only organization members can perform this action.",
    )
}

/// Clerk's refusal when a change would leave nobody able to manage the members.
fn minimum_permissions_needed() -> ClerkError {
    ClerkError::new(
        StatusCode::BAD_REQUEST,
        "organization_minimum_permissions_needed",
        "minimum organization permissions needed",
        "There has to be at least one organization member with the minimum required permissions",
    )
}

impl ClerkInstance {
    /// By id or by slug, as Clerk's `GET /organizations/{id_or_slug}`.
    pub fn org(&self, id_or_slug: &str) -> Result<&Organization, ClerkError> {
        self.organizations
            .get(id_or_slug)
            .or_else(|| self.organizations.values().find(|o| o.slug == id_or_slug))
            .ok_or_else(org_not_found)
    }

    pub fn members_of<'a>(&'a self, org_id: &str) -> impl Iterator<Item = &'a OrgMembership> + 'a {
        let org_id = org_id.to_string();
        self.org_memberships
            .values()
            .filter(move |m| m.organization_id == org_id)
    }

    pub fn membership(&self, org_id: &str, user_id: &str) -> Option<&OrgMembership> {
        self.members_of(org_id).find(|m| m.user_id == user_id)
    }

    /// Members plus pending invitations, which Clerk counts against `max_allowed_memberships`.
    fn check_quota(&self, org: &Organization, now_ms: i64) -> Result<(), ClerkError> {
        let used = self.members_of(&org.id).count()
            + self
                .org_invitations
                .values()
                .filter(|i| i.organization_id == org.id && i.status_at(now_ms) == "pending")
                .count();
        if org.max_allowed_memberships > 0 && used as i64 >= org.max_allowed_memberships {
            return Err(ClerkError::new(
                StatusCode::FORBIDDEN,
                "organization_membership_quota_exceeded",
                "organization membership quota exceeded",
                &format!(
                    "You have reached your limit of {} organization memberships, including outstanding invitations.",
                    org.max_allowed_memberships
                ),
            ));
        }
        Ok(())
    }

    /// Refuses a role change or removal (`new_role: None`) that leaves the organization
    /// without a member who can manage memberships, when it had one.
    fn check_managers_remain(&self, org_id: &str, user_id: &str, new_role: Option<&str>) -> Result<(), ClerkError> {
        let before = self.members_of(org_id).filter(|m| can_manage(&m.role)).count();
        let after = self
            .members_of(org_id)
            .filter(|m| match (m.user_id == user_id, new_role) {
                (true, Some(r)) => can_manage(r),
                (true, None) => false,
                (false, _) => can_manage(&m.role),
            })
            .count();
        if before > 0 && after == 0 {
            return Err(minimum_permissions_needed());
        }
        Ok(())
    }

    /// A new membership; the caller has checked the role and the quota.
    #[allow(clippy::too_many_arguments)]
    fn add_membership(
        &mut self,
        ids: &mut IdGen,
        org_id: &str,
        user_id: &str,
        role: &str,
        public_metadata: Value,
        private_metadata: Value,
        now_ms: i64,
    ) -> Result<String, ClerkError> {
        if self.membership(org_id, user_id).is_some() {
            let who = self.users.get(user_id).map_or(user_id, |u| u.email.as_str());
            return Err(ClerkError::new(
                StatusCode::BAD_REQUEST,
                "already_a_member_in_organization",
                "already a member",
                &format!("{who} is already a member of the organization."),
            ));
        }
        let id = ids.id("orgmem_", 27);
        self.seq += 1;
        self.org_memberships.insert(
            id.clone(),
            OrgMembership {
                id: id.clone(),
                seq: self.seq,
                organization_id: org_id.to_string(),
                user_id: user_id.to_string(),
                role: role.to_string(),
                public_metadata,
                private_metadata,
                created_at: now_ms,
                updated_at: now_ms,
            },
        );
        Ok(id)
    }

    /// The session token's `o` claim for `user_id` in `org_id` (Clerk's session token v2).
    pub fn org_claim(&self, org_id: &str, user_id: &str) -> Result<Value, ClerkError> {
        let org = self.org(org_id)?;
        let member = self.membership(&org.id, user_id).ok_or_else(not_a_member)?;
        let rol = member.role.strip_prefix("org:").unwrap_or(&member.role);
        Ok(json!({ "id": org.id, "rol": rol, "slg": org.slug }))
    }

    pub fn render_org(&self, org: &Organization) -> Value {
        json!({
            "object": "organization",
            "id": org.id,
            "name": org.name,
            "slug": org.slug,
            "image_url": "https://img.clerk.com/emulator-default-organization",
            "has_image": false,
            "members_count": self.members_of(&org.id).count(),
            "max_allowed_memberships": org.max_allowed_memberships,
            "admin_delete_enabled": org.admin_delete_enabled,
            "public_metadata": org.public_metadata,
            "private_metadata": org.private_metadata,
            "created_by": org.created_by,
            "created_at": org.created_at,
            "updated_at": org.updated_at,
        })
    }

    pub fn render_membership(&self, m: &OrgMembership) -> Value {
        let user = self.users.get(&m.user_id);
        let image = user.map(|_| "https://img.clerk.com/emulator-default-avatar");
        let r = role(&m.role).ok();
        json!({
            "object": "organization_membership",
            "id": m.id,
            "role": m.role,
            "role_name": r.map(|r| r.name),
            "permissions": r.map(|r| r.permissions).unwrap_or_default(),
            "public_metadata": m.public_metadata,
            "private_metadata": m.private_metadata,
            "organization": self.organizations.get(&m.organization_id).map(|o| self.render_org(o)),
            "public_user_data": {
                "user_id": m.user_id,
                "first_name": user.and_then(|u| u.first_name.clone()),
                "last_name": user.and_then(|u| u.last_name.clone()),
                "profile_image_url": image,
                "image_url": image,
                "has_image": false,
                "identifier": user.map(|u| u.email.clone()),
                "username": null,
            },
            "created_at": m.created_at,
            "updated_at": m.updated_at,
        })
    }

    /// `issuer` is the instance's base URL (`…/clerk/<instance>`), where the accept page is.
    pub fn render_invitation(&self, inv: &OrgInvitation, issuer: &str, now_ms: i64) -> Value {
        let inviter = inv.inviter_id.as_ref().and_then(|id| self.users.get(id));
        json!({
            "object": "organization_invitation",
            "id": inv.id,
            "email_address": inv.email,
            "role": inv.role,
            "role_name": role(&inv.role).map(|r| r.name).unwrap_or_default(),
            "organization_id": inv.organization_id,
            "inviter_id": inv.inviter_id,
            "public_inviter_data": inviter.map(|u| json!({
                "user_id": u.id,
                "first_name": u.first_name,
                "last_name": u.last_name,
                "image_url": "https://img.clerk.com/emulator-default-avatar",
                "has_image": false,
                "identifier": u.email,
            })),
            "status": inv.status_at(now_ms),
            "public_metadata": inv.public_metadata,
            "private_metadata": inv.private_metadata,
            "url": accept_url(issuer, &inv.ticket),
            "expires_at": inv.expires_at,
            "created_at": inv.created_at,
            "updated_at": inv.updated_at,
        })
    }
}

/// The emailed link: the emulator's page that accepts the invitation.
pub fn accept_url(issuer: &str, ticket: &str) -> String {
    format!("{issuer}/accept-invitation?ticket={ticket}")
}

/// The instance, or Clerk's 404 (the name was checked before; this is for the borrow).
pub(super) fn instance_mut<'a>(db: &'a mut crate::state::Db, name: &str) -> Result<&'a mut ClerkInstance, ClerkError> {
    db.clerk
        .get_mut(name)
        .ok_or_else(|| ClerkError::not_found("No such instance"))
}
