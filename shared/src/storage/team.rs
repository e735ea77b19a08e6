//! Organizations: the members of a platform with their roles, and the invitations an owner
//! sent. Every dashboard request reads the caller's membership here, so a removed member is
//! locked out on their next request whatever their session token still says.

use serde::Deserialize;

use super::{Database, PlatformScope, audit::AuditEntry, platforms::Platform};
use dream_core::{
    api::team::{InvitationStatus, InvitationView, MemberView},
    error::{ApiError, ApiResult, Cause},
    period::Timestamp,
    team::{MAX_MEMBERS, Role},
};

/// The platform a signed-in user opens and their role in it: the one of organization ?2 when
/// the session names one, else the platform they created, else the first they joined.
pub const SELECT_MEMBERSHIP: &str = "\
SELECT p.platformId, p.clerkUserId, p.plan, p.stripeCustomerId, p.stripeSubscriptionId, p.checkoutSessionId,
  p.planEndedAt, p.clerkOrgId, m.role AS memberRole
FROM platform_members m JOIN platforms p ON p.platformId = m.platformId
WHERE m.clerkUserId = ?1 AND (?2 IS NULL OR p.clerkOrgId = ?2)
ORDER BY p.clerkUserId = ?1 DESC, m.createdAt LIMIT 1";

/// The creator of a platform just inserted (the batch's previous statement) is its owner.
/// ?1 platformId, ?2 clerkUserId, ?3 email, ?4 now.
pub const INSERT_FIRST_OWNER: &str = "\
INSERT INTO platform_members (platformId, clerkUserId, email, role, createdAt, updatedAt)
SELECT ?1, ?2, ?3, 'owner', ?4, ?4 WHERE changes() > 0";

/// Keeps the members list's email as the member's session says it. ?1 platformId, ?2 user, ?3 email.
pub const SET_MEMBER_EMAIL: &str = "\
UPDATE platform_members SET email = ?3 WHERE platformId = ?1 AND clerkUserId = ?2 AND email IS NOT ?3";

pub const SELECT_MEMBERS: &str = "\
SELECT clerkUserId, email, role, createdAt FROM platform_members WHERE platformId = ?1 ORDER BY createdAt";

pub const SELECT_MEMBER: &str = "\
SELECT clerkUserId, email, role, createdAt FROM platform_members WHERE platformId = ?1 AND clerkUserId = ?2";

/// Whether someone with email ?2 is a member already.
pub const SELECT_MEMBER_BY_EMAIL: &str = "\
SELECT clerkUserId, email, role, createdAt FROM platform_members WHERE platformId = ?1 AND email = ?2";

macro_rules! select_invitations {
    ($condition:literal) => {
        concat!(
            "SELECT invitationId, platformId, email, role, status, clerkInvitationId, invitedBy, expiresAt, createdAt ",
            "FROM team_invitations WHERE ",
            $condition
        )
    };
}

pub const SELECT_PENDING_INVITATIONS: &str =
    select_invitations!("platformId = ?1 AND status = 'pending' ORDER BY createdAt DESC");

pub const SELECT_INVITATION: &str = select_invitations!("invitationId = ?1");

/// Members and unexpired pending invitations together (?2 now), against `MAX_MEMBERS`.
pub const COUNT_SEATS: &str = "\
SELECT (SELECT COUNT(*) FROM platform_members WHERE platformId = ?1)
     + (SELECT COUNT(*) FROM team_invitations WHERE platformId = ?1 AND status = 'pending' AND expiresAt > ?2) AS seats";

/// Whether organization ?1 is a platform's (else the session's organization is not ours).
pub const SELECT_PLATFORM_OF_ORG: &str = "SELECT platformId FROM platforms WHERE clerkOrgId = ?1";

/// A pending invitation past its expiry no longer holds its email's place. ?1 platformId,
/// ?2 email, ?3 now.
pub const LAPSE_EXPIRED_INVITATION: &str = "\
UPDATE team_invitations SET status = 'revoked', updatedAt = ?3
WHERE platformId = ?1 AND email = ?2 AND status = 'pending' AND expiresAt <= ?3";

/// ?1 invitationId, ?2 platformId, ?3 email, ?4 role, ?5 clerkInvitationId, ?6 invitedBy,
/// ?7 expiresAt, ?8 now, ?9 the seat bound (checked by the statement).
pub const INSERT_INVITATION: &str = "\
INSERT INTO team_invitations (invitationId, platformId, email, role, status, clerkInvitationId, invitedBy,
  expiresAt, createdAt, updatedAt)
