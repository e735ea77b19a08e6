//! Time as the platform stores it (RFC 3339 UTC text, which sorts correctly as a string) and
//! billing periods. The clock is always passed in, so every rule here is testable.

use std::fmt;

/// Seconds since the Unix epoch, UTC.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize, serde::Deserialize)]
pub struct Timestamp(pub i64);

impl Timestamp {
    pub fn from_millis(millis: u64) -> Self {
        Self((millis / 1000) as i64)
    }

    pub fn millis(self) -> u64 {
        (self.0.max(0) as u64).saturating_mul(1000)
    }

    /// `YYYY-MM-DDTHH:MM:SSZ`, the one format every timestamp column uses.
    pub fn to_rfc3339(self) -> String {
        let days = self.0.div_euclid(86_400);
        let secs = self.0.rem_euclid(86_400);
        let (y, m, d) = civil_from_days(days);
        format!(
            "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}Z",
            secs / 3600,
            (secs % 3600) / 60,
            secs % 60
        )
    }
}

impl Timestamp {
    /// Reads back what `to_rfc3339` wrote (the only format stored); anything else is `None`.
    pub fn parse_rfc3339(text: &str) -> Option<Self> {
        let b = text.as_bytes();
        if b.len() != 20
            || b[4] != b'-'
            || b[7] != b'-'
            || b[10] != b'T'
            || b[13] != b':'
            || b[16] != b':'
            || b[19] != b'Z'
        {
            return None;
        }
        let num = |range: std::ops::Range<usize>| text.get(range)?.parse::<u32>().ok();
        let (y, m, d) = (num(0..4)?, num(5..7)?, num(8..10)?);
        let (hh, mm, ss) = (num(11..13)?, num(14..16)?, num(17..19)?);
        if !(1..=12).contains(&m) || d == 0 || d > 31 || hh > 23 || mm > 59 || ss > 59 {
            return None;
        }
        let days = days_from_civil(i64::from(y), m, d);
        // Reject dates like 02-31 that normalise into the next month.
        if civil_from_days(days) != (i64::from(y), m, d) {
            return None;
        }
        Some(Self(days * 86_400 + i64::from(hh * 3600 + mm * 60 + ss)))
    }
}

impl fmt::Display for Timestamp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_rfc3339())
    }
}

/// The window a usage count belongs to: `[start, end)`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct BillingPeriod {
    pub start: Timestamp,
    pub end: Timestamp,
}

impl BillingPeriod {
    /// A free user's period: the calendar month (UTC) containing `now`.
    pub fn calendar_month(now: Timestamp) -> Self {
        let (y, m, _) = civil_from_days(now.0.div_euclid(86_400));
        let (next_y, next_m) = if m == 12 { (y + 1, 1) } else { (y, m + 1) };
        Self {
            start: Timestamp(days_from_civil(y, m, 1) * 86_400),
            end: Timestamp(days_from_civil(next_y, next_m, 1) * 86_400),
        }
    }

    /// The `count` calendar months up to and including the one containing `now`, oldest first.
    pub fn recent_months(now: Timestamp, count: usize) -> Vec<Self> {
        let mut months = vec![Self::calendar_month(now)];
        while months.len() < count {
            months.insert(0, Self::calendar_month(Timestamp(months[0].start.0 - 1)));
        }
        months
    }

    /// A paid user's period comes from their Stripe subscription. A period that starts later
    /// than our clock says is a renewal Stripe has already made (its clock ran ahead of ours): it
    /// is the new period. A period that has already ended is a renewal whose webhook has not
    /// arrived yet: Stripe's next period starts exactly where this one ended, so the user counts
    /// from there, in the row the renewal will use (a late webhook used to count in a calendar
    /// month, then start the real period at 0 again). Its end is a guess (the same length) until
    /// the renewal says; only the start names the count.
    pub fn from_subscription(start: Timestamp, end: Timestamp, now: Timestamp) -> Self {
        if start >= end {
            return Self::calendar_month(now);
        }
        if now < end {
            return Self { start, end };
        }
        let length = end.0 - start.0;
        let missed = (now.0 - end.0) / length;
        let next = Timestamp(end.0 + missed * length);
        Self {
            start: next,
            end: Timestamp(next.0 + length),
        }
    }
}

/// The midnights (UTC) of the `count` days up to and including the one containing `now`, oldest
/// first.
pub fn recent_days(now: Timestamp, count: usize) -> Vec<Timestamp> {
    let today = now.0.div_euclid(86_400);
    (0..count as i64)
        .rev()
        .map(|back| Timestamp((today - back) * 86_400))
        .collect()
}

