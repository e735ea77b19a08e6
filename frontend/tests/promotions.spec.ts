// Promotion codes and tax (issue 26): a developer makes a 20 % code on the Promotions tab, a
// customer's checkout redeems it, the table counts the redemption, and the code is deactivated;
// then the Tax card turns on Stripe Tax with prices that include it.

import { expect, expectAccessible, test, urls } from "./fixtures";
import { createSaasProject, onboard } from "./flows";

test("a promotion code is made, redeemed and deactivated from the dashboard", async ({ page, request, shots }) => {
  await onboard(page, "promos");
  const project = await createSaasProject(page, "Promo API");
  await page.getByRole("link", { name: "Promotions" }).click();
  await page.waitForURL(/\/promotions$/);
  await expect(page.getByText("No promotion codes yet")).toBeVisible();

  await test.step("make LAUNCH20: 20 % off every invoice, 50 redemptions", async () => {
    const form = page.getByRole("form", { name: "New promotion code" });
    await form.getByLabel("Code").fill("launch 20");
    await form.getByLabel("Percent off").fill("20");
    await form.getByRole("button", { name: "Create code" }).click();
    await expect(form.getByText("3-30 letters and digits, e.g. LAUNCH20")).toBeVisible();
    await form.getByLabel("Code").fill("LAUNCH20");
    await form.getByLabel("Applies to").selectOption("forever");
    await form.getByLabel("Redemptions (optional)").fill("50");
    await shots.take(page, "promotion-new");
    await expectAccessible(page, "promotion-new");
    await form.getByRole("button", { name: "Create code" }).click();
    const row = page.getByTestId("promotion-LAUNCH20");
    await expect(row).toContainText("20 % off, forever");
    await expect(row).toContainText("0 of 50");
    await expect(row).toContainText("Active");
  });

  await test.step("a customer's checkout redeems it", async () => {
    const auth = { Authorization: `Bearer ${project.secretKey}` };
    const checkout = await request.post(`${urls.apiMulti}/api/create-checkout`, {
      headers: { ...auth, "X-User-Id": `promo-${Date.now().toString(36)}` },
      data: { tier: "pro", promotionCode: "launch20" },
    });
    expect(checkout.status(), await checkout.text()).toBe(200);
    const paid = await request.post(`${urls.emulator}/_emulator/checkout/sessions/${(await checkout.json()).sessionId}/complete`);
    expect(paid.status(), await paid.text()).toBe(200);
    await page.reload();
    await expect(page.getByTestId("promotion-LAUNCH20")).toContainText("1 of 50");
    await shots.take(page, "promotion-redeemed");
  });

  await test.step("deactivate it", async () => {
    await page.getByRole("button", { name: "Deactivate LAUNCH20" }).click();
    await expect(page.getByTestId("promotion-LAUNCH20")).toContainText("Inactive");
    await expect(page.getByRole("button", { name: "Activate LAUNCH20" })).toBeVisible();
    await expectAccessible(page, "promotion-deactivated");
  });

  await test.step("turn on Stripe Tax with prices that include it", async () => {
    await page.getByRole("link", { name: "Overview" }).click();
    const card = page.getByRole("region", { name: "Tax" });
    const save = card.getByRole("button", { name: "Save tax settings" });
    await expect(save).toBeDisabled();
    await card.getByLabel("Collect sales tax with Stripe Tax").check();
    await card.getByLabel("Prices").selectOption("inclusive");
    await save.click();
    await expect(save).toBeDisabled();
    await page.reload();
    await expect(card.getByLabel("Collect sales tax with Stripe Tax")).toBeChecked();
    await expect(card.getByLabel("Prices")).toHaveValue("inclusive");
    await shots.take(page, "tax-settings");
    await expectAccessible(page, "tax-settings");
  });
});
