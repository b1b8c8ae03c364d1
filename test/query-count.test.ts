// The N+1 guard: the dashboard's nested reads cost a fixed number of SQL statements, however many
// groups, sessions and participants a center has. Counts include the per-request viewer lookup.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startPgProxy, type PgProxy } from "./bench/proxy.js";
import { asOrgAdmin, type Api } from "./support/fixtures.js";
import { integratorWorld, recordAttendance, waitForHorizon } from "./support/integrators.js";
import { operation } from "./support/operations.js";
import { startTestServer, useTestServer, type TestServer } from "./support/server.js";

const t = useTestServer();

// Upper bounds, as measured when this test was written; a regression that adds statements fails.
// All include the viewer lookup that every authenticated request makes, and the one append of
// the request's audit entries (src/audit/) that every read of participant data makes. For clinical
// staff and org admins the operation itself is one statement compiled from its selection
// (src/compiled/; through the resolvers it was 8, 4 and 5).
const MAX_STATEMENTS = { CenterDashboard: 3, SessionRoster: 3, ParticipantHistory: 3 };
// Facilitators and VIEWERs are compiled too (src/compiled/ reads the fields' declared audiences as
// SQL: a facilitator's rows are those of their groups; a VIEWER reads no CLINICAL field), so their
// reads cost what clinical staff's do. Through the resolvers a facilitator's dashboard was 12
// statements (one per relation, plus a batched check of which participants are in their groups,
// and one of the facilitators' centers), their roster 8, a participant's history 9, and the
// groups overview 9, for a facilitator and a VIEWER alike.
const MAX_FACILITATOR = { CenterDashboard: 3, SessionRoster: 3, ParticipantHistory: 3, GroupsOverview: 2 };
/** A VIEWER reads no participant data: the viewer lookup and the statement, no audit append. */
const MAX_VIEWER_OVERVIEW = 2;

/** What a VIEWER may read of the dashboard: groups, their sessions and counts, no participant. */
const GROUPS_OVERVIEW = `query GroupsOverview($centerId: ID!) {
  center(id: $centerId) {
    id
    name
    groups(first: 20) {
      totalCount
      edges {
        node {
          id
          name
          status
          capacity
          program { id name }
          facilitators { id name }
          enrollments(status: ACTIVE) { totalCount }
          sessions(last: 5) { nodes { id startsAt status attendanceSummary { expected present late leftEarly absent excused unrecorded } } }
        }
      }
    }
  }
}`;
// A page of the integrators' feed (src/feed), whatever its size: the key lookup, the check for
// consents that ended, the page (one statement: the window with its consent semi-join, the records
// with their sessions, groups and participants as JSON, the disclosures row), the audit append.
// (Through the resolvers it was 7: the records, their sessions and the disclosures each on their
// own; per-level loaders made it 9.)
const MAX_FEED_PAGE = 4;

/** The audit log costs one statement per request that reads participant data, whatever its size. */
const auditStatements = (statements: string[]) => statements.filter((s) => s.includes("audit_append"));

// Building both worlds takes a few hundred mutations: on a loaded machine, more than vitest's 30 s.
const WORLD_TIMEOUT = 180_000;

const STATUSES = ["PRESENT", "LATE", "ABSENT", "EXCUSED", "LEFT_EARLY"];
const DAYS = ["MONDAY", "TUESDAY", "WEDNESDAY", "THURSDAY", "FRIDAY", "SATURDAY", "SUNDAY"];

interface World {
  centerId: string;
  sessionId: string;
  /** Enrolled in every group, with attendance at every session. */
  sharedParticipantId: string;
  facilitatorToken: string;
  viewerToken: string;
  /** A session of a group the lead facilitator facilitates. */
  facilitatedSessionId: string;
}

/**
 * A center with `groups` groups of `participants` members each (one of them a member of every
 * group), `sessions` sessions per group with everybody's attendance recorded, and two
 * facilitators spread over the groups.
 */