// Howard Hinnant's `days_from_civil` / `civil_from_days`: exact proleptic Gregorian arithmetic
// without pulling a date crate into the Wasm.
fn days_from_civil(y: i64, m: u32, d: u32) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let m = i64::from(m);
    let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + i64::from(d) - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let y = yoe + era * 400 + i64::from(m <= 2);
    (y, m, d)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn recent_months_and_days_end_now_and_cross_year_ends() {
        let now = Timestamp::parse_rfc3339("2026-02-10T12:00:00Z").unwrap();
        let months: Vec<String> = BillingPeriod::recent_months(now, 4)
            .iter()
            .map(|m| m.start.to_rfc3339())
            .collect();
        assert_eq!(
            months,
            [
                "2025-11-01T00:00:00Z",
                "2025-12-01T00:00:00Z",
                "2026-01-01T00:00:00Z",
                "2026-02-01T00:00:00Z"
            ]
        );
        let days: Vec<String> = recent_days(Timestamp::parse_rfc3339("2026-03-01T00:00:05Z").unwrap(), 3)
            .iter()
            .map(|d| d.to_rfc3339())
            .collect();
        assert_eq!(
            days,
            ["2026-02-27T00:00:00Z", "2026-02-28T00:00:00Z", "2026-03-01T00:00:00Z"]
        );
    }

    #[test]
    fn formats_rfc3339() {
        assert_eq!(Timestamp(0).to_rfc3339(), "1970-01-01T00:00:00Z");
        // `date -u -d @1795306426`
        assert_eq!(Timestamp(1_795_306_426).to_rfc3339(), "2026-11-22T00:13:46Z");
        assert_eq!(Timestamp(951_782_400).to_rfc3339(), "2000-02-29T00:00:00Z");
        assert_eq!(Timestamp::from_millis(1_795_306_426_999), Timestamp(1_795_306_426));
    }

    #[test]
    fn parses_what_it_writes() {
        for t in [0, 951_782_400, 1_795_306_426, 1_798_761_599] {
            assert_eq!(Timestamp::parse_rfc3339(&Timestamp(t).to_rfc3339()), Some(Timestamp(t)));
        }
        for bad in [
            "2026-02-31T00:00:00Z",
            "2026-11-22 00:13:46Z",
            "2026-11-22T00:13:46",
            "2026-13-01T00:00:00Z",
            "x",
        ] {
            assert_eq!(Timestamp::parse_rfc3339(bad), None, "{bad}");
        }
    }

    #[test]
    fn calendar_month_bounds() {
        let p = BillingPeriod::calendar_month(Timestamp(1_795_306_426));
        assert_eq!(p.start.to_rfc3339(), "2026-11-01T00:00:00Z");
        assert_eq!(p.end.to_rfc3339(), "2026-12-01T00:00:00Z");
        // December rolls the year; the last second of a month stays in it.
        let dec = BillingPeriod::calendar_month(Timestamp(1_798_761_599));
        assert_eq!(dec.start.to_rfc3339(), "2026-12-01T00:00:00Z");
        assert_eq!(dec.end.to_rfc3339(), "2027-01-01T00:00:00Z");
        let leap = BillingPeriod::calendar_month(Timestamp(951_782_400));
        assert_eq!(leap.end.to_rfc3339(), "2000-03-01T00:00:00Z");
    }

    #[test]
    fn every_day_round_trips() {
        for day in -800_000..800_000 {
            let (y, m, d) = civil_from_days(day);
            assert_eq!(days_from_civil(y, m, d), day);
        }
    }

    #[test]
    fn subscription_period_used_until_it_ends() {
        let now = Timestamp(1_795_306_426);
        let current = BillingPeriod::from_subscription(Timestamp(now.0 - 10), Timestamp(now.0 + 10), now);
        assert_eq!(current.start, Timestamp(now.0 - 10));
        // Ended, its renewal not heard of yet: the next period, from exactly where it ended.
        let late = BillingPeriod::from_subscription(Timestamp(now.0 - 25), Timestamp(now.0 - 5), now);
        assert_eq!(
            late,
            BillingPeriod {
                start: Timestamp(now.0 - 5),
                end: Timestamp(now.0 + 15)
            }
        );
        // Several renewals missed (a long outage): the one that contains now.
        let very_late = BillingPeriod::from_subscription(Timestamp(now.0 - 105), Timestamp(now.0 - 95), now);
        assert_eq!(
            very_late,
            BillingPeriod {
                start: Timestamp(now.0 - 5),
                end: Timestamp(now.0 + 5)
            }
        );
        let renewed_early = BillingPeriod::from_subscription(Timestamp(now.0 + 5), Timestamp(now.0 + 100), now);
        assert_eq!(renewed_early.start, Timestamp(now.0 + 5));
        let inverted = BillingPeriod::from_subscription(Timestamp(now.0 + 10), Timestamp(now.0 + 10), now);
        assert_eq!(inverted, BillingPeriod::calendar_month(now));
    }
}
