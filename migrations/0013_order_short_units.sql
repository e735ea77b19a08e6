-- Units a paid order got beyond the stock left for it. A payment is always recorded, even when it
-- is applied after its hold ended and other carts took the units (a webhook retried for hours,
-- or a payment method that settles days later): the stock stops at 0 and the order says how
-- many units its developer must find or refund.
ALTER TABLE orders ADD COLUMN shortUnits INTEGER NOT NULL DEFAULT 0;
