-- Developers' customers and their subscriptions (customer checkout, portal, Connect webhooks).

-- One row per end user a project knows: created by POST /api/customers (an identity in the
-- end-user Clerk app: userId = the Clerk user id) or by a subscription checkout for an id the
-- developer's own auth chose. `end_users` (0001) assumed a Clerk user for everyone and one email
-- per Clerk user per project; it was never written, so it is replaced rather than altered.
DROP TABLE end_users;
CREATE TABLE customers (
    publishableKey    TEXT NOT NULL REFERENCES api_keys (publishableKey),
    userId            TEXT NOT NULL CHECK (length(userId) BETWEEN 1 AND 128),
    platformId        TEXT NOT NULL,
    email             TEXT CHECK (email IS NULL OR length(email) BETWEEN 3 AND 254),
    clerkUserId       TEXT,
    firstName         TEXT,
    lastName          TEXT,
    -- The plan the developer gave at creation; a subscription's tier wins while it entitles the
    -- user, and an ended subscription clears it (back to free).
    plan              TEXT,
    stripeCustomerId  TEXT,
    -- The user's latest subscription Checkout Session: reused while open, so two tabs cannot
    -- start two subscriptions.
    checkoutSessionId TEXT,
    createdAt         TEXT NOT NULL,
    updatedAt         TEXT NOT NULL,
    PRIMARY KEY (publishableKey, userId)
) WITHOUT ROWID;
CREATE UNIQUE INDEX customers_by_email ON customers (publishableKey, email) WHERE email IS NOT NULL;
CREATE INDEX customers_by_created ON customers (publishableKey, createdAt);

-- Subscriptions are copies of Stripe's current state, read from Stripe when an event arrives.
-- `syncedAtMs` is when that state was read: a later read always wins, so deliveries in any order
-- converge on Stripe's latest state. `mrrCents` is the amount normalised to a month.
ALTER TABLE subscriptions ADD COLUMN syncedAtMs INTEGER NOT NULL DEFAULT 0;
ALTER TABLE subscriptions ADD COLUMN mrrCents INTEGER NOT NULL DEFAULT 0 CHECK (mrrCents >= 0);

-- The dashboard's "usage this period" sums the windows still open.
CREATE INDEX usage_counts_by_period_end ON usage_counts (publishableKey, periodEnd);
