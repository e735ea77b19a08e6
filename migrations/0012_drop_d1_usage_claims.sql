-- Idempotency claims and users per period live in the usage counters' own storage (Durable
-- Objects) since the release that introduced them; no worker of that release or later reads or
-- writes D1's copies. Apply this only over that release (migrations run before the workers
-- deploy, and an older api-multi would still write these tables until it is replaced).
DROP TABLE usage_idempotency;
DROP TABLE usage_period_users;
