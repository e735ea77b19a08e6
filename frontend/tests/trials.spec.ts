// Trials and feature flags (issue 26): a developer gives pro a 14-day trial and two feature
// flags in the tier editor, a customer starts the trial (the metrics page counts it, with no
// MRR yet), the trial converts at renewal, and the page shows the conversion rate.

import { expect, expectAccessible, test, urls } from "./fixtures";
import { createSaasProject, onboard } from "./flows";

test("a tier's trial and feature flags, and the trial conversion on the metrics page", async ({ page, request, shots }) => {
  await onboard(page, "trials");
  const project = await createSaasProject(page, "Trial API");

  await test.step("give pro a 14-day trial and feature flags", async () => {
    await page.getByRole("button", { name: "Edit pro" }).click();
    const dialog = page.getByRole("dialog", { name: /Edit Pro/ });
    await dialog.getByLabel("Feature flags").fill("sso, requests");
    await dialog.getByRole("button", { name: "Save changes" }).click();
    await expect(dialog.getByText("“requests” is the name of a meter")).toBeVisible();
    await dialog.getByLabel("Feature flags").fill("sso, priority_support");
    await dialog.getByLabel("Free trial (days)").fill("14");
    await expect(dialog.getByLabel("Require a card to start the trial")).toBeChecked();
    await shots.take(page, "tier-trial-editor");
    await expectAccessible(page, "tier-trial-editor");
    await dialog.getByRole("button", { name: "Save changes" }).click();
    await expect(dialog).toBeHidden();
    const row = page.getByTestId("tier-row-pro");
    await expect(row).toContainText("14-day trial");
    await expect(row).toContainText("sso");
    await expect(row).toContainText("priority_support");
    await shots.take(page, "tier-trial-row");
  });

  const auth = { Authorization: `Bearer ${project.secretKey}` };
  const user = `trial-${Date.now().toString(36)}`;
  let subscription = "";
  await test.step("a customer starts the trial; the feature is granted", async () => {
    const checkout = await request.post(`${urls.apiMulti}/api/create-checkout`, { headers: { ...auth, "X-User-Id": user }, data: { tier: "pro" } });
    expect(checkout.status(), await checkout.text()).toBe(200);
    const started = await checkout.json();
    expect(started.trialDays).toBe(14);
    const paid = await request.post(`${urls.emulator}/_emulator/checkout/sessions/${started.sessionId}/complete`);
    expect(paid.status(), await paid.text()).toBe(200);
    subscription = (await paid.json()).session.subscription as string;
    await expect
      .poll(async () => {
        const check = await request.post(`${urls.apiMulti}/api/check`, { headers: auth, data: { userId: user, feature: "sso" } });
        return (await check.json()).allowed;
      })
      .toBe(true);
  });

  await test.step("the metrics page counts the trial, then its conversion", async () => {
    await page.getByRole("link", { name: "Metrics" }).click();
    await page.waitForURL(/\/metrics$/);
    await expect(page.getByTestId("stat-trialing")).toHaveText("1", { timeout: 30_000 });
    await expect(page.getByTestId("stat-trialConversion")).toHaveText("—");
    await expect(page.getByTestId("stat-mrr")).toHaveText("$0.00");
    await shots.take(page, "metrics-trialing");
    const renewed = await request.post(`${urls.emulator}/_emulator/subscriptions/${subscription}/advance`);
    expect(renewed.status(), await renewed.text()).toBe(200);
    await expect(page.getByTestId("stat-trialConversion")).toHaveText("100 %", { timeout: 30_000 });
    await expect(page.getByTestId("stat-trialing")).toHaveText("0");
    await expect(page.getByTestId("stat-mrr")).toHaveText("$19.00");
    await shots.take(page, "metrics-trial-converted");
    await expectAccessible(page, "metrics-trial-converted");
  });
});
