//! Coupons: create, retrieve, update (`name`, `metadata`), delete, list. A coupon's terms
//! (`percent_off` or `amount_off` in a currency, for `once`, `repeating` months or `forever`)
//! are what a discount (`discounts.rs`) applies; `times_redeemed` counts the checkouts that
//! redeemed it.
//!
//! Coupon ids are chosen by the merchant, so two accounts may both have a `SUMMER`: coupons
//! are kept under their account, mode and id (`key`), not under the id alone.

use std::collections::BTreeMap;
use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{Path, RawQuery, State};
use axum::{Extension, Json};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use super::auth::Ctx;
use super::error::{StripeError, StripeResult};
use super::events::diff;
use super::list::{LIST_PARAMS, ListQuery, list as list_object, page};
use super::params::Params;
use super::{Record, expand};
use crate::App;
use crate::record;
use crate::state::{Db, Scope};

/// A coupon's terms, which a discount keeps as they were when it was redeemed.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Terms {
    pub percent_off: Option<f64>,
    pub amount_off: Option<i64>,
    pub currency: Option<String>,
    /// `once`, `repeating` (for `duration_in_months`) or `forever`.
    pub duration: String,
    pub duration_in_months: Option<i64>,
}

impl Terms {
    /// What the terms take off each of `amounts` (an invoice's or a session's lines, in
    /// `currency`): a percentage off every line, rounded per line; or a fixed amount off their
    /// sum (no more than the sum), shared out in proportion, the rest of the rounding on the
    /// last line. A fixed amount in another currency takes nothing off.
    pub fn allocate(&self, amounts: &[i64], currency: &str) -> Vec<i64> {
        if let Some(percent) = self.percent_off {
            return amounts
                .iter()
                .map(|a| ((*a as f64) * percent / 100.0).round() as i64)
                .collect();
        }
        let subtotal: i64 = amounts.iter().sum();
        let off = match (self.amount_off, &self.currency) {
            (Some(off), Some(c)) if c == currency && subtotal > 0 => off.min(subtotal),
            _ => return vec![0; amounts.len()],
        };
        let mut shares: Vec<i64> = amounts
            .iter()
            .map(|a| (i128::from(off) * i128::from(*a) / i128::from(subtotal)) as i64)
            .collect();
        let rest = off - shares.iter().sum::<i64>();
        if let Some(last) = shares.last_mut() {
            *last += rest;
        }
        shares
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Coupon {
    pub id: String,
    pub scope: Scope,
    pub seq: u64,
    pub created: i64,
    pub terms: Terms,
    pub max_redemptions: Option<i64>,
    pub redeem_by: Option<i64>,
    pub name: Option<String>,
    pub metadata: BTreeMap<String, String>,
    pub times_redeemed: i64,
}
record!(Coupon, "coupon");

/// Where a coupon is kept: its account, mode and id.
pub fn key(scope: &Scope, id: &str) -> String {
    let mode = if scope.livemode { "live" } else { "test" };
    format!("{}/{mode}/{id}", scope.account.as_deref().unwrap_or("platform"))
}

/// The coupon `id` of `scope`, or Stripe's "No such coupon" (with its hint when the coupon
/// exists in the other mode).
pub fn find_coupon<'a>(db: &'a Db, scope: &Scope, id: &str, param: Option<&str>) -> StripeResult<&'a Coupon> {
    if let Some(coupon) = db.coupons.get(&key(scope, id)) {
        return Ok(coupon);
    }
    let other = Scope {
        account: scope.account.clone(),
        livemode: !scope.livemode,
    };
    let other_mode = db.coupons.contains_key(&key(&other, id)).then_some(other.livemode);
    Err(StripeError::no_such("coupon", id, param, other_mode))
}

impl Coupon {
    /// Whether it can still be redeemed: before `redeem_by` and under `max_redemptions`.
    pub fn valid(&self, now: i64) -> bool {
        self.redeem_by.is_none_or(|t| now < t) && self.max_redemptions.is_none_or(|m| self.times_redeemed < m)
    }

    /// Why it can no longer be redeemed, in Stripe's terms; None while it can.
    pub fn refusal(&self, now: i64) -> Option<StripeError> {
        if self.redeem_by.is_some_and(|t| now >= t) {
            return Some(StripeError::invalid(format!("Coupon expired: {}", self.id)).code("coupon_expired"));
        }
        if self.max_redemptions.is_some_and(|m| self.times_redeemed >= m) {
            return Some(
                StripeError::invalid(format!(
                    "Coupon {} has been redeemed the maximum number of times it can be ({}).",
                    self.id,
                    self.max_redemptions.unwrap_or_default()
                ))
                .code("coupon_expired"),
            );
        }
        None
    }

