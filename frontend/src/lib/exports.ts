// Exports as files on the developer's disk. The API streams them with the session in the
// Authorization header, so a plain link cannot fetch them: the dashboard reads the body into a
// Blob and saves it through a temporary `<a download>`.

import type { ExportFormat, ExportKind } from "../api/types";

/**
 * The file's name, as the API names it: `customers-pk_test_…-2026-12-07.csv`; the audit log of
 * the whole platform names the platform instead of a key. The date is the UTC day.
 */
export function exportFilename(kind: ExportKind, scope: string, format: ExportFormat, now: Date): string {
  return `${kind}-${scope}-${now.toISOString().slice(0, 10)}.${format}`;
}

/** A usage export's optional month: empty (every period) or `YYYY-MM`. */
export function checkPeriod(text: string): string | null {
  const period = text.trim();
  if (period === "") return null;
  const match = /^(\d{4})-(\d{2})$/.exec(period);
  const month = match ? Number(match[2]) : 0;
  return match && month >= 1 && month <= 12 ? null : "A month as YYYY-MM (e.g. 2026-11), or empty for every period";
}

/** Saves `blob` as `filename` (the browser's download), then lets the object URL go. */
export function saveFile(blob: Blob, filename: string): void {
  const url = URL.createObjectURL(blob);
  const link = document.createElement("a");
  link.href = url;
  link.download = filename;
  link.hidden = true;
  document.body.appendChild(link);
  link.click();
  link.remove();
  // The download has started from the click; the URL is no longer needed after this turn.
  window.setTimeout(() => URL.revokeObjectURL(url), 1000);
}
