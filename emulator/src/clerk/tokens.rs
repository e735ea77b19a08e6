//! Session tokens: RS256 JWTs with Clerk's claims (`sub`, `sid`, `iss`, `azp`, `iat`, `nbf`,
//! `exp`) plus `publicMetadata`, as the platform's JWT templates add it, and, when the session
//! has an active organization, Clerk's v2 `o` claim (`{"id", "rol", "slg"}`). Issued by the
//! sign-in page, the invitation page and the `POST {instance}/_emulator/tokens` control.

use std::sync::Arc;

use axum::Json;
use axum::body::Bytes;
use axum::extract::{Path, State};
use serde::Deserialize;
use serde_json::{Value, json};

use super::error::ClerkError;
use super::keys::{sign_jwt, signing_key};
use super::users::normalize_email;
use super::{check_instance, issuer};
use crate::App;
use crate::state::Db;

/// An hour: longer than Clerk's minute, for local convenience (the dashboard has no refresh).
pub const DEFAULT_LIFETIME_SECONDS: i64 = 3600;
/// Clerk dates `nbf` back a little to absorb clock skew.
pub const DEFAULT_NBF_OFFSET_SECONDS: i64 = -10;
/// The dashboard's local origin (Vite's default), as in `.dev.vars.example`.
pub const DEFAULT_AZP: &str = "http://localhost:5173";

pub struct Issued {
    pub user_id: String,
    pub session_id: String,
    pub token: String,
}

pub struct TokenRequest<'a> {
    pub azp: &'a str,
    pub lifetime: i64,
    pub nbf_offset: i64,
    /// The session's active organization: the user must be a member of it.
    pub organization_id: Option<&'a str>,
}

/// Signs a session token for `user_id` with the user's public metadata as it is now, and the
/// active organization's `o` claim with the user's role in it as it is now.
pub fn issue(db: &mut Db, instance: &str, user_id: &str, req: &TokenRequest, now: i64) -> Result<Issued, ClerkError> {
    let iss = issuer(&db.base_url, instance);
    let session_id = db.ids.id("sess_", 27);
    let inst = db
        .clerk
        .get_mut(instance)
        .ok_or_else(|| ClerkError::not_found("No such instance"))?;
    let key = signing_key(inst).map_err(|e| ClerkError::bad_request(&e))?;
    let kid = inst.kid.clone();
    let active_org = match req.organization_id {
        Some(org_id) => Some(inst.org_claim(org_id, user_id)?),
        None => None,
    };
    let user = inst
        .users
        .get_mut(user_id)
        .ok_or_else(|| ClerkError::not_found("User not found"))?;
    user.last_sign_in_at = Some(now * 1000);
    let mut claims = json!({
        "azp": req.azp,
        "exp": now + req.lifetime,
        "iat": now,
        "iss": iss,
        "nbf": now + req.nbf_offset,
        "sid": session_id,
        "sub": user.id,
        // Not in Clerk's default session token: the `dream-api` JWT template adds it (README),
        // so the dashboard can show who is signed in.
        "email": user.email,
        "publicMetadata": user.public_metadata,
    });
    if let (Some(o), Some(map)) = (active_org, claims.as_object_mut()) {
        map.insert("o".into(), o);
    }
    Ok(Issued {
        user_id: user.id.clone(),
        session_id,
        token: sign_jwt(&key, &kid, &claims),
    })
}

/// The user with `email` (already normalized), created without a password if new.
pub fn user_for_email(db: &mut Db, instance: &str, email: &str, now_ms: i64) -> Result<String, ClerkError> {
    let Db { clerk, ids, .. } = db;
    let inst = clerk
        .get_mut(instance)
        .ok_or_else(|| ClerkError::not_found("No such instance"))?;
    match inst.find_by_email(email) {
        Some(u) => Ok(u.id.clone()),
        None => inst.add_user(ids, email.to_string(), None, now_ms),
    }
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct ControlBody {
    email: String,
    azp: Option<String>,
    expires_in_seconds: Option<i64>,
    not_before_offset_seconds: Option<i64>,
    organization_id: Option<String>,
}

/// POST /clerk/{instance}/_emulator/tokens
/// `{"email", "azp"?, "expiresInSeconds"?, "notBeforeOffsetSeconds"?, "organizationId"?}` →
/// `{"userId","sessionId","token"}`. A negative `expiresInSeconds` gives an already expired
/// token. With `organizationId` the email must belong to a member of that organization (no user
/// is created then), and the token carries it as the active organization.
pub async fn control(
    State(app): State<Arc<App>>,
    Path(instance): Path<String>,
    body: Bytes,
) -> Result<Json<Value>, ClerkError> {
    check_instance(&instance)?;
    let body: ControlBody = serde_json::from_slice(&body).map_err(|e| {
        ClerkError::bad_request(&format!(
            "Expected {{\"email\", \"azp\"?, \"expiresInSeconds\"?, \"notBeforeOffsetSeconds\"?, \"organizationId\"?}}: {e}"
        ))
    })?;
    let email = normalize_email(&body.email)?;
    let azp = body.azp.unwrap_or_else(|| DEFAULT_AZP.to_string());
    let req = TokenRequest {
        azp: &azp,
        lifetime: body.expires_in_seconds.unwrap_or(DEFAULT_LIFETIME_SECONDS),
        nbf_offset: body.not_before_offset_seconds.unwrap_or(DEFAULT_NBF_OFFSET_SECONDS),
        organization_id: body.organization_id.as_deref(),
    };
    let now = crate::time::now();
    let issued = app.mutate(|db| {
        let user_id = match req.organization_id {
            // A member already exists: nobody new joins an organization through this control.
            Some(org_id) => {
                let inst = db
                    .clerk
                    .get(&instance)
                    .ok_or_else(|| ClerkError::not_found("No such instance"))?;
                inst.org(org_id)?;
                inst.find_by_email(&email)
                    .map(|u| u.id.clone())
                    .ok_or_else(super::organizations::not_a_member)?
            }
            None => user_for_email(db, &instance, &email, now * 1000)?,
        };
        issue(db, &instance, &user_id, &req, now)
    })?;
    Ok(Json(
        json!({ "userId": issued.user_id, "sessionId": issued.session_id, "token": issued.token }),
    ))
}
