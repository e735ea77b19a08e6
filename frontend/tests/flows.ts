// The developer's way through the dashboard, as steps the specs share. Everything happens in the
// browser, on the dashboard and on the emulator's hosted pages, as a developer would do it.

import type { APIRequestContext, Page } from "@playwright/test";
import { deflateSync } from "node:zlib";
import { expect, type Shots, urls } from "./fixtures";

export const PASSWORD = "correct-horse-battery";

export function freshEmail(tag: string): string {
  return `dash-${tag}-${Date.now().toString(36)}${Math.random().toString(36).slice(2, 8)}@example.com`;
}

/** Landing → the emulator's sign-in page → back on the dashboard, signed in. */
export async function signIn(page: Page, email: string, shots?: Shots): Promise<void> {
  await page.goto("/");
  await expect(page.getByRole("heading", { level: 1 })).toBeVisible();
  await page.getByRole("button", { name: "Sign in to get started" }).click();
  await page.waitForURL((url) => url.href.startsWith(`${urls.emulator}/clerk/`));
  if (shots) await shots.take(page, "emulator-sign-in");
  await page.getByLabel("Email").fill(email);
  await page.getByLabel("Password").fill(PASSWORD);
  await page.getByRole("button", { name: "Sign in" }).click();
  await page.waitForURL(`${urls.dashboard}/dashboard`);
  await expect(page.getByRole("heading", { name: "Get started", level: 1 })).toBeVisible();
  // The session token is out of the address bar.
  expect(page.url()).not.toContain("__session");
}

/** The $15 plan: the dashboard's checkout, the emulator's card form, back until it is paid. */
export async function payPlan(page: Page, shots?: Shots): Promise<void> {
  await page.getByRole("button", { name: "Pay $15/month" }).click();
  await page.waitForURL((url) => url.href.startsWith(`${urls.emulator}/checkout/`));
  if (shots) await shots.take(page, "emulator-checkout");
  const email = page.getByLabel("Email");
  if (await email.count()) await email.fill("billing@example.com");
  await page.getByLabel("Card number").fill("4242 4242 4242 4242");
  await page.getByRole("button", { name: "Subscribe" }).click();
  await page.waitForURL((url) => url.href.startsWith(`${urls.dashboard}/dashboard`));
  await expect(page.getByTestId("step-2")).toHaveAttribute("data-state", "done", { timeout: 60_000 });
  await expect(page.getByText("Payment confirmed")).toBeVisible();
}

/** Stripe Connect: the emulator's authorize page, then back to the onboarding checklist. */
export async function connectStripe(page: Page, shots?: Shots): Promise<void> {
  await page.getByRole("button", { name: "Connect Stripe" }).click();
  await page.waitForURL((url) => url.href.startsWith(`${urls.emulator}/oauth/authorize`));
  if (shots) await shots.take(page, "emulator-connect");
  await page.getByRole("button", { name: "Authorize" }).click();
  await page.waitForURL((url) => url.pathname === "/dashboard");
  await expect(page.getByText("Stripe connected")).toBeVisible();
  await expect(page.getByTestId("step-3")).toHaveAttribute("data-state", "done");
}

export async function onboard(page: Page, tag: string): Promise<string> {
  const email = freshEmail(tag);
  await signIn(page, email);
  await payPlan(page);
  await connectStripe(page);
  return email;
}

/**
 * Reads the one-time secret key, checks the dialog cannot be dismissed before confirming, then
 * confirms and closes it. Returns the key.
 */
