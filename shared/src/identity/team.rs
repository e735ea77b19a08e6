//! What the dashboard's team routes do: members and their roles, invitations by email, and
//! leaving. D1 decides access (every request reads the caller's membership); the platform's
//! Clerk organization mirrors it and sends the invitation emails, so a Clerk failure after D1
//! has committed is logged, never undone.

use serde_json::json;

use super::Developer;
use crate::{
    runtime::log,
    storage::{
        PlatformScope,
        audit::Actor,
        team::{InvitationRow, NewInvitation, stored_role},
    },
    upstream::clerk::ClerkBackend,
};
use dream_core::{
    ErrorCode,
    api::team::{InvitationAccepted, InvitationView, InviteRequest, MemberView, TeamView},
    error::{ApiError, ApiResult},
    input::parse_email,
    keys::random_id,
    period::Timestamp,
    team::{Action, MAX_MEMBERS, Role},
};

/// What the team routes call: the developers' Clerk instance and where invitations land.
pub struct TeamDeps<'a> {
    pub clerk: &'a ClerkBackend,
    pub dashboard_url: &'a str,
}

fn no_member() -> ApiError {
    ApiError::not_found("No member with that user id in this organization")
}

fn no_invitation() -> ApiError {
    ApiError::not_found("No such invitation")
}

/// GET /team
pub async fn team(platform: &PlatformScope, now: Timestamp) -> ApiResult<TeamView> {
    platform.authorize(Action::Read)?;
    Ok(TeamView {
        platform_id: platform.platform().platform_id.clone(),
        user_id: platform.caller().user_id.clone(),
        role: platform.caller().role,
        members: platform.members().await?,
        invitations: platform.pending_invitations(now).await?,
    })
}

/// The platform's Clerk organization, made on first need with the caller as its owner.
async fn organization(platform: &PlatformScope, clerk: &ClerkBackend) -> ApiResult<String> {
    if let Some(id) = &platform.platform().clerk_org_id {
        return Ok(id.clone());
    }
    let p = platform.platform();
    let owner = &platform.caller().user_id;
    let name = match &platform.caller().email {
        Some(email) => format!("{email}'s team"),
        None => format!("dream-api {}", p.platform_id),
    };
    let made = clerk.create_organization(&name, owner, &p.platform_id).await?;
    // Clerk makes its creator `org:admin`; the mirror says owner.
    if let Err(e) = clerk
        .set_organization_role(&made, owner, &Role::Owner.clerk_role())
        .await
    {
        log::error(&format!("Clerk organization {made}: making its creator owner: {e}"));
    }
    let standing = platform.set_clerk_org(&made).await?.unwrap_or_else(|| made.clone());
    if standing != made
        && let Err(e) = clerk.delete_organization(&made).await
    {
        // A concurrent invitation made the platform's organization first.
        log::error(&format!("deleting the unused Clerk organization {made}: {e}"));
    }
    Ok(standing)
}

