/**
 * The request and response bodies of api-multi, derived from `src/schema.ts`, which
 * `npm run generate` writes from api-multi's OpenAPI document
 * (`openapi/api-multi/openapi.json`, itself generated from the Rust types the handlers
 * serialize). Nothing here restates a field the document has: each type is the document's
 * schema, or built from it where the SDK adds something the document cannot say (the dashboard
 * narrowed by `projectType`, fields the API requires but the schema marks optional, the details
 * of error bodies, the lines of an order).
 *
 * Conventions of the wire format: field names are camelCase; an absent Rust `Option` in an
 * answer is JSON `null` (never a missing field); times are RFC 3339 UTC strings such as
 * `"2026-11-01T00:00:00Z"`; money is in cents (`…Cents`) unless the field says dollars.
 *
 * @module
 */

import type { components } from "./schema.js";

type Schemas = components["schemas"];

/** `T` with the properties `K` required (and their `undefined` dropped). */
type WithRequired<T, K extends keyof T> = Omit<T, K> & { [P in K]-?: Exclude<T[P], undefined> };

// ---- errors ---------------------------------------------------------------------------------

/** Every `code` an error body can carry. */
export type ErrorCode = Schemas["ErrorCode"];

/**
 * Every error, from every route: `{"error", "code", "requestId", ...details}`. The same request
 * id is in the `X-Request-Id` header. The details depend on the code (`usage` for
 * `limit_reached`, `rateLimit`, `stripe`, `available`, ...); see the error classes.
 */
export type ErrorBody = Schemas["ErrorBody"] & { [detail: string]: unknown };

/**
 * `rateLimit` of a `rate_limited` error from `POST /api/data` (absent for the per-address limit
 * on unknown keys). Not in the OpenAPI document, which lists only `usage` among the details.
 */
export interface RateLimitInfo {
  /** Requests allowed per period for one end user of one project (600). */
  limit: number;
  /** The period, in seconds (60). */
  periodSeconds: number;
  scope: "project+user";
}

/**
 * `stripe` of a `stripe_error`: Stripe's own error object, when Stripe answered with one. Not
 * in the OpenAPI document.
 */
export interface StripeErrorDetail {
  type: string | null;
  code: string | null;
  message: string | null;
  param: string | null;
}

// ---- usage ----------------------------------------------------------------------------------

/** A tier's limit per period; `null`: unlimited. */
export type UsageLimit = Schemas["UsageLimit"];

/**
 * `usage` in usage responses and in a `limit_reached` error, for one `meter`: `count` so far in
 * the period, `limit` (its included amount; `null`: unlimited), the `plan` counted on,
 * `remaining` included units (`null` when unlimited), the period (a calendar month for free
 * users, the Stripe period for subscribers), and for a meter whose overage is billed
 * (`overageBilled`) the `overage` units, their `overageCost` and what is left of the tier's
 * `spendCap` (dollars, exact decimal strings).
 */
export type UsageReport = Schemas["UsageReport"];

/** `POST /api/data`. */
export type UsageResponse = Schemas["UsageResponse"];

/** `GET /api/usage`: `usage` for requests (the original shape), `meters` for every meter. */
export type UsageOverview = Schemas["UsageOverview"];

/**
 * `GET /api/entitlements`: the user's `plan` now and where it comes from (`source`), the
 * subscription's `status` (`trialing` with `trialEndsAt`, `past_due`, ...), the boolean
 * `features` the tier grants and its `meters` with what each includes per period.
 */
export type Entitlements = Schemas["Entitlements"];
export type MeterGrant = Schemas["MeterGrant"];

/** `POST /api/widget/tokens`: a `wt_` token for one user's usage widget, and when it expires. */
export type WidgetToken = Schemas["WidgetToken"];
/** `GET /api/widget`: what the widget shows (read from the user's browser with the token). */
export type UsageWidget = Schemas["UsageWidget"];
export type PlanSource = Schemas["PlanSource"];

/**
 * `POST /api/check`'s answer: `allowed` and the `reason` (`granted`, `not_in_plan`,
 * `within_limit`, `overage`, `limit_reached`), with the meter's `usage` for a meter.
 */
export type CheckAnswer = Schemas["CheckAnswer"];
export type CheckReason = Schemas["CheckReason"];

/** `POST /api/data`'s body: a `meter` of the user's tier and a `quantity` of it. */
export type TrackRequest = Schemas["TrackRequest"];

// ---- customers and subscriptions ------------------------------------------------------------

/**
 * Body of `POST /api/customers` (unknown fields are refused). `email` is lower-cased by the API
 * (at most 254 characters); no password (only the customer sets theirs, through their email);
 * `plan` (SaaS only) is a tier of the project, the user's plan until they subscribe.
 */
export type CreateCustomerRequest = Schemas["CreateCustomerRequest"];

/** A customer as the API shows it. Its `id` is the `userId` (`X-User-Id`) of the other calls. */
export type CustomerView = Schemas["CustomerView"];
/** Same as {@link CustomerView}. */
export type Customer = CustomerView;

/** `POST /api/customers`: 201 when created, 200 with `created: false` when the project already had this email. */
export type CustomerCreated = Schemas["CustomerCreated"];

