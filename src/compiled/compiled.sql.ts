// The types and fields the compiler answers (compiled.plan.ts), each as the SQL expression of its
// value, for any staff member; a field that is its row's column of the same name needs no line
// (columnField); a field, argument or type that is neither makes the compiler give up, and the
// request runs through the resolvers.
//   - columns are those of src/db/schema.ts's tables (a renamed column fails the type check here),
//     and the order of every list and page is the one its loader exports (src/*/*.loaders.ts);
//   - who may read what is the fields' declarations (src/common/policy.ts: `readableBy`, own or
//     the type's), each audience an SQL predicate on the row it is read from, decided by the table
//     of src/auth/access.ts (READERS, readReachAt): true for the whole center, a facilitator's own
//     groups (the type's declared center and group columns, TypePolicy center/group; for the types
//     of several groups, the loaders' scope: `inGroups`), or false. A list holds the rows its item type's audience lets
//     the viewer read (what the loaders' group scopes select); a field the viewer may not read
//     makes the compiler give up: at once when it is so for every row, else for the answer that
//     holds such a row (the resolvers answer their refusal, FORBIDDEN or null, and record it);
//   - pages are src/common/relay.ts's: positions from 1, `pos:N` cursors, totalCount, pageInfo;
//   - staff reached through a link are those `node(id:)` would show (the STAFF audience);
//   - participant data carries its audit identity (the type's `TypePolicy.audit` columns), which
//     the walk records as a READ, as src/audit/audit.wrap.ts does for every object resolved.
// Values are inlined as literals only after a strict check (uuids, enum names, integers, ISO
// instants), so that the statement has no parameters and nothing in it comes from the client
// unchecked.
import type { PgColumn, PgTable } from "drizzle-orm/pg-core";
import { ATTENDANCE_BY_NAME, ATTENDANCE_LATEST_FIRST } from "../attendance/attendance.loaders.js";
import { sessionSummarySources } from "../attendance/attendance.sql.js";
import { getTableColumns } from "drizzle-orm";
import { readReachAt } from "../auth/access.js";
import { auditIdentityOf, effectivePolicy, typePolicyOf, type Audience } from "../common/policy.js";
import { columnAs, orderByText, tableAs, aliased, type Ordering } from "../common/sql.js";
import { attendance, centers, enrollments, groupFacilitators, groups, participants, programs, sessions, staff, staffMemberships } from "../db/schema.js";
import { ENROLLMENT_ORDER } from "../enrollments/enrollment.loaders.js";
import { FACILITATOR_ORDER, GROUP_ORDER } from "../groups/group.loaders.js";
import { SESSION_ORDER } from "../sessions/session.loaders.js";
import { getMetadataStorage, type ClassType } from "type-graphql";
import { getNamedType, getNullableType, isEnumType, isListType, type GraphQLField } from "graphql";
import { Attendance, AttendanceSummary } from "../attendance/attendance.type.js";
import { Center } from "../centers/center.type.js";
import { PageInfo, pageWindow, type ConnectionArgs } from "../common/relay.js";
import { Enrollment } from "../enrollments/enrollment.type.js";
import { Group } from "../groups/group.type.js";
import { Participant } from "../participants/participant.type.js";
import { Program } from "../programs/program.type.js";
import { Session } from "../sessions/session.type.js";
import { Staff } from "../staff/staff.type.js";
import { AUDIT_KEY, base64url, type Compiling, GiveUp, isoInstant, jsonObject, REFUSED_KEY, shapeOf, type PlanNode, type Sel } from "./compiled.plan.js";

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/** A checked uuid as a literal. */
export function uuidLiteral(id: string): string {
  if (!UUID.test(id)) throw new GiveUp("not a uuid");
  return `'${id}'::uuid`;
}

function enumLiteral(value: unknown): string {
  if (typeof value !== "string" || !/^[A-Z][A-Z_]*$/.test(value)) throw new GiveUp("enum value");
  return `'${value}'`;
}

