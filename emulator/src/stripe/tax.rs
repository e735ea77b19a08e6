//! Stripe Tax as Checkout, subscriptions and invoices use it (`automatic_tax[enabled]=true`):
//! addresses, the tax on each line and how it renders. Rates come from the emulator's table by
//! billing country (`tax_table.rs`); each rate used is a `txr_...` object (`tax_rates.rs`).
//!
//! Tax is computed per line, on what the line costs after discounts, as Stripe does:
//! exclusive: tax = round(amount × rate), added on top; inclusive: tax = amount −
//! round(amount / (1 + rate)), already in the amount. Rounding is half up, in minor units.

use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use super::params::Params;
use super::tax_table::{self, Jurisdiction};
use crate::state::{Db, Scope};

/// A postal address in Stripe's shape. The emulator takes what Checkout asks for tax (country,
/// postal code) and what the customers API is given.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Address {
    pub city: Option<String>,
    pub country: Option<String>,
    pub line1: Option<String>,
    pub line2: Option<String>,
    pub postal_code: Option<String>,
    pub state: Option<String>,
}

pub const ADDRESS_FIELDS: [&str; 6] = ["city", "country", "line1", "line2", "postal_code", "state"];

impl Address {
    pub fn in_country(country: &str, postal_code: Option<String>) -> Self {
        Address {
            country: Some(country.to_string()),
            postal_code,
            ..Address::default()
        }
    }

    pub fn render(&self) -> Value {
        json!({
            "city": self.city,
            "country": self.country,
            "line1": self.line1,
            "line2": self.line2,
            "postal_code": self.postal_code,
            "state": self.state,
        })
    }

    /// Stripe Tax locates a customer by country at least: without one there is nothing to
    /// tax by.
    pub fn tax_country(&self) -> Option<&str> {
        self.country.as_deref().filter(|c| !c.is_empty())
    }

    /// `address[...]` of the customers API; `address=` (empty) clears it (Some(None)).
    pub fn from_params(params: &Params) -> super::error::StripeResult<Option<Option<Address>>> {
        if params.str("address").ok().flatten().is_some_and(|s| s.is_empty()) {
            return Ok(Some(None));
        }
        let Some(hash) = params.hash("address")? else {
            return Ok(None);
        };
        hash.allow(&ADDRESS_FIELDS)?;
        let field = |k: &str| hash.str(k).map(|v| v.filter(|s| !s.is_empty()));
        let country = field("country")?.map(|c| c.to_ascii_uppercase());
        if let Some(c) = &country
            && !is_country_code(c)
        {
            return Err(super::error::StripeError::invalid(format!(
                "Country '{c}' is unknown. Try using a 2-character alphanumeric country code instead, such as 'US', 'EG', or 'GB'."
            ))
            .param(hash.name("country")));
        }
        Ok(Some(Some(Address {
            city: field("city")?,
            country,
            line1: field("line1")?,
            line2: field("line2")?,
            postal_code: field("postal_code")?,
            state: field("state")?,
        })))
    }
}

/// ISO 3166-1 alpha-2 in form only (two letters): the emulator keeps no list of countries.
pub fn is_country_code(code: &str) -> bool {
    code.len() == 2 && code.bytes().all(|b| b.is_ascii_uppercase())
}

/// The tax on one line: an entry of an invoice line's `taxes` (and, summed per rate, of the
/// invoice's `total_taxes`), as current API versions render it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TaxAmount {
    pub amount: i64,
    pub inclusive: bool,
    pub taxability_reason: String,
    /// What the tax is computed on: the line after discounts, without the tax.
    pub taxable_amount: i64,
    /// The `txr_...` the amount was computed with.
    pub tax_rate: String,
}

impl TaxAmount {
    /// What the line adds on top of its amount: exclusive tax only.
    pub fn added(&self) -> i64 {
        if self.inclusive { 0 } else { self.amount }
    }

    pub fn render(&self) -> Value {
        json!({
            "amount": self.amount,
            "tax_behavior": if self.inclusive { "inclusive" } else { "exclusive" },
            "tax_rate_details": { "tax_rate": self.tax_rate },
            "taxability_reason": self.taxability_reason,
            "taxable_amount": self.taxable_amount,
            "type": "tax_rate_details",
        })
    }
}

/// `round(n / d)`, half up, for n ≥ 0 and d > 0.
fn div_round(n: i128, d: i128) -> i64 {
    ((2 * n + d) / (2 * d)) as i64
}

