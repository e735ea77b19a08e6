// Unit tests against a scripted fetch: what goes on the wire, retries and their keys, backoff,
// timeouts, and which error class each answer becomes.

import assert from "node:assert/strict";
import { describe, it } from "node:test";

import {
  ApiConnectionError,
  AuthenticationError,
  ConflictError,
  DreamApi,
  DreamApiError,
  InternalError,
  InvalidRequestError,
  LimitReachedError,
  NotFoundError,
  PaymentRequiredError,
  QuotaExceededError,
  RateLimitedError,
  StripeError,
  TimeoutError,
  type CartCheckoutParams,
  type CartCheckoutResponse,
  type CartItem,
  type ChangePlanParams,
  type CheckoutResponse,
  type components,
  type CreateCheckoutParams,
  type CreateCustomerRequest,
  type Customer,
  type CustomerCreated,
  type DreamApiOptions,
  type ErrorBody,
  type ErrorCode,
  type OrderItem,
  type PlanChanged,
  type PortalResponse,
  type Product,
  type ProductList,
  type ProjectDashboard,
  type RetryInfo,
  type SaasDashboard,
  type StoreDashboard,
  type Subscription,
  type TrackUsageResult,
  type UsageReport,
  type UsageResponse,
  signWebhook,
  verifyWebhook,
  WebhookVerificationError,
} from "dream-api";

import { SECRET, errorBody, fakeFetch, networkError, respond, usage, type Reply } from "./fake-fetch.js";

const BASE = "http://api.test";
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

/** A client on a scripted fetch, with fast retries unless the test says otherwise. */
function client(replies: Reply[], options: Partial<DreamApiOptions> = {}) {
  const fake = fakeFetch(...replies);
  const retries: RetryInfo[] = [];
  const dream = new DreamApi({
    secretKey: SECRET,
    baseUrl: BASE,
    fetch: fake.fetch,
    retryBaseDelayMs: 1,
    maxRetryDelayMs: 5,
    onRetry: (info) => retries.push(info),
    ...options,
  });
  return { dream, calls: fake.calls, retries };
}

const ok = (json: unknown, headers?: Record<string, string>): Reply => ({ status: 200, json, ...(headers ? { headers } : {}) });

