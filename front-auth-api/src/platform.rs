//! The developer's platform: its id, credentials and the project tree.

use axum::{
    Json,
    extract::{Query, State},
};
use serde_json::json;
use std::sync::Arc;

use dream_core::ApiResult;
use dream_core::api::{
    Credentials, KeysByMode, PlatformIdentity, ProjectQuery, ProjectTree, figures::ProjectDashboard,
};
use shared::runtime::clock;
use shared::{
    identity::{DeveloperSession, PLATFORM_TOKENS_KV},
    projects::{dashboard_tree, figures},
    storage::project_cache::Cache,
};
use worker::Env;

use crate::settings::Settings;

/// POST /generate-platform-id — creates the developer's `plt_` id once; later calls return it.
#[worker::send]
pub async fn generate_platform_id(
    State(env): State<Env>,
    State(settings): State<Arc<Settings>>,
    DeveloperSession(developer): DeveloperSession,
) -> ApiResult<Json<PlatformIdentity>> {
    let user_id = developer.user_id().to_owned();
    let email = developer.email();
    let (platform, created) = developer.ensure_platform(clock::now()).await?;
    if let Some(email) = &email {
        platform.remember_member_email(email).await?;
    }
    let p = platform.platform();
    let kv = Cache::from_env(&env, PLATFORM_TOKENS_KV);
    kv.put(&format!("user:{user_id}:platformId"), &p.platform_id, None)
        .await;
    // The spec's reverse lookup names the developer who made the platform, not its members.
    if p.clerk_user_id == user_id {
        kv.put(&format!("platform:{}:userId", p.platform_id), &user_id, None)
            .await;
    }
    settings
        .developer_clerk()?
        .merge_public_metadata(&user_id, json!({ "platformId": p.platform_id, "plan": p.plan }))
        .await?;
    Ok(Json(PlatformIdentity {
        platform_id: p.platform_id.clone(),
        plan: p.plan.clone(),
        created,
        role: platform.caller().role,
    }))
}

/// GET /get-credentials — publishable keys per mode; secret keys are never shown again.
#[worker::send]
pub async fn credentials(DeveloperSession(developer): DeveloperSession) -> ApiResult<Json<Credentials>> {
    let platform = developer.platform().await?;
    let key_sets = platform.key_sets().await?;
    let keys_of = |mode: &str| -> Vec<String> {
        key_sets
            .iter()
            .filter(|k| k.mode == mode && k.status == "active")
            .map(|k| k.publishable_key.clone())
            .collect()
    };
    let account = platform.stripe_account().await?;
    let p = platform.platform();
    let pause = dream_core::developer_plan::live_keys_pause_at(&p.plan, p.plan_ended_at.as_deref());
    Ok(Json(Credentials {
        platform_id: p.platform_id.clone(),
        plan: p.plan.clone(),
        plan_ended_at: if p.is_paid() { None } else { p.plan_ended_at.clone() },
        live_keys_pause_at: pause.map(|t| t.to_rfc3339()),
        stripe_connected: account.is_some(),
        stripe_account_id: account,
        publishable_keys: KeysByMode {
            test: keys_of("test"),
            live: keys_of("live"),
        },
    }))
}

/// GET /projects — every project with its test and live publishable keys and tier counts.
#[worker::send]
pub async fn projects(DeveloperSession(developer): DeveloperSession) -> ApiResult<Json<ProjectTree>> {
    let platform = developer.platform().await?;
    let tree = dashboard_tree(platform.key_sets().await?);
    Ok(Json(ProjectTree {
        platform_id: platform.platform().platform_id.clone(),
        projects: tree,
    }))
}

/// GET /dashboard?publishableKey= — one of the developer's projects' figures (the same ones
/// api-multi's `GET /api/dashboard` gives the developer's server).
#[worker::send]
pub async fn dashboard(
    DeveloperSession(developer): DeveloperSession,
    Query(query): Query<ProjectQuery>,
) -> ApiResult<Json<ProjectDashboard>> {
    let platform = developer.platform().await?;
    let project = platform.project(&query.publishable_key).await?;
    Ok(Json(
        figures::project_dashboard(&project.scope, (project.tax, project.currency), clock::now()).await?,
    ))
}
