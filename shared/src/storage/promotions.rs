//! A project's promotion codes (migration 0024): which of the connected account's codes belong
//! to the project, and what the dashboard shows of them. Stripe holds the codes themselves.

use serde::Deserialize;

use super::{ProjectScope, SqlParam};
use dream_core::{
    api::promotions::{DiscountDuration, MAX_PROMOTION_CODES, Off, PromotionCodeView, PromotionDraft},
    error::{ApiError, ApiResult, Cause},
    money::Cents,
    period::Timestamp,
};

/// What every read of a code selects (`Row`).
macro_rules! code_columns {
    () => {
        "SELECT promotionCodeId, code, couponId, percentOffHundredths, amountOffCents, currency, duration,
  durationInMonths, maxRedemptions, expiresAt, firstTimeOnly, active, createdAt FROM promotion_codes\n"
    };
}

/// Newest first. ?1 publishableKey, ?2 limit.
pub const SELECT_PROMOTION_CODES: &str = concat!(
    code_columns!(),
    "WHERE publishableKey = ?1 ORDER BY createdAt DESC, promotionCodeId LIMIT ?2"
);

/// The project's code a customer typed, whatever its case. ?1 publishableKey, ?2 code.
pub const SELECT_PROMOTION_CODE_BY_CODE: &str = concat!(
    code_columns!(),
    "WHERE publishableKey = ?1 AND code = ?2 COLLATE NOCASE"
);

/// ?1 publishableKey, ?2 promotionCodeId.
pub const SELECT_PROMOTION_CODE: &str = concat!(code_columns!(), "WHERE publishableKey = ?1 AND promotionCodeId = ?2");

/// Only while the project has fewer than ?15 codes: checked by the statement, so concurrent
/// creations cannot pass the bound together. ?1 promotionCodeId, ?2 publishableKey … ?14 now.
pub const INSERT_PROMOTION_CODE: &str = "\
INSERT INTO promotion_codes (promotionCodeId, publishableKey, couponId, code, percentOffHundredths, amountOffCents,
  currency, duration, durationInMonths, maxRedemptions, expiresAt, firstTimeOnly, active, createdAt, updatedAt)
SELECT ?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, 1, ?13, ?13
WHERE (SELECT COUNT(*) FROM promotion_codes WHERE publishableKey = ?2) < ?14";

/// ?1 publishableKey, ?2 promotionCodeId, ?3 active, ?4 now.
pub const SET_PROMOTION_CODE_ACTIVE: &str = "\
UPDATE promotion_codes SET active = ?3, updatedAt = ?4 WHERE publishableKey = ?1 AND promotionCodeId = ?2";

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Row {
    promotion_code_id: String,
    code: String,
    coupon_id: String,
    percent_off_hundredths: Option<i64>,
    amount_off_cents: Option<i64>,
    currency: String,
    duration: String,
    duration_in_months: Option<u32>,
    max_redemptions: Option<u32>,
    expires_at: Option<String>,
    first_time_only: i64,
    active: i64,
    created_at: String,
}

impl Row {
    fn into_view(self) -> ApiResult<PromotionCodeView> {
        let corrupt = |what: &str| ApiError::internal(format!("promotion_codes row `{}`: invalid {what}", self.code));
        let cents = |n: Option<i64>, what: &str| n.map(|n| Cents::new(n).map_err(|_| corrupt(what))).transpose();
        Ok(PromotionCodeView {
            percent_off: cents(self.percent_off_hundredths, "percentOffHundredths")?,
            amount_off: cents(self.amount_off_cents, "amountOffCents")?,
            duration: DiscountDuration::parse(&self.duration).ok_or_else(|| corrupt("duration"))?,
            id: self.promotion_code_id,
            code: self.code,
            coupon_id: self.coupon_id,
            currency: self.currency,
            duration_in_months: self.duration_in_months,
            max_redemptions: self.max_redemptions,
            times_redeemed: None,
            expires_at: self.expires_at,
            first_time_only: self.first_time_only != 0,
            active: self.active != 0,
            created_at: self.created_at,
        })
    }
}

