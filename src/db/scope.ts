// Row-level security per request (PostgreSQL). Every tenant table has a policy (drizzle/0004_rls.sql)
// that shows and accepts only rows of the centers in the setting `app.center_ids`: "all", or a
// comma-separated list of center ids. A request runs all its statements on one connection reserved
// from the request pool, whose connections start with no centers at all (nothing visible), and
// every statement runs in a transaction whose first statement scopes it, transaction-locally:
//
//   reserve → BEGIN, set_config('app.center_ids', <the request's centers>, true), the request's
//   statements … → [the audit entries] COMMIT → release
//
// BEGIN and set_config are sent with the first statement without waiting for them (postgres.js
// pipelines what is sent on one connection without awaiting), so scoping costs no round trip of
// its own; the setting ends with the transaction, so there is no RESET either. If BEGIN or the
// setting failed, the statements after them fail too (an aborted transaction runs nothing), and a
// connection starts with no centers: nothing ever runs under a wrong scope.
//
// Two kinds of transactions, taking turns on the connection:
//  - the request's own (implicit): statements sent outside `db.transaction` open it and share it;
//    `commit()` ends it (src/audit/audit.plugin.ts sends the audit entries, then commit, in one
//    round trip, and answers only after the commit); `release()` ends it otherwise. A statement
//    of it that fails aborts it: the next statement starts a new one (after a ROLLBACK).
//  - a service's `db.transaction(fn)` (explicit): the implicit transaction is committed first (it
//    only read), then BEGIN + set_config + fn's statements + COMMIT. Statements outside it that
//    run meanwhile (another resolver's read) join it, as before.
// A connection that broke is not released: postgres.js has already put it back among its closed
// connections.
import { type PgDialect } from "drizzle-orm/pg-core";
import { PostgresJsDatabase, PostgresJsSession } from "drizzle-orm/postgres-js";
import type { Logger } from "drizzle-orm/logger";
import type { ReservedSql, Sql } from "postgres";
import { isDatabaseUnavailable as isConnectionLoss } from "../common/errors.js";
import { quiet } from "../common/quiet.js";
import type { Db } from "./client.js";

/** The centers a request may reach: every center (org admins, system work) or a list of ids. */
export type CenterReach = "ALL" | readonly string[];

