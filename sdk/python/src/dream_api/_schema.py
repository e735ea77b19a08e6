"""api-multi's request and response bodies, generated from openapi/api-multi/openapi.json by
scripts/generate_types.py. Do not edit: run `python scripts/generate_types.py`."""

# fmt: off
from __future__ import annotations

from typing import Any, Dict, List, Literal, Optional, TypedDict, Union

__all__ = [
    "Amount",
    "CartCheckoutResponse",
    "CartItem",
    "CartRequest",
    "CartStarted",
    "Cents",
    "ChangePlanRequest",
    "CheckAnswer",
    "CheckReason",
    "CheckRequest",
    "CheckoutRequest",
    "CheckoutResponse",
    "CheckoutStarted",
    "ClerkDetail",
    "ConnectEventReceived",
    "CreateCustomerRequest",
    "Currency",
    "CustomerCreated",
    "CustomerCreatedData",
    "CustomerCreatedEvent",
    "CustomerSummary",
    "CustomerView",
    "DayRevenue",
    "EndpointTestData",
    "EndpointTestEvent",
    "Entitlements",
    "ErrorBody",
    "ErrorCode",
    "FeatureKey",
    "Figures",
    "Health",
    "KeyRotatedData",
    "KeyRotatedEvent",
    "MeterFigure",
    "MeterGrant",
    "MeterKey",
    "Mode",
    "MonthUsage",
    "NearCap",
    "OpenOrder",
    "OrderCanceled",
    "OrderData",
    "OrderItemData",
    "OrderLine",
    "OrderPaidEvent",
    "OrderRefundedEvent",
    "OrderShortEvent",
    "Outcome",
    "Outcome1",
    "Outcome2",
    "Outcome3",
    "Outcome4",
    "Outcome5",
    "Outcome6",
    "Outcome7",
    "PlanChanged",
    "PlanSource",
    "PortalRequest",
    "PortalResponse",
    "Product",
    "ProductList",
    "ProductLowStockEvent",
    "ProductSoldOutEvent",
    "ProductStockData",
    "ProjectDashboard",
    "ProjectType",
    "RateLimitDetail",
    "RecentOrder",
    "Role",
    "SaasDashboard",
    "SaasFigures",
    "SaasSummary",
    "StorageUsage",
    "StoreDashboard",
    "StoreFigures",
    "StoreMetrics",
    "StripeErrorDetail",
    "SubscriptionCanceledEvent",
    "SubscriptionCreatedEvent",
    "SubscriptionData",
    "SubscriptionPastDueEvent",
    "SubscriptionUpdatedEvent",
    "SubscriptionView",
    "TaxBehavior",
    "TaxSettings",
    "TierShare",
    "TrackRequest",
    "UsageCapReachedData",
    "UsageCapReachedEvent",
    "UsageLimit",
    "UsageOverview",
    "UsageReport",
    "UsageResponse",
    "UsageThresholdData",
    "UsageThresholdEvent",
    "UsageWidget",
    "WebhookEvent",
    "WidgetTier",
    "WidgetToken",
    "WidgetTokenRequest",
]

#: An amount of money too small for whole cents: an overage bill or what is left of a cap.
Amount = str

Cents = float

#: Why a check is allowed or not.
CheckReason = Literal["granted", "not_in_plan", "within_limit", "overage", "limit_reached"]

#: The currency of a project: its tiers' prices, checkouts, invoices and figures. Lowercase ISO
#: 4217, as Stripe writes it. Prices are held in hundredths of the major unit whatever the
#: currency (`Cents`); Stripe counts in the currency's smallest unit, which for zero-decimal
#: currencies (JPY, KRW) is the major unit: `minor_units` converts where amounts cross.
Currency = str

ErrorCode = Literal["invalid_request", "unauthorized", "not_found", "limit_reached", "rate_limited", "conflict", "forbidden", "quota_exceeded", "payment_required", "stripe_error", "unavailable", "internal"]

#: A boolean feature's name, a lowercase slug like a meter's: one namespace with the meters, so
#: `POST /api/check {feature}` names either unambiguously.
FeatureKey = str

