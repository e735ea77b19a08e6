//! A project's developer webhooks: endpoints, their secrets, the event log and replay. Every
//! route resolves the publishable key through the developer's own platform (anyone else's
//! project is a 404); what they do is `shared::webhooks::manage`.

use axum::{
    Extension, Json,
    extract::{Path, Query, State},
};
use dream_core::{
    ApiResult,
    api::webhooks::{
        CreateEndpointRequest, EndpointDeleted, EndpointList, EndpointSaved, EndpointWithSecret, EventDetail,
        EventList, EventQuery, ProjectKeyQuery, ReplayFailedRequest, ReplayRequest, Replayed, RotateSecretRequest,
        TestEventSent, UpdateEndpointRequest,
    },
    webhooks::{EventType, MAX_ENDPOINTS},
};
use shared::{
    edge::http::RequestId, identity::DeveloperSession, projects::ProjectEdit, runtime::clock,
    webhooks::manage::Webhooks,
};

use crate::settings::{App, edit_deps};

/// Opens the developer's project and runs `work` on its webhooks.
async fn with_webhooks<T>(
    app: &App,
    developer: shared::identity::Developer,
    publishable_key: &str,
    request_id: &str,
    change: Option<&'static str>,
    work: impl AsyncFnOnce(&Webhooks<'_>) -> ApiResult<T>,
) -> ApiResult<T> {
    let edit = ProjectEdit::open(edit_deps(app)?, developer, publishable_key, request_id).await?;
    let change = change.map(|action| edit.change(action, clock::now())).transpose()?;
    let senders = crate::settings::senders(&app.env);
    let webhooks = Webhooks {
        scope: &edit.project().scope,
        mode: edit.project().mode,
        settings: &app.settings.webhooks,
        senders: &senders,
        change,
    };
    work(&webhooks).await
}

/// GET /webhook-endpoints?publishableKey=pk_…
#[worker::send]
pub async fn list(
    State(app): State<App>,
    Extension(request_id): Extension<RequestId>,
    DeveloperSession(developer): DeveloperSession,
    Query(query): Query<ProjectKeyQuery>,
) -> ApiResult<Json<EndpointList>> {
    let key = query.publishable_key;
    let endpoints = with_webhooks(&app, developer, &key, &request_id.0, None, async |w| {
        w.endpoints(clock::now()).await
    })
    .await?;
    Ok(Json(EndpointList {
        publishable_key: key,
        endpoints,
        event_types: EventType::ALL.iter().map(|t| t.as_str()).collect(),
        max_endpoints: MAX_ENDPOINTS,
    }))
}

/// POST /webhook-endpoints — a new endpoint; its signing secret is in this answer only.
#[worker::send]
pub async fn create(
    State(app): State<App>,
    Extension(request_id): Extension<RequestId>,
    DeveloperSession(developer): DeveloperSession,
    Json(request): Json<CreateEndpointRequest>,
) -> ApiResult<Json<EndpointWithSecret>> {
    let (endpoint, secret) = with_webhooks(
        &app,
        developer,
        &request.publishable_key,
        &request_id.0,
        Some("webhook_endpoint.created"),
        async |w| w.create(&request, clock::now()).await,
    )
    .await?;
    Ok(Json(EndpointWithSecret {
        success: true,
        endpoint,
        secret,
    }))
}

/// PUT /webhook-endpoints/{id}
#[worker::send]
pub async fn update(
    State(app): State<App>,
    Extension(request_id): Extension<RequestId>,
    DeveloperSession(developer): DeveloperSession,
    Path(endpoint_id): Path<String>,
    Json(request): Json<UpdateEndpointRequest>,
) -> ApiResult<Json<EndpointSaved>> {
    let endpoint = with_webhooks(
        &app,
        developer,
        &request.publishable_key,
        &request_id.0,
        Some("webhook_endpoint.updated"),
        async |w| w.update(&endpoint_id, &request, clock::now()).await,
    )
    .await?;
    Ok(Json(EndpointSaved {
        success: true,
        endpoint,
    }))
}

/// DELETE /webhook-endpoints/{id}?publishableKey=pk_… — what it still had to receive fails
/// (and stays in the log).
#[worker::send]
pub async fn delete(
    State(app): State<App>,
    Extension(request_id): Extension<RequestId>,
    DeveloperSession(developer): DeveloperSession,
    Path(endpoint_id): Path<String>,
    Query(query): Query<ProjectKeyQuery>,
) -> ApiResult<Json<EndpointDeleted>> {
    with_webhooks(
        &app,
        developer,
        &query.publishable_key,
        &request_id.0,
        Some("webhook_endpoint.deleted"),
        async |w| w.delete(&endpoint_id).await,
    )
    .await?;
    Ok(Json(EndpointDeleted {
        success: true,
        deleted: endpoint_id,
    }))
}

/// POST /webhook-endpoints/{id}/rotate-secret — a new secret (in this answer only); the old one
/// signs beside it for the grace period.
#[worker::send]
pub async fn rotate_secret(
    State(app): State<App>,
    Extension(request_id): Extension<RequestId>,
    DeveloperSession(developer): DeveloperSession,
    Path(endpoint_id): Path<String>,
    Json(request): Json<RotateSecretRequest>,
) -> ApiResult<Json<EndpointWithSecret>> {
    let (endpoint, secret) = with_webhooks(
        &app,
        developer,
        &request.publishable_key,
        &request_id.0,
        Some("webhook_endpoint.secret_rotated"),
        async |w| w.rotate_secret(&endpoint_id, request.grace_hours, clock::now()).await,
    )
    .await?;
    Ok(Json(EndpointWithSecret {
        success: true,
        endpoint,
        secret,
    }))
}

/// POST /webhook-endpoints/{id}/test?publishableKey=pk_… — an `endpoint.test` event to it.
#[worker::send]
pub async fn send_test(
    State(app): State<App>,
    Extension(request_id): Extension<RequestId>,
    DeveloperSession(developer): DeveloperSession,
    Path(endpoint_id): Path<String>,
    Query(query): Query<ProjectKeyQuery>,
) -> ApiResult<Json<TestEventSent>> {
    let event_id = with_webhooks(
        &app,
        developer,
        &query.publishable_key,
        &request_id.0,
        Some("webhook_endpoint.tested"),
        async |w| w.send_test(&endpoint_id, clock::now()).await,
    )
    .await?;
    Ok(Json(TestEventSent {
        success: true,
        event_id,
    }))
}

/// GET /events?publishableKey=pk_…&type=&status=&before=&limit= — newest first.
#[worker::send]
pub async fn events(
    State(app): State<App>,
    Extension(request_id): Extension<RequestId>,
    DeveloperSession(developer): DeveloperSession,
    Query(query): Query<EventQuery>,
) -> ApiResult<Json<EventList>> {
    let list = with_webhooks(
        &app,
        developer,
        &query.publishable_key,
        &request_id.0,
        None,
        async |w| w.events(&query).await,
    )
    .await?;
    Ok(Json(list))
}

/// GET /events/{id}?publishableKey=pk_… — the event as sent, its deliveries and attempts.
#[worker::send]
pub async fn event(
    State(app): State<App>,
    Extension(request_id): Extension<RequestId>,
    DeveloperSession(developer): DeveloperSession,
    Path(event_id): Path<String>,
    Query(query): Query<ProjectKeyQuery>,
) -> ApiResult<Json<EventDetail>> {
    let detail = with_webhooks(
        &app,
        developer,
        &query.publishable_key,
        &request_id.0,
        None,
        async |w| w.event(&event_id).await,
    )
    .await?;
    Ok(Json(detail))
}

/// POST /events/{id}/replay — the event again, same id.
#[worker::send]
pub async fn replay(
    State(app): State<App>,
    Extension(request_id): Extension<RequestId>,
    DeveloperSession(developer): DeveloperSession,
    Path(event_id): Path<String>,
    Json(request): Json<ReplayRequest>,
) -> ApiResult<Json<Replayed>> {
    let deliveries = with_webhooks(
        &app,
        developer,
        &request.publishable_key,
        &request_id.0,
        Some("webhook_event.replayed"),
        async |w| w.replay(&event_id, request.endpoint_id.as_deref(), clock::now()).await,
    )
    .await?;
    Ok(Json(Replayed {
        success: true,
        deliveries,
    }))
}

/// POST /events/replay-failed — every failed delivery of the events since a time, again.
#[worker::send]
pub async fn replay_failed(
    State(app): State<App>,
    Extension(request_id): Extension<RequestId>,
    DeveloperSession(developer): DeveloperSession,
    Json(request): Json<ReplayFailedRequest>,
) -> ApiResult<Json<Replayed>> {
    let deliveries = with_webhooks(
        &app,
        developer,
        &request.publishable_key,
        &request_id.0,
        Some("webhook_event.replayed"),
        async |w| (w.replay_failed(&request.since, request.endpoint_id.as_deref(), clock::now())).await,
    )
    .await?;
    Ok(Json(Replayed {
        success: true,
        deliveries,
    }))
}
