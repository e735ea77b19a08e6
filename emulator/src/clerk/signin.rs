//! The local sign-in page, `GET {instance}/sign-in?redirect_url=<url>`: email and password;
//! on submit the user is created if new, and the browser is sent (302) to
//! `<redirect_url>#__session=<jwt>`. The fragment never reaches a server, which is how a
//! local dashboard receives its session token the way Clerk's frontend would hand it over.

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
        "<p>Instance <strong>{instance}</strong>. New emails create an account.</p>{error}\
         <form method=\"post\" action=\"/clerk/{instance}/sign-in\">\
         <input type=\"hidden\" name=\"redirect_url\" value=\"{redirect}\">\
         <label>Email<input name=\"email\" type=\"email\" autocomplete=\"email\" required></label>\
         <label>Password<input name=\"password\" type=\"password\" autocomplete=\"current-password\" required minlength=\"8\"></label>\
         <button type=\"submit\">Sign in</button></form>",
        instance = escape(instance),
        redirect = escape(redirect_url),
    );
    page(status, "Sign in", &body)
}

/// The redirect target must be an absolute http(s) URL; its origin becomes the token's `azp`.
fn origin_of(redirect_url: &str) -> Option<(url::Url, String)> {
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
    let Some((mut target, azp)) = origin_of(&redirect) else {
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
        let user_id = user_for_email(db, &instance, &email, now * 1000)?;
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
            // A user made by the API or the token control has no password yet; the first
            // sign-in sets it, which is what a local stand-in needs.
            None => {
                check_password(&password)?;
                user.password_sha256 = Some(hash_password(&password));
            }
        }
        let req = TokenRequest {
            azp: &azp,
            lifetime: DEFAULT_LIFETIME_SECONDS,
            nbf_offset: DEFAULT_NBF_OFFSET_SECONDS,
        };
        Ok(issue(db, &instance, &user_id, &req, now)?.token)
    });
    match outcome {
        Ok(token) => {
            target.set_fragment(Some(&format!("__session={token}")));
            found(target.as_str())
        }
        Err(e) => form(&instance, &redirect, Some(&e.long_message), e.status),
    }
}
