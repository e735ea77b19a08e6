import { describe, expect, it, vi } from "vitest";
import { type BrowserLike, EmulatorAuth, SESSION_STORAGE_KEY, takeSessionFromFragment } from "./emulator";

const NOW = 1_800_000_000_000;

function b64url(value: object | string): string {
  const text = typeof value === "string" ? value : JSON.stringify(value);
  const binary = String.fromCharCode(...new TextEncoder().encode(text));
  return btoa(binary).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
}

function jwt(claims: Record<string, unknown>): string {
  return `${b64url({ alg: "RS256", kid: "k1" })}.${b64url(claims)}.c2lnbmF0dXJl`;
}

function fakeBrowser(hash = "", stored?: string) {
  const store = new Map<string, string>(stored ? [[SESSION_STORAGE_KEY, stored]] : []);
  let now = NOW;
  const timers: { at: number; callback: () => void }[] = [];
  const browser: BrowserLike & { url: string; assigned: string[]; advance(ms: number): void; store: Map<string, string> } = {
    url: `/auth/callback${hash}`,
    assigned: [],
    store,
    storage: {
      getItem: (k) => store.get(k) ?? null,
      setItem: (k, v) => void store.set(k, v),
      removeItem: (k) => void store.delete(k),
    },
    location: {
      origin: "http://localhost:5173",
      pathname: "/auth/callback",
      search: "",
      hash,
      assign: (url) => void browser.assigned.push(url),
    },
    history: {
      state: { idx: 3 },
      replaceState: (_data, _unused, url) => {
        browser.url = url ?? browser.url;
      },
    },
    now: () => now,
    setTimer: (callback, ms) => {
      const timer = { at: now + ms, callback };
      timers.push(timer);
      return () => timers.splice(timers.indexOf(timer), 1);
    },
    advance(ms) {
      now += ms;
      for (const timer of timers.filter((t) => t.at <= now)) timer.callback();
    },
  };
  return browser;
}

const valid = jwt({ sub: "user_1", exp: NOW / 1000 + 3600, email: "dev@example.com" });

describe("the session fragment", () => {
  it("is taken out of the hash, keeping anything else", () => {
    expect(takeSessionFromFragment(`#__session=${valid}`)).toEqual({ token: valid, rest: "" });
    expect(takeSessionFromFragment(`#tab=keys&__session=${valid}`)).toEqual({ token: valid, rest: "#tab=keys" });
    expect(takeSessionFromFragment("#tab=keys")).toEqual({ token: null, rest: "#tab=keys" });
    expect(takeSessionFromFragment("")).toEqual({ token: null, rest: "" });
  });

  it("signs in, is stored for the tab and removed from the address bar", async () => {
    const browser = fakeBrowser(`#__session=${valid}`);
    const auth = new EmulatorAuth("http://127.0.0.1:8790/clerk/dream-api/sign-in", browser);
    expect(auth.signedIn).toBe(true);
    expect(auth.email).toBe("dev@example.com");
    expect(auth.label).toBe("dev@example.com");
    expect(await auth.getToken()).toBe(valid);
    expect(browser.store.get(SESSION_STORAGE_KEY)).toBe(valid);
    expect(browser.url).toBe("/auth/callback");
  });

  it("shows the user id when the token has no email", () => {
    const token = jwt({ sub: "user_9", exp: NOW / 1000 + 3600 });
    const auth = new EmulatorAuth("http://e/sign-in", fakeBrowser(`#__session=${token}`));
    expect(auth.email).toBeUndefined();
    expect(auth.label).toBe("user_9");
  });

  it("ignores a malformed or expired token, but still strips it", async () => {
    for (const token of ["not-a-jwt", jwt({ sub: "u", exp: NOW / 1000 - 1 }), jwt({ sub: "u" })]) {
      const browser = fakeBrowser(`#__session=${token}`);
      const auth = new EmulatorAuth("http://e/sign-in", browser);
      expect(auth.signedIn, token).toBe(false);
      expect(await auth.getToken()).toBeNull();
      expect(browser.url).toBe("/auth/callback");
      expect(browser.store.has(SESSION_STORAGE_KEY)).toBe(false);
    }
  });
});

describe("a stored session", () => {
  it("survives a reload of the tab", () => {
    const auth = new EmulatorAuth("http://e/sign-in", fakeBrowser("", valid));
    expect(auth.signedIn).toBe(true);
  });

  it("is dropped when it expired while stored", () => {
    const browser = fakeBrowser("", jwt({ sub: "u", exp: NOW / 1000 - 60 }));
    const auth = new EmulatorAuth("http://e/sign-in", browser);
    expect(auth.signedIn).toBe(false);
    expect(browser.store.size).toBe(0);
  });

  it("expires on its own and tells listeners", async () => {
    const browser = fakeBrowser("", valid);
    const auth = new EmulatorAuth("http://e/sign-in", browser);
    const listener = vi.fn();
    auth.subscribe(listener);
    browser.advance(3590_000);
    expect(auth.signedIn).toBe(true);
    browser.advance(10_000); // within the safety margin of exp
    expect(auth.signedIn).toBe(false);
    expect(await auth.getToken()).toBeNull();
    expect(listener).toHaveBeenCalledTimes(1);
    expect(browser.store.size).toBe(0);
  });
});

describe("signing in and out", () => {
  it("sends the browser to the hosted page with our callback", () => {
    const browser = fakeBrowser();
    new EmulatorAuth("http://127.0.0.1:8790/clerk/dream-api/sign-in", browser).signIn();
    expect(browser.assigned).toEqual([
      "http://127.0.0.1:8790/clerk/dream-api/sign-in?redirect_url=http%3A%2F%2Flocalhost%3A5173%2Fauth%2Fcallback",
    ]);
  });

  it("sign-out clears the session and the storage", async () => {
    const browser = fakeBrowser("", valid);
    const auth = new EmulatorAuth("http://e/sign-in", browser);
    const listener = vi.fn();
    auth.subscribe(listener);
    await auth.signOut();
    expect(auth.signedIn).toBe(false);
    expect(await auth.getToken()).toBeNull();
    expect(browser.store.size).toBe(0);
    expect(listener).toHaveBeenCalledTimes(1);
    await auth.signOut();
    expect(listener).toHaveBeenCalledTimes(1);
  });
});
