// The dashboard's calls to front-auth-api and oauth-api with the developer's session. Every
// failure becomes an ApiError carrying the API's message, code and request id. Nothing here
// logs request or response bodies: some of them carry a secret key.

import type { AppConfig } from "../config";
import type {
  AuditPage,
  ConnectResult,
  CreatePromotionCode,
  CreatedKeySet,
  Credentials,
  Dashboard,
  EndpointList,
  EndpointWithSecret,
  EndpointView,
  EventDetail,
  EventList,
  ExportFormat,
  ExportKind,
  GracePeriod,
  InvitationAccepted,
  InvitationView,
  InviteRequest,
  MemberView,
  OrderRefunded,
  PlanHeader,
  PlatformId,
  PreviousKeyExpired,
  ProjectList,
  ProjectType,
  PromotionCodeList,
  PromotionCodeView,
  Replayed,
  Role,
  RotatedKey,
  TaxSettings,
  TeamView,
  TestEventSent,
  Tier,
  TierInput,
  TierList,
  UploadedAsset,
} from "./types";

export class ApiError extends Error {
  constructor(
    message: string,
    readonly status: number,
    readonly code: string,
    readonly requestId: string | undefined,
    /** Extra fields of the error body (`stripe`, `held`, …). */
    readonly details: Record<string, unknown> = {},
  ) {
    super(message);
    this.name = "ApiError";
  }

  get notFound(): boolean {
    return this.status === 404;
  }
}

/** Any thrown value as an ApiError (a bug in our code still gets shown, not swallowed). */
export function asApiError(error: unknown): ApiError {
  if (error instanceof ApiError) return error;
  const message = error instanceof Error ? error.message : String(error);
  return new ApiError(message, 0, "client_error", undefined);
}

interface RequestOptions {
  query?: Record<string, string>;
  json?: unknown;
  body?: Blob;
  contentType?: string;
}

export type TokenSource = () => Promise<string | null>;

/** Sends the request with the session; a failure (network, or any status but 2xx) is an ApiError. */
async function send(getToken: TokenSource, method: string, base: string, path: string, options: RequestOptions = {}, accept = "application/json"): Promise<Response> {
  const token = await getToken();
  if (!token) throw new ApiError("Your session has ended. Sign in again.", 401, "unauthorized", undefined);
  const url = new URL(base + path);
  for (const [key, value] of Object.entries(options.query ?? {})) url.searchParams.set(key, value);
  const headers: Record<string, string> = { Authorization: `Bearer ${token}`, Accept: accept };
  let body: BodyInit | undefined;
  if (options.json !== undefined) {
    headers["Content-Type"] = "application/json";
    body = JSON.stringify(options.json);
  } else if (options.body) {
    headers["Content-Type"] = options.contentType || "application/octet-stream";
    body = options.body;
  }
  let response: Response;
  try {
    response = await fetch(url, { method, headers, body });
  } catch {
    throw new ApiError(`Could not reach ${url.host}. Check your connection and try again.`, 0, "network_error", undefined);
  }
  if (response.ok) return response;
  const requestId = response.headers.get("x-request-id") ?? undefined;
  const parsed = parseJson(await response.text());
  const doc = (typeof parsed === "object" && parsed !== null ? parsed : {}) as Record<string, unknown>;
  const { error, code, requestId: bodyRequestId, ...details } = doc;
  throw new ApiError(
    typeof error === "string" ? error : `${method} ${url.pathname} failed with HTTP ${response.status}`,
    response.status,
    typeof code === "string" ? code : "http_error",
    typeof bodyRequestId === "string" ? bodyRequestId : requestId,
    details,
  );
}

function parseJson(text: string): unknown {
  try {
    return text ? JSON.parse(text) : undefined;
  } catch {
    return undefined;
  }
}

async function call<T>(getToken: TokenSource, method: string, base: string, path: string, options: RequestOptions = {}): Promise<T> {
  const response = await send(getToken, method, base, path, options);
  return parseJson(await response.text()) as T;
}

/** A file the API streams (an export): the whole body, or an ApiError if it fails midway. */
async function download(getToken: TokenSource, base: string, path: string, options: RequestOptions): Promise<Blob> {
  const response = await send(getToken, "GET", base, path, options, "*/*");
  try {
    return await response.blob();
  } catch {
    throw new ApiError("The download stopped before the end. Try again.", 0, "network_error", response.headers.get("x-request-id") ?? undefined);
  }
}

