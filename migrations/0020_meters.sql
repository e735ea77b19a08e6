-- Usage meters (issue 24). A SaaS tier counts several named quantities (`requests`, `tokens`,
-- ...), each with an included amount per period and optionally an overage price billed through
-- the developer's Stripe (Billing Meters): `meters` is the tier's list as JSON (NULL in rows
-- written before: one `requests` meter of `limit`, which stays the requests meter's included
-- amount), `spendCapCents` the most one user's overage may cost per period.
ALTER TABLE tiers ADD COLUMN meters TEXT CHECK (meters IS NULL OR json_valid(meters));
ALTER TABLE tiers ADD COLUMN spendCapCents INTEGER CHECK (spendCapCents IS NULL OR spendCapCents > 0);

-- Counts are per meter: the meter joins the key (a table rebuild: SQLite cannot change a
-- primary key in place). Every existing row counted requests.
CREATE TABLE usage_counts_by_meter (
    publishableKey TEXT NOT NULL,
    userId         TEXT NOT NULL,
    periodStart    TEXT NOT NULL,
    meter          TEXT NOT NULL DEFAULT 'requests' CHECK (length(meter) BETWEEN 1 AND 40),
    periodEnd      TEXT NOT NULL,
    platformId     TEXT NOT NULL,
    plan           TEXT NOT NULL,
    usageCount     INTEGER NOT NULL DEFAULT 0 CHECK (usageCount >= 0),
    updatedAt      TEXT NOT NULL,
    PRIMARY KEY (publishableKey, userId, periodStart, meter)
) WITHOUT ROWID;
INSERT INTO usage_counts_by_meter (publishableKey, userId, periodStart, meter, periodEnd, platformId, plan, usageCount, updatedAt)
SELECT publishableKey, userId, periodStart, 'requests', periodEnd, platformId, plan, usageCount, updatedAt FROM usage_counts;
DROP TABLE usage_counts;
ALTER TABLE usage_counts_by_meter RENAME TO usage_counts;
CREATE INDEX usage_counts_by_period ON usage_counts (publishableKey, periodStart);
CREATE INDEX usage_counts_by_period_end ON usage_counts (publishableKey, periodEnd);
CREATE INDEX usage_counts_by_age ON usage_counts (periodStart);

-- Quantities of meters other than requests, rolled up like `usage_monthly` (which keeps
-- requests and users) once their rows age out.
CREATE TABLE usage_monthly_meters (
    publishableKey TEXT NOT NULL,
    month          TEXT NOT NULL CHECK (length(month) = 7),
    meter          TEXT NOT NULL,
    quantity       INTEGER NOT NULL CHECK (quantity >= 0),
    PRIMARY KEY (publishableKey, month, meter)
) WITHOUT ROWID;