export interface DbScope {
  /** The request's database handle: every statement sees only the reach's centers. */
  db: Db;
  /**
   * Commits the request's open transaction (its reads and what was sent after them, the audit
   * entries) and waits for PostgreSQL to confirm it; rejects if it did not commit. Statements asked
   * for before the call are sent before the COMMIT, in the same round trip.
   */
  commit(): Promise<void>;
  /**
   * Runs `statement`, which must send one statement of the request's own transaction (a read),
   * with the COMMIT of that transaction written right behind it, without waiting for its answer:
   * one round trip for BEGIN, the scope, the statement and the COMMIT. Resolves with the
   * statement's result once PostgreSQL confirmed the COMMIT; rejects if either failed (a COMMIT
   * behind a failed statement answers ROLLBACK).
   */
  commitAfter<T>(statement: () => PromiseLike<T>): Promise<T>;
  /**
   * From now on, each statement sent outside `db.transaction` is a transaction of its own (BEGIN,
   * set_config, it, COMMIT, still one round trip): for mutations, whose writes must be committed
   * before they are answered whatever happens to the audit entries after them.
   */
  commitEachStatement(): void;
  /**
   * The next service transaction (`db.transaction`) of the request is not committed when its
   * function returns: it goes on as the request's own transaction (what the request reads after
   * it sees its writes), committed by `commit()` with the audit entries, in one round trip, so a
   * write and its audit entries commit together or not at all. If it fails, it is rolled back as
   * before. For a mutation whose write must not stand without its audit entries (recordAttendance).
   */
  holdNextTransaction(): void;
  /** Whether the request's open transaction holds a write kept for `commit()` (its answer must not stand if that fails). */
  readonly heldWrite: boolean;
  /** Hands the connection back (its transaction committed first). Safe to call more than once, or when never used. */
  release(): Promise<void>;
  /** Statements this scope added to the request (BEGIN, set_config, COMMIT/ROLLBACK, savepoints): for the measurements. */
  readonly overhead: number;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** The value of app.center_ids for a reach. */
function centerSetting(reach: CenterReach): string {
  if (reach === "ALL") return "all";
  for (const id of reach) if (!UUID.test(id)) throw new Error("a center id is not a uuid");
  return reach.join(",");
}

type Query = Promise<unknown> & { values(): Query; execute(): Query };

/**
 * A statement with parameters is prepared (named, kept by postgres.js per connection). Unprepared,
 * postgres.js first asks PostgreSQL for the parameters' types and waits for the answer before it
 * sends the statement, and holds the statements after it meanwhile: a round trip of its own, and
 * no pipelining. Prepared, that happens once per connection and statement text. Statements without
 * parameters (the compiled reads inline their checked values) are not: no describe, and no
 * statement kept per distinct text.
 */
const preparedIfParameters = (params: unknown[] | undefined, opts: Record<string, unknown> | undefined) => (params?.length ? { ...opts, prepare: true } : opts);

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

function transactionClient(conn: () => ReservedSql, options: unknown, count: () => void, guard: <T>(q: PromiseLike<T>) => Promise<T>): TransactionClient {
  let savepoints = 0;
  const client: TransactionClient = {
    options,
    unsafe: (query: string, params?: unknown[], opts?: Record<string, unknown>) => {
      let q: Query;
      try {
        q = conn().unsafe(query, params as never[], preparedIfParameters(params, opts)) as unknown as Query;
      } catch (err) {
        return lazyQuery(() => Promise.reject(err instanceof Error ? err : new Error(String(err))));
      }
      return lazyQuery((values) => guard(values ? q.values() : q));
    },
    async savepoint(fn) {
      const name = `s${savepoints++}`;
      count();
      await guard(conn().unsafe(`savepoint ${name}`));
      try {
        const result = await fn(client);
        count();
        await guard(conn().unsafe(`release savepoint ${name}`));
        return result;
      } catch (err) {
        count();
        await Promise.resolve()
          .then(() => guard(conn().unsafe(`rollback to savepoint ${name}`)))
          .catch(() => {});
        throw err;
      }
    },
  };
  return client;
}

/**
 * A COMMIT that postgres.js writes to the socket at once, right behind the statement before it.
 * postgres.js collects writes under 1 kB and sends them a turn of the event loop later (setImmediate),
 * while a larger one (the audit entries, a compiled statement) goes at once: a bare COMMIT after the
 * audit entries would leave a turn later, which on a fast network is after PostgreSQL answered them,
 * a round trip of its own. The padding is whitespace, which PostgreSQL skips.
 */
const FLUSHED_COMMIT = "commit" + " ".repeat(1024);

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
    // The ids are checked uuids (centerSetting), so the value is inlined: a parameterless statement.
    const scopeStatement = `select set_config('app.center_ids', '${centerSetting(reach)}', true)`;
    let overhead = 0;
    let conn: Promise<ReservedSql> | undefined;
    let broken = false;
    let released = false;
    let releasing = false;
    let transactions: Promise<void> = Promise.resolve();
    // What is open on the connection, as sent so far (statements are sent in the order asked).
    let open: "none" | "implicit" | "explicit" = "none";
    /** The implicit transaction's BEGIN and set_config (each statement of it waits for them too). */
    let implicitStart: Promise<unknown> = Promise.resolve();
    let implicitFailed = false;
    let implicitGeneration = 0;
    let eachStatement = false;
    let hold = false;
    let heldWrite = false;
    /** A `commit()` waiting for the next statement of the implicit transaction, to follow it. */
    let commitRequest: { resolve: () => void; reject: (err: unknown) => void } | undefined;

