-- How many distinct users a project has counted in a billing period (by the period's start):
-- what bounds the rows one secret key can add with made-up X-User-Id values. Written once per
-- user and period (their first counted request), never on the hot path's common case.
CREATE TABLE usage_period_users (
    publishableKey TEXT NOT NULL,
    periodStart    TEXT NOT NULL,
    users          INTEGER NOT NULL CHECK (users >= 0),
    PRIMARY KEY (publishableKey, periodStart)
) WITHOUT ROWID;
