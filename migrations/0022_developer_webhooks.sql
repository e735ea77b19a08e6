-- Developer webhooks (issue 25): endpoints of a project and mode (publishableKey), the events
-- the platform produces for it, and the delivery of each event to each endpoint that wants it.
-- An event and its deliveries are written in the same batch as their cause; a WebhookSender
-- Durable Object per project (api-multi) sends what is due and records every attempt here.

-- The signing secret is never stored: it is derived from the platform's WEBHOOK_SECRET_KEY,
-- the endpoint id and a generation that rotation increments (dream_core::webhooks::signing).
CREATE TABLE webhook_endpoints (
    endpointId         TEXT PRIMARY KEY,
    publishableKey     TEXT NOT NULL,
    url                TEXT NOT NULL,
    description        TEXT NOT NULL DEFAULT '',
    -- JSON array of event types, or ["*"] for every type.
    eventTypes         TEXT NOT NULL CHECK (json_valid(eventTypes)),
    enabled            INTEGER NOT NULL DEFAULT 1 CHECK (enabled IN (0, 1)),
    -- Why it is disabled when the platform disabled it (a run of failures); NULL otherwise.
    disabledReason     TEXT,
    disabledAt         TEXT,
    secretGeneration   INTEGER NOT NULL DEFAULT 1,
    -- The generation a rotation replaced signs too until previousUntil.
    previousGeneration INTEGER,
    previousUntil      TEXT,
    -- Failed attempts since the last 2xx, and when that run began.
    failureStreak      INTEGER NOT NULL DEFAULT 0,
    failingSince       TEXT,
    lastSuccessAt      TEXT,
    createdAt          TEXT NOT NULL,
    updatedAt          TEXT NOT NULL
);
CREATE INDEX webhook_endpoints_by_project ON webhook_endpoints (publishableKey, createdAt);

CREATE TABLE webhook_events (
    eventId        TEXT PRIMARY KEY,
    publishableKey TEXT NOT NULL,
    type           TEXT NOT NULL,
    createdAt      TEXT NOT NULL,
    -- The body every endpoint receives, byte for byte (what the signature covers).
    payload        TEXT NOT NULL CHECK (json_valid(payload)),
    -- What makes two recordings the same event (a change seen by several Stripe events, a
    -- retried copy): the second is ignored. NULL for events that are unique by construction.
    dedupKey       TEXT UNIQUE,
    -- The batch that recorded it: its deliveries are queued by cause in the same batch.
    cause          TEXT NOT NULL
);
CREATE INDEX webhook_events_by_cause ON webhook_events (cause);
CREATE INDEX webhook_events_by_project ON webhook_events (publishableKey, createdAt);
CREATE INDEX webhook_events_by_project_type ON webhook_events (publishableKey, type, createdAt);
CREATE INDEX webhook_events_by_age ON webhook_events (createdAt);

-- status: pending (an attempt is due at nextAttemptAt), delivered (a 2xx), failed (the
-- schedule ran out, or the endpoint was disabled); replay sets a delivery pending again.
CREATE TABLE webhook_deliveries (
    eventId        TEXT NOT NULL REFERENCES webhook_events (eventId) ON DELETE CASCADE,
    endpointId     TEXT NOT NULL,
    publishableKey TEXT NOT NULL,
    status         TEXT NOT NULL CHECK (status IN ('pending', 'delivered', 'failed')),
    -- Attempts ever made, and those of the current run (a replay starts a new run, whose
    -- schedule starts again).
    attempts       INTEGER NOT NULL DEFAULT 0,
    runAttempts    INTEGER NOT NULL DEFAULT 0,
    nextAttemptAt  TEXT,
    lastAttemptAt  TEXT,
    lastStatusCode INTEGER,
    createdAt      TEXT NOT NULL,
    PRIMARY KEY (eventId, endpointId)
);
CREATE INDEX webhook_deliveries_due ON webhook_deliveries (publishableKey, status, nextAttemptAt);
CREATE INDEX webhook_deliveries_overdue ON webhook_deliveries (status, nextAttemptAt);
CREATE INDEX webhook_deliveries_by_endpoint ON webhook_deliveries (endpointId, status, eventId);

CREATE TABLE webhook_attempts (
    eventId      TEXT NOT NULL REFERENCES webhook_events (eventId) ON DELETE CASCADE,
    endpointId   TEXT NOT NULL,
    attempt      INTEGER NOT NULL,
    attemptedAt  TEXT NOT NULL,
    -- NULL when no answer came (timeout, connection refused): see error.
    statusCode   INTEGER,
    latencyMs    INTEGER NOT NULL,
    -- The first bytes of the answer, or what went wrong.
    response     TEXT NOT NULL DEFAULT '',
    PRIMARY KEY (eventId, endpointId, attempt)
);

-- The refunded total an `order.refunded` event has told (an event only when it grows: a
-- dispute's events months later, or a refund that failed at Stripe, tell nothing new).
ALTER TABLE orders ADD COLUMN refundToldCents INTEGER NOT NULL DEFAULT 0;