#: A SaaS project's figures or a Store's, by `projectType`.
Figures = Union["SaasFigures", "StoreFigures"]

#: A meter's name within its tier: a lowercase slug, like a tier name.
MeterKey = str

Mode = Literal["test", "live"]

#: What became of an event, as the webhook's answer says (Stripe shows it in its dashboard).
Outcome = Union["Outcome1", "Outcome2", "Outcome3", "Outcome4", "Outcome5", "Outcome6", "Outcome7"]

#: Where the user's plan comes from.
PlanSource = Literal["header", "subscription", "customer", "default"]

ProjectDashboard = Union["SaasDashboard", "StoreDashboard"]

#: Locked at creation: a project either sells subscriptions with usage limits or products
#: with inventory, never both.
ProjectType = Literal["saas", "store"]

#: A member's role, from most to least trusted.
Role = Literal["owner", "admin", "developer", "viewer"]

TaxBehavior = Literal["exclusive", "inclusive"]

#: Requests allowed per billing period. `None` (JSON `null`) is unlimited.
UsageLimit = Optional[int]

#: Every event dream-api delivers to a developer's webhook endpoint, told apart by `type`.
WebhookEvent = Union["CustomerCreatedEvent", "EndpointTestEvent", "KeyRotatedEvent", "OrderPaidEvent", "OrderRefundedEvent", "OrderShortEvent", "ProductLowStockEvent", "ProductSoldOutEvent", "SubscriptionCanceledEvent", "SubscriptionCreatedEvent", "SubscriptionPastDueEvent", "SubscriptionUpdatedEvent", "UsageCapReachedEvent", "UsageThresholdEvent"]


class CartCheckoutResponse(TypedDict):
    #: The cart at list prices; a promotion code lowers what Stripe charges (the order's paid
    #: amount, and the revenue figures, are what was paid).
    amountCents: int
    expiresAt: str
    orderId: str
    sessionId: str
    success: bool
    url: str


class CartItem(TypedDict):
    priceId: str
    quantity: int


class _CartRequestOptional(TypedDict, total=False):
    #: Stripe's checkout page offers a field for the buyer's promotion code. Stripe accepts any
    #: active code of your connected account in this mode there, your other projects' and
    #: codes made in Stripe's dashboard included; pass `promotionCode` to allow this project's
    #: only.
    allowPromotionCodes: Optional[bool]
    cancelUrl: Optional[str]
    email: Optional[str]
    #: One of the project's promotion codes, applied already (not with `allowPromotionCodes`).
    promotionCode: Optional[str]
    successUrl: Optional[str]


class CartRequest(_CartRequestOptional):
    items: List[CartItem]


class CartStarted(TypedDict):
    #: The cart at list prices; a promotion code lowers what Stripe charges (the order's paid
    #: amount, and the revenue figures, are what was paid).
    amountCents: int
    expiresAt: str
    orderId: str
    sessionId: str
    url: str


class ChangePlanRequest(TypedDict):
    tier: str


class CheckAnswer(TypedDict):
    """`POST /api/check`'s answer."""
    allowed: bool
    feature: str
    plan: str
    reason: CheckReason
    success: bool
    usage: Optional[UsageReport]


class _CheckRequestOptional(TypedDict, total=False):
    #: Your user's id (or send `X-User-Id`).
    userId: Optional[str]


class CheckRequest(_CheckRequestOptional):
    """`POST /api/check`."""
    #: A boolean feature or a meter of the project.
    feature: str


class _CheckoutRequestOptional(TypedDict, total=False):
    #: Stripe's checkout page offers a field for the customer's promotion code. Stripe accepts
    #: any active code of your connected account in this mode there, your other projects' and
    #: codes made in Stripe's dashboard included; pass `promotionCode` to allow this project's
    #: only.
    allowPromotionCodes: Optional[bool]
    cancelUrl: Optional[str]
    #: One of the project's promotion codes, applied already (not with `allowPromotionCodes`).
    promotionCode: Optional[str]
    successUrl: Optional[str]


