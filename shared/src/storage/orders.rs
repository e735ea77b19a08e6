//! Store orders: holding stock for a cart, selling it once paid, releasing it on expiry, and the
//! figures of sales. Every statement that decides availability computes it from the stock and
//! the live holds in the same statement, so concurrent carts cannot oversell.

use dream_core::api::figures::DayRevenue;
use serde::Deserialize;

use super::{
    ProjectScope, SqlParam,
    webhooks::{OrderEvents, push_order_events, queued},
};
use dream_core::{
    error::{ApiError, ApiResult, Cause},
    money::Currency,
    period::Timestamp,
};

/// What a tier's price (hundredths of the major unit) is divided by for Stripe's unit.
fn hundredths_per_minor_unit(currency: Currency) -> i64 {
    if currency.zero_decimal() { 100 } else { 1 }
}

/// Units of a product held by live checkouts (other than order `$except`, if given).
/// ?P publishableKey, ?T tier name, ?N now.
macro_rules! held {
    ($pk:literal, $tier:literal, $now:literal) => {
        held!(@ $pk, $tier, $now, "")
    };
    ($pk:literal, $tier:literal, $now:literal, $except:literal) => {
        held!(@ $pk, $tier, $now, concat!(" AND i.orderId <> ", $except))
    };
    (@ $pk:expr, $tier:expr, $now:expr, $other_orders:expr) => {
        concat!(
            "(SELECT COALESCE(SUM(i.quantity), 0) FROM order_items i JOIN orders o ON o.orderId = i.orderId ",
            "WHERE i.publishableKey = ",
            $pk,
            " AND i.tierName = ",
            $tier,
            $other_orders,
            " AND o.status IN ('reserving', 'open') AND o.expiresAt > ",
            $now,
            ")"
        )
    };
}

/// ?1 publishableKey, ?2 now.
pub const SELECT_PRODUCTS: &str = concat!(
    "SELECT t.name, t.displayName, t.priceCents, t.currency, t.priceId, t.features, t.inventory, t.soldOut, ",
    held!("t.publishableKey", "t.name", "?2"),
    " AS held FROM tiers t WHERE t.publishableKey = ?1 ORDER BY t.priceCents, t.name"
);

/// ?1 orderId, ?2 publishableKey, ?3 platformId, ?4 email, ?5 amountCents, ?6 expiresAt, ?7 now,
/// ?8 idempotencyKey, ?9 requestHash. The order is in its project's currency.
pub const INSERT_ORDER: &str = "\
INSERT INTO orders (orderId, publishableKey, platformId, status, email, amountCents, expiresAt, createdAt, updatedAt,
  idempotencyKey, requestHash, currency)
VALUES (?1, ?2, ?3, 'reserving', ?4, ?5, ?6, ?7, ?7, ?8, ?9,
  COALESCE((SELECT currency FROM api_keys WHERE publishableKey = ?2), 'usd'))";

/// The order a cart checkout with this `Idempotency-Key` made. ?1 publishableKey, ?2 key.
pub const SELECT_ORDER_BY_IDEMPOTENCY_KEY: &str = "\
SELECT orderId, status, sessionId, sessionUrl, requestHash, amountCents, expiresAt
FROM orders WHERE publishableKey = ?1 AND idempotencyKey = ?2";

/// Holds `?5` units of product `?3` at price `?4` for order `?1`, or writes a quantity of 0
/// (refused by the CHECK, rolling back the whole cart) when fewer are available. A product that
/// no longer has that price inserts nothing (counted after the batch).
/// ?1 orderId, ?2 publishableKey, ?3 tier name, ?4 priceId, ?5 quantity, ?6 now, ?7 hundredths
/// of the price per unit of Stripe's (1, or 100 for a zero-decimal currency).
pub const HOLD_ITEM: &str = concat!(
    "INSERT INTO order_items (orderId, publishableKey, tierName, priceId, quantity, unitCents)\n",
    "SELECT ?1, ?2, t.name, t.priceId, CASE WHEN t.soldOut = 0 AND (t.inventory IS NULL OR t.inventory - ",
    held!("?2", "t.name", "?6"),
    " >= ?5) THEN ?5 ELSE 0 END, t.priceCents / ?7\n",
    "FROM tiers t WHERE t.publishableKey = ?2 AND t.name = ?3 AND t.priceId = ?4"
);

/// The cart's total at the held prices, and how many of its items were held.
pub const SELECT_ORDER_TOTAL: &str = "\
SELECT COUNT(*) AS items, COALESCE(SUM(quantity * unitCents), 0) AS amountCents FROM order_items WHERE orderId = ?1";