function instantLiteral(value: unknown): string {
  if (!(value instanceof Date) || Number.isNaN(value.getTime())) throw new GiveUp("instant");
  return `'${value.toISOString()}'::timestamptz`;
}

interface Built {
  sql: string;
  /** For object-valued fields: what the walk over the answer checks and records below it. */
  plan: PlanNode | null;
}

type FieldSpec = (c: Compiling, alias: string, sel: Sel) => Built;

/** A table of src/db/schema.ts whose rows have an `id` (every type's table). */
type RowTable = PgTable & { id: PgColumn };

interface TypeSpec {
  /** The table an object of this type is a row of. */
  table: RowTable;
  /**
   * For a type that belongs to groups but declares no one group column (TypePolicy.group): the
   * condition that a row is of one of some groups (uuid literals), as the loaders' group scopes
   * select the type's rows for a facilitator.
   */
  inGroups?: (a: string, groupIds: string) => string;
  fields: Record<string, FieldSpec>;
}

/** Where a row of a type is: its center and groups, as the type declares them (TypePolicy center, group). */
interface Place {
  /** The column of the row's center; null for a type of no one center (staff). */
  center: PgColumn | null;
  /** The condition that a row is of one of some groups; null for the whole center's objects. */
  inGroups: ((a: string, groupIds: string) => string) | null;
}

function placeOf(c: Compiling, typeName: string): Place {
  const spec = SPECS[typeName];
  const policy = typePolicyOf(c.objectType(typeName));
  // Declared, else the row's `centerId` (as the field wrapper reads it).
  const center = (policy?.center !== undefined ? policy.center : (getTableColumns(spec.table) as Record<string, PgColumn | undefined>).centerId) ?? null;
  const group = policy?.group;
  if (typeof group === "function") {
    if (!spec.inGroups) throw new GiveUp(`the groups of ${typeName}`);
    return { center: center as PgColumn | null, inGroups: spec.inGroups };
  }
  const inGroups = group ? (a: string, ids: string) => `${columnAs(group as PgColumn, a)} in (${ids})` : (spec.inGroups ?? null);
  return { center: center as PgColumn | null, inGroups };
}

/** The column of a row's center, under its alias (types of one center only). */
export function centerOf(c: Compiling, typeName: string, a: string): string {
  const { center } = placeOf(c, typeName);
  if (!center) throw new GiveUp(`${typeName} is of no one center`);
  return columnAs(center, a);
}

/** Columns of the tables of one FROM (a row's table and those joined to it), each under its alias. */
type At = (column: PgColumn) => string;

/** FROM the `table` as `child`, joined to `joins` ([column of the joined table, column it equals]); their columns by alias. */
function source(
  table: PgTable,
  child: string,
  joins: ReadonlyArray<readonly [PgColumn, PgColumn]> = [],
): { from: string; at: At; aliasOf: (table: unknown) => string } {
  const aliases = new Map<unknown, string>([[table, child]]);
  const aliasOf = (t: unknown) => {
    const alias = aliases.get(t);
    if (!alias) throw new Error("a column of a table not in the FROM");
    return alias;
  };
  const at: At = (column) => columnAs(column, aliasOf(column.table));
  let from = tableAs(table, child);
  joins.forEach(([joined, on], i) => {
    const alias = `${child}_j${i}`;
    const onText = at(on);
    aliases.set(joined.table, alias);
    from += ` join ${tableAs(joined.table, alias)} on ${columnAs(joined, alias)} = ${onText}`;
  });
  return { from, at, aliasOf };
}

const scalar =
  (expr: (a: string) => string): FieldSpec =>
  (_c, a) => ({ sql: expr(a), plan: null });
const column = (col: PgColumn) => scalar((a) => columnAs(col, a));
const instant = (col: PgColumn) => scalar((a) => isoInstant(columnAs(col, a)));
const globalId = (type: ClassType, id: PgColumn) => scalar((a) => base64url(`${type.name}:`, columnAs(id, a)));

