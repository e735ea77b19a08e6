//! Developers' platforms: identity, the $15 plan, the Stripe Connect link and OAuth states.
//! Reached through a `PlatformScope`, which only a verified developer session (or a consumed
//! OAuth state) can build; webhook lookups go by Stripe ids taken from signed events.

use serde::Deserialize;

use super::{Database, SqlParam};
use dream_core::{
    error::{ApiError, ApiResult},
    period::Timestamp,
};

pub const INSERT_PLATFORM: &str = "\
INSERT INTO platforms (platformId, clerkUserId, createdAt, updatedAt) VALUES (?1, ?2, ?3, ?3)
ON CONFLICT (clerkUserId) DO NOTHING";

/// Every lookup of a platform reads the same columns (those of `Platform`).
macro_rules! select_platform {
    ($condition:literal) => {
        concat!(
            "SELECT platformId, clerkUserId, plan, stripeCustomerId, stripeSubscriptionId, checkoutSessionId, planEndedAt, clerkOrgId ",
            "FROM platforms WHERE ",
            $condition
        )
    };
}

pub const SELECT_PLATFORM_BY_USER: &str = select_platform!("clerkUserId = ?1");

pub const SELECT_PLATFORM_BY_SUBSCRIPTION: &str = select_platform!("stripeSubscriptionId = ?1");

pub const SELECT_PLATFORM_BY_CUSTOMER: &str = select_platform!("stripeCustomerId = ?1");

pub const REMEMBER_CHECKOUT: &str = "UPDATE platforms SET checkoutSessionId = ?2 WHERE platformId = ?1";

pub const SELECT_PLATFORM_BY_ID: &str = select_platform!("platformId = ?1");

/// Applies a plan change from a Stripe event unless a newer event was already applied. A paid
/// plan turning free records when it ended (the live keys' grace period starts there): Stripe's
/// `ended_at`, else now; paid clears it. ?1 platformId, ?2 plan, ?3 customer, ?4 subscription,
/// ?5 event created, ?6 now, ?7 when the subscription ended (NULL: unknown).
pub const APPLY_PLAN: &str = "\
UPDATE platforms SET plan = ?2, stripeCustomerId = COALESCE(?3, stripeCustomerId),
  planEndedAt = CASE WHEN ?2 = 'paid' THEN NULL WHEN plan = 'paid' THEN COALESCE(?7, ?6) ELSE planEndedAt END,
  stripeSubscriptionId = COALESCE(?4, stripeSubscriptionId), planEventCreated = ?5, updatedAt = ?6
WHERE platformId = ?1 AND planEventCreated <= ?5";

/// Records a processed webhook event; a replay inserts nothing. ?1 eventId, ?2 source, ?3 type,
/// ?4 platformId, ?5 publishableKey, ?6 payload, ?7 now.
pub const RECORD_EVENT: &str = "\
INSERT INTO events (eventId, source, type, platformId, publishableKey, payload_json, createdAt)
VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7) ON CONFLICT (eventId) DO NOTHING";

/// Connects account ?2 to platform ?1 (a reconnection clears a revocation), unless another
/// developer has it connected: checked by the statement itself.
/// ?1 platformId, ?2 stripeUserId, ?3 scope, ?4 livemode, ?5 now.
pub const UPSERT_STRIPE_CONNECTION: &str = "\
INSERT INTO stripe_tokens (platformId, stripeUserId, scope, livemode, createdAt, updatedAt)
SELECT ?1, ?2, ?3, ?4, ?5, ?5
WHERE NOT EXISTS (SELECT 1 FROM stripe_tokens WHERE stripeUserId = ?2 AND platformId <> ?1 AND revokedAt IS NULL)
ON CONFLICT (platformId) DO UPDATE SET stripeUserId = excluded.stripeUserId, scope = excluded.scope,
  livemode = excluded.livemode, updatedAt = excluded.updatedAt, revokedAt = NULL";

