/**
 * The client: one method per api-multi route, over a transport that times out, retries what is
 * safe to retry, and keeps one `Idempotency-Key` across a call's retries.
 *
 * Only web-standard globals are used (`fetch`, `AbortController`, `setTimeout`, `crypto`), so
 * the same code runs on Node 18+, Cloudflare Workers, Deno and Bun.
 *
 * @module
 */

import {
  ApiConnectionError,
  DreamApiError,
  RateLimitedError,
  TimeoutError,
  errorFromResponse,
} from "./errors.js";
import type {
  CartCheckoutResponse,
  CartRequest,
  ChangePlanRequest,
  CheckAnswer,
  CheckoutRequest,
  CheckoutResponse,
  CreateCustomerRequest,
  CustomerCreated,
  Entitlements,
  OrderCanceled,
  PlanChanged,
  PortalRequest,
  PortalResponse,
  ProductList,
  ProjectDashboard,
  UsageOverview,
  UsageResponse,
  WidgetToken,
} from "./types.js";

/** api-multi of a local `make dev` stack. Set `baseUrl` to your deployment's URL. */
export const DEFAULT_BASE_URL = "http://127.0.0.1:8787";
export const DEFAULT_TIMEOUT_MS = 30_000;
export const DEFAULT_MAX_RETRIES = 2;
export const DEFAULT_RETRY_BASE_DELAY_MS = 500;
export const DEFAULT_MAX_RETRY_DELAY_MS = 8_000;
export const DEFAULT_MAX_RETRY_AFTER_MS = 60_000;

/** What the SDK passes to `fetch`. Any WHATWG-compatible `fetch` accepts it. */
export interface FetchInit {
  method: "GET" | "POST";
  headers: Record<string, string>;
  body?: string;
  signal: AbortSignal;
}

/** The part of a `Response` the SDK reads. */
export interface FetchResponse {
  status: number;
  headers: { get(name: string): string | null };
  text(): Promise<string>;
}

/** A `fetch` to use instead of the global one (a test double, a proxy-aware client, ...). */
export type FetchLike = (url: string, init: FetchInit) => Promise<FetchResponse>;

/** Passed to {@link DreamApiOptions.onRetry} before each retry. */
export interface RetryInfo {
  method: "GET" | "POST";
  path: string;
  /** The attempt that failed: 1 for the first request. */
  attempt: number;
  /** How long the SDK waits before the next attempt. */
  delayMs: number;
  /** Why the attempt failed. */
  error: DreamApiError;
  /** The key every attempt of this call carries (POST only). */
  idempotencyKey: string | undefined;
}

export interface DreamApiOptions {
  /** The project's secret key, `sk_test_…` or `sk_live_…`. Keep it on your server. */
  secretKey: string;
  /** api-multi's URL (default {@link DEFAULT_BASE_URL}, a local stack). */
  baseUrl?: string;
  /** Replaces the global `fetch`. */
  fetch?: FetchLike;
  /** Per attempt, covering the answer's body too (default 30 000 ms). */
  timeoutMs?: number;
  /** Retries after the first attempt (default 2, so at most 3 requests). 0 turns retries off. */
  maxRetries?: number;
  /** The first retry waits about this long, each next one twice as long, with jitter (default 500 ms). */
  retryBaseDelayMs?: number;
  /** The longest computed backoff (default 8 000 ms). */
  maxRetryDelayMs?: number;
  /**
   * The longest `Retry-After` the SDK waits for (default 60 000 ms). A longer one is not
   * waited for: the error is thrown at once, with its `retryAfterSeconds`.
   */
  maxRetryAfterMs?: number;
  /** Called before each retry (for logs and metrics). */
  onRetry?: (info: RetryInfo) => void;
  /** Makes the `Idempotency-Key` of a POST that was given none (default `crypto.randomUUID()`). */
  idempotencyKeyFactory?: () => string;
}

/** Per-call settings that override the client's. */
export interface RequestOptions {
  timeoutMs?: number;
  maxRetries?: number;
  /** Cancels the call (also between retries); the call then rejects with the signal's reason. */
  signal?: AbortSignal;
}

/** Which end user a call is for. */
export interface UserParams {
  /** Your end user's id, sent as `X-User-Id`: 1-128 visible ASCII characters. */
  userId: string;
}

