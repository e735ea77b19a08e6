// Baseline for `make bench`: api-multi's POST /api/data hot path written the way a careful
// JavaScript worker would, doing the same binding calls and statements, so the ratio measures
// the Rust/Wasm implementation and not missing work:
//   1. `Authorization: Bearer sk_…` → SHA-256 → KV `secretkey:{hash}:project` (on a miss: the
//      key's project and tiers from D1, cached for 60 s, as api-multi does);
//   2. the rate limit binding, keyed by project and user;
//   3. without X-User-Plan, the user's entitlement from D1 (SELECT_ENTITLEMENT);
//   4. the body's meter and quantity (none: one request), checked against the tier's meters;
//   5. the count, in one of two places (header `X-Bench-Counter`):
//      - `counters` (api-multi's design): a call to the user's counter, a Durable Object with
//        SQLite storage per project (as api-multi's, one shard), which runs COUNT_USAGE (with its share of
//        the distinct-users bound), NOTE_NEW_PERIOD_USER on a user's first count, marks the row
//        and copies changed rows to D1 on an alarm (COPY_USAGE_ROW);
//      - `d1` (the previous design, kept to measure against): the same statements on D1.
// Every statement is api-multi's own, passed in as a variable by the bench (never copied).
import { DurableObject } from "cloudflare:workers";

const iso = (d) => d.toISOString().replace(/\.\d{3}Z$/, "Z");
const error = (status, code, message) => Response.json({ error: message, code }, { status });
const SHARDS = 1; // as api-multi (shared/src/counter.rs)
const FLUSH_DELAY_MS = 2000;

async function sha256Hex(text) {
  const digest = await crypto.subtle.digest("SHA-256", new TextEncoder().encode(text));
  return [...new Uint8Array(digest)].map((b) => b.toString(16).padStart(2, "0")).join("");
}

function shard(user) {
  let h = 0x811c9dc5;
  for (let i = 0; i < user.length; i++) h = Math.imul(h ^ user.charCodeAt(i), 0x01000193) >>> 0;
  return h % SHARDS;
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
    tiers: results.map((t) => ({
      name: t.name,
      priceCents: t.priceCents,
      // Every meter's included amount; `requests` is the tier's limit unless listed.
      meters: Object.fromEntries([
        ["requests", t.limit],
        ...JSON.parse(t.meters ?? "[]").map((m) => [m.key, m.included]),
      ]),
    })),
  };
  await env.TOKENS_KV.put(entry, JSON.stringify(config), { expirationTtl: 60 });
  return config;
}

// COUNT_USAGE's parameters, in its documented order.
const countParams = (c) => [c.publishableKey, c.user, c.start, c.end, c.platformId, c.plan, c.limit, c.now, null,
  c.requestId, c.usersBound, c.meter, c.quantity];

async function countInD1(env, c) {
  const row = await env.DB.prepare(env.COUNT_USAGE_SQL).bind(...countParams(c)).first();
  if (row?.usageCount === c.quantity) {
    const { results } = await env.DB.prepare(env.SELECT_USER_METERS_SQL).bind(c.publishableKey, c.user, c.start).all();
    if (results.length === 1) await env.DB.prepare(env.NOTE_NEW_PERIOD_USER_SQL).bind(c.publishableKey, c.start).run();
  }
  return row?.usageCount ?? null;
}

async function countInCounter(env, c) {
  const stub = env.BENCH_COUNTERS.getByName(`${c.publishableKey}/${shard(c.user)}`);
  const response = await stub.fetch("https://usage-counter/count", { method: "POST", body: JSON.stringify(c) });
  if (!response.ok) throw new Error(`counter answered ${response.status}: ${await response.text()}`);
  return (await response.json()).count;
}

export class BenchCounter extends DurableObject {
  constructor(ctx, env) {
    super(ctx, env);
    this.sql = ctx.storage.sql;
    this.sql.exec(env.COUNTER_SCHEMA_SQL);
    this.sql.exec(env.INIT_COUNTER_STATE_SQL, Math.floor(Date.now() / 1000));
    this.startedAt = null;
    this.alarmSet = false;
  }