/** Fields computed by a resolver method (type-graphql's metadata), as `Type.field`: never read as a column. */
let computed: Set<string> | undefined;
function computedFields(): Set<string> {
  if (computed) return computed;
  const storage = getMetadataStorage();
  const names = new Map<unknown, string>(storage.objectTypes.map((o) => [o.target, o.name]));
  computed = new Set(storage.fieldResolvers.map((r) => `${names.get(r.getObjectType?.()) ?? ""}.${r.schemaName}`));
  return computed;
}

const COLUMN_SCALARS = new Set(["String", "Int", "Boolean", "Date"]);

/**
 * A field not listed in the type's spec that is its row's column of the same name (no resolver
 * method, no arguments, one value of a plain scalar or enum): the column, so that a field added
 * with its column is compiled with no line here. Anything else: null (the compiler gives up).
 */
function columnField(table: PgTable, typeName: string, field: GraphQLField<unknown, unknown>): FieldSpec | null {
  if (field.args.length || computedFields().has(`${typeName}.${field.name}`) || isListType(getNullableType(field.type))) return null;
  const col = (getTableColumns(table) as Record<string, PgColumn | undefined>)[field.name];
  if (!col) return null;
  const named = getNamedType(field.type);
  if (named.name === "DateTime") return instant(col);
  return isEnumType(named) || COLUMN_SCALARS.has(named.name) ? column(col) : null;
}

/**
 * A field that is its row's column of the same name (columnField), as SQL on the row under `alias`;
 * null for any other field. The feed's pages compile their records' plain fields with it too
 * (src/feed/feed.plan.ts), so both compilers read a column the same way.
 */
export function columnSql(table: PgTable, typeName: string, field: GraphQLField<unknown, unknown>, alias: string): string | null {
  const spec = columnField(table, typeName, field);
  return spec ? spec(undefined as never, alias, undefined as never).sql : null;
}

/**
 * The audience's predicate on a row (alias `a`) of `typeName`, for the viewer: "true", "false", or
 * a condition on the row: at the centers where the viewer reads the audience (access.ts's READERS,
 * readReachAt), and at those where they read it for their groups' objects only (a facilitator).
 */
function audienceSql(c: Compiling, audience: Audience | undefined, typeName: string, a: string): string {
  if (!audience) throw new GiveUp(`no audience declared on a field of ${typeName}`);
  if (audience === "CALLER") return "true";
  // Staff are shown as node(id:) would show them; a link to staff filters or nulls its own.
  if (audience === "STAFF") return typeName === Staff.name ? staffVisible(c, columnAs(staff.id, a), a) : "true";
  const viewer = c.viewer;
  if (viewer.isOrgAdmin) return "true";
  const place = placeOf(c, typeName);
  const all: string[] = [];
  const theirGroups: string[] = [];
  for (const centerId of viewer.roles.keys()) {
    const reach = readReachAt(viewer, audience, centerId);
    // An object of no group is the whole center's: a facilitator reads it (its lists are cut to their groups).
    if (reach === "ALL" || (reach === "THEIR_GROUPS" && !place.inGroups)) all.push(uuidLiteral(centerId));
    else if (reach === "THEIR_GROUPS") theirGroups.push(uuidLiteral(centerId));
  }
  // Every row the compiler reads is at one of the viewer's centers (roots are, links stay in theirs).
  if (!theirGroups.length && all.length === viewer.roles.size) return "true";
  if (!theirGroups.length && !all.length) return "false";
  if (!place.center) throw new GiveUp(`${audience} of ${typeName}, by center`);
  const center = columnAs(place.center, a);
  const parts: string[] = [];
  if (all.length) parts.push(`${center} in (${all.join(", ")})`);
  if (theirGroups.length) {
    const groupIds = [...viewer.facilitatedGroupIds].map(uuidLiteral).join(", ") || "null";
    parts.push(`(${center} in (${theirGroups.join(", ")}) and ${place.inGroups!(a, groupIds)})`);
  }
  return `(${parts.join(" or ")})`;
}