/** Makes retries of a POST safe. */
export interface IdempotencyParams {
  /**
   * Sent as `Idempotency-Key` (1-255 visible ASCII characters). Default: a new random key per
   * method call. Either way every retry of the call carries the same key, so `trackUsage`
   * counts once. Give your own to make retries of your own (a job re-run) count once too.
   */
  idempotencyKey?: string;
}

export interface UsageParams extends UserParams {
  /**
   * Sent as `X-User-Plan`: the tier to count on, which wins over what billing says. Omit it
   * to use the user's subscription, else the plan their customer was created with, else `free`.
   */
  plan?: string;
}

export interface TrackUsageParams extends UsageParams, IdempotencyParams {
  /** One of the tier's meters (`tokens`, `storage_gb`); default `requests`. */
  meter?: string;
  /** Units to count, a whole number from 1 to 1,000,000,000; default 1. */
  quantity?: number;
}

export interface WidgetTokenParams extends UserParams {
  /** How long the token works, 60 to 3600 seconds; default 600. */
  expiresInSeconds?: number;
  /**
   * The tiers (by name) the widget may offer this user; all the project's other tiers when
   * absent, none when empty.
   */
  offerTiers?: readonly string[];
}

export interface CheckParams extends UsageParams {
  /** A boolean feature (`sso`) or a meter (`tokens`) of the project. */
  feature: string;
}

export interface CreateCustomerParams extends CreateCustomerRequest, IdempotencyParams {}

export interface CreateCheckoutParams extends UserParams, CheckoutRequest, IdempotencyParams {}

export interface CustomerPortalParams extends UserParams, PortalRequest, IdempotencyParams {}

export interface ChangePlanParams extends UserParams, ChangePlanRequest, IdempotencyParams {}

export interface CartCheckoutParams extends CartRequest, IdempotencyParams {}

/** {@link DreamApi.trackUsage}'s answer: the body, and whether it was a replay. */
export interface TrackUsageResult extends UsageResponse {
  /**
   * `true` when the API answered with the result of an earlier request with the same
   * `Idempotency-Key` (header `Idempotent-Replayed: true`): nothing was counted this time.
   */
  replayed: boolean;
}

interface Call {
  method: "GET" | "POST";
  path: string;
  userId?: string | undefined;
  plan?: string | undefined;
  body?: Record<string, unknown>;
  idempotencyKey?: string | undefined;
}

interface Answer<T> {
  data: T;
  headers: { get(name: string): string | null };
}

/**
 * A client of dream-api's metered API (api-multi) for one project, authenticated with its
 * secret key. Create one per process and share it; it holds no per-call state.
 *
 * ```ts
 * const dream = new DreamApi({ secretKey: process.env.DREAM_API_SECRET_KEY!, baseUrl: "https://api.example.com" });
 * const { usage } = await dream.trackUsage({ userId: "user_123" });
 * ```
 */
export class DreamApi {
  /** The API's URL, without a trailing slash. */
  readonly baseUrl: string;
  readonly timeoutMs: number;
  readonly maxRetries: number;
  // A private field: the key never shows in logs of the client object.
  readonly #secretKey: string;
  readonly #fetch: FetchLike;
  readonly #retryBaseDelayMs: number;
  readonly #maxRetryDelayMs: number;
  readonly #maxRetryAfterMs: number;
  readonly #onRetry: ((info: RetryInfo) => void) | undefined;
  readonly #newIdempotencyKey: () => string;

