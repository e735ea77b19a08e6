// Spec 1: the whole developer journey through the dashboard.

import { expect, expectAccessible, test, urls } from "./fixtures";
import { connectStripe, createSaasProject, freshEmail, payPlan, signIn, takeSecretOnce, usageStatus } from "./flows";

test("landing → sign in → pay → connect → SaaS project → edit a tier → go live → rotate with grace", async ({ page, request, shots }) => {
  await test.step("landing page", async () => {
    await page.goto("/");
    await expect(page.getByRole("heading", { level: 1 })).toContainText("Charge for your API");
    await expect(page.getByText("$15", { exact: true })).toBeVisible();
    await shots.take(page, "landing");
    await expectAccessible(page, "landing");
  });

  await test.step("sign in on the emulator's page", async () => {
    await signIn(page, freshEmail("journey"), shots);
    await expect(page.getByTestId("step-1")).toHaveAttribute("data-state", "done");
    await expect(page.getByTestId("step-2")).toHaveAttribute("data-state", "current");
    await shots.take(page, "onboarding-new");
    await expectAccessible(page, "onboarding");
  });

  await test.step("pay the plan with 4242 4242 4242 4242", async () => {
    await payPlan(page, shots);
    await shots.take(page, "onboarding-paid");
  });

  await test.step("declining on Stripe's Connect page is shown as such", async () => {
    await page.getByRole("button", { name: "Connect Stripe" }).click();
    await page.waitForURL((url) => url.href.startsWith(`${urls.emulator}/oauth/authorize`));
    await page.getByRole("button", { name: "Deny" }).click();
    await page.waitForURL((url) => url.pathname === "/dashboard");
    await expect(page.getByText("You declined the Stripe connection")).toBeVisible();
    await expect(page.getByTestId("step-3")).toHaveAttribute("data-state", "current");
    await shots.take(page, "onboarding-declined");
  });

  await test.step("connect Stripe", async () => {
    await connectStripe(page, shots);
    await expect(page.getByTestId("step-4")).toHaveAttribute("data-state", "current");
    await shots.take(page, "onboarding-connected");
  });

  const project = await test.step("create a SaaS project; its secret is shown once", async () => {
    await page.getByRole("link", { name: "Create a project" }).click();
    return createSaasProject(page, "Weather API", shots);
  });

  await test.step("the project page", async () => {
    await expect(page.getByRole("heading", { name: "Weather API", level: 1 })).toBeVisible();
    await expect(page.getByTestId("tier-row-free")).toContainText("1,000 / month");
    await expect(page.getByTestId("tier-row-pro")).toContainText("$19.00");
    await shots.take(page, "project-test");
    await expectAccessible(page, "project");
    // The secret is not shown again after a reload either.
    await page.reload();
    await expect(page.getByTestId("publishable-key")).toHaveText(project.publishableKey);
    await expect(page.getByText(project.secretKey)).toHaveCount(0);
    expect(await usageStatus(request, project.secretKey, "journey-user")).toBe(200);
  });

  await test.step("edit the pro tier", async () => {
    await page.getByRole("button", { name: "Edit pro" }).click();
    const dialog = page.getByRole("dialog", { name: /Edit Pro/ });
    await expect(dialog).toBeVisible();
    await expect(dialog.getByLabel("Name", { exact: true })).toHaveAttribute("readonly", "");
    await dialog.getByLabel("Monthly price (USD)").fill("29.5");
    await dialog.getByLabel("Monthly request limit").fill("abc");
    await dialog.getByRole("button", { name: "Save changes" }).click();
    await expect(dialog.getByText("must be a whole number")).toBeVisible();
    await dialog.getByLabel("Monthly request limit").fill("250000");
    await shots.take(page, "tier-edit-dialog");
    await dialog.getByRole("button", { name: "Save changes" }).click();
    await expect(dialog).toBeHidden();
    await expect(page.getByTestId("tier-row-pro")).toContainText("$29.50");
    await expect(page.getByTestId("tier-row-pro")).toContainText("250,000 / month");
  });

  const live = await test.step("Edit & Go Live: the live secret is shown once", async () => {
    await page.getByRole("link", { name: "Edit & Go Live" }).click();
    await expect(page.getByRole("heading", { name: "Edit & Go Live" })).toBeVisible();
    await expect(page.getByRole("group", { name: /Tier 2/ }).getByLabel("Monthly price (USD)")).toHaveValue("29.50");
    await shots.take(page, "go-live");
    await page.getByRole("button", { name: "Go live" }).click();
    const secretKey = await takeSecretOnce(page, "sk_live_", shots, "secret-key-live");
    await page.waitForURL(/\/projects\/pk_live_[0-9a-f]+$/);
    await expect(page.getByText("Live mode", { exact: true })).toBeVisible();
    await expect(page.getByText("You are live")).toBeVisible();
    const publishableKey = new URL(page.url()).pathname.split("/")[2] ?? "";
    await shots.take(page, "project-live");
    expect(await usageStatus(request, secretKey, "journey-live-user")).toBe(200);
    return { publishableKey, secretKey };
  });

  await test.step("dialogs keep focus inside and close on Escape", async () => {
    const opener = page.getByRole("button", { name: "Rotate key" });
    await opener.click();
    const dialog = page.getByRole("dialog", { name: /Rotate the live secret key/ });
    await expect(dialog).toBeVisible();
    for (let i = 0; i < 8; i += 1) {
      await page.keyboard.press(i % 3 === 2 ? "Shift+Tab" : "Tab");
      expect(await dialog.evaluate((el) => el.contains(document.activeElement)), "focus stays in the dialog").toBe(true);
    }
    await page.keyboard.press("Escape");
    await expect(dialog).toBeHidden();
    await expect(opener).toBeFocused();
  });

  await test.step("rotate the live key with a 1-hour grace period", async () => {
    await page.getByRole("button", { name: "Rotate key" }).click();
    const dialog = page.getByRole("dialog", { name: /Rotate the live secret key/ });
    await dialog.getByLabel(/After 1 hour/).check();
    await shots.take(page, "rotate-dialog");
    await dialog.getByRole("button", { name: "Rotate key" }).click();
    const rotated = page.getByTestId("secret-key-dialog");
    await expect(rotated).toContainText("keeps working until");
    const newKey = await takeSecretOnce(page, "sk_live_", shots, "secret-key-rotated");
    expect(newKey).not.toBe(live.secretKey);
    // Both keys answer during the grace period.
    expect(await usageStatus(request, live.secretKey, "journey-live-user"), "old key during grace").toBe(200);
    expect(await usageStatus(request, newKey, "journey-live-user"), "new key").toBe(200);
    await expect(page.getByText("Your previous secret key still works")).toBeVisible();

    // Every deploy has the new key: the developer stops the old one before its grace ends.
    await page.getByRole("button", { name: "Stop the previous key now" }).click();
    await expect(page.getByText("Requests with the previous key will be refused at once.")).toBeVisible();
    await shots.take(page, "expire-previous-key");
    await page.getByRole("button", { name: "Stop it now" }).click();
    await expect(page.getByText("Your previous secret key still works")).toBeHidden();
    expect(await usageStatus(request, live.secretKey, "journey-live-user"), "old key after stopping it").toBe(401);
    expect(await usageStatus(request, newKey, "journey-live-user"), "new key").toBe(200);
  });

  await test.step("cap the plan header", async () => {
    const cap = page.getByRole("checkbox", { name: /Never let X-User-Plan raise a user/ });
    await expect(cap).not.toBeChecked();
    await cap.check();
    await expect(page.getByText("On: the header can only lower a user's plan")).toBeVisible();
    await shots.take(page, "plan-header-capped");
    await expect(cap).toBeChecked();
  });

  await test.step("test/live toggle", async () => {
    await page.getByRole("link", { name: "Test", exact: true }).click();
    await page.waitForURL(new RegExp(`/projects/${project.publishableKey}$`));
    await expect(page.getByText("Test mode", { exact: true })).toBeVisible();
    await expect(page.getByRole("link", { name: "Edit & Go Live" })).toHaveCount(0);
  });
});
