//! Promotion codes: the customer-facing codes of a coupon. Create, retrieve, update
//! (`active`, `metadata`), list (`code`, `active`, `coupon`, `customer`). Rendered as the
//! emulator's API version renders them: the coupon under `promotion: {type: "coupon", coupon}`
//! (2025-09-30.clover moved it there from a top-level `coupon`); create takes either form.

use std::collections::BTreeMap;
use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{Path, RawQuery, State};
use axum::{Extension, Json};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use super::auth::Ctx;
use super::coupons::find_coupon;
use super::error::{StripeError, StripeResult};
use super::events::diff;
use super::list::{LIST_PARAMS, ListQuery, list as list_object, page};
use super::params::Params;
use super::{Record, expand, find, find_mut};
use crate::App;
use crate::record;
use crate::state::{Db, Scope};

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct PromotionCode {
    pub id: String,
    pub scope: Scope,
    pub seq: u64,
    pub created: i64,
    pub coupon: String,
    pub code: String,
    pub active: bool,
    pub customer: Option<String>,
    pub expires_at: Option<i64>,
    pub max_redemptions: Option<i64>,
    pub first_time_transaction: bool,
    pub minimum_amount: Option<i64>,
    pub minimum_amount_currency: Option<String>,
    pub metadata: BTreeMap<String, String>,
    pub times_redeemed: i64,
}
record!(PromotionCode, "promotion_code");

impl PromotionCode {
    pub fn render(&self) -> Value {
        json!({
            "id": self.id,
            "object": "promotion_code",
            "active": self.active,
            "code": self.code,
            "created": self.created,
            "customer": self.customer,
            "customer_account": null,
            "expires_at": self.expires_at,
            "livemode": self.scope.livemode,
            "max_redemptions": self.max_redemptions,
            "metadata": self.metadata,
            "promotion": { "coupon": self.coupon, "type": "coupon" },
            "restrictions": {
                "first_time_transaction": self.first_time_transaction,
                "minimum_amount": self.minimum_amount,
                "minimum_amount_currency": self.minimum_amount_currency,
            },
            "times_redeemed": self.times_redeemed,
        })
    }

    /// Why it cannot be redeemed by `customer` (None for a new one) on a purchase of
    /// `subtotal` in `currency`, as Stripe words it; None when it can.
    pub fn refusal(
        &self,
        db: &Db,
        customer: Option<&str>,
        subtotal: i64,
        currency: &str,
        now: i64,
    ) -> Option<StripeError> {
        let invalid = |message: String| Some(StripeError::invalid(message));
        if !self.active {
            return invalid(format!("The promotion code `{}` is not active.", self.code));
        }
        if self.expires_at.is_some_and(|t| now >= t) {
            return invalid(format!("The promotion code `{}` has expired.", self.code));
        }
        if self.max_redemptions.is_some_and(|m| self.times_redeemed >= m) {
            return invalid(format!(
                "The promotion code `{}` has been redeemed the maximum number of times.",
                self.code
            ));
        }
        match find_coupon(db, &self.scope, &self.coupon, None) {
            Err(_) => return invalid(format!("The promotion code `{}` is no longer valid.", self.code)),
            Ok(coupon) => {
                if let Some(e) = coupon.refusal(now) {
                    return Some(e);
                }
            }
        }
        if let Some(only) = &self.customer
            && customer != Some(only.as_str())
        {
            return invalid("This promotion code cannot be redeemed by this customer.".into());
        }
        if self.first_time_transaction && customer.is_some_and(|c| has_transactions(db, c)) {
            return invalid(
                "This promotion code cannot be redeemed because the associated customer has prior transactions.".into(),
            );
        }
        if let (Some(minimum), Some(min_currency)) = (self.minimum_amount, &self.minimum_amount_currency)
            && (min_currency != currency || subtotal < minimum)
        {
            return invalid(format!(
                "This promotion code requires a minimum order of {minimum} {min_currency} (in minor units)."
            ));
        }
        None
    }
}

/// Whether the customer has paid anything before: a paid invoice or a succeeded payment.
fn has_transactions(db: &Db, customer: &str) -> bool {
    db.invoices
        .values()
        .any(|i| i.customer == customer && i.status == "paid" && i.total > 0)
        || db
            .payment_intents
            .values()
            .any(|p| p.customer.as_deref() == Some(customer) && p.status == "succeeded")
}