  constructor(options: DreamApiOptions) {
    if (typeof options?.secretKey !== "string" || options.secretKey.trim() === "") {
      throw new TypeError("DreamApi: `secretKey` is required (the project's sk_test_… or sk_live_… key)");
    }
    if (options.secretKey.startsWith("pk_")) {
      throw new TypeError(
        "DreamApi: a publishable key (pk_) cannot authenticate API calls; use the project's secret key (sk_)",
      );
    }
    this.#secretKey = options.secretKey.trim();
    const baseUrl = options.baseUrl ?? DEFAULT_BASE_URL;
    try {
      new URL(baseUrl);
    } catch {
      throw new TypeError(`DreamApi: \`baseUrl\` is not an absolute URL: ${JSON.stringify(baseUrl)}`);
    }
    this.baseUrl = baseUrl.replace(/\/+$/, "");
    if (options.fetch !== undefined) {
      this.#fetch = options.fetch;
    } else if (typeof globalThis.fetch === "function") {
      // Called through a closure: Workers refuse `fetch` called with another `this`.
      this.#fetch = (url, init) => globalThis.fetch(url, init);
    } else {
      throw new TypeError("DreamApi: no global `fetch` (Node 18 or later has one); pass `fetch` in the options");
    }
    this.timeoutMs = positive("timeoutMs", options.timeoutMs, DEFAULT_TIMEOUT_MS);
    this.maxRetries = retryCount("maxRetries", options.maxRetries, DEFAULT_MAX_RETRIES);
    this.#retryBaseDelayMs = nonNegative("retryBaseDelayMs", options.retryBaseDelayMs, DEFAULT_RETRY_BASE_DELAY_MS);
    this.#maxRetryDelayMs = nonNegative("maxRetryDelayMs", options.maxRetryDelayMs, DEFAULT_MAX_RETRY_DELAY_MS);
    this.#maxRetryAfterMs = nonNegative("maxRetryAfterMs", options.maxRetryAfterMs, DEFAULT_MAX_RETRY_AFTER_MS);
    this.#onRetry = options.onRetry;
    this.#newIdempotencyKey = options.idempotencyKeyFactory ?? randomIdempotencyKey;
  }

  // ---- usage ----------------------------------------------------------------------------------

