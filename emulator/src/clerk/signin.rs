//! The local sign-in page, `GET {instance}/sign-in?redirect_url=<url>`: email and password;
//! on success the browser is sent (302) to `<redirect_url>#__session=<jwt>`. The fragment never
//! reaches a server, which is how a local dashboard receives its session token the way Clerk's
//! frontend would hand it over.
//!
//! The two instances differ on purpose:
//! - `dream-api` (developers) stands in for sign-up too: a new email creates an account, and an
//!   account without a password takes the first one given (the dashboard's local sign-in).
//! - `end-user-api` (developers' customers) checks passwords as Clerk does: an unknown email is
//!   not found, and an account without a password cannot sign in with one until its owner sets
//!   it through the emailed code (`reset`). Projects create these accounts through the Backend
//!   API and never set their passwords, so no project can sign in as another's customer.

use std::collections::HashMap;
use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::Response;

use super::check_instance;
use super::error::ClerkError;
use super::tokens::{DEFAULT_LIFETIME_SECONDS, DEFAULT_NBF_OFFSET_SECONDS, TokenRequest, issue, user_for_email};
use super::users::{check_password, hash_password, normalize_email};
use crate::App;
use crate::html::{escape, form_fields, found, page};

fn form(instance: &str, redirect_url: &str, error: Option<&str>, status: StatusCode) -> Response {
    let error = error
        .map(|e| format!("<p class=\"error\" role=\"alert\">{}</p>", escape(e)))
        .unwrap_or_default();
    let body = format!(
        "<p>Instance <strong>{instance}</strong>.{note}</p>{error}\
         <form method=\"post\" action=\"/clerk/{instance}/sign-in\">\
         <input type=\"hidden\" name=\"redirect_url\" value=\"{redirect}\">\
         <label>Email<input name=\"email\" type=\"email\" autocomplete=\"email\" required></label>\
         <label>Password<input name=\"password\" type=\"password\" autocomplete=\"current-password\" required minlength=\"8\"></label>\
         <button type=\"submit\">Sign in</button></form>{forgot}",
        instance = escape(instance),
        redirect = escape(redirect_url),
        note = if creates_accounts(instance) {
            " New emails create an account."
        } else {
            ""
        },
        forgot = if creates_accounts(instance) {
            String::new()
        } else {
            format!(
                "<p><a href=\"/clerk/{}/reset-password?redirect_url={}\">Forgot password? Set one with a code sent to your email</a></p>",
                escape(instance),
                escape(&url::form_urlencoded::byte_serialize(redirect_url.as_bytes()).collect::<String>())
            )
        },
    );
    page(status, "Sign in", &body)
}

/// Whether signing in also signs up (the developers' instance only).
fn creates_accounts(instance: &str) -> bool {
    instance == "dream-api"
}

/// The redirect target must be an absolute http(s) URL; its origin becomes the token's `azp`.
pub(super) fn origin_of(redirect_url: &str) -> Option<(url::Url, String)> {
    let url = url::Url::parse(redirect_url)
        .ok()
        .filter(|u| matches!(u.scheme(), "http" | "https"))?;
    let origin = url.origin().ascii_serialization();
    Some((url, origin))
}

/// GET /clerk/{instance}/sign-in?redirect_url=...
pub async fn page_route(Path(instance): Path<String>, Query(query): Query<HashMap<String, String>>) -> Response {
    if check_instance(&instance).is_err() {
        return page(StatusCode::NOT_FOUND, "Sign in", "<p>No such Clerk instance.</p>");
    }
    let redirect = query.get("redirect_url").cloned().unwrap_or_default();
    if origin_of(&redirect).is_none() {
        return page(
            StatusCode::BAD_REQUEST,
            "Sign in",
            "<p class=\"error\">Pass an absolute http(s) redirect_url.</p>",
        );
    }
    form(&instance, &redirect, None, StatusCode::OK)
}

