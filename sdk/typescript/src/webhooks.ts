/**
 * Verifying dream-api's webhooks in your app: the Standard Webhooks signature
 * (`webhook-id`, `webhook-timestamp`, `webhook-signature`), checked with Web Crypto, so it runs
 * wherever the client does (Node 18+, Bun, Deno, Cloudflare Workers). The maintained
 * `standardwebhooks` package verifies the same deliveries, if you prefer it.
 *
 * @module
 */

import type { components } from "./schema.js";

type Schemas = components["schemas"];

/** Every event dream-api sends, by `type` (each with its own `data`). */
export type WebhookEvent =
  | Schemas["CustomerCreatedEvent"]
  | Schemas["SubscriptionCreatedEvent"]
  | Schemas["SubscriptionUpdatedEvent"]
  | Schemas["SubscriptionPastDueEvent"]
  | Schemas["SubscriptionCanceledEvent"]
  | Schemas["UsageThresholdEvent"]
  | Schemas["UsageCapReachedEvent"]
  | Schemas["OrderPaidEvent"]
  | Schemas["OrderShortEvent"]
  | Schemas["OrderRefundedEvent"]
  | Schemas["ProductLowStockEvent"]
  | Schemas["ProductSoldOutEvent"]
  | Schemas["KeyRotatedEvent"]
  | Schemas["EndpointTestEvent"];

export type WebhookEventType = WebhookEvent["type"];

/** A delivery that is not dream-api's, was altered, or is too old to accept. */
export class WebhookVerificationError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "WebhookVerificationError";
  }
}

export interface VerifyWebhookOptions {
  /** How far the delivery's timestamp may be from now, in seconds (300 by default). */
  toleranceSeconds?: number;
  /** The current time in Unix seconds (tests). */
  now?: number;
}

/** Headers as a `Headers` object (fetch, Workers) or a plain record (Node's `req.headers`). */
export type WebhookHeaders = { get(name: string): string | null } | Record<string, string | string[] | undefined>;

const DEFAULT_TOLERANCE_SECONDS = 300;

function header(headers: WebhookHeaders, name: string): string {
  if (typeof (headers as { get?: unknown }).get === "function") {
    return (headers as { get(name: string): string | null }).get(name) ?? "";
  }
  const record = headers as Record<string, string | string[] | undefined>;
  const value = record[name] ?? record[name.toLowerCase()];
  return Array.isArray(value) ? (value[0] ?? "") : (value ?? "");
}

function base64ToBytes(text: string): Uint8Array<ArrayBuffer> {
  const binary = atob(text);
  const bytes = new Uint8Array(binary.length);
  for (let i = 0; i < binary.length; i++) bytes[i] = binary.charCodeAt(i);
  return bytes;
}

function bytesToBase64(bytes: Uint8Array): string {
  let binary = "";
  for (const byte of bytes) binary += String.fromCharCode(byte);
  return btoa(binary);
}

/** Compares without leaking where two strings first differ. */
function constantTimeEqual(a: string, b: string): boolean {
  if (a.length !== b.length) return false;
  let diff = 0;
  for (let i = 0; i < a.length; i++) diff |= a.charCodeAt(i) ^ b.charCodeAt(i);
  return diff === 0;
}

/**
 * Web Crypto: global everywhere but Node 18, which has it in `node:crypto`. The module name is
 * a variable so that bundlers for Workers and browsers leave the import alone (it never runs
 * there).
 */
async function webCrypto(): Promise<SubtleCrypto> {
  if (globalThis.crypto?.subtle) return globalThis.crypto.subtle;
  const nodeCrypto = "node:crypto";
  const module = (await import(/* @vite-ignore */ nodeCrypto).catch(() => null)) as { webcrypto?: { subtle?: SubtleCrypto } } | null;
  if (module?.webcrypto?.subtle) return module.webcrypto.subtle;
  throw new WebhookVerificationError("Web Crypto (crypto.subtle) is not available in this runtime");
}

/** `v1,<base64 HMAC-SHA256 of "{id}.{timestamp}.{body}">` with the secret `whsec_…`. */
export async function signWebhook(secret: string, id: string, timestamp: number, body: string): Promise<string> {
  const subtle = await webCrypto();
  let keyBytes: Uint8Array<ArrayBuffer>;
  try {
    keyBytes = base64ToBytes(secret.startsWith("whsec_") ? secret.slice("whsec_".length) : secret);
  } catch {
    throw new WebhookVerificationError("The secret is not a whsec_… signing secret");
  }
  const key = await subtle.importKey("raw", keyBytes, { name: "HMAC", hash: "SHA-256" }, false, ["sign"]);
  const mac = await subtle.sign("HMAC", key, new TextEncoder().encode(`${id}.${timestamp}.${body}`));
  return `v1,${bytesToBase64(new Uint8Array(mac))}`;
}

/**
 * Checks a delivery's signature and age and returns its event. Pass the body exactly as
 * received (the raw text, before any JSON parsing). Throws `WebhookVerificationError` when the
 * delivery is not authentic or too old. Deduplicate by `event.id`: a retry or a replay
 * carries the same id.
 */
export async function verifyWebhook(
  body: string,
  headers: WebhookHeaders,
  secret: string,
  options: VerifyWebhookOptions = {},
): Promise<WebhookEvent> {
  const id = header(headers, "webhook-id");
  const timestampText = header(headers, "webhook-timestamp");
  const signatures = header(headers, "webhook-signature");
  if (!id || !timestampText || !signatures) throw new WebhookVerificationError("Missing webhook-id, webhook-timestamp or webhook-signature");
  const timestamp = Number(timestampText);
  if (!Number.isInteger(timestamp)) throw new WebhookVerificationError("webhook-timestamp is not a Unix time");
  const now = options.now ?? Math.floor(Date.now() / 1000);
  const tolerance = options.toleranceSeconds ?? DEFAULT_TOLERANCE_SECONDS;
  if (Math.abs(now - timestamp) > tolerance) throw new WebhookVerificationError("The delivery's timestamp is too far from now (a replay, or a wrong clock)");
  const expected = await signWebhook(secret, id, timestamp, body);
  // During a secret rotation the header carries one signature per secret.
  if (!signatures.split(" ").some((candidate) => constantTimeEqual(candidate, expected))) {
    throw new WebhookVerificationError("No signature matches: a wrong secret, or an altered delivery");
  }
  let event: unknown;
  try {
    event = JSON.parse(body);
  } catch {
    throw new WebhookVerificationError("The body is not JSON");
  }
  return event as WebhookEvent;
}
