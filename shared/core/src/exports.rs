//! Exports: a project's customers, subscriptions, orders, usage and the platform's audit log as
//! CSV or JSON, written a page of rows at a time (so a large project never sits whole in a
//! worker's memory). The columns of each kind and the file formats live here.

use serde::Deserialize;
use serde_json::{Map, Value};

use crate::error::{ApiError, ApiResult};

/// Rows read from D1 per page (one statement each). D1 allows 1,000 statements per Worker
/// invocation on the paid plan, so one export holds up to about two million rows; a page of the
/// widest rows (audit entries with their changes) stays a few megabytes.
pub const PAGE_ROWS: i64 = 2_000;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExportKind {
    Customers,
    Subscriptions,
    Orders,
    Usage,
    AuditLog,
}

impl ExportKind {
    pub fn parse(raw: &str) -> ApiResult<Self> {
        Ok(match raw {
            "customers" => Self::Customers,
            "subscriptions" => Self::Subscriptions,
            "orders" => Self::Orders,
            "usage" => Self::Usage,
            "audit-log" => Self::AuditLog,
            other => {
                return Err(ApiError::not_found(format!(
                    "No export named {:?}: customers, subscriptions, orders, usage or audit-log",
                    other.chars().take(40).collect::<String>()
                )));
            }
        })
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Customers => "customers",
            Self::Subscriptions => "subscriptions",
            Self::Orders => "orders",
            Self::Usage => "usage",
            Self::AuditLog => "audit-log",
        }
    }

    /// The columns, in file order: the names the statements select.
    pub fn columns(self) -> &'static [&'static str] {
        match self {
            Self::Customers => &[
                "userId",
                "email",
                "firstName",
                "lastName",
                "plan",
                "stripeCustomerId",
                "createdAt",
                "updatedAt",
            ],
            Self::Subscriptions => &[
                "subscriptionId",
                "userId",
                "plan",
                "status",
                "amount",
                "currency",
                "mrrCents",
                "currentPeriodStart",
                "currentPeriodEnd",
                "cancelAtPeriodEnd",
                "canceledAt",
                "trialStart",
                "trialEnd",
                "trialConvertedAt",
                "stripeCustomerId",
                "updatedAt",
            ],
            Self::Orders => &[
                "orderId",
                "status",
                "email",
                "currency",
                "amountCents",
                "paidCents",
                "taxCents",
                "refundedCents",
                "disputedCents",
                "paymentIntent",
                "createdAt",
                "paidAt",
            ],
            Self::Usage => &[
                "userId",
                "periodStart",
                "periodEnd",
                "meter",
                "plan",
                "usageCount",
                "updatedAt",
            ],
            Self::AuditLog => &[
                "auditId",
                "createdAt",
                "actorId",
                "actorEmail",
                "actorRole",
                "action",
                "publishableKey",
                "mode",
                "target",
                "changes",
                "requestId",
            ],
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize)]
#[serde(rename_all = "lowercase")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum ExportFormat {
    #[default]
    Csv,
    Json,
}

impl ExportFormat {
    pub fn content_type(self) -> &'static str {
        match self {
            Self::Csv => "text/csv; charset=utf-8",
            Self::Json => "application/json",
        }
    }

    pub fn extension(self) -> &'static str {
        match self {
            Self::Csv => "csv",
            Self::Json => "json",
        }
    }

    /// What comes before the first row.
    pub fn head(self, kind: ExportKind) -> String {
        match self {
            Self::Csv => csv_line(kind.columns().iter().map(|c| (*c).to_owned())),
            Self::Json => "[".to_owned(),
        }
    }

    /// One page of rows; `first` says whether any row came before it.
    pub fn rows(self, kind: ExportKind, rows: &[Map<String, Value>], first: bool) -> String {
        let mut out = String::new();
        for (i, row) in rows.iter().enumerate() {
            match self {
                Self::Csv => out.push_str(&csv_line(
                    kind.columns().iter().map(|c| cell(row.get(*c).unwrap_or(&Value::Null))),
                )),
                Self::Json => {
                    if !(first && i == 0) {
                        out.push(',');
                    }
                    out.push('\n');
                    let ordered: Map<String, Value> = kind
                        .columns()
                        .iter()
                        .map(|c| ((*c).to_owned(), row.get(*c).cloned().unwrap_or(Value::Null)))
                        .collect();
                    out.push_str(&Value::Object(ordered).to_string());
                }
            }
        }
        out
    }

    pub fn tail(self) -> &'static str {
        match self {
            Self::Csv => "",
            Self::Json => "\n]\n",
        }
    }
}