/** The predicate of the audience of a type (its rows in a list, a root): never "false" (the compiler gives up). */
export function typeAudienceSql(c: Compiling, typeName: string, a: string): string {
  const predicate = audienceSql(c, typePolicyOf(c.objectType(typeName))?.readableBy, typeName, a);
  if (predicate === "false") throw new GiveUp(`${typeName} refused to the viewer`);
  return predicate;
}

/**
 * The JSON object of one row (alias `a`) of `typeName`, with the selection's fields in order;
 * `known` holds predicates the row is already selected by (its list's, its root's).
 */
export function objectOf(c: Compiling, typeName: string, a: string, sets: ReturnType<Compiling["below"]>, known: ReadonlySet<string> = new Set()): Built {
  const spec = SPECS[typeName];
  if (!spec) throw new GiveUp(`type ${typeName}`);
  const type = c.objectType(typeName);
  const identity = auditIdentityOf(type);
  const pairs: Array<[string, string]> = [];
  const plan: PlanNode = { typeName, audited: false, children: [] };
  const guards = new Set<string>();
  for (const s of c.collect(type, sets)) {
    if (s.name === "__typename") {
      pairs.push([s.key, `'${typeName}'`]);
      continue;
    }
    const field = spec.fields[s.name] ?? columnField(spec.table, typeName, s.field!);
    if (!field) throw new GiveUp(`field ${typeName}.${s.name}`);
    const readable = audienceSql(c, effectivePolicy(type, s.field!).readableBy, typeName, a);
    if (readable === "false") throw new GiveUp(`${typeName}.${s.name} refused to the viewer`);
    if (readable !== "true" && !known.has(readable)) guards.add(readable);
    const built = field(c, a, s);
    pairs.push([s.key, built.sql]);
    if (built.plan) {
      const shape = shapeOf(s.field!.type);
      plan.children.push({ key: s.key, nonNull: shape.nonNull, list: shape.list, itemNonNull: shape.itemNonNull, node: built.plan });
    }
    if (identity) plan.audited = true;
  }
  if (plan.audited) pairs.push([AUDIT_KEY, auditIdentitySql(c, typeName, a)]);
  if (guards.size) {
    plan.refusable = true;
    pairs.push([REFUSED_KEY, `coalesce(not (${[...guards].join(" and ")}), true)`]);
  }
  return { sql: jsonObject(pairs), plan };
}

/**
 * json_build_array(resource id, center id, participant ids) of a row of participant data: the
 * columns its type declares (TypePolicy.audit), as src/audit/audit.wrap.ts reads them of a row.
 */
function auditIdentitySql(c: Compiling, typeName: string, a: string): string {
  const spec = SPECS[typeName];
  const identity = auditIdentityOf(c.objectType(typeName))!;
  const { participants: ids, resourceId } = identity;
  if (typeof ids === "function" || typeof resourceId === "function") throw new GiveUp(`audit identity of ${typeName} is not columns`);
  const col = (column: unknown) => columnAs(column as PgColumn, a);
  const resource = resourceId === null ? "null" : col(resourceId ?? spec.table.id);
  return `json_build_array(${resource}, ${centerOf(c, typeName, a)}, json_build_array(${ids.map(col).join(", ")}))`;
}

/** An object reached through a link: the row of `typeName` whose `[column, parent's column]` match. */
const one =
  (type: ClassType, link: readonly [PgColumn, PgColumn]): FieldSpec =>
  (c, a, sel) => {
    const typeName = type.name;
    noArgs(sel);
    const child = c.alias();
    const obj = objectOf(c, typeName, child, c.below(sel));
    return {
      sql: `(select ${obj.sql} from ${tableAs(SPECS[typeName].table, child)} where ${columnAs(link[0], child)} = ${columnAs(link[1], a)})`,
      plan: obj.plan,
    };
  };

