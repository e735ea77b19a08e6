// Stripe Connect sends the developer back here with `code` and `state` (or `error`). The
// dashboard hands both to oauth-api with the session, which binds the connection to this
// developer, then shows the outcome on the onboarding checklist.

import { useEffect, useState } from "react";
import { asApiError } from "../api/client";
import type { ConnectResult } from "../api/types";
import { useApi } from "../services";
import { Shell } from "../components/Shell";
import { Loading, PageHeading } from "../components/ui";
import { navigate } from "../router";
import type { Flash } from "./Onboarding";

// One exchange per code, even if the page renders twice (React's development double effects).
const exchanges = new Map<string, Promise<ConnectResult>>();

function outcomeOf(error: ReturnType<typeof asApiError>): Flash {
  const detail = { message: error.message, code: error.code, status: error.status, requestId: error.requestId };
  switch (error.status) {
    case 400:
      return { tone: "error", title: "This Stripe connection link expired or was already used", message: "Start again with Connect Stripe.", error: detail };
    case 403:
      return { tone: "error", title: "This Stripe connection was started from another account", message: "Sign in as the developer who started it, or start again with Connect Stripe here.", error: detail };
    case 409:
      return { tone: "error", title: "Your projects use another Stripe account", message: "Reconnect the Stripe account your projects were created on.", error: detail };
    default:
      return { tone: "error", title: "Stripe could not be connected", message: "Try Connect Stripe again in a moment.", error: detail };
  }
}

export function ConnectCallback() {
  const api = useApi();
  // Read once: the parameters are taken out of the address bar right away.
  const [params] = useState(() => new URLSearchParams(window.location.search));

  useEffect(() => {
    const done = (flash: Flash) => navigate("/dashboard", { replace: true, state: { flash } });
    window.history.replaceState(window.history.state, "", "/connect/callback");
    const error = params.get("error");
    if (error) {
      const description = params.get("error_description");
      done({
        tone: "warning",
        title: error === "access_denied" ? "You declined the Stripe connection" : "Stripe did not connect your account",
        message: `${description ?? error}. Connect again whenever you are ready.`,
      });
      return;
    }
    const code = params.get("code");
    const state = params.get("state");
    if (!code || !state) {
      done({ tone: "error", title: "This Stripe connection link is incomplete", message: "It has no code or state. Start again with Connect Stripe." });
      return;
    }
    let exchange = exchanges.get(code);
    if (!exchange) {
      exchange = api.connectCallback(code, state);
      exchanges.set(code, exchange);
    }
    let live = true;
    exchange.then(
      (result) => live && done({ tone: "success", title: "Stripe connected", message: `Your Stripe account ${result.stripeAccountId} is linked to dream-api.` }),
      (e: unknown) => live && done(outcomeOf(asApiError(e))),
    );
    return () => {
      live = false;
    };
  }, [api, params]);

  return (
    <Shell>
      <PageHeading title="Connecting Stripe">Connecting Stripe</PageHeading>
      <Loading label="Linking your Stripe account…" />
    </Shell>
  );
}
