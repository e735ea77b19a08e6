//! Teams, the audit log and exports (front-auth-api, with the developer's session).

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::{
    error::{ApiError, ApiResult},
    mode::Mode,
    team::{MAX_INVITATION_DAYS, Role},
};

/// `GET /team`: the organization the session opened, the caller's role in it, its members and
/// pending invitations.
#[derive(Debug, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct TeamView {
    pub platform_id: String,
    /// The caller's Clerk user id.
    pub user_id: String,
    /// The caller's role: what the dashboard offers them.
    pub role: Role,
    pub members: Vec<MemberView>,
    /// Pending invitations, newest first (accepted and revoked ones are in the audit log).
    pub invitations: Vec<InvitationView>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct MemberView {
    pub user_id: String,
    /// As the member's session last said (absent for a member who has not signed in since
    /// their platform became an organization).
    pub email: Option<String>,
    pub role: Role,
    pub joined_at: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum InvitationStatus {
    Pending,
    Accepted,
    Revoked,
    /// Pending past its `expiresAt`: it can no longer be accepted.
    Expired,
}

#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct InvitationView {
    pub id: String,
    pub email: String,
    pub role: Role,
    pub status: InvitationStatus,
    /// The Clerk user id of the owner who invited.
    pub invited_by: String,
    pub expires_at: String,
    pub created_at: String,
}

/// `POST /team/invitations`.
#[derive(Debug, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct InviteRequest {
    pub email: String,
    pub role: Role,
    /// 1-30 days; 7 when absent.
    pub expires_in_days: Option<u32>,
}

impl InviteRequest {
    pub fn days(&self) -> ApiResult<u32> {
        match self.expires_in_days {
            None => Ok(crate::team::DEFAULT_INVITATION_DAYS),
            Some(days @ 1..=MAX_INVITATION_DAYS) => Ok(days),
            Some(other) => Err(ApiError::invalid_request(format!(
                "expiresInDays must be from 1 to {MAX_INVITATION_DAYS}, got {other}"
            ))),
        }
    }
}

#[derive(Debug, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct InvitationCreated {
    pub success: bool,
    pub invitation: InvitationView,
}

#[derive(Debug, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct InvitationRevoked {
    pub success: bool,
    pub invitation: InvitationView,
}

/// `POST /team/invitations/{id}/accept`: the invited person, signed in with the invited email.
#[derive(Debug, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct InvitationAccepted {
    pub success: bool,
    pub platform_id: String,
    pub member: MemberView,
}

/// `PUT /team/members/{userId}`.
#[derive(Debug, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct RoleChange {
    pub role: Role,
}

#[derive(Debug, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct MemberSaved {
    pub success: bool,
    pub member: MemberView,
}

/// `DELETE /team/members/{userId}` (a member may remove themselves: leaving).
#[derive(Debug, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct MemberRemoved {
    pub success: bool,
    pub removed: String,
}

/// `GET /audit-log` filters; all optional.
#[derive(Debug, Default, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema, utoipa::IntoParams))]
#[cfg_attr(feature = "openapi", into_params(parameter_in = Query))]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct AuditQuery {
    /// The `nextCursor` of the previous page.
    pub before: Option<String>,
    /// 1-200; 50 when absent.
    pub limit: Option<i64>,
    /// One action (`tier.updated`) or a family ending in a dot (`member.`).
    pub action: Option<String>,
    /// A member's user id or email.
    pub actor: Option<String>,
    pub publishable_key: Option<String>,
    pub mode: Option<Mode>,
    /// RFC 3339: entries at or after it.
    pub since: Option<String>,
}

pub const MAX_AUDIT_PAGE: i64 = 200;
const DEFAULT_AUDIT_PAGE: i64 = 50;

impl AuditQuery {
    /// The page size, and a 400 for a filter that cannot match anything as written.
    pub fn checked_limit(&self) -> ApiResult<i64> {
        if let Some(before) = &self.before
            && !before.parse::<i64>().is_ok_and(|id| id > 0)
        {
            return Err(ApiError::invalid_request("`before` must be a `nextCursor` of this log"));
        }
        if let Some(since) = &self.since
            && crate::period::Timestamp::parse_rfc3339(since).is_none()
        {
            return Err(ApiError::invalid_request(
                "`since` must be an RFC 3339 time such as 2026-12-01T00:00:00Z",
            ));
        }
        for (name, value) in [("action", &self.action), ("actor", &self.actor)] {
            if value.as_ref().is_some_and(|v| v.is_empty() || v.len() > 254) {
                return Err(ApiError::invalid_request(format!("`{name}` must be 1-254 characters")));
            }
        }
        match self.limit {
            None => Ok(DEFAULT_AUDIT_PAGE),
            Some(n @ 1..=MAX_AUDIT_PAGE) => Ok(n),
            Some(n) => Err(ApiError::invalid_request(format!(
                "`limit` must be from 1 to {MAX_AUDIT_PAGE}, got {n}"
            ))),
        }
    }
}

#[derive(Debug, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct AuditPage {
    pub entries: Vec<AuditEntryView>,
    /// Pass as `before` for the next (older) page; absent on the last page.
    pub next_cursor: Option<String>,
}

impl AuditPage {
    /// A page from `limit + 1` entries read: the extra one says there is a next page.
    pub fn of(mut entries: Vec<AuditEntryView>, limit: i64) -> Self {
        let limit = usize::try_from(limit).unwrap_or(usize::MAX);
        let more = entries.len() > limit;
        entries.truncate(limit);
        Self {
            next_cursor: if more {
                entries.last().map(|e| e.id.clone())
            } else {
                None
            },
            entries,
        }
    }
}

#[derive(Debug, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct AuditEntryView {
    pub id: String,
    pub actor: AuditActor,
    /// What was done, as `<object>.<verb>`: `project.created`, `tier.updated`, `key.rotated`,
    /// `project.went_live`, `stripe.connected`, `member.invited`, `member.removed`, ...
    pub action: String,
    pub publishable_key: Option<String>,
    pub mode: Option<Mode>,
    /// The object within the project or platform: a tier's name, an endpoint's id, an email.
    pub target: Option<String>,
    /// `{"before": ..., "after": ...}`; never a secret.
    pub changes: Value,
    pub request_id: String,
    pub created_at: String,
}

#[derive(Debug, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct AuditActor {
    /// A Clerk user id, or `operator` for the platform's staff.
    pub id: String,
    pub email: Option<String>,
    /// The actor's role when they acted.
    pub role: Option<Role>,
}

/// `GET /exports/{kind}`: `customers`, `subscriptions`, `orders`, `usage` (of one project and
/// mode) or `audit-log` (of the platform, or of one project).
#[derive(Debug, Default, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema, utoipa::IntoParams))]
#[cfg_attr(feature = "openapi", into_params(parameter_in = Query))]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ExportQuery {
    pub publishable_key: Option<String>,
    /// `csv` (the default) or `json` (one array).
    pub format: Option<crate::exports::ExportFormat>,
    /// Usage only: the month (`YYYY-MM`) the periods start in; every period when absent.
    pub period: Option<String>,
}
