// A page that acts on what it reads (onboarding, a new project) must show an answer read after it
// opened, never one sent before the change it is about.

import type { QueryClient, QueryKey } from "@tanstack/react-query";

/**
 * Reads `queryKey` with a request that starts now. A read already under way may have started
 * before what the page is about (the plan banner's read on the Stripe Connect callback page,
 * sent while the connection was being saved), so it is cancelled first. `refetch` with
 * `cancelRefetch` alone is not enough: TanStack Query cancels an in-flight read only when the
 * query already holds data, and otherwise hands back that older read.
 */
export function readAfresh(client: QueryClient, queryKey: QueryKey, refetch: () => Promise<unknown>): Promise<unknown> {
  // Silent: whoever awaits the cancelled read gets this one's answer, and no error is shown.
  void client.cancelQueries({ queryKey, exact: true }, { silent: true });
  return refetch();
}
