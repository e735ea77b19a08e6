-- Key rotation with a grace period (as Stripe's key roll and Unkey do): the replaced secret key
-- keeps authenticating until previousKeyExpiresAt, so a developer can deploy the new key before
-- the old one stops. Both NULL: no grace. Authentication looks a hash up in either column, so
-- the previous hash is unique and indexed like the current one.
ALTER TABLE api_keys ADD COLUMN previousSecretKeyHash TEXT
    CHECK (previousSecretKeyHash IS NULL OR length(previousSecretKeyHash) = 64);
ALTER TABLE api_keys ADD COLUMN previousKeyExpiresAt TEXT;
CREATE UNIQUE INDEX api_keys_previous_secret ON api_keys (previousSecretKeyHash)
    WHERE previousSecretKeyHash IS NOT NULL;
