//! Usage meters: what a tier counts (`requests`, `tokens`, `storage_gb`), how much of each a
//! billing period includes, and what a unit past that costs. A meter without overage is a hard
//! limit (the request past it is refused, as tiers always worked); one with overage bills what
//! is used past `included` through the developer's Stripe, up to the tier's optional spend cap.

use std::fmt;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

use super::UsageLimit;
use crate::money::Cents;

/// The meter every tier has: requests counted by `POST /api/data` without a body.
pub const REQUESTS: &str = "requests";
/// Meters per tier, `requests` included.
pub const MAX_METERS: usize = 10;
/// The most one call may count: a bound that keeps a single call from exhausting a period, and
/// every count far below 2^53 (D1 numbers are doubles).
pub const MAX_QUANTITY: u64 = 1_000_000_000;
/// Units per package: "$0.002 per 1,000" is a package of 1,000.
pub const MAX_PACKAGE: u64 = 1_000_000_000;
const MAX_KEY: usize = 40;

/// A meter's name within its tier: a lowercase slug, like a tier name.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema), schema(value_type = String))]
pub struct MeterKey(String);

/// A key of a tier's meters or features: 1-40 characters of a-z, 0-9, '-' or '_', starting
/// with a letter; `what` names it in the error.
pub(crate) fn parse_key(raw: &str, what: &str) -> Result<String, String> {
    let starts_letter = raw.bytes().next().is_some_and(|b| b.is_ascii_lowercase());
    let body = raw
        .bytes()
        .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_' || b == b'-');
    if raw.len() > MAX_KEY || !starts_letter || !body {
        return Err(format!(
            "{what} must be 1-{MAX_KEY} characters of a-z, 0-9, '-' or '_', starting with a letter"
        ));
    }
    Ok(raw.to_owned())
}

impl MeterKey {
    pub fn parse(raw: &str) -> Result<Self, String> {
        parse_key(raw, "meter").map(Self)
    }

    pub fn requests() -> Self {
        Self(REQUESTS.to_owned())
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for MeterKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl TryFrom<String> for MeterKey {
    type Error = String;
    fn try_from(raw: String) -> Result<Self, String> {
        Self::parse(&raw)
    }
}

impl From<MeterKey> for String {
    fn from(key: MeterKey) -> Self {
        key.0
    }
}

/// Billions of a cent per unit of money: a package price as small as Stripe's
/// `unit_amount_decimal` needs ($0.002 per 1,000 tokens is 0.2 cents a package) without floats.
const NANOS_PER_CENT: u128 = 1_000_000_000;

/// A price in dollars with up to 11 decimals, held exactly as billionths of a cent. JSON carries
/// dollars as a string (`"0.002"`); a number is accepted on the way in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Default)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema), schema(value_type = String, example = "0.002"))]
pub struct UnitPrice(u64);

impl UnitPrice {
    pub fn parse_dollars(text: &str) -> Result<Self, String> {
        let shape = || "price must be a positive decimal number of dollars with at most 11 decimals".to_owned();
        let (whole, frac) = text.split_once('.').unwrap_or((text, ""));
        let digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
        if !digits(whole) || (text.contains('.') && !digits(frac)) || frac.trim_end_matches('0').len() > 11 {
            return Err(shape());
        }
        let whole: u64 = whole.parse().map_err(|_| shape())?;
        if whole > u64::try_from(crate::money::MAX_CENTS / 100).unwrap_or(0) {
            return Err("price must be at most 999999.99".to_owned());
        }
        let frac: u64 = format!("{:0<11}", frac.trim_end_matches('0'))
            .parse()
            .map_err(|_| shape())?;
        // 11 decimals of a dollar are 9 of a cent.
        let nanos = whole * 100 * NANOS_PER_CENT as u64 + frac;
        if nanos == 0 {
            return Err("price must be more than 0".to_owned());
        }
        Ok(Self(nanos))
    }

    pub fn nanocents(self) -> u64 {
        self.0
    }

    /// Stripe's `unit_amount_decimal`: cents, with up to 12 decimals.
    pub fn to_stripe_cents(self) -> String {
        decimal(u128::from(self.0), NANOS_PER_CENT, 9)
    }

    /// Stripe's `unit_amount_decimal` in `currency`'s smallest unit (cents, or whole yen).
    pub fn to_stripe_minor(self, currency: crate::money::Currency) -> String {
        if currency.zero_decimal() {
            self.to_dollars()
        } else {
            self.to_stripe_cents()
        }
    }

    fn to_dollars(self) -> String {
        decimal(u128::from(self.0), NANOS_PER_CENT * 100, 11)
    }
}

/// `value / unit` as exact decimal text, trailing zeros dropped.
fn decimal(value: u128, unit: u128, places: usize) -> String {
    let frac = format!("{:0places$}", value % unit);
    let frac = frac.trim_end_matches('0');
    if frac.is_empty() {
        format!("{}", value / unit)
    } else {
        format!("{}.{frac}", value / unit)
    }
}

impl Serialize for UnitPrice {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.to_dollars())
    }
}

