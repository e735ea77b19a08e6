/**
 * Typed errors. Every failure of a call is a {@link DreamApiError}: the API's own errors (one
 * class per `code` of `shared/src/error.rs`), and {@link ApiConnectionError} /
 * {@link TimeoutError} when no answer arrived.
 *
 * @module
 */

import type { ErrorCode, RateLimitInfo, StripeErrorDetail, UsageReport } from "./types.js";

/** Codes the SDK gives errors that never reached the API (no HTTP status). */
export type ClientErrorCode = "connection_error" | "timeout" | "invalid_response";

/** What {@link DreamApiError} is built from. */
export interface DreamApiErrorInit {
  message: string;
  /** The HTTP status; `undefined` when no response arrived. */
  status?: number | undefined;
  code: string;
  requestId?: string | undefined;
  /** The parsed JSON body, or the raw text when it was not JSON. */
  body?: unknown;
  /** `Retry-After`, in seconds, when the response had one. */
  retryAfterSeconds?: number | undefined;
  cause?: unknown;
}

const FIXED_FIELDS = new Set(["error", "code", "requestId"]);

/**
 * The base class of every error this SDK throws for a call. An error body with a `code` this
 * version does not know is thrown as this class itself.
 */
export class DreamApiError extends Error {
  override readonly name: string = "DreamApiError";
  /** The HTTP status; `undefined` when no response arrived (connection errors, timeouts). */
  readonly status: number | undefined;
  /** The API's `code` (see {@link ErrorCode}), or a {@link ClientErrorCode}. */
  readonly code: ErrorCode | ClientErrorCode | (string & {});
  /** The request id (`requestId` of the body, else the `X-Request-Id` header): quote it when reporting a problem. */
  readonly requestId: string | undefined;
  /** The raw body: parsed JSON, or the text when it was not JSON. */
  readonly body: unknown;
  /** The body's fields other than `error`, `code` and `requestId` (such as `usage` or `available`). */
  readonly details: Readonly<Record<string, unknown>>;
  /** The `Retry-After` header, in seconds, when the answer had one (`rate_limited` always does). */
  readonly retryAfterSeconds: number | undefined;

  constructor(init: DreamApiErrorInit) {
    super(init.message, init.cause === undefined ? undefined : { cause: init.cause });
    this.status = init.status;
    this.code = init.code;
    this.requestId = init.requestId;
    this.body = init.body;
    this.retryAfterSeconds = init.retryAfterSeconds;
    const details: Record<string, unknown> = {};
    if (isRecord(init.body)) {
      for (const [key, value] of Object.entries(init.body)) {
        if (!FIXED_FIELDS.has(key)) details[key] = value;
      }
    }
    this.details = details;
  }
}

/** 400 `invalid_request`: a missing or malformed header or body, an unknown plan or tier, a free tier for a checkout or a plan change, a Store call with a SaaS key (or the reverse). */
export class InvalidRequestError extends DreamApiError {
  override readonly name: string = "InvalidRequestError";
}

/** 401 `unauthorized`: a missing, malformed, unknown or revoked secret key. */
export class AuthenticationError extends DreamApiError {
  override readonly name: string = "AuthenticationError";
}

/** 404 `not_found`: no such route, or nothing to act on (a portal for a user who never checked out, a plan change without a subscription). */
export class NotFoundError extends DreamApiError {
  override readonly name: string = "NotFoundError";
}

/**
 * 429 `limit_reached`: the user used up their tier's limit for the period. Never retried: the
 * request was not counted. Send the user to {@link DreamApi.createCheckout} or wait for
 * {@link UsageReport.periodEnd}.
 */
export class LimitReachedError extends DreamApiError {
  override readonly name: string = "LimitReachedError";
  /** The user's usage in this period (`count` equals `limit`). */
  readonly usage: UsageReport;

  constructor(init: DreamApiErrorInit) {
    super(init);
    this.usage = this.details["usage"] as UsageReport;
  }
}

/**
 * 429 `rate_limited`: too many requests for one end user (600 a minute), or too many unknown
 * keys from one address. Retried after `Retry-After` seconds while retries remain.
 */
export class RateLimitedError extends DreamApiError {
  override readonly name: string = "RateLimitedError";
  /** Which limit it was (present for the per-user limit of `POST /api/data`). */
  readonly rateLimit: RateLimitInfo | undefined;

  constructor(init: DreamApiErrorInit) {
    super(init);
    this.rateLimit = this.details["rateLimit"] as RateLimitInfo | undefined;
  }
}

/**
 * 409 `conflict`: an `Idempotency-Key` reused for another user, a checkout while the user
 * already subscribes, a plan change of a subscription that can no longer change, a cart the
 * stock cannot cover (`product`, `priceId`, `available` say which), the developer's Stripe
 * account not connected.
 */
export class ConflictError extends DreamApiError {
  override readonly name: string = "ConflictError";
  /** Cart checkout: the first product the stock cannot cover. */
  readonly product: string | undefined;
  readonly priceId: string | undefined;
  /** Cart checkout: how many of `product` can be bought now. */
  readonly available: number | undefined;

  constructor(init: DreamApiErrorInit) {
    super(init);
    this.product = optional(this.details["product"], "string");
    this.priceId = optional(this.details["priceId"], "string");
    this.available = optional(this.details["available"], "number");
  }
}