async function buildWorld(admin: Api, size: { groups: number; sessions: number; participants: number }): Promise<World> {
  const centerId = await admin.createCenter(`Center ${size.groups}x${size.sessions}x${size.participants}`);
  const lead = await admin.createStaff(`lead-${size.groups}@org.test`, [{ centerId, role: "FACILITATOR" }]);
  const co = await admin.createStaff(`co-${size.groups}@org.test`, [{ centerId, role: "FACILITATOR" }]);
  const viewer = await admin.createStaff(`viewer-${size.groups}@org.test`, [{ centerId, role: "VIEWER" }]);
  const program = await admin.mutate("createProgram", { centerId, name: "Relapse prevention", curriculum: ["Triggers", "Cravings"] }, "program { id }");
  const newParticipant = async (n: string) =>
    (await admin.mutate("createParticipant", { centerId, firstName: `First${n}`, lastName: `Last${n}` }, "participant { id }")).participant.id as string;
  const sharedParticipantId = await newParticipant("shared");

  let sessionId = "";
  let facilitatedSessionId = "";
  for (let g = 0; g < size.groups; g++) {
    const facilitatorIds = g % 3 === 0 ? [lead.id, co.id] : g % 3 === 1 ? [co.id] : [];
    const group = await admin.mutate(
      "createGroup",
      {
        programId: program.program.id,
        name: `Group ${g}`,
        capacity: 50,
        status: "ACTIVE",
        startsOn: "2026-01-05",
        facilitatorIds,
        schedule: { daysOfWeek: DAYS, startTime: "18:00", durationMinutes: 90 },
      },
      "group { id }",
    );
    const groupId = group.group.id as string;
    const members = [sharedParticipantId];
    for (let p = 1; p < size.participants; p++) members.push(await newParticipant(`${g}-${p}`));
    for (const participantId of members) await admin.mutate("enrollParticipant", { groupId, participantId }, "enrollment { id }");
    const to = new Date(Date.UTC(2026, 0, 5 + size.sessions - 1)).toISOString().slice(0, 10);
    const scheduled = await admin.mutate("scheduleSessions", { groupId, from: "2026-01-05", to }, "sessions { id }");
    expect(scheduled.sessions).toHaveLength(size.sessions);
    for (const [s, session] of (scheduled.sessions as Array<{ id: string }>).entries()) {
      const records = members.map((participantId, i) => ({ participantId, status: STATUSES[(i + s) % STATUSES.length], note: `note ${i}` }));
      await admin.mutate("recordAttendance", { sessionId: session.id, records }, "attendance { id }");
      sessionId = session.id;
      if (g % 3 === 0) facilitatedSessionId = session.id;
    }
  }
  return { centerId, sessionId, sharedParticipantId, facilitatorToken: lead.token, viewerToken: viewer.token, facilitatedSessionId };
}

/** Runs a dashboard operation (a contract one, or the groups overview) over HTTP and counts the SQL statements it costs. */
async function countOf(name: keyof typeof MAX_FACILITATOR, variables: Record<string, unknown>, token: string, audited = true) {
  const query = name === "GroupsOverview" ? GROUPS_OVERVIEW : operation("dashboard.graphql", name);
  const { result, count, statements } = await t.server.database.countQueries(() => t.server.gql(query, variables, { token }));
  expect(result.errors, JSON.stringify(result.errors)).toBeUndefined();
  expect(auditStatements(statements), statements.join("\n")).toHaveLength(audited ? 1 : 0);
  return { data: result.data, count, statements };
}

