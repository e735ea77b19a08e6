//! Projects and their tiers. Every route resolves the publishable key through the developer's
//! own platform: anyone else's project is a 404.

use crate::settings::{App, edit_deps};
use axum::{
    Extension, Json,
    extract::{Query, State},
};
use dream_core::api::{
    ExpirePreviousKeyRequest, KeyRotated, PreviousKeyExpired, ProjectCreated, ProjectQuery, ProjectSettings,
    ProjectSettingsSaved, PromoteRequest, RotateRequest, TierChange, TierDeleted, TierList, TierRef, TierSaved,
};
use dream_core::{ApiResult, tiers::input::CreateProjectInput};
use shared::runtime::clock;
use shared::{
    edge::http::RequestId,
    identity::DeveloperSession,
    projects::{self, ProjectEdit},
};

/// POST /create-products — a new project (test mode): Stripe products on the connected account,
/// a test key pair, and its tiers. The secret key is in this response and nowhere else, ever.
#[worker::send]
pub async fn create(
    State(app): State<App>,
    Extension(request_id): Extension<RequestId>,
    DeveloperSession(developer): DeveloperSession,
    Json(input): Json<CreateProjectInput>,
) -> ApiResult<Json<ProjectCreated>> {
    let platform = developer.platform().await?;
    let (stripe, caches, _) = edit_deps(&app)?;
    let created =
        projects::create_project(&platform, &stripe, &caches.keys, &input, clock::now(), &request_id.0).await?;
    Ok(Json(ProjectCreated {
        success: true,
        project: created,
    }))
}

/// GET /tiers?publishableKey=pk_… — the project's tiers or products.
#[worker::send]
pub async fn list_tiers(
    State(app): State<App>,
    Extension(request_id): Extension<RequestId>,
    DeveloperSession(developer): DeveloperSession,
    Query(query): Query<ProjectQuery>,
) -> ApiResult<Json<TierList>> {
    let edit = ProjectEdit::open(edit_deps(&app)?, developer, &query.publishable_key, &request_id.0).await?;
    let project = edit.project();
    Ok(Json(TierList {
        project_id: project.project_id.clone(),
        name: project.name.clone(),
        project_type: project.scope.project().project_type,
        mode: project.mode,
        tiers: edit.tiers().await?,
        plan_header: project.plan_header,
        max_cart_units: project.max_cart_units,
        tax: project.tax,
        currency: project.currency,
        publishable_key: query.publishable_key,
    }))
}

/// PUT /tiers — replaces one tier's settings (matched by `tier.name`); keys never change.
#[worker::send]
pub async fn update_tier(
    State(app): State<App>,
    Extension(request_id): Extension<RequestId>,
    DeveloperSession(developer): DeveloperSession,
    Json(change): Json<TierChange>,
) -> ApiResult<Json<TierSaved>> {
    let edit = ProjectEdit::open(edit_deps(&app)?, developer, &change.publishable_key, &request_id.0).await?;
    let tier = edit.update_tier(&change.tier, clock::now()).await?;
    Ok(Json(TierSaved { success: true, tier }))
}

/// POST /tiers/add — a new tier or product in an existing project.
#[worker::send]
pub async fn add_tier(
    State(app): State<App>,
    Extension(request_id): Extension<RequestId>,
    DeveloperSession(developer): DeveloperSession,
    Json(change): Json<TierChange>,
) -> ApiResult<Json<TierSaved>> {
    let edit = ProjectEdit::open(edit_deps(&app)?, developer, &change.publishable_key, &request_id.0).await?;
    let tier = edit.add_tier(&change.tier, clock::now()).await?;
    Ok(Json(TierSaved { success: true, tier }))
}

