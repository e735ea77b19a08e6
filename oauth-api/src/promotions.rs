//! A project's promotion codes, made on the developer's connected account
//! (`shared::billing::promotions`).

use axum::{
    Extension, Json,
    extract::{Path, Query, State},
    http::StatusCode,
};
use dream_core::{
    ApiResult,
    api::{
        promotions::{
            CreatePromotionCode, MAX_PROMOTION_CODES, PromotionCodeList, PromotionCodeSaved, UpdatePromotionCode,
        },
        webhooks::ProjectKeyQuery,
    },
};
use shared::{edge::http::RequestId, identity::DeveloperSession, projects::ProjectEdit, runtime::clock};

use crate::settings::{App, edit_deps};

/// GET /promotion-codes?publishableKey=pk_…
#[worker::send]
pub async fn list(
    State(app): State<App>,
    Extension(request_id): Extension<RequestId>,
    DeveloperSession(developer): DeveloperSession,
    Query(query): Query<ProjectKeyQuery>,
) -> ApiResult<Json<PromotionCodeList>> {
    let edit = ProjectEdit::open(edit_deps(&app)?, developer, &query.publishable_key, &request_id.0).await?;
    let codes = edit.promotion_codes().await?;
    Ok(Json(PromotionCodeList {
        currency: edit.project().currency,
        publishable_key: query.publishable_key,
        codes,
        max: MAX_PROMOTION_CODES,
    }))
}

/// POST /promotion-codes — a coupon and its code on the connected account.
#[worker::send]
pub async fn create(
    State(app): State<App>,
    Extension(request_id): Extension<RequestId>,
    DeveloperSession(developer): DeveloperSession,
    Json(request): Json<CreatePromotionCode>,
) -> ApiResult<(StatusCode, Json<PromotionCodeSaved>)> {
    let edit = ProjectEdit::open(edit_deps(&app)?, developer, &request.publishable_key, &request_id.0).await?;
    let promotion_code = edit.create_promotion_code(&request, clock::now()).await?;
    Ok((
        StatusCode::CREATED,
        Json(PromotionCodeSaved {
            success: true,
            promotion_code,
        }),
    ))
}

/// PUT /promotion-codes/{id} — `{active}`: stop or start accepting the code.
#[worker::send]
pub async fn update(
    State(app): State<App>,
    Extension(request_id): Extension<RequestId>,
    DeveloperSession(developer): DeveloperSession,
    Path(promotion_code_id): Path<String>,
    Json(request): Json<UpdatePromotionCode>,
) -> ApiResult<Json<PromotionCodeSaved>> {
    let edit = ProjectEdit::open(edit_deps(&app)?, developer, &request.publishable_key, &request_id.0).await?;
    let promotion_code = edit
        .set_promotion_code_active(&promotion_code_id, request.active, clock::now())
        .await?;
    Ok(Json(PromotionCodeSaved {
        success: true,
        promotion_code,
    }))
}
