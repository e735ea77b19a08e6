// The audit log as the dashboard shows it: the action families its filter offers, and an
// entry's `changes` ({before, after}) as a list of what changed, field by field. Pure.

/** The filter's choices: `action` takes one action or a family ending in a dot. */
export const ACTION_FAMILIES: { value: string; label: string }[] = [
  { value: "", label: "All actions" },
  { value: "project.", label: "Projects (project.)" },
  { value: "tier.", label: "Tiers and products (tier.)" },
  { value: "key.", label: "Keys (key.)" },
  { value: "member.", label: "Members (member.)" },
  { value: "invitation.", label: "Invitations (invitation.)" },
  { value: "webhook_endpoint.", label: "Webhooks (webhook_endpoint.)" },
  { value: "promotion_code.", label: "Promotion codes (promotion_code.)" },
  { value: "order.", label: "Orders (order.)" },
  { value: "stripe.", label: "Stripe (stripe.)" },
  { value: "data.", label: "Exports (data.)" },
];

export interface DiffLine {
  /** The field, dotted for nested objects (`tax.automaticTax`); empty for a whole value. */
  path: string;
  kind: "added" | "removed" | "changed";
  before?: string;
  after?: string;
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** The two sides of an entry's `changes`; anything else is all "after" (shown as recorded). */
export function changeSides(changes: unknown): { before: unknown; after: unknown } {
  if (isPlainObject(changes) && ("before" in changes || "after" in changes)) {
    return { before: changes.before ?? null, after: changes.after ?? null };
  }
  return { before: null, after: changes ?? null };
}

/** A value as one line of JSON (strings quoted, so "null" and null differ). */
export function formatValue(value: unknown): string {
  if (value === undefined) return "—";
  return JSON.stringify(value) ?? String(value);
}

/** Objects become their leaves, by dotted path; arrays and scalars are leaves themselves. */
function leaves(value: unknown, prefix: string, into: Map<string, unknown>): Map<string, unknown> {
  if (isPlainObject(value) && Object.keys(value).length > 0) {
    for (const [key, inner] of Object.entries(value)) leaves(inner, prefix ? `${prefix}.${key}` : key, into);
  } else if (value !== null && value !== undefined) {
    into.set(prefix, value);
  }
  return into;
}

/** What an entry changed, field by field (sorted by field); nothing when both sides agree. */
export function diffChanges(changes: unknown): DiffLine[] {
  const { before, after } = changeSides(changes);
  const old = leaves(before, "", new Map());
  const now = leaves(after, "", new Map());
  const paths = [...new Set([...old.keys(), ...now.keys()])].sort();
  const lines: DiffLine[] = [];
  for (const path of paths) {
    const had = old.has(path);
    const has = now.has(path);
    const b = formatValue(old.get(path));
    const a = formatValue(now.get(path));
    if (had && has) {
      if (a !== b) lines.push({ path, kind: "changed", before: b, after: a });
    } else if (has) {
      lines.push({ path, kind: "added", after: a });
    } else {
      lines.push({ path, kind: "removed", before: b });
    }
  }
  return lines;
}