describe("requests are exactly what the API expects", () => {
  it("trackUsage: POST /api/data with the user, plan and a generated Idempotency-Key, no body", async () => {
    const { dream, calls } = client([ok({ success: true, usage: usage(1) })]);
    const result = await dream.trackUsage({ userId: "user_123", plan: "free" });
    assert.deepEqual(result, { success: true, usage: usage(1), replayed: false });
    assert.equal(calls.length, 1);
    const [call] = calls;
    assert.equal(call!.method, "POST");
    assert.equal(call!.url, `${BASE}/api/data`);
    assert.equal(call!.body, undefined);
    const { "idempotency-key": key, ...rest } = call!.headers;
    assert.match(key!, UUID);
    assert.deepEqual(rest, {
      authorization: `Bearer ${SECRET}`,
      accept: "application/json",
      "x-user-id": "user_123",
      "x-user-plan": "free",
    });
  });

  it("trackUsage: a caller's Idempotency-Key is sent as given; no X-User-Plan without a plan", async () => {
    const { dream, calls } = client([ok({ success: true, usage: usage(1) })]);
    await dream.trackUsage({ userId: "u", idempotencyKey: "order-42" });
    assert.equal(calls[0]!.headers["idempotency-key"], "order-42");
    assert.equal("x-user-plan" in calls[0]!.headers, false);
  });

  it("trackUsage: a meter and a quantity go in the JSON body; a bad quantity never leaves", async () => {
    const { dream, calls } = client([ok({ success: true, usage: usage(1234) })]);
    await dream.trackUsage({ userId: "u", meter: "tokens", quantity: 1234 });
    assert.deepEqual(JSON.parse(calls[0]!.body!), { meter: "tokens", quantity: 1234 });
    for (const quantity of [0, -1, 1.5, Number.NaN]) {
      await assert.rejects(dream.trackUsage({ userId: "u", meter: "tokens", quantity }), TypeError);
    }
    assert.equal(calls.length, 1);
  });

  it("trackUsage: `Idempotent-Replayed: true` is reported as replayed", async () => {
    const { dream } = client([ok({ success: true, usage: usage(2) }, { "idempotent-replayed": "true" })]);
    const result = await dream.trackUsage({ userId: "u", idempotencyKey: "k" });
    assert.equal(result.replayed, true);
    assert.equal(result.usage.count, 2);
  });

  it("each method call gets its own generated key", async () => {
    const { dream, calls } = client([ok({ success: true, usage: usage(1) }), ok({ success: true, usage: usage(2) })]);
    await dream.trackUsage({ userId: "u" });
    await dream.trackUsage({ userId: "u" });
    assert.notEqual(calls[0]!.headers["idempotency-key"], calls[1]!.headers["idempotency-key"]);
  });

  it("getUsage: GET /api/usage with the user and plan, no key, no body", async () => {
    const { dream, calls } = client([ok({ success: true, usage: usage(0) })]);
    const result = await dream.getUsage({ userId: "u@example.com", plan: "pro" });
    assert.deepEqual(result, { success: true, usage: usage(0) });
    assert.equal(calls[0]!.method, "GET");
    assert.equal(calls[0]!.url, `${BASE}/api/usage`);
    assert.equal(calls[0]!.body, undefined);
    assert.deepEqual(calls[0]!.headers, {
      authorization: `Bearer ${SECRET}`,
      accept: "application/json",
      "x-user-id": "u@example.com",
      "x-user-plan": "pro",
    });
  });

  it("widgetToken: POST /api/widget/tokens with the user, and offerTiers only when given", async () => {
    const minted = { success: true, token: "wt_x.y", userId: "u", expiresAt: "2026-12-07T00:10:00Z" };
    const { dream, calls } = client([ok(minted), ok(minted), ok(minted)]);
    await dream.widgetToken({ userId: "u" });
    await dream.widgetToken({ userId: "u", offerTiers: [], expiresInSeconds: 120 });
    await dream.widgetToken({ userId: "u", offerTiers: ["pro", "scale"] });
    assert.equal(calls[0]!.url, `${BASE}/api/widget/tokens`);
    assert.equal(calls[0]!.headers["x-user-id"], "u");
    assert.deepEqual(
      calls.map((c) => JSON.parse(c.body!)),
      [{}, { expiresInSeconds: 120, offerTiers: [] }, { offerTiers: ["pro", "scale"] }],
    );
  });

  it("createCustomer: POST /api/customers with only the fields given", async () => {
    const customer = {
      id: "user_1",
      email: "ada@example.com",
      firstName: "Ada",
      lastName: null,
      plan: "free",
      createdAt: "2026-11-01T00:00:00Z",
    };
    const { dream, calls } = client([{ status: 201, json: { success: true, created: true, customer } }]);
    const result = await dream.createCustomer({
      email: "ada@example.com",
      firstName: "Ada",
      idempotencyKey: "create-ada",
    });
    assert.deepEqual(result, { success: true, created: true, customer });
    assert.equal(calls[0]!.url, `${BASE}/api/customers`);
    assert.equal(calls[0]!.headers["content-type"], "application/json");
    assert.equal(calls[0]!.headers["idempotency-key"], "create-ada");
    assert.equal("x-user-id" in calls[0]!.headers, false);
    assert.deepEqual(JSON.parse(calls[0]!.body!), {
      email: "ada@example.com",
      firstName: "Ada",
    });
  });

  it("createCheckout: POST /api/create-checkout with X-User-Id and {tier, successUrl, cancelUrl}", async () => {
    const answer = { success: true, url: "https://checkout.test/cs_1", sessionId: "cs_1", reused: false };
    const { dream, calls } = client([ok(answer)]);
    const result = await dream.createCheckout({
      userId: "user_1",
      tier: "pro",
      successUrl: "https://app.test/ok",
      cancelUrl: "https://app.test/no",
    });
    assert.deepEqual(result, answer);
    assert.equal(calls[0]!.url, `${BASE}/api/create-checkout`);
    assert.equal(calls[0]!.headers["x-user-id"], "user_1");
    assert.match(calls[0]!.headers["idempotency-key"]!, UUID);
    assert.deepEqual(JSON.parse(calls[0]!.body!), {
      tier: "pro",
      successUrl: "https://app.test/ok",
      cancelUrl: "https://app.test/no",
    });
  });

  it("createCheckout sends a promotion code, and check / getEntitlements name the user", async () => {
    const answer = { success: true, url: "https://checkout.test/cs_2", sessionId: "cs_2", reused: false, trialDays: null };
    const { dream, calls } = client([
      ok(answer),
      ok({ success: true, allowed: true, reason: "granted", feature: "sso", plan: "pro", usage: null }),
      ok({ success: true, userId: "user_1", plan: "free", source: "default", status: null, features: [], meters: [] }),
    ]);
    await dream.createCheckout({ userId: "user_1", tier: "pro", promotionCode: "LAUNCH20" });
    assert.deepEqual(JSON.parse(calls[0]!.body!), { tier: "pro", promotionCode: "LAUNCH20" });
    const checked = await dream.check({ userId: "user_1", feature: "sso", plan: "pro" });
    assert.equal(checked.allowed, true);
    assert.equal(calls[1]!.url, `${BASE}/api/check`);
    assert.equal(calls[1]!.headers["x-user-id"], "user_1");
    assert.equal(calls[1]!.headers["x-user-plan"], "pro");
    assert.deepEqual(JSON.parse(calls[1]!.body!), { feature: "sso" });
    await dream.getEntitlements({ userId: "user_1" });
    assert.equal(calls[2]!.url, `${BASE}/api/entitlements`);
    await assert.rejects(dream.check({ userId: "user_1", feature: "" }), TypeError);
  });

  it("customerPortal: POST /api/customer-portal, body {} or {returnUrl}", async () => {
    const { dream, calls } = client([
      ok({ success: true, url: "https://portal.test/1" }),
      ok({ success: true, url: "https://portal.test/2" }),
    ]);
    assert.equal((await dream.customerPortal({ userId: "user_1" })).url, "https://portal.test/1");
    await dream.customerPortal({ userId: "user_1", returnUrl: "https://app.test/account" });
    assert.equal(calls[0]!.url, `${BASE}/api/customer-portal`);
    assert.equal(calls[0]!.headers["x-user-id"], "user_1");
    assert.deepEqual(JSON.parse(calls[0]!.body!), {});
    assert.deepEqual(JSON.parse(calls[1]!.body!), { returnUrl: "https://app.test/account" });
  });

  it("changePlan: POST /api/change-plan with X-User-Id and {tier}", async () => {
    const subscription = {
      id: "sub_1",
      plan: "team",
      status: "active",
      cancelAtPeriodEnd: false,
      currentPeriodStart: "2026-11-01T00:00:00Z",
      currentPeriodEnd: "2026-12-01T00:00:00Z",
    };
    const { dream, calls } = client([ok({ success: true, changed: true, subscription })]);
    const result = await dream.changePlan({ userId: "user_1", tier: "team" });
    assert.deepEqual(result, { success: true, changed: true, subscription });
    assert.equal(calls[0]!.url, `${BASE}/api/change-plan`);
    assert.equal(calls[0]!.headers["x-user-id"], "user_1");
    assert.deepEqual(JSON.parse(calls[0]!.body!), { tier: "team" });
  });

  it("getDashboard and listProducts: GETs without user, key or body", async () => {
    const dashboard = {
      publishableKey: `pk_test_${"0".repeat(32)}`,
      mode: "test",
      projectType: "saas",
      generatedAt: "2026-11-30T00:00:00Z",
      metrics: { activeSubscriptions: 0, canceling: 0, pastDue: 0, mrrCents: 0, usageThisPeriod: 3, customers: 1 },
      customers: [],
      usageByMonth: [],
      tierMix: [],
    };
    const { dream, calls } = client([ok(dashboard), ok({ success: true, products: [] })]);
    const figures = await dream.getDashboard();
    assert.equal(figures.projectType, "saas");
    if (figures.projectType === "saas") assert.equal(figures.metrics.usageThisPeriod, 3);
    assert.deepEqual(await dream.listProducts(), { success: true, products: [] });
    assert.deepEqual(
      calls.map((c) => [c.method, c.url, c.body, Object.keys(c.headers).sort()]),
      [
        ["GET", `${BASE}/api/dashboard`, undefined, ["accept", "authorization"]],
        ["GET", `${BASE}/api/products`, undefined, ["accept", "authorization"]],
      ],
    );
  });

  it("cartCheckout: POST /api/cart/checkout with only {priceId, quantity} per line", async () => {
    const answer = {
      success: true,
      url: "https://checkout.test/cs_2",
      sessionId: "cs_2",
      orderId: "ord_1",
      amountCents: 2400,
      expiresAt: "2026-11-30T00:31:00Z",
    };
    const { dream, calls } = client([ok(answer)]);
    const line = { priceId: "price_mug", quantity: 2, name: "mug" } as { priceId: string; quantity: number };
    const result = await dream.cartCheckout({ email: "buyer@example.com", items: [line] });
    assert.deepEqual(result, answer);
    assert.equal(calls[0]!.url, `${BASE}/api/cart/checkout`);
    assert.equal("x-user-id" in calls[0]!.headers, false);
    assert.match(calls[0]!.headers["idempotency-key"]!, UUID);
    assert.deepEqual(JSON.parse(calls[0]!.body!), {
      email: "buyer@example.com",
      items: [{ priceId: "price_mug", quantity: 2 }],
    });
  });

  it("cancelOrder: POST /api/orders/{orderId}/cancel, and refuses what is not an order id", async () => {
    const answer = { success: true, orderId: "ord_7", status: "expired" };
    const { dream, calls } = client([ok(answer)]);
    assert.deepEqual(await dream.cancelOrder("ord_7"), answer);
    assert.equal(calls[0]!.method, "POST");
    assert.equal(calls[0]!.url, `${BASE}/api/orders/ord_7/cancel`);
    await assert.rejects(() => dream.cancelOrder("../api/data"), TypeError);
    assert.equal(calls.length, 1);
  });

  it("a trailing slash of baseUrl is dropped", async () => {
    const { dream, calls } = client([ok({ success: true, products: [] })], { baseUrl: "http://api.test/v/" });
    await dream.listProducts();
    assert.equal(calls[0]!.url, "http://api.test/v/api/products");
  });
});