class CheckoutRequest(_CheckoutRequestOptional):
    tier: str


class CheckoutResponse(TypedDict):
    #: The user's open session for the same tier, handed out again.
    reused: bool
    sessionId: str
    success: bool
    #: Days of free trial the subscription starts with; `null`: none (the tier has no trial,
    #: or this user already had one in this project).
    trialDays: Optional[int]
    url: str


class CheckoutStarted(TypedDict):
    #: The user's open session for the same tier, handed out again.
    reused: bool
    sessionId: str
    #: Days of free trial the subscription starts with; `null`: none (the tier has no trial,
    #: or this user already had one in this project).
    trialDays: Optional[int]
    url: str


class ClerkDetail(TypedDict, total=False):
    code: Optional[str]


class ConnectEventReceived(TypedDict):
    """What api-multi's webhook answers Stripe (shown in Stripe's delivery log)."""
    event: str
    received: bool
    result: Outcome


class _CreateCustomerRequestOptional(TypedDict, total=False):
    firstName: Optional[str]
    lastName: Optional[str]
    plan: Optional[str]


class CreateCustomerRequest(_CreateCustomerRequestOptional):
    """The body of `POST /api/customers`."""
    email: str


class CustomerCreated(TypedDict):
    #: `false` when a customer with this email already existed in the project (a retry).
    created: bool
    customer: CustomerView
    success: bool


class CustomerCreatedData(TypedDict):
    """`customer.created`."""
    email: str
    firstName: Optional[str]
    lastName: Optional[str]
    #: The plan given at creation, if any.
    plan: Optional[str]
    userId: str


class CustomerCreatedEvent(TypedDict):
    """The `customer.created` event, as your endpoint receives it."""
    created: str
    data: CustomerCreatedData
    #: `evt_…`, also the `webhook-id` header: the same on every retry and replay
    id: str
    mode: Mode
    #: The project's publishable key
    project: str
    type: Literal["customer.created"]


class CustomerSummary(TypedDict):
    cancelAtPeriodEnd: bool
    createdAt: str
    currentPeriodEnd: Optional[str]
    email: Optional[str]
    id: str
    plan: str
    #: The subscription's Stripe status; `none` for a customer who never subscribed.
    status: str
    usage: int


class CustomerView(TypedDict):
    """A customer as the API shows it."""
    createdAt: str
    email: Optional[str]
    firstName: Optional[str]
    id: str
    lastName: Optional[str]
    plan: str


class DayRevenue(TypedDict):
    day: str
    orders: int
    revenueCents: int


class EndpointTestData(TypedDict):
    """`endpoint.test`."""
    endpointId: str
    message: str


class EndpointTestEvent(TypedDict):
    """The `endpoint.test` event, as your endpoint receives it."""
    created: str
    data: EndpointTestData
    #: `evt_…`, also the `webhook-id` header: the same on every retry and replay
    id: str
    mode: Mode
    #: The project's publishable key
    project: str
    type: Literal["endpoint.test"]


class Entitlements(TypedDict):
    """`GET /api/entitlements`."""
    #: The subscription ends at `currentPeriodEnd` (the user canceled; access stays until then).
    cancelAtPeriodEnd: bool
    currentPeriodEnd: Optional[str]
    #: The boolean features the tier grants.
    features: List[FeatureKey]
    #: The tier's meters with what each includes per period.
    meters: List[MeterGrant]
    #: The tier the user is on now (the same rule as metering: `X-User-Plan`, else their
    #: subscription, else their customer record's plan, else `free`).
    plan: str
    source: PlanSource
    #: The subscription's Stripe status when one entitles the user: `active`, `trialing` or
    #: `past_due` (Stripe is retrying a payment; access stays).
    status: Optional[str]
    success: bool
    #: When the trial ends, while the user is `trialing`.
    trialEndsAt: Optional[str]
    userId: str


