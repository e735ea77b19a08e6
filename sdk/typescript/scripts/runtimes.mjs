// Runs compiled node:test files (test-dist/) on the runtimes the SDK supports besides the
// Node 22 that `npm test` uses: Node 18, Bun and Deno, at the versions pinned in
// runtimes/package.json (install them with `npm run install:runtimes`). Shows each runtime's own
// report, then one line per runtime with its passed, failed and skipped tests.
//
//   node scripts/runtimes.mjs [--only=node18,bun,deno] test-dist/unit.test.js [more files]
//
// A runtime fails when it exits non-zero, when it ran no test at all, or when the runtimes that
// passed ran different numbers of tests (one of them silently dropped some).

import { spawn, spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import { relative, resolve } from "node:path";
import { fileURLToPath } from "node:url";

const ROOT = fileURLToPath(new URL("..", import.meta.url));
const BIN = resolve(ROOT, "runtimes/node_modules");

const RUNTIMES = {
  node18: {
    bin: `${BIN}/node18/bin/node`,
    // TAP (Node 18's default off a terminal) ends with "# pass N", "# fail N", "# skipped N".
    args: (files) => ["--test", "--test-reporter=tap", ...files],
    count: (out) => ({
      passed: total(out, /^# pass (\d+)$/gm),
      failed: total(out, /^# (?:fail|cancelled) (\d+)$/gm),
      skipped: total(out, /^# (?:skipped|todo) (\d+)$/gm),
    }),
  },
  bun: {
    bin: `${BIN}/.bin/bun`,
    // `bun test` runs node:test's describe/it with its own runner (`bun <file>` refuses them).
    // A path must start with "./" or "/" (else it is a name filter). Its default per-test timeout,
    // 5 s, is too short for the integration tests; Node and Deno have none.
    args: (files) => ["test", "--timeout=120000", ...files.map((f) => (/^\.{0,2}\//.test(f) ? f : `./${f}`))],
    count: (out) => ({
      passed: total(out, /^ *(\d+) pass$/gm),
      // A file that throws while loading is "1 fail" and "1 error"; an error outside any test, "N error".
      failed: total(out, /^ *(\d+) fail$/gm) || total(out, /^ *(\d+) errors?$/gm),
      skipped: total(out, /^ *(\d+) (?:skip|todo)$/gm),
    }),
  },
  deno: {
    bin: `${BIN}/.bin/deno`,
    // --no-check: these are tsc's output (tsc checks the types). Deno would type-check the
    // package's .d.ts files, resolve their "./x.js" imports to the .js files and fail.
    args: (files) => ["test", "-A", "--no-check", ...files],
    count: denoCount,
  },
};

const argv = process.argv.slice(2);
const only = argv.find((a) => a.startsWith("--only="))?.slice("--only=".length).split(",");
const files = argv.filter((a) => !a.startsWith("--")).map((f) => relative(ROOT, resolve(f)));
const names = only ?? Object.keys(RUNTIMES);
if (files.length === 0 || names.some((n) => !(n in RUNTIMES))) {
  console.error(`usage: node scripts/runtimes.mjs [--only=${Object.keys(RUNTIMES).join(",")}] <test file>...`);
  process.exit(2);
}

const results = [];
for (const name of names) {
  const { bin, args, count } = RUNTIMES[name];
  if (!existsSync(bin)) {
    results.push({ name, version: "not installed", ok: false, note: "run `npm run install:runtimes`" });
    continue;
  }
  const printed = spawnSync(bin, ["--version"], { encoding: "utf8" }).stdout;
  const version = /\d+\.\d+\.\d+/.exec(printed)?.[0] ?? printed.trim();
  // As it could be typed in this directory.
  const command = [relative(ROOT, bin), ...args(files)].join(" ");
  console.log(`\n=== ${name} ${version}: ${command}\n`);
  const { code, out } = await run(bin, args(files));
  const counts = count(out.replace(/\x1b\[[0-9;]*m/g, ""));
  const ran = counts.passed + counts.failed + counts.skipped;
  const ok = code === 0 && ran > 0;
  const note = code !== 0 ? `exit code ${code}` : ran === 0 ? "no test ran" : "";
  results.push({ name, version, ok, note, counts, ran });
}

// Every runtime that passed must have seen the same tests.
const passedRuns = results.filter((r) => r.ok);
if (new Set(passedRuns.map((r) => r.ran)).size > 1) {
  for (const r of passedRuns) Object.assign(r, { ok: false, note: "the runtimes ran different numbers of tests" });
}

console.log(`\nruntimes, ${files.join(" ")}:`);
for (const { name, version, ok, note, counts } of results) {
  const figures = counts ? `${counts.passed} passed, ${counts.failed} failed, ${counts.skipped} skipped` : "";
  console.log(`  ${ok ? "PASS" : "FAIL"}  ${`${name} ${version}`.padEnd(16)} ${figures}${note ? `  (${note})` : ""}`);
}
process.exit(results.every((r) => r.ok) ? 0 : 1);

/** Runs `bin` in the package root, passing its output through; resolves with it and the exit code. */
function run(bin, args) {
  return new Promise((done, fail) => {
    // NO_COLOR: plain text to count from (the runtimes colour even when not on a terminal).
    const child = spawn(bin, args, { cwd: ROOT, env: { ...process.env, NO_COLOR: "1" }, stdio: ["ignore", "pipe", "pipe"] });
    let out = "";
    child.stdout.setEncoding("utf8");
    child.stderr.setEncoding("utf8");
    child.stdout.on("data", (chunk) => ((out += chunk), process.stdout.write(chunk)));
    child.stderr.on("data", (chunk) => ((out += chunk), process.stderr.write(chunk)));
    child.on("error", fail);
    child.on("close", (code, signal) => done({ code: code ?? signal, out }));
  });
}

function total(out, pattern) {
  return [...out.matchAll(pattern)].reduce((sum, m) => sum + Number(m[1]), 0);
}

/**
 * Deno runs each node:test `describe` as a test and each `it` as a step, and its summary counts
 * the describes, with the its (skipped ones too) only as "(N steps)". So count the leaves: a
 * "name ... ok|FAILED|ignored" line that does not close a "name ..." line opened above it at the
 * same indentation.
 */
function denoCount(out) {
  const counts = { passed: 0, failed: 0, skipped: 0 };
  const open = [];
  for (const line of out.split("\n")) {
    // A file that throws while loading (or leaves an error behind) runs no test but fails.
    if (/^Uncaught error from .* FAILED$/.test(line)) counts.failed++;
    const m = /^( *)(.+?) \.\.\.(?: (ok|FAILED|ignored)\b.*)?$/.exec(line);
    if (!m) continue;
    const [, indent, name, result] = m;
    if (!result) open.push(indent + name);
    else if (open.at(-1) === indent + name) open.pop();
    else counts[{ ok: "passed", FAILED: "failed", ignored: "skipped" }[result]]++;
  }
  return counts;
}
