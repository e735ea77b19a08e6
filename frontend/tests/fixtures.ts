// Shared by every spec: base URLs, a diagnostics recorder (console errors and the last API
// responses, printed when a test fails), screenshots at desktop and phone width, and the axe
// accessibility check.

import AxeBuilder from "@axe-core/playwright";
import { test as base, expect, type Page } from "@playwright/test";
import { mkdirSync, writeFileSync } from "node:fs";
import path from "node:path";

const trim = (url: string) => url.replace(/\/+$/, "");

export const urls = {
  dashboard: trim(process.env.DREAM_DASHBOARD_URL ?? "http://localhost:5173"),
  emulator: trim(process.env.DREAM_EMULATOR_URL ?? "http://127.0.0.1:8790"),
  apiMulti: trim(process.env.DREAM_API_MULTI_URL ?? "http://127.0.0.1:8787"),
  frontAuthApi: trim(process.env.DREAM_FRONT_AUTH_API_URL ?? "http://127.0.0.1:8789"),
  oauthApi: trim(process.env.DREAM_OAUTH_API_URL ?? "http://127.0.0.1:8788"),
};

const API_BASES = [urls.frontAuthApi, urls.oauthApi, urls.apiMulti, urls.emulator];
const KEEP_RESPONSES = 10;

/** Secret keys never reach test output, even from a failing test. */
export function redact(text: string): string {
  return text.replace(/sk_(test|live)_[0-9A-Za-z]{8,}/g, "sk_$1_[redacted]").replace(/(__session=)[\w.-]+/g, "$1[redacted]");
}

export interface ApiRecord {
  method: string;
  url: string;
  status: number;
  body: string;
}

export class Diagnostics {
  readonly consoleErrors: string[] = [];
  readonly responses: ApiRecord[] = [];

  watch(page: Page, label = "page"): void {
    page.on("console", (msg) => {
      if (msg.type() !== "error") return;
      const where = msg.location().url;
      this.consoleErrors.push(`[${label}] ${redact(msg.text())}${where ? ` (${redact(where)})` : ""}`);
    });
    page.on("pageerror", (error) => this.consoleErrors.push(`[${label}] uncaught: ${redact(error.message)}`));
    page.on("response", async (response) => {
      const request = response.request();
      if (!["fetch", "xhr"].includes(request.resourceType())) return;
      if (!API_BASES.some((b) => response.url().startsWith(b))) return;
      let body = "";
      try {
        body = (await response.text()).slice(0, 600);
      } catch {
        body = "(no body)";
      }
      this.responses.push({ method: request.method(), url: redact(response.url()), status: response.status(), body: redact(body) });
      if (this.responses.length > 50) this.responses.shift();
    });
  }

  report(): string {
    const lines = ["Console errors:", ...(this.consoleErrors.length ? this.consoleErrors.map((e) => `  ${e}`) : ["  (none)"])];
    lines.push(`Last ${KEEP_RESPONSES} API responses:`);
    const last = this.responses.slice(-KEEP_RESPONSES);
    if (last.length === 0) lines.push("  (none)");
    for (const r of last) lines.push(`  ${r.method} ${r.url} -> ${r.status}`, `    ${r.body.replace(/\s+/g, " ")}`);
    return lines.join("\n");
  }
}

const RESULTS = path.join(import.meta.dirname, "..", "test-results");
const SCREENSHOTS = path.join(RESULTS, "screenshots");
const AXE_DIR = path.join(RESULTS, "axe");

export class Shots {
  private count = 0;
  constructor(private readonly prefix: string) {
    mkdirSync(SCREENSHOTS, { recursive: true });
  }

  /** A full-page screenshot at the current (desktop) width and one at phone width (375 px). */
  async take(page: Page, name: string): Promise<void> {
    this.count += 1;
    const base = `${this.prefix}-${String(this.count).padStart(2, "0")}-${name}`;
    // The one-time secret never lands in an artifact.
    const mask = [page.getByTestId("secret-key")];
    // A modal covers the viewport only: a full-page capture would show the page half dimmed.
    const fullPage = (await page.locator('[aria-modal="true"]').count()) === 0;
    // Sticky headers are drawn where the page is scrolled to: capture from the top.
    await page.evaluate(async () => {
      window.scrollTo(0, 0);
      await document.fonts.ready;
    });
    const desktop = path.join(SCREENSHOTS, `${base}.png`);
    await page.screenshot({ path: desktop, fullPage, mask });
    const size = page.viewportSize();
    await page.setViewportSize({ width: 375, height: 812 });
    await page.waitForTimeout(200);
    const phone = path.join(SCREENSHOTS, `${base}@375.png`);
    await page.screenshot({ path: phone, fullPage, mask });
    if (size) await page.setViewportSize(size);
    await page.waitForTimeout(100);
  }
}

