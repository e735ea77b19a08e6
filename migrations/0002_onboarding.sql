-- Developer onboarding: the platform plan ($15/month), one-time OAuth states, and Stripe
-- Connect links that hold no Stripe credentials.

-- The developer's own subscription to the platform. `planEventCreated` is the `created` time of
-- the newest Stripe event applied, so an older event never overwrites a newer plan.
ALTER TABLE platforms ADD COLUMN plan TEXT NOT NULL DEFAULT 'free' CHECK (plan IN ('free', 'paid'));
ALTER TABLE platforms ADD COLUMN stripeCustomerId TEXT;
ALTER TABLE platforms ADD COLUMN stripeSubscriptionId TEXT;
ALTER TABLE platforms ADD COLUMN planEventCreated INTEGER NOT NULL DEFAULT 0;
ALTER TABLE platforms ADD COLUMN updatedAt TEXT;
CREATE INDEX platforms_by_subscription ON platforms (stripeSubscriptionId);

-- Stripe Connect OAuth `state` nonces: issued by /authorize, consumed once by /callback.
CREATE TABLE oauth_states (
    nonce      TEXT PRIMARY KEY,
    platformId TEXT NOT NULL REFERENCES platforms (platformId),
    expiresAt  TEXT NOT NULL,
    usedAt     TEXT,
    createdAt  TEXT NOT NULL
);

-- The platform acts on a connected account with its own secret key and the `Stripe-Account`
-- header, so the OAuth access and refresh tokens are not needed and are not kept: a leaked
-- database holds no Stripe credentials. Nothing has been deployed with 0001, so the table is
-- rebuilt rather than carrying unused secret columns.
DROP TABLE stripe_tokens;
CREATE TABLE stripe_tokens (
    platformId   TEXT PRIMARY KEY REFERENCES platforms (platformId),
    stripeUserId TEXT NOT NULL CHECK (stripeUserId LIKE 'acct\_%' ESCAPE '\'),
    scope        TEXT,
    livemode     INTEGER NOT NULL DEFAULT 0 CHECK (livemode IN (0, 1)),
    createdAt    TEXT NOT NULL,
    updatedAt    TEXT NOT NULL
);
