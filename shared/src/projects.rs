//! A developer's projects over their life: creation (Stripe products on the connected account,
//! a test key pair), tier edits that never change keys, promotion to live, and key rotation.
//! Every change that api-multi caches evicts the project's cache entry.

use serde::Serialize;
use worker::Env;

use crate::{
    cache::{self, Cache},
    catalog::{CreateProjectInput, TierDraft, TierInput, validate_tiers},
    error::{ApiError, ApiResult, ErrorCode},
    keys::{KeyPair, SecretKey, SecretKeyHash, random_id},
    mode::{Mode, ProjectType},
    period::Timestamp,
    repo::{
        PlatformScope,
        projects::{NewKeySet, OwnedProject},
    },
    stripe::{Stripe, catalog},
    tier::{Tier, TierName},
};

/// The platform's Stripe keys, one per mode (connected accounts are reached with these plus
/// the `Stripe-Account` header).
pub struct StripeModes {
    test: Stripe,
    live: Stripe,
}

impl StripeModes {
    pub fn from_env(env: &Env) -> ApiResult<Self> {
        Ok(Self {
            test: Stripe::from_env(env, "STRIPE_TEST_SECRET_KEY")?,
            live: Stripe::from_env(env, "STRIPE_LIVE_SECRET_KEY")?,
        })
    }

    pub fn for_mode(&self, mode: Mode) -> &Stripe {
        match mode {
            Mode::Test => &self.test,
            Mode::Live => &self.live,
        }
    }
}

/// A key set as returned to the developer: the only response that ever carries the secret.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
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

fn require_paid(platform: &PlatformScope) -> ApiResult<()> {
    if platform.platform().is_paid() {
        Ok(())
    } else {
        Err(ApiError::new(
            ErrorCode::Unauthorized,
            "Creating projects needs the paid plan: POST /create-checkout first",
        )
        .with_status(axum::http::StatusCode::FORBIDDEN))
    }
}

async fn require_connected(platform: &PlatformScope) -> ApiResult<String> {
    platform
        .stripe_account()
        .await?
        .ok_or_else(|| ApiError::conflict("Connect a Stripe account first (GET /authorize)"))
}

/// Drops api-multi's cached view of a key so its next request reads D1.
pub async fn evict(env: &Env, hash: &SecretKeyHash) {
    Cache::from_env(env, cache::TOKENS_KV)
        .delete(&cache::secret_key_entry(hash))
        .await;
}

/// After an edit: evicts the key read before it and, if a rotation slipped in between, the
/// key that is current now.
async fn evict_after_edit(env: &Env, project: &OwnedProject) {
    evict(env, &project.secret_key_hash).await;
    match project.scope.current_secret_hash().await {
        Ok(Some(current)) if current != project.secret_key_hash => evict(env, &current).await,
        Ok(_) => {}
        Err(e) => crate::log::error(&format!("re-reading the secret key hash for eviction: {e}")),
    }
}

/// Publishes every tier; if one fails, the ones already published are taken off sale again.
async fn publish_all(
    stripe: &Stripe,
    kind: ProjectType,
    drafts: Vec<TierDraft>,
    keys: &KeyPair,
    request_id: &str,
) -> ApiResult<Vec<Tier>> {
    let mut tiers = Vec::with_capacity(drafts.len());
    for draft in drafts {
        let key = format!("{request_id}:{}", draft.name);
        match catalog::publish_new_tier(stripe, kind, draft.into_tier(), &keys.publishable, &key).await {
            Ok(tier) => tiers.push(tier),
            Err(e) => {
                catalog::retire_all_best_effort(stripe, &tiers, request_id).await;
                return Err(e);
            }
        }
    }
    Ok(tiers)
}

/// Inserts the key set; if D1 refuses it (a concurrent promotion won), the Stripe objects
/// published for it are taken off sale so nothing purchasable is left behind.
async fn insert_or_retire(
    platform: &PlatformScope,
    stripe: &Stripe,
    new: &NewKeySet<'_>,
    now: Timestamp,
    request_id: &str,
) -> ApiResult<()> {
    let result = platform.insert_key_set(new, now).await;
    if result.is_err() {
        catalog::retire_all_best_effort(stripe, new.tiers, request_id).await;
    }
    result
}

/// POST /create-products: a new project in test mode.
pub async fn create_project(
    platform: &PlatformScope,
    stripe: &StripeModes,
    input: &CreateProjectInput,
    now: Timestamp,
    request_id: &str,
) -> ApiResult<CreatedKeySet> {
    require_paid(platform)?;
    let (name, drafts) = input.validate()?;
    let account = require_connected(platform).await?;
    let keys = KeyPair::generate(Mode::Test);
    let project_id = random_id("prj");
    let stripe = stripe.for_mode(Mode::Test).on_account(&account);
    let tiers = publish_all(&stripe, input.project_type, drafts, &keys, request_id).await?;
    let new = NewKeySet {
        project_id: &project_id,
        name: &name,
        project_type: input.project_type,
        keys: &keys,
        tiers: &tiers,
    };
    insert_or_retire(platform, &stripe, &new, now, request_id).await?;
    Ok(CreatedKeySet {
        project_id,
        name,
        project_type: input.project_type,
        mode: Mode::Test,
        publishable_key: keys.publishable.as_str().to_owned(),
        secret_key: keys.secret.expose().to_owned(),
        tiers,
    })
}

