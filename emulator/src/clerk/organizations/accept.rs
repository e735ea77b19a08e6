//! The page an invitation email links to, `GET {instance}/accept-invitation?ticket=<ticket>`:
//! the invited person signs in as the invited email (their password if the account has one),
//! or chooses a password (creating the account, or giving a password to an account that has
//! none: the ticket proves they own the inbox, as Clerk's ticket verifies the email). Then they
//! join with the invitation's role and are sent (302) to its `redirect_url` with
//! `__clerk_status=complete` in the query and `#__session=<jwt>` in the fragment, the
//! organization active in the token. Without a `redirect_url`, a page says they joined.
//!
//!   GET  {instance}/accept-invitation?ticket=   the form, or an error page (4xx)
//!   POST {instance}/accept-invitation           form fields `ticket`, `password`

use std::collections::HashMap;
use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::Response;

use super::super::error::ClerkError;
use super::super::signin::{origin_of, signed_in_to};
use super::super::users::{check_password, hash_password};
use super::super::{ClerkInstance, check_instance};
use super::{OrgInvitation, role};
use crate::App;
use crate::html::{escape, form_fields, page};

const TITLE: &str = "Join an organization";

fn error_page(status: StatusCode, message: &str) -> Response {
    page(
        status,
        TITLE,
        &format!("<p class=\"error\" role=\"alert\">{}</p>", escape(message)),
    )
}

/// A ticket that cannot be used any more, or never could.
enum Refusal {
    Unknown,
    Revoked,
    Accepted,
    Expired,
}

impl Refusal {
    fn page(&self) -> Response {
        match self {
            Refusal::Unknown => error_page(StatusCode::NOT_FOUND, "This invitation link is not valid."),
            Refusal::Revoked => error_page(StatusCode::BAD_REQUEST, "This invitation was revoked."),
            Refusal::Accepted => error_page(
                StatusCode::BAD_REQUEST,
                "This invitation has already been accepted. Sign in instead.",
            ),
            Refusal::Expired => error_page(
                StatusCode::BAD_REQUEST,
                "This invitation has expired. Ask for a new one.",
            ),
        }
    }
}

/// The pending invitation with this ticket, whose organization still exists.
fn usable<'a>(inst: &'a ClerkInstance, ticket: &str, now_ms: i64) -> Result<&'a OrgInvitation, Refusal> {
    let inv = inst
        .org_invitations
        .values()
        .find(|i| !ticket.is_empty() && i.ticket == ticket)
        .filter(|i| inst.organizations.contains_key(&i.organization_id))
        .ok_or(Refusal::Unknown)?;
    match inv.status_at(now_ms) {
        "pending" => Ok(inv),
        "revoked" => Err(Refusal::Revoked),
        "accepted" => Err(Refusal::Accepted),
        _ => Err(Refusal::Expired),
    }
}

fn form(
    instance: &str,
    inst: &ClerkInstance,
    inv: &OrgInvitation,
    error: Option<&str>,
    status: StatusCode,
) -> Response {
    let org_name = inst
        .organizations
        .get(&inv.organization_id)
        .map(|o| o.name.as_str())
        .unwrap_or_default();
    let role_name = role(&inv.role).map(|r| r.name).unwrap_or_default();
    let has_password = inst
        .find_by_email(&inv.email)
        .is_some_and(|u| u.password_sha256.is_some());
    let (label, autocomplete, button) = if has_password {
        ("Password", "current-password", "Sign in and join")
    } else {
        ("Choose a password", "new-password", "Create account and join")
    };
    let error = error
        .map(|e| format!("<p class=\"error\" role=\"alert\">{}</p>", escape(e)))
        .unwrap_or_default();
    let body = format!(
        "<p>You are invited to join <strong>{org}</strong> as <strong>{role}</strong>.</p>{error}\
         <form method=\"post\" action=\"/clerk/{instance}/accept-invitation\">\
         <input type=\"hidden\" name=\"ticket\" value=\"{ticket}\">\
         <label>Email<input type=\"email\" value=\"{email}\" readonly></label>\
         <label>{label}<input name=\"password\" type=\"password\" autocomplete=\"{autocomplete}\" required minlength=\"8\"></label>\
         <button type=\"submit\">{button}</button></form>",
        org = escape(org_name),
        role = escape(role_name),
        instance = escape(instance),
        ticket = escape(&inv.ticket),
        email = escape(&inv.email),
    );
    page(status, TITLE, &body)
}

/// GET /clerk/{instance}/accept-invitation?ticket=...
pub async fn page_route(
    State(app): State<Arc<App>>,
    Path(instance): Path<String>,
    Query(query): Query<HashMap<String, String>>,
) -> Response {
    if check_instance(&instance).is_err() {
        return error_page(StatusCode::NOT_FOUND, "No such Clerk instance.");
    }
    let ticket = query.get("ticket").cloned().unwrap_or_default();
    let now = crate::time::now_ms();
    app.read(|db| {
        let Some(inst) = db.clerk.get(&instance) else {
            return Refusal::Unknown.page();
        };
        match usable(inst, &ticket, now) {
            Ok(inv) => form(&instance, inst, inv, None, StatusCode::OK),
            Err(refusal) => refusal.page(),
        }
    })
}

