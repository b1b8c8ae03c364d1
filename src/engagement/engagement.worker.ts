// The engagement worker: keeps engagement_states (and engagement_sessions' counts) current. Every instance runs one (and the one
// process of the embedded database); two at once share the work, each taking the due rows the
// other has not locked (FOR UPDATE SKIP LOCKED). A tick gives new participants a row, then
// recomputes due rows in batches: dirty ones (a write marked them), those whose next recheck has
// come (time alone changed their figures) and those computed for a later instant than now (the
// clock went back, in tests). Each batch is one transaction: lock the rows, then recompute them
// from the participants' own history with the reference statement restricted to them. A writer
// marking one of those rows waits for the batch to commit, then marks it dirty again, so a change
// the batch did not see is never lost. Reads never depend on the worker's progress: a row that is
// not fresh is computed by the read itself (engagement.loaders.ts).
import { Repeater } from "../common/repeat.js";
import { clock } from "../common/clock.js";
import { pgErrorOf } from "../common/errors.js";
import { rowsOf } from "../common/sql.js";
import type { Db } from "../db/client.js";
import type { Logger } from "../logger.js";
import { adoptMissingSessionsSql, adoptMissingSql, claimDirtySessionsSql, claimDueSql, recomputeKeptSql, recomputeSessionsSql } from "./engagement.sql.js";

/** Participants recomputed per transaction. */
const BATCH = 200;
/** Sessions recounted per transaction. */
const SESSION_BATCH = 1000;

export interface EngagementWorkerDeps {
  db: Db;
  logger: Logger;
  /** Milliseconds between ticks; 0: no loop in this process (tests call tick or drain). */
  intervalMs: number;
}

/** Recomputes up to `limit` due rows in one transaction; answers how many. */
export async function recomputeDue(db: Db, limit = BATCH): Promise<number> {
  return db.transaction(async (tx) => {
    const now = clock.now();
    const due = await rowsOf<{ participant_id: string }>(tx, claimDueSql(now, limit));
    if (!due.length) return 0;
    await tx.execute(
      recomputeKeptSql(
        due.map((d) => d.participant_id),
        now,
      ),
    );
    return due.length;
  });
}

/** Recomputes up to `limit` dirty session counts in one transaction; answers how many. */
async function recomputeDirtySessions(db: Db, limit = SESSION_BATCH): Promise<number> {
  return db.transaction(async (tx) => {
    const dirty = await rowsOf<{ session_id: string }>(tx, claimDirtySessionsSql(limit));
    if (!dirty.length) return 0;
    await tx.execute(recomputeSessionsSql(dirty.map((d) => d.session_id)));
    return dirty.length;
  });
}

/**
 * Brings every kept row and session count up to date as of now (a tick; the first pass, scripts,
 * the bench, tests); answers how many participants' rows were recomputed.
 */
export async function drainEngagement(db: Db): Promise<number> {
  await db.execute(adoptMissingSql());
  await db.execute(adoptMissingSessionsSql());
  while ((await recomputeDirtySessions(db)) === SESSION_BATCH);
  let total = 0;
  for (;;) {
    const n = await recomputeDue(db);
    total += n;
    if (n < BATCH) return total;
  }
}

export class EngagementWorker {
  readonly #loop: Repeater;

  constructor(readonly deps: EngagementWorkerDeps) {
    this.#loop = new Repeater(
      () => drainEngagement(deps.db),
      (err) => deps.logger.error({ errorName: (err as Error)?.name, pgCode: pgErrorOf(err)?.code }, "engagement: worker tick failed"),
    );
  }

  start(): void {
    this.#loop.start(this.deps.intervalMs);
  }

  stop(): Promise<void> {
    return this.#loop.stop();
  }
}