SELECT ?1, ?2, ?3, ?4, 'pending', ?5, ?6, ?7, ?8, ?8
WHERE (SELECT COUNT(*) FROM platform_members WHERE platformId = ?2)
    + (SELECT COUNT(*) FROM team_invitations WHERE platformId = ?2 AND status = 'pending' AND expiresAt > ?8) < ?9";

/// ?1 invitationId, ?2 platformId, ?3 now.
pub const REVOKE_INVITATION: &str = "\
UPDATE team_invitations SET status = 'revoked', updatedAt = ?3
WHERE invitationId = ?1 AND platformId = ?2 AND status = 'pending'";

/// ?1 invitationId, ?2 the accepting user, ?3 now.
pub const ACCEPT_INVITATION: &str = "\
UPDATE team_invitations SET status = 'accepted', acceptedBy = ?2, updatedAt = ?3
WHERE invitationId = ?1 AND status = 'pending' AND expiresAt > ?3";

/// The member the previous statement's acceptance makes. ?1 invitationId, ?2 user, ?3 now.
pub const INSERT_INVITED_MEMBER: &str = "\
INSERT INTO platform_members (platformId, clerkUserId, email, role, createdAt, updatedAt)
SELECT platformId, ?2, email, role, ?3, ?3 FROM team_invitations WHERE invitationId = ?1 AND changes() > 0";

/// A role change; an owner's demotion only while another owner stays (checked by the
/// statement, so two owners demoting each other at once cannot leave none).
/// ?1 platformId, ?2 user, ?3 role, ?4 now.
pub const SET_MEMBER_ROLE: &str = "\
UPDATE platform_members SET role = ?3, updatedAt = ?4
WHERE platformId = ?1 AND clerkUserId = ?2
  AND (?3 = 'owner' OR role <> 'owner'
       OR (SELECT COUNT(*) FROM platform_members WHERE platformId = ?1 AND role = 'owner') > 1)";

/// Removes a member, never the last owner. ?1 platformId, ?2 user.
pub const DELETE_MEMBER: &str = "\
DELETE FROM platform_members
WHERE platformId = ?1 AND clerkUserId = ?2
  AND (role <> 'owner' OR (SELECT COUNT(*) FROM platform_members WHERE platformId = ?1 AND role = 'owner') > 1)";

/// The platform's Clerk organization, set once (a concurrent second one loses).
pub const SET_CLERK_ORG: &str = "UPDATE platforms SET clerkOrgId = ?2 WHERE platformId = ?1 AND clerkOrgId IS NULL";

/// A platform with the caller's role in it, as `SELECT_MEMBERSHIP` reads them.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct MembershipRow {
    platform_id: String,
    clerk_user_id: String,
    plan: String,
    stripe_customer_id: Option<String>,
    stripe_subscription_id: Option<String>,
    checkout_session_id: Option<String>,
    plan_ended_at: Option<String>,
    clerk_org_id: Option<String>,
    member_role: String,
}

impl MembershipRow {
    pub(crate) fn into_parts(self) -> ApiResult<(Platform, Role)> {
        let role = stored_role(&self.member_role)?;
        Ok((
            Platform {
                platform_id: self.platform_id,
                clerk_user_id: self.clerk_user_id,
                plan: self.plan,
                stripe_customer_id: self.stripe_customer_id,
                stripe_subscription_id: self.stripe_subscription_id,
                checkout_session_id: self.checkout_session_id,
                plan_ended_at: self.plan_ended_at,
                clerk_org_id: self.clerk_org_id,
            },
            role,
        ))
    }
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct MemberRow {
    clerk_user_id: String,
    email: Option<String>,
    role: String,
    created_at: String,
}

impl MemberRow {
    fn view(self) -> ApiResult<MemberView> {
        Ok(MemberView {
            role: stored_role(&self.role)?,
            user_id: self.clerk_user_id,
            email: self.email,
            joined_at: self.created_at,
        })
    }
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct InvitationRow {
    pub invitation_id: String,
    pub platform_id: String,
    pub email: String,
    pub role: String,
    pub status: String,
    pub clerk_invitation_id: Option<String>,
    pub invited_by: String,
    pub expires_at: String,
    pub created_at: String,
}

impl InvitationRow {
    pub(crate) fn view(&self, now: Timestamp) -> ApiResult<InvitationView> {
        let status = match self.status.as_str() {
            "pending" if self.expires_at.as_str() <= now.to_rfc3339().as_str() => InvitationStatus::Expired,
            "pending" => InvitationStatus::Pending,
            "accepted" => InvitationStatus::Accepted,
            "revoked" => InvitationStatus::Revoked,
            other => return Err(ApiError::internal(format!("invitation status {other:?}"))),
        };
        Ok(InvitationView {
            id: self.invitation_id.clone(),
            email: self.email.clone(),
            role: stored_role(&self.role)?,
            status,
            invited_by: self.invited_by.clone(),
            expires_at: self.expires_at.clone(),
            created_at: self.created_at.clone(),
        })
    }
}

pub(crate) fn stored_role(raw: &str) -> ApiResult<Role> {
    Role::parse(raw).ok_or_else(|| ApiError::internal(format!("stored role {raw:?}")))
}

/// An invitation to record, made in Clerk already.
pub struct NewInvitation<'a> {
    pub id: &'a str,
    pub email: &'a str,
    pub role: Role,
    pub clerk_invitation_id: Option<&'a str>,
    pub expires_at: Timestamp,
}

impl Database {
    pub(crate) async fn membership(
        &self,
        user_id: &str,
        organization: Option<&str>,
    ) -> ApiResult<Option<MembershipRow>> {
        self.first(SELECT_MEMBERSHIP, &[user_id.into(), organization.into()])
            .await
    }