interface ListSpec {
  /** The item type (its GraphQL name is its class's). */
  node: ClassType;
  /** Tables joined to the node's rows, to filter and order by: [column of the joined table, column it equals]. */
  joins?: ReadonlyArray<readonly [PgColumn, PgColumn]>;
  /** The rows of the parent: [column of the rows' FROM, column of the parent]. */
  parent: readonly [PgColumn, PgColumn];
  /** Further conditions on the rows (the FROM's columns by `at`). */
  where?: (c: Compiling, at: At, child: string) => string;
  /** The loader's order. */
  order: Ordering;
}

/** A list in the loader's order. */
const list =
  (spec: ListSpec): FieldSpec =>
  (c, a, sel) => {
    noArgs(sel);
    const child = c.alias();
    const visible = typeAudienceSql(c, spec.node.name, child);
    const obj = objectOf(c, spec.node.name, child, c.below(sel), new Set([visible]));
    const { from, at, aliasOf } = source(SPECS[spec.node.name].table, child, spec.joins);
    const where = [
      `${at(spec.parent[0])} = ${columnAs(spec.parent[1], a)}`,
      ...(spec.where ? [spec.where(c, at, child)] : []),
      ...(visible === "true" ? [] : [visible]),
    ].join(" and ");
    return {
      sql: `(select coalesce(json_agg(${obj.sql} order by ${orderByText(spec.order, aliasOf)}), '[]'::json) from ${from} where ${where})`,
      plan: obj.plan,
    };
  };

function noArgs(sel: Sel): void {
  if (Object.values(sel.args).some((v) => v !== undefined && v !== null)) throw new GiveUp(`arguments of ${sel.name}`);
}

interface ConnectionSpec extends Omit<ListSpec, "where"> {
  /** The filter arguments the connection takes besides first/after/last, each as a condition (unknown ones: give up). */
  filters?: Record<string, (at: At, value: unknown) => string>;
  /** The last n are read from the end, in the reversed order (the loader's `orderByDesc`). */
  reversible?: boolean;
}

const cursorOf = (pos: string) => base64url("pos:", pos);

/**
 * A page of a relay connection, as src/common/relay.ts's loadPages builds it: the parent's count,
 * then its rows from `after` (or its last n), numbered from 1 over the parent's whole list.
 */
