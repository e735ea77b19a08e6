-- Store orders: a guest cart checkout holds its stock from creation until its Checkout Session
-- is paid (the stock is sold), expires, or its hold runs out (`expiresAt`, a little after the
-- session's own expiry, so a session paid at its last second still finds its stock held).
-- `tiers.inventory` is stock not yet sold; what can be bought now is inventory minus the live
-- holds, computed in the same statement that takes a hold, so concurrent carts cannot oversell.
CREATE TABLE orders (
    orderId        TEXT PRIMARY KEY CHECK (orderId LIKE 'ord\_%' ESCAPE '\'),
    publishableKey TEXT NOT NULL REFERENCES api_keys (publishableKey),
    platformId     TEXT NOT NULL,
    -- reserving: stock held, the Checkout Session being created; open: payable; paid: sold;
    -- expired: the session ended unpaid; failed: the session could not be created.
    status         TEXT NOT NULL CHECK (status IN ('reserving', 'open', 'paid', 'expired', 'failed')),
    sessionId      TEXT UNIQUE,
    email          TEXT,
    currency       TEXT NOT NULL DEFAULT 'usd',
    -- What the cart costs at our prices; what Stripe charged once paid.
    amountCents    INTEGER NOT NULL CHECK (amountCents >= 0),
    paidCents      INTEGER CHECK (paidCents IS NULL OR paidCents >= 0),
    paymentIntent  TEXT,
    expiresAt      TEXT NOT NULL,
    createdAt      TEXT NOT NULL,
    paidAt         TEXT,
    updatedAt      TEXT NOT NULL
);
CREATE INDEX orders_by_status ON orders (publishableKey, status, expiresAt);
CREATE INDEX orders_paid ON orders (publishableKey, paidAt) WHERE status = 'paid';

CREATE TABLE order_items (
    orderId        TEXT NOT NULL REFERENCES orders (orderId),
    publishableKey TEXT NOT NULL,
    tierName       TEXT NOT NULL,
    priceId        TEXT NOT NULL,
    -- A hold that would oversell is written as 0 and refused by this CHECK, which rolls the whole
    -- cart back in one transaction.
    quantity       INTEGER NOT NULL CHECK (quantity > 0),
    unitCents      INTEGER NOT NULL CHECK (unitCents >= 0),
    PRIMARY KEY (orderId, tierName)
) WITHOUT ROWID;
CREATE INDEX order_items_by_product ON order_items (publishableKey, tierName);
