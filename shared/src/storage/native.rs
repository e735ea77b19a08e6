//! The statements on a native SQLite connection, as D1 runs them: a batch is one transaction,
//! rows come back as JSON objects named by column, errors carry SQLite's message.

use rusqlite::{Connection, types::ValueRef};
use serde_json::{Map, Value};

use super::{Executed, Ran, SqlParam, Statement};
use dream_core::error::{ApiError, ApiResult, Cause};

fn error(e: rusqlite::Error) -> ApiError {
    let message = e.to_string();
    let cause = Cause::of_sqlite_message(&message);
    let error = ApiError::internal(message);
    match cause {
        Some(cause) => error.with_cause(cause),
        None => error,
    }
}

fn value(param: &SqlParam) -> rusqlite::types::Value {
    match param {
        SqlParam::Text(s) => rusqlite::types::Value::Text(s.clone()),
        SqlParam::Int(n) => rusqlite::types::Value::Integer(*n),
        SqlParam::Null => rusqlite::types::Value::Null,
    }
}

fn json(value: ValueRef<'_>) -> Value {
    match value {
        ValueRef::Null | ValueRef::Blob(_) => Value::Null,
        ValueRef::Integer(n) => Value::from(n),
        ValueRef::Real(x) => Value::from(x),
        ValueRef::Text(t) => Value::from(String::from_utf8_lossy(t).into_owned()),
    }
}

fn execute(connection: &Connection, sql: &str, params: &[SqlParam]) -> ApiResult<Executed> {
    let mut statement = connection.prepare(sql).map_err(error)?;
    let writes = !statement.readonly();
    let names: Vec<String> = statement.column_names().into_iter().map(str::to_owned).collect();
    let values: Vec<rusqlite::types::Value> = params.iter().map(value).collect();
    let mut rows = statement.query(rusqlite::params_from_iter(values)).map_err(error)?;
    let mut out = Vec::new();
    while let Some(row) = rows.next().map_err(error)? {
        let mut object = Map::new();
        for (i, name) in names.iter().enumerate() {
            object.insert(name.clone(), json(row.get_ref(i).map_err(error)?));
        }
        out.push(Value::Object(object));
    }
    drop(rows);
    // As D1's `meta.changes`: rows the statement itself changed (not its triggers').
    let changes = if writes {
        i64::try_from(connection.changes()).unwrap_or(i64::MAX)
    } else {
        0
    };
    Ok(Executed(Ran::Sqlite { changes, rows: out }))
}

pub(super) fn batch(connection: &mut Connection, statements: &[Statement]) -> ApiResult<Vec<Executed>> {
    let transaction = connection.transaction().map_err(error)?;
    let results = statements
        .iter()
        .map(|(sql, params)| execute(&transaction, sql, params))
        .collect::<ApiResult<Vec<_>>>()?;
    transaction.commit().map_err(error)?;
    Ok(results)
}
