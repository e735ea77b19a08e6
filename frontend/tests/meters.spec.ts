// Meters (issue 24): a developer adds a tokens meter with overage to a tier in the editor (with
// its preview), a subscriber uses past the included amount, and the metrics page shows the
// meter, its overage revenue and the subscriber near the spend cap. An edit keeps the meter.

import { expect, expectAccessible, test, urls } from "./fixtures";
import { createSaasProject, onboard } from "./flows";

test("a tier bills token overage and the metrics page shows it", async ({ page, request, shots }) => {
  await onboard(page, "meters");
  const project = await createSaasProject(page, "Tokens API");

  await test.step("add a tokens meter with overage to pro", async () => {
    await page.getByRole("button", { name: "Edit pro" }).click();
    const dialog = page.getByRole("dialog", { name: /Edit Pro/ });
    await dialog.getByRole("button", { name: "+ Add meter" }).click();
    const meter = dialog.getByRole("group", { name: /Meter 1/ });
    await meter.getByLabel("Meter", { exact: true }).fill("tokens");
    await meter.getByLabel("Included per month").fill("10000");
    await meter.getByLabel("Bill overage past the included amount").check();
    await meter.getByLabel("Price per package (USD)").fill("0.002");
    await meter.getByLabel("Units per package").fill("1000");
    await expect(meter.getByRole("status")).toHaveText(
      "A customer using 25,000 tokens pays $19.03: $19.00 + $0.03 for 15,000 over the included 10,000.",
    );
    await dialog.getByLabel("Spend cap per customer per month (USD)").fill("0.01");
    await shots.take(page, "tier-meters-editor");
    await expectAccessible(page, "tier-meters-editor");
    await dialog.getByRole("button", { name: "Save changes" }).click();
    await expect(dialog).toBeHidden();
    await expect(page.getByTestId("tier-row-pro")).toContainText("tokens: 10,000, then $0.002 per 1,000");
    await expect(page.getByTestId("tier-row-pro")).toContainText("Spend cap $0.01 / month");
  });

  await test.step("a subscriber uses 14,000 tokens", async () => {
    const auth = { Authorization: `Bearer ${project.secretKey}` };
    const created = await request.post(`${urls.apiMulti}/api/customers`, { headers: auth, data: { email: `tokens-${Date.now()}@example.com` } });
    expect(created.status(), await created.text()).toBe(201);
    const user = (await created.json()).customer.id as string;
    const checkout = await request.post(`${urls.apiMulti}/api/create-checkout`, { headers: { ...auth, "X-User-Id": user }, data: { tier: "pro" } });
    expect(checkout.status(), await checkout.text()).toBe(200);
    const paid = await request.post(`${urls.emulator}/_emulator/checkout/sessions/${(await checkout.json()).sessionId}/complete`);
    expect(paid.status()).toBe(200);
    await expect
      .poll(async () => {
        const usage = await request.get(`${urls.apiMulti}/api/usage`, { headers: { ...auth, "X-User-Id": user } });
        return (await usage.json()).usage.plan;
      })
      .toBe("pro");
    const counted = await request.post(`${urls.apiMulti}/api/data`, {
      headers: { ...auth, "X-User-Id": user },
      data: { meter: "tokens", quantity: 14000 },
    });
    expect(counted.status(), await counted.text()).toBe(200);
    expect((await counted.json()).usage.overageCost).toBe("0.008");
  });

  await test.step("the metrics page shows the meter, its overage and the subscriber near the cap", async () => {
    await page.getByRole("link", { name: "Metrics" }).click();
    await page.waitForURL(/\/metrics$/);
    const row = page.getByTestId("meters-table").getByRole("row", { name: /tokens/ });
    await expect(row).toContainText("14,000", { timeout: 30_000 });
    await expect(row).toContainText("4,000");
    await expect(row).toContainText("$0.008");
    await expect(page.getByTestId("stat-overageRevenue")).toHaveText("$0.008");
    await expect(page.getByTestId("near-cap")).toContainText("$0.008 of $0.01");
    await shots.take(page, "metrics-meters");
    await expectAccessible(page, "metrics-meters");
  });

  await test.step("editing the tier again keeps its meter", async () => {
    await page.getByRole("link", { name: "Overview" }).click();
    await page.getByRole("button", { name: "Edit pro" }).click();
    const dialog = page.getByRole("dialog", { name: /Edit Pro/ });
    await expect(dialog.getByRole("group", { name: /Meter 1/ }).getByLabel("Meter", { exact: true })).toHaveValue("tokens");
    await dialog.getByLabel("Monthly price (USD)").fill("25");
    await dialog.getByRole("button", { name: "Save changes" }).click();
    await expect(dialog).toBeHidden();
    await expect(page.getByTestId("tier-row-pro")).toContainText("tokens: 10,000, then $0.002 per 1,000");
  });
});
