//! Teams (issue 28): an owner invites a viewer, a developer and an admin by email; each
//! accepts through the emulated Clerk's page and the dashboard. The viewer reads everything but
//! changes nothing and never sees a secret; the developer works in test mode only; the admin
//! goes live; a removed member is locked out on their next request; and every one of those
//! actions is in the audit log with its actor and role.

use e2e::{
    TestEnv,
    journey::{Developer, TestProject, create_project, onboarded_developer, saas_body, unique_email},
    team::{accept_on_clerk, claims, invitation_link, join},
};
use reqwest::Method;
use serde_json::{Value, json};

const TIERS: &[(&str, Option<u64>, f64)] = &[("free", Some(3), 0.0), ("pro", Some(10), 9.99)];

fn entries(page: &Value) -> Vec<Value> {
    page["entries"].as_array().cloned().unwrap_or_default()
}

/// The newest entry with `action`, if any.
fn find<'a>(log: &'a [Value], action: &str) -> Option<&'a Value> {
    log.iter().find(|e| e["action"] == action)
}

fn tier_edit(pk: &str, limit: u64) -> Value {
    json!({"publishableKey": pk, "tier": {"name": "free", "price": 0, "limit": limit}})
}

/// Every text a member may read, with no secret key or signing secret in any of them.
async fn assert_no_secrets(member: &Developer, pk: &str) {
    let reads = [
        member.front(Method::GET, "/projects", None).await,
        member.front(Method::GET, "/get-credentials", None).await,
        member
            .front(Method::GET, &format!("/dashboard?publishableKey={pk}"), None)
            .await,
        member.front(Method::GET, "/team", None).await,
        member.front(Method::GET, "/audit-log?limit=200", None).await,
        member
            .oauth(Method::GET, &format!("/tiers?publishableKey={pk}"), None)
            .await,
        member
            .oauth(Method::GET, &format!("/webhook-endpoints?publishableKey={pk}"), None)
            .await,
    ];
    for reply in reads {
        assert_eq!(reply.status, 200, "{:?}", reply.body);
        let text = reply.body.to_string();
        for secret in ["sk_test_", "sk_live_", "whsec_"] {
            assert!(!text.contains(secret), "a viewer read {secret}…: {text}");
        }
    }
}

