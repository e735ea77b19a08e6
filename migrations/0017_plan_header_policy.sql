-- Per project (and mode), how far `X-User-Plan` is trusted: `trusted` (the default, as before:
-- the developer's server vouches for the plan) or `capped` (the header may name the user's own
-- plan or a cheaper one, never a pricier one: a bug or a compromise of the developer's server
-- cannot hand out paid tiers).
ALTER TABLE api_keys ADD COLUMN planHeader TEXT NOT NULL DEFAULT 'trusted'
  CHECK (planHeader IN ('trusted', 'capped'));
