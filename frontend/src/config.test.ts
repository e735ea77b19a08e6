import { describe, expect, it } from "vitest";
import { configFromEnv, loadConfig, parseConfig } from "./config";

const doc = {
  frontAuthApiUrl: "http://127.0.0.1:8789/",
  oauthApiUrl: "http://127.0.0.1:8788",
  apiMultiUrl: "http://127.0.0.1:8787",
  auth: { kind: "emulator", signInUrl: "http://127.0.0.1:8790/clerk/dream-api/sign-in" },
};

const env = {
  VITE_FRONT_AUTH_API_URL: "http://a",
  VITE_OAUTH_API_URL: "http://b",
  VITE_API_MULTI_URL: "http://c",
  VITE_CLERK_SIGN_IN_URL: "http://d/sign-in",
};

function answer(body: string, type: string, status = 200): typeof fetch {
  return async () => new Response(body, { status, headers: { "content-type": type } });
}

describe("runtime configuration", () => {
  it("reads /config.json, trimming trailing slashes", async () => {
    const result = await loadConfig(answer(JSON.stringify(doc), "application/json"), {});
    expect(result).toEqual({ ok: true, source: "config.json", config: { ...doc, frontAuthApiUrl: "http://127.0.0.1:8789" } });
  });

  it("takes Clerk with the dream-api template by default", () => {
    const config = parseConfig({ ...doc, auth: { kind: "clerk", publishableKey: "pk_live_abc" } });
    expect(config?.auth).toEqual({ kind: "clerk", publishableKey: "pk_live_abc", jwtTemplate: "dream-api" });
  });

  it("falls back to VITE_* when a dev server answers index.html", async () => {
    const result = await loadConfig(answer("<!doctype html>", "text/html"), env);
    expect(result.ok && result.source).toBe("env");
    expect(result.ok && result.config.auth).toEqual({ kind: "emulator", signInUrl: "http://d/sign-in" });
  });

  it("falls back when the file is missing or unreachable, and says what is missing", async () => {
    expect((await loadConfig(answer("", "text/plain", 404), env)).ok).toBe(true);
    const failing: typeof fetch = async () => {
      throw new TypeError("offline");
    };
    const result = await loadConfig(failing, {});
    expect(result.ok).toBe(false);
    if (!result.ok) expect(result.reason).toContain("VITE_FRONT_AUTH_API_URL");
  });

  it("refuses incomplete documents", () => {
    expect(parseConfig({ ...doc, apiMultiUrl: "ftp://x" })).toBeNull();
    expect(parseConfig({ ...doc, auth: { kind: "clerk" } })).toBeNull();
    expect(configFromEnv({ ...env, VITE_CLERK_PUBLISHABLE_KEY: "pk_test_x" })?.auth.kind).toBe("clerk");
  });
});
