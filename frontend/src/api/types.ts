// The JSON the dashboard's workers answer (front-auth-api, oauth-api): the schemas generated
// from their committed OpenAPI documents (src/api/schema/*.ts, `npm run generate`), under the
// names the dashboard uses. Written by hand only where the documents are looser than what the
// workers send (each place says so): a string the code knows the values of, and the figures,
// which the document gives untagged beside `projectType`.

import type { components as FrontAuthApi } from "./schema/front-auth-api";
import type { components as OauthApi } from "./schema/oauth-api";

type Front = FrontAuthApi["schemas"];
type Oauth = OauthApi["schemas"];

export type Mode = Front["Mode"];
export type ProjectType = Front["ProjectType"];
/** The document says `string`: the developer's plan is one of these two. */
export type Plan = "free" | "paid";

export type PlatformId = Omit<Front["PlatformIdentity"], "plan"> & { plan: Plan };
export type Credentials = Omit<Front["Credentials"], "plan"> & { plan: Plan };
export type KeySetView = Front["KeySetView"];
/** The document says `string` for `projectType`. */
export type ProjectView = Omit<Front["ProjectView"], "projectType"> & { projectType: ProjectType };
export type ProjectList = Omit<Front["ProjectTree"], "projects"> & { projects: ProjectView[] };

/** What a tier's `features` object holds: its presentation (the document says "an object"). */
export interface TierPresentation {
  description?: string;
  imageUrl?: string;
  features?: string[];
}
/** A tier or product as stored. */
export type Tier = Omit<Oauth["Tier"], "features"> & { features: TierPresentation | null };
/** A tier or product as the API accepts it (`deny_unknown_fields`: nothing else). */
export type TierInput = Oauth["TierInput"];
/** One of a tier's meters as `POST /tiers/add` and `PUT /tiers` take it. */
export type MeterInput = Oauth["MeterInput"];
export type TierList = Omit<Oauth["TierList"], "tiers"> & { tiers: Tier[] };
/** How far api-multi trusts `X-User-Plan`: `capped` lets it lower a user's plan, never raise it. */
export type PlanHeader = Oauth["PlanHeader"];
/** The one response shape that carries a secret key (create-products, promote-to-live). */
export type CreatedKeySet = Omit<Oauth["CreatedKeySet"], "tiers"> & { tiers: Tier[] };
export type GracePeriod = Oauth["GracePeriod"];
export type RotatedKey = Oauth["KeyRotated"];
export type PreviousKeyExpired = Oauth["PreviousKeyExpired"];
export type ConnectResult = Oauth["Connected"];
export type OrderRefunded = Oauth["OrderRefunded"];

export type TaxSettings = Oauth["TaxSettings"];
export type TaxBehavior = Oauth["TaxBehavior"];

export type PromotionCodeView = Oauth["PromotionCodeView"];
export type PromotionCodeList = Oauth["PromotionCodeList"];
export type CreatePromotionCode = Oauth["CreatePromotionCode"];

export type EndpointView = Oauth["EndpointView"];
export type EndpointList = Oauth["EndpointList"];
export type EndpointWithSecret = Oauth["EndpointWithSecret"];
export type DeliveryView = Oauth["DeliveryView"];
export type EventSummary = Oauth["EventSummary"];
export type EventList = Oauth["EventList"];
export type EventDetail = Oauth["EventDetail"];
export type Replayed = Oauth["Replayed"];
export type TestEventSent = Oauth["TestEventSent"];

export type SaasMetrics = Front["SaasSummary"];
export type CustomerSummary = Front["CustomerSummary"];
export type StoreMetrics = Front["StoreMetrics"];
export type StoreProduct = Front["Product"];
export type OrderItem = Front["OrderLine"];
export type RecentOrder = Front["RecentOrder"];
/** A checkout a buyer can still pay: its stock is held until it expires or is canceled. */
export type OpenOrder = Front["OpenOrder"];

type DashboardHead = Omit<Front["ProjectDashboard"], keyof Front["SaasFigures"] | keyof Front["StoreFigures"] | "projectType">;
/** The document gives the figures untagged; `projectType` says which they are. */
export type SaasDashboard = DashboardHead & Front["SaasFigures"] & { projectType: "saas" };
export type StoreDashboard = DashboardHead & Front["StoreFigures"] & { projectType: "store" };
export type Dashboard = SaasDashboard | StoreDashboard;

export type UploadedAsset = Front["AssetUploaded"];

/** A member's role in the platform's organization, from most to least trusted. */
export type Role = Front["Role"];
export type TeamView = Front["TeamView"];
export type MemberView = Front["MemberView"];
export type InvitationView = Front["InvitationView"];
export type InviteRequest = Front["InviteRequest"];
export type InvitationAccepted = Front["InvitationAccepted"];
export type AuditActor = Front["AuditActor"];
export type AuditEntry = Front["AuditEntryView"];
export type AuditPage = Front["AuditPage"];
export type ExportFormat = Front["ExportFormat"];
/** The document says `string` for the path parameter: the workers know these five. */
export type ExportKind = "customers" | "subscriptions" | "orders" | "usage" | "audit-log";
