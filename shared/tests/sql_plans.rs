//! Every statement of the repository modules, planned by SQLite against the real migrations
//! (or, for the usage counters' statements, the counters' schema): none may read a whole table. A request's cost must depend on the rows it touches, not on how
//! many tenants the platform has (D1 is SQLite; its planner makes the same choices).

mod common;

use shared::storage::{
    assets, audit, customers, exports, maintenance, metrics, orders, platforms, projects, promotions, refunds,
    subscriptions, team, usage, webhooks,
};

/// Every `pub const …: &str` statement in `shared/src/storage/` (checked below against the source,
/// so a new statement cannot skip this test).
const STATEMENTS: &[(&str, &str)] = &[
    ("assets::RESERVE_ASSET", assets::RESERVE_ASSET),
    ("assets::RELEASE_ASSET", assets::RELEASE_ASSET),
    ("assets::SELECT_ASSET", assets::SELECT_ASSET),
    ("assets::SELECT_ASSET_USAGE", assets::SELECT_ASSET_USAGE),
    ("audit::INSERT_AUDIT", audit::INSERT_AUDIT),
    ("audit::INSERT_AUDIT_IF_CHANGED", audit::INSERT_AUDIT_IF_CHANGED),
    ("audit::SELECT_AUDIT_PAGE", audit::SELECT_AUDIT_PAGE),
    ("team::SELECT_MEMBERSHIP", team::SELECT_MEMBERSHIP),
    ("team::INSERT_FIRST_OWNER", team::INSERT_FIRST_OWNER),
    ("team::SET_MEMBER_EMAIL", team::SET_MEMBER_EMAIL),
    ("team::SELECT_MEMBERS", team::SELECT_MEMBERS),
    ("team::SELECT_MEMBER", team::SELECT_MEMBER),
    ("team::SELECT_MEMBER_BY_EMAIL", team::SELECT_MEMBER_BY_EMAIL),
    ("team::SELECT_PENDING_INVITATIONS", team::SELECT_PENDING_INVITATIONS),
    ("team::SELECT_INVITATION", team::SELECT_INVITATION),
    ("team::COUNT_SEATS", team::COUNT_SEATS),
    ("team::SELECT_PLATFORM_OF_ORG", team::SELECT_PLATFORM_OF_ORG),
    ("team::LAPSE_EXPIRED_INVITATION", team::LAPSE_EXPIRED_INVITATION),
    ("team::INSERT_INVITATION", team::INSERT_INVITATION),
    ("team::REVOKE_INVITATION", team::REVOKE_INVITATION),
    ("team::ACCEPT_INVITATION", team::ACCEPT_INVITATION),
    ("team::INSERT_INVITED_MEMBER", team::INSERT_INVITED_MEMBER),
    ("team::SET_MEMBER_ROLE", team::SET_MEMBER_ROLE),
    ("team::DELETE_MEMBER", team::DELETE_MEMBER),
    ("team::SET_CLERK_ORG", team::SET_CLERK_ORG),
    ("exports::EXPORT_CUSTOMERS", exports::EXPORT_CUSTOMERS),
    ("exports::EXPORT_SUBSCRIPTIONS", exports::EXPORT_SUBSCRIPTIONS),
    ("exports::EXPORT_ORDERS", exports::EXPORT_ORDERS),
    ("exports::EXPORT_USAGE", exports::EXPORT_USAGE),
    ("exports::EXPORT_AUDIT_LOG", exports::EXPORT_AUDIT_LOG),
    ("projects::SELECT_WIDGET_KEYS", projects::SELECT_WIDGET_KEYS),
    ("customers::INSERT_CUSTOMER", customers::INSERT_CUSTOMER),
    ("customers::SELECT_CUSTOMER", customers::SELECT_CUSTOMER),
    ("customers::COUNT_CUSTOMERS_SINCE", customers::COUNT_CUSTOMERS_SINCE),
    (
        "customers::SELECT_CUSTOMER_BY_EMAIL",
        customers::SELECT_CUSTOMER_BY_EMAIL,
    ),
    ("customers::SET_STRIPE_CUSTOMER", customers::SET_STRIPE_CUSTOMER),
    ("customers::SWAP_CHECKOUT_SESSION", customers::SWAP_CHECKOUT_SESSION),
    ("maintenance::PURGE_OAUTH_STATES", maintenance::PURGE_OAUTH_STATES),
    (
        "maintenance::SELECT_OLDEST_RAW_MONTH",
        maintenance::SELECT_OLDEST_RAW_MONTH,
    ),
    ("maintenance::ROLL_UP_USAGE_MONTH", maintenance::ROLL_UP_USAGE_MONTH),
    ("maintenance::DELETE_USAGE_MONTH", maintenance::DELETE_USAGE_MONTH),
    ("maintenance::TRIM_EVENT_PAYLOADS", maintenance::TRIM_EVENT_PAYLOADS),
    ("maintenance::PURGE_OLD_AUDIT_ENTRIES", maintenance::PURGE_OLD_AUDIT_ENTRIES),
    ("metrics::SELECT_SAAS_SUMMARY", metrics::SELECT_SAAS_SUMMARY),
    ("metrics::SELECT_CUSTOMER_LIST", metrics::SELECT_CUSTOMER_LIST),
    ("metrics::SELECT_USAGE_BY_MONTH", metrics::SELECT_USAGE_BY_MONTH),
    ("metrics::SELECT_TIER_MIX", metrics::SELECT_TIER_MIX),
    ("orders::SELECT_PRODUCTS", orders::SELECT_PRODUCTS),
    ("orders::INSERT_ORDER", orders::INSERT_ORDER),
    (
        "orders::SELECT_ORDER_BY_IDEMPOTENCY_KEY",
        orders::SELECT_ORDER_BY_IDEMPOTENCY_KEY,
    ),
    ("orders::HOLD_ITEM", orders::HOLD_ITEM),
    ("orders::SELECT_ORDER_TOTAL", orders::SELECT_ORDER_TOTAL),
    ("orders::SET_ORDER_AMOUNT", orders::SET_ORDER_AMOUNT),
    ("orders::OPEN_ORDER", orders::OPEN_ORDER),
    ("orders::RELEASE_ORDER", orders::RELEASE_ORDER),
    ("orders::RECORD_SHORT_UNITS", orders::RECORD_SHORT_UNITS),
    ("orders::CONSUME_STOCK", orders::CONSUME_STOCK),
    ("orders::MARK_PAID", orders::MARK_PAID),
    ("orders::SELECT_SALES_SUMMARY", orders::SELECT_SALES_SUMMARY),
    ("orders::SELECT_RECENT_ORDERS", orders::SELECT_RECENT_ORDERS),
    ("orders::SELECT_REVENUE_BY_DAY", orders::SELECT_REVENUE_BY_DAY),
    ("orders::SELECT_ORDER_STATUS", orders::SELECT_ORDER_STATUS),
    ("orders::SELECT_OPEN_ORDERS", orders::SELECT_OPEN_ORDERS),
    ("refunds::SELECT_PAID_ORDER", refunds::SELECT_PAID_ORDER),
    ("refunds::RECORD_REFUNDED", refunds::RECORD_REFUNDED),
    ("refunds::RECORD_DISPUTE", refunds::RECORD_DISPUTE),
    ("refunds::RESTOCK_ITEMS", refunds::RESTOCK_ITEMS),
    ("refunds::MARK_RESTOCKED", refunds::MARK_RESTOCKED),
    ("platforms::INSERT_PLATFORM", platforms::INSERT_PLATFORM),
    ("platforms::SELECT_PLATFORM_BY_USER", platforms::SELECT_PLATFORM_BY_USER),
    (
        "platforms::SELECT_PLATFORM_BY_SUBSCRIPTION",
        platforms::SELECT_PLATFORM_BY_SUBSCRIPTION,
    ),
    (
        "platforms::SELECT_PLATFORM_BY_CUSTOMER",
        platforms::SELECT_PLATFORM_BY_CUSTOMER,
    ),
    ("platforms::REMEMBER_CHECKOUT", platforms::REMEMBER_CHECKOUT),
    ("platforms::SELECT_PLATFORM_BY_ID", platforms::SELECT_PLATFORM_BY_ID),
    ("platforms::APPLY_PLAN", platforms::APPLY_PLAN),
    ("platforms::RECORD_EVENT", platforms::RECORD_EVENT),
    (
        "platforms::UPSERT_STRIPE_CONNECTION",
        platforms::UPSERT_STRIPE_CONNECTION,
    ),
    (
        "platforms::SELECT_LAST_STRIPE_ACCOUNT",
        platforms::SELECT_LAST_STRIPE_ACCOUNT,
    ),
    ("platforms::REVOKE_STRIPE_ACCOUNT", platforms::REVOKE_STRIPE_ACCOUNT),
    (
        "platforms::SELECT_STRIPE_CONNECTION",
        platforms::SELECT_STRIPE_CONNECTION,
    ),
    ("platforms::INSERT_OAUTH_STATE", platforms::INSERT_OAUTH_STATE),
    ("platforms::CONSUME_OAUTH_STATE", platforms::CONSUME_OAUTH_STATE),
    (
        "platforms::SELECT_OAUTH_STATE_OWNER",
        platforms::SELECT_OAUTH_STATE_OWNER,
    ),
    ("projects::FIND_ACTIVE_KEY_BY_HASH", projects::FIND_ACTIVE_KEY_BY_HASH),
    ("projects::SELECT_ACTIVE_PROJECT", projects::SELECT_ACTIVE_PROJECT),
    ("projects::SELECT_COUNTER_LAYOUT", projects::SELECT_COUNTER_LAYOUT),
    ("projects::UPDATE_COUNTER_LAYOUT", projects::UPDATE_COUNTER_LAYOUT),
    ("projects::SELECT_TIERS", projects::SELECT_TIERS),
    (
        "projects::SELECT_PROJECT_ON_ACCOUNT",
        projects::SELECT_PROJECT_ON_ACCOUNT,
    ),
    ("projects::SELECT_PLATFORM_PROJECTS", projects::SELECT_PLATFORM_PROJECTS),
    ("projects::SELECT_OWNED_PROJECT", projects::SELECT_OWNED_PROJECT),
    ("projects::SELECT_PROJECT_KEY_SETS", projects::SELECT_PROJECT_KEY_SETS),
    ("projects::INSERT_API_KEY", projects::INSERT_API_KEY),
    ("projects::SELECT_PROJECT_COUNT", projects::SELECT_PROJECT_COUNT),
    ("projects::INSERT_TIER", projects::INSERT_TIER),
    ("projects::UPDATE_TIER", projects::UPDATE_TIER),
    ("projects::SELECT_HELD_UNITS", projects::SELECT_HELD_UNITS),
    ("projects::SELECT_SECRET_HASH", projects::SELECT_SECRET_HASH),
    ("projects::ADD_TIER", projects::ADD_TIER),
    ("projects::DELETE_TIER", projects::DELETE_TIER),
    ("projects::SELECT_TIER_SUBSCRIBERS", projects::SELECT_TIER_SUBSCRIBERS),
    ("projects::ROTATE_SECRET", projects::ROTATE_SECRET),
    ("projects::EXPIRE_PREVIOUS_KEY", projects::EXPIRE_PREVIOUS_KEY),
    ("projects::SET_PROJECT_SETTINGS", projects::SET_PROJECT_SETTINGS),
    ("subscriptions::SELECT_ENTITLEMENT", subscriptions::SELECT_ENTITLEMENT),
    (
        "subscriptions::SELECT_ENTITLED_SUBSCRIPTION",
        subscriptions::SELECT_ENTITLED_SUBSCRIPTION,
    ),
    ("subscriptions::SELECT_TRIALS_HAD", subscriptions::SELECT_TRIALS_HAD),
    ("promotions::SELECT_PROMOTION_CODES", promotions::SELECT_PROMOTION_CODES),
    (
        "promotions::SELECT_PROMOTION_CODE_BY_CODE",
        promotions::SELECT_PROMOTION_CODE_BY_CODE,
    ),
    ("promotions::SELECT_PROMOTION_CODE", promotions::SELECT_PROMOTION_CODE),
    ("promotions::INSERT_PROMOTION_CODE", promotions::INSERT_PROMOTION_CODE),
    (
        "promotions::SET_PROMOTION_CODE_ACTIVE",
        promotions::SET_PROMOTION_CODE_ACTIVE,
    ),
    (
        "subscriptions::SELECT_SUBSCRIPTION_KNOWN",
        subscriptions::SELECT_SUBSCRIPTION_KNOWN,
    ),
    ("subscriptions::UPSERT_SUBSCRIPTION", subscriptions::UPSERT_SUBSCRIPTION),
    ("subscriptions::CLEAR_LAPSED_PLAN", subscriptions::CLEAR_LAPSED_PLAN),
    ("subscriptions::SELECT_EVENT_SEEN", subscriptions::SELECT_EVENT_SEEN),
    ("usage::COPY_USAGE_ROW", usage::COPY_USAGE_ROW),
    ("usage::SELECT_USAGE_ROW", usage::SELECT_USAGE_ROW),
    ("maintenance::ROLL_UP_METERS_MONTH", maintenance::ROLL_UP_METERS_MONTH),
    ("metrics::SELECT_METER_USAGE", metrics::SELECT_METER_USAGE),
    ("metrics::SELECT_NEAR_CAP", metrics::SELECT_NEAR_CAP),
    (
        "platforms::SELECT_PROJECT_STRIPE_ACCOUNT",
        platforms::SELECT_PROJECT_STRIPE_ACCOUNT,
    ),
    (
        "subscriptions::SELECT_SUBSCRIPTION_STATE",
        subscriptions::SELECT_SUBSCRIPTION_STATE,
    ),
    ("webhooks::SELECT_ENDPOINTS", webhooks::SELECT_ENDPOINTS),
    ("webhooks::SELECT_ENDPOINT", webhooks::SELECT_ENDPOINT),
    ("webhooks::INSERT_ENDPOINT", webhooks::INSERT_ENDPOINT),
    ("webhooks::UPDATE_ENDPOINT", webhooks::UPDATE_ENDPOINT),
    ("webhooks::DELETE_ENDPOINT", webhooks::DELETE_ENDPOINT),
    ("webhooks::FAIL_PENDING_OF_ENDPOINT", webhooks::FAIL_PENDING_OF_ENDPOINT),
    ("webhooks::ROTATE_SECRET", webhooks::ROTATE_SECRET),
    ("webhooks::RECORD_EVENT_IF_CHANGED", webhooks::RECORD_EVENT_IF_CHANGED),
    ("webhooks::RECORD_EVENT", webhooks::RECORD_EVENT),
    ("webhooks::QUEUE_DELIVERIES", webhooks::QUEUE_DELIVERIES),
    ("webhooks::RECORD_ORDER_EVENT", webhooks::RECORD_ORDER_EVENT),
    ("webhooks::RECORD_STOCK_EVENTS", webhooks::RECORD_STOCK_EVENTS),
    ("webhooks::SELECT_DUE", webhooks::SELECT_DUE),
    ("webhooks::FAIL_ORPHANED", webhooks::FAIL_ORPHANED),
    ("webhooks::SELECT_NEXT_DUE", webhooks::SELECT_NEXT_DUE),
    ("webhooks::SELECT_OVERDUE_PROJECTS", webhooks::SELECT_OVERDUE_PROJECTS),
    ("webhooks::RECORD_ATTEMPT", webhooks::RECORD_ATTEMPT),
    ("webhooks::SETTLE_DELIVERY", webhooks::SETTLE_DELIVERY),
    ("webhooks::ENDPOINT_SUCCEEDED", webhooks::ENDPOINT_SUCCEEDED),
    ("webhooks::ENDPOINT_FAILED", webhooks::ENDPOINT_FAILED),
    ("webhooks::DISABLE_FAILING_ENDPOINT", webhooks::DISABLE_FAILING_ENDPOINT),
    ("webhooks::SELECT_EVENTS", webhooks::SELECT_EVENTS),
    ("webhooks::SELECT_DELIVERIES_OF", webhooks::SELECT_DELIVERIES_OF),
    ("webhooks::SELECT_EVENT", webhooks::SELECT_EVENT),
    ("webhooks::SELECT_ATTEMPTS", webhooks::SELECT_ATTEMPTS),
    ("webhooks::REPLAY_EVENT", webhooks::REPLAY_EVENT),
    ("webhooks::REPLAY_FAILED", webhooks::REPLAY_FAILED),
    ("webhooks::DELETE_OLD_ATTEMPTS", webhooks::DELETE_OLD_ATTEMPTS),
    ("webhooks::DELETE_OLD_DELIVERIES", webhooks::DELETE_OLD_DELIVERIES),
    ("webhooks::DELETE_OLD_EVENTS", webhooks::DELETE_OLD_EVENTS),
    ("webhooks::FAIL_PENDING_OF_DISABLED", webhooks::FAIL_PENDING_OF_DISABLED),
    ("webhooks::DEFER_ENDPOINT_BACKLOG", webhooks::DEFER_ENDPOINT_BACKLOG),
    ("webhooks::MARK_REFUND_TOLD", webhooks::MARK_REFUND_TOLD),
];