class _ErrorBodyOptional(TypedDict, total=False):
    available: Optional[int]
    clerk: Optional[ClerkDetail]
    #: `quota_exceeded` on a new customer: how many a project may add in 24 hours.
    customersPerDay: Optional[int]
    #: `conflict` on an invitation: how many members and pending invitations an organization
    #: may have.
    maxMembers: Optional[int]
    #: `quota_exceeded` on a new project: how many projects a developer may have.
    maxProjects: Optional[int]
    #: `payment_required`: when live keys paused.
    pausedSince: Optional[str]
    priceId: Optional[str]
    #: `conflict` on a cart: the product, its price and how many can be bought now.
    product: Optional[str]
    quota: Optional[StorageUsage]
    rateLimit: Optional[RateLimitDetail]
    requiredRole: Optional[Role]
    role: Optional[Role]
    stripe: Optional[StripeErrorDetail]
    #: `conflict` on a tier edit or deletion: subscriptions Stripe may still charge for it.
    subscribers: Optional[int]
    usage: Optional[UsageReport]


class ErrorBody(_ErrorBodyOptional):
    """Every error, from every route: `{error, code, requestId, ...details}`."""
    #: What went wrong, for a program.
    code: ErrorCode
    #: What went wrong, for a human.
    error: str
    #: Also in the `X-Request-Id` header; quote it when reporting a problem.
    requestId: str


class Health(TypedDict):
    """`GET /health` of every worker."""
    status: str
    #: Which worker answered (a check that the URL points where you think).
    worker: str


class KeyRotatedData(TypedDict):
    """`key.rotated`: the project's secret key was replaced."""
    mode: Mode
    #: Until when the replaced key still works; absent when it stopped at once.
    previousKeyExpiresAt: Optional[str]
    publishableKey: str
    requestId: str


class KeyRotatedEvent(TypedDict):
    """The `key.rotated` event, as your endpoint receives it."""
    created: str
    data: KeyRotatedData
    #: `evt_…`, also the `webhook-id` header: the same on every retry and replay
    id: str
    mode: Mode
    #: The project's publishable key
    project: str
    type: Literal["key.rotated"]


class MeterFigure(TypedDict):
    """One meter across the project's users this period."""
    meter: str
    #: What that overage bills at the tiers' prices, in dollars (exact decimal).
    overageRevenue: Amount
    #: Units past the included amounts of subscribers billed for them.
    overageUnits: int
    units: int
    #: Users who counted any of it.
    users: int


class MeterGrant(TypedDict):
    #: Units included per period; `null`: unlimited.
    included: UsageLimit
    meter: str
    #: Whether use past `included` is billed (for a subscriber to the tier) instead of refused.
    overage: bool


class MonthUsage(TypedDict):
    month: str
    requests: int


class NearCap(TypedDict):
    """A subscriber close to their tier's spend cap."""
    #: The tier's cap, in dollars.
    cap: Amount
    plan: str
    #: Their overage so far this period, in dollars.
    spent: Amount
    userId: str


class OpenOrder(TypedDict):
    """A checkout a buyer can still pay: its stock is held until it expires or is canceled."""
    amountCents: int
    createdAt: str
    currency: str
    email: Optional[str]
    expiresAt: str
    items: List[OrderLine]
    orderId: str


class OrderCanceled(TypedDict):
    orderId: str
    #: `expired`: nobody can pay it any more and its stock is available again (also when it
    #: had ended already: `failed` or `expired`).
    status: str
    success: bool


class OrderData(TypedDict):
    """`order.paid`, `order.short` (paid for units beyond the stock left: `shortUnits`) and
    `order.refunded` (once per refunded total)."""
    amountCents: int
    currency: str
    email: Optional[str]
    items: List[OrderItemData]
    orderId: str
    paidAt: Optional[str]
    paidCents: Optional[int]
    refundedCents: int
    shortUnits: int
    status: str


class OrderItemData(TypedDict):
    product: str
    quantity: int
    unitCents: int


class OrderLine(TypedDict):
    """One line of a sold order, as it was priced at checkout (as `storage::orders` stores it)."""
    #: The product's name (its tier name).
    product: str
    quantity: int
    unitCents: int


