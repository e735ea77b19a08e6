// A page that acts on what it reads (onboarding, a new project) must show an answer read after it
// opened, never one sent before the change it is about.

import type { QueryClient, QueryKey } from "@tanstack/react-query";

type Refetch = (options: { cancelRefetch: boolean }) => Promise<unknown>;

/** Whether a read of `queryKey` is under way: asked when the page first renders, before its own. */
export function readUnderWay(client: QueryClient, queryKey: QueryKey): boolean {
  return client.isFetching({ queryKey, exact: true }) > 0;
}

/**
 * Reads `queryKey` with a request sent after the page opened. A read that was under way when it
 * opened may have been sent before what the page is about (the plan banner's read on the Stripe
 * Connect callback page, sent while the connection was being saved), so it is cancelled and sent
 * again; a read the page's own query started as it mounted is shared, not sent twice.
 * (`refetch` with `cancelRefetch` alone would not do: TanStack Query cancels an in-flight read only
 * when the query already holds data, and otherwise hands back that older read.)
 */
export function readAfresh(client: QueryClient, queryKey: QueryKey, refetch: Refetch, underWayBefore: boolean): Promise<unknown> {
  // Silent: whoever awaits the cancelled read gets the new one's answer, and no error is shown.
  if (underWayBefore) void client.cancelQueries({ queryKey, exact: true }, { silent: true });
  return refetch({ cancelRefetch: false });
}
