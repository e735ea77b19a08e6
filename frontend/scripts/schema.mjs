// src/api/schema/<worker>.ts from the OpenAPI documents of the workers the dashboard calls
// (front-auth-api, oauth-api), with the openapi-typescript the TypeScript SDK pins (one copy, one
// version for both; it needs TypeScript 5's compiler API, which this package's TypeScript 7 does
// not have). The files are generated but committed, so the dashboard builds without the
// documents; `--check` keeps them from drifting apart.
//
//   node scripts/schema.mjs           # npm run generate: (re)writes src/api/schema/*.ts
//   node scripts/schema.mjs --check   # part of npm test: fails when a committed file is stale

import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, relative } from "node:path";
import { fileURLToPath } from "node:url";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const repo = join(root, "..");
const cli = join(repo, "sdk", "typescript", "node_modules", "openapi-typescript", "bin", "cli.js");
const workers = ["front-auth-api", "oauth-api"];
const check = process.argv.includes("--check");

if (!existsSync(cli)) {
  console.error(`${relative(process.cwd(), cli)} not found: install the SDK's packages (make test-unit does)`);
  process.exit(1);
}

function generate(worker, to) {
  const input = join(repo, "openapi", worker, "openapi.json");
  const run = spawnSync(process.execPath, [cli, input, "--output", to], { cwd: root, encoding: "utf8" });
  if (run.status !== 0) {
    process.stderr.write(run.stdout + run.stderr);
    console.error(`openapi-typescript failed on ${worker} (exit ${run.status ?? run.signal})`);
    process.exit(1);
  }
}

const normalize = (text) => text.replace(/\r\n/g, "\n");
const dir = mkdtempSync(join(tmpdir(), "dream-dashboard-schema-"));
try {
  for (const worker of workers) {
    const output = join(root, "src", "api", "schema", `${worker}.ts`);
    if (!check) {
      generate(worker, output);
      console.log(`wrote ${relative(process.cwd(), output)}`);
      continue;
    }
    const fresh = join(dir, `${worker}.ts`);
    generate(worker, fresh);
    const committed = existsSync(output) ? normalize(readFileSync(output, "utf8")) : undefined;
    if (committed !== normalize(readFileSync(fresh, "utf8"))) {
      console.error(`src/api/schema/${worker}.ts is stale: run npm run generate`);
      process.exitCode = 1;
    }
  }
} finally {
  rmSync(dir, { recursive: true, force: true });
}
