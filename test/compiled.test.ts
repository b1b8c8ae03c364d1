// Queries compiled to one SQL statement (src/compiled/) answer exactly as the resolvers do: the
// same status, the same JSON, byte for byte, and the same audit entries, for every viewer (org
// admin, ADMIN, CLINICIAN, FACILITATOR, VIEWER, another center's admin, an API client). The
// reference is a second app on the same database with COMPILED_QUERIES=off. The test also checks
// which path answered (the compiled statement is one `select json_build_object(…)`, or, when it
// writes its audit entries itself, `with answer as materialized (select json_build_object(…)) …`), so that a
// compiler that silently gave up on everything could not pass, nor one that answered what the
// resolvers refuse.
import { randomUUID } from "node:crypto";
import { asc, eq, getTableColumns } from "drizzle-orm";
import { getNamedType, getNullableType, isLeafType, isListType, type GraphQLObjectType } from "graphql";
import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { resetClock, setClock } from "../src/common/clock.js";
import { verifyAuditChain } from "../src/audit/audit.service.js";
import { auditEvents, centers, groups, participants, sessions } from "../src/db/schema.js";
import { createSchema } from "../src/schema.js";
import { silentLogger } from "../src/logger.js";
import { createApp, type App } from "../src/server.js";
import { asOrgAdmin, type Api } from "./support/fixtures.js";
import { createApiClient } from "./support/integrators.js";
import { operation } from "./support/operations.js";
import { startTestServer, type TestServer } from "./support/server.js";

// One world for the whole file (building it is most of the time), read by two apps.
let server: TestServer;
let reference: { app: App; url: string };
let w: World;
beforeAll(async () => {
  server = await startTestServer();
  const app = await createApp({ config: { ...server.config, compiledQueries: false }, database: server.database, logger: silentLogger });
  reference = { app, url: `http://127.0.0.1:${await app.listen(0, "127.0.0.1")}` };
  w = await buildWorld(await asOrgAdmin(server));
}, 180_000);
afterAll(async () => {
  await reference?.app.close();
  await server?.close();
});

const STATUSES = ["PRESENT", "LATE", "ABSENT", "EXCUSED", "LEFT_EARLY"];

interface World {
  centerId: string;
  otherCenterId: string;
  groupIds: string[];
  sessionIds: string[];
  participantIds: string[];
  otherParticipantId: string;
  /** At the center, in no group. */
  loneParticipantId: string;
  /** The facilitator ("fay") leads the first group only, and is a CLINICIAN of the other center. */
  tokens: Record<"orgAdmin" | "admin" | "clinician" | "facilitator" | "viewer" | "outsider" | "apiClient", string>;
}

/**
 * A center with three groups (one closed, one with a waitlist), facilitators (one of whom also
 * works at a second center), enrolments that ended, sessions with attendance and notes (one
 * cancelled), and a participant of another center.
 */
