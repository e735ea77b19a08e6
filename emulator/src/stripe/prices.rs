//! Prices, one-time and recurring (licensed, or metered on a billing meter): create,
//! retrieve, update (`active`, metadata, nickname, lookup key, and `tax_behavior` while it is
//! `unspecified`: amounts are immutable, as in Stripe), list. What a create request charges is parsed in `price_params.rs`.

use std::collections::BTreeMap;
use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{Path, RawQuery, State};
use axum::{Extension, Json};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use super::auth::Ctx;
use super::decimal::Decimal;
use super::error::{StripeError, StripeResult};
use super::events::diff;
use super::list::{LIST_PARAMS, ListQuery, list as list_object, page, retrieve_one};
use super::params::Params;
use super::price_params::{self, check_meter};
pub use super::price_params::{Recurring, TransformQuantity};
use super::products::Product;
use super::{Record, expand, find, find_mut};
use crate::App;
use crate::record;
use crate::state::{Db, Scope};

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Price {
    pub id: String,
    pub scope: Scope,
    pub seq: u64,
    pub created: i64,
    pub product: String,
    pub active: bool,
    pub currency: String,
    /// Whole minor units; 0 when `unit_amount_decimal` holds a fractional amount.
    pub unit_amount: i64,
    /// Set only when the amount is not whole minor units ("0.2"): Stripe then shows
    /// `unit_amount: null`. Added after the first saved states, hence `default`.
    #[serde(default)]
    pub unit_amount_decimal: Option<String>,
    #[serde(default)]
    pub transform_quantity: Option<TransformQuantity>,
    pub recurring: Option<Recurring>,
    pub nickname: Option<String>,
    pub lookup_key: Option<String>,
    pub tax_behavior: String,
    pub metadata: BTreeMap<String, String>,
}
record!(Price, "price");

impl Price {
    pub fn render(&self) -> Value {
        json!({
            "id": self.id,
            "object": "price",
            "active": self.active,
            "billing_scheme": "per_unit",
            "created": self.created,
            "currency": self.currency,
            "custom_unit_amount": null,
            "livemode": self.scope.livemode,
            "lookup_key": self.lookup_key,
            "metadata": self.metadata,
            "nickname": self.nickname,
            "product": self.product,
            "recurring": self.recurring.as_ref().map(|r| json!({
                "interval": r.interval,
                "interval_count": r.interval_count,
                "meter": r.meter,
                "trial_period_days": null,
                "usage_type": self.usage_type(),
            })),
            "tax_behavior": self.tax_behavior,
            "tiers_mode": null,
            "transform_quantity": self.render_transform(),
            "type": if self.recurring.is_some() { "recurring" } else { "one_time" },
            "unit_amount": self.unit().as_whole(),
            "unit_amount_decimal": self.unit().to_string(),
        })
    }

    /// The amount per unit (per package, with `transform_quantity`), exactly.
    pub fn unit(&self) -> Decimal {
        (self.unit_amount_decimal.as_deref())
            .and_then(Decimal::parse)
            .unwrap_or_else(|| Decimal::whole(self.unit_amount))
    }

    /// The meter a metered price bills the usage of; None for licensed and one-time prices.
    pub fn meter(&self) -> Option<&str> {
        self.recurring.as_ref().and_then(|r| r.meter.as_deref())
    }

    pub fn is_metered(&self) -> bool {
        self.meter().is_some()
    }

