// Spec 3: the metrics follow what the project's API sees: usage, a customer, a paid subscription.

import type { APIRequestContext, Page } from "@playwright/test";
import { expect, expectAccessible, test, urls } from "./fixtures";
import { createSaasProject, onboard } from "./flows";

/** A customer, some metered requests and a paid `pro` subscription, all through api-multi. */
async function driveTraffic(request: APIRequestContext, secretKey: string, requests: number): Promise<{ customerId: string; email: string }> {
  const auth = { Authorization: `Bearer ${secretKey}` };
  const email = `cust-${Date.now().toString(36)}@example.com`;
  const created = await request.post(`${urls.apiMulti}/api/customers`, { headers: auth, data: { email, firstName: "Ada", plan: "free" } });
  expect(created.status(), await created.text()).toBe(201);
  const customerId = (await created.json()).customer.id as string;
  for (let i = 0; i < requests; i += 1) {
    const counted = await request.post(`${urls.apiMulti}/api/data`, { headers: { ...auth, "X-User-Id": customerId } });
    expect(counted.status()).toBe(200);
  }
  const checkout = await request.post(`${urls.apiMulti}/api/create-checkout`, { headers: { ...auth, "X-User-Id": customerId }, data: { tier: "pro" } });
  expect(checkout.status(), await checkout.text()).toBe(200);
  const sessionId = (await checkout.json()).sessionId as string;
  const paid = await request.post(`${urls.emulator}/_emulator/checkout/sessions/${sessionId}/complete`);
  expect(paid.status(), await paid.text()).toBe(200);
  return { customerId, email };
}

async function openMetrics(page: Page) {
  await page.getByRole("link", { name: "Metrics" }).click();
  await page.waitForURL(/\/metrics$/);
  await expect(page.getByTestId("stat-activeSubscriptions")).toBeVisible();
}

test("usage, active subscriptions and MRR change on the dashboard", async ({ page, request, shots }) => {
  await onboard(page, "metrics");
  const project = await createSaasProject(page, "Metered API");
  await openMetrics(page);
  await expect(page.getByTestId("stat-usageThisPeriod")).toHaveText("0");
  await expect(page.getByTestId("stat-activeSubscriptions")).toHaveText("0");
  await expect(page.getByTestId("stat-mrr")).toHaveText("$0.00");
  await expect(page.getByText("No customers yet").first()).toBeVisible();
  await expect(page.getByTestId("chart-tier-mix").getByRole("img")).toHaveAccessibleName(/No customers on a tier yet/);
  await shots.take(page, "metrics-empty");
  await expectAccessible(page, "metrics-empty");

  const { email } = await driveTraffic(request, project.secretKey, 3);

  // Webhooks arrive asynchronously; the page refreshes itself.
  await expect(page.getByTestId("stat-usageThisPeriod")).toHaveText("3", { timeout: 30_000 });
  await expect(page.getByTestId("stat-activeSubscriptions")).toHaveText("1", { timeout: 30_000 });
  await expect(page.getByTestId("stat-mrr")).toHaveText("$19.00");
  await expect(page.getByTestId("stat-customers")).toHaveText("1");
  const row = page.getByTestId("customers-table").getByRole("row", { name: new RegExp(email) });
  await expect(row).toContainText("pro");
  await expect(row).toContainText("Active");
  await shots.take(page, "metrics-active");
  await expectAccessible(page, "metrics");
});

test("usage and tier-mix charts follow the series", async ({ page, request, shots }) => {
  await onboard(page, "charts");
  const project = await createSaasProject(page, "Charted API");
  await openMetrics(page);
  await driveTraffic(request, project.secretKey, 4);
  await expect(page.getByTestId("stat-activeSubscriptions")).toHaveText("1", { timeout: 30_000 });

  const usage = page.getByTestId("chart-usage");
  await expect(usage).toBeVisible({ timeout: 15_000 });
  await expect(usage.getByRole("img")).toHaveAccessibleName(/4 requests over the last 6 months/);
  const mix = page.getByTestId("chart-tier-mix");
  await expect(mix).toContainText("pro");
  await expect(mix.getByRole("img")).toHaveAccessibleName(/1 customer: .*pro 1/);
  await usage.getByText("Show data").click();
  await expect(usage.getByRole("table")).toContainText("Requests");
  await shots.take(page, "metrics-charts");
  await expectAccessible(page, "metrics-charts");
});
