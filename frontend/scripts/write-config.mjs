// Writes dist/config.json for a production deploy of the dashboard (wrangler/dashboard.toml):
// where the workers are and which Clerk instance signs developers in; and dist/_headers, the
// security headers for exactly those origins (security-headers.mjs). Run after `npm run build`:
//   DREAM_FRONT_AUTH_API_URL=https://… DREAM_OAUTH_API_URL=https://… DREAM_API_MULTI_URL=https://… \
//   CLERK_PUBLISHABLE_KEY=pk_live_… node frontend/scripts/write-config.mjs
import { writeFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { headersFile } from "./security-headers.mjs";

const required = (name) => {
  const value = process.env[name];
  if (!value || !/^(https:\/\/|pk_)/.test(value)) {
    console.error(`${name} must be set (an https:// URL, or Clerk's pk_ key)`);
    process.exit(1);
  }
  return value.replace(/\/+$/, "");
};

const config = {
  frontAuthApiUrl: required("DREAM_FRONT_AUTH_API_URL"),
  oauthApiUrl: required("DREAM_OAUTH_API_URL"),
  apiMultiUrl: required("DREAM_API_MULTI_URL"),
  auth: { kind: "clerk", publishableKey: required("CLERK_PUBLISHABLE_KEY"), jwtTemplate: "dream-api" },
};
const target = fileURLToPath(new URL("../dist/config.json", import.meta.url));
writeFileSync(target, JSON.stringify(config, null, 2) + "\n");
console.log(`wrote ${target}`);
const headers = fileURLToPath(new URL("../dist/_headers", import.meta.url));
writeFileSync(headers, headersFile(config));
console.log(`wrote ${headers}`);
