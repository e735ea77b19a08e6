//! Overage billed through the developer's Stripe: the usage counters report each user's units
//! past their tier's included amount as Stripe Billing Meter events on the connected account,
//! in batches on their alarm (never on the request path), and Stripe's metered price on the
//! subscription turns them into the overage line of the next invoice.

use crate::{
    storage::usage::OverageReport,
    upstream::stripe::{Form, Stripe},
};
use dream_core::error::ApiResult;

/// Sends one report, exactly as it was fixed. Stripe counts a meter event identifier once (a
/// second event with it, within the day Stripe promises, is refused as a duplicate), so a
/// report sent again after a lost answer or a restart lands once. Each attempt has its own
/// Idempotency-Key: Stripe replays a refusal under a key for a day, which would stall a report
/// that failed once for a passing reason. Its timestamp lies in the period that counted it:
/// Stripe bills an event into the period its timestamp falls in.
pub async fn send(stripe: &Stripe, report: &OverageReport) -> ApiResult<()> {
    let form = Form::new()
        .field("event_name", &report.event_name)
        .field("payload[stripe_customer_id]", &report.stripe_customer)
        .field("payload[value]", report.value())
        .field("identifier", &report.pending_identifier)
        .field("timestamp", report.pending_timestamp);
    match stripe
        .post::<serde_json::Value>(
            "/billing/meter_events",
            &form,
            &format!("{}:{}", report.pending_identifier, report.attempts),
        )
        .await
    {
        Ok(_) => Ok(()),
        Err(e) if already_counted(&e) => Ok(()),
        Err(e) => Err(e),
    }
}

/// Stripe's answer to an identifier it has already counted: a 400 with no error code, known
/// by its message ("An event already exists with identifier …", as integrations quote it).
fn already_counted(e: &dream_core::error::ApiError) -> bool {
    e.code() == dream_core::error::ErrorCode::StripeError
        && e.message().contains("An event already exists with identifier")
}

#[cfg(test)]
mod tests {
    use super::*;
    use dream_core::error::{ApiError, ErrorCode};

    #[test]
    fn only_stripes_duplicate_identifier_answer_counts_as_delivered() {
        let duplicate = ApiError::new(
            ErrorCode::StripeError,
            "Stripe: An event already exists with identifier dream_abc.",
        );
        assert!(already_counted(&duplicate));
        let other = ApiError::new(ErrorCode::StripeError, "Stripe: No active meter found for event_name x");
        assert!(!already_counted(&other));
        assert!(!already_counted(&ApiError::internal(
            "An event already exists with identifier x"
        )));
    }
}
