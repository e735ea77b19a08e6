//! Promotion codes: coupons on the developer's connected account, a customer-facing code each,
//! that a project's checkouts accept (`/promotion-codes` of oauth-api).

use serde::{Deserialize, Serialize};

use crate::{
    error::{ApiError, ApiResult},
    money::Cents,
    period::Timestamp,
};

/// Codes per project and mode, active or not: far above a real launch calendar, and the bound
/// on what one account can store.
pub const MAX_PROMOTION_CODES: usize = 100;
const CODE_LEN: std::ops::RangeInclusive<usize> = 3..=30;
/// Stripe's bound on `duration_in_months`.
const MAX_MONTHS: u32 = 36;
/// Stripe's bound on `max_redemptions` is far higher; a code redeemed a million times is a price.
const MAX_REDEMPTIONS: u32 = 1_000_000;

/// How long a customer's discount lasts once redeemed (Stripe's coupon `duration`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum DiscountDuration {
    /// The first invoice only.
    Once,
    /// `durationInMonths` months of invoices.
    Repeating,
    /// Every invoice.
    Forever,
}

impl DiscountDuration {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Once => "once",
            Self::Repeating => "repeating",
            Self::Forever => "forever",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        match text {
            "once" => Some(Self::Once),
            "repeating" => Some(Self::Repeating),
            "forever" => Some(Self::Forever),
            _ => None,
        }
    }
}

/// `POST /promotion-codes`.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct CreatePromotionCode {
    pub publishable_key: String,
    /// What customers type: 3-30 letters and digits (Stripe's characters); unique in the project
    /// whatever the case.
    pub code: String,
    /// Percent off, 0.01-100 (two decimals at most). Exactly one of `percentOff` and `amountOff`.
    #[serde(default)]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<f64>))]
    pub percent_off: Option<Cents>,
    /// An amount off each discounted invoice, in dollars of the project's currency.
    #[serde(default)]
    pub amount_off: Option<Cents>,
    pub duration: DiscountDuration,
    /// With `repeating`: 1-36 months.
    #[serde(default)]
    pub duration_in_months: Option<u32>,
    /// How many times the code can be redeemed in all; absent: no bound.
    #[serde(default)]
    pub max_redemptions: Option<u32>,
    /// When the code stops being accepted (RFC 3339, in the future); absent: never.
    #[serde(default)]
    pub expires_at: Option<String>,
    /// Only for customers who never paid this account before (Stripe's `first_time_transaction`).
    #[serde(default)]
    pub first_time_only: bool,
}

/// A validated `CreatePromotionCode`.
#[derive(Debug, Clone, PartialEq)]
pub struct PromotionDraft {
    pub code: String,
    pub off: Off,
    pub duration: DiscountDuration,
    pub duration_in_months: Option<u32>,
    pub max_redemptions: Option<u32>,
    pub expires_at: Option<Timestamp>,
    pub first_time_only: bool,
}

/// What a discount takes off.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Off {
    /// Hundredths of a percent: 2,000 is 20 %.
    Percent(u32),
    Amount(Cents),
}

fn invalid(field: &str, message: impl std::fmt::Display) -> ApiError {
    ApiError::invalid_request(format!("{field}: {message}"))
}

/// Whether `code` is a promotion code's shape (the checkout's `promotionCode` is checked too).
pub fn check_code(code: &str) -> ApiResult<()> {
    if !CODE_LEN.contains(&code.len()) || !code.bytes().all(|b| b.is_ascii_alphanumeric()) {
        return Err(invalid(
            "code",
            format!("must be {}-{} letters and digits", CODE_LEN.start(), CODE_LEN.end()),
        ));
    }
    Ok(())
}

impl CreatePromotionCode {
    pub fn validate(&self, now: Timestamp) -> ApiResult<PromotionDraft> {
        check_code(&self.code)?;
        let off = match (self.percent_off, self.amount_off) {
            (Some(percent), None) => {
                let hundredths = u32::try_from(percent.get()).unwrap_or(u32::MAX);
                if !(1..=10_000).contains(&hundredths) {
                    return Err(invalid("percentOff", "must be more than 0 and at most 100"));
                }
                Off::Percent(hundredths)
            }
            (None, Some(amount)) if !amount.is_free() => Off::Amount(amount),
            (None, Some(_)) => return Err(invalid("amountOff", "must be more than 0")),
            _ => {
                return Err(ApiError::invalid_request(
                    "Give exactly one of percentOff and amountOff",
                ));
            }
        };
        let duration_in_months = match (self.duration, self.duration_in_months) {
            (DiscountDuration::Repeating, Some(months)) if (1..=MAX_MONTHS).contains(&months) => Some(months),
            (DiscountDuration::Repeating, _) => {
                return Err(invalid(
                    "durationInMonths",
                    format!("a repeating discount needs 1-{MAX_MONTHS} months"),
                ));
            }
            (_, None) => None,
            (_, Some(_)) => {
                return Err(invalid(
                    "durationInMonths",
                    "only a repeating discount has a number of months",
                ));
            }
        };
        if self
            .max_redemptions
            .is_some_and(|n| !(1..=MAX_REDEMPTIONS).contains(&n))
        {
            return Err(invalid("maxRedemptions", format!("must be 1-{MAX_REDEMPTIONS}")));
        }
        let expires_at = match &self.expires_at {
            None => None,
            Some(text) => {
                let at = Timestamp::parse_rfc3339(text)
                    .ok_or_else(|| invalid("expiresAt", "must be an RFC 3339 time such as 2027-01-31T23:59:59Z"))?;
                if at.0 <= now.0 {
                    return Err(invalid("expiresAt", "must be in the future"));
                }
                Some(at)
            }
        };
        Ok(PromotionDraft {
            code: self.code.clone(),
            off,
            duration: self.duration,
            duration_in_months,
            max_redemptions: self.max_redemptions,
            expires_at,
            first_time_only: self.first_time_only,
        })
    }
}

