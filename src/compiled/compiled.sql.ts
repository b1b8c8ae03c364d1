// The types and fields the compiler answers (compiled.plan.ts), each as the SQL expression of its
// value. They repeat, for viewers who read everything at the center (ADMIN, CLINICIAN, org
// admins), the rules of the resolvers and loaders they stand for; a field, argument or type that
// is not listed here makes the compiler give up, and the request runs through the resolvers.
//   - the order of every list and page is its loader's (src/*/*.loaders.ts);
//   - pages are src/common/relay.ts's: positions from 1, `pos:N` cursors, totalCount, pageInfo;
//   - staff reached through a link are those `node(id:)` would show (src/staff/staff.service.ts);
//   - participant data (Participant, Enrollment, Attendance) carries its audit identity, which
//     the walk records as a READ, as src/audit/audit.wrap.ts does for every object resolved.
// Values are inlined as literals only after a strict check (uuids, enum names, integers, ISO
// instants), so that the statement has no parameters and nothing in it comes from the client
// unchecked.
import { sessionSummarySources } from "../attendance/attendance.sql.js";
import { pageWindow, type ConnectionArgs } from "../common/relay.js";
import { base64url, type Compiling, GiveUp, isoInstant, jsonObject, shapeOf, type PlanNode, type Sel } from "./compiled.plan.js";

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

interface TypeSpec {
  /** The table an object of this type is a row of. */
  table: string;
  /** json_build_array(id, center id, participant ids) of participant data (recorded as a READ). */
  audit?: (alias: string) => string;
  fields: Record<string, FieldSpec>;
}

const scalar =
  (expr: (a: string) => string): FieldSpec =>
  (_c, a) => ({ sql: expr(a), plan: null });
const column = (name: string) => scalar((a) => `${a}.${name}`);
const instant = (name: string) => scalar((a) => isoInstant(`${a}.${name}`));
const globalId = (type: string) => scalar((a) => base64url(`${type}:`, `${a}.id`));

/** The JSON object of one row (alias `a`) of `typeName`, with the selection's fields in order. */
export function objectOf(c: Compiling, typeName: string, a: string, sets: ReturnType<Compiling["below"]>): Built {
  const spec = SPECS[typeName];
  if (!spec) throw new GiveUp(`type ${typeName}`);
  const type = c.objectType(typeName);
  const pairs: Array<[string, string]> = [];
  const plan: PlanNode = { typeName, audited: false, children: [] };
  for (const s of c.collect(type, sets)) {
    if (s.name === "__typename") {
      pairs.push([s.key, `'${typeName}'`]);
      continue;
    }
    const field = spec.fields[s.name];
    if (!field) throw new GiveUp(`field ${typeName}.${s.name}`);
    const built = field(c, a, s);
    pairs.push([s.key, built.sql]);
    if (built.plan) {
      const shape = shapeOf(s.field!.type);
      plan.children.push({ key: s.key, nonNull: shape.nonNull, list: shape.list, itemNonNull: shape.itemNonNull, node: built.plan });
    }
    if (spec.audit) plan.audited = true;
  }
  if (plan.audited) pairs.push(["$a", spec.audit!(a)]);
  return { sql: jsonObject(pairs), plan };
}

/** An object reached through a link: one row of `typeName` matched by `where` (child alias). */
const one =
  (typeName: string, where: (parent: string, child: string) => string): FieldSpec =>
  (c, a, sel) => {
    noArgs(sel);
    const child = c.alias();
    const obj = objectOf(c, typeName, child, c.below(sel));
    return { sql: `(select ${obj.sql} from ${SPECS[typeName].table} ${child} where ${where(a, child)})`, plan: obj.plan };
  };

/** A list in the loader's order: rows of `from(child)` matched by `where`. */
const list =
  (
    typeName: string,
    spec: { from: (child: string) => string; where: (parent: string, child: string) => string; orderBy: (child: string) => string },
  ): FieldSpec =>
  (c, a, sel) => {
    noArgs(sel);
    const child = c.alias();
    const obj = objectOf(c, typeName, child, c.below(sel));
    return {
      sql: `(select coalesce(json_agg(${obj.sql} order by ${spec.orderBy(child)}), '[]'::json) from ${spec.from(child)} where ${spec.where(a, child)})`,
      plan: obj.plan,
    };
  };

