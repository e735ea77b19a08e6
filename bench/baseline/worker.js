// Baseline for `make bench`: api-multi's POST /api/data hot path written the way a careful
// JavaScript worker would, doing the same binding calls and statements, so the ratio measures
// the Rust/Wasm implementation and not missing work:
//   1. `Authorization: Bearer sk_…` → SHA-256 → the project's configuration, from the isolate's
//      memory while it is less than 60 s old; else from KV `bench-secretkey:{hash}:project`
//      (`{checkedAtMs, epoch, config}`, same 60 s rule); else from D1 (the key, its project and
//      tiers), then written to KV (kept 45 days) and memory;
//   2. without X-User-Plan, the user's entitlement from D1 (SELECT_ENTITLEMENT);
//   3. the body's meter and quantity (none: one request), checked against the tier's meters;
//   4. the count, in one of two places (header `X-Bench-Counter`):
//      - `counters` (api-multi's design): a call to the user's counter, a Durable Object with
//        SQLite storage per project (as api-multi's, one shard). It refuses a call made with an
//        older configuration than its epoch (412: the worker reloads it from D1 and tries once
//        more), enforces the project's and the user's rate limits in memory, then runs
//        COUNT_USAGE (with its share of the distinct-users bound), NOTE_NEW_PERIOD_USER on a
//        user's first count, marks the row and copies changed rows to D1 on an alarm
//        (COPY_USAGE_ROW);
//      - `d1` (the previous design, kept to measure against): the same statements on D1, and
//        no rate limit (nothing holds its windows).
// A warm request with X-User-Plan thus awaits one binding call, the counter's. Every response
// but /health lists the binding calls it awaited in `Server-Timing`, so the bench can print
// round trips per request. Every statement is api-multi's own, passed in as a variable by the
// bench (never copied).
import { DurableObject } from "cloudflare:workers";

const iso = (d) => d.toISOString().replace(/\.\d{3}Z$/, "Z");
const error = (status, code, message) => Response.json({ error: message, code }, { status });
const SHARDS = 1; // as api-multi (shared/src/counter.rs)
const FLUSH_DELAY_MS = 2000;

// A dashboard edit reaches warm isolates at once through the counter's epoch; the age bound
// covers what the epoch does not (the D1 path, a change no counter was told of).
const CONFIG_TTL_MS = 60_000;
// An isolate serving many keys must not grow without bound; a miss costs one KV read.
const MAX_CACHED_CONFIGS = 10_000;
// Longer than a month: a key used by a monthly job still finds its entry at the next run.
const KV_ENTRY_TTL_SECS = 45 * 24 * 3600;

// api-multi's limits (formerly its rate limit bindings'), kept by the counter: it sees every
// count of its project anyway, so enforcing them there costs no round trip.
const RATE_WINDOW_MS = 60_000;
const PROJECT_REQUESTS_PER_WINDOW = 6000;
const USER_REQUESTS_PER_WINDOW = 600;
const MAX_TRACKED_USERS = 10_000;

const EPOCH_SCHEMA_SQL =
  "CREATE TABLE IF NOT EXISTS bench_config_epoch (id INTEGER PRIMARY KEY CHECK (id = 1), epoch INTEGER NOT NULL)";
const SELECT_EPOCH_SQL = "SELECT epoch FROM bench_config_epoch WHERE id = 1";
const SAVE_EPOCH_SQL =
  "INSERT INTO bench_config_epoch (id, epoch) VALUES (1, ?) ON CONFLICT (id) DO UPDATE SET epoch = excluded.epoch";

async function sha256Hex(text) {
  const digest = await crypto.subtle.digest("SHA-256", new TextEncoder().encode(text));
  return [...new Uint8Array(digest)].map((b) => b.toString(16).padStart(2, "0")).join("");
}

