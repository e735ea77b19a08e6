//! The OpenAPI 3.1 documents of the three workers, built from the same types the handlers
//! serialize (`super`), with utoipa. utoipa rather than aide: aide builds documents from axum
//! routers on a native server, and our routers run only inside workerd; utoipa derives from
//! plain types and describes operations without owning the router.
//!
//! The operations are described on empty functions because the handlers live in the worker
//! crates, which only build for wasm32. `cargo run -p dream-core --features openapi --bin openapi`
//! writes `openapi/<worker>/openapi.json` (served by each worker at `/openapi.json`) and
//! `docs/api.md`; its `--check` mode, run by `make test`, fails when they differ from the code
//! or when a worker's router has a route the document lacks.
#![allow(dead_code)]

use std::collections::BTreeSet;

use serde::Serialize;
use serde_json::Value;
use utoipa::{
    OpenApi, PartialSchema, ToSchema,
    openapi::{
        self, ComponentsBuilder, ContentBuilder, InfoBuilder, Ref, RefOr, ResponseBuilder, ServerBuilder,
        security::{HttpAuthScheme, HttpBuilder, SecurityScheme},
    },
};

use super::*;
use super::{
    customers::CreateCustomerRequest,
    figures::ProjectDashboard,
    store::CartRequest,
    subscriptions::{ChangePlanRequest, CheckoutRequest, PortalRequest},
    usage::{TrackRequest, UsageOverview},
};
use crate::{error::ErrorCode, tiers::input::CreateProjectInput};

/// Every error, from every route: `{error, code, requestId, ...details}`.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ErrorBody {
    /// What went wrong, for a human.
    pub error: String,
    /// What went wrong, for a program.
    pub code: ErrorCode,
    /// Also in the `X-Request-Id` header; quote it when reporting a problem.
    pub request_id: String,
    /// `limit_reached`: the user's usage in this period.
    pub usage: Option<super::usage::UsageReport>,
    /// `rate_limited` for one user: the limit that refused.
    pub rate_limit: Option<RateLimitDetail>,
    /// `stripe_error`: Stripe's own error.
    pub stripe: Option<super::errors::StripeErrorDetail>,
    /// A refusal of the end-user sign-in provider (`POST /api/customers`).
    pub clerk: Option<ClerkDetail>,
    /// `conflict` on a cart: the product, its price and how many can be bought now.
    pub product: Option<String>,
    pub price_id: Option<String>,
    pub available: Option<i64>,
    /// `payment_required`: when live keys paused.
    pub paused_since: Option<String>,
    /// `quota_exceeded`: the developer's image storage.
    pub quota: Option<StorageUsage>,
    /// `conflict` on a tier edit or deletion: subscriptions Stripe may still charge for it.
    pub subscribers: Option<i64>,
    /// `quota_exceeded` on a new project: how many projects a developer may have.
    pub max_projects: Option<i64>,
    /// `quota_exceeded` on a new customer: how many a project may add in 24 hours.
    pub customers_per_day: Option<i64>,
    /// `forbidden`: the least role allowed to do it, and the caller's.
    pub required_role: Option<crate::team::Role>,
    pub role: Option<crate::team::Role>,
    /// `conflict` on an invitation: how many members and pending invitations an organization
    /// may have.
    pub max_members: Option<i64>,
}

#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct RateLimitDetail {
    pub limit: u32,
    pub period_seconds: u32,
    /// What is counted together (`project+user`).
    pub scope: String,
}

#[derive(Serialize, ToSchema)]
pub struct ClerkDetail {
    pub code: Option<String>,
}

/// The workers, each with its own document.
pub const WORKERS: [&str; 3] = ["api-multi", "oauth-api", "front-auth-api"];

/// The worker's document, as JSON.
pub fn document(worker: &str) -> Option<Value> {
    let mut doc = serde_json::to_value(described(worker)?).ok()?;
    require_response_fields(&mut doc);
    if worker == "api-multi" {
        add_webhooks(&mut doc);
    }
    Some(doc)
}

/// Schemas of a type and of the types it refers to, as JSON.
fn schemas_of<T: ToSchema>() -> Vec<(String, Value)> {
    let mut all = vec![(T::name().into_owned(), T::schema())];
    T::schemas(&mut all);
    all.into_iter()
        .map(|(name, schema)| (name, serde_json::to_value(schema).unwrap_or_default()))
        .collect()
}

/// The events the platform sends to developers' endpoints (OpenAPI 3.1 `webhooks`): one entry
/// per type, whose body is the event envelope with that type's `data`.
fn add_webhooks(doc: &mut Value) {
    use crate::webhooks::{EventType, payloads::*};
    let data_of = |kind: EventType| -> Vec<(String, Value)> {
        match kind {
            EventType::CustomerCreated => schemas_of::<CustomerCreatedData>(),
            EventType::SubscriptionCreated
            | EventType::SubscriptionUpdated
            | EventType::SubscriptionPastDue
            | EventType::SubscriptionCanceled => schemas_of::<SubscriptionData>(),
            EventType::UsageThreshold => schemas_of::<UsageThresholdData>(),
            EventType::UsageCapReached => schemas_of::<UsageCapReachedData>(),
            EventType::OrderPaid | EventType::OrderShort | EventType::OrderRefunded => schemas_of::<OrderData>(),
            EventType::ProductLowStock | EventType::ProductSoldOut => schemas_of::<ProductStockData>(),
            EventType::KeyRotated => schemas_of::<KeyRotatedData>(),
            EventType::EndpointTest => schemas_of::<EndpointTestData>(),
        }
    };
    let mut webhooks = serde_json::Map::new();
    for kind in EventType::ALL {
        let schemas = data_of(kind);
        let data_name = schemas[0].0.clone();
        for (name, mut schema) in schemas {
            // Every field is always sent (`null` when empty).
            require_all(&mut schema);
            doc["components"]["schemas"][name.as_str()] = schema;
        }
        let event_name: String = kind
            .as_str()
            .split(['.', '_'])
            .map(|part| {
                let mut chars = part.chars();
                chars
                    .next()
                    .map_or(String::new(), |c| c.to_uppercase().chain(chars).collect())
            })
            .collect::<String>()
            + "Event";
        doc["components"]["schemas"][event_name.as_str()] = serde_json::json!({
            "type": "object",
            "description": format!("The `{}` event, as your endpoint receives it.", kind.as_str()),
            "required": ["id", "type", "created", "project", "mode", "data"],
            "properties": {
                "id": {"type": "string", "description": "`evt_…`, also the `webhook-id` header: the same on every retry and replay"},
                "type": {"type": "string", "const": kind.as_str()},
                "created": {"type": "string", "format": "date-time"},
                "project": {"type": "string", "description": "The project's publishable key"},
                "mode": {"$ref": "#/components/schemas/Mode"},
                "data": {"$ref": format!("#/components/schemas/{data_name}")}
            }
        });
        webhooks.insert(
            kind.as_str().to_owned(),
            serde_json::json!({"post": {
                "operationId": format!("on{}", event_name.trim_end_matches("Event")),
                "tags": ["webhooks"],
                "summary": format!("`{}`", kind.as_str()),
                "description": "Signed in the Standard Webhooks format (`webhook-id`, `webhook-timestamp`, `webhook-signature`): verify with the `standardwebhooks` library and the endpoint's secret. Answer 2xx within 10 s; anything else is retried for about three days.",
                "requestBody": {"required": true, "content": {"application/json": {"schema": {"$ref": format!("#/components/schemas/{event_name}")}}}},
                "responses": {"200": {"description": "Received (any 2xx)"}}
            }}),
        );
    }
    doc["webhooks"] = Value::Object(webhooks);
}

