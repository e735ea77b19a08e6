// The onboarding checklist, driven by real state: the plan and the Stripe connection from
// GET /get-credentials (read again when the page opens), projects from GET /projects, first
// traffic from the project's figures. A member who is not an owner sees the same steps, with
// only the actions their role allows (the plan is the owners', Stripe and going live an admin's).

import { type ReactNode, useEffect, useRef, useState } from "react";
import type { ProjectList } from "../api/types";
import { useFreshCredentials, usePlanCheckout } from "../credentials";
import { useAction, useApi, useResource, useServices } from "../services";
import { useAuth } from "../auth";
import { Shell } from "../components/Shell";
import { Snippets } from "../components/Snippets";
import { ErrorMeta, ErrorNotice, Loading, Notice, type NoticeTone, PageHeading } from "../components/ui";
import { plural } from "../lib/format";
import { useCapabilities } from "../platformContext";
import { Link, navigate, useLocation } from "../router";

export interface Flash {
  tone: NoticeTone;
  title: string;
  message?: string;
  /** The API error behind an error notice (plain data: it travels in history.state). */
  error?: { message: string; code: string; status: number; requestId: string | undefined };
}

/** Notices handed over by query parameters of redirects back from Stripe's pages. */
function flashFromQuery(search: URLSearchParams): { flash: Flash | null; waitForPayment: boolean } | null {
  const checkout = search.get("checkout");
  const stripe = search.get("stripe");
  if (checkout === "success") return { flash: null, waitForPayment: true };
  if (checkout === "cancelled") return { flash: { tone: "info", title: "Checkout cancelled", message: "You were not charged. Subscribe whenever you are ready." }, waitForPayment: false };
  if (stripe === "connected") return { flash: { tone: "success", title: "Stripe connected", message: "Your Stripe account is linked to dream-api." }, waitForPayment: false };
  if (stripe === "denied") return { flash: { tone: "warning", title: "Stripe was not connected", message: "You declined the connection on Stripe's page. Connect again when you are ready." }, waitForPayment: false };
  if (stripe === "refused") {
    return {
      flash: { tone: "error", title: "Stripe was not connected", message: "Your projects already use another Stripe account. Connect that account again, or contact support to move projects." },
      waitForPayment: false,
    };
  }
  return null;
}

const PAYMENT_POLL_MS = 1000;
const PAYMENT_POLL_TRIES = 90;

type StepState = "done" | "current" | "todo";

function Step({ index, state, title, summary, children }: { index: number; state: StepState; title: string; summary?: ReactNode; children?: ReactNode }) {
  return (
    <li className={`step step-${state}`} data-testid={`step-${index}`} data-state={state}>
      <span className="step-marker" aria-hidden="true">
        {state === "done" ? "✓" : index}
      </span>
      <div className="step-content">
        <h2 className="step-title">
          {title}
          <span className="visually-hidden">{state === "done" ? " (done)" : state === "current" ? " (next step)" : " (to do)"}</span>
        </h2>
        {summary ? <div className="step-summary">{summary}</div> : null}
        {children ? <div className="step-body">{children}</div> : null}
      </div>
    </li>
  );
}

