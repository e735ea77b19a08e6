//! `GET /api/dashboard` (secret key, api-multi) and `GET /dashboard` (developer session,
//! front-auth-api): one project's figures, built here once for both.

use serde::Serialize;
use serde_json::{Value, json};

use crate::{
    error::ApiResult,
    metering::DEFAULT_PLAN,
    mode::ProjectType,
    period::Timestamp,
    repo::{ProjectScope, metrics::CustomerListRow},
};

/// The dashboard shows the newest customers; the figures count all of them.
pub const CUSTOMER_LIST_LIMIT: i64 = 100;
/// Products with this many units or fewer (and more than none) are "low stock".
pub const LOW_STOCK_MAX: i64 = 5;
pub const RECENT_ORDERS_LIMIT: i64 = 20;

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
    Ok(json!({
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
            json!({ "metrics": summary, "customers": customers })
        }
        ProjectType::Store => store_dashboard(scope, now).await?,
    };
    let mut merged = head;
    if let (Some(target), Value::Object(extra)) = (merged.as_object_mut(), body) {
        target.extend(extra);
    }
    Ok(merged)
}
