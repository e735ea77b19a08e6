import { defineConfig } from "@playwright/test";

// Browser tests against a running stack: the dashboard (served by the launcher, or
// `npm run preview`) and the workers and emulator it talks to. Debian's Chromium, never a
// downloaded one.
const dashboard = process.env.DREAM_DASHBOARD_URL ?? "http://localhost:5173";

// A failed test's error-context.md holds an accessibility snapshot of the page, which would
// include a secret key if its one-time dialog were open: not written (screenshots mask the key,
// and the fixtures print the console and API responses with keys redacted).
process.env.PLAYWRIGHT_NO_COPY_PROMPT = "1";

export default defineConfig({
  testDir: "tests",
  outputDir: "test-results",
  timeout: 180_000,
  expect: { timeout: 20_000 },
  fullyParallel: false,
  workers: Number(process.env.DREAM_BROWSER_WORKERS ?? 1),
  retries: 0,
  forbidOnly: Boolean(process.env.CI),
  reporter: [["list"], ["html", { open: "never", outputFolder: "playwright-report" }]],
  use: {
    baseURL: dashboard,
    headless: true,
    viewport: { width: 1280, height: 800 },
    actionTimeout: 20_000,
    navigationTimeout: 30_000,
    // Traces hold response bodies, and some of those carry secret keys: only on request.
    trace: process.env.DREAM_TRACE ? "retain-on-failure" : "off",
    launchOptions: {
      executablePath: process.env.DREAM_CHROMIUM ?? "/usr/bin/chromium",
      args: [
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
      ],
    },
  },
  projects: [{ name: "chromium", use: { browserName: "chromium" } }],
});