export function Onboarding() {
  const api = useApi();
  const auth = useAuth();
  const { config } = useServices();
  const location = useLocation();
  const credentials = useFreshCredentials();
  const caps = useCapabilities();
  const projects = useResource<ProjectList>("projects", () => api.projects());
  const [flash, setFlash] = useState<Flash | null>(() => ((location.state as { flash?: Flash } | null)?.flash ?? null));
  const [waiting, setWaiting] = useState<"no" | "yes" | "timeout">("no");
  const handled = useRef(false);

  // Redirects back from Stripe: read their query once, then take it out of the address bar.
  useEffect(() => {
    if (handled.current) return;
    handled.current = true;
    const outcome = flashFromQuery(location.search);
    if (!outcome) return;
    if (outcome.flash) setFlash(outcome.flash);
    if (outcome.waitForPayment) setWaiting("yes");
    navigate("/dashboard", { replace: true });
  }, [location.search]);

  // After paying, Stripe's webhook reaches front-auth-api asynchronously: poll until it has.
  const setCredentials = credentials.setData;
  useEffect(() => {
    if (waiting !== "yes") return;
    let tries = 0;
    let timer = 0;
    let live = true;
    const poll = async () => {
      tries += 1;
      try {
        const c = await api.credentials();
        if (!live) return;
        if (c.plan === "paid") {
          setCredentials(c);
          setWaiting("no");
          setFlash({ tone: "success", title: "Payment confirmed", message: "Your $15/month plan is active." });
          return;
        }
      } catch {
        // A transient failure: keep polling until the tries run out.
      }
      if (!live) return;
      if (tries >= PAYMENT_POLL_TRIES) setWaiting("timeout");
      else timer = window.setTimeout(poll, PAYMENT_POLL_MS);
    };
    void poll();
    return () => {
      live = false;
      window.clearTimeout(timer);
    };
  }, [waiting, api, setCredentials]);

  const checkout = usePlanCheckout();
  const connect = useAction(async () => {
    const { url } = await api.authorizeStripe();
    window.location.assign(url);
  });

  const first = projects.data?.projects[0];
  const firstKey = first?.test?.publishableKey ?? first?.live?.publishableKey;
  const traffic = useResource<boolean | null>(`traffic:${firstKey ?? "none"}`, async () => {
    if (!firstKey) return null;
    const d = await api.dashboard(firstKey);
    return d.projectType === "saas" ? d.metrics.usageThisPeriod > 0 || d.metrics.customers > 0 : d.metrics.totalSales > 0 || d.metrics.openCheckouts > 0;
  });

  if (credentials.status === "loading" || projects.status === "loading") {
    return (
      <Shell>
        <PageHeading title="Get started">Get started</PageHeading>
        <Loading label="Loading your setup…" />
      </Shell>
    );
  }
  if (credentials.status === "error" && !credentials.data) {
    return (
      <Shell>
        <PageHeading title="Get started">Get started</PageHeading>
        <ErrorNotice error={credentials.error} title="Your setup could not be loaded" onRetry={credentials.reload} />
      </Shell>
    );
  }
  if (projects.status === "error" && !projects.data) {
    return (
      <Shell>
        <PageHeading title="Get started">Get started</PageHeading>
        <ErrorNotice error={projects.error} title="Your projects could not be loaded" onRetry={projects.reload} />
      </Shell>
    );
  }

  const c = credentials.data!;
  const list = projects.data!.projects;
  const paid = c.plan === "paid";
  const connected = c.stripeConnected;
  const hasProject = list.length > 0;
  const integrated = traffic.data === true;
  const live = list.some((p) => p.live);
  const done = [true, paid, connected, hasProject, integrated, live];
  const currentIndex = done.findIndex((d) => !d);
  const stateOf = (i: number): StepState => (done[i] ? "done" : i === currentIndex ? "current" : "todo");
  const completed = done.filter(Boolean).length;
  const goLiveTarget = list.find((p) => p.test && !p.live)?.test?.publishableKey;

  return (
    <Shell>
      <PageHeading title="Get started" lead="Six steps from sign-in to your first paying customer. Each one completes on its own as you go.">
        Get started
      </PageHeading>
      {flash ? (
        <Notice tone={flash.tone} title={flash.title} onDismiss={() => setFlash(null)}>
          {flash.message}
          {flash.error ? (
            <>
              <p className="notice-api-message">{flash.error.message}</p>
              <ErrorMeta code={flash.error.code} status={flash.error.status} requestId={flash.error.requestId} />
            </>
          ) : null}
        </Notice>
      ) : null}
      <div className="progress-block">
        <div className="progress-text">
          <strong>
            {completed} of {done.length}
          </strong>{" "}
          steps complete
        </div>
        <div className="progress" role="progressbar" aria-label="Setup progress" aria-valuemin={0} aria-valuemax={done.length} aria-valuenow={completed}>
          <span style={{ width: `${(completed / done.length) * 100}%` }} />
        </div>
      </div>

      <ol className="checklist">
        <Step index={1} state="done" title="Sign in" summary={<>Signed in as {auth.label}.</>} />

        <Step
          index={2}
          state={stateOf(1)}
          title="Subscribe to dream-api"
          summary={paid ? <>Your $15/month plan is active.</> : <>The $15/month plan unlocks projects, live keys and image hosting.</>}
        >
          {!paid ? (
            <>
              {waiting === "yes" ? (
                <div className="inline-status" role="status">
                  <span className="spinner" aria-hidden="true" /> Waiting for Stripe to confirm your payment…
                </div>
              ) : null}
              {waiting === "timeout" ? (
                <Notice tone="warning" title="Your payment is not confirmed yet">
                  Stripe has not told us about it so far. If you completed the checkout, reload this page in a minute.{" "}
                  <button type="button" className="btn btn-link" onClick={() => setWaiting("yes")}>
                    Check again
                  </button>
                </Notice>
              ) : null}
              {caps.billing ? (
                <div className="actions">
                  <button type="button" className="btn btn-primary" onClick={() => void checkout.run()} disabled={checkout.busy || waiting === "yes"}>
                    {checkout.busy ? "Opening Stripe Checkout…" : "Pay $15/month"}
                  </button>
                </div>
              ) : (
                <p className="muted">An owner of your organization subscribes.</p>
              )}
              {checkout.error ? <ErrorNotice error={checkout.error} title="Checkout could not start" compact /> : null}
            </>
          ) : null}
        </Step>

        <Step
          index={3}
          state={stateOf(2)}
          title="Connect your Stripe account"
          summary={
            connected ? (
              <>
                Connected: <code>{c.stripeAccountId}</code>
              </>
            ) : (
              <>Your customers pay into your own Stripe account through Stripe Connect.</>
            )
          }
        >
          {!connected ? (
            <>
              {caps.connectStripe ? (
                <div className="actions">
                  <button type="button" className={`btn ${currentIndex === 2 ? "btn-primary" : "btn-secondary"}`} onClick={() => void connect.run()} disabled={connect.busy}>
                    {connect.busy ? "Opening Stripe…" : "Connect Stripe"}
                  </button>
                </div>
              ) : (
                <p className="muted">An admin or owner of your organization connects it.</p>
              )}
              {connect.error ? <ErrorNotice error={connect.error} title="Stripe Connect could not start" compact /> : null}
            </>
          ) : null}
        </Step>

        <Step
          index={4}
          state={stateOf(3)}
          title="Create a project"
          summary={hasProject ? <>You have {plural(list.length, "project")}.</> : <>A SaaS project with tiers and limits, or a Store with products and stock.</>}
        >
          {!hasProject ? (
            !caps.changeTest ? (
              <p className="muted">An owner, admin or developer of your organization creates projects.</p>
            ) : paid && connected ? (
              <div className="actions">
                <Link to="/projects/new" className="btn btn-primary">
                  Create a project
                </Link>
              </div>
            ) : (
              <p className="muted">Available once you have subscribed and connected Stripe.</p>
            )
          ) : (
            <Link to="/projects" className="btn btn-link">
              View projects
            </Link>
          )}
        </Step>

        <Step
          index={5}
          state={stateOf(4)}
          title="Integrate"
          summary={
            integrated ? (
              <>
                <strong>{first?.name}</strong> is receiving traffic.
              </>
            ) : hasProject ? (
              <>Call the API from your server with your secret key. This step completes when {first?.name} records its first request or sale.</>
            ) : (
              <>Once you have a project, its snippets appear here.</>
            )
          }
        >
          {first && firstKey ? (
            <Snippets apiMultiUrl={config.apiMultiUrl} publishableKey={firstKey} mode={firstKey.startsWith("pk_live_") ? "live" : "test"} projectType={first.projectType} />
          ) : null}
          {traffic.status === "error" ? <ErrorNotice error={traffic.error} title="Could not check for traffic" compact onRetry={traffic.reload} /> : null}
        </Step>

        <Step
          index={6}
          state={stateOf(5)}
          title="Go live"
          summary={live ? <>Live keys are issued. Real customers can pay you now.</> : <>Review your tiers and get live keys that charge real cards.</>}
        >
          {!live && goLiveTarget && caps.goLive ? (
            <div className="actions">
              <Link to={`/projects/${goLiveTarget}/go-live`} className={`btn ${currentIndex === 5 ? "btn-primary" : "btn-secondary"}`}>
                Edit &amp; Go Live
              </Link>
            </div>
          ) : null}
        </Step>
      </ol>
    </Shell>
  );
}
