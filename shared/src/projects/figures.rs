//! `GET /api/dashboard` (secret key, api-multi) and `GET /dashboard` (developer session,
//! front-auth-api): one project's figures, built here once for both.

use dream_core::api::figures::{
    CustomerSummary, Figures, MeterFigure, NearCap, OpenOrder, ProjectDashboard, RecentOrder, SaasFigures,
    StoreFigures, StoreMetrics,
};
use dream_core::tiers::{Tier, meters::Amount};

use dream_core::{
    error::ApiResult,
    mode::ProjectType,
    period::{self, BillingPeriod, Timestamp},
};

use crate::{
    storage::{
        ProjectScope,
        metrics::{CustomerListRow, MeterUsageRow},
    },
    usage::metering::DEFAULT_PLAN,
};

use dream_core::api::figures::{DayRevenue, MonthUsage};

/// The dashboard shows the newest customers; the figures count all of them.
pub const CUSTOMER_LIST_LIMIT: i64 = 100;
/// Products with this many units or fewer (and more than none) are "low stock".
pub const LOW_STOCK_MAX: i64 = 5;
pub const RECENT_ORDERS_LIMIT: i64 = 20;
/// How far back the dashboard's charts go.
pub const USAGE_CHART_MONTHS: usize = 6;
pub const REVENUE_CHART_DAYS: usize = 30;

/// The billed meters' terms as the meter statements take them (`storage::metrics`): each
/// tier's meters with overage, their price and the tier's cap, in billionths of a cent.
pub fn meter_terms(tiers: &[Tier]) -> String {
    let nanos = |a: Amount| u64::try_from(a.0).unwrap_or(u64::MAX);
    let terms: Vec<serde_json::Value> = tiers
        .iter()
        .flat_map(|t| {
            t.meters.iter().filter_map(move |m| {
                let (included, overage) = (m.included.max()?, m.overage?);
                Some(serde_json::json!({
                    "plan": t.name.as_str(), "meter": m.key.as_str(), "included": included, "per": overage.per,
                    "priceNanos": overage.price.nanocents(),
                    "capNanos": t.spend_cap.map(|cap| nanos(Amount::of_cents(cap))),
                }))
            })
        })
        .collect();
    serde_json::Value::Array(terms).to_string()
}

/// Each meter's rows of every plan together: its overage revenue at each plan's price.
fn summarize_meters(tiers: &[Tier], rows: &[MeterUsageRow]) -> Vec<MeterFigure> {
    let mut figures: Vec<MeterFigure> = Vec::new();
    for row in rows {
        let price = tiers
            .iter()
            .find(|t| t.name.as_str() == row.plan)
            .and_then(|t| t.meters.iter().find(|m| m.key.as_str() == row.meter))
            .and_then(|m| m.overage)
            .map_or(0, |o| u128::from(o.price.nanocents()));
        let revenue = u128::try_from(row.packages).unwrap_or(0) * price;
        match figures.iter_mut().find(|f| f.meter == row.meter) {
            Some(f) => {
                f.users += row.users;
                f.units += row.units;
                f.overage_units += row.overage_units;
                f.overage_revenue = Amount(f.overage_revenue.0 + revenue);
            }
            None => figures.push(MeterFigure {
                meter: row.meter.clone(),
                users: row.users,
                units: row.units,
                overage_units: row.overage_units,
                overage_revenue: Amount(revenue),
            }),
        }
    }
    figures
}

/// The meters' figures and the subscribers near their cap (no statement for a project whose
/// tiers have no meter besides requests, or no cap).
async fn meter_figures(scope: &ProjectScope, now: Timestamp) -> ApiResult<(Vec<MeterFigure>, Vec<NearCap>)> {
    let tiers = scope.tiers().await?;
    if !tiers.iter().any(|t| {
        t.meters
            .iter()
            .any(|m| m.key.as_str() != dream_core::tiers::meters::REQUESTS)
    }) {
        return Ok((Vec::new(), Vec::new()));
    }
    let terms = meter_terms(&tiers);
    let meters = summarize_meters(&tiers, &scope.meter_usage(now, &terms).await?);
    let near_cap = if tiers.iter().any(|t| t.spend_cap.is_some()) {
        scope.near_cap(now, &terms).await?
    } else {
        Vec::new()
    };
    let amount = |nanos: i64| Amount(u128::try_from(nanos).unwrap_or(0));
    let near_cap = near_cap
        .into_iter()
        .map(|r| NearCap {
            user_id: r.user_id,
            plan: r.plan,
            spent: Amount(r.spent_nanos.max(0.0) as u128),
            cap: amount(r.cap_nanos),
        })
        .collect();
    Ok((meters, near_cap))
}

/// Every month of the chart, oldest first, with zeros where nothing was counted.
fn usage_series(months: &[BillingPeriod], counted: Vec<MonthUsage>) -> Vec<MonthUsage> {
    months
        .iter()
        .map(|m| {
            let month = m.start.to_rfc3339()[..7].to_owned();
            let requests = counted.iter().find(|c| c.month == month).map_or(0, |c| c.requests);
            MonthUsage { month, requests }
        })
        .collect()
}

