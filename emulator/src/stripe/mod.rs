//! The Stripe side: the `/v1` API, Connect OAuth, the hosted checkout and portal pages.

pub mod accounts;
pub mod auth;
pub mod billing;
pub mod charges;
pub mod checkout;
pub mod checkout_create;
pub mod checkout_tax;
pub mod coupons;
pub mod customers;
pub mod decimal;
pub mod delivery;
pub mod discounts;
pub mod disputes;
pub mod error;
pub mod events;
pub mod expand;
pub mod hosted;
pub mod idempotency;
pub mod invoices;
pub mod list;
pub mod meter_events;
pub mod meters;
pub mod oauth;
pub mod params;
pub mod payment;
pub mod payment_intents;
pub mod portal;
pub mod price_params;
pub mod prices;
pub mod products;
pub mod promotion_codes;
pub mod refunds;
pub mod renewal;
pub mod subscription_items;
pub mod subscriptions;
pub mod subscriptions_api;
pub mod tax;
pub mod tax_rates;
pub mod tax_table;
pub mod trials;
pub mod webhooks;

use std::collections::BTreeMap;
use std::sync::Arc;

use axum::Router;
use axum::routing::{get, post};

use crate::App;
use crate::state::Scope;
use error::{StripeError, StripeResult};

/// The API version the emulator's objects follow: that of async-stripe 1.0.0-rc.10, whose
/// types tests/async_stripe.rs parses them with. Stamped on events (the library warns when an
/// event's version differs from its own) and echoed when a request names none.
pub const API_VERSION: &str = "2026-09-30.endive";

/// A stored Stripe object: what lookups and lists need to know about it.
pub trait Record {
    /// The word Stripe uses in "No such ...: 'id'".
    const NOUN: &'static str;
    fn id(&self) -> &str;
    fn scope(&self) -> &Scope;
    fn seq(&self) -> u64;
}

#[macro_export]
macro_rules! record {
    ($t:ty, $noun:literal) => {
        impl $crate::stripe::Record for $t {
            const NOUN: &'static str = $noun;
            fn id(&self) -> &str {
                &self.id
            }
            fn scope(&self) -> &$crate::state::Scope {
                &self.scope
            }
            fn seq(&self) -> u64 {
                self.seq
            }
        }
    };
}

fn not_found<T: Record>(found: Option<&T>, scope: &Scope, id: &str, param: Option<&str>) -> StripeError {
    // Same account, other mode: Stripe says so, which saves a confused afternoon.
    let other_mode = found
        .filter(|r| r.scope().account == scope.account)
        .map(|r| r.scope().livemode);
    StripeError::no_such(T::NOUN, id, param, other_mode)
}

/// The object `id` if it belongs to `scope`; otherwise Stripe's "No such ..." error, so an
/// object of another account or mode is indistinguishable from one that never existed.
pub fn find<'a, T: Record>(
    map: &'a BTreeMap<String, T>,
    scope: &Scope,
    id: &str,
    param: Option<&str>,
) -> StripeResult<&'a T> {
    match map.get(id) {
        Some(r) if r.scope() == scope => Ok(r),
        other => Err(not_found(other, scope, id, param)),
    }
}

pub fn find_mut<'a, T: Record>(
    map: &'a mut BTreeMap<String, T>,
    scope: &Scope,
    id: &str,
    param: Option<&str>,
) -> StripeResult<&'a mut T> {
    match map.get_mut(id) {
        Some(r) if r.scope() == scope => Ok(r),
        other => Err(not_found(other.map(|r| &*r), scope, id, param)),
    }
}

pub fn router(app: Arc<App>) -> Router<Arc<App>> {
    let v1 = Router::new()
        .route("/v1/account", get(accounts::retrieve_own))
        .route("/v1/accounts/{id}", get(accounts::retrieve))
        .route("/v1/products", get(products::list).post(products::create))
        .route(
            "/v1/products/{id}",
            get(products::retrieve).post(products::update).delete(products::delete),
        )
        .route("/v1/prices", get(prices::list).post(prices::create))
        .route("/v1/prices/{id}", get(prices::retrieve).post(prices::update))
        .route("/v1/coupons", get(coupons::list).post(coupons::create))
        .route(
            "/v1/coupons/{id}",
            get(coupons::retrieve).post(coupons::update).delete(coupons::delete),
        )
        .route(
            "/v1/promotion_codes",
            get(promotion_codes::list).post(promotion_codes::create),
        )
        .route(
            "/v1/promotion_codes/{id}",
            get(promotion_codes::retrieve).post(promotion_codes::update),
        )
        .route("/v1/customers", get(customers::list).post(customers::create))
        .route("/v1/customers/{id}", get(customers::retrieve).post(customers::update))
        .route(
            "/v1/checkout/sessions",
            get(checkout::list).post(checkout_create::create),
        )
        .route("/v1/checkout/sessions/{id}", get(checkout::retrieve))
        .route("/v1/checkout/sessions/{id}/expire", post(checkout::expire))
        .route("/v1/checkout/sessions/{id}/line_items", get(checkout::line_items))
        .route("/v1/billing_portal/sessions", post(portal::create))
        .route("/v1/billing/meters", get(meters::list).post(meters::create))
        .route("/v1/billing/meters/{id}", get(meters::retrieve).post(meters::update))
        .route("/v1/billing/meters/{id}/deactivate", post(meters::deactivate))
        .route("/v1/billing/meters/{id}/reactivate", post(meters::reactivate))
        .route("/v1/billing/meters/{id}/event_summaries", get(meter_events::summaries))
        .route("/v1/billing/meter_events", post(meter_events::create))
        .route("/v1/subscriptions", get(subscriptions_api::list))
        .route(
            "/v1/subscriptions/{id}",
            get(subscriptions_api::retrieve)
                .post(subscriptions_api::update)
                .delete(subscriptions_api::cancel),
        )
        .route("/v1/tax_rates/{id}", get(tax_rates::retrieve))
        .route("/v1/invoices", get(invoices::list))
        .route("/v1/invoices/{id}", get(invoices::retrieve))
        .route("/v1/payment_intents", get(payment_intents::list))
        .route("/v1/payment_intents/{id}", get(payment_intents::retrieve))
        .route("/v1/charges", get(charges::list))
        .route("/v1/charges/{id}", get(charges::retrieve))
        .route("/v1/refunds", get(refunds::list).post(refunds::create))
        .route("/v1/refunds/{id}", get(refunds::retrieve))
        .route("/v1/disputes", get(disputes::list))
        .route("/v1/disputes/{id}", get(disputes::retrieve))
        .route("/v1/events", get(events::list))
        .route("/v1/events/{id}", get(events::retrieve))
        .route("/v1/webhook_endpoints", get(webhooks::list).post(webhooks::create))
        .route(
            "/v1/webhook_endpoints/{id}",
            get(webhooks::retrieve).post(webhooks::update).delete(webhooks::delete),
        )
        .layer(axum::middleware::from_fn_with_state(app, auth::middleware));

    Router::new()
        .merge(v1)
        .route(
            "/oauth/authorize",
            get(oauth::authorize_page).post(oauth::authorize_submit),
        )
        .route("/oauth/token", post(oauth::token))
        .route("/oauth/deauthorize", post(oauth::deauthorize))
        .route("/checkout/{id}", get(hosted::page_route).post(hosted::pay))
        .route("/p/session/{id}", get(portal::page_route))
        .route("/p/session/{id}/subscriptions/{sub}/{action}", post(portal::action))
}
