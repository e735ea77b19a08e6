// The platform's audit log (GET /audit-log): every change, newest first, with who made it (and
// their role then), the project and mode, and what it changed. Filtered by action family,
// actor and mode; older entries load a page at a time. The whole log exports as CSV or JSON.

import { useInfiniteQuery } from "@tanstack/react-query";
import { useState } from "react";
import { asApiError } from "../api/client";
import type { AuditEntry, AuditPage } from "../api/types";
import { ExportButtons, useDownload } from "../components/Exports";
import { SelectField, TextField } from "../components/fields";
import { Shell } from "../components/Shell";
import { Badge, Card, EmptyState, ErrorNotice, Loading, PageHeading, Wrappable } from "../components/ui";
import { ACTION_FAMILIES, diffChanges } from "../lib/audit";
import { date, time } from "../lib/format";
import { roleLabel } from "../lib/team";
import { usePlatform } from "../platformContext";
import { useApi } from "../services";

const PAGE_SIZE = 50;

interface Filters {
  action: string;
  actor: string;
  mode: string;
}

export function AuditLog() {
  const api = useApi();
  const platform = usePlatform();
  const download = useDownload();
  const [filters, setFilters] = useState<Filters>({ action: "", actor: "", mode: "" });
  // The actor filter applies when submitted, not on every keystroke.
  const [actorText, setActorText] = useState("");
  const [open, setOpen] = useState<string | null>(null);
  const log = useInfiniteQuery({
    queryKey: ["audit-log", filters],
    queryFn: ({ pageParam }): Promise<AuditPage> => api.auditLog({ ...filters, before: pageParam, limit: String(PAGE_SIZE) }),
    initialPageParam: undefined as string | undefined,
    getNextPageParam: (last) => last.nextCursor ?? undefined,
  });
  const entries = log.data?.pages.flatMap((p) => p.entries) ?? [];
  const error = log.error ? asApiError(log.error) : null;

  return (
    <Shell>
      <div className="page-heading-row">
        <PageHeading title="Audit log" lead="Every change to this platform, newest first: who made it, with which role, and what it changed.">
          Audit log
        </PageHeading>
        <div className="heading-actions">
          <span className="muted small">Export the whole log</span>
          <ExportButtons download={download} what="the audit log" base={{ kind: "audit-log", scope: platform.platformId }} />
        </div>
      </div>
      {download.error ? <ErrorNotice error={download.error} title="The export did not download" compact /> : null}
      <Card>
        <div className="filters">
          <SelectField label="Action" value={filters.action} onChange={(e) => setFilters({ ...filters, action: e.target.value })}>
            {ACTION_FAMILIES.map((f) => (
              <option key={f.value} value={f.value}>
                {f.label}
              </option>
            ))}
          </SelectField>
          <SelectField label="Mode" value={filters.mode} onChange={(e) => setFilters({ ...filters, mode: e.target.value })}>
            <option value="">Any</option>
            <option value="test">Test</option>
            <option value="live">Live</option>
          </SelectField>
          <form
            className="filter-form"
            role="search"
            onSubmit={(e) => {
              e.preventDefault();
              setFilters({ ...filters, actor: actorText.trim() });
            }}
          >
            <TextField label="Actor" placeholder="Email or user id" value={actorText} onChange={(e) => setActorText(e.target.value)} />
            <button type="submit" className="btn btn-secondary">
              Filter
            </button>
          </form>
          <button type="button" className="btn btn-ghost btn-small filters-refresh" onClick={() => void log.refetch()} disabled={log.isFetching}>
            {log.isFetching && !log.isFetchingNextPage && log.data ? "Refreshing…" : "Refresh"}
          </button>
        </div>
        {log.status === "pending" ? <Loading label="Loading the audit log…" /> : null}
        {error && !log.data ? <ErrorNotice error={error} title="The audit log could not be loaded" onRetry={() => void log.refetch()} /> : null}
        {log.data && entries.length === 0 ? (
          <EmptyState title={filters.action || filters.actor || filters.mode ? "Nothing matches these filters" : "Nothing recorded yet"}>
            Changes to projects, keys, members, webhooks and exports are recorded here as they happen.
          </EmptyState>
        ) : null}
        {entries.length > 0 ? (
          <div className="table-wrap">
            <table className="table table-stack audit-table" data-testid="audit-log">
              <thead>
                <tr>
                  <th scope="col">When</th>
                  <th scope="col">Actor</th>
                  <th scope="col">Action</th>
                  <th scope="col">Project</th>
                  <th scope="col">Target</th>
                  <th scope="col">
                    <span className="visually-hidden">Changes</span>
                  </th>
                </tr>
              </thead>
              <tbody>
                {entries.map((entry) => (
                  <EntryRow key={entry.id} entry={entry} open={open === entry.id} onToggle={() => setOpen(open === entry.id ? null : entry.id)} />
                ))}
              </tbody>
            </table>
          </div>
        ) : null}
        {error && log.data ? <ErrorNotice error={error} title="Older entries could not be loaded" compact onRetry={() => void log.fetchNextPage()} /> : null}
        {log.hasNextPage ? (
          <div className="actions">
            <button type="button" className="btn btn-secondary btn-small" onClick={() => void log.fetchNextPage()} disabled={log.isFetchingNextPage}>
              {log.isFetchingNextPage ? "Loading…" : "Load older"}
            </button>
          </div>
        ) : null}
      </Card>
    </Shell>
  );
}

