//! Setting a password through a code sent to the account's email, as Clerk's "Forgot password?"
//! (`reset_password_email_code`) does: the only way a password is set on the `end-user-api`
//! instance other than by the person at sign-up. Nobody but the owner of the inbox can finish it.
//! The "sent" emails land in the instance's outbox, which tests read at
//! `GET /clerk/{instance}/_emulator/emails?to=<email>`.
//!
//!   GET  {instance}/reset-password?redirect_url=   the email form
//!   POST {instance}/reset-password                 sends a code (the same page whether or not
//!                                                  the email has an account)
//!   POST {instance}/reset-password/verify          code + new password → signed in

use std::collections::HashMap;
use std::sync::Arc;

use axum::Json;
use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use super::check_instance;
use super::error::ClerkError;
use super::signin::{origin_of, signed_in};
use super::users::{check_password, hash_password, normalize_email};
use crate::App;
use crate::html::{escape, form_fields, page};

/// Clerk's codes last 10 minutes and allow a few attempts.
const CODE_LIFETIME_MS: i64 = 10 * 60 * 1000;
const MAX_ATTEMPTS: u32 = 5;
/// The outbox keeps the newest messages only.
const OUTBOX_MAX: usize = 200;

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ResetCode {
    pub code_sha256: String,
    pub expires_at_ms: i64,
    pub attempts: u32,
}

/// A message in the instance's outbox. A password-reset email carries its `code`; an
/// organization invitation its `link` (the page that accepts it). Absent fields are left out
/// of the control's answer.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SentEmail {
    pub to: String,
    pub subject: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub code: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub link: Option<String>,
    pub sent_at_ms: i64,
}

/// Puts `email` in the instance's outbox, keeping the newest `OUTBOX_MAX`.
pub(super) fn send(inst: &mut super::ClerkInstance, email: SentEmail) {
    inst.outbox.push(email);
    let excess = inst.outbox.len().saturating_sub(OUTBOX_MAX);
    inst.outbox.drain(..excess);
}

fn no_instance() -> Response {
    page(
        StatusCode::NOT_FOUND,
        "Reset your password",
        "<p>No such Clerk instance.</p>",
    )
}

fn email_form(instance: &str, redirect_url: &str) -> Response {
    let body = format!(
        "<p>Enter your account's email: we send it a code to set a new password.</p>\
         <form method=\"post\" action=\"/clerk/{instance}/reset-password\">\
         <input type=\"hidden\" name=\"redirect_url\" value=\"{redirect}\">\
         <label>Email<input name=\"email\" type=\"email\" autocomplete=\"email\" required></label>\
         <button type=\"submit\">Send code</button></form>",
        instance = escape(instance),
        redirect = escape(redirect_url),
    );
    page(StatusCode::OK, "Reset your password", &body)
}

fn code_form(instance: &str, redirect_url: &str, email: &str, error: Option<&str>, status: StatusCode) -> Response {
    let error = error
        .map(|e| format!("<p class=\"error\" role=\"alert\">{}</p>", escape(e)))
        .unwrap_or_default();
    let body = format!(
        "<p>If <strong>{email}</strong> has an account, a code is on its way.</p>{error}\
         <form method=\"post\" action=\"/clerk/{instance}/reset-password/verify\">\
         <input type=\"hidden\" name=\"redirect_url\" value=\"{redirect}\">\
         <input type=\"hidden\" name=\"email\" value=\"{email}\">\
         <label>Code<input name=\"code\" inputmode=\"numeric\" autocomplete=\"one-time-code\" required></label>\
         <label>New password<input name=\"password\" type=\"password\" autocomplete=\"new-password\" required minlength=\"8\"></label>\
         <button type=\"submit\">Set password</button></form>",
        instance = escape(instance),
        redirect = escape(redirect_url),
        email = escape(email),
    );
    page(status, "Reset your password", &body)
}

/// GET /clerk/{instance}/reset-password?redirect_url=...
pub async fn page_route(Path(instance): Path<String>, Query(query): Query<HashMap<String, String>>) -> Response {
    if check_instance(&instance).is_err() {
        return no_instance();
    }
    email_form(
        &instance,
        query.get("redirect_url").map(String::as_str).unwrap_or_default(),
    )
}