class OrderPaidEvent(TypedDict):
    """The `order.paid` event, as your endpoint receives it."""
    created: str
    data: OrderData
    #: `evt_…`, also the `webhook-id` header: the same on every retry and replay
    id: str
    mode: Mode
    #: The project's publishable key
    project: str
    type: Literal["order.paid"]


class OrderRefundedEvent(TypedDict):
    """The `order.refunded` event, as your endpoint receives it."""
    created: str
    data: OrderData
    #: `evt_…`, also the `webhook-id` header: the same on every retry and replay
    id: str
    mode: Mode
    #: The project's publishable key
    project: str
    type: Literal["order.refunded"]


class OrderShortEvent(TypedDict):
    """The `order.short` event, as your endpoint receives it."""
    created: str
    data: OrderData
    #: `evt_…`, also the `webhook-id` header: the same on every retry and replay
    id: str
    mode: Mode
    #: The project's publishable key
    project: str
    type: Literal["order.short"]


class Outcome1(TypedDict):
    outcome: Literal["applied"]
    plan: str
    status: str
    subscription: str


class Outcome2(TypedDict):
    """A Store order was paid: its held stock is sold."""
    order: str
    outcome: Literal["orderSold"]


class Outcome3(TypedDict):
    """A Store order's session expired unpaid: its hold is released."""
    order: str
    outcome: Literal["orderReleased"]


class Outcome4(TypedDict):
    """A paid Store order's refunds or dispute, as Stripe reports them now, are recorded."""
    order: str
    outcome: Literal["orderUpdated"]


class Outcome5(TypedDict):
    """The account's owner revoked our access: its developer must reconnect it."""
    account: str
    outcome: Literal["disconnected"]


class Outcome6(TypedDict):
    outcome: Literal["duplicate"]


class Outcome7(TypedDict):
    outcome: Literal["ignored"]
    reason: str


class PlanChanged(TypedDict):
    #: `false` when the subscription already was on that tier.
    changed: bool
    subscription: SubscriptionView
    success: bool


class PortalRequest(TypedDict, total=False):
    returnUrl: Optional[str]


class PortalResponse(TypedDict):
    success: bool
    #: Stripe's billing portal for the customer; send them there.
    url: str


class Product(TypedDict):
    """A product as `GET /api/products` shows it."""
    #: What a new cart can take now: stock minus units held by open checkouts.
    available: Optional[int]
    currency: str
    description: Optional[str]
    displayName: str
    imageUrl: Optional[str]
    #: Units not sold yet; `null`: not tracked (unlimited).
    inventory: Optional[int]
    name: str
    #: In dollars (`9.99`), as the spec shows prices; `priceCents` is exact.
    price: float
    priceCents: int
    priceId: Optional[str]
    soldOut: bool


class ProductList(TypedDict):
    products: List[Product]
    success: bool


class ProductLowStockEvent(TypedDict):
    """The `product.low_stock` event, as your endpoint receives it."""
    created: str
    data: ProductStockData
    #: `evt_…`, also the `webhook-id` header: the same on every retry and replay
    id: str
    mode: Mode
    #: The project's publishable key
    project: str
    type: Literal["product.low_stock"]


class ProductSoldOutEvent(TypedDict):
    """The `product.sold_out` event, as your endpoint receives it."""
    created: str
    data: ProductStockData
    #: `evt_…`, also the `webhook-id` header: the same on every retry and replay
    id: str
    mode: Mode
    #: The project's publishable key
    project: str
    type: Literal["product.sold_out"]


class ProductStockData(TypedDict):
    """`product.low_stock` (a sale took its stock to `LOW_STOCK_UNITS` or below) and
    `product.sold_out` (to 0)."""
    displayName: str
    inventory: int
    #: The sale that took it there.
    orderId: str
    product: str