impl<'de> Deserialize<'de> for UnitPrice {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let text = match serde_json::Value::deserialize(d)? {
            serde_json::Value::Number(n) => n.to_string(),
            serde_json::Value::String(s) => s,
            _ => return Err(serde::de::Error::custom("price must be a decimal string of dollars")),
        };
        Self::parse_dollars(&text).map_err(serde::de::Error::custom)
    }
}

/// An amount of money too small for whole cents: an overage bill or what is left of a cap.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Default)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema), schema(value_type = String, example = "0.03"))]
pub struct Amount(pub u128);

impl Amount {
    pub fn of_cents(cents: Cents) -> Self {
        Self(u128::try_from(cents.get()).unwrap_or(0) * NANOS_PER_CENT)
    }
}

impl Serialize for Amount {
    /// Dollars as decimal text, exact.
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&decimal(self.0, NANOS_PER_CENT * 100, 11))
    }
}

/// What a unit past `included` costs: `price` per package of `per` units, a started package
/// billed whole (Stripe's `transform_quantity` rounding up).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Overage {
    /// Dollars per package, as a decimal string (`"0.002"`).
    pub price: UnitPrice,
    /// Units per package; 1 bills every unit.
    #[serde(default = "one")]
    pub per: u64,
}

fn one() -> u64 {
    1
}

impl Overage {
    /// What `units` past the included amount cost.
    pub fn cost(self, units: u64) -> Amount {
        Amount(u128::from(units.div_ceil(self.per.max(1))) * u128::from(self.price.0))
    }

    /// The most units past the included amount that `budget` pays for.
    pub fn units_within(self, budget: Amount) -> u64 {
        let packages = budget.0 / u128::from(self.price.0.max(1));
        u64::try_from(packages.saturating_mul(u128::from(self.per.max(1)))).unwrap_or(u64::MAX)
    }
}

/// One meter of a tier, with the Stripe objects that bill its overage (set once published on
/// the developer's connected account).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Meter {
    pub key: MeterKey,
    /// Units per billing period before overage; `null`: unlimited.
    pub included: UsageLimit,
    /// Absent: a hard limit at `included`.
    #[serde(default)]
    pub overage: Option<Overage>,
    /// The Stripe Billing Meter that receives this meter's overage, and its event name.
    #[serde(default)]
    pub stripe_meter_id: Option<String>,
    #[serde(default)]
    pub event_name: Option<String>,
    /// The metered Stripe price billing the overage.
    #[serde(default)]
    pub price_id: Option<String>,
}

impl Meter {
    pub fn hard(key: MeterKey, included: UsageLimit) -> Self {
        Self {
            key,
            included,
            overage: None,
            stripe_meter_id: None,
            event_name: None,
            price_id: None,
        }
    }

    /// Units counted past the included amount.
    pub fn overage_units(&self, count: u64) -> u64 {
        self.included.max().map_or(0, |included| count.saturating_sub(included))
    }

    /// What the period's overage costs so far (nothing for a hard limit).
    pub fn overage_cost(&self, count: u64) -> Amount {
        self.overage.map_or(Amount(0), |o| o.cost(self.overage_units(count)))
    }