    pub(crate) async fn platform_of_organization(&self, organization: &str) -> ApiResult<Option<String>> {
        #[derive(Deserialize)]
        #[serde(rename_all = "camelCase")]
        struct Row {
            platform_id: String,
        }
        let row: Option<Row> = self.first(SELECT_PLATFORM_OF_ORG, &[organization.into()]).await?;
        Ok(row.map(|r| r.platform_id))
    }

    pub(crate) async fn invitation(&self, invitation_id: &str) -> ApiResult<Option<InvitationRow>> {
        self.first(SELECT_INVITATION, &[invitation_id.into()]).await
    }

    /// Makes the invited user a member, once, while the invitation is pending and unexpired.
    /// False when it was not (accepted or revoked meanwhile, or expired).
    pub(crate) async fn accept_invitation(
        &self,
        invitation_id: &str,
        user_id: &str,
        audit: &AuditEntry,
        now: Timestamp,
    ) -> ApiResult<bool> {
        let params = vec![invitation_id.into(), user_id.into(), now.to_rfc3339().into()];
        let results = self
            .batch(&[
                (ACCEPT_INVITATION, params.clone()),
                (INSERT_INVITED_MEMBER, params),
                audit.statement_if_changed(),
            ])
            .await
            .map_err(|e| match e.cause() {
                Some(Cause::Unique(_)) => ApiError::conflict("You are a member of this organization already"),
                _ => e.context("accepting an invitation"),
            })?;
        Ok(results.get(1).is_some_and(|r| r.changes() == 1))
    }
}

impl PlatformScope {
    pub async fn members(&self) -> ApiResult<Vec<MemberView>> {
        let rows: Vec<MemberRow> = self.db.all(SELECT_MEMBERS, &[self.platform_param()]).await?;
        rows.into_iter().map(MemberRow::view).collect()
    }

    pub async fn member(&self, user_id: &str) -> ApiResult<Option<MemberView>> {
        let row: Option<MemberRow> = self
            .db
            .first(SELECT_MEMBER, &[self.platform_param(), user_id.into()])
            .await?;
        row.map(MemberRow::view).transpose()
    }

    pub async fn member_with_email(&self, email: &str) -> ApiResult<Option<MemberView>> {
        let row: Option<MemberRow> = self
            .db
            .first(SELECT_MEMBER_BY_EMAIL, &[self.platform_param(), email.into()])
            .await?;
        row.map(MemberRow::view).transpose()
    }

    /// Records the email the caller's session carries, for the members list.
    pub async fn remember_member_email(&self, email: &str) -> ApiResult<()> {
        self.db
            .run(
                SET_MEMBER_EMAIL,
                &[self.platform_param(), self.caller.user_id.as_str().into(), email.into()],
            )
            .await
            .map(|_| ())
    }

    pub async fn pending_invitations(&self, now: Timestamp) -> ApiResult<Vec<InvitationView>> {
        let rows: Vec<InvitationRow> = self
            .db
            .all(SELECT_PENDING_INVITATIONS, &[self.platform_param()])
            .await?;
        rows.iter().map(|r| r.view(now)).collect()
    }