class SaasDashboard(TypedDict):
    """ProjectDashboard with `projectType` 'saas'."""
    #: What every amount is in (`*Cents`: hundredths of it). A project has one currency, so no
    #: figure adds two together.
    currency: Currency
    #: The newest customers (at most 100); `metrics` counts all of them.
    customers: List[CustomerSummary]
    generatedAt: str
    #: The meters besides requests, this billing period (open periods), by name.
    meters: List[MeterFigure]
    metrics: SaasSummary
    mode: Mode
    #: Subscribers whose overage this period has used 80 % or more of their tier's spend cap,
    #: nearest first (at most 20).
    nearCap: List[NearCap]
    projectType: Literal["saas"]
    publishableKey: str
    #: Whether the figures include tax: with `automaticTax`, Store revenue includes the tax
    #: buyers paid (`taxCents`), and MRR includes it when prices are `inclusive`.
    tax: TaxSettings
    tierMix: List[TierShare]
    #: The last six months, oldest first.
    usageByMonth: List[MonthUsage]


class StoreDashboard(TypedDict):
    """ProjectDashboard with `projectType` 'store'."""
    #: What every amount is in (`*Cents`: hundredths of it). A project has one currency, so no
    #: figure adds two together.
    currency: Currency
    generatedAt: str
    metrics: StoreMetrics
    mode: Mode
    #: Checkouts a buyer can still pay (holding stock), newest first: each can be canceled.
    openOrders: List[OpenOrder]
    products: List[Product]
    projectType: Literal["store"]
    publishableKey: str
    recentOrders: List[RecentOrder]
    #: The last 30 days, oldest first.
    revenueByDay: List[DayRevenue]
    #: Whether the figures include tax: with `automaticTax`, Store revenue includes the tax
    #: buyers paid (`taxCents`), and MRR includes it when prices are `inclusive`.
    tax: TaxSettings


class RateLimitDetail(TypedDict):
    limit: int
    periodSeconds: int
    #: What is counted together (`project+user`).
    scope: str


class RecentOrder(TypedDict):
    amountCents: int
    currency: str
    #: Stripe's dispute status (`needs_response`, `under_review`, `won`, `lost`, …), if disputed.
    disputeStatus: Optional[str]
    disputedCents: int
    email: Optional[str]
    #: Passed through as stored (typing it here would cost the Worker a deserializer).
    items: List[OrderLine]
    orderId: str
    paidAt: Optional[str]
    #: What Stripe refunded of it so far (from the dashboard, Stripe's, or the API).
    refundedCents: int
    #: Whether a refund from the dashboard returned its units to stock.
    restocked: bool
    #: Units paid for beyond the stock left for this order: its payment was applied after its
    #: hold ended and other carts had taken them. The developer restocks or refunds them.
    shortUnits: int


class SaasFigures(TypedDict):
    #: The newest customers (at most 100); `metrics` counts all of them.
    customers: List[CustomerSummary]
    #: The meters besides requests, this billing period (open periods), by name.
    meters: List[MeterFigure]
    metrics: SaasSummary
    #: Subscribers whose overage this period has used 80 % or more of their tier's spend cap,
    #: nearest first (at most 20).
    nearCap: List[NearCap]
    tierMix: List[TierShare]
    #: The last six months, oldest first.
    usageByMonth: List[MonthUsage]


class SaasSummary(TypedDict):
    activeSubscriptions: int
    canceling: int
    customers: int
    mrrCents: int
    pastDue: int
    #: Subscriptions in their free trial now (counted in `activeSubscriptions` too).
    trialing: int
    #: Of those, the ones that became paying subscriptions: the conversion rate is
    #: `trialsConverted / trialsEnded`.
    trialsConverted: int
    #: Trials that are over: ended, canceled during the trial, or converted early.
    trialsEnded: int
    usageThisPeriod: int


class StorageUsage(TypedDict):
    bytes: int
    images: int
    maxBytes: int
    maxImages: int


class StoreFigures(TypedDict):
    metrics: StoreMetrics
    #: Checkouts a buyer can still pay (holding stock), newest first: each can be canceled.
    openOrders: List[OpenOrder]
    products: List[Product]
    recentOrders: List[RecentOrder]
    #: The last 30 days, oldest first.
    revenueByDay: List[DayRevenue]


