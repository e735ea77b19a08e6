//! Projects (`api_keys`) and their tiers: the lookups behind authentication.

use serde::Deserialize;

use super::{Database, PlatformScope, Project, ProjectScope, SqlParam, audit::AuditEntry};
use dream_core::{
    api::ProjectSettings,
    error::{ApiError, ApiResult, Cause, ErrorCode},
    keys::{KeyPair, PublishableKey, SecretKeyHash},
    mode::{Mode, ProjectType},
    money::{Cents, Currency},
    period::Timestamp,
    tiers::{
        PlanHeader, ProjectConfig, Tier, TierName, UsageLimit,
        features::Trial,
        input::MAX_TIERS,
        tax::{TaxBehavior, TaxSettings},
    },
    usage::layout::CounterLayout,
};

/// Units of product `?2` of project `?1` held by live checkouts at time `?15` (UPDATE_TIER's
/// parameters; SELECT_HELD_UNITS binds the same positions).
macro_rules! held_units {
    () => {
        "(SELECT COALESCE(SUM(i.quantity), 0) FROM order_items i JOIN orders o ON o.orderId = i.orderId \
         WHERE i.publishableKey = ?1 AND i.tierName = ?2 AND o.status IN ('reserving', 'open') AND o.expiresAt > ?15)"
    };
}

/// The current key, or the one it replaced while its grace period lasts. ?1 hash, ?2 now.
pub const FIND_ACTIVE_KEY_BY_HASH: &str = "\
SELECT publishableKey FROM api_keys WHERE secretKeyHash = ?1 AND status = 'active'
UNION ALL
SELECT publishableKey FROM api_keys
WHERE previousSecretKeyHash = ?1 AND previousKeyExpiresAt > ?2 AND status = 'active'
LIMIT 1";

/// The project and its developer's plan (a lapsed plan pauses live keys).
pub const SELECT_ACTIVE_PROJECT: &str = "\
SELECT k.platformId, k.projectType, k.name, k.usageCounterLayout, k.planHeader, k.usageInD1Before, k.maxCartUnits,
       k.automaticTax, k.taxBehavior, k.currency, p.plan, p.planEndedAt
FROM api_keys k JOIN platforms p ON p.platformId = k.platformId
WHERE k.publishableKey = ?1 AND k.status = 'active'";

/// An operator's view of a project's usage counters, and the keys whose cache a change evicts.
pub const SELECT_COUNTER_LAYOUT: &str = "\
SELECT usageCounterLayout, secretKeyHash, previousSecretKeyHash, platformId FROM api_keys WHERE publishableKey = ?1";

/// Sets the layout if it is still what was read (?3, NULL-safe), and a layout for every period
/// (?5 = 1) only while D1 holds no count of the project. ?1 publishableKey, ?2 layout, ?4 now.
pub const UPDATE_COUNTER_LAYOUT: &str = "\
UPDATE api_keys SET usageCounterLayout = ?2, updatedAt = ?4
WHERE publishableKey = ?1 AND usageCounterLayout IS ?3
  AND (?5 = 0 OR NOT EXISTS (SELECT 1 FROM usage_counts WHERE publishableKey = ?1))
RETURNING publishableKey";

pub const SELECT_TIERS: &str = "SELECT name, displayName, priceCents, currency, \"limit\", priceId, productId, \
     features, popular, inventory, soldOut, meters, spendCapCents, entitlements, trialDays, trialCardRequired, \
     taxBehavior FROM tiers WHERE publishableKey = ?1 ORDER BY priceCents, name";

/// A project, if its developer's connected Stripe account is `?2`: what lets an event from a
/// connected account touch the project its metadata names.
pub const SELECT_PROJECT_ON_ACCOUNT: &str = "\
SELECT k.platformId, k.projectType, k.name FROM api_keys k JOIN stripe_tokens t ON t.platformId = k.platformId
WHERE k.publishableKey = ?1 AND t.stripeUserId = ?2 AND k.status = 'active'";

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
    #[serde(default)]
    usage_counter_layout: Option<String>,
    #[serde(default)]
    plan_header: Option<String>,
    #[serde(default)]
    usage_in_d1_before: Option<String>,
    #[serde(default)]
    max_cart_units: Option<u32>,
    #[serde(default)]
    automatic_tax: i64,
    #[serde(default)]
    tax_behavior: Option<String>,
    #[serde(default)]
    currency: Option<String>,
    #[serde(default)]
    plan: Option<String>,
    #[serde(default)]
    plan_ended_at: Option<String>,
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
    meters: Option<String>,
    spend_cap_cents: Option<i64>,
    entitlements: Option<String>,
    trial_days: Option<u16>,
    trial_card_required: i64,
    tax_behavior: Option<String>,
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
            meters: match &self.meters {
                Some(json) => serde_json::from_str(json).map_err(|_| corrupt("meters"))?,
                None => Vec::new(),
            },
            spend_cap: match self.spend_cap_cents {
                Some(cents) => Some(Cents::new(cents).map_err(|_| corrupt("spendCapCents"))?),
                None => None,
            },
            entitlements: match &self.entitlements {
                Some(json) => serde_json::from_str(json).map_err(|_| corrupt("entitlements"))?,
                None => Vec::new(),
            },
            trial: self.trial_days.map(|days| Trial {
                days,
                card_required: self.trial_card_required != 0,
            }),
            tax_behavior: match self.tax_behavior.as_deref() {
                Some(text) => Some(TaxBehavior::parse(text).ok_or_else(|| corrupt("taxBehavior"))?),
                None => None,
            },
        })
    }
}

