//! After a sale: what Stripe refunded of a paid order, the stock a refund from the dashboard
//! returns (once), and the order's dispute. Amounts and statuses are Stripe's, read from Stripe
//! when its event arrives and written with the time of that read: a write never replaces a later
//! read, so events handled in any order (or at once) end in Stripe's latest state, a failed
//! refund's lower amount included.

use serde::Deserialize;

use super::{
    ProjectScope,
    subscriptions::EventRecord,
    webhooks::{OrderEvents, push_order_events, queued},
};
use dream_core::{error::ApiResult, period::Timestamp};

/// A paid order, for a refund. ?1 orderId, ?2 publishableKey.
pub const SELECT_PAID_ORDER: &str = "\
SELECT status, paymentIntent, COALESCE(paidCents, amountCents) AS paidCents, refundedCents, shortUnits,
  restockedAt IS NOT NULL AS restocked
FROM orders WHERE orderId = ?1 AND publishableKey = ?2";

/// What Stripe has refunded of the order's charge, as read at ?6 (ms); an older read arriving
/// late changes nothing. ?1 orderId, ?2 publishableKey, ?3 paymentIntent, ?4 refundedCents,
/// ?5 now.
pub const RECORD_REFUNDED: &str = "\
UPDATE orders SET refundedCents = ?4, refundsReadAtMs = ?6, updatedAt = ?5
WHERE orderId = ?1 AND publishableKey = ?2 AND status = 'paid' AND paymentIntent = ?3 AND refundsReadAtMs < ?6";

/// The order's dispute as Stripe reported it at ?7 (ms); an older read changes nothing.
/// ?1 orderId, ?2 publishableKey, ?3 paymentIntent, ?4 status, ?5 disputedCents, ?6 now.
pub const RECORD_DISPUTE: &str = "\
UPDATE orders SET disputeStatus = ?4, disputedCents = ?5, disputeReadAtMs = ?7, updatedAt = ?6
WHERE orderId = ?1 AND publishableKey = ?2 AND status = 'paid' AND paymentIntent = ?3 AND disputeReadAtMs < ?7";

/// The condition for returning an order's units, shared by the two statements of a restock.
macro_rules! restockable {
    () => {
        "orderId = ?1 AND publishableKey = ?2 AND status = 'paid' AND restockedAt IS NULL AND shortUnits = 0"
    };
}

/// Returns each line's units to its product's stock, once (the next statement of the same batch
/// marks the order restocked). Untracked stock stays untracked. ?1 orderId, ?2 publishableKey.
pub const RESTOCK_ITEMS: &str = concat!(
    "UPDATE tiers SET inventory = inventory + (SELECT line.quantity FROM order_items line\n",
    "    WHERE line.orderId = ?1 AND line.tierName = tiers.name),\n",
    "  soldOut = 0\n",
    "WHERE publishableKey = ?2 AND inventory IS NOT NULL\n",
    "  AND name IN (SELECT tierName FROM order_items WHERE orderId = ?1)\n",
    "  AND EXISTS (SELECT 1 FROM orders WHERE ",
    restockable!(),
    ")"
);

/// ?1 orderId, ?2 publishableKey, ?3 now.
pub const MARK_RESTOCKED: &str = concat!(
    "UPDATE orders SET restockedAt = ?3, updatedAt = ?3 WHERE ",
    restockable!()
);

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PaidOrder {
    pub status: String,
    pub payment_intent: Option<String>,
    pub paid_cents: i64,
    pub refunded_cents: i64,
    pub short_units: i64,
    pub restocked: i64,
}

/// A dispute as Stripe reports it.
pub struct Dispute<'a> {
    pub status: &'a str,
    pub amount_cents: i64,
}

impl ProjectScope {
    pub async fn paid_order(&self, order_id: &str) -> ApiResult<Option<PaidOrder>> {
        self.db.first(SELECT_PAID_ORDER, &[order_id.into(), self.pk()]).await
    }

    /// Records a refund the platform made (Stripe answered, at `read_at_ms`, that `refunded_cents`
    /// are refunded) and, if asked, the order's units back in stock, in one transaction. Returns
    /// whether the units went back (false when they had already, or the order was short), and
    /// whether an `order.refunded` delivery is due.
    pub async fn record_refund(
        &self,
        (order_id, payment_intent): (&str, &str),
        (refunded_cents, read_at_ms): (i64, i64),
        restock: bool,
        audit: Option<&super::audit::AuditEntry>,
        now: Timestamp,
    ) -> ApiResult<(bool, bool)> {
        let now_text = now.to_rfc3339();
        let mut statements = vec![(
            RECORD_REFUNDED,
            vec![
                order_id.into(),
                self.pk(),
                payment_intent.into(),
                refunded_cents.into(),
                now_text.as_str().into(),
                read_at_ms.into(),
            ],
        )];
        if restock {
            statements.push((RESTOCK_ITEMS, vec![order_id.into(), self.pk()]));
            statements.push((
                MARK_RESTOCKED,
                vec![order_id.into(), self.pk(), now_text.as_str().into()],
            ));
        }
        let restocked_at = statements.len() - 1;
        let queue = push_order_events(&mut statements, &self.project, order_id, OrderEvents::Refunded, now);
        // The refund happened at Stripe already: recorded whatever the rows say.
        statements.extend(audit.map(super::audit::AuditEntry::statement));
        let results = self.db.batch(&statements).await?;
        let restocked = restock && results.get(restocked_at).map(super::Executed::changes).unwrap_or(0) > 0;
        Ok((restocked, queued(&results, &[queue])))
    }

    /// Applies a charge's refunds and dispute as Stripe reported them at `read_at_ms`, with the
    /// event that said to look, in one transaction. Returns whether the event was new.
    pub async fn apply_charge_event(
        &self,
        (order_id, payment_intent): (&str, &str),
        (refunded_cents, read_at_ms): (i64, i64),
        dispute: Option<&Dispute<'_>>,
        event: &EventRecord<'_>,
        now: Timestamp,
    ) -> ApiResult<(bool, bool)> {
        let now_text = now.to_rfc3339();
        let mut statements = vec![
            self.record_connect_event(event, now),
            (
                RECORD_REFUNDED,
                vec![
                    order_id.into(),
                    self.pk(),
                    payment_intent.into(),
                    refunded_cents.into(),
                    now_text.as_str().into(),
                    read_at_ms.into(),
                ],
            ),
        ];
        if let Some(dispute) = dispute {
            statements.push((
                RECORD_DISPUTE,
                vec![
                    order_id.into(),
                    self.pk(),
                    payment_intent.into(),
                    dispute.status.into(),
                    dispute.amount_cents.into(),
                    now_text.as_str().into(),
                    read_at_ms.into(),
                ],
            ));
        }
        let queue = push_order_events(&mut statements, &self.project, order_id, OrderEvents::Refunded, now);
        let results = self.db.batch(&statements).await?;
        let new_event = results.first().map(super::Executed::changes).unwrap_or(0) > 0;
        Ok((new_event, queued(&results, &[queue])))
    }
}