/// Where a document's parameters disagree with its path templates: a `path` parameter whose
/// `{name}` is not in the path (utoipa's `IntoParams` defaults to `path`, so a query struct
/// without `parameter_in = Query` lands here), or a `{name}` no parameter declares. Validators
/// reject either, so the generator refuses to write such a document.
pub fn path_parameter_problems(doc: &Value) -> Vec<String> {
    let mut problems = Vec::new();
    for (path, item) in doc["paths"].as_object().into_iter().flatten() {
        let templated: BTreeSet<&str> = path
            .split('{')
            .skip(1)
            .filter_map(|rest| rest.split_once('}').map(|(name, _)| name))
            .collect();
        for (method, operation) in item.as_object().into_iter().flatten() {
            let declared: BTreeSet<&str> = operation["parameters"]
                .as_array()
                .into_iter()
                .flatten()
                .filter(|p| p["in"] == "path")
                .filter_map(|p| p["name"].as_str())
                .collect();
            for name in declared.difference(&templated) {
                problems.push(format!(
                    "{method} {path}: `{name}` is declared `in: path` but the path has no {{{name}}} (a query parameter?)"
                ));
            }
            for name in templated.difference(&declared) {
                problems.push(format!("{method} {path}: {{{name}}} has no `in: path` parameter"));
            }
        }
    }
    problems
}

fn described(worker: &str) -> Option<openapi::OpenApi> {
    let (mut doc, scheme, description) = match worker {
        "api-multi" => (
            ApiMulti::openapi(),
            (
                "secretKey",
                "sk_test_… or sk_live_…: the project's secret key. Server side only.",
            ),
            "The API developers' apps call with their project's secret key: usage metering, customers and their subscriptions, the Store, and the project's figures. Plus the Stripe Connect webhook and the checkout landing pages.",
        ),
        "oauth-api" => (
            OauthApi::openapi(),
            (
                "developerSession",
                "A Clerk session token (the `dream-api` JWT template) of the developer.",
            ),
            "The dashboard's project API: Stripe Connect, projects, tiers and products, going live, key rotation, and webhooks to your app (endpoints, the event log, replay).",
        ),
        "front-auth-api" => (
            FrontAuthApi::openapi(),
            (
                "developerSession",
                "A Clerk session token (the `dream-api` JWT template) of the developer.",
            ),
            "The dashboard's account API: the developer's platform, credentials, projects, figures, the $15/month plan, image uploads, and the platform's Stripe webhook.",
        ),
        _ => return None,
    };
    doc.info = InfoBuilder::new()
        .title(format!("dream-api {worker}"))
        .version(env!("CARGO_PKG_VERSION"))
        .description(Some(description))
        .build();
    let port = match worker {
        "api-multi" => 8787,
        "oauth-api" => 8788,
        _ => 8789,
    };
    doc.servers = Some(vec![
        ServerBuilder::new()
            .url(format!("http://localhost:{port}"))
            .description(Some("`make dev`"))
            .build(),
    ]);
    let (scheme_name, scheme_description) = scheme;
    let mut components = doc
        .components
        .take()
        .unwrap_or_else(|| ComponentsBuilder::new().build());
    components.add_security_scheme(
        scheme_name,
        SecurityScheme::Http(
            HttpBuilder::new()
                .scheme(HttpAuthScheme::Bearer)
                .description(Some(scheme_description))
                .build(),
        ),
    );
    if worker == "oauth-api" {
        components.add_security_scheme(
            "operatorToken",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .description(Some(
                        "The platform operators' token; the worker holds only its SHA-256 (`OPERATOR_TOKEN_SHA256`).",
                    ))
                    .build(),
            ),
        );
    }
    let (name, schema) = (ErrorBody::name(), ErrorBody::schema());
    components.schemas.insert(name.into_owned(), schema);
    doc.components = Some(components);
    add_common_errors(&mut doc, worker);
    Some(doc)
}

/// Our answers always carry every field (`null` when empty: serde writes `None` as `null`), but
/// utoipa marks `Option` fields optional, which suits requests only. Schemas that appear only in
/// responses get every property required, so clients need not guess.
fn require_response_fields(doc: &mut Value) {
    let mut requests = BTreeSet::new();
    let mut responses = BTreeSet::new();
    for item in doc["paths"]
        .as_object()
        .into_iter()
        .flatten()
        .flat_map(|(_, i)| i.as_object())
    {
        for op in item.values() {
            collect_refs(&op["requestBody"], &mut requests);
            collect_refs(&op["parameters"], &mut requests);
            collect_refs(&op["responses"], &mut responses);
        }
    }
    responses.remove("ErrorBody");
    let schemas = doc["components"]["schemas"].clone();
    let (requests, responses) = (closure(requests, &schemas), closure(responses, &schemas));
    for name in responses.difference(&requests) {
        if let Some(schema) = doc["components"]["schemas"].get_mut(name.as_str()) {
            require_all(schema);
        }
    }
}

fn collect_refs(value: &Value, into: &mut BTreeSet<String>) {
    match value {
        Value::Object(map) => {
            if let Some(r) = map.get("$ref").and_then(Value::as_str) {
                into.insert(r.rsplit('/').next().unwrap_or(r).to_owned());
            }
            map.values().for_each(|v| collect_refs(v, into));
        }
        Value::Array(items) => items.iter().for_each(|v| collect_refs(v, into)),
        _ => {}
    }
}

/// The schemas reachable from `roots` through `$ref`s.
fn closure(mut roots: BTreeSet<String>, schemas: &Value) -> BTreeSet<String> {
    let mut done = BTreeSet::new();
    while let Some(name) = roots.pop_first() {
        if done.insert(name.clone()) {
            let mut found = BTreeSet::new();
            collect_refs(&schemas[name.as_str()], &mut found);
            roots.extend(found.difference(&done).cloned());
        }
    }
    done
}

fn require_all(schema: &mut Value) {
    if let Some(props) = schema.get("properties").and_then(Value::as_object) {
        let names: Vec<Value> = props.keys().cloned().map(Value::from).collect();
        schema["required"] = Value::Array(names);
    }
    for key in ["allOf", "oneOf", "anyOf"] {
        if let Some(parts) = schema.get_mut(key).and_then(Value::as_array_mut) {
            parts.iter_mut().for_each(require_all);
        }
    }
    if let Some(props) = schema.get_mut("properties").and_then(Value::as_object_mut) {
        props.values_mut().for_each(require_all);
    }
}

/// Errors any operation can answer, added to each so the operations list only their own:
/// malformed input, oversize bodies, a refused credential, a rate limit, our own failure.
fn add_common_errors(doc: &mut openapi::OpenApi, worker: &str) {
    let error = |description: &str| {
        RefOr::T(
            ResponseBuilder::new()
                .description(description)
                .content(
                    "application/json",
                    ContentBuilder::new()
                        .schema(Some(Ref::from_schema_name("ErrorBody")))
                        .build(),
                )
                .build(),
        )
    };
    for item in doc.paths.paths.values_mut() {
        for operation in [&mut item.get, &mut item.post, &mut item.put, &mut item.delete]
            .into_iter()
            .flatten()
        {
            let secured = operation.security.as_ref().is_some_and(|s| !s.is_empty());
            // Every developer session is counted against `rate_limits::DEVELOPER_LIMIT`.
            let developer_session = operation
                .security
                .as_ref()
                .and_then(|s| serde_json::to_string(s).ok())
                .is_some_and(|s| s.contains("\"developerSession\""));
            let has_body = operation.request_body.is_some();
            let json_body = operation
                .request_body
                .as_ref()
                .is_some_and(|b| matches!(b, RefOr::T(b) if b.content.contains_key("application/json")));
            let responses = &mut operation.responses.responses;
            let mut add = |status: &str, description: &str| {
                responses.entry(status.to_owned()).or_insert_with(|| error(description));
            };
            add("400", "invalid_request: a malformed header, query or body");
            if has_body {
                add("413", "invalid_request: the body is over the route's size limit");
            }
            // oauth-api takes typed JSON bodies (axum's extractor): a body of the wrong shape is 422.
            if worker == "oauth-api" && json_body {
                add("415", "invalid_request: the body is not `application/json`");
                add(
                    "422",
                    "invalid_request: the JSON does not fit the schema (the message names the field)",
                );
            }
            if secured {
                add("401", "unauthorized: a missing, unknown or revoked credential");
            }
            if worker == "api-multi" && secured {
                add(
                    "402",
                    "payment_required: the developer's plan lapsed and live keys are paused",
                );
                add("429", "rate_limited: too many requests; wait `Retry-After` seconds");
            }
            if developer_session {
                add(
                    "403",
                    "forbidden: your role in the organization does not allow this (the body's `requiredRole` says which does)",
                );
                add(
                    "429",
                    "rate_limited: this developer account's requests are over its bound; wait `Retry-After` seconds",
                );
            }
            add("500", "internal: our failure; quote the requestId");
        }
    }
}

