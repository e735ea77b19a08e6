//! Clerk organizations through the HTTP API: create, invite (the email in the outbox and its
//! link), accept on the emulator's page as a new and as an existing user, memberships and
//! roles, the `o` claim of session tokens, and the refusals (duplicate invitation, revoked,
//! expired and used tickets, unknown roles, the last manager, non-members).

mod common;

use common::*;
use reqwest::Method;
use serde_json::{Value, json};

const DEV: &str = "/clerk/dream-api";
const KEY: &str = "sk_test_clerk";
const APP: &str = "http://localhost:5173/teams/accepted";

/// A Backend API call with the secret key and an optional JSON body.
async fn bapi(emu: &Emu, method: Method, path: &str, body: Option<Value>) -> (u16, Value) {
    let mut req = emu
        .http
        .request(method, emu.url(&format!("{DEV}{path}")))
        .bearer_auth(KEY);
    if let Some(b) = body {
        req = req.json(&b);
    }
    let resp = req.send().await.expect("request sent");
    let status = resp.status().as_u16();
    let text = resp.text().await.expect("body");
    (
        status,
        serde_json::from_str(&text).unwrap_or_else(|_| panic!("not JSON ({status}): {text}")),
    )
}

fn code(body: &Value) -> &str {
    body["errors"][0]["code"].as_str().unwrap_or_default()
}

async fn user(emu: &Emu, email: &str, password: Option<&str>) -> String {
    let mut body = json!({ "email_address": [email] });
    if let Some(p) = password {
        body["password"] = json!(p);
    }
    let (status, user) = bapi(emu, Method::POST, "/v1/users", Some(body)).await;
    assert_eq!(status, 200, "{user}");
    user["id"].as_str().expect("id").to_string()
}

async fn org(emu: &Emu, name: &str, creator: &str) -> Value {
    let (status, org) = bapi(
        emu,
        Method::POST,
        "/v1/organizations",
        Some(json!({ "name": name, "created_by": creator })),
    )
    .await;
    assert_eq!(status, 200, "{org}");
    org
}

async fn invite(emu: &Emu, org_id: &str, email: &str, role: &str) -> (u16, Value) {
    bapi(
        emu,
        Method::POST,
        &format!("/v1/organizations/{org_id}/invitations"),
        Some(json!({ "email_address": email, "role": role, "redirect_url": APP })),
    )
    .await
}

/// The newest invitation link the instance emailed to `email`.
async fn emailed_link(emu: &Emu, email: &str) -> String {
    let (status, outbox) = emu
        .json(Method::GET, &format!("{DEV}/_emulator/emails?to={email}"), None)
        .await;
    assert_eq!(status, 200);
    let sent = outbox["data"].as_array().expect("data");
    let last = sent
        .iter()
        .rev()
        .find(|m| m["link"].is_string())
        .expect("an invitation email");
    assert!(last.get("code").is_none(), "{last}");
    assert!(last["subject"].as_str().expect("subject").contains("invited"));
    last["link"].as_str().expect("link").to_string()
}

fn ticket_of(link: &str) -> String {
    let url = url::Url::parse(link).expect("absolute link");
    url.query_pairs()
        .find(|(k, _)| k == "ticket")
        .map(|(_, v)| v.into_owned())
        .expect("ticket")
}

/// Submits the accept form as a browser would: (status, Location, body).
async fn accept(emu: &Emu, ticket: &str, password: &str) -> (u16, Option<String>, String) {
    let resp = emu
        .http
        .post(emu.url(&format!("{DEV}/accept-invitation")))
        .form(&[("ticket", ticket), ("password", password)])
        .send()
        .await
        .expect("submit");
    let status = resp.status().as_u16();
    let location = resp
        .headers()
        .get("location")
        .map(|l| l.to_str().expect("ascii").to_owned());
    (status, location, resp.text().await.expect("html"))
}