/// POST /clerk/{instance}/sign-in
pub async fn submit(State(app): State<Arc<App>>, Path(instance): Path<String>, body: Bytes) -> Response {
    if check_instance(&instance).is_err() {
        return page(StatusCode::NOT_FOUND, "Sign in", "<p>No such Clerk instance.</p>");
    }
    let fields = form_fields(&body);
    let redirect = fields.get("redirect_url").cloned().unwrap_or_default();
    let Some((target, azp)) = origin_of(&redirect) else {
        return page(
            StatusCode::BAD_REQUEST,
            "Sign in",
            "<p class=\"error\">Pass an absolute http(s) redirect_url.</p>",
        );
    };
    let password = fields.get("password").cloned().unwrap_or_default();
    let email = match normalize_email(fields.get("email").map(String::as_str).unwrap_or_default()) {
        Ok(e) => e,
        Err(e) => {
            return form(
                &instance,
                &redirect,
                Some(&e.long_message),
                StatusCode::UNPROCESSABLE_ENTITY,
            );
        }
    };
    let now = crate::time::now();
    let outcome = app.mutate(|db| -> Result<String, ClerkError> {
        let user_id = if creates_accounts(&instance) {
            user_for_email(db, &instance, &email, now * 1000)?
        } else {
            db.clerk
                .get(&instance)
                .and_then(|i| i.find_by_email(&email))
                .map(|u| u.id.clone())
                .ok_or_else(|| {
                    ClerkError::unprocessable(
                        "form_identifier_not_found",
                        "Couldn't find your account.",
                        "Couldn't find your account.",
                        "identifier",
                    )
                })?
        };
        let user = db
            .clerk
            .get_mut(&instance)
            .and_then(|i| i.users.get_mut(&user_id))
            .ok_or_else(|| ClerkError::not_found("User not found"))?;
        match &user.password_sha256 {
            Some(hash) if *hash != hash_password(&password) => {
                return Err(ClerkError::unprocessable(
                    "form_password_incorrect",
                    "Password is incorrect. Try again, or use another method.",
                    "Password is incorrect. Try again, or use another method.",
                    "password",
                ));
            }
            Some(_) => {}
            // The developers' instance: the first sign-in sets it, standing in for sign-up.
            None if creates_accounts(&instance) => {
                check_password(&password)?;
                user.password_sha256 = Some(hash_password(&password));
            }
            None => {
                return Err(ClerkError::unprocessable(
                    "strategy_for_user_invalid",
                    "This account has no password yet.",
                    "This account has no password yet: use \u{201c}Forgot password?\u{201d} to set one with a code sent to your email.",
                    "password",
                ));
            }
        }
        Ok(user_id)
    });
    match outcome {
        Ok(user_id) => signed_in(&app, &instance, &user_id, target, &azp),
        Err(e) => form(&instance, &redirect, Some(&e.long_message), e.status),
    }
}

/// A session for `user_id`, handed to `target` in its fragment (302).
pub(super) fn signed_in(app: &Arc<App>, instance: &str, user_id: &str, target: url::Url, azp: &str) -> Response {
    signed_in_to(app, instance, user_id, target, azp, None)
}

/// As `signed_in`, with `organization_id` as the session's active organization (the `o` claim).
pub(super) fn signed_in_to(
    app: &Arc<App>,
    instance: &str,
    user_id: &str,
    mut target: url::Url,
    azp: &str,
    organization_id: Option<&str>,
) -> Response {
    let now = crate::time::now();
    let req = TokenRequest {
        azp,
        lifetime: DEFAULT_LIFETIME_SECONDS,
        nbf_offset: DEFAULT_NBF_OFFSET_SECONDS,
        organization_id,
    };
    match app.mutate(|db| issue(db, instance, user_id, &req, now)) {
        Ok(issued) => {
            target.set_fragment(Some(&format!("__session={}", issued.token)));
            found(target.as_str())
        }
        Err(e) => page(
            e.status,
            "Sign in",
            &format!("<p class=\"error\">{}</p>", escape(&e.long_message)),
        ),
    }
}
