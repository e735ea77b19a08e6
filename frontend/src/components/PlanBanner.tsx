// The banner of a developer whose paid plan lapsed, on every signed-in page: first a warning
// (live keys still work until a date, no project edits), then an error once live keys are
// paused. Both offer the same $15/month checkout as onboarding. It uses the credentials query
// every signed-in page shares (one read per visit, not one per page). Only an owner may renew
// (the plan is billing); the others are told to ask one.

import { useEffect, useState } from "react";
import type { ApiError } from "../api/client";
import { useKnownCredentials, usePlanCheckout } from "../credentials";
import { msUntilPlanChange, type PlanBannerCopy, planBannerCopy, planStatus } from "../lib/plan";
import { useCapabilities } from "../platformContext";
import { ErrorNotice } from "./ui";

// setTimeout's delay is a signed 32-bit number of milliseconds (about 24.8 days).
const MAX_TIMEOUT_MS = 2_147_483_647;

export function PlanBanner() {
  const credentials = useKnownCredentials();
  const [now, setNow] = useState(() => Date.now());
  const wait = credentials ? msUntilPlanChange(credentials, now) : null;
  // A page left open past the pause turns the warning into the error without a reload.
  useEffect(() => {
    if (wait === null) return;
    const id = window.setTimeout(() => setNow(Date.now()), Math.min(wait + 1000, MAX_TIMEOUT_MS));
    return () => window.clearTimeout(id);
  }, [wait]);
  const copy = credentials ? planBannerCopy(planStatus(credentials, now)) : null;
  const { billing } = useCapabilities();
  if (!copy) return null;
  return billing ? <LapsedPlanBanner copy={copy} /> : <PlanBannerView copy={copy} onRenew={null} busy={false} error={null} />;
}

// Separate so the checkout hook only runs when there is a banner.
function LapsedPlanBanner({ copy }: { copy: PlanBannerCopy }) {
  const checkout = usePlanCheckout();
  return <PlanBannerView copy={copy} onRenew={() => void checkout.run()} busy={checkout.busy} error={checkout.error} />;
}

/**
 * The banner itself, without data or actions (rendered alone in its unit test). Without
 * `onRenew` (someone who is not an owner) it says who can renew instead of offering it.
 */
export function PlanBannerView({ copy, onRenew, busy, error }: { copy: PlanBannerCopy; onRenew: (() => void) | null; busy: boolean; error: ApiError | null }) {
  return (
    <div className={`notice notice-${copy.tone}`} role={copy.role} data-testid="plan-banner" data-state={copy.state}>
      <div className="plan-banner-row">
        <p className="plan-banner-text">
          {copy.message}
          {onRenew ? null : " An owner of your organization can renew it."}
        </p>
        {onRenew ? (
          <button type="button" className={`btn ${copy.tone === "error" ? "btn-primary" : "btn-secondary"} btn-small`} onClick={onRenew} disabled={busy}>
            {busy ? "Opening Stripe Checkout…" : "Renew"}
          </button>
        ) : null}
      </div>
      {error ? <ErrorNotice error={error} title="Checkout could not start" compact /> : null}
    </div>
  );
}