/**
 * At phone width (375 px) the page is no wider than the screen: it does not scroll sideways,
 * and no visible element reaches past the right edge unless an ancestor clips or scrolls it
 * (a wide table inside its own scrolling box is fine; the box itself must fit).
 */
export async function expectFitsPhone(page: Page, name: string): Promise<void> {
  const size = page.viewportSize();
  await page.setViewportSize({ width: 375, height: 812 });
  await page.waitForTimeout(200);
  const problems = await page.evaluate(() => {
    const width = document.documentElement.clientWidth;
    const found: string[] = [];
    const scroll = document.documentElement.scrollWidth;
    if (scroll > width) found.push(`the page is ${scroll} px wide`);
    const clipped = (el: HTMLElement): boolean => {
      for (let p = el.parentElement; p && p !== document.body; p = p.parentElement) {
        if (getComputedStyle(p).overflowX !== "visible") return true;
      }
      return false;
    };
    for (const el of document.body.querySelectorAll<HTMLElement>("*")) {
      const box = el.getBoundingClientRect();
      if (box.width <= 1 || box.height <= 1 || box.right <= width + 0.5) continue;
      if (getComputedStyle(el).visibility === "hidden" || clipped(el)) continue;
      const label = `${el.tagName.toLowerCase()}${el.className && typeof el.className === "string" ? `.${el.className.trim().split(/\s+/).join(".")}` : ""}`;
      found.push(`${label} reaches ${Math.round(box.right)} px: ${(el.textContent ?? "").trim().slice(0, 40)}`);
    }
    return found.slice(0, 10);
  });
  if (size) await page.setViewportSize(size);
  await page.waitForTimeout(100);
  expect(problems, `wider than 375 px: ${name}`).toEqual([]);
}

/** No serious or critical axe violations on the page as it is now. */
export async function expectAccessible(page: Page, name: string): Promise<void> {
  const results = await new AxeBuilder({ page }).withTags(["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "best-practice"]).analyze();
  mkdirSync(AXE_DIR, { recursive: true });
  writeFileSync(path.join(AXE_DIR, `${name}.json`), JSON.stringify(results.violations, null, 2));
  const bad = results.violations.filter((v) => v.impact === "serious" || v.impact === "critical");
  const summary = bad.map((v) => `${v.impact} ${v.id}: ${v.help}\n    ${v.nodes.map((n) => n.target.join(" ")).join("\n    ")}`);
  expect(summary, `axe violations on ${name}`).toEqual([]);
}

export const test = base.extend<{ diag: Diagnostics; shots: Shots }>({
  diag: [
    async ({ page }, use, testInfo) => {
      const diag = new Diagnostics();
      diag.watch(page);
      await use(diag);
      // Every page runs under the dashboard's Content Security Policy: what it blocks is a bug.
      const blocked = diag.consoleErrors.filter((e) => /Content Security Policy/i.test(e));
      if (testInfo.status === testInfo.expectedStatus) expect(blocked, "blocked by the Content Security Policy").toEqual([]);
      if (testInfo.status !== testInfo.expectedStatus) {
        const report = diag.report();
        console.log(`\n---- diagnostics for "${testInfo.title}" ----\n${report}\n`);
        await testInfo.attach("diagnostics.txt", { body: report, contentType: "text/plain" });
      }
    },
    { auto: true },
  ],
  shots: async ({}, use, testInfo) => {
    const title = testInfo.title.replace(/[^a-z0-9]+/gi, "-").toLowerCase().slice(0, 24).replace(/-+$/, "");
    const slug = `${path.basename(testInfo.file, ".spec.ts")}-${title}`;
    await use(new Shots(slug));
  },
});

export { expect };
