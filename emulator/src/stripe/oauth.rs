//! Stripe Connect OAuth: the authorize page (creates or reconnects a connected account and
//! redirects back with a one-time `code` and the caller's `state`), the code exchange at
//! `/oauth/token`, and `/oauth/deauthorize`.

use std::collections::HashMap;
use std::sync::Arc;

use axum::Json;
use axum::body::Bytes;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};
use serde_json::json;

use crate::App;
use crate::html::{escape, form_fields, found, page};
use crate::state::Db;

pub use super::accounts::Account;

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct OAuthCode {
    pub account: String,
    pub created: i64,
    pub used: bool,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct OAuthToken {
    pub account: String,
    pub livemode: bool,
    /// `access` or `refresh`.
    pub kind: String,
    /// The code it was issued for: reusing a code revokes what it issued, as Stripe does.
    pub code: Option<String>,
    /// Revoked tokens are kept so they fail as revoked instead of passing for platform keys.
    #[serde(default)]
    pub revoked: bool,
}

impl OAuthToken {
    pub fn is_access(&self) -> bool {
        self.kind == "access"
    }
}

fn oauth_error(status: StatusCode, error: &str, description: impl Into<String>) -> Response {
    (
        status,
        Json(json!({ "error": error, "error_description": description.into() })),
    )
        .into_response()
}

fn bad_page(message: &str) -> Response {
    page(
        StatusCode::BAD_REQUEST,
        "Connect",
        &format!("<p class=\"error\">{}</p>", escape(message)),
    )
}

/// Checks the authorize parameters; returns the redirect URI.
fn validate(params: &HashMap<String, String>) -> Result<String, String> {
    if params.get("client_id").is_none_or(|c| c.is_empty()) {
        return Err("Missing client_id: pass your platform's Connect client id (ca_...).".into());
    }
    if params.get("response_type").is_some_and(|r| r != "code") {
        return Err("Invalid response_type: only \"code\" is supported.".into());
    }
    if params
        .get("scope")
        .is_some_and(|s| s != "read_write" && s != "read_only")
    {
        return Err("Invalid scope: must be read_write or read_only.".into());
    }
    let redirect = params.get("redirect_uri").cloned().unwrap_or_default();
    match url::Url::parse(&redirect) {
        Ok(u) if matches!(u.scheme(), "http" | "https") => Ok(redirect),
        _ => Err("Missing or invalid redirect_uri: the emulator has no dashboard setting to fall back on.".into()),
    }
}

/// GET /oauth/authorize
pub async fn authorize_page(State(app): State<Arc<App>>, Query(params): Query<HashMap<String, String>>) -> Response {
    if let Err(message) = validate(&params) {
        return bad_page(&message);
    }
    let hidden = ["client_id", "state", "redirect_uri", "scope"]
        .iter()
        .filter_map(|k| {
            params
                .get(*k)
                .map(|v| format!("<input type=\"hidden\" name=\"{k}\" value=\"{}\">", escape(v)))
        })
        .collect::<String>();
    let existing = app.read(|db| {
        db.accounts
            .values()
            .map(|a| {
                format!(
                    "<label><input type=\"radio\" name=\"account\" value=\"{id}\" style=\"width:auto\"> {id} {name}</label><br>",
                    id = escape(&a.id),
                    name = escape(a.business_name.as_deref().unwrap_or(""))
                )
            })
            .collect::<String>()
    });
    let body = format!(
        "<p><strong>{}</strong> would like to connect to your Stripe account (scope {}).</p>\
         <form method=\"post\" action=\"/oauth/authorize\">{hidden}\
         <label><input type=\"radio\" name=\"account\" value=\"new\" checked style=\"width:auto\"> A new account</label><br>{existing}\
         <label>Business name (new account)<input name=\"business_name\" placeholder=\"Acme Inc\"></label>\
         <label>Email (new account)<input name=\"email\" type=\"email\" placeholder=\"owner@example.com\"></label>\
         <button type=\"submit\" name=\"decision\" value=\"authorize\">Authorize</button>\
         <button type=\"submit\" name=\"decision\" value=\"deny\">Deny</button></form>",
        escape(params.get("client_id").map(String::as_str).unwrap_or_default()),
        escape(params.get("scope").map(String::as_str).unwrap_or("read_write")),
    );
    page(StatusCode::OK, "Connect with Stripe", &body)
}

fn redirect_with(redirect: &str, pairs: &[(&str, &str)]) -> Response {
    match url::Url::parse(redirect) {
        Ok(mut url) => {
            {
                let mut query = url.query_pairs_mut();
                for (k, v) in pairs {
                    query.append_pair(k, v);
                }
            }
            found(url.as_str())
        }
        Err(_) => bad_page("Invalid redirect_uri."),
    }
}

/// Approves a connection as the authorize page's button does; returns the code. Used by
/// the page and by `/_emulator/oauth/authorize` for scripts without a browser.
pub fn approve(
    db: &mut Db,
    account: Option<&str>,
    business_name: Option<String>,
    email: Option<String>,
    now: i64,
) -> Result<String, String> {
    let account_id = match account.filter(|a| *a != "new" && !a.is_empty()) {
        Some(id) if db.accounts.contains_key(id) => id.to_string(),
        Some(id) => return Err(format!("No such account: {id}")),
        None => {
            let id = db.id("acct_", 16);
            db.accounts.insert(
                id.clone(),
                Account {
                    id: id.clone(),
                    created: now,
                    business_name,
                    email,
                    event_padding: 0,
                },
            );
            id
        }
    };
    let code = db.id("ac_", 24);
    db.oauth_codes.insert(
        code.clone(),
        OAuthCode {
            account: account_id,
            created: now,
            used: false,
        },
    );
    Ok(code)
}

/// POST /oauth/authorize: the Authorize or Deny button.
pub async fn authorize_submit(State(app): State<Arc<App>>, body: Bytes) -> Response {
    let fields = form_fields(&body);
    let redirect = match validate(&fields) {
        Ok(r) => r,
        Err(message) => return bad_page(&message),
    };
    let state = fields.get("state").cloned().unwrap_or_default();
    let with_state = |mut pairs: Vec<(&'static str, String)>| {
        if fields.contains_key("state") {
            pairs.push(("state", state.clone()));
        }
        pairs
    };
    if fields.get("decision").map(String::as_str) == Some("deny") {
        let pairs = with_state(vec![
            ("error", "access_denied".into()),
            ("error_description", "The user denied your request".into()),
        ]);
        let borrowed: Vec<(&str, &str)> = pairs.iter().map(|(k, v)| (*k, v.as_str())).collect();
        return redirect_with(&redirect, &borrowed);
    }
    let non_empty = |k: &str| fields.get(k).filter(|v| !v.is_empty()).cloned();
    let now = crate::time::now();
    let code = app.mutate(|db| {
        approve(
            db,
            fields.get("account").map(String::as_str),
            non_empty("business_name"),
            non_empty("email"),
            now,
        )
    });
    match code {
        Ok(code) => {
            let scope = fields.get("scope").cloned().unwrap_or_else(|| "read_write".into());
            let pairs = with_state(vec![("scope", scope), ("code", code)]);
            let borrowed: Vec<(&str, &str)> = pairs.iter().map(|(k, v)| (*k, v.as_str())).collect();
            redirect_with(&redirect, &borrowed)
        }
        Err(message) => bad_page(&message),
    }
}

fn invalid_client() -> Response {
    oauth_error(
        StatusCode::UNAUTHORIZED,
        "invalid_client",
        "No valid secret key was provided (Authorization: Bearer sk_... or client_secret).",
    )
}

/// The mode of the platform's key (the Authorization header, or `client_secret` in the
/// form); None without a valid secret key.
fn platform_livemode(headers: &HeaderMap, fields: &HashMap<String, String>) -> Option<bool> {
    let key = match fields.get("client_secret") {
        Some(secret) => secret.clone(),
        None => match headers.get("authorization").and_then(|v| v.to_str().ok()) {
            Some(value) => value
                .split_once(' ')
                .map(|(_, k)| k.trim().to_string())
                .unwrap_or_default(),
            None => String::new(),
        },
    };
    if key.starts_with("sk_test_") && key.len() > 8 {
        Some(false)
    } else if key.starts_with("sk_live_") && key.len() > 8 {
        Some(true)
    } else {
        None
    }
}

fn issue(db: &mut Db, account: &str, livemode: bool, code: Option<&str>) -> serde_json::Value {
    let mode = if livemode { "live" } else { "test" };
    let access = db.id(&format!("sk_{mode}_"), 99);
    let refresh = db.id("rt_", 48);
    let publishable = format!("pk_{mode}_{}", db.ids.chars(99));
    for (token, kind) in [(&access, "access"), (&refresh, "refresh")] {
        db.oauth_tokens.insert(
            token.clone(),
            OAuthToken {
                account: account.to_string(),
                livemode,
                kind: kind.into(),
                code: code.map(str::to_string),
                revoked: false,
            },
        );
    }
    json!({
        "access_token": access,
        "livemode": livemode,
        "refresh_token": refresh,
        "scope": "read_write",
        "stripe_publishable_key": publishable,
        "stripe_user_id": account,
        "token_type": "bearer",
    })
}

/// POST /oauth/token
pub async fn token(State(app): State<Arc<App>>, headers: HeaderMap, body: Bytes) -> Response {
    let fields = form_fields(&body);
    let Some(livemode) = platform_livemode(&headers, &fields) else {
        return invalid_client();
    };
    let grant = fields.get("grant_type").cloned().unwrap_or_default();
    let result = app.mutate(|db| match grant.as_str() {
        "authorization_code" => {
            let code = fields.get("code").cloned().unwrap_or_default();
            let Some(entry) = db.oauth_codes.get_mut(&code) else {
                return Err(("invalid_grant", format!("Authorization code does not exist: {code}")));
            };
            if entry.used {
                db.oauth_tokens.values_mut().filter(|t| t.code.as_deref() == Some(code.as_str())).for_each(|t| t.revoked = true);
                return Err((
                    "invalid_grant",
                    "This authorization code has already been used. All tokens issued with this code have been revoked.".into(),
                ));
            }
            entry.used = true;
            let account = entry.account.clone();
            Ok(issue(db, &account, livemode, Some(&code)))
        }
        "refresh_token" => {
            let token = fields.get("refresh_token").cloned().unwrap_or_default();
            match db.oauth_tokens.get(&token).filter(|t| t.kind == "refresh" && !t.revoked).cloned() {
                Some(t) => Ok(issue(db, &t.account, livemode, t.code.as_deref())),
                None => Err(("invalid_grant", format!("Refresh token does not exist: {token}"))),
            }
        }
        "" => Err(("invalid_request", "No grant type specified".into())),
        other => Err(("unsupported_grant_type", format!("Unsupported grant type: {other}"))),
    });
    match result {
        Ok(body) => Json(body).into_response(),
        Err((error, description)) => oauth_error(StatusCode::BAD_REQUEST, error, description),
    }
}

/// POST /oauth/deauthorize: revokes the account's tokens; its objects stay.
pub async fn deauthorize(State(app): State<Arc<App>>, headers: HeaderMap, body: Bytes) -> Response {
    let fields = form_fields(&body);
    if platform_livemode(&headers, &fields).is_none() {
        return invalid_client();
    }
    let account = fields.get("stripe_user_id").cloned().unwrap_or_default();
    let livemode = platform_livemode(&headers, &fields).unwrap_or(false);
    let now = crate::time::now();
    let known = app.mutate(|db| revoke_access(db, &account, livemode, now));
    if known {
        Json(json!({ "stripe_user_id": account })).into_response()
    } else {
        oauth_error(
            StatusCode::BAD_REQUEST,
            "invalid_client",
            format!("No such user: {account}"),
        )
    }
}

/// The platform's access to `account` ends (the platform disconnected it, or its owner did from
/// Stripe's dashboard): its tokens stop working and, as Stripe does, an
/// `account.application.deauthorized` event goes to the platform's Connect endpoints. False if
/// there is no such account.
pub fn revoke_access(db: &mut Db, account: &str, livemode: bool, now: i64) -> bool {
    if !db.accounts.contains_key(account) {
        return false;
    }
    db.oauth_tokens
        .values_mut()
        .filter(|t| t.account == account)
        .for_each(|t| t.revoked = true);
    let scope = crate::state::Scope {
        account: Some(account.to_owned()),
        livemode,
    };
    let application = json!({"id": "ca_dream_api_platform", "object": "application", "name": "dream-api"});
    db.emit(
        &scope,
        "account.application.deauthorized",
        application,
        None,
        &super::events::ReqInfo::none(),
        now,
    );
    true
}
