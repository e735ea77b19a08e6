//! Authentication of `/v1` requests: the secret key (Bearer or Basic, as Stripe accepts),
//! its mode, the `Stripe-Account` header, and the request id. Hands the handler a `Ctx`.

use std::sync::Arc;

use axum::extract::{Request, State};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use base64::Engine;

use super::error::{StripeError, StripeResult};
use super::events::ReqInfo;
use super::{API_VERSION, idempotency};
use crate::App;
use crate::state::{Db, Scope};

/// What a handler knows about the caller.
#[derive(Debug, Clone)]
pub struct Ctx {
    pub scope: Scope,
    pub req: ReqInfo,
    /// The request's `Stripe-Version`, else `API_VERSION`: where Stripe renamed an accepted
    /// value, validation follows the caller's version.
    pub api_version: String,
}

const NO_KEY: &str = "You did not provide an API key. You need to provide your API key in the Authorization header, using Bearer auth (e.g. 'Authorization: Bearer YOUR_SECRET_KEY'). See https://stripe.com/docs/api#authentication for details, or we can help at https://support.stripe.com/.";

pub async fn middleware(State(app): State<Arc<App>>, mut req: Request, next: Next) -> Response {
    let request_id = app.db().req_ids.id("req_", 14);
    let version = req
        .headers()
        .get("stripe-version")
        .and_then(|v| v.to_str().ok())
        .unwrap_or(API_VERSION)
        .to_string();
    let authenticated = authenticate(&app.db(), req.headers());
    let mut resp = match authenticated {
        Err(e) => e.into_response(),
        Ok(scope) => {
            let idempotency_key = header_str(req.headers(), "idempotency-key");
            let replayable = req.method() == Method::POST && idempotency_key.is_some();
            let ctx = Ctx {
                scope: scope.clone(),
                req: ReqInfo {
                    id: Some(request_id.clone()),
                    idempotency_key: idempotency_key.clone(),
                },
                api_version: version.clone(),
            };
            req.extensions_mut().insert(ctx);
            match idempotency_key {
                Some(key) if replayable => idempotency::run(&app, &scope, key, &request_id, req, next).await,
                _ => next.run(req).await,
            }
        }
    };
    let headers = resp.headers_mut();
    if !headers.contains_key("request-id")
        && let Ok(v) = HeaderValue::from_str(&request_id)
    {
        headers.insert("request-id", v);
    }
    if let Ok(v) = HeaderValue::from_str(&version) {
        headers.insert("stripe-version", v);
    }
    resp
}

fn header_str(headers: &HeaderMap, name: &str) -> Option<String> {
    headers.get(name).and_then(|v| v.to_str().ok()).map(str::to_string)
}

/// `sk_test_abcdefgh...wxyz` → `sk_test_********wxyz`, as Stripe echoes a bad key.
fn redact(key: &str) -> String {
    let visible = key.len().saturating_sub(4);
    let prefix_len = key
        .find('_')
        .and_then(|i| key[i + 1..].find('_').map(|j| i + j + 2))
        .unwrap_or(0);
    if prefix_len >= visible {
        return "*".repeat(key.len());
    }
    format!(
        "{}{}{}",
        &key[..prefix_len],
        "*".repeat(visible - prefix_len),
        &key[visible..]
    )
}

fn api_key(headers: &HeaderMap) -> StripeResult<String> {
    let raw = headers
        .get(header::AUTHORIZATION)
        .ok_or_else(|| StripeError::unauthorized(NO_KEY))?
        .to_str()
        .map_err(|_| StripeError::unauthorized("Invalid API Key provided: the Authorization header is not ASCII"))?
        .trim();
    let (scheme, rest) = raw.split_once(' ').unwrap_or((raw, ""));
    let key = match scheme.to_ascii_lowercase().as_str() {
        "bearer" => rest.trim().to_string(),
        // Basic auth with the key as the username and no password, as curl -u sk_test_...: sends.
        "basic" => {
            let decoded = base64::engine::general_purpose::STANDARD
                .decode(rest.trim())
                .map_err(|_| StripeError::unauthorized("Invalid API Key provided: malformed Basic credentials"))?;
            let text = String::from_utf8(decoded)
                .map_err(|_| StripeError::unauthorized("Invalid API Key provided: malformed Basic credentials"))?;
            text.split(':').next().unwrap_or_default().to_string()
        }
        _ => {
            return Err(StripeError::unauthorized(format!(
                "Invalid API Key provided: {}",
                redact(raw)
            )));
        }
    };
    if key.is_empty() {
        return Err(StripeError::unauthorized(NO_KEY));
    }
    Ok(key)
}

pub fn authenticate(db: &Db, headers: &HeaderMap) -> StripeResult<Scope> {
    let key = api_key(headers)?;
    let (token_account, livemode) = if let Some(token) = db.oauth_tokens.get(&key).filter(|t| t.is_access()) {
        if token.revoked {
            return Err(StripeError::unauthorized(format!(
                "The provided key '{}' has been revoked (its OAuth grant was revoked).",
                redact(&key)
            )));
        }
        // A connected account's OAuth access token acts as that account's own key.
        (Some(token.account.clone()), token.livemode)
    } else {
        let mode = ["sk_test_", "rk_test_"]
            .iter()
            .find(|p| key.starts_with(**p) && key.len() > p.len())
            .map(|_| false)
            .or_else(|| {
                ["sk_live_", "rk_live_"]
                    .iter()
                    .find(|p| key.starts_with(**p) && key.len() > p.len())
                    .map(|_| true)
            });
        match mode {
            Some(livemode) => (None, livemode),
            None if key.starts_with("pk_") => {
                return Err(StripeError::unauthorized(
                    "This API call cannot be made with a publishable API key. Please use a secret API key. You can find a list of your API keys at https://dashboard.stripe.com/account/apikeys.",
                ));
            }
            None => {
                return Err(StripeError::unauthorized(format!(
                    "Invalid API Key provided: {}",
                    redact(&key)
                )));
            }
        }
    };
    let account = match header_str(headers, "stripe-account") {
        None => token_account,
        Some(id) if id == db.platform_account => None,
        Some(id) if db.accounts.contains_key(&id) => Some(id),
        Some(id) => {
            return Err(StripeError::new(
                StatusCode::FORBIDDEN,
                "invalid_request_error",
                format!(
                    "The provided key '{}' does not have access to account '{id}' (or that account does not exist). Application access may have been revoked.",
                    redact(&key)
                ),
            )
            .code("account_invalid"));
        }
    };
    Ok(Scope { account, livemode })
}

#[cfg(test)]
mod tests {
    use super::redact;

    #[test]
    fn redacts_all_but_the_prefix_and_last_four() {
        assert_eq!(redact("sk_test_abcdefgh1234"), "sk_test_********1234");
        assert_eq!(redact("nonsense"), "****ense");
    }
}