/// Whether the worker is up, and which one answered.
#[utoipa::path(
    get, path = "/health", tag = "health",
    responses((status = 200, description = "Up", body = Health))
)]
fn health() {}

// ---- api-multi ----------------------------------------------------------------------------

#[derive(OpenApi)]
#[openapi(
    paths(
        track_usage, get_usage, get_entitlements, check_feature, create_customer, create_checkout, customer_portal, change_plan,
        project_dashboard, list_products, cart_checkout, cancel_order, connect_webhook, checkout_success,
        checkout_cancel, serve_asset, mint_widget_token, read_widget, widget_script, health
    ),
    tags(
        (name = "usage", description = "Metering and entitlements: count a request, read a user's usage, check a feature"),
        (name = "customers", description = "The project's customers and their subscriptions"),
        (name = "store", description = "Products with inventory and guest cart checkout"),
        (name = "figures", description = "The project's dashboard figures"),
        (name = "widget", description = "The usage widget your customers see: tokens from your server, reads from their browser"),
        (name = "webhooks", description = "Stripe's deliveries (signature-checked, not called by apps)"),
        (name = "pages", description = "Pages and files for browsers")
    )
)]
struct ApiMulti;

/// Counts one request for the user, or the body's quantity of one of their tier's meters.
///
/// The user's tier: `X-User-Plan` when sent (your server vouches for it), else their active
/// subscription, else their customer record's plan, else `free`. A meter without overage is a
/// hard limit: a quantity that would pass it is refused whole (429, nothing counted). A meter
/// with overage keeps counting past its included amount for a subscriber to the tier, and the
/// overage is billed on their next invoice, up to the tier's spend cap (then 429). A retry
/// with the same `Idempotency-Key` (24 hours) replays the first answer and counts nothing,
/// whatever its quantity.
#[utoipa::path(
    post, path = "/api/data", tag = "usage", operation_id = "trackUsage",
    request_body(content = Option<TrackRequest>, description = "Optional: a meter and a quantity; no body counts one `requests`"),
    params(
        ("X-User-Id" = String, Header, description = "Your user's id (at most 128 characters)"),
        ("X-User-Plan" = Option<String>, Header, description = "The user's tier, as your server knows it; overrides their subscription"),
        ("Idempotency-Key" = Option<String>, Header, description = "Makes a retry count once (at most 255 characters)")
    ),
    responses(
        (status = 200, description = "Counted (or replayed: header `Idempotent-Replayed: true`)", body = UsageResponse,
            headers(("Idempotent-Replayed" = String, description = "`true` when this answer is a replay"))),
        (status = 400, description = "invalid_request: a bad header or body, an unknown meter, or a quantity out of range", body = ErrorBody),
        (status = 403, description = "quota_exceeded: a user new to the period, and the project already counted its most distinct users this period (`usersPerPeriod`)", body = ErrorBody),
        (status = 409, description = "conflict: this Idempotency-Key was used for another user or another meter", body = ErrorBody),
        (status = 429, description = "limit_reached: the meter's limit or the spend cap (the body's `usage` shows it), or rate_limited (`Retry-After`)", body = ErrorBody),
        (status = 503, description = "unavailable: usage counting is briefly unreachable; retry after `Retry-After` seconds with the same Idempotency-Key", body = ErrorBody)
    ),
    security(("secretKey" = []))
)]
fn track_usage() {}

/// The user's usage of every meter of their tier in the current period, without counting.
#[utoipa::path(
    get, path = "/api/usage", tag = "usage", operation_id = "getUsage",
    params(
        ("X-User-Id" = String, Header, description = "Your user's id"),
        ("X-User-Plan" = Option<String>, Header, description = "The user's tier, as your server knows it; overrides their subscription")
    ),
    responses(
        (status = 200, description = "`usage`: the requests meter; `meters`: every meter", body = UsageOverview),
        (status = 503, description = "unavailable: usage counting is briefly unreachable; retry after `Retry-After` seconds", body = ErrorBody)
    ),
    security(("secretKey" = []))
)]
fn get_usage() {}

/// What the user's tier grants now: its boolean features, its meters, and the subscription
/// behind it (a trial, a past-due payment, a cancellation at the period's end).
///
/// The tier follows the metering rule: `X-User-Plan` when sent (as the project's plan-header
/// policy allows), else the user's subscription (trialing, active or past due), else their
/// customer record's plan, else `free`. Answered from the project's cached configuration: no
/// usage counter call, and with `X-User-Plan` naming a free tier no database read either.
#[utoipa::path(
    get, path = "/api/entitlements", tag = "usage", operation_id = "getEntitlements",
    params(
        super::entitlements::EntitlementsQuery,
        ("X-User-Id" = Option<String>, Header, description = "Your user's id, instead of `userId`"),
        ("X-User-Plan" = Option<String>, Header, description = "The user's tier, as your server knows it; overrides their subscription")
    ),
    responses(
        (status = 200, description = "The user's plan, its features and meters", body = super::entitlements::Entitlements),
        (status = 400, description = "invalid_request: no or a bad user id, an unknown plan", body = ErrorBody)
    ),
    security(("secretKey" = []))
)]
fn get_entitlements() {}

/// A short-lived token for one of your users' usage widget (`<dream-usage token=…>`): it reads
/// that user's plan, usage and tiers, and nothing else; it never counts usage. It stops working
/// when it expires or when the secret key that minted it is rotated.
#[utoipa::path(
    post, path = "/api/widget/tokens", tag = "widget", operation_id = "mintWidgetToken",
    params(("X-User-Id" = Option<String>, Header, description = "Your user's id, instead of `userId`")),
    request_body(content = super::widget::WidgetTokenRequest, description = "The user, and how long the token lives"),
    responses(
        (status = 200, description = "The token; give it to that user's browser", body = super::widget::WidgetToken),
        (status = 400, description = "invalid_request: no or a bad user id, a lifetime out of bounds, a Store project", body = ErrorBody)
    ),
    security(("secretKey" = []))
)]
fn mint_widget_token() {}

/// What the usage widget shows: the token's user's plan, this period's usage per meter, and the
/// project's other tiers. Readable from any origin (`Access-Control-Allow-Origin: *`); the
/// token is the only credential.
#[utoipa::path(
    get, path = "/api/widget", tag = "widget", operation_id = "readWidget",
    params(("token" = String, Query, description = "A `wt_` token from `POST /api/widget/tokens`")),
    responses(
        (status = 200, description = "The user's plan and usage", body = super::widget::UsageWidget),
        (status = 401, description = "unauthorized: a malformed, expired or forged token, or one whose key was rotated", body = ErrorBody),
        (status = 429, description = "rate_limited: this user's widget is over its bound; wait `Retry-After` seconds", body = ErrorBody)
    )
)]
fn read_widget() {}

/// The widget's script: a `<dream-usage>` custom element with no dependencies.
#[utoipa::path(
    get, path = "/widget.js", tag = "widget", operation_id = "widgetScript",
    responses((status = 200, description = "JavaScript", content_type = "text/javascript", body = String))
)]
fn widget_script() {}

