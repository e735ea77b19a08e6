//! Tiers as Stripe objects on the developer's connected account: a product per tier and a
//! price per product (recurring monthly for SaaS, one-time for Store). Free SaaS tiers need
//! no Stripe objects. Prices are immutable in Stripe, so a price change is a new price and the
//! old one is deactivated.

use serde::Deserialize;

use crate::upstream::stripe::{Form, Stripe};
use dream_core::{error::ApiResult, keys::PublishableKey, mode::ProjectType, money::Cents, tiers::Tier};

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
        .field("unit_amount", tier.price.get())
        .field("currency", &tier.currency)
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

/// Creates whatever Stripe objects a new tier needs and returns it with their ids.
pub async fn publish_new_tier(
    stripe: &Stripe,
    kind: ProjectType,
    mut tier: Tier,
    project: &PublishableKey,
    key: &str,
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
        tier.product_id = Some(product);
        tier.price_id = Some(price);
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
    new.price_id = if old.price_id.is_none() || old.price != new.price {
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
    new.product_id = Some(product);
    Ok(new)
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
