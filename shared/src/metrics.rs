//! `GET /api/dashboard` (secret key, api-multi) and `GET /dashboard` (developer session,
//! front-auth-api): one project's figures, built here once for both.

use serde::Serialize;
use serde_json::{Value, json};

use crate::{
    error::ApiResult,
    metering::DEFAULT_PLAN,
    mode::ProjectType,
    period::{self, BillingPeriod, Timestamp},
    repo::{
        ProjectScope,
        metrics::{CustomerListRow, MonthUsage},
        orders::DayRevenue,
    },
};

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

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct CustomerSummary {
    id: String,
    email: Option<String>,
    plan: String,
    /// The subscription's Stripe status; `none` for a customer who never subscribed.
    status: String,
    cancel_at_period_end: bool,
    usage: i64,
    current_period_end: Option<String>,
    created_at: String,
}

impl From<CustomerListRow> for CustomerSummary {
    fn from(row: CustomerListRow) -> Self {
        let entitled = row.status.as_deref().is_some_and(crate::stripe::objects::is_paying);
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

/// A Store project's figures: sales from paid orders, stock from its products (what is not sold
/// yet; `available` also leaves out units held by open checkouts).
async fn store_dashboard(scope: &ProjectScope, now: Timestamp) -> ApiResult<Value> {
    let sales = scope.sales_summary(now).await?;
    let products = crate::store::products_of(scope, now).await?;
    let stock: Vec<i64> = products.iter().filter_map(|p| p.inventory).collect();
    let recent: Vec<Value> = scope
        .recent_orders(RECENT_ORDERS_LIMIT)
        .await?
        .into_iter()
        .map(|o| {
            json!({
                "orderId": o.order_id,
                "email": o.email,
                "amountCents": o.amount_cents,
                "currency": o.currency,
                "paidAt": o.paid_at,
                "items": serde_json::from_str::<Value>(&o.items).unwrap_or(Value::Array(vec![])),
            })
        })
        .collect();
    let days = period::recent_days(now, REVENUE_CHART_DAYS);
    let revenue_by_day = revenue_series(&days, scope.revenue_by_day(days[0]).await?);
    Ok(json!({
        "revenueByDay": revenue_by_day,
        "metrics": {
            "totalSales": sales.total_sales,
            "unitsSold": sales.units_sold,
            "revenueCents": sales.revenue_cents,
            "openCheckouts": sales.open_checkouts,
            "products": products.len(),
            "inStock": stock.iter().sum::<i64>(),
            "lowStock": stock.iter().filter(|n| (1..=LOW_STOCK_MAX).contains(*n)).count(),
            "soldOut": products.iter().filter(|p| p.sold_out).count(),
        },
        "products": products,
        "recentOrders": recent,
    }))
}

/// The project's dashboard as both routes return it.
pub async fn project_dashboard(scope: &ProjectScope, now: Timestamp) -> ApiResult<Value> {
    let project = scope.project();
    let head = json!({
        "publishableKey": project.publishable_key.as_str(),
        "mode": project.publishable_key.mode(),
        "projectType": project.project_type,
        "generatedAt": now.to_rfc3339(),
    });
    let body = match project.project_type {
        ProjectType::Saas => {
            let summary = scope.saas_summary(now).await?;
            let customers: Vec<CustomerSummary> = scope
                .customer_list(now, CUSTOMER_LIST_LIMIT)
                .await?
                .into_iter()
                .map(CustomerSummary::from)
                .collect();
            let months = BillingPeriod::recent_months(now, USAGE_CHART_MONTHS);
            let usage_by_month = usage_series(&months, scope.usage_by_month(months[0].start).await?);
            json!({
                "metrics": summary,
                "customers": customers,
                "usageByMonth": usage_by_month,
                "tierMix": scope.tier_mix().await?,
            })
        }
        ProjectType::Store => store_dashboard(scope, now).await?,
    };
    let mut merged = head;
    if let (Some(target), Value::Object(extra)) = (merged.as_object_mut(), body) {
        target.extend(extra);
    }
    Ok(merged)
}
