//! `expand[]`: replaces an id in a response with the object it names (same scope only),
//! following dotted paths (`subscription.latest_invoice`, `data.customer` on lists).

use serde_json::Value;

use super::Record;
use super::error::{StripeError, StripeResult};
use crate::state::{Db, Scope};

/// Stripe's limit on expansion depth.
const MAX_DEPTH: usize = 4;

impl Db {
    /// The object `id` rendered, if it exists in `scope`; chosen by its id prefix.
    pub fn render_id(&self, scope: &Scope, id: &str) -> Option<Value> {
        fn visible<'a, T: Record>(r: Option<&'a T>, scope: &Scope) -> Option<&'a T> {
            r.filter(|r| r.scope() == scope)
        }
        let prefix = id.split('_').next().unwrap_or_default();
        match prefix {
            "prod" => visible(self.products.get(id), scope).map(|p| p.render()),
            "price" => visible(self.prices.get(id), scope).map(|p| p.render()),
            "cus" => visible(self.customers.get(id), scope).map(|c| c.render()),
            "cs" => visible(self.checkout_sessions.get(id), scope).map(|s| s.render(self)),
            "sub" => visible(self.subscriptions.get(id), scope).map(|s| s.render(self)),
            "in" => visible(self.invoices.get(id), scope).map(|i| i.render()),
            "pi" => visible(self.payment_intents.get(id), scope).map(|p| p.render()),
            "ch" => visible(self.charges.get(id), scope).map(|c| c.render()),
            "re" => visible(self.refunds.get(id), scope).map(|r| r.render()),
            "du" => visible(self.disputes.get(id), scope).map(|d| d.render()),
            "di" => visible(self.discounts.get(id), scope).map(|d| d.render()),
            "promo" => visible(self.promotion_codes.get(id), scope).map(|p| p.render()),
            "txr" => visible(self.tax_rates.get(id), scope).map(|r| r.render()),
            "acct" => self.accounts.get(id).map(|a| a.render()),
            _ => None,
        }
    }
}

impl Db {
    /// What an id field expands to: an object by its prefix, else a coupon (whose ids are the
    /// merchant's choice, with no prefix), as `promotion.coupon` and `source.coupon` name them.
    fn render_expandable(&self, scope: &Scope, id: &str) -> Option<Value> {
        self.render_id(scope, id)
            .or_else(|| self.coupons.get(&super::coupons::key(scope, id)).map(|c| c.render()))
    }
}

pub fn apply(db: &Db, scope: &Scope, mut value: Value, paths: &[String]) -> StripeResult<Value> {
    for path in paths {
        let segments: Vec<&str> = path.split('.').collect();
        if segments.len() > MAX_DEPTH {
            return Err(StripeError::invalid(format!(
                "You cannot expand more than {MAX_DEPTH} levels of a property. Property: {path}"
            ))
            .param("expand"));
        }
        expand_at(db, scope, &mut value, &segments, path)?;
    }
    Ok(value)
}

fn cannot(path: &str) -> StripeError {
    StripeError::invalid(format!("This property cannot be expanded ({path}).")).param("expand")
}

fn expand_at(db: &Db, scope: &Scope, value: &mut Value, segments: &[&str], path: &str) -> StripeResult<()> {
    let Some((first, rest)) = segments.split_first() else {
        return Ok(());
    };
    let Some(map) = value.as_object_mut() else {
        return Err(cannot(path));
    };
    if *first == "data" && map.get("object").and_then(Value::as_str) == Some("list") {
        if let Some(Value::Array(items)) = map.get_mut("data") {
            for item in items {
                expand_at(db, scope, item, rest, path)?;
            }
        }
        return Ok(());
    }
    // A checkout session's line items are not a field until expanded.
    if *first == "line_items" && map.get("object").and_then(Value::as_str) == Some("checkout.session") {
        let id = map.get("id").and_then(Value::as_str).unwrap_or_default().to_string();
        let items = super::checkout::line_items_list(db, &id);
        map.insert("line_items".into(), items);
    }
    // Nor, since 2022-11-15, are a charge's refunds.
    if *first == "refunds" && map.get("object").and_then(Value::as_str) == Some("charge") {
        let id = map.get("id").and_then(Value::as_str).unwrap_or_default().to_string();
        map.insert("refunds".into(), super::refunds::charge_refunds_list(db, &id));
    }
    match map.get_mut(*first) {
        Some(slot @ Value::String(_)) => {
            let id = slot.as_str().unwrap_or_default().to_string();
            *slot = db.render_expandable(scope, &id).ok_or_else(|| cannot(path))?;
            expand_at(db, scope, slot, rest, path)
        }
        // A list of ids (`discounts` of a subscription or an invoice), or of objects that name
        // one (`total_discount_amounts.discount`): each element in turn.
        Some(Value::Array(items)) => {
            for item in items {
                if let Value::String(id) = item {
                    let id = id.clone();
                    *item = db.render_expandable(scope, &id).ok_or_else(|| cannot(path))?;
                }
                if item.is_object() {
                    expand_at(db, scope, item, rest, path)?;
                }
            }
            Ok(())
        }
        Some(Value::Null) => Ok(()),
        Some(slot @ Value::Object(_)) => expand_at(db, scope, slot, rest, path),
        _ => Err(cannot(path)),
    }
}