/// The order's amount from the prices its items were held at. ?1 orderId.
pub const SET_ORDER_AMOUNT: &str = "\
UPDATE orders SET amountCents = (SELECT COALESCE(SUM(quantity * unitCents), 0) FROM order_items WHERE orderId = ?1)
WHERE orderId = ?1";

/// ?1 orderId, ?2 sessionId, ?3 now, ?4 sessionUrl.
pub const OPEN_ORDER: &str = "\
UPDATE orders SET status = 'open', sessionId = ?2, sessionUrl = ?4, updatedAt = ?3
WHERE orderId = ?1 AND status = 'reserving'";

/// Releases the hold of an order whose session could not be made (`failed`: only while it is
/// still being made, so a concurrent call that opened it keeps it) or expired unpaid
/// (`expired`). A failed order gives its `Idempotency-Key` up, so a retry with it starts a new
/// order. ?1 orderId, ?2 publishableKey, ?3 status ('failed' | 'expired'), ?4 now.
pub const RELEASE_ORDER: &str = "\
UPDATE orders SET status = ?3, updatedAt = ?4,
  idempotencyKey = CASE WHEN ?3 = 'failed' THEN NULL ELSE idempotencyKey END
WHERE orderId = ?1 AND publishableKey = ?2
  AND (status = 'reserving' OR (status = 'open' AND ?3 = 'expired'))";

/// Units of line `$line` that order ?1 takes from the stock of tier `$tier` at ?3: its own
/// quantity, but never what other orders' live holds keep, nor below 0. Less than its quantity
/// only when the payment is applied after its hold ended and other carts took the units.
macro_rules! taken {
    ($line:literal, $tier:literal, $tier_name:literal) => {
        concat!(
            "MIN(",
            $line,
            ".quantity, MAX(0, ",
            $tier,
            ".inventory - ",
            held!("?2", $tier_name, "?3", "?1"),
            "))"
        )
    };
}

/// Records how many units the order gets beyond the stock left for it (0 when its hold still
/// stands), before `CONSUME_STOCK` of the same batch takes what there is: a paid order is always
/// recorded, and the shortfall falls on the late order, never on a cart still holding its units.
/// Only while the order is not paid yet. ?1 orderId, ?2 publishableKey, ?3 now.
pub const RECORD_SHORT_UNITS: &str = concat!(
    "UPDATE orders SET shortUnits = (SELECT COALESCE(SUM(line.quantity - ",
    taken!("line", "t", "t.name"),
    "), 0)\n",
    "  FROM order_items line JOIN tiers t ON t.publishableKey = line.publishableKey AND t.name = line.tierName\n",
    "  WHERE line.orderId = ?1 AND t.inventory IS NOT NULL)\n",
    "WHERE orderId = ?1 AND publishableKey = ?2 AND status <> 'paid'"
);

/// Sells the order's units, once: only while the order is not paid yet (the next statement of the
/// same batch marks it paid). ?1 orderId, ?2 publishableKey, ?3 now.
pub const CONSUME_STOCK: &str = concat!(
    "UPDATE tiers SET inventory = inventory - (SELECT ",
    taken!("line", "tiers", "tiers.name"),
    " FROM order_items line WHERE line.orderId = ?1 AND line.tierName = tiers.name)\n",
    "WHERE publishableKey = ?2 AND inventory IS NOT NULL\n",
    "  AND name IN (SELECT tierName FROM order_items WHERE orderId = ?1)\n",
    "  AND EXISTS (SELECT 1 FROM orders WHERE orderId = ?1 AND publishableKey = ?2 AND status <> 'paid')"
);

/// ?1 orderId, ?2 publishableKey, ?3 sessionId, ?4 paidCents, ?5 email, ?6 paymentIntent, ?7 now,
/// ?8 taxCents (part of paidCents).
pub const MARK_PAID: &str = "\
UPDATE orders SET status = 'paid', sessionId = COALESCE(sessionId, ?3), paidCents = ?4, email = COALESCE(?5, email),
  paymentIntent = ?6, paidAt = ?7, updatedAt = ?7, taxCents = ?8
WHERE orderId = ?1 AND publishableKey = ?2 AND status <> 'paid'";

/// What a paid order `o` brought in: its payment less its refunds and a dispute it lost.
macro_rules! net_cents {
    () => {
        "COALESCE(o.paidCents, o.amountCents) - o.refundedCents - CASE WHEN o.disputeStatus = 'lost' THEN o.disputedCents ELSE 0 END"
    };
}