/// The statements a usage counter runs on its own storage (`usage::COUNTER_SCHEMA`).
const COUNTER_STATEMENTS: &[(&str, &str)] = &[
    ("usage::COUNT_USAGE", usage::COUNT_USAGE),
    ("usage::CLAIM_IDEMPOTENCY_KEY", usage::CLAIM_IDEMPOTENCY_KEY),
    ("usage::RECORD_IDEMPOTENT_RESULT", usage::RECORD_IDEMPOTENT_RESULT),
    ("usage::SELECT_IDEMPOTENCY_CLAIM", usage::SELECT_IDEMPOTENCY_CLAIM),
    ("usage::BIND_IDEMPOTENCY_KEY", usage::BIND_IDEMPOTENCY_KEY),
    ("usage::SELECT_KEY_OWNER", usage::SELECT_KEY_OWNER),
    ("usage::SELECT_USAGE", usage::SELECT_USAGE),
    ("usage::NOTE_NEW_PERIOD_USER", usage::NOTE_NEW_PERIOD_USER),
    ("usage::INIT_COUNTER_STATE", usage::INIT_COUNTER_STATE),
    ("usage::SELECT_COUNTER_STARTED", usage::SELECT_COUNTER_STARTED),
    ("usage::SELECT_CONFIG_EPOCH", usage::SELECT_CONFIG_EPOCH),
    ("usage::ADVANCE_CONFIG_EPOCH", usage::ADVANCE_CONFIG_EPOCH),
    ("usage::MARK_UNFLUSHED", usage::MARK_UNFLUSHED),
    ("usage::CLOSE_GENERATION", usage::CLOSE_GENERATION),
    ("usage::SELECT_UNFLUSHED", usage::SELECT_UNFLUSHED),
    ("usage::FORGET_FLUSHED", usage::FORGET_FLUSHED),
    ("usage::SELECT_ANY_UNFLUSHED", usage::SELECT_ANY_UNFLUSHED),
    ("usage::PURGE_EXPIRED_CLAIMS", usage::PURGE_EXPIRED_CLAIMS),
    ("usage::PURGE_EXPIRED_KEY_OWNERS", usage::PURGE_EXPIRED_KEY_OWNERS),
    ("usage::PURGE_ENDED_PERIODS", usage::PURGE_ENDED_PERIODS),
    ("usage::PURGE_ENDED_PERIOD_USERS", usage::PURGE_ENDED_PERIOD_USERS),
    ("usage::SEED_USAGE_ROW", usage::SEED_USAGE_ROW),
    ("usage::SELECT_USER_METERS", usage::SELECT_USER_METERS),
    ("usage::SELECT_COUNTS_TABLES", usage::SELECT_COUNTS_TABLES),
    ("usage::CLEAN_OVERAGE_ROW", usage::CLEAN_OVERAGE_ROW),
    ("usage::COUNT_STALE_REPORTS", usage::COUNT_STALE_REPORTS),
    ("usage::NOTE_REPORT_FAILED", usage::NOTE_REPORT_FAILED),
    ("usage::NOTE_OVERAGE_TERMS", usage::NOTE_OVERAGE_TERMS),
    ("usage::SELECT_UNREPORTED_OVERAGE", usage::SELECT_UNREPORTED_OVERAGE),
    ("usage::OPEN_OVERAGE_REPORT", usage::OPEN_OVERAGE_REPORT),
    ("usage::SELECT_PENDING_REPORTS", usage::SELECT_PENDING_REPORTS),
    ("usage::CONFIRM_OVERAGE_REPORT", usage::CONFIRM_OVERAGE_REPORT),
    ("usage::PURGE_REPORTED_OVERAGE", usage::PURGE_REPORTED_OVERAGE),
    ("usage::SELECT_ANY_UNREPORTED", usage::SELECT_ANY_UNREPORTED),
    ("usage::RECORD_OUTBOX_EVENT", usage::RECORD_OUTBOX_EVENT),
    ("usage::SELECT_OUTBOX", usage::SELECT_OUTBOX),
    ("usage::MARK_OUTBOX_COPIED", usage::MARK_OUTBOX_COPIED),
    ("usage::PURGE_COPIED_OUTBOX", usage::PURGE_COPIED_OUTBOX),
];

