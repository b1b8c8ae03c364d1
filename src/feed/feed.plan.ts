// A page of the attendance change feed compiled to one SQL statement that returns the page's JSON
// as text: the window under the horizon (the same rule and order as readFeed), the consent filter,
// the records with their sessions, groups and participants as the selection set asks, the
// disclosures row (a data-modifying CTE, so the read and its accounting commit together), and the
// identities of what it hands out for the audit log. graphql-js resolves none of its edges.
//
// What an API client may read of each object is the fields' declarations (src/common/policy.ts),
// applied here when compiling as the field wrapper applies them per field
// (src/common/field-wrapper.ts): a field its scopes open is read (a column of the same name, a
// link below, or a Node's id); a closed one answers as for an outsider (null, an empty list), and
// a closed field that cannot be null, or one with arguments, makes the compiler give up. Anything
// else it does not know (another root field, a directive, a type) too: the resolvers (readFeed)
// answer, and stay the reference (test/feed-compiled.test.ts compares both).
import {
  getNamedType,
  getNullableType,
  isListType,
  isNonNullType,
  Kind,
  OperationTypeNode,
  getVariableValues,
  type DocumentNode,
  type FragmentDefinitionNode,
  type GraphQLObjectType,
  type GraphQLSchema,
  type OperationDefinitionNode,
} from "graphql";
import type { PgColumn, PgTable } from "drizzle-orm/pg-core";
import { sql, type SQL } from "drizzle-orm";
import { apiClientMayRead } from "../auth/access.js";
import type { ApiClientViewer } from "../auth/viewer.js";
import { effectivePolicy } from "../common/policy.js";
import { columnAs, tableAs } from "../common/sql.js";
import { base64url, Compiling, GiveUp, isoInstant, type Sel } from "../compiled/compiled.plan.js";
import { columnSql } from "../compiled/compiled.sql.js";
import { consentedAmong } from "../consents/consent.sql.js";
import { attendance, attendanceChanges, centers, disclosures, groups, participants, programs, sessions } from "../db/schema.js";
import { Attendance } from "../attendance/attendance.type.js";
import { Center } from "../centers/center.type.js";
import { Group } from "../groups/group.type.js";
import { Participant } from "../participants/participant.type.js";
import { Program } from "../programs/program.type.js";
import { Session } from "../sessions/session.type.js";
import { AttendanceChangeFeed, AttendanceFeedChange, AttendanceFeedEdge } from "./feed.type.js";
import { PageInfo } from "../common/relay.js";
import { DEFAULT_FEED_PAGE, decodeCursor, DISCLOSURE_NOTICE, MAX_FEED_PAGE, type Position } from "./feed.service.js";

// The page is built as JSON text by concatenation, compact as JSON.stringify writes it (json_build_object
// would write `"key" : value`), so that it goes into the answer as it is: each value is a text
// expression holding JSON (to_json of a column or an expression, escaped as JSON.stringify escapes).

/** A JSON object from keys (GraphQL names: safe in SQL and JSON) and JSON-text expressions. */
function objectText(pairs: Array<[string, string]>): string {
  if (!pairs.length) return "'{}'";
  return pairs
    .map(([key, value], i) => {
      if (!/^[_A-Za-z][_0-9A-Za-z]*$/.test(key)) throw new GiveUp("key");
      return `'${i ? "," : "{"}"${key}":' || ${value}`;
    })
    .concat("'}'")
    .join(" || ");
}

/** A value as JSON text (null as `null`). */
const valueText = (expr: string) => `coalesce(to_json(${expr})::text, 'null')`;
/**
 * A text that needs no escaping in JSON (a base64url id or cursor, an ISO instant) as JSON text (null
 * as `null`): quoted by concatenation, without to_json's scan of every character.
 */
const plainText = (expr: string) => `coalesce('"' || (${expr}) || '"', 'null')`;
/** An integer or boolean as JSON text (null as `null`): its text is its JSON. */
const literalText = (expr: string) => `coalesce((${expr})::text, 'null')`;

/** A string known when compiling (a type's name) as JSON text. */
const stringText = (value: string) => {
  if (!/^[_A-Za-z][_0-9A-Za-z]*$/.test(value)) throw new GiveUp("name");
  return `'"${value}"'`;
};
/** A JSON array of the rows of `from` in `order`, as text. */
const arrayText = (item: string, from: string, order: string) =>
  `coalesce((select '[' || string_agg(${item}, ',' order by ${order}) || ']' from ${from}), '[]')`;