/// ?1 publishableKey, ?2 now.
pub const SELECT_SALES_SUMMARY: &str = concat!(
    "SELECT\n",
    "  (SELECT COUNT(*) FROM orders WHERE publishableKey = ?1 AND status = 'paid') AS totalSales,\n",
    "  (SELECT COALESCE(SUM(i.quantity), 0) FROM order_items i JOIN orders o ON o.orderId = i.orderId\n",
    "     WHERE o.publishableKey = ?1 AND o.status = 'paid') AS unitsSold,\n",
    "  (SELECT COALESCE(SUM(",
    net_cents!(),
    "), 0) FROM orders o WHERE o.publishableKey = ?1 AND o.status = 'paid') AS revenueCents,\n",
    "  (SELECT COALESCE(SUM(refundedCents), 0) FROM orders WHERE publishableKey = ?1 AND status = 'paid') AS refundedCents,\n",
    "  (SELECT COALESCE(SUM(taxCents), 0) FROM orders WHERE publishableKey = ?1 AND status = 'paid') AS taxCents,\n",
    "  (SELECT COALESCE(SUM(disputedCents), 0) FROM orders WHERE publishableKey = ?1 AND status = 'paid'\n",
    "     AND disputeStatus = 'lost') AS disputesLostCents,\n",
    "  (SELECT COUNT(*) FROM orders WHERE publishableKey = ?1 AND status = 'paid'\n",
    "     AND disputeStatus IN ('warning_needs_response', 'warning_under_review', 'needs_response', 'under_review'))\n",
    "     AS openDisputes,\n",
    "  (SELECT COUNT(*) FROM orders WHERE publishableKey = ?1 AND status IN ('reserving', 'open') AND expiresAt > ?2)\n",
    "     AS openCheckouts"
);

/// An order's lines as JSON, as `RecentOrder::items` passes them through.
macro_rules! order_items_json {
    () => {
        "(SELECT json_group_array(json_object('product', i.tierName, 'quantity', i.quantity, 'unitCents', i.unitCents))
     FROM order_items i WHERE i.orderId = o.orderId) AS items"
    };
}

/// The newest paid orders with their items, refunds and disputes. ?1 publishableKey, ?2 limit.
pub const SELECT_RECENT_ORDERS: &str = concat!(
    "SELECT o.orderId, o.email, COALESCE(o.paidCents, o.amountCents) AS amountCents, o.currency, o.paidAt, o.shortUnits,\n",
    "  o.refundedCents, o.restockedAt, o.disputeStatus, o.disputedCents, ",
    order_items_json!(),
    "\nFROM orders o WHERE o.publishableKey = ?1 AND o.status = 'paid' ORDER BY o.paidAt DESC, o.orderId LIMIT ?2"
);

/// The checkouts buyers can still pay, newest hold first: the ones the dashboard can cancel.
/// ?1 publishableKey, ?2 now, ?3 limit.
pub const SELECT_OPEN_ORDERS: &str = concat!(
    "SELECT o.orderId, o.email, o.amountCents, o.currency, o.createdAt, o.expiresAt, ",
    order_items_json!(),
    "\nFROM orders o WHERE o.publishableKey = ?1 AND o.status = 'open' AND o.expiresAt > ?2\n",
    "ORDER BY o.expiresAt DESC LIMIT ?3"
);

/// Paid orders and what they brought in (less refunds and lost disputes) per UTC day of payment,
/// from ?2 on. ?1 publishableKey.
pub const SELECT_REVENUE_BY_DAY: &str = concat!(
    "SELECT substr(o.paidAt, 1, 10) AS day, SUM(",
    net_cents!(),
    ") AS revenueCents, COUNT(*) AS orders\n",
    "FROM orders o WHERE o.publishableKey = ?1 AND o.status = 'paid' AND o.paidAt >= ?2 GROUP BY day"
);

pub const SELECT_ORDER_STATUS: &str = "SELECT status, sessionId FROM orders WHERE orderId = ?1 AND publishableKey = ?2";

#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ProductRow {
    pub name: String,
    pub display_name: String,
    pub price_cents: i64,
    pub currency: String,
    pub price_id: Option<String>,
    pub features: String,
    pub inventory: Option<i64>,
    pub sold_out: i64,
    pub held: i64,
}

