//! Customers: create, retrieve, update, list (with the `email` filter). Checkout saves the
//! billing address it collects onto them (`save_from_checkout`).

use std::collections::BTreeMap;
use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{Path, RawQuery, State};
use axum::{Extension, Json};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use super::auth::Ctx;
use super::error::StripeResult;
use super::events::{ReqInfo, diff};
use super::list::{LIST_PARAMS, ListQuery, list as list_object, page, retrieve_one};
use super::params::Params;
use super::tax::Address;
use super::{Record, expand, find, find_mut};
use crate::App;
use crate::record;
use crate::state::{Db, Scope};

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Customer {
    pub id: String,
    pub scope: Scope,
    pub seq: u64,
    pub created: i64,
    pub email: Option<String>,
    pub name: Option<String>,
    pub phone: Option<String>,
    pub description: Option<String>,
    pub metadata: BTreeMap<String, String>,
    /// Set by the first subscription or invoice, as Stripe fixes a customer's currency.
    pub currency: Option<String>,
    pub invoice_prefix: String,
    pub next_invoice_sequence: u64,
    /// Given through the API, or saved by Checkout (what automatic tax locates them by).
    /// Added after the first saved states, hence `default`.
    #[serde(default)]
    pub address: Option<Address>,
}
record!(Customer, "customer");

impl Customer {
    pub fn render(&self) -> Value {
        json!({
            "id": self.id,
            "object": "customer",
            "address": self.address.as_ref().map(Address::render),
            "balance": 0,
            "created": self.created,
            "currency": self.currency,
            "default_source": null,
            "delinquent": false,
            "description": self.description,
            "discount": null,
            "email": self.email,
            "invoice_prefix": self.invoice_prefix,
            "invoice_settings": {
                "custom_fields": null,
                "default_payment_method": null,
                "footer": null,
                "rendering_options": null,
            },
            "livemode": self.scope.livemode,
            "metadata": self.metadata,
            "name": self.name,
            "next_invoice_sequence": self.next_invoice_sequence,
            "phone": self.phone,
            "preferred_locales": [],
            "shipping": null,
            "tax_exempt": "none",
            "test_clock": null,
        })
    }
}

impl Db {
    /// Creates a customer and records `customer.created`; used by the API and by checkout.
    #[allow(clippy::too_many_arguments)]
    pub fn create_customer(
        &mut self,
        scope: &Scope,
        email: Option<String>,
        name: Option<String>,
        phone: Option<String>,
        description: Option<String>,
        metadata: BTreeMap<String, String>,
        address: Option<Address>,
        req: &ReqInfo,
        now: i64,
    ) -> String {
        let id = self.id("cus_", 14);
        let seq = self.next_seq();
        let invoice_prefix = self.ids.chars(8).to_ascii_uppercase();
        let customer = Customer {
            id: id.clone(),
            scope: scope.clone(),
            seq,
            created: now,
            email,
            name,
            phone,
            description,
            metadata,
            currency: None,
            invoice_prefix,
            next_invoice_sequence: 1,
            address,
        };
        self.emit(scope, "customer.created", customer.render(), None, req, now);
        self.customers.insert(id.clone(), customer);
        id
    }
}

impl Db {
    /// What a completed checkout saves onto an existing customer (`customer_update[address]`
    /// or `[name]` = `auto`): records `customer.updated` when something changed.
    pub fn save_from_checkout(&mut self, id: &str, address: Option<Address>, name: Option<String>, now: i64) {
        let Some(customer) = self.customers.get_mut(id) else {
            return;
        };
        let before = customer.render();
        if let Some(a) = address {
            customer.address = Some(a);
        }
        if let Some(n) = name {
            customer.name = Some(n);
        }
        let (after, scope) = (customer.render(), customer.scope.clone());
        if let Some(previous) = diff(&before, &after) {
            self.emit(&scope, "customer.updated", after, Some(previous), &ReqInfo::none(), now);
        }
    }
}

const FIELDS: [&str; 6] = ["email", "name", "phone", "description", "metadata", "address"];

