import { getTableName, inArray, SQL, sql } from "drizzle-orm";
import type { PgColumn } from "drizzle-orm/pg-core";
import type { DbOrTx } from "../db/client.js";

/**
 * A column as "table"."column". Drizzle prints bare column names in single-table selects, which
 * a correlated subquery would bind to its own table; use this inside such subqueries.
 */
export function qualified(column: PgColumn): SQL {
  return sql.raw(`"${getTableName(column.table)}"."${column.name}"`);
}

/**
 * Limits `column` to the ids of a visibility scope: "ALL" adds no condition (undefined), and an
 * empty list matches nothing (an empty IN list is not valid SQL, and no condition would show all).
 */
export function inScope(column: PgColumn | SQL, scope: "ALL" | string[]): SQL | undefined {
  if (scope === "ALL") return undefined;
  if (!scope.length) return sql`false`;
  return column instanceof SQL ? inArray(column, scope) : inArray(column, scope); // one call per overload of inArray
}

/** Rows of a raw statement, from either driver (postgres.js answers an array, PGlite `{ rows }`). */
export async function rowsOf<T>(db: DbOrTx, query: SQL): Promise<T[]> {
  const result: unknown = await db.execute(query);
  return (Array.isArray(result) ? result : (result as { rows: unknown[] }).rows) as T[];
}

/** `(id1, id2, …)` as bound parameters, for `column in` (the caller ensures the list is not empty). */
export function idList(ids: readonly string[]): SQL {
  return sql`(${sql.join(
    ids.map((id) => sql`${id}`),
    sql`, `,
  )})`;
}
