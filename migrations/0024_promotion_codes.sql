-- Promotion codes (issue 26): a coupon and its customer-facing code on the developer's
-- connected account, made for one project and mode (publishableKey). Stripe holds them; this
-- table is which project each belongs to (Stripe's lists cannot filter by metadata) and what
-- the dashboard shows. `code` is unique in the project whatever its case (Stripe's own rule is
-- per account among active codes). Redemptions are Stripe's count, read when listing.
CREATE TABLE promotion_codes (
    promotionCodeId  TEXT PRIMARY KEY,
    publishableKey   TEXT NOT NULL,
    couponId         TEXT NOT NULL,
    code             TEXT NOT NULL CHECK (length(code) BETWEEN 3 AND 30),
    -- Exactly one: hundredths of a percent (2000 = 20 %), or cents of the project's currency.
    percentOffHundredths INTEGER CHECK (percentOffHundredths BETWEEN 1 AND 10000),
    amountOffCents   INTEGER CHECK (amountOffCents > 0),
    currency         TEXT NOT NULL,
    duration         TEXT NOT NULL CHECK (duration IN ('once', 'repeating', 'forever')),
    durationInMonths INTEGER CHECK (durationInMonths BETWEEN 1 AND 36),
    maxRedemptions   INTEGER CHECK (maxRedemptions > 0),
    expiresAt        TEXT,
    firstTimeOnly    INTEGER NOT NULL DEFAULT 0 CHECK (firstTimeOnly IN (0, 1)),
    active           INTEGER NOT NULL DEFAULT 1 CHECK (active IN (0, 1)),
    createdAt        TEXT NOT NULL,
    updatedAt        TEXT NOT NULL,
    CHECK ((percentOffHundredths IS NULL) <> (amountOffCents IS NULL))
);
CREATE UNIQUE INDEX promotion_codes_by_code ON promotion_codes (publishableKey, code COLLATE NOCASE);
CREATE INDEX promotion_codes_by_project ON promotion_codes (publishableKey, createdAt);