/// Whether the user may use a feature now: a boolean feature their tier grants, or one more
/// unit of a meter (nothing is counted; count with `POST /api/data`).
///
/// `allowed` with a `reason`: `granted` / `not_in_plan` for a boolean feature; `within_limit`,
/// `overage` (billed past the included units, under the spend cap) or `limit_reached` for a
/// meter, with the user's `usage`. A boolean feature is answered without a usage counter call
/// (with a trusted `X-User-Plan`, without any I/O at all); a meter asks the user's counter.
#[utoipa::path(
    post, path = "/api/check", tag = "usage", operation_id = "checkFeature",
    request_body = super::entitlements::CheckRequest,
    params(
        ("X-User-Id" = Option<String>, Header, description = "Your user's id, instead of `userId`"),
        ("X-User-Plan" = Option<String>, Header, description = "The user's tier, as your server knows it; overrides their subscription")
    ),
    responses(
        (status = 200, description = "Allowed or not, and why", body = super::entitlements::CheckAnswer),
        (status = 400, description = "invalid_request: no or a bad user id, a feature that is neither a feature nor a meter of the project", body = ErrorBody),
        (status = 503, description = "unavailable (a meter): usage counting is briefly unreachable; retry after `Retry-After` seconds", body = ErrorBody)
    ),
    security(("secretKey" = []))
)]
fn check_feature() {}

/// Creates a customer (a user of the end-user sign-in app) in this project.
///
/// One person may be a customer of several projects; none sees another's data. A retry with
/// the same email answers 200 with `created: false`. There is no password: the sign-in identity
/// is shared by every project the person is a customer of, so only they set its password, with a
/// code sent to their email (a `password` in the body is a 400).
#[utoipa::path(
    post, path = "/api/customers", tag = "customers", operation_id = "createCustomer",
    request_body = CreateCustomerRequest,
    responses(
        (status = 201, description = "Created", body = CustomerCreated),
        (status = 200, description = "Already a customer of this project", body = CustomerCreated),
        (status = 400, description = "invalid_request: a bad email or body, a `password`, or the sign-in provider refused (`clerk.code`)", body = ErrorBody),
        (status = 403, description = "quota_exceeded: the project added `customersPerDay` customers in the last 24 hours", body = ErrorBody),
        (status = 503, description = "unavailable: the sign-in provider is down; retry after `Retry-After` seconds", body = ErrorBody)
    ),
    security(("secretKey" = []))
)]
fn create_customer() {}

/// A Stripe Checkout page that subscribes the user to a paid tier.
///
/// The user's open session for the same tier is handed out again (`reused`).
#[utoipa::path(
    post, path = "/api/create-checkout", tag = "customers", operation_id = "createCheckout",
    params(("X-User-Id" = String, Header, description = "Your user's id")),
    request_body = CheckoutRequest,
    responses(
        (status = 200, description = "Send the user to `url`", body = CheckoutResponse),
        (status = 400, description = "invalid_request: a missing, unknown or free tier, a bad URL or body, or a Store project's key", body = ErrorBody),
        (status = 409, description = "conflict: already subscribed, a checkout being paid right now, or Stripe not connected", body = ErrorBody),
        (status = 502, description = "stripe_error", body = ErrorBody)
    ),
    security(("secretKey" = []))
)]
fn create_checkout() {}

/// Stripe's billing portal for the user (invoices, payment method, cancel).
#[utoipa::path(
    post, path = "/api/customer-portal", tag = "customers", operation_id = "customerPortal",
    params(("X-User-Id" = String, Header, description = "Your user's id")),
    request_body = PortalRequest,
    responses(
        (status = 200, description = "Send the user to `url`", body = PortalResponse),
        (status = 404, description = "not_found: the user never checked out", body = ErrorBody),
        (status = 409, description = "conflict: Stripe not connected", body = ErrorBody),
        (status = 502, description = "stripe_error", body = ErrorBody)
    ),
    security(("secretKey" = []))
)]
fn customer_portal() {}

/// Moves the user's subscription to another paid tier (prorated by Stripe).
#[utoipa::path(
    post, path = "/api/change-plan", tag = "customers", operation_id = "changePlan",
    params(("X-User-Id" = String, Header, description = "Your user's id")),
    request_body = ChangePlanRequest,
    responses(
        (status = 200, description = "Changed (or already on that tier)", body = PlanChanged),
        (status = 400, description = "invalid_request: a missing, unknown or free tier, a bad body, or a Store project's key", body = ErrorBody),
        (status = 404, description = "not_found: the user has no active subscription", body = ErrorBody),
        (status = 409, description = "conflict: the subscription can no longer change plans, or Stripe not connected", body = ErrorBody),
        (status = 502, description = "stripe_error", body = ErrorBody)
    ),
    security(("secretKey" = []))
)]
fn change_plan() {}

/// The project's figures: customers, subscriptions and usage (SaaS) or sales and stock (Store).
#[utoipa::path(
    get, path = "/api/dashboard", tag = "figures", operation_id = "getDashboard",
    responses((status = 200, description = "The figures", body = ProjectDashboard)),
    security(("secretKey" = []))
)]
fn project_dashboard() {}

/// Every product with its price, stock and what a cart can take now.
#[utoipa::path(
    get, path = "/api/products", tag = "store", operation_id = "listProducts",
    responses((status = 200, description = "The products", body = ProductList)),
    security(("secretKey" = []))
)]
fn list_products() {}

/// Holds the cart's stock and returns a Stripe Checkout page for it (guest checkout).
/// `Idempotency-Key` makes a retry (same key, same body) answer with the first call's session,
/// holding the stock once; a call that failed gives its key up.
#[utoipa::path(
    post, path = "/api/cart/checkout", tag = "store", operation_id = "cartCheckout",
    params(
        ("Idempotency-Key" = Option<String>, Header, description = "Makes a retry return the same checkout (at most 255 characters)")
    ),
    request_body = CartRequest,
    responses(
        (status = 200, description = "Send the buyer to `url`; the stock is held until `expiresAt`", body = CartCheckoutResponse),
        (status = 409, description = "conflict: not enough stock (`available` says how much), Stripe not connected, or this Idempotency-Key was used with another cart", body = ErrorBody),
        (status = 502, description = "stripe_error", body = ErrorBody)
    ),
    security(("secretKey" = []))
)]
fn cart_checkout() {}

/// Ends an open order before it is paid: its Stripe Checkout Session expires (nobody can pay it
/// any more) and its stock is available again at once. Asking again answers the same.
#[utoipa::path(
    post, path = "/api/orders/{order_id}/cancel", tag = "store", operation_id = "cancelOrder",
    params(("order_id" = String, Path, description = "The `orderId` a cart checkout returned")),
    responses(
        (status = 200, description = "Canceled (or it had ended already)", body = OrderCanceled),
        (status = 404, description = "not_found: no such order in this project", body = ErrorBody),
        (status = 409, description = "conflict: the order is paid (refund it in Stripe), or its checkout is still being created", body = ErrorBody),
        (status = 502, description = "stripe_error", body = ErrorBody)
    ),
    security(("secretKey" = []))
)]
fn cancel_order() {}

/// Events of developers' connected Stripe accounts (Connect webhook endpoint).
#[utoipa::path(
    post, path = "/webhook/stripe", tag = "webhooks", operation_id = "connectWebhook",
    params(("Stripe-Signature" = String, Header, description = "`t=…,v1=…`, checked over the raw body")),
    request_body(content = Object, description = "A Stripe event"),
    responses((status = 200, description = "Received; `result` says what it changed", body = ConnectEventReceived))
)]
fn connect_webhook() {}

/// Where a customer lands after paying when the app gave no `successUrl`.
#[utoipa::path(
    get, path = "/checkout/success", tag = "pages",
    responses((status = 200, description = "An HTML page", body = String, content_type = "text/html"))
)]
fn checkout_success() {}

