//! Organizations in D1: the founder owns the platform, an invitation makes a member once, the
//! last owner stays, a session's organization picks the platform, and only changes that
//! happened leave an audit entry.

use serde_json::json;

use super::{fixture, now};
use crate::identity::session_tokens::SessionClaims;
use crate::storage::team::NewInvitation;
use dream_core::{
    ErrorCode,
    api::team::AuditQuery,
    period::Timestamp,
    team::{Action, Role},
};

fn session(user: &str, email: &str, organization: Option<&str>) -> SessionClaims {
    let mut claims = json!({"sub": user, "iss": "https://clerk.native.test", "exp": i64::MAX, "email": email});
    if let Some(org) = organization {
        claims["o"] = json!({"id": org, "rol": "admin"});
    }
    serde_json::from_value(claims).unwrap()
}

#[tokio::test]
async fn a_member_joins_once_and_the_last_owner_stays() {
    let f = fixture().await;
    let founder =
        crate::identity::Developer::verified(session("user_founder", "Founder@Example.com", None), f.db.clone());
    let (platform, created) = founder.ensure_platform(now()).await.unwrap();
    assert!(created);
    assert_eq!(platform.caller().role, Role::Owner);
    let members = platform.members().await.unwrap();
    assert_eq!(
        (members.len(), members[0].email.as_deref()),
        (1, Some("founder@example.com"))
    );
    let id = platform.platform().platform_id.clone();

    // An invitation, accepted by the invited email's session, once.
    let expires = Timestamp(now().0 + 86_400);
    let invite = NewInvitation {
        id: "inv_native1",
        email: "dev@example.com",
        role: Role::Developer,
        clerk_invitation_id: None,
        expires_at: expires,
    };
    let actor = platform.authorize(Action::ManageMembers).unwrap();
    platform
        .insert_invitation(&invite, &actor.entry("member.invited", now()), now())
        .await
        .unwrap();
    let same_email = NewInvitation {
        id: "inv_native2",
        ..invite
    };
    let twice = (platform.insert_invitation(&same_email, &actor.entry("member.invited", now()), now())).await;
    assert_eq!(twice.unwrap_err().code(), ErrorCode::Conflict);
    let dev = crate::identity::Developer::verified(session("user_dev", "dev@example.com", None), f.db.clone());
    let accepted = crate::identity::team::accept(&dev, "inv_native1", now()).await.unwrap();
    assert_eq!(accepted.member.role, Role::Developer);
    let again = crate::identity::team::accept(&dev, "inv_native1", now())
        .await
        .unwrap_err();
    assert_eq!(again.code(), ErrorCode::Conflict);
    let stranger = crate::identity::Developer::verified(session("user_x", "x@example.com", None), f.db.clone());
    let stolen = crate::identity::team::accept(&stranger, "inv_native1", now())
        .await
        .unwrap_err();
    assert_eq!(stolen.code(), ErrorCode::Forbidden);

    // The developer opens the founder's platform, with their role.
    let dev = crate::identity::Developer::verified(session("user_dev", "dev@example.com", None), f.db.clone());
    let theirs = dev.platform().await.unwrap();
    assert_eq!(
        (theirs.platform().platform_id.as_str(), theirs.caller().role),
        (id.as_str(), Role::Developer)
    );
    assert_eq!(
        theirs.authorize(Action::GoLive).unwrap_err().code(),
        ErrorCode::Forbidden
    );

    // The last owner can neither step down nor go; a second owner makes both possible.
    let actor = platform.authorize(Action::ManageMembers).unwrap();
    let entry = || actor.entry("member.role_changed", now());
    assert!(
        !platform
            .set_member_role("user_founder", Role::Admin, &entry(), now())
            .await
            .unwrap()
    );
    assert!(!platform.remove_member("user_founder", &entry()).await.unwrap());
    assert!(
        platform
            .set_member_role("user_dev", Role::Owner, &entry(), now())
            .await
            .unwrap()
    );
    assert!(
        platform
            .set_member_role("user_founder", Role::Admin, &entry(), now())
            .await
            .unwrap()
    );

    // Only what happened is in the log: the refused changes left nothing.
    let log = platform.audit_page(&AuditQuery::default(), 50).await.unwrap();
    let actions: Vec<&str> = log.iter().map(|e| e.action.as_str()).collect();
    assert_eq!(
        actions,
        [
            "member.role_changed",
            "member.role_changed",
            "member.joined",
            "member.invited",
            "platform.created"
        ]
    );
    assert_eq!(log[2].actor.id, "user_dev");
}

#[tokio::test]
async fn the_session_organization_picks_the_platform() {
    let f = fixture().await;
    let founder = crate::identity::Developer::verified(session("user_org", "org@example.com", None), f.db.clone());
    let (platform, _) = founder.ensure_platform(now()).await.unwrap();
    assert_eq!(
        platform.set_clerk_org("org_native").await.unwrap().as_deref(),
        Some("org_native")
    );
    // A second organization for the same platform does not replace the first.
    assert_eq!(
        platform.set_clerk_org("org_other").await.unwrap().as_deref(),
        Some("org_native")
    );

    let with_org =
        crate::identity::Developer::verified(session("user_org", "org@example.com", Some("org_native")), f.db.clone());
    assert!(with_org.platform().await.is_ok());
    // Another platform's organization, which the user is not in: refused.
    let other = crate::identity::Developer::verified(session("user_other", "other@example.com", None), f.db.clone());
    let (theirs, _) = other.ensure_platform(now()).await.unwrap();
    theirs.set_clerk_org("org_theirs").await.unwrap();
    let elsewhere =
        crate::identity::Developer::verified(session("user_org", "org@example.com", Some("org_theirs")), f.db.clone());
    assert_eq!(
        elsewhere.platform().await.err().map(|e| e.code()),
        Some(ErrorCode::Forbidden)
    );
    // An organization that is no platform's (made in Clerk by the user): as if none.
    let unknown = crate::identity::Developer::verified(
        session("user_org", "org@example.com", Some("org_made_in_clerk")),
        f.db.clone(),
    );
    assert_eq!(
        unknown.platform().await.unwrap().platform().platform_id,
        platform.platform().platform_id
    );
    let nobody = crate::identity::Developer::verified(session("user_none", "none@example.com", None), f.db.clone());
    assert_eq!(
        nobody.platform().await.err().map(|e| e.code()),
        Some(ErrorCode::NotFound)
    );
}
