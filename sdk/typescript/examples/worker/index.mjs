// The gated-report example (../gated-server.mjs) as a Cloudflare Worker: `GET /report?user=<id>`
// counts one request for the user with dream-api and sends a user over their tier's limit (302)
// to a Stripe Checkout page for `pro`. `make test` serves it in workerd against the local stack.
//
//   npm run build       # the Worker imports the built package by its name
//   npx wrangler dev -c sdk/typescript/examples/worker/wrangler.toml --port 3003 \
//     --var DREAM_API_BASE_URL:http://localhost:8787 --var DREAM_API_SECRET_KEY:sk_test_…
//
// In production, `wrangler secret put DREAM_API_SECRET_KEY`.

import { ConflictError, DreamApi, DreamApiError, LimitReachedError } from "dream-api";

export default {
  /** @param {Request} request @param {{ DREAM_API_SECRET_KEY: string, DREAM_API_BASE_URL: string }} env */
  async fetch(request, env) {
    const url = new URL(request.url);
    if (url.pathname === "/health") return new Response("ok");
    if (request.method !== "GET" || url.pathname !== "/report") {
      return Response.json({ error: "Try GET /report?user=<id>" }, { status: 404 });
    }
    const userId = url.searchParams.get("user");
    if (!userId) return Response.json({ error: "`user` is required: GET /report?user=<id>" }, { status: 400 });

    // Per request: a Worker's env is only known inside the handler.
    const dream = new DreamApi({ secretKey: env.DREAM_API_SECRET_KEY, baseUrl: env.DREAM_API_BASE_URL });
    try {
      const { usage } = await dream.trackUsage({ userId });
      return Response.json({ report: `Today's report for ${userId}`, usage });
    } catch (error) {
      if (!(error instanceof LimitReachedError)) return failure(error);
      try {
        const checkout = await dream.createCheckout({ userId, tier: "pro" });
        return Response.redirect(checkout.url, 302);
      } catch (upgradeError) {
        // Already subscribed (the paid tier's limit is used up too): nothing to sell, say so.
        if (upgradeError instanceof ConflictError) {
          return Response.json({ error: "You have used this period's requests", usage: error.usage }, { status: 429 });
        }
        return failure(upgradeError);
      }
    }
  },
};

function failure(error) {
  if (!(error instanceof DreamApiError)) throw error;
  console.error(`dream-api: ${error.name} ${error.code} (request ${error.requestId ?? "?"}): ${error.message}`);
  return Response.json({ error: "Billing is unavailable; try again shortly", requestId: error.requestId }, { status: 502 });
}