async function buildWorld(admin: Api): Promise<World> {
  // Enrolments take their seats before the sessions start (so that the expected roster is not empty),
  // and attendance is recorded after them.
  setClock("2026-01-02T12:00:00Z");
  const centerId = await admin.createCenter("North Clinic", "America/New_York");
  const otherCenterId = await admin.createCenter("South Clinic", "America/Los_Angeles");
  const staff = {
    admin: await admin.createStaff("ada@org.test", [{ centerId, role: "ADMIN" }]),
    clinician: await admin.createStaff("cleo@org.test", [{ centerId, role: "CLINICIAN" }]),
    facilitator: await admin.createStaff("fay@org.test", [
      { centerId, role: "FACILITATOR" },
      { centerId: otherCenterId, role: "CLINICIAN" },
    ]),
    co: await admin.createStaff("cody@org.test", [{ centerId, role: "FACILITATOR" }]),
    viewer: await admin.createStaff("vic@org.test", [{ centerId, role: "VIEWER" }]),
    outsider: await admin.createStaff("otto@org.test", [{ centerId: otherCenterId, role: "ADMIN" }]),
  };
  const program = await admin.mutate("createProgram", { centerId, name: "Relapse prevention", curriculum: ["Triggers"] }, "program { id }");
  const person = async (c: string, n: string) =>
    (await admin.mutate("createParticipant", { centerId: c, firstName: `First${n}`, lastName: n }, "participant { id }")).participant.id as string;
  const participantIds: string[] = [];
  for (const n of ["Young", "Abbott", "Moreno", "Abbott", "Chen"]) participantIds.push(await person(centerId, n));
  const otherParticipantId = await person(otherCenterId, "Other");
  const loneParticipantId = await person(centerId, "Lone");

  const groupIds: string[] = [];
  const sessionIds: string[] = [];
  const specs = [
    { name: "Tuesday evening", capacity: 3, facilitatorIds: [staff.facilitator.id, staff.co.id], members: participantIds },
    { name: "Monday morning", capacity: 10, facilitatorIds: [staff.co.id], members: participantIds.slice(0, 2) },
    { name: "Alumni", capacity: 5, facilitatorIds: [], members: [] as string[] },
  ];
  for (const [g, spec] of specs.entries()) {
    const group = await admin.mutate(
      "createGroup",
      {
        programId: program.program.id,
        name: spec.name,
        capacity: spec.capacity,
        status: "ACTIVE",
        startsOn: "2026-01-05",
        facilitatorIds: spec.facilitatorIds,
        schedule: { daysOfWeek: ["MONDAY", "THURSDAY"], startTime: "18:00", durationMinutes: 90 },
      },
      "group { id }",
    );
    const groupId = group.group.id as string;
    groupIds.push(groupId);
    const enrollmentIds: string[] = [];
    for (const participantId of spec.members) {
      const e = await admin.mutate("enrollParticipant", { groupId, participantId }, "enrollment { id }");
      enrollmentIds.push(e.enrollment.id);
    }
    if (g === 2) {
      await admin.mutate("updateGroup", { groupId, status: "CLOSED" }, "group { id }");
      continue;
    }
    setClock("2026-01-02T12:00:00Z");
    const scheduled = await admin.mutate("scheduleSessions", { groupId, from: "2026-01-05", to: "2026-01-22" }, "sessions { id }");
    const ids = (scheduled.sessions as Array<{ id: string }>).map((s) => s.id);
    sessionIds.push(...ids);
    setClock("2026-02-01T12:00:00Z");
    for (const [s, sessionId] of ids.entries()) {
      if (s === ids.length - 1) continue; // the last one: nothing recorded yet
      const records = spec.members
        .slice(0, Math.min(spec.members.length, spec.capacity))
        .filter((_, i) => (i + s) % 4 !== 3)
        .map((participantId, i) => ({ participantId, status: STATUSES[(i + s) % STATUSES.length], ...(i % 2 ? { note: `note ${s}/${i}` } : {}) }));
      await admin.mutate("recordAttendance", { sessionId, records }, "attendance { id }");
    }
    if (g === 0) {
      await admin.mutate("cancelSession", { sessionId: ids[2], reason: "Snow" }, "session { id }");
      setClock("2026-01-13T12:00:00Z"); // mid-way: later sessions expect the first one promoted from the waitlist
      await admin.mutate("endEnrollment", { enrollmentId: enrollmentIds[0], status: "COMPLETED" }, "enrollment { id }");
    }
  }
  resetClock();
  const client = await createApiClient(admin, staff.admin.token, { name: "Acme EHR", centerIds: [centerId], scopes: ["ATTENDANCE_READ", "PARTICIPANT_READ"] });
  const tokens = {
    apiClient: client.key,
    orgAdmin: admin.token,
    admin: staff.admin.token,
    clinician: staff.clinician.token,
    facilitator: staff.facilitator.token,
    viewer: staff.viewer.token,
    outsider: staff.outsider.token,
  };
  return { centerId, otherCenterId, groupIds, sessionIds, participantIds, otherParticipantId, loneParticipantId, tokens };
}

/** The raw answer of one request, on the given app. */
async function send(url: string, query: string, variables: Record<string, unknown>, token: string, requestId: string) {
  const res = await fetch(`${url}/graphql`, {
    method: "POST",
    headers: { "content-type": "application/json", authorization: `Bearer ${token}`, "x-request-id": requestId },
    body: JSON.stringify({ query, variables }),
  });
  return { status: res.status, body: await res.text() };
}

/** The audit entries a request wrote. */
async function entriesOf(requestId: string) {
  return server.database.db
    .select({
      action: auditEvents.action,
      outcome: auditEvents.outcome,
      resourceType: auditEvents.resourceType,
      resourceId: auditEvents.resourceId,
      centerId: auditEvents.centerId,
      participantIds: auditEvents.participantIds,
      actorType: auditEvents.actorType,
      actorId: auditEvents.actorId,
      clientAddress: auditEvents.clientAddress,
      operationName: auditEvents.operationName,
    })
    .from(auditEvents)
    .where(eq(auditEvents.requestId, requestId))
    .orderBy(asc(auditEvents.seq));
}