/// POST /v1/customers
pub async fn create(
    State(app): State<Arc<App>>,
    Extension(ctx): Extension<Ctx>,
    body: Bytes,
) -> StripeResult<Json<Value>> {
    let params = Params::from_form(&body)?;
    params.allow(&FIELDS)?;
    let email = params.str("email")?.filter(|s| !s.is_empty());
    let name = params.str("name")?.filter(|s| !s.is_empty());
    let phone = params.str("phone")?.filter(|s| !s.is_empty());
    let description = params.str("description")?.filter(|s| !s.is_empty());
    let metadata = params.metadata()?.map(|m| m.into_map()).unwrap_or_default();
    let address = Address::from_params(&params)?.flatten();
    let expand = params.expand()?;
    let now = crate::time::now();
    app.mutate(|db| {
        let id = db.create_customer(
            &ctx.scope,
            email,
            name,
            phone,
            description,
            metadata,
            address,
            &ctx.req,
            now,
        );
        let rendered = find(&db.customers, &ctx.scope, &id, None)?.render();
        Ok(Json(expand::apply(db, &ctx.scope, rendered, &expand)?))
    })
}

/// GET /v1/customers/{id}
pub async fn retrieve(
    State(app): State<Arc<App>>,
    Extension(ctx): Extension<Ctx>,
    Path(id): Path<String>,
    RawQuery(query): RawQuery,
) -> StripeResult<Json<Value>> {
    retrieve_one(
        &app,
        &ctx,
        query.as_deref(),
        (|db| &db.customers, &id),
        Customer::render,
    )
}

/// POST /v1/customers/{id}
pub async fn update(
    State(app): State<Arc<App>>,
    Extension(ctx): Extension<Ctx>,
    Path(id): Path<String>,
    body: Bytes,
) -> StripeResult<Json<Value>> {
    let params = Params::from_form(&body)?;
    params.allow(&FIELDS)?;
    let email = params.nullable("email")?;
    let name = params.nullable("name")?;
    let phone = params.nullable("phone")?;
    let description = params.nullable("description")?;
    let metadata = params.metadata()?;
    let address = Address::from_params(&params)?;
    let expand = params.expand()?;
    let now = crate::time::now();
    app.mutate(|db| {
        let customer = find_mut(&mut db.customers, &ctx.scope, &id, None)?;
        let before = customer.render();
        if let Some(v) = email {
            customer.email = v;
        }
        if let Some(v) = name {
            customer.name = v;
        }
        if let Some(v) = phone {
            customer.phone = v;
        }
        if let Some(v) = description {
            customer.description = v;
        }
        if let Some(m) = metadata {
            m.apply(&mut customer.metadata);
        }
        if let Some(a) = address {
            customer.address = a;
        }
        let after = customer.render();
        if let Some(previous) = diff(&before, &after) {
            db.emit(
                &ctx.scope,
                "customer.updated",
                after.clone(),
                Some(previous),
                &ctx.req,
                now,
            );
        }
        Ok(Json(expand::apply(db, &ctx.scope, after, &expand)?))
    })
}

/// GET /v1/customers
pub async fn list(
    State(app): State<Arc<App>>,
    Extension(ctx): Extension<Ctx>,
    RawQuery(query): RawQuery,
) -> StripeResult<Json<Value>> {
    let params = Params::from_query(query.as_deref())?;
    params.allow(&[&LIST_PARAMS[..], &["email"]].concat())?;
    let q = ListQuery::parse(&params)?;
    // Stripe's email filter is exact and case-sensitive.
    let email = params.str("email")?;
    app.read(|db| {
        let items: Vec<&Customer> = db
            .customers
            .values()
            .filter(|c| c.scope() == &ctx.scope)
            .filter(|c| email.as_ref().is_none_or(|e| c.email.as_ref() == Some(e)))
            .collect();
        let (items, has_more) = page(items, &q)?;
        let data = items.iter().map(|c| c.render()).collect();
        Ok(Json(expand::apply(
            db,
            &ctx.scope,
            list_object("/v1/customers", data, has_more),
            &params.expand()?,
        )?))
    })
}