    pub fn render(&self) -> Value {
        json!({
            "id": self.id,
            "object": "coupon",
            "amount_off": self.terms.amount_off,
            "created": self.created,
            "currency": self.terms.currency,
            "duration": self.terms.duration,
            "duration_in_months": self.terms.duration_in_months,
            "livemode": self.scope.livemode,
            "max_redemptions": self.max_redemptions,
            "metadata": self.metadata,
            "name": self.name,
            "percent_off": self.terms.percent_off,
            "redeem_by": self.redeem_by,
            "times_redeemed": self.times_redeemed,
            "valid": self.valid(crate::time::now()),
        })
    }
}

/// A positive whole number parameter (`max_redemptions`, `duration_in_months`).
fn positive(params: &Params, key: &str) -> StripeResult<Option<i64>> {
    match params.int(key)? {
        Some(n) if n < 1 => {
            Err(StripeError::invalid("This value must be greater than or equal to 1.").param(params.name(key)))
        }
        n => Ok(n),
    }
}

/// Stripe's limit on `redeem_by`.
const MAX_REDEEM_BY_AHEAD: i64 = 5 * 365 * 86_400;

fn terms(params: &Params) -> StripeResult<Terms> {
    let percent_off = match params.str("percent_off")? {
        None => None,
        Some(s) => match s.parse::<f64>() {
            Ok(p) if p > 0.0 && p <= 100.0 => Some(p),
            Ok(_) => {
                return Err(StripeError::invalid(
                    "Invalid percent_off: must be a positive number larger than 0 and smaller or equal to 100.",
                )
                .param("percent_off"));
            }
            Err(_) => {
                return Err(StripeError::invalid(format!("Invalid decimal: {s}")).param("percent_off"));
            }
        },
    };
    let amount_off = positive(params, "amount_off")?;
    let currency = params
        .str("currency")?
        .filter(|c| !c.is_empty())
        .map(|c| c.to_lowercase());
    match (percent_off, amount_off) {
        (None, None) => {
            return Err(StripeError::invalid("Must provide either percent_off or amount_off.").param("percent_off"));
        }
        (Some(_), Some(_)) => {
            return Err(
                StripeError::invalid("You may only specify one of these parameters: amount_off, percent_off.")
                    .code("parameters_exclusive")
                    .param("amount_off"),
            );
        }
        (None, Some(_)) if currency.is_none() => return Err(StripeError::missing("currency")),
        (Some(_), None) if currency.is_some() => {
            return Err(
                StripeError::invalid("You may only specify a currency with an amount_off coupon.").param("currency"),
            );
        }
        _ => {}
    }
    if let Some(c) = &currency
        && !(c.len() == 3 && c.bytes().all(|b| b.is_ascii_lowercase()))
    {
        return Err(StripeError::invalid(format!("Invalid currency: {c}.")).param("currency"));
    }
    let duration = params
        .choice("duration", &["forever", "once", "repeating"])?
        .unwrap_or_else(|| "once".into());
    let duration_in_months = positive(params, "duration_in_months")?;
    match (duration.as_str(), duration_in_months) {
        ("repeating", None) => return Err(StripeError::missing("duration_in_months")),
        ("once" | "forever", Some(_)) => {
            return Err(
                StripeError::invalid("You may only specify duration_in_months when duration is `repeating`.")
                    .param("duration_in_months"),
            );
        }
        _ => {}
    }
    Ok(Terms {
        percent_off,
        amount_off,
        currency,
        duration,
        duration_in_months,
    })
}

/// POST /v1/coupons
pub async fn create(
    State(app): State<Arc<App>>,
    Extension(ctx): Extension<Ctx>,
    body: Bytes,
) -> StripeResult<Json<Value>> {
    let params = Params::from_form(&body)?;
    params.allow(&[
        "id",
        "percent_off",
        "amount_off",
        "currency",
        "duration",
        "duration_in_months",
        "max_redemptions",
        "redeem_by",
        "name",
        "metadata",
    ])?;
    let terms = terms(&params)?;
    let custom_id = params.str("id")?.filter(|s| !s.is_empty());
    let max_redemptions = positive(&params, "max_redemptions")?;
    let now = crate::time::now();
    let redeem_by = params.int("redeem_by")?;
    if let Some(t) = redeem_by {
        if t <= now {
            return Err(StripeError::invalid("Invalid redeem_by: must be in the future.").param("redeem_by"));
        }
        if t > now + MAX_REDEEM_BY_AHEAD {
            return Err(
                StripeError::invalid("Invalid redeem_by: cannot be more than 5 years in the future.")
                    .param("redeem_by"),
            );
        }
    }
    let name = params.str("name")?.filter(|s| !s.is_empty());
    let metadata = params.metadata()?.map(|m| m.into_map()).unwrap_or_default();
    let expand = params.expand()?;
    app.mutate(|db| {
        let id = match custom_id {
            Some(id) if db.coupons.contains_key(&key(&ctx.scope, &id)) => {
                return Err(StripeError::invalid("Coupon already exists.")
                    .code("resource_already_exists")
                    .param("id"));
            }
            Some(id) => id,
            None => db.ids.chars(8).to_ascii_uppercase(),
        };
        let seq = db.next_seq();
        let coupon = Coupon {
            id: id.clone(),
            scope: ctx.scope.clone(),
            seq,
            created: now,
            terms,
            max_redemptions,
            redeem_by,
            name,
            metadata,
            times_redeemed: 0,
        };
        let rendered = coupon.render();
        db.coupons.insert(key(&ctx.scope, &id), coupon);
        db.emit(&ctx.scope, "coupon.created", rendered.clone(), None, &ctx.req, now);
        Ok(Json(expand::apply(db, &ctx.scope, rendered, &expand)?))
    })
}

