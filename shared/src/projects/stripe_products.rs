//! Tiers as Stripe objects on the developer's connected account: a product per tier and a
//! price per product (recurring monthly for SaaS, one-time for Store). Free SaaS tiers need
//! no Stripe objects. Prices are immutable in Stripe, so a price change is a new price and the
//! old one is deactivated.

use serde::Deserialize;

use crate::upstream::stripe::{Form, Stripe};
use dream_core::{
    error::{ApiError, ApiResult},
    keys::PublishableKey,
    mode::ProjectType,
    money::{Cents, Currency},
    tiers::{Tier, meters::Meter, tax::TaxBehavior},
};

#[derive(Debug, Deserialize)]
struct Created {
    id: String,
}

/// Whether a tier of this kind and price is sold through Stripe.
pub fn needs_stripe(kind: ProjectType, price: Cents) -> bool {
    kind == ProjectType::Store || !price.is_free()
}

fn product_form(tier: &Tier, project: &PublishableKey) -> Form {
    let description = tier.features.get("description").and_then(|d| d.as_str());
    let image = tier.features.get("imageUrl").and_then(|d| d.as_str());
    Form::new()
        .field("name", &tier.display_name)
        .field_opt("description", description)
        .field_opt("images[0]", image)
        .field("metadata[publishableKey]", project.as_str())
        .field("metadata[tier]", tier.name.as_str())
}

fn currency_of(tier: &Tier) -> ApiResult<Currency> {
    Currency::parse(&tier.currency).map_err(|e| ApiError::internal(format!("tier {}: {e}", tier.name)))
}

/// Creates the product for a tier; `key` makes a retried call return the same product.
pub async fn create_product(stripe: &Stripe, tier: &Tier, project: &PublishableKey, key: &str) -> ApiResult<String> {
    let created: Created = stripe.post("/products", &product_form(tier, project), key).await?;
    Ok(created.id)
}

pub async fn update_product(
    stripe: &Stripe,
    product_id: &str,
    tier: &Tier,
    project: &PublishableKey,
    key: &str,
) -> ApiResult<()> {
    let _: Created = stripe
        .post(&format!("/products/{product_id}"), &product_form(tier, project), key)
        .await?;
    Ok(())
}

pub async fn create_price(
    stripe: &Stripe,
    kind: ProjectType,
    product_id: &str,
    tier: &Tier,
    project: &PublishableKey,
    key: &str,
) -> ApiResult<String> {
    let mut form = Form::new()
        .field("product", product_id)
        .field("unit_amount", currency_of(tier)?.minor_units(tier.price))
        .field("currency", &tier.currency)
        .field_opt("tax_behavior", tier.tax_behavior.map(TaxBehavior::as_str))
        .field("metadata[publishableKey]", project.as_str())
        .field("metadata[tier]", tier.name.as_str());
    if kind == ProjectType::Saas {
        form = form.field("recurring[interval]", "month");
    }
    let created: Created = stripe.post("/prices", &form, key).await?;
    Ok(created.id)
}

pub async fn deactivate_price(stripe: &Stripe, price_id: &str, key: &str) -> ApiResult<()> {
    let _: Created = stripe
        .post(
            &format!("/prices/{price_id}"),
            &Form::new().field("active", "false"),
            key,
        )
        .await?;
    Ok(())
}

pub async fn archive_product(stripe: &Stripe, product_id: &str, key: &str) -> ApiResult<()> {
    let _: Created = stripe
        .post(
            &format!("/products/{product_id}"),
            &Form::new().field("active", "false"),
            key,
        )
        .await?;
    Ok(())
}

/// A Stripe Billing Meter for one of the project's meters: every tier billing that meter's
/// overage reports to it. Its event name is unique per creation, so a meter made again after
/// its tiers were all edited away never collides with the first.
async fn create_billing_meter(
    stripe: &Stripe,
    meter: &Meter,
    project: &PublishableKey,
    key: &str,
) -> ApiResult<(String, String)> {
    use sha2::{Digest, Sha256};
    let unique = hex::encode(Sha256::digest(format!("{}\0{key}", project.as_str())));
    let event_name = format!("{}_{}", meter.key, &unique[..12]);
    let form = Form::new()
        .field("display_name", format!("{} ({})", meter.key, project.as_str()))
        .field("event_name", &event_name)
        .field("default_aggregation[formula]", "sum")
        .field("customer_mapping[event_payload_key]", "stripe_customer_id")
        .field("customer_mapping[type]", "by_id")
        .field("value_settings[event_payload_key]", "value");
    let created: Created = stripe.post("/billing/meters", &form, key).await?;
    Ok((created.id, event_name))
}

