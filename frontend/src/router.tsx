// Routing is React Router's (a data router, `createAppRouter`); this module is the small surface
// the pages use: `navigate` from anywhere (a handler, an effect), `useLocation` with the query
// parsed, and `Link`. Navigation state (a one-time notice for the next page) rides on the
// router's location state.

import type { AnchorHTMLAttributes } from "react";
import { createBrowserRouter, Link as RouterLink, type RouteObject, useLocation as useRouterLocation } from "react-router";

let router: ReturnType<typeof createBrowserRouter> | null = null;

export function createAppRouter(routes: RouteObject[]) {
  router = createBrowserRouter(routes);
  return router;
}

export interface NavigateOptions {
  replace?: boolean;
  /** Carried to the next location (e.g. a one-time notice for the next page). */
  state?: unknown;
}

export function navigate(to: string, options: NavigateOptions = {}): void {
  if (!router) throw new Error("navigate before the router exists");
  void router.navigate(to, { replace: options.replace ?? false, state: options.state ?? null });
  if (!options.replace) window.scrollTo(0, 0);
}

/** Whether the page was reached by navigating in the app (not the visit's first page). */
export function navigatedInApp(): boolean {
  const state = window.history.state as { idx?: number } | null;
  return (state?.idx ?? 0) > 0;
}

export interface RouterLocation {
  pathname: string;
  search: URLSearchParams;
  /** What `navigate(…, {state})` carried to this entry. */
  state: unknown;
}

export function useLocation(): RouterLocation {
  const location = useRouterLocation();
  return { pathname: location.pathname, search: new URLSearchParams(location.search), state: location.state ?? null };
}

type LinkProps = Omit<AnchorHTMLAttributes<HTMLAnchorElement>, "href"> & { to: string; replace?: boolean };

/** A real link (keyboard, middle-click, copy link) that navigates in the app. */
export function Link({ to, replace, ...rest }: LinkProps) {
  return <RouterLink to={to} replace={replace ?? false} {...rest} />;
}