async fn page(emu: &Emu, link: &str) -> (u16, String) {
    let resp = emu.http.get(link).send().await.expect("page");
    (resp.status().as_u16(), resp.text().await.expect("html"))
}

async fn claims(emu: &Emu, token: &str) -> Value {
    let (_, keys) = emu
        .json(Method::GET, &format!("{DEV}/.well-known/jwks.json"), None)
        .await;
    python_verify_jwt(&keys, token)
}

async fn members(emu: &Emu, org_id: &str) -> Value {
    let (status, list) = bapi(
        emu,
        Method::GET,
        &format!("/v1/organizations/{org_id}/memberships"),
        None,
    )
    .await;
    assert_eq!(status, 200, "{list}");
    list
}

#[tokio::test]
async fn organizations_are_created_with_their_creator_as_admin() {
    let emu = Emu::start().await;
    let founder = user(&emu, "founder@example.com", Some("founder-password")).await;
    let acme = org(&emu, "Acme Inc.", &founder).await;
    let id = acme["id"].as_str().expect("id");
    assert!(id.starts_with("org_"));
    assert_eq!(acme["object"], "organization");
    assert_eq!(acme["slug"], "acme-inc");
    assert_eq!(acme["members_count"], 1);
    assert_eq!(acme["created_by"], founder.as_str());
    assert_eq!(acme["max_allowed_memberships"], 0);
    assert_eq!(
        (acme["public_metadata"].clone(), acme["private_metadata"].clone()),
        (json!({}), json!({}))
    );
    assert!(acme["created_at"].as_i64().expect("ms") > 1_000_000_000_000);

    // By id and by slug; a second "Acme Inc." gets its own slug.
    for key in [id, "acme-inc"] {
        let (status, got) = bapi(&emu, Method::GET, &format!("/v1/organizations/{key}"), None).await;
        assert_eq!((status, got["id"].as_str()), (200, Some(id)));
    }
    let again = org(&emu, "Acme Inc.", &founder).await;
    assert_eq!(again["slug"], "acme-inc-2");
    let (status, taken) = bapi(
        &emu,
        Method::POST,
        "/v1/organizations",
        Some(json!({"name": "Other", "slug": "acme-inc", "created_by": founder})),
    )
    .await;
    assert_eq!((status, code(&taken)), (422, "form_identifier_exists"));
    assert_eq!(taken["errors"][0]["meta"]["param_name"], "slug");
    assert_eq!(taken["clerk_trace_id"], "emulator");
    let (status, nobody) = bapi(
        &emu,
        Method::POST,
        "/v1/organizations",
        Some(json!({"name": "Ghost", "created_by": "user_nope"})),
    )
    .await;
    assert_eq!((status, code(&nobody)), (400, "organization_creator_not_found"));
    let (status, missing) = bapi(&emu, Method::GET, "/v1/organizations/org_nope", None).await;
    assert_eq!((status, code(&missing)), (404, "resource_not_found"));
    let (status, _) = emu
        .json(Method::GET, &format!("{DEV}/v1/organizations/{id}"), None)
        .await;
    assert_eq!(status, 401, "the Backend API needs a secret key");

    let list = members(&emu, id).await;
    assert_eq!(list["total_count"], 1);
    let m = &list["data"][0];
    assert!(m["id"].as_str().expect("id").starts_with("orgmem_"));
    assert_eq!(m["object"], "organization_membership");
    assert_eq!(m["role"], "org:admin");
    assert!(
        m["permissions"]
            .as_array()
            .expect("permissions")
            .contains(&json!("org:sys_memberships:manage"))
    );
    assert_eq!(m["organization"]["id"], id);
    assert_eq!(m["public_user_data"]["user_id"], founder.as_str());
    assert_eq!(m["public_user_data"]["identifier"], "founder@example.com");

    // The instance may give creators a custom role instead.
    let (status, settings) = emu
        .control(
            &format!("{DEV}/_emulator/organization_settings"),
            json!({"creatorRole": "org:owner"}),
        )
        .await;
    assert_eq!((status, settings["creatorRole"].as_str()), (200, Some("org:owner")));
    let owned = org(&emu, "Owned", &founder).await;
    let list = members(&emu, owned["id"].as_str().expect("id")).await;
    assert_eq!(list["data"][0]["role"], "org:owner");
    let (status, _) = emu
        .control(
            &format!("{DEV}/_emulator/organization_settings"),
            json!({"creatorRole": "org:viewer"}),
        )
        .await;
    assert_eq!(status, 422, "a creator must be able to manage members");

    // The user's own list, and reset forgets organizations.
    let (status, mine) = bapi(
        &emu,
        Method::GET,
        &format!("/v1/users/{founder}/organization_memberships"),
        None,
    )
    .await;
    assert_eq!((status, mine["total_count"].as_u64()), (200, Some(3)));
    let (status, _) = emu.control("/_emulator/reset", json!({})).await;
    assert_eq!(status, 200);
    let (status, _) = bapi(&emu, Method::GET, &format!("/v1/organizations/{id}"), None).await;
    assert_eq!(status, 404);
}