/// Scans that read at most one row, or a table of a handful of rows, each with its reason.
const ALLOWED_SCANS: &[&str] = &[
    // `LIMIT 1`: stops at the first row.
    "usage::SELECT_ANY_UNFLUSHED",
    // One row per billing period the counter holds (a few), in the alarm, not on a request.
    "usage::PURGE_ENDED_PERIOD_USERS",
    // The schema's few tables, once when a counter starts.
    "usage::SELECT_COUNTS_TABLES",
    // The partial index of reports on their way to Stripe (a handful), in the alarm.
    "usage::SELECT_PENDING_REPORTS",
    "usage::COUNT_STALE_REPORTS",
    // `SCAN o` / `SCAN p`: the statement's own materialized rows (one order, its products).
    "webhooks::RECORD_ORDER_EVENT",
    "webhooks::RECORD_STOCK_EVENTS",
];

/// Constants of `src/storage` that are not statements: binding names, the counters' schema and
/// its migration.
const NOT_STATEMENTS: &[&str] = &[
    "DB_BINDING",
    "COUNTER_SCHEMA",
    "TOKENS_KV",
    "MIGRATE_COUNTER_TABLES",
    "MIGRATE_COUNT_ROWS",
    "MIGRATE_UNFLUSHED_ROWS",
];

