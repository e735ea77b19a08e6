//! Users of an instance and the Backend API subset: create, get, list by email, update,
//! delete, and the deep-merging metadata update. Objects in Clerk's shape, times in ms.

use std::sync::Arc;

use axum::Json;
use axum::body::Bytes;
use axum::extract::{Path, RawQuery, State};
use axum::http::HeaderMap;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value, json};
use sha2::{Digest, Sha256};

use super::error::{ClerkError, require_secret_key};
use super::{ClerkInstance, check_instance};
use crate::App;
use crate::ids::IdGen;

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct User {
    pub id: String,
    pub seq: u64,
    pub email_id: String,
    pub email: String,
    /// SHA-256 of the password: the emulator never needs the password back.
    pub password_sha256: Option<String>,
    pub first_name: Option<String>,
    pub last_name: Option<String>,
    pub public_metadata: Value,
    pub private_metadata: Value,
    pub unsafe_metadata: Value,
    pub external_id: Option<String>,
    pub created_at: i64,
    pub updated_at: i64,
    pub last_sign_in_at: Option<i64>,
    /// An emailed code that lets the person set their password (`reset`), while it lasts.
    #[serde(default)]
    pub reset: Option<super::reset::ResetCode>,
}

pub fn hash_password(password: &str) -> String {
    hex::encode(Sha256::digest(password.as_bytes()))
}

impl User {
    pub fn render(&self) -> Value {
        json!({
            "id": self.id,
            "object": "user",
            "username": null,
            "first_name": self.first_name,
            "last_name": self.last_name,
            "locale": null,
            "image_url": "https://img.clerk.com/emulator-default-avatar",
            "has_image": false,
            "primary_email_address_id": self.email_id,
            "primary_phone_number_id": null,
            "primary_web3_wallet_id": null,
            "password_enabled": self.password_sha256.is_some(),
            "two_factor_enabled": false,
            "totp_enabled": false,
            "backup_code_enabled": false,
            "email_addresses": [{
                "id": self.email_id,
                "object": "email_address",
                "email_address": self.email,
                "reserved": false,
                "verification": {
                    "object": "verification_admin",
                    "status": "verified",
                    "strategy": "admin",
                    "attempts": null,
                    "expire_at": null,
                },
                "linked_to": [],
                "matches_sso_connection": false,
                "created_at": self.created_at,
                "updated_at": self.updated_at,
            }],
            "phone_numbers": [],
            "web3_wallets": [],
            "passkeys": [],
            "external_accounts": [],
            "saml_accounts": [],
            "enterprise_accounts": [],
            "public_metadata": self.public_metadata,
            "private_metadata": self.private_metadata,
            "unsafe_metadata": self.unsafe_metadata,
            "external_id": self.external_id,
            "last_sign_in_at": self.last_sign_in_at,
            "banned": false,
            "locked": false,
            "lockout_expires_in_seconds": null,
            "verification_attempts_remaining": 100,
            "created_at": self.created_at,
            "updated_at": self.updated_at,
            "delete_self_enabled": true,
            "create_organization_enabled": true,
            "last_active_at": self.last_sign_in_at,
            "mfa_enabled_at": null,
            "mfa_disabled_at": null,
            "legal_accepted_at": null,
        })
    }
}

pub fn normalize_email(email: &str) -> Result<String, ClerkError> {
    let email = email.trim().to_ascii_lowercase();
    let valid = email.split_once('@').is_some_and(|(local, domain)| {
        !local.is_empty() && domain.contains('.') && !domain.starts_with('.') && !domain.ends_with('.')
    }) && !email.contains(char::is_whitespace);
    if valid {
        Ok(email)
    } else {
        Err(ClerkError::unprocessable(
            "form_param_format_invalid",
            "is invalid",
            "email_address must be a valid email address.",
            "email_address",
        ))
    }
}

pub fn check_password(password: &str) -> Result<(), ClerkError> {
    if password.chars().count() < 8 {
        return Err(ClerkError::unprocessable(
            "form_password_length_too_short",
            "Passwords must be 8 characters or more.",
            "Passwords must be 8 characters or more.",
            "password",
        ));
    }
    Ok(())
}

impl ClerkInstance {
    pub fn find_by_email(&self, email: &str) -> Option<&User> {
        self.users.values().find(|u| u.email == email)
    }