function shard(user) {
  let h = 0x811c9dc5;
  for (let i = 0; i < user.length; i++) h = Math.imul(h ^ user.charCodeAt(i), 0x01000193) >>> 0;
  return h % SHARDS;
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

// hash → {config, checkedAtMs, epoch}: what KV holds, so a warm request needs no KV read.
const configs = new Map();

// An entry without a number `checkedAtMs` (an older shape) compares as NaN: never fresh.
const isFresh = (entry, now) => entry?.config != null && now - entry.checkedAtMs < CONFIG_TTL_MS;

function remember(map, key, entry, now) {
  if (!map.has(key) && map.size >= MAX_CACHED_CONFIGS) {
    for (const [k, cached] of map) if (!isFresh(cached, now)) map.delete(k);
    // All fresh: whichever keys are still in use come back with one KV read each.
    if (map.size >= MAX_CACHED_CONFIGS) map.clear();
  }
  map.set(key, entry);
}

const kvEntry = (hash) => `bench-secretkey:${hash}:project`; // its own entry: no format shared with api-multi

async function loadProject(env, hash, timings) {
  const d1 = (statement, method) => timed(timings, "d1", () => statement[method]());
  const key = await d1(env.DB.prepare(env.FIND_ACTIVE_KEY_BY_HASH_SQL).bind(hash, iso(new Date())), "first");
  if (!key) return null;
  const project = await d1(env.DB.prepare(env.SELECT_ACTIVE_PROJECT_SQL).bind(key.publishableKey), "first");
  if (!project) return null;
  const { results } = await d1(env.DB.prepare(env.SELECT_TIERS_SQL).bind(key.publishableKey), "all");
  return {
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
}

// From D1, whatever memory and KV hold: on a miss, or when the counter says the cached
// configuration predates its epoch (then `epoch` is the counter's).
async function reloadProject(env, hash, epoch, timings) {
  const config = await loadProject(env, hash, timings);
  if (!config) {
    configs.delete(hash);
    return null;
  }
  const entry = { config, checkedAtMs: Date.now(), epoch };
  await timed(timings, "kv-put", () =>
    env.TOKENS_KV.put(kvEntry(hash), JSON.stringify(entry), { expirationTtl: KV_ENTRY_TTL_SECS }),
  );
  remember(configs, hash, entry, Date.now());
  return entry;
}

async function projectFor(env, hash, timings) {
  const remembered = configs.get(hash);
  if (isFresh(remembered, Date.now())) return remembered;
  const stored = await timed(timings, "kv", () => env.TOKENS_KV.get(kvEntry(hash), "json"));
  // The entry keeps D1's `checkedAtMs`: its age counts from the read of D1, not of KV.
  if (isFresh(stored, Date.now())) {
    remember(configs, hash, { config: stored.config, checkedAtMs: stored.checkedAtMs, epoch: stored.epoch ?? 0 }, Date.now());
    return configs.get(hash);
  }
  return reloadProject(env, hash, 0, timings);
}

// COUNT_USAGE's parameters, in its documented order.
const countParams = (c) => [c.publishableKey, c.user, c.start, c.end, c.platformId, c.plan, c.limit, c.now, null,
  c.requestId, c.usersBound, c.meter, c.quantity];

// The previous design has no counter to hold rate-limit windows, so this path enforces no rate
// limit at all: it measures where counts are written, nothing else.
async function countInD1(env, c, timings) {
  const d1 = (statement, method) => timed(timings, "d1", () => statement[method]());
  const row = await d1(env.DB.prepare(env.COUNT_USAGE_SQL).bind(...countParams(c)), "first");
  if (row?.usageCount === c.quantity) {
    const { results } = await d1(env.DB.prepare(env.SELECT_USER_METERS_SQL).bind(c.publishableKey, c.user, c.start), "all");
    if (results.length === 1) await d1(env.DB.prepare(env.NOTE_NEW_PERIOD_USER_SQL).bind(c.publishableKey, c.start), "run");
  }
  return row?.usageCount ?? null;
}

// The counter's answer: `{status: 200, count}`, `{status: 412, epoch}` or `{status: 429, scope}`.
async function countInCounter(env, c, timings) {
  const stub = env.BENCH_COUNTERS.getByName(`${c.publishableKey}/${shard(c.user)}`);
  return timed(timings, "counter", async () => {
    const response = await stub.fetch("https://usage-counter/count", { method: "POST", body: JSON.stringify(c) });
    const text = await response.text();
    if (![200, 412, 429].includes(response.status)) throw new Error(`counter answered ${response.status}: ${text}`);
    return { status: response.status, ...JSON.parse(text) };
  });
}

// Cloudflare's sliding-window estimate: windows aligned to multiples of RATE_WINDOW_MS, the
// previous window's count weighted by how much of it still overlaps the last RATE_WINDOW_MS.
const newWindow = () => ({ start: null, previous: 0, current: 0 });

function rollWindow(w, now) {
  const start = now - (now % RATE_WINDOW_MS);
  if (w.start !== start) {
    w.previous = w.start === start - RATE_WINDOW_MS ? w.current : 0;
    w.current = 0;
    w.start = start;
  }
  return w;
}

const windowAdmits = (w, limit, now) => w.previous * (1 - (now - w.start) / RATE_WINDOW_MS) + w.current + 1 <= limit;

class RateLimits {
  constructor(projectLimit = PROJECT_REQUESTS_PER_WINDOW, userLimit = USER_REQUESTS_PER_WINDOW) {
    this.projectLimit = projectLimit;
    this.userLimit = userLimit;
    this.project = newWindow();
    this.users = new Map();
    this.prunedWindow = null;
  }

  // null when admitted (and counted), else the scope that refused.
  admit(user, now) {
    const project = rollWindow(this.project, now);
    if (!windowAdmits(project, this.projectLimit, now)) return "project";
    const known = this.users.get(user);
    const window = rollWindow(known ?? newWindow(), now);
    if (!windowAdmits(window, this.userLimit, now)) return "project+user";
    if (!known) {
      this.users.set(user, window);
      if (this.users.size > MAX_TRACKED_USERS) this.prune(now);
    }
    project.current += 1;
    window.current += 1;
    return null;
  }

  // A user last seen two windows ago or more weighs nothing in the estimate. Entries only age
  // past that when the window turns, so one pass per window removes all there are.
  prune(now) {
    const start = now - (now % RATE_WINDOW_MS);
    if (this.prunedWindow === start) return;
    this.prunedWindow = start;
    for (const [user, w] of this.users) if (w.start < start - RATE_WINDOW_MS) this.users.delete(user);
  }
}

export class BenchCounter extends DurableObject {
  constructor(ctx, env) {
    super(ctx, env);
    this.sql = ctx.storage.sql;
    this.sql.exec(env.COUNTER_SCHEMA_SQL);
    this.sql.exec(env.INIT_COUNTER_STATE_SQL, Math.floor(Date.now() / 1000));
    this.sql.exec(EPOCH_SCHEMA_SQL);
    // Read once: only `config-changed` moves it, and it runs in this object.
    this.epoch = this.sql.exec(SELECT_EPOCH_SQL).toArray()[0]?.epoch ?? 0;
    this.limits = new RateLimits();
    this.startedAt = null;
    this.alarmSet = false;
  }

  async fetch(request) {
    if (new URL(request.url).pathname === "/config-changed") return this.configChanged(request);
    const c = await request.json();
    // A caller that does not say which configuration it holds may hold any: stale.
    if (!(c.configEpoch >= this.epoch)) return Response.json({ epoch: this.epoch }, { status: 412 });
    const refused = this.limits.admit(c.user, Date.now());
    if (refused) return Response.json({ scope: refused }, { status: 429 });
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

  // After a dashboard edit (unused by the bench). Never below the edit's time, so an epoch
  // outlives a counter whose storage was lost; always up, so two edits in one millisecond
  // still both reach warm isolates.
  async configChanged(request) {
    const { atMs } = await request.json();
    if (!Number.isSafeInteger(atMs)) return error(400, "invalid_request", "atMs must be an integer");
    this.epoch = Math.max(this.epoch + 1, atMs);
    this.sql.exec(SAVE_EPOCH_SQL, this.epoch);
    return Response.json({ epoch: this.epoch });
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

async function usageData(request, env, timings) {
  const auth = request.headers.get("authorization") ?? "";
  if (!auth.startsWith("Bearer sk_") || auth.length > 256) return error(401, "unauthorized", "Bad key");
  const hash = await sha256Hex(auth.slice(7).trim());
  let entry = await projectFor(env, hash, timings);
  if (!entry) return error(401, "unauthorized", "Unknown or revoked secret key");
  const user = request.headers.get("x-user-id") ?? "";
  if (!/^[\x21-\x7e]{1,128}$/.test(user)) return error(400, "invalid_request", "Bad X-User-Id");

  let plan = request.headers.get("x-user-plan");
  const now = new Date();
  let start = new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), 1));
  let end = new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth() + 1, 1));
  if (!plan) {
    const entitled = await timed(timings, "d1", () =>
      env.DB.prepare(env.SELECT_ENTITLEMENT_SQL).bind(entry.config.publishableKey, user).first(),
    );
    plan = entitled?.plan ?? "free";
    if (entitled?.currentPeriodEnd && new Date(entitled.currentPeriodEnd) > now) {
      start = new Date(entitled.currentPeriodStart);
      end = new Date(entitled.currentPeriodEnd);
    }
  }
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
  if (!Number.isSafeInteger(quantity) || quantity < 1 || quantity > 1e9) return error(400, "invalid_request", "Bad quantity");
  const inD1 = request.headers.get("x-bench-counter") === "d1";
  const requestId = `req_${crypto.randomUUID()}`;
  // Against a given configuration: after a reload the plan or meter may be gone.
  const callFor = ({ config, epoch }) => {
    const tier = config.tiers.find((t) => t.name === plan);
    if (!tier) return error(400, "invalid_request", `Unknown plan ${plan}`);
    if (!(meter in tier.meters)) return error(400, "invalid_request", `Unknown meter ${meter}`);
    return {
      publishableKey: config.publishableKey, user, start: iso(start), end: iso(end), platformId: config.platformId,
      plan, limit: tier.meters[meter], now: iso(now), requestId, meter, quantity,
      usersBound: inD1 ? Number(env.USERS_PER_PERIOD) : Math.ceil(Number(env.USERS_PER_PERIOD) / SHARDS),
      configEpoch: epoch,
    };
  };
  let call = callFor(entry);
  if (call instanceof Response) return call;

  let count;
  if (inD1) {
    count = await countInD1(env, call, timings);
  } else {
    let answer = await countInCounter(env, call, timings);
    if (answer.status === 412) {
      entry = await reloadProject(env, hash, answer.epoch, timings);
      if (!entry) return error(401, "unauthorized", "Unknown or revoked secret key");
      call = callFor(entry);
      if (call instanceof Response) return call;
      answer = await countInCounter(env, call, timings);
      // Edited again meanwhile: the client's retry will find it settled.
      if (answer.status === 412) return error(503, "unavailable", "Project configuration changing; retry");
    }
    if (answer.status === 429) return error(429, "rate_limited", "Rate limit exceeded");
    count = answer.count;
  }
  const limit = call.limit;
  const usage = {
    count: count ?? limit, limit, plan, meter,
    remaining: limit === null ? null : Math.max(limit - (count ?? limit), 0),
    periodStart: iso(start), periodEnd: iso(end),
  };
  if (count === null) return Response.json({ error: "Tier limit reached", code: "limit_reached", usage }, { status: 429 });
  return Response.json({ success: true, usage });
}

