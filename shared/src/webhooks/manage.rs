//! What the dashboard's routes do with a project's webhooks (oauth-api, developer session):
//! endpoints and their secrets, the event log, replay.

use super::{Senders, WebhookSettings};
use crate::storage::{
    ProjectScope,
    audit::AuditEntry,
    webhooks::{EndpointRow, EndpointSettings, EventFilter},
};
use dream_core::{
    api::webhooks::{
        CreateEndpointRequest, EndpointView, EventDetail, EventList, EventQuery, EventSummary, UpdateEndpointRequest,
    },
    error::{ApiError, ApiResult},
    keys::random_hex,
    mode::Mode,
    period::Timestamp,
    webhooks::{
        DEFAULT_ROTATION_GRACE_HOURS, Event, EventType, MAX_ENDPOINTS, MAX_ROTATION_GRACE_HOURS, parse_description,
        parse_endpoint_url, parse_event_types, payloads,
    },
};

const DEFAULT_PAGE: u32 = 50;
const MAX_PAGE: u32 = 100;

/// One project's webhooks, opened for a developer's request.
pub struct Webhooks<'a> {
    pub scope: &'a ProjectScope,
    pub mode: Mode,
    pub settings: &'a WebhookSettings,
    pub senders: &'a Senders,
    /// For a request that changes them: the caller's permission, as the entry that records it.
    pub change: Option<AuditEntry>,
}

fn endpoint_missing() -> ApiError {
    ApiError::not_found("No webhook endpoint with that id in this project")
}