#[tokio::test]
async fn roles_decide_what_each_member_may_do_and_the_log_says_who_did_it() {
    let env = TestEnv::get();
    let owner = onboarded_developer(&env, "owner").await.unwrap();
    let test: TestProject = create_project(&owner, saas_body("Team app", TIERS)).await.unwrap();
    let pk = test.publishable_key.as_str();
    // An endpoint with a signing secret, so the viewer's reads include where one could leak.
    let endpoint = owner
        .oauth(
            Method::POST,
            "/webhook-endpoints",
            Some(json!({"publishableKey": pk, "url": "https://example.com/hooks", "eventTypes": ["*"]})),
        )
        .await;
    assert_eq!(endpoint.status, 200, "{:?}", endpoint.body);

    let (viewer, joined) = join(&env, &owner, "viewer").await.unwrap();
    assert_eq!(
        (joined.status, joined.body["member"]["role"].as_str()),
        (200, Some("viewer")),
        "{:?}",
        joined.body
    );
    let (developer, joined) = join(&env, &owner, "developer").await.unwrap();
    assert_eq!(joined.status, 200, "{:?}", joined.body);
    let (admin, joined) = join(&env, &owner, "admin").await.unwrap();
    assert_eq!(joined.status, 200, "{:?}", joined.body);
    // Clerk's session carries the organization it was accepted for.
    assert!(
        claims(&viewer.token)["o"]["id"]
            .as_str()
            .is_some_and(|o| o.starts_with("org_"))
    );

    // The viewer sees the owner's projects and figures, and no secret anywhere.
    let projects = viewer.front(Method::GET, "/projects", None).await;
    assert_eq!(projects.status, 200, "{:?}", projects.body);
    assert!(projects.body.to_string().contains(pk));
    let team = viewer.front(Method::GET, "/team", None).await;
    assert_eq!(
        (
            team.body["role"].as_str(),
            team.body["members"].as_array().map(Vec::len)
        ),
        (Some("viewer"), Some(4))
    );
    assert_no_secrets(&viewer, pk).await;

    // ... and changes nothing: each refusal is a 403 naming the role it needs.
    let rotate = viewer
        .oauth(
            Method::POST,
            "/rotate-key",
            Some(json!({"publishableKey": pk, "gracePeriod": "none"})),
        )
        .await;
    assert_eq!(
        (rotate.status, rotate.error_code()),
        (403, "forbidden"),
        "{:?}",
        rotate.body
    );
    assert_eq!(
        (rotate.body["requiredRole"].as_str(), rotate.body["role"].as_str()),
        (Some("developer"), Some("viewer"))
    );
    let edit = viewer.oauth(Method::PUT, "/tiers", Some(tier_edit(pk, 4))).await;
    assert_eq!(edit.status, 403, "{:?}", edit.body);
    let create = viewer
        .oauth(Method::POST, "/create-products", Some(saas_body("Nope", TIERS)))
        .await;
    assert_eq!(create.status, 403, "{:?}", create.body);
    let invite = viewer
        .front(
            Method::POST,
            "/team/invitations",
            Some(json!({"email": unique_email("x"), "role": "admin"})),
        )
        .await;
    assert_eq!(
        (invite.status, invite.body["requiredRole"].as_str()),
        (403, Some("owner")),
        "{:?}",
        invite.body
    );
    let pay = viewer.front(Method::POST, "/create-checkout", None).await;
    assert_eq!(pay.status, 403, "{:?}", pay.body);

    // The developer works in test mode...
    let edited = developer.oauth(Method::PUT, "/tiers", Some(tier_edit(pk, 5))).await;
    assert_eq!(edited.status, 200, "{:?}", edited.body);
    let promote = developer
        .oauth(Method::POST, "/promote-to-live", Some(json!({"publishableKey": pk})))
        .await;
    assert_eq!(
        (promote.status, promote.body["requiredRole"].as_str()),
        (403, Some("admin")),
        "{:?}",
        promote.body
    );

    // ... the admin goes live ...
    let live = admin
        .oauth(Method::POST, "/promote-to-live", Some(json!({"publishableKey": pk})))
        .await;
    assert_eq!(live.status, 200, "{:?}", live.body);
    let live_pk = live.body["project"]["publishableKey"].as_str().unwrap().to_owned();
    assert!(live_pk.starts_with("pk_live_"));

    // ... and live is read-only for the developer.
    let tiers = developer
        .oauth(Method::GET, &format!("/tiers?publishableKey={live_pk}"), None)
        .await;
    assert_eq!(tiers.status, 200, "{:?}", tiers.body);
    for refused in [
        developer
            .oauth(Method::PUT, "/tiers", Some(tier_edit(&live_pk, 6)))
            .await,
        developer
            .oauth(
                Method::POST,
                "/rotate-key",
                Some(json!({"publishableKey": live_pk, "gracePeriod": "none"})),
            )
            .await,
        developer
            .oauth(
                Method::POST,
                "/webhook-endpoints",
                Some(json!({"publishableKey": live_pk, "url": "https://example.com/live", "eventTypes": ["*"]})),
            )
            .await,
    ] {
        assert_eq!(
            (refused.status, refused.body["requiredRole"].as_str()),
            (403, Some("admin")),
            "{:?}",
            refused.body
        );
    }
    let admin_edit = admin.oauth(Method::PUT, "/tiers", Some(tier_edit(&live_pk, 7))).await;
    assert_eq!(admin_edit.status, 200, "{:?}", admin_edit.body);
    // Members are the owner's to manage, not the admin's.
    let admin_removes = admin
        .front(Method::DELETE, &format!("/team/members/{}", viewer.user_id), None)
        .await;
    assert_eq!(admin_removes.status, 403, "{:?}", admin_removes.body);

    // Removing the developer ends their access with their very next request.
    let removed = owner
        .front(Method::DELETE, &format!("/team/members/{}", developer.user_id), None)
        .await;
    assert_eq!(removed.status, 200, "{:?}", removed.body);
    let locked_out = developer.front(Method::GET, "/projects", None).await;
    assert_eq!(
        (locked_out.status, locked_out.error_code()),
        (403, "forbidden"),
        "{:?}",
        locked_out.body
    );
    let locked_out = developer
        .oauth(Method::GET, &format!("/tiers?publishableKey={pk}"), None)
        .await;
    assert_eq!(locked_out.status, 403, "{:?}", locked_out.body);

    // The last owner cannot leave or step down.
    let leave = owner
        .front(Method::DELETE, &format!("/team/members/{}", owner.user_id), None)
        .await;
    assert_eq!(
        (leave.status, leave.error_code()),
        (409, "conflict"),
        "{:?}",
        leave.body
    );
    let demote = owner
        .front(
            Method::PUT,
            &format!("/team/members/{}", owner.user_id),
            Some(json!({"role": "admin"})),
        )
        .await;
    assert_eq!(demote.status, 409, "{:?}", demote.body);
    // A viewer made admin can do what admins do, at once.
    let promoted = owner
        .front(
            Method::PUT,
            &format!("/team/members/{}", viewer.user_id),
            Some(json!({"role": "admin"})),
        )
        .await;
    assert_eq!(
        (promoted.status, promoted.body["member"]["role"].as_str()),
        (200, Some("admin")),
        "{:?}",
        promoted.body
    );
    let now_allowed = viewer.oauth(Method::PUT, "/tiers", Some(tier_edit(pk, 8))).await;
    assert_eq!(now_allowed.status, 200, "{:?}", now_allowed.body);

    // Every one of those changes is in the log, with its actor and their role at the time.
    let page = owner.front(Method::GET, "/audit-log?limit=200", None).await;
    assert_eq!(page.status, 200, "{:?}", page.body);
    let log = entries(&page.body);
    let actor = |e: &Value| {
        (
            e["actor"]["id"].as_str().map(str::to_owned),
            e["actor"]["role"].as_str().map(str::to_owned),
        )
    };
    let went_live = find(&log, "project.went_live").expect("go-live logged");
    assert_eq!(actor(went_live), (Some(admin.user_id.clone()), Some("admin".into())));
    assert_eq!(went_live["publishableKey"], live_pk.as_str());
    let tier_edits: Vec<&Value> = log.iter().filter(|e| e["action"] == "tier.updated").collect();
    assert!(
        tier_edits.iter().any(
            |e| actor(e) == (Some(developer.user_id.clone()), Some("developer".into()))
                && e["changes"]["before"]["limit"] == 3
                && e["changes"]["after"]["limit"] == 5
        ),
        "{tier_edits:?}"
    );
    let removal = find(&log, "member.removed").expect("removal logged");
    assert_eq!(actor(removal), (Some(owner.user_id.clone()), Some("owner".into())));
    assert_eq!(removal["target"], developer.email.as_str());
    let joins: Vec<&str> = log
        .iter()
        .filter(|e| e["action"] == "member.joined")
        .filter_map(|e| e["actor"]["email"].as_str())
        .collect();
    for member in [&viewer, &developer, &admin] {
        assert!(joins.contains(&member.email.as_str()), "{joins:?}");
    }
    assert_eq!(log.iter().filter(|e| e["action"] == "member.invited").count(), 3);
    assert!(find(&log, "member.role_changed").is_some());
    assert!(find(&log, "webhook_endpoint.created").is_some());
    assert!(
        log.iter()
            .all(|e| e["requestId"].as_str().is_some_and(|r| !r.is_empty()))
    );
    // Refused actions changed nothing, so they left no entry.
    assert!(!log.iter().any(|e| e["action"] == "key.rotated"));

    // Filters and pages: one family of actions, one actor, pages that join up.
    let members = owner.front(Method::GET, "/audit-log?action=member.", None).await;
    assert!(
        entries(&members.body)
            .iter()
            .all(|e| e["action"].as_str().unwrap().starts_with("member."))
    );
    let by_admin = owner
        .front(Method::GET, &format!("/audit-log?actor={}", admin.email), None)
        .await;
    assert!(!entries(&by_admin.body).is_empty());
    assert!(
        entries(&by_admin.body)
            .iter()
            .all(|e| e["actor"]["email"] == admin.email.as_str())
    );
    let first = owner.front(Method::GET, "/audit-log?limit=2", None).await;
    let cursor = first.body["nextCursor"]
        .as_str()
        .expect("more than two entries")
        .to_owned();
    let second = owner
        .front(Method::GET, &format!("/audit-log?limit=2&before={cursor}"), None)
        .await;
    assert_eq!(entries(&second.body)[0]["id"], log[2]["id"]);
    let bad = owner.front(Method::GET, "/audit-log?limit=0", None).await;
    assert_eq!(bad.status, 400, "{:?}", bad.body);
}

