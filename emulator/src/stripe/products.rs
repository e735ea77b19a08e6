//! Products: create, retrieve, update (archiving with `active=false`), list, delete.

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
use super::list::{LIST_PARAMS, ListQuery, list as list_object, page, retrieve_one};
use super::params::Params;
use super::{Record, expand, find, find_mut, prices};
use crate::App;
use crate::record;
use crate::state::Scope;

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Product {
    pub id: String,
    pub scope: Scope,
    pub seq: u64,
    pub created: i64,
    pub updated: i64,
    pub name: String,
    pub active: bool,
    pub description: Option<String>,
    pub images: Vec<String>,
    pub metadata: BTreeMap<String, String>,
    pub default_price: Option<String>,
    pub url: Option<String>,
    pub unit_label: Option<String>,
    pub statement_descriptor: Option<String>,
    pub tax_code: Option<String>,
}
record!(Product, "product");

impl Product {
    pub fn render(&self) -> Value {
        json!({
            "id": self.id,
            "object": "product",
            "active": self.active,
            "created": self.created,
            "default_price": self.default_price,
            "description": self.description,
            "images": self.images,
            "livemode": self.scope.livemode,
            "marketing_features": [],
            "metadata": self.metadata,
            "name": self.name,
            "package_dimensions": null,
            "shippable": null,
            "statement_descriptor": self.statement_descriptor,
            "tax_code": self.tax_code,
            "type": "service",
            "unit_label": self.unit_label,
            "updated": self.updated,
            "url": self.url,
        })
    }
}

const EDITABLE: [&str; 8] = [
    "name",
    "active",
    "description",
    "images",
    "metadata",
    "url",
    "unit_label",
    "statement_descriptor",
];

fn apply_edits(product: &mut Product, params: &Params) -> StripeResult<()> {
    if params.has("name") {
        product.name = params.required("name")?;
    }
    if let Some(active) = params.bool("active")? {
        product.active = active;
    }
    if let Some(description) = params.nullable("description")? {
        product.description = description;
    }
    if let Some(images) = params.str_list("images")? {
        if images.len() > 8 {
            return Err(StripeError::invalid("A product can have at most 8 images.").param("images"));
        }
        product.images = images;
    }
    if let Some(metadata) = params.metadata()? {
        metadata.apply(&mut product.metadata);
    }
    if let Some(url) = params.nullable("url")? {
        product.url = url;
    }
    if let Some(label) = params.nullable("unit_label")? {
        product.unit_label = label;
    }
    if let Some(descriptor) = params.nullable("statement_descriptor")? {
        product.statement_descriptor = descriptor;
    }
    Ok(())
}

/// POST /v1/products
pub async fn create(
    State(app): State<Arc<App>>,
    Extension(ctx): Extension<Ctx>,
    body: Bytes,
) -> StripeResult<Json<Value>> {
    let params = Params::from_form(&body)?;
    params.allow(&[&EDITABLE[..], &["id", "tax_code", "default_price_data"]].concat())?;
    params.required("name")?;
    let custom_id = params.str("id")?.filter(|s| !s.is_empty());
    let tax_code = params.str("tax_code")?;
    let default_price = params.hash("default_price_data")?;
    let expand = params.expand()?;
    let now = crate::time::now();
    app.mutate(|db| {
        let id = match custom_id {
            Some(id) if db.products.contains_key(&id) || db.render_id(&ctx.scope, &id).is_some() => {
                return Err(StripeError::invalid(format!("Product already exists: {id}"))
                    .code("resource_already_exists")
                    .param("id"));
            }
            Some(id) => id,
            None => db.id("prod_", 14),
        };
        let seq = db.next_seq();
        let mut product = Product {
            id: id.clone(),
            scope: ctx.scope.clone(),
            seq,
            created: now,
            updated: now,
            name: String::new(),
            active: true,
            description: None,
            images: Vec::new(),
            metadata: BTreeMap::new(),
            default_price: None,
            url: None,
            unit_label: None,
            statement_descriptor: None,
            tax_code,
        };
        apply_edits(&mut product, &params)?;
        db.products.insert(id.clone(), product);
        if let Some(price_params) = default_price {
            let price_id = match prices::create_in(db, &ctx, &price_params, Some(&id), now) {
                Ok(price_id) => price_id,
                Err(e) => {
                    db.products.remove(&id);
                    return Err(e);
                }
            };
            if let Some(p) = db.products.get_mut(&id) {
                p.default_price = Some(price_id);
            }
        }
        let rendered = find(&db.products, &ctx.scope, &id, None)?.render();
        db.emit(&ctx.scope, "product.created", rendered.clone(), None, &ctx.req, now);
        Ok(Json(expand::apply(db, &ctx.scope, rendered, &expand)?))
    })
}

