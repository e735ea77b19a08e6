//! Exports (issue 28): a project with ten thousand customers exports them as CSV and as JSON,
//! streamed, and both files hold exactly what the database holds; usage, subscriptions, orders
//! and the audit log export the same way; exports stay within the caller's own projects.

use e2e::{
    TestEnv,
    customers::ProjectApi,
    journey::{create_project, onboarded_developer, saas_body},
};
use reqwest::Method;
use serde_json::{Map, Value, json};

const TIERS: &[(&str, Option<u64>, f64)] = &[("free", Some(100), 0.0), ("pro", Some(1000), 9.99)];
const BULK: usize = 10_000;

/// A raw download: status, headers and the body as text (a CSV is not JSON).
async fn download(token: &str, url: &str) -> (u16, reqwest::header::HeaderMap, String) {
    let response = e2e::client()
        .get(url)
        .bearer_auth(token)
        .send()
        .await
        .expect("export request");
    let (status, headers) = (response.status().as_u16(), response.headers().clone());
    (status, headers, response.text().await.expect("export body"))
}

/// RFC 4180 rows (quoted cells, doubled quotes, CRLF line ends).
fn parse_csv(text: &str) -> Vec<Vec<String>> {
    let (mut rows, mut row, mut cell) = (Vec::new(), Vec::new(), String::new());
    let mut chars = text.chars().peekable();
    let mut quoted = false;
    while let Some(c) = chars.next() {
        match (quoted, c) {
            (true, '"') if chars.peek() == Some(&'"') => {
                chars.next();
                cell.push('"');
            }
            (true, '"') => quoted = false,
            (true, c) => cell.push(c),
            (false, '"') => quoted = true,
            (false, ',') => row.push(std::mem::take(&mut cell)),
            (false, '\r') => {}
            (false, '\n') => {
                row.push(std::mem::take(&mut cell));
                rows.push(std::mem::take(&mut row));
            }
            (false, c) => cell.push(c),
        }
    }
    rows
}