/// Where a customer lands after cancelling when the app gave no `cancelUrl`.
#[utoipa::path(
    get, path = "/checkout/cancel", tag = "pages",
    responses((status = 200, description = "An HTML page", body = String, content_type = "text/html"))
)]
fn checkout_cancel() {}

/// A product image uploaded by a developer (public, cacheable).
#[utoipa::path(
    get, path = "/api/assets/{platform_id}/{file}", tag = "pages",
    params(
        ("platform_id" = String, Path, description = "The developer's platform id"),
        ("file" = String, Path, description = "The stored file name")
    ),
    responses(
        (status = 200, description = "The image", content_type = "image/*"),
        (status = 404, description = "not_found", body = ErrorBody)
    )
)]
fn serve_asset() {}

// ---- oauth-api ----------------------------------------------------------------------------

#[derive(OpenApi)]
#[openapi(
    paths(
        authorize, connect_callback, create_project, list_tiers, update_tier, delete_tier, add_tier,
        promote_to_live, rotate_key, expire_previous_key, save_project_settings, cancel_store_order,
        refund_store_order, show_usage_counters, set_usage_counters, list_promotion_codes, create_promotion_code,
        update_promotion_code, list_webhook_endpoints,
        create_webhook_endpoint, update_webhook_endpoint, delete_webhook_endpoint, rotate_webhook_secret,
        send_test_event, list_events, get_event, replay_event, replay_failed_events, health
    ),
    tags(
        (name = "connect", description = "Linking the developer's Stripe account"),
        (name = "operators", description = "The platform's operators, not developers (README, \"Operating\")"),
        (name = "projects", description = "Projects, their tiers or products, going live, keys"),
        (name = "promotions", description = "Promotion codes on your connected Stripe account"),
        (name = "webhooks", description = "Webhooks to your app: endpoints, their secrets, the event log and replay")
    )
)]
struct OauthApi;

/// The Stripe Connect page to send the developer to, with a signed single-use `state`.
#[utoipa::path(
    get, path = "/authorize", tag = "connect", operation_id = "connectLink",
    responses((status = 200, description = "Navigate to `url`", body = ConnectLink)),
    security(("developerSession" = []))
)]
fn authorize() {}

/// Finishes Connect: the dashboard relays Stripe's `code` and `state` with the session.
#[utoipa::path(
    post, path = "/connect/callback", tag = "connect", operation_id = "finishConnect",
    request_body = ConnectCallback,
    responses(
        (status = 200, description = "Connected", body = Connected),
        (status = 403, description = "unauthorized: the state was issued to another developer", body = ErrorBody),
        (status = 409, description = "conflict: projects use another Stripe account", body = ErrorBody),
        (status = 502, description = "stripe_error", body = ErrorBody)
    ),
    security(("developerSession" = []))
)]
fn connect_callback() {}

/// A new test-mode project: Stripe products, a key pair, and its tiers. The secret key is in
/// this answer and nowhere else, ever.
#[utoipa::path(
    post, path = "/create-products", tag = "projects", operation_id = "createProject",
    request_body = CreateProjectInput,
    responses(
        (status = 200, description = "Created", body = ProjectCreated),
        (status = 403, description = "unauthorized: the plan is not paid; quota_exceeded: the developer has `maxProjects` projects already", body = ErrorBody),
        (status = 409, description = "conflict: Stripe not connected", body = ErrorBody),
        (status = 502, description = "stripe_error", body = ErrorBody)
    ),
    security(("developerSession" = []))
)]
fn create_project() {}

/// The project's tiers (SaaS) or products (Store).
#[utoipa::path(
    get, path = "/tiers", tag = "projects", operation_id = "listTiers",
    params(ProjectQuery),
    responses(
        (status = 200, description = "The tiers", body = TierList),
        (status = 404, description = "not_found: not one of your projects", body = ErrorBody)
    ),
    security(("developerSession" = []))
)]
fn list_tiers() {}

/// Replaces one tier's settings (matched by `tier.name`); keys never change.
#[utoipa::path(
    put, path = "/tiers", tag = "projects", operation_id = "updateTier",
    request_body = TierChange,
    responses(
        (status = 200, description = "Saved", body = TierSaved),
        (status = 403, description = "unauthorized: the plan is not paid", body = ErrorBody),
        (status = 404, description = "not_found: no such project or tier", body = ErrorBody),
        (status = 409, description = "conflict: stock below what open checkouts hold (`held`), or a paid tier made free while customers subscribe to it (`subscribers`)", body = ErrorBody),
        (status = 502, description = "stripe_error", body = ErrorBody)
    ),
    security(("developerSession" = []))
)]
fn update_tier() {}

/// Removes a tier and archives its Stripe product (a project keeps at least one).
#[utoipa::path(
    delete, path = "/tiers", tag = "projects", operation_id = "deleteTier",
    params(TierRef),
    responses(
        (status = 200, description = "Deleted", body = TierDeleted),
        (status = 403, description = "unauthorized: the plan is not paid", body = ErrorBody),
        (status = 404, description = "not_found: no such project or tier", body = ErrorBody),
        (status = 409, description = "conflict: the last tier, or customers still subscribe to it (`subscribers` says how many)", body = ErrorBody),
        (status = 502, description = "stripe_error", body = ErrorBody)
    ),
    security(("developerSession" = []))
)]
fn delete_tier() {}

/// Adds a tier or product (at most 20).
#[utoipa::path(
    post, path = "/tiers/add", tag = "projects", operation_id = "addTier",
    request_body = TierChange,
    responses(
        (status = 200, description = "Added", body = TierSaved),
        (status = 403, description = "unauthorized: the plan is not paid", body = ErrorBody),
        (status = 404, description = "not_found: not one of your projects", body = ErrorBody),
        (status = 409, description = "conflict: the name is taken, or 20 tiers already", body = ErrorBody),
        (status = 502, description = "stripe_error", body = ErrorBody)
    ),
    security(("developerSession" = []))
)]
fn add_tier() {}

/// Live Stripe products and a live key pair from the test project, once per project.
#[utoipa::path(
    post, path = "/promote-to-live", tag = "projects", operation_id = "promoteToLive",
    request_body = PromoteRequest,
    responses(
        (status = 200, description = "Live", body = ProjectCreated),
        (status = 403, description = "unauthorized: the plan is not paid", body = ErrorBody),
        (status = 404, description = "not_found: not one of your test projects", body = ErrorBody),
        (status = 409, description = "conflict: already live", body = ErrorBody),
        (status = 502, description = "stripe_error", body = ErrorBody)
    ),
    security(("developerSession" = []))
)]
fn promote_to_live() {}

/// A new secret key; the old one works for the chosen grace period, then is refused.
#[utoipa::path(
    post, path = "/rotate-key", tag = "projects", operation_id = "rotateKey",
    request_body = RotateRequest,
    responses(
        (status = 200, description = "Rotated; the new key is shown once", body = KeyRotated),
        (status = 404, description = "not_found: not one of your projects", body = ErrorBody)
    ),
    security(("developerSession" = []))
)]
fn rotate_key() {}

/// Stops now the key that a rotation with a grace period replaced (it leaked, or every deploy
/// has the new one). The rotation's `previousKeyExpiresAt` becomes now.
#[utoipa::path(
    post, path = "/expire-previous-key", tag = "projects", operation_id = "expirePreviousKey",
    request_body = ExpirePreviousKeyRequest,
    responses(
        (status = 200, description = "The previous key is refused from now on", body = PreviousKeyExpired),
        (status = 404, description = "not_found: not one of your projects", body = ErrorBody),
        (status = 409, description = "conflict: no previous key is in its grace period", body = ErrorBody)
    ),
    security(("developerSession" = []))
)]
fn expire_previous_key() {}

