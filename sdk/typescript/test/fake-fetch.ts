// A scripted `fetch` for the unit tests: records every request and answers from a list.

import type { FetchInit, FetchLike, FetchResponse } from "dream-api";

export interface RecordedRequest {
  url: string;
  method: string;
  /** Header names lower-cased. */
  headers: Record<string, string>;
  body: string | undefined;
  signal: AbortSignal;
}

/** A JSON answer, an error to throw (a network failure), or a function of the request. */
export type Reply =
  | { status: number; json?: unknown; text?: string; headers?: Record<string, string> }
  | Error
  | ((request: RecordedRequest) => Promise<FetchResponse> | FetchResponse);

export interface FakeFetch {
  fetch: FetchLike;
  calls: RecordedRequest[];
}

export function fakeFetch(...replies: Reply[]): FakeFetch {
  const calls: RecordedRequest[] = [];
  const fetch: FetchLike = async (url: string, init: FetchInit) => {
    const headers: Record<string, string> = {};
    for (const [name, value] of Object.entries(init.headers)) headers[name.toLowerCase()] = value;
    const request: RecordedRequest = { url, method: init.method, headers, body: init.body, signal: init.signal };
    calls.push(request);
    const reply = replies[calls.length - 1];
    if (reply === undefined) throw new Error(`fake fetch: no reply scripted for request ${calls.length}`);
    if (reply instanceof Error) throw reply;
    if (typeof reply === "function") return reply(request);
    return respond(reply.status, reply.json ?? reply.text ?? "", reply.headers);
  };
  return { fetch, calls };
}

export function respond(status: number, body: unknown, headers: Record<string, string> = {}): Response {
  const text = typeof body === "string" ? body : JSON.stringify(body);
  const all = { "content-type": "application/json", "x-request-id": "req_header", ...headers };
  return new Response(status === 204 ? null : text, { status, headers: all });
}

/** What Node's fetch throws when the connection fails. */
export function networkError(): TypeError {
  return new TypeError("fetch failed", { cause: new Error("connect ECONNREFUSED 127.0.0.1:1") });
}

/** The error body the API sends. */
export function errorBody(code: string, message: string, extra: Record<string, unknown> = {}) {
  return { error: message, code, requestId: "req_test123", ...extra };
}

export const usage = (count: number, limit: number | null = 3) => ({
  count,
  limit,
  plan: "free",
  remaining: limit === null ? null : Math.max(0, limit - count),
  periodStart: "2026-11-01T00:00:00Z",
  periodEnd: "2026-12-01T00:00:00Z",
  meter: "requests",
  overageBilled: false,
  overage: 0,
  overageCost: "0",
  spendCap: null,
  spendCapLeft: null,
});

export const SECRET = `sk_test_${"ab".repeat(32)}`;
