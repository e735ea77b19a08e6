// Local sign-in: the emulator's hosted page redirects to `<redirect_url>#__session=<jwt>`, as
// Clerk's frontend would hand over a session. The token is taken from the fragment (which never
// reaches a server), removed from the address bar, and kept in sessionStorage for this tab.

import { decodeClaims, type SessionClaims } from "../lib/jwt";
import { type Auth, CALLBACK_PATH, Listeners } from "./types";

export const SESSION_STORAGE_KEY = "dream.session";
/** A token this close to its expiry is treated as expired: a request must not outlive it. */
export const EXPIRY_MARGIN_MS = 5_000;

/** The parts of the browser this implementation touches, so tests can hand in fakes. */
export interface BrowserLike {
  storage: Pick<Storage, "getItem" | "setItem" | "removeItem">;
  location: { readonly origin: string; readonly pathname: string; readonly search: string; readonly hash: string; assign(url: string): void };
  history: { readonly state: unknown; replaceState(data: unknown, unused: string, url?: string): void };
  now(): number;
  setTimer(callback: () => void, ms: number): () => void;
}

export function browser(): BrowserLike {
  return {
    storage: window.sessionStorage,
    location: window.location,
    history: window.history,
    now: () => Date.now(),
    setTimer: (callback, ms) => {
      const id = window.setTimeout(callback, ms);
      return () => window.clearTimeout(id);
    },
  };
}

/** The `__session` token in a URL fragment, and the fragment without it. */
export function takeSessionFromFragment(hash: string): { token: string | null; rest: string } {
  const raw = hash.startsWith("#") ? hash.slice(1) : hash;
  if (!raw.includes("__session=")) return { token: null, rest: hash };
  const params = new URLSearchParams(raw);
  const token = params.get("__session");
  params.delete("__session");
  const rest = params.toString();
  return { token: token || null, rest: rest ? `#${rest}` : "" };
}

interface Session {
  token: string;
  claims: SessionClaims;
}

function usable(token: string | null, now: number): Session | null {
  if (!token) return null;
  const claims = decodeClaims(token);
  if (!claims || typeof claims.exp !== "number") return null;
  return claims.exp * 1000 - EXPIRY_MARGIN_MS > now ? { token, claims } : null;
}

export class EmulatorAuth implements Auth {
  readonly ready = true;
  private session: Session | null = null;
  private readonly listeners = new Listeners();
  private cancelTimer: (() => void) | null = null;

  constructor(
    private readonly signInUrl: string,
    private readonly env: BrowserLike = browser(),
  ) {
    const { token, rest } = takeSessionFromFragment(env.location.hash);
    if (token !== null || env.location.hash.includes("__session=")) {
      const { pathname, search } = env.location;
      env.history.replaceState(env.history.state, "", `${pathname}${search}${rest}`);
    }
    const fresh = usable(token, env.now());
    if (fresh) {
      env.storage.setItem(SESSION_STORAGE_KEY, fresh.token);
      this.adopt(fresh);
    } else {
      const stored = usable(env.storage.getItem(SESSION_STORAGE_KEY), env.now());
      if (stored) this.adopt(stored);
      else env.storage.removeItem(SESSION_STORAGE_KEY);
    }
  }

  get signedIn(): boolean {
    return this.current() !== null;
  }

  get email(): string | undefined {
    return this.current()?.claims.email;
  }

  get label(): string | undefined {
    const claims = this.current()?.claims;
    return claims?.email ?? claims?.sub;
  }

  async getToken(): Promise<string | null> {
    return this.current()?.token ?? null;
  }

  signIn(): void {
    const redirect = `${this.env.location.origin}${CALLBACK_PATH}`;
    const url = new URL(this.signInUrl);
    url.searchParams.set("redirect_url", redirect);
    this.env.location.assign(url.toString());
  }

  async signOut(): Promise<void> {
    this.clear();
  }

  subscribe(listener: () => void): () => void {
    return this.listeners.add(listener);
  }

  /** The session if it is still usable; an expired one is dropped (and listeners told). */
  private current(): Session | null {
    if (this.session && !usable(this.session.token, this.env.now())) this.clear();
    return this.session;
  }

  private adopt(session: Session): void {
    this.session = session;
    const expiresIn = (session.claims.exp ?? 0) * 1000 - EXPIRY_MARGIN_MS - this.env.now();
    this.cancelTimer?.();
    // setTimeout's delay is a signed 32-bit number; sessions are an hour.
    this.cancelTimer = this.env.setTimer(() => this.current(), Math.min(Math.max(expiresIn, 0) + 10, 2 ** 31 - 1));
  }

  private clear(): void {
    const had = this.session !== null;
    this.session = null;
    this.cancelTimer?.();
    this.cancelTimer = null;
    this.env.storage.removeItem(SESSION_STORAGE_KEY);
    if (had) this.listeners.notify();
  }
}