describe("arguments are checked before anything is sent", () => {
  it("refuses a missing key, a publishable key and a relative baseUrl", () => {
    assert.throws(() => new DreamApi({ secretKey: "" }), TypeError);
    assert.throws(() => new DreamApi({ secretKey: `pk_test_${"0".repeat(32)}` }), /publishable key/);
    assert.throws(() => new DreamApi({ secretKey: SECRET, baseUrl: "/api" }), /baseUrl/);
    assert.throws(() => new DreamApi({ secretKey: SECRET, maxRetries: -1 }), /maxRetries/);
    assert.throws(() => new DreamApi({ secretKey: SECRET, timeoutMs: 0 }), /timeoutMs/);
  });

  it("refuses header values fetch would reject or the API cannot take, without a request", async () => {
    const { dream, calls } = client([]);
    await assert.rejects(dream.trackUsage({ userId: "jörg" }), TypeError);
    await assert.rejects(dream.trackUsage({ userId: "" }), TypeError);
    await assert.rejects(dream.getUsage({ userId: "a\r\nb" }), TypeError);
    await assert.rejects(dream.trackUsage({ userId: "u", idempotencyKey: "two words" }), TypeError);
    await assert.rejects(dream.getUsage({} as { userId: string }), /userId/);
    assert.equal(calls.length, 0);
  });

  it("does not show the secret key when the client is printed", () => {
    const dream = new DreamApi({ secretKey: SECRET, baseUrl: BASE });
    assert.equal(JSON.stringify(dream).includes(SECRET), false);
    assert.equal(Object.values(dream).includes(SECRET), false);
  });
});

