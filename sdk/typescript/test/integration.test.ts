// Every method against a real running api-multi (a local stack), with two test projects:
// DREAM_SDK_SAAS_SECRET_KEY (tiers free: 3 requests and 5,000 tokens, pro: 1000 at 9.99) and
// DREAM_SDK_STORE_SECRET_KEY (a product `mug` in stock). Skipped without them.

import assert from "node:assert/strict";
import { randomUUID } from "node:crypto";
import { describe, it as nodeIt } from "node:test";

import {
  AuthenticationError,
  DreamApi,
  InvalidRequestError,
  LimitReachedError,
  NotFoundError,
  StripeError,
  UnavailableError,
  type FetchInit,
  type FetchLike,
} from "dream-api";

import {
  API_URL,
  EMULATOR_URL,
  FAULTS_KEY,
  FAULTS_STRIPE_ACCOUNT,
  SAAS_KEY,
  STORE_KEY,
  freshUserId,
  skipFaults,
  skipSaas,
  skipStore,
} from "./live.js";

const REQUEST_ID = /^req_/;

const saasTest = (name: string, fn: () => Promise<void>) => nodeIt(name, { skip: skipSaas }, fn);
const storeTest = (name: string, fn: () => Promise<void>) => nodeIt(name, { skip: skipStore }, fn);

function saas(options: { fetch?: FetchLike } = {}): DreamApi {
  return new DreamApi({ secretKey: SAAS_KEY!, baseUrl: API_URL!, retryBaseDelayMs: 50, ...options });
}

function store(): DreamApi {
  return new DreamApi({ secretKey: STORE_KEY!, baseUrl: API_URL! });
}

