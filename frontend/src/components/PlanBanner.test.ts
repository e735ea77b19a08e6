// The banner's markup, rendered to a string (the tests run in Node without a DOM library).

import { createElement } from "react";
import { renderToStaticMarkup } from "react-dom/server";
import { describe, expect, it } from "vitest";
import { planBannerCopy, planStatus } from "../lib/plan";
import { PlanBannerView } from "./PlanBanner";

// Local noon, so the dates read the same in any time zone the tests run in.
const lapsed = { plan: "free" as const, planEndedAt: new Date(2026, 10, 1, 12).toISOString(), liveKeysPauseAt: new Date(2026, 10, 15, 12).toISOString() };

function render(now: string, busy = false): string {
  const copy = planBannerCopy(planStatus(lapsed, Date.parse(now)));
  if (!copy) throw new Error("no banner");
  return renderToStaticMarkup(createElement(PlanBannerView, { copy, onRenew: () => {}, busy, error: null }));
}

describe("PlanBannerView", () => {
  it("is a warning status with Renew during the grace period", () => {
    const html = render("2026-11-05T00:00:00Z");
    expect(html).toContain('role="status"');
    expect(html).toContain("notice-warning");
    expect(html).toContain('data-state="grace"');
    expect(html).toContain("Your dream-api plan ended on Nov 1, 2026.");
    expect(html).toMatch(/<button type="button" class="[^"]*btn[^"]*">Renew<\/button>/);
  });

  it("is an error alert once live keys are paused", () => {
    const html = render("2026-11-20T00:00:00Z");
    expect(html).toContain('role="alert"');
    expect(html).toContain("notice-error");
    expect(html).toContain('data-state="paused"');
    expect(html).toContain("live API calls answer 402 payment_required. Test keys still work.");
    expect(html).toContain(">Renew</button>");
  });

  it("tells someone who is not an owner who can renew, without the button", () => {
    const copy = planBannerCopy(planStatus(lapsed, Date.parse("2026-11-05T00:00:00Z")));
    if (!copy) throw new Error("no banner");
    const html = renderToStaticMarkup(createElement(PlanBannerView, { copy, onRenew: null, busy: false, error: null }));
    expect(html).toContain("An owner of your organization can renew it.");
    expect(html).not.toContain("<button");
  });

  it("disables Renew while Checkout opens", () => {
    expect(render("2026-11-20T00:00:00Z", true)).toMatch(/<button[^>]*disabled=""[^>]*>Opening Stripe Checkout…<\/button>/);
  });
});
