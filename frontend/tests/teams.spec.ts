// Spec: teams. An owner invites a viewer from the Team page; the invitee follows the emailed
// link (the emulated Clerk outbox), chooses a password on Clerk's accept page, lands on /join
// and then on the organization's projects, where nothing can be changed. The owner makes them
// a developer, then removes them; the audit log says who did what, with which role.

import type { APIRequestContext, Download, Page } from "@playwright/test";
import { readFileSync } from "node:fs";
import { expect, expectAccessible, expectFitsPhone, test, urls } from "./fixtures";
import { createSaasProject, freshEmail, onboard, PASSWORD, takeSecretOnce } from "./flows";

interface SentEmail {
  to: string;
  subject: string;
  link?: string;
}

/** The link of the newest email with one that the emulated Clerk "sent" to `email`. */
async function invitationLink(request: APIRequestContext, email: string): Promise<string> {
  let link: string | undefined;
  await expect
    .poll(async () => {
      const response = await request.get(`${urls.emulator}/clerk/dream-api/_emulator/emails`, { params: { to: email } });
      const { data } = (await response.json()) as { data: SentEmail[] };
      link = data.filter((m) => m.link).at(-1)?.link;
      return link ?? "";
    })
    .toMatch(/accept-invitation\?ticket=/);
  return link ?? "";
}

async function downloaded(page: Page, click: () => Promise<void>): Promise<{ name: string; text: string }> {
  const download: Promise<Download> = page.waitForEvent("download");
  await click();
  const file = await download;
  expect(await file.failure()).toBeNull();
  return { name: file.suggestedFilename(), text: readFileSync((await file.path()) ?? "", "utf8") };
}

const DAY = /\d{4}-\d{2}-\d{2}/.source;

