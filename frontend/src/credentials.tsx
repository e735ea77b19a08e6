// The developer's credentials (GET /get-credentials: plan, when it lapsed, Stripe connection),
// read once per visit below PlatformGate and shared by every signed-in page, so the plan banner
// and the project editor need no request of their own. Pages that act on them (onboarding, new
// project) still read them again when they open, as they did with their own requests: a read
// started after the page first rendered counts, so the first page of a visit costs one request,
// not two, while a read started earlier (before a Stripe connection, say) does not.
// Also the $15/month plan checkout, started from onboarding and from the plan banner.

import { createContext, type ReactNode, useCallback, useContext, useEffect, useMemo, useRef, useState } from "react";
import { type ApiError, asApiError } from "./api/client";
import type { Credentials } from "./api/types";
import { type Resource, useAction, useApi } from "./services";

interface CredentialsStore {
  data: Credentials | undefined;
  /** The error of the last read, if it failed (`data` keeps the previous answer). */
  error: ApiError | undefined;
  /** Sequence number of the last read that finished, or of the last `setData`. */
  settled: number;
  /** How many reads (and `setData`s) there have been so far. */
  issued: () => number;
  /** Starts a read unless one was issued after `after`; returns the sequence number to wait for. */
  refresh: (after: number) => number;
  setData: (data: Credentials) => void;
}

const CredentialsContext = createContext<CredentialsStore | null>(null);

export function CredentialsProvider({ children }: { children: ReactNode }) {
  const api = useApi();
  const [state, setState] = useState<{ data?: Credentials; error?: ApiError; settled: number }>({ settled: 0 });
  const issued = useRef(0);

  const refresh = useCallback(
    (after: number) => {
      if (issued.current > after) return issued.current;
      issued.current += 1;
      const n = issued.current;
      // An answer older than one already shown (a later read, the payment poll's `setData`) is dropped.
      api.credentials().then(
        (data) => setState((prev) => (n < prev.settled ? prev : { data, settled: n })),
        (e: unknown) => setState((prev) => (n < prev.settled ? prev : { data: prev.data, error: asApiError(e), settled: n })),
      );
      return n;
    },
    [api],
  );
  const issuedSoFar = useCallback(() => issued.current, []);

  const setData = useCallback((data: Credentials) => {
    issued.current += 1;
    const n = issued.current;
    setState({ data, settled: n });
  }, []);

  // Children's effects run first: a page that reads them fresh has already started this read.
  useEffect(() => {
    refresh(0);
  }, [refresh]);

  const store = useMemo<CredentialsStore>(
    () => ({ data: state.data, error: state.error, settled: state.settled, issued: issuedSoFar, refresh, setData }),
    [state, issuedSoFar, refresh, setData],
  );
  return <CredentialsContext.Provider value={store}>{children}</CredentialsContext.Provider>;
}

/**
 * The credentials as last read, without asking for a new read: undefined until the first answer
 * (or outside PlatformGate, e.g. signed out). For what may lag a little (banner, editor locks).
 */
export function useKnownCredentials(): Credentials | undefined {
  return useContext(CredentialsContext)?.data;
}

/**
 * The credentials read again for this page: "loading" until a read started after the page
 * opened has finished, then "ok" or "error" like `useResource` (an error shows no stale data).
 */
export function useFreshCredentials(): Resource<Credentials> & { setData: (data: Credentials) => void } {
  const store = useContext(CredentialsContext);
  if (!store) throw new Error("useFreshCredentials outside CredentialsProvider");
  const { refresh, setData, settled, data, error, issued } = store;
  // Reads issued before this page first rendered are too old for it.
  const [before] = useState(() => issued());
  const [wanted, setWanted] = useState<number | null>(null);
  useEffect(() => setWanted(refresh(before)), [refresh, before]);
  const reload = useCallback(() => setWanted(refresh(issued())), [refresh, issued]);
  const base = { reload, setData, refreshing: false };
  if (wanted === null || settled < wanted) return { status: "loading", data: undefined, error: undefined, ...base };
  if (error) return { status: "error", data: undefined, error, ...base };
  if (data) return { status: "ok", data, error: undefined, ...base };
  return { status: "loading", data: undefined, error: undefined, ...base };
}

/** Starts Stripe Checkout for the $15/month plan; Stripe sends the developer back to onboarding. */
export function usePlanCheckout() {
  const api = useApi();
  return useAction(async () => {
    const origin = window.location.origin;
    const { url } = await api.createCheckout(`${origin}/dashboard?checkout=success`, `${origin}/dashboard?checkout=cancelled`);
    window.location.assign(url);
  });
}