export function createApi(config: AppConfig, getToken: TokenSource) {
  const front = <T>(method: string, path: string, options?: RequestOptions) => call<T>(getToken, method, config.frontAuthApiUrl, path, options);
  const oauth = <T>(method: string, path: string, options?: RequestOptions) => call<T>(getToken, method, config.oauthApiUrl, path, options);
  return {
    apiMultiUrl: config.apiMultiUrl,

    generatePlatformId: () => front<PlatformId>("POST", "/generate-platform-id"),
    credentials: () => front<Credentials>("GET", "/get-credentials"),
    projects: () => front<ProjectList>("GET", "/projects"),
    createCheckout: (successUrl: string, cancelUrl: string) =>
      front<{ url: string; sessionId: string }>("POST", "/create-checkout", { json: { successUrl, cancelUrl } }),
    dashboard: (publishableKey: string) => front<Dashboard>("GET", "/dashboard", { query: { publishableKey } }),
    uploadAsset: (file: File) =>
      front<UploadedAsset>("POST", "/upload-asset", { query: { filename: file.name }, body: file, contentType: file.type }),

    team: () => front<TeamView>("GET", "/team"),
    invite: (invitation: InviteRequest) => front<{ success: boolean; invitation: InvitationView }>("POST", "/team/invitations", { json: invitation }),
    revokeInvitation: (id: string) => front<{ success: boolean; invitation: InvitationView }>("DELETE", `/team/invitations/${encodeURIComponent(id)}`),
    acceptInvitation: (id: string) => front<InvitationAccepted>("POST", `/team/invitations/${encodeURIComponent(id)}/accept`),
    setMemberRole: (userId: string, role: Role) => front<{ success: boolean; member: MemberView }>("PUT", `/team/members/${encodeURIComponent(userId)}`, { json: { role } }),
    // Also leaving: a member removes themselves.
    removeMember: (userId: string) => front<{ success: boolean; removed: string }>("DELETE", `/team/members/${encodeURIComponent(userId)}`),
    // Empty filters are left out (the API takes absent, not empty).
    auditLog: (filters: { action?: string; actor?: string; mode?: string; publishableKey?: string; before?: string; limit?: string }) =>
      front<AuditPage>("GET", "/audit-log", { query: Object.fromEntries(Object.entries(filters).filter((entry): entry is [string, string] => Boolean(entry[1]))) }),
    /** A project's data (or, without a key, the platform's audit log) as a file. */
    exportFile: (kind: ExportKind, options: { publishableKey?: string; format: ExportFormat; period?: string }) =>
      download(getToken, config.frontAuthApiUrl, `/exports/${kind}`, {
        query: Object.fromEntries(Object.entries(options).filter((entry): entry is [string, string] => Boolean(entry[1]))),
      }),

    authorizeStripe: () => oauth<{ url: string; expiresAt: string }>("GET", "/authorize"),
    connectCallback: (code: string, state: string) => oauth<ConnectResult>("POST", "/connect/callback", { json: { code, state } }),
    createProject: (input: { name: string; projectType: ProjectType; tiers: TierInput[]; currency?: string }) =>
      oauth<{ success: boolean; project: CreatedKeySet }>("POST", "/create-products", { json: input }),
    tiers: (publishableKey: string) => oauth<TierList>("GET", "/tiers", { query: { publishableKey } }),
    updateTier: (publishableKey: string, tier: TierInput) =>
      oauth<{ success: boolean; tier: Tier }>("PUT", "/tiers", { json: { publishableKey, tier } }),
    addTier: (publishableKey: string, tier: TierInput) =>
      oauth<{ success: boolean; tier: Tier }>("POST", "/tiers/add", { json: { publishableKey, tier } }),
    deleteTier: (publishableKey: string, name: string) =>
      oauth<{ success: boolean; deleted: string }>("DELETE", "/tiers", { query: { publishableKey, name } }),
    promoteToLive: (publishableKey: string, tiers?: TierInput[]) =>
      oauth<{ success: boolean; project: CreatedKeySet }>("POST", "/promote-to-live", { json: tiers ? { publishableKey, tiers } : { publishableKey } }),
    // "none" is the API's default and is left out, so the request also suits workers without
    // grace periods.
    rotateKey: (publishableKey: string, gracePeriod: GracePeriod) =>
      oauth<RotatedKey>("POST", "/rotate-key", { json: gracePeriod === "none" ? { publishableKey } : { publishableKey, gracePeriod } }),
    savePlanHeader: (publishableKey: string, planHeader: PlanHeader) =>
      oauth<{ success: boolean; publishableKey: string; planHeader: PlanHeader }>("PUT", "/project-settings", { json: { publishableKey, planHeader } }),
    saveMaxCartUnits: (publishableKey: string, maxCartUnits: number | null) =>
      oauth<{ success: boolean; publishableKey: string; maxCartUnits: number | null }>("PUT", "/project-settings", { json: { publishableKey, maxCartUnits } }),
    saveTax: (publishableKey: string, tax: TaxSettings) =>
      oauth<{ success: boolean; publishableKey: string; tax: TaxSettings }>("PUT", "/project-settings", { json: { publishableKey, ...tax } }),
    expirePreviousKey: (publishableKey: string) => oauth<PreviousKeyExpired>("POST", "/expire-previous-key", { json: { publishableKey } }),
    cancelOrder: (publishableKey: string, orderId: string) =>
      oauth<{ success: boolean; orderId: string; status: string }>("POST", "/orders/cancel", { json: { publishableKey, orderId } }),
    refundOrder: (publishableKey: string, orderId: string, restock: boolean) =>
      oauth<OrderRefunded>("POST", "/orders/refund", { json: { publishableKey, orderId, restock } }),

    promotionCodes: (publishableKey: string) => oauth<PromotionCodeList>("GET", "/promotion-codes", { query: { publishableKey } }),
    createPromotionCode: (input: CreatePromotionCode) =>
      oauth<{ success: boolean; promotionCode: PromotionCodeView }>("POST", "/promotion-codes", { json: input }),
    setPromotionCodeActive: (publishableKey: string, id: string, active: boolean) =>
      oauth<{ success: boolean; promotionCode: PromotionCodeView }>("PUT", `/promotion-codes/${encodeURIComponent(id)}`, { json: { publishableKey, active } }),

    webhookEndpoints: (publishableKey: string) => oauth<EndpointList>("GET", "/webhook-endpoints", { query: { publishableKey } }),
    createWebhookEndpoint: (publishableKey: string, endpoint: { url: string; eventTypes: string[]; description?: string }) =>
      oauth<EndpointWithSecret>("POST", "/webhook-endpoints", { json: { publishableKey, ...endpoint } }),
    updateWebhookEndpoint: (publishableKey: string, id: string, change: { url?: string; eventTypes?: string[]; description?: string; enabled?: boolean }) =>
      oauth<{ success: boolean; endpoint: EndpointView }>("PUT", `/webhook-endpoints/${encodeURIComponent(id)}`, { json: { publishableKey, ...change } }),
    deleteWebhookEndpoint: (publishableKey: string, id: string) =>
      oauth<{ success: boolean; deleted: string }>("DELETE", `/webhook-endpoints/${encodeURIComponent(id)}`, { query: { publishableKey } }),
    rotateWebhookSecret: (publishableKey: string, id: string, graceHours: number) =>
      oauth<EndpointWithSecret>("POST", `/webhook-endpoints/${encodeURIComponent(id)}/rotate-secret`, { json: { publishableKey, graceHours } }),
    sendTestEvent: (publishableKey: string, id: string) =>
      oauth<TestEventSent>("POST", `/webhook-endpoints/${encodeURIComponent(id)}/test`, { query: { publishableKey } }),
    // Empty filters are left out (the API takes absent, not empty).
    events: (publishableKey: string, filters: { type?: string; status?: string; before?: string }) =>
      oauth<EventList>("GET", "/events", {
        query: { publishableKey, ...Object.fromEntries(Object.entries(filters).filter(([, v]) => v)) },
      }),
    event: (publishableKey: string, id: string) => oauth<EventDetail>("GET", `/events/${encodeURIComponent(id)}`, { query: { publishableKey } }),
    replayEvent: (publishableKey: string, id: string) =>
      oauth<Replayed>("POST", `/events/${encodeURIComponent(id)}/replay`, { json: { publishableKey } }),
    replayFailed: (publishableKey: string, since: string) => oauth<Replayed>("POST", "/events/replay-failed", { json: { publishableKey, since } }),
  };
}

export type Api = ReturnType<typeof createApi>;
