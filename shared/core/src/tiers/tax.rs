//! Sales tax: whether a project's checkouts use Stripe Tax, and whether its prices include the
//! tax or have it added (Stripe's `tax_behavior` on a price).

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum TaxBehavior {
    /// Tax is added on top of the price (usual for B2B and in the US).
    #[default]
    Exclusive,
    /// The price includes the tax (usual for consumers in the EU, the UK, Australia).
    Inclusive,
}

impl TaxBehavior {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Exclusive => "exclusive",
            Self::Inclusive => "inclusive",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        match text {
            "exclusive" => Some(Self::Exclusive),
            "inclusive" => Some(Self::Inclusive),
            _ => None,
        }
    }
}

/// A project's tax settings (`PUT /project-settings`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct TaxSettings {
    /// Stripe Tax computes and collects tax on the project's checkouts and invoices, from the
    /// customer's address (which checkout then asks for).
    pub automatic_tax: bool,
    /// Whether the project's prices include tax; its Stripe prices carry it.
    pub tax_behavior: TaxBehavior,
}