#[tokio::test]
async fn an_invited_new_user_signs_up_on_the_page_and_joins_with_the_role() {
    let emu = Emu::start().await;
    let founder = user(&emu, "founder@example.com", Some("founder-password")).await;
    let team = org(&emu, "Dream Team", &founder).await;
    let org_id = team["id"].as_str().expect("id");

    let (status, inv) = invite(&emu, org_id, "New.Dev@Example.com", "org:developer").await;
    assert_eq!(status, 200, "{inv}");
    assert!(inv["id"].as_str().expect("id").starts_with("orginv_"));
    assert_eq!(inv["object"], "organization_invitation");
    assert_eq!(inv["email_address"], "new.dev@example.com");
    assert_eq!(
        (inv["role"].as_str(), inv["role_name"].as_str()),
        (Some("org:developer"), Some("Developer"))
    );
    assert_eq!(inv["organization_id"], org_id);
    assert_eq!(inv["status"], "pending");
    let (created, expires) = (
        inv["created_at"].as_i64().expect("ms"),
        inv["expires_at"].as_i64().expect("ms"),
    );
    assert_eq!(expires - created, 30 * 86_400_000, "30 days by default");

    let link = emailed_link(&emu, "new.dev@example.com").await;
    assert_eq!(inv["url"], link.as_str(), "the invitation's url is the emailed link");
    assert!(link.starts_with(&format!("{}{DEV}/accept-invitation?ticket=", emu.base)));
    let (status, html) = page(&emu, &link).await;
    assert_eq!(status, 200);
    assert!(html.contains("Dream Team") && html.contains("Developer"), "{html}");
    assert!(
        html.contains("new.dev@example.com") && html.contains("readonly"),
        "{html}"
    );
    assert!(
        html.contains("Choose a password") && html.contains("name=\"ticket\""),
        "{html}"
    );

    let ticket = ticket_of(&link);
    let (status, _, html) = accept(&emu, &ticket, "short").await;
    assert_eq!(status, 422);
    assert!(html.contains("8 characters"), "{html}");
    let (status, location, _) = accept(&emu, &ticket, "new-dev-password").await;
    assert_eq!(status, 302);
    let location = location.expect("redirect");
    let (target, token) = location.split_once("#__session=").expect("token in the fragment");
    assert_eq!(target, format!("{APP}?__clerk_status=complete"));
    let claims = claims(&emu, token).await;
    assert_eq!(claims["azp"], "http://localhost:5173");
    assert_eq!(
        claims["o"],
        json!({"id": org_id, "rol": "developer", "slg": "dream-team"})
    );

    // The account exists with that password, and is a developer of the team.
    let (_, users) = emu
        .get(
            &format!("{DEV}/v1/users"),
            KEY,
            &[("email_address", "new.dev@example.com")],
        )
        .await;
    assert_eq!(users[0]["id"], claims["sub"]);
    assert_eq!(users[0]["password_enabled"], true);
    let list = members(&emu, org_id).await;
    assert_eq!(list["total_count"], 2);
    let dev = list["data"]
        .as_array()
        .expect("data")
        .iter()
        .find(|m| m["public_user_data"]["user_id"] == claims["sub"])
        .expect("the new member");
    assert_eq!(dev["role"], "org:developer");
    assert_eq!(dev["permissions"], json!(["org:sys_memberships:read"]));
    let (_, inv) = bapi(
        &emu,
        Method::GET,
        &format!(
            "/v1/organizations/{org_id}/invitations/{}",
            inv["id"].as_str().expect("id")
        ),
        None,
    )
    .await;
    assert_eq!(inv["status"], "accepted");

    // A used link is refused, on the page and on submit.
    let (status, html) = page(&emu, &link).await;
    assert_eq!(status, 400);
    assert!(html.contains("already been accepted"), "{html}");
    let (status, location, _) = accept(&emu, &ticket, "new-dev-password").await;
    assert_eq!((status, location), (400, None));
    let (status, html) = page(&emu, &format!("{}{DEV}/accept-invitation?ticket=nope", emu.base)).await;
    assert_eq!(status, 404, "{html}");
}

