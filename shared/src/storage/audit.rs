//! The audit log: who changed what on a platform, written in the same D1 batch as the change
//! (a change without its entry cannot commit, nor an entry without its change).

use serde::Deserialize;
use serde_json::Value;

use super::{PlatformScope, SqlParam, Statement};
use dream_core::{
    api::team::{AuditActor, AuditEntryView, AuditQuery},
    error::ApiResult,
    mode::Mode,
    period::Timestamp,
    team::Role,
};

macro_rules! insert_audit {
    ($condition:literal) => {
        concat!(
            "INSERT INTO audit_log (platformId, actorId, actorEmail, actorRole, action, publishableKey, mode, target, ",
            "changes_json, requestId, createdAt) SELECT ?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11",
            $condition
        )
    };
}

/// ?1 platformId, ?2 actorId, ?3 actorEmail, ?4 actorRole, ?5 action, ?6 publishableKey, ?7 mode,
/// ?8 target, ?9 changes_json, ?10 requestId, ?11 now.
pub const INSERT_AUDIT: &str = insert_audit!("");

/// As `INSERT_AUDIT`, only if the batch's previous statement changed a row: a conditional
/// change that did not happen (a concurrent edit won) leaves no entry.
pub const INSERT_AUDIT_IF_CHANGED: &str = insert_audit!(" WHERE changes() > 0");

/// A page of the platform's entries, newest first, after cursor ?2 (an auditId; NULL: from the
/// newest), filtered by ?3 action (or its prefix ending in `.`), ?4 actor, ?5 project, ?6 mode,
/// ?7 since; ?8 rows.
pub const SELECT_AUDIT_PAGE: &str = "\
SELECT auditId, actorId, actorEmail, actorRole, action, publishableKey, mode, target, changes_json, requestId, createdAt
FROM audit_log
WHERE platformId = ?1 AND (?2 IS NULL OR auditId < ?2)
  AND (?3 IS NULL OR action = ?3 OR (substr(?3, -1) = '.' AND substr(action, 1, length(?3)) = ?3))
  AND (?4 IS NULL OR actorId = ?4 OR actorEmail = ?4)
  AND (?5 IS NULL OR publishableKey = ?5) AND (?6 IS NULL OR mode = ?6) AND (?7 IS NULL OR createdAt >= ?7)
ORDER BY auditId DESC LIMIT ?8";

/// Who did it: a member (as the session and the membership said at the time) or the staff.
#[derive(Debug, Clone)]
pub struct Actor {
    pub platform_id: String,
    pub id: String,
    pub email: Option<String>,
    pub role: Option<Role>,
    pub request_id: String,
}

impl Actor {
    /// An entry by this actor, to complete and hand to the write it records.
    pub fn entry(&self, action: &'static str, now: Timestamp) -> AuditEntry {
        AuditEntry {
            actor: self.clone(),
            action,
            project: None,
            target: None,
            changes: Value::Object(Default::default()),
            at: now,
        }
    }
}

/// One change, as the log records it.
#[derive(Debug, Clone)]
pub struct AuditEntry {
    actor: Actor,
    action: &'static str,
    project: Option<(String, Mode)>,
    target: Option<String>,
    changes: Value,
    at: Timestamp,
}

impl AuditEntry {
    pub fn project(mut self, publishable_key: &str, mode: Mode) -> Self {
        self.project = Some((publishable_key.to_owned(), mode));
        self
    }

    pub fn target(mut self, target: impl Into<String>) -> Self {
        self.target = Some(target.into());
        self
    }

    /// What changed: the values before and after (`null` when there was none), never a secret.
    pub fn changes(mut self, before: impl serde::Serialize, after: impl serde::Serialize) -> Self {
        self.changes = serde_json::json!({ "before": before, "after": after });
        self
    }