const connection =
  (spec: ConnectionSpec): FieldSpec =>
  (c, a, sel) => {
    const args = sel.args as ConnectionArgs & Record<string, unknown>;
    for (const [k, v] of Object.entries(sel.args)) {
      if (v === undefined || v === null || ["first", "after", "last"].includes(k) || (spec.filters && k in spec.filters)) continue;
      throw new GiveUp(`argument ${k}`);
    }
    let win;
    try {
      win = pageWindow(args);
    } catch {
      throw new GiveUp("page arguments (the resolvers answer the error)");
    }
    if (win.beforePos !== null) throw new GiveUp("before");
    const child = c.alias();
    const { from, at, aliasOf } = source(SPECS[spec.node.name].table, child, spec.joins);
    // The rows the viewer may read (the loaders' group scopes).
    const visible = typeAudienceSql(c, spec.node.name, child);
    const known = new Set([visible]);
    const where = [
      `${at(spec.parent[0])} = ${columnAs(spec.parent[1], a)}`,
      ...Object.entries(spec.filters ?? {})
        .filter(([k]) => sel.args[k] !== undefined && sel.args[k] !== null)
        .map(([k, filter]) => filter(at, sel.args[k])),
      ...(visible === "true" ? [] : [visible]),
    ].join(" and ");
    const cnt = `${child}_c`;
    const page = `${child}_p`;
    const connType = c.objectType(shapeOf(sel.field!.type).named);
    const plan: PlanNode = { typeName: connType.name, audited: false, children: [] };

    // What the rows must carry: the node as `nodes` wants it, and as `edges { node }` wants it.
    const rowColumns: string[] = [];
    const pairs: Array<[string, string]> = [];
    for (const s of c.collect(connType, c.below(sel))) {
      switch (s.name) {
        case "__typename":
          pairs.push([s.key, `'${connType.name}'`]);
          break;
        case "totalCount":
          pairs.push([s.key, `${cnt}.n`]);
          break;
        case "pageInfo": {
          const info: Array<[string, string]> = [];
          for (const p of c.collect(c.objectType(PageInfo.name), c.below(s))) {
            const expr: Record<string, string> = {
              __typename: `'${PageInfo.name}'`,
              hasNextPage: `coalesce(max(${page}.pos) < ${cnt}.n, false)`,
              hasPreviousPage: `case when count(${page}.pos) > 0 then min(${page}.pos) > 1 when ${cnt}.n = 0 then false else ${win.afterPos > 0} end`,
              startCursor: cursorOf(`min(${page}.pos)`),
              endCursor: cursorOf(`max(${page}.pos)`),
            };
            if (!(p.name in expr)) throw new GiveUp(`PageInfo.${p.name}`);
            info.push([p.key, expr[p.name]]);
          }
          pairs.push([s.key, jsonObject(info)]);
          break;
        }
        case "nodes": {
          const col = `o${rowColumns.length}`;
          const obj = objectOf(c, spec.node.name, child, c.below(s), known);
          rowColumns.push(`${obj.sql} as ${col}`);
          pairs.push([s.key, `coalesce(json_agg(${page}.${col} order by ${page}.pos) filter (where ${page}.pos is not null), '[]'::json)`]);
          plan.children.push({ key: s.key, nonNull: true, list: true, itemNonNull: true, node: obj.plan! });
          break;
        }
        case "edges": {
          const edgeType = c.objectType(shapeOf(s.field!.type).named);
          const edge: Array<[string, string]> = [];
          const edgePlan: PlanNode = { typeName: edgeType.name, audited: false, children: [] };
          for (const e of c.collect(edgeType, c.below(s))) {
            if (e.name === "__typename") edge.push([e.key, `'${edgeType.name}'`]);
            else if (e.name === "cursor") edge.push([e.key, cursorOf(`${page}.pos`)]);
            else if (e.name === "node") {
              const col = `o${rowColumns.length}`;
              const obj = objectOf(c, spec.node.name, child, c.below(e), known);
              rowColumns.push(`${obj.sql} as ${col}`);
              edge.push([e.key, `${page}.${col}`]);
              edgePlan.children.push({ key: e.key, nonNull: true, list: false, itemNonNull: false, node: obj.plan! });
            } else throw new GiveUp(`${edgeType.name}.${e.name}`);
          }
          pairs.push([s.key, `coalesce(json_agg(${jsonObject(edge)} order by ${page}.pos) filter (where ${page}.pos is not null), '[]'::json)`]);
          plan.children.push({ key: s.key, nonNull: true, list: true, itemNonNull: true, node: edgePlan });
          break;
        }
        default:
          throw new GiveUp(`${connType.name}.${s.name}`);
      }
    }

    // The page's rows in order, numbered over the parent's whole list (as relay.ts's lateral pages).
    let slice: string;
    let position: string;
    if (win.last !== null && spec.reversible) {
      slice = `(select ${child}.* from ${from} where ${where} order by ${orderByText(spec.order, aliasOf, true)} limit ${win.last})`;
      position = `${cnt}.n + 1 - row_number() over ()`;
    } else {
      const offset = win.last !== null ? `greatest(${cnt}.n - ${win.last}, ${win.afterPos})` : `${win.afterPos}`;
      slice = `(select ${child}.* from ${from} where ${where} order by ${orderByText(spec.order, aliasOf)} offset ${offset} limit ${win.last ?? win.first})`;
      position = `${offset} + row_number() over ()`;
    }
    const rows = `select * from (select ${[`${position} as pos`, ...rowColumns].join(", ")} from ${slice} ${child}) ${child}_r where pos > ${win.afterPos}`;
    return {
      sql: `(select ${jsonObject(pairs)} from (select count(*)::int as n from ${from} where ${where}) ${cnt} left join lateral (${rows}) ${page} on true group by ${cnt}.n)`,
      plan,
    };
  };