/** The types of a record the compiler reads, each a row of its table. */
const TABLES: Record<string, PgTable & { id: PgColumn }> = {
  [Attendance.name]: attendance,
  [Session.name]: sessions,
  [Group.name]: groups,
  [Program.name]: programs,
  [Center.name]: centers,
  [Participant.name]: participants,
};

/** The links between them: [the linked row's column, the column of the row it is read from]. */
const LINKS: Record<string, readonly [PgColumn, PgColumn]> = {
  "Attendance.session": [sessions.id, attendance.sessionId],
  "Attendance.participant": [participants.id, attendance.participantId],
  "Session.group": [groups.id, sessions.groupId],
  "Group.program": [programs.id, groups.programId],
  "Group.center": [centers.id, groups.centerId],
};

/** A compiled page: the statement, and what the answer's audit needs to know of the selection. */
export interface FeedPlan {
  /** The answer's root keys in order: the page's (the root field's alias), and a __typename beside it with its value. */
  roots: Array<{ key: string; typename: string | null }>;
  /** The instant of the read (consent, the disclosures' time). */
  now: Date;
  /**
   * The statement: one row, `page` (the JSON text), and for the audit `records` (the records handed
   * out) and `participants` (the participants read, when the selection reads them), each a JSON
   * array by center: [center id, the resource's id when it is the center's only one, else null,
   * the participants].
   */
  statement: SQL;
  /** Whether the selection reads records (each a READ of Attendance) and their participants (a READ of Participant). */
  readsRecords: boolean;
  readsParticipants: boolean;
}

interface Args {
  after: Position | null;
  afterText: string | null;
  first: number;
}

/** The page's arguments, as readFeed checks them; anything readFeed would refuse is left to it. */
function argsOf(sel: Sel): Args {
  const first = sel.args.first ?? DEFAULT_FEED_PAGE;
  if (typeof first !== "number" || !Number.isInteger(first) || first < 1 || first > MAX_FEED_PAGE) throw new GiveUp("first out of range");
  const afterText = (sel.args.after as string | null | undefined) ?? null;
  if (afterText === null || afterText === "") return { after: null, afterText, first };
  try {
    return { after: decodeCursor(afterText), afterText, first };
  } catch {
    throw new GiveUp("not a cursor");
  }
}

/** The alias of a delivered change's row in `recs`: the change (`ch_` columns) and its record (attendance's columns, null when none). */
const REC = "r";

/** What the client reads of one object: the fields of `type` selected, as a JSON object of the row under `alias`. */
class FeedCompiler {
  readsRecords = false;
  readsParticipants = false;
  /** Values computed once per change in `recs` (an id read twice: attendanceId and attendance.id), by their SQL. */
  readonly recValues = new Map<string, string>();
  /** The CTEs of the records' links: each linked row's JSON once per distinct row of the page. */
  readonly links: string[] = [];
  /** The CTE of the page's participants (id, center_id), for the audit of each one read. */
  participantsCte: string | null = null;

  constructor(readonly c: Compiling<ApiClientViewer>) {}

  /** The value a closed field answers with, as the field wrapper's gate answers it. */
  private outsider(type: GraphQLObjectType, s: Sel): string {
    const field = s.field!;
    if (field.args.length) throw new GiveUp(`${type.name}.${s.name}: a closed field with arguments`);
    if (isListType(getNullableType(field.type))) return "'[]'";
    if (isNonNullType(field.type)) throw new GiveUp(`${type.name}.${s.name}: closed and not nullable (FORBIDDEN)`);
    return "'null'";
  }

  private opens(type: GraphQLObjectType, s: Sel): boolean {
    return apiClientMayRead(this.c.viewer, effectivePolicy(type, s.field!).api);
  }

  /** An expression of a change's row computed once in `recs`, as its column there. */
  private recValue(expr: string): string {
    let name = this.recValues.get(expr);
    if (!name) this.recValues.set(expr, (name = `v${this.recValues.size + 1}`));
    return `${REC}.${name}`;
  }