describe("retries", () => {
  it("keep the same Idempotency-Key on every retry of a call", async () => {
    const { dream, calls, retries } = client([
      { status: 500, json: errorBody("internal", "Internal error; quote the requestId when reporting it") },
      networkError(),
      ok({ success: true, usage: usage(1) }, { "idempotent-replayed": "true" }),
    ]);
    const result = await dream.trackUsage({ userId: "u" });
    assert.equal(calls.length, 3);
    const keys = new Set(calls.map((c) => c.headers["idempotency-key"]));
    assert.equal(keys.size, 1);
    assert.match([...keys][0]!, UUID);
    assert.deepEqual(
      retries.map((r) => [r.attempt, r.error.constructor, r.idempotencyKey]),
      [
        [1, InternalError, [...keys][0]],
        [2, ApiConnectionError, [...keys][0]],
      ],
    );
    assert.equal(result.replayed, true);
  });

  it("keep the caller's key and the same body on retries of other POSTs", async () => {
    const answer = { success: true, url: "u", sessionId: "cs", orderId: "ord", amountCents: 1, expiresAt: "t" };
    const { dream, calls } = client([{ status: 502, json: errorBody("stripe_error", "Stripe: down") }, ok(answer)]);
    await dream.cartCheckout({ items: [{ priceId: "p", quantity: 1 }], idempotencyKey: "cart-7" });
    assert.deepEqual(
      calls.map((c) => [c.headers["idempotency-key"], c.body]),
      [
        ["cart-7", '{"items":[{"priceId":"p","quantity":1}]}'],
        ["cart-7", '{"items":[{"priceId":"p","quantity":1}]}'],
      ],
    );
  });

  it("wait for Retry-After on rate_limited", async () => {
    const { dream, calls, retries } = client([
      {
        status: 429,
        json: errorBody("rate_limited", "Rate limit exceeded", {
          rateLimit: { limit: 600, periodSeconds: 60, scope: "project+user" },
        }),
        headers: { "retry-after": "1" },
      },
      ok({ success: true, usage: usage(1) }),
    ]);
    const started = Date.now();
    await dream.trackUsage({ userId: "u" });
    const elapsed = Date.now() - started;
    assert.equal(calls.length, 2);
    assert.equal(retries.length, 1);
    assert.ok(retries[0]!.error instanceof RateLimitedError);
    assert.ok(retries[0]!.delayMs >= 1000 && retries[0]!.delayMs <= 1100, `delay ${retries[0]!.delayMs}`);
    assert.ok(elapsed >= 1000, `waited only ${elapsed} ms`);
  });

  it("give up at once on a Retry-After longer than maxRetryAfterMs", async () => {
    const { dream, calls } = client(
      [{ status: 429, json: errorBody("rate_limited", "Too many"), headers: { "retry-after": "60" } }],
      { maxRetryAfterMs: 5_000 },
    );
    const error = await dream.trackUsage({ userId: "u" }).catch((e: unknown) => e);
    assert.ok(error instanceof RateLimitedError);
    assert.equal(error.retryAfterSeconds, 60);
    assert.equal(calls.length, 1);
  });

  it("never happen on limit_reached", async () => {
    const { dream, calls, retries } = client([
      { status: 429, json: errorBody("limit_reached", "Tier limit reached", { usage: usage(3) }) },
      ok({ success: true, usage: usage(3) }),
    ]);
    const error = await dream.trackUsage({ userId: "u" }).catch((e: unknown) => e);
    assert.ok(error instanceof LimitReachedError);
    assert.deepEqual(error.usage, usage(3));
    assert.equal(error.status, 429);
    assert.equal(error.code, "limit_reached");
    assert.equal(error.requestId, "req_test123");
    assert.equal(calls.length, 1);
    assert.equal(retries.length, 0);
  });

  it("never happen on other 4xx answers", async () => {
    for (const [status, code] of [
      [400, "invalid_request"],
      [401, "unauthorized"],
      [402, "payment_required"],
      [403, "quota_exceeded"],
      [404, "not_found"],
      [409, "conflict"],
    ] as const) {
      const { dream, calls } = client([{ status, json: errorBody(code, "no") }, ok({})]);
      await assert.rejects(dream.createCheckout({ userId: "u", tier: "pro" }), DreamApiError);
      assert.equal(calls.length, 1, code);
    }
  });

  it("back off exponentially with jitter on 5xx", async () => {
    const { dream, calls, retries } = client(
      [
        { status: 503, text: "<html>Service Unavailable</html>", headers: { "content-type": "text/html" } },
        { status: 500, json: errorBody("internal", "Internal error") },
        ok({ success: true, products: [] }),
      ],
      { retryBaseDelayMs: 20, maxRetryDelayMs: 1_000 },
    );
    await dream.listProducts();
    assert.equal(calls.length, 3);
    const [first, second] = retries.map((r) => r.delayMs);
    assert.ok(first! >= 10 && first! <= 20, `first delay ${first}`);
    assert.ok(second! >= 20 && second! <= 40, `second delay ${second}`);
  });

  it("cap the computed backoff at maxRetryDelayMs", async () => {
    const { dream, retries } = client([networkError(), networkError(), networkError(), ok({ success: true, products: [] })], {
      maxRetries: 3,
      retryBaseDelayMs: 8,
      maxRetryDelayMs: 10,
    });
    await dream.listProducts();
    assert.deepEqual(
      retries.map((r) => r.delayMs <= 10),
      [true, true, true],
    );
  });

  it("end with ApiConnectionError after maxRetries network failures", async () => {
    const { dream, calls } = client([networkError(), networkError(), networkError(), ok({})]);
    const error = await dream.trackUsage({ userId: "u" }).catch((e: unknown) => e);
    assert.ok(error instanceof ApiConnectionError);
    assert.equal(error instanceof TimeoutError, false);
    assert.equal(error.code, "connection_error");
    assert.equal(error.status, undefined);
    assert.match(error.message, /ECONNREFUSED/);
    assert.ok(error.cause instanceof TypeError);
    assert.equal(calls.length, 3, "the first attempt and maxRetries (2) retries");
  });

  it("treat a body cut off mid-read as a network failure", async () => {
    const cutOff: Reply = () => ({
      status: 200,
      headers: new Headers(),
      text: () => Promise.reject(new TypeError("terminated")),
    });
    const { dream, calls } = client([cutOff, ok({ success: true, usage: usage(1) })]);
    assert.equal((await dream.trackUsage({ userId: "u" })).usage.count, 1);
    assert.equal(calls[0]!.headers["idempotency-key"], calls[1]!.headers["idempotency-key"]);
  });

  it("are off with maxRetries: 0, per client or per call", async () => {
    const off = client([networkError(), ok({})], { maxRetries: 0 });
    await assert.rejects(off.dream.getDashboard(), ApiConnectionError);
    assert.equal(off.calls.length, 1);
    const perCall = client([networkError(), ok({})]);
    await assert.rejects(perCall.dream.getDashboard({ maxRetries: 0 }), ApiConnectionError);
    assert.equal(perCall.calls.length, 1);
  });

  it("stop when the caller aborts, also while waiting", async () => {
    const controller = new AbortController();
    const { dream, calls } = client(
      [
        () => {
          setTimeout(() => controller.abort(new Error("caller gave up")), 10);
          return respond(500, errorBody("internal", "Internal error"));
        },
        ok({}),
      ],
      { retryBaseDelayMs: 10_000, maxRetryDelayMs: 10_000 },
    );
    await assert.rejects(dream.getDashboard({ signal: controller.signal }), /caller gave up/);
    assert.equal(calls.length, 1);
  });
});

