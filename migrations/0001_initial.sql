-- dream-api schema, shared by all three workers.
-- The publishableKey is the project (pk_test_… and pk_live_… are separate tenants): every tenant
-- table carries it and every tenant query filters by it, so test and live data never mix.
-- Timestamps are RFC 3339 UTC text ("2026-11-22T00:13:46Z"), which sorts correctly as text.

-- One per developer (Clerk user of the dream-api app).
CREATE TABLE platforms (
    platformId  TEXT PRIMARY KEY CHECK (platformId LIKE 'plt\_%' ESCAPE '\'),
    clerkUserId TEXT NOT NULL UNIQUE,
    createdAt   TEXT NOT NULL
);

-- A key set = a project in one mode. projectId groups the test and live key sets of the same
-- project (dashboard tree, promote-to-live); tenant data never joins on it.
CREATE TABLE api_keys (
    publishableKey TEXT PRIMARY KEY CHECK (publishableKey GLOB 'pk_test_*' OR publishableKey GLOB 'pk_live_*'),
    platformId     TEXT NOT NULL REFERENCES platforms (platformId),
    projectId      TEXT NOT NULL,
    projectType    TEXT NOT NULL CHECK (projectType IN ('saas', 'store')),
    mode           TEXT NOT NULL CHECK (mode IN ('test', 'live')),
    name           TEXT NOT NULL CHECK (length(name) BETWEEN 1 AND 100),
    -- SHA-256 hex of the secret key; the plaintext is never stored.
    secretKeyHash  TEXT NOT NULL UNIQUE CHECK (length(secretKeyHash) = 64),
    status         TEXT NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'revoked')),
    createdAt      TEXT NOT NULL,
    updatedAt      TEXT NOT NULL,
    CHECK (substr(publishableKey, 4, 4) = mode),
    -- One key set per mode per project: a second promotion to live cannot exist.
    UNIQUE (projectId, mode)
);
CREATE INDEX api_keys_by_platform ON api_keys (platformId);

-- Stripe Connect credentials of a developer, per mode.
CREATE TABLE stripe_tokens (
    platformId   TEXT NOT NULL REFERENCES platforms (platformId),
    mode         TEXT NOT NULL CHECK (mode IN ('test', 'live')),
    stripeUserId TEXT NOT NULL,
    accessToken  TEXT NOT NULL,
    refreshToken TEXT,
    scope        TEXT,
    createdAt    TEXT NOT NULL,
    updatedAt    TEXT NOT NULL,
    PRIMARY KEY (platformId, mode)
);

-- SaaS tiers and Store products of a project.
CREATE TABLE tiers (
    publishableKey TEXT NOT NULL REFERENCES api_keys (publishableKey),
    name           TEXT NOT NULL CHECK (length(name) BETWEEN 1 AND 40 AND name NOT GLOB '*[^a-z0-9_-]*'),
    platformId     TEXT NOT NULL,
    projectType    TEXT NOT NULL CHECK (projectType IN ('saas', 'store')),
    mode           TEXT NOT NULL CHECK (mode IN ('test', 'live')),
    displayName    TEXT NOT NULL,
    priceCents     INTEGER NOT NULL DEFAULT 0 CHECK (priceCents >= 0),
    currency       TEXT NOT NULL DEFAULT 'usd',
    -- Requests per billing period; NULL = unlimited. SaaS only.
    "limit"        INTEGER CHECK ("limit" IS NULL OR "limit" >= 0),
    priceId        TEXT,
    productId      TEXT,
    -- JSON: { description, imageUrl, features[], billingMode }
    features       TEXT NOT NULL DEFAULT '{}' CHECK (json_valid(features)),
    popular        INTEGER NOT NULL DEFAULT 0 CHECK (popular IN (0, 1)),
    -- Units in stock; NULL = not tracked. Store only. Never negative: a sale that would take it
    -- below zero fails its statement instead of overselling.
    inventory      INTEGER CHECK (inventory IS NULL OR inventory >= 0),
    soldOut        INTEGER NOT NULL DEFAULT 0 CHECK (soldOut IN (0, 1)),
    createdAt      TEXT NOT NULL,
    updatedAt      TEXT NOT NULL,
    PRIMARY KEY (publishableKey, name),
    CHECK (substr(publishableKey, 4, 4) = mode),
    CHECK (projectType = 'saas' OR "limit" IS NULL),
    CHECK (projectType = 'store' OR inventory IS NULL)
);
CREATE INDEX tiers_by_price ON tiers (priceId);

