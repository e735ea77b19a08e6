-- After a sale (issue 22 §4). What Stripe refunded of a paid order (the charge's
-- `amount_refunded`: it goes down again if a refund fails), when a refund made from the
-- dashboard returned its units to stock (once), and its dispute as Stripe reports it: the status
-- (needs_response, under_review, won, lost, warning_*) and the amount disputed. Each is written
-- with the time of the Stripe read it comes from (ms), and a write never replaces a later read,
-- so events handled in any order end in Stripe's latest state. Revenue figures subtract refunds
-- and lost disputes.
ALTER TABLE orders ADD COLUMN refundedCents INTEGER NOT NULL DEFAULT 0 CHECK (refundedCents >= 0);
ALTER TABLE orders ADD COLUMN refundsReadAtMs INTEGER NOT NULL DEFAULT 0;
ALTER TABLE orders ADD COLUMN restockedAt TEXT;
ALTER TABLE orders ADD COLUMN disputeStatus TEXT;
ALTER TABLE orders ADD COLUMN disputedCents INTEGER NOT NULL DEFAULT 0 CHECK (disputedCents >= 0);
ALTER TABLE orders ADD COLUMN disputeReadAtMs INTEGER NOT NULL DEFAULT 0;

-- The most units one cart of the project may hold (its developer sets it: a bound on how much
-- stock one buyer can keep from others while paying); NULL: the platform's bound.
ALTER TABLE api_keys ADD COLUMN maxCartUnits INTEGER CHECK (maxCartUnits IS NULL OR maxCartUnits BETWEEN 1 AND 1980);
