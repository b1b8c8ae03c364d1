// A real PostgreSQL for tests: in-memory PGlite by default (one per test file), or a fresh
// database on the server named by TEST_DATABASE_URL. Reset between tests by truncation.
import { randomBytes } from "node:crypto";
import { getTableName, is, sql } from "drizzle-orm";
import { PgTable } from "drizzle-orm/pg-core";
import postgres from "postgres";
import { openDatabase, type Database } from "../../src/db/client.js";
import * as schema from "../../src/db/schema.js";

export interface TestDatabase extends Database {
  /** Empties every table. */
  reset(): Promise<void>;
  /** A digest of every row of every table: equal digests mean nothing was written. */
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
    await admin.unsafe(`create database ${name}`);
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
    database = await openDatabase({ memory: true, onQuery });
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
      const rowsOf = (r: unknown) => (Array.isArray(r) ? r : (r as { rows: unknown[] }).rows) as Array<Record<string, string>>;
      const parts = TABLES.map((name) => sql`(select coalesce(md5(string_agg(t::text, ',' order by t::text)), '-') from ${sql.identifier(name)} t)`);
      const [row] = rowsOf(await db.execute(sql`select concat_ws('/', ${sql.join(parts, sql`, `)}) as digest`));
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