describe("timeouts", () => {
  const hang: Reply = () => new Promise(() => {});

  it("give TimeoutError after the retries, even with a fetch that ignores its signal", async () => {
    const { dream, calls, retries } = client([hang, hang], { timeoutMs: 30, maxRetries: 1 });
    const started = Date.now();
    const error = await dream.trackUsage({ userId: "u" }).catch((e: unknown) => e);
    assert.ok(error instanceof TimeoutError, String(error));
    assert.ok(error instanceof ApiConnectionError);
    assert.equal(error.code, "timeout");
    assert.equal(calls.length, 2);
    assert.ok(retries[0]!.error instanceof TimeoutError);
    assert.equal(calls[0]!.headers["idempotency-key"], calls[1]!.headers["idempotency-key"]);
    assert.ok(Date.now() - started >= 60);
  });

  it("abort the request's signal", async () => {
    const { dream, calls } = client([hang], { timeoutMs: 20, maxRetries: 0 });
    await assert.rejects(dream.getUsage({ userId: "u" }), TimeoutError);
    assert.equal(calls[0]!.signal.aborted, true);
  });

  it("cover reading the body too; a per-call timeout wins", async () => {
    const slowBody: Reply = () => ({ status: 200, headers: new Headers(), text: () => new Promise<string>(() => {}) });
    const { dream } = client([slowBody]);
    await assert.rejects(dream.getUsage({ userId: "u" }, { timeoutMs: 20, maxRetries: 0 }), TimeoutError);
  });
});