describe("SQL statement count of the dashboard operations", () => {
  it(
    "does not grow with groups, sessions and participants, and stays under its bound",
    async () => {
      // Given a small center and a large one
      const admin = await asOrgAdmin(t.server);
      const small = await buildWorld(admin, { groups: 2, sessions: 2, participants: 3 });
      const large = await buildWorld(admin, { groups: 6, sessions: 5, participants: 8 });

      // When each dashboard operation reads both
      const measured: Record<string, [number, number]> = {};
      for (const [name, vars] of [
        ["CenterDashboard", (w: World) => ({ centerId: w.centerId })],
        ["SessionRoster", (w: World) => ({ sessionId: w.sessionId })],
        ["ParticipantHistory", (w: World) => ({ participantId: w.sharedParticipantId })],
      ] as const) {
        const a = await countOf(name, vars(small), admin.token);
        const b = await countOf(name, vars(large), admin.token);
        measured[name] = [a.count, b.count];
        // Then the large world's answer is really bigger (so the comparison means something)
        if (name === "CenterDashboard") {
          expect(a.data.center.groups.totalCount).toBe(2);
          expect(b.data.center.groups.totalCount).toBe(6);
          const groupsOf = (d: any) => d.center.groups.edges.map((e: any) => e.node);
          expect(groupsOf(b.data).every((g: any) => g.enrollments.nodes.length === 8 && g.sessions.nodes.length === 5)).toBe(true);
          expect(groupsOf(b.data)[0].facilitators).toHaveLength(2);
          expect(groupsOf(b.data)[0].sessions.nodes[0].attendanceSummary.unrecorded).toBe(0);
        } else if (name === "SessionRoster") {
          expect(a.data.node.attendance).toHaveLength(3);
          expect(b.data.node.attendance).toHaveLength(8);
        } else {
          expect(b.data.node.enrollments.nodes).toHaveLength(6);
          expect(b.data.node.attendance.totalCount).toBe(30);
        }
        // And the statement count is the same for both, within the recorded bound
        expect(b.count, `${name}:\n${b.statements.join("\n")}`).toBe(a.count);
        expect(b.count, b.statements.join("\n")).toBeLessThanOrEqual(MAX_STATEMENTS[name]);
      }
      console.info("statements per operation [small, large]:", JSON.stringify(measured));
    },
    WORLD_TIMEOUT,
  );

  it(
    "costs the same for a facilitator, who sees only their groups, at both sizes",
    async () => {
      // Given both worlds, read by the lead facilitator of some of their groups
      const admin = await asOrgAdmin(t.server);
      const small = await buildWorld(admin, { groups: 2, sessions: 2, participants: 3 });
      const large = await buildWorld(admin, { groups: 6, sessions: 5, participants: 8 });

      // When the facilitator opens the dashboard of each, a roster and a history
      const measured: Record<string, [number, number]> = {};
      for (const [name, vars, audited] of [
        ["CenterDashboard", (w: World) => ({ centerId: w.centerId }), true],
        ["SessionRoster", (w: World) => ({ sessionId: w.facilitatedSessionId }), true],
        ["ParticipantHistory", (w: World) => ({ participantId: w.sharedParticipantId }), true],
        ["GroupsOverview", (w: World) => ({ centerId: w.centerId }), false],
      ] as const) {
        const a = await countOf(name, vars(small), small.facilitatorToken, audited);
        const b = await countOf(name, vars(large), large.facilitatorToken, audited);
        measured[name] = [a.count, b.count];
        // Then they see their own groups only (of 2 and 6), at the same cost
        if (name === "CenterDashboard" || name === "GroupsOverview") {
          expect(a.data.center.groups.totalCount).toBe(1);
          expect(b.data.center.groups.totalCount).toBe(2);
        } else if (name === "SessionRoster") {
          expect(b.data.node.attendance).toHaveLength(8);
        } else {
          expect(b.data.node.enrollments.nodes).toHaveLength(2);
          expect(b.data.node.attendance.totalCount).toBe(10);
        }
        expect(b.count, b.statements.join("\n")).toBe(a.count);
        expect(b.count, b.statements.join("\n")).toBeLessThanOrEqual(MAX_FACILITATOR[name]);
      }
      console.info("facilitator: statements per operation [small, large]:", JSON.stringify(measured));
    },
    WORLD_TIMEOUT,
  );

  it(
    "costs the same for a VIEWER reading groups, sessions and counts, at both sizes",
    async () => {
      // Given both worlds, read by a VIEWER of the center
      const admin = await asOrgAdmin(t.server);
      const small = await buildWorld(admin, { groups: 2, sessions: 2, participants: 3 });
      const large = await buildWorld(admin, { groups: 6, sessions: 5, participants: 8 });

      // When the VIEWER opens the groups overview of each
      const a = await countOf("GroupsOverview", { centerId: small.centerId }, small.viewerToken, false);
      const b = await countOf("GroupsOverview", { centerId: large.centerId }, large.viewerToken, false);

      // Then they see every group, with counts, at the same cost
      expect(a.data.center.groups.totalCount).toBe(2);
      expect(b.data.center.groups.totalCount).toBe(6);
      expect(b.data.center.groups.edges[0].node.enrollments.totalCount).toBe(8);
      expect(b.data.center.groups.edges[0].node.sessions.nodes).toHaveLength(5);
      expect(b.count, b.statements.join("\n")).toBe(a.count);
      expect(b.count, b.statements.join("\n")).toBeLessThanOrEqual(MAX_VIEWER_OVERVIEW);
      console.info("VIEWER: statements of the groups overview [small, large]:", JSON.stringify([a.count, b.count]));
    },
    WORLD_TIMEOUT,
  );

  it("adds exactly one statement for the audit log to a read of participant data, and none to a read without", async () => {
    // Given a center, read once with its participants and once without
    const admin = await asOrgAdmin(t.server);
    const w = await buildWorld(admin, { groups: 2, sessions: 2, participants: 3 });
    const withParticipants = `query($id: ID!) { node(id: $id) { ... on Center { participants(first: 10) { nodes { id firstName } } } } }`;
    const withoutParticipants = `query($id: ID!) { node(id: $id) { ... on Center { participants(first: 10) { totalCount } } } }`;
    const run = (query: string) => t.server.database.countQueries(() => t.server.gql(query, { id: w.centerId }, { token: admin.token }));
    const read = await run(withParticipants);
    const counted = await run(withoutParticipants);
    expect(read.result.data.node.participants.nodes).toHaveLength(5);
    expect(counted.result.data.node.participants.totalCount).toBe(5);
    // Then the read costs one more statement, the audit append, and the count none
    expect(auditStatements(read.statements)).toHaveLength(1);
    expect(auditStatements(counted.statements)).toHaveLength(0);
    expect(read.count, read.statements.join("\n")).toBe(counted.count + 1);
  });
});

