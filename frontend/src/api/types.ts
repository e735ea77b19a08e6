// The JSON the dashboard's workers answer (front-auth-api, oauth-api), as read in their sources.

export type Mode = "test" | "live";
export type ProjectType = "saas" | "store";
export type Plan = "free" | "paid";

export interface PlatformId {
  platformId: string;
  plan: Plan;
  created: boolean;
}

export interface Credentials {
  platformId: string;
  plan: Plan;
  /** When a paid plan ended (`null` while paid or never paid). */
  planEndedAt: string | null;
  /** When live keys stop answering (402 `payment_required`) because the plan lapsed (`null` while paid). */
  liveKeysPauseAt: string | null;
  stripeConnected: boolean;
  stripeAccountId: string | null;
  publishableKeys: { test: string[]; live: string[] };
}

export interface KeySetView {
  publishableKey: string;
  status: string;
  tierCount: number;
  createdAt: string;
  /** Until when the key replaced by the last rotation still works (may be in the past). */
  previousKeyExpiresAt?: string | null;
}

export interface ProjectView {
  projectId: string;
  name: string;
  projectType: ProjectType;
  test: KeySetView | null;
  live: KeySetView | null;
}

export interface ProjectList {
  platformId: string;
  projects: ProjectView[];
}

/** A tier or product as stored (`features` holds the presentation fields). */
export interface Tier {
  name: string;
  displayName: string;
  price: number;
  currency: string;
  limit: number | null;
  priceId: string | null;
  productId: string | null;
  features: { description?: string; imageUrl?: string; features?: string[] } | null;
  popular: boolean;
  inventory: number | null;
  soldOut: boolean;
}

/** A tier or product as the API accepts it (`deny_unknown_fields`: nothing else). */
export interface TierInput {
  name: string;
  displayName?: string;
  price: number;
  limit?: number | null;
  description?: string;
  imageUrl?: string;
  features?: string[];
  popular?: boolean;
  /** Stock; null: not tracked. Left out of an edit, the stock stays as sales left it. */
  inventory?: number | null;
}

export interface TierList {
  publishableKey: string;
  projectId: string;
  name: string;
  projectType: ProjectType;
  mode: Mode;
  tiers: Tier[];
  planHeader: PlanHeader;
  /** Store projects: the most units one cart may hold; null: the platform's bound (1980). */
  maxCartUnits: number | null;
}

/** How far api-multi trusts `X-User-Plan`: `capped` lets it lower a user's plan, never raise it. */
export type PlanHeader = "trusted" | "capped";

/** The one response shape that carries a secret key (create-products, promote-to-live). */
export interface CreatedKeySet {
  projectId: string;
  name: string;
  projectType: ProjectType;
  mode: Mode;
  publishableKey: string;
  secretKey: string;
  tiers: Tier[];
}

export type GracePeriod = "none" | "1h" | "24h";

export interface RotatedKey {
  success: boolean;
  publishableKey: string;
  mode: Mode;
  secretKey: string;
  previousKeyExpiresAt?: string | null;
}

export interface PreviousKeyExpired {
  success: boolean;
  publishableKey: string;
  previousKeyExpiredAt: string;
}

export interface ConnectResult {
  connected: boolean;
  stripeAccountId: string;
}

export interface SaasMetrics {
  activeSubscriptions: number;
  canceling: number;
  pastDue: number;
  mrrCents: number;
  usageThisPeriod: number;
  customers: number;
}

export interface CustomerSummary {
  id: string;
  email: string | null;
  plan: string;
  status: string;
  cancelAtPeriodEnd: boolean;
  usage: number;
  currentPeriodEnd: string | null;
  createdAt: string;
}

export interface StoreMetrics {
  totalSales: number;
  unitsSold: number;
  /** Payments less refunds and lost disputes. */
  revenueCents: number;
  refundedCents: number;
  disputesLostCents: number;
  openDisputes: number;
  openCheckouts: number;
  products: number;
  inStock: number;
  lowStock: number;
  soldOut: number;
}

export interface StoreProduct {
  name: string;
  displayName: string;
  description: string | null;
  price: number;
  priceCents: number;
  currency: string;
  imageUrl: string | null;
  inventory: number | null;
  available: number | null;
  soldOut: boolean;
}

export interface OrderItem {
  product?: string;
  quantity?: number;
  unitCents?: number;
}

export interface RecentOrder {
  orderId: string;
  email: string | null;
  amountCents: number;
  currency: string;
  paidAt: string | null;
  /** Units paid for beyond the stock left (payment applied after its hold ended). */
  shortUnits: number;
  refundedCents: number;
  /** A refund from the dashboard returned its units to stock. */
  restocked: boolean;
  /** Stripe's dispute status (needs_response, under_review, won, lost, warning_*). */
  disputeStatus: string | null;
  disputedCents: number;
  items: OrderItem[];
}

/** A checkout a buyer can still pay: its stock is held until it expires or is canceled. */
export interface OpenOrder {
  orderId: string;
  email: string | null;
  amountCents: number;
  currency: string;
  createdAt: string;
  expiresAt: string;
  items: OrderItem[];
}

export interface OrderRefunded {
  success: boolean;
  orderId: string;
  refundedCents: number;
  restocked: boolean;
}

interface DashboardHead {
  publishableKey: string;
  mode: Mode;
  generatedAt: string;
}

export interface SaasDashboard extends DashboardHead {
  projectType: "saas";
  metrics: SaasMetrics;
  customers: CustomerSummary[];
  /** Last 6 months, oldest first (absent until the API ships the series). */
  usageByMonth?: { month: string; requests: number }[];
  tierMix?: { tier: string; customers: number }[];
}

export interface StoreDashboard extends DashboardHead {
  projectType: "store";
  metrics: StoreMetrics;
  products: StoreProduct[];
  recentOrders: RecentOrder[];
  openOrders: OpenOrder[];
  /** Last 30 days, oldest first (absent until the API ships the series). */
  revenueByDay?: { day: string; revenueCents: number; orders: number }[];
}

export type Dashboard = SaasDashboard | StoreDashboard;

export interface UploadedAsset {
  url: string;
  key: string;
  contentType: string;
  size: number;
}
