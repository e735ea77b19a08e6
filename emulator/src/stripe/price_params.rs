//! The parameters of `POST /v1/prices` that say what a price charges: currency, amount
//! (`unit_amount` or `unit_amount_decimal`), `recurring` (licensed, or metered on a billing
//! meter), `billing_scheme` and `transform_quantity`.

use serde::{Deserialize, Serialize};

use super::decimal::Decimal;
use super::error::{StripeError, StripeResult};
use super::params::Params;
use super::{Record, find};
use crate::state::{Db, Scope};

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Recurring {
    pub interval: String,
    pub interval_count: i64,
    /// The billing meter of a metered price (`usage_type: metered`). Current API versions
    /// refuse a metered price without one, so "has a meter" and "is metered" are the same.
    #[serde(default)]
    pub meter: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TransformQuantity {
    pub divide_by: i64,
    /// `up` or `down`.
    pub round: String,
}

impl TransformQuantity {
    /// Usage in the packages the price charges for: 15,000 units per 1,000, rounded up, is 15.
    pub fn apply(&self, quantity: i64) -> i64 {
        let divide_by = self.divide_by.max(1);
        if self.round == "up" {
            quantity.div_euclid(divide_by) + i64::from(quantity.rem_euclid(divide_by) != 0)
        } else {
            quantity.div_euclid(divide_by)
        }
    }
}

pub fn currency(params: &Params) -> StripeResult<String> {
    let currency = params.required("currency")?.to_ascii_lowercase();
    if currency.len() != 3 || !currency.bytes().all(|b| b.is_ascii_lowercase()) {
        return Err(StripeError::invalid(format!("Invalid currency: {currency}")).param(params.name("currency")));
    }
    Ok(currency)
}

/// `recurring[...]`. A meter named here is checked against the account's meters by
/// `check_meter` once the database is at hand.
pub fn recurring(params: &Params) -> StripeResult<Option<Recurring>> {
    let Some(r) = params.hash("recurring")? else {
        return Ok(None);
    };
    r.allow(&["interval", "interval_count", "usage_type", "meter"])?;
    let interval = r
        .choice("interval", &["day", "week", "month", "year"])?
        .ok_or_else(|| StripeError::missing(&r.name("interval")))?;
    let interval_count = r.int("interval_count")?.unwrap_or(1);
    let max = match interval.as_str() {
        "day" => 1095,
        "week" => 156,
        "month" => 36,
        _ => 3,
    };
    if !(1..=max).contains(&interval_count) {
        return Err(StripeError::invalid(format!(
            "Invalid interval_count: must be between 1 and {max} for interval {interval}"
        ))
        .param(r.name("interval_count")));
    }
    let metered = r.choice("usage_type", &["licensed", "metered"])?.as_deref() == Some("metered");
    let meter = r.str("meter")?.filter(|m| !m.is_empty());
    match (metered, &meter) {
        (true, None) => {
            return Err(StripeError::invalid(
                "Metered prices must be attached to a billing meter: pass `recurring[meter]` (an `mtr_...` id).",
            )
            .code("parameter_missing")
            .param(r.name("meter")));
        }
        (false, Some(_)) => {
            return Err(StripeError::invalid(
                "`recurring[meter]` can only be set on prices with `recurring[usage_type]=metered`.",
            )
            .param(r.name("meter")));
        }
        _ => {}
    }
    Ok(Some(Recurring {
        interval,
        interval_count,
        meter,
    }))
}

/// A metered price's meter must be one of the account's active meters, as Stripe requires.
pub fn check_meter(db: &Db, scope: &Scope, recurring: Option<&Recurring>) -> StripeResult<()> {
    let Some(id) = recurring.and_then(|r| r.meter.as_deref()) else {
        return Ok(());
    };
    let meter = find(&db.meters, scope, id, Some("recurring[meter]"))?;
    if meter.status != "active" {
        return Err(StripeError::invalid(format!(
            "The meter {} is inactive; a price can only use an active meter.",
            meter.id()
        ))
        .param("recurring[meter]"));
    }
    Ok(())
}

/// `unit_amount` or `unit_amount_decimal`: whole minor units, and the decimal when the amount
/// is not whole ("0.2" of a cent), in which case Stripe shows `unit_amount: null`.
pub fn unit_amount(params: &Params) -> StripeResult<(i64, Option<String>)> {
    let (amount, decimal) = match (params.int("unit_amount")?, params.str("unit_amount_decimal")?) {
        (Some(a), None) => (a, None),
        (None, Some(d)) => {
            let parsed = Decimal::parse(&d).ok_or_else(|| {
                StripeError::invalid(format!(
                    "Invalid decimal: {d}; must be a non-negative number with at most 12 decimal places"
                ))
                .param(params.name("unit_amount_decimal"))
            })?;
            match parsed.as_whole() {
                Some(whole) => (whole, None),
                None => (0, Some(parsed.to_string())),
            }
        }
        (Some(_), Some(_)) => {
            return Err(StripeError::invalid(
                "You may only specify one of these parameters: unit_amount, unit_amount_decimal.",
            )
            .code("parameters_exclusive")
            .param(params.name("unit_amount")));
        }
        (None, None) => return Err(StripeError::missing(&params.name("unit_amount"))),
    };
    if amount < 0 {
        return Err(
            StripeError::invalid("Invalid unit_amount: must be greater than or equal to 0")
                .param(params.name("unit_amount")),
        );
    }
    Ok((amount, decimal))
}

/// `billing_scheme`: only `per_unit`, the default (tiers are not emulated).
pub fn billing_scheme(params: &Params) -> StripeResult<()> {
    match params.choice("billing_scheme", &["per_unit", "tiered"])?.as_deref() {
        Some("tiered") => Err(StripeError::invalid(
            "dream-emulator: tiered prices are not emulated; use billing_scheme=per_unit.",
        )
        .param("billing_scheme")),
        _ => Ok(()),
    }
}

/// `transform_quantity[divide_by]` and `transform_quantity[round]`, both required together.
pub fn transform_quantity(params: &Params) -> StripeResult<Option<TransformQuantity>> {
    let Some(t) = params.hash("transform_quantity")? else {
        return Ok(None);
    };
    t.allow(&["divide_by", "round"])?;
    let divide_by = t
        .int("divide_by")?
        .ok_or_else(|| StripeError::missing(&t.name("divide_by")))?;
    if divide_by < 1 {
        return Err(
            StripeError::invalid("Invalid divide_by: must be greater than or equal to 1").param(t.name("divide_by")),
        );
    }
    let round = t
        .choice("round", &["up", "down"])?
        .ok_or_else(|| StripeError::missing(&t.name("round")))?;
    Ok(Some(TransformQuantity { divide_by, round }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn transform_divides_and_rounds() {
        let up = TransformQuantity {
            divide_by: 1000,
            round: "up".into(),
        };
        let down = TransformQuantity {
            divide_by: 1000,
            round: "down".into(),
        };
        assert_eq!(up.apply(15_000), 15);
        assert_eq!(up.apply(15_001), 16);
        assert_eq!(up.apply(0), 0);
        assert_eq!(down.apply(15_999), 15);
        assert_eq!(down.apply(999), 0);
    }
}
