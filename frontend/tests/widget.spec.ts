// Spec: the usage widget on a developer's own page. The developer's server mints a token for a
// signed-in customer; the page embeds api-multi's script and `<dream-usage>`; the customer sees
// their plan, usage and an upgrade button, with no secret key anywhere in the page.

import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { expect, expectFitsPhone, test, urls } from "./fixtures";
import { createSaasProject, onboard } from "./flows";

test("a customer sees their plan, usage and an upgrade in the embedded widget", async ({ page, request, shots }) => {
  await onboard(page, "widget");
  const project = await createSaasProject(page, "Widget API");
  const auth = { Authorization: `Bearer ${project.secretKey}` };
  const user = `user-${Date.now().toString(36)}`;
  for (let i = 0; i < 3; i += 1) {
    const counted = await request.post(`${urls.apiMulti}/api/data`, { headers: { ...auth, "X-User-Id": user } });
    expect(counted.status()).toBe(200);
  }
  // The developer's server: a token for this user only.
  const minted = await request.post(`${urls.apiMulti}/api/widget/tokens`, { headers: auth, data: { userId: user } });
  expect(minted.status(), await minted.text()).toBe(200);
  const token = (await minted.json()).token as string;
  expect(token.startsWith("wt_")).toBe(true);

  // The developer's page, served by a server of its own (another origin than api-multi, on
  // loopback as the stack is: Chrome keeps public pages from calling private addresses).
  const html = `<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1"><title>My app</title>
    <script src="${urls.apiMulti}/widget.js" defer></script></head>
    <body style="font-family: sans-serif; margin: 24px"><h1>Account</h1>
    <dream-usage token="${token}" upgrade-url="/pricing"></dream-usage></body></html>`;
  const app = createServer((req, res) => {
    res.writeHead(200, { "content-type": "text/html; charset=utf-8" });
    res.end(req.url?.startsWith("/pricing") ? "<!doctype html><title>Pricing</title><h1>Pricing</h1>" : html);
  });
  await new Promise<void>((resolve) => app.listen(0, "127.0.0.1", resolve));
  const appOrigin = `http://127.0.0.1:${(app.address() as AddressInfo).port}`;
  await page.goto(`${appOrigin}/account`);
  const widget = page.locator("dream-usage");
  await expect(widget.getByRole("heading", { name: /Free/ })).toBeVisible();
  await expect(widget.getByText("3 of 1,000")).toBeVisible();
  await expect(widget.getByRole("progressbar", { name: "requests" })).toHaveAttribute("aria-valuenow", "3");
  const upgrade = widget.getByRole("button", { name: /Upgrade to Pro/ });
  await expect(upgrade).toBeVisible();
  // The element shows what the token reads, and nothing of the developer's keys.
  const shown = await widget.evaluate((el) => el.shadowRoot?.innerHTML ?? "");
  expect(shown).toContain("requests");
  expect(shown).not.toMatch(/sk_test_|price_|prod_/);
  await shots.take(page, "widget");
  await expectFitsPhone(page, "widget");

  // The upgrade button tells the page, then follows upgrade-url with the tier.
  const told = page.evaluate(
    () => new Promise<string>((resolve) => document.addEventListener("dream-upgrade", (e) => resolve((e as CustomEvent).detail.tier), { once: true })),
  );
  await upgrade.click();
  expect(await told).toBe("pro");
  await page.waitForURL(`${appOrigin}/pricing?tier=pro`);

  // An expired or forged token shows a quiet error and tells the page, which can mint another.
  await page.goto(`${appOrigin}/account`);
  await expect(widget.getByRole("heading", { name: /Free/ })).toBeVisible();
  const failed = page.evaluate(
    () =>
      new Promise<number>((resolve) => {
        document.addEventListener("dream-error", (e) => resolve((e as CustomEvent).detail.status), { once: true });
        document.querySelector("dream-usage")?.setAttribute("token", "wt_forged.token");
      }),
  );
  expect(await failed).toBe(401);
  await expect(widget.getByRole("alert")).toHaveText("Usage is unavailable right now.");
  app.close();
});