    fn usage_type(&self) -> &'static str {
        if self.is_metered() { "metered" } else { "licensed" }
    }

    /// What `quantity` units cost: transformed into packages if the price says so, then
    /// rounded to whole minor units as Stripe rounds an invoice line.
    pub fn amount_for(&self, quantity: i64) -> i64 {
        let packages = self.transform_quantity.as_ref().map_or(quantity, |t| t.apply(quantity));
        self.unit().times(packages)
    }

    /// "2.00 USD per 1000", for descriptions and the hosted pages.
    pub fn unit_label(&self) -> String {
        let per = (self.transform_quantity.as_ref())
            .map(|t| format!(" per {}", t.divide_by))
            .unwrap_or_default();
        format!("{}{per}", self.unit().money(&self.currency))
    }

    fn render_transform(&self) -> Value {
        (self.transform_quantity.as_ref())
            .map(|t| json!({ "divide_by": t.divide_by, "round": t.round }))
            .unwrap_or(Value::Null)
    }

    /// The legacy `plan` view of a recurring price, still a required field of subscription
    /// items.
    pub fn render_plan(&self) -> Value {
        let (interval, count) = self
            .recurring
            .as_ref()
            .map(|r| (r.interval.as_str(), r.interval_count))
            .unwrap_or(("month", 1));
        json!({
            "id": self.id,
            "object": "plan",
            "active": self.active,
            "amount": self.unit().as_whole(),
            "amount_decimal": self.unit().to_string(),
            "billing_scheme": "per_unit",
            "created": self.created,
            "currency": self.currency,
            "interval": interval,
            "interval_count": count,
            "livemode": self.scope.livemode,
            "metadata": self.metadata,
            "meter": self.meter(),
            "nickname": self.nickname,
            "product": self.product,
            "tiers_mode": null,
            "transform_usage": self.render_transform(),
            "trial_period_days": null,
            "usage_type": self.usage_type(),
        })
    }
}

/// A lookup key is unique per account and mode; `transfer_lookup_key=true` moves it.
fn claim_lookup_key(db: &mut Db, scope: &Scope, key: &str, transfer: bool, except: Option<&str>) -> StripeResult<()> {
    let holder = db
        .prices
        .values()
        .find(|p| p.scope() == scope && p.lookup_key.as_deref() == Some(key) && Some(p.id.as_str()) != except)
        .map(|p| p.id.clone());
    match holder {
        None => Ok(()),
        Some(holder) if transfer => {
            if let Some(p) = db.prices.get_mut(&holder) {
                p.lookup_key = None;
            }
            Ok(())
        }
        Some(holder) => Err(StripeError::invalid(format!(
            "A price (`{holder}`) already uses that lookup key. Set `transfer_lookup_key` to move it to this price."
        ))
        .param("lookup_key")),
    }
}