/// The monthly metered price billing a meter's overage in arrears: the price per package,
/// a started package billed whole.
async fn create_metered_price(
    stripe: &Stripe,
    product_id: &str,
    (tier, meter): (&Tier, &Meter),
    project: &PublishableKey,
    key: &str,
) -> ApiResult<Option<String>> {
    let (Some(overage), Some(meter_id)) = (meter.overage, meter.stripe_meter_id.as_deref()) else {
        return Ok(None);
    };
    let mut form = Form::new()
        .field("product", product_id)
        .field("currency", &tier.currency)
        .field("nickname", format!("{} overage", meter.key))
        .field("billing_scheme", "per_unit")
        .field("unit_amount_decimal", overage.price.to_stripe_minor(currency_of(tier)?))
        .field_opt("tax_behavior", tier.tax_behavior.map(TaxBehavior::as_str))
        .field("recurring[interval]", "month")
        .field("recurring[usage_type]", "metered")
        .field("recurring[meter]", meter_id)
        .field("metadata[publishableKey]", project.as_str())
        .field("metadata[tier]", tier.name.as_str())
        .field("metadata[meter]", meter.key.as_str());
    if overage.per > 1 {
        form = form
            .field("transform_quantity[divide_by]", overage.per)
            .field("transform_quantity[round]", "up");
    }
    let created: Created = stripe.post("/prices", &form, key).await?;
    Ok(Some(created.id))
}

/// Gives every meter with overage its Billing Meter (the one `old` or a sibling tier already
/// reports to, else a new one) and its metered price (`old`'s while its price is unchanged).
async fn publish_meters(
    stripe: &Stripe,
    (product_id, old, siblings): (&str, Option<&Tier>, &[Tier]),
    mut tier: Tier,
    project: &PublishableKey,
    key: &str,
) -> ApiResult<Tier> {
    let mut meters = std::mem::take(&mut tier.meters);
    for meter in &mut meters {
        let Some(overage) = meter.overage else {
            meter.stripe_meter_id = None;
            meter.event_name = None;
            meter.price_id = None;
            continue;
        };
        let known = old
            .into_iter()
            .chain(siblings)
            .flat_map(|t| t.meters.iter())
            .find(|m| m.key == meter.key && m.stripe_meter_id.is_some() && m.event_name.is_some());
        match known {
            Some(known) => {
                meter.stripe_meter_id = known.stripe_meter_id.clone();
                meter.event_name = known.event_name.clone();
            }
            None => {
                let (id, event) =
                    create_billing_meter(stripe, meter, project, &format!("{key}:meter:{}", meter.key)).await?;
                meter.stripe_meter_id = Some(id);
                meter.event_name = Some(event);
            }
        }
        let unchanged = old
            .and_then(|o| o.meters.iter().find(|m| m.key == meter.key))
            .filter(|m| m.overage == Some(overage) && m.stripe_meter_id == meter.stripe_meter_id)
            .and_then(|m| m.price_id.clone())
            // A price says how tax applies, and Stripe cannot change that once set.
            .filter(|_| {
                old.is_some_and(|o| o.product_id.as_deref() == Some(product_id) && o.tax_behavior == tier.tax_behavior)
            });
        meter.price_id = match unchanged {
            Some(price) => Some(price),
            None => {
                create_metered_price(
                    stripe,
                    product_id,
                    (&tier, meter),
                    project,
                    &format!("{key}:metered:{}", meter.key),
                )
                .await?
            }
        };
    }
    tier.meters = meters;
    Ok(tier)
}

/// Copies `old`'s Stripe objects onto `new`'s meters whose overage did not change; says
/// whether any billed meter is left without them (the edit then needs Stripe).
pub fn carry_meter_objects(old: &Tier, new: &mut Tier) -> bool {
    for meter in &mut new.meters {
        if let Some(kept) = old
            .meters
            .iter()
            .find(|m| m.key == meter.key && m.overage == meter.overage && meter.overage.is_some())
        {
            meter.stripe_meter_id = kept.stripe_meter_id.clone();
            meter.event_name = kept.event_name.clone();
            meter.price_id = kept.price_id.clone();
        }
    }
    new.meters.iter().any(|m| m.overage.is_some() && m.price_id.is_none())
        || old
            .meters
            .iter()
            .any(|m| m.price_id.is_some() && !new.meters.iter().any(|n| n.price_id == m.price_id))
}

/// Creates whatever Stripe objects a new tier needs and returns it with their ids. `siblings`:
/// the project's other tiers, whose Billing Meters it shares.
pub async fn publish_new_tier(
    stripe: &Stripe,
    kind: ProjectType,
    mut tier: Tier,
    project: &PublishableKey,
    key: &str,
    siblings: &[Tier],
) -> ApiResult<Tier> {
    if needs_stripe(kind, tier.price) {
        let product = create_product(stripe, &tier, project, &format!("{key}:product")).await?;
        let price = match create_price(stripe, kind, &product, &tier, project, &format!("{key}:price")).await {
            Ok(price) => price,
            Err(e) => {
                // The product alone is not for sale, but it would show in the developer's Stripe
                // catalogue as if it were: archive it, best effort.
                if let Err(cleanup) = archive_product(stripe, &product, &format!("{key}:archive")).await {
                    crate::runtime::log::error(&format!(
                        "archiving product {product} after its price failed: {cleanup}"
                    ));
                }
                return Err(e);
            }
        };
        tier.product_id = Some(product.clone());
        tier.price_id = Some(price);
        match publish_meters(stripe, (&product, None, siblings), tier.clone(), project, key).await {
            Ok(published) => tier = published,
            Err(e) => {
                retire_tier(stripe, &tier, &format!("{key}:cleanup")).await.ok();
                return Err(e);
            }
        }
    }
    Ok(tier)
}

