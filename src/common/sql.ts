import { getTableColumns, getTableName, inArray, SQL, sql, type Table } from "drizzle-orm";
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

/**
 * One key of an order: a column, ascending, or `{ desc: column }`. The loaders export their
 * orders as lists of these (columns of src/db/schema.ts), and both the loaders' statements and the
 * compiled queries of src/compiled/ print them, so a list is ordered the same on both paths.
 */
type OrderKey = PgColumn | { desc: PgColumn };
export type Ordering = readonly OrderKey[];

const keyColumn = (k: OrderKey): PgColumn => ("desc" in k ? k.desc : k);
const keyDesc = (k: OrderKey, reversed: boolean): boolean => "desc" in k !== reversed;

/** The order as drizzle's ORDER BY list; `reversed` flips every key (the last n read from the end). */
export function orderBySql(order: Ordering, reversed = false): SQL {
  return sql.join(
    order.map((k) => (keyDesc(k, reversed) ? sql`${keyColumn(k)} desc` : sql`${keyColumn(k)}`)),
    sql`, `,
  );
}

/** A table's column names, by the names of src/db/schema.ts: `aliased(groups, "g").name` is `g."name"`. */
export type AliasedColumns<T extends Table> = { readonly [K in keyof T["_"]["columns"]]: string };

/**
 * The columns of a table under an alias, as SQL text (for statements written as text: the compiled
 * queries, the attendance rules of attendance.sql.ts). A column renamed or removed in
 * src/db/schema.ts fails the type check of whoever reads it here. Aliases are chosen by the code.
 */
export function aliased<T extends Table>(table: T, alias: string): AliasedColumns<T> {
  if (!/^[a-z][a-z0-9_]*$/.test(alias)) throw new Error(`not an alias: ${alias}`);
  const out: Record<string, string> = {};
  for (const [key, column] of Object.entries(getTableColumns(table))) out[key] = `${alias}."${column.name}"`;
  return out as AliasedColumns<T>;
}

/** `"table" alias`, for a FROM or JOIN written as text. */
export function tableAs(table: Table, alias: string): string {
  if (!/^[a-z][a-z0-9_]*$/.test(alias)) throw new Error(`not an alias: ${alias}`);
  return `"${getTableName(table)}" ${alias}`;
}

/** A column under an alias of its table, as SQL text. */
export function columnAs(column: PgColumn, alias: string): string {
  return `${alias}."${column.name}"`;
}

/** The order as an ORDER BY list in text, each key's table under the alias `aliasOf` gives it. */
export function orderByText(order: Ordering, aliasOf: (table: Table) => string, reversed = false): string {
  return order.map((k) => `${columnAs(keyColumn(k), aliasOf(keyColumn(k).table))}${keyDesc(k, reversed) ? " desc" : ""}`).join(", ");
}
