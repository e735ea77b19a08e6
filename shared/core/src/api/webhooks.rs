//! Developer webhooks: endpoints (oauth-api, with the developer's session) and the event log.

use serde::{Deserialize, Serialize};

/// An endpoint as the dashboard shows it. Its secret is never here: it is shown once, when the
/// endpoint is created or its secret rotated.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct EndpointView {
    pub id: String,
    pub url: String,
    pub description: String,
    /// The event types it receives, or `["*"]` for all.
    pub event_types: Vec<String>,
    pub enabled: bool,
    /// Why the platform disabled it (a run of failed deliveries); absent when enabled or
    /// disabled by the developer.
    pub disabled_reason: Option<String>,
    pub disabled_at: Option<String>,
    /// Failed attempts since its last 2xx.
    pub failure_streak: i64,
    pub last_success_at: Option<String>,
    /// Until when the secret a rotation replaced still signs, if it does.
    pub previous_secret_expires_at: Option<String>,
    pub created_at: String,
}

/// `GET /webhook-endpoints?publishableKey=`.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct EndpointList {
    pub publishable_key: String,
    pub endpoints: Vec<EndpointView>,
    /// Every event type an endpoint can subscribe to.
    pub event_types: Vec<&'static str>,
    pub max_endpoints: usize,
}

/// `POST /webhook-endpoints`.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct CreateEndpointRequest {
    pub publishable_key: String,
    /// https (http is accepted in test mode); no credentials; redirects are not followed.
    pub url: String,
    /// Event type names, or `["*"]` for every type.
    pub event_types: Vec<String>,
    #[serde(default)]
    pub description: Option<String>,
}

/// `PUT /webhook-endpoints/{id}`: what is given changes; `enabled: true` re-enables an endpoint
/// the platform disabled (its failure streak starts again).
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct UpdateEndpointRequest {
    pub publishable_key: String,
    #[serde(default)]
    pub url: Option<String>,
    #[serde(default)]
    pub event_types: Option<Vec<String>>,
    #[serde(default)]
    pub description: Option<String>,
    #[serde(default)]
    pub enabled: Option<bool>,
}

/// An endpoint with the secret that signs its deliveries: the only answers that carry it.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct EndpointWithSecret {
    pub success: bool,
    pub endpoint: EndpointView,
    /// `whsec_…`, for the `standardwebhooks` library (or the SDKs' verify helper).
    pub secret: String,
}

impl std::fmt::Debug for EndpointWithSecret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EndpointWithSecret")
            .field("endpoint", &self.endpoint)
            .finish_non_exhaustive()
    }
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct EndpointSaved {
    pub success: bool,
    pub endpoint: EndpointView,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct EndpointDeleted {
    pub success: bool,
    pub deleted: String,
}

/// `POST /webhook-endpoints/{id}/rotate-secret`.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct RotateSecretRequest {
    pub publishable_key: String,
    /// Hours the old secret keeps signing beside the new one (0 to 168; 24 by default).
    #[serde(default)]
    pub grace_hours: Option<u32>,
}

/// `?publishableKey=` of the routes that name their object in the path.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[cfg_attr(feature = "openapi", derive(utoipa::IntoParams, utoipa::ToSchema))]
#[cfg_attr(feature = "openapi", into_params(parameter_in = Query))]
pub struct ProjectKeyQuery {
    pub publishable_key: String,
}

/// `GET /events`: newest first, a page at a time.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[cfg_attr(feature = "openapi", derive(utoipa::IntoParams, utoipa::ToSchema))]
#[cfg_attr(feature = "openapi", into_params(parameter_in = Query))]
pub struct EventQuery {
    pub publishable_key: String,
    /// Only events of this type.
    #[serde(default, rename = "type")]
    pub kind: Option<String>,
    /// Only events with a delivery in this state: `pending`, `delivered` or `failed`.
    #[serde(default)]
    pub status: Option<String>,
    /// The `nextBefore` of the previous page.
    #[serde(default)]
    pub before: Option<String>,
    /// 1 to 100 (50 by default).
    #[serde(default)]
    pub limit: Option<u32>,
}

/// One event's delivery to one endpoint.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct DeliveryView {
    pub endpoint_id: String,
    /// `pending`, `delivered` or `failed`.
    pub status: String,
    pub attempts: i64,
    pub next_attempt_at: Option<String>,
    pub last_attempt_at: Option<String>,
    pub last_status_code: Option<i64>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct EventSummary {
    pub id: String,
    #[serde(rename = "type")]
    pub kind: String,
    pub created: String,
    pub deliveries: Vec<DeliveryView>,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct EventList {
    pub events: Vec<EventSummary>,
    /// Pass as `before` for the next (older) page; absent on the last page.
    pub next_before: Option<String>,
}

/// One attempt to deliver an event to an endpoint.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct AttemptView {
    pub endpoint_id: String,
    pub attempt: i64,
    pub attempted_at: String,
    /// Absent when no answer came (then `response` says what happened).
    pub status_code: Option<i64>,
    pub latency_ms: i64,
    /// The first bytes of the answer.
    pub response: String,
}

/// `GET /events/{id}`: the event as it was sent, its deliveries and every attempt.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct EventDetail {
    #[cfg_attr(feature = "openapi", schema(value_type = Object))]
    pub event: serde_json::Value,
    pub deliveries: Vec<DeliveryView>,
    pub attempts: Vec<AttemptView>,
}

/// `POST /events/{id}/replay`: sends the event again (same id) to one endpoint, or to every
/// endpoint it was delivered or failed to.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ReplayRequest {
    pub publishable_key: String,
    #[serde(default)]
    pub endpoint_id: Option<String>,
}

/// `POST /events/replay-failed`: every failed delivery of events since a time, again.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ReplayFailedRequest {
    pub publishable_key: String,
    /// RFC 3339: events created at or after this time.
    pub since: String,
    #[serde(default)]
    pub endpoint_id: Option<String>,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Replayed {
    pub success: bool,
    /// Deliveries scheduled again.
    pub deliveries: i64,
}

/// `POST /webhook-endpoints/{id}/test`.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct TestEventSent {
    pub success: bool,
    /// The `endpoint.test` event's id (in the event log).
    pub event_id: String,
}