/// Every day of the chart, oldest first, with zeros where nothing sold.
fn revenue_series(days: &[Timestamp], sold: Vec<DayRevenue>) -> Vec<DayRevenue> {
    days.iter()
        .map(|d| {
            let day = d.to_rfc3339()[..10].to_owned();
            let found = sold.iter().find(|s| s.day == day);
            DayRevenue {
                revenue_cents: found.map_or(0, |s| s.revenue_cents),
                orders: found.map_or(0, |s| s.orders),
                day,
            }
        })
        .collect()
}

fn items_of(stored: &str) -> serde_json::Value {
    serde_json::from_str(stored).unwrap_or(serde_json::Value::Array(vec![]))
}

/// A Store project's figures: sales from paid orders, stock from its products (what is not sold
/// yet; `available` also leaves out units held by open checkouts).
async fn store_figures(scope: &ProjectScope, now: Timestamp) -> ApiResult<StoreFigures> {
    let sales = scope.sales_summary(now).await?;
    let products = crate::store::products_of(scope, now).await?;
    let stock: Vec<i64> = products.iter().filter_map(|p| p.inventory).collect();
    let recent_orders = scope
        .recent_orders(RECENT_ORDERS_LIMIT)
        .await?
        .into_iter()
        .map(|o| RecentOrder {
            items: items_of(&o.items),
            order_id: o.order_id,
            email: o.email,
            amount_cents: o.amount_cents,
            currency: o.currency,
            paid_at: o.paid_at,
            short_units: o.short_units,
            refunded_cents: o.refunded_cents,
            restocked: o.restocked_at.is_some(),
            dispute_status: o.dispute_status,
            disputed_cents: o.disputed_cents,
        })
        .collect();
    let open_orders = scope
        .open_orders(now, RECENT_ORDERS_LIMIT)
        .await?
        .into_iter()
        .map(|o| OpenOrder {
            items: items_of(&o.items),
            order_id: o.order_id,
            email: o.email,
            amount_cents: o.amount_cents,
            currency: o.currency,
            created_at: o.created_at,
            expires_at: o.expires_at,
        })
        .collect();
    let days = period::recent_days(now, REVENUE_CHART_DAYS);
    Ok(StoreFigures {
        revenue_by_day: revenue_series(&days, scope.revenue_by_day(days[0]).await?),
        metrics: StoreMetrics {
            total_sales: sales.total_sales,
            units_sold: sales.units_sold,
            revenue_cents: sales.revenue_cents,
            tax_cents: sales.tax_cents,
            refunded_cents: sales.refunded_cents,
            disputes_lost_cents: sales.disputes_lost_cents,
            open_disputes: sales.open_disputes,
            open_checkouts: sales.open_checkouts,
            products: products.len(),
            in_stock: stock.iter().sum::<i64>(),
            low_stock: stock.iter().filter(|n| (1..=LOW_STOCK_MAX).contains(*n)).count(),
            sold_out: products.iter().filter(|p| p.sold_out).count(),
        },
        products,
        recent_orders,
        open_orders,
    })
}

/// The project's dashboard as both routes return it.
pub async fn project_dashboard(
    scope: &ProjectScope,
    (tax, currency): (dream_core::tiers::tax::TaxSettings, dream_core::money::Currency),
    now: Timestamp,
) -> ApiResult<ProjectDashboard> {
    let project = scope.project();
    let figures = match project.project_type {
        ProjectType::Saas => {
            let months = BillingPeriod::recent_months(now, USAGE_CHART_MONTHS);
            let (meters, near_cap) = meter_figures(scope, now).await?;
            Figures::Saas(SaasFigures {
                metrics: scope.saas_summary(now).await?,
                customers: scope
                    .customer_list(now, CUSTOMER_LIST_LIMIT)
                    .await?
                    .into_iter()
                    .map(CustomerSummary::from)
                    .collect(),
                usage_by_month: usage_series(&months, scope.usage_by_month(months[0].start).await?),
                tier_mix: scope.tier_mix().await?,
                meters,
                near_cap,
            })
        }
        ProjectType::Store => Figures::Store(store_figures(scope, now).await?),
    };
    Ok(ProjectDashboard {
        publishable_key: project.publishable_key.as_str().to_owned(),
        mode: project.publishable_key.mode(),
        project_type: project.project_type,
        generated_at: now.to_rfc3339(),
        tax,
        currency,
        figures,
    })
}

impl From<CustomerListRow> for CustomerSummary {
    fn from(row: CustomerListRow) -> Self {
        let entitled = row
            .status
            .as_deref()
            .is_some_and(dream_core::stripe::objects::is_paying);
        Self {
            id: row.user_id,
            email: row.email,
            // An ended subscription's tier is history, not the plan the customer is on.
            plan: match (&row.status, entitled) {
                (Some(_), false) => DEFAULT_PLAN.to_owned(),
                _ => row.plan.unwrap_or_else(|| DEFAULT_PLAN.to_owned()),
            },
            status: row.status.unwrap_or_else(|| "none".to_owned()),
            cancel_at_period_end: row.cancel_at_period_end.unwrap_or(0) == 1,
            usage: row.usage,
            current_period_end: row.current_period_end,
            created_at: row.created_at,
        }
    }
}
