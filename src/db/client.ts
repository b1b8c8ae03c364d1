// Opens the one store: embedded PGlite (persisted under DATA_DIR) when there is no DATABASE_URL,
// PostgreSQL through postgres.js otherwise. The same drizzle migrations run on both.
import { mkdirSync } from "node:fs";
import { connect as connectTcp, type Socket } from "node:net";
import { dirname, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { sql } from "drizzle-orm";
import type { Logger } from "drizzle-orm/logger";
import type { PgDatabase, PgQueryResultHKT } from "drizzle-orm/pg-core";
import { rowsOf } from "../common/sql.js";
import { lockDataDir, type DataDirLock } from "./lock.js";
import { scopeFactory, type CenterReach, type DbScope } from "./scope.js";
import * as schema from "./schema.js";

type Schema = typeof schema;
export type Db = PgDatabase<PgQueryResultHKT, Schema>;
/** A transaction handle has the same query API as the database. */
export type Tx = Parameters<Parameters<Db["transaction"]>[0]>[0];
/** @public */
export type DbOrTx = Db | Tx;

export interface Database {
  /**
   * System work (start-up, authentication, scripts, tests' set-up): every center. Requests use
   * `scope` instead.
   */
  db: Db;
  kind: "pglite" | "postgres";
  /** Whether `scope` enforces row-level security (PostgreSQL with DB_RLS on). */
  rls: boolean;
  /**
   * A request's database handle, limited to `reach` by row-level security when `rls` is on (see
   * src/db/scope.ts); otherwise the shared `db`. Release it when the request is done.
   */
  scope(reach: CenterReach): DbScope;
  /** Runs a trivial statement (within `timeoutMs`); rejects when the database is unreachable. */
  ping(timeoutMs?: number): Promise<void>;
  /**
   * LISTEN on `channel`: `onMessage` gets each NOTIFY's payload, from any instance (a NOTIFY sent in
   * a transaction arrives when it commits). PostgreSQL: one dedicated connection per instance,
   * outside the request pools, shared by every channel (postgres.js's listen); when it drops,
   * postgres.js reconnects and listens again, and `onListen` is called each time listening
   * (re)starts, so a second call means notifications may have been missed meanwhile. PGlite: the
   * same NOTIFY, delivered inside this process. Resolves to a function that stops listening.
   */
  listen(channel: string, onMessage: (payload: string) => void, onListen?: () => void): Promise<() => Promise<void>>;
  /**
   * A database session of its own, for session-level state such as an advisory lock held for as
   * long as the session lives (the audit sealer's election, src/audit/audit.sealer.ts).
   * PostgreSQL: one dedicated connection outside the pools (every center); when it drops, the next
   * statement opens a new session (without the old one's locks). PGlite: the one session there is.
   */
  session(): Promise<{ db: Db; close(): Promise<void> }>;
  close(): Promise<void>;
}

/**
 * postgres.js's connections, with Nagle's algorithm off. Statements pipelined in separate writes
 * (the audit entries, then the COMMIT right behind them, src/db/scope.ts) would otherwise leave the
 * second one in the kernel until the first is acknowledged, which PostgreSQL does with its answer:
 * a round trip. The socket is handed over connecting (postgres.js writes its start-up message
 * behind the connection, times it out with connect_timeout and sees its errors); hosts are taken
 * in turn, as postgres.js does.
 */
function noDelaySockets() {
  let next = 0;
  return (options: { host: string[]; port: number[]; path?: string | false }): Socket => {
    if (options.path) return connectTcp(options.path);
    const i = next++ % options.host.length;
    const socket = connectTcp({ host: options.host[i], port: options.port[i] ?? options.port[0], noDelay: true });
    Object.assign(socket, { host: options.host[i], port: options.port[i] ?? options.port[0] });
    return socket;
  };
}

/** A scope that is the shared handle itself (embedded database, or row-level security off). */
const sharedScope = (db: Db): DbScope => ({
  db,
  overhead: 0,
  commit: () => Promise.resolve(),
  commitAfter: (statement) => Promise.resolve(statement()),
  commitEachStatement: () => {},
  holdNextTransaction: () => {},
  heldWrite: false,
  release: () => Promise.resolve(),
});

function withTimeout(p: Promise<unknown>, ms: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  return Promise.race([
    p.then(() => undefined),
    new Promise<void>((_, reject) => {
      timer = setTimeout(() => reject(Object.assign(new Error("database ping timed out"), { code: "CONNECT_TIMEOUT" })), ms);
    }),
  ]).finally(() => clearTimeout(timer));
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
  /** PostgreSQL: the URL migrations run with (the tables' owner), when the API's role may not change the schema. */
  migrationUrl?: string;
  /** PostgreSQL: requests run under row-level security (src/db/scope.ts). Default on. */
  rls?: boolean;
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
    const poolSize = opts.poolSize ?? 10;
    const rls = opts.rls ?? true;
    // Dates and timestamps stay strings at the driver; drizzle maps them per column.
    // Reconnecting after an outage: postgres.js waits up to 20 s by default between attempts once
    // many have failed; at most 1 s here, so the server is back within a second of the database.
    const common = {
      onnotice: () => {},
      connect_timeout: 10,
      backoff: (retries: number) => Math.min(0.05 * 2 ** retries, 1),
      socket: noDelaySockets() as never,
    };
    // PostgreSQL cancels any statement running longer than this (0 or absent: no limit).
    const timeout = opts.statementTimeoutMs ? { statement_timeout: opts.statementTimeoutMs } : {};
    // System work sees every center (its connections start with app.center_ids = all); with
    // row-level security, requests get their own pool, whose connections start with no center.
    const systemClient = postgres(opts.databaseUrl, {
      ...common,
      max: rls ? Math.max(2, Math.ceil(poolSize / 4)) : poolSize,
      connection: { "app.center_ids": "all", ...timeout },
    });
    const requestClient = rls ? postgres(opts.databaseUrl, { ...common, max: poolSize, connection: { ...timeout } }) : undefined;
    const db = drizzle(systemClient, { schema, logger }) as unknown as Db;
    if (shouldMigrate) {
      const { migrate } = await import("drizzle-orm/postgres-js/migrator");
      const owner = opts.migrationUrl ? postgres(opts.migrationUrl, { ...common, max: 1, connection: { "app.center_ids": "all" } }) : systemClient;
      try {
        await migrate(drizzle(owner), { migrationsFolder });
      } finally {
        if (owner !== systemClient) await owner.end({ timeout: 5 });
      }
    }
    const scope = requestClient ? scopeFactory(requestClient, drizzle(requestClient, { schema, logger }), logger) : () => sharedScope(db);
    return {
      db,
      kind: "postgres",
      rls,
      scope,
      ping: (timeoutMs = 2_000) => withTimeout(systemClient`select 1`.execute(), timeoutMs),
      async listen(channel, onMessage, onListen) {
        const listening = await systemClient.listen(channel, onMessage, onListen);
        return () => listening.unlisten();
      },
      session() {
        const client = postgres(opts.databaseUrl!, { ...common, max: 1, connection: { "app.center_ids": "all", ...timeout } });
        return Promise.resolve({ db: drizzle(client, { schema, logger }), close: () => client.end({ timeout: 5 }) });
      },
      close: async () => {
        await Promise.all([systemClient.end({ timeout: 5 }), requestClient?.end({ timeout: 5 })]);
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
    // One process, one (superuser) role: the policies exist but do not apply (docs/operations.md, "Row-level security").
    rls: false,
    scope: () => sharedScope(db),
    ping: (timeoutMs = 2_000) => withTimeout(client.query("select 1"), timeoutMs),
    async listen(channel, onMessage, onListen) {
      const unlisten = await client.listen(channel, onMessage);
      onListen?.();
      return () => unlisten();
    },
    session: () => Promise.resolve({ db, close: () => Promise.resolve() }),
    close: async () => {
      try {
        await client.close();
      } finally {
        lock?.release();
      }
    },
  };
}

/** Whether the connected role skips row-level security (a superuser, or BYPASSRLS). */
export async function roleBypassesRls(db: Db): Promise<boolean> {
  const rows = await rowsOf<{ bypass: boolean }>(db, sql`select (rolsuper or rolbypassrls) as bypass from pg_roles where rolname = current_user`);
  return rows[0]?.bypass ?? false;
}
