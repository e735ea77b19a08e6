-- One Stripe account is connected to one developer at a time, and an account's owner can revoke
-- our access from Stripe (`account.application.deauthorized`): the connection is kept with
-- `revokedAt` (its projects' products stay on that account, so only it may be connected again
-- while they exist), and is not a connection until the developer reconnects.
ALTER TABLE stripe_tokens ADD COLUMN revokedAt TEXT;
CREATE INDEX stripe_tokens_by_account ON stripe_tokens (stripeUserId);
