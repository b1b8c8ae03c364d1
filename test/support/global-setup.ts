// Once per test run, before any file: the migrated schema, made once and cloned by every file
// (test/support/database.ts). On PGlite a data-dir snapshot (a fresh PGlite costs seconds of initdb
// and the migrations); on PostgreSQL a template database, copied per file by CREATE DATABASE.
import "reflect-metadata";
import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import postgres from "postgres";
import type { TestProject } from "vitest/node";
import { openDatabase } from "../../src/db/client.js";

declare module "vitest" {
  export interface ProvidedContext {
    /** A file holding a migrated PGlite data dir (dumpDataDir), when the tests run on PGlite. */
    pgliteSnapshot: string | null;
    /** A migrated template database on TEST_DATABASE_URL's server, when the tests run there. */
    templateDatabase: string | null;
  }
}

export default async function setup(project: TestProject): Promise<() => Promise<void> | void> {
  const serverUrl = process.env.TEST_DATABASE_URL;
  if (serverUrl) {
    const name = `rg_template_${Date.now()}_${randomBytes(4).toString("hex")}`;
    const admin = postgres(serverUrl, { max: 1, onnotice: () => {} });
    await admin.unsafe(`create database ${name}`);
    const u = new URL(serverUrl);
    u.pathname = `/${name}`;
    const database = await openDatabase({ databaseUrl: u.toString(), poolSize: 1 });
    await database.close();
    project.provide("templateDatabase", name);
    project.provide("pgliteSnapshot", null);
    return async () => {
      await admin.unsafe(`drop database if exists ${name} with (force)`);
      await admin.end();
    };
  }
  const { PGlite } = await import("@electric-sql/pglite");
  const { drizzle } = await import("drizzle-orm/pglite");
  const { migrate } = await import("drizzle-orm/pglite/migrator");
  const client = new PGlite();
  await client.waitReady;
  await migrate(drizzle(client), { migrationsFolder: fileURLToPath(new URL("../../drizzle", import.meta.url)) });
  const dump = await client.dumpDataDir("none");
  await client.close();
  const dir = mkdtempSync(join(tmpdir(), "rg-pglite-snapshot-"));
  const file = join(dir, "migrated.tar");
  writeFileSync(file, Buffer.from(await dump.arrayBuffer()));
  project.provide("pgliteSnapshot", file);
  project.provide("templateDatabase", null);
  return () => rmSync(dir, { recursive: true, force: true });
}
