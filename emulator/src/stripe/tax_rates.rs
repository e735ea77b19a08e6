//! Tax rates (`txr_...`) as Stripe Tax makes them for automatic tax: one per account, mode,
//! country and behavior (inclusive or not) the first time a line is taxed there, named by
//! invoices' `taxes[].tax_rate_details.tax_rate`. Retrievable (`GET /v1/tax_rates/{id}`) and
//! expandable; manual tax rates (`POST /v1/tax_rates`) are not emulated.

use std::sync::Arc;

use axum::extract::{Path, RawQuery, State};
use axum::{Extension, Json};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use super::Record;
use super::auth::Ctx;
use super::error::StripeResult;
use super::list::retrieve_one;
use super::tax_table;
use crate::App;
use crate::record;
use crate::state::{Db, Scope};

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct TaxRate {
    pub id: String,
    pub scope: Scope,
    pub seq: u64,
    pub created: i64,
    pub country: String,
    pub inclusive: bool,
}
record!(TaxRate, "tax_rate");

/// A percentage as Stripe writes it: 19, or 8.1 when it is not whole.
fn percentage(basis_points: i64) -> Value {
    if basis_points % 100 == 0 {
        json!(basis_points / 100)
    } else {
        json!(basis_points as f64 / 100.0)
    }
}

impl TaxRate {
    pub fn render(&self) -> Value {
        let j = tax_table::jurisdiction(&self.country);
        let rate = percentage(j.basis_points);
        json!({
            "id": self.id,
            "object": "tax_rate",
            "active": true,
            "country": self.country,
            "created": self.created,
            "description": null,
            "display_name": j.display_name,
            // What was actually charged: 0 where the account does not collect.
            "effective_percentage": rate,
            "flat_amount": null,
            "inclusive": self.inclusive,
            "jurisdiction": self.country,
            "jurisdiction_level": "country",
            "livemode": self.scope.livemode,
            "metadata": {},
            "percentage": rate,
            // Stripe leaves it null where no tax applies.
            "rate_type": if j.collecting { json!("percentage") } else { Value::Null },
            "state": null,
            "tax_type": j.tax_type,
        })
    }
}

impl Db {
    /// The tax rate of `country` and behavior in `scope`, made the first time it is needed.
    pub fn tax_rate_for(&mut self, scope: &Scope, country: &str, inclusive: bool, now: i64) -> String {
        let existing = self
            .tax_rates
            .values()
            .find(|r| r.scope() == scope && r.country == country && r.inclusive == inclusive);
        if let Some(rate) = existing {
            return rate.id.clone();
        }
        let id = self.id("txr_", 24);
        let seq = self.next_seq();
        self.tax_rates.insert(
            id.clone(),
            TaxRate {
                id: id.clone(),
                scope: scope.clone(),
                seq,
                created: now,
                country: country.to_string(),
                inclusive,
            },
        );
        id
    }
}

/// GET /v1/tax_rates/{id}
pub async fn retrieve(
    State(app): State<Arc<App>>,
    Extension(ctx): Extension<Ctx>,
    Path(id): Path<String>,
    RawQuery(query): RawQuery,
) -> StripeResult<Json<Value>> {
    retrieve_one(&app, &ctx, query.as_deref(), (|db| &db.tax_rates, &id), TaxRate::render)
}