/// POST /team/invitations: Clerk emails it; the person accepts by signing in with that email.
pub async fn invite(
    platform: &PlatformScope,
    deps: &TeamDeps<'_>,
    request: &InviteRequest,
    now: Timestamp,
) -> ApiResult<InvitationView> {
    let actor = platform.authorize(Action::ManageMembers)?;
    let email = parse_email(&request.email)?;
    let days = request.days()?;
    if platform.member_with_email(&email).await?.is_some() {
        return Err(ApiError::conflict(format!(
            "{email} is a member of this organization already"
        )));
    }
    let pending = platform.pending_invitations(now).await?;
    if pending
        .iter()
        .any(|i| i.email == email && i.status == dream_core::api::team::InvitationStatus::Pending)
    {
        return Err(ApiError::conflict(format!(
            "{email} has a pending invitation already; revoke it to invite again"
        )));
    }
    if platform.seats(now).await? >= i64::try_from(MAX_MEMBERS).unwrap_or(i64::MAX) {
        return Err(ApiError::conflict(format!(
            "An organization has at most {MAX_MEMBERS} members and pending invitations; remove someone first"
        )));
    }
    let organization = organization(platform, deps.clerk).await?;
    let id = random_id("inv");
    let expires_at = Timestamp(now.0 + i64::from(days) * 86_400);
    let caller = &platform.caller().user_id;
    let clerk_invitation = deps
        .clerk
        .invite_to_organization(
            &organization,
            json!({
                "email_address": email,
                "inviter_user_id": caller,
                "role": request.role.clerk_role(),
                "redirect_url": format!("{}/join?invitation={id}", deps.dashboard_url.trim_end_matches('/')),
                "public_metadata": { "invitationId": id, "platformId": platform.platform().platform_id },
                "expires_in_days": days,
            }),
        )
        .await?;
    let new = NewInvitation {
        id: &id,
        email: &email,
        role: request.role,
        clerk_invitation_id: Some(&clerk_invitation),
        expires_at,
    };
    let audit = actor.entry("member.invited", now).target(email.as_str()).changes(
        None::<()>,
        json!({ "email": email, "role": request.role, "expiresAt": expires_at.to_rfc3339() }),
    );
    if let Err(e) = platform.insert_invitation(&new, &audit, now).await {
        if let Err(undo) = (deps.clerk)
            .revoke_organization_invitation(&organization, &clerk_invitation, caller)
            .await
        {
            log::error(&format!(
                "revoking Clerk invitation {clerk_invitation} after {e}: {undo}"
            ));
        }
        return Err(e);
    }
    platform
        .own_invitation(&id)
        .await?
        .ok_or_else(|| ApiError::internal("invitation missing after recording it"))?
        .view(now)
}

/// DELETE /team/invitations/{id}
pub async fn revoke(
    platform: &PlatformScope,
    deps: &TeamDeps<'_>,
    invitation_id: &str,
    now: Timestamp,
) -> ApiResult<InvitationView> {
    let actor = platform.authorize(Action::ManageMembers)?;
    let invitation = platform
        .own_invitation(invitation_id)
        .await?
        .ok_or_else(no_invitation)?;
    let audit = actor
        .entry("invitation.revoked", now)
        .target(invitation.email.as_str())
        .changes(
            json!({ "email": invitation.email, "role": invitation.role }),
            None::<()>,
        );
    if !platform.revoke_invitation(invitation_id, &audit, now).await? {
        return Err(ApiError::conflict(format!(
            "This invitation is {} already; nothing to revoke",
            invitation.status
        )));
    }
    if let (Some(organization), Some(clerk_id)) = (&platform.platform().clerk_org_id, &invitation.clerk_invitation_id)
        && let Err(e) = (deps.clerk)
            .revoke_organization_invitation(organization, clerk_id, &platform.caller().user_id)
            .await
    {
        log::error(&format!("revoking Clerk invitation {clerk_id}: {e}"));
    }
    let revoked = platform
        .own_invitation(invitation_id)
        .await?
        .ok_or_else(no_invitation)?;
    revoked.view(now)
}

