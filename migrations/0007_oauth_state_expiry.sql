-- The daily purge of expired OAuth states reads them by expiry; without this index it read the
-- whole table (found by shared/tests/sql_plans.rs, which plans every repository statement).
CREATE INDEX oauth_states_by_expiry ON oauth_states (expiresAt);
