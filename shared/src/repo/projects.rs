//! Projects (`api_keys`) and their tiers: the lookups behind authentication.

use serde::Deserialize;

use super::{Database, SqlParam};
use crate::{
    error::{ApiError, ApiResult},
    keys::{PublishableKey, SecretKeyHash},
    mode::ProjectType,
    money::Cents,
    tier::{ProjectConfig, Tier, TierName, UsageLimit},
};

pub const FIND_ACTIVE_KEY_BY_HASH: &str =
    "SELECT publishableKey FROM api_keys WHERE secretKeyHash = ?1 AND status = 'active'";

pub const SELECT_ACTIVE_PROJECT: &str =
    "SELECT platformId, projectType, name FROM api_keys WHERE publishableKey = ?1 AND status = 'active'";

pub const SELECT_TIERS: &str = "SELECT name, displayName, priceCents, currency, \"limit\", priceId, productId, \
     features, popular, inventory, soldOut FROM tiers WHERE publishableKey = ?1 ORDER BY priceCents, name";

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct KeyRow {
    publishable_key: String,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct ProjectRow {
    platform_id: String,
    project_type: String,
    name: String,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct TierRow {
    name: String,
    display_name: String,
    price_cents: i64,
    currency: String,
    limit: Option<i64>,
    price_id: Option<String>,
    product_id: Option<String>,
    features: String,
    popular: i64,
    inventory: Option<i64>,
    sold_out: i64,
}

impl TierRow {
    /// Rows were validated on the way in (CHECK constraints and typed inputs); a row that no
    /// longer parses is corruption, reported as an internal error rather than skipped.
    fn into_tier(self) -> ApiResult<Tier> {
        let corrupt = |what: &str| ApiError::internal(format!("tiers row `{}`: invalid {what}", self.name));
        Ok(Tier {
            name: TierName::parse(&self.name).map_err(|_| corrupt("name"))?,
            display_name: self.display_name.clone(),
            price: Cents::new(self.price_cents).map_err(|_| corrupt("priceCents"))?,
            currency: self.currency.clone(),
            limit: match self.limit {
                None => UsageLimit::UNLIMITED,
                Some(n) => UsageLimit::limited(u64::try_from(n).map_err(|_| corrupt("limit"))?),
            },
            price_id: self.price_id.clone(),
            product_id: self.product_id.clone(),
            features: serde_json::from_str(&self.features).map_err(|_| corrupt("features"))?,
            popular: self.popular != 0,
            inventory: self.inventory,
            sold_out: self.sold_out != 0,
        })
    }
}

impl Database {
    /// The project an active secret key belongs to. Authentication only.
    pub(crate) async fn find_active_key(&self, hash: &SecretKeyHash) -> ApiResult<Option<PublishableKey>> {
        let row: Option<KeyRow> = self.first(FIND_ACTIVE_KEY_BY_HASH, &[hash.as_str().into()]).await?;
        row.map(|r| {
            PublishableKey::parse(&r.publishable_key).map_err(|e| ApiError::internal(format!("stored key: {e}")))
        })
        .transpose()
    }

    /// Everything api-multi needs about an active project, or `None` if it is unknown or revoked.
    /// Crate-private: callers get it through an authenticated scope.
    pub(crate) async fn load_project_config(&self, key: &PublishableKey) -> ApiResult<Option<ProjectConfig>> {
        let pk = SqlParam::from(key.as_str());
        let project: Option<ProjectRow> = self.first(SELECT_ACTIVE_PROJECT, &[pk.clone()]).await?;
        let Some(project) = project else {
            return Ok(None);
        };
        let rows: Vec<TierRow> = self.all(SELECT_TIERS, &[pk]).await?;
        Ok(Some(ProjectConfig {
            publishable_key: key.clone(),
            platform_id: project.platform_id,
            project_type: ProjectType::parse(&project.project_type)
                .ok_or_else(|| ApiError::internal("api_keys row: invalid projectType"))?,
            name: project.name,
            tiers: rows.into_iter().map(TierRow::into_tier).collect::<ApiResult<_>>()?,
        }))
    }
}