#[derive(Debug, Clone, serde::Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SalesSummary {
    pub total_sales: i64,
    pub units_sold: i64,
    pub revenue_cents: i64,
    pub refunded_cents: i64,
    pub tax_cents: i64,
    pub disputes_lost_cents: i64,
    pub open_disputes: i64,
    pub open_checkouts: i64,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RecentOrderRow {
    pub order_id: String,
    pub email: Option<String>,
    pub amount_cents: i64,
    pub currency: String,
    pub paid_at: Option<String>,
    pub short_units: i64,
    pub refunded_cents: i64,
    pub restocked_at: Option<String>,
    pub dispute_status: Option<String>,
    pub disputed_cents: i64,
    pub items: String,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct OpenOrderRow {
    pub order_id: String,
    pub email: Option<String>,
    pub amount_cents: i64,
    pub currency: String,
    pub created_at: String,
    pub expires_at: String,
    pub items: String,
}

/// One line of a cart to hold.
pub struct HoldLine<'a> {
    pub tier: &'a str,
    pub price_id: &'a str,
    pub quantity: i64,
}

/// A paid session, as Stripe reports it.
pub struct Payment<'a> {
    pub session_id: &'a str,
    pub paid_cents: i64,
    /// The tax Stripe collected, included in `paid_cents`.
    pub tax_cents: i64,
    pub email: Option<&'a str>,
    pub payment_intent: Option<&'a str>,
}

/// Why a cart could not be held.
#[derive(Debug, PartialEq, Eq)]
pub enum HoldRefused {
    /// A product has fewer units available than asked (the first such line).
    Short,
    /// A product changed (deleted, or its price replaced) since the caller read it.
    Changed,
    /// Another request with the same `Idempotency-Key` made its order first.
    Replay,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct OrderStatus {
    pub status: String,
    pub session_id: Option<String>,
}

/// What a cart checkout with an `Idempotency-Key` left behind, for its retries.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct IdempotentOrder {
    pub order_id: String,
    pub status: String,
    pub session_id: Option<String>,
    pub session_url: Option<String>,
    pub request_hash: Option<String>,
    pub amount_cents: i64,
    pub expires_at: String,
}

impl ProjectScope {
    pub async fn products(&self, now: Timestamp) -> ApiResult<Vec<ProductRow>> {
        self.db
            .all(SELECT_PRODUCTS, &[self.pk(), now.to_rfc3339().into()])
            .await
    }

    /// The order an earlier cart checkout with this `Idempotency-Key` made, if any.
    pub async fn order_by_idempotency_key(&self, key: &str) -> ApiResult<Option<IdempotentOrder>> {
        self.db
            .first(SELECT_ORDER_BY_IDEMPOTENCY_KEY, &[self.pk(), key.into()])
            .await
    }

