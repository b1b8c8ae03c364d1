// What each contender is asked, and how an answer is checked. The API gets the client's own
// documents (test/operations/dashboard.graphql, care.graphql); the floor gets the same request
// bodies; PostGraphile gets hand-written equivalents over its generated schema (amber preset
// inflection: `centerByRowId`, `groupsByCenterId`, …). Every answer is reduced to a digest (ids as
// uuids, instants as ISO strings) so that the three can be compared with each other.
import { readFileSync } from "node:fs";
import { resolve } from "node:path";
import { Kind, parse, print, type DefinitionNode } from "graphql";

export type QueryName = "CenterDashboard" | "SessionRoster" | "ParticipantHistory";
/** The staff dashboard's engagement queries (test/operations/engagement.graphql): this API only. */
export type EngagementName = "ParticipantEngagement" | "GroupEngagement" | "CenterEngagement" | "CenterFollowUps";
export type OperationName = QueryName | "RecordAttendance" | EngagementName;
export const QUERIES: QueryName[] = ["CenterDashboard", "SessionRoster", "ParticipantHistory"];
export const ENGAGEMENT: EngagementName[] = ["ParticipantEngagement", "GroupEngagement", "CenterEngagement", "CenterFollowUps"];
const isEngagement = (op: OperationName): op is EngagementName => (ENGAGEMENT as string[]).includes(op);

/** The ids requests rotate over (database uuids), picked from the generated data. */
export interface Targets {
  centers: string[];
  groups: string[];
  sessions: string[];
  participants: string[];
  /** Completed sessions with the 12 participants who hold a seat in their group. */
  recordings: Array<{ sessionId: string; participantIds: string[] }>;
}

const toGlobalId = (type: string, id: string) => Buffer.from(`${type}:${id}`, "utf8").toString("base64url");
const uuidOf = (globalId: string) => {
  const decoded = Buffer.from(globalId, "base64url").toString("utf8");
  return decoded.slice(decoded.indexOf(":") + 1);
};
const isoOf = (instant: string) => new Date(instant).toISOString();

/** One named operation of a .graphql file, printed alone (a client sends one operation per request). */
export function operationText(file: string, name: string): string {
  const doc = parse(readFileSync(resolve(import.meta.dirname, "../operations", file), "utf8"));
  const def = doc.definitions.find((d: DefinitionNode) => d.kind === Kind.OPERATION_DEFINITION && d.name?.value === name);
  if (!def) throw new Error(`${name} is not in test/operations/${file}`);
  return print({ kind: doc.kind, definitions: [def] });
}

const POSTGRAPHILE = {
  CenterDashboard: `query CenterDashboard($centerId: UUID!, $first: Int = 20, $after: Cursor) {
  centerByRowId(rowId: $centerId) {
    rowId
    name
    groupsByCenterId(first: $first, after: $after, orderBy: [NAME_ASC, ROW_ID_ASC]) {
      totalCount
      pageInfo { hasNextPage endCursor }
      edges {
        cursor
        node {
          rowId
          name
          status
          capacity
          programByProgramId { rowId name }
          groupFacilitatorsByGroupId(orderBy: POSITION_ASC) { nodes { staffByStaffId { rowId name } } }
          enrollmentsByGroupId(condition: { status: "ACTIVE" }, first: 50, orderBy: SEQ_ASC) {
            totalCount
            nodes { rowId participantByParticipantId { rowId firstName lastName } }
          }
          sessionsByGroupId(last: 5, orderBy: [STARTS_AT_ASC, ROW_ID_ASC]) {
            nodes {
              rowId
              startsAt
              status
              present: attendancesBySessionId(condition: { status: "PRESENT" }) { totalCount }
              late: attendancesBySessionId(condition: { status: "LATE" }) { totalCount }
              leftEarly: attendancesBySessionId(condition: { status: "LEFT_EARLY" }) { totalCount }
              absent: attendancesBySessionId(condition: { status: "ABSENT" }) { totalCount }
              excused: attendancesBySessionId(condition: { status: "EXCUSED" }) { totalCount }
              unrecorded
            }
          }
        }
      }
    }
  }
}`,
  SessionRoster: `query SessionRoster($sessionId: UUID!) {
  sessionByRowId(rowId: $sessionId) {
    rowId
    startsAt
    endsAt
    status
    groupByGroupId { rowId name }
    attendancesBySessionId {
      nodes { status note participantByParticipantId { rowId firstName lastName } }
    }
  }
}`,
  ParticipantHistory: `query ParticipantHistory($participantId: UUID!) {
  participantByRowId(rowId: $participantId) {
    rowId
    firstName
    lastName
    enrollmentsByParticipantId(first: 20, orderBy: SEQ_ASC) { nodes { status groupByGroupId { name } } }
    attendancesByParticipantId(first: 100, orderBy: RECORDED_AT_DESC) {
      totalCount
      nodes { status sessionBySessionId { startsAt } }
    }
  }
}`,
};

