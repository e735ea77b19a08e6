//! What a user's tier grants: `GET /api/entitlements` and `POST /api/check`. The tier is the
//! one metering resolves (the same rule, the same cached configuration): with a trusted
//! `X-User-Plan`, a boolean feature is answered from the isolate's memory alone; otherwise one
//! D1 read (the user's subscription). A meter is answered by the user's usage counter, counting
//! nothing.

use dream_core::api::entitlements::{CheckAnswer, CheckReason, Entitlements, MeterGrant};
use dream_core::{
    error::{ApiError, ApiResult},
    period::Timestamp,
    tiers::{PlanHeader, Tier},
};

use crate::{
    edge::rate_limits,
    identity::SecretKeyAuth,
    usage::{
        counters::Counters,
        metering::{Attempt, UsageHeaders, on_current_config, refused_by_config, reports, resolve},
    },
};

/// GET /api/entitlements.
pub async fn entitlements(
    auth: &SecretKeyAuth,
    counters: &Counters,
    user: &UsageHeaders,
    now: Timestamp,
) -> ApiResult<Entitlements> {
    let pk = auth.scope.project().publishable_key.as_str();
    rate_limits::refused_recently(pk, None, crate::runtime::clock::now_millis())?;
    on_current_config(auth, counters, async |auth: &SecretKeyAuth| {
        let resolved = match resolve(auth, user, now).await {
            Ok(resolved) => resolved,
            Err(e) => return refused_by_config(e),
        };
        let subscription = resolved.entitlement.as_ref().filter(|e| e.status.is_some());
        let status = subscription.and_then(|s| s.status.clone());
        Ok(Attempt::Done(Entitlements {
            success: true,
            user_id: user.user_id.clone(),
            plan: resolved.tier.name.to_string(),
            source: resolved.source,
            trial_ends_at: subscription
                .filter(|_| status.as_deref() == Some("trialing"))
                .and_then(|s| s.trial_end)
                .map(Timestamp::to_rfc3339),
            status,
            cancel_at_period_end: subscription.is_some_and(|s| s.cancel_at_period_end),
            current_period_end: subscription.and_then(|s| s.period).map(|(_, end)| end.to_rfc3339()),
            features: resolved.tier.entitlements.clone(),
            meters: resolved.tier.meters().iter().map(MeterGrant::of).collect(),
        }))
    })
    .await
}

/// What a feature name is in a project: a boolean feature, a meter, or nothing.
enum Kind {
    Feature,
    Meter,
}

fn kind_of(tiers: &[Tier], feature: &str) -> ApiResult<Kind> {
    if tiers.iter().any(|t| t.grants(feature)) {
        return Ok(Kind::Feature);
    }
    if tiers.iter().any(|t| t.meter(feature).is_some()) {
        return Ok(Kind::Meter);
    }
    let mut known: Vec<String> = tiers
        .iter()
        .flat_map(|t| {
            t.entitlements
                .iter()
                .map(ToString::to_string)
                .chain(t.meters().iter().map(|m| m.key.to_string()))
                .collect::<Vec<_>>()
        })
        .collect();
    known.sort();
    known.dedup();
    Err(ApiError::invalid_request(format!(
        "Unknown feature `{feature}`; this project's features and meters are: {}",
        known.join(", ")
    )))
}

/// POST /api/check.
pub async fn check(
    auth: &SecretKeyAuth,
    counters: &Counters,
    user: &UsageHeaders,
    feature: &str,
    now: Timestamp,
) -> ApiResult<CheckAnswer> {
    if feature.is_empty() {
        return Err(ApiError::invalid_request(
            "`feature` is required: a boolean feature or a meter of the project",
        ));
    }
    let pk = auth.scope.project().publishable_key.as_str();
    rate_limits::refused_recently(pk, None, crate::runtime::clock::now_millis())?;
    on_current_config(auth, counters, async |auth: &SecretKeyAuth| {
        let kind = match kind_of(&auth.config.tiers, feature) {
            Ok(kind) => kind,
            Err(e) => return refused_by_config(e),
        };
        // A trusted plan header names the tier: a feature needs nothing else, not even D1.
        let vouched = user
            .plan
            .as_deref()
            .filter(|_| auth.config.plan_header == PlanHeader::Trusted)
            .and_then(|plan| auth.config.tier(plan));
        if let (Kind::Feature, Some(tier)) = (&kind, vouched) {
            let allowed = tier.grants(feature);
            return Ok(Attempt::Done(CheckAnswer {
                success: true,
                allowed,
                reason: if allowed {
                    CheckReason::Granted
                } else {
                    CheckReason::NotInPlan
                },
                feature: feature.to_owned(),
                plan: tier.name.to_string(),
                usage: None,
            }));
        }
        let resolved = match resolve(auth, user, now).await {
            Ok(resolved) => resolved,
            Err(e) => return refused_by_config(e),
        };
        let answer = |allowed, reason, usage| CheckAnswer {
            success: true,
            allowed,
            reason,
            feature: feature.to_owned(),
            plan: resolved.tier.name.to_string(),
            usage,
        };
        match kind {
            Kind::Feature if resolved.tier.grants(feature) => {
                Ok(Attempt::Done(answer(true, CheckReason::Granted, None)))
            }
            Kind::Feature => Ok(Attempt::Done(answer(false, CheckReason::NotInPlan, None))),
            Kind::Meter if resolved.tier.meter(feature).is_none() => {
                Ok(Attempt::Done(answer(false, CheckReason::NotInPlan, None)))
            }
            Kind::Meter => {
                let meters = match reports(auth, counters, user, &resolved, now).await? {
                    Attempt::Done(meters) => meters,
                    Attempt::Stale(stale) => return Ok(Attempt::Stale(stale)),
                    Attempt::Refused(e) => return Ok(Attempt::Refused(e)),
                };
                let usage = meters
                    .into_iter()
                    .find(|m| m.meter == feature)
                    .ok_or_else(|| ApiError::internal("a tier's meter missing from its usage"))?;
                let (allowed, reason) = if usage.remaining.is_none_or(|left| left > 0) {
                    (true, CheckReason::WithinLimit)
                } else if usage.overage_billed && usage.spend_cap_left.is_none_or(|left| left.0 > 0) {
                    (true, CheckReason::Overage)
                } else {
                    (false, CheckReason::LimitReached)
                };
                Ok(Attempt::Done(answer(allowed, reason, Some(usage))))
            }
        }
    })
    .await
}