impl Database {
    /// The hashes of the project's secret keys that still work (`SELECT_WIDGET_KEYS`).
    pub(crate) async fn working_secret_hashes(
        &self,
        key: &PublishableKey,
        now: Timestamp,
    ) -> ApiResult<Vec<SecretKeyHash>> {
        let row: Option<KeyHashesRow> = self
            .first(SELECT_WIDGET_KEYS, &[key.as_str().into(), now.to_rfc3339().into()])
            .await?;
        Ok(row.map(KeyHashesRow::hashes).unwrap_or_default())
    }

    /// The project an active secret key belongs to. Authentication only.
    pub(crate) async fn find_active_key(
        &self,
        hash: &SecretKeyHash,
        now: Timestamp,
    ) -> ApiResult<Option<PublishableKey>> {
        let row: Option<KeyRow> = self
            .first(
                FIND_ACTIVE_KEY_BY_HASH,
                &[hash.as_str().into(), now.to_rfc3339().into()],
            )
            .await?;
        row.map(|r| {
            PublishableKey::parse(&r.publishable_key).map_err(|e| ApiError::internal(format!("stored key: {e}")))
        })
        .transpose()
    }

    /// The project `key` if it belongs to the developer whose connected account is `account`.
    pub(crate) async fn project_on_account(&self, key: &PublishableKey, account: &str) -> ApiResult<Option<Project>> {
        let row: Option<ProjectRow> = self
            .first(SELECT_PROJECT_ON_ACCOUNT, &[key.as_str().into(), account.into()])
            .await?;
        row.map(|r| {
            Ok(Project {
                publishable_key: key.clone(),
                platform_id: r.platform_id,
                project_type: ProjectType::parse(&r.project_type)
                    .ok_or_else(|| ApiError::internal("api_keys row: invalid projectType"))?,
            })
        })
        .transpose()
    }

    /// Everything api-multi needs about an active project, or `None` if it is unknown or revoked.
    /// Crate-private: callers get it through an authenticated scope.
    pub(crate) async fn load_project_config(&self, key: &PublishableKey) -> ApiResult<Option<ProjectConfig>> {
        let pk = SqlParam::from(key.as_str());
        let project: Option<ProjectRow> = self.first(SELECT_ACTIVE_PROJECT, std::slice::from_ref(&pk)).await?;
        let Some(project) = project else {
            return Ok(None);
        };
        let rows: Vec<TierRow> = self.all(SELECT_TIERS, &[pk]).await?;
        Ok(Some(ProjectConfig {
            publishable_key: key.clone(),
            platform_id: project.platform_id,
            project_type: ProjectType::parse(&project.project_type)
                .ok_or_else(|| ApiError::internal("api_keys row: invalid projectType"))?,
            live_keys_pause_at: dream_core::developer_plan::live_keys_pause_at(
                project.plan.as_deref().unwrap_or("free"),
                project.plan_ended_at.as_deref(),
            )
            .map(|t| t.to_rfc3339()),
            counter_layout: CounterLayout::from_column(project.usage_counter_layout.as_deref())?,
            usage_in_d1_before: match project.usage_in_d1_before.as_deref() {
                None => None,
                Some(text) => Some(
                    Timestamp::parse_rfc3339(text)
                        .ok_or_else(|| ApiError::internal("api_keys row: invalid usageInD1Before"))?,
                ),
            },
            plan_header: project
                .plan_header
                .as_deref()
                .and_then(PlanHeader::parse)
                .unwrap_or_default(),
            max_cart_units: project.max_cart_units,
            tax: tax_settings(project.automatic_tax, project.tax_behavior.as_deref()),
            currency: currency_of(project.currency.as_deref())?,
            name: project.name,
            tiers: rows.into_iter().map(TierRow::into_tier).collect::<ApiResult<_>>()?,
        }))
    }