  /**
   * `POST /api/data`: counts one request for the user (or `quantity` of a `meter` of their
   * tier), or refuses it whole at the meter's limit or the tier's spend cap.
   *
   * ```ts
   * await dream.trackUsage({ userId: "user_123", meter: "tokens", quantity: 1234 });
   * ```
   *
   * @returns the meter's usage after counting (with its overage when the tier bills it);
   *   `replayed` is `true` when this answer repeats an earlier request with the same
   *   `Idempotency-Key` (nothing was counted, whatever the quantity).
   * @throws {@link LimitReachedError} at the limit or the spend cap (its `usage` says where the user stands); never retried.
   * @throws {@link RateLimitedError} past 600 requests a minute for the user, once retries are used up.
   * @throws {@link InvalidRequestError} for an unknown `plan` or meter, a quantity out of range, a Store project's key, a bad header.
   * @throws {@link ConflictError} when the `idempotencyKey` was used for another user or meter.
   */
  async trackUsage(params: TrackUsageParams, options?: RequestOptions): Promise<TrackUsageResult> {
    const body: Record<string, unknown> = {};
    if (params.meter !== undefined) body.meter = params.meter;
    if (params.quantity !== undefined) {
      if (!Number.isSafeInteger(params.quantity) || params.quantity < 1) {
        throw new TypeError(`DreamApi: \`quantity\` must be a positive whole number, not ${params.quantity}`);
      }
      body.quantity = params.quantity;
    }
    const { data, headers } = await this.#request<UsageResponse>(
      {
        method: "POST",
        path: "/api/data",
        userId: requiredUser(params),
        plan: params.plan,
        idempotencyKey: params.idempotencyKey,
        ...(Object.keys(body).length > 0 ? { body } : {}),
      },
      options,
    );
    return { ...data, replayed: headers.get("idempotent-replayed") === "true" };
  }

  /**
   * `GET /api/usage`: the user's usage in the current period, without counting: `usage` for
   * requests, `meters` for every meter of their tier.
   *
   * @throws {@link InvalidRequestError} for an unknown `plan` or a Store project's key.
   */
  async getUsage(params: UsageParams, options?: RequestOptions): Promise<UsageOverview> {
    const answer = await this.#request<UsageOverview>(
      { method: "GET", path: "/api/usage", userId: requiredUser(params), plan: params.plan },
      options,
    );
    return answer.data;
  }

  /**
   * `GET /api/entitlements`: what the user's tier grants now: its boolean features and meters,
   * and the subscription behind it (a trial and when it ends, a past-due payment, a
   * cancellation at the period's end).
   *
   * @throws {@link InvalidRequestError} for an unknown `plan` or a Store project's key.
   */
  async getEntitlements(params: UsageParams, options?: RequestOptions): Promise<Entitlements> {
    const answer = await this.#request<Entitlements>(
      { method: "GET", path: "/api/entitlements", userId: requiredUser(params), plan: params.plan },
      options,
    );
    return answer.data;
  }

  /**
   * `POST /api/widget/tokens`: a short-lived token for this user's usage widget
   * (`<dream-usage token="…">`, served by api-multi at `/widget.js`). Give it to that user's
   * browser: it reads their plan, usage and the tiers to upgrade to, and nothing else.
   *
   * @throws {@link InvalidRequestError} for a lifetime outside 60-3600 seconds, a tier the project
   * does not have, or a Store project.
   */
  async widgetToken(params: WidgetTokenParams, options?: RequestOptions): Promise<WidgetToken> {
    const answer = await this.#request<WidgetToken>(
      {
        method: "POST",
        path: "/api/widget/tokens",
        userId: requiredUser(params),
        body: {
          ...(params.expiresInSeconds === undefined ? {} : { expiresInSeconds: params.expiresInSeconds }),
          ...(params.offerTiers === undefined ? {} : { offerTiers: params.offerTiers }),
        },
      },
      options,
    );
    return answer.data;
  }

  /**
   * `POST /api/check`: whether the user may use a boolean `feature` their tier grants, or one
   * more unit of a meter (nothing is counted). Cheap enough to call on every request: a
   * feature is answered from the project's cached configuration.
   *
   * @throws {@link InvalidRequestError} for a feature that is neither a feature nor a meter of
   *   the project (the message lists them), or an unknown `plan`.
   */
  async check(params: CheckParams, options?: RequestOptions): Promise<CheckAnswer> {
    if (typeof params?.feature !== "string" || params.feature === "") {
      throw new TypeError("DreamApi: `feature` is required (a boolean feature or a meter of the project)");
    }
    const answer = await this.#request<CheckAnswer>(
      {
        method: "POST",
        path: "/api/check",
        userId: requiredUser(params),
        plan: params.plan,
        body: { feature: params.feature },
      },
      options,
    );
    return answer.data;
  }

  // ---- customers and subscriptions ------------------------------------------------------------

  /**
   * `POST /api/customers`: creates a customer of the project (an identity in the end users'
   * sign-in app). Calling it again with the same email returns the same customer with
   * `created: false`. Use `customer.id` as the `userId` of the other calls.
   *
   * No password: the identity is shared by every project the person is a customer of, so only
   * they set its password (with a code sent to their email, from the sign-in page).
   *
   * @throws {@link InvalidRequestError} for a bad email, an unknown `plan`, `plan` with a Store
   *   key, or an email the sign-in provider refuses (`details.clerk.code` says why).
   */
  async createCustomer(params: CreateCustomerParams, options?: RequestOptions): Promise<CustomerCreated> {
    const answer = await this.#request<CustomerCreated>(
      {
        method: "POST",
        path: "/api/customers",
        body: {
          email: params.email,
          firstName: params.firstName,
          lastName: params.lastName,
          plan: params.plan,
        },
        idempotencyKey: params.idempotencyKey,
      },
      options,
    );
    return answer.data;
  }

  /**
   * `POST /api/create-checkout`: a Stripe Checkout page that subscribes the user to a paid
   * tier. Asking again while that page is open hands out the same session (`reused: true`).
   *
   * @throws {@link InvalidRequestError} (400) for an unknown or free tier, a bad URL, a Store key.
   * @throws {@link ConflictError} (409) while the user already has a subscription (use
   *   {@link DreamApi.changePlan} or {@link DreamApi.customerPortal}) or their previous checkout
   *   is being paid, or when the developer's Stripe account is not connected.
   */
  async createCheckout(params: CreateCheckoutParams, options?: RequestOptions): Promise<CheckoutResponse> {
    const answer = await this.#request<CheckoutResponse>(
      {
        method: "POST",
        path: "/api/create-checkout",
        userId: requiredUser(params),
        body: {
          tier: params.tier,
          successUrl: params.successUrl,
          cancelUrl: params.cancelUrl,
          allowPromotionCodes: params.allowPromotionCodes,
          promotionCode: params.promotionCode,
        },
        idempotencyKey: params.idempotencyKey,
      },
      options,
    );
    return answer.data;
  }

  /**
   * `POST /api/customer-portal`: Stripe's billing portal for the user (invoices, payment
   * method, cancel).
   *
   * @throws {@link NotFoundError} for a user who never started a checkout (no billing account yet).
   */
  async customerPortal(params: CustomerPortalParams, options?: RequestOptions): Promise<PortalResponse> {
    const answer = await this.#request<PortalResponse>(
      {
        method: "POST",
        path: "/api/customer-portal",
        userId: requiredUser(params),
        body: { returnUrl: params.returnUrl },
        idempotencyKey: params.idempotencyKey,
      },
      options,
    );
    return answer.data;
  }

  /**
   * `POST /api/change-plan`: moves the user's subscription to another paid tier at once
   * (Stripe prorates). `changed` is `false` when it already was on that tier.
   *
   * @throws {@link InvalidRequestError} (400) for an unknown or free tier (checked first, so
   *   also for a user without a subscription), or a Store key.
   * @throws {@link NotFoundError} (404) when the user has no active subscription.
   * @throws {@link ConflictError} (409) when the subscription can no longer change (it is
   *   ending), or when the developer's Stripe account is not connected.
   */
  async changePlan(params: ChangePlanParams, options?: RequestOptions): Promise<PlanChanged> {
    const answer = await this.#request<PlanChanged>(
      {
        method: "POST",
        path: "/api/change-plan",
        userId: requiredUser(params),
        body: { tier: params.tier },
        idempotencyKey: params.idempotencyKey,
      },
      options,
    );
    return answer.data;
  }

  // ---- figures ----------------------------------------------------------------------------------

  /**
   * `GET /api/dashboard`: the project's figures. SaaS: subscriptions, MRR, usage, the newest
   * customers. Store: sales, stock, recent orders. Narrow on `projectType`.
   */
  async getDashboard(options?: RequestOptions): Promise<ProjectDashboard> {
    const answer = await this.#request<ProjectDashboard>({ method: "GET", path: "/api/dashboard" }, options);
    return answer.data;
  }

  // ---- store ------------------------------------------------------------------------------------

  /**
   * `GET /api/products` (Store projects): every product with its price, stock and what a cart
   * can take now (`available`).
   *
   * @throws {@link InvalidRequestError} with a SaaS project's key.
   */
  async listProducts(options?: RequestOptions): Promise<ProductList> {
    const answer = await this.#request<ProductList>({ method: "GET", path: "/api/products" }, options);
    return answer.data;
  }

  /**
   * `POST /api/cart/checkout` (Store projects): holds the cart's stock and returns a Stripe
   * Checkout page for it (guest checkout). The stock stays held while the page is open.
   *
   * @throws {@link ConflictError} when the stock cannot cover the cart (`product`, `priceId`
   *   and `available` name the first short line).
   * @throws {@link InvalidRequestError} for an empty cart, a `priceId` of another project, a
   *   quantity outside 1-99, a SaaS key.
   */
  async cartCheckout(params: CartCheckoutParams, options?: RequestOptions): Promise<CartCheckoutResponse> {
    if (!Array.isArray(params?.items)) {
      throw new TypeError("DreamApi.cartCheckout: `items` must be an array of { priceId, quantity }");
    }
    const answer = await this.#request<CartCheckoutResponse>(
      {
        method: "POST",
        path: "/api/cart/checkout",
        body: {
          email: params.email,
          // Field by field: the API refuses unknown fields.
          items: params.items.map((item) => ({ priceId: item.priceId, quantity: item.quantity })),
          successUrl: params.successUrl,
          cancelUrl: params.cancelUrl,
          allowPromotionCodes: params.allowPromotionCodes,
          promotionCode: params.promotionCode,
        },
        idempotencyKey: params.idempotencyKey,
      },
      options,
    );
    return answer.data;
  }

  /**
   * `POST /api/orders/{orderId}/cancel` (Store projects): the buyer gave up, so the checkout
   * can no longer be paid and its stock is available again at once. Asking again answers the
   * same.
   *
   * @throws {@link ConflictError} when the order is paid (refund it) or still being created.
   * @throws {@link NotFoundError} when the project has no such order.
   */
  async cancelOrder(orderId: string, options?: RequestOptions): Promise<OrderCanceled> {
    if (typeof orderId !== "string" || !/^ord_[A-Za-z0-9]+$/.test(orderId)) {
      throw new TypeError("DreamApi.cancelOrder: `orderId` must be an order id (`ord_…`) from cartCheckout");
    }
    const answer = await this.#request<OrderCanceled>({ method: "POST", path: `/api/orders/${orderId}/cancel` }, options);
    return answer.data;
  }

  // ---- transport --------------------------------------------------------------------------------

  async #request<T>(call: Call, options: RequestOptions = {}): Promise<Answer<T>> {
    const timeoutMs = positive("timeoutMs", options.timeoutMs, this.timeoutMs);
    const maxRetries = retryCount("maxRetries", options.maxRetries, this.maxRetries);
    const signal = options.signal;
    const url = this.baseUrl + call.path;
    const headers: Record<string, string> = {
      Authorization: `Bearer ${this.#secretKey}`,
      Accept: "application/json",
    };
    if (call.userId !== undefined) headers["X-User-Id"] = headerValue("userId", call.userId);
    if (call.plan !== undefined) headers["X-User-Plan"] = headerValue("plan", call.plan);
    // One key per method call, made before the first attempt: every retry repeats it.
    const idempotencyKey =
      call.method === "POST"
        ? headerValue("idempotencyKey", call.idempotencyKey ?? this.#newIdempotencyKey())
        : undefined;
    if (idempotencyKey !== undefined) headers["Idempotency-Key"] = idempotencyKey;
    let body: string | undefined;
    if (call.body !== undefined) {
      headers["Content-Type"] = "application/json";
      body = JSON.stringify(call.body);
    }

    for (let attempt = 1; ; attempt++) {
      throwIfAborted(signal);
      let error: DreamApiError;
      try {
        const { status, responseHeaders, text } = await this.#attempt(url, call.method, headers, body, timeoutMs, signal);
        if (status >= 200 && status < 300) {
          return { data: parseSuccess<T>(status, responseHeaders, text), headers: responseHeaders };
        }
        error = errorFromResponse(status, responseHeaders, text);
      } catch (caught) {
        if (!(caught instanceof ApiConnectionError)) throw caught;
        error = caught;
      }
      const delayMs = attempt <= maxRetries ? this.#retryDelay(error, attempt) : undefined;
      if (delayMs === undefined) throw error;
      this.#onRetry?.({ method: call.method, path: call.path, attempt, delayMs, error, idempotencyKey });
      await sleep(delayMs, signal);
    }
  }

  /** One request and its body, within the timeout. Connection failures and timeouts reject with {@link ApiConnectionError}s. */
  async #attempt(
    url: string,
    method: "GET" | "POST",
    headers: Record<string, string>,
    body: string | undefined,
    timeoutMs: number,
    signal: AbortSignal | undefined,
  ): Promise<{ status: number; responseHeaders: FetchResponse["headers"]; text: string }> {
    const controller = new AbortController();
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      controller.abort();
    }, timeoutMs);
    const forwardAbort = () => controller.abort(signal?.reason);
    signal?.addEventListener("abort", forwardAbort, { once: true });
    // A plain function call: some runtimes refuse `fetch` with a `this` other than the global.
    const fetchImpl = this.#fetch;
    try {
      const init: FetchInit = { method, headers: { ...headers }, signal: controller.signal };
      if (body !== undefined) init.body = body;
      // Raced against the abort, so a `fetch` that ignores its signal still times out.
      const response = await untilAborted(fetchImpl(url, init), controller.signal);
      const text = await untilAborted(response.text(), controller.signal);
      return { status: response.status, responseHeaders: response.headers, text };
    } catch (cause) {
      if (signal?.aborted) throw abortReason(signal);
      if (timedOut) {
        throw new TimeoutError({ message: `No answer from ${method} ${url} within ${timeoutMs} ms`, cause });
      }
      throw new ApiConnectionError({ message: `${method} ${url} failed: ${describe(cause)}`, cause });
    } finally {
      clearTimeout(timer);
      signal?.removeEventListener("abort", forwardAbort);
    }
  }

  /** How long to wait before retrying after `error`, or `undefined` when it must not be retried. */
  #retryDelay(error: DreamApiError, attempt: number): number | undefined {
    const retryable =
      error instanceof ApiConnectionError ||
      error instanceof RateLimitedError ||
      (error.status !== undefined && error.status >= 500);
    if (!retryable) return undefined;
    if (error.retryAfterSeconds !== undefined) {
      const waitMs = error.retryAfterSeconds * 1000;
      if (waitMs > this.#maxRetryAfterMs) return undefined;
      // A little jitter on top, so clients told the same moment do not all return at once.
      return waitMs + Math.round(Math.random() * Math.min(1000, waitMs / 10));
    }
    const cap = Math.min(this.#maxRetryDelayMs, this.#retryBaseDelayMs * 2 ** (attempt - 1));
    return Math.round(cap / 2 + (Math.random() * cap) / 2);
  }
}

