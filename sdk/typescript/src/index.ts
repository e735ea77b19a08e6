/**
 * `dream-api`: the client developers' servers use to call dream-api's metered API (api-multi)
 * with their project's secret key. No dependencies beyond the global `fetch`.
 *
 * @packageDocumentation
 */

export {
  DreamApi,
  DEFAULT_BASE_URL,
  DEFAULT_MAX_RETRIES,
  DEFAULT_MAX_RETRY_AFTER_MS,
  DEFAULT_MAX_RETRY_DELAY_MS,
  DEFAULT_RETRY_BASE_DELAY_MS,
  DEFAULT_TIMEOUT_MS,
} from "./client.js";
export type {
  CartCheckoutParams,
  ChangePlanParams,
  CheckParams,
  CreateCheckoutParams,
  CreateCustomerParams,
  CustomerPortalParams,
  DreamApiOptions,
  FetchInit,
  FetchLike,
  FetchResponse,
  IdempotencyParams,
  RequestOptions,
  RetryInfo,
  TrackUsageParams,
  TrackUsageResult,
  UsageParams,
  UserParams,
  WidgetTokenParams,
} from "./client.js";
export {
  ApiConnectionError,
  AuthenticationError,
  ConflictError,
  DreamApiError,
  InternalError,
  InvalidRequestError,
  LimitReachedError,
  NotFoundError,
  PaymentRequiredError,
  ForbiddenError,
  QuotaExceededError,
  RateLimitedError,
  StripeError,
  UnavailableError,
  TimeoutError,
} from "./errors.js";
export type { ClientErrorCode, DreamApiErrorInit } from "./errors.js";
export type * from "./types.js";
export { signWebhook, verifyWebhook, WebhookVerificationError } from "./webhooks.js";
export type { VerifyWebhookOptions, WebhookEvent, WebhookEventType, WebhookHeaders } from "./webhooks.js";
/** The raw types openapi-typescript generates from api-multi's OpenAPI document (`src/schema.ts`). */
export type { components, operations, paths } from "./schema.js";
