//! A developer's projects over their life. This module: the platform's Stripe keys, creating a
//! project (Stripe products on the connected account, a test key pair) and the dashboard's
//! project tree. `edit`: everything done to one existing project.

pub mod assets;
pub mod caches;
pub mod connected;
mod edit;
pub mod exports;
pub mod figures;
pub mod stripe_products;

pub use caches::ProjectCaches;
pub use edit::ProjectEdit;

use crate::{
    runtime::settings::StripeSettings,
    storage::{PlatformScope, audit::AuditEntry, project_cache::Cache, projects::NewKeySet},
    upstream::stripe::{DEFAULT_API_BASE, Stripe},
};
use dream_core::api::projects::{CreatedKeySet, KeySetView, ProjectView};

use dream_core::{
    error::{ApiError, ApiResult, ErrorCode},
    keys::{KeyPair, random_id},
    mode::{Mode, ProjectType},
    money::Currency,
    period::Timestamp,
    team::Action,
    tiers::tax::TaxSettings,
    tiers::{
        Tier,
        input::{CreateProjectInput, TierDraft},
    },
};

/// The platform's Stripe keys, one per mode (connected accounts are reached with these plus
/// the `Stripe-Account` header).
#[derive(Clone)]
pub struct StripeModes {
    test: Stripe,
    live: Stripe,
}

impl StripeModes {
    pub fn new(settings: &StripeSettings) -> ApiResult<Self> {
        let base = settings.api_base.or(DEFAULT_API_BASE);
        Ok(Self {
            test: Stripe::new(base, settings.test_secret_key.get()?),
            live: Stripe::new(base, settings.live_secret_key.get()?),
        })
    }

    pub fn for_mode(&self, mode: Mode) -> &Stripe {
        match mode {
            Mode::Test => &self.test,
            Mode::Live => &self.live,
        }
    }
}

/// What only a paying developer may do (`what`: "Creating projects", "Uploading images") is a
/// 403 naming the plan otherwise.
pub fn require_paid(platform: &PlatformScope, what: &str) -> ApiResult<()> {
    if platform.platform().is_paid() {
        Ok(())
    } else {
        Err(ApiError::new(
            ErrorCode::Unauthorized,
            format!("{what} needs the paid plan: POST /create-checkout first"),
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

/// Publishes every tier; if one fails, the ones already published are taken off sale again.
async fn publish_all(
    stripe: &Stripe,
    (kind, currency, tax): (ProjectType, Currency, TaxSettings),
    drafts: Vec<TierDraft>,
    keys: &KeyPair,
    request_id: &str,
) -> ApiResult<Vec<Tier>> {
    // All checked before anything is made on Stripe.
    let drafts = drafts
        .into_iter()
        .map(|draft| draft.into_tier(currency))
        .collect::<ApiResult<Vec<Tier>>>()?;
    let mut tiers = Vec::with_capacity(drafts.len());
    for draft in drafts {
        let key = format!("{request_id}:{}", draft.name);
        // Every price says how tax applies, as the key set's settings say.
        let tier = dream_core::tiers::Tier {
            tax_behavior: Some(tax.tax_behavior),
            ..draft
        };
        match stripe_products::publish_new_tier(stripe, kind, tier, &keys.publishable, &key, &tiers).await {
            Ok(tier) => tiers.push(tier),
            Err(e) => {
                stripe_products::retire_all_best_effort(stripe, &tiers, request_id).await;
                return Err(e);
            }
        }
    }
    Ok(tiers)
}

/// A new key set for project `project_id`: its tiers published on the connected account, then
/// the keys and tiers written in one D1 batch. If D1 refuses it (a concurrent promotion won the
/// `UNIQUE (projectId, mode)`), the Stripe objects are taken off sale again.
async fn new_key_set(
    platform: &PlatformScope,
    stripe: &StripeModes,
    known_keys: &Cache,
    (project_id, name, kind, mode): (&str, &str, ProjectType, Mode),
    (currency, tax): (Currency, TaxSettings),
    drafts: Vec<TierDraft>,
    audit: AuditEntry,
    now: Timestamp,
    request_id: &str,
) -> ApiResult<CreatedKeySet> {
    let account = require_connected(platform).await?;
    let keys = KeyPair::generate(mode);
    let stripe = stripe.for_mode(mode).on_account(&account);
    let tiers = publish_all(&stripe, (kind, currency, tax), drafts, &keys, request_id).await?;
    let new = NewKeySet {
        project_id,
        name,
        project_type: kind,
        currency,
        tax,
        keys: &keys,
        tiers: &tiers,
    };
    let audit = audit.project(keys.publishable.as_str(), mode).changes(
        None::<()>,
        serde_json::json!({
            "projectId": project_id, "name": name, "projectType": kind, "currency": currency,
            "tiers": tiers.iter().map(|t| t.name.as_str()).collect::<Vec<_>>(),
        }),
    );
    if let Err(e) = platform.insert_key_set(&new, &audit, now).await {
        stripe_products::retire_all_best_effort(&stripe, &tiers, request_id).await;
        return Err(e);
    }
    // So its first requests reach D1 even from a network over its unknown-key budget.
    known_keys.put_secret_key(&keys.secret.hash(), None, now.millis()).await;
    Ok(CreatedKeySet {
        project_id: project_id.to_owned(),
        name: name.to_owned(),
        project_type: kind,
        mode,
        publishable_key: keys.publishable.as_str().to_owned(),
        secret_key: keys.secret.expose().to_owned(),
        tiers,
    })
}

/// POST /create-products: a new project in test mode.
pub async fn create_project(
    platform: &PlatformScope,
    stripe: &StripeModes,
    known_keys: &Cache,
    input: &CreateProjectInput,
    now: Timestamp,
    request_id: &str,
) -> ApiResult<CreatedKeySet> {
    let actor = platform.authorize(Action::Change(Mode::Test))?;
    require_paid(platform, "Creating projects")?;
    let (name, drafts) = input.validate()?;
    platform.require_room_for_a_project().await?;
    let project_id = random_id("prj");
    new_key_set(
        platform,
        stripe,
        known_keys,
        (&project_id, &name, input.project_type, Mode::Test),
        (input.currency, TaxSettings::default()),
        drafts,
        actor.entry("project.created", now),
        now,
        request_id,
    )
    .await
}

/// Groups key sets into projects, in creation order (the projects-model dashboard tree).
pub fn dashboard_tree(key_sets: Vec<crate::storage::projects::KeySetSummary>) -> Vec<ProjectView> {
    let mut projects: Vec<ProjectView> = Vec::new();
    for set in key_sets {
        let view = KeySetView {
            publishable_key: set.publishable_key,
            status: set.status,
            tier_count: set.tier_count,
            created_at: set.created_at,
            previous_key_expires_at: set.previous_key_expires_at,
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
    use crate::storage::projects::KeySetSummary;

    fn set(project: &str, mode: &str, pk: &str) -> KeySetSummary {
        KeySetSummary {
            project_id: project.into(),
            name: format!("name of {project}"),
            project_type: "saas".into(),
            mode: mode.into(),
            publishable_key: pk.into(),
            status: "active".into(),
            created_at: "2026-01-01T00:00:00Z".into(),
            previous_key_expires_at: None,
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
