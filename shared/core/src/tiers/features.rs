//! What a tier grants besides its meters: boolean features (`sso`, `priority_support`) a
//! developer's app checks with `POST /api/check`, and the free trial its checkout starts.

use std::fmt;

use serde::{Deserialize, Serialize};

/// Boolean features per tier.
pub const MAX_FEATURE_KEYS: usize = 30;
/// Stripe's own bound on `trial_period_days`.
pub const MAX_TRIAL_DAYS: u16 = 730;

/// A boolean feature's name, a lowercase slug like a meter's: one namespace with the meters, so
/// `POST /api/check {feature}` names either unambiguously.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema), schema(value_type = String, example = "sso"))]
pub struct FeatureKey(String);

impl FeatureKey {
    pub fn parse(raw: &str) -> Result<Self, String> {
        super::meters::parse_key(raw, "feature").map(Self)
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for FeatureKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl TryFrom<String> for FeatureKey {
    type Error = String;
    fn try_from(raw: String) -> Result<Self, String> {
        Self::parse(&raw)
    }
}

impl From<FeatureKey> for String {
    fn from(key: FeatureKey) -> Self {
        key.0
    }
}

/// A tier's free trial: Stripe's `trial_period_days` on the subscription its checkout makes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Trial {
    /// 1-730 days.
    pub days: u16,
    /// `false`: the customer may start the trial without a card (Stripe's
    /// `payment_method_collection=if_required`); the subscription is canceled when the trial
    /// ends without one. Default `true`.
    #[serde(default = "card_required_by_default")]
    pub card_required: bool,
}

fn card_required_by_default() -> bool {
    true
}

impl Trial {
    pub fn check(&self) -> Result<(), String> {
        if (1..=MAX_TRIAL_DAYS).contains(&self.days) {
            Ok(())
        } else {
            Err(format!("must be 1-{MAX_TRIAL_DAYS} days"))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn feature_keys_are_slugs_starting_with_a_letter() {
        for ok in ["sso", "priority_support", "api-v2", "a"] {
            assert!(FeatureKey::parse(ok).is_ok(), "{ok}");
        }
        for bad in ["", "SSO", "9lives", "_x", "a b", &"a".repeat(41)] {
            assert!(FeatureKey::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn a_trial_needs_a_card_unless_told_otherwise_and_lasts_1_to_730_days() {
        let trial: Trial = serde_json::from_str(r#"{"days": 14}"#).unwrap();
        assert!(trial.card_required && trial.check().is_ok());
        let cardless: Trial = serde_json::from_str(r#"{"days": 7, "cardRequired": false}"#).unwrap();
        assert!(!cardless.card_required);
        for days in [0, 731] {
            assert!(
                Trial {
                    days,
                    card_required: true
                }
                .check()
                .is_err()
            );
        }
        assert!(serde_json::from_str::<Trial>(r#"{"days": 7, "card": true}"#).is_err());
    }
}