/// POST /promote-to-live: the (optionally edited) tiers become live products and a live key
/// pair; the test project is untouched. A project is promoted once.
pub async fn promote_to_live(
    platform: &PlatformScope,
    stripe: &StripeModes,
    test: &OwnedProject,
    edited: Option<&[TierInput]>,
    now: Timestamp,
    request_id: &str,
) -> ApiResult<CreatedKeySet> {
    require_paid(platform)?;
    if test.mode != Mode::Test {
        return Err(ApiError::invalid_request(
            "Promote the test project; this key is already live",
        ));
    }
    if platform.project_modes(&test.project_id).await?.contains(&Mode::Live) {
        return Err(ApiError::conflict(
            "This project already has live keys; edit the live project's tiers instead",
        ));
    }
    let kind = test.scope.project().project_type;
    let drafts = match edited {
        Some(tiers) => validate_tiers(kind, tiers)?,
        None => test.scope.tiers().await?.into_iter().map(draft_of).collect(),
    };
    let account = require_connected(platform).await?;
    let keys = KeyPair::generate(Mode::Live);
    let stripe = stripe.for_mode(Mode::Live).on_account(&account);
    let tiers = publish_all(&stripe, kind, drafts, &keys, request_id).await?;
    let new = NewKeySet {
        project_id: &test.project_id,
        name: &test.name,
        project_type: kind,
        keys: &keys,
        tiers: &tiers,
    };
    insert_or_retire(platform, &stripe, &new, now, request_id).await?;
    Ok(CreatedKeySet {
        project_id: test.project_id.clone(),
        name: test.name.clone(),
        project_type: kind,
        mode: Mode::Live,
        publishable_key: keys.publishable.as_str().to_owned(),
        secret_key: keys.secret.expose().to_owned(),
        tiers,
    })
}

/// A stored tier as a draft for a fresh key set (new Stripe objects, same settings).
fn draft_of(tier: Tier) -> TierDraft {
    TierDraft {
        name: tier.name,
        display_name: tier.display_name,
        price: tier.price,
        limit: tier.limit,
        inventory: tier.inventory,
        popular: tier.popular,
        presentation: tier.features,
    }
}

async fn tier_named(project: &OwnedProject, name: &TierName) -> ApiResult<Tier> {
    project
        .scope
        .tiers()
        .await?
        .into_iter()
        .find(|t| &t.name == name)
        .ok_or_else(|| ApiError::not_found(format!("No tier named `{name}` in this project")))
}

/// POST /tiers/add
pub async fn add_tier(
    env: &Env,
    platform: &PlatformScope,
    stripe: &StripeModes,
    project: &OwnedProject,
    input: &TierInput,
    now: Timestamp,
    request_id: &str,
) -> ApiResult<Tier> {
    let kind = project.scope.project().project_type;
    let draft = input.validate(kind, "tier")?;
    let existing = project.scope.tiers().await?;
    if existing.iter().any(|t| t.name == draft.name) {
        return Err(ApiError::conflict(format!(
            "A tier named `{}` already exists",
            draft.name
        )));
    }
    if existing.len() >= crate::catalog::MAX_TIERS {
        return Err(ApiError::invalid_request(format!(
            "A project has at most {} tiers",
            crate::catalog::MAX_TIERS
        )));
    }
    let account = require_connected(platform).await?;
    let stripe = stripe.for_mode(project.mode).on_account(&account);
    let key = format!("{request_id}:{}", draft.name);
    let tier = catalog::publish_new_tier(
        &stripe,
        kind,
        draft.into_tier(),
        &project.scope.project().publishable_key,
        &key,
    )
    .await?;
    if let Err(e) = project.scope.insert_tier(project.mode, &tier, now).await {
        catalog::retire_all_best_effort(&stripe, std::slice::from_ref(&tier), request_id).await;
        return Err(e);
    }
    evict_after_edit(env, project).await;
    Ok(tier)
}