describe("SQL statement count of a page of the integrators' feed", () => {
  it(
    "does not grow with the page's changes, sessions and participants: the records and what they nest are read once per page",
    async () => {
      // Given an API client with consent for both participants of a group, and eight changes over four sessions
      const admin = await asOrgAdmin(t.server);
      const w = await integratorWorld(admin);
      for (const participantId of [w.ana, w.ben]) {
        const res = await t.server.gql(
          operation("integrator.graphql", "RecordConsent"),
          { input: { participantId, recipientId: w.client.id, purpose: "Care coordination" } },
          { token: w.clinician.token },
        );
        expect(res.errors).toBeUndefined();
      }
      for (const sessionId of w.sessions.slice(1, 4)) {
        await recordAttendance(admin, sessionId, [
          [w.ana, "PRESENT"],
          [w.ben, "LATE"],
        ]);
      }
      // Other files' transactions on the same server must not hold the world back (the horizon is cluster-wide)
      await waitForHorizon(t.server);
      const page = (first: number) =>
        t.server.database.countQueries(() => t.server.gql(operation("integrator.graphql", "AttendanceChanges"), { first }, { token: w.client.key }));
      await page(1); // the key's lastUsedAt is written on its first use

      // When the client reads a page of one change, and a page of every change
      const one = await page(1);
      const all = await page(100);

      // Then both answers are whole, the large one really larger (records of four sessions and both participants)
      for (const r of [one, all]) expect(r.result.errors, JSON.stringify(r.result.errors)).toBeUndefined();
      const edges = all.result.data.attendanceChanges.edges as Array<{ node: { attendance: { session: { id: string }; participant: { id: string } } } }>;
      expect(one.result.data.attendanceChanges.edges).toHaveLength(1);
      expect(edges.length).toBeGreaterThanOrEqual(8);
      expect(new Set(edges.map((e) => e.node.attendance.session.id)).size).toBe(4);
      expect(new Set(edges.map((e) => e.node.attendance.participant.id)).size).toBe(2);
      // and they cost the same statements, under the bound, with one disclosure insert and one audit append
      expect(all.count, all.statements.join("\n")).toBe(one.count);
      expect(all.count, all.statements.join("\n")).toBeLessThanOrEqual(MAX_FEED_PAGE);
      expect(all.statements.filter((s) => /insert into "?disclosures"?/.test(s))).toHaveLength(1);
      expect(auditStatements(all.statements)).toHaveLength(1);
    },
    WORLD_TIMEOUT,
  );
});

/**
 * recordAttendance of 12 changed records, in round trips: BEGIN, the scope, the session read with
 * its group under the session's lock, and behind it the enrolments and the records; the update
 * and the write steps' statements together (history, follow-ups' lock and behind it its four
 * reads, feed, the note's lock, the engagement marks, the live roster's NOTIFY); the audit entry
 * and COMMIT, together (the write and its entry commit together). (Before: 9, the session and its
 * group each in a transaction of their own ahead of it, the update on its own, the follow-ups'
 * reads after its lock, and the audit entry in its own transaction after the COMMIT; 14 with each
 * statement waiting for the one before.) A lock's statement is always sent before the reads that
 * must see what its previous holder wrote: PostgreSQL runs them after it is granted.
 */
const MAX_RECORD_ATTENDANCE_TRIPS = 3;

