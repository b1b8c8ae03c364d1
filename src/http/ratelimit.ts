// Rate limits that hold across instances: @fastify/rate-limit decides (windows, headers), and this
// store keeps its counters in PostgreSQL (table rate_limits, src/db/schema.ts), one fixed window
// per key, counted in one statement (INSERT … ON CONFLICT … RETURNING), so two instances on one
// database share every count. Two tiers (src/server.ts): per client IP before authentication, per
// actor (staff member) after it.
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

/** Counts one hit for `key` in the window of `windowMs` that holds now; returns the hits so far. */
async function countHit(db: Db, key: string, windowMs: number): Promise<Counted> {
  const now = clock.now().toISOString();
  const expired = sql`rate_limits.window_start <= ${now}::timestamptz - make_interval(secs => ${windowMs / 1000}::float8)`;
  const [row] = await rowsOf<{ hits: number | string; ttl: number | string }>(
    db,
    sql`
    insert into rate_limits (key, window_start, hits) values (${key}, ${now}::timestamptz, 1)
    on conflict (key) do update set
      hits = case when ${expired} then 1 else rate_limits.hits + 1 end,
      window_start = case when ${expired} then excluded.window_start else rate_limits.window_start end
    returning hits,
      greatest(0, extract(epoch from (window_start + make_interval(secs => ${windowMs / 1000}::float8) - ${now}::timestamptz)) * 1000)::float8 as ttl`,
  );
  return { current: Number(row.hits), ttl: Math.ceil(Number(row.ttl)) };
}

/** Drops windows that ended long ago (run now and then; any instance may). */
export async function pruneRateLimits(db: Db, olderThanMs: number): Promise<void> {
  const before = new Date(clock.now().getTime() - olderThanMs).toISOString();
  await db.execute(sql`delete from rate_limits where window_start < ${before}::timestamptz`);
}

/** A store class for @fastify/rate-limit (its `store` option) over `db`. */
export function postgresStore(db: Db) {
  return class PostgresRateLimitStore {
    incr(key: string, callback: Callback, timeWindow: number) {
      countHit(db, key, timeWindow).then(
        (res) => callback(null, res),
        (err: unknown) => callback(err instanceof Error ? err : new Error("rate limit store failed")),
      );
    }
    child() {
      return new PostgresRateLimitStore();
    }
  };
}