    // postgres.js's connection behind the reservation: it drops `reserved` when the socket closes,
    // after which nothing may be sent on it (postgres.js would write to a closed socket and throw
    // outside any promise).
    let link: { reserved?: unknown } | undefined;
    const connection = () => (conn ??= pool.reserve());
    /** The reserved connection, unless it was lost: then a CONNECTION_CLOSED error, as postgres.js gives. */
    const live = (c: ReservedSql): ReservedSql => {
      if (broken || (link && !link.reserved)) {
        broken = true;
        throw Object.assign(new Error("The database connection was lost"), { code: "CONNECTION_CLOSED" });
      }
      return c;
    };
    // When the connection is lost, postgres.js rejects the statements in flight, but not those it
    // holds behind them on a reserved connection (pipelined while one waits for its parameter
    // types): every statement of the scope is raced against the loss, so none waits forever.
    let lose!: (err: unknown) => void;
    const lost = new Promise<never>((_, reject) => (lose = reject));
    lost.catch(() => {});
    const watch = <T>(p: Promise<T>): Promise<T> =>
      p.catch((err: unknown) => {
        if (isConnectionLoss(err)) {
          broken = true;
          lose(err);
        }
        throw err;
      });
    const guard = <T>(q: PromiseLike<T>): Promise<T> => Promise.race([watch(Promise.resolve(q)), lost]);
    /** Sends a statement of our own now (not awaited here); `values` for drizzle's array rows. */
    const send = (c: ReservedSql, query: string, params?: unknown[], opts?: Record<string, unknown>, values = false): Query => {
      const q = live(c).unsafe(query, params as never[], preparedIfParameters(params, opts)) as unknown as Query;
      if (values) void q.values();
      return q.execute();
    };
    /** BEGIN and the scope, sent ahead of the transaction's first statement. */
    const start = (c: ReservedSql): Promise<unknown> => {
      overhead += 2;
      const begin = send(c, "begin", [], {
        // A parameterless statement tells us its connection as it is sent.
        onexecute: (connection: { reserved?: unknown }) => {
          link = connection;
          return true;
        },
      });
      const scoped = send(c, scopeStatement);
      return quiet(Promise.all([begin, scoped]));
    };
    /** Ends the implicit transaction (COMMIT, or ROLLBACK if a statement of it failed); not awaited here. */
    const endImplicit = (c: ReservedSql, ending = "commit"): { failed: boolean; started: Promise<unknown>; end: Promise<{ command?: string }> } => {
      const failed = implicitFailed;
      const started = implicitStart;
      open = "none";
      overhead++;
      return { failed, started, end: quiet(send(c, failed ? "rollback" : ending) as unknown as Promise<{ command?: string }>) };
    };

    /** Waits for an ending sent by `endImplicit`: rejects unless it committed. */
    const settle = async ({ failed, started, end }: ReturnType<typeof endImplicit>): Promise<void> => {
      const [, result] = await guard(Promise.all([started, end]));
      if (failed || (result.command && result.command.toUpperCase() !== "COMMIT")) throw new Error("the request's transaction was rolled back");
    };