/// (tax, taxable amount) of `amount` at `basis_points`: exclusive tax comes on top, inclusive
/// tax is already part of `amount`.
pub fn compute(amount: i64, inclusive: bool, basis_points: i64) -> (i64, i64) {
    let amount = amount.max(0);
    let (a, bp) = (i128::from(amount), i128::from(basis_points));
    if inclusive {
        let net = div_round(a * 10_000, 10_000 + bp);
        (amount - net, net)
    } else {
        (div_round(a * bp, 10_000), amount)
    }
}

/// Stripe Tax reports the lines of a jurisdiction it does not collect in with nothing taxable.
fn taxed(amount: i64, inclusive: bool, j: &Jurisdiction) -> (i64, i64) {
    if j.collecting {
        compute(amount, inclusive, j.basis_points)
    } else {
        (0, 0)
    }
}

/// Whether a price's `tax_behavior` puts the tax inside its amount. `unspecified` never
/// reaches a tax calculation (Checkout and subscription updates refuse it with automatic tax).
pub fn is_inclusive(tax_behavior: &str) -> bool {
    tax_behavior == "inclusive"
}

impl Db {
    /// The tax on each line, given as (amount after discounts, inclusive?), for a customer in
    /// `country`: one entry per line, naming the tax rate of the country and behavior (created
    /// in `scope` the first time it is used).
    pub fn tax_lines(&mut self, scope: &Scope, country: &str, lines: &[(i64, bool)], now: i64) -> Vec<TaxAmount> {
        let j = tax_table::jurisdiction(country);
        lines
            .iter()
            .map(|&(amount, inclusive)| {
                let (tax, taxable_amount) = taxed(amount, inclusive, &j);
                TaxAmount {
                    amount: tax,
                    inclusive,
                    taxability_reason: tax_table::taxability_reason(&j).to_string(),
                    taxable_amount,
                    tax_rate: self.tax_rate_for(scope, country, inclusive, now),
                }
            })
            .collect()
    }
}

/// What inclusive tax the lines' full amounts (before discounts) hold, for an invoice's
/// `subtotal_excluding_tax`.
pub fn inclusive_part(country: &str, lines: &[(i64, bool)]) -> i64 {
    let j = tax_table::jurisdiction(country);
    (lines.iter())
        .filter(|(_, inclusive)| *inclusive)
        .map(|&(amount, inclusive)| taxed(amount, inclusive, &j).0)
        .sum()
}

/// An invoice's `total_taxes`: its lines' taxes summed per rate, behavior and reason, in the
/// order they first appear.
pub fn totals<'a>(taxes: impl Iterator<Item = &'a TaxAmount>) -> Vec<TaxAmount> {
    let mut out: Vec<TaxAmount> = Vec::new();
    for t in taxes {
        match out.iter_mut().find(|o| {
            o.tax_rate == t.tax_rate && o.inclusive == t.inclusive && o.taxability_reason == t.taxability_reason
        }) {
            Some(o) => {
                o.amount += t.amount;
                o.taxable_amount += t.taxable_amount;
            }
            None => out.push(t.clone()),
        }
    }
    out
}

/// The `automatic_tax` of a session or an invoice: `{enabled, liability, provider, status}`
/// (invoices add `disabled_reason`). The account itself is liable and Stripe computes.
pub fn render_automatic_tax(enabled: bool, status: Option<&str>) -> Value {
    if enabled {
        json!({ "enabled": true, "liability": { "type": "self" }, "provider": "stripe", "status": status })
    } else {
        json!({ "enabled": false, "liability": null, "provider": null, "status": null })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exclusive_and_inclusive_amounts() {
        // 9.99 at 19 %: 1.90 on top, or 1.60 of 9.99 included.
        assert_eq!(compute(999, false, 1900), (190, 999));
        assert_eq!(compute(999, true, 1900), (160, 839));
        // After a 20 % discount: 7.99.
        assert_eq!(compute(799, false, 1900), (152, 799));
        assert_eq!(compute(0, false, 1900), (0, 0));
        // Half up: 50 at 5 % is 2.5 → 3.
        assert_eq!(compute(50, false, 500), (3, 50));
        assert_eq!(compute(999, false, 0), (0, 999));
    }

    #[test]
    fn totals_sum_per_rate() {
        let t = |amount, rate: &str| TaxAmount {
            amount,
            inclusive: false,
            taxability_reason: "standard_rated".into(),
            taxable_amount: amount * 10,
            tax_rate: rate.into(),
        };
        let lines = [t(1, "txr_a"), t(2, "txr_b"), t(3, "txr_a")];
        let sums = totals(lines.iter());
        assert_eq!(
            sums.iter()
                .map(|s| (s.tax_rate.as_str(), s.amount, s.taxable_amount))
                .collect::<Vec<_>>(),
            vec![("txr_a", 4, 40), ("txr_b", 2, 20)]
        );
    }
}
