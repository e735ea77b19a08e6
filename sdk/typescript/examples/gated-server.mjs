// A tiny app whose paid feature is metered by dream-api: `GET /report?user=<id>` counts one
// request for the user and answers with the report; once the user's tier limit is reached it
// sends them (302) to a Stripe Checkout page for the `pro` tier instead.
//
//   npm run build        # the example imports the built package by its name
//   DREAM_API_SECRET_KEY=sk_test_… DREAM_API_BASE_URL=http://127.0.0.1:8787 PORT=3000 \
//     node examples/gated-server.mjs
//   curl -i 'http://127.0.0.1:3000/report?user=user_123'
//   open 'http://127.0.0.1:3000/account?user=user_123'     # the user's usage widget
//
// PUBLIC_URL (optional) is where this app is reached from a browser; with it, Checkout returns
// the user here. Without it the API's own success and cancel pages are used.

import { createServer } from "node:http";
import { pathToFileURL } from "node:url";

import { ConflictError, DreamApi, DreamApiError, InvalidRequestError, LimitReachedError } from "dream-api";

/** The tier users are offered when they run out. */
const UPGRADE_TIER = "pro";

/**
 * @param {{ dream: DreamApi, publicUrl?: string }} options
 * @returns {import("node:http").Server}
 */
export function createGatedServer({ dream, publicUrl }) {
  return createServer(async (req, res) => {
    const url = new URL(req.url ?? "/", "http://localhost");
    if (req.method === "GET" && url.pathname === "/account") return account(res, url.searchParams.get("user"));
    if (req.method !== "GET" || url.pathname !== "/report") {
      return json(res, 404, { error: "Try GET /report?user=<id>" });
    }
    const userId = url.searchParams.get("user");
    if (!userId) return json(res, 400, { error: "`user` is required: GET /report?user=<id>" });

    try {
      const { usage } = await dream.trackUsage({ userId });
      return json(res, 200, { report: `Today's report for ${userId}`, usage });
    } catch (error) {
      if (error instanceof LimitReachedError) return upgrade(res, userId, error);
      return failure(res, error);
    }
  });

  /**
   * The user's own page: their plan and usage in dream-api's widget, read in their browser with
   * a token minted here (the secret key stays on this server).
   */
  async function account(res, userId) {
    if (!userId) return json(res, 400, { error: "`user` is required: GET /account?user=<id>" });
    try {
      const { token } = await dream.widgetToken({ userId });
      const api = escapeHtml(dream.baseUrl);
      res.writeHead(200, { "Content-Type": "text/html; charset=utf-8", "Cache-Control": "no-store" });
      res.end(
        `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Your account</title>` +
          `<script src="${api}/widget.js" defer></script></head><body><h1>Your account</h1>` +
          `<dream-usage token="${escapeHtml(token)}" api="${api}" upgrade-url="/report"></dream-usage></body></html>`,
      );
    } catch (error) {
      return failure(res, error);
    }
  }

  /** Out of requests: off to Checkout for the paid tier. */
  async function upgrade(res, userId, limitReached) {
    try {
      const back = publicUrl?.replace(/\/+$/, "");
      const checkout = await dream.createCheckout({
        userId,
        tier: UPGRADE_TIER,
        ...(back
          ? { successUrl: `${back}/report?user=${encodeURIComponent(userId)}`, cancelUrl: `${back}/` }
          : {}),
      });
      res.writeHead(302, { Location: checkout.url, "Cache-Control": "no-store" });
      res.end();
    } catch (error) {
      // Already subscribed (the paid tier's limit is used up too): nothing to sell, say so.
      if (error instanceof ConflictError) {
        return json(res, 429, { error: "You have used this period's requests", usage: limitReached.usage });
      }
      return failure(res, error);
    }
  }
}

function failure(res, error) {
  if (error instanceof TypeError || error instanceof InvalidRequestError) {
    return json(res, 400, { error: error.message });
  }
  if (error instanceof DreamApiError) {
    // Our billing provider failed us: not the user's fault. Log the request id for support.
    console.error(`dream-api: ${error.name} ${error.code} (request ${error.requestId ?? "?"}): ${error.message}`);
    return json(res, 502, { error: "Billing is unavailable; try again shortly", requestId: error.requestId });
  }
  console.error(error);
  return json(res, 500, { error: "Internal error" });
}

function escapeHtml(text) {
  return String(text).replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

function json(res, status, body) {
  res.writeHead(status, { "Content-Type": "application/json" });
  res.end(JSON.stringify(body));
}

// Run directly: configuration from the environment.
if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const secretKey = process.env.DREAM_API_SECRET_KEY;
  if (!secretKey) {
    console.error("Set DREAM_API_SECRET_KEY (and DREAM_API_BASE_URL, default http://127.0.0.1:8787)");
    process.exit(2);
  }
  const dream = new DreamApi({ secretKey, baseUrl: process.env.DREAM_API_BASE_URL });
  const server = createGatedServer({ dream, publicUrl: process.env.PUBLIC_URL });
  const host = process.env.HOST ?? "127.0.0.1";
  server.listen(Number(process.env.PORT ?? 3000), host, () => {
    const { port } = server.address();
    console.log(`gated-server listening on http://${host}:${port}`);
  });
  const stop = () => {
    server.close(() => process.exit(0));
    server.closeAllConnections(); // keep-alive clients would hold close() open
  };
  process.on("SIGINT", stop);
  process.on("SIGTERM", stop);
}