// Round trips, not statements: what a read waits for. Counted by a proxy between the server's own
// pools and PostgreSQL (test/bench/proxy.ts): a round trip is a connection that was waiting for
// nothing sending something, so statements pipelined together count once. The server runs as in
// production: under row-level security (its own role), with the viewer kept (VIEWER_CACHE_MS).
describe.skipIf(!process.env.TEST_DATABASE_URL)("round trips to PostgreSQL of a small read", () => {
  let server: TestServer;
  let proxy: PgProxy;
  beforeAll(async () => {
    server = await startTestServer({
      appRole: true,
      env: { VIEWER_CACHE_MS: "60000" },
      async connectVia(url) {
        const target = new URL(url);
        proxy = await startPgProxy({ host: target.hostname, port: Number(target.port || 5432) });
        target.hostname = "127.0.0.1";
        target.port = String(proxy.port);
        return target.toString();
      },
    });
  }, WORLD_TIMEOUT);
  afterAll(async () => {
    await server?.close();
    await proxy?.close();
  });

  it(
    "reads a roster, a history or the dashboard in one round trip: BEGIN, the scope, the data writing its own audit entries, and the COMMIT, pipelined",
    async () => {
      // Given a world, and the clinical reader's viewer kept (their first request looked it up)
      const admin = await asOrgAdmin(server);
      const w = await buildWorld(admin, { groups: 2, sessions: 2, participants: 3 });
      const measured: Record<string, number[]> = {};
      for (const [name, variables, check] of [
        ["SessionRoster", { sessionId: w.sessionId }, (d: any) => expect(d.node.attendance).toHaveLength(3)],
        ["ParticipantHistory", { participantId: w.sharedParticipantId }, (d: any) => expect(d.node.enrollments.nodes).toHaveLength(2)],
        ["CenterDashboard", { centerId: w.centerId }, (d: any) => expect(d.center.groups.totalCount).toBe(2)],
      ] as const) {
        const query = operation("dashboard.graphql", name);
        // (once on each of the pool's connections: a statement with parameters, as the audit
        // append, is prepared on its first use on a connection, which costs a round trip then)
        for (let i = 0; i < 6; i++) await server.gql(query, variables, { token: admin.token });
        // When it is read (a few times: the minimum leaves out anything else of the server's, as its workers)
        const trips: number[] = [];
        for (let i = 0; i < 5; i++) {
          const before = { trips: proxy.counters.roundTrips, statements: proxy.counters.statements };
          const res = await server.gql(query, variables, { token: admin.token });
          trips.push(proxy.counters.roundTrips - before.trips);
          // Then the answer is whole
          expect(res.errors, JSON.stringify(res.errors)).toBeUndefined();
          check(res.data);
        }
        measured[name] = trips;
        // And it took one round trip (four statements pipelined: begin, set_config, the data and its audit entries, commit)
        expect(Math.min(...trips), `${name}: ${trips.join(",")}`).toBe(1);
      }
      console.info("round trips per read:", JSON.stringify(measured));
    },
    WORLD_TIMEOUT,
  );

  it(
    "records attendance of 12 records in a bounded number of round trips, its statements pipelined",
    async () => {
      // Given a group of twelve at a session, recorded once (the bench's recordAttendance changes every record each time)
      const admin = await asOrgAdmin(server);
      const w = await buildWorld(admin, { groups: 1, sessions: 1, participants: 12 });
      const roster = await server.gql(operation("dashboard.graphql", "SessionRoster"), { sessionId: w.sessionId }, { token: admin.token });
      const participantIds = (roster.data.node.attendance as Array<{ participant: { id: string } }>).map((a) => a.participant.id);
      expect(participantIds).toHaveLength(12);
      const record = (n: number) =>
        server.gql(
          `mutation($input: RecordAttendanceInput!) { recordAttendance(input: $input) { attendance { id status } userErrors { code } } }`,
          { input: { sessionId: w.sessionId, records: participantIds.map((participantId, i) => ({ participantId, status: STATUSES[(i + n) % 2] })) } },
          { token: admin.token },
        );
      for (let n = 0; n < 6; n++) await record(n);
      // When it is recorded again, every record changed
      const trips: number[] = [];
      const statements: number[] = [];
      for (let n = 6; n < 11; n++) {
        const before = { trips: proxy.counters.roundTrips, statements: proxy.counters.statements };
        const res = await record(n);
        expect(res.errors, JSON.stringify(res.errors)).toBeUndefined();
        expect(res.data.recordAttendance.userErrors).toEqual([]);
        expect(res.data.recordAttendance.attendance.map((a: { status: string }) => a.status)).toEqual(participantIds.map((_, i) => STATUSES[(i + n) % 2]));
        trips.push(proxy.counters.roundTrips - before.trips);
        statements.push(proxy.counters.statements - before.statements);
      }
      console.info("recordAttendance of 12: round trips", JSON.stringify(trips), "statements", JSON.stringify(statements));
      expect(Math.min(...trips)).toBeLessThanOrEqual(MAX_RECORD_ATTENDANCE_TRIPS);
    },
    WORLD_TIMEOUT,
  );
});
