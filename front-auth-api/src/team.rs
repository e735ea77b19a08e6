//! The organization behind a platform: members, roles, invitations, and the audit log. The
//! rules are `shared::identity::team`; every route checks the caller's role there.

use std::sync::Arc;

use axum::{
    Json,
    extract::{Path, Query, State},
    http::{HeaderValue, header},
    response::{IntoResponse, Response},
};

use dream_core::{
    ApiResult,
    api::team::{
        AuditPage, AuditQuery, ExportQuery, InvitationAccepted, InvitationCreated, InvitationRevoked, InviteRequest,
        MemberRemoved, MemberSaved, RoleChange, TeamView,
    },
    team::Action,
};
use shared::{
    identity::{
        DeveloperSession,
        team::{self, TeamDeps},
    },
    projects::exports,
    runtime::clock,
};

use crate::settings::Settings;

/// GET /team — the caller's role, the members and pending invitations.
#[worker::send]
pub async fn show(DeveloperSession(developer): DeveloperSession) -> ApiResult<Json<TeamView>> {
    let platform = developer.platform().await?;
    Ok(Json(team::team(&platform, clock::now()).await?))
}

/// POST /team/invitations — owners invite by email, with a role.
#[worker::send]
pub async fn invite(
    State(settings): State<Arc<Settings>>,
    DeveloperSession(developer): DeveloperSession,
    Json(request): Json<InviteRequest>,
) -> ApiResult<Json<InvitationCreated>> {
    let platform = developer.platform().await?;
    let clerk = settings.developer_clerk()?;
    let deps = TeamDeps {
        clerk: &clerk,
        dashboard_url: settings.dashboard_url.get()?,
    };
    let invitation = team::invite(&platform, &deps, &request, clock::now()).await?;
    Ok(Json(InvitationCreated {
        success: true,
        invitation,
    }))
}

/// DELETE /team/invitations/{id} — an owner takes a pending invitation back.
#[worker::send]
pub async fn revoke(
    State(settings): State<Arc<Settings>>,
    DeveloperSession(developer): DeveloperSession,
    Path(invitation_id): Path<String>,
) -> ApiResult<Json<InvitationRevoked>> {
    let platform = developer.platform().await?;
    let clerk = settings.developer_clerk()?;
    let deps = TeamDeps {
        clerk: &clerk,
        dashboard_url: settings.dashboard_url.get()?,
    };
    let invitation = team::revoke(&platform, &deps, &invitation_id, clock::now()).await?;
    Ok(Json(InvitationRevoked {
        success: true,
        invitation,
    }))
}

/// POST /team/invitations/{id}/accept — the invited person, signed in with the invited email.
#[worker::send]
pub async fn accept(
    DeveloperSession(developer): DeveloperSession,
    Path(invitation_id): Path<String>,
) -> ApiResult<Json<InvitationAccepted>> {
    Ok(Json(team::accept(&developer, &invitation_id, clock::now()).await?))
}

/// PUT /team/members/{userId} — an owner changes a member's role.
#[worker::send]
pub async fn set_role(
    State(settings): State<Arc<Settings>>,
    DeveloperSession(developer): DeveloperSession,
    Path(user_id): Path<String>,
    Json(change): Json<RoleChange>,
) -> ApiResult<Json<MemberSaved>> {
    let platform = developer.platform().await?;
    let clerk = settings.developer_clerk()?;
    let deps = TeamDeps {
        clerk: &clerk,
        dashboard_url: settings.dashboard_url.get()?,
    };
    let member = team::set_role(&platform, &deps, &user_id, change.role, clock::now()).await?;
    Ok(Json(MemberSaved { success: true, member }))
}

/// DELETE /team/members/{userId} — an owner removes a member; anyone may remove themselves.
#[worker::send]
pub async fn remove(
    State(settings): State<Arc<Settings>>,
    DeveloperSession(developer): DeveloperSession,
    Path(user_id): Path<String>,
) -> ApiResult<Json<MemberRemoved>> {
    let platform = developer.platform().await?;
    let clerk = settings.developer_clerk()?;
    let deps = TeamDeps {
        clerk: &clerk,
        dashboard_url: settings.dashboard_url.get()?,
    };
    team::remove(&platform, &deps, &user_id, clock::now()).await?;
    Ok(Json(MemberRemoved {
        success: true,
        removed: user_id,
    }))
}

/// GET /audit-log — every change to the platform, newest first, filtered and paged.
#[worker::send]
pub async fn audit_log(
    DeveloperSession(developer): DeveloperSession,
    Query(query): Query<AuditQuery>,
) -> ApiResult<Json<AuditPage>> {
    let platform = developer.platform().await?;
    platform.authorize(Action::Read)?;
    let limit = query.checked_limit()?;
    let entries = platform.audit_page(&query, limit + 1).await?;
    Ok(Json(AuditPage::of(entries, limit)))
}

/// GET /exports/{kind}?publishableKey=&format=csv|json&period=YYYY-MM — a file streamed a page
/// of rows at a time.
#[worker::send]
pub async fn export(
    DeveloperSession(developer): DeveloperSession,
    Path(kind): Path<String>,
    Query(query): Query<ExportQuery>,
) -> ApiResult<Response> {
    let platform = developer.platform().await?;
    let (source, filename) = exports::open(&platform, &kind, &query, clock::now()).await?;
    let format = query.format.unwrap_or_default();
    let disposition = format!("attachment; filename=\"{filename}\"");
    let mut response = exports::body(source, format).into_response();
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(format.content_type()));
    if let Ok(value) = HeaderValue::from_str(&disposition) {
        headers.insert(header::CONTENT_DISPOSITION, value);
    }
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    Ok(response)
}
