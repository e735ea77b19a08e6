// The seed for `make bench`: POST /api/data as the original TypeScript platform did it
// (the spec's platform.md: "KV Storage", "Rate Limiting", usage_counts), so the bench can
// show what the port's design changed. Every binding call is awaited in turn, as there:
//   1. `Authorization: Bearer sk_…` → SHA-256 → KV `secretkey:{hash}:publishableKey` (on a
//      miss: the key from D1, cached without expiry);
//   2. KV `publishablekey:{pk}:platformId` (on a miss: the project from D1, cached without
//      expiry), since the tier cache is keyed by platform;
//   3. KV `platform:{platformId}:tierConfig:{mode}` (on a miss: the tiers from D1, cached 300 s);
//   4. the per-user rate limit in KV: read `ratelimit:{pk}:{userId}:{minute}`, write it back
//      plus one (kept 120 s);
//   5. without X-User-Plan, the user's entitlement from D1 (SELECT_ENTITLEMENT);
//   6. the count: one statement on D1's usage_counts (COUNT_USAGE), which also enforces the
//      tier's limit.
// A warm request with X-User-Plan thus awaits four KV reads, one KV write and one D1 statement.
// Every response but /health lists them in `Server-Timing`. The statements are api-multi's, passed
// in as variables by the bench, so both designs read and write the same rows.

const iso = (d) => d.toISOString().replace(/\.\d{3}Z$/, "Z");
const error = (status, code, message) => Response.json({ error: message, code }, { status });

const TIER_CONFIG_TTL_SECS = 300;
const RATE_LIMIT_PER_MINUTE = 600;
// Two minutes: the entry outlives its minute, whichever isolate reads it last.
const RATE_LIMIT_TTL_SECS = 120;

async function sha256Hex(text) {
  const digest = await crypto.subtle.digest("SHA-256", new TextEncoder().encode(text));
  return [...new Uint8Array(digest)].map((b) => b.toString(16).padStart(2, "0")).join("");
}

// Records each awaited binding call for `Server-Timing`, failed ones too: they cost a round trip.
async function timed(timings, kind, call) {
  const started = Date.now();
  try {
    return await call();
  } finally {
    timings.push(`${kind};dur=${(Date.now() - started).toFixed(1)}`);
  }
}

function bindings(env, timings) {
  return {
    kvGet: (key, type) => timed(timings, "kv", () => env.TOKENS_KV.get(key, type)),
    kvPut: (key, value, options) => timed(timings, "kv-put", () => env.TOKENS_KV.put(key, value, options)),
    d1: (sql, params, method) => timed(timings, "d1", () => env.DB.prepare(sql).bind(...params)[method]()),
  };
}

async function publishableKeyFor(io, env, hash) {
  const entry = `secretkey:${hash}:publishableKey`;
  const cached = await io.kvGet(entry);
  if (cached) return cached;
  const key = await io.d1(env.FIND_ACTIVE_KEY_BY_HASH_SQL, [hash, iso(new Date())], "first");
  if (!key) return null;
  await io.kvPut(entry, key.publishableKey);
  return key.publishableKey;
}

async function platformIdFor(io, env, pk) {
  const entry = `publishablekey:${pk}:platformId`;
  const cached = await io.kvGet(entry);
  if (cached) return cached;
  const project = await io.d1(env.SELECT_ACTIVE_PROJECT_SQL, [pk], "first");
  if (!project) return null;
  await io.kvPut(entry, project.platformId);
  return project.platformId;
}

// Keyed by platform and mode as the original was: two projects of one developer in one mode
// share (and overwrite) the entry. Kept, since the point is to measure that design; the
// bench's projects all have the same single tier, so it changes no answer here.
async function tierConfigFor(io, env, platformId, pk) {
  const mode = pk.startsWith("pk_live_") ? "live" : "test";
  const entry = `platform:${platformId}:tierConfig:${mode}`;
  const cached = await io.kvGet(entry, "json");
  if (cached) return cached;
  const { results } = await io.d1(env.SELECT_TIERS_SQL, [pk], "all");
  const config = { tiers: results.map((t) => ({ name: t.name, limit: t.limit })) };
  await io.kvPut(entry, JSON.stringify(config), { expirationTtl: TIER_CONFIG_TTL_SECS });
  return config;
}