    pub fn action(&self) -> &'static str {
        self.action
    }

    fn params(&self) -> Vec<SqlParam> {
        let (pk, mode) = match &self.project {
            Some((pk, mode)) => (Some(pk.clone()), Some(mode.as_str().to_owned())),
            None => (None, None),
        };
        vec![
            self.actor.platform_id.clone().into(),
            self.actor.id.clone().into(),
            self.actor.email.clone().into(),
            self.actor.role.map(|r| r.as_str().to_owned()).into(),
            self.action.into(),
            pk.into(),
            mode.into(),
            self.target.clone().into(),
            self.changes.to_string().into(),
            self.actor.request_id.clone().into(),
            self.at.to_rfc3339().into(),
        ]
    }

    /// The entry's statement, to append to the batch of the change it records.
    pub(crate) fn statement(&self) -> Statement {
        (INSERT_AUDIT, self.params())
    }

    /// The entry's statement, written only if the batch's previous statement changed a row.
    pub(crate) fn statement_if_changed(&self) -> Statement {
        (INSERT_AUDIT_IF_CHANGED, self.params())
    }
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct AuditRow {
    audit_id: i64,
    actor_id: String,
    actor_email: Option<String>,
    actor_role: Option<String>,
    action: String,
    publishable_key: Option<String>,
    mode: Option<String>,
    target: Option<String>,
    #[serde(rename = "changes_json")]
    changes_json: String,
    request_id: String,
    created_at: String,
}

impl From<AuditRow> for AuditEntryView {
    fn from(row: AuditRow) -> Self {
        AuditEntryView {
            id: row.audit_id.to_string(),
            actor: AuditActor {
                id: row.actor_id,
                email: row.actor_email,
                role: row.actor_role.as_deref().and_then(Role::parse),
            },
            action: row.action,
            publishable_key: row.publishable_key,
            mode: row.mode.as_deref().and_then(Mode::parse),
            target: row.target,
            changes: serde_json::from_str(&row.changes_json).unwrap_or(Value::Null),
            request_id: row.request_id,
            created_at: row.created_at,
        }
    }
}

impl super::ProjectScope {
    /// Records an act on the project that changes no configuration (a test event, a replay),
    /// once it is done.
    pub async fn record(&self, entry: &AuditEntry) -> ApiResult<()> {
        self.db.batch(&[entry.statement()]).await.map(|_| ())
    }

    /// A change the developer's server made with the project's secret key: the log's actor
    /// is the key itself (`secret_key`), in the key's project and mode.
    pub fn secret_key_entry(&self, action: &'static str, request_id: &str, now: Timestamp) -> AuditEntry {
        let project = self.project();
        Actor {
            platform_id: project.platform_id.clone(),
            id: "secret_key".to_owned(),
            email: None,
            role: None,
            request_id: request_id.to_owned(),
        }
        .entry(action, now)
        .project(project.publishable_key.as_str(), project.publishable_key.mode())
    }
}

impl PlatformScope {
    /// Records an entry on its own: for an act that changes nothing in D1 (an export).
    pub async fn record(&self, entry: &AuditEntry) -> ApiResult<()> {
        self.db.batch(&[entry.statement()]).await.map(|_| ())
    }

    /// One page of the log, newest first; `query.limit` rows at most (validated by the caller).
    pub async fn audit_page(&self, query: &AuditQuery, limit: i64) -> ApiResult<Vec<AuditEntryView>> {
        // Checked by `AuditQuery::checked_limit`.
        let cursor = query.before.as_deref().and_then(|c| c.parse::<i64>().ok());
        let rows: Vec<AuditRow> = self
            .db
            .all(
                SELECT_AUDIT_PAGE,
                &[
                    self.platform.platform_id.as_str().into(),
                    cursor.into(),
                    query.action.clone().into(),
                    query.actor.clone().into(),
                    query.publishable_key.clone().into(),
                    query.mode.map(|m| m.as_str()).into(),
                    query.since.clone().into(),
                    limit.into(),
                ],
            )
            .await?;
        Ok(rows.into_iter().map(AuditEntryView::from).collect())
    }
}