#[tokio::test]
async fn an_invited_existing_user_signs_in_with_their_password() {
    let emu = Emu::start().await;
    let founder = user(&emu, "founder@example.com", Some("founder-password")).await;
    let viewer = user(&emu, "viewer@example.com", Some("viewer-password")).await;
    let team = org(&emu, "Readers", &founder).await;
    let org_id = team["id"].as_str().expect("id");
    let (status, inv) = bapi(
        &emu,
        Method::POST,
        &format!("/v1/organizations/{org_id}/invitations"),
        Some(json!({
            "email_address": "viewer@example.com",
            "role": "org:viewer",
            "inviter_user_id": founder,
            "redirect_url": APP,
            "public_metadata": {"team": "readers"},
            "expires_in_days": 7,
        })),
    )
    .await;
    assert_eq!(status, 200, "{inv}");
    assert_eq!(inv["inviter_id"], founder.as_str());
    assert_eq!(inv["public_inviter_data"]["identifier"], "founder@example.com");
    assert_eq!(
        inv["expires_at"].as_i64().expect("ms") - inv["created_at"].as_i64().expect("ms"),
        7 * 86_400_000
    );
    let link = emailed_link(&emu, "viewer@example.com").await;
    let (status, html) = page(&emu, &link).await;
    assert_eq!(status, 200);
    assert!(
        html.contains("current-password") && !html.contains("Choose a password"),
        "{html}"
    );

    let ticket = ticket_of(&link);
    let (status, _, html) = accept(&emu, &ticket, "wrong-password").await;
    assert_eq!(status, 422);
    assert!(html.contains("Password is incorrect"), "{html}");
    let (status, location, _) = accept(&emu, &ticket, "viewer-password").await;
    assert_eq!(status, 302);
    let location = location.expect("redirect");
    let token = location.split_once("#__session=").expect("fragment").1;
    let claims = claims(&emu, token).await;
    assert_eq!(claims["sub"], viewer.as_str());
    assert_eq!(claims["o"]["rol"], "viewer");
    let (_, list) = bapi(
        &emu,
        Method::GET,
        &format!("/v1/organizations/{org_id}/memberships"),
        None,
    )
    .await;
    let m = &list["data"][0];
    assert_eq!(
        (m["role"].as_str(), m["public_metadata"].clone()),
        (Some("org:viewer"), json!({"team": "readers"}))
    );
}

