// The developer's own dream-api plan as the dashboard explains it: has it lapsed, are live keys
// paused yet, what the banner says. Pure: the caller passes the current time.
//
// The policy is the API's (shared/src/plan.rs): a plan that ended blocks creating and editing
// projects; keys keep working for a grace period; from `liveKeysPauseAt` on, live keys answer
// 402 payment_required. The API computes both dates, so nothing here knows the grace length.

import type { Credentials } from "../api/types";
import { date, dateTime } from "./format";

export type PlanFields = Pick<Credentials, "plan" | "planEndedAt" | "liveKeysPauseAt">;

export type PlanStatus =
  /** Paid, or never paid: nothing to explain. */
  | { state: "none" }
  /** Ended; live keys keep working until `pauseAt` (null if the API did not say when). */
  | { state: "grace"; endedAt: string; pauseAt: string | null }
  /** Ended and the grace is over: live keys answer 402. */
  | { state: "paused"; endedAt: string; pauseAt: string };

export function planStatus(c: PlanFields, now: number): PlanStatus {
  if (c.plan === "paid" || !c.planEndedAt) return { state: "none" };
  const pauseAt = c.liveKeysPauseAt;
  const pause = pauseAt ? Date.parse(pauseAt) : Number.NaN;
  // Same comparison as the API's key check: paused from the instant itself.
  if (pauseAt && !Number.isNaN(pause) && now >= pause) return { state: "paused", endedAt: c.planEndedAt, pauseAt };
  return { state: "grace", endedAt: c.planEndedAt, pauseAt: pauseAt ?? null };
}

/**
 * Milliseconds until `planStatus` changes on its own (grace → paused), so a page left open flips
 * at the right moment; null when only a new API answer can change it.
 */
export function msUntilPlanChange(c: PlanFields, now: number): number | null {
  const status = planStatus(c, now);
  if (status.state !== "grace" || !status.pauseAt) return null;
  const pause = Date.parse(status.pauseAt);
  return Number.isNaN(pause) ? null : Math.max(0, pause - now);
}

/**
 * Whether the API refuses creating and editing projects (403 naming the plan). Unknown
 * credentials allow it: the API has the last word, and the buttons should not flicker.
 */
export function projectEditsBlocked(c: PlanFields | undefined): boolean {
  return c !== undefined && c.plan !== "paid";
}

export interface PlanBannerCopy {
  state: "grace" | "paused";
  tone: "warning" | "error";
  /** `alert` only once live traffic is refused; the warning is announced politely. */
  role: "status" | "alert";
  message: string;
}

export function planBannerCopy(status: PlanStatus): PlanBannerCopy | null {
  switch (status.state) {
    case "none":
      return null;
    case "grace":
      return {
        state: "grace",
        tone: "warning",
        role: "status",
        message: status.pauseAt
          ? `Your dream-api plan ended on ${date(status.endedAt)}. Live keys keep working until ${dateTime(status.pauseAt)}; projects cannot be created or edited until you renew.`
          : `Your dream-api plan ended on ${date(status.endedAt)}. Projects cannot be created or edited until you renew.`,
      };
    case "paused":
      return {
        state: "paused",
        tone: "error",
        role: "alert",
        message: `Live keys are paused since ${dateTime(status.pauseAt)}: live API calls answer 402 payment_required. Test keys still work.`,
      };
  }
}

/** Why create/edit controls are disabled while the plan is not paid (shown next to them). */
export function editsBlockedReason(c: PlanFields | undefined): string | null {
  if (!projectEditsBlocked(c)) return null;
  return c?.planEndedAt
    ? `Editing is paused: your dream-api plan ended on ${date(c.planEndedAt)}. Renew it to create or edit projects.`
    : "Creating and editing projects needs the $15/month plan.";
}