/// GET /v1/coupons/{id}
pub async fn retrieve(
    State(app): State<Arc<App>>,
    Extension(ctx): Extension<Ctx>,
    Path(id): Path<String>,
    RawQuery(query): RawQuery,
) -> StripeResult<Json<Value>> {
    let params = Params::from_query(query.as_deref())?;
    params.allow(&[])?;
    app.read(|db| {
        let rendered = find_coupon(db, &ctx.scope, &id, None)?.render();
        Ok(Json(expand::apply(db, &ctx.scope, rendered, &params.expand()?)?))
    })
}

/// POST /v1/coupons/{id}: only `name` and `metadata` change; a coupon's terms are fixed.
pub async fn update(
    State(app): State<Arc<App>>,
    Extension(ctx): Extension<Ctx>,
    Path(id): Path<String>,
    body: Bytes,
) -> StripeResult<Json<Value>> {
    let params = Params::from_form(&body)?;
    params.allow(&["name", "metadata"])?;
    let name = params.nullable("name")?;
    let metadata = params.metadata()?;
    let expand = params.expand()?;
    let now = crate::time::now();
    app.mutate(|db| {
        let before = find_coupon(db, &ctx.scope, &id, None)?.render();
        let Some(coupon) = db.coupons.get_mut(&key(&ctx.scope, &id)) else {
            return Err(StripeError::no_such("coupon", &id, None, None));
        };
        if let Some(name) = name {
            coupon.name = name;
        }
        if let Some(m) = metadata {
            m.apply(&mut coupon.metadata);
        }
        let after = coupon.render();
        if let Some(previous) = diff(&before, &after) {
            db.emit(
                &ctx.scope,
                "coupon.updated",
                after.clone(),
                Some(previous),
                &ctx.req,
                now,
            );
        }
        Ok(Json(expand::apply(db, &ctx.scope, after, &expand)?))
    })
}

/// DELETE /v1/coupons/{id}: no new redemptions; discounts already made from it go on.
pub async fn delete(
    State(app): State<Arc<App>>,
    Extension(ctx): Extension<Ctx>,
    Path(id): Path<String>,
) -> StripeResult<Json<Value>> {
    let now = crate::time::now();
    app.mutate(|db| {
        let rendered = find_coupon(db, &ctx.scope, &id, None)?.render();
        db.coupons.remove(&key(&ctx.scope, &id));
        db.emit(&ctx.scope, "coupon.deleted", rendered, None, &ctx.req, now);
        Ok(Json(json!({ "id": id, "object": "coupon", "deleted": true })))
    })
}

/// GET /v1/coupons
pub async fn list(
    State(app): State<Arc<App>>,
    Extension(ctx): Extension<Ctx>,
    RawQuery(query): RawQuery,
) -> StripeResult<Json<Value>> {
    let params = Params::from_query(query.as_deref())?;
    params.allow(&LIST_PARAMS)?;
    let q = ListQuery::parse(&params)?;
    app.read(|db| {
        let items: Vec<&Coupon> = db.coupons.values().filter(|c| c.scope() == &ctx.scope).collect();
        let (items, has_more) = page(items, &q)?;
        let data = items.iter().map(|c| c.render()).collect();
        Ok(Json(expand::apply(
            db,
            &ctx.scope,
            list_object("/v1/coupons", data, has_more),
            &params.expand()?,
        )?))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn terms(percent_off: Option<f64>, amount_off: Option<i64>) -> Terms {
        Terms {
            percent_off,
            amount_off,
            currency: amount_off.map(|_| "usd".into()),
            duration: "forever".into(),
            duration_in_months: None,
        }
    }

    #[test]
    fn percentages_round_per_line_and_amounts_are_shared_out() {
        assert_eq!(terms(Some(20.0), None).allocate(&[1999, 0, 5], "usd"), vec![400, 0, 1]);
        assert_eq!(terms(Some(100.0), None).allocate(&[1999], "usd"), vec![1999]);
        // 500 off 3000: in proportion, the rounding on the last line.
        assert_eq!(
            terms(None, Some(500)).allocate(&[1000, 1000, 1000], "usd"),
            vec![166, 166, 168]
        );
        // Never more than the lines come to; nothing in another currency or off nothing.
        assert_eq!(terms(None, Some(5000)).allocate(&[1000, 999], "usd"), vec![1000, 999]);
        assert_eq!(terms(None, Some(500)).allocate(&[1000], "eur"), vec![0]);
        assert_eq!(terms(None, Some(500)).allocate(&[0, 0], "usd"), vec![0, 0]);
    }
}