/// GET /v1/products/{id}
pub async fn retrieve(
    State(app): State<Arc<App>>,
    Extension(ctx): Extension<Ctx>,
    Path(id): Path<String>,
    RawQuery(query): RawQuery,
) -> StripeResult<Json<Value>> {
    retrieve_one(&app, &ctx, query.as_deref(), (|db| &db.products, &id), Product::render)
}

/// POST /v1/products/{id}
pub async fn update(
    State(app): State<Arc<App>>,
    Extension(ctx): Extension<Ctx>,
    Path(id): Path<String>,
    body: Bytes,
) -> StripeResult<Json<Value>> {
    let params = Params::from_form(&body)?;
    params.allow(&[&EDITABLE[..], &["default_price", "tax_code"]].concat())?;
    let default_price = params.nullable("default_price")?;
    let tax_code = params.nullable("tax_code")?;
    let expand = params.expand()?;
    let now = crate::time::now();
    app.mutate(|db| {
        if let Some(Some(price_id)) = &default_price {
            let price = find(&db.prices, &ctx.scope, price_id, Some("default_price"))?;
            if price.product != id {
                return Err(
                    StripeError::invalid(format!("The price {price_id} does not belong to the product {id}."))
                        .param("default_price"),
                );
            }
        }
        let product = find_mut(&mut db.products, &ctx.scope, &id, None)?;
        let before = product.render();
        apply_edits(product, &params)?;
        if let Some(price) = default_price {
            product.default_price = price;
        }
        if let Some(code) = tax_code {
            product.tax_code = code;
        }
        product.updated = now;
        let after = product.render();
        if let Some(previous) = diff(&before, &after) {
            db.emit(
                &ctx.scope,
                "product.updated",
                after.clone(),
                Some(previous),
                &ctx.req,
                now,
            );
        }
        Ok(Json(expand::apply(db, &ctx.scope, after, &expand)?))
    })
}

/// DELETE /v1/products/{id}
pub async fn delete(
    State(app): State<Arc<App>>,
    Extension(ctx): Extension<Ctx>,
    Path(id): Path<String>,
) -> StripeResult<Json<Value>> {
    let now = crate::time::now();
    app.mutate(|db| {
        let rendered = find(&db.products, &ctx.scope, &id, None)?.render();
        if db.prices.values().any(|p| p.product == id) {
            return Err(StripeError::invalid(
                "This product cannot be deleted because it has one or more user-created prices.",
            ));
        }
        db.products.remove(&id);
        db.emit(&ctx.scope, "product.deleted", rendered, None, &ctx.req, now);
        Ok(Json(json!({ "id": id, "object": "product", "deleted": true })))
    })
}

/// GET /v1/products
pub async fn list(
    State(app): State<Arc<App>>,
    Extension(ctx): Extension<Ctx>,
    RawQuery(query): RawQuery,
) -> StripeResult<Json<Value>> {
    let params = Params::from_query(query.as_deref())?;
    params.allow(&[&LIST_PARAMS[..], &["active", "ids"]].concat())?;
    let q = ListQuery::parse(&params)?;
    let active = params.bool("active")?;
    let ids = params.str_list("ids")?;
    app.read(|db| {
        let items: Vec<&Product> = db
            .products
            .values()
            .filter(|p| p.scope() == &ctx.scope)
            .filter(|p| active.is_none_or(|a| p.active == a))
            .filter(|p| ids.as_ref().is_none_or(|ids| ids.contains(&p.id)))
            .collect();
        let (items, has_more) = page(items, &q)?;
        let data = items.iter().map(|p| p.render()).collect();
        Ok(Json(expand::apply(
            db,
            &ctx.scope,
            list_object("/v1/products", data, has_more),
            &params.expand()?,
        )?))
    })
}
