//! Promotion codes on the developer's connected account: a Stripe coupon and its
//! customer-facing code per promotion, made for one project and mode, and the discount a
//! checkout carries (a code the developer's app passes, or Stripe's own code field).

use serde::Deserialize;
use serde_json::Value;

use crate::{
    storage::{
        ProjectScope,
        audit::AuditEntry,
        promotions::{NewPromotionCode, duplicate_code, too_many_codes},
    },
    upstream::stripe::{Form, Stripe},
};
use dream_core::{
    api::promotions::{CreatePromotionCode, MAX_PROMOTION_CODES, Off, PromotionCodeView, check_code},
    error::{ApiError, ApiResult},
    money::Currency,
    period::Timestamp,
};

#[derive(Deserialize)]
struct Created {
    id: String,
}

/// Stripe's `percent_off`: a decimal with up to two places ("20", "12.5", "0.01").
fn percent_text(hundredths: u32) -> String {
    let (whole, rest) = (hundredths / 100, hundredths % 100);
    match rest {
        0 => whole.to_string(),
        r if r % 10 == 0 => format!("{whole}.{}", r / 10),
        r => format!("{whole}.{r:02}"),
    }
}

/// The project's codes, newest first, with Stripe's redemption counts (left out, not failed,
/// when Stripe cannot be asked: the list is still the project's).
pub async fn list(stripe: &Stripe, scope: &ProjectScope) -> ApiResult<Vec<PromotionCodeView>> {
    let mut codes = scope.promotion_codes().await?;
    if codes.is_empty() {
        return Ok(codes);
    }
    // One page of the account's newest codes covers a project's (at most 100 of them) unless
    // the developer's other projects made many since; those show no count rather than cost a
    // call each.
    match stripe.get::<Value>("/promotion_codes?limit=100").await {
        Ok(page) => {
            let redeemed = |id: &str| {
                page["data"]
                    .as_array()
                    .and_then(|all| all.iter().find(|c| c["id"] == id))
                    .and_then(|c| c["times_redeemed"].as_u64())
            };
            for code in &mut codes {
                code.times_redeemed = redeemed(&code.id);
            }
        }
        Err(e) => crate::runtime::log::error(&format!("reading promotion code redemptions: {e}")),
    }
    Ok(codes)
}

/// Makes the coupon and its code on Stripe, then records them for the project. A code the
/// project already has is refused before anything is made; one that loses a race to the same
/// code is deactivated on Stripe again.
pub async fn create(
    stripe: &Stripe,
    (scope, currency): (&ProjectScope, Currency),
    request: &CreatePromotionCode,
    audit: AuditEntry,
    request_id: &str,
    now: Timestamp,
) -> ApiResult<PromotionCodeView> {
    let draft = request.validate(now)?;
    if let Off::Amount(amount) = draft.off {
        currency
            .check_whole("amountOff", amount)
            .map_err(ApiError::invalid_request)?;
    }
    // Both checked before anything is made on Stripe (the insert checks them again, for races).
    let existing = scope.promotion_codes().await?;
    if existing.iter().any(|c| c.code.eq_ignore_ascii_case(&draft.code)) {
        return Err(duplicate_code(&draft.code));
    }
    if existing.len() >= MAX_PROMOTION_CODES {
        return Err(too_many_codes());
    }
    let pk = scope.project().publishable_key.as_str();
    let mut coupon = Form::new()
        .field("duration", draft.duration.as_str())
        .field_opt("duration_in_months", draft.duration_in_months)
        .field("name", &draft.code)
        .field("metadata[publishableKey]", pk);
    coupon = match draft.off {
        Off::Percent(hundredths) => coupon.field("percent_off", percent_text(hundredths)),
        Off::Amount(cents) => coupon
            .field("amount_off", currency.minor_units(cents))
            .field("currency", currency.code()),
    };
    let coupon: Created = stripe
        .post("/coupons", &coupon, &format!("coupon:{request_id}"))
        .await?;
    let mut code = Form::new()
        .field("promotion[type]", "coupon")
        .field("promotion[coupon]", &coupon.id)
        .field("code", &draft.code)
        .field_opt("max_redemptions", draft.max_redemptions)
        .field_opt("expires_at", draft.expires_at.map(|t| t.0))
        .field("metadata[publishableKey]", pk);
    if draft.first_time_only {
        code = code.field("restrictions[first_time_transaction]", "true");
    }
    let made: Created = match stripe
        .post("/promotion_codes", &code, &format!("promotion-code:{request_id}"))
        .await
    {
        Ok(made) => made,
        Err(e) => {
            delete_coupon(stripe, &coupon.id, request_id).await;
            return Err(match e.stripe_refused_param() {
                // Stripe's rule is per account: another project's code, or one made in Stripe.
                Some("code") => ApiError::conflict(format!(
                    "`{}` is already an active promotion code on your Stripe account (another project's, or made in Stripe)",
                    draft.code
                )),
                _ => e,
            });
        }
    };
    let new = NewPromotionCode {
        promotion_code_id: &made.id,
        coupon_id: &coupon.id,
        currency: currency.code(),
        draft: &draft,
    };
    let audit = audit.target(made.id.as_str()).changes(
        None::<()>,
        serde_json::json!({
            "code": draft.code, "duration": draft.duration.as_str(), "durationInMonths": draft.duration_in_months,
            "maxRedemptions": draft.max_redemptions, "firstTimeOnly": draft.first_time_only,
            "expiresAt": draft.expires_at.map(Timestamp::to_rfc3339),
        }),
    );
    if let Err(e) = scope.insert_promotion_code(&new, &audit, now).await {
        let off = Form::new().field("active", "false");
        let undone: ApiResult<Value> = stripe
            .post(
                &format!("/promotion_codes/{}", made.id),
                &off,
                &format!("undo:{request_id}"),
            )
            .await;
        if let Err(undo) = undone {
            crate::runtime::log::error(&format!("deactivating promotion code {} after {e}: {undo}", made.id));
        }
        delete_coupon(stripe, &coupon.id, request_id).await;
        return Err(e);
    }
    scope
        .promotion_code(&made.id)
        .await?
        .ok_or_else(|| ApiError::internal("promotion code missing after recording it"))
}

