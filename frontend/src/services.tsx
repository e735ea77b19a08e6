// What every page needs: the configuration and the API client bound to the session.

import { createContext, useCallback, useContext, useEffect, useRef, useState } from "react";
import { type Api, ApiError, asApiError } from "./api/client";
import type { AppConfig } from "./config";

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

/**
 * Loads `load()` when `key` changes; `reload()` fetches again and keeps showing the previous
 * data meanwhile (`refreshing`). A response for an older key is dropped.
 */
export function useResource<T>(key: string, load: () => Promise<T>): Resource<T> & { setData: (data: T) => void } {
  const [state, setState] = useState<{ key: string; data?: T; error?: ApiError; loading: boolean }>({ key, loading: true });
  const [tick, setTick] = useState(0);
  const loadRef = useRef(load);
  loadRef.current = load;

  useEffect(() => {
    let live = true;
    setState((prev) => (prev.key === key ? { ...prev, loading: true } : { key, loading: true }));
    loadRef.current().then(
      (data) => live && setState({ key, data, loading: false }),
      (error: unknown) => live && setState((prev) => ({ key, data: prev.key === key ? prev.data : undefined, error: asApiError(error), loading: false })),
    );
    return () => {
      live = false;
    };
  }, [key, tick]);

  const reload = useCallback(() => setTick((t) => t + 1), []);
  const setData = useCallback((data: T) => setState({ key, data, loading: false }), [key]);
  const current = state.key === key ? state : { key, loading: true };
  const base = { reload, setData, refreshing: current.loading && current.data !== undefined };
  if (current.error) return { status: "error", data: current.data, error: current.error, ...base };
  if (current.data !== undefined) return { status: "ok", data: current.data, error: undefined, ...base };
  return { status: "loading", data: undefined, error: undefined, ...base };
}

/** Runs an action with a busy flag and its error, for buttons that call the API. */
export function useAction<A extends unknown[], R>(action: (...args: A) => Promise<R>) {
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<ApiError | null>(null);
  const actionRef = useRef(action);
  actionRef.current = action;
  const run = useCallback(async (...args: A): Promise<R | undefined> => {
    setBusy(true);
    setError(null);
    try {
      return await actionRef.current(...args);
    } catch (e) {
      setError(asApiError(e));
      return undefined;
    } finally {
      setBusy(false);
    }
  }, []);
  return { run, busy, error, clearError: () => setError(null) };
}
