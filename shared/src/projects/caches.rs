//! What api-multi keeps of a project that a change must reach: its KV entries by secret key
//! (`storage::project_cache`), and every isolate's memory (`storage::project_memory`), which the
//! change reaches through the project's usage counters: each is told the change's time, and a
//! count made with a configuration read before it is refused as stale and read from D1 again.

use crate::{
    runtime::clock,
    storage::{Database, project_cache::Cache},
    usage::counters::Counters,
};
use dream_core::{keys::PublishableKey, usage::layout::CounterLayout};

pub struct ProjectCaches {
    /// api-multi's cache of projects by secret key (`TOKENS_KV`).
    pub keys: Cache,
    /// api-multi's usage counters (`USAGE_COUNTERS`, bound by `script_name`); without them
    /// isolates see a change within the cache's TTL.
    counters: Option<Counters>,
}

impl ProjectCaches {
    pub fn new(keys: Cache, counters: Option<Counters>) -> Self {
        Self { keys, counters }
    }

    /// No KV and no counters (the native tests of the use cases).
    pub fn none() -> Self {
        Self::new(Cache::none(), None)
    }

    /// After a committed change of the project's configuration (an edit, a rotation, a
    /// revocation): every counter of its layout is told. Never fails the change: a counter not
    /// told is logged, and its isolates see the change within the cache's TTL.
    pub async fn changed(&self, db: &Database, project: &PublishableKey) {
        let Some(counters) = &self.counters else { return };
        let layout = match db.counter_layout(project).await {
            Ok(stored) => stored.map(|s| s.layout).unwrap_or_default(),
            Err(e) => {
                crate::runtime::log::error(&format!(
                    "reading the counter layout of {} to tell its counters of a change: {e}",
                    project.as_str()
                ));
                CounterLayout::default()
            }
        };
        counters.config_changed(project, &[&layout], clock::now_millis()).await;
    }

    /// After a new counter layout: the counters of the layout it replaced are told (an isolate
    /// still holding that layout calls them; the new layout's counters only ever hear from
    /// isolates that read it).
    pub async fn layout_changed(&self, project: &PublishableKey, previous: &CounterLayout) {
        if let Some(counters) = &self.counters {
            counters.config_changed(project, &[previous], clock::now_millis()).await;
        }
    }
}
