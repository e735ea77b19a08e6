//! Developers' customers.

use serde::{Deserialize, Serialize};
use serde_json::Value;

/// The body of `POST /api/customers`.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct CreateCustomerRequest {
    pub email: String,
    /// Refused (400): only the customer sets their password. Read only to say so.
    #[serde(default)]
    #[cfg_attr(feature = "openapi", schema(ignore))]
    pub password: Option<Value>,
    #[serde(default)]
    pub first_name: Option<String>,
    #[serde(default)]
    pub last_name: Option<String>,
    #[serde(default)]
    pub plan: Option<String>,
}

/// A customer as the API shows it.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct CustomerView {
    pub id: String,
    pub email: Option<String>,
    pub first_name: Option<String>,
    pub last_name: Option<String>,
    pub plan: String,
    pub created_at: String,
}