/// A value as a CSV cell: text as is, numbers and booleans printed, null empty, objects as JSON.
fn cell(value: &Value) -> String {
    match value {
        Value::Null => String::new(),
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// RFC 4180: quoted when it holds a quote, comma or line break (quotes doubled). A cell that a
/// spreadsheet would run as a formula (`=`, `+`, `-`, `@`, tab, CR) starts with `'` instead, so an
/// export of customer-typed names cannot execute anything where it is opened; numbers keep their
/// sign.
fn csv_line(cells: impl Iterator<Item = String>) -> String {
    let mut line = cells
        .map(|cell| {
            let defused = match cell.chars().next() {
                Some('=' | '+' | '@' | '\t' | '\r') => format!("'{cell}"),
                Some('-') if cell.parse::<f64>().is_err() => format!("'{cell}"),
                _ => cell,
            };
            if defused.contains([',', '"', '\n', '\r']) {
                format!("\"{}\"", defused.replace('"', "\"\""))
            } else {
                defused
            }
        })
        .collect::<Vec<_>>()
        .join(",");
    line.push_str("\r\n");
    line
}

/// `YYYY-MM`: usage of the periods that started in that month.
pub fn parse_month(raw: &str) -> ApiResult<String> {
    let b = raw.as_bytes();
    let valid = b.len() == 7
        && b[4] == b'-'
        && b[..4].iter().chain(&b[5..]).all(u8::is_ascii_digit)
        && matches!(raw[5..].parse::<u8>(), Ok(1..=12));
    if valid {
        Ok(raw.to_owned())
    } else {
        Err(ApiError::invalid_request(
            "`period` must be a month as YYYY-MM, such as 2026-12",
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn row(value: Value) -> Map<String, Value> {
        value.as_object().unwrap().clone()
    }

    #[test]
    fn csv_quotes_and_defuses_cells() {
        let kind = ExportKind::Customers;
        let head = ExportFormat::Csv.head(kind);
        assert_eq!(
            head,
            "userId,email,firstName,lastName,plan,stripeCustomerId,createdAt,updatedAt\r\n"
        );
        let rows = [row(
            json!({"userId": "u,1", "email": "a@b.co", "firstName": "=HYPERLINK(\"x\")", "lastName": "O\"Neil\nJr", "plan": null}),
        )];
        let text = ExportFormat::Csv.rows(kind, &rows, true);
        assert_eq!(
            text,
            "\"u,1\",a@b.co,\"'=HYPERLINK(\"\"x\"\")\",\"O\"\"Neil\nJr\",,,,\r\n"
        );
        let numbers = [row(json!({"userId": "-1", "email": "-x"}))];
        assert!(ExportFormat::Csv.rows(kind, &numbers, true).starts_with("-1,'-x,"));
    }

    #[test]
    fn json_pages_join_into_one_array() {
        let kind = ExportKind::Usage;
        let page = |ids: &[&str], first| {
            let rows: Vec<_> = ids
                .iter()
                .map(|id| row(json!({"userId": id, "usageCount": 3})))
                .collect();
            ExportFormat::Json.rows(kind, &rows, first)
        };
        let text = format!(
            "{}{}{}{}",
            ExportFormat::Json.head(kind),
            page(&["a", "b"], true),
            page(&["c"], false),
            ExportFormat::Json.tail()
        );
        let parsed: Vec<Value> = serde_json::from_str(&text).unwrap();
        assert_eq!(parsed.len(), 3);
        assert_eq!(parsed[2]["userId"], "c");
        assert_eq!(parsed[0]["meter"], Value::Null);
        let empty = format!("{}{}", ExportFormat::Json.head(kind), ExportFormat::Json.tail());
        assert_eq!(serde_json::from_str::<Vec<Value>>(&empty).unwrap().len(), 0);
    }

    #[test]
    fn kinds_and_months_are_checked() {
        assert_eq!(ExportKind::parse("audit-log").unwrap(), ExportKind::AuditLog);
        assert_eq!(ExportKind::parse("secrets").unwrap_err().status().as_u16(), 404);
        assert_eq!(parse_month("2026-12").unwrap(), "2026-12");
        for bad in ["2026-13", "2026-1", "26-12-01", "2026/12", "abcd-ef"] {
            assert!(parse_month(bad).is_err(), "{bad}");
        }
    }
}
