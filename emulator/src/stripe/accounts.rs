//! Connected accounts as Stripe shows them: `GET /v1/account` (the caller's own) and
//! `GET /v1/accounts/{id}` (a connected account of the platform).

use std::sync::Arc;

use axum::extract::{Path, State};
use axum::{Extension, Json};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use super::auth::Ctx;
use super::error::{StripeError, StripeResult};
use crate::App;

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Account {
    pub id: String,
    pub created: i64,
    pub business_name: Option<String>,
    pub email: Option<String>,
    /// `/_emulator/accounts/{id}/event_padding`: bytes added to each of its events from now on.
    #[serde(default)]
    pub event_padding: usize,
}

impl Account {
    pub fn render(&self) -> Value {
        json!({
            "id": self.id,
            "object": "account",
            "business_profile": {
                "mcc": null,
                "name": self.business_name,
                "product_description": null,
                "support_address": null,
                "support_email": self.email,
                "support_phone": null,
                "support_url": null,
                "url": null,
            },
            "business_type": null,
            "capabilities": { "card_payments": "active", "transfers": "active" },
            "charges_enabled": true,
            "controller": { "type": "account" },
            "country": "US",
            "created": self.created,
            "default_currency": "usd",
            "details_submitted": true,
            "email": self.email,
            "metadata": {},
            "payouts_enabled": true,
            "type": "standard",
        })
    }
}

/// GET /v1/account
pub async fn retrieve_own(State(app): State<Arc<App>>, Extension(ctx): Extension<Ctx>) -> StripeResult<Json<Value>> {
    app.read(|db| {
        let account = match &ctx.scope.account {
            Some(id) => db.accounts.get(id).cloned(),
            None => Some(Account {
                id: db.platform_account.clone(),
                created: 0,
                business_name: Some("dream-api platform".into()),
                email: None,
                event_padding: 0,
            }),
        };
        account
            .map(|a| Json(a.render()))
            .ok_or_else(|| StripeError::no_such("account", "", None, None))
    })
}

/// GET /v1/accounts/{id}: the platform may read its connected accounts.
pub async fn retrieve(
    State(app): State<Arc<App>>,
    Extension(ctx): Extension<Ctx>,
    Path(id): Path<String>,
) -> StripeResult<Json<Value>> {
    app.read(|db| {
        let visible = ctx.scope.account.is_none() || ctx.scope.account.as_deref() == Some(id.as_str());
        match db.accounts.get(&id).filter(|_| visible) {
            Some(a) => Ok(Json(a.render())),
            None => Err(StripeError::no_such("account", &id, None, None)),
        }
    })
}
