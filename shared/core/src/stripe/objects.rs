//! Reading Stripe's objects: the few fields the platform acts on, tolerant of expanded ids and
//! of the API versions that moved fields (the subscription period now lives on its items).

use serde::Deserialize;
use serde_json::Value;

/// A Checkout Session, as far as the platform reads one (platform plan, subscriptions, carts).
#[derive(Debug, Clone, Deserialize)]
pub struct CheckoutSession {
    pub id: String,
    /// Present while the session can be paid.
    #[serde(default)]
    pub url: Option<String>,
    #[serde(default)]
    pub status: Option<String>,
    #[serde(default)]
    pub subscription: Option<Value>,
    #[serde(default)]
    pub customer: Option<Value>,
    #[serde(default)]
    pub metadata: serde_json::Map<String, Value>,
}

/// A Stripe id field that may be expanded into an object.
pub fn id_of(value: &Value) -> Option<String> {
    value
        .as_str()
        .map(str::to_owned)
        .or_else(|| value.get("id").and_then(Value::as_str).map(str::to_owned))
}

/// A non-empty string at `pointer`.
pub fn text(value: &Value, pointer: &str) -> Option<String> {
    value
        .pointer(pointer)
        .and_then(Value::as_str)
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
}

/// Statuses in which a subscriber keeps what they pay for (`past_due`: Stripe is still
/// retrying the payment, and cutting access then would punish a card that merely expired).
pub fn is_paying(status: &str) -> bool {
    matches!(status, "active" | "trialing" | "past_due")
}

/// A subscription as the platform keeps it: Stripe's current state, flattened.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SubscriptionState {
    pub id: String,
    pub customer: String,
    pub status: String,
    pub price_id: Option<String>,
    pub product_id: Option<String>,
    /// What one period costs, in the smallest currency unit.
    pub amount: i64,
    pub currency: String,
    pub monthly_amount: i64,
    pub period: Option<(i64, i64)>,
    pub cancel_at_period_end: bool,
    pub canceled_at: Option<i64>,
    pub cancel_reason: Option<String>,
    pub metadata: serde_json::Map<String, Value>,
    /// The Billing Meters its metered items report to (`price.recurring.meter`).
    pub metered_meters: Vec<String>,
    /// The trial it started with, if any (Stripe keeps both after the trial ends).
    pub trial_start: Option<i64>,
    pub trial_end: Option<i64>,
}

impl SubscriptionState {
    /// Whether the subscriber keeps the tier's access now.
    pub fn entitles(&self) -> bool {
        is_paying(&self.status)
    }

    pub fn metadata(&self, key: &str) -> Option<&str> {
        self.metadata.get(key).and_then(Value::as_str).filter(|s| !s.is_empty())
    }

    /// Reads a `subscription` object; `None` if it is not one.
    pub fn parse(sub: &Value) -> Option<Self> {
        if sub.get("object").and_then(Value::as_str) != Some("subscription") {
            return None;
        }
        let items: &[Value] = sub
            .pointer("/items/data")
            .and_then(Value::as_array)
            .map_or(&[], Vec::as_slice);
        // A metered item (a tier's overage) bills in arrears and names no plan: the licensed
        // item is the tier's price.
        let metered = |i: &&Value| i.pointer("/price/recurring/usage_type").and_then(Value::as_str) == Some("metered");
        let first = items.iter().find(|i| !metered(i)).or(items.first());
        let price = first.and_then(|i| i.get("price"));
        let int = |v: Option<&Value>, pointer: &str| v.and_then(|v| v.pointer(pointer)).and_then(Value::as_i64);
        let amount: i64 = items
            .iter()
            .filter(|i| !metered(i))
            .map(|i| int(Some(i), "/price/unit_amount").unwrap_or(0) * int(Some(i), "/quantity").unwrap_or(1))
            .sum();
        let interval = price.and_then(|p| text(p, "/recurring/interval")).unwrap_or_default();
        let interval_count = int(price, "/recurring/interval_count").unwrap_or(1);
        // Current API versions put the period on the items; older ones on the subscription.
        let period_of = |v: Option<&Value>| int(v, "/current_period_start").zip(int(v, "/current_period_end"));
        Some(Self {
            id: text(sub, "/id")?,
            customer: sub.get("customer").and_then(id_of)?,
            status: text(sub, "/status")?,
            price_id: price.and_then(|p| text(p, "/id")),
            product_id: price.and_then(|p| p.get("product")).and_then(id_of),
            amount,
            currency: text(sub, "/currency").unwrap_or_else(|| "usd".to_owned()),
            monthly_amount: monthly(recurring_after_discounts(amount, sub), &interval, interval_count),
            period: period_of(first).or_else(|| period_of(Some(sub))),
            cancel_at_period_end: sub
                .get("cancel_at_period_end")
                .and_then(Value::as_bool)
                .unwrap_or(false),
            canceled_at: sub.get("canceled_at").and_then(Value::as_i64),
            cancel_reason: text(sub, "/cancellation_details/reason"),
            metadata: sub
                .get("metadata")
                .and_then(Value::as_object)
                .cloned()
                .unwrap_or_default(),
            metered_meters: items
                .iter()
                .filter(|i| metered(i))
                .filter_map(|i| text(i, "/price/recurring/meter"))
                .collect(),
            trial_start: sub.get("trial_start").and_then(Value::as_i64),
            trial_end: sub.get("trial_end").and_then(Value::as_i64),
        })
    }
}

/// What a read of a subscription expands so its MRR counts its discounts.
pub const DISCOUNT_EXPANSION: &str = "discounts.source.coupon";

