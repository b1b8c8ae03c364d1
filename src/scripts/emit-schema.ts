// Writes schema/schema.graphql from the code (`npm run schema`); `--check` fails when it is stale.
import "reflect-metadata";
import { readFileSync, writeFileSync, mkdirSync } from "node:fs";
import { dirname, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { lexicographicSortSchema, printSchema } from "graphql";
import { createSchema } from "../schema.js";

export const schemaPath = resolve(dirname(fileURLToPath(import.meta.url)), "../../schema/schema.graphql");

export async function printedSchema(): Promise<string> {
  const schema = await createSchema();
  return printSchema(lexicographicSortSchema(schema)) + "\n";
}

const sdl = await printedSchema();
if (process.argv.includes("--check")) {
  let current = "";
  try {
    current = readFileSync(schemaPath, "utf8");
  } catch {
    /* missing */
  }
  if (current !== sdl) {
    console.error("schema/schema.graphql is out of date: run `npm run schema`");
    process.exit(1);
  }
  console.log("schema/schema.graphql is up to date");
} else {
  mkdirSync(dirname(schemaPath), { recursive: true });
  writeFileSync(schemaPath, sdl);
  console.log(`wrote ${schemaPath}`);
}