/// The plan's lines, as `EXPLAIN QUERY PLAN` prints them.
fn plan(conn: &rusqlite::Connection, sql: &str) -> Vec<String> {
    let mut statement = conn
        .prepare(&format!("EXPLAIN QUERY PLAN {sql}"))
        .unwrap_or_else(|e| panic!("{e}: {sql}"));
    // The plan does not depend on the values (no statistics tables): bind NULLs.
    let nulls = vec![rusqlite::types::Value::Null; statement.parameter_count()];
    statement
        .query_map(rusqlite::params_from_iter(nulls), |row| row.get::<_, String>(3))
        .unwrap()
        .map(Result::unwrap)
        .collect()
}

/// A full read of a table or of one of its indexes: `SCAN <table or alias>` (SQLite prints
/// `SCAN CONSTANT ROW` and `SCAN (subquery-N)` for things that are not tables, and
/// `SCAN json_each` for the entries of a JSON parameter).
fn full_scan(line: &str) -> bool {
    line.strip_prefix("SCAN ").is_some_and(|rest| {
        !rest.starts_with("CONSTANT ROW") && !rest.starts_with('(') && !rest.starts_with("json_each ")
    })
}

fn offenders(conn: &rusqlite::Connection, statements: &[(&str, &str)]) -> Vec<String> {
    let mut offenders = Vec::new();
    for (name, sql) in statements {
        let lines = plan(conn, sql);
        if !ALLOWED_SCANS.contains(name) && lines.iter().any(|l| full_scan(l)) {
            offenders.push(format!("{name}:\n    {}", lines.join("\n    ")));
        }
    }
    offenders
}