    /// Creates a user; the email must be normalized and free.
    pub fn add_user(
        &mut self,
        ids: &mut IdGen,
        email: String,
        password: Option<&str>,
        now_ms: i64,
    ) -> Result<String, ClerkError> {
        if self.find_by_email(&email).is_some() {
            return Err(ClerkError::unprocessable(
                "form_identifier_exists",
                "That email address is taken. Please try another.",
                "That email address is taken. Please try another.",
                "email_address",
            ));
        }
        let id = ids.id("user_", 27);
        self.seq += 1;
        let user = User {
            id: id.clone(),
            seq: self.seq,
            email_id: ids.id("idn_", 27),
            email,
            password_sha256: password.map(hash_password),
            reset: None,
            first_name: None,
            last_name: None,
            public_metadata: json!({}),
            private_metadata: json!({}),
            unsafe_metadata: json!({}),
            external_id: None,
            created_at: now_ms,
            updated_at: now_ms,
            last_sign_in_at: None,
        };
        self.users.insert(id.clone(), user);
        Ok(id)
    }
}

/// Clerk's metadata update: objects merge key by key at every depth; `null` removes a key.
pub fn deep_merge(target: &mut Value, patch: &Value) {
    match (target.as_object_mut(), patch.as_object()) {
        (Some(t), Some(p)) => {
            for (k, v) in p {
                if v.is_null() {
                    t.remove(k);
                } else if v.is_object() && t.get(k).is_some_and(Value::is_object) {
                    if let Some(slot) = t.get_mut(k) {
                        deep_merge(slot, v);
                    }
                } else {
                    t.insert(k.clone(), v.clone());
                }
            }
        }
        _ => *target = patch.clone(),
    }
}

pub(super) fn json_body(body: &[u8]) -> Result<Map<String, Value>, ClerkError> {
    match serde_json::from_slice(body) {
        Ok(Value::Object(map)) => Ok(map),
        _ => Err(ClerkError::bad_request("The request body must be a JSON object.")),
    }
}

pub(super) fn only(map: &Map<String, Value>, allowed: &[&str]) -> Result<(), ClerkError> {
    match map.keys().find(|k| !allowed.contains(&k.as_str())) {
        Some(k) => Err(ClerkError::unprocessable(
            "form_param_unknown",
            "is unknown",
            &format!("{k} is not a valid parameter for this request."),
            k,
        )),
        None => Ok(()),
    }
}

pub(super) fn metadata_field(map: &Map<String, Value>, key: &str) -> Result<Option<Value>, ClerkError> {
    match map.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(v @ Value::Object(_)) => Ok(Some(v.clone())),
        Some(_) => Err(ClerkError::unprocessable(
            "form_param_format_invalid",
            "is invalid",
            &format!("{key} must be an object."),
            key,
        )),
    }
}

pub(super) fn string_field(map: &Map<String, Value>, key: &str) -> Result<Option<String>, ClerkError> {
    match map.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(s.clone())),
        Some(_) => Err(ClerkError::unprocessable(
            "form_param_format_invalid",
            "is invalid",
            &format!("{key} must be a string."),
            key,
        )),
    }
}

