import { describe, expect, it } from "vitest";
import { checkPeriod, exportFilename } from "./exports";

describe("export files", () => {
  it("are named by kind, project key (or platform) and the UTC day", () => {
    const late = new Date("2026-12-07T23:59:59Z");
    expect(exportFilename("customers", "pk_test_abc", "csv", late)).toBe("customers-pk_test_abc-2026-12-07.csv");
    expect(exportFilename("audit-log", "plt_123", "json", new Date("2027-01-01T00:00:00Z"))).toBe("audit-log-plt_123-2027-01-01.json");
  });

  it("take a usage month as YYYY-MM, or none", () => {
    expect(checkPeriod("")).toBeNull();
    expect(checkPeriod(" 2026-11 ")).toBeNull();
    for (const bad of ["2026-13", "2026-1", "11-2026", "2026-00", "nov"]) expect(checkPeriod(bad), bad).not.toBeNull();
  });
});