/** 403 `forbidden`: the caller's role does not allow the action (`details.requiredRole`). */
export class ForbiddenError extends DreamApiError {
  override readonly name: string = "ForbiddenError";
}

/** 403 `quota_exceeded`: an account allowance is used up. */
export class QuotaExceededError extends DreamApiError {
  override readonly name: string = "QuotaExceededError";
}

/** 402 `payment_required`: a live key of a developer whose dream-api plan lapsed more than 14 days ago. */
export class PaymentRequiredError extends DreamApiError {
  override readonly name: string = "PaymentRequiredError";
  /** Since when live keys are paused. */
  readonly pausedSince: string | undefined;

  constructor(init: DreamApiErrorInit) {
    super(init);
    this.pausedSince = optional(this.details["pausedSince"], "string");
  }
}

/** 502 `stripe_error`: Stripe refused or failed. Retried like any 5xx. */
export class StripeError extends DreamApiError {
  override readonly name: string = "StripeError";
  /** Stripe's own error (type, code, message, param), when Stripe answered with one. */
  readonly stripe: StripeErrorDetail | undefined;

  constructor(init: DreamApiErrorInit) {
    super(init);
    this.stripe = this.details["stripe"] as StripeErrorDetail | undefined;
  }
}

/** 503 `unavailable`: a provider the API depends on (the sign-in service) is down or slow. Retried, honouring `Retry-After`. */
export class UnavailableError extends DreamApiError {
  override readonly name: string = "UnavailableError";
}

/** 500 `internal` (or another 5xx without a code): the API's fault; the cause is logged under {@link DreamApiError.requestId}. Retried. */
export class InternalError extends DreamApiError {
  override readonly name: string = "InternalError";
}

/** No answer: the connection failed (DNS, refused, reset, a body cut off). Retried; thrown once retries are used up. */
export class ApiConnectionError extends DreamApiError {
  override readonly name: string = "ApiConnectionError";

  constructor(init: Omit<DreamApiErrorInit, "code"> & { code?: string }) {
    super({ ...init, code: init.code ?? "connection_error" });
  }
}

/** No answer within the timeout (per attempt). Retried; thrown once retries are used up. */
export class TimeoutError extends ApiConnectionError {
  override readonly name: string = "TimeoutError";

  constructor(init: Omit<DreamApiErrorInit, "code">) {
    super({ ...init, code: "timeout" });
  }
}

type ErrorClass = new (init: DreamApiErrorInit) => DreamApiError;

const CLASS_BY_CODE: Readonly<Record<ErrorCode, ErrorClass>> = {
  invalid_request: InvalidRequestError,
  unauthorized: AuthenticationError,
  not_found: NotFoundError,
  limit_reached: LimitReachedError,
  rate_limited: RateLimitedError,
  conflict: ConflictError,
  forbidden: ForbiddenError,
  quota_exceeded: QuotaExceededError,
  payment_required: PaymentRequiredError,
  stripe_error: StripeError,
  unavailable: UnavailableError,
  internal: InternalError,
};

/** The code of an error answer without one (not from our edge: a proxy's HTML page), the way the API's own `ErrorCode::for_status` names them. */
export function codeForStatus(status: number): ErrorCode {
  if (status === 401 || status === 403) return "unauthorized";
  if (status === 404) return "not_found";
  if (status === 409) return "conflict";
  if (status === 429) return "rate_limited";
  if (status >= 400 && status < 500) return "invalid_request";
  return "internal";
}

/**
 * `Retry-After` in seconds: delta-seconds, or an HTTP date (then relative to `nowMs`).
 * `undefined` when absent or unreadable.
 */
export function parseRetryAfter(value: string | null, nowMs: number = Date.now()): number | undefined {
  if (value === null) return undefined;
  const text = value.trim();
  if (/^\d+$/.test(text)) return Number(text);
  const date = Date.parse(text);
  if (Number.isNaN(date)) return undefined;
  return Math.max(0, Math.ceil((date - nowMs) / 1000));
}

const MAX_MESSAGE_CHARS = 512;

/** The error for a non-2xx answer: by the body's `code`, else by the status. */
export function errorFromResponse(
  status: number,
  headers: { get(name: string): string | null },
  text: string,
): DreamApiError {
  let body: unknown = text;
  try {
    body = JSON.parse(text);
  } catch {
    // Not JSON (an HTML error page of a proxy): keep the text.
  }
  const record = isRecord(body) ? body : undefined;
  const code = typeof record?.["code"] === "string" ? record["code"] : codeForStatus(status);
  const message =
    typeof record?.["error"] === "string"
      ? record["error"]
      : text.trim().slice(0, MAX_MESSAGE_CHARS) || `HTTP ${status}`;
  const requestId =
    typeof record?.["requestId"] === "string" ? record["requestId"] : (headers.get("x-request-id") ?? undefined);
  const init: DreamApiErrorInit = {
    message,
    status,
    code,
    requestId,
    body,
    retryAfterSeconds: parseRetryAfter(headers.get("retry-after")),
  };
  const known = Object.prototype.hasOwnProperty.call(CLASS_BY_CODE, code) ? CLASS_BY_CODE[code as ErrorCode] : undefined;
  return known ? new known(init) : new DreamApiError(init);
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function optional<T extends "string" | "number">(
  value: unknown,
  type: T,
): (T extends "string" ? string : number) | undefined {
  return typeof value === type ? (value as T extends "string" ? string : number) : undefined;
}