/// DELETE /tiers?publishableKey=pk_…&name=pro — archives the Stripe product, removes the tier.
#[worker::send]
pub async fn delete_tier(
    State(app): State<App>,
    Extension(request_id): Extension<RequestId>,
    DeveloperSession(developer): DeveloperSession,
    Query(tier): Query<TierRef>,
) -> ApiResult<Json<TierDeleted>> {
    let edit = ProjectEdit::open(edit_deps(&app)?, developer, &tier.publishable_key, &request_id.0).await?;
    edit.delete_tier(&tier.name, clock::now()).await?;
    Ok(Json(TierDeleted {
        success: true,
        deleted: tier.name,
    }))
}

/// POST /promote-to-live — live Stripe products and a live key pair from the test project
/// (optionally with edited tiers). Once per project.
#[worker::send]
pub async fn promote(
    State(app): State<App>,
    Extension(request_id): Extension<RequestId>,
    DeveloperSession(developer): DeveloperSession,
    Json(request): Json<PromoteRequest>,
) -> ApiResult<Json<ProjectCreated>> {
    let edit = ProjectEdit::open(edit_deps(&app)?, developer, &request.publishable_key, &request_id.0).await?;
    let created = edit.promote_to_live(request.tiers.as_deref(), clock::now()).await?;
    Ok(Json(ProjectCreated {
        success: true,
        project: created,
    }))
}

/// POST /rotate-key — a new secret key; the old one works for the chosen grace period (none by
/// default), then is refused.
#[worker::send]
pub async fn rotate_key(
    State(app): State<App>,
    Extension(request_id): Extension<RequestId>,
    DeveloperSession(developer): DeveloperSession,
    Json(request): Json<RotateRequest>,
) -> ApiResult<Json<KeyRotated>> {
    let edit = ProjectEdit::open(edit_deps(&app)?, developer, &request.publishable_key, &request_id.0).await?;
    let (secret, old_key_until) = edit.rotate_key(request.grace_period, clock::now()).await?;
    Ok(Json(KeyRotated {
        success: true,
        mode: edit.project().mode,
        secret_key: secret.expose().to_owned(),
        previous_key_expires_at: old_key_until.map(|t| t.to_rfc3339()),
        publishable_key: request.publishable_key,
    }))
}

/// POST /expire-previous-key — the key a rotation with a grace period replaced stops now.
#[worker::send]
pub async fn expire_previous_key(
    State(app): State<App>,
    Extension(request_id): Extension<RequestId>,
    DeveloperSession(developer): DeveloperSession,
    Json(request): Json<ExpirePreviousKeyRequest>,
) -> ApiResult<Json<PreviousKeyExpired>> {
    let edit = ProjectEdit::open(edit_deps(&app)?, developer, &request.publishable_key, &request_id.0).await?;
    let expired_at = edit.expire_previous_key(clock::now()).await?;
    Ok(Json(PreviousKeyExpired {
        success: true,
        publishable_key: request.publishable_key,
        previous_key_expired_at: expired_at.to_rfc3339(),
    }))
}

/// PUT /project-settings — how far `X-User-Plan` is trusted, a Store's cart bound, and tax.
#[worker::send]
pub async fn save_settings(
    State(app): State<App>,
    Extension(request_id): Extension<RequestId>,
    DeveloperSession(developer): DeveloperSession,
    Json(request): Json<ProjectSettings>,
) -> ApiResult<Json<ProjectSettingsSaved>> {
    let edit = ProjectEdit::open(edit_deps(&app)?, developer, &request.publishable_key, &request_id.0).await?;
    edit.save_settings(&request, clock::now()).await?;
    let project = edit.project();
    Ok(Json(ProjectSettingsSaved {
        success: true,
        plan_header: request.plan_header.unwrap_or(project.plan_header),
        max_cart_units: match request.max_cart_units {
            Some(units) => units,
            None => project.max_cart_units,
        },
        tax: dream_core::tiers::tax::TaxSettings {
            automatic_tax: request.automatic_tax.unwrap_or(project.tax.automatic_tax),
            tax_behavior: request.tax_behavior.unwrap_or(project.tax.tax_behavior),
        },
        publishable_key: request.publishable_key,
    }))
}