/// What the subscription's recurring discounts leave of `amount`: each discount whose coupon is
/// expanded (`DISCOUNT_EXPANSION`; before 2025-09-30.clover the coupon sat at `coupon`) takes
/// its percent or amount off in turn. A `once` coupon recurs on no invoice, so it leaves the
/// recurring revenue whole; an id that was not expanded is not counted.
fn recurring_after_discounts(amount: i64, sub: &Value) -> i64 {
    let coupons = sub
        .get("discounts")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(|d| d.pointer("/source/coupon").or_else(|| d.get("coupon")))
        .filter(|c| c.is_object() && c.get("duration").and_then(Value::as_str) != Some("once"));
    coupons.fold(amount, |left, coupon| {
        if let Some(percent) = coupon.get("percent_off").and_then(Value::as_f64) {
            let off = (left as f64 * percent / 100.0).round() as i64;
            (left - off).max(0)
        } else if let Some(off) = coupon.get("amount_off").and_then(Value::as_i64) {
            (left - off).max(0)
        } else {
            left
        }
    })
}

/// An amount billed every `count` `interval`s, as a monthly figure (MRR), rounded to the cent.
pub fn monthly(amount: i64, interval: &str, count: i64) -> i64 {
    let count = count.max(1);
    // Per month: 12 / (months per period), using 365.25-day years for days and weeks.
    let (num, den): (i128, i128) = match interval {
        "day" => (36525, 1200 * i128::from(count)),
        "week" => (36525, 7 * 1200 * i128::from(count)),
        "year" => (1, 12 * i128::from(count)),
        _ => (1, i128::from(count)),
    };
    let scaled = i128::from(amount) * num;
    i64::try_from((scaled + den / 2) / den).unwrap_or(i64::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn mrr_counts_what_recurring_discounts_leave() {
        let sub = |discounts: serde_json::Value| {
            SubscriptionState::parse(&json!({"id": "sub_1", "object": "subscription", "customer": "cus_1",
                "status": "active", "discounts": discounts,
                "items": {"data": [{"price": {"id": "price_1", "unit_amount": 999,
                    "recurring": {"interval": "month", "interval_count": 1}}}]}}))
            .unwrap()
        };
        let coupon =
            |terms: serde_json::Value| json!({"object": "discount", "source": {"type": "coupon", "coupon": terms}});
        assert_eq!(sub(json!([])).monthly_amount, 999);
        let twenty = sub(json!([coupon(json!({"percent_off": 20.0, "duration": "forever"}))]));
        assert_eq!((twenty.amount, twenty.monthly_amount), (999, 799));
        assert_eq!(
            sub(json!([coupon(json!({"amount_off": 500, "duration": "repeating"}))])).monthly_amount,
            499
        );
        assert_eq!(
            sub(json!([coupon(json!({"amount_off": 5000, "duration": "forever"}))])).monthly_amount,
            0
        );
        assert_eq!(
            sub(json!([coupon(json!({"percent_off": 50.0, "duration": "once"}))])).monthly_amount,
            999
        );
        assert_eq!(sub(json!(["di_not_expanded"])).monthly_amount, 999);
        let legacy = json!({"object": "discount", "coupon": {"percent_off": 10.0, "duration": "forever"}});
        assert_eq!(sub(json!([legacy])).monthly_amount, 899);
    }

    #[test]
    fn monthly_normalisation() {
        assert_eq!(monthly(999, "month", 1), 999);
        assert_eq!(monthly(12000, "year", 1), 1000);
        assert_eq!(monthly(3000, "month", 3), 1000);
        assert_eq!(monthly(100, "week", 1), 435); // 100 * 52.18 weeks / 12
        assert_eq!(monthly(10, "day", 1), 304);
    }

    #[test]
    fn reads_a_subscription_with_the_period_on_its_items() {
        let sub = json!({
            "id": "sub_1", "object": "subscription", "customer": {"id": "cus_1"}, "status": "active",
            "currency": "usd", "cancel_at_period_end": true, "canceled_at": 50,
            "cancellation_details": {"reason": "cancellation_requested"},
            "metadata": {"publishableKey": "pk_test_x", "userId": "u1", "tier": "pro"},
            "items": {"data": [{"quantity": 2, "current_period_start": 100, "current_period_end": 200,
                "price": {"id": "price_1", "product": "prod_1", "unit_amount": 999,
                          "recurring": {"interval": "month", "interval_count": 1}}}]}
        });
        let state = SubscriptionState::parse(&sub).unwrap();
        assert_eq!(state.customer, "cus_1");
        assert_eq!((state.amount, state.monthly_amount), (1998, 1998));
        assert_eq!(state.period, Some((100, 200)));
        assert_eq!(state.product_id.as_deref(), Some("prod_1"));
        assert!(state.cancel_at_period_end && state.entitles());
        assert_eq!(state.metadata("userId"), Some("u1"));
        assert_eq!(state.metadata("missing"), None);
        assert!(SubscriptionState::parse(&json!({"object": "invoice", "id": "in_1"})).is_none());
    }

    #[test]
    fn older_shapes_keep_the_period_on_the_subscription() {
        let sub = json!({"id": "sub_1", "object": "subscription", "customer": "cus_1", "status": "past_due",
            "current_period_start": 1, "current_period_end": 2, "items": {"data": []}});
        let state = SubscriptionState::parse(&sub).unwrap();
        assert_eq!(state.period, Some((1, 2)));
        assert!(state.entitles());
        assert_eq!(state.amount, 0);
    }
}
