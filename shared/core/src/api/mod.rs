//! The public API's request and response bodies: what the handlers of the three workers parse
//! and serialize, and, with `--features openapi`, what the OpenAPI documents describe (one set
//! of types for both, so the documents cannot drift from the code; see `openapi`).

pub mod customers;
pub mod entitlements;
pub mod errors;
pub mod events;
pub mod figures;
#[cfg(feature = "openapi")]
pub mod openapi;
pub mod projects;
pub mod promotions;
pub mod store;
pub mod subscriptions;
pub mod team;
pub mod usage;
pub mod webhooks;
pub mod widget;

use serde::{Deserialize, Serialize};

use self::{
    customers::CustomerView,
    events::Outcome,
    projects::{AssetUsage, CreatedKeySet, GracePeriod, ProjectView, QUOTA},
    store::{CartStarted, Product},
    subscriptions::{CheckoutStarted, SubscriptionView},
    usage::UsageReport,
};
use crate::{
    mode::{Mode, ProjectType},
    tiers::{
        PlanHeader, Tier, TierName,
        input::TierInput,
        tax::{TaxBehavior, TaxSettings},
    },
};

/// `GET /health` of every worker.
#[derive(Debug, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Health {
    pub status: &'static str,
    /// Which worker answered (a check that the URL points where you think).
    pub worker: &'static str,
}

// ---- api-multi (secret key) ---------------------------------------------------------------

/// `POST /api/data` and `GET /api/usage`.
#[derive(Debug, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct UsageResponse {
    pub success: bool,
    pub usage: UsageReport,
}

#[derive(Debug, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct CustomerCreated {
    pub success: bool,
    /// `false` when a customer with this email already existed in the project (a retry).
    pub created: bool,
    pub customer: CustomerView,
}

#[derive(Debug, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct CheckoutResponse {
    pub success: bool,
    #[serde(flatten)]
    pub checkout: CheckoutStarted,
}

#[derive(Debug, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct PortalResponse {
    pub success: bool,
    /// Stripe's billing portal for the customer; send them there.
    pub url: String,
}

#[derive(Debug, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct PlanChanged {
    pub success: bool,
    /// `false` when the subscription already was on that tier.
    pub changed: bool,
    pub subscription: SubscriptionView,
}

#[derive(Debug, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ProductList {
    pub success: bool,
    pub products: Vec<Product>,
}

#[derive(Debug, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct CartCheckoutResponse {
    pub success: bool,
    #[serde(flatten)]
    pub checkout: CartStarted,
}

#[derive(Debug, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct OrderCanceled {
    pub success: bool,
    pub order_id: String,
    /// `expired`: nobody can pay it any more and its stock is available again (also when it
    /// had ended already: `failed` or `expired`).
    pub status: String,
}

/// What api-multi's webhook answers Stripe (shown in Stripe's delivery log).
#[derive(Debug, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ConnectEventReceived {
    pub received: bool,
    pub event: String,
    pub result: Outcome,
}

// ---- oauth-api (developer session) --------------------------------------------------------

#[derive(Debug, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct ConnectLink {
    /// Stripe Connect's authorization page; the dashboard navigates there.
    pub url: String,
    pub expires_at: String,
}

#[derive(Debug, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ConnectCallback {
    pub code: String,
    pub state: String,
}

#[derive(Debug, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct Connected {
    pub connected: bool,
    pub stripe_account_id: String,
    pub livemode: bool,
}

/// `POST /create-products` and `POST /promote-to-live`: the only answers that carry a secret key.
#[derive(Debug, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ProjectCreated {
    pub success: bool,
    pub project: CreatedKeySet,
}

#[derive(Debug, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema, utoipa::IntoParams))]
#[cfg_attr(feature = "openapi", into_params(parameter_in = Query))]
#[serde(rename_all = "camelCase")]
pub struct ProjectQuery {
    pub publishable_key: String,
}

#[derive(Debug, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct TierList {
    pub publishable_key: String,
    pub project_id: String,
    pub name: String,
    pub project_type: ProjectType,
    pub mode: Mode,
    pub tiers: Vec<Tier>,
    /// How far `X-User-Plan` is trusted (`PUT /project-settings`).
    pub plan_header: PlanHeader,
    /// Store projects: the most units one cart may hold; `null`: the platform's bound (1980).
    pub max_cart_units: Option<u32>,
    /// Stripe Tax on checkouts, and whether prices include tax.
    pub tax: TaxSettings,
    /// What the prices are in (chosen when the project was created).
    pub currency: crate::money::Currency,
}

#[derive(Debug, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ProjectSettings {
    pub publishable_key: String,
    /// `trusted` (the default): the developer's server vouches for the plan it names. `capped`:
    /// the header may name the user's own plan or a cheaper one; a pricier one counts on the
    /// user's own plan. Absent: unchanged.
    #[serde(default)]
    pub plan_header: Option<PlanHeader>,
    /// Store projects: the most units one cart may hold (1 to 1980), so one buyer cannot keep
    /// the stock from others while paying; `null`: the platform's bound. Absent: unchanged.
    #[serde(default, deserialize_with = "present")]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<u32>, nullable))]
    pub max_cart_units: Option<Option<u32>>,
    /// Stripe Tax computes and collects tax on checkouts and invoices (checkout then asks for
    /// the customer's address). Absent: unchanged.
    #[serde(default)]
    pub automatic_tax: Option<bool>,
    /// Whether prices include tax (`inclusive`) or have it added (`exclusive`, the default).
    /// A change makes every paid tier's Stripe price again (subscribers keep theirs, as after a
    /// price change). Absent: unchanged.
    #[serde(default)]
    pub tax_behavior: Option<TaxBehavior>,
}

