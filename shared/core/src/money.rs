//! Prices as integer cents. JSON carries dollars (`9.99`), as the original API did; we parse the
//! number's decimal text so `0.1 + 0.2` style float error can never reach Stripe or the database.

use std::fmt;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// Stripe's own ceiling for a single unit amount in USD is $999,999.99.
pub const MAX_CENTS: i64 = 99_999_999;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema), schema(value_type = f64))]
pub struct Cents(i64);

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MoneyError(&'static str);

impl fmt::Display for MoneyError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.0)
    }
}

impl Cents {
    pub fn new(cents: i64) -> Result<Self, MoneyError> {
        if cents < 0 {
            Err(MoneyError("price must not be negative"))
        } else if cents > MAX_CENTS {
            Err(MoneyError("price must be at most 999999.99"))
        } else {
            Ok(Self(cents))
        }
    }

    /// Parses a non-negative decimal with at most two fractional digits ("10", "9.9", "9.99").
    pub fn parse_dollars(text: &str) -> Result<Self, MoneyError> {
        const SHAPE: MoneyError = MoneyError("price must be a non-negative number with at most 2 decimals");
        if text.starts_with('-') {
            return Err(MoneyError("price must not be negative"));
        }
        let (whole, frac) = text.split_once('.').unwrap_or((text, ""));
        let digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
        if !digits(whole) || (text.contains('.') && !digits(frac)) {
            return Err(SHAPE);
        }
        let frac = frac.trim_end_matches('0');
        if frac.len() > 2 || whole.len() > 7 {
            return Err(if frac.len() > 2 {
                SHAPE
            } else {
                MoneyError("price must be at most 999999.99")
            });
        }
        let whole: i64 = whole.parse().map_err(|_| SHAPE)?;
        let frac_cents: i64 = format!("{frac:0<2}").parse().map_err(|_| SHAPE)?;
        Self::new(whole * 100 + frac_cents)
    }

    pub fn get(self) -> i64 {
        self.0
    }

    pub fn is_free(self) -> bool {
        self.0 == 0
    }

    /// Dollars as a JSON number, for response shapes that show prices the way the spec does.
    pub fn to_dollars_json(self) -> serde_json::Value {
        if self.0 % 100 == 0 {
            serde_json::Value::from(self.0 / 100)
        } else {
            // Two-decimal text re-read by serde_json is the closest f64, printed back identically.
            serde_json::from_str(&format!("{}.{:02}", self.0 / 100, self.0 % 100)).unwrap_or(serde_json::Value::Null)
        }
    }
}

/// The currency of a project: its tiers' prices, checkouts, invoices and figures. Lowercase ISO
/// 4217, as Stripe writes it. Prices are held in hundredths of the major unit whatever the
/// currency (`Cents`); Stripe counts in the currency's smallest unit, which for zero-decimal
/// currencies (JPY, KRW) is the major unit: `minor_units` converts where amounts cross.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema), schema(value_type = String, example = "eur"))]
pub struct Currency(&'static str);

impl Serialize for Currency {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.0)
    }
}

impl<'de> Deserialize<'de> for Currency {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let text = String::deserialize(d)?;
        Self::parse(&text).map_err(serde::de::Error::custom)
    }
}

/// What a project may be priced in.
pub const CURRENCIES: &[&str] = &[
    "usd", "eur", "gbp", "cad", "aud", "nzd", "chf", "sek", "nok", "dkk", "pln", "czk", "sgd", "hkd", "inr", "brl",
    "mxn", "jpy", "krw",
];
/// Stripe's zero-decimal currencies among them: amounts in whole units.
const ZERO_DECIMAL: &[&str] = &["jpy", "krw"];

impl Currency {
    pub const USD: Self = Self("usd");

    pub fn parse(text: &str) -> Result<Self, String> {
        let lower = text.to_ascii_lowercase();
        if let Some(code) = CURRENCIES.iter().find(|c| **c == lower) {
            return Ok(Self(code));
        }
        Err(format!(
            "currency must be one of: {} (lowercase ISO 4217)",
            CURRENCIES.join(", ")
        ))
    }

