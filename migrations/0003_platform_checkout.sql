-- The platform's open $15 checkout session, reused while it is open so two dashboard tabs
-- cannot start two subscriptions; and the lookup of a platform by its Stripe customer, which
-- webhook events always carry.
ALTER TABLE platforms ADD COLUMN checkoutSessionId TEXT;
CREATE INDEX platforms_by_customer ON platforms (stripeCustomerId);