/// Creates the Stripe objects an edited tier needs and updates its product's presentation.
/// Nothing is retired here: the caller retires what the old tier used once D1 has committed
/// (`retire_replaced`), so a failed write never leaves D1 pointing at a deactivated price.
pub async fn publish_edit(
    stripe: &Stripe,
    kind: ProjectType,
    old: &Tier,
    mut new: Tier,
    project: &PublishableKey,
    key: &str,
    siblings: &[Tier],
) -> ApiResult<Tier> {
    if !needs_stripe(kind, new.price) {
        // Became free: nothing to sell any more.
        new.price_id = None;
        new.product_id = None;
        return Ok(new);
    }
    let product = match &old.product_id {
        Some(product) => {
            update_product(stripe, product, &new, project, &format!("{key}:product")).await?;
            product.clone()
        }
        None => create_product(stripe, &new, project, &format!("{key}:product")).await?,
    };
    new.price_id = if old.price_id.is_none() || old.price != new.price || old.tax_behavior != new.tax_behavior {
        match create_price(stripe, kind, &product, &new, project, &format!("{key}:price")).await {
            Ok(price) => Some(price),
            Err(e) => {
                undo_product(stripe, old, &product, project, key).await;
                return Err(e);
            }
        }
    } else {
        old.price_id.clone()
    };
    new.product_id = Some(product.clone());
    match publish_meters(stripe, (&product, Some(old), siblings), new.clone(), project, key).await {
        Ok(published) => Ok(published),
        Err(e) => {
            retire_replaced(stripe, &new, old, &format!("{key}:undo-price"))
                .await
                .ok();
            undo_product(stripe, old, &product, project, key).await;
            Err(e)
        }
    }
}

/// Best effort, after a failed edit: the product as `old` had it: its name and presentation
/// back if `old` already sold it, archived if the edit had just created it.
pub async fn undo_product(stripe: &Stripe, old: &Tier, product: &str, project: &PublishableKey, key: &str) {
    let undone = match &old.product_id {
        Some(_) => update_product(stripe, product, old, project, &format!("{key}:undo")).await,
        None => archive_product(stripe, product, &format!("{key}:undo")).await,
    };
    if let Err(e) = undone {
        crate::runtime::log::error(&format!("undoing the edit of product {product}: {e}"));
    }
}

/// Takes off sale whatever `retired` used that `kept` does not: after a committed edit, the old
/// price (and product, if the tier became free); after a failed one, the objects just created.
pub async fn retire_replaced(stripe: &Stripe, retired: &Tier, kept: &Tier, key: &str) -> ApiResult<()> {
    if let Some(price) = retired.price_id.as_ref().filter(|p| kept.price_id.as_ref() != Some(*p)) {
        deactivate_price(stripe, price, &format!("{key}:deactivate:{price}")).await?;
    }
    let kept_metered: Vec<&String> = kept.meters.iter().filter_map(|m| m.price_id.as_ref()).collect();
    for price in retired.meters.iter().filter_map(|m| m.price_id.as_ref()) {
        if !kept_metered.contains(&price) {
            deactivate_price(stripe, price, &format!("{key}:deactivate:{price}")).await?;
        }
    }
    if let Some(product) = retired
        .product_id
        .as_ref()
        .filter(|p| kept.product_id.as_ref() != Some(*p))
    {
        archive_product(stripe, product, &format!("{key}:archive:{product}")).await?;
    }
    Ok(())
}

/// Takes a deleted tier off sale.
pub async fn retire_tier(stripe: &Stripe, tier: &Tier, key: &str) -> ApiResult<()> {
    let nothing = Tier {
        price_id: None,
        product_id: None,
        meters: Vec::new(),
        ..tier.clone()
    };
    retire_replaced(stripe, tier, &nothing, key).await
}

/// Best-effort clean-up after a failure: the tiers' Stripe objects go off sale; errors are only
/// logged, the original failure is what the caller reports.
pub async fn retire_all_best_effort(stripe: &Stripe, tiers: &[Tier], key: &str) {
    for tier in tiers {
        if let Err(e) = retire_tier(stripe, tier, &format!("{key}:cleanup:{}", tier.name)).await {
            crate::runtime::log::error(&format!("cleaning up Stripe objects of tier {}: {e}", tier.name));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn which_tiers_are_sold_through_stripe() {
        let free = Cents::new(0).unwrap();
        let paid = Cents::new(500).unwrap();
        assert!(!needs_stripe(ProjectType::Saas, free));
        assert!(needs_stripe(ProjectType::Saas, paid));
        assert!(needs_stripe(ProjectType::Store, paid));
    }
}