/// How far api-multi trusts `X-User-Plan` for this project and mode: `trusted` (the default)
/// or `capped` (the header may lower a user's plan, never raise it above what they pay for).
#[utoipa::path(
    put, path = "/project-settings", tag = "projects", operation_id = "saveProjectSettings",
    request_body = ProjectSettings,
    responses(
        (status = 200, description = "Saved; api-multi applies it from the next request", body = ProjectSettingsSaved),
        (status = 404, description = "not_found: not one of your projects", body = ErrorBody)
    ),
    security(("developerSession" = []))
)]
fn save_project_settings() {}

/// Cancels an open checkout of a Store project: its session expires at Stripe (nobody can pay
/// it any more) and its stock is available again at once. Asking again answers the same.
#[utoipa::path(
    post, path = "/orders/cancel", tag = "projects", operation_id = "cancelStoreOrder",
    request_body = CancelOrderRequest,
    responses(
        (status = 200, description = "Canceled (or it had ended already)", body = OrderCanceled),
        (status = 404, description = "not_found: not one of your projects, or no such order in it", body = ErrorBody),
        (status = 409, description = "conflict: the order is paid (refund it) or its checkout is still being created", body = ErrorBody)
    ),
    security(("developerSession" = []))
)]
fn cancel_store_order() {}

/// Refunds what is left of a paid Store order's payment on your Stripe account, and returns its
/// units to stock when `restock` is true (once). Refunds made in Stripe's dashboard show on the
/// order too (from Stripe's `charge.refunded`), without touching the stock.
#[utoipa::path(
    post, path = "/orders/refund", tag = "projects", operation_id = "refundStoreOrder",
    request_body = RefundOrderRequest,
    responses(
        (status = 200, description = "Refunded", body = super::store::OrderRefunded),
        (status = 404, description = "not_found: not one of your projects, or no such order in it", body = ErrorBody),
        (status = 409, description = "conflict: the order is not paid, or was paid beyond its stock and `restock` was asked (nothing refunded)", body = ErrorBody),
        (status = 502, description = "stripe_error: Stripe refused the refund (its error is in `stripe`)", body = ErrorBody)
    ),
    security(("developerSession" = []))
)]
fn refund_store_order() {}

/// How many usage counters share a project's users, period by period.
#[utoipa::path(
    get, path = "/operator/usage-counters", tag = "operators", operation_id = "getUsageCounters",
    params(("publishableKey" = String, Query, description = "The project and mode")),
    responses(
        (status = 200, description = "The project's counters", body = super::usage::UsageCounters),
        (status = 401, description = "unauthorized: no or a wrong operator token", body = ErrorBody),
        (status = 404, description = "not_found: no such project (or no operator access on this deployment)", body = ErrorBody)
    ),
    security(("operatorToken" = []))
)]
fn show_usage_counters() {}

/// How many usage counters share a very hot project's users. A change applies to billing
/// periods starting two minutes from now and later (each period keeps its counters), or, with
/// `immediately`, to every period of a project that has counted nothing yet.
#[utoipa::path(
    put, path = "/operator/usage-counters", tag = "operators", operation_id = "setUsageCounters",
    request_body = super::usage::UsageCountersRequest,
    responses(
        (status = 200, description = "The project's counters now", body = super::usage::UsageCounters),
        (status = 401, description = "unauthorized: no or a wrong operator token", body = ErrorBody),
        (status = 404, description = "not_found: no such project (or no operator access on this deployment)", body = ErrorBody),
        (status = 409, description = "conflict: a change is still pending, the project has counted already (`immediately`), or it changed meanwhile", body = ErrorBody)
    ),
    security(("operatorToken" = []))
)]
fn set_usage_counters() {}

/// The project's promotion codes, newest first, with Stripe's redemption counts.
#[utoipa::path(
    get, path = "/promotion-codes", tag = "promotions", operation_id = "listPromotionCodes",
    params(super::webhooks::ProjectKeyQuery),
    responses(
        (status = 200, description = "The codes", body = super::promotions::PromotionCodeList),
        (status = 404, description = "not_found: not one of your projects", body = ErrorBody),
        (status = 409, description = "conflict: Stripe is not connected", body = ErrorBody)
    ),
    security(("developerSession" = []))
)]
fn list_promotion_codes() {}

/// A promotion code: a coupon (percent or amount off, for one invoice, some months or for ever)
/// and its customer-facing code, made on your connected Stripe account for this project and
/// mode. Checkouts accept it as `promotionCode`, or customers type it when the checkout has
/// `allowPromotionCodes`. At most 100 per project and mode.
#[utoipa::path(
    post, path = "/promotion-codes", tag = "promotions", operation_id = "createPromotionCode",
    request_body = super::promotions::CreatePromotionCode,
    responses(
        (status = 201, description = "Created on Stripe and recorded", body = super::promotions::PromotionCodeSaved),
        (status = 400, description = "invalid_request: the code, the discount, its duration, expiry or redemptions", body = ErrorBody),
        (status = 404, description = "not_found: not one of your projects", body = ErrorBody),
        (status = 409, description = "conflict: the project has this code already (any case), or 100 codes", body = ErrorBody)
    ),
    security(("developerSession" = []))
)]
fn create_promotion_code() {}

/// Stops accepting a code (`active: false`), or starts again. Customers who redeemed it keep
/// their discount.
#[utoipa::path(
    put, path = "/promotion-codes/{promotion_code_id}", tag = "promotions", operation_id = "updatePromotionCode",
    params(("promotion_code_id" = String, Path, description = "Stripe's `promo_…`")),
    request_body = super::promotions::UpdatePromotionCode,
    responses(
        (status = 200, description = "Saved", body = super::promotions::PromotionCodeSaved),
        (status = 404, description = "not_found: not one of your projects, or no such code in it", body = ErrorBody)
    ),
    security(("developerSession" = []))
)]
fn update_promotion_code() {}

/// The project's webhook endpoints (never their secrets), and every event type.
#[utoipa::path(
    get, path = "/webhook-endpoints", tag = "webhooks", operation_id = "listWebhookEndpoints",
    params(super::webhooks::ProjectKeyQuery),
    responses(
        (status = 200, description = "The endpoints", body = super::webhooks::EndpointList),
        (status = 404, description = "not_found: not one of your projects", body = ErrorBody)
    ),
    security(("developerSession" = []))
)]
fn list_webhook_endpoints() {}

/// A new endpoint (at most 10 per project and mode). Its signing secret is in this answer only:
/// verify deliveries with it and the `standardwebhooks` library of your language.
#[utoipa::path(
    post, path = "/webhook-endpoints", tag = "webhooks", operation_id = "createWebhookEndpoint",
    request_body = super::webhooks::CreateEndpointRequest,
    responses(
        (status = 200, description = "Created; the secret is shown once", body = super::webhooks::EndpointWithSecret),
        (status = 400, description = "invalid_request: the URL (https in live mode, no credentials) or an event type", body = ErrorBody),
        (status = 404, description = "not_found: not one of your projects", body = ErrorBody),
        (status = 409, description = "conflict: the project has 10 endpoints in this mode", body = ErrorBody)
    ),
    security(("developerSession" = []))
)]
fn create_webhook_endpoint() {}

/// Changes what is given. `enabled: true` enables an endpoint again (after the platform disabled
/// it for failing): its failure streak starts over; replay what it missed with
/// `POST /events/replay-failed`. Disabling it fails what it still had to receive.
#[utoipa::path(
    put, path = "/webhook-endpoints/{endpoint_id}", tag = "webhooks", operation_id = "updateWebhookEndpoint",
    params(("endpoint_id" = String, Path, description = "`we_…`")),
    request_body = super::webhooks::UpdateEndpointRequest,
    responses(
        (status = 200, description = "Saved", body = super::webhooks::EndpointSaved),
        (status = 400, description = "invalid_request: the URL or an event type", body = ErrorBody),
        (status = 404, description = "not_found: not one of your projects, or no such endpoint in it", body = ErrorBody)
    ),
    security(("developerSession" = []))
)]
fn update_webhook_endpoint() {}