function parseSuccess<T>(status: number, headers: FetchResponse["headers"], text: string): T {
  try {
    return JSON.parse(text) as T;
  } catch (cause) {
    throw new DreamApiError({
      message: `The API answered ${status} with a body that is not JSON`,
      status,
      code: "invalid_response",
      requestId: headers.get("x-request-id") ?? undefined,
      body: text,
      cause,
    });
  }
}

function requiredUser(params: UserParams): string {
  if (typeof params?.userId !== "string") {
    throw new TypeError("DreamApi: `userId` is required (your end user's id, sent as X-User-Id)");
  }
  return params.userId;
}

/**
 * Header values must be visible ASCII for the API; checking here also keeps `fetch` from
 * refusing them with an error that would look like a network failure.
 */
function headerValue(name: string, value: string): string {
  if (typeof value !== "string" || !/^[\x21-\x7e]+$/.test(value)) {
    throw new TypeError(`DreamApi: \`${name}\` must be a non-empty string of visible ASCII characters`);
  }
  return value;
}

function positive(name: string, value: number | undefined, fallback: number): number {
  if (value === undefined) return fallback;
  if (typeof value !== "number" || !Number.isFinite(value) || value <= 0) {
    throw new TypeError(`DreamApi: \`${name}\` must be a positive number of milliseconds`);
  }
  return value;
}

