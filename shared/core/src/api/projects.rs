//! A developer's projects, their key sets and their image storage.

use serde::{Deserialize, Serialize};

use crate::{
    mode::{Mode, ProjectType},
    tiers::Tier,
};

/// Each developer's image storage: enough for a large catalogue, bounded against abuse.
pub const QUOTA: AssetQuota = AssetQuota {
    max_images: 200,
    max_bytes: 100 * 1024 * 1024,
};

/// A key set as returned to the developer: the only response that ever carries the secret.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct CreatedKeySet {
    pub project_id: String,
    pub name: String,
    pub project_type: ProjectType,
    pub mode: Mode,
    pub publishable_key: String,
    pub secret_key: String,
    pub tiers: Vec<Tier>,
}

impl std::fmt::Debug for CreatedKeySet {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CreatedKeySet")
            .field("project_id", &self.project_id)
            .field("mode", &self.mode)
            .field("publishable_key", &self.publishable_key)
            .finish_non_exhaustive()
    }
}

/// The dashboard's view of one project: its test and live key sets side by side.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ProjectView {
    pub project_id: String,
    pub name: String,
    pub project_type: String,
    pub test: Option<KeySetView>,
    pub live: Option<KeySetView>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct KeySetView {
    pub publishable_key: String,
    pub status: String,
    pub tier_count: i64,
    pub created_at: String,
    /// Until when the secret key replaced by the last rotation still works (may be past).
    pub previous_key_expires_at: Option<String>,
}

/// How long a rotated-away secret key keeps working: none, an hour or a day (the choices Stripe's
/// key roll offers that matter for a deploy).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum GracePeriod {
    #[default]
    #[serde(rename = "none")]
    None,
    #[serde(rename = "1h")]
    OneHour,
    #[serde(rename = "24h")]
    OneDay,
}

impl GracePeriod {
    pub fn seconds(self) -> Option<i64> {
        match self {
            Self::None => None,
            Self::OneHour => Some(3_600),
            Self::OneDay => Some(86_400),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, serde::Serialize)]
pub struct AssetUsage {
    pub images: i64,
    pub bytes: i64,
}

/// The developer's image allowance.
#[derive(Debug, Clone, Copy)]
pub struct AssetQuota {
    pub max_images: i64,
    pub max_bytes: i64,
}