describe("errors by code", () => {
  const cases = [
    { status: 400, code: "invalid_request", type: InvalidRequestError, name: "InvalidRequestError" },
    { status: 401, code: "unauthorized", type: AuthenticationError, name: "AuthenticationError" },
    { status: 404, code: "not_found", type: NotFoundError, name: "NotFoundError" },
    { status: 429, code: "limit_reached", type: LimitReachedError, name: "LimitReachedError" },
    { status: 429, code: "rate_limited", type: RateLimitedError, name: "RateLimitedError" },
    { status: 409, code: "conflict", type: ConflictError, name: "ConflictError" },
    { status: 403, code: "quota_exceeded", type: QuotaExceededError, name: "QuotaExceededError" },
    { status: 402, code: "payment_required", type: PaymentRequiredError, name: "PaymentRequiredError" },
    { status: 502, code: "stripe_error", type: StripeError, name: "StripeError" },
    { status: 500, code: "internal", type: InternalError, name: "InternalError" },
  ] as const;

  for (const { status, code, type, name } of cases) {
    it(`${status} ${code} → ${name}`, async () => {
      const body = errorBody(code, `message of ${code}`, { extra: 1 });
      const { dream } = client([{ status, json: body }], { maxRetries: 0 });
      const error = await dream.getDashboard().catch((e: unknown) => e);
      assert.ok(error instanceof type, `${String(error)} is a ${name}`);
      assert.ok(error instanceof DreamApiError);
      assert.ok(error instanceof Error);
      assert.equal(error.name, name);
      assert.equal(error.status, status);
      assert.equal(error.code, code);
      assert.equal(error.message, `message of ${code}`);
      assert.equal(error.requestId, "req_test123");
      assert.deepEqual(error.body, body);
      assert.deepEqual(error.details, { extra: 1 });
    });
  }

  it("an unknown code is the base class", async () => {
    const { dream } = client([{ status: 418, json: errorBody("teapot", "I'm a teapot") }]);
    const error = await dream.getDashboard().catch((e: unknown) => e);
    assert.ok(error instanceof DreamApiError);
    assert.equal(error.constructor, DreamApiError);
    assert.equal(error.code, "teapot");
    assert.equal(error.status, 418);
  });

  it("an answer without a JSON body is named by its status, with the header's request id", async () => {
    const { dream } = client([{ status: 404, text: "Not Found", headers: { "content-type": "text/plain" } }]);
    const error = await dream.getDashboard().catch((e: unknown) => e);
    assert.ok(error instanceof NotFoundError);
    assert.equal(error.message, "Not Found");
    assert.equal(error.requestId, "req_header");
    assert.equal(error.body, "Not Found");
  });

  it("details of limit_reached, rate_limited, conflict, payment_required and stripe_error are typed", async () => {
    const rate = { limit: 600, periodSeconds: 60, scope: "project+user" };
    const stripe = { type: "card_error", code: "card_declined", message: "Declined", param: null };
    const { dream } = client(
      [
        { status: 429, json: errorBody("limit_reached", "Tier limit reached", { usage: usage(3) }) },
        { status: 429, json: errorBody("rate_limited", "slow down", { rateLimit: rate }), headers: { "retry-after": "7" } },
        {
          status: 409,
          json: errorBody("conflict", "Only 1 of `mug` can be bought now; the cart asks for 2", {
            priceId: "price_mug",
            product: "mug",
            available: 1,
          }),
        },
        { status: 402, json: errorBody("payment_required", "paused", { pausedSince: "2026-11-15T00:00:00Z" }) },
        { status: 502, json: errorBody("stripe_error", "Stripe: Declined", { stripe }) },
      ],
      { maxRetries: 0 },
    );
    const limit = (await dream.trackUsage({ userId: "u" }).catch((e: unknown) => e)) as LimitReachedError;
    assert.deepEqual(limit.usage, usage(3));
    const rated = (await dream.trackUsage({ userId: "u" }).catch((e: unknown) => e)) as RateLimitedError;
    assert.equal(rated.retryAfterSeconds, 7);
    assert.deepEqual(rated.rateLimit, rate);
    const short = (await dream.cartCheckout({ items: [] }).catch((e: unknown) => e)) as ConflictError;
    assert.deepEqual([short.product, short.priceId, short.available], ["mug", "price_mug", 1]);
    const paused = (await dream.getDashboard().catch((e: unknown) => e)) as PaymentRequiredError;
    assert.equal(paused.pausedSince, "2026-11-15T00:00:00Z");
    const declined = (await dream.getDashboard().catch((e: unknown) => e)) as StripeError;
    assert.deepEqual(declined.stripe, stripe);
  });

  it("a 2xx answer that is not JSON is an invalid_response error, not retried", async () => {
    const { dream, calls } = client([{ status: 200, text: "<html>proxy</html>" }, ok({})]);
    const error = await dream.getDashboard().catch((e: unknown) => e);
    assert.ok(error instanceof DreamApiError);
    assert.equal(error.code, "invalid_response");
    assert.equal(error.status, 200);
    assert.equal(calls.length, 1);
  });
});

