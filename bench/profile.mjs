// A CPU profile of a worker under `wrangler dev`, through its inspector (the DevTools protocol
// wrangler proxies to workerd), while `make bench` loads it. Prints where the isolate's time
// went: idle, garbage collection, JavaScript (wasm-bindgen glue, the runtime's own), Wasm, and
// the functions with the most self time. Writes the raw profile for Chrome DevTools.
//
//   node bench/profile.mjs <inspector port> <seconds> <out.cpuprofile>
//
// Node 22's built-in WebSocket; no dependencies.

import { writeFileSync } from "node:fs";

const [port, seconds, out] = process.argv.slice(2);
if (!port || !seconds || !out) {
  console.error("usage: node bench/profile.mjs <inspector port> <seconds> <out.cpuprofile>");
  process.exit(2);
}

const targets = await (await fetch(`http://127.0.0.1:${port}/json`)).json();
// wrangler's inspector proxy only admits DevTools and local origins (Node sends none unasked).
const socket = new WebSocket(targets[0].webSocketDebuggerUrl, { headers: { Origin: "http://127.0.0.1" } });
await new Promise((resolve, reject) => {
  socket.onopen = resolve;
  socket.onerror = () => reject(new Error(`cannot connect to the inspector on ${port}`));
});

let nextId = 1;
const pending = new Map();
socket.onmessage = (message) => {
  const reply = JSON.parse(message.data);
  const waiting = pending.get(reply.id);
  if (!waiting) return;
  pending.delete(reply.id);
  if (reply.error) waiting.reject(new Error(JSON.stringify(reply.error)));
  else waiting.resolve(reply.result);
};
function send(method, params = {}) {
  const id = nextId++;
  socket.send(JSON.stringify({ id, method, params }));
  return new Promise((resolve, reject) => pending.set(id, { resolve, reject }));
}

await send("Profiler.enable");
await send("Profiler.setSamplingInterval", { interval: 200 });
await send("Profiler.start");
await new Promise((resolve) => setTimeout(resolve, Number(seconds) * 1000));
const { profile } = await send("Profiler.stop");
socket.close();
writeFileSync(out, JSON.stringify(profile));

// Self time per node, from the samples and the time between them (µs).
const selfMicros = new Map();
profile.samples.forEach((node, i) => {
  selfMicros.set(node, (selfMicros.get(node) ?? 0) + (profile.timeDeltas[i] ?? 0));
});
const byId = new Map(profile.nodes.map((n) => [n.id, n]));
const total = [...selfMicros.values()].reduce((a, b) => a + b, 0) || 1;

function category(frame) {
  const name = frame.functionName;
  if (name === "(idle)") return "idle";
  if (name === "(garbage collector)") return "garbage collection";
  if (name === "(program)" || name === "(root)") return "runtime (outside JS and Wasm)";
  if (frame.url.startsWith("wasm://") || /^\$?func\d+|^\$/.test(name)) return "Wasm";
  return "JavaScript";
}

const categories = new Map();
const functions = new Map();
for (const [id, micros] of selfMicros) {
  const frame = byId.get(id).callFrame;
  const kind = category(frame);
  categories.set(kind, (categories.get(kind) ?? 0) + micros);
  if (kind === "idle") continue;
  const file = frame.url.split("/").pop() || "";
  // Minified glue has short names: the line and column say which function it is.
  const where = kind === "Wasm" ? "wasm" : file ? `${file}:${frame.lineNumber + 1}:${frame.columnNumber + 1}` : "native";
  const key = `${frame.functionName || "(anonymous)"}  [${where}]`;
  functions.set(key, (functions.get(key) ?? 0) + micros);
}

const busy = total - (categories.get("idle") ?? 0);
console.log(`busy_ms=${(busy / 1000).toFixed(1)}`);
const pct = (micros) => `${((100 * micros) / total).toFixed(1).padStart(5)} %`;
console.log(`\n  isolate time over ${seconds} s (${(total / 1000).toFixed(0)} ms sampled):`);
for (const [kind, micros] of [...categories].sort((a, b) => b[1] - a[1])) {
  console.log(`    ${pct(micros)}  ${kind}`);
}
console.log("  most self time (not idle):");
for (const [name, micros] of [...functions].sort((a, b) => b[1] - a[1]).slice(0, 12)) {
  console.log(`    ${pct(micros)}  ${name.length > 100 ? `${name.slice(0, 97)}...` : name}`);
}
const wasm = [...functions].filter(([name]) => name.endsWith("[wasm]"));
if (wasm.length > 0) {
  console.log("  most self time in Wasm:");
  for (const [name, micros] of wasm.sort((a, b) => b[1] - a[1]).slice(0, 10)) {
    const short = name.replace(/\[[0-9a-f]{16}\]/g, "").replace(/  \[wasm\]$/, "");
    console.log(`    ${pct(micros)}  ${short.length > 110 ? `${short.slice(0, 107)}...` : short}`);
  }
}
// The inspector proxy does not answer the close handshake: leave without waiting for it.
process.exit(0);