    /// A project's usage counter layout and its key hashes (current, and previous during a
    /// rotation's grace), for an operator; `None` if there is no such project.
    pub(crate) async fn counter_layout(&self, key: &PublishableKey) -> ApiResult<Option<StoredLayout>> {
        #[derive(Deserialize)]
        #[serde(rename_all = "camelCase")]
        struct Row {
            usage_counter_layout: Option<String>,
            secret_key_hash: String,
            previous_secret_key_hash: Option<String>,
            platform_id: String,
        }
        let row: Option<Row> = self.first(SELECT_COUNTER_LAYOUT, &[key.as_str().into()]).await?;
        row.map(|r| {
            Ok(StoredLayout {
                layout: CounterLayout::from_column(r.usage_counter_layout.as_deref())?,
                column: r.usage_counter_layout,
                platform_id: r.platform_id,
                key_hashes: std::iter::once(r.secret_key_hash)
                    .chain(r.previous_secret_key_hash)
                    .map(SecretKeyHash::from_stored)
                    .collect(),
            })
        })
        .transpose()
    }

    /// Replaces `stored` by `layout`; false if the row changed since it was read, or if
    /// `every_period` and the project has counted already.
    pub(crate) async fn set_counter_layout(
        &self,
        key: &PublishableKey,
        stored: &StoredLayout,
        layout: &CounterLayout,
        every_period: bool,
        audit: &AuditEntry,
        now: Timestamp,
    ) -> ApiResult<bool> {
        let rows: Vec<KeyRow> = self
            .run_audited(
                UPDATE_COUNTER_LAYOUT,
                &[
                    key.as_str().into(),
                    layout.to_column().into(),
                    stored.column.as_deref().into(),
                    now.to_rfc3339().into(),
                    i64::from(every_period).into(),
                ],
                Some(audit),
            )
            .await?
            .rows()?;
        Ok(!rows.is_empty())
    }
}

/// A key set's secret key hash and, while it works, the previous one.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct KeyHashesRow {
    secret_key_hash: String,
    previous_secret_key_hash: Option<String>,
}

impl KeyHashesRow {
    /// Current first.
    fn hashes(self) -> Vec<SecretKeyHash> {
        std::iter::once(self.secret_key_hash)
            .chain(self.previous_secret_key_hash)
            .map(SecretKeyHash::from_stored)
            .collect()
    }
}

/// What `counter_layout` read.
pub struct StoredLayout {
    pub layout: CounterLayout,
    column: Option<String>,
    /// Whose project it is (the audit log's).
    pub platform_id: String,
    pub key_hashes: Vec<SecretKeyHash>,
}

// ---- the developer's side: listing, creating and editing projects ---------------------------

pub const SELECT_PLATFORM_PROJECTS: &str = "\
SELECT k.projectId, k.name, k.projectType, k.mode, k.publishableKey, k.status, k.createdAt,
       k.previousKeyExpiresAt,
       (SELECT COUNT(*) FROM tiers t WHERE t.publishableKey = k.publishableKey) AS tierCount
FROM api_keys k WHERE k.platformId = ?1 ORDER BY k.createdAt, k.projectId, k.mode";

pub const SELECT_OWNED_PROJECT: &str = "\
SELECT publishableKey, projectId, projectType, mode, name, status, secretKeyHash, previousSecretKeyHash, planHeader,
       maxCartUnits, automaticTax, taxBehavior, currency
FROM api_keys WHERE publishableKey = ?1 AND platformId = ?2";

pub const SELECT_PROJECT_KEY_SETS: &str =
    "SELECT publishableKey, mode FROM api_keys WHERE projectId = ?1 AND platformId = ?2";

/// Inserts a key set, unless it would be a new project of a developer who has `?9` already
/// (checked by the statement itself, so concurrent creations cannot pass the bound; a key set
/// of an existing project, its live keys, always may). ?10 currency, ?11 automaticTax,
/// ?12 taxBehavior: a live key set's are its test one's.
pub const INSERT_API_KEY: &str = "\
INSERT INTO api_keys (publishableKey, platformId, projectId, projectType, mode, name, secretKeyHash, status, createdAt, updatedAt,
  currency, automaticTax, taxBehavior)
SELECT ?1, ?2, ?3, ?4, ?5, ?6, ?7, 'active', ?8, ?8, ?10, ?11, ?12
WHERE EXISTS (SELECT 1 FROM api_keys WHERE platformId = ?2 AND projectId = ?3)
   OR (SELECT COUNT(DISTINCT projectId) FROM api_keys WHERE platformId = ?2) < ?9";

/// How many projects the developer has. ?1 platformId.
pub const SELECT_PROJECT_COUNT: &str =
    "SELECT COUNT(DISTINCT projectId) AS projects FROM api_keys WHERE platformId = ?1";

