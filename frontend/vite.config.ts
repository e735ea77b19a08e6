import react from "@vitejs/plugin-react";
import type { Plugin } from "vite";
import { defineConfig } from "vitest/config";

// `vite preview` stands in for the local launcher: it serves dist/ with the SPA fallback and
// answers /config.json from the same DREAM_* variables the browser tests read. (Production
// writes config.json at deploy time; the dev server has none and uses VITE_* instead.)
function previewConfigJson(): Plugin {
  return {
    name: "dream-preview-config-json",
    configurePreviewServer(server) {
      server.middlewares.use("/config.json", (_req, res) => {
        const env = process.env;
        const emulator = env.DREAM_EMULATOR_URL ?? "http://127.0.0.1:8790";
        const body = {
          frontAuthApiUrl: env.DREAM_FRONT_AUTH_API_URL ?? "http://127.0.0.1:8789",
          oauthApiUrl: env.DREAM_OAUTH_API_URL ?? "http://127.0.0.1:8788",
          apiMultiUrl: env.DREAM_API_MULTI_URL ?? "http://127.0.0.1:8787",
          auth: { kind: "emulator", signInUrl: `${emulator}/clerk/dream-api/sign-in` },
        };
        res.setHeader("Content-Type", "application/json");
        res.setHeader("Cache-Control", "no-store");
        res.end(JSON.stringify(body));
      });
    },
  };
}

export default defineConfig({
  plugins: [react(), previewConfigJson()],
  build: {
    target: "es2022",
    sourcemap: false,
  },
  test: {
    include: ["src/**/*.test.ts"],
    environment: "node",
    isolate: false,
  },
});