// What api-multi's edge adds to every answer (shared/src/edge/http.rs): a request id and the
// security headers; the same work, so the ratio does not count it against Rust.
const EDGE_HEADERS = [
  ["X-Content-Type-Options", "nosniff"],
  ["X-Frame-Options", "DENY"],
  ["Referrer-Policy", "no-referrer"],
  ["Strict-Transport-Security", "max-age=63072000; includeSubDomains"],
  ["Content-Security-Policy", "default-src 'none'; frame-ancestors 'none'"],
  ["Permissions-Policy", "camera=(), microphone=(), geolocation=()"],
  ["Cache-Control", "no-store"],
  ["Vary", "Origin"],
];

function requestId() {
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  return `req_${[...bytes].map((b) => b.toString(16).padStart(2, "0")).join("")}`;
}

export default {
  async fetch(request, env) {
    const url = new URL(request.url);
    if (url.pathname === "/health") return Response.json({ status: "ok", worker: "baseline" });
    const timings = [];
    let response;
    try {
      response = await usageData(request, env, timings);
    } catch (e) {
      // Answered here rather than by the runtime so the failure still reports its round trips.
      console.error(e);
      response = error(500, "internal", "Internal error");
    }
    response.headers.set("X-Request-Id", requestId());
    for (const [name, value] of EDGE_HEADERS) response.headers.set(name, value);
    if (timings.length > 0) response.headers.set("Server-Timing", timings.join(", "));
    return response;
  },
};
