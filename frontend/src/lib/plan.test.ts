import { describe, expect, it } from "vitest";
import { date, dateTime } from "./format";
import { editsBlockedReason, msUntilPlanChange, type PlanFields, planBannerCopy, planStatus, projectEditsBlocked } from "./plan";

// Local noon, so the dates read the same in any time zone the tests run in.
const ENDED = new Date(2026, 10, 1, 12).toISOString();
const PAUSE = new Date(2026, 10, 15, 12).toISOString();
const at = (iso: string) => Date.parse(iso);

const paid: PlanFields = { plan: "paid", planEndedAt: null, liveKeysPauseAt: null };
const neverPaid: PlanFields = { plan: "free", planEndedAt: null, liveKeysPauseAt: null };
const lapsed: PlanFields = { plan: "free", planEndedAt: ENDED, liveKeysPauseAt: PAUSE };

describe("plan status", () => {
  it("says nothing while paid", () => {
    expect(planStatus(paid, at(PAUSE))).toEqual({ state: "none" });
    // A stale end date next to a paid plan (renewed) is no lapse either.
    expect(planStatus({ plan: "paid", planEndedAt: ENDED, liveKeysPauseAt: PAUSE }, at(PAUSE) + 1)).toEqual({ state: "none" });
    expect(planBannerCopy(planStatus(paid, at(PAUSE)))).toBeNull();
  });

  it("says nothing to a developer who never paid", () => {
    expect(planStatus(neverPaid, at(PAUSE))).toEqual({ state: "none" });
    expect(planBannerCopy(planStatus(neverPaid, at(PAUSE)))).toBeNull();
    expect(msUntilPlanChange(neverPaid, at(PAUSE))).toBeNull();
  });

  it("is a grace period between the end of the plan and the pause", () => {
    for (const now of [at(ENDED), at("2026-11-10T00:00:00Z"), at(PAUSE) - 1]) {
      expect(planStatus(lapsed, now)).toEqual({ state: "grace", endedAt: ENDED, pauseAt: PAUSE });
    }
  });

  it("pauses live keys from the pause instant on, as the API's key check does", () => {
    for (const now of [at(PAUSE), at(PAUSE) + 1, at("2027-03-01T00:00:00Z")]) {
      expect(planStatus(lapsed, now)).toEqual({ state: "paused", endedAt: ENDED, pauseAt: PAUSE });
    }
  });

  it("stays in grace when the API gave no (readable) pause date", () => {
    for (const liveKeysPauseAt of [null, "soon"]) {
      const status = planStatus({ ...lapsed, liveKeysPauseAt }, at("2030-01-01T00:00:00Z"));
      expect(status.state).toBe("grace");
      expect(msUntilPlanChange({ ...lapsed, liveKeysPauseAt }, at(ENDED))).toBeNull();
    }
  });

  it("knows how long until the warning becomes the error", () => {
    expect(msUntilPlanChange(lapsed, at(PAUSE) - 5000)).toBe(5000);
    expect(msUntilPlanChange(lapsed, at(PAUSE))).toBeNull();
    expect(msUntilPlanChange(paid, at(ENDED))).toBeNull();
  });
});

describe("banner copy", () => {
  it("warns politely during the grace period, with both dates", () => {
    const copy = planBannerCopy(planStatus(lapsed, at("2026-11-05T00:00:00Z")));
    expect(copy).toEqual({
      state: "grace",
      tone: "warning",
      role: "status",
      message: `Your dream-api plan ended on ${date(ENDED)}. Live keys keep working until ${dateTime(PAUSE)}; projects cannot be created or edited until you renew.`,
    });
    // The dashboard's own date format.
    expect(copy?.message).toContain("ended on Nov 1, 2026.");
  });

  it("alerts once live keys are paused", () => {
    const copy = planBannerCopy(planStatus(lapsed, at(PAUSE)));
    expect(copy).toEqual({
      state: "paused",
      tone: "error",
      role: "alert",
      message: `Live keys are paused since ${dateTime(PAUSE)}: live API calls answer 402 payment_required. Test keys still work.`,
    });
  });

  it("leaves out the live-key date it does not know", () => {
    const copy = planBannerCopy(planStatus({ ...lapsed, liveKeysPauseAt: null }, at(PAUSE)));
    expect(copy?.message).toBe(`Your dream-api plan ended on ${date(ENDED)}. Projects cannot be created or edited until you renew.`);
  });
});

describe("project edits", () => {
  it("are blocked whenever the plan is not paid, and explained", () => {
    expect(projectEditsBlocked(paid)).toBe(false);
    expect(editsBlockedReason(paid)).toBeNull();
    expect(projectEditsBlocked(lapsed)).toBe(true);
    expect(editsBlockedReason(lapsed)).toBe(`Editing is paused: your dream-api plan ended on ${date(ENDED)}. Renew it to create or edit projects.`);
    expect(projectEditsBlocked(neverPaid)).toBe(true);
    expect(editsBlockedReason(neverPaid)).toMatch(/needs the \$15\/month plan/);
  });

  it("are allowed while the credentials are unknown: the API decides", () => {
    expect(projectEditsBlocked(undefined)).toBe(false);
    expect(editsBlockedReason(undefined)).toBeNull();
  });
});
