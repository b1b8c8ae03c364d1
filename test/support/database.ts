// A real PostgreSQL for tests: in-memory PGlite by default (one per test file), or a fresh
// database on the server named by TEST_DATABASE_URL. Both start from the migrated schema made once
// per run (test/support/global-setup.ts). Reset between tests by truncation.
import { randomBytes } from "node:crypto";
import { readFileSync } from "node:fs";
import { getTableName, is, sql } from "drizzle-orm";
import { PgTable } from "drizzle-orm/pg-core";
import postgres from "postgres";
import { inject } from "vitest";
import { rowsOf } from "../../src/common/sql.js";
import { openDatabase, type Database } from "../../src/db/client.js";
import * as schema from "../../src/db/schema.js";

export interface TestDatabase extends Database {
  /** Empties every table. */
  reset(): Promise<void>;
  /**
   * A digest of every row of every table: equal digests mean nothing was written. The audit log
   * is left out: it records refusals too (a refused write still appends its DENIED entry).
   */
  fingerprint(): Promise<string>;
  /** SQL statements sent since the last call to `countQueries` began. */
  countQueries<T>(run: () => Promise<T>): Promise<{ result: T; count: number; statements: string[] }>;
  url?: string;
}

/** Every table of the schema, so reset and fingerprint follow it as it grows. */
const TABLES = (Object.values(schema) as unknown[]).filter((v): v is PgTable => is(v, PgTable)).map((table) => getTableName(table));

/**
 * `appRole` (PostgreSQL only; also TEST_DATABASE_RLS=1 for every file): the API connects as a login
 * role of its own that joins recovery_app (not a superuser, no BYPASSRLS, not the tables' owner), as
 * in production, and the migrations run as the server's superuser; row-level security then holds.
 */
export async function openTestDatabase(opts: { onQuery?: (sql: string) => void; appRole?: boolean } = {}): Promise<TestDatabase> {
  const statements: string[] = [];
  let recording = false;
  const onQuery = (q: string) => {
    if (recording) statements.push(q);
    opts.onQuery?.(q);
  };
  let database: Database;
  let dropDatabase: (() => Promise<void>) | undefined;
  let url: string | undefined;
  /** The API's role may not truncate: the tables' owner empties them. */
  let truncateWith: ((statement: string) => Promise<void>) | undefined;
  const serverUrl = process.env.TEST_DATABASE_URL;
  if (serverUrl) {
    const name = `rg_test_${Date.now()}_${randomBytes(4).toString("hex")}`;
    const admin = postgres(serverUrl, { max: 1, onnotice: () => {} });
    const template = inject("templateDatabase");
    await createDatabase(admin, name, template);
    const u = new URL(serverUrl);
    u.pathname = `/${name}`;
    const ownerUrl = u.toString();
    url = ownerUrl;
    const appRole = opts.appRole ?? process.env.TEST_DATABASE_RLS === "1";
    let owner: postgres.Sql | undefined;
    if (appRole) {
      // The group role the migration grants the tables to; created here first, as an operator would.
      await admin.unsafe(`do $$ begin create role recovery_app nologin; exception when duplicate_object or unique_violation then null; end $$`);
      await admin.unsafe(`create role ${name}_app login nosuperuser nobypassrls in role recovery_app`);
      u.username = `${name}_app`;
      url = u.toString();
      owner = postgres(ownerUrl, { max: 1, onnotice: () => {} });
    }
    database = await openDatabase({ databaseUrl: url, migrationUrl: appRole ? ownerUrl : undefined, poolSize: 20, onQuery });
    truncateWith = owner ? (statement) => owner.unsafe(statement).then(() => undefined) : undefined;
    dropDatabase = async () => {
      await owner?.end();
      await admin.unsafe(`drop database if exists ${name} with (force)`);
      if (appRole) await admin.unsafe(`drop role if exists ${name}_app`);
      await admin.end();
    };
  } else {
    const snapshot = inject("pgliteSnapshot");
    const loadDataDir = snapshot ? new Blob([readFileSync(snapshot)]) : undefined;
    database = await openDatabase({ memory: true, loadDataDir, onQuery });
  }
  return {
    ...database,
    url,
    async reset() {
      const statement = `truncate table ${TABLES.map((n) => `"${n}"`).join(", ")} restart identity cascade`;
      if (truncateWith) await truncateWith(statement);
      else await database.db.execute(sql.raw(statement));
    },
    async fingerprint() {
      const db = database.db;
      const parts = TABLES.filter((name) => !name.startsWith("audit_")).map(
        (name) => sql`(select coalesce(md5(string_agg(t::text, ',' order by t::text)), '-') from ${sql.identifier(name)} t)`,
      );
      const [row] = await rowsOf<{ digest: string }>(db, sql`select concat_ws('/', ${sql.join(parts, sql`, `)}) as digest`);
      return row.digest;
    },
    async countQueries(run) {
      statements.length = 0;
      recording = true;
      try {
        const result = await run();
        return { result, count: statements.length, statements: [...statements] };
      } finally {
        recording = false;
      }
    },
    async close() {
      await database.close();
      await dropDatabase?.();
    },
  };
}

/**
 * A copy of the migrated template (or an empty database when there is none). Copies are refused
 * while another session is connected to the template, which the setup closes before any file runs;
 * a refusal is retried all the same, in case the server is still ending that session.
 */
async function createDatabase(admin: postgres.Sql, name: string, template: string | null): Promise<void> {
  for (let attempt = 1; ; attempt++) {
    try {
      await admin.unsafe(template ? `create database ${name} template ${template}` : `create database ${name}`);
      return;
    } catch (err) {
      if (!template || attempt >= 20 || !/is being accessed by other users/.test((err as Error).message)) throw err;
      await new Promise((r) => setTimeout(r, 100 * attempt));
    }
  }
}
