// Baseline for `make bench`: api-multi's POST /api/data hot path written the way a careful
// JavaScript worker would, doing the same binding calls and statements, so the ratio measures
// the Rust/Wasm implementation and not missing work:
//   1. `Authorization: Bearer sk_…` → SHA-256 → KV `secretkey:{hash}:project` (on a miss: the
//      key's project and tiers from D1, cached for 60 s, as api-multi does);
//   2. the rate limit binding, keyed by project and user;
//   3. without X-User-Plan, the user's entitlement from D1 (SELECT_ENTITLEMENT);
//   4. the counting statement (COUNT_USAGE, with the project's distinct-users bound), and on a
//      user's first count of the period, NOTE_NEW_PERIOD_USER.
// Every statement is api-multi's own, passed in as a variable by the bench (never copied).
const iso = (d) => d.toISOString().replace(/\.\d{3}Z$/, "Z");
const error = (status, code, message) => Response.json({ error: message, code }, { status });

async function sha256Hex(text) {
  const digest = await crypto.subtle.digest("SHA-256", new TextEncoder().encode(text));
  return [...new Uint8Array(digest)].map((b) => b.toString(16).padStart(2, "0")).join("");
}

async function projectFor(env, secret) {
  const hash = await sha256Hex(secret);
  // Its own cache entry: same cost as api-multi's, without sharing a format with it.
  const entry = `bench-secretkey:${hash}:project`;
  const cached = await env.TOKENS_KV.get(entry, "json");
  if (cached) return cached;
  const key = await env.DB.prepare(env.FIND_ACTIVE_KEY_BY_HASH_SQL).bind(hash, iso(new Date())).first();
  if (!key) return null;
  const project = await env.DB.prepare(env.SELECT_ACTIVE_PROJECT_SQL).bind(key.publishableKey).first();
  if (!project) return null;
  const { results } = await env.DB.prepare(env.SELECT_TIERS_SQL).bind(key.publishableKey).all();
  const config = {
    publishableKey: key.publishableKey,
    platformId: project.platformId,
    projectType: project.projectType,
    tiers: results.map((t) => ({ name: t.name, limit: t.limit, priceCents: t.priceCents })),
  };
  await env.TOKENS_KV.put(entry, JSON.stringify(config), { expirationTtl: 60 });
  return config;
}

export default {
  async fetch(request, env) {
    const url = new URL(request.url);
    if (url.pathname === "/health") return Response.json({ status: "ok", worker: "baseline" });
    const auth = request.headers.get("authorization") ?? "";
    if (!auth.startsWith("Bearer sk_") || auth.length > 256) return error(401, "unauthorized", "Bad key");
    const config = await projectFor(env, auth.slice(7).trim());
    if (!config) return error(401, "unauthorized", "Unknown or revoked secret key");
    const user = request.headers.get("x-user-id") ?? "";
    if (!/^[\x21-\x7e]{1,128}$/.test(user)) return error(400, "invalid_request", "Bad X-User-Id");
    const [project, userRate] = await Promise.all([
      env.PROJECT_RATE_LIMITER.limit({ key: config.publishableKey }),
      env.USAGE_RATE_LIMITER.limit({ key: `${config.publishableKey}:${user}` }),
    ]);
    if (!project.success || !userRate.success) return error(429, "rate_limited", "Rate limit exceeded");

    let plan = request.headers.get("x-user-plan");
    const now = new Date();
    let start = new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), 1));
    let end = new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth() + 1, 1));
    if (!plan) {
      const entitled = await env.DB.prepare(env.SELECT_ENTITLEMENT_SQL).bind(config.publishableKey, user).first();
      plan = entitled?.plan ?? "free";
      if (entitled?.currentPeriodEnd && new Date(entitled.currentPeriodEnd) > now) {
        start = new Date(entitled.currentPeriodStart);
        end = new Date(entitled.currentPeriodEnd);
      }
    }
    const tier = config.tiers.find((t) => t.name === plan);
    if (!tier) return error(400, "invalid_request", `Unknown plan ${plan}`);
    const row = await env.DB.prepare(env.COUNT_USAGE_SQL)
      .bind(config.publishableKey, user, iso(start), iso(end), config.platformId, plan, tier.limit, iso(now), null,
        `req_${crypto.randomUUID()}`, Number(env.USERS_PER_PERIOD))
      .first();
    if (row?.usageCount === 1) {
      await env.DB.prepare(env.NOTE_NEW_PERIOD_USER_SQL).bind(config.publishableKey, iso(start)).run();
    }
    const usage = {
      count: row?.usageCount ?? tier.limit, limit: tier.limit, plan,
      remaining: tier.limit === null ? null : Math.max(tier.limit - (row?.usageCount ?? tier.limit), 0),
      periodStart: iso(start), periodEnd: iso(end),
    };
    if (!row) return Response.json({ error: "Tier limit reached", code: "limit_reached", usage }, { status: 429 });
    return Response.json({ success: true, usage });
  },
};
