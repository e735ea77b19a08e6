// Baseline for `make bench`: the least a worker can do to count a request. It runs the very
// statement api-multi runs (shared::repo::usage::COUNT_USAGE, passed in as a variable by the
// bench, so the two can never drift) with no auth, cache, rate limit or validation.
const LIMIT = 1_000_000_000;
const iso = (d) => d.toISOString().replace(/\.\d{3}Z$/, "Z");

export default {
  async fetch(request, env) {
    const url = new URL(request.url);
    if (url.pathname === "/health") return Response.json({ status: "ok", worker: "baseline" });
    const user = request.headers.get("x-user-id") ?? "anonymous";
    const now = new Date();
    const start = new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), 1));
    const end = new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth() + 1, 1));
    const row = await env.DB.prepare(env.COUNT_USAGE_SQL)
      .bind(env.BENCH_PK, `js-${user}`, iso(start), iso(end), env.BENCH_PLATFORM, "bench", LIMIT, iso(now), null, crypto.randomUUID())
      .first();
    if (!row) return Response.json({ error: "Tier limit reached" }, { status: 429 });
    return Response.json({ success: true, usage: { count: row.usageCount, limit: LIMIT, plan: "bench" } });
  },
};
