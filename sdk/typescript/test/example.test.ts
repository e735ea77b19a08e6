// The example apps run as a user would run them, against a real api-multi with the SaaS test
// project (free: 3 requests): three reports, then Checkout. examples/gated-server.mjs on Node;
// examples/worker/ in workerd, which `make test` serves at DREAM_SDK_TS_WORKER_URL.

import assert from "node:assert/strict";
import { spawn, type ChildProcess } from "node:child_process";
import { once } from "node:events";
import { fileURLToPath } from "node:url";
import { after, before, describe, it } from "node:test";

import { DreamApi } from "dream-api";

import { API_URL, SAAS_KEY, freshUserId, skipSaas } from "./live.js";

const WORKER_URL = process.env["DREAM_SDK_TS_WORKER_URL"]?.trim() || undefined;
const EXAMPLE = fileURLToPath(new URL("../examples/gated-server.mjs", import.meta.url));
const PACKAGE_ROOT = fileURLToPath(new URL("..", import.meta.url));

/** Starts the example on a free port; resolves with its URL once it listens. */
async function startExample(): Promise<{ child: ChildProcess; url: string }> {
  const child = spawn(process.execPath, [EXAMPLE], {
    cwd: PACKAGE_ROOT,
    env: {
      ...process.env,
      DREAM_API_SECRET_KEY: SAAS_KEY!,
      DREAM_API_BASE_URL: API_URL!,
      HOST: "127.0.0.1",
      PORT: "0",
      PUBLIC_URL: "", // Checkout's own return pages, whatever the caller's environment says
    },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let output = "";
  child.stderr!.on("data", (chunk: Buffer) => (output += chunk.toString()));
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`the example did not start in 15 s:\n${output}`)), 15_000);
    child.stdout!.on("data", (chunk: Buffer) => {
      output += chunk.toString();
      const found = /listening on (http:\/\/\S+)/.exec(output);
      if (found) {
        clearTimeout(timer);
        resolve(found[1]!);
      }
    });
    child.once("exit", (code) => {
      clearTimeout(timer);
      reject(new Error(`the example exited (${code}) before listening:\n${output}`));
    });
  });
  return { child, url };
}

/** Three reports for a new user, each counted; the fourth redirects to their `pro` Checkout. */
async function assertGatesReports(app: string): Promise<void> {
  const userId = freshUserId("example");
  const report = `${app}/report?user=${encodeURIComponent(userId)}`;
  for (let n = 1; n <= 3; n++) {
    const response = await fetch(report, { redirect: "manual" });
    const body = (await response.json()) as { usage: { count: number; limit: number } };
    assert.equal(response.status, 200, `request ${n}: ${JSON.stringify(body)}`);
    assert.deepEqual([body.usage.count, body.usage.limit], [n, 3]);
  }
  const fourth = await fetch(report, { redirect: "manual" });
  await fourth.arrayBuffer();
  assert.equal(fourth.status, 302);
  const location = fourth.headers.get("location") ?? "";
  assert.match(location, /^https?:\/\//);

  // It is this user's Checkout session for `pro`: asking again hands out the same one.
  const dream = new DreamApi({ secretKey: SAAS_KEY!, baseUrl: API_URL! });
  const checkout = await dream.createCheckout({ userId, tier: "pro" });
  assert.equal(checkout.reused, true);
  assert.equal(checkout.url, location);
}

describe("examples/gated-server.mjs (DREAM_SDK_SAAS_SECRET_KEY)", () => {
  let example: { child: ChildProcess; url: string } | undefined;

  before(async () => {
    if (!skipSaas) example = await startExample();
  });

  after(async () => {
    if (example && example.child.exitCode === null) {
      example.child.kill("SIGTERM");
      await once(example.child, "exit");
    }
  });

  it("serves three reports, then redirects the fourth to a Checkout page for `pro`", { skip: skipSaas }, async () => {
    await assertGatesReports(example!.url);
  });

  it("asks for the user", { skip: skipSaas }, async () => {
    const response = await fetch(`${example!.url}/report`);
    assert.equal(response.status, 400);
    await response.arrayBuffer();
  });

  it("embeds the user's usage widget on /account with a token that reads only them", { skip: skipSaas }, async () => {
    const userId = `example-widget-${Date.now().toString(36)}`;
    const page = await fetch(`${example!.url}/account?user=${userId}`);
    const html = await page.text();
    assert.equal(page.status, 200);
    assert.ok(html.includes(`src="${API_URL}/widget.js"`), html);
    assert.ok(!html.includes(SAAS_KEY!));
    const token = /token="(wt_[^"]+)"/.exec(html)?.[1];
    assert.ok(token, html);
    const widget = await fetch(`${API_URL}/api/widget?token=${encodeURIComponent(token)}`);
    assert.equal(widget.status, 200);
    assert.equal(((await widget.json()) as { userId: string }).userId, userId);
  });
});

describe("examples/worker (DREAM_SDK_TS_WORKER_URL, in workerd)", () => {
  const skip = skipSaas || (WORKER_URL ? false : "needs DREAM_SDK_TS_WORKER_URL (`make test` serves the example Worker)");
  if (process.env["DREAM_SDK_REQUIRE_STACK"] && skip) throw new Error(`DREAM_SDK_REQUIRE_STACK is set but: ${skip}`);

  it("serves three reports, then redirects the fourth to a Checkout page for `pro`", { skip }, async () => {
    await assertGatesReports(WORKER_URL!);
  });

  it("asks for the user", { skip }, async () => {
    const response = await fetch(`${WORKER_URL!}/report`);
    assert.equal(response.status, 400);
    await response.arrayBuffer();
  });
});
