//! A project's customers: who they are (email, Clerk identity, the plan given at creation), their
//! Stripe customer and their open subscription checkout.

use serde::{Deserialize, Serialize};

use super::{
    ProjectScope, SqlParam,
    webhooks::{Emit, push_event, queued},
};
use dream_core::{error::ApiResult, period::Timestamp, webhooks::Event};

/// Inserts a customer unless the id or the email is already taken in the project (a retried
/// create). ?1 publishableKey, ?2 userId, ?3 platformId, ?4 email, ?5 clerkUserId, ?6 firstName,
/// ?7 lastName, ?8 plan, ?9 now.
pub const INSERT_CUSTOMER: &str = "\
INSERT INTO customers (publishableKey, userId, platformId, email, clerkUserId, firstName, lastName, plan, createdAt, updatedAt)
VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?9)
ON CONFLICT DO NOTHING";

macro_rules! select_customer {
    ($condition:literal) => {
        concat!(
            "SELECT userId, email, clerkUserId, firstName, lastName, plan, stripeCustomerId, checkoutSessionId, createdAt ",
            "FROM customers WHERE publishableKey = ?1 AND ",
            $condition
        )
    };
}

pub const SELECT_CUSTOMER: &str = select_customer!("userId = ?2");

/// Customers the project added since ?2. ?1 publishableKey.
pub const COUNT_CUSTOMERS_SINCE: &str =
    "SELECT COUNT(*) AS added FROM customers WHERE publishableKey = ?1 AND createdAt > ?2";

pub const SELECT_CUSTOMER_BY_EMAIL: &str = select_customer!("email = ?2");

/// Records the user's Stripe customer once; concurrent first checkouts converge on the first.
/// ?1 publishableKey, ?2 userId, ?3 platformId, ?4 stripeCustomerId, ?5 now.
pub const SET_STRIPE_CUSTOMER: &str = "\
INSERT INTO customers (publishableKey, userId, platformId, stripeCustomerId, createdAt, updatedAt)
VALUES (?1, ?2, ?3, ?4, ?5, ?5)
ON CONFLICT (publishableKey, userId) DO UPDATE
SET stripeCustomerId = COALESCE(customers.stripeCustomerId, excluded.stripeCustomerId), updatedAt = excluded.updatedAt";

/// Replaces the user's checkout session only if it is still the one we read (?3), so two
/// concurrent checkouts cannot both leave a payable session behind. Two requests that created
/// the same session (same idempotency key) both succeed. ?1 publishableKey, ?2 userId,
/// ?3 expected current session (NULL: none), ?4 new session, ?5 now.
pub const SWAP_CHECKOUT_SESSION: &str = "\
UPDATE customers SET checkoutSessionId = ?4, updatedAt = ?5
WHERE publishableKey = ?1 AND userId = ?2 AND (checkoutSessionId IS ?3 OR checkoutSessionId = ?4)";

/// A customer as the API returns it.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Customer {
    pub user_id: String,
    pub email: Option<String>,
    pub clerk_user_id: Option<String>,
    pub first_name: Option<String>,
    pub last_name: Option<String>,
    pub plan: Option<String>,
    pub stripe_customer_id: Option<String>,
    pub checkout_session_id: Option<String>,
    pub created_at: String,
}

/// A new customer's row.
#[derive(Debug, Clone)]
pub struct NewCustomer<'a> {
    pub user_id: &'a str,
    pub email: &'a str,
    pub clerk_user_id: &'a str,
    pub first_name: Option<&'a str>,
    pub last_name: Option<&'a str>,
    pub plan: Option<&'a str>,
}

impl ProjectScope {
    pub async fn customer(&self, user_id: &str) -> ApiResult<Option<Customer>> {
        self.db.first(SELECT_CUSTOMER, &[self.pk(), user_id.into()]).await
    }

    pub async fn customers_added_since(&self, since: Timestamp) -> ApiResult<i64> {
        #[derive(Deserialize)]
        struct Count {
            added: i64,
        }
        let row: Option<Count> = self
            .db
            .first(COUNT_CUSTOMERS_SINCE, &[self.pk(), since.to_rfc3339().into()])
            .await?;
        Ok(row.map_or(0, |r| r.added))
    }

    pub async fn customer_by_email(&self, email: &str) -> ApiResult<Option<Customer>> {
        self.db
            .first(SELECT_CUSTOMER_BY_EMAIL, &[self.pk(), email.into()])
            .await
    }

    /// Inserts the customer, or keeps the one already there, with its `customer.created` event
    /// in the same batch; returns whether it was new and whether a delivery is due.
    pub async fn insert_customer(
        &self,
        new: &NewCustomer<'_>,
        event: &Event,
        now: Timestamp,
    ) -> ApiResult<(bool, bool)> {
        let params = [
            self.pk(),
            new.user_id.into(),
            self.project.platform_id.as_str().into(),
            new.email.into(),
            new.clerk_user_id.into(),
            new.first_name.into(),
            new.last_name.into(),
            new.plan.into(),
            now.to_rfc3339().into(),
        ];
        let mut statements = vec![(INSERT_CUSTOMER, params.to_vec())];
        let queue = push_event(&mut statements, event, Emit::IfChanged, now);
        let results = self.db.batch(&statements).await?;
        let created = results.first().is_some_and(|r| r.changes() > 0);
        Ok((created, queued(&results, &[queue])))
    }

    /// Stores the user's Stripe customer (creating the customer row if needed) and returns the
    /// one that stands: the first recorded, if two checkouts raced.
    pub async fn remember_stripe_customer(
        &self,
        user_id: &str,
        stripe_customer: &str,
        now: Timestamp,
    ) -> ApiResult<Option<Customer>> {
        let params = [
            self.pk(),
            user_id.into(),
            self.project.platform_id.as_str().into(),
            stripe_customer.into(),
            now.to_rfc3339().into(),
        ];
        self.db.run(SET_STRIPE_CUSTOMER, &params).await?;
        self.customer(user_id).await
    }

    /// See `SWAP_CHECKOUT_SESSION`; false when another checkout replaced the session first.
    pub async fn swap_checkout_session(
        &self,
        user_id: &str,
        expected: Option<&str>,
        new_session: &str,
        now: Timestamp,
    ) -> ApiResult<bool> {
        let params = [
            self.pk(),
            user_id.into(),
            SqlParam::from(expected),
            new_session.into(),
            now.to_rfc3339().into(),
        ];
        let result = self.db.run(SWAP_CHECKOUT_SESSION, &params).await?;
        Ok(result.changes() > 0)
    }
}