/** Asks both apps; expects the same status, body and audit entries. Returns whether the compiler answered. */
async function same(query: string, variables: Record<string, unknown>, token: string): Promise<{ compiled: boolean; body: any }> {
  const [first, second] = [randomUUID(), randomUUID()];
  const byResolvers = await send(reference.url, query, variables, token, first);
  const { result: compiledAnswer, statements } = await server.database.countQueries(() => send(server.url, query, variables, token, second));
  expect(compiledAnswer.status, query).toBe(byResolvers.status);
  expect(compiledAnswer.body, query).toBe(byResolvers.body);
  const sorted = (es: Awaited<ReturnType<typeof entriesOf>>) => [...es].sort((a, b) => JSON.stringify(a).localeCompare(JSON.stringify(b)));
  expect(sorted(await entriesOf(second)), query).toEqual(sorted(await entriesOf(first)));
  // Compiled: its one statement was sent (writing its audit entries itself), and nothing after it
  // but the COMMIT (no resolver fell back, no audit append of its own).
  const at = statements.findIndex((s) => /^(with answer as materialized \()?select json_build_object\(/.test(s));
  const compiled = at >= 0 && statements.slice(at + 1).every((s) => /^reset |^commit\s*$/i.test(s));
  return { compiled, body: JSON.parse(byResolvers.body) };
}

const gid = (type: string, id: string) => Buffer.from(`${type}:${id}`).toString("base64url");

describe("queries compiled to one SQL statement", () => {
  it("answers the dashboard's three operations as the resolvers do, for clinical staff and org admins, in one statement", async () => {
    for (const token of [w.tokens.orgAdmin, w.tokens.admin, w.tokens.clinician]) {
      const dashboard = await same(operation("dashboard.graphql", "CenterDashboard"), { centerId: w.centerId }, token);
      expect(dashboard.compiled).toBe(true);
      expect(dashboard.body.data.center.groups.totalCount).toBe(3);
      for (const sessionId of [w.sessionIds[0], w.sessionIds[2], w.sessionIds[5]]) {
        const roster = await same(operation("dashboard.graphql", "SessionRoster"), { sessionId }, token);
        expect(roster.compiled).toBe(true);
      }
      for (const participantId of w.participantIds) {
        const history = await same(operation("dashboard.graphql", "ParticipantHistory"), { participantId }, token);
        expect(history.compiled).toBe(true);
      }
    }
  });

  it("writes the audit entries of a compiled read in its own statement, each with the digest of its content: the chain verifies once sealed", async () => {
    // Given the dashboard's reads, compiled, by clinical staff
    const requestIds: string[] = [];
    for (const [name, variables] of [
      ["SessionRoster", { sessionId: w.sessionIds[0] }],
      ["ParticipantHistory", { participantId: w.participantIds[0] }],
      ["CenterDashboard", { centerId: w.centerId }],
    ] as const) {
      const requestId = randomUUID();
      const { result, statements } = await server.database.countQueries(() =>
        send(server.url, operation("dashboard.graphql", name), variables, w.tokens.clinician, requestId),
      );
      expect(result.status).toBe(200);
      // When each is answered: its entries are written by its one statement, and by no other
      const appending = statements.filter((s) => /audit_append/.test(s));
      expect(appending, name).toHaveLength(1);
      expect(appending[0], name).toMatch(/^with answer as materialized \(select json_build_object\(/);
      requestIds.push(requestId);
    }
    // Then each wrote its entries, of participants, in their one statement
    for (const requestId of requestIds) {
      const entries = await entriesOf(requestId);
      expect(entries.length).toBeGreaterThan(0);
      expect(entries.every((e) => e.action === "READ" && e.actorType === "STAFF" && e.participantIds.length > 0)).toBe(true);
    }
    // And once sealed, the chain verifies: each entry's digest is its content's
    expect(await server.app.auditSealer.sealNow()).toBe(true);
    expect((await verifyAuditChain(server.database.db)).broken).toBeUndefined();
  });

  it("answers every field that is its row's column of the same name, though the compiler names none of them (a field added with its column is compiled)", async () => {
    // Given each root type's plain fields that are columns of its table (derived from the schema and the tables)
    const schema = await createSchema();
    const roots: Array<[string, Record<string, unknown>, string]> = [
      ["Participant", getTableColumns(participants), w.participantIds[0]],
      ["Session", getTableColumns(sessions), w.sessionIds[0]],
      ["Group", getTableColumns(groups), w.groupIds[0]],
      ["Center", getTableColumns(centers), w.centerId],
    ];
    for (const [typeName, columns, id] of roots) {
      const fields = Object.values((schema.getType(typeName) as GraphQLObjectType).getFields())
        .filter((f) => f.name !== "id" && !f.args.length && isLeafType(getNamedType(f.type)) && !isListType(getNullableType(f.type)) && f.name in columns)
        .map((f) => f.name);
      expect(fields.length, typeName).toBeGreaterThan(3);
      // When clinical staff read them all, Then the compiler answers as the resolvers do
      const query = `query($id: ID!) { node(id: $id) { id ... on ${typeName} { ${fields.join(" ")} } } }`;
      for (const token of [w.tokens.clinician, w.tokens.orgAdmin]) {
        const answer = await same(query, { id }, token);
        expect(answer.compiled, query).toBe(true);
      }
    }
  });

  it("answers a facilitator's reads of their own groups in one statement, with what the resolvers show them", async () => {
    // The dashboard lists their group only; its roster and members' histories are theirs to read
    const dashboard = await same(operation("dashboard.graphql", "CenterDashboard"), { centerId: w.centerId }, w.tokens.facilitator);
    expect(dashboard.compiled).toBe(true);
    expect(dashboard.body.data.center.groups.totalCount).toBe(1);
    expect(dashboard.body.data.center.groups.edges[0].node.enrollments.nodes.length).toBeGreaterThan(0);
    for (const sessionId of w.sessionIds.slice(0, 3)) {
      const roster = await same(operation("dashboard.graphql", "SessionRoster"), { sessionId }, w.tokens.facilitator);
      expect(roster.compiled, sessionId).toBe(true);
      expect(roster.body.data.node.group.id).toBe(w.groupIds[0]);
    }
    for (const participantId of w.participantIds) {
      // Members of both groups show their enrolment and attendance in the facilitator's group only
      const history = await same(operation("dashboard.graphql", "ParticipantHistory"), { participantId }, w.tokens.facilitator);
      expect(history.compiled, participantId).toBe(true);
      expect(history.body.data.node.enrollments.nodes.every((e: any) => e.group.name === "Tuesday evening")).toBe(true);
    }
    // At the other center, where they are a CLINICIAN, they read its participants
    const other = await same(operation("dashboard.graphql", "ParticipantHistory"), { participantId: w.otherParticipantId }, w.tokens.facilitator);
    expect(other.compiled).toBe(true);
    expect(other.body.data.node.lastName).toBe("Other");
  });

  it("answers a VIEWER's reads of groups, sessions and counts in one statement, and leaves what they may not read to the resolvers' refusal", async () => {
    const overview = `query($c: ID!) { center(id: $c) { id name groups { totalCount nodes { id name status capacity program { name } facilitators { id name }
      enrollments(status: ACTIVE) { totalCount } sessions(last: 3) { totalCount nodes { id startsAt endsAt status group { id name } attendanceSummary { expected present late leftEarly absent excused unrecorded } } } } } } }`;
    const answer = await same(overview, { c: w.centerId }, w.tokens.viewer);
    expect(answer.compiled).toBe(true);
    expect(answer.body.data.center.groups.totalCount).toBe(3);
    const session = await same(
      `query($s: ID!) { node(id: $s) { ... on Session { id status group { name } attendanceSummary { present absent unrecorded } } } }`,
      { s: w.sessionIds[1] },
      w.tokens.viewer,
    );
    expect(session.compiled).toBe(true);
    // Participants' names, enrolments' participants, attendance and notes are CLINICAL: FORBIDDEN to a VIEWER
    for (const [name, variables] of [
      ["CenterDashboard", { centerId: w.centerId }],
      ["SessionRoster", { sessionId: w.sessionIds[0] }],
      ["ParticipantHistory", { participantId: w.participantIds[0] }],
    ] as const) {
      const refused = await same(operation("dashboard.graphql", name), variables, w.tokens.viewer);
      expect(refused.compiled, name).toBe(false);
      expect(refused.body.errors?.[0]?.extensions?.code, name).toBe("FORBIDDEN");
    }
  });

  it("leaves to the resolvers what is out of the viewer's reach, missing, refused or not an id, with the same answers", async () => {
    const cases: Array<[string, string, Record<string, unknown>, string]> = [
      // A facilitator asking for another group's ids: null, as for a missing id
      [
        "group of another facilitator",
        `query($g: ID!) { node(id: $g) { ... on Group { id name sessions { totalCount } } } }`,
        { g: w.groupIds[1] },
        w.tokens.facilitator,
      ],
      ["session of another group", operation("dashboard.graphql", "SessionRoster"), { sessionId: w.sessionIds[6] }, w.tokens.facilitator],
      [
        "participant in none of their groups",
        operation("dashboard.graphql", "ParticipantHistory"),
        { participantId: w.loneParticipantId },
        w.tokens.facilitator,
      ],
      ["center of another's", operation("dashboard.graphql", "CenterDashboard"), { centerId: w.centerId }, w.tokens.outsider],
      ["roster of another's", operation("dashboard.graphql", "SessionRoster"), { sessionId: w.sessionIds[0] }, w.tokens.outsider],
      ["participant of another center", operation("dashboard.graphql", "ParticipantHistory"), { participantId: w.otherParticipantId }, w.tokens.clinician],
      ["missing participant", operation("dashboard.graphql", "ParticipantHistory"), { participantId: gid("Participant", randomUUID()) }, w.tokens.clinician],
      ["not an id", operation("dashboard.graphql", "ParticipantHistory"), { participantId: "not an id" }, w.tokens.clinician],
      // An API client: no root field the compiler knows is open to its scopes
      ["API client's dashboard", operation("dashboard.graphql", "CenterDashboard"), { centerId: w.centerId }, w.tokens.apiClient],
      [
        "API client's session",
        `query($s: ID!) { node(id: $s) { ... on Session { id startsAt status group { id name } } } }`,
        { s: w.sessionIds[0] },
        w.tokens.apiClient,
      ],
    ];
    for (const [what, query, variables, token] of cases) {
      const answer = await same(query, variables, token);
      expect(answer.compiled, what).toBe(false);
      if (token === w.tokens.facilitator) expect(answer.body.data.node, what).toBeNull();
    }
  });

  it("pages, filters, aliases, fragments and directives as the resolvers do", async () => {
    const centerId = w.centerId;
    const first = await same(`query($c: ID!) { center(id: $c) { groups(first: 1) { pageInfo { endCursor } } } }`, { c: centerId }, w.tokens.clinician);
    const after = first.body.data.center.groups.pageInfo.endCursor as string;
    const queries: Array<[string, Record<string, unknown>]> = [
      [
        `query($c: ID!, $a: String) { center(id: $c) { __typename id groups(first: 1, after: $a) { __typename totalCount pageInfo { __typename hasNextPage hasPreviousPage startCursor endCursor } edges { __typename cursor node { id name } } nodes { status capacity } } } }`,
        { c: centerId, a: after },
      ],
      [
        `query($c: ID!) { center(id: $c) { groups(last: 2) { totalCount pageInfo { hasNextPage hasPreviousPage startCursor endCursor } nodes { name } } } }`,
        { c: centerId },
      ],
      [`query($c: ID!) { center(id: $c) { groups(status: CLOSED) { totalCount nodes { name enrollments { totalCount } } } } }`, { c: centerId }],
      [
        `query($c: ID!) { center(id: $c) { groups(first: 5, after: "cG9zOjk") { totalCount pageInfo { hasNextPage hasPreviousPage startCursor endCursor } edges { cursor } } } }`,
        { c: centerId },
      ],
      [
        `query($c: ID!) { c1: center(id: $c) { n: name groups { nodes { ...G } } } c2: center(id: $c) { timezone } }
         fragment G on Group { id sessions(first: 2, after: "cG9zOjE") { pageInfo { hasPreviousPage hasNextPage } nodes { ...S } } enrollments(status: WAITLISTED) { totalCount nodes { status participant { lastName } } } }
         fragment S on Session { startsAt endsAt status attendanceSummary { expected present late leftEarly absent excused unrecorded } }`,
        { c: centerId },
      ],
      [
        `query($g: ID!, $yes: Boolean!) { node(id: $g) { __typename id ... on Group { name @include(if: $yes) status @skip(if: $yes) facilitators { __typename id name } program { __typename id name } sessions(last: 100, status: CANCELLED) { totalCount nodes { id status } } } } }`,
        { g: w.groupIds[0], yes: true },
      ],
      [
        `query($g: ID!) { node(id: $g) { ... on Group { sessions(from: "2026-01-08T23:00:00Z", to: "2026-01-15T23:00:00.000Z", last: 1) { totalCount nodes { startsAt } } } } }`,
        { g: w.groupIds[1] },
      ],
      [
        `query($p: ID!) { node(id: $p) { ... on Participant { firstName preferredName status enrollments(status: COMPLETED) { nodes { status group { name } } } attendance(last: 3) { totalCount pageInfo { hasPreviousPage startCursor } nodes { id status note minutesAttended session { id status group { id } } } } } } }`,
        { p: w.participantIds[0] },
      ],
      [
        `query($s: ID!) { node(id: $s) { ... on Session { attendance { __typename id participant { id enrollments(first: 1) { edges { node { id } } } } session { startsAt } } } } }`,
        { s: w.sessionIds[1] },
      ],
      [`query($c: ID!) { node(id: $c) { ... on Center { name groups(first: 1) { nodes { id } } } } }`, { c: centerId }],
    ];
    for (const [query, variables] of queries) {
      const answer = await same(query, variables, w.tokens.admin);
      expect(answer.body.errors, query).toBeUndefined();
      expect(answer.compiled, query).toBe(true);
    }
    // And arguments out of range, fields the compiler does not know (computed ones: a column of the same name it reads) and `before` are answered by the resolvers
    for (const query of [
      `query($c: ID!) { center(id: $c) { groups(first: 0) { totalCount } } }`,
      `query($c: ID!) { center(id: $c) { groups(first: 1, last: 1) { totalCount } } }`,
      `query($c: ID!) { center(id: $c) { groups(before: "cG9zOjI") { totalCount } } }`,
      `query($c: ID!) { center(id: $c) { programs { totalCount } groups { totalCount } } }`,
      `query($c: ID!) { center(id: $c) { groups(first: 1, after: "bad") { totalCount } } }`,
    ]) {
      const answer = await same(query, { c: centerId }, w.tokens.admin);
      expect(answer.compiled, query).toBe(false);
    }
  });

  it("answers any part of the dashboard's selection as the resolvers do (generated selections)", async () => {
    // A tree of the fields the compiler knows; each run keeps a random part of it.
    type Tree = Array<string | [string, Tree]>;
    const summary: Tree = ["expected", "present", "late", "leftEarly", "absent", "excused", "unrecorded", "__typename"];
    const participant: Tree = ["id", "firstName", "lastName", "preferredName", "status"];
    const session: Tree = ["id", "startsAt", "endsAt", "status", ["attendanceSummary", summary], ["group", ["id", "name"]]];
    const group: Tree = [
      "id",
      "name",
      "status",
      "capacity",
      ["program", ["id", "name"]],
      ["facilitators", ["id", "name"]],
      ["enrollments(first: 2)", ["totalCount", ["nodes", ["id", "status", ["participant", participant]]]]],
      [
        "sessions(last: 3)",
        [
          ["pageInfo", ["hasNextPage", "hasPreviousPage", "startCursor", "endCursor"]],
          ["edges", ["cursor", ["node", session]]],
        ],
      ],
    ];
    const tree: Tree = ["id", "name", "timezone", ["groups(first: 2)", ["totalCount", ["nodes", group], ["pageInfo", ["endCursor"]]]]];
    const pick = (node: Tree, keep: (path: string) => boolean, path = ""): string =>
      node
        .map((f) => {
          const name = typeof f === "string" ? f : f[0];
          if (!keep(`${path}/${name}`)) return "";
          if (typeof f === "string") return name;
          const inner = pick(f[1], keep, `${path}/${name}`);
          return inner ? `${name} { ${inner} }` : "";
        })
        .filter(Boolean)
        .join(" ");
    await fc.assert(
      fc.asyncProperty(fc.integer({ min: 1, max: 2 ** 31 - 1 }), async (seed) => {
        const rng = fc.sample(fc.boolean(), { seed, numRuns: 200 });
        let i = 0;
        const selection = pick(tree, () => rng[i++ % rng.length]) || "id";
        const query = `query($c: ID!) { center(id: $c) { ${selection} } }`;
        // Clinical staff and the facilitator (of their group) read all of it; a VIEWER all but participants
        for (const token of [w.tokens.clinician, w.tokens.facilitator]) {
          const answer = await same(query, { c: w.centerId }, token);
          expect(answer.compiled, query).toBe(true);
        }
        const byViewer = await same(query, { c: w.centerId }, w.tokens.viewer);
        expect(byViewer.compiled, query).toBe(!/participant \{/.test(selection));
      }),
      { numRuns: 20 },
    );
  });
});
