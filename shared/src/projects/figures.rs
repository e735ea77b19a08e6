//! `GET /api/dashboard` (secret key, api-multi) and `GET /dashboard` (developer session,
//! front-auth-api): one project's figures, built here once for both.

use dream_core::api::figures::{
    CustomerSummary, Figures, OpenOrder, ProjectDashboard, RecentOrder, SaasFigures, StoreFigures, StoreMetrics,
};

use dream_core::{
    error::ApiResult,
    mode::ProjectType,
    period::{self, BillingPeriod, Timestamp},
};

use crate::{
    storage::{ProjectScope, metrics::CustomerListRow},
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
pub async fn project_dashboard(scope: &ProjectScope, now: Timestamp) -> ApiResult<ProjectDashboard> {
    let project = scope.project();
    let figures = match project.project_type {
        ProjectType::Saas => {
            let months = BillingPeriod::recent_months(now, USAGE_CHART_MONTHS);
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
            })
        }
        ProjectType::Store => Figures::Store(store_figures(scope, now).await?),
    };
    Ok(ProjectDashboard {
        publishable_key: project.publishable_key.as_str().to_owned(),
        mode: project.publishable_key.mode(),
        project_type: project.project_type,
        generated_at: now.to_rfc3339(),
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