enum Failure {
    Refused(Refusal),
    /// The password: the form again, with the message.
    Form(ClerkError),
    Page(ClerkError),
}

struct Joined {
    user_id: String,
    organization_id: String,
    organization_name: String,
    redirect_url: Option<String>,
}

/// Signs in or creates the invited user, then makes the membership and accepts the invitation.
fn accept(
    inst: &mut ClerkInstance,
    ids: &mut crate::ids::IdGen,
    ticket: &str,
    password: &str,
    now_ms: i64,
) -> Result<Joined, Failure> {
    let inv = usable(inst, ticket, now_ms).map_err(Failure::Refused)?.clone();
    let existing = inst.find_by_email(&inv.email).map(|u| u.id.clone());
    if let Some(user_id) = &existing
        && inst.membership(&inv.organization_id, user_id).is_some()
    {
        return Err(Failure::Page(ClerkError::new(
            StatusCode::BAD_REQUEST,
            "already_a_member_in_organization",
            "already a member",
            &format!("{} is already a member of the organization.", inv.email),
        )));
    }
    let user_id = match existing {
        Some(user_id) => {
            let user = inst
                .users
                .get_mut(&user_id)
                .ok_or_else(|| Failure::Page(ClerkError::not_found("User not found")))?;
            match &user.password_sha256 {
                Some(hash) if *hash != hash_password(password) => {
                    return Err(Failure::Form(ClerkError::unprocessable(
                        "form_password_incorrect",
                        "Password is incorrect. Try again, or use another method.",
                        "Password is incorrect. Try again, or use another method.",
                        "password",
                    )));
                }
                Some(_) => {}
                None => {
                    check_password(password).map_err(Failure::Form)?;
                    user.password_sha256 = Some(hash_password(password));
                    user.updated_at = now_ms;
                }
            }
            user_id
        }
        None => {
            check_password(password).map_err(Failure::Form)?;
            inst.add_user(ids, inv.email.clone(), Some(password), now_ms)
                .map_err(Failure::Page)?
        }
    };
    inst.add_membership(
        ids,
        &inv.organization_id,
        &user_id,
        &inv.role,
        inv.public_metadata.clone(),
        inv.private_metadata.clone(),
        now_ms,
    )
    .map_err(Failure::Page)?;
    if let Some(stored) = inst.org_invitations.get_mut(&inv.id) {
        stored.status = "accepted".into();
        stored.updated_at = now_ms;
    }
    Ok(Joined {
        user_id,
        organization_name: inst
            .organizations
            .get(&inv.organization_id)
            .map(|o| o.name.clone())
            .unwrap_or_default(),
        organization_id: inv.organization_id,
        redirect_url: inv.redirect_url,
    })
}

/// POST /clerk/{instance}/accept-invitation (`ticket`, `password`)
pub async fn submit(State(app): State<Arc<App>>, Path(instance): Path<String>, body: Bytes) -> Response {
    if check_instance(&instance).is_err() {
        return error_page(StatusCode::NOT_FOUND, "No such Clerk instance.");
    }
    let fields = form_fields(&body);
    let ticket = fields.get("ticket").cloned().unwrap_or_default();
    let password = fields.get("password").cloned().unwrap_or_default();
    let now = crate::time::now_ms();
    let outcome = app.mutate(|db| {
        let crate::state::Db { clerk, ids, .. } = db;
        let Some(inst) = clerk.get_mut(&instance) else {
            return Err(Failure::Refused(Refusal::Unknown));
        };
        accept(inst, ids, &ticket, &password, now)
    });
    let joined = match outcome {
        Ok(joined) => joined,
        Err(Failure::Refused(refusal)) => return refusal.page(),
        Err(Failure::Page(e)) => return error_page(e.status, &e.long_message),
        Err(Failure::Form(e)) => {
            return app.read(
                |db| match db.clerk.get(&instance).map(|i| (i, usable(i, &ticket, now))) {
                    Some((inst, Ok(inv))) => form(&instance, inst, inv, Some(&e.long_message), e.status),
                    _ => error_page(e.status, &e.long_message),
                },
            );
        }
    };
    match joined.redirect_url.as_deref().and_then(origin_of) {
        Some((mut target, azp)) => {
            // Clerk appends `__clerk_status` to the redirect of an invitation link; `complete`
            // is its value for an invitation that needs nothing more (here it is accepted).
            target.query_pairs_mut().append_pair("__clerk_status", "complete");
            signed_in_to(
                &app,
                &instance,
                &joined.user_id,
                target,
                &azp,
                Some(&joined.organization_id),
            )
        }
        None => page(
            StatusCode::OK,
            TITLE,
            &format!(
                "<p>You joined <strong>{}</strong>. You can close this page.</p>",
                escape(&joined.organization_name)
            ),
        ),
    }
}