test("an owner invites a viewer, changes their role and removes them; the audit log lists it all", async ({ browser, page, request, shots, diag }) => {
  const ownerEmail = await onboard(page, "owner");
  const project = await createSaasProject(page, "Team API");
  const viewerEmail = freshEmail("viewer");
  const nav = page.getByRole("navigation", { name: "Main" });

  await test.step("the owner invites a viewer from the Team page", async () => {
    await nav.getByRole("link", { name: "Team" }).click();
    await expect(page.getByRole("heading", { name: "Team", level: 1 })).toBeVisible();
    await expect(page.getByTestId("session-role")).toHaveText(/Owner/);
    await expect(page.getByTestId(`member-${ownerEmail}`)).toContainText("you");
    // The only owner cannot leave, and is told why.
    await expect(page.getByRole("button", { name: "Leave organization" })).toBeDisabled();
    await expect(page.getByText("An organization keeps at least one owner")).toBeVisible();

    const form = page.getByTestId("invite-form");
    await form.getByLabel("Email").fill("not-an-email");
    await form.getByRole("button", { name: "Send invitation" }).click();
    await expect(form.getByText("Enter an email address like ada@example.com")).toBeVisible();
    await form.getByLabel("Email").fill(viewerEmail);
    await form.getByLabel("Role").selectOption("viewer");
    await form.getByLabel("Expires after (days)").fill("3");
    await form.getByRole("button", { name: "Send invitation" }).click();
    await expect(page.getByText(`Invitation sent to ${viewerEmail}`)).toBeVisible();
    await expect(page.getByTestId(`invitation-${viewerEmail}`)).toContainText("Viewer");

    // The same address again: the API's 409, shown as every page shows an API error.
    await form.getByLabel("Email").fill(viewerEmail);
    await form.getByRole("button", { name: "Send invitation" }).click();
    const refused = page.getByRole("alert").filter({ hasText: "The invitation was not sent" });
    await expect(refused).toContainText("pending invitation already");
    await expect(refused).toContainText("409");
    await expect(refused).toContainText("req_");
    await shots.take(page, "team-owner");
    await expectAccessible(page, "team-owner");
    await expectFitsPhone(page, "team-owner");
  });

  const context = await browser.newContext();
  const viewer = await context.newPage();
  diag.watch(viewer, "invitee");
  // The order of the invitee's calls to front-auth-api: the invitation is accepted before
  // anything asks for a platform (a new account must not get one of its own).
  const calls: string[] = [];
  viewer.on("request", (r) => {
    if (r.url().startsWith(urls.frontAuthApi) && r.method() !== "OPTIONS") calls.push(`${r.method()} ${new URL(r.url()).pathname}`);
  });
  let invitationId = "";
  try {
    await test.step("the invitee accepts on the sign-in service's page and lands on the projects", async () => {
      const link = await invitationLink(request, viewerEmail);
      await viewer.goto(link);
      await expect(viewer.getByText("You are invited to join")).toBeVisible();
      await shots.take(viewer, "emulator-accept-invitation");
      await viewer.getByLabel("Choose a password").fill(PASSWORD);
      await viewer.getByRole("button", { name: "Create account and join" }).click();
      await viewer.waitForURL(`${urls.dashboard}/projects`);
      expect(viewer.url()).not.toContain("__session");

      await expect(viewer.getByText("You joined the organization as Viewer")).toBeVisible();
      await expect(viewer.getByTestId("session-role")).toHaveText(/Viewer/);
      const accept = calls.findIndex((c) => /^POST \/team\/invitations\/inv_[^/]+\/accept$/.test(c));
      expect(accept, calls.join(", ")).toBeGreaterThanOrEqual(0);
      expect(calls.indexOf("POST /generate-platform-id"), calls.join(", ")).toBeGreaterThan(accept);
      invitationId = calls[accept]?.split("/")[3] ?? "";
      await expect(viewer.getByRole("link", { name: "Team API" })).toBeVisible();
      await expect(viewer.getByRole("link", { name: "New project" })).toHaveCount(0);
      await shots.take(viewer, "viewer-projects");
      await expectFitsPhone(viewer, "viewer-projects");
    });

    await test.step("the viewer reads the owner's project and has nothing to change", async () => {
      await viewer.getByRole("link", { name: "Team API" }).click();
      await expect(viewer.getByTestId("publishable-key")).toHaveText(project.publishableKey);
      await expect(viewer.getByTestId("read-only")).toContainText("You are a viewer");
      await expect(viewer.getByTestId("tier-row-pro")).toBeVisible();
      for (const name of ["Rotate key", "+ Add tier", "Edit pro", "Delete pro", "Save tax settings"]) {
        await expect(viewer.getByRole("button", { name }), name).toHaveCount(0);
      }
      await expect(viewer.getByRole("link", { name: "Edit & Go Live" })).toHaveCount(0);
      await expect(viewer.getByLabel(/Never let/)).toBeDisabled();
      await shots.take(viewer, "viewer-project");
      await expectAccessible(viewer, "viewer-project");

      await viewer.getByRole("link", { name: "Webhooks" }).click();
      await expect(viewer.getByRole("heading", { name: "Event log" })).toBeVisible();
      await expect(viewer.getByRole("button", { name: "Add endpoint" })).toHaveCount(0);
      await viewer.getByRole("link", { name: "Promotions" }).click();
      await expect(viewer.getByRole("heading", { name: "Promotion codes" })).toBeVisible();
      await expect(viewer.getByRole("button", { name: "Create code" })).toHaveCount(0);
    });

    await test.step("the viewer exports the project's data from the Metrics tab", async () => {
      await viewer.getByRole("link", { name: "Metrics" }).click();
      const exports = viewer.getByRole("region", { name: "Export data" });
      await expect(exports).toBeVisible();
      const csv = await downloaded(viewer, () => exports.getByRole("button", { name: "Export customers as CSV" }).click());
      expect(csv.name).toMatch(new RegExp(`^customers-${project.publishableKey}-${DAY}\\.csv$`));
      expect(csv.text.startsWith("userId,email,")).toBe(true);
      const json = await downloaded(viewer, () => exports.getByRole("button", { name: "Export subscriptions as JSON" }).click());
      expect(json.name).toMatch(new RegExp(`^subscriptions-${project.publishableKey}-${DAY}\\.json$`));
      expect(Array.isArray(JSON.parse(json.text))).toBe(true);
      // A month that is not one is caught before asking.
      await exports.getByLabel("Month (optional)").fill("2026-13");
      await expect(exports.getByText("A month as YYYY-MM")).toBeVisible();
      await expect(exports.getByRole("button", { name: "Export usage as CSV" })).toBeDisabled();
      await exports.getByLabel("Month (optional)").fill(new Date().toISOString().slice(0, 7));
      const usage = await downloaded(viewer, () => exports.getByRole("button", { name: "Export usage as CSV" }).click());
      expect(usage.name).toMatch(new RegExp(`^usage-${project.publishableKey}-${DAY}\\.csv$`));
      await exports.scrollIntoViewIfNeeded();
      await shots.take(viewer, "viewer-exports");
      await expectAccessible(viewer, "viewer-exports");
      await expectFitsPhone(viewer, "viewer-exports");
    });

    await test.step("the viewer's Team page has no invite or member controls", async () => {
      await viewer.getByRole("navigation", { name: "Main" }).getByRole("link", { name: "Team" }).click();
      await expect(viewer.getByTestId(`member-${viewerEmail}`)).toContainText("you");
      await expect(viewer.getByTestId(`member-${ownerEmail}`)).toContainText("Owner");
      await expect(viewer.getByTestId("invite-form")).toHaveCount(0);
      await expect(viewer.getByRole("combobox", { name: /^Role of / })).toHaveCount(0);
      await expect(viewer.getByRole("button", { name: /^Remove / })).toHaveCount(0);
      await expect(viewer.getByRole("button", { name: "Leave organization" })).toBeEnabled();
      await shots.take(viewer, "team-viewer");
      await expectAccessible(viewer, "team-viewer");
      await expectFitsPhone(viewer, "team-viewer");
    });

    await test.step("the owner makes the viewer a developer: test mode opens to them, live mode and going live do not", async () => {
      await page.reload();
      const row = page.getByTestId(`member-${viewerEmail}`);
      const select = row.getByRole("combobox", { name: `Role of ${viewerEmail}` });
      await expect(select).toHaveValue("viewer");
      await select.selectOption("developer");
      await expect(select).toHaveValue("developer");
      await expect(select).toBeEnabled();

      await viewer.goto(`/projects/${project.publishableKey}`);
      await expect(viewer.getByTestId("session-role")).toHaveText(/Developer/);
      await expect(viewer.getByRole("button", { name: "Rotate key" })).toBeVisible();
      await expect(viewer.getByRole("button", { name: "+ Add tier" })).toBeVisible();
      await expect(viewer.getByTestId("read-only")).toHaveCount(0);
      await expect(viewer.getByRole("link", { name: "Edit & Go Live" })).toHaveCount(0);
      await viewer.goto(`/projects/${project.publishableKey}/go-live`);
      await expect(viewer.getByText("Going live needs the admin role")).toBeVisible();
      await expect(viewer.getByRole("button", { name: "Go live" })).toHaveCount(0);

      // The owner takes the project live; the developer reads the live key set only.
      await page.goto(`/projects/${project.publishableKey}/go-live`);
      await page.getByRole("button", { name: "Go live" }).click();
      await takeSecretOnce(page, "sk_live_");
      await page.waitForURL(/\/projects\/pk_live_[0-9a-f]+$/);
      const liveKey = new URL(page.url()).pathname.split("/")[2] ?? "";
      await viewer.goto(`/projects/${liveKey}`);
      await expect(viewer.getByTestId("publishable-key")).toHaveText(liveKey);
      await expect(viewer.getByTestId("read-only")).toContainText("live projects are read-only");
      for (const name of ["Rotate key", "+ Add tier", "Edit pro", "Save tax settings"]) {
        await expect(viewer.getByRole("button", { name }), name).toHaveCount(0);
      }
      await shots.take(viewer, "developer-live-project");
    });

    await test.step("the owner removes them: their next visit is refused, and the link cannot be used again", async () => {
      await nav.getByRole("link", { name: "Team" }).click();
      const row = page.getByTestId(`member-${viewerEmail}`);
      await row.getByRole("button", { name: `Remove ${viewerEmail}` }).click();
      const dialog = page.getByRole("alertdialog", { name: `Remove ${viewerEmail}?` });
      await shots.take(page, "team-remove");
      await dialog.getByRole("button", { name: "Remove member" }).click();
      await expect(dialog).toBeHidden();
      await expect(row).toHaveCount(0);

      await viewer.reload();
      await expect(viewer.getByRole("alert")).toContainText("not a member of this organization");
      await viewer.goto(`/join?invitation=${invitationId}`);
      const notice = viewer.getByRole("alert");
      await expect(notice).toContainText("This invitation can no longer be used");
      await expect(notice).toContainText("409");
      await shots.take(viewer, "join-refused");
      await expectAccessible(viewer, "join-refused");
    });
  } finally {
    await context.close();
  }

  await test.step("the audit log lists the invitation and the join, with the actors and their roles", async () => {
    await nav.getByRole("link", { name: "Audit log" }).click();
    await expect(page.getByRole("heading", { name: "Audit log", level: 1 })).toBeVisible();
    const log = page.getByTestId("audit-log");
    const invited = log.getByTestId("audit-member.invited");
    await expect(invited).toContainText(ownerEmail);
    await expect(invited).toContainText("Owner");
    await expect(invited).toContainText(viewerEmail);
    const joined = log.getByTestId("audit-member.joined");
    await expect(joined).toContainText(viewerEmail);
    await expect(joined).toContainText("Viewer");
    await expect(log.getByTestId("audit-data.exported").first()).toContainText(viewerEmail);
    await expect(log.getByTestId("audit-project.created")).toContainText(ownerEmail);

    // Newest first.
    const actions = await log.locator("tbody td[data-label='Action']").allTextContents();
    expect(actions.indexOf("member.removed")).toBeLessThan(actions.indexOf("member.role_changed"));
    expect(actions.indexOf("member.joined")).toBeLessThan(actions.indexOf("member.invited"));

    const changed = log.getByTestId("audit-member.role_changed");
    await changed.getByRole("button", { name: /Changes/ }).click();
    const detail = page.getByTestId("audit-detail");
    await expect(detail).toContainText('"viewer"');
    await expect(detail).toContainText('"developer"');
    await shots.take(page, "audit-log");
    await expectAccessible(page, "audit-log");
    await expectFitsPhone(page, "audit-log");

    await page.getByLabel("Action", { exact: true }).selectOption("member.");
    await expect(log.getByTestId("audit-project.created")).toHaveCount(0);
    await expect(log.getByTestId("audit-member.joined")).toBeVisible();
    await page.getByLabel("Actor").fill(viewerEmail);
    await page.getByRole("button", { name: "Filter" }).click();
    await expect(log.getByTestId("audit-member.invited")).toHaveCount(0);
    await expect(log.getByTestId("audit-member.joined")).toBeVisible();
    await shots.take(page, "audit-log-filtered");

    const file = await downloaded(page, () => page.getByRole("button", { name: "Export the audit log as JSON" }).click());
    expect(file.name).toMatch(new RegExp(`^audit-log-plt_[0-9a-z_]+-${DAY}\\.json$`));
    const entries = JSON.parse(file.text) as { action: string }[];
    expect(entries.map((e) => e.action)).toEqual(expect.arrayContaining(["member.invited", "member.joined", "member.removed"]));
  });
});
