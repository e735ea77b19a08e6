-- What grows with time is kept for a bounded time (the daily cron, `repo::maintenance`):
-- usage rows of periods that started over 13 months ago are rolled up into one row per
-- project and month, and raw Stripe event payloads (personal data: names, emails, addresses)
-- are emptied after 30 days; the event ids stay, so a redelivery is still recognised.
CREATE TABLE usage_monthly (
    publishableKey TEXT NOT NULL,
    month          TEXT NOT NULL CHECK (length(month) = 7),  -- YYYY-MM of the periods' start
    requests       INTEGER NOT NULL CHECK (requests >= 0),
    users          INTEGER NOT NULL CHECK (users >= 0),
    PRIMARY KEY (publishableKey, month)
) WITHOUT ROWID;
-- The job reads only the rows it retires.
CREATE INDEX usage_counts_by_age ON usage_counts (periodStart);
CREATE INDEX events_by_age ON events (createdAt);