class StoreMetrics(TypedDict):
    disputesLostCents: int
    inStock: int
    lowStock: int
    openCheckouts: int
    #: Disputes not decided yet (the developer has evidence to send in Stripe).
    openDisputes: int
    products: int
    refundedCents: int
    #: What paid orders brought in: payments less refunds and lost disputes (tax Stripe
    #: collected included: `taxCents`).
    revenueCents: int
    soldOut: int
    #: The tax buyers paid on paid orders (with automatic tax), part of what they paid.
    taxCents: int
    totalSales: int
    unitsSold: int


class StripeErrorDetail(TypedDict, total=False):
    code: Optional[str]
    message: Optional[str]
    param: Optional[str]
    type: Optional[str]


class SubscriptionCanceledEvent(TypedDict):
    """The `subscription.canceled` event, as your endpoint receives it."""
    created: str
    data: SubscriptionData
    #: `evt_…`, also the `webhook-id` header: the same on every retry and replay
    id: str
    mode: Mode
    #: The project's publishable key
    project: str
    type: Literal["subscription.canceled"]


class SubscriptionCreatedEvent(TypedDict):
    """The `subscription.created` event, as your endpoint receives it."""
    created: str
    data: SubscriptionData
    #: `evt_…`, also the `webhook-id` header: the same on every retry and replay
    id: str
    mode: Mode
    #: The project's publishable key
    project: str
    type: Literal["subscription.created"]


class SubscriptionData(TypedDict):
    """`subscription.created`, `.updated`, `.past_due` and `.canceled`: the subscription as it is
    now, and what it was before this change."""
    cancelAtPeriodEnd: bool
    currentPeriodEnd: Optional[str]
    currentPeriodStart: Optional[str]
    plan: str
    previousPlan: Optional[str]
    previousStatus: Optional[str]
    #: Stripe's status: `active`, `trialing`, `past_due`, `unpaid`, `canceled`, …
    status: str
    stripeCustomerId: str
    subscriptionId: str
    #: The end of the subscription's free trial, if it started with one (kept after it ends).
    trialEnd: Optional[str]
    userId: str


class SubscriptionPastDueEvent(TypedDict):
    """The `subscription.past_due` event, as your endpoint receives it."""
    created: str
    data: SubscriptionData
    #: `evt_…`, also the `webhook-id` header: the same on every retry and replay
    id: str
    mode: Mode
    #: The project's publishable key
    project: str
    type: Literal["subscription.past_due"]


class SubscriptionUpdatedEvent(TypedDict):
    """The `subscription.updated` event, as your endpoint receives it."""
    created: str
    data: SubscriptionData
    #: `evt_…`, also the `webhook-id` header: the same on every retry and replay
    id: str
    mode: Mode
    #: The project's publishable key
    project: str
    type: Literal["subscription.updated"]


class SubscriptionView(TypedDict):
    """A subscription as the API shows it."""
    cancelAtPeriodEnd: bool
    currentPeriodEnd: Optional[str]
    currentPeriodStart: Optional[str]
    id: str
    plan: str
    status: str


class TaxSettings(TypedDict):
    """A project's tax settings (`PUT /project-settings`)."""
    #: Stripe Tax computes and collects tax on the project's checkouts and invoices, from the
    #: customer's address (which checkout then asks for).
    automaticTax: bool
    #: Whether the project's prices include tax; its Stripe prices carry it.
    taxBehavior: TaxBehavior


class TierShare(TypedDict):
    customers: int
    tier: str


class TrackRequest(TypedDict, total=False):
    """`POST /api/data`'s optional body: a quantity of one of the tier's meters. No body counts
    one `requests`."""
    meter: Optional[MeterKey]
    #: A positive whole number of units, at most 1,000,000,000 (default 1).
    quantity: Optional[int]