/// `PUT /promotion-codes/{id}`: stop (or start again) accepting a code.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct UpdatePromotionCode {
    pub publishable_key: String,
    pub active: bool,
}

/// A promotion code as the dashboard shows it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct PromotionCodeView {
    /// Stripe's `promo_…`.
    pub id: String,
    pub code: String,
    pub coupon_id: String,
    #[cfg_attr(feature = "openapi", schema(value_type = Option<f64>))]
    pub percent_off: Option<Cents>,
    pub amount_off: Option<Cents>,
    pub currency: String,
    pub duration: DiscountDuration,
    pub duration_in_months: Option<u32>,
    pub max_redemptions: Option<u32>,
    /// As Stripe counts them (`null` when Stripe could not be asked just now).
    pub times_redeemed: Option<u64>,
    pub expires_at: Option<String>,
    pub first_time_only: bool,
    pub active: bool,
    pub created_at: String,
}

/// `GET /promotion-codes`.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct PromotionCodeList {
    pub publishable_key: String,
    /// The project's currency: what `amountOff` is in.
    pub currency: crate::money::Currency,
    /// Newest first.
    pub codes: Vec<PromotionCodeView>,
    /// The most a project may have in this mode.
    pub max: usize,
}

/// `POST` and `PUT /promotion-codes`.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct PromotionCodeSaved {
    pub success: bool,
    pub promotion_code: PromotionCodeView,
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    const NOW: Timestamp = Timestamp(1_800_000_000);

    fn input(fields: serde_json::Value) -> CreatePromotionCode {
        let mut body = json!({"publishableKey": "pk_test_x", "code": "LAUNCH20", "duration": "forever"});
        body.as_object_mut()
            .unwrap()
            .extend(fields.as_object().unwrap().clone());
        serde_json::from_value(body).unwrap()
    }

    #[test]
    fn a_percent_or_an_amount_off_with_a_duration() {
        let twenty = input(json!({"percentOff": 20})).validate(NOW).unwrap();
        assert_eq!(twenty.off, Off::Percent(2000));
        let half = input(json!({"percentOff": 12.5, "duration": "repeating", "durationInMonths": 3}))
            .validate(NOW)
            .unwrap();
        assert_eq!((half.off, half.duration_in_months), (Off::Percent(1250), Some(3)));
        let five = input(json!({"amountOff": 5, "maxRedemptions": 10, "expiresAt": "2030-01-01T00:00:00Z"}))
            .validate(NOW)
            .unwrap();
        assert_eq!(five.off, Off::Amount(Cents::new(500).unwrap()));
        assert_eq!(five.expires_at, Timestamp::parse_rfc3339("2030-01-01T00:00:00Z"));
    }

    #[test]
    fn what_stripe_would_refuse_is_a_400_naming_the_field() {
        for (fields, expected) in [
            (json!({"code": "no spaces", "percentOff": 10}), "code:"),
            (json!({"code": "AB", "percentOff": 10}), "code:"),
            (json!({"percentOff": 100.5}), "percentOff"),
            (json!({"percentOff": 0}), "percentOff"),
            (json!({"amountOff": 0}), "amountOff"),
            (json!({"percentOff": 10, "amountOff": 1}), "exactly one"),
            (json!({}), "exactly one"),
            (json!({"percentOff": 10, "duration": "repeating"}), "durationInMonths"),
            (json!({"percentOff": 10, "durationInMonths": 2}), "durationInMonths"),
            (json!({"percentOff": 10, "maxRedemptions": 0}), "maxRedemptions"),
            (json!({"percentOff": 10, "expiresAt": "tomorrow"}), "expiresAt"),
            (
                json!({"percentOff": 10, "expiresAt": "2020-01-01T00:00:00Z"}),
                "in the future",
            ),
        ] {
            let err = input(fields.clone()).validate(NOW).unwrap_err();
            assert!(err.message().contains(expected), "{fields}: {}", err.message());
        }
        let three_decimals: Result<CreatePromotionCode, _> = serde_json::from_value(
            json!({"publishableKey": "pk", "code": "ABC", "duration": "once", "percentOff": 10.125}),
        );
        assert!(three_decimals.is_err());
    }
}