    /// One of this platform's invitations; anyone else's is `None`.
    pub(crate) async fn own_invitation(&self, invitation_id: &str) -> ApiResult<Option<InvitationRow>> {
        Ok(self
            .db
            .invitation(invitation_id)
            .await?
            .filter(|i| i.platform_id == self.platform.platform_id))
    }

    /// Members and unexpired pending invitations.
    pub async fn seats(&self, now: Timestamp) -> ApiResult<i64> {
        #[derive(Deserialize)]
        struct Seats {
            seats: i64,
        }
        let row: Option<Seats> = self
            .db
            .first(COUNT_SEATS, &[self.platform_param(), now.to_rfc3339().into()])
            .await?;
        Ok(row.map_or(0, |r| r.seats))
    }

    pub async fn insert_invitation(
        &self,
        new: &NewInvitation<'_>,
        audit: &AuditEntry,
        now: Timestamp,
    ) -> ApiResult<()> {
        let now_text = now.to_rfc3339();
        let results = self
            .db
            .batch(&[
                (
                    LAPSE_EXPIRED_INVITATION,
                    vec![self.platform_param(), new.email.into(), now_text.as_str().into()],
                ),
                (
                    INSERT_INVITATION,
                    vec![
                        new.id.into(),
                        self.platform_param(),
                        new.email.into(),
                        new.role.as_str().into(),
                        new.clerk_invitation_id.into(),
                        self.caller.user_id.as_str().into(),
                        new.expires_at.to_rfc3339().into(),
                        now_text.as_str().into(),
                        i64::try_from(MAX_MEMBERS).unwrap_or(i64::MAX).into(),
                    ],
                ),
                audit.statement_if_changed(),
            ])
            .await
            .map_err(|e| match e.cause() {
                Some(Cause::Unique(_)) => ApiError::conflict(format!("{} has a pending invitation already", new.email)),
                _ => e.context("recording an invitation"),
            })?;
        if results.get(1).is_some_and(|r| r.changes() == 0) {
            return Err(seats_full());
        }
        Ok(())
    }

    /// False when the invitation was not pending (accepted or revoked meanwhile).
    pub async fn revoke_invitation(&self, invitation_id: &str, audit: &AuditEntry, now: Timestamp) -> ApiResult<bool> {
        let results = self
            .db
            .batch(&[
                (
                    REVOKE_INVITATION,
                    vec![invitation_id.into(), self.platform_param(), now.to_rfc3339().into()],
                ),
                audit.statement_if_changed(),
            ])
            .await?;
        Ok(results.first().is_some_and(|r| r.changes() == 1))
    }

    /// False when the change would leave no owner (or the member is gone).
    pub async fn set_member_role(
        &self,
        user_id: &str,
        role: Role,
        audit: &AuditEntry,
        now: Timestamp,
    ) -> ApiResult<bool> {
        let results = self
            .db
            .batch(&[
                (
                    SET_MEMBER_ROLE,
                    vec![
                        self.platform_param(),
                        user_id.into(),
                        role.as_str().into(),
                        now.to_rfc3339().into(),
                    ],
                ),
                audit.statement_if_changed(),
            ])
            .await?;
        Ok(results.first().is_some_and(|r| r.changes() == 1))
    }

    /// False when the member is the last owner (or gone).
    pub async fn remove_member(&self, user_id: &str, audit: &AuditEntry) -> ApiResult<bool> {
        let results = self
            .db
            .batch(&[
                (DELETE_MEMBER, vec![self.platform_param(), user_id.into()]),
                audit.statement_if_changed(),
            ])
            .await?;
        Ok(results.first().is_some_and(|r| r.changes() == 1))
    }

    /// Records the platform's Clerk organization; returns the one that stands (another request
    /// may have made one first).
    pub async fn set_clerk_org(&self, organization: &str) -> ApiResult<Option<String>> {
        let results = self
            .db
            .batch(&[
                (SET_CLERK_ORG, vec![self.platform_param(), organization.into()]),
                (super::platforms::SELECT_PLATFORM_BY_ID, vec![self.platform_param()]),
            ])
            .await?;
        let platform = results
            .get(1)
            .map(|r| r.rows::<Platform>())
            .transpose()?
            .and_then(|rows| rows.into_iter().next());
        Ok(platform.and_then(|p| p.clerk_org_id))
    }
}

fn seats_full() -> ApiError {
    ApiError::conflict(format!(
        "An organization has at most {MAX_MEMBERS} members and pending invitations; remove someone first"
    ))
    .with_detail("maxMembers", MAX_MEMBERS)
}
