// Spec 5: a developer whose plan lapsed is told so on every page, and cannot edit projects.

import { expect, expectAccessible, test, urls } from "./fixtures";
import { createSaasProject, onboard } from "./flows";

const PLATFORM_KEY = "sk_test_dreamapilocalplatform";

test("a lapsed plan shows a banner with the grace period and locks editing", async ({ page, request, shots }) => {
  await onboard(page, "lapsed");
  const project = await createSaasProject(page, "Lapsing API");

  // Stripe ends the plan (the developer cancelled it there): the newest platform subscription
  // is this developer's, the specs run one at a time.
  const auth = { Authorization: `Bearer ${PLATFORM_KEY}` };
  const listed = await request.get(`${urls.emulator}/v1/subscriptions?limit=1`, { headers: auth });
  const [subscription] = (await listed.json()).data as { id: string }[];
  const cancelled = await request.delete(`${urls.emulator}/v1/subscriptions/${subscription.id}`, { headers: auth });
  expect(cancelled.status()).toBe(200);

  const banner = page.getByTestId("plan-banner");
  await expect(async () => {
    await page.goto(`/projects/${project.publishableKey}`);
    await expect(banner).toBeVisible({ timeout: 2_000 });
  }).toPass({ timeout: 30_000 });
  await expect(banner).toHaveAttribute("role", "status");
  await expect(banner).toHaveAttribute("data-state", "grace");
  await expect(banner).toContainText("Your dream-api plan ended on");
  await expect(banner).toContainText("Live keys keep working until");
  await expect(banner.getByRole("button", { name: /Renew/ })).toBeEnabled();
  await expect(page.getByRole("button", { name: /\+ Add/ })).toBeDisabled();
  await shots.take(page, "lapsed-project");
  await expectAccessible(page, "lapsed project");

  await page.goto("/projects");
  await expect(banner).toBeVisible();
  await shots.take(page, "lapsed-projects");
});
