// The developer's credentials (GET /get-credentials: plan, when it lapsed, Stripe connection),
// one query shared by every signed-in page, so the plan banner and the project editor need no
// request of their own. Pages that act on them (onboarding, new project) read them again when
// they open: they show what was read after they opened, never an older answer.
// Also the $15/month plan checkout, started from onboarding and from the plan banner.

import { useQuery, useQueryClient } from "@tanstack/react-query";
import { useCallback, useContext, useEffect, useState } from "react";
import type { Credentials } from "./api/types";
import { readAfresh, readUnderWay } from "./lib/freshRead";
import { PlatformContext } from "./platformContext";
import { asResource, type Resource, useAction, useApi } from "./services";

const CREDENTIALS = ["credentials"];

function useCredentialsQuery() {
  const api = useApi();
  // Only once the developer's platform exists (below PlatformGate): before, there is nothing to read.
  const platform = useContext(PlatformContext);
  return useQuery({
    queryKey: CREDENTIALS,
    queryFn: () => api.credentials(),
    enabled: platform !== null,
  });
}

/**
 * The credentials as last read: undefined until the first answer. For what may lag a little
 * (banner, editor locks).
 */
export function useKnownCredentials(): Credentials | undefined {
  return useCredentialsQuery().data;
}

/**
 * The credentials read again for this page: "loading" until a read started after the page
 * opened has finished, then "ok" or "error" like `useResource`.
 */
export function useFreshCredentials(): Resource<Credentials> & { setData: (data: Credentials) => void } {
  const client = useQueryClient();
  const query = useCredentialsQuery();
  const { refetch } = query;
  const [underWayBefore] = useState(() => readUnderWay(client, CREDENTIALS));
  const [fresh, setFresh] = useState(false);
  useEffect(() => {
    let live = true;
    void readAfresh(client, CREDENTIALS, refetch, underWayBefore).then(() => live && setFresh(true));
    return () => {
      live = false;
    };
  }, [client, refetch, underWayBefore]);
  const setData = useCallback((data: Credentials) => client.setQueryData(CREDENTIALS, data), [client]);
  return { ...asResource(query, fresh), setData };
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
