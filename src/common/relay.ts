// Relay cursor connections, batched across parents, so a nested connection costs one statement
// however many parents ask for it. A page after a cursor (or the last n) is read per parent with
// `LATERAL … ORDER BY … OFFSET … LIMIT` over the parent's index, so that only the page's rows are
// read, whatever the parent holds; a page before a cursor uses window functions over the parent's rows.
import { and, Column, getTableColumns, gt, is, sql, Table, type SQL } from "drizzle-orm";
import type { PgColumn, PgSelect, PgTable } from "drizzle-orm/pg-core";
import { ArgsType, Field, Int, ObjectType, type ClassType } from "type-graphql";
import type { Db } from "../db/client.js";
import { rowsOf } from "./sql.js";
import { badInput } from "./errors.js";
import { TypePolicy } from "./policy.js";

const MAX_PAGE_SIZE = 100;
/** @public */
export const DEFAULT_PAGE_SIZE = 20;

@ArgsType()
export class ConnectionArgs {
  @Field(() => Int, { nullable: true, description: "Returns the first n items (1..100)." })
  first?: number | null;

  @Field(() => String, { nullable: true })
  after?: string | null;

  @Field(() => Int, { nullable: true, description: "Returns the last n items (1..100)." })
  last?: number | null;

  @Field(() => String, { nullable: true })
  before?: string | null;
}

// Where the caller is in the list it asked for; open to API clients with their feed.
@TypePolicy({ readableBy: "CALLER", api: ["ATTENDANCE_READ"] })
@ObjectType({ simpleResolvers: true })
export class PageInfo {
  @Field(() => Boolean)
  hasNextPage!: boolean;

  @Field(() => Boolean)
  hasPreviousPage!: boolean;

  @Field(() => String, { nullable: true })
  startCursor!: string | null;

  @Field(() => String, { nullable: true })
  endCursor!: string | null;
}

interface Edge<T> {
  cursor: string;
  node: T;
}
export interface Connection<T> {
  edges: Edge<T>[];
  nodes: T[];
  pageInfo: PageInfo;
  totalCount: number;
}

export function connectionType<T extends object>(nodeType: ClassType<T>, name: string) {
  @ObjectType(`${name}Edge`, { simpleResolvers: true })
  class EdgeType {
    @Field(() => String)
    cursor!: string;

    @Field(() => nodeType)
    node!: T;
  }

  @ObjectType(`${name}Connection`, { simpleResolvers: true })
  class ConnectionType {
    @Field(() => [EdgeType])
    edges!: EdgeType[];

    @Field(() => [nodeType])
    nodes!: T[];

    @Field(() => PageInfo)
    pageInfo!: PageInfo;

    @Field(() => Int)
    totalCount!: number;
  }
  return ConnectionType;
}

/** Validated page window, in 1-based positions. */
export interface PageWindow {
  afterPos: number;
  beforePos: number | null;
  first: number | null;
  last: number | null;
  /** Stable key for batching loads that share the same window. */
  key: string;
}

function decodeCursor(cursor: string, arg: string): number {
  const raw = Buffer.from(cursor, "base64url").toString("utf8");
  const m = /^pos:(\d{1,9})$/.exec(raw);
  if (!m) throw badInput(`\`${arg}\` is not a valid cursor`, arg);
  return Number(m[1]);
}

function encodeCursor(pos: number): string {
  return Buffer.from(`pos:${pos}`, "utf8").toString("base64url");
}

export function pageWindow(args: ConnectionArgs, defaultSize = DEFAULT_PAGE_SIZE): PageWindow {
  const { first, last } = args;
  for (const [name, value] of [
    ["first", first],
    ["last", last],
  ] as const) {
    if (value !== undefined && value !== null && (value < 1 || value > MAX_PAGE_SIZE)) {
      throw badInput(`\`${name}\` must be between 1 and ${MAX_PAGE_SIZE}`, name);
    }
  }
  if (first != null && last != null) throw badInput("Pass `first` or `last`, not both", "last");
  const afterPos = args.after ? decodeCursor(args.after, "after") : 0;
  const beforePos = args.before ? decodeCursor(args.before, "before") : null;
  const win = {
    afterPos,
    beforePos,
    first: first ?? (last == null ? defaultSize : null),
    last: last ?? null,
  };
  return { ...win, key: JSON.stringify(win) };
}

/** @public A row of a page with its position (1-based) and its parent's count (the disclosures' own page statement). */
export type Positioned<T> = T & { __rn: number; __cnt: number };