class UsageCapReachedData(TypedDict):
    """`usage.cap_reached`: the user's spend cap refused a count (once per user and period)."""
    count: int
    #: The meter whose count was refused.
    meter: str
    periodEnd: str
    periodStart: str
    plan: str
    spendCapCents: int
    userId: str


class UsageCapReachedEvent(TypedDict):
    """The `usage.cap_reached` event, as your endpoint receives it."""
    created: str
    data: UsageCapReachedData
    #: `evt_…`, also the `webhook-id` header: the same on every retry and replay
    id: str
    mode: Mode
    #: The project's publishable key
    project: str
    type: Literal["usage.cap_reached"]


class UsageOverview(TypedDict):
    """`GET /api/usage`: the `requests` meter as `usage` (the original shape), and every meter of
    the user's tier."""
    meters: List[UsageReport]
    success: bool
    usage: UsageReport


class UsageReport(TypedDict):
    """`usage` in responses: one meter of the user's tier. The spec's `count`, `limit` (the
    included amount), `plan`, plus what a client needs to plan and bill."""
    count: int
    #: Units included in the period (`null`: unlimited).
    limit: UsageLimit
    meter: str
    #: Units counted past `limit`.
    overage: int
    #: Whether use past `limit` is billed as overage (`false`: refused at `limit`).
    overageBilled: bool
    #: What the overage costs so far, in dollars (exact decimal).
    overageCost: Amount
    periodEnd: str
    periodStart: str
    plan: str
    #: Included units left.
    remaining: Optional[int]
    spendCap: Optional[Cents]
    spendCapLeft: Optional[Amount]


class UsageResponse(TypedDict):
    """`POST /api/data` and `GET /api/usage`."""
    success: bool
    usage: UsageReport


class UsageThresholdData(TypedDict):
    """`usage.threshold`: a user's count of a meter reached `threshold` % of its included amount
    (80 and 100, each once per user, meter and period)."""
    #: The count that crossed it.
    count: int
    included: int
    meter: str
    periodEnd: str
    periodStart: str
    plan: str
    threshold: int
    userId: str


class UsageThresholdEvent(TypedDict):
    """The `usage.threshold` event, as your endpoint receives it."""
    created: str
    data: UsageThresholdData
    #: `evt_…`, also the `webhook-id` header: the same on every retry and replay
    id: str
    mode: Mode
    #: The project's publishable key
    project: str
    type: Literal["usage.threshold"]


class UsageWidget(TypedDict):
    """`GET /api/widget`: what the widget shows one user."""
    cancelAtPeriodEnd: bool
    currentPeriodEnd: Optional[str]
    plan: WidgetTier
    #: The project's display name.
    project: str
    source: PlanSource
    #: The subscription's status when one entitles the user (`active`, `trialing`, `past_due`).
    status: Optional[str]
    success: bool
    #: The project's other tiers the token offers (`offerTiers`), cheapest first: what an
    #: upgrade button may offer.
    tiers: List[WidgetTier]
    trialEndsAt: Optional[str]
    #: Every meter of the plan, with this period's usage.
    usage: List[UsageReport]
    userId: str


class WidgetTier(TypedDict):
    """A tier as a customer sees it (no Stripe ids)."""
    currency: str
    #: The tier's `description`, if it has one.
    description: Optional[str]
    displayName: str
    features: List[FeatureKey]
    meters: List[MeterGrant]
    name: str
    popular: bool
    #: Per month, in the project's currency.
    price: Cents


class WidgetToken(TypedDict):
    expiresAt: str
    success: bool
    #: `wt_…`: give it to that user's browser; it reads their plan and usage, nothing else.
    token: str
    userId: str


class WidgetTokenRequest(TypedDict, total=False):
    """`POST /api/widget/tokens`."""
    #: 60-3600; 600 when absent.
    expiresInSeconds: Optional[int]
    #: The tiers (by name) the widget may offer this user: all the project's other tiers when
    #: absent or null, none when empty. Legacy or internal tiers stay out of the widget this way.
    offerTiers: Optional[List[str]]
    #: Your signed-in user the widget shows (or send `X-User-Id`).
    userId: Optional[str]
