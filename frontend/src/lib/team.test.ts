import { describe, expect, it } from "vitest";
import type { Role } from "../api/types";
import { atLeast, capabilities, isRole, lastOwnerReason, mayChange, readOnlyReason, ROLES, roleLabel, validateInvite } from "./team";

describe("what each role may do", () => {
  it("follows the API's table (shared/core/src/team.rs)", () => {
    const table: [keyof ReturnType<typeof capabilities>, boolean[]][] = [
      // owner, admin, developer, viewer
      ["changeTest", [true, true, true, false]],
      ["changeLive", [true, true, false, false]],
      ["goLive", [true, true, false, false]],
      ["connectStripe", [true, true, false, false]],
      ["billing", [true, false, false, false]],
      ["manageMembers", [true, false, false, false]],
    ];
    for (const [capability, allowed] of table) {
      expect(ROLES.map((role) => capabilities(role)[capability]), capability).toEqual(allowed);
    }
  });

  it("orders roles by trust", () => {
    expect(atLeast("owner", "admin")).toBe(true);
    expect(atLeast("developer", "developer")).toBe(true);
    expect(atLeast("viewer", "developer")).toBe(false);
  });

  it("decides a key set's edits by its mode", () => {
    const developer = capabilities("developer");
    expect(mayChange(developer, "test")).toBe(true);
    expect(mayChange(developer, "live")).toBe(false);
    expect(readOnlyReason(developer, "test")).toBeNull();
    expect(readOnlyReason(developer, "live")).toMatch(/live projects are read-only/);
    expect(readOnlyReason(capabilities("viewer"), "test")).toMatch(/viewer/);
    expect(readOnlyReason(capabilities("admin"), "live")).toBeNull();
  });

  it("knows a role when it sees one, and names it", () => {
    expect(isRole("viewer")).toBe(true);
    expect(isRole("superuser")).toBe(false);
    expect(isRole(undefined)).toBe(false);
    expect(roleLabel("developer")).toBe("Developer");
  });
});

describe("the invite form", () => {
  it("sends the email and role, and the expiry only when given", () => {
    expect(validateInvite({ email: "  ada@example.com ", role: "viewer", days: "" })).toEqual({ ok: true, value: { email: "ada@example.com", role: "viewer" } });
    expect(validateInvite({ email: "ada@example.com", role: "admin", days: "14" })).toEqual({ ok: true, value: { email: "ada@example.com", role: "admin", expiresInDays: 14 } });
  });

  it("refuses what the API would", () => {
    for (const email of ["", "ada", "ada@example", "@example.com", "a b@example.com", "a@b@c.com", "ada@.com"]) {
      const checked = validateInvite({ email, role: "viewer", days: "" });
      expect(checked.ok, email).toBe(false);
    }
    for (const days of ["0", "31", "2.5", "seven"]) {
      const checked = validateInvite({ email: "ada@example.com", role: "viewer", days });
      expect(checked, days).toMatchObject({ ok: false, errors: { days: expect.stringContaining("1 to 30") } });
    }
  });
});

describe("leaving", () => {
  const member = (userId: string, role: Role) => ({ userId, role });

  it("keeps the last owner in", () => {
    const members = [member("u_owner", "owner"), member("u_dev", "developer")];
    expect(lastOwnerReason(members, "u_owner")).toMatch(/at least one owner/);
    expect(lastOwnerReason(members, "u_dev")).toBeNull();
  });

  it("lets an owner go when another owner stays", () => {
    expect(lastOwnerReason([member("a", "owner"), member("b", "owner")], "a")).toBeNull();
  });
});