/// Creates a price from `params` (a whole request, or `default_price_data` of a product
/// given as `product`). Records its events; returns the id.
pub fn create_in(db: &mut Db, ctx: &Ctx, params: &Params, product: Option<&str>, now: i64) -> StripeResult<String> {
    let nested = product.is_some();
    if nested {
        params.allow(&[
            "currency",
            "unit_amount",
            "unit_amount_decimal",
            "recurring",
            "tax_behavior",
            "metadata",
        ])?;
    } else {
        params.allow(&[
            "currency",
            "unit_amount",
            "unit_amount_decimal",
            "recurring",
            "tax_behavior",
            "metadata",
            "product",
            "product_data",
            "nickname",
            "lookup_key",
            "transfer_lookup_key",
            "active",
            "billing_scheme",
            "transform_quantity",
        ])?;
    }
    let currency = price_params::currency(params)?;
    let (unit_amount, unit_amount_decimal) = price_params::unit_amount(params)?;
    let recurring = price_params::recurring(params)?;
    price_params::billing_scheme(params)?;
    let transform_quantity = price_params::transform_quantity(params)?;
    let tax_behavior = params
        .choice("tax_behavior", &["inclusive", "exclusive", "unspecified"])?
        .unwrap_or_else(|| "unspecified".into());
    let metadata = params.metadata()?.map(|m| m.into_map()).unwrap_or_default();
    let nickname = params.str("nickname")?.filter(|s| !s.is_empty());
    let lookup_key = params.str("lookup_key")?.filter(|s| !s.is_empty());
    let transfer = params.bool("transfer_lookup_key")?.unwrap_or(false);
    let active = params.bool("active")?.unwrap_or(true);

    // Everything is validated before anything is written, so a refused request leaves no
    // half-made product behind.
    let new_product = match (product, params.str("product")?, params.hash("product_data")?) {
        (Some(_), _, _) => None,
        (None, Some(id), None) => {
            find(&db.products, &ctx.scope, &id, Some("product"))?;
            None
        }
        (None, None, Some(data)) => {
            data.allow(&[
                "name",
                "active",
                "metadata",
                "statement_descriptor",
                "unit_label",
                "tax_code",
            ])?;
            Some((
                data.required("name")?,
                data.bool("active")?.unwrap_or(true),
                data.metadata()?.map(|m| m.into_map()).unwrap_or_default(),
                data.str("unit_label")?,
                data.str("statement_descriptor")?,
                data.str("tax_code")?,
            ))
        }
        (None, Some(_), Some(_)) => {
            return Err(
                StripeError::invalid("You may only specify one of these parameters: product, product_data.")
                    .code("parameters_exclusive")
                    .param("product"),
            );
        }
        (None, None, None) => return Err(StripeError::missing("product")),
    };
    check_meter(db, &ctx.scope, recurring.as_ref())?;
    if let Some(key) = &lookup_key {
        claim_lookup_key(db, &ctx.scope, key, transfer, None)?;
    }
    let product_id = match (product, new_product) {
        (Some(id), _) => id.to_string(),
        (None, Some((name, active, metadata, unit_label, statement_descriptor, tax_code))) => {
            let id = db.id("prod_", 14);
            let seq = db.next_seq();
            let product = Product {
                id: id.clone(),
                scope: ctx.scope.clone(),
                seq,
                created: now,
                updated: now,
                name,
                active,
                description: None,
                images: Vec::new(),
                metadata,
                default_price: None,
                url: None,
                unit_label,
                statement_descriptor,
                tax_code,
            };
            db.emit(&ctx.scope, "product.created", product.render(), None, &ctx.req, now);
            db.products.insert(id.clone(), product);
            id
        }
        (None, None) => params.str("product")?.unwrap_or_default(),
    };
    let id = db.id("price_", 24);
    let seq = db.next_seq();
    let price = Price {
        id: id.clone(),
        scope: ctx.scope.clone(),
        seq,
        created: now,
        product: product_id,
        active,
        currency,
        unit_amount,
        unit_amount_decimal,
        transform_quantity,
        recurring,
        nickname,
        lookup_key,
        tax_behavior,
        metadata,
    };
    db.emit(&ctx.scope, "price.created", price.render(), None, &ctx.req, now);
    db.prices.insert(id.clone(), price);
    Ok(id)
}

/// POST /v1/prices
pub async fn create(
    State(app): State<Arc<App>>,
    Extension(ctx): Extension<Ctx>,
    body: Bytes,
) -> StripeResult<Json<Value>> {
    let params = Params::from_form(&body)?;
    let expand = params.expand()?;
    let now = crate::time::now();
    app.mutate(|db| {
        let id = create_in(db, &ctx, &params, None, now)?;
        let rendered = find(&db.prices, &ctx.scope, &id, None)?.render();
        Ok(Json(expand::apply(db, &ctx.scope, rendered, &expand)?))
    })
}

/// GET /v1/prices/{id}
pub async fn retrieve(
    State(app): State<Arc<App>>,
    Extension(ctx): Extension<Ctx>,
    Path(id): Path<String>,
    RawQuery(query): RawQuery,
) -> StripeResult<Json<Value>> {
    retrieve_one(&app, &ctx, query.as_deref(), (|db| &db.prices, &id), Price::render)
}