/** Whether position `rn` (of `cnt`) falls inside the window. Mirrors the SQL predicate. */
function inWindow(win: PageWindow, rn: number, cnt: number): boolean {
  if (rn <= win.afterPos) return false;
  const upper = win.beforePos === null ? cnt + 1 : win.beforePos;
  if (rn >= upper) return false;
  if (win.first !== null && rn > win.afterPos + win.first) return false;
  if (win.last !== null && rn <= Math.min(upper - 1, cnt) - win.last) return false;
  return true;
}

/** @public The connection of a parent's rows read with their positions (loadPages, the disclosures' own page statement). */
export function buildConnection<T>(rows: Positioned<T>[], win: PageWindow, totalCount: number): Connection<T> {
  const page = rows.filter((r) => inWindow(win, Number(r.__rn), totalCount)).sort((a, b) => a.__rn - b.__rn);
  const edges = page.map((r) => {
    const { __rn, __cnt, ...node } = r;
    void __cnt;
    return { cursor: encodeCursor(Number(__rn)), node: node as unknown as T };
  });
  const firstPos = page.length ? Number(page[0].__rn) : null;
  const lastPos = page.length ? Number(page[page.length - 1].__rn) : null;
  return {
    edges,
    nodes: edges.map((e) => e.node),
    totalCount,
    pageInfo: {
      hasNextPage: lastPos !== null ? lastPos < totalCount : false,
      hasPreviousPage: firstPos !== null ? firstPos > 1 : win.afterPos > 0,
      startCursor: edges[0]?.cursor ?? null,
      endCursor: edges[edges.length - 1]?.cursor ?? null,
    },
  };
}

/**
 * A page of a list already read whole (short lists: a member's chart), with the same cursors and
 * window rules as the SQL pages.
 */
export function connectionOf<T>(all: readonly T[], win: PageWindow): Connection<T> {
  const rows = all.map((r, i) => ({ ...r, __rn: i + 1, __cnt: all.length }));
  return all.length ? buildConnection(rows, win, all.length) : emptyConnection();
}

export function emptyConnection<T>(): Connection<T> {
  return {
    edges: [],
    nodes: [],
    totalCount: 0,
    pageInfo: { hasNextPage: false, hasPreviousPage: false, startCursor: null, endCursor: null },
  };
}

export interface PagedQuery {
  /** Columns to select, as in db.select({...}), or a table for all of its columns. */
  select: Record<string, PgColumn | SQL.Aliased> | PgTable;
  from: PgTable;
  /** The column (or expression) that partitions rows by parent; roots use a constant. */
  parent: PgColumn | SQL;
  parentIds: readonly string[];
  where?: SQL;
  orderBy: SQL;
  /** `orderBy` reversed, if given: the last n of a parent are then read from its end. */
  orderByDesc?: SQL;
  joins?: (q: PgSelect) => PgSelect;
}

/**
 * One statement for a page of every parent: rows numbered per parent, filtered to the window,
 * plus each parent's first row so that totalCount is known even for an empty page.
 */
export async function loadPages<T>(db: Db, q: PagedQuery, win: PageWindow): Promise<Map<string, Connection<T>>> {
  const result = new Map<string, Connection<T>>();
  if (q.parentIds.length === 0) return result;
  const columns = is(q.select, Table) ? getTableColumns(q.select) : q.select;
  if (win.beforePos === null && is(q.parent, Column) && Object.values(columns).every((c) => is(c, Column))) {
    return loadPagesLateral<T>(db, q, q.parent, columns as Record<string, PgColumn>, win);
  }
  let inner = db
    .select({
      ...(is(q.select, Table) ? getTableColumns(q.select) : q.select),
      __parent: sql<string>`${q.parent}`.as("__parent"),
      __rn: sql<number>`row_number() over (partition by ${q.parent} order by ${q.orderBy})`.as("__rn"),
      __cnt: sql<number>`count(*) over (partition by ${q.parent})`.as("__cnt"),
    })
    .from(q.from)
    .$dynamic();
  // Joins add tables to filter and order by; the selected columns stay those above.
  if (q.joins) inner = q.joins(inner) as typeof inner;
  const sub = inner
    .where(
      and(
        sql`${q.parent} in (${sql.join(
          q.parentIds.map((id) => sql`${id}`),
          sql`, `,
        )})`,
        q.where,
      ),
    )
    .as("paged");
  const rn = sql`${sub.__rn}`;
  const cnt = sql`${sub.__cnt}`;
  const conds: SQL[] = [gt(rn, win.afterPos)];
  if (win.beforePos !== null) conds.push(sql`${rn} < ${win.beforePos}`);
  if (win.first !== null) conds.push(sql`${rn} <= ${win.afterPos + win.first}`);
  if (win.last !== null) {
    const upper = win.beforePos === null ? cnt : sql`least(${win.beforePos - 1}, ${cnt})`;
    conds.push(sql`${rn} > ${upper} - ${win.last}`);
  }
  // The selected columns are the caller's row type T (q.select), plus the window's.
  const rows = (await db
    .select()
    .from(sub)
    .where(sql`(${and(...conds)}) or ${rn} = 1`)) as unknown as Positioned<T & { __parent: string }>[];
  const byParent = new Map<string, Positioned<T>[]>();
  for (const row of rows) {
    row.__rn = Number(row.__rn);
    row.__cnt = Number(row.__cnt);
    const { __parent, ...rest } = row;
    const list = byParent.get(__parent) ?? [];
    list.push(rest as unknown as Positioned<T>);
    byParent.set(__parent, list);
  }
  for (const parentId of q.parentIds) {
    const list = byParent.get(parentId);
    result.set(parentId, list ? buildConnection(list, win, list[0].__cnt) : emptyConnection());
  }
  return result;
}

