import { getTableName, inArray, SQL, sql } from "drizzle-orm";
import type { PgColumn } from "drizzle-orm/pg-core";

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