/// POST /clerk/{instance}/v1/users
pub async fn create(
    State(app): State<Arc<App>>,
    Path(instance): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Json<Value>, ClerkError> {
    check_instance(&instance)?;
    require_secret_key(&headers)?;
    let map = json_body(&body)?;
    only(
        &map,
        &[
            "email_address",
            "password",
            "first_name",
            "last_name",
            "public_metadata",
            "private_metadata",
            "unsafe_metadata",
            "external_id",
            "skip_password_checks",
            "skip_password_requirement",
            "created_at",
        ],
    )?;
    let emails: Vec<String> = match map.get("email_address") {
        Some(Value::Array(items)) => items.iter().filter_map(Value::as_str).map(str::to_string).collect(),
        Some(Value::String(s)) => vec![s.clone()],
        _ => Vec::new(),
    };
    let Some(email) = emails.first() else {
        return Err(ClerkError::unprocessable(
            "form_param_missing",
            "is missing",
            "email_address must be included (dream-emulator identifies users by email).",
            "email_address",
        ));
    };
    if emails.len() > 1 {
        return Err(ClerkError::unprocessable(
            "form_param_format_invalid",
            "is invalid",
            "dream-emulator keeps one email address per user.",
            "email_address",
        ));
    }
    let email = normalize_email(email)?;
    let password = string_field(&map, "password")?;
    let skip_checks = map
        .get("skip_password_checks")
        .and_then(Value::as_bool)
        .unwrap_or(false);
    if let (Some(p), false) = (&password, skip_checks) {
        check_password(p)?;
    }
    let first_name = string_field(&map, "first_name")?;
    let last_name = string_field(&map, "last_name")?;
    let external_id = string_field(&map, "external_id")?;
    let public = metadata_field(&map, "public_metadata")?;
    let private = metadata_field(&map, "private_metadata")?;
    let unsafe_ = metadata_field(&map, "unsafe_metadata")?;
    let now = crate::time::now_ms();
    app.mutate(|db| {
        let crate::state::Db { clerk, ids, .. } = db;
        let inst = clerk
            .get_mut(&instance)
            .ok_or_else(|| ClerkError::not_found("No such instance"))?;
        let id = inst.add_user(ids, email, password.as_deref(), now)?;
        let user = inst
            .users
            .get_mut(&id)
            .ok_or_else(|| ClerkError::not_found("User not found"))?;
        user.first_name = first_name;
        user.last_name = last_name;
        user.external_id = external_id;
        if let Some(v) = public {
            user.public_metadata = v;
        }
        if let Some(v) = private {
            user.private_metadata = v;
        }
        if let Some(v) = unsafe_ {
            user.unsafe_metadata = v;
        }
        Ok(Json(user.render()))
    })
}

/// GET /clerk/{instance}/v1/users/{id}
pub async fn retrieve(
    State(app): State<Arc<App>>,
    Path((instance, id)): Path<(String, String)>,
    headers: HeaderMap,
) -> Result<Json<Value>, ClerkError> {
    check_instance(&instance)?;
    require_secret_key(&headers)?;
    app.read(|db| {
        db.clerk
            .get(&instance)
            .and_then(|i| i.users.get(&id))
            .map(|u| Json(u.render()))
            .ok_or_else(|| ClerkError::not_found("User not found"))
    })
}

/// GET /clerk/{instance}/v1/users?email_address=a&email_address=b&limit=&offset=
/// An array, newest first, as Clerk returns it.
pub async fn list(
    State(app): State<Arc<App>>,
    Path(instance): Path<String>,
    headers: HeaderMap,
    RawQuery(query): RawQuery,
) -> Result<Json<Value>, ClerkError> {
    check_instance(&instance)?;
    require_secret_key(&headers)?;
    let mut emails = Vec::new();
    let mut user_ids = Vec::new();
    let (mut limit, mut offset) = (10usize, 0usize);
    for (k, v) in form_urlencoded::parse(query.unwrap_or_default().as_bytes()) {
        match k.as_ref() {
            "email_address" | "email_address[]" => emails.push(v.trim().to_ascii_lowercase()),
            "user_id" | "user_id[]" => user_ids.push(v.into_owned()),
            "limit" => {
                limit = v
                    .parse()
                    .ok()
                    .filter(|n| (1..=500).contains(n))
                    .ok_or_else(|| ClerkError::bad_request("limit must be between 1 and 500"))?
            }
            "offset" => {
                offset = v
                    .parse()
                    .map_err(|_| ClerkError::bad_request("offset must be a number"))?
            }
            "order_by" => {}
            other => {
                return Err(ClerkError::bad_request(&format!(
                    "Unsupported query parameter: {other}"
                )));
            }
        }
    }
    app.read(|db| {
        let inst = db
            .clerk
            .get(&instance)
            .ok_or_else(|| ClerkError::not_found("No such instance"))?;
        let mut users: Vec<&User> = inst
            .users
            .values()
            .filter(|u| emails.is_empty() || emails.contains(&u.email))
            .filter(|u| user_ids.is_empty() || user_ids.contains(&u.id))
            .collect();
        users.sort_by_key(|u| std::cmp::Reverse(u.seq));
        Ok(Json(Value::Array(
            users.into_iter().skip(offset).take(limit).map(User::render).collect(),
        )))
    })
}

/// PATCH /clerk/{instance}/v1/users/{id}: replaces the fields given.
pub async fn update(
    State(app): State<Arc<App>>,
    Path((instance, id)): Path<(String, String)>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Json<Value>, ClerkError> {
    check_instance(&instance)?;
    require_secret_key(&headers)?;
    let map = json_body(&body)?;
    only(
        &map,
        &[
            "first_name",
            "last_name",
            "password",
            "public_metadata",
            "private_metadata",
            "unsafe_metadata",
            "external_id",
            "skip_password_checks",
        ],
    )?;
    let password = string_field(&map, "password")?;
    if let (Some(p), false) = (
        &password,
        map.get("skip_password_checks")
            .and_then(Value::as_bool)
            .unwrap_or(false),
    ) {
        check_password(p)?;
    }
    let now = crate::time::now_ms();
    app.mutate(|db| {
        let user = db
            .clerk
            .get_mut(&instance)
            .and_then(|i| i.users.get_mut(&id))
            .ok_or_else(|| ClerkError::not_found("User not found"))?;
        if map.contains_key("first_name") {
            user.first_name = string_field(&map, "first_name")?;
        }
        if map.contains_key("last_name") {
            user.last_name = string_field(&map, "last_name")?;
        }
        if map.contains_key("external_id") {
            user.external_id = string_field(&map, "external_id")?;
        }
        if let Some(p) = password {
            user.password_sha256 = Some(hash_password(&p));
        }
        for (key, slot) in [
            ("public_metadata", &mut user.public_metadata),
            ("private_metadata", &mut user.private_metadata),
            ("unsafe_metadata", &mut user.unsafe_metadata),
        ] {
            if let Some(v) = metadata_field(&map, key)? {
                *slot = v;
            }
        }
        user.updated_at = now;
        Ok(Json(user.render()))
    })
}

/// PATCH /clerk/{instance}/v1/users/{id}/metadata: deep merge, `null` deletes.
pub async fn update_metadata(
    State(app): State<Arc<App>>,
    Path((instance, id)): Path<(String, String)>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Json<Value>, ClerkError> {
    check_instance(&instance)?;
    require_secret_key(&headers)?;
    let map = json_body(&body)?;
    only(&map, &["public_metadata", "private_metadata", "unsafe_metadata"])?;
    let patches = [
        metadata_field(&map, "public_metadata")?,
        metadata_field(&map, "private_metadata")?,
        metadata_field(&map, "unsafe_metadata")?,
    ];
    let now = crate::time::now_ms();
    app.mutate(|db| {
        let user = db
            .clerk
            .get_mut(&instance)
            .and_then(|i| i.users.get_mut(&id))
            .ok_or_else(|| ClerkError::not_found("User not found"))?;
        let [public, private, unsafe_] = patches;
        for (patch, slot) in [
            (public, &mut user.public_metadata),
            (private, &mut user.private_metadata),
            (unsafe_, &mut user.unsafe_metadata),
        ] {
            if let Some(patch) = patch {
                deep_merge(slot, &patch);
            }
        }
        user.updated_at = now;
        Ok(Json(user.render()))
    })
}

/// DELETE /clerk/{instance}/v1/users/{id}
pub async fn delete(
    State(app): State<Arc<App>>,
    Path((instance, id)): Path<(String, String)>,
    headers: HeaderMap,
) -> Result<Json<Value>, ClerkError> {
    check_instance(&instance)?;
    require_secret_key(&headers)?;
    app.mutate(|db| {
        let inst = db
            .clerk
            .get_mut(&instance)
            .ok_or_else(|| ClerkError::not_found("User not found"))?;
        inst.users
            .remove(&id)
            .ok_or_else(|| ClerkError::not_found("User not found"))?;
        // A deleted user leaves every organization, as at Clerk.
        inst.org_memberships.retain(|_, m| m.user_id != id);
        Ok(Json(json!({ "object": "user", "id": id, "deleted": true })))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn deep_merge_merges_nested_and_deletes_nulls() {
        let mut target = json!({"plan": "free", "keep": 1, "nested": {"a": 1, "b": 2}});
        deep_merge(
            &mut target,
            &json!({"plan": "paid", "keep": null, "nested": {"b": 3, "c": 4}, "new": [1]}),
        );
        assert_eq!(
            target,
            json!({"plan": "paid", "nested": {"a": 1, "b": 3, "c": 4}, "new": [1]})
        );
    }

    #[test]
    fn emails_are_normalized_and_checked() {
        assert_eq!(
            normalize_email(" Dev@Example.COM ").ok(),
            Some("dev@example.com".into())
        );
        assert!(normalize_email("nope").is_err());
        assert!(normalize_email("a@b").is_err());
    }
}