/// The active promotion code `code` (case-insensitive) of `scope`.
pub fn by_code<'a>(db: &'a Db, scope: &Scope, code: &str) -> Option<&'a PromotionCode> {
    db.promotion_codes
        .values()
        .find(|p| &p.scope == scope && p.active && p.code.eq_ignore_ascii_case(code))
}

fn code_taken(db: &Db, scope: &Scope, code: &str, except: Option<&str>) -> StripeResult<()> {
    match by_code(db, scope, code) {
        Some(p) if Some(p.id.as_str()) != except => Err(StripeError::invalid(format!(
            "An active promotion code with `code: {code}` already exists."
        ))
        .param("code")),
        _ => Ok(()),
    }
}

/// The coupon of a new code: `promotion[type]=coupon` with `promotion[coupon]`, or (as API
/// versions before 2025-09-30.clover take it) a top-level `coupon`; returns it with the name
/// of the parameter that gave it.
fn coupon_param(params: &Params) -> StripeResult<(String, String)> {
    let legacy = params.str("coupon")?.filter(|s| !s.is_empty());
    match (params.hash("promotion")?, legacy) {
        (Some(_), Some(_)) => Err(StripeError::invalid(
            "You may only specify one of these parameters: coupon, promotion.",
        )
        .code("parameters_exclusive")
        .param("coupon")),
        (None, Some(coupon)) => Ok((coupon, "coupon".into())),
        (None, None) => Err(StripeError::missing("promotion")),
        (Some(promotion), None) => {
            promotion.allow(&["type", "coupon"])?;
            if promotion.choice("type", &["coupon"])?.is_none() {
                return Err(StripeError::missing(&promotion.name("type")));
            }
            Ok((promotion.required("coupon")?, promotion.name("coupon")))
        }
    }
}

/// POST /v1/promotion_codes
pub async fn create(
    State(app): State<Arc<App>>,
    Extension(ctx): Extension<Ctx>,
    body: Bytes,
) -> StripeResult<Json<Value>> {
    let params = Params::from_form(&body)?;
    params.allow(&[
        "promotion",
        "coupon",
        "code",
        "active",
        "customer",
        "expires_at",
        "max_redemptions",
        "metadata",
        "restrictions",
    ])?;
    let (coupon_id, coupon_param_name) = coupon_param(&params)?;
    let code = params.str("code")?.filter(|s| !s.is_empty());
    if let Some(code) = &code
        && !code.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
    {
        return Err(StripeError::invalid(
            "Invalid code: it may only contain letters (a-z, A-Z), digits (0-9) and dashes (-).",
        )
        .param("code"));
    }
    let active = params.bool("active")?.unwrap_or(true);
    let customer = params.str("customer")?.filter(|s| !s.is_empty());
    let now = crate::time::now();
    let expires_at = params.int("expires_at")?;
    if expires_at.is_some_and(|t| t <= now) {
        return Err(StripeError::invalid("Invalid expires_at: must be in the future.").param("expires_at"));
    }
    let max_redemptions = params.int("max_redemptions")?;
    if max_redemptions.is_some_and(|m| m < 1) {
        return Err(StripeError::invalid("This value must be greater than or equal to 1.").param("max_redemptions"));
    }
    let (first_time_transaction, minimum_amount, minimum_amount_currency) = match params.hash("restrictions")? {
        None => (false, None, None),
        Some(r) => {
            r.allow(&["first_time_transaction", "minimum_amount", "minimum_amount_currency"])?;
            let minimum = r.int("minimum_amount")?;
            let currency = r.str("minimum_amount_currency")?.map(|c| c.to_lowercase());
            if minimum.is_some() != currency.is_some() {
                return Err(StripeError::invalid(
                    "restrictions[minimum_amount] and restrictions[minimum_amount_currency] go together.",
                )
                .param(r.name("minimum_amount_currency")));
            }
            (r.bool("first_time_transaction")?.unwrap_or(false), minimum, currency)
        }
    };
    let metadata = params.metadata()?.map(|m| m.into_map()).unwrap_or_default();
    let expand = params.expand()?;
    app.mutate(|db| {
        let coupon = find_coupon(db, &ctx.scope, &coupon_id, Some(&coupon_param_name))?;
        if let (Some(t), Some(limit)) = (expires_at, coupon.redeem_by)
            && t > limit
        {
            return Err(StripeError::invalid(format!(
                "The promotion code's expires_at cannot be after its coupon's redeem_by ({limit})."
            ))
            .param("expires_at"));
        }
        if let (Some(m), Some(limit)) = (max_redemptions, coupon.max_redemptions)
            && m > limit
        {
            return Err(StripeError::invalid(format!(
                "The promotion code's max_redemptions cannot be greater than its coupon's ({limit})."
            ))
            .param("max_redemptions"));
        }
        if let Some(c) = &customer {
            find(&db.customers, &ctx.scope, c, Some("customer"))?;
        }
        let code = match code {
            Some(code) => {
                if active {
                    code_taken(db, &ctx.scope, &code, None)?;
                }
                code
            }
            None => db.ids.chars(8).to_ascii_uppercase(),
        };
        let id = db.id("promo_", 24);
        let seq = db.next_seq();
        let promo = PromotionCode {
            id: id.clone(),
            scope: ctx.scope.clone(),
            seq,
            created: now,
            coupon: coupon_id,
            code,
            active,
            customer,
            expires_at,
            max_redemptions,
            first_time_transaction,
            minimum_amount,
            minimum_amount_currency,
            metadata,
            times_redeemed: 0,
        };
        let rendered = promo.render();
        db.promotion_codes.insert(id, promo);
        db.emit(
            &ctx.scope,
            "promotion_code.created",
            rendered.clone(),
            None,
            &ctx.req,
            now,
        );
        Ok(Json(expand::apply(db, &ctx.scope, rendered, &expand)?))
    })
}