describe("createCheckout and changePlan answer with the document's statuses", () => {
  it("an unknown or free tier is 400 (InvalidRequestError), not 404; no subscription is 404; a subscription that can no longer change is 409", async () => {
    const { dream } = client(
      [
        { status: 400, json: errorBody("invalid_request", "Unknown tier `gold`; this project's tiers are: free, pro") },
        { status: 400, json: errorBody("invalid_request", "`free` is a free tier: there is nothing to pay") },
        { status: 400, json: errorBody("invalid_request", "Unknown tier `gold`; this project's tiers are: free, pro") },
        { status: 404, json: errorBody("not_found", "This user has no active subscription to change") },
        { status: 409, json: errorBody("conflict", "This subscription is canceled and can no longer change plans") },
      ],
      { maxRetries: 2 },
    );
    await assert.rejects(dream.createCheckout({ userId: "u", tier: "gold" }), InvalidRequestError);
    await assert.rejects(dream.createCheckout({ userId: "u", tier: "free" }), InvalidRequestError);
    await assert.rejects(dream.changePlan({ userId: "u", tier: "gold" }), InvalidRequestError);
    await assert.rejects(dream.changePlan({ userId: "u", tier: "pro" }), NotFoundError);
    await assert.rejects(dream.changePlan({ userId: "u", tier: "pro" }), ConflictError);
  });
});

/** `true` when `A` and `B` are the same type. */
type Equal<A, B> = (<T>() => T extends A ? 1 : 2) extends <T>() => T extends B ? 1 : 2 ? true : false;