  /**
   * A record's object (Attendance and what it links to), the row under `alias`. The links of a
   * record (`recs`) are each a CTE holding the JSON of every distinct linked row of the page once
   * (a page's records share a hundred sessions, their groups), looked up per record in a jsonb
   * object keyed by id (an InitPlan: no join of two CTEs, which the planner would loop over); the
   * linked rows are read by their primary key from the array of the page's keys (`= any(array(…))`:
   * an index scan whatever the planner guesses of the page's size, where `in (select …)` is a
   * sequential scan of all sessions once it guesses a page of hundreds); the links below (a
   * session's group) are joined in that CTE (`joins`). Every link is to one row (a
   * foreign key), so a linked row is missing only when its parent is: the object is then null.
   */
  object(typeName: string, alias: string, sets: ReturnType<Compiling["below"]>, joins: string[]): string {
    const table = TABLES[typeName];
    if (!table) throw new GiveUp(`type ${typeName}`);
    const type = this.c.objectType(typeName);
    const pairs: Array<[string, string]> = [];
    for (const s of this.c.collect(type, sets)) {
      if (s.name === "__typename") {
        pairs.push([s.key, stringText(typeName)]);
        continue;
      }
      if (!this.opens(type, s)) {
        pairs.push([s.key, this.outsider(type, s)]);
        continue;
      }
      if (Object.values(s.args).some((v) => v !== undefined && v !== null)) throw new GiveUp(`arguments of ${typeName}.${s.name}`);
      const link = LINKS[`${typeName}.${s.name}`];
      if (link) {
        const linked = getNamedType(s.field!.type).name;
        const linkedTable = TABLES[linked];
        if (!linkedTable) throw new GiveUp(`type ${linked}`);
        if (linked === Participant.name) this.readsParticipants = true;
        const child = this.c.alias();
        if (alias !== REC) {
          joins.push(`left join ${tableAs(linkedTable, child)} on ${columnAs(link[0], child)} = ${columnAs(link[1], alias)}`);
          const inner = this.object(linked, child, this.c.below(s), joins);
          pairs.push([s.key, `case when ${columnAs(linkedTable.id, child)} is null then 'null' else ${inner} end`]);
          continue;
        }
        const own: string[] = [];
        const inner = this.object(linked, child, this.c.below(s), own);
        const cte = `l${child}`;
        const center =
          linked === Participant.name ? `, ${columnAs(participants.centerId, child)} as center_id, ${columnAs(participants.id, child)} as participant_id` : "";
        if (linked === Participant.name) this.participantsCte ??= cte;
        this.links.push(
          `${cte} as (select ${columnAs(linkedTable.id, child)} as id${center}, ${inner} as j from ${[tableAs(linkedTable, child), ...own].join(" ")}
            where ${columnAs(link[0], child)} = any(array(select ${columnAs(link[1], REC)} from recs ${REC})))`,
        );
        pairs.push([s.key, `coalesce((select jsonb_object_agg(id::text, j) from ${cte}) ->> (${columnAs(link[1], alias)})::text, 'null')`]);
        continue;
      }
      if (s.name === "id") {
        // A record's id is its change's attendanceId: encoded once per change.
        const id =
          alias === REC && typeName === Attendance.name
            ? this.recValue(base64url(`${typeName}:`, `${REC}.ch_attendance_id`))
            : base64url(`${typeName}:`, columnAs(table.id, alias));
        pairs.push([s.key, plainText(id)]);
        continue;
      }
      const column = columnSql(table, typeName, s.field!, alias);
      if (column === null) throw new GiveUp(`field ${typeName}.${s.name}`);
      const scalar = getNamedType(s.field!.type).name;
      // columnSql reads a DateTime as its ISO text (isoInstant); an Int or a Boolean's text is its JSON.
      pairs.push([s.key, scalar === "DateTime" ? plainText(column) : scalar === "Int" || scalar === "Boolean" ? literalText(column) : valueText(column)]);
    }
    return objectText(pairs);
  }

  /** One change (AttendanceFeedChange) of the delivered change's row in `recs`. */
  change(sets: ReturnType<Compiling["below"]>): string {
    const type = this.c.objectType(AttendanceFeedChange.name);
    const pairs: Array<[string, string]> = [];
    for (const s of this.c.collect(type, sets)) {
      if (s.name === "__typename") pairs.push([s.key, stringText(type.name)]);
      else if (!this.opens(type, s)) pairs.push([s.key, this.outsider(type, s)]);
      else if (s.name === "changeType") pairs.push([s.key, valueText(`${REC}.ch_change_type`)]);
      else if (s.name === "changedAt") pairs.push([s.key, plainText(isoInstant(`${REC}.ch_changed_at`))]);
      else if (s.name === "attendanceId") pairs.push([s.key, plainText(this.recValue(base64url(`${Attendance.name}:`, `${REC}.ch_attendance_id`)))]);
      else if (s.name === "attendance") {
        this.readsRecords = true;
        const record = this.object(Attendance.name, REC, this.c.below(s), []);
        pairs.push([s.key, `case when ${columnAs(attendance.id, REC)} is null then 'null' else ${record} end`]);
      } else throw new GiveUp(`${type.name}.${s.name}`);
    }
    return objectText(pairs);
  }