// A read then a write, not atomic: concurrent requests of one user may all pass at the limit.
// That is the original's behaviour (KV has no increment), kept on purpose.
async function withinRateLimit(io, pk, user) {
  const entry = `ratelimit:${pk}:${user}:${Math.floor(Date.now() / 60_000)}`;
  const count = Number((await io.kvGet(entry)) ?? 0);
  if (count >= RATE_LIMIT_PER_MINUTE) return false;
  await io.kvPut(entry, String(count + 1), { expirationTtl: RATE_LIMIT_TTL_SECS });
  return true;
}

// COUNT_USAGE's parameters, in its documented order: the baseline's `countParams` with the
// request's single unit of `requests` (the original had no other meter).
const countParams = (c) => [c.publishableKey, c.user, c.start, c.end, c.platformId, c.plan, c.limit, c.now, null,
  c.requestId, c.usersBound, "requests", 1];

async function usageData(request, env, timings) {
  const io = bindings(env, timings);
  const auth = request.headers.get("authorization") ?? "";
  if (!auth.startsWith("Bearer sk_") || auth.length > 256) return error(401, "unauthorized", "Bad key");
  const hash = await sha256Hex(auth.slice(7).trim());
  const pk = await publishableKeyFor(io, env, hash);
  if (!pk) return error(401, "unauthorized", "Unknown or revoked secret key");
  const platformId = await platformIdFor(io, env, pk);
  if (!platformId) return error(401, "unauthorized", "Unknown or revoked secret key");
  const tierConfig = await tierConfigFor(io, env, platformId, pk);
  const user = request.headers.get("x-user-id") ?? "";
  if (!/^[\x21-\x7e]{1,128}$/.test(user)) return error(400, "invalid_request", "Bad X-User-Id");
  if (!(await withinRateLimit(io, pk, user))) return error(429, "rate_limited", "Rate limit exceeded");

  let plan = request.headers.get("x-user-plan");
  const now = new Date();
  let start = new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), 1));
  let end = new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth() + 1, 1));
  if (!plan) {
    const entitled = await io.d1(env.SELECT_ENTITLEMENT_SQL, [pk, user], "first");
    plan = entitled?.plan ?? "free";
    // As the baseline, so both count into the same period rows.
    if (entitled?.currentPeriodEnd && new Date(entitled.currentPeriodEnd) > now) {
      start = new Date(entitled.currentPeriodStart);
      end = new Date(entitled.currentPeriodEnd);
    }
  }
  const tier = tierConfig.tiers.find((t) => t.name === plan);
  if (!tier) return error(400, "invalid_request", `Unknown plan ${plan}`);
  const limit = tier.limit ?? null;
  const call = {
    publishableKey: pk, user, start: iso(start), end: iso(end), platformId, plan, limit, now: iso(now),
    requestId: `req_${crypto.randomUUID()}`, usersBound: Number(env.USERS_PER_PERIOD),
  };
  const row = await io.d1(env.COUNT_USAGE_SQL, countParams(call), "first");
  const count = row?.usageCount ?? null;
  const usage = {
    count: count ?? limit, limit, plan,
    remaining: limit === null ? null : Math.max(limit - (count ?? limit), 0),
    periodStart: iso(start), periodEnd: iso(end),
  };
  if (count === null) return Response.json({ error: "Tier limit reached", code: "limit_reached", usage }, { status: 429 });
  return Response.json({ success: true, usage });
}

export default {
  async fetch(request, env) {
    const url = new URL(request.url);
    if (url.pathname === "/health") return Response.json({ status: "ok", worker: "seed" });
    const timings = [];
    let response;
    try {
      response = await usageData(request, env, timings);
    } catch (e) {
      // Answered here rather than by the runtime so the failure still reports its round trips.
      console.error(e);
      response = error(500, "internal", "Internal error");
    }
    response.headers.set("Server-Timing", timings.join(", "));
    return response;
  },
};
