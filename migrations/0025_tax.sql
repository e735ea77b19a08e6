-- Sales tax (issue 26). A project (and mode) may have Stripe Tax compute and collect tax on its
-- checkouts and invoices (`automaticTax`), and says whether its prices include tax
-- (`taxBehavior`, Stripe's tax_behavior on each price it makes). A tier records the behaviour
-- its Stripe price was made with (NULL: unspecified, made before these settings), so a change
-- of setting knows which prices to make again. A paid order keeps the tax its buyer paid.
ALTER TABLE api_keys ADD COLUMN automaticTax INTEGER NOT NULL DEFAULT 0 CHECK (automaticTax IN (0, 1));
ALTER TABLE api_keys ADD COLUMN taxBehavior TEXT NOT NULL DEFAULT 'exclusive' CHECK (taxBehavior IN ('exclusive', 'inclusive'));
ALTER TABLE tiers ADD COLUMN taxBehavior TEXT CHECK (taxBehavior IS NULL OR taxBehavior IN ('exclusive', 'inclusive'));
ALTER TABLE orders ADD COLUMN taxCents INTEGER NOT NULL DEFAULT 0 CHECK (taxCents >= 0);
