-- How many usage counters share a project's users, by the start of their billing period
-- (`shared::counter::layout`): a JSON array of {fromSecs, shards}, set by an operator for a very
-- hot project. NULL: one counter for every period.
ALTER TABLE api_keys ADD COLUMN usageCounterLayout TEXT
    CHECK (usageCounterLayout IS NULL OR json_valid(usageCounterLayout));
