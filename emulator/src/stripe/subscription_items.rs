//! The `items[i]` of a subscription update: change an item's price or quantity, delete it
//! (`deleted=true`), or add one (no `id`). A plan change replaces the flat and the metered
//! item this way. Metered items carry no quantity, and Stripe refuses one for them.

use std::collections::BTreeMap;

use super::error::{StripeError, StripeResult};
use super::find;
use super::params::Params;
use super::prices::Price;
use super::subscriptions::{SubItem, Subscription};
use crate::state::{Db, Scope};

/// One `items[i]` entry of an update.
pub struct ItemChange {
    pub id: Option<String>,
    price: Option<String>,
    quantity: Option<i64>,
    deleted: bool,
    /// `items[i]`, for error parameters.
    at: String,
    /// Whether the item's price, new or kept, is metered (set by `validate`).
    metered: bool,
}

pub fn parse(params: &Params) -> StripeResult<Vec<ItemChange>> {
    let mut changes = Vec::new();
    for item in params.list_of_hashes("items")?.unwrap_or_default() {
        // `clear_usage` only concerns legacy usage records; with meters it has no effect.
        item.allow(&["id", "price", "quantity", "deleted", "clear_usage", "metadata"])?;
        item.bool("clear_usage")?;
        let quantity = item.int("quantity")?;
        if quantity.is_some_and(|q| q < 1) {
            return Err(StripeError::invalid("Quantity must be at least 1.").param(item.name("quantity")));
        }
        changes.push(ItemChange {
            id: item.str("id")?,
            price: item.str("price")?,
            quantity,
            deleted: item.bool("deleted")?.unwrap_or(false),
            at: item.prefix().to_string(),
            metered: false,
        });
    }
    Ok(changes)
}

fn check_price(price: &Price, sub: &Subscription, param: &str) -> StripeResult<()> {
    let Some(r) = &price.recurring else {
        return Err(
            StripeError::invalid("The price specified is not recurring; subscriptions need recurring prices.")
                .param(param),
        );
    };
    if r.interval != sub.interval || r.interval_count != sub.interval_count {
        return Err(StripeError::invalid(
            "dream-emulator: changing a subscription's billing interval is not emulated.",
        )
        .param(param));
    }
    if price.currency != sub.currency {
        return Err(StripeError::invalid("The price's currency does not match the subscription's.").param(param));
    }
    // Stripe cannot add an item of unspecified tax behavior to automatic tax invoices.
    if sub.automatic_tax && price.tax_behavior == "unspecified" {
        return Err(StripeError::invalid(format!(
            "The price {} has `tax_behavior=unspecified`, which cannot be used on a subscription with automatic tax: set it to `exclusive` or `inclusive`.",
            price.id
        ))
        .param(param));
    }
    Ok(())
}

/// Checks every referenced item and price before anything changes.
pub fn validate(db: &Db, scope: &Scope, sub: &Subscription, changes: &mut [ItemChange]) -> StripeResult<()> {
    for change in changes.iter_mut() {
        let price_param = format!("{}[price]", change.at);
        let existing = match &change.id {
            Some(item_id) => Some(sub.items.iter().find(|i| &i.id == item_id).ok_or_else(|| {
                StripeError::invalid(format!(
                    "No such subscription item: '{item_id}' on subscription {}",
                    sub.id
                ))
                .code("resource_missing")
                .param(format!("{}[id]", change.at))
            })?),
            None if change.price.is_none() => return Err(StripeError::missing(&price_param)),
            None => None,
        };
        if let Some(price_id) = &change.price {
            check_price(
                find(&db.prices, scope, price_id, Some(&price_param))?,
                sub,
                &price_param,
            )?;
        }
        let price_id = change.price.as_deref().or(existing.map(|i| i.price.as_str()));
        change.metered = price_id.and_then(|p| db.prices.get(p)).is_some_and(Price::is_metered);
        if change.metered && change.quantity.is_some() && !change.deleted {
            return Err(StripeError::invalid("You cannot set the quantity for metered plans.")
                .param(format!("{}[quantity]", change.at)));
        }
    }
    Ok(())
}

/// Applies validated changes; `fresh_ids` name the added items, in order.
pub fn apply(sub: &mut Subscription, changes: Vec<ItemChange>, fresh_ids: Vec<String>, now: i64) {
    let mut fresh = fresh_ids.into_iter();
    for change in changes {
        // A metered item has no quantity; one becoming licensed starts at 1 unless told.
        let quantity = |before: Option<i64>| {
            if change.metered {
                None
            } else {
                change.quantity.or(before).or(Some(1))
            }
        };
        match &change.id {
            Some(item_id) if change.deleted => sub.items.retain(|i| &i.id != item_id),
            Some(item_id) => {
                if let Some(item) = sub.items.iter_mut().find(|i| &i.id == item_id) {
                    if let Some(price) = &change.price {
                        item.price = price.clone();
                    }
                    item.quantity = quantity(item.quantity);
                }
            }
            None => sub.items.push(SubItem {
                id: fresh.next().unwrap_or_default(),
                created: now,
                price: change.price.clone().unwrap_or_default(),
                quantity: quantity(None),
                metadata: BTreeMap::new(),
            }),
        }
    }
}