pub const INSERT_TIER: &str = "\
INSERT INTO tiers (publishableKey, name, platformId, projectType, mode, displayName, priceCents, currency, \"limit\",
                   priceId, productId, features, popular, inventory, soldOut, createdAt, updatedAt, meters, spendCapCents,
                   entitlements, trialDays, trialCardRequired, taxBehavior)
VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?22, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?15, ?16, ?17, ?18, ?19, ?20, ?21)";

/// Subscriptions Stripe may still charge: every status but the two that have ended.
macro_rules! not_ended {
    () => {
        "status NOT IN ('canceled', 'incomplete_expired')"
    };
}

/// Same parameters as `INSERT_TIER` (one builder for both), then ?23: 1 to leave the stock (and
/// its sold-out flag) as sales have left it, which an edit that sends no stock does: its form may
/// predate a sale, whose sold units must not come back. The identity columns must match.
/// A Store product's inventory cannot be set below the units open checkouts hold: those buyers
/// may pay any second, and their stock must still be there. A tier made free must have no
/// subscriber Stripe may still charge.
pub const UPDATE_TIER: &str = concat!(
    "UPDATE tiers SET displayName = ?6, priceCents = ?7, \"limit\" = ?8, priceId = ?9, productId = ?10, features = ?11,\n",
    "                 meters = ?16, spendCapCents = ?17, entitlements = ?18, trialDays = ?19, trialCardRequired = ?20,\n",
    "                 taxBehavior = ?21, currency = ?22,\n",
    "                 popular = ?12, inventory = CASE WHEN ?23 = 1 THEN inventory ELSE ?13 END,\n",
    "                 soldOut = CASE WHEN ?23 = 1 THEN soldOut ELSE ?14 END, updatedAt = ?15\n",
    "WHERE publishableKey = ?1 AND name = ?2 AND platformId = ?3 AND projectType = ?4 AND mode = ?5\n",
    "  AND (?23 = 1 OR ?13 IS NULL OR ?13 >= ",
    held_units!(),
    ")\n",
    // A paid tier made free has no Stripe price: its subscribers would keep paying the old one.
    // Checked here, not only before, so a checkout completed meanwhile cannot slip past.
    "  AND (?7 > 0 OR priceCents = 0 OR NOT EXISTS (SELECT 1 FROM subscriptions WHERE publishableKey = ?1 AND plan = ?2 AND ",
    not_ended!(),
    "))"
);

/// Units of product ?2 of project ?1 held by open checkouts at ?3 (see migration 0005).
pub const SELECT_HELD_UNITS: &str = concat!("SELECT ", held_units!(), " AS held");

/// The secret keys a usage widget token of project ?1 may have been minted by: the current
/// one, and the previous one while its grace period lasts (?2 now).
pub const SELECT_WIDGET_KEYS: &str = "\
SELECT secretKeyHash, CASE WHEN previousKeyExpiresAt > ?2 THEN previousSecretKeyHash END AS previousSecretKeyHash
FROM api_keys WHERE publishableKey = ?1 AND status = 'active'";

pub const SELECT_SECRET_HASH: &str =
    "SELECT secretKeyHash, previousSecretKeyHash FROM api_keys WHERE publishableKey = ?1";

/// Adds a tier to an existing project only while it has fewer than ?23 tiers; the count is
/// checked by the statement itself, so concurrent adds cannot pass the limit together.
/// Parameters of `INSERT_TIER`, then ?23 the most tiers a project may have.
pub const ADD_TIER: &str = "\
INSERT INTO tiers (publishableKey, name, platformId, projectType, mode, displayName, priceCents, currency, \"limit\",
                   priceId, productId, features, popular, inventory, soldOut, createdAt, updatedAt, meters, spendCapCents,
                   entitlements, trialDays, trialCardRequired, taxBehavior)
SELECT ?1, ?2, ?3, ?4, ?5, ?6, ?7, ?22, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?15, ?16, ?17, ?18, ?19, ?20, ?21
WHERE (SELECT COUNT(*) FROM tiers WHERE publishableKey = ?1) < ?23";

/// Deletes a tier unless it is the project's last, or customers still subscribe to it (they
/// would keep being charged for a tier that no longer exists): checked by the statement
/// itself, so two concurrent deletes cannot leave a project with none.
pub const DELETE_TIER: &str = concat!(
    "DELETE FROM tiers WHERE publishableKey = ?1 AND name = ?2 AND (SELECT COUNT(*) FROM tiers WHERE publishableKey = ?1) > 1\n",
    "  AND NOT EXISTS (SELECT 1 FROM subscriptions WHERE publishableKey = ?1 AND plan = ?2 AND ",
    not_ended!(),
    ")"
);