    pub fn code(self) -> &'static str {
        self.0
    }

    /// Whether Stripe counts it in whole units (JPY, KRW).
    pub fn zero_decimal(self) -> bool {
        ZERO_DECIMAL.contains(&self.0)
    }

    /// An amount as Stripe counts it: cents for most currencies, whole yen or won.
    pub fn minor_units(self, amount: Cents) -> i64 {
        if self.zero_decimal() {
            amount.get() / 100
        } else {
            amount.get()
        }
    }

    /// Refuses an amount finer than the currency's smallest unit (¥1.50).
    pub fn check_whole(self, field: &str, amount: Cents) -> Result<(), String> {
        if self.zero_decimal() && amount.get() % 100 != 0 {
            return Err(format!(
                "{field}: {} has no decimals; give a whole amount",
                self.0.to_ascii_uppercase()
            ));
        }
        Ok(())
    }
}

impl Default for Currency {
    fn default() -> Self {
        Self::USD
    }
}

impl fmt::Display for Currency {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.0)
    }
}

/// Serialized as dollars; deserialized from a JSON number (or numeric string) in dollars.
impl Serialize for Cents {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        self.to_dollars_json().serialize(s)
    }
}

impl<'de> Deserialize<'de> for Cents {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let value = serde_json::Value::deserialize(d)?;
        let text = match &value {
            serde_json::Value::Number(n) => n.to_string(),
            serde_json::Value::String(s) => s.clone(),
            _ => return Err(serde::de::Error::custom("price must be a number")),
        };
        Self::parse_dollars(&text).map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn currencies_are_the_supported_two_decimal_ones() {
        assert_eq!(Currency::parse("EUR").unwrap().code(), "eur");
        assert_eq!(Currency::default(), Currency::USD);
        let yen = Currency::parse("JPY").unwrap();
        assert!(yen.zero_decimal() && !Currency::USD.zero_decimal());
        let fifteen_hundred = Cents::parse_dollars("1500").unwrap();
        assert_eq!(
            (
                yen.minor_units(fifteen_hundred),
                Currency::USD.minor_units(fifteen_hundred)
            ),
            (1500, 150_000)
        );
        assert!(
            yen.check_whole("price", Cents::parse_dollars("1500.5").unwrap())
                .unwrap_err()
                .contains("no decimals")
        );
        assert!(yen.check_whole("price", fifteen_hundred).is_ok());
        assert!(Currency::USD.check_whole("price", Cents::new(999).unwrap()).is_ok());
        assert!(Currency::parse("vnd").unwrap_err().contains("one of"));
        assert!(Currency::parse("xyz").unwrap_err().contains("one of"));
        assert_eq!(
            serde_json::to_string(&Currency::parse("gbp").unwrap()).unwrap(),
            "\"gbp\""
        );
    }

    #[test]
    fn parses_cent_precision() {
        for (text, cents) in [
            ("0", 0),
            ("10", 1000),
            ("9.9", 990),
            ("9.99", 999),
            ("0.01", 1),
            ("15.00", 1500),
            ("999999.99", MAX_CENTS),
        ] {
            assert_eq!(Cents::parse_dollars(text).unwrap().get(), cents, "{text}");
        }
    }

    #[test]
    fn rejects_bad_prices() {
        for text in ["-1", "9.999", "1e3", "", ".5", "5.", "abc", "1000000", "NaN", "0x10"] {
            assert!(Cents::parse_dollars(text).is_err(), "{text}");
        }
    }

    #[test]
    fn json_round_trip_is_exact() {
        for cents in [0, 1, 10, 99, 999, 1500, 123_456, MAX_CENTS] {
            let c = Cents::new(cents).unwrap();
            let json = serde_json::to_string(&c).unwrap();
            let back: Cents = serde_json::from_str(&json).unwrap();
            assert_eq!(back, c, "{json}");
        }
        assert_eq!(serde_json::to_string(&Cents::new(999).unwrap()).unwrap(), "9.99");
        assert!(serde_json::from_str::<Cents>("0.30000000000000004").is_err());
        assert!(serde_json::from_str::<Cents>("true").is_err());
    }
}
