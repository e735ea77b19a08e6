// A developer's webhook endpoint, for the end-to-end tests: it verifies every delivery with the
// maintained `standardwebhooks` library (not our code), and records what it got.
//
//   node tests/webhook-receiver/receiver.mjs        prints `listening <port>` on stdout
//
// POST /hooks/<name>      a delivery; verified with the secret set for <name>
// PUT  /control/<name>    {"secret": "whsec_…", "fail": n}: the next n deliveries answer 500
//                         (-1: every one), and the secret to verify with
// GET  /control/<name>    {"received": [{id, type, verified, status, body}], "attempts": n}
import http from "node:http";
import { Webhook } from "standardwebhooks";

const endpoints = new Map();

function endpoint(name) {
  if (!endpoints.has(name)) endpoints.set(name, { secrets: [], fail: 0, received: [], attempts: 0 });
  return endpoints.get(name);
}

function read(req) {
  return new Promise((resolve, reject) => {
    const chunks = [];
    req.on("data", (c) => chunks.push(c));
    req.on("end", () => resolve(Buffer.concat(chunks).toString("utf8")));
    req.on("error", reject);
  });
}

function json(res, status, body) {
  res.writeHead(status, { "content-type": "application/json" });
  res.end(JSON.stringify(body));
}

const server = http.createServer(async (req, res) => {
  const [, kind, name] = new URL(req.url, "http://x").pathname.split("/");
  const body = await read(req);
  const state = endpoint(name ?? "");
  if (kind === "control" && req.method === "PUT") {
    const control = JSON.parse(body);
    if (control.secret) state.secrets.unshift(control.secret);
    if (typeof control.fail === "number") state.fail = control.fail;
    return json(res, 200, { ok: true });
  }
  if (kind === "control") return json(res, 200, { received: state.received, attempts: state.attempts });
  if (kind !== "hooks" || req.method !== "POST") return json(res, 404, { error: "no such route" });
  state.attempts += 1;
  let verified = null;
  let payload = null;
  // Any of the secrets set (a rotation's old and new) may be the one that verifies.
  for (const secret of state.secrets) {
    try {
      payload = new Webhook(secret).verify(body, {
        "webhook-id": req.headers["webhook-id"],
        "webhook-timestamp": req.headers["webhook-timestamp"],
        "webhook-signature": req.headers["webhook-signature"],
      });
      verified = secret;
      break;
    } catch {
      // the next secret
    }
  }
  const failing = state.fail !== 0;
  if (state.fail > 0) state.fail -= 1;
  // Without a secret (someone trying webhooks by hand) every delivery is taken, unverified.
  const status = state.secrets.length > 0 && verified === null ? 400 : failing ? 500 : 200;
  state.received.push({
    id: req.headers["webhook-id"],
    type: payload?.type ?? null,
    verified: verified !== null,
    secret: verified,
    signatures: (req.headers["webhook-signature"] ?? "").split(" ").length,
    status,
    body,
  });
  json(res, status, { received: verified !== null, failing });
});

server.listen(0, "127.0.0.1", () => {
  process.stdout.write(`listening ${server.address().port}\n`);
});
