import { afterEach, describe, expect, it, vi } from "vitest";
import type { AppConfig } from "../config";
import { ApiError, createApi } from "./client";

const config: AppConfig = {
  frontAuthApiUrl: "http://front",
  oauthApiUrl: "http://oauth",
  apiMultiUrl: "http://multi",
  auth: { kind: "emulator", signInUrl: "http://e/sign-in" },
};

function respond(status: number, body: unknown, headers: Record<string, string> = {}) {
  const fetch = vi.fn(async (_url: URL, _init: RequestInit) => new Response(typeof body === "string" ? body : JSON.stringify(body), { status, headers }));
  vi.stubGlobal("fetch", fetch);
  return fetch;
}

afterEach(() => vi.unstubAllGlobals());

describe("the API client", () => {
  it("sends the session and JSON, and reads JSON back", async () => {
    const fetch = respond(200, { connected: true, stripeAccountId: "acct_1" });
    const api = createApi(config, async () => "tok");
    await expect(api.connectCallback("ac_1", "st.1.x")).resolves.toEqual({ connected: true, stripeAccountId: "acct_1" });
    const [url, init] = fetch.mock.calls[0]!;
    expect(String(url)).toBe("http://oauth/connect/callback");
    expect(init.method).toBe("POST");
    expect((init.headers as Record<string, string>).Authorization).toBe("Bearer tok");
    expect(init.body).toBe('{"code":"ac_1","state":"st.1.x"}');
  });

  it("leaves out the default grace period and sends the others", async () => {
    const fetch = respond(200, {});
    const api = createApi(config, async () => "tok");
    await api.rotateKey("pk_test_a", "none");
    await api.rotateKey("pk_test_a", "24h");
    expect(fetch.mock.calls.map(([, init]) => init.body)).toEqual(['{"publishableKey":"pk_test_a"}', '{"publishableKey":"pk_test_a","gracePeriod":"24h"}']);
  });

  it("expirePreviousKey posts the publishable key to oauth-api", async () => {
    const fetch = respond(200, { success: true, publishableKey: "pk_test_a", previousKeyExpiredAt: "2026-12-06T21:00:00Z" });
    const api = createApi(config, async () => "tok");
    await api.expirePreviousKey("pk_test_a");
    const [url, init] = fetch.mock.calls[0]!;
    expect(String(url)).toMatch(/\/expire-previous-key$/);
    expect(init.method).toBe("POST");
    expect(init.body).toBe('{"publishableKey":"pk_test_a"}');
  });

  it("order actions post the project and order to oauth-api; the cart limit may be cleared", async () => {
    const fetch = respond(200, { success: true });
    const api = createApi(config, async () => "tok");
    await api.cancelOrder("pk_test_a", "ord_1");
    await api.refundOrder("pk_test_a", "ord_2", false);
    await api.saveMaxCartUnits("pk_test_a", null);
    const sent = fetch.mock.calls.map(([url, init]) => [String(url).replace(/^.*\/\/[^/]+/, ""), init.method, init.body]);
    expect(sent).toEqual([
      ["/orders/cancel", "POST", '{"publishableKey":"pk_test_a","orderId":"ord_1"}'],
      ["/orders/refund", "POST", '{"publishableKey":"pk_test_a","orderId":"ord_2","restock":false}'],
      ["/project-settings", "PUT", '{"publishableKey":"pk_test_a","maxCartUnits":null}'],
    ]);
  });

  it("turns an error body into an ApiError with message, code, request id and details", async () => {
    respond(409, { error: "Your projects use another Stripe account", code: "conflict", requestId: "req_1", stripeAccountId: "acct_old" });
    const api = createApi(config, async () => "tok");
    const error = await api.projects().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ApiError);
    expect(error).toMatchObject({ message: "Your projects use another Stripe account", status: 409, code: "conflict", requestId: "req_1", details: { stripeAccountId: "acct_old" } });
  });

  it("falls back to the X-Request-Id header and a generic message", async () => {
    respond(502, "<html>bad gateway</html>", { "X-Request-Id": "req_2" });
    const error = await createApi(config, async () => "tok")
      .credentials()
      .catch((e: unknown) => e);
    expect(error).toMatchObject({ status: 502, code: "http_error", requestId: "req_2", message: "GET /get-credentials failed with HTTP 502" });
  });

  it("reports an unreachable worker and a missing session without calling it", async () => {
    vi.stubGlobal("fetch", vi.fn(async () => Promise.reject(new TypeError("Failed to fetch"))));
    await expect(createApi(config, async () => "tok").projects()).rejects.toMatchObject({ code: "network_error", status: 0 });
    const fetch = respond(200, {});
    await expect(createApi(config, async () => null).projects()).rejects.toMatchObject({ code: "unauthorized", status: 401 });
    expect(fetch).not.toHaveBeenCalled();
  });
});

describe("teams, the audit log and exports", () => {
  it("sends team changes to front-auth-api", async () => {
    const fetch = respond(200, { success: true });
    const api = createApi(config, async () => "tok");
    await api.invite({ email: "ada@example.com", role: "viewer", expiresInDays: 3 });
    await api.revokeInvitation("inv_1");
    await api.acceptInvitation("inv_2");
    await api.setMemberRole("user_1", "admin");
    await api.removeMember("user_1");
    const sent = fetch.mock.calls.map(([url, init]) => [String(url), init.method, init.body]);
    expect(sent).toEqual([
      ["http://front/team/invitations", "POST", '{"email":"ada@example.com","role":"viewer","expiresInDays":3}'],
      ["http://front/team/invitations/inv_1", "DELETE", undefined],
      ["http://front/team/invitations/inv_2/accept", "POST", undefined],
      ["http://front/team/members/user_1", "PUT", '{"role":"admin"}'],
      ["http://front/team/members/user_1", "DELETE", undefined],
    ]);
  });

  it("leaves empty audit log filters out", async () => {
    const fetch = respond(200, { entries: [], nextCursor: null });
    await createApi(config, async () => "tok").auditLog({ action: "member.", actor: "", mode: "live", before: undefined });
    expect(String(fetch.mock.calls[0]![0])).toBe("http://front/audit-log?action=member.&mode=live");
  });

  it("downloads an export as a file, with the session", async () => {
    const fetch = respond(200, "userId,email\r\nu1,a@example.com\r\n", { "Content-Type": "text/csv" });
    const blob = await createApi(config, async () => "tok").exportFile("usage", { publishableKey: "pk_test_a", format: "csv", period: "2026-11" });
    expect(await blob.text()).toBe("userId,email\r\nu1,a@example.com\r\n");
    const [url, init] = fetch.mock.calls[0]!;
    expect(String(url)).toBe("http://front/exports/usage?publishableKey=pk_test_a&format=csv&period=2026-11");
    expect((init.headers as Record<string, string>).Authorization).toBe("Bearer tok");
  });

  it("turns a refused export into an ApiError naming the role it needs", async () => {
    respond(403, { error: "Reading this platform needs the viewer role", code: "forbidden", requestId: "req_3", requiredRole: "viewer", role: null });
    const error = await createApi(config, async () => "tok")
      .exportFile("audit-log", { format: "json" })
      .catch((e: unknown) => e);
    expect(error).toMatchObject({ status: 403, code: "forbidden", requestId: "req_3", details: { requiredRole: "viewer" } });
  });
});