/// The platform's connected account, unless its owner revoked our access.
pub const SELECT_STRIPE_CONNECTION: &str =
    "SELECT stripeUserId FROM stripe_tokens WHERE platformId = ?1 AND revokedAt IS NULL";

/// The connected account of project ?1's developer, while connected: where a usage counter
/// reports the project's overage.
pub const SELECT_PROJECT_STRIPE_ACCOUNT: &str = "\
SELECT t.stripeUserId FROM api_keys k JOIN stripe_tokens t ON t.platformId = k.platformId
WHERE k.publishableKey = ?1 AND t.revokedAt IS NULL";

/// The account the platform connected last, revoked or not: its projects' products live there.
pub const SELECT_LAST_STRIPE_ACCOUNT: &str = "SELECT stripeUserId FROM stripe_tokens WHERE platformId = ?1";

/// The owner of account ?1 revoked our access (`account.application.deauthorized`, created at
/// ?3), recorded at ?2; a connection made after the event (a retried delivery arriving late)
/// stands.
pub const REVOKE_STRIPE_ACCOUNT: &str = "\
UPDATE stripe_tokens SET revokedAt = ?2, updatedAt = ?2
WHERE stripeUserId = ?1 AND revokedAt IS NULL AND updatedAt <= ?3";

pub const INSERT_OAUTH_STATE: &str = "\
INSERT INTO oauth_states (nonce, platformId, expiresAt, createdAt) VALUES (?1, ?2, ?3, ?4)";

/// Consumes a state exactly once, only before it expires and only for the platform it was
/// issued to. ?1 nonce, ?2 now, ?3 platformId.
pub const CONSUME_OAUTH_STATE: &str = "\
UPDATE oauth_states SET usedAt = ?2
WHERE nonce = ?1 AND platformId = ?3 AND usedAt IS NULL AND expiresAt > ?2 RETURNING platformId";

/// Whose state a nonce is (to tell another developer's state from a used or unknown one).
pub const SELECT_OAUTH_STATE_OWNER: &str = "SELECT platformId FROM oauth_states WHERE nonce = ?1";

#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Platform {
    pub platform_id: String,
    pub clerk_user_id: String,
    pub plan: String,
    pub stripe_customer_id: Option<String>,
    pub stripe_subscription_id: Option<String>,
    pub checkout_session_id: Option<String>,
    /// When a paid plan last turned free (NULL while paid).
    pub plan_ended_at: Option<String>,
    /// The platform's Clerk organization, once its owner first invited someone.
    #[serde(default)]
    pub clerk_org_id: Option<String>,
}

impl Platform {
    pub fn is_paid(&self) -> bool {
        self.plan == "paid"
    }
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct ConnectionRow {
    stripe_user_id: String,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct StateRow {
    platform_id: String,
}

/// A plan change derived from a Stripe event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlanChange<'a> {
    pub platform_id: &'a str,
    pub paid: bool,
    /// When Stripe says the last subscription ended (a lapsed plan's grace starts there).
    pub ended_at: Option<Timestamp>,
    pub customer: Option<&'a str>,
    pub subscription: Option<&'a str>,
    pub event_id: &'a str,
    pub event_type: &'a str,
    pub event_created: i64,
    pub payload: &'a str,
}

impl Database {
    /// Creates the developer's platform once, with them as its owner; concurrent calls
    /// converge on one row (and one owner, one audit entry).
    pub(crate) async fn ensure_platform(
        &self,
        new_id: &str,
        clerk_user_id: &str,
        email: Option<&str>,
        audit: &super::audit::AuditEntry,
        now: Timestamp,
    ) -> ApiResult<Platform> {
        let now = now.to_rfc3339();
        let statements = [
            (
                INSERT_PLATFORM,
                vec![new_id.into(), clerk_user_id.into(), now.as_str().into()],
            ),
            (
                super::team::INSERT_FIRST_OWNER,
                vec![new_id.into(), clerk_user_id.into(), email.into(), now.as_str().into()],
            ),
            audit.statement_if_changed(),
            (SELECT_PLATFORM_BY_USER, vec![clerk_user_id.into()]),
        ];
        let results = self.batch(&statements).await?;
        results
            .get(3)
            .map(|r| r.rows::<Platform>())
            .transpose()?
            .and_then(|rows| rows.into_iter().next())
            .ok_or_else(|| ApiError::internal("platform row missing after insert"))
    }