describe("SaaS project (DREAM_SDK_SAAS_SECRET_KEY)", () => {
  // Skipped test by test (not the suite), so a run without a stack reports them as skipped.
  const it = saasTest;

  it("trackUsage counts a quantity of a meter, and refuses one that would pass its limit whole", async () => {
    const dream = saas();
    const userId = freshUserId("tokens");
    const counted = await dream.trackUsage({ userId, meter: "tokens", quantity: 4000 });
    assert.equal(counted.usage.meter, "tokens");
    assert.equal(counted.usage.count, 4000);
    assert.equal(counted.usage.limit, 5000);
    const error = await dream.trackUsage({ userId, meter: "tokens", quantity: 1001 }).catch((e: unknown) => e);
    assert.ok(error instanceof LimitReachedError, String(error));
    assert.equal(error.usage?.count, 4000, "nothing of the refused quantity was counted");
    const overview = await dream.getUsage({ userId });
    assert.equal(overview.usage.meter, "requests");
    assert.deepEqual(
      overview.meters.map((m) => [m.meter, m.count]),
      [["requests", 0], ["tokens", 4000]],
    );
  });

  it("getEntitlements and check answer what the user's tier grants, counting nothing", async () => {
    const dream = saas();
    const userId = freshUserId("entitled");
    const free = await dream.getEntitlements({ userId });
    assert.deepEqual([free.plan, free.source, free.status, free.features], ["free", "default", null, []]);
    assert.deepEqual(
      free.meters.map((m) => [m.meter, m.included]),
      [["requests", 3], ["tokens", 5000]],
    );
    const refused = await dream.check({ userId, feature: "sso" });
    assert.deepEqual([refused.allowed, refused.reason, refused.plan], [false, "not_in_plan", "free"]);
    const asPro = await dream.check({ userId, feature: "sso", plan: "pro" });
    assert.deepEqual([asPro.allowed, asPro.reason], [true, "granted"]);
    const tokens = await dream.check({ userId, feature: "tokens" });
    assert.deepEqual([tokens.allowed, tokens.reason, tokens.usage?.count], [true, "within_limit", 0]);
    const unknown = await dream.check({ userId, feature: "teleport" }).catch((e: unknown) => e);
    assert.ok(unknown instanceof InvalidRequestError, String(unknown));
    assert.match(unknown.message, /requests, sso, tokens/);
  });

  it("widgetToken mints a token that reads the user's widget, and a lifetime out of bounds is refused", async () => {
    const dream = saas();
    const userId = freshUserId("widget");
    await dream.trackUsage({ userId });
    const minted = await dream.widgetToken({ userId, expiresInSeconds: 120 });
    assert.ok(minted.token.startsWith("wt_"));
    assert.equal(minted.userId, userId);
    const widget = await fetch(`${API_URL}/api/widget?token=${encodeURIComponent(minted.token)}`);
    assert.equal(widget.status, 200);
    const body = (await widget.json()) as { userId: string; usage: { meter: string; count: number }[] };
    assert.equal(body.userId, userId);
    assert.equal(body.usage.find((m) => m.meter === "requests")?.count, 1);
    const refused = await dream.widgetToken({ userId, expiresInSeconds: 5 }).catch((e: unknown) => e);
    assert.ok(refused instanceof InvalidRequestError, String(refused));
    // The server chooses what the widget offers: nothing here, and only tiers that exist.
    const offersNothing = await dream.widgetToken({ userId, offerTiers: [] });
    const quiet = await fetch(`${API_URL}/api/widget?token=${encodeURIComponent(offersNothing.token)}`);
    assert.deepEqual(((await quiet.json()) as { tiers: unknown[] }).tiers, []);
    const unknown = await dream.widgetToken({ userId, offerTiers: ["platinum"] }).catch((e: unknown) => e);
    assert.ok(unknown instanceof InvalidRequestError, String(unknown));
    assert.match(unknown.message, /platinum/);
  });

  it("trackUsage counts each request, then throws LimitReachedError at the free tier's limit", async () => {
    const dream = saas();
    const userId = freshUserId("limit");
    for (let expected = 1; expected <= 3; expected++) {
      const result = await dream.trackUsage({ userId });
      assert.equal(result.success, true);
      assert.equal(result.replayed, false);
      assert.equal(result.usage.count, expected);
      assert.equal(result.usage.limit, 3);
      assert.equal(result.usage.plan, "free");
      assert.equal(result.usage.remaining, 3 - expected);
      assert.ok(Date.parse(result.usage.periodStart) < Date.parse(result.usage.periodEnd));
    }
    const error = await dream.trackUsage({ userId }).catch((e: unknown) => e);
    assert.ok(error instanceof LimitReachedError, String(error));
    assert.equal(error.status, 429);
    assert.equal(error.code, "limit_reached");
    assert.match(error.requestId ?? "", REQUEST_ID);
    assert.equal(error.usage.count, 3);
    assert.equal(error.usage.limit, 3);
    assert.equal(error.usage.remaining, 0);
    assert.equal(error.usage.plan, "free");

    // getUsage reads the same count without counting; a plan header changes the tier only.
    const report = await dream.getUsage({ userId });
    assert.deepEqual(
      [report.success, report.usage.count, report.usage.limit, report.usage.plan],
      [true, 3, 3, "free"],
    );
    const asPro = await dream.getUsage({ userId, plan: "pro" });
    assert.deepEqual(
      [asPro.usage.count, asPro.usage.limit, asPro.usage.plan, asPro.usage.remaining],
      [3, 1000, "pro", 997],
    );
  });

  it("a retry after a network failure that hid a counted answer is replayed: it counts once", async () => {
    const sent: FetchInit[] = [];
    // The first attempt reaches the server (which counts it); its answer is then "lost".
    const flaky: FetchLike = async (url, init) => {
      sent.push(init);
      const response = await fetch(url, init);
      if (sent.length === 1) {
        await response.text();
        throw new TypeError("fetch failed (simulated: connection reset after the server answered)");
      }
      return response;
    };
    const dream = saas({ fetch: flaky });
    const userId = freshUserId("retry");
    const result = await dream.trackUsage({ userId });
    assert.equal(sent.length, 2, "one retry");
    assert.equal(sent[0]!.headers["Idempotency-Key"], sent[1]!.headers["Idempotency-Key"]);
    assert.equal(result.replayed, true, "the retry is answered as a replay (Idempotent-Replayed: true)");
    assert.equal(result.usage.count, 1);
    assert.equal((await saas().getUsage({ userId })).usage.count, 1, "counted exactly once");
  });

  it("createCustomer creates a customer; asking again returns the same one", async () => {
    const dream = saas();
    const email = `sdk-${randomUUID()}@example.com`;
    const body = { email: email.toUpperCase(), firstName: "Ada", plan: "free" };
    const first = await dream.createCustomer(body);
    assert.equal(first.success, true);
    assert.equal(first.created, true);
    assert.equal(typeof first.customer.id, "string");
    assert.equal(first.customer.email, email, "lower-cased by the API");
    assert.equal(first.customer.firstName, "Ada");
    assert.equal(first.customer.lastName, null);
    assert.equal(first.customer.plan, "free");
    assert.ok(!Number.isNaN(Date.parse(first.customer.createdAt)));
    const again = await dream.createCustomer(body);
    assert.equal(again.created, false);
    assert.equal(again.customer.id, first.customer.id);

    // Its id is the user id of the metered calls.
    const counted = await dream.trackUsage({ userId: first.customer.id });
    assert.deepEqual([counted.usage.count, counted.usage.plan], [1, "free"]);
  });

  it("createCheckout for `pro` returns a Checkout URL; asking again reuses the open session", async () => {
    const dream = saas();
    const userId = freshUserId("checkout");
    const first = await dream.createCheckout({ userId, tier: "pro" });
    assert.equal(first.success, true);
    assert.match(first.url, /^https?:\/\//);
    assert.equal(typeof first.sessionId, "string");
    assert.equal(first.reused, false);
    const again = await dream.createCheckout({ userId, tier: "pro" });
    assert.equal(again.reused, true);
    assert.equal(again.sessionId, first.sessionId);
    assert.equal(again.url, first.url);

    // The checkout gave the user a billing account, so the portal opens.
    const portal = await dream.customerPortal({ userId, returnUrl: "http://localhost:3000/account" });
    assert.equal(portal.success, true);
    assert.match(portal.url, /^https?:\/\//);
  });

  it("createCheckout refuses the free tier and an unknown tier with InvalidRequestError (400, not 404)", async () => {
    const free = await saas()
      .createCheckout({ userId: freshUserId("free"), tier: "free" })
      .catch((e: unknown) => e);
    assert.ok(free instanceof InvalidRequestError, String(free));
    assert.equal(free.status, 400);
    assert.equal(free.code, "invalid_request");
    assert.match(free.message, /free tier/);
    const unknown = await saas()
      .createCheckout({ userId: freshUserId("unknown"), tier: "no-such-tier" })
      .catch((e: unknown) => e);
    assert.ok(unknown instanceof InvalidRequestError, String(unknown));
    assert.equal(unknown.status, 400);
    assert.match(unknown.message, /Unknown tier `no-such-tier`/);
  });

  it("customerPortal for a user who never checked out is a NotFoundError", async () => {
    const error = await saas()
      .customerPortal({ userId: freshUserId("portal") })
      .catch((e: unknown) => e);
    assert.ok(error instanceof NotFoundError, String(error));
    assert.equal(error.status, 404);
    assert.equal(error.code, "not_found");
    assert.match(error.requestId ?? "", REQUEST_ID);
  });

  it("changePlan for a user without a subscription is a NotFoundError", async () => {
    const error = await saas()
      .changePlan({ userId: freshUserId("change"), tier: "pro" })
      .catch((e: unknown) => e);
    assert.ok(error instanceof NotFoundError, String(error));
    assert.equal(error.status, 404);
    assert.equal(error.code, "not_found");
    assert.match(error.message, /no active subscription/);
  });

  // The tier is checked before the subscription, so these are 400 even for a user without one.
  // (409, a subscription that can no longer change, needs a real one that is ending: not here.)
  it("changePlan to the free tier or an unknown tier is an InvalidRequestError (400)", async () => {
    for (const [tier, message] of [
      ["free", /free tier/],
      ["no-such-tier", /Unknown tier `no-such-tier`/],
    ] as const) {
      const error = await saas()
        .changePlan({ userId: freshUserId("change"), tier })
        .catch((e: unknown) => e);
      assert.ok(error instanceof InvalidRequestError, `${tier}: ${String(error)}`);
      assert.equal(error.status, 400);
      assert.equal(error.code, "invalid_request");
      assert.match(error.message, message);
    }
  });

  it("getDashboard gives the SaaS figures", async () => {
    // The usage counters copy their counts into the dashboard's database within seconds.
    let dashboard = await saas().getDashboard();
    for (let tries = 0; tries < 100 && dashboard.projectType === "saas" && dashboard.metrics.usageThisPeriod < 3; tries++) {
      await new Promise((resolve) => setTimeout(resolve, 100));
      dashboard = await saas().getDashboard();
    }
    assert.equal(dashboard.projectType, "saas");
    assert.equal(dashboard.mode, "test");
    assert.match(dashboard.publishableKey, /^pk_test_/);
    assert.ok(!Number.isNaN(Date.parse(dashboard.generatedAt)));
    if (dashboard.projectType !== "saas") return;
    assert.ok(dashboard.metrics.customers >= 1, "the customers created above");
    assert.ok(dashboard.metrics.usageThisPeriod >= 3);
    assert.ok(Array.isArray(dashboard.customers) && dashboard.customers.length >= 1);
    assert.equal(dashboard.usageByMonth.length, 6);
    assert.ok(Array.isArray(dashboard.tierMix));
  });

  it("Store routes refuse a SaaS key with InvalidRequestError", async () => {
    await assert.rejects(saas().listProducts(), InvalidRequestError);
  });

  it("an unknown secret key is an AuthenticationError with a request id", async () => {
    const dream = new DreamApi({ secretKey: `sk_test_${"0".repeat(64)}`, baseUrl: API_URL! });
    const error = await dream.getUsage({ userId: "anyone" }).catch((e: unknown) => e);
    assert.ok(error instanceof AuthenticationError, String(error));
    assert.equal(error.status, 401);
    assert.equal(error.code, "unauthorized");
    assert.match(error.requestId ?? "", REQUEST_ID);
  });
});

describe("Store project (DREAM_SDK_STORE_SECRET_KEY)", () => {
  const it = storeTest;

  it("listProducts shows `mug`; cartCheckout holds one and returns a Checkout URL", async () => {
    const dream = store();
    const before = await dream.listProducts();
    assert.equal(before.success, true);
    const mug = before.products.find((p) => p.name === "mug");
    assert.ok(mug, `no product named mug: ${before.products.map((p) => p.name).join(", ")}`);
    assert.equal(typeof mug.priceId, "string");
    assert.equal(typeof mug.priceCents, "number");
    assert.ok(
      mug.available === null || mug.available >= 1,
      `mug has nothing available now (${mug.available}); holds of earlier runs end about 36 minutes after them`,
    );

    const cart = await dream.cartCheckout({
      email: `buyer-${randomUUID()}@example.com`,
      items: [{ priceId: mug.priceId!, quantity: 1 }],
    });
    assert.equal(cart.success, true);
    assert.match(cart.url, /^https?:\/\//);
    assert.equal(typeof cart.sessionId, "string");
    assert.match(cart.orderId, /^ord/);
    assert.equal(cart.amountCents, mug.priceCents);
    assert.ok(Date.parse(cart.expiresAt) > Date.now());

    const after = (await dream.listProducts()).products.find((p) => p.name === "mug")!;
    if (mug.available !== null) assert.equal(after.available, mug.available - 1, "the cart holds one");
  });

  it("getDashboard gives the Store figures", async () => {
    const dashboard = await store().getDashboard();
    assert.equal(dashboard.projectType, "store");
    if (dashboard.projectType !== "store") return;
    assert.ok(dashboard.products.some((p) => p.name === "mug"));
    assert.ok(dashboard.metrics.openCheckouts >= 1, "the cart above");
    assert.equal(dashboard.revenueByDay.length, 30);
    assert.ok(Array.isArray(dashboard.recentOrders));
  });

  it("cancelOrder ends a cart's checkout and gives its stock back at once", async () => {
    const dream = store();
    const mug = (await dream.listProducts()).products.find((p) => p.name === "mug")!;
    const cart = await dream.cartCheckout({ items: [{ priceId: mug.priceId!, quantity: 1 }] });
    const canceled = await dream.cancelOrder(cart.orderId);
    assert.deepEqual(canceled, { success: true, orderId: cart.orderId, status: "expired" });
    assert.equal((await dream.cancelOrder(cart.orderId)).status, "expired", "asking again answers the same");
    const after = (await dream.listProducts()).products.find((p) => p.name === "mug")!;
    assert.equal(after.available, mug.available, "the hold is released");
  });

  it("metering refuses a Store key with InvalidRequestError", async () => {
    await assert.rejects(store().trackUsage({ userId: freshUserId("store") }), InvalidRequestError);
  });
});

/** Makes the emulator fail the requests `fault` matches (`/_emulator/faults`). */
async function injectFault(fault: Record<string, unknown>): Promise<void> {
  const set = await fetch(`${EMULATOR_URL!}/_emulator/faults`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify(fault),
  });
  assert.equal(set.status, 200);
}

async function clearFaults(): Promise<void> {
  assert.equal((await fetch(`${EMULATOR_URL!}/_emulator/faults`, { method: "DELETE" })).status, 200);
}

describe("A project whose Stripe account fails (DREAM_SDK_FAULTS_SECRET_KEY)", () => {
  nodeIt("Stripe down is a StripeError after the retries; the same call works once it is back", { skip: skipFaults }, async () => {
    // Every checkout-session creation on this project's Stripe account fails until cleared.
    await injectFault({ path: "/v1/checkout/sessions", method: "POST", kind: "error", count: 100, account: FAULTS_STRIPE_ACCOUNT });
    const dream = new DreamApi({ secretKey: FAULTS_KEY!, baseUrl: API_URL!, retryBaseDelayMs: 20 });
    const userId = freshUserId("stripe-down");
    let failure: unknown;
    try {
      await dream.createCheckout({ userId, tier: "pro" });
    } catch (e) {
      failure = e;
    } finally {
      await clearFaults();
    }
    assert.ok(failure instanceof StripeError, `expected StripeError, got ${String(failure)}`);
    assert.equal(failure.status, 502);
    assert.match(failure.requestId ?? "", REQUEST_ID);

    const checkout = await dream.createCheckout({ userId, tier: "pro" });
    assert.match(checkout.sessionId, /^cs_/);
  });
});

describe("Clerk failing under the platform (DREAM_EMULATOR_URL)", () => {
  const skip = skipSaas || (EMULATOR_URL ? false : "needs DREAM_EMULATOR_URL");
  nodeIt("is an UnavailableError after the retries; the customer is created once Clerk is back", { skip }, async () => {
    const who = freshUserId("clerk-down");
    // Matches only this test's e-mail (Clerk's lookup carries it in its query).
    await injectFault({ path: who, kind: "error", count: 100 });
    // One retry, after the answer's `Retry-After: 5`.
    const dream = new DreamApi({ secretKey: SAAS_KEY!, baseUrl: API_URL!, maxRetries: 1 });
    const email = `${who}@example.com`;
    let failure: unknown;
    try {
      await dream.createCustomer({ email });
    } catch (e) {
      failure = e;
    } finally {
      await clearFaults();
    }
    assert.ok(failure instanceof UnavailableError, `expected UnavailableError, got ${String(failure)}`);
    assert.equal(failure.status, 503);
    assert.match(failure.requestId ?? "", REQUEST_ID);
    const created = await dream.createCustomer({ email });
    assert.equal(created.created, true);
  });
});