    /// Holds every line of a cart in one transaction: all or none. Returns the total in cents.
    /// With an idempotency key that another order took meanwhile, `HoldRefused::Replay`.
    pub async fn hold_cart(
        &self,
        (order_id, currency): (&str, Currency),
        email: Option<&str>,
        lines: &[HoldLine<'_>],
        idempotency: Option<(&str, &str)>,
        expires_at: Timestamp,
        now: Timestamp,
    ) -> ApiResult<Result<i64, HoldRefused>> {
        let now_text = SqlParam::from(now.to_rfc3339());
        let (idempotency_key, request_hash) = idempotency.unzip();
        let mut statements = vec![(
            INSERT_ORDER,
            vec![
                order_id.into(),
                self.pk(),
                self.project.platform_id.as_str().into(),
                email.into(),
                0.into(),
                expires_at.to_rfc3339().into(),
                now_text.clone(),
                idempotency_key.into(),
                request_hash.into(),
            ],
        )];
        for line in lines {
            statements.push((
                HOLD_ITEM,
                vec![
                    order_id.into(),
                    self.pk(),
                    line.tier.into(),
                    line.price_id.into(),
                    line.quantity.into(),
                    now_text.clone(),
                    // Held in Stripe's unit (cents, whole yen): what the buyer pays is compared
                    // with it.
                    hundredths_per_minor_unit(currency).into(),
                ],
            ));
        }
        statements.push((SET_ORDER_AMOUNT, vec![order_id.into()]));
        statements.push((SELECT_ORDER_TOTAL, vec![order_id.into()]));
        let results = match self.db.batch(&statements).await {
            Ok(results) => results,
            Err(e) if e.cause() == Some(&Cause::Check) => {
                return Ok(Err(HoldRefused::Short));
            }
            Err(e) if idempotency.is_some() && e.is_unique_on("orders.publishableKey") => {
                return Ok(Err(HoldRefused::Replay));
            }
            Err(e) => return Err(e.context("holding a cart")),
        };
        #[derive(Deserialize)]
        #[serde(rename_all = "camelCase")]
        struct Total {
            items: i64,
            amount_cents: i64,
        }
        let total = results
            .last()
            .map(|r| r.rows::<Total>())
            .transpose()?
            .and_then(|rows| rows.into_iter().next())
            .ok_or_else(|| ApiError::internal("cart total missing"))?;
        if total.items != lines.len() as i64 {
            self.release_order(order_id, "failed", None, now).await?;
            return Ok(Err(HoldRefused::Changed));
        }
        Ok(Ok(total.amount_cents))
    }

    pub async fn open_order(
        &self,
        order_id: &str,
        session_id: &str,
        session_url: &str,
        now: Timestamp,
    ) -> ApiResult<bool> {
        let result = self
            .db
            .run(
                OPEN_ORDER,
                &[
                    order_id.into(),
                    session_id.into(),
                    now.to_rfc3339().into(),
                    session_url.into(),
                ],
            )
            .await?;
        // False: no longer being made (a concurrent call opened it, or it was released).
        Ok(result.changes() == 1)
    }

    /// Ends an unpaid order (`failed` or `expired`), releasing its hold; false if it was not
    /// holding anything any more.
    /// `audit`: the entry of a developer's cancellation (none for an expiry or a failure).
    pub async fn release_order(
        &self,
        order_id: &str,
        status: &str,
        audit: Option<&super::audit::AuditEntry>,
        now: Timestamp,
    ) -> ApiResult<bool> {
        let result = self
            .db
            .run_audited(
                RELEASE_ORDER,
                &[order_id.into(), self.pk(), status.into(), now.to_rfc3339().into()],
                audit,
            )
            .await?;
        Ok(result.changes() > 0)
    }

    /// Records the event and, for a payment, sells the held stock and marks the order paid, with
    /// the sale's developer webhooks, in one transaction; for an expiry, releases the hold.
    /// Returns whether the event was new and whether a webhook delivery is due.
    pub async fn apply_order_event(
        &self,
        order_id: &str,
        payment: Option<&Payment<'_>>,
        event: &super::subscriptions::EventRecord<'_>,
        now: Timestamp,
    ) -> ApiResult<(bool, bool)> {
        let now_text = SqlParam::from(now.to_rfc3339());
        let mut statements = vec![self.record_connect_event(event, now)];
        match payment {
            Some(p) => {
                let stock_at = vec![order_id.into(), self.pk(), now_text.clone()];
                statements.push((RECORD_SHORT_UNITS, stock_at.clone()));
                statements.push((CONSUME_STOCK, stock_at));
                statements.push((
                    MARK_PAID,
                    vec![
                        order_id.into(),
                        self.pk(),
                        p.session_id.into(),
                        p.paid_cents.into(),
                        p.email.into(),
                        p.payment_intent.into(),
                        now_text,
                        p.tax_cents.max(0).into(),
                    ],
                ));
            }
            None => statements.push((
                RELEASE_ORDER,
                vec![order_id.into(), self.pk(), "expired".into(), now_text],
            )),
        }
        let queue =
            payment.map(|_| push_order_events(&mut statements, &self.project, order_id, OrderEvents::Sold, now));
        let results = self.db.batch(&statements).await?;
        let new_event = results.first().map(super::Executed::changes).unwrap_or(0) > 0;
        Ok((new_event, queued(&results, queue.as_slice())))
    }

    /// The order's status and Checkout Session, if the project has such an order.
    pub async fn order_status(&self, order_id: &str) -> ApiResult<Option<OrderStatus>> {
        self.db.first(SELECT_ORDER_STATUS, &[order_id.into(), self.pk()]).await
    }

    pub async fn sales_summary(&self, now: Timestamp) -> ApiResult<SalesSummary> {
        self.db
            .first(SELECT_SALES_SUMMARY, &[self.pk(), now.to_rfc3339().into()])
            .await?
            .ok_or_else(|| ApiError::internal("sales summary returned no row"))
    }

    /// Days with paid orders since `from` (days without any are absent).
    pub async fn revenue_by_day(&self, from: Timestamp) -> ApiResult<Vec<DayRevenue>> {
        self.db
            .all(SELECT_REVENUE_BY_DAY, &[self.pk(), from.to_rfc3339().into()])
            .await
    }

    pub async fn recent_orders(&self, limit: i64) -> ApiResult<Vec<RecentOrderRow>> {
        self.db.all(SELECT_RECENT_ORDERS, &[self.pk(), limit.into()]).await
    }

    pub async fn open_orders(&self, now: Timestamp, limit: i64) -> ApiResult<Vec<OpenOrderRow>> {
        self.db
            .all(SELECT_OPEN_ORDERS, &[self.pk(), now.to_rfc3339().into(), limit.into()])
            .await
    }
}