    /// Webhook handling: which platform a Stripe object belongs to, by the platform id we put in
    /// its metadata, else by the subscription or customer we recorded.
    pub(crate) async fn platform_for_billing(
        &self,
        platform_id: Option<&str>,
        subscription: Option<&str>,
        customer: Option<&str>,
    ) -> ApiResult<Option<Platform>> {
        if let Some(id) = platform_id
            && let Some(platform) = self.first(SELECT_PLATFORM_BY_ID, &[id.into()]).await?
        {
            return Ok(Some(platform));
        }
        if let Some(sub) = subscription
            && let Some(platform) = self.first(SELECT_PLATFORM_BY_SUBSCRIPTION, &[sub.into()]).await?
        {
            return Ok(Some(platform));
        }
        match customer {
            Some(customer) => self.first(SELECT_PLATFORM_BY_CUSTOMER, &[customer.into()]).await,
            None => Ok(None),
        }
    }

    pub(crate) async fn platform_by_id(&self, platform_id: &str) -> ApiResult<Option<Platform>> {
        self.first(SELECT_PLATFORM_BY_ID, &[platform_id.into()]).await
    }

    /// Records the event and applies the plan change in one transaction. A replayed event
    /// re-applies identical values, and an older event never overwrites a newer one (the
    /// `planEventCreated` guard), so replays and reordering are harmless. Returns whether the
    /// event was new.
    pub(crate) async fn apply_plan_change(&self, change: &PlanChange<'_>, now: Timestamp) -> ApiResult<bool> {
        let now_text = SqlParam::from(now.to_rfc3339());
        let statements = [
            (
                RECORD_EVENT,
                vec![
                    change.event_id.into(),
                    "stripe_platform".into(),
                    change.event_type.into(),
                    change.platform_id.into(),
                    SqlParam::Null,
                    change.payload.into(),
                    now_text.clone(),
                ],
            ),
            (
                APPLY_PLAN,
                vec![
                    change.platform_id.into(),
                    (if change.paid { "paid" } else { "free" }).into(),
                    change.customer.into(),
                    change.subscription.into(),
                    change.event_created.into(),
                    now_text,
                    change.ended_at.map(|t| t.to_rfc3339()).into(),
                ],
            ),
        ];
        let results = self.batch(&statements).await?;
        let recorded = results.first().map_or(0, super::Executed::changes);
        Ok(recorded > 0)
    }
}

impl super::PlatformScope {
    pub async fn stripe_account(&self) -> ApiResult<Option<String>> {
        let row: Option<ConnectionRow> = self
            .db
            .first(SELECT_STRIPE_CONNECTION, &[self.platform.platform_id.as_str().into()])
            .await?;
        Ok(row.map(|r| r.stripe_user_id))
    }

    /// The account connected last, even if its owner revoked our access since.
    pub async fn last_stripe_account(&self) -> ApiResult<Option<String>> {
        let row: Option<ConnectionRow> = self
            .db
            .first(SELECT_LAST_STRIPE_ACCOUNT, &[self.platform.platform_id.as_str().into()])
            .await?;
        Ok(row.map(|r| r.stripe_user_id))
    }

