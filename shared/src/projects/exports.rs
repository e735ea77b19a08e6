//! Exports as a streamed response body: the head, then each page of rows as it is read, then
//! the tail. Memory holds one page, whatever the project's size; a failure midway ends the
//! stream with an error, so the download fails visibly instead of ending short.

use std::{
    pin::Pin,
    task::{Context, Poll},
};

use axum::body::Body;
use futures_util::{Stream, stream};

use crate::storage::exports::ExportSource;
use dream_core::exports::{ExportFormat, PAGE_ROWS};

enum Step {
    Head,
    Rows { first: bool },
    Done,
}

/// The export's file, produced as the client reads it.
pub fn body(source: ExportSource, format: ExportFormat) -> Body {
    let pages = stream::unfold((source, Step::Head), move |(mut source, step)| async move {
        match step {
            Step::Head => {
                let head = format.head(source.kind());
                Some((Ok(head), (source, Step::Rows { first: true })))
            }
            Step::Rows { first } => match source.next_page(PAGE_ROWS).await {
                Ok(rows) if rows.is_empty() => Some((Ok(format.tail().to_owned()), (source, Step::Done))),
                Ok(rows) => {
                    let text = format.rows(source.kind(), &rows, first);
                    Some((Ok(text), (source, Step::Rows { first: false })))
                }
                Err(e) => {
                    crate::runtime::log::error(&format!("export of {}: {e}", source.kind().as_str()));
                    Some((
                        Err(std::io::Error::other("the export failed midway")),
                        (source, Step::Done),
                    ))
                }
            },
            Step::Done => None,
        }
    });
    Body::from_stream(SingleThreaded(Box::pin(pages)))
}

/// D1's futures are not `Send`; workerd runs one thread per isolate, so a body stream that
/// holds them never moves between threads (the same reasoning as `worker::send::SendFuture`).
struct SingleThreaded<S>(Pin<Box<S>>);

// SAFETY: the body is only ever polled by workerd, whose isolate has one thread (Wasm has no
// threads there). Native builds compile this for the use-case tests, which serve no bodies.
unsafe impl<S> Send for SingleThreaded<S> {}

impl<S: Stream> Stream for SingleThreaded<S> {
    type Item = S::Item;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<S::Item>> {
        self.0.as_mut().poll_next(cx)
    }
}

/// What an export request asks for (`GET /exports/{kind}`), checked, with the file's name. The
/// export is recorded in the audit log: who took which data out, and when.
pub async fn open(
    platform: &crate::storage::PlatformScope,
    kind: &str,
    query: &dream_core::api::team::ExportQuery,
    now: dream_core::period::Timestamp,
) -> dream_core::ApiResult<(ExportSource, String)> {
    use dream_core::{ApiError, exports::ExportKind, exports::parse_month, team::Action};
    let actor = platform.authorize(Action::Read)?;
    let kind = ExportKind::parse(kind)?;
    let month = query.period.as_deref().map(parse_month).transpose()?;
    if month.is_some() && kind != ExportKind::Usage {
        return Err(ApiError::invalid_request("`period` applies to the usage export only"));
    }
    let format = query.format.unwrap_or_default();
    let project = match (&query.publishable_key, kind) {
        (Some(key), _) => Some(platform.project(key).await?),
        (None, ExportKind::AuditLog) => None,
        (None, _) => {
            return Err(ApiError::invalid_request(
                "`publishableKey` names the project (and mode) to export",
            ));
        }
    };
    let mut entry = actor.entry("data.exported", now).target(kind.as_str());
    let (mut source, scope_name) = match (&project, kind) {
        (_, ExportKind::AuditLog) => (
            platform.export_audit_log(query.publishable_key.clone()),
            query
                .publishable_key
                .clone()
                .unwrap_or_else(|| platform.platform().platform_id.clone()),
        ),
        (Some(project), _) => (
            project.scope.export(kind, month.clone()),
            project.scope.project().publishable_key.as_str().to_owned(),
        ),
        (None, _) => unreachable!("checked above"),
    };
    if let Some(project) = &project {
        entry = entry.project(project.scope.project().publishable_key.as_str(), project.mode);
    }
    let entry = entry.changes(
        None::<()>,
        serde_json::json!({ "format": format.extension(), "period": month }),
    );
    source.prefetch(PAGE_ROWS).await?;
    platform.record(&entry).await?;
    let date = now.to_rfc3339();
    let filename = format!("{}-{scope_name}-{}.{}", kind.as_str(), &date[..10], format.extension());
    Ok((source, filename))
}
