// DataLoader factories shared by the modules' *.loaders.ts. Every relation goes through one.
import DataLoader from "dataloader";
import { inArray, type InferSelectModel } from "drizzle-orm";
import type { PgColumn, PgTable } from "drizzle-orm/pg-core";
import type { DbOrTx } from "../db/client.js";
import type { Connection, PageWindow } from "./relay.js";

/** Loads rows by id; a missing id resolves to null. */
export function byIdLoader<T extends { id: string }>(fetch: (ids: readonly string[]) => Promise<T[]>) {
  return new DataLoader<string, T | null>(async (ids) => {
    const rows = await fetch(ids);
    const map = new Map(rows.map((r) => [r.id, r]));
    return ids.map((id) => map.get(id) ?? null);
  });
}

/** Loads whole rows of a table by its `id` column (one `where id in (…)` for all ids). */
export function tableByIdLoader<T extends PgTable & { id: PgColumn }>(db: DbOrTx, table: T) {
  type Row = InferSelectModel<T> & { id: string };
  // drizzle cannot type a select from a table given as a type parameter: select from it as any
  // table; the rows are the table's.
  const source: PgTable = table;
  return byIdLoader<Row>(
    async (ids) =>
      (await db
        .select()
        .from(source)
        .where(inArray(table.id, [...ids]))) as Row[],
  );
}

/** Loads the list of rows belonging to each key (one statement for all keys). */
export function listLoader<T>(fetch: (keys: readonly string[]) => Promise<T[]>, keyOf: (row: T) => string) {
  return new DataLoader<string, T[]>(async (keys) => {
    const rows = await fetch(keys);
    const map = new Map<string, T[]>();
    for (const row of rows) {
      const k = keyOf(row);
      const list = map.get(k);
      if (list) list.push(row);
      else map.set(k, [row]);
    }
    return keys.map((k) => map.get(k) ?? []);
  });
}

/** Loads one value per key, computed by a batch function returning a map. */
export function mapLoader<V>(fetch: (keys: readonly string[]) => Promise<Map<string, V>>, fallback: (key: string) => V) {
  return new DataLoader<string, V>(async (keys) => {
    const map = await fetch(keys);
    return keys.map((k) => map.get(k) ?? fallback(k));
  });
}

interface PageKey<F> {
  parentId: string;
  filter: F;
  win: PageWindow;
}

/**
 * Batches connection pages: every parent that asks with the same filter and window is loaded
 * in one statement.
 */
export function connectionLoader<F, T>(load: (parentIds: string[], filter: F, win: PageWindow) => Promise<Map<string, Connection<T>>>) {
  const filterKey = (f: F) => JSON.stringify(f ?? null);
  const loader = new DataLoader<PageKey<F>, Connection<T>, string>(
    async (keys) => {
      const groups = new Map<string, { filter: F; win: PageWindow; parentIds: string[] }>();
      for (const k of keys) {
        const gk = `${filterKey(k.filter)}|${k.win.key}`;
        const g = groups.get(gk) ?? { filter: k.filter, win: k.win, parentIds: [] };
        g.parentIds.push(k.parentId);
        groups.set(gk, g);
      }
      const results = new Map<string, Connection<T>>();
      await Promise.all(
        [...groups.entries()].map(async ([gk, g]) => {
          const pages = await load([...new Set(g.parentIds)], g.filter, g.win);
          for (const [parentId, conn] of pages) results.set(`${parentId}|${gk}`, conn);
        }),
      );
      return keys.map((k) => results.get(`${k.parentId}|${filterKey(k.filter)}|${k.win.key}`)!);
    },
    { cacheKeyFn: (k) => `${k.parentId}|${filterKey(k.filter)}|${k.win.key}` },
  );
  return {
    load: (parentId: string, filter: F, win: PageWindow) => loader.load({ parentId, filter, win }),
  };
}
