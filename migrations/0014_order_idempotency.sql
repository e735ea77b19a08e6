-- A cart checkout sent with an `Idempotency-Key` (the SDKs send one and retry with it) makes one
-- order: a retry finds it by key and answers with the same session, so the stock is held once.
-- `requestHash` (SHA-256 of the body) tells a retry from another cart sent under the same key.
-- A checkout that failed gives its key up (set to NULL), so a retry after a failure starts over.
ALTER TABLE orders ADD COLUMN idempotencyKey TEXT;
ALTER TABLE orders ADD COLUMN requestHash TEXT;
ALTER TABLE orders ADD COLUMN sessionUrl TEXT;
CREATE UNIQUE INDEX orders_by_idempotency_key ON orders (publishableKey, idempotencyKey)
  WHERE idempotencyKey IS NOT NULL;
