// Spec: the dashboard and the workers' own pages ship their security headers, and render as
// designed under them (the fixtures fail any test whose page the policy blocked).

import { expect, test, urls } from "./fixtures";
import { onboard } from "./flows";

test("the dashboard is served with a strict policy and works under it", async ({ page, shots }) => {
  const response = await page.goto("/");
  const headers = response?.headers() ?? {};
  const csp = headers["content-security-policy"] ?? "";
  expect(csp).toContain("frame-ancestors 'none'");
  expect(csp).toContain("object-src 'none'");
  expect(csp).toMatch(new RegExp(`connect-src [^;]*${urls.apiMulti.replace(/[.]/g, "\\.")}`));
  expect(headers["x-content-type-options"]).toBe("nosniff");
  expect(headers["x-frame-options"]).toBe("DENY");
  // Signing in and onboarding run through every kind of call the app makes.
  await onboard(page, "csp");
  await expect(page.getByRole("heading", { level: 1 })).toBeVisible();
  await shots.take(page, "under-policy");
});

test("the checkout success and cancel pages render styled under the workers' policy", async ({ page, shots }) => {
  for (const [path, heading] of [
    ["/checkout/success", "Payment received"],
    ["/checkout/cancel", "Checkout canceled"],
  ] as const) {
    const response = await page.goto(`${urls.apiMulti}${path}`);
    const csp = response?.headers()["content-security-policy"] ?? "";
    expect(csp).toMatch(/^default-src 'none'; style-src 'sha256-[A-Za-z0-9+/=]+'/);
    await expect(page.getByRole("heading", { name: heading, level: 1 })).toBeVisible();
    // The stylesheet applied: the card has its radius and width, not the browser's defaults.
    const card = page.locator("main");
    await expect(card).toHaveCSS("border-radius", "12px");
    await expect(card).toHaveCSS("max-width", "448px");
    await shots.take(page, path.split("/").pop() ?? "page");
  }
});