/** Whether the viewer sees a staff member reached through a link (as node(id:) would). */
function staffVisible(c: Compiling, staffId: string, child: string): string {
  if (c.viewer.isOrgAdmin) return "true";
  const centers = [...c.viewer.roles.keys()].map(uuidLiteral).join(", ");
  const m = aliased(staffMemberships, `${child}_m`);
  const shared = centers
    ? `exists (select 1 from ${tableAs(staffMemberships, `${child}_m`)} where ${m.staffId} = ${staffId} and ${m.centerId} in (${centers}))`
    : "false";
  return `(${staffId} = ${uuidLiteral(c.viewer.staffId)} or ${shared})`;
}

const statusFilter = (col: PgColumn) => (at: At, value: unknown) => `${at(col)} = ${enumLiteral(value)}`;

/** A group's or a participant's enrolments, in enrolment order (the loader's `pagesBy`), by status. */
const enrollmentsBy = (parent: readonly [PgColumn, PgColumn]) =>
  connection({ node: Enrollment, parent, filters: { status: statusFilter(enrollments.status) }, order: ENROLLMENT_ORDER });

// The columns of sessionSummarySources (src/attendance/attendance.sql.ts).
const SUMMARY: Record<string, string> = {
  __typename: `'${AttendanceSummary.name}'`,
  expected: "x.expected",
  present: "r.present",
  late: "r.late",
  leftEarly: "r.left_early",
  absent: "r.absent",
  excused: "r.excused",
  unrecorded: "x.unrecorded",
};