/**
 * The page of each parent (a window with no `before`), one statement: per parent, its count, and
 * its rows in order from `afterPos` (or from `count - last`), limited to the page. With an index
 * on (parent, order), PostgreSQL reads the page's rows (and the ones it skips) and no others.
 */
async function loadPagesLateral<T>(
  db: Db,
  q: PagedQuery,
  parent: PgColumn,
  columns: Record<string, PgColumn>,
  win: PageWindow,
): Promise<Map<string, Connection<T>>> {
  const type = sql.raw(parent.getSQLType());
  const parents = sql.join(
    q.parentIds.map((id) => sql`(cast(${id} as ${type}))`),
    sql`, `,
  );
  const ofParent = and(sql`${parent} = "__p"."id"`, q.where);
  let count = db
    .select({ n: sql<number>`count(*)`.as("n") })
    .from(q.from)
    .$dynamic();
  if (q.joins) count = q.joins(count) as typeof count;
  const keys = Object.keys(columns);
  let page = db
    .select(Object.fromEntries(keys.map((k, i) => [`c${i}`, sql`${columns[k]}`.as(`c${i}`)])))
    .from(q.from)
    .$dynamic();
  if (q.joins) page = q.joins(page) as typeof page;
  // Positions (__k) are 1-based over the parent's whole ordered list; the page's rows come in
  // its order (from the end for the last n read backwards), numbered by row_number() over ().
  const k = sql`row_number() over ()`;
  let slice: SQL;
  let position: SQL;
  if (win.last !== null && q.orderByDesc) {
    // Rows at or before `afterPos` are left out of the page by buildConnection.
    slice = sql`(${page.where(ofParent).orderBy(q.orderByDesc)} limit ${win.last}::bigint)`;
    position = sql`"__c"."n" + 1 - ${k}`;
  } else {
    const offset = win.last !== null ? sql`greatest("__c"."n" - ${win.last}::bigint, ${win.afterPos}::bigint)` : sql`${win.afterPos}::bigint`;
    slice = sql`(${page.where(ofParent).orderBy(q.orderBy)} offset ${offset} limit ${(win.last ?? win.first)!}::bigint)`;
    position = sql`${offset} + ${k}`;
  }
  const rows = await rowsOf<Record<string, unknown>>(
    db,
    sql`select "__p"."id"::text as "__parent", "__c"."n"::int as "__cnt", "__r".*
        from (values ${parents}) as "__p"("id")
        cross join lateral (${count.where(ofParent)}) as "__c"
        left join lateral (select ${position} as "__k", "__page".* from ${slice} as "__page") as "__r" on true`,
  );
  // The page's columns come back as c0, c1, … (names may repeat across joined tables).
  const byParent = new Map<string, { cnt: number; list: Positioned<T>[] }>();
  for (const row of rows) {
    const parentId = String(row.__parent);
    const entry = byParent.get(parentId) ?? { cnt: Number(row.__cnt), list: [] };
    byParent.set(parentId, entry);
    if (row.__k === null || row.__k === undefined) continue;
    const node: Record<string, unknown> = { __rn: Number(row.__k), __cnt: entry.cnt };
    keys.forEach((k, i) => {
      const raw = row[`c${i}`];
      node[k] = raw === null || raw === undefined ? null : columns[k].mapFromDriverValue(raw);
    });
    entry.list.push(node as Positioned<T>);
  }
  const result = new Map<string, Connection<T>>();
  for (const parentId of q.parentIds) {
    const entry = byParent.get(parentId);
    result.set(parentId, entry && entry.cnt > 0 ? buildConnection(entry.list, win, entry.cnt) : emptyConnection());
  }
  return result;
}
