-- Trials and boolean features (issue 26). A SaaS tier may grant boolean features (`sso`,
-- `priority_support`: a JSON array of keys, NULL for none) and start a free trial on checkout
-- (`trialDays`, Stripe's trial_period_days; `trialCardRequired` 0: the trial starts without a
-- card and ends the subscription if none is added).
ALTER TABLE tiers ADD COLUMN entitlements TEXT CHECK (entitlements IS NULL OR json_valid(entitlements));
ALTER TABLE tiers ADD COLUMN trialDays INTEGER CHECK (trialDays IS NULL OR trialDays BETWEEN 1 AND 730);
ALTER TABLE tiers ADD COLUMN trialCardRequired INTEGER NOT NULL DEFAULT 1 CHECK (trialCardRequired IN (0, 1));

-- A subscription's trial as Stripe reports it, and when it was first seen active after one
-- (the conversion the dashboard counts; kept when the subscription later ends). A user whose
-- subscription ever had a trial gets no second one in the project.
ALTER TABLE subscriptions ADD COLUMN trialStart TEXT;
ALTER TABLE subscriptions ADD COLUMN trialEnd TEXT;
ALTER TABLE subscriptions ADD COLUMN trialConvertedAt TEXT;
CREATE INDEX subscriptions_by_trial ON subscriptions (publishableKey, trialEnd) WHERE trialEnd IS NOT NULL;