const SPECS: Record<string, TypeSpec> = {
  [Center.name]: {
    table: centers,
    fields: {
      id: globalId(Center, centers.id),
      name: column(centers.name),
      timezone: column(centers.timezone),
      groups: connection({
        node: Group,
        parent: [groups.centerId, centers.id],
        filters: { status: statusFilter(groups.status) },
        order: GROUP_ORDER,
      }),
    },
  },
  [Program.name]: {
    table: programs,
    fields: { id: globalId(Program, programs.id), name: column(programs.name) },
  },
  [Staff.name]: {
    table: staff,
    fields: { id: globalId(Staff, staff.id), name: column(staff.name) },
  },
  [Group.name]: {
    table: groups,
    fields: {
      id: globalId(Group, groups.id),
      name: column(groups.name),
      status: column(groups.status),
      capacity: column(groups.capacity),
      program: one(Program, [programs.id, groups.programId]),
      facilitators: list({
        node: Staff,
        joins: [[groupFacilitators.staffId, staff.id]],
        parent: [groupFacilitators.groupId, groups.id],
        where: (c, at, child) => staffVisible(c, at(staff.id), child),
        order: FACILITATOR_ORDER,
      }),
      enrollments: enrollmentsBy([enrollments.groupId, groups.id]),
      sessions: connection({
        node: Session,
        parent: [sessions.groupId, groups.id],
        filters: {
          from: (at, v) => `${at(sessions.startsAt)} >= ${instantLiteral(v)}`,
          to: (at, v) => `${at(sessions.startsAt)} < ${instantLiteral(v)}`,
          status: statusFilter(sessions.status),
        },
        order: SESSION_ORDER,
        reversible: true,
      }),
    },
  },
  [Enrollment.name]: {
    table: enrollments,
    fields: {
      id: globalId(Enrollment, enrollments.id),
      status: column(enrollments.status),
      participant: one(Participant, [participants.id, enrollments.participantId]),
      group: one(Group, [groups.id, enrollments.groupId]),
    },
  },
  [Participant.name]: {
    table: participants,
    // Enrolled in one of the groups, in any status (the facilitators' reach, participant.service.ts).
    inGroups: (p, ids) => {
      const e = aliased(enrollments, `${p}_g`);
      return `exists (select 1 from ${tableAs(enrollments, `${p}_g`)} where ${e.participantId} = ${columnAs(participants.id, p)} and ${e.groupId} in (${ids}))`;
    },
    fields: {
      id: globalId(Participant, participants.id),
      firstName: column(participants.firstName),
      lastName: column(participants.lastName),
      preferredName: column(participants.preferredName),
      status: column(participants.status),
      enrollments: enrollmentsBy([enrollments.participantId, participants.id]),
      attendance: connection({
        node: Attendance,
        joins: [[sessions.id, attendance.sessionId]],
        parent: [attendance.participantId, participants.id],
        order: ATTENDANCE_LATEST_FIRST,
      }),
    },
  },
  [Session.name]: {
    table: sessions,
    fields: {
      id: globalId(Session, sessions.id),
      startsAt: instant(sessions.startsAt),
      endsAt: instant(sessions.endsAt),
      status: column(sessions.status),
      group: one(Group, [groups.id, sessions.groupId]),
      attendance: list({
        node: Attendance,
        joins: [[participants.id, attendance.participantId]],
        parent: [attendance.sessionId, sessions.id],
        order: ATTENDANCE_BY_NAME,
      }),
      // One pass per session, as the loader (src/attendance/attendance.sql.ts).
      // Its fields' audience applies to the session they count.
      attendanceSummary: (c, s, sel) => {
        noArgs(sel);
        const type = c.objectType(AttendanceSummary.name);
        const pairs: Array<[string, string]> = [];
        const guards = new Set<string>();
        for (const f of c.collect(type, c.below(sel))) {
          const expr = SUMMARY[f.name];
          if (!expr) throw new GiveUp(`AttendanceSummary.${f.name}`);
          pairs.push([f.key, expr]);
          if (f.name === "__typename") continue;
          const readable = audienceSql(c, effectivePolicy(type, f.field!).readableBy, Session.name, s);
          if (readable === "false") throw new GiveUp(`AttendanceSummary.${f.name} refused to the viewer`);
          if (readable !== "true") guards.add(readable);
        }
        if (guards.size) pairs.push([REFUSED_KEY, `coalesce(not (${[...guards].join(" and ")}), true)`]);
        return {
          sql: `(select ${jsonObject(pairs)} from ${sessionSummarySources(s)})`,
          plan: { typeName: AttendanceSummary.name, audited: false, refusable: guards.size > 0, children: [] },
        };
      },
    },
  },
  [Attendance.name]: {
    table: attendance,
    // At a session of one of the groups.
    inGroups: (a, ids) => {
      const s = aliased(sessions, `${a}_g`);
      return `exists (select 1 from ${tableAs(sessions, `${a}_g`)} where ${s.id} = ${columnAs(attendance.sessionId, a)} and ${s.groupId} in (${ids}))`;
    },
    fields: {
      id: globalId(Attendance, attendance.id),
      status: column(attendance.status),
      note: column(attendance.note),
      minutesAttended: column(attendance.minutesAttended),
      participant: one(Participant, [participants.id, attendance.participantId]),
      session: one(Session, [sessions.id, attendance.sessionId]),
    },
  },
};

/** The types a root field may answer (node(id:) of these, center(id:)): their tables. */
export const ROOT_TYPES: ReadonlySet<string> = new Set([Center, Group, Session, Participant].map((t) => t.name));

/** The table of a type the compiler knows. */
export const tableOf = (typeName: string): RowTable => SPECS[typeName].table;
