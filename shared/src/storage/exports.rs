//! The rows of an export, a page at a time in key order (each page one statement that starts
//! after the previous page's last key), scoped like every tenant read.

use serde_json::{Map, Value};

use super::{Database, PlatformScope, ProjectScope, SqlParam};
use dream_core::{error::ApiResult, exports::ExportKind};

/// ?1 publishableKey, ?2 the last userId read ('' first), ?3 rows.
pub const EXPORT_CUSTOMERS: &str = "\
SELECT userId, email, firstName, lastName, plan, stripeCustomerId, createdAt, updatedAt
FROM customers WHERE publishableKey = ?1 AND userId > ?2 ORDER BY userId LIMIT ?3";

pub const EXPORT_SUBSCRIPTIONS: &str = "\
SELECT subscriptionId, userId, plan, status, amount, currency, mrrCents, currentPeriodStart, currentPeriodEnd,
  cancelAtPeriodEnd, canceledAt, trialStart, trialEnd, trialConvertedAt, stripeCustomerId, updatedAt
FROM subscriptions WHERE publishableKey = ?1 AND subscriptionId > ?2 ORDER BY subscriptionId LIMIT ?3";

pub const EXPORT_ORDERS: &str = "\
SELECT orderId, status, email, currency, amountCents, paidCents, taxCents, refundedCents, disputedCents,
  paymentIntent, createdAt, paidAt
FROM orders WHERE publishableKey = ?1 AND orderId > ?2 ORDER BY orderId LIMIT ?3";

/// After (?2 userId, ?4 periodStart, ?5 meter); ?6 a `YYYY-MM` the periods start in, or NULL.
pub const EXPORT_USAGE: &str = "\
SELECT userId, periodStart, periodEnd, meter, plan, usageCount, updatedAt
FROM usage_counts WHERE publishableKey = ?1 AND (userId, periodStart, meter) > (?2, ?4, ?5)
  AND (?6 IS NULL OR substr(periodStart, 1, 7) = ?6)
ORDER BY userId, periodStart, meter LIMIT ?3";

/// ?1 platformId, ?2 the last auditId read (0 first), ?3 rows, ?4 one project's key or NULL.
pub const EXPORT_AUDIT_LOG: &str = "\
SELECT auditId, createdAt, actorId, actorEmail, actorRole, action, publishableKey, mode, target,
  changes_json AS changes, requestId
FROM audit_log WHERE platformId = ?1 AND auditId > ?2 AND (?4 IS NULL OR publishableKey = ?4)
ORDER BY auditId LIMIT ?3";

/// Where an export reads: one project's rows, or one platform's audit log.
pub struct ExportSource {
    db: Database,
    kind: ExportKind,
    /// The publishable key, or for the audit log the platform id.
    tenant: String,
    /// The audit log of one project only; the month of a usage export.
    filter: Option<String>,
    /// Where the next page starts: the previous page's last key.
    after: Vec<Value>,
    /// The first page, read before the answer starts (so its failure is an error status).
    prefetched: Option<Vec<Map<String, Value>>>,
}

impl ProjectScope {
    /// An export of this project's `kind` rows (`month`: usage of periods starting in it).
    pub fn export(&self, kind: ExportKind, month: Option<String>) -> ExportSource {
        ExportSource {
            db: self.db.clone(),
            kind,
            tenant: self.project.publishable_key.as_str().to_owned(),
            filter: month,
            after: Vec::new(),
            prefetched: None,
        }
    }
}

impl PlatformScope {
    /// An export of the platform's audit log, or of one of its projects' entries.
    pub fn export_audit_log(&self, project: Option<String>) -> ExportSource {
        ExportSource {
            db: self.db.clone(),
            kind: ExportKind::AuditLog,
            tenant: self.platform.platform_id.clone(),
            filter: project,
            after: Vec::new(),
            prefetched: None,
        }
    }
}

impl ExportSource {
    pub fn kind(&self) -> ExportKind {
        self.kind
    }

    /// Reads the first page now: a database failure is then the request's error, not a file
    /// that stops midway.
    pub async fn prefetch(&mut self, rows: i64) -> ApiResult<()> {
        let first = self.next_page(rows).await?;
        self.prefetched = Some(first);
        Ok(())
    }

    /// The next page of rows (empty at the end).
    pub async fn next_page(&mut self, rows: i64) -> ApiResult<Vec<Map<String, Value>>> {
        if let Some(page) = self.prefetched.take() {
            return Ok(page);
        }
        let after = |i: usize, first: Value| -> SqlParam {
            match self.after.get(i).unwrap_or(&first) {
                Value::Number(n) => SqlParam::from(n.as_i64().unwrap_or(0)),
                Value::String(s) => SqlParam::from(s.as_str()),
                _ => SqlParam::from(""),
            }
        };
        let tenant = SqlParam::from(self.tenant.as_str());
        let (sql, params, key): (&'static str, Vec<SqlParam>, &[&str]) = match self.kind {
            ExportKind::Customers => (
                EXPORT_CUSTOMERS,
                vec![tenant, after(0, "".into()), rows.into()],
                &["userId"],
            ),
            ExportKind::Subscriptions => (
                EXPORT_SUBSCRIPTIONS,
                vec![tenant, after(0, "".into()), rows.into()],
                &["subscriptionId"],
            ),
            ExportKind::Orders => (
                EXPORT_ORDERS,
                vec![tenant, after(0, "".into()), rows.into()],
                &["orderId"],
            ),
            ExportKind::Usage => (
                EXPORT_USAGE,
                vec![
                    tenant,
                    after(0, "".into()),
                    rows.into(),
                    after(1, "".into()),
                    after(2, "".into()),
                    self.filter.clone().into(),
                ],
                &["userId", "periodStart", "meter"],
            ),
            ExportKind::AuditLog => (
                EXPORT_AUDIT_LOG,
                vec![tenant, after(0, 0.into()), rows.into(), self.filter.clone().into()],
                &["auditId"],
            ),
        };
        let mut page: Vec<Map<String, Value>> = self.db.all(sql, &params).await?;
        if self.kind == ExportKind::AuditLog {
            // Stored as JSON text: exported as the object it is.
            for row in &mut page {
                if let Some(Value::String(text)) = row.get("changes") {
                    let parsed = serde_json::from_str(text).unwrap_or(Value::Null);
                    row.insert("changes".to_owned(), parsed);
                }
            }
        }
        if let Some(last) = page.last() {
            self.after = key
                .iter()
                .map(|k| last.get(*k).cloned().unwrap_or(Value::Null))
                .collect();
        }
        Ok(page)
    }
}