#[tokio::test]
async fn an_invitation_is_for_its_email_once_and_until_revoked() {
    let env = TestEnv::get();
    let owner = onboarded_developer(&env, "inviter").await.unwrap();
    let email = unique_email("invitee");
    let invited = owner
        .front(
            Method::POST,
            "/team/invitations",
            Some(json!({"email": email.to_uppercase(), "role": "developer"})),
        )
        .await;
    assert_eq!(invited.status, 200, "{:?}", invited.body);
    let invitation = &invited.body["invitation"];
    let id = invitation["id"].as_str().unwrap().to_owned();
    assert_eq!(
        (invitation["email"].as_str(), invitation["status"].as_str()),
        (Some(email.as_str()), Some("pending"))
    );

    // A second invitation to the same email, a bad email, a bad role, a bad lifetime.
    let twice = owner
        .front(
            Method::POST,
            "/team/invitations",
            Some(json!({"email": email, "role": "viewer"})),
        )
        .await;
    assert_eq!(
        (twice.status, twice.error_code()),
        (409, "conflict"),
        "{:?}",
        twice.body
    );
    for (body, status) in [
        (json!({"email": "not-an-email", "role": "viewer"}), 400),
        (json!({"email": unique_email("r"), "role": "superuser"}), 422),
        (
            json!({"email": unique_email("d"), "role": "viewer", "expiresInDays": 0}),
            400,
        ),
    ] {
        let refused = owner.front(Method::POST, "/team/invitations", Some(body)).await;
        assert_eq!(refused.status, status, "{:?}", refused.body);
    }

    // Someone else who got hold of the link cannot use it.
    let stranger = Developer::sign_in(&env, &unique_email("stranger")).await.unwrap();
    let stolen = stranger
        .front(Method::POST, &format!("/team/invitations/{id}/accept"), None)
        .await;
    assert_eq!(
        (stolen.status, stolen.error_code()),
        (403, "forbidden"),
        "{:?}",
        stolen.body
    );
    let unknown = stranger
        .front(Method::POST, "/team/invitations/inv_nope/accept", None)
        .await;
    assert_eq!(unknown.status, 404, "{:?}", unknown.body);

    // Revoked: Clerk's link and ours stop working.
    let link = invitation_link(&env, &email).await.unwrap();
    let revoked = owner
        .front(Method::DELETE, &format!("/team/invitations/{id}"), None)
        .await;
    assert_eq!(
        (revoked.status, revoked.body["invitation"]["status"].as_str()),
        (200, Some("revoked")),
        "{:?}",
        revoked.body
    );
    assert!(accept_on_clerk(&env, &link, "a long password 1").await.is_err());
    let invitee = Developer::sign_in(&env, &email).await.unwrap();
    let late = invitee
        .front(Method::POST, &format!("/team/invitations/{id}/accept"), None)
        .await;
    assert_eq!((late.status, late.error_code()), (409, "conflict"), "{:?}", late.body);
    let team = owner.front(Method::GET, "/team", None).await;
    assert_eq!(team.body["members"].as_array().map(Vec::len), Some(1));
    assert_eq!(team.body["invitations"].as_array().map(Vec::len), Some(0));

    // Invited again, accepted once; a second accept is a conflict.
    let again = owner
        .front(
            Method::POST,
            "/team/invitations",
            Some(json!({"email": email, "role": "viewer"})),
        )
        .await;
    assert_eq!(again.status, 200, "{:?}", again.body);
    let second = again.body["invitation"]["id"].as_str().unwrap().to_owned();
    let link = invitation_link(&env, &email).await.unwrap();
    let landing = accept_on_clerk(&env, &link, "a long password 1").await.unwrap();
    let token = landing.split("#__session=").nth(1).unwrap();
    let member = Developer::with_session(&env, &email, claims(token)["sub"].as_str().unwrap(), token);
    let accept = format!("/team/invitations/{second}/accept");
    let accepted = member.front(Method::POST, &accept, None).await;
    assert_eq!(
        (accepted.status, accepted.body["member"]["role"].as_str()),
        (200, Some("viewer")),
        "{:?}",
        accepted.body
    );
    let twice = member.front(Method::POST, &accept, None).await;
    assert_eq!(
        (twice.status, twice.error_code()),
        (409, "conflict"),
        "{:?}",
        twice.body
    );
    let rejoin = member.front(Method::GET, "/team", None).await;
    assert_eq!(rejoin.body["role"], "viewer");
    let log = owner
        .front(Method::GET, "/audit-log?action=invitation.revoked", None)
        .await;
    assert_eq!(entries(&log.body).len(), 1, "{:?}", log.body);

    // An existing platform's owner is its one member, with no action from anyone.
    let solo = onboarded_developer(&env, "solo").await.unwrap();
    let team = solo.front(Method::GET, "/team", None).await;
    assert_eq!(
        (
            team.body["role"].as_str(),
            team.body["members"].as_array().map(Vec::len)
        ),
        (Some("owner"), Some(1))
    );
}