/// Deletes an endpoint; what it still had to receive fails (the events stay in the log).
#[utoipa::path(
    delete, path = "/webhook-endpoints/{endpoint_id}", tag = "webhooks", operation_id = "deleteWebhookEndpoint",
    params(("endpoint_id" = String, Path, description = "`we_…`"), super::webhooks::ProjectKeyQuery),
    responses(
        (status = 200, description = "Deleted", body = super::webhooks::EndpointDeleted),
        (status = 404, description = "not_found: not one of your projects, or no such endpoint in it", body = ErrorBody)
    ),
    security(("developerSession" = []))
)]
fn delete_webhook_endpoint() {}

/// A new signing secret (in this answer only). The old one signs beside it for `graceHours`
/// (24 by default, 0 to 168): each delivery then carries both signatures.
#[utoipa::path(
    post, path = "/webhook-endpoints/{endpoint_id}/rotate-secret", tag = "webhooks", operation_id = "rotateWebhookSecret",
    params(("endpoint_id" = String, Path, description = "`we_…`")),
    request_body = super::webhooks::RotateSecretRequest,
    responses(
        (status = 200, description = "Rotated; the new secret is shown once", body = super::webhooks::EndpointWithSecret),
        (status = 400, description = "invalid_request: `graceHours` out of range", body = ErrorBody),
        (status = 404, description = "not_found: not one of your projects, or no such endpoint in it", body = ErrorBody)
    ),
    security(("developerSession" = []))
)]
fn rotate_webhook_secret() {}

/// Sends an `endpoint.test` event to the endpoint now (whatever types it subscribes to).
#[utoipa::path(
    post, path = "/webhook-endpoints/{endpoint_id}/test", tag = "webhooks", operation_id = "sendTestEvent",
    params(("endpoint_id" = String, Path, description = "`we_…`"), super::webhooks::ProjectKeyQuery),
    responses(
        (status = 200, description = "Queued; see it in the event log", body = super::webhooks::TestEventSent),
        (status = 404, description = "not_found: not one of your projects, or no such endpoint in it", body = ErrorBody),
        (status = 409, description = "conflict: the endpoint is disabled", body = ErrorBody)
    ),
    security(("developerSession" = []))
)]
fn send_test_event() {}

/// The project's events, newest first, each with its deliveries; filter by type or delivery
/// status. Kept 30 days.
#[utoipa::path(
    get, path = "/events", tag = "webhooks", operation_id = "listEvents",
    params(super::webhooks::EventQuery),
    responses(
        (status = 200, description = "A page of events", body = super::webhooks::EventList),
        (status = 400, description = "invalid_request: an unknown type or status, a bad cursor or limit", body = ErrorBody),
        (status = 404, description = "not_found: not one of your projects", body = ErrorBody)
    ),
    security(("developerSession" = []))
)]
fn list_events() {}

/// One event as it was sent, its deliveries and every attempt (status, latency, the first bytes
/// of the answer).
#[utoipa::path(
    get, path = "/events/{event_id}", tag = "webhooks", operation_id = "getEvent",
    params(("event_id" = String, Path, description = "`evt_…`"), super::webhooks::ProjectKeyQuery),
    responses(
        (status = 200, description = "The event", body = super::webhooks::EventDetail),
        (status = 404, description = "not_found: not one of your projects, or no such event in it", body = ErrorBody)
    ),
    security(("developerSession" = []))
)]
fn get_event() {}

/// Sends the event again, with the same id (receivers deduplicate by it): to `endpointId`, or to
/// every enabled endpoint it was sent to.
#[utoipa::path(
    post, path = "/events/{event_id}/replay", tag = "webhooks", operation_id = "replayEvent",
    params(("event_id" = String, Path, description = "`evt_…`")),
    request_body = super::webhooks::ReplayRequest,
    responses(
        (status = 200, description = "Scheduled", body = super::webhooks::Replayed),
        (status = 404, description = "not_found: not one of your projects, or no such event or endpoint in it", body = ErrorBody),
        (status = 409, description = "conflict: the endpoint is disabled", body = ErrorBody)
    ),
    security(("developerSession" = []))
)]
fn replay_event() {}

/// Sends again every failed delivery of the events since `since` (to one endpoint, or all
/// enabled ones), up to 1,000 a call.
#[utoipa::path(
    post, path = "/events/replay-failed", tag = "webhooks", operation_id = "replayFailedEvents",
    request_body = super::webhooks::ReplayFailedRequest,
    responses(
        (status = 200, description = "Scheduled", body = super::webhooks::Replayed),
        (status = 400, description = "invalid_request: `since` is not an RFC 3339 UTC time", body = ErrorBody),
        (status = 404, description = "not_found: not one of your projects, or no such endpoint in it", body = ErrorBody)
    ),
    security(("developerSession" = []))
)]
fn replay_failed_events() {}

// ---- front-auth-api -----------------------------------------------------------------------

#[derive(OpenApi)]
#[openapi(
    paths(
        generate_platform_id, get_credentials, list_projects, developer_dashboard, platform_checkout,
        platform_webhook, upload_asset, delete_asset, show_team, invite_member, revoke_invitation,
        accept_invitation, set_member_role, remove_member, audit_log, export_data, health
    ),
    components(schemas(crate::exports::ExportFormat)),
    tags(
        (name = "team", description = "The organization: members, roles, invitations, the audit log and exports"),
        (name = "platform", description = "The developer's account, keys and projects"),
        (name = "billing", description = "The developer's $15/month plan"),
        (name = "assets", description = "Product images"),
        (name = "webhooks", description = "Stripe's deliveries (signature-checked)")
    )
)]
struct FrontAuthApi;

/// Creates the developer's `plt_` id once; later calls return it.
#[utoipa::path(
    post, path = "/generate-platform-id", tag = "platform", operation_id = "generatePlatformId",
    responses(
        (status = 200, description = "The platform", body = PlatformIdentity),
        (status = 503, description = "unavailable: the sign-in provider is down; retry after `Retry-After` seconds", body = ErrorBody)
    ),
    security(("developerSession" = []))
)]
fn generate_platform_id() {}

/// The plan, Stripe connection and publishable keys; secret keys are never shown again.
#[utoipa::path(
    get, path = "/get-credentials", tag = "platform", operation_id = "getCredentials",
    responses(
        (status = 200, description = "Credentials", body = Credentials),
        (status = 404, description = "not_found: no platform yet", body = ErrorBody)
    ),
    security(("developerSession" = []))
)]
fn get_credentials() {}

/// Every project with its test and live key sets.
#[utoipa::path(
    get, path = "/projects", tag = "platform", operation_id = "listProjects",
    responses(
        (status = 200, description = "Projects", body = ProjectTree),
        (status = 404, description = "not_found: no platform yet", body = ErrorBody)
    ),
    security(("developerSession" = []))
)]
fn list_projects() {}

/// One of the developer's projects' figures (as api-multi's `GET /api/dashboard`).
#[utoipa::path(
    get, path = "/dashboard", tag = "platform", operation_id = "projectDashboard",
    params(ProjectQuery),
    responses(
        (status = 200, description = "The figures", body = ProjectDashboard),
        (status = 404, description = "not_found: not one of your projects", body = ErrorBody)
    ),
    security(("developerSession" = []))
)]
fn developer_dashboard() {}

/// A Stripe Checkout page for the developer's plan (never a second paid subscription).
#[utoipa::path(
    post, path = "/create-checkout", tag = "billing", operation_id = "platformCheckout",
    request_body(content = Option<PlatformCheckoutRequest>, description = "Optional return URLs on the dashboard's origin"),
    responses(
        (status = 200, description = "Send the developer to `url`", body = PlatformCheckout),
        (status = 404, description = "not_found: no platform yet", body = ErrorBody),
        (status = 409, description = "conflict: already paid, or a paid session is being applied", body = ErrorBody),
        (status = 502, description = "stripe_error", body = ErrorBody)
    ),
    security(("developerSession" = []))
)]
fn platform_checkout() {}

