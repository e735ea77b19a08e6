// Runtime configuration. Production writes `/config.json` at deploy time and the local launcher
// answers it too; `npm run dev` has none and falls back to the VITE_* variables baked in at build
// time. Nothing else in the app reads `import.meta.env`.

export type AuthConfig =
  | { kind: "emulator"; signInUrl: string }
  | { kind: "clerk"; publishableKey: string; jwtTemplate: string };

export interface AppConfig {
  frontAuthApiUrl: string;
  oauthApiUrl: string;
  apiMultiUrl: string;
  auth: AuthConfig;
}

export const DEFAULT_JWT_TEMPLATE = "dream-api";

const trimSlash = (url: string) => url.replace(/\/+$/, "");

function httpUrl(value: unknown): string | null {
  if (typeof value !== "string") return null;
  try {
    const url = new URL(value);
    return url.protocol === "http:" || url.protocol === "https:" ? trimSlash(value) : null;
  } catch {
    return null;
  }
}

function parseAuth(raw: unknown): AuthConfig | null {
  if (typeof raw !== "object" || raw === null) return null;
  const auth = raw as Record<string, unknown>;
  if (auth.kind === "emulator") {
    const signInUrl = httpUrl(auth.signInUrl);
    return signInUrl ? { kind: "emulator", signInUrl } : null;
  }
  if (auth.kind === "clerk" && typeof auth.publishableKey === "string" && auth.publishableKey.startsWith("pk_")) {
    const template = typeof auth.jwtTemplate === "string" && auth.jwtTemplate ? auth.jwtTemplate : DEFAULT_JWT_TEMPLATE;
    return { kind: "clerk", publishableKey: auth.publishableKey, jwtTemplate: template };
  }
  return null;
}

/** Validates a `/config.json` document; null when anything is missing or malformed. */
export function parseConfig(raw: unknown): AppConfig | null {
  if (typeof raw !== "object" || raw === null) return null;
  const doc = raw as Record<string, unknown>;
  const frontAuthApiUrl = httpUrl(doc.frontAuthApiUrl);
  const oauthApiUrl = httpUrl(doc.oauthApiUrl);
  const apiMultiUrl = httpUrl(doc.apiMultiUrl);
  const auth = parseAuth(doc.auth);
  if (!frontAuthApiUrl || !oauthApiUrl || !apiMultiUrl || !auth) return null;
  return { frontAuthApiUrl, oauthApiUrl, apiMultiUrl, auth };
}

export interface ViteEnv {
  VITE_FRONT_AUTH_API_URL?: string;
  VITE_OAUTH_API_URL?: string;
  VITE_API_MULTI_URL?: string;
  VITE_CLERK_PUBLISHABLE_KEY?: string;
  VITE_CLERK_SIGN_IN_URL?: string;
}

/** The build-time fallback: a Clerk publishable key means Clerk, else the emulator's sign-in. */
export function configFromEnv(env: ViteEnv): AppConfig | null {
  const auth = env.VITE_CLERK_PUBLISHABLE_KEY
    ? { kind: "clerk", publishableKey: env.VITE_CLERK_PUBLISHABLE_KEY }
    : { kind: "emulator", signInUrl: env.VITE_CLERK_SIGN_IN_URL };
  return parseConfig({
    frontAuthApiUrl: env.VITE_FRONT_AUTH_API_URL,
    oauthApiUrl: env.VITE_OAUTH_API_URL,
    apiMultiUrl: env.VITE_API_MULTI_URL,
    auth,
  });
}

export type ConfigResult = { ok: true; config: AppConfig; source: "config.json" | "env" } | { ok: false; reason: string };

/**
 * `/config.json` first; a missing or unusable one (a dev server answers unknown paths with
 * index.html) falls back to the VITE_* values.
 */
export async function loadConfig(fetchFn: typeof fetch = fetch, env: ViteEnv = import.meta.env): Promise<ConfigResult> {
  let problem = "/config.json is missing";
  try {
    const response = await fetchFn("/config.json", { cache: "no-store", headers: { Accept: "application/json" } });
    const type = response.headers.get("content-type") ?? "";
    if (response.ok && type.includes("json")) {
      const config = parseConfig(await response.json());
      if (config) return { ok: true, config, source: "config.json" };
      problem = "/config.json is incomplete";
    }
  } catch {
    problem = "/config.json could not be read";
  }
  const fallback = configFromEnv(env);
  if (fallback) return { ok: true, config: fallback, source: "env" };
  return {
    ok: false,
    reason: `${problem}, and the VITE_FRONT_AUTH_API_URL, VITE_OAUTH_API_URL, VITE_API_MULTI_URL and VITE_CLERK_SIGN_IN_URL (or VITE_CLERK_PUBLISHABLE_KEY) fallbacks are not all set.`,
  };
}
