-- Currencies (issue 26): a project (and its live key set) is priced in one currency, chosen
-- when it is created (lowercase ISO 4217, two-decimal currencies only; projects from before
-- are in dollars). Its tiers' `currency` and its orders' follow it, so no figure of a project
-- adds two currencies together.
ALTER TABLE api_keys ADD COLUMN currency TEXT NOT NULL DEFAULT 'usd' CHECK (length(currency) = 3 AND currency = lower(currency));
