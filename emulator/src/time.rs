//! Unix time and calendar arithmetic for billing periods (UTC, as Stripe bills).

pub fn now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or_default()
}

pub fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or_default()
}

const DAY: i64 = 86_400;

/// Days since 1970-01-01 of a civil date (Howard Hinnant's algorithm).
fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let doy = (153 * (m + if m > 2 { -3 } else { 9 }) + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

fn civil_from_days(z: i64) -> (i64, i64, i64) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    (if m <= 2 { yoe + era * 400 + 1 } else { yoe + era * 400 }, m, d)
}

fn days_in_month(y: i64, m: i64) -> i64 {
    let (ny, nm) = if m == 12 { (y + 1, 1) } else { (y, m + 1) };
    days_from_civil(ny, nm, 1) - days_from_civil(y, m, 1)
}

/// `ts` plus `months`, keeping the day of month and clamping it to the month's end
/// (Jan 31 + 1 month = Feb 28/29), as Stripe does from a billing cycle anchor.
pub fn add_months(ts: i64, months: i64) -> i64 {
    let days = ts.div_euclid(DAY);
    let secs = ts.rem_euclid(DAY);
    let (y, m, d) = civil_from_days(days);
    let total = y * 12 + (m - 1) + months;
    let (ny, nm) = (total.div_euclid(12), total.rem_euclid(12) + 1);
    let nd = d.min(days_in_month(ny, nm));
    days_from_civil(ny, nm, nd) * DAY + secs
}

/// The boundary `n` intervals after `anchor`. Always computed from the anchor, never from the
/// previous boundary, so a 31st anchor returns to the 31st after a short month.
pub fn period_boundary(anchor: i64, interval: &str, count: i64, n: i64) -> i64 {
    match interval {
        "day" => anchor + DAY * count * n,
        "week" => anchor + 7 * DAY * count * n,
        "year" => add_months(anchor, 12 * count * n),
        _ => add_months(anchor, count * n),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn months_clamp_and_return_to_the_anchor_day() {
        let jan31 = days_from_civil(2026, 1, 31) * DAY + 3600;
        let feb28 = days_from_civil(2026, 2, 28) * DAY + 3600;
        let mar31 = days_from_civil(2026, 3, 31) * DAY + 3600;
        assert_eq!(period_boundary(jan31, "month", 1, 1), feb28);
        assert_eq!(period_boundary(jan31, "month", 1, 2), mar31);
        assert_eq!(
            period_boundary(jan31, "year", 1, 1),
            days_from_civil(2027, 1, 31) * DAY + 3600
        );
        assert_eq!(period_boundary(jan31, "week", 2, 1), jan31 + 14 * DAY);
        assert_eq!(civil_from_days(days_from_civil(2024, 2, 29)), (2024, 2, 29));
    }
}