/**
 * Body of `POST /api/create-checkout` (with `X-User-Id`): a paid `tier`, and absolute http(s)
 * `successUrl` / `cancelUrl` (default: api-multi's own pages). `tier` is required here: the
 * document marks it optional (the Rust field has a serde default), but the API answers 400
 * without it.
 */
export type CheckoutRequest = WithRequired<Schemas["CheckoutRequest"], "tier">;

/** A started Checkout: `url` to send the user to; `reused` when their open session for the same tier was handed out again. */
export type CheckoutStarted = Schemas["CheckoutStarted"];

/** `POST /api/create-checkout`. */
export type CheckoutResponse = Schemas["CheckoutResponse"];

/** Body of `POST /api/customer-portal` (with `X-User-Id`): where the portal's "return" link leads. */
export type PortalRequest = Schemas["PortalRequest"];

/** `POST /api/customer-portal`. */
export type PortalResponse = Schemas["PortalResponse"];

/**
 * Body of `POST /api/change-plan` (with `X-User-Id`): the paid tier to move to. Required here
 * for the same reason as {@link CheckoutRequest}'s `tier`.
 */
export type ChangePlanRequest = WithRequired<Schemas["ChangePlanRequest"], "tier">;

/** A subscription as the API shows it; `status` is Stripe's (`active`, `trialing`, `past_due`, `canceled`, ...). */
export type SubscriptionView = Schemas["SubscriptionView"];
/** Same as {@link SubscriptionView}. */
export type Subscription = SubscriptionView;

/** `POST /api/change-plan`. */
export type PlanChanged = Schemas["PlanChanged"];

// ---- store ----------------------------------------------------------------------------------

/** A product as `GET /api/products` shows it; a cart line names its `priceId`. */
export type Product = Schemas["Product"];

/** `GET /api/products`. */
export type ProductList = Schemas["ProductList"];

/** One line of a cart: a `priceId` and a `quantity` (1 to 99 units of a product per cart). The same `priceId` twice is one line. */
export type CartItem = Schemas["CartItem"];

/**
 * Body of `POST /api/cart/checkout`: 1 to 20 `items`, an optional `email` (prefills Stripe
 * Checkout) and return URLs. `items` is required here: the document marks it optional (a serde
 * default), but the API answers 400 for an empty cart.
 */
export type CartRequest = WithRequired<Schemas["CartRequest"], "items">;

/** A started cart Checkout: the stock stays held until a little after `expiresAt` (about 31 minutes). */
export type CartStarted = Schemas["CartStarted"];

/** `POST /api/cart/checkout`. */
export type CartCheckoutResponse = Schemas["CartCheckoutResponse"];

/** `POST /api/orders/{orderId}/cancel`: `status` is `expired` (also when it had ended already). */
export type OrderCanceled = Schemas["OrderCanceled"];

// ---- dashboard ------------------------------------------------------------------------------

export type Mode = Schemas["Mode"];
export type ProjectType = Schemas["ProjectType"];

/** The SaaS figures: subscriptions (entitled: active, trialing, past_due), MRR, usage, customers. */
export type SaasSummary = Schemas["SaasSummary"];
/** Same as {@link SaasSummary}. */
export type SaasMetrics = SaasSummary;

/** One of the newest customers on a SaaS dashboard; `status` is `none` for one who never subscribed. */
export type CustomerSummary = Schemas["CustomerSummary"];

/** Requests in one month (`YYYY-MM`). */
export type MonthUsage = Schemas["MonthUsage"];

export type TierShare = Schemas["TierShare"];

/** The Store figures. */
export type StoreMetrics = Schemas["StoreMetrics"];

/** Revenue and orders of one day (`YYYY-MM-DD`). */
export type DayRevenue = Schemas["DayRevenue"];

/**
 * A line of a paid order, as the order's items are stored. The document describes the lines
 * only in words (`[{product, quantity, unitCents}]`, schema `object`), so the SDK spells them out.
 */
export interface OrderItem {
  /** The product's name. */
  product: string;
  quantity: number;
  unitCents: number;
}

/** A paid order on a Store dashboard, its `items` typed. */
export type RecentOrder = Omit<Schemas["RecentOrder"], "items"> & { items: OrderItem[] };

/** What both dashboards carry besides their figures. */
type DashboardHead = Pick<Schemas["ProjectDashboard"], "publishableKey" | "mode" | "generatedAt" | "tax" | "currency">;

/** `GET /api/dashboard` of a SaaS project. */
export type SaasDashboard = DashboardHead & { projectType: Extract<ProjectType, "saas"> } & Schemas["SaasFigures"];

/** `GET /api/dashboard` of a Store project. */
export type StoreDashboard = DashboardHead & { projectType: Extract<ProjectType, "store"> } & Omit<
    Schemas["StoreFigures"],
    "recentOrders"
  > & {
    /** The 20 most recent paid orders. */
    recentOrders: RecentOrder[];
  };

/**
 * `GET /api/dashboard` (no `success` field): narrow on `projectType`. The document says the
 * same (its `Figures` is `SaasFigures | StoreFigures` beside a `projectType`), but without
 * tying each figures shape to its `projectType`, which this union does.
 */
export type ProjectDashboard = SaasDashboard | StoreDashboard;