export async function takeSecretOnce(page: Page, prefix: "sk_test_" | "sk_live_", shots?: Shots, shotName = "secret-key"): Promise<string> {
  const dialog = page.getByTestId("secret-key-dialog");
  await expect(dialog).toBeVisible();
  const secret = (await dialog.getByTestId("secret-key").textContent())?.trim() ?? "";
  expect(secret.startsWith(prefix), "secret key prefix").toBe(true);
  if (shots) await shots.take(page, shotName);
  const done = dialog.getByRole("button", { name: "Done" });
  await expect(done).toBeDisabled();
  await page.keyboard.press("Escape");
  await expect(dialog).toBeVisible();
  await dialog.getByLabel("I have saved this secret key somewhere safe").check();
  await done.click();
  await expect(dialog).toBeHidden();
  // Gone from the page, and never written to storage or the address bar.
  await expect(page.getByText(secret)).toHaveCount(0);
  const stored = await page.evaluate(() => JSON.stringify({ ...sessionStorage }) + JSON.stringify({ ...localStorage }) + location.href);
  expect(stored.includes(secret), "secret key in storage or URL").toBe(false);
  return secret;
}

/** The create wizard for a SaaS project with the default tiers (free: 1,000; pro: $19, 100,000). */
export async function createSaasProject(page: Page, name: string, shots?: Shots): Promise<{ publishableKey: string; secretKey: string }> {
  await page.goto("/projects/new");
  await expect(page.getByRole("heading", { name: "New project", level: 1 })).toBeVisible();
  await expect(page.getByRole("button", { name: "Next: tiers" })).toBeEnabled();
  await page.getByLabel("Project name").fill(name);
  await page.getByLabel(/^SaaS/).check();
  if (shots) await shots.take(page, "wizard-basics");
  await page.getByRole("button", { name: "Next: tiers" }).click();
  await expect(page.getByRole("group", { name: /Tier 1/ })).toBeVisible();
  await expect(page.getByRole("button", { name: "Create project" })).toBeEnabled();
  if (shots) await shots.take(page, "wizard-tiers");
  await page.getByRole("button", { name: "Create project" }).click();
  const secretKey = await takeSecretOnce(page, "sk_test_", shots, "secret-key-test");
  await page.waitForURL(/\/projects\/pk_test_[0-9a-f]+$/);
  const publishableKey = new URL(page.url()).pathname.split("/")[2] ?? "";
  await expect(page.getByTestId("publishable-key")).toHaveText(publishableKey);
  return { publishableKey, secretKey };
}

/** GET /api/usage with a secret key, as a developer's server would call it. */
export async function usageStatus(request: APIRequestContext, secretKey: string, userId: string): Promise<number> {
  const response = await request.get(`${urls.apiMulti}/api/usage`, { headers: { Authorization: `Bearer ${secretKey}`, "X-User-Id": userId } });
  return response.status();
}

// ---- a small PNG, made here -------------------------------------------------------------

const CRC_TABLE = Array.from({ length: 256 }, (_, n) => {
  let c = n;
  for (let k = 0; k < 8; k += 1) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
  return c >>> 0;
});

function crc32(bytes: Buffer): number {
  let c = 0xffffffff;
  for (const b of bytes) c = (CRC_TABLE[(c ^ b) & 0xff] ?? 0) ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

function chunk(type: string, data: Buffer): Buffer {
  const length = Buffer.alloc(4);
  length.writeUInt32BE(data.length);
  const body = Buffer.concat([Buffer.from(type, "ascii"), data]);
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(body));
  return Buffer.concat([length, body, crc]);
}

/** A width×height RGB PNG: a diagonal two-colour pattern, so it is visibly an image. */
export function makePng(width: number, height: number, a: [number, number, number], b: [number, number, number]): Buffer {
  const header = Buffer.alloc(13);
  header.writeUInt32BE(width, 0);
  header.writeUInt32BE(height, 4);
  header[8] = 8; // bit depth
  header[9] = 2; // truecolour
  const rows: Buffer[] = [];
  for (let y = 0; y < height; y += 1) {
    const row = Buffer.alloc(1 + width * 3);
    for (let x = 0; x < width; x += 1) {
      const [r, g, bl] = (x + y) % 16 < 8 ? a : b;
      row[1 + x * 3] = r;
      row[2 + x * 3] = g;
      row[3 + x * 3] = bl;
    }
    rows.push(row);
  }
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk("IHDR", header),
    chunk("IDAT", deflateSync(Buffer.concat(rows))),
    chunk("IEND", Buffer.alloc(0)),
  ]);
}
