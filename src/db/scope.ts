// Row-level security per request (PostgreSQL). Every tenant table has a policy (drizzle/0004_rls.sql)
// that shows and accepts only rows of the centers in the setting `app.center_ids`: "all", or a
// comma-separated list of center ids. A request runs all its statements on one connection reserved
// from the request pool, whose connections start with no centers at all (nothing visible):
//
//   reserve → set_config('app.center_ids', <the request's centers>, false) → the request's
//   statements (its transactions: BEGIN … COMMIT on the same connection) → RESET → release
//
// The setting is sent in the same round trip as the first statement (pipelined), and that
// statement fails if the setting failed, so nothing ever runs under a wrong scope. A connection
// that broke is not released: postgres.js has already put it back among its closed connections.
// Transactions of one request take turns (two BEGINs on one connection would share a transaction);
// statements outside them that run meanwhile (another resolver's read) join the open transaction.
import { type PgDialect } from "drizzle-orm/pg-core";
import { PostgresJsDatabase, PostgresJsSession } from "drizzle-orm/postgres-js";
import type { Logger } from "drizzle-orm/logger";
import type { ReservedSql, Sql } from "postgres";
import { isDatabaseUnavailable as isConnectionLoss } from "../common/errors.js";
import type { Db } from "./client.js";

/** The centers a request may reach: every center (org admins, system work) or a list of ids. */
export type CenterReach = "ALL" | readonly string[];