/// How many subscriptions of tier ?2 Stripe may still charge. ?1 publishableKey.
pub const SELECT_TIER_SUBSCRIBERS: &str = concat!(
    "SELECT COUNT(*) AS subscribers FROM subscriptions WHERE publishableKey = ?1 AND plan = ?2 AND ",
    not_ended!()
);

/// Replaces the secret only if it is still the one we read (a concurrent rotation loses). With
/// a grace period (?5, its end), the replaced key becomes the previous one; without, none is
/// kept. Either way an older previous key stops at once.
pub const ROTATE_SECRET: &str = "\
UPDATE api_keys SET secretKeyHash = ?3, updatedAt = ?4,
  previousSecretKeyHash = CASE WHEN ?5 IS NULL THEN NULL ELSE secretKeyHash END, previousKeyExpiresAt = ?5
WHERE publishableKey = ?1 AND secretKeyHash = ?2 AND status = 'active'";

/// The project's settings: ?2 planHeader (NULL: unchanged), ?4 maxCartUnits when ?3 is 1 (NULL:
/// the platform's bound), ?6 automaticTax and ?7 taxBehavior (NULL: unchanged).
/// ?1 publishableKey, ?5 now.
pub const SET_PROJECT_SETTINGS: &str = "\
UPDATE api_keys SET planHeader = COALESCE(?2, planHeader),
  maxCartUnits = CASE WHEN ?3 = 1 THEN ?4 ELSE maxCartUnits END,
  automaticTax = COALESCE(?6, automaticTax), taxBehavior = COALESCE(?7, taxBehavior), updatedAt = ?5
WHERE publishableKey = ?1 AND status = 'active'";

/// Ends the grace period of previous key ?3 now, if it is still in one (and still the previous
/// key: a rotation meanwhile changes nothing): it stops at once, and `previousKeyExpiresAt` says
/// when it stopped. ?1 publishableKey, ?2 now, ?3 the previous key's hash.
pub const EXPIRE_PREVIOUS_KEY: &str = "\
UPDATE api_keys SET previousSecretKeyHash = NULL, previousKeyExpiresAt = ?2, updatedAt = ?2
WHERE publishableKey = ?1 AND previousSecretKeyHash = ?3 AND previousKeyExpiresAt > ?2 AND status = 'active'";

/// One row of the dashboard's project list.
#[derive(Debug, Clone, Deserialize, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub struct KeySetSummary {
    pub project_id: String,
    pub name: String,
    pub project_type: String,
    pub mode: String,
    pub publishable_key: String,
    pub status: String,
    pub created_at: String,
    /// Until when the secret key replaced by the last rotation still works (may be past).
    pub previous_key_expires_at: Option<String>,
    pub tier_count: i64,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
struct OwnedRow {
    publishable_key: String,
    project_id: String,
    project_type: String,
    mode: String,
    name: String,
    status: String,
    secret_key_hash: String,
    previous_secret_key_hash: Option<String>,
    #[serde(default)]
    plan_header: Option<String>,
    #[serde(default)]
    max_cart_units: Option<u32>,
    #[serde(default)]
    automatic_tax: i64,
    #[serde(default)]
    tax_behavior: Option<String>,
    #[serde(default)]
    currency: Option<String>,
}

/// The tax settings of an `api_keys` row.
fn tax_settings(automatic_tax: i64, tax_behavior: Option<&str>) -> TaxSettings {
    TaxSettings {
        automatic_tax: automatic_tax != 0,
        tax_behavior: tax_behavior.and_then(TaxBehavior::parse).unwrap_or_default(),
    }
}

/// The currency of an `api_keys` row (rows from before currencies are in dollars).
fn currency_of(code: Option<&str>) -> ApiResult<Currency> {
    code.map_or(Ok(Currency::USD), |code| {
        Currency::parse(code).map_err(|_| ApiError::internal(format!("api_keys row: invalid currency `{code}`")))
    })
}

/// A project of the developer's platform, with what the dashboard routes need to edit it.
pub struct OwnedProject {
    pub scope: ProjectScope,
    pub project_id: String,
    pub name: String,
    pub mode: Mode,
    /// For evicting api-multi's auth cache after an edit or rotation.
    pub secret_key_hash: SecretKeyHash,
    /// The key the last rotation replaced, which may still be in its grace period (and cached).
    pub previous_secret_key_hash: Option<SecretKeyHash>,
    pub plan_header: PlanHeader,
    pub max_cart_units: Option<u32>,
    pub tax: TaxSettings,
    pub currency: Currency,
}

/// A new key set with its tiers, ready to insert in one transaction.
pub struct NewKeySet<'a> {
    pub project_id: &'a str,
    pub name: &'a str,
    pub project_type: ProjectType,
    pub currency: Currency,
    pub tax: TaxSettings,
    pub keys: &'a KeyPair,
    pub tiers: &'a [Tier],
}