function noArgs(sel: Sel): void {
  if (Object.values(sel.args).some((v) => v !== undefined && v !== null)) throw new GiveUp(`arguments of ${sel.name}`);
}

interface ConnectionSpec {
  node: string;
  /** FROM of the node's table as `child` (with joins for filtering and ordering). */
  from?: (child: string) => string;
  /** The rows of the parent (alias `parent`), with the field's filters (unknown ones: give up). */
  where: (parent: string, child: string, args: Record<string, unknown>) => string;
  /** The filter arguments `where` handles, besides first/after/last/before. */
  filters?: readonly string[];
  orderBy: (child: string) => string;
  /** `orderBy` reversed: the last n are then read from the end. */
  orderByDesc?: (child: string) => string;
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
      if (v === undefined || v === null || ["first", "after", "last"].includes(k) || spec.filters?.includes(k)) continue;
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
    const from = spec.from ? spec.from(child) : `${SPECS[spec.node].table} ${child}`;
    const where = spec.where(a, child, sel.args);
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
          for (const p of c.collect(c.objectType("PageInfo"), c.below(s))) {
            const expr: Record<string, string> = {
              __typename: `'PageInfo'`,
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
          const obj = objectOf(c, spec.node, child, c.below(s));
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
              const obj = objectOf(c, spec.node, child, c.below(e));
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
    if (win.last !== null && spec.orderByDesc) {
      slice = `(select ${child}.* from ${from} where ${where} order by ${spec.orderByDesc(child)} limit ${win.last})`;
      position = `${cnt}.n + 1 - row_number() over ()`;
    } else {
      const offset = win.last !== null ? `greatest(${cnt}.n - ${win.last}, ${win.afterPos})` : `${win.afterPos}`;
      slice = `(select ${child}.* from ${from} where ${where} order by ${spec.orderBy(child)} offset ${offset} limit ${win.last ?? win.first})`;
      position = `${offset} + row_number() over ()`;
    }
    const rows = `select * from (select ${[`${position} as pos`, ...rowColumns].join(", ")} from ${slice} ${child}) ${child}_r where pos > ${win.afterPos}`;
    return {
      sql: `(select ${jsonObject(pairs)} from (select count(*)::int as n from ${from} where ${where}) ${cnt} left join lateral (${rows}) ${page} on true group by ${cnt}.n)`,
      plan,
    };
  };

/** Whether the viewer sees a staff member reached through a link (as node(id:) would). */
function staffVisible(c: Compiling, s: string): string {
  if (c.viewer.isOrgAdmin) return "true";
  const centers = c.viewer.memberCenters.map(uuidLiteral).join(", ");
  const shared = centers ? `exists (select 1 from staff_memberships m where m.staff_id = ${s}.id and m.center_id in (${centers}))` : "false";
  return `(${s}.id = ${uuidLiteral(c.viewer.staffId)} or ${shared})`;
}

/** A group's or a participant's enrolments, in enrolment order (the loader's `pagesBy`), by status. */
const enrollmentsBy = (parent: "group_id" | "participant_id") =>
  connection({
    node: "Enrollment",
    filters: ["status"],
    where: (p, e, args) => `${e}.${parent} = ${p}.id${args.status ? ` and ${e}.status = ${enumLiteral(args.status)}` : ""}`,
    orderBy: (e) => `${e}.seq`,
  });

const SUMMARY: Record<string, string> = {
  __typename: `'AttendanceSummary'`,
  expected: "x.expected",
  present: "r.present",
  late: "r.late",
  leftEarly: "r.left_early",
  absent: "r.absent",
  excused: "r.excused",
  unrecorded: "x.unrecorded",
};

const SPECS: Record<string, TypeSpec> = {
  Center: {
    table: "centers",
    fields: {
      id: globalId("Center"),
      name: column("name"),
      timezone: column("timezone"),
      groups: connection({
        node: "Group",
        filters: ["status"],
        where: (p, g, args) => `${g}.center_id = ${p}.id${args.status ? ` and ${g}.status = ${enumLiteral(args.status)}` : ""}`,
        orderBy: (g) => `${g}.name, ${g}.id`,
      }),
    },
  },
  Program: {
    table: "programs",
    fields: { id: globalId("Program"), name: column("name") },
  },
  Staff: {
    table: "staff",
    fields: { id: globalId("Staff"), name: column("name") },
  },
  Group: {
    table: "groups",
    fields: {
      id: globalId("Group"),
      name: column("name"),
      status: column("status"),
      capacity: column("capacity"),
      program: one("Program", (g, p) => `${p}.id = ${g}.program_id`),
      facilitators: (c, a, sel) =>
        list("Staff", {
          from: (s) => `group_facilitators ${s}_f join staff ${s} on ${s}.id = ${s}_f.staff_id`,
          where: (g, s) => `${s}_f.group_id = ${g}.id and ${staffVisible(c, s)}`,
          orderBy: (s) => `${s}_f.position`,
        })(c, a, sel),
      enrollments: enrollmentsBy("group_id"),
      sessions: connection({
        node: "Session",
        filters: ["from", "to", "status"],
        where: (g, s, args) =>
          [
            `${s}.group_id = ${g}.id`,
            ...(args.from ? [`${s}.starts_at >= ${instantLiteral(args.from)}`] : []),
            ...(args.to ? [`${s}.starts_at < ${instantLiteral(args.to)}`] : []),
            ...(args.status ? [`${s}.status = ${enumLiteral(args.status)}`] : []),
          ].join(" and "),
        orderBy: (s) => `${s}.starts_at, ${s}.id`,
        orderByDesc: (s) => `${s}.starts_at desc, ${s}.id desc`,
      }),
    },
  },
  Enrollment: {
    table: "enrollments",
    audit: (e) => `json_build_array(${e}.id, ${e}.center_id, json_build_array(${e}.participant_id))`,
    fields: {
      id: globalId("Enrollment"),
      status: column("status"),
      participant: one("Participant", (e, p) => `${p}.id = ${e}.participant_id`),
      group: one("Group", (e, g) => `${g}.id = ${e}.group_id`),
    },
  },
  Participant: {
    table: "participants",
    audit: (p) => `json_build_array(${p}.id, ${p}.center_id, json_build_array(${p}.id))`,
    fields: {
      id: globalId("Participant"),
      firstName: column("first_name"),
      lastName: column("last_name"),
      preferredName: column("preferred_name"),
      status: column("status"),
      enrollments: enrollmentsBy("participant_id"),
      attendance: connection({
        node: "Attendance",
        from: (a) => `attendance ${a} join sessions ${a}_s on ${a}_s.id = ${a}.session_id`,
        where: (p, a) => `${a}.participant_id = ${p}.id`,
        orderBy: (a) => `${a}_s.starts_at desc, ${a}.id`,
      }),
    },
  },
  Session: {
    table: "sessions",
    fields: {
      id: globalId("Session"),
      startsAt: instant("starts_at"),
      endsAt: instant("ends_at"),
      status: column("status"),
      group: one("Group", (s, g) => `${g}.id = ${s}.group_id`),
      attendance: list("Attendance", {
        from: (a) => `attendance ${a} join participants ${a}_p on ${a}_p.id = ${a}.participant_id`,
        where: (s, a) => `${a}.session_id = ${s}.id`,
        orderBy: (a) => `${a}_p.last_name, ${a}_p.first_name, ${a}_p.id`,
      }),
      // One pass per session, as the loader (src/attendance/attendance.sql.ts).
      attendanceSummary: (c, s, sel) => {
        noArgs(sel);
        const pairs: Array<[string, string]> = [];
        for (const f of c.collect(c.objectType("AttendanceSummary"), c.below(sel))) {
          const expr = SUMMARY[f.name];
          if (!expr) throw new GiveUp(`AttendanceSummary.${f.name}`);
          pairs.push([f.key, expr]);
        }
        return {
          sql: `(select ${jsonObject(pairs)} from ${sessionSummarySources(s)})`,
          plan: { typeName: "AttendanceSummary", audited: false, children: [] },
        };
      },
    },
  },
  Attendance: {
    table: "attendance",
    audit: (a) => `json_build_array(${a}.id, ${a}.center_id, json_build_array(${a}.participant_id))`,
    fields: {
      id: globalId("Attendance"),
      status: column("status"),
      note: column("note"),
      minutesAttended: column("minutes_attended"),
      participant: one("Participant", (a, p) => `${p}.id = ${a}.participant_id`),
      session: one("Session", (a, s) => `${s}.id = ${a}.session_id`),
    },
  },
};

/** Types a root field may answer (node(id:) of these, by their table). */
export const ROOT_TABLES: Readonly<Record<string, string>> = {
  Center: "centers",
  Group: "groups",
  Session: "sessions",
  Participant: "participants",
};