    pub async fn save_stripe_connection(
        &self,
        account: &str,
        scope: Option<&str>,
        livemode: bool,
        audit: &super::audit::AuditEntry,
        now: Timestamp,
    ) -> ApiResult<()> {
        let params = [
            self.platform.platform_id.as_str().into(),
            account.into(),
            scope.into(),
            i64::from(livemode).into(),
            now.to_rfc3339().into(),
        ];
        let result = self
            .db
            .run_audited(UPSERT_STRIPE_CONNECTION, &params, Some(audit))
            .await?;
        if result.changes() == 0 {
            return Err(ApiError::conflict(
                "This Stripe account is connected to another dream-api account; disconnect it there first",
            ));
        }
        Ok(())
    }

    pub async fn remember_checkout(&self, session_id: &str) -> ApiResult<()> {
        self.db
            .run(
                REMEMBER_CHECKOUT,
                &[self.platform.platform_id.as_str().into(), session_id.into()],
            )
            .await?;
        Ok(())
    }

    /// Consumes an OAuth state nonce issued to this platform, once, before it expires.
    pub async fn redeem_oauth_state(&self, nonce: &str, now: Timestamp) -> ApiResult<StateRedemption> {
        let params = [
            nonce.into(),
            now.to_rfc3339().into(),
            self.platform.platform_id.as_str().into(),
        ];
        if self.db.first::<StateRow>(CONSUME_OAUTH_STATE, &params).await?.is_some() {
            return Ok(StateRedemption::Redeemed);
        }
        let owner: Option<StateRow> = self.db.first(SELECT_OAUTH_STATE_OWNER, &[nonce.into()]).await?;
        Ok(match owner {
            Some(row) if row.platform_id != self.platform.platform_id => StateRedemption::OtherPlatform,
            _ => StateRedemption::Unusable,
        })
    }

    pub async fn record_oauth_state(&self, nonce: &str, expires: Timestamp, now: Timestamp) -> ApiResult<()> {
        let params = [
            nonce.into(),
            self.platform.platform_id.as_str().into(),
            expires.to_rfc3339().into(),
            now.to_rfc3339().into(),
        ];
        self.db.run(INSERT_OAUTH_STATE, &params).await?;
        Ok(())
    }
}

/// What redeeming an OAuth state nonce found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StateRedemption {
    Redeemed,
    /// Genuine, but issued to another developer's session: not consumed.
    OtherPlatform,
    /// Unknown, expired or already used.
    Unusable,
}

impl Database {
    /// `account.application.deauthorized`: the event recorded and the account's connection
    /// revoked, in one batch. False for a redelivery (nothing changed).
    pub async fn revoke_stripe_account(
        &self,
        account: &str,
        (event_id, created): (&str, Timestamp),
        payload: &str,
        now: Timestamp,
    ) -> ApiResult<bool> {
        let now = now.to_rfc3339();
        let results = self
            .batch(&[
                (
                    RECORD_EVENT,
                    vec![
                        event_id.into(),
                        "stripe_connect".into(),
                        "account.application.deauthorized".into(),
                        SqlParam::Null,
                        SqlParam::Null,
                        payload.into(),
                        now.as_str().into(),
                    ],
                ),
                (
                    REVOKE_STRIPE_ACCOUNT,
                    vec![account.into(), now.as_str().into(), created.to_rfc3339().into()],
                ),
            ])
            .await?;
        Ok(results.first().map(super::Executed::changes) == Some(1))
    }
}

impl super::Database {
    /// See [`SELECT_PROJECT_STRIPE_ACCOUNT`]. Unscoped: a usage counter holds one project and
    /// reads the account for it alone.
    pub(crate) async fn stripe_account_of_project(
        &self,
        project: &dream_core::keys::PublishableKey,
    ) -> ApiResult<Option<String>> {
        let row: Option<ConnectionRow> = self
            .first(SELECT_PROJECT_STRIPE_ACCOUNT, &[project.as_str().into()])
            .await?;
        Ok(row.map(|r| r.stripe_user_id))
    }
}
