// What every page needs: the configuration and the API client bound to the session.

import { QueryClient, QueryClientProvider, type UseQueryResult, useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { createContext, type ReactNode, useCallback, useContext, useRef, useState } from "react";
import { useAuth } from "./auth";
import { type Api, ApiError, asApiError } from "./api/client";
import type { PlatformId } from "./api/types";
import type { AppConfig } from "./config";
import { isRole } from "./lib/team";
import { PLATFORM_QUERY } from "./platformContext";

export interface AppServices {
  config: AppConfig;
  api: Api;
}

export const AppContext = createContext<AppServices | null>(null);

export function useServices(): AppServices {
  const services = useContext(AppContext);
  if (!services) throw new Error("useServices outside AppContext");
  return services;
}

export function useApi(): Api {
  return useServices().api;
}

export type Resource<T> =
  | { status: "loading"; data: undefined; error: undefined; reload: () => void; refreshing: boolean }
  | { status: "ok"; data: T; error: undefined; reload: () => void; refreshing: boolean }
  | { status: "error"; data: T | undefined; error: ApiError; reload: () => void; refreshing: boolean };

/** Only what a retry can mend: the network (status 0) and the workers' 5xx. */
function retryable(error: unknown): boolean {
  const status = asApiError(error).status;
  return status === 0 || status >= 500;
}

/**
 * The dashboard's server state (TanStack Query): a read is shared by every page that asks for
 * the same key, kept fresh for 30 s, read again when the window regains focus after that, and
 * retried twice (half a second apart) when the failure was the network's or a worker's 5xx.
 */
export function createQueryClient(): QueryClient {
  return new QueryClient({
    defaultOptions: {
      queries: {
        staleTime: 30_000,
        retry: (failures, error) => failures < 2 && retryable(error),
        retryDelay: 500,
      },
    },
  });
}

/**
 * One cache per signed-in developer: nothing read for one is ever shown to the next (signing
 * in, out or as someone else starts the app's tree again with an empty cache).
 */
export function ServerState({ children }: { children: ReactNode }) {
  const auth = useAuth();
  return <DeveloperCache key={auth.signedIn ? `in:${auth.label ?? ""}` : "out"}>{children}</DeveloperCache>;
}

function DeveloperCache({ children }: { children: ReactNode }) {
  const [client] = useState(createQueryClient);
  return <QueryClientProvider client={client}>{children}</QueryClientProvider>;
}

/** A resource in the shape the pages render: `Resource<T>` from `useQuery`'s state. */
export function asResource<T>(query: UseQueryResult<T>, shown: boolean = true): Resource<T> {
  const reload = () => void query.refetch();
  const refreshing = query.isFetching && query.data !== undefined;
  const data = shown ? query.data : undefined;
  if (query.error && shown) return { status: "error", data, error: asApiError(query.error), reload, refreshing };
  if (data !== undefined) return { status: "ok", data, error: undefined, reload, refreshing };
  return { status: "loading", data: undefined, error: undefined, reload, refreshing };
}

/**
 * Reads `load()` under `key` (pages that name the same key share one read and its cache);
 * `reload()` reads again and keeps showing the previous data meanwhile (`refreshing`);
 * `setData` puts an answer the page already has (an edit's response) in the cache.
 */
export function useResource<T>(
  key: string,
  load: () => Promise<T>,
  options: { refreshMs?: number } = {},
): Resource<T> & { setData: (data: T) => void } {
  const client = useQueryClient();
  const loadRef = useRef(load);
  loadRef.current = load;
  // `refreshMs`: read again that often while the tab is visible (Query pauses in the background).
  const query = useQuery({ queryKey: [key], queryFn: () => loadRef.current(), refetchInterval: options.refreshMs ?? false });
  const setData = useCallback((data: T) => client.setQueryData([key], data), [client, key]);
  return { ...asResource(query), setData };
}

/**
 * The caller's role as the API last said it (GET /team, or a 403 `forbidden` naming it): the
 * platform's cached copy follows, so the pages stop offering what the role may no longer do.
 */
export function adoptRole(client: QueryClient, role: unknown): void {
  if (!isRole(role)) return;
  client.setQueryData<PlatformId>(PLATFORM_QUERY, (platform) => (platform && platform.role !== role ? { ...platform, role } : platform));
}

/**
 * Runs an action with a busy flag and its error, for buttons that call the API. The page says
 * what the action changed (`setData` with the answer, or `reload`): some keep the old view on
 * purpose while a secret is on screen, so nothing is refetched behind their back.
 */
export function useAction<A extends unknown[], R>(action: (...args: A) => Promise<R>) {
  const actionRef = useRef(action);
  actionRef.current = action;
  const client = useQueryClient();
  const mutation = useMutation({
    mutationFn: (args: A) => actionRef.current(...args),
    onError: (error) => {
      const refused = asApiError(error);
      if (refused.code === "forbidden") adoptRole(client, refused.details.role);
    },
  });
  const { mutateAsync, reset } = mutation;
  const run = useCallback(
    async (...args: A): Promise<R | undefined> => {
      try {
        return await mutateAsync(args);
      } catch {
        return undefined;
      }
    },
    [mutateAsync],
  );
  return {
    run,
    busy: mutation.isPending,
    error: mutation.error ? asApiError(mutation.error) : null,
    clearError: reset,
  };
}
