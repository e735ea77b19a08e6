//! Stripe's decimal amounts (`unit_amount_decimal`: minor units with up to 12 decimals, so
//! "0.2" is a fifth of a cent) and the arithmetic invoices do with them, exactly: no floats.

use std::fmt;

/// Stripe's limit on `unit_amount_decimal`.
const MAX_SCALE: u32 = 12;

/// A non-negative amount of minor units: `units / 10^scale`, kept without trailing zeros so
/// equal amounts compare and print equal.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Decimal {
    units: i128,
    scale: u32,
}

impl Decimal {
    pub fn whole(n: i64) -> Self {
        Self {
            units: i128::from(n),
            scale: 0,
        }
    }

    /// `"200"`, `"0.2"`, `"105.50"`; `None` for anything else (signs, exponents, more than 12
    /// decimals, or more digits than any price needs).
    pub fn parse(text: &str) -> Option<Self> {
        let (int, frac) = text.split_once('.').unwrap_or((text, ""));
        let digits = |s: &str| s.bytes().all(|b| b.is_ascii_digit());
        if int.is_empty() || !digits(int) || !digits(frac) || frac.len() > MAX_SCALE as usize || int.len() > 18 {
            return None;
        }
        let units: i128 = format!("{int}{frac}").parse().ok()?;
        Some(Self::normalized(units, frac.len() as u32))
    }

    fn normalized(mut units: i128, mut scale: u32) -> Self {
        while scale > 0 && units % 10 == 0 {
            units /= 10;
            scale -= 1;
        }
        Self { units, scale }
    }

    /// The amount as whole minor units, when it is one (what `unit_amount` shows).
    pub fn as_whole(&self) -> Option<i64> {
        (self.scale == 0).then(|| i64::try_from(self.units).ok()).flatten()
    }

    /// `quantity` times this, rounded to whole minor units half up: Stripe rounds each invoice
    /// line, "0.05 * 30 = 1.5, which is then rounded up to 2 cents".
    pub fn times(&self, quantity: i64) -> i64 {
        let exact = self.units.saturating_mul(i128::from(quantity));
        let unit = 10i128.pow(self.scale);
        let rounded = (exact.abs() + unit / 2) / unit;
        let signed = if exact < 0 { -rounded } else { rounded };
        i64::try_from(signed).unwrap_or(if signed < 0 { i64::MIN } else { i64::MAX })
    }

    /// In the currency's major unit for people to read: `0.2` cents of USD is "0.002 USD".
    pub fn money(&self, currency: &str) -> String {
        let scale = (self.scale + 2) as usize;
        let digits = format!("{:0>width$}", self.units, width = scale + 1);
        let (int, frac) = digits.split_at(digits.len() - scale);
        let frac = frac.trim_end_matches('0');
        let frac = if frac.len() < 2 {
            format!("{frac:0<2}")
        } else {
            frac.to_string()
        };
        format!("{int}.{frac} {}", currency.to_uppercase())
    }
}

impl fmt::Display for Decimal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.scale == 0 {
            return write!(f, "{}", self.units);
        }
        let scale = self.scale as usize;
        let digits = format!("{:0>width$}", self.units, width = scale + 1);
        let (int, frac) = digits.split_at(digits.len() - scale);
        write!(f, "{int}.{frac}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_prints_and_normalizes() {
        let d = |s| Decimal::parse(s).map(|d| d.to_string());
        assert_eq!(d("0.2").as_deref(), Some("0.2"));
        assert_eq!(d("200").as_deref(), Some("200"));
        assert_eq!(d("105.50").as_deref(), Some("105.5"));
        assert_eq!(d("5.0").as_deref(), Some("5"));
        assert_eq!(d("0.000000000001").as_deref(), Some("0.000000000001"));
        for bad in ["", ".5", "-1", "1e3", "0.0000000000001", "1.2.3", "abc", "1,5"] {
            assert_eq!(Decimal::parse(bad), None, "{bad}");
        }
        assert_eq!(Decimal::parse("200").and_then(|d| d.as_whole()), Some(200));
        assert_eq!(Decimal::parse("0.2").and_then(|d| d.as_whole()), None);
    }

    #[test]
    fn rounds_line_amounts_half_up() {
        let d = |s| Decimal::parse(s).expect("valid");
        assert_eq!(d("0.05").times(30), 2, "Stripe's own example: 1.5 rounds up");
        assert_eq!(d("0.05").times(29), 1);
        assert_eq!(d("0.2").times(15_000), 3000);
        assert_eq!(d("200").times(15), 3000);
        assert_eq!(d("0.2").times(0), 0);
        assert_eq!(d("0.05").times(-30), -2);
    }

    #[test]
    fn money_for_people() {
        let d = |s| Decimal::parse(s).expect("valid");
        assert_eq!(d("0.2").money("usd"), "0.002 USD");
        assert_eq!(d("200").money("usd"), "2.00 USD");
        assert_eq!(d("1999").money("eur"), "19.99 EUR");
        assert_eq!(d("105.5").money("usd"), "1.055 USD");
        assert_eq!(d("5").money("usd"), "0.05 USD");
    }
}
