// Chooses the auth implementation from the runtime configuration. Nothing outside `auth/`
// knows which one runs.

import { createContext, type ReactNode, useContext, useSyncExternalStore } from "react";
import type { AuthConfig } from "../config";
import { EmulatorAuth } from "./emulator";
import type { Auth } from "./types";

export type { Auth } from "./types";
export { CALLBACK_PATH } from "./types";

function Passthrough({ children }: { children: ReactNode }) {
  return <>{children}</>;
}

export async function createAuth(config: AuthConfig): Promise<{ auth: Auth; Wrapper: (props: { children: ReactNode }) => ReactNode }> {
  if (config.kind === "clerk") {
    // Loaded on demand: the Clerk SDK is a separate chunk only production fetches.
    const { createClerkAuth } = await import("./clerk");
    return createClerkAuth(config.publishableKey, config.jwtTemplate);
  }
  return { auth: new EmulatorAuth(config.signInUrl), Wrapper: Passthrough };
}

export const AuthContext = createContext<Auth | null>(null);

/** The auth object; the calling component re-renders when the session changes. */
export function useAuth(): Auth {
  const auth = useContext(AuthContext);
  if (!auth) throw new Error("useAuth outside AuthContext");
  useSyncExternalStore(
    (listener) => auth.subscribe(listener),
    () => `${auth.ready}|${auth.signedIn}|${auth.label ?? ""}`,
  );
  return auth;
}

const RETURN_TO_KEY = "dream.returnTo";

/** Remembers where to come back to after the sign-in round trip (a same-origin path only). */
export function rememberReturnTo(path: string): void {
  if (path.startsWith("/") && !path.startsWith("//")) sessionStorage.setItem(RETURN_TO_KEY, path);
}

export function takeReturnTo(fallback: string): string {
  const path = sessionStorage.getItem(RETURN_TO_KEY);
  sessionStorage.removeItem(RETURN_TO_KEY);
  return path && path.startsWith("/") && !path.startsWith("//") ? path : fallback;
}