    const client = {
      options: pool.options,
      unsafe(query: string, params?: unknown[], opts?: Record<string, unknown>) {
        // A statement of a request already answered (graphql-js leaves the branches of a cancelled
        // request running): its connection may belong to another request by now, so it is never
        // sent, and never settles (nobody awaits it; a rejection would be unhandled).
        if (released) return lazyQuery(() => new Promise<never>(() => {}));
        return lazyQuery((values) =>
          watch(
            connection().then(async (c) => {
              if (released) return new Promise<never>(() => {});
              // Inside a service's transaction: join it. Otherwise the request's own transaction.
              let before: Promise<unknown> = Promise.resolve();
              let generation = -1;
              if (open !== "explicit" && eachStatement) {
                // A transaction of its own, in the same round trip.
                if (open === "implicit") void endImplicit(c);
                const started = start(c);
                const q = send(c, query, params, opts, values);
                overhead++;
                const end = quiet(send(c, "commit") as unknown as Promise<{ command?: string }>);
                const [, result, ended] = await guard(Promise.all([started, q, end]));
                if (ended.command && ended.command.toUpperCase() !== "COMMIT") throw new Error("the transaction was rolled back");
                return result;
              }
              if (open !== "explicit") {
                if (open === "implicit" && implicitFailed) void endImplicit(c);
                if (open === "none") {
                  implicitStart = start(c);
                  implicitFailed = false;
                  implicitGeneration++;
                  open = "implicit";
                }
                before = implicitStart;
                generation = implicitGeneration;
              }
              const q = send(c, query, params, opts, values);
              if (commitRequest && open === "implicit") {
                const request = commitRequest;
                commitRequest = undefined;
                settle(endImplicit(c, FLUSHED_COMMIT)).then(request.resolve, request.reject);
              }
              try {
                const [, result] = await guard(Promise.all([before, q]));
                return result;
              } catch (err) {
                if (generation === implicitGeneration && open === "implicit" && !isConnectionLoss(err)) implicitFailed = true;
                throw err;
              }
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
          const c = await watch(connection());
          // The request's own transaction only read so far: it commits ahead of this one (pipelined).
          if (open === "implicit") void endImplicit(c);
          open = "explicit";
          const started = start(c);
          let result: unknown;
          try {
            result = await fn(
              transactionClient(
                () => live(c),
                pool.options,
                () => overhead++,
                guard,
              ),
            );
            await guard(started);
          } catch (err) {
            hold = false;
            overhead++;
            open = "none";
            // A lost connection needs no rollback: PostgreSQL rolled the transaction back itself.
            if (!isConnectionLoss(err))
              await Promise.resolve()
                .then(() => live(c).unsafe("rollback"))
                .catch(() => {});
            throw err;
          }
          if (hold) {
            // Kept open: from now on it is the request's own transaction, ended by commit() (or release()).
            hold = false;
            heldWrite = true;
            eachStatement = false;
            open = "implicit";
            implicitStart = started;
            implicitFailed = false;
            implicitGeneration++;
            return result;
          }
          overhead++;
          open = "none";
          const end = await guard(Promise.resolve().then(() => live(c).unsafe("commit") as unknown as Promise<{ command?: string }>));
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
      commitEachStatement() {
        eachStatement = true;
      },
      async commitAfter<T>(statement: () => PromiseLike<T>): Promise<T> {
        // The COMMIT goes out right after the next statement of the request's transaction, as for
        // commit(), but with no fallback: that statement is the caller's, and only it ends the wait.
        let request!: { resolve: () => void; reject: (err: unknown) => void };
        const committed = quiet(new Promise<void>((resolve, reject) => (request = { resolve, reject })));
        commitRequest = request;
        try {
          const [result] = await Promise.all([statement(), committed]);
          return result;
        } finally {
          if (commitRequest === request) commitRequest = undefined;
        }
      },
      holdNextTransaction() {
        hold = true;
      },
      get heldWrite() {
        return heldWrite;
      },
      async commit() {
        // The COMMIT goes out right after the next statement of the request's transaction (the
        // audit entries, asked for just before: drizzle sends a statement a few promise turns
        // after it is awaited), in the same write; or, if none comes, once those turns are over.
        await new Promise<void>((resolve, reject) => {
          const request = { resolve, reject };
          commitRequest = request;
          setImmediate(() => {
            if (commitRequest !== request) return;
            commitRequest = undefined;
            void (async () => {
              await transactions;
              if (!conn || released) return;
              const c = await watch(conn);
              if (open === "implicit") await settle(endImplicit(c));
            })().then(resolve, reject);
          });
        });
        // A statement sent after that COMMIT (a late one of the request) is committed before the answer too.
        while (open === "implicit" && !released && conn) await settle(endImplicit(await conn));
      },
      async release() {
        if (releasing || !conn) return;
        releasing = true;
        let c: ReservedSql;
        try {
          c = await conn;
        } catch {
          return; // never reserved (the database was unreachable)
        }
        await transactions;
        if (broken) {
          released = true;
          return; // closed: postgres.js keeps it among its closed connections
        }
        try {
          // A held write never commits without the commit() that sends its audit entries.
          const ending = open === "implicit" ? endImplicit(c, heldWrite ? "rollback" : "commit").end : undefined;
          released = true;
          await ending;
          c.release();
        } catch (err) {
          // The connection broke: it is already back among the pool's closed connections. A
          // COMMIT refused otherwise still ended the transaction: the connection is clean.
          if (!isConnectionLoss(err) && !broken) c.release();
        }
      },
    };
  };
}