-- A developer's customers, created through the end-user Clerk app.
CREATE TABLE end_users (
    publishableKey TEXT NOT NULL REFERENCES api_keys (publishableKey),
    clerkUserId    TEXT NOT NULL,
    platformId     TEXT NOT NULL,
    email          TEXT NOT NULL,
    status         TEXT NOT NULL DEFAULT 'active',
    createdAt      TEXT NOT NULL,
    updatedAt      TEXT NOT NULL,
    PRIMARY KEY (publishableKey, clerkUserId),
    UNIQUE (publishableKey, email)
);

-- Requests counted per user per billing period. The primary key makes exactly one row per
-- (project, user, period), which the atomic counting upsert relies on.
CREATE TABLE usage_counts (
    publishableKey TEXT NOT NULL,
    userId         TEXT NOT NULL,
    periodStart    TEXT NOT NULL,
    periodEnd      TEXT NOT NULL,
    platformId     TEXT NOT NULL,
    plan           TEXT NOT NULL,
    usageCount     INTEGER NOT NULL DEFAULT 0 CHECK (usageCount >= 0),
    updatedAt      TEXT NOT NULL,
    PRIMARY KEY (publishableKey, userId, periodStart)
) WITHOUT ROWID;
CREATE INDEX usage_counts_by_period ON usage_counts (publishableKey, periodStart);

-- Idempotency-Key claims for POST /api/data: a retried request is counted once. requestId says
-- which request holds the claim; usageCount is the count that request produced.
CREATE TABLE usage_idempotency (
    publishableKey TEXT NOT NULL,
    idempotencyKey TEXT NOT NULL,
    userId         TEXT NOT NULL,
    requestId      TEXT NOT NULL,
    usageCount     INTEGER,
    createdAt      TEXT NOT NULL,
    PRIMARY KEY (publishableKey, idempotencyKey)
) WITHOUT ROWID;
CREATE INDEX usage_idempotency_by_age ON usage_idempotency (createdAt);

-- SaaS subscriptions of end users, mirrored from Stripe webhooks.
CREATE TABLE subscriptions (
    subscriptionId     TEXT PRIMARY KEY,
    publishableKey     TEXT NOT NULL,
    userId             TEXT NOT NULL,
    platformId         TEXT NOT NULL,
    stripeCustomerId   TEXT,
    plan               TEXT NOT NULL,
    priceId            TEXT,
    productId          TEXT,
    amount             INTEGER NOT NULL DEFAULT 0 CHECK (amount >= 0),
    currency           TEXT NOT NULL DEFAULT 'usd',
    status             TEXT NOT NULL,
    currentPeriodStart TEXT,
    currentPeriodEnd   TEXT,
    cancelAtPeriodEnd  INTEGER NOT NULL DEFAULT 0 CHECK (cancelAtPeriodEnd IN (0, 1)),
    canceledAt         TEXT,
    cancelReason       TEXT,
    -- `created` of the newest Stripe event applied: an older event never overwrites newer state.
    lastEventCreated   INTEGER NOT NULL DEFAULT 0,
    updatedAt          TEXT NOT NULL
);
CREATE INDEX subscriptions_by_user ON subscriptions (publishableKey, userId);
CREATE INDEX subscriptions_by_status ON subscriptions (publishableKey, status);

-- Every webhook event processed, recorded in the same batch as its effect: a replay is a no-op.
CREATE TABLE events (
    eventId        TEXT NOT NULL UNIQUE,
    source         TEXT NOT NULL,
    type           TEXT NOT NULL,
    platformId     TEXT,
    publishableKey TEXT,
    payload_json   TEXT NOT NULL CHECK (json_valid(payload_json)),
    createdAt      TEXT NOT NULL
);
CREATE INDEX events_by_project_type ON events (publishableKey, type);
CREATE INDEX events_by_platform ON events (platformId);