  /** The page (AttendanceChangeFeed) over the CTEs `page`, `win` and `recs`. */
  page(sets: ReturnType<Compiling["below"]>, args: Args): string {
    const type = this.c.objectType(AttendanceChangeFeed.name);
    const pairs: Array<[string, string]> = [];
    const cursorOf = (tx: string, seq: string) => base64url("feed:", `${tx}::text || ':' || ${seq}::text`);
    for (const s of this.c.collect(type, sets)) {
      if (s.name === "__typename") pairs.push([s.key, stringText(type.name)]);
      else if (!this.opens(type, s)) pairs.push([s.key, this.outsider(type, s)]);
      else if (s.name === "disclosureNotice") pairs.push([s.key, valueText("(select notice from args)")]);
      else if (s.name === "pageInfo") {
        const info: Array<[string, string]> = [];
        for (const p of this.c.collect(this.c.objectType(PageInfo.name), this.c.below(s))) {
          const expr: Record<string, string> = {
            __typename: stringText(PageInfo.name),
            hasNextPage: `case when (select count(*) from page) > ${args.first} then 'true' else 'false' end`,
            hasPreviousPage: args.afterText !== null ? "'true'" : "'false'",
            startCursor: valueText(`(select ${cursorOf("r.ch_tx", "r.ch_seq")} from recs r order by r.ch_tx, r.ch_seq limit 1)`),
            endCursor: valueText(`coalesce((select ${cursorOf("w.tx", "w.seq")} from win w order by w.tx desc, w.seq desc limit 1), (select after from args))`),
          };
          if (!(p.name in expr)) throw new GiveUp(`PageInfo.${p.name}`);
          info.push([p.key, expr[p.name]]);
        }
        pairs.push([s.key, objectText(info)]);
      } else if (s.name === "edges") {
        const edgeType = this.c.objectType(AttendanceFeedEdge.name);
        const edge: Array<[string, string]> = [];
        for (const e of this.c.collect(edgeType, this.c.below(s))) {
          if (e.name === "__typename") edge.push([e.key, stringText(edgeType.name)]);
          else if (!this.opens(edgeType, e)) edge.push([e.key, this.outsider(edgeType, e)]);
          else if (e.name === "cursor") edge.push([e.key, plainText(cursorOf(`${REC}.ch_tx`, `${REC}.ch_seq`))]);
          else if (e.name === "node") edge.push([e.key, this.change(this.c.below(e))]);
          else throw new GiveUp(`${edgeType.name}.${e.name}`);
        }
        pairs.push([s.key, arrayText(objectText(edge), `recs ${REC}`, `${REC}.ch_tx, ${REC}.ch_seq`)]);
      } else if (s.name === "nodes") {
        pairs.push([s.key, arrayText(this.change(this.c.below(s)), `recs ${REC}`, `${REC}.ch_tx, ${REC}.ch_seq`)]);
      } else throw new GiveUp(`${type.name}.${s.name}`);
    }
    return objectText(pairs);
  }
}

/** The client's centers as one uuid[] literal value (checked uuids). */
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/**
 * The operation as one feed page's statement, or why it is left to the resolvers. `now` is the
 * instant of the read (consent, the disclosures' time); `operationName` names the disclosures.
 */
export function compileFeedPage(
  schema: GraphQLSchema,
  document: DocumentNode,
  operation: OperationDefinitionNode,
  rawVariables: Record<string, unknown> | undefined,
  client: ApiClientViewer,
  now: Date,
): FeedPlan | GiveUp {
  try {
    if (operation.operation !== OperationTypeNode.QUERY) return new GiveUp("not a query");
    const queryType = schema.getQueryType();
    if (!queryType) return new GiveUp("no query type");
    const variables = getVariableValues(schema, operation.variableDefinitions ?? [], rawVariables ?? {});
    if (variables.errors) return new GiveUp("variables");
    const fragments: Record<string, FragmentDefinitionNode> = {};
    for (const d of document.definitions) if (d.kind === Kind.FRAGMENT_DEFINITION) fragments[d.name.value] = d;
    const c = new Compiling<ApiClientViewer>(schema, fragments, variables.coerced, client);
    let root: Sel | null = null;
    const roots: FeedPlan["roots"] = [];
    for (const s of c.collect(queryType, [operation.selectionSet])) {
      if (s.name === "__typename") roots.push({ key: s.key, typename: queryType.name });
      else if (s.name === "attendanceChanges" && root === null) {
        root = s;
        roots.push({ key: s.key, typename: null });
      } else return new GiveUp(`root field ${s.name} beside the feed`);
    }
    if (!root) return new GiveUp("no feed page asked for");
    if (!apiClientMayRead(client, effectivePolicy(queryType, root.field!).api)) return new GiveUp("the feed is closed to the client");
    const args = argsOf(root);
    const compiler = new FeedCompiler(c);
    const json = compiler.page(c.below(root), args);
    return {
      roots,
      now,
      statement: statementOf(json, compiler, args, client, now, operationName(operation, root)),
      readsRecords: compiler.readsRecords,
      readsParticipants: compiler.readsParticipants,
    };
  } catch (err) {
    if (err instanceof GiveUp) return err;
    throw err;
  }
}