/// Best effort, after a failure: a coupon nothing uses leaves no trace in the developer's Stripe.
async fn delete_coupon(stripe: &Stripe, coupon_id: &str, request_id: &str) {
    if let Err(e) = stripe
        .delete::<Value>(&format!("/coupons/{coupon_id}"), &format!("coupon-undo:{request_id}"))
        .await
    {
        crate::runtime::log::error(&format!("deleting unused coupon {coupon_id}: {e}"));
    }
}

/// A checkout Stripe refused for its discount (a code used up, or for first purchases only):
/// the caller's request, a 400 that says why, not a failure of ours.
pub fn refused_discount(error: ApiError) -> ApiError {
    match error.stripe_refused_param() {
        Some(param) if param.starts_with("discounts") || param.starts_with("promotion_code") => {
            ApiError::invalid_request(format!(
                "This promotion code cannot be used here: {}",
                error.message().trim_start_matches("Stripe: ")
            ))
        }
        _ => error,
    }
}

/// Stops (or starts again) accepting a code: Stripe first, then the project's record.
pub async fn set_active(
    stripe: &Stripe,
    scope: &ProjectScope,
    (promotion_code_id, active): (&str, bool),
    audit: &AuditEntry,
    request_id: &str,
    now: Timestamp,
) -> ApiResult<PromotionCodeView> {
    let known = scope
        .promotion_code(promotion_code_id)
        .await?
        .ok_or_else(|| ApiError::not_found("No such promotion code in this project"))?;
    let form = Form::new().field("active", active);
    let _: Value = stripe
        .post(
            &format!("/promotion_codes/{}", known.id),
            &form,
            &format!("promotion-code-active:{request_id}"),
        )
        .await?;
    let audit = audit.clone().changes(
        serde_json::json!({ "code": known.code, "active": known.active }),
        serde_json::json!({ "code": known.code, "active": active }),
    );
    scope.set_promotion_code_active(&known.id, active, &audit, now).await?;
    Ok(PromotionCodeView { active, ..known })
}

/// What a checkout offers: Stripe's code field, one of the project's codes applied already,
/// or neither.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CheckoutDiscount {
    None,
    /// The customer may type a code on Stripe's page.
    CodeField,
    /// The project's code, by Stripe id.
    Code(String),
}

impl CheckoutDiscount {
    /// From a checkout's `allowPromotionCodes` and `promotionCode`: the code must be one of the
    /// project's, active and not expired (Stripe checks its redemptions).
    pub async fn of(
        scope: &ProjectScope,
        (allow, code): (Option<bool>, Option<&str>),
        now: Timestamp,
    ) -> ApiResult<Self> {
        match (allow.unwrap_or(false), code) {
            (true, Some(_)) => Err(ApiError::invalid_request(
                "Send either allowPromotionCodes or promotionCode, not both (Stripe applies one discount)",
            )),
            (true, None) => Ok(Self::CodeField),
            (false, None) => Ok(Self::None),
            (false, Some(code)) => {
                check_code(code).map_err(|_| unknown_code(code))?;
                let known = scope
                    .promotion_code_named(code)
                    .await?
                    .filter(|c| c.active)
                    .ok_or_else(|| unknown_code(code))?;
                let expired = known
                    .expires_at
                    .as_deref()
                    .and_then(Timestamp::parse_rfc3339)
                    .is_some_and(|at| at.0 <= now.0);
                if expired {
                    return Err(ApiError::invalid_request(format!(
                        "The promotion code `{code}` has expired"
                    )));
                }
                Ok(Self::Code(known.id))
            }
        }
    }

    /// The checkout session's parameters.
    pub fn apply(&self, form: Form) -> Form {
        match self {
            Self::None => form,
            Self::CodeField => form.field("allow_promotion_codes", "true"),
            Self::Code(id) => form.field("discounts[0][promotion_code]", id),
        }
    }

    /// What tells two checkouts apart (their idempotency keys, a reusable open session).
    pub fn fingerprint(&self) -> String {
        match self {
            Self::None => String::new(),
            Self::CodeField => "field".to_owned(),
            Self::Code(id) => id.clone(),
        }
    }
}

fn unknown_code(code: &str) -> ApiError {
    ApiError::invalid_request(format!("`{code}` is not an active promotion code of this project"))
}

#[cfg(test)]
mod tests {
    #[test]
    fn percents_are_sent_as_stripe_writes_them() {
        for (hundredths, text) in [
            (2000, "20"),
            (1250, "12.5"),
            (1, "0.01"),
            (10_000, "100"),
            (333, "3.33"),
        ] {
            assert_eq!(super::percent_text(hundredths), text);
        }
    }
}
