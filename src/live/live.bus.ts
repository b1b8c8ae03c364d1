// The live roster's events across instances (docs/live.md). A write that changes a session's roster
// sends `pg_notify('live_roster', …)` inside its own transaction (a write step, src/steps.ts), so
// the event leaves at commit and never for a write that rolled back. Every instance LISTENs on one
// dedicated connection (Database.listen: postgres.js's listener, outside the request pools; on
// PGlite the same NOTIFY inside the process) and hands each event to its open subscriptions of
// that session, in the order PostgreSQL delivers them (commit order).
//
// Payloads carry ids only (the session, the participants written and the writer's transaction id),
// never names or notes: a subscriber reloads the roster through the API's own field policies for
// every event. One transaction that writes a roster twice (a reconciliation writes attendance and
// claims: two write steps, two NOTIFYs) is one event: its NOTIFYs arrive together, after its
// commit, so a feed keeps the first of a transaction (adding the others' participants while it
// waits) and drops the rest; the roster it reloads already holds the whole transaction.
//
// When the listening connection drops and comes back (onListen called again), events may have been
// missed meanwhile: every subscription of the instance ends with SUBSCRIPTION_INTERRUPTED, and the
// client subscribes again, whose first event is the current roster.
import { sql } from "drizzle-orm";
import { GraphQLError } from "graphql";
import type { AttendanceWriteStep } from "../attendance/attendance.service.js";
import { Codes } from "../common/codes.js";
import type { Database, Tx } from "../db/client.js";
import type { Logger } from "../logger.js";

/** The NOTIFY channel of roster changes. */
const ROSTER_CHANNEL = "live_roster";

/** What changed: ids only. */
export interface RosterChange {
  sessionId: string;
  /** The participants whose entry changed (empty when too many to fit a NOTIFY payload). */
  participantIds: string[];
  /** The writing transaction's id (txid_current), as received; several changes of one transaction are one event. */
  txid?: string;
}

/** PostgreSQL refuses NOTIFY payloads of 8000 bytes or more. */
const MAX_PAYLOAD = 7_000;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const TXID = /^[0-9]{1,20}$/;

function encodeChange(change: RosterChange): string {
  const full = JSON.stringify({ s: change.sessionId, p: change.participantIds });
  return full.length <= MAX_PAYLOAD ? full : JSON.stringify({ s: change.sessionId, p: [] });
}

/** A payload as sent by encodeChange, or null for anything else (a foreign NOTIFY on the channel). */
function decodeChange(payload: string): RosterChange | null {
  try {
    const v = JSON.parse(payload) as { s?: unknown; p?: unknown };
    if (typeof v.s !== "string" || !UUID.test(v.s)) return null;
    const ids = Array.isArray(v.p) ? v.p.filter((p): p is string => typeof p === "string" && UUID.test(p)) : [];
    const x = (v as { x?: unknown }).x;
    return { sessionId: v.s, participantIds: ids, ...(typeof x === "string" && TXID.test(x) ? { txid: x } : {}) };
  } catch {
    return null;
  }
}

/**
 * The write step: one NOTIFY in the writer's transaction (delivered at its commit). Shaped for any
 * writer of a roster: attendance (below) and self check-in (`checkInWriteSteps`, same arguments).
 */
export async function rosterChangedStep(tx: Tx, change: RosterChange): Promise<void> {
  // The transaction's id is added in the same statement (no extra round trip).
  await tx.execute(sql`select pg_notify(${ROSTER_CHANNEL}, jsonb_set(${encodeChange(change)}::jsonb, '{x}', to_jsonb(txid_current()::text))::text)`);
}

/** The step on attendance batches: the session and the participants whose record was written. */
export const attendanceRosterStep: AttendanceWriteStep = async (tx, { session }, writes) => {
  if (!writes.length) return;
  await rosterChangedStep(tx, { sessionId: session.id, participantIds: [...new Set(writes.map((w) => w.after.participantId))] });
};

/** The error a stream ends with when the instance cannot vouch for having every event. */
function interrupted(message: string): GraphQLError {
  return new GraphQLError(message, { extensions: { code: Codes.SUBSCRIPTION_INTERRUPTED } });
}

/** One subscription's queue of changes of its session, read in order. */
export class RosterFeed {
  readonly #queue: RosterChange[] = [];
  /** The transaction of the last change pushed: a transaction's NOTIFYs arrive one after the other. */
  #lastTxid: string | undefined;
  #waiter: { resolve: (r: IteratorResult<RosterChange>) => void; reject: (e: unknown) => void } | null = null;
  #ended: { error: GraphQLError | null } | null = null;