/// GET /v1/promotion_codes/{id}
pub async fn retrieve(
    State(app): State<Arc<App>>,
    Extension(ctx): Extension<Ctx>,
    Path(id): Path<String>,
    RawQuery(query): RawQuery,
) -> StripeResult<Json<Value>> {
    super::list::retrieve_one(
        &app,
        &ctx,
        query.as_deref(),
        (|db| &db.promotion_codes, &id),
        PromotionCode::render,
    )
}

/// POST /v1/promotion_codes/{id}: `active` (reactivating checks the code is still free
/// among the active ones) and `metadata`.
pub async fn update(
    State(app): State<Arc<App>>,
    Extension(ctx): Extension<Ctx>,
    Path(id): Path<String>,
    body: Bytes,
) -> StripeResult<Json<Value>> {
    let params = Params::from_form(&body)?;
    params.allow(&["active", "metadata"])?;
    let active = params.bool("active")?;
    let metadata = params.metadata()?;
    let expand = params.expand()?;
    let now = crate::time::now();
    app.mutate(|db| {
        let promo = find(&db.promotion_codes, &ctx.scope, &id, None)?;
        if active == Some(true) && !promo.active {
            code_taken(db, &ctx.scope, &promo.code.clone(), Some(&id))?;
        }
        let promo = find_mut(&mut db.promotion_codes, &ctx.scope, &id, None)?;
        let before = promo.render();
        if let Some(active) = active {
            promo.active = active;
        }
        if let Some(m) = metadata {
            m.apply(&mut promo.metadata);
        }
        let after = promo.render();
        if let Some(previous) = diff(&before, &after) {
            db.emit(
                &ctx.scope,
                "promotion_code.updated",
                after.clone(),
                Some(previous),
                &ctx.req,
                now,
            );
        }
        Ok(Json(expand::apply(db, &ctx.scope, after, &expand)?))
    })
}

/// GET /v1/promotion_codes: `code` (case-insensitive), `active`, `coupon`, `customer`.
pub async fn list(
    State(app): State<Arc<App>>,
    Extension(ctx): Extension<Ctx>,
    RawQuery(query): RawQuery,
) -> StripeResult<Json<Value>> {
    let params = Params::from_query(query.as_deref())?;
    params.allow(&[&LIST_PARAMS[..], &["code", "active", "coupon", "customer"]].concat())?;
    let q = ListQuery::parse(&params)?;
    let code = params.str("code")?;
    let active = params.bool("active")?;
    let coupon = params.str("coupon")?;
    let customer = params.str("customer")?;
    app.read(|db| {
        let items: Vec<&PromotionCode> = db
            .promotion_codes
            .values()
            .filter(|p| p.scope() == &ctx.scope)
            .filter(|p| code.as_ref().is_none_or(|c| p.code.eq_ignore_ascii_case(c)))
            .filter(|p| active.is_none_or(|a| p.active == a))
            .filter(|p| coupon.as_ref().is_none_or(|c| &p.coupon == c))
            .filter(|p| customer.is_none() || p.customer == customer)
            .collect();
        let (items, has_more) = page(items, &q)?;
        let data = items.iter().map(|p| p.render()).collect();
        Ok(Json(expand::apply(
            db,
            &ctx.scope,
            list_object("/v1/promotion_codes", data, has_more),
            &params.expand()?,
        )?))
    })
}