function EntryRow({ entry, open, onToggle }: { entry: AuditEntry; open: boolean; onToggle: () => void }) {
  const lines = diffChanges(entry.changes);
  const detailId = `audit-${entry.id}`;
  return (
    <>
      <tr data-testid={`audit-${entry.action}`}>
        <th scope="row">
          <span className="nowrap">{date(entry.createdAt)}</span> <span className="muted small nowrap audit-time">{time(new Date(entry.createdAt))}</span>
        </th>
        <td data-label="Actor">
          <span className="actor">
            <Wrappable text={entry.actor.id === "operator" ? "dream-api staff" : (entry.actor.email ?? entry.actor.id)} />
            {entry.actor.role ? <Badge tone="neutral">{roleLabel(entry.actor.role)}</Badge> : null}
          </span>
        </td>
        <td data-label="Action">
          <code>{entry.action}</code>
        </td>
        <td data-label="Project">
          {entry.publishableKey ? (
            <span className="actor">
              <code className="truncate audit-key">{entry.publishableKey}</code>
              {entry.mode ? <Badge tone={entry.mode === "live" ? "live" : "neutral"}>{entry.mode === "live" ? "Live" : "Test"}</Badge> : null}
            </span>
          ) : (
            <span className="muted">Platform</span>
          )}
        </td>
        <td data-label="Target">{entry.target ? <Wrappable text={entry.target} /> : <span className="muted">—</span>}</td>
        <td data-label="Changes" className="row-actions">
          <button type="button" className="btn btn-ghost btn-small" aria-expanded={open} aria-controls={open ? detailId : undefined} onClick={onToggle}>
            {open ? "Hide" : lines.length > 0 ? `Changes (${lines.length})` : "Details"}
          </button>
        </td>
      </tr>
      {open ? (
        <tr className="detail-row">
          <td colSpan={6} id={detailId}>
            <EntryDetail entry={entry} />
          </td>
        </tr>
      ) : null}
    </>
  );
}

function EntryDetail({ entry }: { entry: AuditEntry }) {
  const lines = diffChanges(entry.changes);
  return (
    <div className="stack" data-testid="audit-detail">
      {lines.length === 0 ? (
        <p className="muted small">No field changed.</p>
      ) : (
        <ul className="diff-list" aria-label="What changed">
          {lines.map((line) => (
            <li key={line.path} className={`diff-${line.kind}`}>
              <code className="diff-path">{line.path || "value"}</code>
              {line.kind === "added" ? (
                <>
                  <span className="visually-hidden">set to</span> <ins>{line.after}</ins>
                </>
              ) : line.kind === "removed" ? (
                <>
                  <span className="visually-hidden">was</span> <del>{line.before}</del>
                </>
              ) : (
                <>
                  <del>{line.before}</del> <span aria-hidden="true">→</span>
                  <span className="visually-hidden">became</span> <ins>{line.after}</ins>
                </>
              )}
            </li>
          ))}
        </ul>
      )}
      <p className="muted small">
        Request <code>{entry.requestId}</code> · entry <code>{entry.id}</code>
        {entry.actor.email ? (
          <>
            {" "}
            · user <code>{entry.actor.id}</code>
          </>
        ) : null}
      </p>
      <details>
        <summary>JSON</summary>
        <pre className="code-block small">{JSON.stringify(entry.changes, null, 2)}</pre>
      </details>
    </div>
  );
}
