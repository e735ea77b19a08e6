// Spec 4: one developer never sees another's project, nor can finish another's Stripe connection.

import { expect, test, urls } from "./fixtures";
import { createSaasProject, freshEmail, onboard, payPlan, signIn } from "./flows";

test("a second developer cannot see the first developer's project", async ({ browser, page, shots, diag }) => {
  await onboard(page, "owner");
  const owned = await createSaasProject(page, "Owner's Private API");

  const other = await browser.newContext();
  const page2 = await other.newPage();
  diag.watch(page2, "second developer");
  try {
    await onboard(page2, "intruder");
    await createSaasProject(page2, "Intruder's API");

    await page2.goto("/projects");
    await expect(page2.getByRole("link", { name: "Intruder's API" })).toBeVisible();
    await expect(page2.getByText("Owner's Private API")).toHaveCount(0);
    await shots.take(page2, "second-projects");

    await page2.getByRole("link", { name: "Intruder's API" }).click();
    const selector = page2.getByLabel("Project");
    await expect(selector.locator("option")).toHaveText(["Intruder's API (SaaS)"]);

    for (const path of [`/projects/${owned.publishableKey}`, `/projects/${owned.publishableKey}/metrics`, `/projects/${owned.publishableKey}/go-live`]) {
      await page2.goto(path);
      await expect(page2.getByRole("heading", { name: "Project not found", level: 1 })).toBeVisible();
      await expect(page2.getByText("Owner's Private API")).toHaveCount(0);
    }
    await shots.take(page2, "second-not-found");
  } finally {
    await other.close();
  }
});

test("a Stripe connection started by one developer cannot be finished by another", async ({ browser, page, shots, diag }) => {
  await signIn(page, freshEmail("starter"));
  await payPlan(page);
  await page.getByRole("button", { name: "Connect Stripe" }).click();
  await page.waitForURL((url) => url.href.startsWith(`${urls.emulator}/oauth/authorize`));
  const authorizeUrl = page.url();

  const other = await browser.newContext();
  const page2 = await other.newPage();
  diag.watch(page2, "second developer");
  try {
    await signIn(page2, freshEmail("finisher"));
    // The second developer is sent the first one's Connect link and clicks Authorize.
    await page2.goto(authorizeUrl);
    await page2.getByRole("button", { name: "Authorize" }).click();
    await page2.waitForURL((url) => url.pathname === "/dashboard");
    const notice = page2.getByRole("alert").filter({ hasText: "started from another account" });
    await expect(notice).toBeVisible();
    await expect(notice).toContainText("403");
    await expect(notice).toContainText("req_");
    await expect(page2.getByTestId("step-3")).not.toHaveAttribute("data-state", "done");
    await shots.take(page2, "connect-refused");
  } finally {
    await other.close();
  }

  // The developer who started it can still finish it.
  await page.getByRole("button", { name: "Authorize" }).click();
  await page.waitForURL((url) => url.pathname === "/dashboard");
  await expect(page.getByText("Stripe connected")).toBeVisible();
  await expect(page.getByTestId("step-3")).toHaveAttribute("data-state", "done");
});