/// POST /clerk/{instance}/reset-password: a code to the account's email, if it has one.
pub async fn send_code(State(app): State<Arc<App>>, Path(instance): Path<String>, body: Bytes) -> Response {
    if check_instance(&instance).is_err() {
        return no_instance();
    }
    let fields = form_fields(&body);
    let redirect = fields.get("redirect_url").cloned().unwrap_or_default();
    let Ok(email) = normalize_email(fields.get("email").map(String::as_str).unwrap_or_default()) else {
        return email_form(&instance, &redirect);
    };
    let now_ms = crate::time::now() * 1000;
    app.mutate(|db| {
        let code = format!("{:06}", db.ids.next_u64() % 1_000_000);
        let Some(inst) = db.clerk.get_mut(&instance) else {
            return;
        };
        let Some(user) = inst.users.values_mut().find(|u| u.email == email) else {
            return;
        };
        user.reset = Some(ResetCode {
            code_sha256: hash_password(&code),
            expires_at_ms: now_ms + CODE_LIFETIME_MS,
            attempts: 0,
        });
        send(
            inst,
            SentEmail {
                to: email.clone(),
                subject: format!("{code} is your password reset code"),
                code,
                link: None,
                sent_at_ms: now_ms,
            },
        );
    });
    code_form(&instance, &redirect, &email, None, StatusCode::OK)
}

/// POST /clerk/{instance}/reset-password/verify: the code and the new password.
pub async fn verify(State(app): State<Arc<App>>, Path(instance): Path<String>, body: Bytes) -> Response {
    if check_instance(&instance).is_err() {
        return no_instance();
    }
    let fields = form_fields(&body);
    let field = |name: &str| fields.get(name).cloned().unwrap_or_default();
    let (redirect, code, password) = (field("redirect_url"), field("code"), field("password"));
    let email = normalize_email(&field("email")).unwrap_or_default();
    let now_ms = crate::time::now() * 1000;
    let outcome = app.mutate(|db| -> Result<String, ClerkError> {
        let incorrect = || {
            ClerkError::unprocessable(
                "form_code_incorrect",
                "Incorrect code",
                "The code is incorrect or has expired. Ask for a new one.",
                "code",
            )
        };
        let user = db
            .clerk
            .get_mut(&instance)
            .and_then(|i| i.users.values_mut().find(|u| u.email == email))
            .ok_or_else(incorrect)?;
        let reset = user.reset.as_mut().ok_or_else(incorrect)?;
        reset.attempts += 1;
        if reset.expires_at_ms <= now_ms || reset.attempts > MAX_ATTEMPTS {
            user.reset = None;
            return Err(incorrect());
        }
        if reset.code_sha256 != hash_password(code.trim()) {
            return Err(incorrect());
        }
        check_password(&password)?;
        user.password_sha256 = Some(hash_password(&password));
        user.reset = None;
        Ok(user.id.clone())
    });
    match outcome {
        Ok(user_id) => match origin_of(&redirect) {
            Some((target, azp)) => signed_in(&app, &instance, &user_id, target, &azp),
            None => page(
                StatusCode::OK,
                "Password set",
                "<p>Your password is set. You can sign in.</p>",
            ),
        },
        Err(e) => code_form(&instance, &redirect, &email, Some(&e.long_message), e.status),
    }
}

/// GET /clerk/{instance}/_emulator/emails?to=<email>: what the instance "sent" there, oldest first.
pub async fn outbox(
    State(app): State<Arc<App>>,
    Path(instance): Path<String>,
    Query(query): Query<HashMap<String, String>>,
) -> Response {
    if let Err(e) = check_instance(&instance) {
        return e.into_response();
    }
    let to = query.get("to").and_then(|t| normalize_email(t).ok());
    let sent: Vec<Value> = app.read(|db| {
        db.clerk
            .get(&instance)
            .map(|i| {
                i.outbox
                    .iter()
                    .filter(|m| to.as_deref().is_none_or(|t| m.to == t))
                    .map(|m| json!(m))
                    .collect()
            })
            .unwrap_or_default()
    });
    Json(json!({ "data": sent })).into_response()
}