fn tier_params(pk: &str, platform_id: &str, kind: ProjectType, mode: Mode, tier: &Tier, now: &str) -> Vec<SqlParam> {
    vec![
        pk.into(),
        tier.name.as_str().into(),
        platform_id.into(),
        kind.as_str().into(),
        mode.as_str().into(),
        tier.display_name.as_str().into(),
        tier.price.get().into(),
        tier.limit.as_sql().into(),
        tier.price_id.as_deref().into(),
        tier.product_id.as_deref().into(),
        tier.features.to_string().into(),
        i64::from(tier.popular).into(),
        tier.inventory.into(),
        i64::from(tier.sold_out).into(),
        now.into(),
        (!tier.meters.is_empty())
            .then(|| serde_json::to_string(&tier.meters).unwrap_or_default())
            .into(),
        tier.spend_cap.map(dream_core::money::Cents::get).into(),
        (!tier.entitlements.is_empty())
            .then(|| serde_json::to_string(&tier.entitlements).unwrap_or_default())
            .into(),
        tier.trial.map(|t| i64::from(t.days)).into(),
        i64::from(tier.trial.is_none_or(|t| t.card_required)).into(),
        tier.tax_behavior.map(TaxBehavior::as_str).into(),
        tier.currency.as_str().into(),
    ]
}

impl PlatformScope {
    pub async fn key_sets(&self) -> ApiResult<Vec<KeySetSummary>> {
        self.db
            .all(SELECT_PLATFORM_PROJECTS, &[self.platform.platform_id.as_str().into()])
            .await
    }

    /// One of this platform's projects. Anything else, including malformed keys and other
    /// developers' projects, is the same 404.
    pub async fn project(&self, publishable_key: &str) -> ApiResult<OwnedProject> {
        let not_found = || ApiError::not_found("No such project");
        let key = PublishableKey::parse(publishable_key).map_err(|_| not_found())?;
        let row: OwnedRow = self
            .db
            .first(
                SELECT_OWNED_PROJECT,
                &[key.as_str().into(), self.platform.platform_id.as_str().into()],
            )
            .await?
            .ok_or_else(not_found)?;
        if row.status != "active" {
            return Err(not_found());
        }
        let corrupt = |what: &str| ApiError::internal(format!("api_keys row {}: invalid {what}", row.publishable_key));
        let project = Project {
            publishable_key: key,
            platform_id: self.platform.platform_id.clone(),
            project_type: ProjectType::parse(&row.project_type).ok_or_else(|| corrupt("projectType"))?,
        };
        Ok(OwnedProject {
            scope: ProjectScope::new(self.db.clone(), project),
            project_id: row.project_id,
            name: row.name,
            mode: Mode::parse(&row.mode).ok_or_else(|| corrupt("mode"))?,
            secret_key_hash: SecretKeyHash::from_stored(row.secret_key_hash),
            previous_secret_key_hash: row.previous_secret_key_hash.map(SecretKeyHash::from_stored),
            plan_header: row
                .plan_header
                .as_deref()
                .and_then(PlanHeader::parse)
                .unwrap_or_default(),
            max_cart_units: row.max_cart_units,
            tax: tax_settings(row.automatic_tax, row.tax_behavior.as_deref()),
            currency: currency_of(row.currency.as_deref())?,
        })
    }

    /// The modes this project already has key sets for.
    pub async fn project_modes(&self, project_id: &str) -> ApiResult<Vec<Mode>> {
        #[derive(Deserialize)]
        struct Row {
            mode: String,
        }
        let rows: Vec<Row> = self
            .db
            .all(
                SELECT_PROJECT_KEY_SETS,
                &[project_id.into(), self.platform.platform_id.as_str().into()],
            )
            .await?;
        Ok(rows.iter().filter_map(|r| Mode::parse(&r.mode)).collect())
    }

    /// Inserts a key set and its tiers atomically. A second key set for the same project and
    /// mode violates `UNIQUE (projectId, mode)` and is reported as a conflict.
    pub async fn insert_key_set(&self, new: &NewKeySet<'_>, audit: &AuditEntry, now: Timestamp) -> ApiResult<()> {
        let pk = new.keys.publishable.as_str();
        let mode = new.keys.publishable.mode();
        let now = now.to_rfc3339();
        let platform_id = self.platform.platform_id.as_str();
        let mut statements = vec![(
            INSERT_API_KEY,
            vec![
                pk.into(),
                platform_id.into(),
                new.project_id.into(),
                new.project_type.as_str().into(),
                mode.as_str().into(),
                new.name.into(),
                new.keys.secret.hash().as_str().into(),
                now.as_str().into(),
                MAX_PROJECTS.into(),
                new.currency.code().into(),
                i64::from(new.tax.automatic_tax).into(),
                new.tax.tax_behavior.as_str().into(),
            ],
        )];
        statements.push(audit.statement_if_changed());
        for tier in new.tiers {
            statements.push((
                INSERT_TIER,
                tier_params(pk, platform_id, new.project_type, mode, tier, &now),
            ));
        }
        let results = self.db.batch(&statements).await.map_err(|e| match e.cause() {
            Some(Cause::Unique(_)) => ApiError::conflict(format!("This project already has {mode} keys")),
            // The key set was not inserted (the bound), so its tiers had nothing to refer to.
            Some(Cause::ForeignKey) => projects_quota(),
            _ => e.context("creating key set"),
        })?;
        match results.first().map(super::Executed::changes) {
            Some(0) => Err(projects_quota()),
            _ => Ok(()),
        }
    }

