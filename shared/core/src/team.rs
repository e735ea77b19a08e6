//! Teams: who may do what on a platform. A platform belongs to an organization whose members
//! each hold one role; every route of the dashboard's workers names the action it performs and
//! asks the caller's role, server-side, before doing anything.

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::{
    error::{ApiError, ErrorCode},
    mode::Mode,
};

/// A member's role, from most to least trusted.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum Role {
    /// Everything: members, the platform's own $15 plan, and all an admin may do.
    Owner,
    /// Projects, tiers, keys, Stripe, webhooks and going live, in both modes.
    Admin,
    /// Test mode: projects, tiers, test keys, test webhooks and codes; live is read-only.
    Developer,
    /// Reads everything but secrets, which no read ever returns; changes nothing.
    Viewer,
}

impl Role {
    pub const ALL: [Role; 4] = [Role::Owner, Role::Admin, Role::Developer, Role::Viewer];

    pub fn parse(raw: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|r| r.as_str() == raw)
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Owner => "owner",
            Self::Admin => "admin",
            Self::Developer => "developer",
            Self::Viewer => "viewer",
        }
    }

    /// The role's key in the Clerk instance (custom organization roles, see the README).
    pub fn clerk_role(self) -> String {
        format!("org:{}", self.as_str())
    }

    /// Whether this role may perform `action`: roles are ordered, each action needs one.
    pub fn may(self, action: Action) -> bool {
        self <= action.needs()
    }

    /// `Ok` if this role may perform `action`, else the 403 that names the role it needs.
    pub fn authorize(self, action: Action) -> Result<(), ApiError> {
        if self.may(action) {
            return Ok(());
        }
        let needed = action.needs();
        Err(ApiError::new(
            ErrorCode::Forbidden,
            format!(
                "{} needs the {needed} role or higher; your role in this organization is {self}",
                action.describe()
            ),
        )
        .with_detail("requiredRole", needed)
        .with_detail("role", self))
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What a request does, as far as roles are concerned.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    /// Reading projects, figures, tiers, events, the audit log and exports (never a secret).
    Read,
    /// Creating or changing a project's configuration, keys, codes, orders or webhooks in a mode.
    Change(Mode),
    /// Promoting a test project to live.
    GoLive,
    /// Connecting the platform's Stripe account.
    ConnectStripe,
    /// The platform's own dream-api plan.
    Billing,
    /// Inviting, removing and changing the roles of members.
    ManageMembers,
}

impl Action {
    /// The least trusted role allowed to perform it.
    pub fn needs(self) -> Role {
        match self {
            Self::Read => Role::Viewer,
            Self::Change(Mode::Test) => Role::Developer,
            Self::Change(Mode::Live) | Self::GoLive | Self::ConnectStripe => Role::Admin,
            Self::Billing | Self::ManageMembers => Role::Owner,
        }
    }

    fn describe(self) -> &'static str {
        match self {
            Self::Read => "Reading this platform",
            Self::Change(Mode::Test) => "Changing a test-mode project",
            Self::Change(Mode::Live) => "Changing a live project",
            Self::GoLive => "Going live",
            Self::ConnectStripe => "Connecting Stripe",
            Self::Billing => "Managing the dream-api plan",
            Self::ManageMembers => "Managing members",
        }
    }
}

/// How long an invitation stays acceptable unless the owner says otherwise (Clerk's default).
pub const DEFAULT_INVITATION_DAYS: u32 = 7;
pub const MAX_INVITATION_DAYS: u32 = 30;
/// Members and pending invitations together: far above a team sharing one account, and the
/// bound on what one organization can store.
pub const MAX_MEMBERS: usize = 100;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn roles_are_ordered_by_trust() {
        use Action::*;
        let table = [
            (Read, [true, true, true, true]),
            (Change(Mode::Test), [true, true, true, false]),
            (Change(Mode::Live), [true, true, false, false]),
            (GoLive, [true, true, false, false]),
            (ConnectStripe, [true, true, false, false]),
            (Billing, [true, false, false, false]),
            (ManageMembers, [true, false, false, false]),
        ];
        for (action, allowed) in table {
            for (role, allowed) in Role::ALL.into_iter().zip(allowed) {
                assert_eq!(role.may(action), allowed, "{role} {action:?}");
            }
        }
    }

    #[test]
    fn a_refusal_is_403_and_names_the_role_needed() {
        let error = Role::Developer.authorize(Action::Change(Mode::Live)).unwrap_err();
        assert_eq!(error.status().as_u16(), 403);
        assert_eq!(error.code(), ErrorCode::Forbidden);
        assert!(error.message().contains("admin role"), "{}", error.message());
        assert!(Role::Viewer.authorize(Action::Read).is_ok());
    }

    #[test]
    fn roles_round_trip_and_map_to_clerk() {
        for role in Role::ALL {
            assert_eq!(Role::parse(role.as_str()), Some(role));
        }
        assert_eq!(Role::parse("superuser"), None);
        assert_eq!(Role::Viewer.clerk_role(), "org:viewer");
    }
}
