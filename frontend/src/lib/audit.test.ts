import { describe, expect, it } from "vitest";
import { ACTION_FAMILIES, changeSides, diffChanges, formatValue } from "./audit";

describe("an audit entry's changes", () => {
  it("lists what changed, field by field, nested fields dotted", () => {
    const changes = {
      before: { role: "viewer", tax: { automaticTax: false, taxBehavior: "exclusive" }, limit: 1000 },
      after: { role: "admin", tax: { automaticTax: true, taxBehavior: "exclusive" }, limit: 1000 },
    };
    expect(diffChanges(changes)).toEqual([
      { path: "role", kind: "changed", before: '"viewer"', after: '"admin"' },
      { path: "tax.automaticTax", kind: "changed", before: "false", after: "true" },
    ]);
  });

  it("shows a creation as added fields and a removal as removed ones", () => {
    expect(diffChanges({ before: null, after: { email: "ada@example.com", role: "viewer" } })).toEqual([
      { path: "email", kind: "added", after: '"ada@example.com"' },
      { path: "role", kind: "added", after: '"viewer"' },
    ]);
    expect(diffChanges({ before: { email: "ada@example.com" }, after: null })).toEqual([{ path: "email", kind: "removed", before: '"ada@example.com"' }]);
  });

  it("keeps arrays whole, and a whole value under an empty path", () => {
    expect(diffChanges({ before: { features: ["a"] }, after: { features: ["a", "b"] } })).toEqual([
      { path: "features", kind: "changed", before: '["a"]', after: '["a","b"]' },
    ]);
    expect(diffChanges({ before: 1, after: 2 })).toEqual([{ path: "", kind: "changed", before: "1", after: "2" }]);
  });

  it("says nothing when nothing was recorded or nothing changed", () => {
    expect(diffChanges(null)).toEqual([]);
    expect(diffChanges({ before: null, after: null })).toEqual([]);
    expect(diffChanges({ before: { a: 1 }, after: { a: 1 } })).toEqual([]);
  });

  it("reads a value that is not {before, after} as what it is now", () => {
    expect(changeSides({ format: "csv" })).toEqual({ before: null, after: { format: "csv" } });
    expect(changeSides({ before: { a: 1 } })).toEqual({ before: { a: 1 }, after: null });
  });

  it("quotes strings, so a string and null differ", () => {
    expect(formatValue("null")).toBe('"null"');
    expect(formatValue(null)).toBe("null");
    expect(formatValue(undefined)).toBe("—");
  });
});

describe("the action filter", () => {
  it("offers every family as a prefix ending in a dot, after all actions", () => {
    expect(ACTION_FAMILIES[0]).toEqual({ value: "", label: "All actions" });
    for (const family of ACTION_FAMILIES.slice(1)) expect(family.value).toMatch(/^[a-z_]+\.$/);
    expect(ACTION_FAMILIES.map((f) => f.value)).toEqual(expect.arrayContaining(["project.", "tier.", "key.", "member.", "webhook_endpoint.", "promotion_code.", "order.", "stripe.", "data."]));
  });
});