/** What the disclosures name the page by: the operation's name, else the root field (as readFeed: info.operation.name ?? info.fieldName). */
function operationName(operation: OperationDefinitionNode, root: Sel): string {
  return operation.name?.value ?? root.name;
}

/**
 * What the audit records of the rows of `from` (id, center_id, participant_id), by center: a JSON
 * array of [center, the id when it is the center's only row (else null), its participants].
 */
const readsByCenter = (from: string) =>
  `select coalesce(json_agg(json_build_array(c.center_id, c.only_id, c.participant_ids)), '[]'::json) from (
      select x.center_id, case when count(*) = 1 then min(x.id::text) end as only_id, array_agg(distinct x.participant_id) as participant_ids
      from ${from} x group by x.center_id) c`;

function statementOf(json: string, compiler: FeedCompiler, args: Args, client: ApiClientViewer, now: Date, operation: string): SQL {
  const centerIds = [...client.centerIds];
  for (const id of centerIds) if (!UUID.test(id)) throw new GiveUp("a center id is not a uuid");
  const ch = attendanceChanges;
  const d = disclosures;
  // The window: exactly readFeed's (the horizon, the position, the client's centers and rows).
  return sql`with args as (select ${DISCLOSURE_NOTICE}::text as notice, ${args.afterText}::text as after),
    page as (
      select ${ch.seq} as seq, ${ch.tx} as tx, ${ch.changeType} as change_type, ${ch.changedAt} as changed_at,
        ${ch.attendanceId} as attendance_id, ${ch.participantId} as participant_id
      from ${ch}
      where ${ch.tx} < pg_snapshot_xmin(pg_current_snapshot())
        ${args.after ? sql`and (${ch.tx}, ${ch.seq}) > (${args.after.tx}::xid8, ${args.after.seq}::bigint)` : sql``}
        and ${ch.centerId} = any(${`{${centerIds.join(",")}}`}::uuid[])
        and (${ch.recipientApiClientId} is null or ${ch.recipientApiClientId} = ${client.apiClientId})
      order by ${ch.tx}, ${ch.seq}
      limit ${args.first + 1}
    ),
    win as (select * from page order by tx, seq limit ${args.first}),
    consented as (${consentedAmong(sql`(select distinct participant_id from win)`, client.apiClientId, now)}),
    delivered as (
      select w.* from win w where w.change_type = 'DELETE' or w.participant_id in (select participant_id from consented)
    ),
    recs as (
      select ${sql.raw([`${REC}.*`, ...[...compiler.recValues].map(([expr, name]) => `${expr} as ${name}`)].join(", "))}
      from (
        select d.tx as ch_tx, d.seq as ch_seq, d.change_type as ch_change_type, d.changed_at as ch_changed_at, d.attendance_id as ch_attendance_id, a.*
        from delivered d left join ${attendance} a on d.change_type = 'UPSERT' and a.id = d.attendance_id
      ) ${sql.raw(REC)}
    ),
    records as (select distinct r.id, r.center_id, r.participant_id from recs r where r.id is not null),
    ${sql.raw(compiler.links.map((cte) => `${cte},\n    `).join(""))}logged as (
      insert into ${d} (center_id, participant_ids, api_client_id, operation, attendance_ids, attendance_participant_ids, record_count, disclosed_at)
      select r.center_id, array_agg(distinct r.participant_id), ${client.apiClientId}, ${operation.slice(0, 200)},
        array_agg(r.id order by r.id), array_agg(r.participant_id order by r.id), count(*)::int, ${now.toISOString()}::timestamptz
      from records r group by r.center_id
      returning 1
    )
    select (${sql.raw(json)}) as page,
      (${sql.raw(readsByCenter("records"))})::text as records,
      (${sql.raw(compiler.participantsCte ? readsByCenter(compiler.participantsCte) : "'[]'")})::text as participants,
      (select count(*) from logged)::int as logged`;
}