export type Flavor = "api" | "postgraphile";

/** recordAttendance requests sent so far per session. */
const flips = new Map<string, number>();

/** The request body of the n-th request of an operation. */
export function bodyMaker(flavor: Flavor, op: OperationName, targets: Targets): (n: number) => string {
  const pick = <T>(list: T[], n: number) => list[n % list.length];
  if (isEngagement(op)) {
    if (flavor === "postgraphile") throw new Error(`PostGraphile has no ${op} (the engagement rules are this API's)`);
    const query = operationText("engagement.graphql", op);
    // The last twelve weeks, as the dashboard asks.
    const to = new Date().toISOString().slice(0, 10);
    const from = new Date(Date.now() - 84 * 86_400_000).toISOString().slice(0, 10);
    const vars = (n: number) =>
      op === "ParticipantEngagement"
        ? { participantId: toGlobalId("Participant", pick(targets.participants, n)) }
        : op === "GroupEngagement"
          ? { groupId: toGlobalId("Group", pick(targets.groups, n)), from, to }
          : op === "CenterEngagement"
            ? { centerId: toGlobalId("Center", pick(targets.centers, n)), from, to }
            : { centerId: toGlobalId("Center", pick(targets.centers, n)), first: 50 };
    return (n) => JSON.stringify({ query, operationName: op, variables: vars(n) });
  }
  if (flavor === "postgraphile") {
    if (op === "RecordAttendance") throw new Error("PostGraphile has no recordAttendance");
    const query = POSTGRAPHILE[op];
    const vars = (n: number) =>
      op === "CenterDashboard"
        ? { centerId: pick(targets.centers, n), first: 20 }
        : op === "SessionRoster"
          ? { sessionId: pick(targets.sessions, n) }
          : { participantId: pick(targets.participants, n) };
    return (n) => JSON.stringify({ query, operationName: op, variables: vars(n) });
  }
  if (op === "RecordAttendance") {
    const query = operationText("care.graphql", op);
    // Alternate two patterns per session so that every request really changes its 12 rows (the
    // count is shared by every run and contender: they all write the same sessions).
    return (n) => {
      const target = pick(targets.recordings, n);
      const flip = (flips.get(target.sessionId) ?? 0) + 1;
      flips.set(target.sessionId, flip);
      const records = target.participantIds.map((id, i) => ({
        participantId: toGlobalId("Participant", id),
        status: (i + flip) % 2 === 0 ? "PRESENT" : "LATE",
      }));
      return JSON.stringify({ query, operationName: op, variables: { input: { sessionId: toGlobalId("Session", target.sessionId), records } } });
    };
  }
  const query = operationText("dashboard.graphql", op);
  const vars = (n: number) =>
    op === "CenterDashboard"
      ? { centerId: toGlobalId("Center", pick(targets.centers, n)), first: 20 }
      : op === "SessionRoster"
        ? { sessionId: toGlobalId("Session", pick(targets.sessions, n)) }
        : { participantId: toGlobalId("Participant", pick(targets.participants, n)) };
  return (n) => JSON.stringify({ query, operationName: op, variables: vars(n) });
}

/** Throws unless the answer has data and no errors (autocannon only sees the HTTP status). */
export function checkAnswer(op: OperationName, body: string): any {
  let json: any;
  try {
    json = JSON.parse(body);
  } catch {
    throw new Error(`${op}: not JSON: ${body.slice(0, 200)}`);
  }
  if (json.errors?.length) throw new Error(`${op}: errors: ${JSON.stringify(json.errors).slice(0, 500)}`);
  const root = json.data && Object.values(json.data)[0];
  if (!root) throw new Error(`${op}: no data: ${body.slice(0, 200)}`);
  if (op === "RecordAttendance") {
    const payload = root as { attendance: unknown[] | null; userErrors: unknown[] };
    if (payload.userErrors.length || payload.attendance?.length !== 12) {
      throw new Error(`${op}: userErrors or not 12 records: ${body.slice(0, 500)}`);
    }
  }
  return json.data;
}

