// A tiny History API router: the dashboard has a handful of routes and needs no more.

import { type AnchorHTMLAttributes, type MouseEvent, useSyncExternalStore } from "react";

const listeners = new Set<() => void>();
let version = 0;

function notify() {
  version += 1;
  for (const listener of [...listeners]) listener();
}

if (typeof window !== "undefined") window.addEventListener("popstate", notify);

function subscribe(listener: () => void) {
  listeners.add(listener);
  return () => listeners.delete(listener);
}

export interface NavigateOptions {
  replace?: boolean;
  /** Carried in history.state (e.g. a one-time notice for the next page). */
  state?: unknown;
}

export function navigate(to: string, options: NavigateOptions = {}): void {
  const state = { app: options.state ?? null };
  if (options.replace) window.history.replaceState(state, "", to);
  else window.history.pushState(state, "", to);
  if (!options.replace) window.scrollTo(0, 0);
  notify();
}

export interface RouterLocation {
  pathname: string;
  search: URLSearchParams;
  /** What `navigate(…, {state})` carried to this entry. */
  state: unknown;
}

export function useLocation(): RouterLocation {
  useSyncExternalStore(subscribe, () => version);
  const state = (window.history.state as { app?: unknown } | null)?.app ?? null;
  return { pathname: window.location.pathname, search: new URLSearchParams(window.location.search), state };
}

/** `/projects/:pk/metrics` against a path: the params, or null. */
export function match(pattern: string, pathname: string): Record<string, string> | null {
  const want = pattern.split("/").filter(Boolean);
  const have = pathname.split("/").filter(Boolean);
  if (want.length !== have.length) return null;
  const params: Record<string, string> = {};
  for (let i = 0; i < want.length; i += 1) {
    const w = want[i] ?? "";
    const h = have[i] ?? "";
    if (w.startsWith(":")) {
      try {
        params[w.slice(1)] = decodeURIComponent(h);
      } catch {
        return null;
      }
    } else if (w !== h) return null;
  }
  return params;
}

type LinkProps = Omit<AnchorHTMLAttributes<HTMLAnchorElement>, "href"> & { to: string; replace?: boolean };

/** A real link (works with the keyboard, middle-click, copy link) that navigates in-app. */
export function Link({ to, replace, onClick, ...rest }: LinkProps) {
  const handle = (event: MouseEvent<HTMLAnchorElement>) => {
    onClick?.(event);
    if (event.defaultPrevented || event.button !== 0 || event.metaKey || event.ctrlKey || event.shiftKey || event.altKey) return;
    event.preventDefault();
    navigate(to, { replace });
  };
  return <a href={to} onClick={handle} {...rest} />;
}
