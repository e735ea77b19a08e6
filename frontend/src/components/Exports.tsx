// Exports (GET /exports/{kind}): a project's customers, subscriptions, orders and usage, and the
// platform's audit log, as CSV or JSON files. Every role may export (it is a read); the API
// records each export in the audit log.

import { useState } from "react";
import type { ExportFormat, ExportKind, Mode, ProjectType } from "../api/types";
import { checkPeriod, exportFilename, saveFile } from "../lib/exports";
import { useAction, useApi } from "../services";
import { TextField } from "./fields";
import { Card, ErrorNotice } from "./ui";

const FORMATS: ExportFormat[] = ["csv", "json"];

interface Download {
  kind: ExportKind;
  format: ExportFormat;
  /** The project's publishable key; none: the whole platform's audit log. */
  publishableKey?: string;
  /** Usage only: `YYYY-MM`. */
  period?: string;
  /** What the file is named after: the key, or the platform's id. */
  scope: string;
}

/** Downloads one export; `pending` says which, so only its button shows it is busy. */
export function useDownload() {
  const api = useApi();
  const [pending, setPending] = useState<string | null>(null);
  const action = useAction(async (d: Download) => {
    setPending(`${d.kind}:${d.format}`);
    try {
      const blob = await api.exportFile(d.kind, { publishableKey: d.publishableKey, format: d.format, period: d.period });
      saveFile(blob, exportFilename(d.kind, d.scope, d.format, new Date()));
    } finally {
      setPending(null);
    }
  });
  return { ...action, pending };
}

/** "CSV" and "JSON" buttons for one kind of export. */
export function ExportButtons({ download, what, base, disabled = false }: { download: ReturnType<typeof useDownload>; what: string; base: Omit<Download, "format">; disabled?: boolean }) {
  return (
    <div className="export-buttons">
      {FORMATS.map((format) => {
        const busy = download.pending === `${base.kind}:${format}`;
        return (
          <button
            key={format}
            type="button"
            className="btn btn-secondary btn-small"
            aria-label={`Export ${what} as ${format.toUpperCase()}`}
            disabled={disabled || download.busy}
            onClick={() => void download.run({ ...base, format })}
          >
            {busy ? "Exporting…" : format.toUpperCase()}
          </button>
        );
      })}
    </div>
  );
}

interface Row {
  kind: ExportKind;
  title: string;
  body: string;
}

function rowsFor(projectType: ProjectType): Row[] {
  const customers: Row = { kind: "customers", title: "Customers", body: "Every customer: id, email, name, plan, Stripe customer, when they came." };
  if (projectType === "store") {
    return [{ kind: "orders", title: "Orders", body: "Every order: buyer, items, amount, tax, refunds and disputes, when it was paid." }, customers];
  }
  return [
    customers,
    { kind: "subscriptions", title: "Subscriptions", body: "Every subscription: plan, status, amount, MRR, period, trial and cancellation." },
    { kind: "usage", title: "Usage", body: "Each user's counted usage per billing period and meter." },
  ];
}

/** The project page's exports, in the mode its key names. */
export function ProjectExports({ publishableKey, mode, projectType }: { publishableKey: string; mode: Mode; projectType: ProjectType }) {
  const download = useDownload();
  const [period, setPeriod] = useState("");
  const periodError = checkPeriod(period);
  return (
    <Card title="Export data" id="export-title">
      <p className="muted">
        This project&apos;s data in {mode} mode as a file: CSV opens in a spreadsheet, JSON is one array. Each export is recorded in the audit log.
      </p>
      <ul className="export-list" data-testid="exports">
        {rowsFor(projectType).map((row) => (
          <li key={row.kind} className="export-row">
            <div className="export-text">
              <p className="export-title">{row.title}</p>
              <p className="muted small">{row.body}</p>
              {row.kind === "usage" ? (
                <TextField
                  className="export-period"
                  label="Month (optional)"
                  placeholder="YYYY-MM"
                  inputMode="numeric"
                  value={period}
                  onChange={(e) => setPeriod(e.target.value)}
                  error={periodError ?? undefined}
                  hint="The periods that start in it; empty for every period."
                />
              ) : null}
            </div>
            <ExportButtons
              download={download}
              what={row.title.toLowerCase()}
              base={{ kind: row.kind, publishableKey, scope: publishableKey, period: row.kind === "usage" && period.trim() ? period.trim() : undefined }}
              disabled={row.kind === "usage" && periodError !== null}
            />
          </li>
        ))}
      </ul>
      {download.error ? <ErrorNotice error={download.error} title="The export did not download" compact /> : null}
    </Card>
  );
}