/** A contender-neutral digest of a query's data, for comparing contenders. */
export function digest(flavor: Flavor, op: QueryName, data: any): unknown {
  if (flavor === "api") {
    switch (op) {
      case "CenterDashboard": {
        const c = data.center;
        return {
          id: uuidOf(c.id),
          name: c.name,
          totalCount: c.groups.totalCount,
          hasNextPage: c.groups.pageInfo.hasNextPage,
          groups: c.groups.edges.map(({ node: g }: any) => ({
            id: uuidOf(g.id),
            name: g.name,
            status: g.status,
            capacity: g.capacity,
            program: [uuidOf(g.program.id), g.program.name],
            facilitators: g.facilitators.map((f: any) => [uuidOf(f.id), f.name]),
            active: g.enrollments.totalCount,
            members: g.enrollments.nodes.map((e: any) => [uuidOf(e.id), uuidOf(e.participant.id), e.participant.firstName, e.participant.lastName]),
            sessions: g.sessions.nodes.map((s: any) => [uuidOf(s.id), isoOf(s.startsAt), s.status, s.attendanceSummary]),
          })),
        };
      }
      case "SessionRoster": {
        const s = data.node;
        return {
          id: uuidOf(s.id),
          startsAt: isoOf(s.startsAt),
          endsAt: isoOf(s.endsAt),
          status: s.status,
          group: [uuidOf(s.group.id), s.group.name],
          attendance: s.attendance.map((a: any) => [uuidOf(a.participant.id), a.status, a.note, a.participant.firstName, a.participant.lastName]).sort(byFirst),
        };
      }
      case "ParticipantHistory": {
        const p = data.node;
        return {
          id: uuidOf(p.id),
          name: [p.firstName, p.lastName],
          enrollments: p.enrollments.nodes.map((e: any) => [e.status, e.group.name]),
          total: p.attendance.totalCount,
          attendance: p.attendance.nodes.map((a: any) => [isoOf(a.session.startsAt), a.status]).sort(byFirst),
        };
      }
    }
  }
  switch (op) {
    case "CenterDashboard": {
      const c = data.centerByRowId;
      return {
        id: c.rowId,
        name: c.name,
        totalCount: c.groupsByCenterId.totalCount,
        hasNextPage: c.groupsByCenterId.pageInfo.hasNextPage,
        groups: c.groupsByCenterId.edges.map(({ node: g }: any) => ({
          id: g.rowId,
          name: g.name,
          status: g.status,
          capacity: g.capacity,
          program: [g.programByProgramId.rowId, g.programByProgramId.name],
          facilitators: g.groupFacilitatorsByGroupId.nodes.map((f: any) => [f.staffByStaffId.rowId, f.staffByStaffId.name]),
          active: g.enrollmentsByGroupId.totalCount,
          members: g.enrollmentsByGroupId.nodes.map((e: any) => [
            e.rowId,
            e.participantByParticipantId.rowId,
            e.participantByParticipantId.firstName,
            e.participantByParticipantId.lastName,
          ]),
          sessions: g.sessionsByGroupId.nodes.map((s: any) => [
            s.rowId,
            isoOf(s.startsAt),
            s.status,
            {
              present: s.present.totalCount,
              late: s.late.totalCount,
              leftEarly: s.leftEarly.totalCount,
              absent: s.absent.totalCount,
              excused: s.excused.totalCount,
              unrecorded: s.unrecorded,
            },
          ]),
        })),
      };
    }
    case "SessionRoster": {
      const s = data.sessionByRowId;
      return {
        id: s.rowId,
        startsAt: isoOf(s.startsAt),
        endsAt: isoOf(s.endsAt),
        status: s.status,
        group: [s.groupByGroupId.rowId, s.groupByGroupId.name],
        attendance: s.attendancesBySessionId.nodes
          .map((a: any) => [
            a.participantByParticipantId.rowId,
            a.status,
            a.note,
            a.participantByParticipantId.firstName,
            a.participantByParticipantId.lastName,
          ])
          .sort(byFirst),
      };
    }
    case "ParticipantHistory": {
      const p = data.participantByRowId;
      return {
        id: p.rowId,
        name: [p.firstName, p.lastName],
        enrollments: p.enrollmentsByParticipantId.nodes.map((e: any) => [e.status, e.groupByGroupId.name]),
        total: p.attendancesByParticipantId.totalCount,
        attendance: p.attendancesByParticipantId.nodes.map((a: any) => [isoOf(a.sessionBySessionId.startsAt), a.status]).sort(byFirst),
      };
    }
  }
}

function byFirst(a: unknown[], b: unknown[]): number {
  return String(a[0]) < String(b[0]) ? -1 : String(a[0]) > String(b[0]) ? 1 : 0;
}