/// PUT /tiers: replaces a tier's settings. Keys never change; a price change is a new Stripe
/// price (the old one is deactivated); a limit change needs no Stripe call at all.
pub async fn update_tier(
    env: &Env,
    platform: &PlatformScope,
    stripe: &StripeModes,
    project: &OwnedProject,
    input: &TierInput,
    now: Timestamp,
    request_id: &str,
) -> ApiResult<Tier> {
    let kind = project.scope.project().project_type;
    let old = tier_named(project, &input.name).await?;
    let mut new = input.validate(kind, "tier")?.into_tier();
    new.product_id = old.product_id.clone();
    new.price_id = old.price_id.clone();
    let stripe_relevant =
        new.price != old.price || new.display_name != old.display_name || new.features != old.features;
    if !stripe_relevant {
        project.scope.update_tier(&new, now).await?;
        evict_after_edit(env, project).await;
        return Ok(new);
    }
    let account = require_connected(platform).await?;
    let stripe = stripe.for_mode(project.mode).on_account(&account);
    let key = format!("{request_id}:{}", new.name);
    new = catalog::publish_edit(&stripe, kind, &old, new, &project.scope.project().publishable_key, &key).await?;
    // D1 first: until it commits, the old price stays on sale and D1 keeps pointing at it.
    if let Err(e) = project.scope.update_tier(&new, now).await {
        if let Err(cleanup) = catalog::retire_replaced(&stripe, &new, &old, &format!("{key}:rollback")).await {
            crate::log::error(&format!("rolling back Stripe objects of tier {}: {cleanup}", new.name));
        }
        return Err(e);
    }
    evict_after_edit(env, project).await;
    // The edit is committed; an old price still active in Stripe sells nothing new (checkouts use
    // the price D1 names), so a failure here is logged, not reported.
    if let Err(e) = catalog::retire_replaced(&stripe, &old, &new, &format!("{key}:retire")).await {
        crate::log::error(&format!(
            "retiring the replaced Stripe objects of tier {}: {e}",
            new.name
        ));
    }
    Ok(new)
}

/// DELETE /tiers: archives the Stripe product and removes the tier. The last tier stays.
pub async fn delete_tier(
    env: &Env,
    platform: &PlatformScope,
    stripe: &StripeModes,
    project: &OwnedProject,
    name: &TierName,
    request_id: &str,
) -> ApiResult<()> {
    let tier = tier_named(project, name).await?;
    if project.scope.tiers().await?.len() <= 1 {
        return Err(ApiError::conflict(
            "A project keeps at least one tier; add another before deleting this one",
        ));
    }
    if tier.product_id.is_some() {
        let account = require_connected(platform).await?;
        let stripe = stripe.for_mode(project.mode).on_account(&account);
        catalog::retire_tier(&stripe, &tier, &format!("{request_id}:{name}")).await?;
    }
    project.scope.delete_tier(name).await?;
    evict_after_edit(env, project).await;
    Ok(())
}

/// POST /rotate-key: a new secret for the same project and mode; the old one stops working
/// at once (its hash is gone from D1 and its cache entry is evicted).
pub async fn rotate_key(env: &Env, project: &OwnedProject, now: Timestamp) -> ApiResult<SecretKey> {
    let secret = SecretKey::generate(project.mode);
    if !project
        .scope
        .rotate_secret(&project.secret_key_hash, &secret.hash(), now)
        .await?
    {
        return Err(ApiError::conflict(
            "The key was rotated concurrently; reload and try again",
        ));
    }
    evict(env, &project.secret_key_hash).await;
    Ok(secret)
}

/// The dashboard's view of one project: its test and live key sets side by side.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ProjectView {
    pub project_id: String,
    pub name: String,
    pub project_type: String,
    pub test: Option<KeySetView>,
    pub live: Option<KeySetView>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct KeySetView {
    pub publishable_key: String,
    pub status: String,
    pub tier_count: i64,
    pub created_at: String,
}

/// Groups key sets into projects, in creation order (the projects-model dashboard tree).
pub fn dashboard_tree(key_sets: Vec<crate::repo::projects::KeySetSummary>) -> Vec<ProjectView> {
    let mut projects: Vec<ProjectView> = Vec::new();
    for set in key_sets {
        let view = KeySetView {
            publishable_key: set.publishable_key,
            status: set.status,
            tier_count: set.tier_count,
            created_at: set.created_at,
        };
        let index = match projects.iter().position(|p| p.project_id == set.project_id) {
            Some(i) => i,
            None => {
                projects.push(ProjectView {
                    project_id: set.project_id,
                    name: set.name,
                    project_type: set.project_type,
                    test: None,
                    live: None,
                });
                projects.len() - 1
            }
        };
        match set.mode.as_str() {
            "live" => projects[index].live = Some(view),
            _ => projects[index].test = Some(view),
        }
    }
    projects
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::repo::projects::KeySetSummary;

    fn set(project: &str, mode: &str, pk: &str) -> KeySetSummary {
        KeySetSummary {
            project_id: project.into(),
            name: format!("name of {project}"),
            project_type: "saas".into(),
            mode: mode.into(),
            publishable_key: pk.into(),
            status: "active".into(),
            created_at: "2026-01-01T00:00:00Z".into(),
            tier_count: 2,
        }
    }

    #[test]
    fn groups_test_and_live_under_one_project() {
        let tree = dashboard_tree(vec![
            set("prj_a", "test", "pk_test_a"),
            set("prj_b", "test", "pk_test_b"),
            set("prj_a", "live", "pk_live_a"),
        ]);
        assert_eq!(tree.len(), 2);
        assert_eq!(tree[0].project_id, "prj_a");
        assert_eq!(tree[0].test.as_ref().unwrap().publishable_key, "pk_test_a");
        assert_eq!(tree[0].live.as_ref().unwrap().publishable_key, "pk_live_a");
        assert_eq!(tree[1].live, None);
    }
}