export interface DbScope {
  /** The request's database handle: every statement sees only the reach's centers. */
  db: Db;
  /** Hands the connection back (reset first). Safe to call more than once, or when never used. */
  release(): Promise<void>;
  /** Statements this scope added to the request (set_config, BEGIN/COMMIT, reset): for the measurements. */
  readonly overhead: number;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** The value of app.center_ids for a reach. */
function centerSetting(reach: CenterReach): string {
  if (reach === "ALL") return "all";
  for (const id of reach) if (!UUID.test(id)) throw new Error("a center id is not a uuid");
  return reach.join(",");
}

type Query = Promise<unknown> & { values(): Promise<unknown>; execute(): unknown };

/** What drizzle's postgres-js session calls on its client, returning a lazy query like postgres.js does. */
function lazyQuery(run: (values: boolean) => Promise<unknown>) {
  let started: Promise<unknown> | undefined;
  const start = (values: boolean) => (started ??= run(values));
  return {
    values: () => start(true),
    then: <A, B>(ok?: (v: unknown) => A, ko?: (e: unknown) => B) => start(false).then(ok, ko),
  };
}

/** Statements of an open transaction: straight to the connection, savepoints for nested transactions. */
interface TransactionClient {
  options: unknown;
  unsafe(query: string, params?: unknown[], opts?: Record<string, unknown>): unknown;
  savepoint(fn: (c: TransactionClient) => Promise<unknown>): Promise<unknown>;
}

function transactionClient(conn: () => ReservedSql, options: unknown, count: () => void): TransactionClient {
  let savepoints = 0;
  const client: TransactionClient = {
    options,
    unsafe: (query: string, params?: unknown[], opts?: Record<string, unknown>) => {
      try {
        return conn().unsafe(query, params as never[], opts);
      } catch (err) {
        return lazyQuery(() => Promise.reject(err instanceof Error ? err : new Error(String(err))));
      }
    },
    async savepoint(fn) {
      const name = `s${savepoints++}`;
      count();
      await conn().unsafe(`savepoint ${name}`);
      try {
        const result = await fn(client);
        count();
        await conn().unsafe(`release savepoint ${name}`);
        return result;
      } catch (err) {
        count();
        await Promise.resolve()
          .then(() => conn().unsafe(`rollback to savepoint ${name}`))
          .catch(() => {});
        throw err;
      }
    },
  };
  return client;
}

export interface ScopeFactory {
  (reach: CenterReach): DbScope;
}

/**
 * Makes request scopes over `pool` (whose connections start with app.center_ids unset).
 * `schemaDb` is a drizzle database on the pool, whose dialect and schema the scopes reuse.
 */
export function scopeFactory(pool: Sql, schemaDb: Db, logger?: Logger): ScopeFactory {
  const dialect = (schemaDb as unknown as { dialect: PgDialect }).dialect;
  const schema = (schemaDb as unknown as { _: { schema?: unknown; fullSchema: unknown; tableNamesMap: unknown } })._;
  const relational = schema.schema ? { fullSchema: schema.fullSchema, schema: schema.schema, tableNamesMap: schema.tableNamesMap } : undefined;

  return (reach) => {
    const setting = centerSetting(reach);
    let overhead = 0;
    let conn: Promise<{ conn: ReservedSql; ready: Promise<unknown> }> | undefined;
    let broken = false;
    let released = false;
    let releasing = false;
    let transactions: Promise<void> = Promise.resolve();

    // postgres.js's connection behind the reservation: it drops `reserved` when the socket closes,
    // after which nothing may be sent on it (postgres.js would write to a closed socket and throw
    // outside any promise).
    let link: { reserved?: unknown } | undefined;
    const connection = () =>
      (conn ??= pool.reserve().then((c) => {
        overhead++;
        // The ids are checked uuids (centerSetting), so the value is inlined: a parameterless
        // statement, which tells us its connection as it is sent.
        const ready = c
          .unsafe(`select set_config('app.center_ids', '${setting}', false)`, [], {
            onexecute: (connection: { reserved?: unknown }) => {
              link = connection;
              return true;
            },
          } as never)
          .execute() as unknown as Promise<unknown>;
        return { conn: c, ready };
      }));
    /** The reserved connection, unless it was lost: then a CONNECTION_CLOSED error, as postgres.js gives. */
    const open = (c: ReservedSql): ReservedSql => {
      if (broken || (link && !link.reserved)) {
        broken = true;
        throw Object.assign(new Error("The database connection was lost"), { code: "CONNECTION_CLOSED" });
      }
      return c;
    };
    const watch = <T>(p: Promise<T>): Promise<T> =>
      p.catch((err: unknown) => {
        if (isConnectionLoss(err)) broken = true;
        throw err;
      });

    const client = {
      options: pool.options,
      unsafe(query: string, params?: unknown[], opts?: Record<string, unknown>) {
        // A statement of a request already answered (graphql-js leaves the branches of a cancelled
        // request running): its connection may belong to another request by now, so it is never
        // sent, and never settles (nobody awaits it; a rejection would be unhandled).
        if (released) return lazyQuery(() => new Promise<never>(() => {}));
        return lazyQuery((values) =>
          watch(
            connection().then(async ({ conn: c, ready }) => {
              const q = open(c).unsafe(query, params as never[], opts) as unknown as Query;
              const [, result] = await Promise.all([ready, values ? q.values() : q]);
              return result;
            }),
          ),
        );
      },
      async begin(fn: (tx: TransactionClient) => Promise<unknown>) {
        const previous = transactions;
        let done!: () => void;
        transactions = new Promise((resolve) => (done = resolve));
        await previous;
        try {
          const { conn: c, ready } = await watch(connection());
          await watch(ready);
          overhead++;
          await watch(open(c).unsafe("begin") as unknown as Promise<unknown>);
          let result: unknown;
          try {
            result = await fn(
              transactionClient(
                () => open(c),
                pool.options,
                () => overhead++,
              ),
            );
          } catch (err) {
            overhead++;
            // A lost connection needs no rollback: PostgreSQL rolled the transaction back itself.
            if (!isConnectionLoss(err))
              await Promise.resolve()
                .then(() => open(c).unsafe("rollback"))
                .catch(() => {});
            throw err;
          }
          overhead++;
          const end = await watch(Promise.resolve().then(() => open(c).unsafe("commit") as unknown as Promise<{ command?: string }>));
          // COMMIT of a transaction that had failed answers ROLLBACK: nothing was written.
          if (end.command && end.command.toUpperCase() !== "COMMIT") throw new Error("the transaction was rolled back");
          return result;
        } catch (err) {
          if (isConnectionLoss(err)) broken = true;
          throw err;
        } finally {
          done();
        }
      },
    };

    const session = new PostgresJsSession(client as unknown as Sql, dialect, relational as never, { logger });
    const db = new PostgresJsDatabase(dialect, session, relational as never) as unknown as Db;

    return {
      db,
      get overhead() {
        return overhead;
      },
      async release() {
        if (releasing || !conn) return;
        releasing = true;
        let c: ReservedSql;
        try {
          ({ conn: c } = await conn);
        } catch {
          return; // never reserved (the database was unreachable)
        }
        await transactions;
        if (broken) {
          released = true;
          return; // closed: postgres.js keeps it among its closed connections
        }
        try {
          overhead++;
          const reset = open(c).unsafe("reset app.center_ids");
          released = true;
          await reset;
          c.release();
        } catch {
          // The connection broke: it is already back among the pool's closed connections.
        }
      },
    };
  };
}
