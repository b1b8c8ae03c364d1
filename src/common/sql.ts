import { getTableName, sql, type SQL } from "drizzle-orm";
import type { PgColumn } from "drizzle-orm/pg-core";

/**
 * A column as "table"."column". Drizzle prints bare column names in single-table selects, which
 * a correlated subquery would bind to its own table; use this inside such subqueries.
 */
export function qualified(column: PgColumn): SQL {
  return sql.raw(`"${getTableName(column.table)}"."${column.name}"`);
}