/// The platform account's Stripe events (the developers' own subscriptions).
#[utoipa::path(
    post, path = "/webhook/stripe", tag = "webhooks", operation_id = "platformWebhook",
    params(("Stripe-Signature" = String, Header, description = "`t=…,v1=…`, checked over the raw body")),
    request_body(content = Object, description = "A Stripe event"),
    responses((status = 200, description = "Received", body = PlatformEventReceived))
)]
fn platform_webhook() {}

/// Uploads a product image (PNG, JPEG, WebP or GIF; at most 5 MB; 200 images / 100 MB each).
#[utoipa::path(
    post, path = "/upload-asset", tag = "assets", operation_id = "uploadAsset",
    params(UploadQuery),
    request_body(content = Vec<u8>, description = "The image bytes", content_type = "application/octet-stream"),
    responses(
        (status = 200, description = "Stored; use `url` as a product's `imageUrl`", body = AssetUploaded),
        (status = 403, description = "quota_exceeded (the body's `quota`), or the plan is not paid", body = ErrorBody),
        (status = 404, description = "not_found: no platform yet", body = ErrorBody),
        (status = 415, description = "invalid_request: not an image type we take", body = ErrorBody)
    ),
    security(("developerSession" = []))
)]
fn upload_asset() {}

/// Deletes one of the developer's images and gives its room back.
#[utoipa::path(
    delete, path = "/upload-asset", tag = "assets", operation_id = "deleteAsset",
    params(DeleteAssetQuery),
    responses(
        (status = 200, description = "Deleted", body = AssetDeleted),
        (status = 404, description = "not_found: not one of your images", body = ErrorBody)
    ),
    security(("developerSession" = []))
)]
fn delete_asset() {}

/// The organization the session opened: the caller's role, the members, pending invitations.
#[utoipa::path(
    get, path = "/team", tag = "team", operation_id = "getTeam",
    responses(
        (status = 200, description = "The team", body = super::team::TeamView),
        (status = 404, description = "not_found: no platform yet", body = ErrorBody)
    ),
    security(("developerSession" = []))
)]
fn show_team() {}

/// Invites someone by email with a role (owners only). The sign-in service emails the link;
/// the person accepts by signing in with that email.
#[utoipa::path(
    post, path = "/team/invitations", tag = "team", operation_id = "inviteMember",
    request_body = super::team::InviteRequest,
    responses(
        (status = 200, description = "Invited", body = super::team::InvitationCreated),
        (status = 409, description = "conflict: a member or a pending invitation has that email already, or the organization is full (`maxMembers`)", body = ErrorBody),
        (status = 422, description = "invalid_request: the JSON does not fit the schema (an unknown role)", body = ErrorBody),
        (status = 503, description = "unavailable: the sign-in provider is down; retry after `Retry-After` seconds", body = ErrorBody)
    ),
    security(("developerSession" = []))
)]
fn invite_member() {}

/// Takes back a pending invitation (owners only).
#[utoipa::path(
    delete, path = "/team/invitations/{invitation_id}", tag = "team", operation_id = "revokeInvitation",
    params(("invitation_id" = String, Path, description = "`inv_…`")),
    responses(
        (status = 200, description = "Revoked", body = super::team::InvitationRevoked),
        (status = 404, description = "not_found: no such invitation in this organization", body = ErrorBody),
        (status = 409, description = "conflict: accepted or revoked already", body = ErrorBody)
    ),
    security(("developerSession" = []))
)]
fn revoke_invitation() {}

/// Joins the organization: only someone signed in with the invited email, once, before it expires.
#[utoipa::path(
    post, path = "/team/invitations/{invitation_id}/accept", tag = "team", operation_id = "acceptInvitation",
    params(("invitation_id" = String, Path, description = "`inv_…`, from the invitation's link")),
    responses(
        (status = 200, description = "A member now", body = super::team::InvitationAccepted),
        (status = 403, description = "forbidden: the invitation is for another email", body = ErrorBody),
        (status = 404, description = "not_found: no such invitation", body = ErrorBody),
        (status = 409, description = "conflict: accepted, revoked or expired; or a member already", body = ErrorBody)
    ),
    security(("developerSession" = []))
)]
fn accept_invitation() {}

/// Changes a member's role (owners only); the last owner stays an owner.
#[utoipa::path(
    put, path = "/team/members/{user_id}", tag = "team", operation_id = "setMemberRole",
    params(("user_id" = String, Path, description = "The member's user id")),
    request_body = super::team::RoleChange,
    responses(
        (status = 200, description = "Saved", body = super::team::MemberSaved),
        (status = 404, description = "not_found: no such member", body = ErrorBody),
        (status = 409, description = "conflict: it would leave no owner", body = ErrorBody),
        (status = 422, description = "invalid_request: the JSON does not fit the schema (an unknown role)", body = ErrorBody)
    ),
    security(("developerSession" = []))
)]
fn set_member_role() {}

/// Removes a member (owners), or leaves (anyone, for themselves). Access ends with this request.
#[utoipa::path(
    delete, path = "/team/members/{user_id}", tag = "team", operation_id = "removeMember",
    params(("user_id" = String, Path, description = "The member's user id")),
    responses(
        (status = 200, description = "Removed", body = super::team::MemberRemoved),
        (status = 404, description = "not_found: no such member", body = ErrorBody),
        (status = 409, description = "conflict: the last owner cannot leave or be removed", body = ErrorBody)
    ),
    security(("developerSession" = []))
)]
fn remove_member() {}

/// Every change to the platform, newest first: who, with which role, what before and after.
#[utoipa::path(
    get, path = "/audit-log", tag = "team", operation_id = "auditLog",
    params(super::team::AuditQuery),
    responses(
        (status = 200, description = "A page of entries", body = super::team::AuditPage),
        (status = 404, description = "not_found: no platform yet", body = ErrorBody)
    ),
    security(("developerSession" = []))
)]
fn audit_log() {}

/// A file of one project's `customers`, `subscriptions`, `orders` or `usage`, or of the
/// `audit-log`, as CSV (RFC 4180, formula-like cells prefixed with `'`) or one JSON array,
/// streamed a page of rows at a time.
#[utoipa::path(
    get, path = "/exports/{kind}", tag = "team", operation_id = "exportData",
    params(("kind" = String, Path, description = "customers, subscriptions, orders, usage or audit-log"), super::team::ExportQuery),
    responses(
        (status = 200, description = "The file (`Content-Disposition: attachment`)", content(
            (String = "text/csv"),
            (Vec<Object> = "application/json")
        )),
        (status = 404, description = "not_found: no such export, or not one of your projects", body = ErrorBody)
    ),
    security(("developerSession" = []))
)]
fn export_data() {}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn every_document_declares_exactly_its_path_parameters() {
        for worker in WORKERS {
            let doc = document(worker).expect("a document");
            assert_eq!(path_parameter_problems(&doc), Vec::<String>::new(), "{worker}");
        }
    }

    #[test]
    fn a_query_parameter_declared_in_path_is_a_problem() {
        let doc = json!({"paths": {
            "/tiers": {"delete": {"parameters": [{"in": "path", "name": "name"}, {"in": "query", "name": "pk"}]}},
            "/assets/{id}": {"get": {"parameters": []}},
            "/ok/{id}": {"get": {"parameters": [{"in": "path", "name": "id"}]}},
        }});
        let problems = path_parameter_problems(&doc);
        assert_eq!(problems.len(), 2, "{problems:?}");
        assert!(
            problems.iter().any(|p| p.contains("delete /tiers: `name`")),
            "{problems:?}"
        );
        assert!(
            problems.iter().any(|p| p.contains("get /assets/{id}: {id}")),
            "{problems:?}"
        );
    }
}