  constructor(
    readonly sessionId: string,
    private readonly onClose: (feed: RosterFeed) => void,
  ) {}

  push(change: RosterChange): void {
    if (this.#ended) return;
    if (change.txid !== undefined && change.txid === this.#lastTxid) {
      // The same transaction again: one event. Still waiting? It names these participants too.
      const queued = this.#queue.at(-1);
      if (queued?.txid === change.txid) {
        // (A change is shared by every feed of the session: replaced, not changed in place.)
        const ids = queued.participantIds.length && change.participantIds.length ? [...new Set([...queued.participantIds, ...change.participantIds])] : [];
        this.#queue[this.#queue.length - 1] = { ...queued, participantIds: ids };
      }
      return;
    }
    this.#lastTxid = change.txid;
    const waiter = this.#waiter;
    if (waiter) {
      this.#waiter = null;
      waiter.resolve({ value: change, done: false });
    } else {
      this.#queue.push(change);
    }
  }

  /** Ends the feed: with an error (the next read throws it, queued changes dropped) or done. */
  end(error: GraphQLError | null = null): void {
    if (this.#ended) return;
    this.#ended = { error };
    if (error) this.#queue.length = 0;
    this.onClose(this);
    const waiter = this.#waiter;
    this.#waiter = null;
    if (waiter && error) waiter.reject(error);
    else waiter?.resolve({ value: undefined, done: true });
  }

  get ended(): boolean {
    return this.#ended !== null;
  }

  /** The next change, in delivery order; done once ended, or rejects with the error it ended with. */
  next(): Promise<IteratorResult<RosterChange>> {
    const queued = this.#queue.shift();
    if (queued) return Promise.resolve({ value: queued, done: false });
    if (this.#ended) return this.#ended.error ? Promise.reject(this.#ended.error) : Promise.resolve({ value: undefined, done: true });
    return new Promise((resolve, reject) => {
      this.#waiter = { resolve, reject };
    });
  }
}

/** An instance's listener and its open feeds, by session. */
export class RosterBus {
  readonly #feeds = new Map<string, Set<RosterFeed>>();
  #unlisten: (() => Promise<void>) | null = null;
  #listens = 0;
  #closed = false;

  constructor(
    private readonly database: Database,
    private readonly logger: Logger,
  ) {}

  async start(): Promise<void> {
    this.#unlisten = await this.database.listen(
      ROSTER_CHANNEL,
      (payload) => this.#deliver(payload),
      () => this.#listening(),
    );
  }

  /** Times listening (re)started: more than once means the connection dropped in between. */
  get listens(): number {
    return this.#listens;
  }

  #listening(): void {
    this.#listens++;
    if (this.#listens === 1) return;
    const open = this.size;
    this.logger.warn({ subscriptions: open }, "live roster: the listening connection was re-established; ending this instance's subscriptions");
    this.endAll(interrupted("The live roster was interrupted (events may have been missed); subscribe again"));
  }

  #deliver(payload: string): void {
    const change = decodeChange(payload);
    if (!change) return;
    for (const feed of this.#feeds.get(change.sessionId) ?? []) feed.push(change);
  }

  /** A feed of the session's changes from now on; end it when the subscription ends. */
  open(sessionId: string): RosterFeed {
    const feed = new RosterFeed(sessionId, (f) => {
      const set = this.#feeds.get(f.sessionId);
      set?.delete(f);
      if (set?.size === 0) this.#feeds.delete(f.sessionId);
    });
    if (this.#closed) {
      feed.end(interrupted("The server is shutting down; subscribe again"));
      return feed;
    }
    const set = this.#feeds.get(sessionId) ?? new Set<RosterFeed>();
    set.add(feed);
    this.#feeds.set(sessionId, set);
    return feed;
  }

  /** Open feeds (subscriptions) on this instance. */
  get size(): number {
    let n = 0;
    for (const set of this.#feeds.values()) n += set.size;
    return n;
  }

  endAll(error: GraphQLError | null): void {
    for (const set of [...this.#feeds.values()]) for (const feed of [...set]) feed.end(error);
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.endAll(interrupted("The server is shutting down; subscribe again"));
    const unlisten = this.#unlisten;
    this.#unlisten = null;
    await unlisten?.().catch(() => undefined);
  }
}