/// POST /v1/prices/{id}: anything about the amount is refused as an unknown parameter,
/// exactly as Stripe refuses it, because a price's amount never changes.
pub async fn update(
    State(app): State<Arc<App>>,
    Extension(ctx): Extension<Ctx>,
    Path(id): Path<String>,
    body: Bytes,
) -> StripeResult<Json<Value>> {
    let params = Params::from_form(&body)?;
    params.allow(&[
        "active",
        "metadata",
        "nickname",
        "lookup_key",
        "transfer_lookup_key",
        "tax_behavior",
    ])?;
    let active = params.bool("active")?;
    let metadata = params.metadata()?;
    let nickname = params.nullable("nickname")?;
    let lookup_key = params.nullable("lookup_key")?;
    let transfer = params.bool("transfer_lookup_key")?.unwrap_or(false);
    let tax_behavior = params.choice("tax_behavior", &["inclusive", "exclusive", "unspecified"])?;
    let expand = params.expand()?;
    let now = crate::time::now();
    app.mutate(|db| {
        let current = find(&db.prices, &ctx.scope, &id, None)?;
        // Stripe sets it once: `unspecified` may become `inclusive` or `exclusive`, never back
        // nor across (its message, seen refusing exclusive -> inclusive). Naming the value it
        // already has changes nothing; we have not seen whether Stripe refuses that too.
        if let Some(tax) = &tax_behavior
            && current.tax_behavior != "unspecified"
            && *tax != current.tax_behavior
        {
            return Err(
                StripeError::invalid("You cannot update `tax_behavior` field once it has been specified.")
                    .param("tax_behavior"),
            );
        }
        if let Some(Some(key)) = &lookup_key {
            claim_lookup_key(db, &ctx.scope, key, transfer, Some(&id))?;
        }
        let price = find_mut(&mut db.prices, &ctx.scope, &id, None)?;
        let before = price.render();
        if let Some(active) = active {
            price.active = active;
        }
        if let Some(metadata) = metadata {
            metadata.apply(&mut price.metadata);
        }
        if let Some(nickname) = nickname {
            price.nickname = nickname;
        }
        if let Some(key) = lookup_key {
            price.lookup_key = key;
        }
        if let Some(tax) = tax_behavior {
            price.tax_behavior = tax;
        }
        let after = price.render();
        if let Some(previous) = diff(&before, &after) {
            db.emit(
                &ctx.scope,
                "price.updated",
                after.clone(),
                Some(previous),
                &ctx.req,
                now,
            );
        }
        Ok(Json(expand::apply(db, &ctx.scope, after, &expand)?))
    })
}

/// GET /v1/prices
pub async fn list(
    State(app): State<Arc<App>>,
    Extension(ctx): Extension<Ctx>,
    RawQuery(query): RawQuery,
) -> StripeResult<Json<Value>> {
    let params = Params::from_query(query.as_deref())?;
    params.allow(
        &[
            &LIST_PARAMS[..],
            &["active", "product", "type", "currency", "lookup_keys"],
        ]
        .concat(),
    )?;
    let q = ListQuery::parse(&params)?;
    let active = params.bool("active")?;
    let product = params.str("product")?;
    let kind = params.choice("type", &["one_time", "recurring"])?;
    let currency = params.str("currency")?.map(|c| c.to_ascii_lowercase());
    let lookup_keys = params.str_list("lookup_keys")?;
    app.read(|db| {
        let items: Vec<&Price> = db
            .prices
            .values()
            .filter(|p| p.scope() == &ctx.scope)
            .filter(|p| active.is_none_or(|a| p.active == a))
            .filter(|p| product.as_ref().is_none_or(|id| &p.product == id))
            .filter(|p| {
                kind.as_deref()
                    .is_none_or(|k| (k == "recurring") == p.recurring.is_some())
            })
            .filter(|p| currency.as_ref().is_none_or(|c| &p.currency == c))
            .filter(|p| {
                lookup_keys
                    .as_ref()
                    .is_none_or(|keys| p.lookup_key.as_ref().is_some_and(|k| keys.contains(k)))
            })
            .collect();
        let (items, has_more) = page(items, &q)?;
        let data = items.iter().map(|p| p.render()).collect();
        Ok(Json(expand::apply(
            db,
            &ctx.scope,
            list_object("/v1/prices", data, has_more),
            &params.expand()?,
        )?))
    })
}