function nonNegative(name: string, value: number | undefined, fallback: number): number {
  if (value === undefined) return fallback;
  if (typeof value !== "number" || !Number.isFinite(value) || value < 0) {
    throw new TypeError(`DreamApi: \`${name}\` must be a number of milliseconds, 0 or more`);
  }
  return value;
}

function retryCount(name: string, value: number | undefined, fallback: number): number {
  if (value === undefined) return fallback;
  if (!Number.isInteger(value) || value < 0) {
    throw new TypeError(`DreamApi: \`${name}\` must be a whole number, 0 or more`);
  }
  return value;
}

/** A random UUID v4. `crypto.randomUUID` is global from Node 19, in Workers, Deno and Bun; Node 18 gets the fallbacks. */
function randomIdempotencyKey(): string {
  const webCrypto = (globalThis as { crypto?: Partial<Crypto> }).crypto;
  if (typeof webCrypto?.randomUUID === "function") return webCrypto.randomUUID();
  const bytes = new Uint8Array(16);
  if (typeof webCrypto?.getRandomValues === "function") {
    webCrypto.getRandomValues(bytes);
  } else {
    // Uniqueness is all a key needs, not secrecy.
    for (let i = 0; i < bytes.length; i++) bytes[i] = Math.floor(Math.random() * 256);
  }
  bytes[6] = (bytes[6]! & 0x0f) | 0x40;
  bytes[8] = (bytes[8]! & 0x3f) | 0x80;
  const hex = Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

function untilAborted<T>(promise: Promise<T>, signal: AbortSignal): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(signal.reason ?? new Error("aborted"));
    if (signal.aborted) {
      onAbort();
      return;
    }
    signal.addEventListener("abort", onAbort, { once: true });
    promise.then(
      (value) => {
        signal.removeEventListener("abort", onAbort);
        resolve(value);
      },
      (reason: unknown) => {
        signal.removeEventListener("abort", onAbort);
        reject(reason);
      },
    );
  });
}

function sleep(ms: number, signal: AbortSignal | undefined): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    if (signal?.aborted) {
      reject(abortReason(signal));
      return;
    }
    const onAbort = () => {
      clearTimeout(timer);
      reject(abortReason(signal!));
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener("abort", onAbort);
      resolve();
    }, ms);
    signal?.addEventListener("abort", onAbort, { once: true });
  });
}

function throwIfAborted(signal: AbortSignal | undefined): void {
  if (signal?.aborted) throw abortReason(signal);
}

function abortReason(signal: AbortSignal): unknown {
  if (signal.reason !== undefined) return signal.reason;
  const error = new Error("The operation was aborted");
  error.name = "AbortError";
  return error;
}

function describe(cause: unknown): string {
  if (cause instanceof Error) {
    // Node's fetch says only "fetch failed"; the reason is in `cause`.
    const inner = (cause as { cause?: unknown }).cause;
    return inner instanceof Error ? `${cause.message} (${inner.message})` : cause.message;
  }
  return String(cause);
}