    /// The developer's projects, against `MAX_PROJECTS`, before anything is made for a new one.
    pub async fn require_room_for_a_project(&self) -> ApiResult<()> {
        #[derive(Deserialize)]
        struct Count {
            projects: i64,
        }
        let row: Option<Count> = self
            .db
            .first(SELECT_PROJECT_COUNT, &[self.platform.platform_id.as_str().into()])
            .await?;
        if row.map_or(0, |r| r.projects) >= MAX_PROJECTS {
            return Err(projects_quota());
        }
        Ok(())
    }
}

impl ProjectScope {
    pub async fn tiers(&self) -> ApiResult<Vec<Tier>> {
        let rows: Vec<TierRow> = self.db.all(SELECT_TIERS, &[self.pk()]).await?;
        rows.into_iter().map(TierRow::into_tier).collect()
    }

    pub async fn insert_tier(&self, mode: Mode, tier: &Tier, audit: &AuditEntry, now: Timestamp) -> ApiResult<()> {
        let p = &self.project;
        let params = tier_params(
            p.publishable_key.as_str(),
            &p.platform_id,
            p.project_type,
            mode,
            tier,
            &now.to_rfc3339(),
        );
        let mut params = params;
        params.push(i64::try_from(MAX_TIERS).unwrap_or(i64::MAX).into());
        let result = self.db.run_audited(ADD_TIER, &params, Some(audit)).await.map_err(|e| {
            if matches!(e.cause(), Some(Cause::Unique(_))) {
                ApiError::conflict(format!("A tier named `{}` already exists", tier.name))
            } else {
                e.context("inserting tier")
            }
        })?;
        if result.changes() == 0 {
            return Err(ApiError::conflict(format!("A project has at most {MAX_TIERS} tiers")));
        }
        Ok(())
    }

    /// Writes the tier's settings; with `keeps_stock`, its stock stays as sales have left it.
    pub async fn update_tier(
        &self,
        mode: Mode,
        tier: &Tier,
        keeps_stock: bool,
        audit: &AuditEntry,
        now: Timestamp,
    ) -> ApiResult<()> {
        let p = &self.project;
        let mut params = tier_params(
            p.publishable_key.as_str(),
            &p.platform_id,
            p.project_type,
            mode,
            tier,
            &now.to_rfc3339(),
        );
        params.push(i64::from(keeps_stock).into());
        let result = self.db.run_audited(UPDATE_TIER, &params, Some(audit)).await?;
        if result.changes() > 0 {
            return Ok(());
        }
        if tier.price.is_free() {
            let subscribers = self.tier_subscribers(&tier.name).await?;
            if subscribers > 0 {
                return Err(subscribed(&tier.name, subscribers, "making it free"));
            }
        }
        #[derive(Deserialize)]
        struct Held {
            held: i64,
        }
        // Same positions as UPDATE_TIER: ?1 key, ?2 name, ?15 now (the rest unused).
        let mut held_params = vec![SqlParam::Null; 15];
        held_params[0] = params[0].clone();
        held_params[1] = params[1].clone();
        held_params[14] = params[14].clone();
        let held = self
            .db
            .first::<Held>(SELECT_HELD_UNITS, &held_params)
            .await?
            .map_or(0, |h| h.held);
        match tier.inventory {
            Some(inventory) if !keeps_stock && inventory < held => Err(ApiError::conflict(format!(
                "{held} units of `{}` are held by open checkouts; set the inventory to at least {held} \
                 (holds end when those checkouts are paid or expire, within 40 minutes)",
                tier.name
            ))
            .with_detail("held", held)),
            _ => Err(ApiError::not_found(format!(
                "No tier named `{}` in this project (deleted meanwhile?)",
                tier.name
            ))),
        }
    }

