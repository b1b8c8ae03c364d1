// The audit log's sealer: requests insert their entries unchained (audit_append, no lock), and one
// sealer for the whole cluster chains them. Every instance runs an AuditSealer; the one holding
// the session-level advisory lock (pg_try_advisory_lock(7301, 46128), on a connection of its own:
// Database.session) is elected and seals; the others try again each round, so when the holder dies
// (its session ends and PostgreSQL releases the lock) another takes over within a round. On PGlite
// (one process) the sealer runs in that process.
//
// A round: audit_seal() (drizzle/*_auditseal_sealer.sql) chains, in batches, every committed
// entry of a transaction older than every running one (tx < pg_snapshot_xmin, as the feed's
// horizon), in (tx, seq) order, so an entry of a transaction still open is sealed after it commits,
// behind nothing already sealed; then, every AUDIT_CHECKPOINT_ENTRIES sealed entries or
// AUDIT_CHECKPOINT_SECONDS, a checkpoint (audit.checkpoint.ts), signed with AUDIT_SIGNING_KEY when
// configured.
import { sql } from "drizzle-orm";
import { clock } from "../common/clock.js";
import { pgErrorOf } from "../common/errors.js";
import { Repeater } from "../common/repeat.js";
import { rowsOf } from "../common/sql.js";
import type { AuditConfig } from "../config.js";
import type { Database, Db } from "../db/client.js";
import type { Logger } from "../logger.js";
import { writeCheckpoint, type Checkpoint, type SigningKey } from "./audit.checkpoint.js";

/** Entries chained per statement. */
const BATCH = 2_000;
const LOCK = sql`7301, 46128`;

/** How far behind sealing is: committed entries not yet chained, and how long the oldest has waited. */
export async function sealLag(db: Db): Promise<{ unsealed: number; oldestSeconds: number }> {
  const [row] = await rowsOf<{ n: number; oldest: string | Date | null }>(
    db,
    sql`select count(*)::int as n, min(occurred_at) as oldest from audit_events where chain_seq is null`,
  );
  const oldest = row?.oldest ? new Date(row.oldest).getTime() : null;
  return { unsealed: Number(row?.n ?? 0), oldestSeconds: oldest === null ? 0 : Math.max(0, (clock.now().getTime() - oldest) / 1000) };
}

export class AuditSealer {
  #session?: Promise<{ db: Db; close(): Promise<void> }>;
  #leading = false;
  #loop?: Repeater;
  #round: Promise<unknown> = Promise.resolve();

  constructor(
    readonly deps: {
      database: Database;
      config: Pick<AuditConfig, "sealIntervalMs" | "checkpointEntries" | "checkpointSeconds">;
      key: SigningKey | null;
      logger: Logger;
    },
  ) {}

  /** Whether this sealer holds the election (it does after a round that found the lock free). */
  get leading(): boolean {
    return this.#leading;
  }

  async #db(): Promise<Db> {
    this.#session ??= this.deps.database.session();
    return (await this.#session).db;
  }

