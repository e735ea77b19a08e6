//! Test and demo projects. Until the project-creation API exists (issue 4), projects are inserted
//! through wrangler's local D1, exactly as `wrangler d1 execute --local` would by hand; the
//! workers have no test-only routes.

use std::path::PathBuf;

use serde_json::Value;
use shared::{
    keys::{KeyPair, random_id},
    mode::{Mode, ProjectType},
};

use crate::stack::{config_path, run_wrangler};

/// Each `wrangler d1 execute` starts its own miniflare; one at a time keeps a 2-core machine sane.
static D1_LOCK: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

/// The local D1 database of a running stack.
#[derive(Debug, Clone)]
pub struct LocalD1 {
    pub state_dir: PathBuf,
}

impl LocalD1 {
    /// Runs SQL and returns the rows of every statement, concatenated.
    pub async fn execute(&self, sql: &str) -> Result<Vec<Value>, String> {
        let _guard = D1_LOCK.lock().await;
        let state = self.state_dir.display().to_string();
        let out = run_wrangler(&[
            "d1",
            "execute",
            "DB",
            "--local",
            "--persist-to",
            &state,
            "-c",
            &config_path("api-multi"),
            "--json",
            "--command",
            sql,
        ])
        .await?;
        let parsed: Value = serde_json::from_str(&out).map_err(|e| format!("wrangler --json output: {e}: {out}"))?;
        Ok(parsed
            .as_array()
            .into_iter()
            .flatten()
            .flat_map(|r| r["results"].as_array().cloned().unwrap_or_default())
            .collect())
    }
}

/// SQL string literal. Fixture values are generated or fixed by tests, but quote anyway.
fn lit(text: &str) -> String {
    format!("'{}'", text.replace('\'', "''"))
}

#[derive(Debug, Clone)]
pub struct TierSpec {
    pub name: &'static str,
    pub limit: Option<u64>,
    pub price_cents: i64,
    pub inventory: Option<i64>,
}

impl TierSpec {
    pub const fn saas(name: &'static str, limit: Option<u64>, price_cents: i64) -> Self {
        Self {
            name,
            limit,
            price_cents,
            inventory: None,
        }
    }
}

/// The spec's demo tiers: free (100 requests) and pro (10000).
pub const DEMO_TIERS: [TierSpec; 2] = [
    TierSpec::saas("free", Some(100), 0),
    TierSpec::saas("pro", Some(10_000), 1500),
];

/// A project key set as its developer holds it after creation.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TestProject {
    pub platform_id: String,
    pub project_id: String,
    pub project_type: ProjectType,
    pub publishable_key: String,
    pub secret_key: String,
}

impl TestProject {
    pub fn bearer(&self) -> String {
        format!("Bearer {}", self.secret_key)
    }
}

fn project_sql(
    platform_id: &str,
    project_id: &str,
    name: &str,
    kind: ProjectType,
    keys: &KeyPair,
    tiers: &[TierSpec],
) -> String {
    let now = lit("2026-01-01T00:00:00Z");
    let mode = keys.publishable.mode();
    let pk = lit(keys.publishable.as_str());
    let mut sql = format!(
        "INSERT OR IGNORE INTO platforms (platformId, clerkUserId, createdAt) VALUES ({p}, {c}, {now}); \
         INSERT INTO api_keys (publishableKey, platformId, projectId, projectType, mode, name, secretKeyHash, createdAt, updatedAt) \
         VALUES ({pk}, {p}, {prj}, {kind}, {mode}, {name}, {hash}, {now}, {now});",
        p = lit(platform_id),
        c = lit(&format!("user_fixture_{platform_id}")),
        prj = lit(project_id),
        kind = lit(kind.as_str()),
        mode = lit(mode.as_str()),
        name = lit(name),
        hash = lit(keys.secret.hash().as_str()),
    );
    for tier in tiers {
        sql.push_str(&format!(
            " INSERT INTO tiers (publishableKey, name, platformId, projectType, mode, displayName, priceCents, \"limit\", inventory, createdAt, updatedAt) \
             VALUES ({pk}, {n}, {p}, {kind}, {mode}, {d}, {price}, {limit}, {inv}, {now}, {now});",
            n = lit(tier.name),
            p = lit(platform_id),
            kind = lit(kind.as_str()),
            mode = lit(mode.as_str()),
            d = lit(&tier.name.to_uppercase()),
            price = tier.price_cents,
            limit = tier.limit.map_or("NULL".to_owned(), |l| l.to_string()),
            inv = tier.inventory.map_or("NULL".to_owned(), |i| i.to_string()),
        ));
    }
    sql
}

impl LocalD1 {
    /// A new developer platform with one project in `mode`.
    pub async fn create_project(
        &self,
        kind: ProjectType,
        mode: Mode,
        tiers: &[TierSpec],
    ) -> Result<TestProject, String> {
        let platform_id = random_id("plt");
        let project_id = random_id("prj");
        self.insert(&platform_id, &project_id, kind, mode, tiers).await
    }

    /// The other mode's key set of an existing project (what promote-to-live will create).
    pub async fn add_mode(&self, project: &TestProject, mode: Mode, tiers: &[TierSpec]) -> Result<TestProject, String> {
        self.insert(
            &project.platform_id,
            &project.project_id,
            project.project_type,
            mode,
            tiers,
        )
        .await
    }

    async fn insert(
        &self,
        platform_id: &str,
        project_id: &str,
        kind: ProjectType,
        mode: Mode,
        tiers: &[TierSpec],
    ) -> Result<TestProject, String> {
        let keys = KeyPair::generate(mode);
        self.execute(&project_sql(
            platform_id,
            project_id,
            "Fixture project",
            kind,
            &keys,
            tiers,
        ))
        .await?;
        Ok(TestProject {
            platform_id: platform_id.to_owned(),
            project_id: project_id.to_owned(),
            project_type: kind,
            publishable_key: keys.publishable.as_str().to_owned(),
            secret_key: keys.secret.expose().to_owned(),
        })
    }

    pub async fn revoke(&self, project: &TestProject) -> Result<(), String> {
        self.execute(&format!(
            "UPDATE api_keys SET status = 'revoked' WHERE publishableKey = {}",
            lit(&project.publishable_key)
        ))
        .await
        .map(|_| ())
    }

    pub async fn project_exists(&self, publishable_key: &str) -> Result<bool, String> {
        let rows = self
            .execute(&format!(
                "SELECT 1 AS found FROM api_keys WHERE publishableKey = {} AND status = 'active'",
                lit(publishable_key)
            ))
            .await?;
        Ok(!rows.is_empty())
    }
}
