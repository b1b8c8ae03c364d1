// Writes the allow-list manifest (persisted operations) from the dashboard's operations,
// test/operations/*.graphql: `npm run allowlist [-- --check]`. Each operation is hashed as graphql-js
// prints it alone, which is what the server hashes (src/http/allowlist.ts). --check fails when the
// committed manifest differs from the operations.
import { readdirSync, readFileSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { Kind, parse, print } from "graphql";
import { documentHash, type ManifestFile } from "../http/allowlist.js";

const root = join(dirname(fileURLToPath(import.meta.url)), "../..");
const dir = join(root, "test/operations");
const out = join(root, "operations.manifest.json");

const operations: ManifestFile["operations"] = [];
for (const file of readdirSync(dir)
  .filter((f) => f.endsWith(".graphql"))
  .sort()) {
  for (const def of parse(readFileSync(join(dir, file), "utf8")).definitions) {
    if (def.kind !== Kind.OPERATION_DEFINITION || !def.name) continue;
    operations.push({ name: def.name.value, file: `test/operations/${file}`, sha256: documentHash(print(def)) });
  }
}
const text = JSON.stringify({ version: 1, operations } satisfies ManifestFile, null, 2) + "\n";
if (process.argv.includes("--check")) {
  const current = readFileSync(out, "utf8");
  if (current !== text) {
    console.error("operations.manifest.json is out of date: run npm run allowlist");
    process.exit(1);
  }
} else {
  writeFileSync(out, text);
  console.log(`${operations.length} operations written to operations.manifest.json`);
}
