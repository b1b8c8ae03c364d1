// Rate limits that hold across instances without a statement per request. @fastify/rate-limit
// decides (windows, headers, 429s); this store counts in memory, per instance, and reconciles with
// PostgreSQL in the background (table rate_limits, src/db/schema.ts): every RATE_LIMIT_SYNC_MS
// (1 s), one statement per instance adds what this instance counted since the last time, for every
// key at once, and reads back each key's total across instances. Two tiers (src/server.ts): per
// client IP before authentication, per actor (staff member) after it.
//
// Windows are fixed and aligned on the clock (floor(now / window) × window), so every instance
// counts the same window of a key without asking. A request is allowed while
//   (the key's total at the last reconcile) + (what this instance counted since) ≤ the limit.
// The bound: an instance sees another's count once that one has added it and this one has read
// it back, up to two reconcile periods later. So N instances together may let through, over the
// limit, up to (N − 1) × (what one instance lets through of a key in two reconcile periods); a key
// an instance has not counted yet in the window starts there from nothing, and it learns the total
// at its next reconcile. Never more than N × the limit in a window: each instance stops at the
// limit on its own. One instance holds the limit exactly. If the
// database cannot be reached, counting goes on in memory (each instance then holds the limit on
// its own) and the counts are added at the next reconcile that succeeds.
import type { FastifyRateLimitStoreCtor } from "@fastify/rate-limit";
import { sql } from "drizzle-orm";
import { clock } from "../common/clock.js";
import { rowsOf } from "../common/sql.js";
import type { Db } from "../db/client.js";

interface Counted {
  current: number;
  /** ms left in the window. */
  ttl: number;
}

type Callback = (err: Error | null, res?: Counted) => void;

interface Counter {
  windowStart: number;
  windowMs: number;
  /** The key's total over every instance, as of the last reconcile. */
  shared: number;
  /** Counted here since the last reconcile (not yet added to the table). */
  local: number;
}

/** Keys counted at most per instance (the oldest go first). */
const MAX_KEYS = 100_000;

export interface SharedRateLimits {
  /** The store class for @fastify/rate-limit (its `store` option). */
  Store: FastifyRateLimitStoreCtor;
  /** Adds this instance's counts to the table and reads the totals back: one statement. */
  sync(): Promise<void>;
  /** Reconciles every `syncMs` until `stop`. */
  start(syncMs: number): void;
  /** Stops reconciling, after a last one. */
  stop(): Promise<void>;
}

export function sharedRateLimits(db: Db): SharedRateLimits {
  const counters = new Map<string, Counter>();
  let timer: NodeJS.Timeout | undefined;
  let chain: Promise<void> = Promise.resolve();
  let inFlight = 0;

  function hit(key: string, windowMs: number): Counted {
    const now = clock.now().getTime();
    const windowStart = Math.floor(now / windowMs) * windowMs;
    let c = counters.get(key);
    if (!c || c.windowStart !== windowStart || c.windowMs !== windowMs) {
      if (!c && counters.size >= MAX_KEYS) counters.delete(counters.keys().next().value!);
      c = { windowStart, windowMs, shared: 0, local: 0 };
      counters.set(key, c);
    }
    c.local++;
    return { current: c.shared + c.local, ttl: windowStart + windowMs - now };
  }

  async function reconcile(): Promise<void> {
    const now = clock.now().getTime();
    const sent: Array<{ key: string; counter: Counter; delta: number }> = [];
    for (const [key, counter] of counters) {
      if (counter.windowStart + counter.windowMs <= now) {
        counters.delete(key); // its window is over: nothing left to limit
        continue;
      }
      sent.push({ key, counter, delta: counter.local });
    }
    if (sent.length === 0) return;
    const batch = sent.map(({ key, counter, delta }) => ({ k: key, w: new Date(counter.windowStart).toISOString(), h: delta }));
    // One statement for every key: add the deltas to the key's window (a newer window replaces an
    // older one; deltas for a window already replaced are dropped), and read every key's total back
    // (those this instance counted nothing for since, too: what the others counted).
    const rows = await rowsOf<{ key: string; window_ms: number | string; hits: number | string }>(
      db,
      sql`
      with batch as (
        select x.k, x.w, x.h from jsonb_to_recordset(${JSON.stringify(batch)}::jsonb) as x(k text, w timestamptz, h int)
      ), added as (
        insert into rate_limits (key, window_start, hits)
        select k, w, h from batch where h > 0
        on conflict (key) do update set
          hits = case
            when rate_limits.window_start = excluded.window_start then rate_limits.hits + excluded.hits
            when rate_limits.window_start < excluded.window_start then excluded.hits
            else rate_limits.hits end,
          window_start = greatest(rate_limits.window_start, excluded.window_start)
        returning key, window_start, hits
      )
      select key, (extract(epoch from window_start) * 1000)::float8 as window_ms, hits from added
      union all
      select r.key, (extract(epoch from r.window_start) * 1000)::float8, r.hits from rate_limits r join batch b on b.k = r.key and b.h = 0`,
    );
    const totals = new Map(rows.map((r) => [r.key, { windowStart: Math.round(Number(r.window_ms)), hits: Number(r.hits) }]));
    for (const { key, counter, delta } of sent) {
      counter.local -= delta;
      const total = totals.get(key);
      if (total && total.windowStart === counter.windowStart && counters.get(key) === counter) counter.shared = Math.max(counter.shared, total.hits);
    }
  }

  /** One reconcile at a time, each after the one before; a failed one leaves the deltas for the next. */
  const sync = (): Promise<void> => {
    inFlight++;
    const run = chain.then(reconcile).finally(() => inFlight--);
    chain = run.catch(() => {});
    return run;
  };

  class SharedRateLimitStore {
    incr(key: string, callback: Callback, timeWindow: number) {
      callback(null, hit(key, timeWindow));
    }
    child() {
      return new SharedRateLimitStore();
    }
  }

  return {
    Store: SharedRateLimitStore,
    sync,
    start(syncMs) {
      if (timer || syncMs <= 0) return;
      // (a database slower than the period skips ticks rather than queueing them)
      timer = setInterval(() => void (inFlight === 0 && sync().catch(() => {})), syncMs);
      timer.unref();
    },
    async stop() {
      clearInterval(timer);
      timer = undefined;
      await sync().catch(() => {});
    },
  };
}

/** Drops windows that ended long ago (run now and then; any instance may). */
export async function pruneRateLimits(db: Db, olderThanMs: number): Promise<void> {
  const before = new Date(clock.now().getTime() - olderThanMs).toISOString();
  await db.execute(sql`delete from rate_limits where window_start < ${before}::timestamptz`);
}