/// A field that may be sent as `null`: `Some(None)`, where an absent one is `None`.
fn present<'de, D: serde::Deserializer<'de>>(deserializer: D) -> Result<Option<Option<u32>>, D::Error> {
    Option::<u32>::deserialize(deserializer).map(Some)
}

#[derive(Debug, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct ProjectSettingsSaved {
    pub success: bool,
    pub publishable_key: String,
    pub plan_header: PlanHeader,
    pub max_cart_units: Option<u32>,
    pub tax: TaxSettings,
}

#[derive(Debug, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct TierChange {
    pub publishable_key: String,
    pub tier: TierInput,
}

#[derive(Debug, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct TierSaved {
    pub success: bool,
    pub tier: Tier,
}

#[derive(Debug, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::IntoParams))]
#[cfg_attr(feature = "openapi", into_params(parameter_in = Query))]
#[serde(rename_all = "camelCase")]
pub struct TierRef {
    pub publishable_key: String,
    #[cfg_attr(feature = "openapi", param(value_type = String))]
    pub name: TierName,
}

#[derive(Debug, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct TierDeleted {
    pub success: bool,
    pub deleted: TierName,
}

#[derive(Debug, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct PromoteRequest {
    pub publishable_key: String,
    /// The live tiers, when they differ from the test project's.
    #[serde(default)]
    pub tiers: Option<Vec<TierInput>>,
}

#[derive(Debug, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct RotateRequest {
    pub publishable_key: String,
    #[serde(default)]
    pub grace_period: GracePeriod,
}

/// An open Store order to cancel from the dashboard.
#[derive(Debug, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct CancelOrderRequest {
    pub publishable_key: String,
    pub order_id: String,
}

/// A paid Store order to refund (all that is left of its payment) from the dashboard.
#[derive(Debug, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct RefundOrderRequest {
    pub publishable_key: String,
    pub order_id: String,
    /// Return the order's units to its products' stock (once). An order that was paid beyond
    /// the stock left for it (`shortUnits`) cannot: it is a 409, and nothing is refunded.
    pub restock: bool,
}

#[derive(Debug, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ExpirePreviousKeyRequest {
    pub publishable_key: String,
}

#[derive(Debug, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct PreviousKeyExpired {
    pub success: bool,
    pub publishable_key: String,
    /// When the previous secret key stopped working: now.
    pub previous_key_expired_at: String,
}

#[derive(Debug, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct KeyRotated {
    pub success: bool,
    pub publishable_key: String,
    pub mode: Mode,
    /// Shown once, here; only its hash is kept.
    pub secret_key: String,
    /// Until when the replaced key still works; `null`: it stopped at once.
    pub previous_key_expires_at: Option<String>,
}

// ---- front-auth-api (developer session) ---------------------------------------------------

#[derive(Debug, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct PlatformIdentity {
    pub platform_id: String,
    pub plan: String,
    pub created: bool,
    /// The caller's role in the platform's organization: what the dashboard offers them.
    pub role: crate::team::Role,
}

#[derive(Debug, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct Credentials {
    pub platform_id: String,
    pub plan: String,
    /// When a paid plan ended (`null` while paid or never paid).
    pub plan_ended_at: Option<String>,
    /// When live keys stop answering because the plan lapsed (`null` while paid).
    pub live_keys_pause_at: Option<String>,
    pub stripe_connected: bool,
    pub stripe_account_id: Option<String>,
    pub publishable_keys: KeysByMode,
}

#[derive(Debug, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct KeysByMode {
    pub test: Vec<String>,
    pub live: Vec<String>,
}

#[derive(Debug, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct ProjectTree {
    pub platform_id: String,
    pub projects: Vec<ProjectView>,
}

#[derive(Debug, Deserialize, Default)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct PlatformCheckoutRequest {
    /// Must be on the dashboard's origin; defaults to the dashboard.
    pub success_url: Option<String>,
    pub cancel_url: Option<String>,
}

#[derive(Debug, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct PlatformCheckout {
    pub url: String,
    pub session_id: String,
}

/// What front-auth-api's webhook answers Stripe.
#[derive(Debug, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(untagged)]
pub enum PlatformEventReceived {
    #[serde(rename_all = "camelCase")]
    Applied {
        received: bool,
        applied: bool,
        platform_id: String,
        plan: String,
        duplicate: bool,
    },
    Ignored {
        received: bool,
        applied: bool,
        reason: String,
    },
}

#[derive(Debug, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::IntoParams))]
#[cfg_attr(feature = "openapi", into_params(parameter_in = Query))]
pub struct UploadQuery {
    /// The name to keep (sanitized; the extension follows the detected type).
    pub filename: Option<String>,
}

#[derive(Debug, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::IntoParams))]
#[cfg_attr(feature = "openapi", into_params(parameter_in = Query))]
pub struct DeleteAssetQuery {
    /// The `key` an upload returned (`{platformId}/{file}`).
    pub key: String,
}

#[derive(Debug, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct StorageUsage {
    pub images: i64,
    pub bytes: i64,
    pub max_images: i64,
    pub max_bytes: i64,
}

impl From<AssetUsage> for StorageUsage {
    fn from(used: AssetUsage) -> Self {
        Self {
            images: used.images,
            bytes: used.bytes,
            max_images: QUOTA.max_images,
            max_bytes: QUOTA.max_bytes,
        }
    }
}

#[derive(Debug, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct AssetUploaded {
    /// Public URL (api-multi's `/api/assets/...`), for a product's `imageUrl`.
    pub url: String,
    pub key: String,
    pub content_type: String,
    pub size: usize,
    pub quota: StorageUsage,
}

#[derive(Debug, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct AssetDeleted {
    pub deleted: String,
    pub quota: StorageUsage,
}
