//! Billing portal sessions (`POST /v1/billing_portal/sessions`) and the portal page they
//! open: the customer's subscriptions with cancel at period end, undo, and cancel now.

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::{Extension, Json};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

use super::auth::Ctx;
use super::error::StripeResult;
use super::events::ReqInfo;
use super::params::Params;
use super::subscriptions::set_cancel_at_period_end;
use super::{expand, find};
use crate::App;
use crate::html::{escape, page};
use crate::record;
use crate::state::{Db, Scope};

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct PortalSession {
    pub id: String,
    pub scope: Scope,
    pub seq: u64,
    pub created: i64,
    pub customer: String,
    pub return_url: Option<String>,
    pub locale: Option<String>,
}
record!(PortalSession, "billing_portal.session");

/// Each account and mode has one default portal configuration; its id is stable.
fn configuration_id(scope: &Scope) -> String {
    let digest = Sha256::new()
        .chain_update(scope.account.as_deref().unwrap_or("platform"))
        .chain_update(if scope.livemode { "live" } else { "test" })
        .finalize();
    format!("bpc_{}", &hex::encode(digest)[..24])
}

impl PortalSession {
    pub fn render(&self, db: &Db) -> Value {
        json!({
            "id": self.id,
            "object": "billing_portal.session",
            "configuration": configuration_id(&self.scope),
            "created": self.created,
            "customer": self.customer,
            "customer_account": null,
            "flow": null,
            "livemode": self.scope.livemode,
            "locale": self.locale,
            "on_behalf_of": null,
            "return_url": self.return_url,
            "url": format!("{}/p/session/{}", db.base_url, self.id),
        })
    }
}

/// POST /v1/billing_portal/sessions
pub async fn create(
    State(app): State<Arc<App>>,
    Extension(ctx): Extension<Ctx>,
    body: Bytes,
) -> StripeResult<Json<Value>> {
    let params = Params::from_form(&body)?;
    params.allow(&["customer", "return_url", "locale"])?;
    let customer = params.required("customer")?;
    let return_url = params.str("return_url")?.filter(|s| !s.is_empty());
    if let Some(url) = &return_url
        && !url::Url::parse(url).is_ok_and(|u| matches!(u.scheme(), "http" | "https"))
    {
        return Err(super::error::StripeError::invalid("Not a valid URL").param("return_url"));
    }
    let locale = params.str("locale")?;
    let expand = params.expand()?;
    let now = crate::time::now();
    app.mutate(|db| {
        find(&db.customers, &ctx.scope, &customer, Some("customer"))?;
        let id = db.id("bps_", 24);
        let seq = db.next_seq();
        let session = PortalSession {
            id: id.clone(),
            scope: ctx.scope.clone(),
            seq,
            created: now,
            customer,
            return_url,
            locale,
        };
        let rendered = session.render(db);
        db.portal_sessions.insert(id, session);
        Ok(Json(expand::apply(db, &ctx.scope, rendered, &expand)?))
    })
}

fn render_page(db: &Db, session: &PortalSession, notice: Option<&str>) -> Response {
    let mut subs: Vec<_> = db
        .subscriptions
        .values()
        .filter(|s| s.scope == session.scope && s.customer == session.customer)
        .collect();
    subs.sort_by_key(|s| std::cmp::Reverse(s.seq));
    let mut rows = String::new();
    for sub in subs {
        let (_, end) = sub.period();
        let names: Vec<String> = sub
            .items
            .iter()
            .filter_map(|i| db.prices.get(&i.price))
            .map(|p| {
                let product = db.products.get(&p.product).map(|x| x.name.clone()).unwrap_or_default();
                format!("{product} ({} / {})", p.unit_label(), sub.interval)
            })
            .collect();
        let state = match (sub.status.as_str(), sub.cancel_at_period_end) {
            ("canceled", _) => "Canceled".to_string(),
            (_, true) => format!("Cancels at the end of the period (unix {end})"),
            (status, false) => format!("{status}; renews at unix {end}"),
        };
        let action = |name: &str, label: &str| {
            format!(
                "<form method=\"post\" action=\"/p/session/{}/subscriptions/{}/{name}\" style=\"display:inline\"><button type=\"submit\">{label}</button></form>",
                escape(&session.id),
                escape(&sub.id)
            )
        };
        let buttons = match (sub.status.as_str(), sub.cancel_at_period_end) {
            ("canceled", _) => String::new(),
            (_, false) => action("cancel_at_period_end", "Cancel at period end") + &action("cancel_now", "Cancel now"),
            (_, true) => action("resume", "Don't cancel") + &action("cancel_now", "Cancel now"),
        };
        rows.push_str(&format!(
            "<tr><td>{}<br><small>{}</small></td><td>{}</td><td>{buttons}</td></tr>",
            escape(&names.join(", ")),
            escape(&sub.id),
            escape(&state)
        ));
    }
    if rows.is_empty() {
        rows.push_str("<tr><td colspan=\"3\">No subscriptions.</td></tr>");
    }
    let email = db
        .customers
        .get(&session.customer)
        .and_then(|c| c.email.clone())
        .unwrap_or_default();
    let notice = notice
        .map(|n| format!("<p class=\"banner\">{}</p>", escape(n)))
        .unwrap_or_default();
    let back = session
        .return_url
        .as_ref()
        .map(|u| format!("<p><a href=\"{}\">Return</a></p>", escape(u)))
        .unwrap_or_default();
    let body = format!(
        "<p>{} · {}</p>{notice}<table><thead><tr><th>Plan</th><th>Status</th><th></th></tr></thead><tbody>{rows}</tbody></table>{back}",
        escape(&email),
        escape(&session.customer)
    );
    page(StatusCode::OK, "Billing", &body)
}

/// GET /p/session/{id}
pub async fn page_route(State(app): State<Arc<App>>, Path(id): Path<String>) -> Response {
    app.read(|db| match db.portal_sessions.get(&id) {
        Some(session) => render_page(db, session, None),
        None => page(StatusCode::NOT_FOUND, "Billing", "<p>No such portal session.</p>"),
    })
}

/// POST /p/session/{id}/subscriptions/{sub}/{action}: `cancel_at_period_end`, `resume`,
/// `cancel_now`.
pub async fn action(State(app): State<Arc<App>>, Path((id, sub, action)): Path<(String, String, String)>) -> Response {
    let now = crate::time::now();
    let result = app.mutate(|db| {
        let session = db.portal_sessions.get(&id).cloned().ok_or("No such portal session.")?;
        let owned = db
            .subscriptions
            .get(&sub)
            .is_some_and(|s| s.scope == session.scope && s.customer == session.customer);
        if !owned {
            return Err("No such subscription for this customer.");
        }
        let req = ReqInfo::none();
        let done = match action.as_str() {
            "cancel_at_period_end" => db.update_subscription(&sub, &req, now, |s| {
                set_cancel_at_period_end(s, true, now);
                Ok(())
            }),
            "resume" => db.update_subscription(&sub, &req, now, |s| {
                set_cancel_at_period_end(s, false, now);
                Ok(())
            }),
            "cancel_now" => db.end_subscription(&sub, "cancellation_requested", &req, now),
            _ => return Err("Unknown action."),
        };
        done.map(|_| ())
            .map_err(|_| "The subscription cannot be changed any more.")
    });
    match result {
        Ok(()) => Redirect::to(&format!("/p/session/{id}")).into_response(),
        Err(message) => page(
            StatusCode::BAD_REQUEST,
            "Billing",
            &format!("<p class=\"error\">{}</p>", escape(message)),
        ),
    }
}
