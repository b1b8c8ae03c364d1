// A world for the integrator tests, built through the API: a center with a group, two participants
// (Ana with MRN-A, Ben with MRN-B), four past sessions, attendance recorded for both at the first,
// and an API client of the center (its key returned once, as createApiClient gives it).
import { sql } from "drizzle-orm";
import { rowsOf } from "../../src/common/sql.js";
import { operation } from "./operations.js";
import type { Api } from "./fixtures.js";

export interface IntegratorWorld {
  centerId: string;
  otherCenterId: string;
  groupId: string;
  sessions: string[];
  ana: string;
  ben: string;
  clinician: { id: string; token: string };
  admin: { id: string; token: string };
  client: { id: string; key: string };
}

export async function createApiClient(api: Api, token: string, input: Record<string, unknown>) {
  const res = await api.server.gql(operation("integrator.graphql", "CreateApiClient"), { input }, { token });
  if (res.errors) throw new Error(JSON.stringify(res.errors));
  if (res.data.createApiClient.userErrors.length) throw new Error(JSON.stringify(res.data.createApiClient.userErrors));
  return { id: res.data.createApiClient.apiClient.id as string, key: res.data.createApiClient.apiKey as string };
}

export async function integratorWorld(org: Api, timezone = "America/New_York"): Promise<IntegratorWorld> {
  const centerId = await org.createCenter("Harbor House", timezone);
  const otherCenterId = await org.createCenter("Elsewhere", timezone);
  const admin = await org.createStaff("admin@harbor.test", [{ centerId, role: "ADMIN" }]);
  const clinician = await org.createStaff("clinician@harbor.test", [{ centerId, role: "CLINICIAN" }]);
  const { program } = await org.mutate("createProgram", { centerId, name: "Relapse prevention" }, "program { id }");
  const { group } = await org.mutate(
    "createGroup",
    {
      programId: program.id,
      name: "Tuesday evening",
      capacity: 20,
      startsOn: "2026-01-05",
      status: "ACTIVE",
      facilitatorIds: [],
      schedule: { daysOfWeek: ["TUESDAY"], startTime: "18:00", durationMinutes: 90 },
    },
    "group { id }",
  );
  const person = async (firstName: string, externalId: string) =>
    (await org.mutate("createParticipant", { centerId, firstName, lastName: "Test", externalId, dateOfBirth: "1990-01-01" }, "participant { id }")).participant
      .id as string;
  const ana = await person("Ana", "MRN-A");
  const ben = await person("Ben", "MRN-B");
  for (const participantId of [ana, ben]) await org.mutate("enrollParticipant", { groupId: group.id, participantId }, "enrollment { id }");
  const { sessions } = await org.mutate("scheduleSessions", { groupId: group.id, from: "2026-01-05", to: "2026-01-31" }, "sessions { id }");
  const ids = sessions.map((s: { id: string }) => s.id) as string[];
  await recordAttendance(org, ids[0], [
    [ana, "PRESENT"],
    [ben, "ABSENT"],
  ]);
  const client = await createApiClient(org, admin.token, { name: "Acme EHR", centerIds: [centerId], scopes: ["ATTENDANCE_READ"] });
  return { centerId, otherCenterId, groupId: group.id, sessions: ids, ana, ben, clinician, admin, client };
}

export async function recordAttendance(org: Api, sessionId: string, records: Array<[participantId: string, status: string]>): Promise<string[]> {
  const { attendance } = await org.mutate(
    "recordAttendance",
    { sessionId, records: records.map(([participantId, status]) => ({ participantId, status })) },
    "attendance { id }",
  );
  return attendance.map((a: { id: string }) => a.id);
}

export interface FeedChange {
  changeType: "UPSERT" | "DELETE";
  changedAt: string;
  attendanceId: string;
  attendance: null | { id: string; status: string; participant: { id: string; externalId: string | null } };
}

/** Pulls the whole feed from `after` with AttendanceChanges (pages of `first`); returns the changes and the last cursor. */
/**
 * The feed hands out changes only below the cluster-wide horizon (the oldest transaction still
 * open anywhere on the server). On PostgreSQL other test files run beside this one, and one of them
 * holds transactions open on purpose (test/feed.pg.test.ts): wait until every transaction that had
 * started when the drain began has ended, so that what committed before it is within reach.
 */
export async function waitForHorizon(server: Pick<Api["server"], "database">): Promise<void> {
  const db = server.database.db;
  const [{ next }] = await rowsOf<{ next: string }>(db, sql`select pg_snapshot_xmax(pg_current_snapshot())::text as next`);
  for (const deadline = Date.now() + 60_000; Date.now() < deadline; await new Promise((r) => setTimeout(r, 50))) {
    const [{ ok }] = await rowsOf<{ ok: boolean }>(db, sql`select pg_snapshot_xmin(pg_current_snapshot()) >= ${next}::xid8 as ok`);
    if (ok) return;
  }
  throw new Error("the feed's horizon did not pass the drain's start within 60 s");
}

export async function drain(api: Api, key: string, after: string | null = null, first = 500): Promise<{ changes: FeedChange[]; cursor: string | null }> {
  await waitForHorizon(api.server);
  const changes: FeedChange[] = [];
  let cursor = after;
  for (;;) {
    const res = await api.server.gql(operation("integrator.graphql", "AttendanceChanges"), { after: cursor, first }, { token: key });
    if (res.errors) throw new Error(JSON.stringify(res.errors));
    const page = res.data.attendanceChanges;
    if (!page.disclosureNotice.includes("42 CFR part 2")) throw new Error("page without the disclosure notice");
    for (const e of page.edges) changes.push(e.node);
    cursor = page.pageInfo.endCursor ?? cursor;
    if (!page.pageInfo.hasNextPage) return { changes, cursor };
  }
}