#[tokio::test]
async fn invitations_are_refused_when_duplicate_or_for_members_and_links_die_when_revoked_or_expired() {
    let emu = Emu::start().await;
    let founder = user(&emu, "founder@example.com", Some("founder-password")).await;
    let team = org(&emu, "Gatekeepers", &founder).await;
    let org_id = team["id"].as_str().expect("id");

    let (status, first) = invite(&emu, org_id, "dup@example.com", "org:member").await;
    assert_eq!(status, 200, "{first}");
    let (status, dup) = invite(&emu, org_id, "DUP@example.com", "org:admin").await;
    assert_eq!(
        (status, code(&dup)),
        (400, "organization_invitation_not_unique"),
        "{dup}"
    );
    let (status, member) = invite(&emu, org_id, "founder@example.com", "org:member").await;
    assert_eq!(
        (status, code(&member)),
        (400, "already_a_member_in_organization"),
        "{member}"
    );
    let (status, bad_role) = invite(&emu, org_id, "x@example.com", "org:superuser").await;
    assert_eq!((status, code(&bad_role)), (404, "resource_not_found"));
    assert_eq!(bad_role["errors"][0]["meta"]["param_name"], "role");
    let (status, bad_url) = bapi(
        &emu,
        Method::POST,
        &format!("/v1/organizations/{org_id}/invitations"),
        Some(json!({"email_address": "x@example.com", "role": "org:member", "redirect_url": "javascript:alert(1)"})),
    )
    .await;
    assert_eq!((status, code(&bad_url)), (422, "form_param_format_invalid"));
    let (status, unknown) = bapi(
        &emu,
        Method::POST,
        &format!("/v1/organizations/{org_id}/invitations"),
        Some(json!({"email_address": "x@example.com", "role": "org:member", "colour": "red"})),
    )
    .await;
    assert_eq!((status, code(&unknown)), (422, "form_param_unknown"));

    // Revoked: the link stops working; revoking again is refused.
    let link = emailed_link(&emu, "dup@example.com").await;
    let inv_id = first["id"].as_str().expect("id");
    let (status, revoked) = bapi(
        &emu,
        Method::POST,
        &format!("/v1/organizations/{org_id}/invitations/{inv_id}/revoke"),
        Some(json!({"requesting_user_id": founder})),
    )
    .await;
    assert_eq!(
        (status, revoked["status"].as_str()),
        (200, Some("revoked")),
        "{revoked}"
    );
    let (status, again) = bapi(
        &emu,
        Method::POST,
        &format!("/v1/organizations/{org_id}/invitations/{inv_id}/revoke"),
        None,
    )
    .await;
    assert_eq!((status, code(&again)), (400, "organization_invitation_not_pending"));
    let (status, html) = page(&emu, &link).await;
    assert_eq!(status, 400);
    assert!(html.contains("revoked"), "{html}");
    let (status, location, _) = accept(&emu, &ticket_of(&link), "some-password").await;
    assert_eq!((status, location), (400, None));

    // After revoking, the same email may be invited again; this one expires.
    let (status, second) = invite(&emu, org_id, "dup@example.com", "org:member").await;
    assert_eq!(status, 200, "{second}");
    let link = emailed_link(&emu, "dup@example.com").await;
    let (status, expired) = emu
        .control(
            &format!(
                "{DEV}/_emulator/organization_invitations/{}/expire",
                second["id"].as_str().expect("id")
            ),
            json!({}),
        )
        .await;
    assert_eq!(
        (status, expired["status"].as_str()),
        (200, Some("expired")),
        "{expired}"
    );
    let (status, html) = page(&emu, &link).await;
    assert_eq!(status, 400);
    assert!(html.contains("expired"), "{html}");
    let (status, _, _) = accept(&emu, &ticket_of(&link), "some-password").await;
    assert_eq!(status, 400);
    let (_, users) = emu
        .get(&format!("{DEV}/v1/users"), KEY, &[("email_address", "dup@example.com")])
        .await;
    assert_eq!(users, json!([]), "no account was made from a dead link");

    // Lists filter by status; expired ones no longer block a new invitation.
    let (status, third) = invite(&emu, org_id, "dup@example.com", "org:member").await;
    assert_eq!(status, 200, "{third}");
    let path = format!("/v1/organizations/{org_id}/invitations");
    let (_, all) = bapi(&emu, Method::GET, &path, None).await;
    assert_eq!(all["total_count"], 3);
    assert_eq!(all["data"][0]["id"], third["id"], "newest first");
    for (status_filter, count) in [("pending", 1), ("revoked", 1), ("expired", 1), ("accepted", 0)] {
        let (_, some) = bapi(&emu, Method::GET, &format!("{path}?status={status_filter}"), None).await;
        assert_eq!(some["total_count"], count, "{status_filter}: {some}");
    }
    let (_, page1) = bapi(&emu, Method::GET, &format!("{path}?limit=1&offset=1"), None).await;
    assert_eq!(
        (page1["data"].as_array().map(Vec::len), page1["total_count"].as_u64()),
        (Some(1), Some(3))
    );
    assert_eq!(page1["data"][0]["id"], second["id"]);
}

