-- Meters (issue 24): the Stripe Billing Meters a subscription's metered items report to, as a
-- JSON array of meter ids, from Stripe's subscription object. A user's overage on a meter is
-- billed (and counted past the included amount) only while their subscription carries a
-- metered price on that meter: a tier that gains overage, or a new overage price, does not
-- reach the subscriptions made before it, and their users must not count usage nobody bills.
ALTER TABLE subscriptions ADD COLUMN meteredMeters TEXT CHECK (meteredMeters IS NULL OR json_valid(meteredMeters));