/// A database value as the CSV prints it.
fn as_cell(value: &Value) -> String {
    match value {
        Value::Null => String::new(),
        Value::String(s) if s.starts_with(['=', '+', '@']) => format!("'{s}"),
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

fn as_csv(columns: &[String], rows: &[Map<String, Value>]) -> Vec<Vec<String>> {
    rows.iter()
        .map(|row| columns.iter().map(|c| as_cell(&row[c.as_str()])).collect())
        .collect()
}

#[tokio::test]
async fn ten_thousand_customers_export_as_the_database_holds_them() {
    let env = TestEnv::get();
    let owner = onboarded_developer(&env, "exporter").await.unwrap();
    let project = create_project(&owner, saas_body("Export app", TIERS)).await.unwrap();
    let pk = project.publishable_key.clone();
    let api = ProjectApi::new(&env, &project);

    // Customers made through the API, one with a name a spreadsheet would run as a formula...
    for (email, first) in [
        ("ada@example.com", "Ada, Countess"),
        ("mal@example.com", "=HYPERLINK(\"x\")"),
    ] {
        let made = api
            .post(
                "/api/customers",
                None,
                json!({"email": email, "firstName": first, "lastName": "Quote\"d"}),
            )
            .await;
        assert_eq!(made.status, 201, "{:?}", made.body);
    }
    // ... and ten thousand more written straight to D1: a test project may add 1,000 customers
    // a day through the API (`customersPerDay`), and the point is the size.
    env.d1_execute(&format!(
        "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < {BULK})
         INSERT INTO customers (publishableKey, userId, platformId, email, plan, createdAt, updatedAt)
         SELECT k.publishableKey, printf('bulk_%05d', n.i), k.platformId, 'bulk' || n.i || '@example.com',
                CASE WHEN n.i % 7 = 0 THEN 'pro' ELSE NULL END, '2026-12-01T00:00:00Z', '2026-12-01T00:00:00Z'
         FROM n, api_keys k WHERE k.publishableKey = '{pk}';"
    ));
    let in_db = env.d1_rows(&format!(
        "SELECT userId, email, firstName, lastName, plan, stripeCustomerId, createdAt, updatedAt
         FROM customers WHERE publishableKey = '{pk}' ORDER BY userId"
    ));
    assert_eq!(in_db.len(), BULK + 2);

    // CSV: a header, then every customer as the database has them.
    let base = format!("{}/exports/customers?publishableKey={pk}", env.front_auth_api);
    let (status, headers, text) = download(&owner.token, &base).await;
    assert_eq!(status, 200, "{text}");
    assert_eq!(headers["content-type"], "text/csv; charset=utf-8");
    let disposition = headers["content-disposition"].to_str().unwrap();
    assert!(
        disposition.starts_with(&format!("attachment; filename=\"customers-{pk}-")),
        "{disposition}"
    );
    let rows = parse_csv(&text);
    let (header, body) = rows.split_first().unwrap();
    assert_eq!(
        header.join(","),
        "userId,email,firstName,lastName,plan,stripeCustomerId,createdAt,updatedAt"
    );
    assert_eq!(body.len(), BULK + 2);
    assert_eq!(body, as_csv(header, &in_db).as_slice());
    assert!(text.contains("\"'=HYPERLINK(\"\"x\"\")\""), "the formula is defused");

    // JSON: one array of the same rows, values typed as stored.
    let (status, headers, text) = download(&owner.token, &format!("{base}&format=json")).await;
    assert_eq!(
        (status, &headers["content-type"]),
        (
            200,
            &"application/json".parse::<reqwest::header::HeaderValue>().unwrap()
        )
    );
    let exported: Vec<Map<String, Value>> = serde_json::from_str(&text).unwrap();
    assert_eq!(exported, in_db);

    // Usage per period: what the counters have written to D1, for one month or all.
    for user in ["alice", "bob"] {
        let counted = api.post("/api/data", Some(user), json!({})).await;
        assert_eq!(counted.status, 200, "{:?}", counted.body);
    }
    let month = &dream_core::period::Timestamp(chrono_now()).to_rfc3339()[..7];
    let usage_url = format!(
        "{}/exports/usage?publishableKey={pk}&format=json&period={month}",
        env.front_auth_api
    );
    // The counters write to D1 a little after counting: wait for both rows.
    let mut last = String::new();
    let mut matched = false;
    for _ in 0..120 {
        let (status, _, text) = download(&owner.token, &usage_url).await;
        let exported: Vec<Map<String, Value>> = serde_json::from_str(&text).unwrap_or_default();
        let in_db = env.d1_rows(&format!(
            "SELECT userId, periodStart, periodEnd, meter, plan, usageCount, updatedAt FROM usage_counts
             WHERE publishableKey = '{pk}' AND substr(periodStart, 1, 7) = '{month}' ORDER BY userId, periodStart, meter"
        ));
        if status == 200 && exported.len() == 2 && exported == in_db {
            matched = true;
            break;
        }
        last = format!("{status}: exported {exported:?}, D1 {in_db:?}");
        tokio::time::sleep(std::time::Duration::from_millis(250)).await;
    }
    assert!(matched, "the usage export never matched D1: {last}");

    // The other kinds have their columns even when empty; bad requests are refused.
    for kind in ["subscriptions", "orders"] {
        let (status, _, text) = download(
            &owner.token,
            &format!("{}/exports/{kind}?publishableKey={pk}", env.front_auth_api),
        )
        .await;
        assert_eq!((status, parse_csv(&text).len()), (200, 1), "{text}");
    }
    for (url, status) in [
        (format!("/exports/secrets?publishableKey={pk}"), 404),
        (format!("/exports/customers?publishableKey={pk}&format=xml"), 400),
        (format!("/exports/customers?publishableKey={pk}&period=2026-12"), 400),
        ("/exports/customers".to_owned(), 400),
    ] {
        let reply = owner.front(Method::GET, &url, None).await;
        assert_eq!(reply.status, status, "{url}: {:?}", reply.body);
    }

    // Another developer's project is not found, and cannot be exported.
    let other = onboarded_developer(&env, "nosy").await.unwrap();
    let (status, _, _) = download(&other.token, &base).await;
    assert_eq!(status, 404);

    // The audit log exports too, and records every export: who took which data out.
    let audit_url = format!(
        "{}/exports/audit-log?publishableKey={pk}&format=json",
        env.front_auth_api
    );
    let (status, _, text) = download(&owner.token, &audit_url).await;
    assert_eq!(status, 200, "{text}");
    let log: Vec<Value> = serde_json::from_str(&text).unwrap();
    let exports: Vec<&Value> = log.iter().filter(|e| e["action"] == "data.exported").collect();
    assert!(exports.len() >= 5, "{exports:?}");
    assert!(
        exports
            .iter()
            .all(|e| e["actorId"] == owner.user_id.as_str() && e["publishableKey"] == pk.as_str())
    );
    assert!(
        log.iter()
            .any(|e| e["action"] == "project.created" && e["changes"]["after"]["name"] == "Export app")
    );
    let (status, _, csv) = download(&owner.token, &format!("{}/exports/audit-log", env.front_auth_api)).await;
    assert_eq!(status, 200);
    let rows = parse_csv(&csv);
    let action = rows[0].iter().position(|c| c == "action").unwrap();
    let project = rows[0].iter().position(|c| c == "publishableKey").unwrap();
    assert!(
        rows.iter()
            .any(|r| r[action] == "platform.created" && r[project].is_empty()),
        "the platform's log holds its own entries beside the project's"
    );
    assert!(rows.iter().skip(1).all(|r| r.len() == rows[0].len()));
}

fn chrono_now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0)
}
