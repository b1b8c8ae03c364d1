// Opens the one store: embedded PGlite (persisted under DATA_DIR) when there is no DATABASE_URL,
// PostgreSQL through postgres.js otherwise. The same drizzle migrations run on both.
import { mkdirSync } from "node:fs";
import { dirname, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import type { Logger } from "drizzle-orm/logger";
import type { PgDatabase, PgQueryResultHKT } from "drizzle-orm/pg-core";
import { lockDataDir, type DataDirLock } from "./lock.js";
import * as schema from "./schema.js";

type Schema = typeof schema;
export type Db = PgDatabase<PgQueryResultHKT, Schema>;
/** A transaction handle has the same query API as the database. */
export type Tx = Parameters<Parameters<Db["transaction"]>[0]>[0];
/** @public */
export type DbOrTx = Db | Tx;

export interface Database {
  db: Db;
  kind: "pglite" | "postgres";
  /** Runs a trivial statement; used by the health check. */
  ping(): Promise<void>;
  close(): Promise<void>;
}

export interface OpenOptions {
  databaseUrl?: string;
  dataDir?: string;
  /** In-memory PGlite (tests); ignores dataDir. */
  memory?: boolean;
  /** A PGlite data-dir snapshot to start from (tests). */
  loadDataDir?: Blob;
  poolSize?: number;
  /**
   * PostgreSQL's statement_timeout for every connection (ms; 0 or absent = none). PGlite runs in
   * this process and has no timer to cancel a statement: there the request timeout is the bound.
   */
  statementTimeoutMs?: number;
  /** Called once per SQL statement sent (query-count tests). */
  onQuery?: (sql: string) => void;
  migrate?: boolean;
}

const migrationsFolder = resolve(dirname(fileURLToPath(import.meta.url)), "../../drizzle");

export async function openDatabase(opts: OpenOptions): Promise<Database> {
  const logger: Logger | undefined = opts.onQuery ? { logQuery: (q) => opts.onQuery!(q) } : undefined;
  const shouldMigrate = opts.migrate ?? true;
  if (opts.databaseUrl) {
    const { default: postgres } = await import("postgres");
    const { drizzle } = await import("drizzle-orm/postgres-js");
    const client = postgres(opts.databaseUrl, {
      max: opts.poolSize ?? 10,
      onnotice: () => {},
      ...(opts.statementTimeoutMs ? { connection: { statement_timeout: opts.statementTimeoutMs } } : {}),
      // Dates and timestamps stay strings at the driver; drizzle maps them per column.
    });
    const db = drizzle(client, { schema, logger }) as unknown as Db;
    if (shouldMigrate) {
      const { migrate } = await import("drizzle-orm/postgres-js/migrator");
      await migrate(drizzle(client), { migrationsFolder });
    }
    return {
      db,
      kind: "postgres",
      ping: async () => {
        await client`select 1`;
      },
      close: async () => {
        await client.end({ timeout: 5 });
      },
    };
  }
  const { PGlite } = await import("@electric-sql/pglite");
  const { drizzle } = await import("drizzle-orm/pglite");
  let dataDir: string | undefined;
  let lock: DataDirLock | undefined;
  if (!opts.memory) {
    dataDir = resolve(opts.dataDir ?? "./data");
    mkdirSync(dataDir, { recursive: true });
    // Single-process: held until close (or exit); another process gets DatabaseBusyError.
    lock = lockDataDir(dataDir, opts.dataDir ?? "./data");
  }
  let client: InstanceType<typeof PGlite>;
  try {
    client = new PGlite(dataDir, opts.loadDataDir ? { loadDataDir: opts.loadDataDir } : {});
    await client.waitReady;
  } catch (err) {
    lock?.release();
    throw err;
  }
  const db = drizzle(client, { schema, logger }) as unknown as Db;
  if (shouldMigrate) {
    try {
      const { migrate } = await import("drizzle-orm/pglite/migrator");
      await migrate(drizzle(client), { migrationsFolder });
    } catch (err) {
      await client.close().catch(() => {});
      lock?.release();
      throw err;
    }
  }
  return {
    db,
    kind: "pglite",
    ping: async () => {
      await client.query("select 1");
    },
    close: async () => {
      try {
        await client.close();
      } finally {
        lock?.release();
      }
    },
  };
}