/// A code made on Stripe, to record for the project.
pub struct NewPromotionCode<'a> {
    pub promotion_code_id: &'a str,
    pub coupon_id: &'a str,
    pub currency: &'a str,
    pub draft: &'a PromotionDraft,
}

impl ProjectScope {
    pub async fn promotion_codes(&self) -> ApiResult<Vec<PromotionCodeView>> {
        let limit = i64::try_from(MAX_PROMOTION_CODES).unwrap_or(i64::MAX);
        let rows: Vec<Row> = self.db.all(SELECT_PROMOTION_CODES, &[self.pk(), limit.into()]).await?;
        rows.into_iter().map(Row::into_view).collect()
    }

    pub async fn promotion_code(&self, promotion_code_id: &str) -> ApiResult<Option<PromotionCodeView>> {
        let row: Option<Row> = self
            .db
            .first(SELECT_PROMOTION_CODE, &[self.pk(), promotion_code_id.into()])
            .await?;
        row.map(Row::into_view).transpose()
    }

    /// The project's code a customer typed (any case).
    pub async fn promotion_code_named(&self, code: &str) -> ApiResult<Option<PromotionCodeView>> {
        let row: Option<Row> = self
            .db
            .first(SELECT_PROMOTION_CODE_BY_CODE, &[self.pk(), code.into()])
            .await?;
        row.map(Row::into_view).transpose()
    }

    /// Records a code; a 409 for a code the project already has, or past the bound.
    pub async fn insert_promotion_code(
        &self,
        new: &NewPromotionCode<'_>,
        audit: &super::audit::AuditEntry,
        now: Timestamp,
    ) -> ApiResult<()> {
        let draft = new.draft;
        let (percent, amount) = match draft.off {
            Off::Percent(hundredths) => (Some(i64::from(hundredths)), None),
            Off::Amount(cents) => (None, Some(cents.get())),
        };
        let params: Vec<SqlParam> = vec![
            new.promotion_code_id.into(),
            self.pk(),
            new.coupon_id.into(),
            draft.code.as_str().into(),
            percent.into(),
            amount.into(),
            new.currency.into(),
            draft.duration.as_str().into(),
            draft.duration_in_months.map(i64::from).into(),
            draft.max_redemptions.map(i64::from).into(),
            draft.expires_at.map(Timestamp::to_rfc3339).into(),
            i64::from(draft.first_time_only).into(),
            now.to_rfc3339().into(),
            i64::try_from(MAX_PROMOTION_CODES).unwrap_or(i64::MAX).into(),
        ];
        let written = (self.db.run_audited(INSERT_PROMOTION_CODE, &params, Some(audit)).await).map_err(|e| {
            if matches!(e.cause(), Some(Cause::Unique(_))) {
                duplicate_code(&draft.code)
            } else {
                e.context("recording a promotion code")
            }
        })?;
        if written.changes() == 0 {
            return Err(too_many_codes());
        }
        Ok(())
    }

    /// Whether the project has that code.
    pub async fn set_promotion_code_active(
        &self,
        promotion_code_id: &str,
        active: bool,
        audit: &super::audit::AuditEntry,
        now: Timestamp,
    ) -> ApiResult<bool> {
        let params = [
            self.pk(),
            promotion_code_id.into(),
            i64::from(active).into(),
            now.to_rfc3339().into(),
        ];
        Ok((self.db)
            .run_audited(SET_PROMOTION_CODE_ACTIVE, &params, Some(audit))
            .await?
            .changes()
            > 0)
    }
}

pub fn duplicate_code(code: &str) -> ApiError {
    ApiError::conflict(format!(
        "This project already has a promotion code `{code}` (codes are compared without case)"
    ))
}

pub fn too_many_codes() -> ApiError {
    ApiError::conflict(format!(
        "A project has at most {MAX_PROMOTION_CODES} promotion codes in each mode; deactivated ones count too"
    ))
}
