// The dashboard's security headers, from the same config.json the app boots from: a Content
// Security Policy that names exactly the origins this deployment talks to (its three workers,
// and Clerk's Frontend API when Clerk signs developers in), framing refused, no sniffing.
// write-config.mjs writes them to dist/_headers (Workers static assets serve that file's
// headers); the local launcher applies the same ones (`node security-headers.mjs --json <config>`),
// so every browser test runs under the policy production ships.
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";

const origin = (url) => new URL(url).origin;

/** Clerk's Frontend API host, which its publishable key encodes: pk_(test|live)_base64("host$"). */
export function clerkFrontendApi(publishableKey) {
  const encoded = publishableKey.replace(/^pk_(test|live)_/, "");
  const host = Buffer.from(encoded, "base64").toString("utf8").replace(/\$$/, "");
  if (!/^[a-z0-9.-]+\.[a-z]{2,}$/i.test(host)) throw new Error("CLERK_PUBLISHABLE_KEY does not encode a Frontend API host");
  return `https://${host}`;
}

/** The headers every dashboard response carries, as a name → value object. */
export function securityHeaders(config) {
  const workers = [config.frontAuthApiUrl, config.oauthApiUrl, config.apiMultiUrl].map(origin);
  const clerk = config.auth?.kind === "clerk" ? clerkFrontendApi(config.auth.publishableKey) : null;
  // Clerk's documented needs: its Frontend API for scripts and calls, Cloudflare's bot check
  // in a frame, inline styles for its components, blob: workers, its image host.
  const challenges = "https://challenges.cloudflare.com";
  const directives = [
    ["default-src", ["'self'"]],
    ["script-src", ["'self'", ...(clerk ? [clerk, challenges] : [])]],
    ["style-src", ["'self'", ...(clerk ? ["'unsafe-inline'"] : [])]],
    ["connect-src", ["'self'", ...workers, ...(clerk ? [clerk] : [])]],
    // Product images are served by api-multi.
    ["img-src", ["'self'", "data:", origin(config.apiMultiUrl), ...(clerk ? ["https://img.clerk.com"] : [])]],
    ["font-src", ["'self'"]],
    ["frame-src", clerk ? [challenges] : ["'none'"]],
    ["worker-src", ["'self'", ...(clerk ? ["blob:"] : [])]],
    ["object-src", ["'none'"]],
    ["base-uri", ["'self'"]],
    ["form-action", ["'self'"]],
    ["frame-ancestors", ["'none'"]],
  ];
  const csp = directives.map(([name, values]) => `${name} ${[...new Set(values)].join(" ")}`).join("; ");
  const headers = {
    "Content-Security-Policy": csp,
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "strict-origin-when-cross-origin",
    "Permissions-Policy": "camera=(), microphone=(), geolocation=()",
  };
  if (config.frontAuthApiUrl.startsWith("https://")) headers["Strict-Transport-Security"] = "max-age=63072000; includeSubDomains";
  return headers;
}

/** Workers static assets' `_headers` file: these headers on every path. */
export function headersFile(config) {
  const lines = Object.entries(securityHeaders(config)).map(([name, value]) => `  ${name}: ${value}`);
  return ["/*", ...lines, ""].join("\n");
}

// node security-headers.mjs --json path/to/config.json: the headers as JSON, for the launcher.
if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1] && process.argv[2] === "--json") {
  const config = JSON.parse(readFileSync(process.argv[3], "utf8"));
  process.stdout.write(JSON.stringify(securityHeaders(config)));
}