  async fetch(request) {
    const c = await request.json();
    // As api-multi's counter: a period older than the counter may have its row in D1 only.
    this.startedAt ??= this.sql.exec(this.env.SELECT_COUNTER_STARTED_SQL).one().startedAtSecs;
    const row = [c.publishableKey, c.user, c.start, c.meter];
    if (Date.parse(c.start) / 1000 < this.startedAt && this.sql.exec(this.env.SELECT_USAGE_SQL, ...row).toArray().length === 0) {
      await this.ctx.blockConcurrencyWhile(async () => {
        const old = await this.env.DB.prepare(this.env.SELECT_USAGE_ROW_SQL).bind(...row).first();
        if (old && this.sql.exec(this.env.SEED_USAGE_ROW_SQL, ...Object.values(old)).toArray().length) {
          this.sql.exec(this.env.NOTE_NEW_PERIOD_USER_SQL, c.publishableKey, c.start);
        }
      });
    }
    const counted = this.sql.exec(this.env.COUNT_USAGE_SQL, ...countParams(c)).toArray()[0];
    if (counted) {
      // As api-multi's: a user's first row of the period, any meter, is one more user.
      if (
        counted.usageCount === c.quantity &&
        this.sql.exec(this.env.SELECT_USER_METERS_SQL, c.publishableKey, c.user, c.start).toArray().length === 1
      ) {
        this.sql.exec(this.env.NOTE_NEW_PERIOD_USER_SQL, c.publishableKey, c.start);
      }
      this.sql.exec(this.env.MARK_UNFLUSHED_SQL, ...row);
      if (!this.alarmSet) {
        if ((await this.ctx.storage.getAlarm()) === null) await this.ctx.storage.setAlarm(Date.now() + FLUSH_DELAY_MS);
        this.alarmSet = true;
      }
    }
    return Response.json({ count: counted?.usageCount ?? null });
  }

  async alarm() {
    this.alarmSet = false;
    const { closed } = this.sql.exec(this.env.CLOSE_GENERATION_SQL).one();
    const rows = this.sql.exec(this.env.SELECT_UNFLUSHED_SQL, closed).toArray();
    const copy = this.env.DB.prepare(this.env.COPY_USAGE_ROW_SQL);
    for (let i = 0; i < rows.length; i += 100) {
      await this.env.DB.batch(rows.slice(i, i + 100).map((r) => copy.bind(...Object.values(r))));
    }
    this.sql.exec(this.env.FORGET_FLUSHED_SQL, closed);
  }
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
    // The optional body: a quantity of one of the tier's meters (no body: one request).
    const text = await request.text();
    let track = {};
    try {
      track = text.trim() ? JSON.parse(text) : {};
    } catch {
      return error(400, "invalid_request", "Invalid JSON body");
    }
    const meter = track.meter ?? "requests";
    const quantity = track.quantity ?? 1;
    if (!(meter in tier.meters)) return error(400, "invalid_request", `Unknown meter ${meter}`);
    if (!Number.isSafeInteger(quantity) || quantity < 1 || quantity > 1e9) return error(400, "invalid_request", "Bad quantity");
    const limit = tier.meters[meter];
    const inD1 = request.headers.get("x-bench-counter") === "d1";
    const call = {
      publishableKey: config.publishableKey, user, start: iso(start), end: iso(end), platformId: config.platformId,
      plan, limit, now: iso(now), requestId: `req_${crypto.randomUUID()}`, meter, quantity,
      usersBound: inD1 ? Number(env.USERS_PER_PERIOD) : Math.ceil(Number(env.USERS_PER_PERIOD) / SHARDS),
    };
    const count = inD1 ? await countInD1(env, call) : await countInCounter(env, call);
    const usage = {
      count: count ?? limit, limit, plan, meter,
      remaining: limit === null ? null : Math.max(limit - (count ?? limit), 0),
      periodStart: iso(start), periodEnd: iso(end),
    };
    if (count === null) return Response.json({ error: "Tier limit reached", code: "limit_reached", usage }, { status: 429 });
    return Response.json({ success: true, usage });
  },
};