describe("the public types come from the OpenAPI document (src/schema.ts)", () => {
  type S = components["schemas"];

  it("are the document's schemas where the SDK adds nothing", () => {
    const same: true[] = [
      true satisfies Equal<UsageResponse, S["UsageResponse"]>,
      true satisfies Equal<UsageReport, S["UsageReport"]>,
      true satisfies Equal<CustomerCreated, S["CustomerCreated"]>,
      true satisfies Equal<Customer, S["CustomerView"]>,
      true satisfies Equal<CheckoutResponse, S["CheckoutResponse"]>,
      true satisfies Equal<PortalResponse, S["PortalResponse"]>,
      true satisfies Equal<PlanChanged, S["PlanChanged"]>,
      true satisfies Equal<Subscription, S["SubscriptionView"]>,
      true satisfies Equal<ProductList, S["ProductList"]>,
      true satisfies Equal<Product, S["Product"]>,
      true satisfies Equal<CartItem, S["CartItem"]>,
      true satisfies Equal<CartCheckoutResponse, S["CartCheckoutResponse"]>,
      true satisfies Equal<CreateCustomerRequest, S["CreateCustomerRequest"]>,
      true satisfies Equal<ErrorCode, S["ErrorCode"]>,
    ];
    assert.equal(same.length, 14);
  });

  it("build on them where the SDK adds something", () => {
    // trackUsage's result is the document's body plus `replayed`.
    const result: TrackUsageResult = { success: true, usage: usage(1), replayed: false };
    const body: S["UsageResponse"] = result;
    assert.equal(body.success, true);

    // `tier` and `items` are required by the SDK although the document marks them optional.
    // @ts-expect-error a checkout without a tier does not compile
    const noTier: CreateCheckoutParams = { userId: "u" };
    // @ts-expect-error a plan change without a tier does not compile
    const noTarget: ChangePlanParams = { userId: "u" };
    // @ts-expect-error a cart without items does not compile
    const noItems: CartCheckoutParams = { email: "buyer@example.com" };
    assert.deepEqual([noTier.userId, noTarget.userId, noItems.email], ["u", "u", "buyer@example.com"]);

    // The dashboard is a union narrowed by projectType, and the SaaS side still fits the document.
    const head = {
      publishableKey: `pk_test_${"0".repeat(32)}`,
      mode: "test",
      generatedAt: "2026-11-30T00:00:00Z",
      tax: { automaticTax: false, taxBehavior: "exclusive" },
      currency: "usd",
    } as const;
    const saas: SaasDashboard = {
      ...head,
      projectType: "saas",
      metrics: { activeSubscriptions: 0, canceling: 0, pastDue: 0, mrrCents: 0, usageThisPeriod: 0, customers: 0, trialing: 0, trialsEnded: 0, trialsConverted: 0 },
      customers: [],
      usageByMonth: [],
      tierMix: [],
      meters: [],
      nearCap: [],
    };
    const raw: S["ProjectDashboard"] = saas;
    const line: OrderItem = { product: "mug", quantity: 2, unitCents: 1200 };
    const store: StoreDashboard = {
      ...head,
      projectType: "store",
      revenueByDay: [],
      metrics: {
        totalSales: 1,
        unitsSold: 2,
        revenueCents: 2400,
        refundedCents: 0,
        taxCents: 0,
        disputesLostCents: 0,
        openDisputes: 0,
        openCheckouts: 0,
        products: 1,
        inStock: 8,
        lowStock: 0,
        soldOut: 0,
      },
      products: [],
      recentOrders: [
        {
          orderId: "ord_1",
          email: null,
          amountCents: 2400,
          currency: "usd",
          paidAt: null,
          shortUnits: 0,
          refundedCents: 0,
          restocked: false,
          disputeStatus: null,
          disputedCents: 0,
          items: [line],
        },
      ],
      openOrders: [],
    };
    const figures: ProjectDashboard[] = [saas, store];
    const described = figures.map((f) =>
      f.projectType === "saas" ? `saas:${f.tierMix.length}` : `store:${f.recentOrders[0]?.items[0]?.unitCents}`,
    );
    assert.deepEqual(described, ["saas:0", "store:1200"]);
    assert.equal(raw.projectType, "saas");
    // @ts-expect-error a projectType that contradicts the figures does not compile
    const mixed: ProjectDashboard = { ...saas, projectType: "store" };
    assert.equal(mixed.projectType, "store");

    // Error bodies keep their details beyond the document's `usage`.
    const error: ErrorBody = { error: "slow down", code: "rate_limited", requestId: "req_1", rateLimit: { limit: 600, periodSeconds: 60, scope: "project+user" } };
    assert.deepEqual(error["rateLimit"], { limit: 600, periodSeconds: 60, scope: "project+user" });
  });
});

describe("verifyWebhook: the Standard Webhooks signature", () => {
  // The specification's published example.
  const secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
  const body = '{"test": 2432232314}';
  const headers = {
    "webhook-id": "msg_p5jXN8AQM9LWM0D4loKWxJek",
    "webhook-timestamp": "1614265330",
    "webhook-signature": "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=",
  };
  const now = 1614265330 + 10;

  it("signs as the specification does, and verifies its example", async () => {
    assert.equal(await signWebhook(secret, headers["webhook-id"], 1614265330, body), headers["webhook-signature"]);
    const event = (await verifyWebhook(body, headers, secret, { now })) as unknown as { test: number };
    assert.equal(event.test, 2432232314);
  });

  it("takes fetch's Headers and a rotation's two signatures", async () => {
    const both = new Headers({ ...headers, "webhook-signature": `v1,bm90IHRoaXMgb25l ${headers["webhook-signature"]}` });
    await verifyWebhook(body, both, secret, { now });
  });

  it("refuses an altered body, another secret, an old delivery and missing headers", async () => {
    const refused = async (promise: Promise<unknown>, message: RegExp) => {
      await assert.rejects(promise, (e: unknown) => e instanceof WebhookVerificationError && message.test(e.message));
    };
    await refused(verifyWebhook('{"test": 1}', headers, secret, { now }), /No signature matches/);
    await refused(verifyWebhook(body, headers, "whsec_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA", { now }), /No signature matches/);
    await refused(verifyWebhook(body, headers, secret, { now: now + 3600 }), /too far from now/);
    await refused(verifyWebhook(body, { "webhook-id": headers["webhook-id"] }, secret, { now }), /Missing/);
  });
});