    /// Whether the meter's overage is billed: it has a price and its Stripe objects exist.
    pub fn bills_overage(&self) -> bool {
        self.overage.is_some() && self.included.max().is_some() && self.price_id.is_some() && self.event_name.is_some()
    }
}

/// The most a meter's count may reach this period. A hard meter stops at `included`; a billed
/// one is unbounded, or with a spend cap bounded by what the cap has left after the user's
/// other meters' overage (`spent_elsewhere`). `billable` is false when nothing could bill the
/// overage (no subscription to bill it on): the meter is then a hard limit.
pub fn count_limit(meter: &Meter, billable: bool, spend_cap: Option<Cents>, spent_elsewhere: Amount) -> UsageLimit {
    let (Some(included), Some(overage)) = (meter.included.max(), meter.overage.filter(|_| billable)) else {
        return meter.included;
    };
    match spend_cap {
        None => UsageLimit::UNLIMITED,
        Some(cap) => {
            let left = Amount(Amount::of_cents(cap).0.saturating_sub(spent_elsewhere.0));
            UsageLimit::limited(included.saturating_add(overage.units_within(left)))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn price(text: &str) -> UnitPrice {
        UnitPrice::parse_dollars(text).unwrap()
    }

    #[test]
    fn prices_are_exact_decimals_of_a_dollar() {
        assert_eq!(price("0.002").to_stripe_cents(), "0.2");
        assert_eq!(price("1").to_stripe_cents(), "100");
        assert_eq!(price("0.00000000001").to_stripe_cents(), "0.000000001");
        assert_eq!(serde_json::to_string(&price("0.0020")).unwrap(), "\"0.002\"");
        assert_eq!(serde_json::from_str::<UnitPrice>("0.002").unwrap(), price("0.002"));
        for bad in ["0", "-1", "1e-3", "0.000000000001", "abc", "", "1000000", ".5"] {
            assert!(UnitPrice::parse_dollars(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn a_started_package_is_billed_whole_and_a_cap_buys_whole_packages() {
        let per_thousand = Overage {
            price: price("0.002"),
            per: 1000,
        };
        assert_eq!(per_thousand.cost(15_000), Amount(3 * NANOS_PER_CENT));
        assert_eq!(per_thousand.cost(15_001), per_thousand.cost(16_000));
        assert_eq!(per_thousand.cost(0), Amount(0));
        // $0.01 buys 5 packages: 5,000 units.
        assert_eq!(
            per_thousand.units_within(Amount::of_cents(Cents::new(1).unwrap())),
            5_000
        );
        assert_eq!(serde_json::to_string(&per_thousand.cost(15_000)).unwrap(), "\"0.03\"");
    }

    #[test]
    fn limits_follow_the_meter_the_billing_and_the_cap() {
        let hard = Meter::hard(MeterKey::requests(), UsageLimit::limited(100));
        assert_eq!(count_limit(&hard, true, None, Amount(0)), UsageLimit::limited(100));
        let tokens = Meter {
            overage: Some(Overage {
                price: price("0.002"),
                per: 1000,
            }),
            ..Meter::hard(MeterKey::parse("tokens").unwrap(), UsageLimit::limited(10_000))
        };
        assert_eq!(
            count_limit(&tokens, false, None, Amount(0)),
            UsageLimit::limited(10_000)
        );
        assert_eq!(count_limit(&tokens, true, None, Amount(0)), UsageLimit::UNLIMITED);
        let cap = Some(Cents::new(1).unwrap());
        assert_eq!(count_limit(&tokens, true, cap, Amount(0)), UsageLimit::limited(15_000));
        let half_spent = Amount(NANOS_PER_CENT / 2);
        assert_eq!(count_limit(&tokens, true, cap, half_spent), UsageLimit::limited(12_000));
        assert_eq!(
            count_limit(&tokens, true, cap, Amount(u128::MAX)),
            UsageLimit::limited(10_000)
        );
        assert_eq!(tokens.overage_units(25_000), 15_000);
    }

    #[test]
    fn meter_keys_are_slugs() {
        assert!(MeterKey::parse("storage_gb").is_ok());
        for bad in ["", "Tokens", "9x", "a b", &"a".repeat(41)] {
            assert!(MeterKey::parse(bad).is_err(), "{bad}");
        }
    }
}
