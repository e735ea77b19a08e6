-- Until when D1 may hold usage counts that no usage counter holds (counts made before the
-- counters existed): a counter carries a user's row over from D1 only for periods that started
-- before this time. Every project that exists when this runs is marked with the moment it runs;
-- projects created afterwards (NULL) were counted by their counters from their first request,
-- so their counters never wait on D1.
ALTER TABLE api_keys ADD COLUMN usageInD1Before TEXT;
UPDATE api_keys SET usageInD1Before = strftime('%Y-%m-%dT%H:%M:%SZ', 'now');