/// POST /team/invitations/{id}/accept: only by someone signed in with the invited email, once,
/// before it expires.
pub async fn accept(developer: &Developer, invitation_id: &str, now: Timestamp) -> ApiResult<InvitationAccepted> {
    let (db, claims, request_id) = developer.parts();
    let invitation: InvitationRow = db.invitation(invitation_id).await?.ok_or_else(no_invitation)?;
    let signed_in_as = developer.email().ok_or_else(|| {
        ApiError::unauthorized("Your session carries no email address, so no invitation can be matched to it")
    })?;
    if signed_in_as != invitation.email {
        return Err(ApiError::new(
            ErrorCode::Forbidden,
            format!(
                "This invitation is for {}; you are signed in as {signed_in_as}",
                invitation.email
            ),
        ));
    }
    match invitation.view(now)?.status {
        dream_core::api::team::InvitationStatus::Pending => {}
        other => {
            return Err(ApiError::conflict(format!(
                "This invitation is {}; ask an owner of the organization for a new one",
                serde_json::to_value(other)
                    .ok()
                    .and_then(|v| v.as_str().map(str::to_owned))
                    .unwrap_or_default()
            )));
        }
    }
    let role = stored_role(&invitation.role)?;
    let actor = Actor {
        platform_id: invitation.platform_id.clone(),
        id: claims.sub.clone(),
        email: Some(signed_in_as.clone()),
        role: Some(role),
        request_id: request_id.to_owned(),
    };
    let audit = actor
        .entry("member.joined", now)
        .target(signed_in_as.as_str())
        .changes(None::<()>, json!({ "email": signed_in_as, "role": role }));
    if !db.accept_invitation(invitation_id, &claims.sub, &audit, now).await? {
        return Err(ApiError::conflict(
            "This invitation was accepted, revoked or expired meanwhile; ask for a new one",
        ));
    }
    Ok(InvitationAccepted {
        success: true,
        platform_id: invitation.platform_id,
        member: MemberView {
            user_id: claims.sub.clone(),
            email: Some(signed_in_as),
            role,
            joined_at: now.to_rfc3339(),
        },
    })
}

/// PUT /team/members/{userId}: never leaves the organization without an owner.
pub async fn set_role(
    platform: &PlatformScope,
    deps: &TeamDeps<'_>,
    user_id: &str,
    role: Role,
    now: Timestamp,
) -> ApiResult<MemberView> {
    let actor = platform.authorize(Action::ManageMembers)?;
    let member = platform.member(user_id).await?.ok_or_else(no_member)?;
    if member.role == role {
        return Ok(member);
    }
    let audit = actor
        .entry("member.role_changed", now)
        .target(member.email.clone().unwrap_or_else(|| user_id.to_owned()))
        .changes(json!({ "role": member.role }), json!({ "role": role }));
    if !platform.set_member_role(user_id, role, &audit, now).await? {
        return Err(refused_change(platform, user_id).await);
    }
    if let Some(organization) = &platform.platform().clerk_org_id
        && let Err(e) = deps
            .clerk
            .set_organization_role(organization, user_id, &role.clerk_role())
            .await
    {
        log::error(&format!("Clerk organization {organization}: role of {user_id}: {e}"));
    }
    platform.member(user_id).await?.ok_or_else(no_member)
}

/// DELETE /team/members/{userId}: an owner removes a member, or a member leaves. Access ends
/// with this request: the next one of the removed member finds no membership.
pub async fn remove(platform: &PlatformScope, deps: &TeamDeps<'_>, user_id: &str, now: Timestamp) -> ApiResult<()> {
    let leaving = platform.caller().user_id == user_id;
    let actor = if leaving {
        platform.authorize(Action::Read)?
    } else {
        platform.authorize(Action::ManageMembers)?
    };
    let member = platform.member(user_id).await?.ok_or_else(no_member)?;
    let audit = actor
        .entry(if leaving { "member.left" } else { "member.removed" }, now)
        .target(member.email.clone().unwrap_or_else(|| user_id.to_owned()))
        .changes(json!({ "email": member.email, "role": member.role }), None::<()>);
    if !platform.remove_member(user_id, &audit).await? {
        return Err(refused_change(platform, user_id).await);
    }
    if let Some(organization) = &platform.platform().clerk_org_id
        && let Err(e) = deps.clerk.remove_organization_member(organization, user_id).await
    {
        log::error(&format!("Clerk organization {organization}: removing {user_id}: {e}"));
    }
    Ok(())
}

/// Why a statement guarded by the last-owner rule changed nothing: that rule, or the member was
/// removed meanwhile (a concurrent request), which is a 404 rather than a misleading 409.
async fn refused_change(platform: &PlatformScope, user_id: &str) -> ApiError {
    match platform.member(user_id).await {
        Ok(Some(_)) => last_owner(),
        Ok(None) => no_member(),
        Err(e) => e,
    }
}

fn last_owner() -> ApiError {
    ApiError::conflict("An organization keeps at least one owner: make another member owner first")
}