  async #elect(db: Db): Promise<boolean> {
    if (this.#leading) return true;
    // (already held by this session, e.g. after a failed round: not taken twice)
    const [row] = await rowsOf<{ ok: boolean }>(
      db,
      sql`select case when exists (select 1 from pg_locks where locktype = 'advisory' and classid = 7301 and objid = 46128 and objsubid = 2
                                     and pid = pg_backend_pid() and granted)
                      then true else pg_try_advisory_lock(${LOCK}) end as ok`,
    );
    this.#leading = Boolean(row?.ok);
    if (this.#leading) this.deps.logger.info({ signed: Boolean(this.deps.key) }, "audit sealer: elected, sealing the audit log");
    return this.#leading;
  }

  /**
   * One round, after any round in progress: if elected (or the lock is free), chain every committed
   * entry below the horizon and write a checkpoint when one is due. Returns the entries sealed.
   */
  tick(): Promise<number> {
    const round = this.#round.catch(() => undefined).then(() => this.#seal());
    this.#round = round;
    return round;
  }

  async #seal(): Promise<number> {
    const db = await this.#db();
    if (!(await this.#elect(db))) return 0;
    let total = 0;
    try {
      for (;;) {
        const [row] = await rowsOf<{ n: number }>(db, sql`select audit_seal(${BATCH}) as n`);
        total += Number(row?.n ?? 0);
        if (Number(row?.n ?? 0) < BATCH) break;
      }
      await this.#checkpointIfDue(db);
    } catch (err) {
      // The session may have been lost (and the lock with it: audit_seal refuses, 55P03): stand
      // for election again next round.
      this.#leading = false;
      throw err;
    }
    return total;
  }

  async #checkpointIfDue(db: Db): Promise<void> {
    const [state] = await rowsOf<{ sealed: string | number | null; at_seq: string | number | null; at: string | Date | null }>(
      db,
      sql`select (select max(chain_seq) from audit_events) as sealed,
                 c.chain_seq as at_seq, c.created_at as at
          from (select 1) one left join lateral (select chain_seq, created_at from audit_checkpoints order by chain_seq desc limit 1) c on true`,
    );
    const sealed = Number(state?.sealed ?? 0);
    const atSeq = Number(state?.at_seq ?? 0);
    if (sealed <= atSeq) return;
    const now = clock.now();
    const since = state?.at ? (now.getTime() - new Date(state.at).getTime()) / 1000 : Infinity;
    if (sealed - atSeq >= this.deps.config.checkpointEntries || since >= this.deps.config.checkpointSeconds) await writeCheckpoint(db, this.deps.key, now);
  }

  /** A checkpoint of the last sealed position now (tests, and `sealNow({ checkpoint: true })`). */
  async checkpointNow(): Promise<Checkpoint | null> {
    await this.#round.catch(() => undefined);
    return writeCheckpoint(await this.#db(), this.deps.key, clock.now());
  }

  /**
   * Seals until every entry committed before the call is chained (waiting for older transactions
   * still open anywhere in the cluster, as sealing does), within `timeoutMs` (default 2 minutes). False when another sealer holds the election.
   * For tests and scripts: rounds run in the background otherwise.
   */
  async sealNow(opts: { timeoutMs?: number; checkpoint?: boolean } = {}): Promise<boolean> {
    // (on the shared handle: the sealer's own session may have dropped, and is reopened by a round)
    const db = this.deps.database.db;
    const [{ target }] = await rowsOf<{ target: string }>(db, sql`select pg_snapshot_xmax(pg_current_snapshot())::text as target`);
    const deadline = Date.now() + (opts.timeoutMs ?? 120_000);
    for (;;) {
      try {
        await this.tick();
      } catch (err) {
        if (Date.now() > deadline) throw err;
        continue;
      }
      if (!this.#leading) return false;
      const [{ n }] = await rowsOf<{ n: number }>(db, sql`select count(*)::int as n from audit_events where chain_seq is null and tx < ${target}::xid8`);
      if (Number(n) === 0) break;
      if (Date.now() > deadline) throw new Error(`audit sealer: ${n} entries committed before the call are still unsealed`);
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    if (opts.checkpoint) await this.checkpointNow();
    return true;
  }

  /** Runs a round every AUDIT_SEAL_INTERVAL_MS until stopped (0: never). */
  start(): void {
    const interval = this.deps.config.sealIntervalMs;
    if (interval <= 0 || this.#loop) return;
    this.#loop = new Repeater(
      () => this.tick(),
      (err) => this.deps.logger.warn({ errorName: (err as Error)?.name, pgCode: pgErrorOf(err)?.code }, "audit sealer: round failed"),
    );
    this.#loop.start(interval);
  }

  /** Stops the rounds, gives up the election and closes the session. */
  async stop(): Promise<void> {
    await this.#loop?.stop();
    await this.#round.catch(() => undefined);
    const session = this.#session;
    this.#session = undefined;
    if (!session) return;
    const own = await session;
    if (this.#leading) await own.db.execute(sql`select pg_advisory_unlock(${LOCK})`).catch(() => undefined);
    this.#leading = false;
    await own.close();
  }
}