    /// Deletes the tier; a conflict if it is the last one (or was deleted meanwhile: then
    /// there is nothing left to do either way).
    pub async fn delete_tier(&self, name: &TierName, audit: &AuditEntry) -> ApiResult<()> {
        let result = self
            .db
            .run_audited(DELETE_TIER, &[self.pk(), name.as_str().into()], Some(audit))
            .await?;
        if result.changes() == 0 {
            let subscribers = self.tier_subscribers(name).await?;
            if subscribers > 0 {
                return Err(subscribed(name, subscribers, "deleting it"));
            }
            return Err(ApiError::conflict(
                "A project keeps at least one tier; add another before deleting this one",
            ));
        }
        Ok(())
    }

    /// Subscriptions of the tier that Stripe may still charge.
    pub async fn tier_subscribers(&self, name: &TierName) -> ApiResult<i64> {
        #[derive(Deserialize)]
        struct Count {
            subscribers: i64,
        }
        let row: Option<Count> = self
            .db
            .first(SELECT_TIER_SUBSCRIBERS, &[self.pk(), name.as_str().into()])
            .await?;
        Ok(row.map_or(0, |r| r.subscribers))
    }

    /// The hashes of the project's secret keys as they are now, current first, then the one in
    /// its grace period, if any (for cache eviction after edits).
    pub async fn current_secret_hashes(&self) -> ApiResult<Vec<SecretKeyHash>> {
        let row: Option<KeyHashesRow> = self.db.first(SELECT_SECRET_HASH, &[self.pk()]).await?;
        Ok(row.map(KeyHashesRow::hashes).unwrap_or_default())
    }

    /// Swaps the secret key's hash. False if another rotation got there first.
    /// `grace_until`: the old key keeps working until then; `None` stops it at once.
    pub async fn rotate_secret(
        &self,
        old: &SecretKeyHash,
        new: &SecretKeyHash,
        grace_until: Option<Timestamp>,
        event: &dream_core::webhooks::Event,
        audit: &AuditEntry,
        now: Timestamp,
    ) -> ApiResult<(bool, bool)> {
        let mut statements = vec![(
            ROTATE_SECRET,
            vec![
                self.pk(),
                old.as_str().into(),
                new.as_str().into(),
                now.to_rfc3339().into(),
                grace_until.map(|t| t.to_rfc3339()).into(),
            ],
        )];
        // Recorded only if the rotation happened; the event follows the entry's own change.
        statements.push(audit.statement_if_changed());
        let queue = super::webhooks::push_event(&mut statements, event, super::webhooks::Emit::IfChanged, now);
        let results = self.db.batch(&statements).await?;
        let rotated = results.first().is_some_and(|r| r.changes() == 1);
        Ok((rotated, super::webhooks::queued(&results, &[queue])))
    }

    /// Changes the settings given (`None`: unchanged; `max_cart_units: Some(None)`: the
    /// platform's bound again).
    pub async fn save_settings(&self, change: &ProjectSettings, audit: &AuditEntry, now: Timestamp) -> ApiResult<()> {
        self.db
            .run_audited(
                SET_PROJECT_SETTINGS,
                &[
                    self.pk(),
                    change.plan_header.map(PlanHeader::as_str).into(),
                    i64::from(change.max_cart_units.is_some()).into(),
                    change.max_cart_units.flatten().map(i64::from).into(),
                    now.to_rfc3339().into(),
                    change.automatic_tax.map(i64::from).into(),
                    change.tax_behavior.map(TaxBehavior::as_str).into(),
                ],
                Some(audit),
            )
            .await?;
        Ok(())
    }

    /// Stops previous secret key `previous` now; false if it was not in its grace period.
    pub async fn expire_previous_key(
        &self,
        previous: &SecretKeyHash,
        audit: &AuditEntry,
        now: Timestamp,
    ) -> ApiResult<bool> {
        let result = self
            .db
            .run_audited(
                EXPIRE_PREVIOUS_KEY,
                &[self.pk(), now.to_rfc3339().into(), previous.as_str().into()],
                Some(audit),
            )
            .await?;
        Ok(result.changes() == 1)
    }
}

/// A change refused because customers pay for the tier: they must be moved first.
pub fn subscribed(name: &TierName, subscribers: i64, change: &str) -> ApiError {
    ApiError::conflict(format!(
        "{subscribers} customer(s) subscribe to `{name}`: move them to another tier (POST /api/change-plan) \
         or cancel their subscriptions before {change}"
    ))
    .with_detail("subscribers", subscribers)
}

/// Projects one developer may have, each with its test and live keys: it bounds what one
/// account adds to the shared database and to its customers' shared Clerk metadata.
pub const MAX_PROJECTS: i64 = 25;

fn projects_quota() -> ApiError {
    ApiError::new(
        ErrorCode::QuotaExceeded,
        format!(
            "A developer has at most {MAX_PROJECTS} projects (each with test and live keys); this account has them all"
        ),
    )
    .with_detail("maxProjects", MAX_PROJECTS)
}