#[test]
fn no_statement_reads_a_whole_table() {
    let mut offenders = offenders(&common::migrated(None), STATEMENTS);
    offenders.extend(self::offenders(&common::counter_db(None), COUNTER_STATEMENTS));
    assert!(offenders.is_empty(), "full scans:\n{}", offenders.join("\n"));
}

#[test]
fn the_list_holds_every_repository_statement() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("src/storage");
    let mut in_source = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        let module = path.file_stem().unwrap().to_string_lossy().into_owned();
        for line in std::fs::read_to_string(&path).unwrap().lines() {
            if let Some(rest) = line.strip_prefix("pub const ")
                && let Some((name, _)) = rest.split_once(": &str")
                && !NOT_STATEMENTS.contains(&name)
            {
                in_source.push(format!("{module}::{name}"));
            }
        }
    }
    let listed: Vec<&str> = STATEMENTS
        .iter()
        .chain(COUNTER_STATEMENTS)
        .map(|(name, _)| *name)
        .collect();
    let missing: Vec<&String> = in_source.iter().filter(|n| !listed.contains(&n.as_str())).collect();
    assert!(missing.is_empty(), "add these to STATEMENTS: {missing:?}");
    assert_eq!(listed.len(), in_source.len());
}

#[test]
fn the_scan_detector_sees_scans() {
    let conn = common::migrated(None);
    assert!(
        plan(&conn, "SELECT * FROM tiers WHERE features = ?1")
            .iter()
            .any(|l| full_scan(l))
    );
    assert!(
        !plan(&conn, "SELECT * FROM tiers WHERE publishableKey = ?1")
            .iter()
            .any(|l| full_scan(l))
    );
}