impl Webhooks<'_> {
    /// The entry of this request's change (the route opened the webhooks for a change).
    fn audit(&self) -> ApiResult<AuditEntry> {
        self.change
            .clone()
            .ok_or_else(|| ApiError::internal("webhooks opened read-only for a change"))
    }

    pub async fn endpoints(&self, now: Timestamp) -> ApiResult<Vec<EndpointView>> {
        let rows = self.scope.webhook_endpoints().await?;
        Ok(rows.iter().map(|row| row.view(now)).collect())
    }

    async fn endpoint(&self, endpoint_id: &str) -> ApiResult<EndpointRow> {
        self.scope
            .webhook_endpoint(endpoint_id)
            .await?
            .ok_or_else(endpoint_missing)
    }

    /// A new endpoint and its secret (shown this once).
    pub async fn create(&self, request: &CreateEndpointRequest, now: Timestamp) -> ApiResult<(EndpointView, String)> {
        let url = parse_endpoint_url(&request.url, self.mode)?;
        let event_types = parse_event_types(&request.event_types)?;
        let description = parse_description(request.description.as_deref())?;
        let endpoint_id = format!("we_{}", random_hex(12));
        // The key is derived before anything is written: a worker without WEBHOOK_SECRET_KEY
        // refuses, rather than creating an endpoint nobody can verify.
        let secret = self.settings.signing_key(&endpoint_id, 1)?.secret();
        let settings = EndpointSettings {
            url: &url,
            description: &description,
            event_types: &event_types,
            enabled: true,
        };
        let audit = self.audit()?.target(endpoint_id.as_str()).changes(
            None::<()>,
            serde_json::json!({ "url": url, "description": description, "eventTypes": event_types }),
        );
        if !self
            .scope
            .create_webhook_endpoint(&endpoint_id, &settings, &audit, now)
            .await?
        {
            return Err(ApiError::conflict(format!(
                "A project may have at most {MAX_ENDPOINTS} webhook endpoints per mode; delete one first"
            )));
        }
        Ok((self.endpoint(&endpoint_id).await?.view(now), secret))
    }

    pub async fn update(
        &self,
        endpoint_id: &str,
        request: &UpdateEndpointRequest,
        now: Timestamp,
    ) -> ApiResult<EndpointView> {
        let current = self.endpoint(endpoint_id).await?;
        let url = match &request.url {
            Some(url) => parse_endpoint_url(url, self.mode)?,
            None => current.url.clone(),
        };
        let event_types = match &request.event_types {
            Some(types) => parse_event_types(types)?,
            None => current.event_types(),
        };
        let description = match &request.description {
            Some(d) => parse_description(Some(d))?,
            None => current.description.clone(),
        };
        let settings = EndpointSettings {
            url: &url,
            description: &description,
            event_types: &event_types,
            enabled: request.enabled.unwrap_or(current.enabled == 1),
        };
        let audit = self.audit()?.target(endpoint_id).changes(
            serde_json::json!({
                "url": current.url, "description": current.description,
                "eventTypes": current.event_types(), "enabled": current.enabled == 1,
            }),
            serde_json::json!({
                "url": url, "description": description, "eventTypes": event_types, "enabled": settings.enabled,
            }),
        );
        if !self
            .scope
            .update_webhook_endpoint(endpoint_id, &settings, &audit, now)
            .await?
        {
            return Err(endpoint_missing());
        }
        Ok(self.endpoint(endpoint_id).await?.view(now))
    }

    pub async fn delete(&self, endpoint_id: &str) -> ApiResult<()> {
        let current = self.endpoint(endpoint_id).await?;
        let audit = self
            .audit()?
            .target(endpoint_id)
            .changes(serde_json::json!({ "url": current.url }), None::<()>);
        if self.scope.delete_webhook_endpoint(endpoint_id, &audit).await? {
            Ok(())
        } else {
            Err(endpoint_missing())
        }
    }

    /// A new secret; the old one signs beside it for `grace_hours` (24 by default).
    pub async fn rotate_secret(
        &self,
        endpoint_id: &str,
        grace_hours: Option<u32>,
        now: Timestamp,
    ) -> ApiResult<(EndpointView, String)> {
        let hours = grace_hours.unwrap_or(DEFAULT_ROTATION_GRACE_HOURS);
        if hours > MAX_ROTATION_GRACE_HOURS {
            return Err(ApiError::invalid_request(format!(
                "`graceHours` must be 0 to {MAX_ROTATION_GRACE_HOURS}"
            )));
        }
        // Checks the setting before the rotation is written.
        self.settings.signing_key(endpoint_id, 1)?;
        let until = (hours > 0).then(|| Timestamp(now.0 + i64::from(hours) * 3600));
        let audit = self.audit()?.target(endpoint_id).changes(
            None::<()>,
            serde_json::json!({ "previousSecretExpiresAt": until.map(Timestamp::to_rfc3339) }),
        );
        let generation = (self
            .scope
            .rotate_webhook_secret(endpoint_id, until, &audit, now)
            .await?)
            .ok_or_else(endpoint_missing)?;
        let secret = self.settings.signing_key(endpoint_id, generation)?.secret();
        Ok((self.endpoint(endpoint_id).await?.view(now), secret))
    }

    /// Sends an `endpoint.test` event to one endpoint (whatever types it subscribes to), and to
    /// no other.
    pub async fn send_test(&self, endpoint_id: &str, now: Timestamp) -> ApiResult<String> {
        if self.endpoint(endpoint_id).await?.enabled != 1 {
            return Err(ApiError::conflict("The endpoint is disabled; enable it first"));
        }
        let event = Event::new(
            EventType::EndpointTest,
            &self.scope.project().publishable_key,
            now,
            payloads::data(&payloads::EndpointTestData {
                endpoint_id: endpoint_id.to_owned(),
                message: "A test event from dream-api".to_owned(),
            }),
        );
        if self.scope.record_test_event(&event, endpoint_id, now).await? {
            self.senders.nudge(self.scope.project().publishable_key.as_str()).await;
        }
        self.scope.record(&self.audit()?.target(endpoint_id)).await?;
        Ok(event.id)
    }

    pub async fn events(&self, query: &EventQuery) -> ApiResult<EventList> {
        if let Some(kind) = &query.kind
            && EventType::parse(kind).is_none()
        {
            return Err(ApiError::invalid_request(format!(
                "`type`: unknown event type `{}`",
                kind.chars().take(64).collect::<String>()
            )));
        }
        if let Some(status) = &query.status
            && !["pending", "delivered", "failed"].contains(&status.as_str())
        {
            return Err(ApiError::invalid_request(
                "`status` must be pending, delivered or failed",
            ));
        }
        let limit = query.limit.unwrap_or(DEFAULT_PAGE);
        if !(1..=MAX_PAGE).contains(&limit) {
            return Err(ApiError::invalid_request(format!("`limit` must be 1 to {MAX_PAGE}")));
        }
        let before = match &query.before {
            Some(cursor) => Some(parse_cursor(cursor)?),
            None => None,
        };
        let filter = EventFilter {
            kind: query.kind.as_deref(),
            status: query.status.as_deref(),
            before,
            limit: i64::from(limit),
        };
        let rows = self.scope.webhook_events(&filter).await?;
        let next_before = (rows.len() == limit as usize)
            .then(|| rows.last().map(|(e, _)| format!("{}|{}", e.created_at, e.event_id)))
            .flatten();
        Ok(EventList {
            events: rows
                .into_iter()
                .map(|(event, deliveries)| EventSummary {
                    id: event.event_id,
                    kind: event.kind,
                    created: event.created_at,
                    deliveries,
                })
                .collect(),
            next_before,
        })
    }

    pub async fn event(&self, event_id: &str) -> ApiResult<EventDetail> {
        let (event, deliveries, attempts) = self
            .scope
            .webhook_event(event_id)
            .await?
            .ok_or_else(|| ApiError::not_found("No event with that id in this project"))?;
        let payload = event.payload.as_deref().unwrap_or("{}");
        Ok(EventDetail {
            event: serde_json::from_str(payload).unwrap_or_default(),
            deliveries,
            attempts,
        })
    }

    /// The event again, same id: to one endpoint, or every endpoint it was queued for.
    pub async fn replay(&self, event_id: &str, endpoint_id: Option<&str>, now: Timestamp) -> ApiResult<i64> {
        self.event(event_id).await?;
        if let Some(endpoint_id) = endpoint_id {
            let endpoint = self.endpoint(endpoint_id).await?;
            if endpoint.enabled != 1 {
                return Err(ApiError::conflict("The endpoint is disabled; enable it first"));
            }
        }
        let scheduled = self.scope.replay_webhook_event(event_id, endpoint_id, now).await?;
        if scheduled > 0 {
            self.senders.nudge(self.scope.project().publishable_key.as_str()).await;
        }
        let entry = self.audit()?.target(event_id).changes(
            None::<()>,
            serde_json::json!({ "endpointId": endpoint_id, "deliveries": scheduled }),
        );
        self.scope.record(&entry).await?;
        Ok(scheduled)
    }

    pub async fn replay_failed(&self, since: &str, endpoint_id: Option<&str>, now: Timestamp) -> ApiResult<i64> {
        let since = Timestamp::parse_rfc3339(since)
            .ok_or_else(|| ApiError::invalid_request("`since` must be an RFC 3339 UTC time (2026-12-01T00:00:00Z)"))?;
        if let Some(endpoint_id) = endpoint_id {
            self.endpoint(endpoint_id).await?;
        }
        let scheduled = self.scope.replay_failed_webhooks(since, endpoint_id, now).await?;
        if scheduled > 0 {
            self.senders.nudge(self.scope.project().publishable_key.as_str()).await;
        }
        let entry = self.audit()?.changes(
            None::<()>,
            serde_json::json!({ "since": since.to_rfc3339(), "endpointId": endpoint_id, "deliveries": scheduled }),
        );
        self.scope.record(&entry).await?;
        Ok(scheduled)
    }
}

/// `before`: `createdAt|eventId` of the last event of the previous page.
fn parse_cursor(cursor: &str) -> ApiResult<(&str, &str)> {
    cursor
        .split_once('|')
        .filter(|(at, id)| Timestamp::parse_rfc3339(at).is_some() && id.starts_with("evt_") && id.len() <= 64)
        .ok_or_else(|| ApiError::invalid_request("`before` must be the `nextBefore` of a previous page"))
}
