// src/schema.ts from api-multi's OpenAPI document, with openapi-typescript (the pinned
// devDependency). src/schema.ts is generated but kept in the repository, so the package builds
// without the document; `--check` keeps the two from drifting apart.
//
//   node scripts/schema.mjs           # npm run generate: (re)writes src/schema.ts
//   node scripts/schema.mjs --check   # npm run check:schema: regenerates into a temporary file and
//                                     # fails when it differs from the committed src/schema.ts

import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { dirname, join, relative } from "node:path";
import { fileURLToPath } from "node:url";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const input = join(root, "..", "..", "openapi", "api-multi", "openapi.json");
const output = join(root, "src", "schema.ts");
const check = process.argv.includes("--check");

if (!existsSync(input)) {
  console.error(`${relative(process.cwd(), input)} not found: it is the source of src/schema.ts`);
  process.exit(1);
}

const require = createRequire(import.meta.url);
const cli = join(dirname(require.resolve("openapi-typescript/package.json")), "bin", "cli.js");

/** Runs openapi-typescript exactly the same way for both modes, so only the document can differ. */
function generate(to) {
  const run = spawnSync(process.execPath, [cli, input, "--output", to], {
    cwd: root,
    encoding: "utf8",
    stdio: ["ignore", "pipe", "pipe"],
  });
  if (run.status !== 0) {
    process.stderr.write(run.stdout + run.stderr);
    console.error(`openapi-typescript failed (exit ${run.status ?? run.signal})`);
    process.exit(1);
  }
}

if (!check) {
  generate(output);
  console.log(`wrote ${relative(process.cwd(), output)} from ${relative(process.cwd(), input)}`);
  process.exit(0);
}

const dir = mkdtempSync(join(tmpdir(), "dream-api-schema-"));
try {
  const fresh = join(dir, "schema.ts");
  generate(fresh);
  // Line endings aside (a checkout may convert them), the files must be identical.
  const normalize = (text) => text.replace(/\r\n/g, "\n");
  const committed = existsSync(output) ? normalize(readFileSync(output, "utf8")) : undefined;
  if (committed !== normalize(readFileSync(fresh, "utf8"))) {
    console.error("src/schema.ts is stale: run npm run generate");
    process.exitCode = 1;
  } else {
    console.log("src/schema.ts matches openapi/api-multi/openapi.json");
  }
} finally {
  rmSync(dir, { recursive: true, force: true });
}
