// A real PostgreSQL for tests: in-memory PGlite by default (one per test file), or a fresh
// database on the server named by TEST_DATABASE_URL. Reset between tests by truncation.
import { randomBytes } from "node:crypto";
import { sql } from "drizzle-orm";
import postgres from "postgres";
import { openDatabase, type Database } from "../../src/db/client.js";

export interface TestDatabase extends Database {
  /** Empties every table. */
  reset(): Promise<void>;
  /** SQL statements sent since the last call to `countQueries` began. */
  countQueries<T>(run: () => Promise<T>): Promise<{ result: T; count: number; statements: string[] }>;
  url?: string;
}

const TABLES = [
  "attendance_history",
  "attendance",
  "sessions",
  "enrollment_events",
  "enrollments",
  "participants",
  "group_facilitators",
  "groups",
  "programs",
  "staff_memberships",
  "staff",
  "centers",
];

export async function openTestDatabase(): Promise<TestDatabase> {
  const statements: string[] = [];
  let recording = false;
  const onQuery = (q: string) => {
    if (recording) statements.push(q);
  };
  let database: Database;
  let dropDatabase: (() => Promise<void>) | undefined;
  let url: string | undefined;
  const serverUrl = process.env.TEST_DATABASE_URL;
  if (serverUrl) {
    const name = `rg_test_${Date.now()}_${randomBytes(4).toString("hex")}`;
    const admin = postgres(serverUrl, { max: 1, onnotice: () => {} });
    await admin.unsafe(`create database ${name}`);
    const u = new URL(serverUrl);
    u.pathname = `/${name}`;
    url = u.toString();
    database = await openDatabase({ databaseUrl: url, poolSize: 20, onQuery });
    dropDatabase = async () => {
      await admin.unsafe(`drop database if exists ${name} with (force)`);
      await admin.end();
    };
  } else {
    database = await openDatabase({ memory: true, onQuery });
  }
  return {
    ...database,
    url,
    async reset() {
      await database.db.execute(sql.raw(`truncate table ${TABLES.join(", ")} restart identity cascade`));
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
