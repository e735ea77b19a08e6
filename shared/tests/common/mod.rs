//! What the native SQL tests share: the real migrations in SQLite (D1 is SQLite), parameters
//! bound exactly as production binds them, and projects inserted as project creation does.
#![allow(dead_code)]

use std::path::PathBuf;

use dream_core::{
    keys::KeyPair,
    mode::{Mode, ProjectType},
    period::Timestamp,
};
use rusqlite::{Connection, types::Value};
use shared::storage::{Project, SqlParam};

pub const NOW: Timestamp = Timestamp(1_795_306_426);

pub fn to_values(params: &[SqlParam]) -> Vec<Value> {
    params
        .iter()
        .map(|p| match p {
            SqlParam::Text(s) => Value::Text(s.clone()),
            SqlParam::Int(n) => Value::Integer(*n),
            SqlParam::Null => Value::Null,
        })
        .collect()
}

pub fn migrations() -> String {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../migrations");
    let mut files: Vec<_> = std::fs::read_dir(dir).unwrap().map(|e| e.unwrap().path()).collect();
    files.sort();
    files
        .iter()
        .map(|f| std::fs::read_to_string(f).unwrap())
        .collect::<Vec<_>>()
        .join("\n")
}

pub fn open(path: Option<&std::path::Path>) -> Connection {
    let conn = match path {
        Some(p) => Connection::open(p).unwrap(),
        None => Connection::open_in_memory().unwrap(),
    };
    conn.busy_timeout(std::time::Duration::from_secs(30)).unwrap();
    conn.execute_batch("PRAGMA foreign_keys = ON;").unwrap();
    conn
}

pub fn migrated(path: Option<&std::path::Path>) -> Connection {
    let conn = open(path);
    conn.execute_batch(&migrations()).unwrap();
    conn
}

/// Inserts a platform and a SaaS project, as project creation does.
pub fn project(conn: &Connection, mode: Mode) -> Project {
    let keys = KeyPair::generate(mode);
    let platform = format!("plt_{}", &keys.secret.hash().as_str()[..16]);
    let now = NOW.to_rfc3339();
    conn.execute(
        "INSERT OR IGNORE INTO platforms (platformId, clerkUserId, createdAt) VALUES (?1, ?1, ?2)",
        (&platform, &now),
    )
    .unwrap();
    conn.execute(
        "INSERT INTO api_keys (publishableKey, platformId, projectId, projectType, mode, name, secretKeyHash, createdAt, updatedAt)
         VALUES (?1, ?2, ?3, 'saas', ?4, 'Demo', ?5, ?6, ?6)",
        (keys.publishable.as_str(), &platform, format!("prj_{platform}"), mode.as_str(), keys.secret.hash().as_str(), &now),
    )
    .unwrap();
    Project {
        publishable_key: keys.publishable,
        platform_id: platform,
        project_type: ProjectType::Saas,
    }
}

/// A usage counter's storage as the Durable Object creates it.
pub fn counter_db(path: Option<&std::path::Path>) -> Connection {
    let conn = open(path);
    conn.execute_batch(shared::storage::usage::COUNTER_SCHEMA).unwrap();
    conn.execute(shared::storage::usage::INIT_COUNTER_STATE, [NOW.0])
        .unwrap();
    conn
}

/// A SaaS project as a counter is told about it (counters hold no project table).
pub fn counter_project(mode: Mode) -> Project {
    let keys = KeyPair::generate(mode);
    Project {
        platform_id: format!("plt_{}", &keys.secret.hash().as_str()[..16]),
        publishable_key: keys.publishable,
        project_type: ProjectType::Saas,
    }
}