/// The token control, with `organizationId` when given.
async fn token_for(emu: &Emu, email: &str, org: Option<&str>) -> (u16, Value) {
    let mut body = json!({ "email": email });
    if let Some(o) = org {
        body["organizationId"] = json!(o);
    }
    emu.control(&format!("{DEV}/_emulator/tokens"), body).await
}

#[tokio::test]
async fn roles_change_members_leave_and_tokens_follow() {
    let emu = Emu::start().await;
    let founder = user(&emu, "founder@example.com", Some("founder-password")).await;
    let dev = user(&emu, "dev@example.com", Some("dev-password")).await;
    let team = org(&emu, "Builders", &founder).await;
    let org_id = team["id"].as_str().expect("id");
    let path = format!("/v1/organizations/{org_id}/memberships");

    let (status, added) = bapi(
        &emu,
        Method::POST,
        &path,
        Some(json!({"user_id": dev, "role": "org:developer"})),
    )
    .await;
    assert_eq!(
        (status, added["role"].as_str()),
        (200, Some("org:developer")),
        "{added}"
    );
    assert_eq!(added["organization"]["members_count"], 2);
    let (status, twice) = bapi(
        &emu,
        Method::POST,
        &path,
        Some(json!({"user_id": dev, "role": "org:member"})),
    )
    .await;
    assert_eq!((status, code(&twice)), (400, "already_a_member_in_organization"));

    let (status, issued) = token_for(&emu, "dev@example.com", Some(org_id)).await;
    assert_eq!(status, 200, "{issued}");
    let c = claims(&emu, issued["token"].as_str().expect("token")).await;
    assert_eq!(c["o"], json!({"id": org_id, "rol": "developer", "slg": "builders"}));
    let (_, plain) = token_for(&emu, "dev@example.com", None).await;
    let c = claims(&emu, plain["token"].as_str().expect("token")).await;
    assert!(c.get("o").is_none(), "no active organization unless asked: {c}");

    // A role change shows in the next token; unknown roles are Clerk's 404.
    let (status, changed) = bapi(
        &emu,
        Method::PATCH,
        &format!("{path}/{dev}"),
        Some(json!({"role": "org:owner"})),
    )
    .await;
    assert_eq!(
        (status, changed["role"].as_str(), changed["role_name"].as_str()),
        (200, Some("org:owner"), Some("Owner"))
    );
    let (_, issued) = token_for(&emu, "dev@example.com", Some(org_id)).await;
    let c = claims(&emu, issued["token"].as_str().expect("token")).await;
    assert_eq!(c["o"]["rol"], "owner");
    let (status, bad) = bapi(
        &emu,
        Method::PATCH,
        &format!("{path}/{dev}"),
        Some(json!({"role": "admin"})),
    )
    .await;
    assert_eq!((status, code(&bad)), (404, "resource_not_found"));
    let (_, filtered) = bapi(&emu, Method::GET, &format!("{path}?role=org:owner"), None).await;
    assert_eq!(filtered["total_count"], 1);

    // Removal returns the membership; the removed member gets no token for the team.
    let (status, removed) = bapi(&emu, Method::DELETE, &format!("{path}/{dev}"), None).await;
    assert_eq!(
        (status, removed["public_user_data"]["user_id"].as_str()),
        (200, Some(dev.as_str()))
    );
    assert_eq!(members(&emu, org_id).await["total_count"], 1);
    let (status, gone) = bapi(&emu, Method::DELETE, &format!("{path}/{dev}"), None).await;
    assert_eq!((status, code(&gone)), (404, "resource_not_found"));
    let (status, refused) = token_for(&emu, "dev@example.com", Some(org_id)).await;
    assert_eq!(
        (status, code(&refused)),
        (403, "not_a_member_in_organization"),
        "{refused}"
    );
    let (status, stranger) = token_for(&emu, "stranger@example.com", Some(org_id)).await;
    assert_eq!((status, code(&stranger)), (403, "not_a_member_in_organization"));
    let (_, users) = emu
        .get(
            &format!("{DEV}/v1/users"),
            KEY,
            &[("email_address", "stranger@example.com")],
        )
        .await;
    assert_eq!(users, json!([]), "the control makes no user for an organization token");
    let (status, _) = token_for(&emu, "founder@example.com", Some("org_nope")).await;
    assert_eq!(status, 404);

    // The last member who can manage members can neither leave nor be demoted.
    let (status, last) = bapi(&emu, Method::DELETE, &format!("{path}/{founder}"), None).await;
    assert_eq!((status, code(&last)), (400, "organization_minimum_permissions_needed"));
    let (status, demote) = bapi(
        &emu,
        Method::PATCH,
        &format!("{path}/{founder}"),
        Some(json!({"role": "org:viewer"})),
    )
    .await;
    assert_eq!(
        (status, code(&demote)),
        (400, "organization_minimum_permissions_needed")
    );

    // Deleting the user removes their memberships; deleting the organization, everything.
    let (status, _) = bapi(
        &emu,
        Method::POST,
        &path,
        Some(json!({"user_id": dev, "role": "org:member"})),
    )
    .await;
    assert_eq!(status, 200);
    let (status, _) = bapi(&emu, Method::DELETE, &format!("/v1/users/{dev}"), None).await;
    assert_eq!(status, 200);
    assert_eq!(members(&emu, org_id).await["total_count"], 1);
    let (status, deleted) = bapi(&emu, Method::DELETE, &format!("/v1/organizations/{org_id}"), None).await;
    assert_eq!((status, deleted["deleted"].as_bool()), (200, Some(true)));
    let (status, _) = bapi(&emu, Method::GET, &path, None).await;
    assert_eq!(status, 404);
}

#[tokio::test]
async fn password_reset_emails_keep_their_shape() {
    let emu = Emu::start().await;
    let end_user = "/clerk/end-user-api";
    let resp = emu
        .http
        .post(emu.url(&format!("{end_user}/v1/users")))
        .bearer_auth(KEY)
        .json(&json!({"email_address": ["ada@example.com"]}))
        .send()
        .await
        .expect("create");
    assert_eq!(resp.status().as_u16(), 200);
    let resp = emu
        .http
        .post(emu.url(&format!("{end_user}/reset-password")))
        .form(&[("email", "ada@example.com")])
        .send()
        .await
        .expect("send code");
    assert_eq!(resp.status().as_u16(), 200);
    let (_, outbox) = emu
        .json(
            Method::GET,
            &format!("{end_user}/_emulator/emails?to=ada@example.com"),
            None,
        )
        .await;
    let mut keys: Vec<&String> = outbox["data"][0].as_object().expect("email").keys().collect();
    keys.sort();
    assert_eq!(keys, ["code", "sentAtMs", "subject", "to"]);
}
