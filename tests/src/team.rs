//! Teams in the end-to-end tests: an owner invites someone, the emulated Clerk emails the link,
//! the person accepts it on Clerk's page (as a browser would post it) and then on the
//! dashboard's `/join` page, and signs in with the session Clerk handed back.

use base64::Engine;
use reqwest::Method;
use serde_json::{Value, json};

use crate::{
    Reply, TestEnv, client,
    journey::{Developer, unique_email},
};

/// The newest invitation email Clerk "sent" to `email`: its accept link.
pub async fn invitation_link(env: &TestEnv, email: &str) -> Result<String, String> {
    let url = format!("{}/_emulator/emails", env.clerk_dev_base());
    let reply = client()
        .get(url)
        .query(&[("to", email)])
        .send()
        .await
        .map_err(|e| e.to_string())?;
    let body: Value = reply.json().await.map_err(|e| e.to_string())?;
    body["data"]
        .as_array()
        .and_then(|emails| emails.iter().rev().find_map(|m| m["link"].as_str()))
        .map(str::to_owned)
        .ok_or_else(|| format!("no invitation email to {email}: {body}"))
}

/// Submits Clerk's accept page for `link` (the invited email is fixed; `password` signs in or
/// creates the account). Returns where Clerk sends the browser: the dashboard's `/join` URL
/// with the session in its fragment.
pub async fn accept_on_clerk(env: &TestEnv, link: &str, password: &str) -> Result<String, String> {
    let ticket = reqwest::Url::parse(link)
        .map_err(|e| e.to_string())?
        .query_pairs()
        .find(|(k, _)| k == "ticket")
        .map(|(_, v)| v.into_owned())
        .ok_or("no ticket in the link")?;
    let no_redirects = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .map_err(|e| e.to_string())?;
    let response = no_redirects
        .post(format!("{}/accept-invitation", env.clerk_dev_base()))
        .form(&[("ticket", ticket.as_str()), ("password", password)])
        .send()
        .await
        .map_err(|e| e.to_string())?;
    match (response.status().as_u16(), response.headers().get("location")) {
        (302, Some(location)) => Ok(location.to_str().map_err(|e| e.to_string())?.to_owned()),
        (status, _) => Err(format!(
            "Clerk's accept page answered {status}: {}",
            response.text().await.unwrap_or_default()
        )),
    }
}

/// The claims of a session token (unverified: the workers verify it).
pub fn claims(token: &str) -> Value {
    let payload = token.split('.').nth(1).unwrap_or_default();
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(payload)
        .unwrap_or_default();
    serde_json::from_slice(&bytes).unwrap_or(Value::Null)
}

/// A member of `owner`'s organization with `role`: invited, accepted on Clerk's page with a
/// new account, then on the dashboard. Returns the member's session and the accept answer
/// (whose path names the invitation: `accepted_path`).
pub async fn join(env: &TestEnv, owner: &Developer, role: &str) -> Result<(Developer, Reply), String> {
    let email = unique_email(role);
    let invited = owner
        .front(
            Method::POST,
            "/team/invitations",
            Some(json!({ "email": email, "role": role })),
        )
        .await;
    if invited.status != 200 {
        return Err(format!("invite answered {} {:?}", invited.status, invited.body));
    }
    let id = invited.body["invitation"]["id"]
        .as_str()
        .ok_or("no invitation id")?
        .to_owned();
    let link = invitation_link(env, &email).await?;
    let landing = accept_on_clerk(env, &link, "a long password 1").await?;
    if !landing.contains(&format!("/join?invitation={id}")) {
        return Err(format!("Clerk sent the browser to {landing}"));
    }
    let token = landing
        .split("#__session=")
        .nth(1)
        .ok_or("no session in the landing URL")?;
    let user_id = claims(token)["sub"].as_str().ok_or("no sub")?.to_owned();
    let member = Developer::with_session(env, &email, &user_id, token);
    let accepted = member
        .front(Method::POST, &format!("/team/invitations/{id}/accept"), None)
        .await;
    Ok((member, accepted))
}
