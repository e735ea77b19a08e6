//! The Clerk side: two instances, `dream-api` (developers) and `end-user-api` (end users),
//! each under `/clerk/<instance>` with its own RS256 key, users, organizations, sign-in page and
//! the Backend API subset the platform uses.

pub mod error;
pub mod keys;
pub mod organizations;
pub mod reset;
pub mod signin;
pub mod tokens;
pub mod users;

use std::collections::BTreeMap;
use std::sync::Arc;

use axum::Router;
use axum::routing::{get, patch, post};
use serde::{Deserialize, Serialize};

use crate::App;
use crate::ids::IdGen;
use error::ClerkError;
use organizations::{OrgInvitation, OrgMembership, Organization};
use users::User;

pub const INSTANCES: [&str; 2] = ["dream-api", "end-user-api"];

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ClerkInstance {
    pub name: String,
    pub kid: String,
    /// The key is derived from this seed the first time it is needed, then kept as PEM so
    /// restarts with `--state-file` keep verifying old tokens.
    pub key_seed: u64,
    pub private_key_pem: Option<String>,
    pub users: BTreeMap<String, User>,
    pub seq: u64,
    /// The emails the instance "sent" (verification codes), newest last; tests read them.
    #[serde(default)]
    pub outbox: Vec<reset::SentEmail>,
    /// Organizations, memberships and invitations by id (`org_`, `orgmem_`, `orginv_`).
    #[serde(default)]
    pub organizations: BTreeMap<String, Organization>,
    #[serde(default)]
    pub org_memberships: BTreeMap<String, OrgMembership>,
    #[serde(default)]
    pub org_invitations: BTreeMap<String, OrgInvitation>,
    /// The role an organization's creator gets; `None`: `org:admin`, Clerk's default.
    #[serde(default)]
    pub creator_role: Option<String>,
}

impl ClerkInstance {
    /// Without users and everything about them (emails, organizations); the key stays.
    pub fn without_users(mut self) -> Self {
        self.users.clear();
        self.outbox.clear();
        self.organizations.clear();
        self.org_memberships.clear();
        self.org_invitations.clear();
        self.creator_role = None;
        self
    }
}

pub fn instances(ids: &mut IdGen) -> BTreeMap<String, ClerkInstance> {
    INSTANCES
        .iter()
        .map(|name| {
            let instance = ClerkInstance {
                name: name.to_string(),
                kid: ids.id("ins_", 27),
                key_seed: ids.next_u64(),
                private_key_pem: None,
                users: BTreeMap::new(),
                seq: 0,
                outbox: Vec::new(),
                organizations: BTreeMap::new(),
                org_memberships: BTreeMap::new(),
                org_invitations: BTreeMap::new(),
                creator_role: None,
            };
            (name.to_string(), instance)
        })
        .collect()
}

/// The instance named in the path, or Clerk's 404.
pub fn check_instance(name: &str) -> Result<(), ClerkError> {
    if INSTANCES.contains(&name) {
        Ok(())
    } else {
        Err(ClerkError::not_found(&format!(
            "No Clerk instance named {name:?} (try dream-api or end-user-api)"
        )))
    }
}

/// `http://127.0.0.1:<port>/clerk/<instance>`: the issuer of its tokens.
pub fn issuer(base_url: &str, instance: &str) -> String {
    format!("{base_url}/clerk/{instance}")
}

pub fn router(_app: Arc<App>) -> Router<Arc<App>> {
    Router::new()
        .route("/clerk/{instance}/.well-known/jwks.json", get(keys::jwks))
        .route("/clerk/{instance}/v1/jwks", get(keys::jwks_backend))
        .route(
            "/clerk/{instance}/sign-in",
            get(signin::page_route).post(signin::submit),
        )
        .route(
            "/clerk/{instance}/reset-password",
            get(reset::page_route).post(reset::send_code),
        )
        .route("/clerk/{instance}/reset-password/verify", post(reset::verify))
        .route("/clerk/{instance}/_emulator/emails", get(reset::outbox))
        .route("/clerk/{instance}/_emulator/tokens", post(tokens::control))
        .route("/clerk/{instance}/v1/users", get(users::list).post(users::create))
        .route(
            "/clerk/{instance}/v1/users/{id}",
            get(users::retrieve).patch(users::update).delete(users::delete),
        )
        .route(
            "/clerk/{instance}/v1/users/{id}/metadata",
            patch(users::update_metadata),
        )
        .route(
            "/clerk/{instance}/v1/users/{id}/organization_memberships",
            get(organizations::memberships::of_user),
        )
        .route("/clerk/{instance}/v1/organizations", post(organizations::create))
        .route(
            "/clerk/{instance}/v1/organizations/{org}",
            get(organizations::retrieve)
                .patch(organizations::update)
                .delete(organizations::delete),
        )
        .route(
            "/clerk/{instance}/v1/organizations/{org}/invitations",
            get(organizations::invitations::list).post(organizations::invitations::create),
        )
        .route(
            "/clerk/{instance}/v1/organizations/{org}/invitations/{inv}",
            get(organizations::invitations::retrieve),
        )
        .route(
            "/clerk/{instance}/v1/organizations/{org}/invitations/{inv}/revoke",
            post(organizations::invitations::revoke),
        )
        .route(
            "/clerk/{instance}/v1/organizations/{org}/memberships",
            get(organizations::memberships::list).post(organizations::memberships::create),
        )
        .route(
            "/clerk/{instance}/v1/organizations/{org}/memberships/{user}",
            patch(organizations::memberships::update).delete(organizations::memberships::delete),
        )
        .route(
            "/clerk/{instance}/accept-invitation",
            get(organizations::accept::page_route).post(organizations::accept::submit),
        )
        .route(
            "/clerk/{instance}/_emulator/organization_settings",
            get(organizations::settings).post(organizations::set_settings),
        )
        .route(
            "/clerk/{instance}/_emulator/organization_invitations/{inv}/expire",
            post(organizations::invitations::expire),
        )
}
