// Isolation between centers: for a staff member who is ADMIN at center A only, every object of
// center B reads exactly like an object that does not exist — through node(id), center(id) and
// every mutation input that takes an id — and nothing of B changes. Malformed ids (not base64,
// the wrong type, blank) read the same way too.
import { randomUUID } from "node:crypto";
import { beforeEach, describe, expect, it } from "vitest";
import { setClock } from "../src/common/clock.js";
import { fromGlobalId, toGlobalId, type NodeTypeName } from "../src/common/ids.js";
import { asOrgAdmin, mutationDocument, type Api } from "./support/fixtures.js";
import { useTestServer, type GqlResult } from "./support/server.js";

const t = useTestServer();

// "Now" is an input: every test runs at a fixed instant after the sessions below (January to March
// 2025), so completing one with center A's own ids is allowed whatever the real date.
const NOW = "2025-06-04T15:00:00.000Z";
beforeEach(() => setClock(NOW));

const SCHEDULE = { daysOfWeek: ["MONDAY"], startTime: "18:00", durationMinutes: 90 };

/** Everything a center holds, built through the API by the org admin. */
interface CenterData {
  centerId: string;
  /** A CLINICIAN of this center only; facilitates its group. */
  staffId: string;
  programId: string;
  groupId: string;
  /** Enrolled (ACTIVE) in the group, recorded PRESENT at sessions[0]. */
  participantId: string;
  enrollmentId: string;
  /** Another ACTIVE enrolment, for the control that ends one. */
  enrollmentToEndId: string;
  /** Participants in no group (controls that enrol one). */
  freeParticipantIds: [string, string];
  /** Five past sessions: 0 has attendance; 1..4 are used by the controls (record, cancel, complete, update). */
  sessionIds: string[];
  attendanceId: string;
  /** VIEWERs whose memberships the controls remove. */
  spareStaffIds: [string, string];
}

async function buildCenter(org: Api, key: string): Promise<CenterData> {
  const centerId = await org.createCenter(`Center ${key}`, "America/New_York");
  const staff = await org.createStaff(`clinician@${key}.test`, [{ centerId, role: "CLINICIAN" }]);
  const spare1 = await org.createStaff(`spare1@${key}.test`, [{ centerId, role: "VIEWER" }]);
  const spare2 = await org.createStaff(`spare2@${key}.test`, [{ centerId, role: "VIEWER" }]);
  const { program } = await org.mutate("createProgram", { centerId, name: `Program ${key}`, curriculum: ["One", "Two"] }, "program { id }");
  const { group } = await org.mutate(
    "createGroup",
    { programId: program.id, name: `Group ${key}`, capacity: 10, startsOn: "2025-01-06", status: "ACTIVE", facilitatorIds: [staff.id], schedule: SCHEDULE },
    "group { id }",
  );
  const person = async (firstName: string) =>
    (await org.mutate("createParticipant", { centerId, firstName, lastName: key.toUpperCase() }, "participant { id }")).participant.id as string;
  const enroll = async (participantId: string) =>
    (await org.mutate("enrollParticipant", { groupId: group.id, participantId }, "enrollment { id }")).enrollment.id as string;
  const participantId = await person("Member");
  const enrollmentId = await enroll(participantId);
  const enrollmentToEndId = await enroll(await person("Leaving"));
  const freeParticipantIds: [string, string] = [await person("Free1"), await person("Free2")];
  const { sessions } = await org.mutate("scheduleSessions", { groupId: group.id, from: "2025-01-06", to: "2025-02-03" }, "sessions { id }");
  const sessionIds = sessions.map((s: { id: string }) => s.id) as string[];
  const { attendance } = await org.mutate(
    "recordAttendance",
    { sessionId: sessionIds[0], records: [{ participantId, status: "PRESENT", note: `Note ${key}` }] },
    "attendance { id }",
  );
  return {
    centerId,
    staffId: staff.id,
    programId: program.id,
    groupId: group.id,
    participantId,
    enrollmentId,
    enrollmentToEndId,
    freeParticipantIds,
    sessionIds,
    attendanceId: attendance[0].id,
    spareStaffIds: [spare1.id, spare2.id],
  };
}

interface World {
  org: Api;
  a: CenterData;
  b: CenterData;
  /** ADMIN at A only. */
  adminA: string;
}

async function buildWorld(): Promise<World> {
  const org = await asOrgAdmin(t.server);
  const a = await buildCenter(org, "a");
  const b = await buildCenter(org, "b");
  const adminA = await org.createStaff("admin@a.test", [{ centerId: a.centerId, role: "ADMIN" }]);
  return { org, a, b, adminA: adminA.token };
}

// ---------------------------------------------------------------------------------------------
// Every field and argument that takes an id. `vars(w, id)` puts the id under test in its place,
// with everything else valid at A; `pick(c)` is that id in a center's data (B's for the check,
// A's for the control that proves the request is otherwise good).
// ---------------------------------------------------------------------------------------------

interface Case {
  name: string;
  type: NodeTypeName;
  query: string;
  pick: (c: CenterData) => string;
  vars: (w: World, id: string) => Record<string, unknown>;
  /** An optional id: left blank, it means "not given" rather than a missing object. */
  optional?: boolean;
}

const node = (type: NodeTypeName, pick: Case["pick"]): Case => ({
  name: `node(id: ${type})`,
  type,
  query: `query($id: ID!) { node(id: $id) { __typename id } }`,
  pick,
  vars: (_w, id) => ({ id }),
});

let seq = 0;

function input(
  field: string,
  name: string,
  type: NodeTypeName,
  pick: Case["pick"],
  build: (w: World, id: string) => Record<string, unknown>,
  optional = false,
): Case {
  return {
    name: `${field}.${name}`,
    type,
    query: mutationDocument(field, "__typename"),
    pick,
    vars: (w, id) => ({ input: build(w, id) }),
    optional,
  };
}

const CASES: Case[] = [
  node("Center", (c) => c.centerId),
  node("Staff", (c) => c.staffId),
  node("Program", (c) => c.programId),
  node("Group", (c) => c.groupId),
  node("Participant", (c) => c.participantId),
  node("Enrollment", (c) => c.enrollmentId),
  node("Session", (c) => c.sessionIds[0]),
  node("Attendance", (c) => c.attendanceId),
  {
    name: "center(id)",
    type: "Center",
    query: `query($id: ID!) { center(id: $id) { id name } }`,
    pick: (c) => c.centerId,
    vars: (_w, id) => ({ id }),
  },
  input(
    "updateCenter",
    "centerId",
    "Center",
    (c) => c.centerId,
    (_w, id) => ({ centerId: id, phone: "+1 555 0199" }),
  ),
  input(
    "createProgram",
    "centerId",
    "Center",
    (c) => c.centerId,
    (_w, id) => ({ centerId: id, name: "Intruder program" }),
  ),
  input(
    "updateProgram",
    "programId",
    "Program",
    (c) => c.programId,
    (_w, id) => ({ programId: id, name: "Renamed" }),
  ),
  input(
    "createGroup",
    "programId",
    "Program",
    (c) => c.programId,
    (_w, id) => ({
      programId: id,
      name: "New group",
      capacity: 5,
      startsOn: "2025-03-03",
      schedule: SCHEDULE,
    }),
  ),
  input(
    "createGroup",
    "facilitatorIds",
    "Staff",
    (c) => c.staffId,
    (w, id) => ({
      programId: w.a.programId,
      name: "New group",
      capacity: 5,
      startsOn: "2025-03-03",
      schedule: SCHEDULE,
      facilitatorIds: [id],
    }),
  ),
  input(
    "createGroup",
    "leadFacilitatorId",
    "Staff",
    (c) => c.staffId,
    (w, id) => ({
      programId: w.a.programId,
      name: "New group",
      capacity: 5,
      startsOn: "2025-03-03",
      schedule: SCHEDULE,
      facilitatorIds: [w.a.staffId],
      leadFacilitatorId: id,
    }),
    true,
  ),
  input(
    "updateGroup",
    "groupId",
    "Group",
    (c) => c.groupId,
    (_w, id) => ({ groupId: id, location: "Room 9" }),
  ),
  input(
    "updateGroup",
    "facilitatorIds",
    "Staff",
    (c) => c.staffId,
    (w, id) => ({ groupId: w.a.groupId, facilitatorIds: [id] }),
  ),
  input(
    "updateGroup",
    "leadFacilitatorId",
    "Staff",
    (c) => c.staffId,
    (w, id) => ({
      groupId: w.a.groupId,
      facilitatorIds: [w.a.staffId],
      leadFacilitatorId: id,
    }),
    true,
  ),
  input(
    "createParticipant",
    "centerId",
    "Center",
    (c) => c.centerId,
    (_w, id) => ({ centerId: id, firstName: "New", lastName: "Person" }),
  ),
  input(
    "updateParticipant",
    "participantId",
    "Participant",
    (c) => c.participantId,
    (_w, id) => ({ participantId: id, preferredName: "X" }),
  ),
  input(
    "enrollParticipant",
    "groupId",
    "Group",
    (c) => c.groupId,
    (w, id) => ({ groupId: id, participantId: w.a.freeParticipantIds[0] }),
  ),
  input(
    "enrollParticipant",
    "participantId",
    "Participant",
    (c) => c.freeParticipantIds[1],
    (w, id) => ({ groupId: w.a.groupId, participantId: id }),
  ),
  input(
    "endEnrollment",
    "enrollmentId",
    "Enrollment",
    (c) => c.enrollmentToEndId,
    (_w, id) => ({ enrollmentId: id, status: "WITHDRAWN" }),
  ),
  input(
    "updateEnrollment",
    "enrollmentId",
    "Enrollment",
    (c) => c.enrollmentId,
    (_w, id) => ({ enrollmentId: id, role: "PEER_MENTOR" }),
  ),
  input(
    "scheduleSessions",
    "groupId",
    "Group",
    (c) => c.groupId,
    (_w, id) => ({ groupId: id, from: "2025-03-01", to: "2025-03-31" }),
  ),
  input(
    "cancelSession",
    "sessionId",
    "Session",
    (c) => c.sessionIds[2],
    (_w, id) => ({ sessionId: id, reason: "Closed" }),
  ),
  input(
    "completeSession",
    "sessionId",
    "Session",
    (c) => c.sessionIds[3],
    (_w, id) => ({ sessionId: id }),
  ),
  input(
    "updateSession",
    "sessionId",
    "Session",
    (c) => c.sessionIds[4],
    (_w, id) => ({ sessionId: id, topic: "Changed" }),
  ),
  input(
    "recordAttendance",
    "sessionId",
    "Session",
    (c) => c.sessionIds[1],
    (w, id) => ({
      sessionId: id,
      records: [{ participantId: w.a.participantId, status: "PRESENT" }],
    }),
  ),
  input(
    "recordAttendance",
    "records.participantId",
    "Participant",
    (c) => c.participantId,
    (w, id) => ({
      sessionId: w.a.sessionIds[1],
      records: [{ participantId: id, status: "LATE" }],
    }),
  ),
  input(
    "setStaffMembership",
    "centerId",
    "Center",
    (c) => c.centerId,
    (w, id) => ({ centerId: id, staffId: w.a.staffId, role: "ADMIN" }),
  ),
  input(
    "setStaffMembership",
    "staffId",
    "Staff",
    (c) => c.staffId,
    (w, id) => ({ centerId: w.a.centerId, staffId: id, role: "VIEWER" }),
  ),
  input(
    "createStaff",
    "memberships.centerId",
    "Center",
    (c) => c.centerId,
    (_w, id) => ({
      email: `new${++seq}@a.test`,
      name: "New Staff",
      memberships: [{ centerId: id, role: "CLINICIAN" }],
    }),
  ),
  input(
    "removeStaffMembership",
    "centerId",
    "Center",
    (c) => c.centerId,
    (w, id) => ({ centerId: id, staffId: w.a.spareStaffIds[0] }),
  ),
  input(
    "removeStaffMembership",
    "staffId",
    "Staff",
    (c) => c.spareStaffIds[1],
    (w, id) => ({ centerId: w.a.centerId, staffId: id }),
  ),
];

/** What a client sees of a response. */
const seen = (res: GqlResult) => ({ status: res.status, data: res.data, errors: res.errors });

const fingerprint = () => t.server.database.fingerprint();

/** A type other than `type`, to put a real uuid behind the wrong prefix. */
const otherType = (type: NodeTypeName): NodeTypeName => (type === "Group" ? "Program" : "Group");

describe("isolation between centers", () => {
  it("answers every id-taking field for B's object exactly as for an id that does not exist, and changes nothing", async () => {
    // Given centers A and B with full data, and a staff member who is ADMIN at A only
    const w = await buildWorld();
    for (const c of CASES) {
      const send = (id: string) => t.server.gql(c.query, c.vars(w, id), { token: w.adminA });
      const before = await fingerprint();
      // When they send B's id, and a random id of the same type
      const missing = seen(await send(toGlobalId(c.type, randomUUID())));
      const ofB = seen(await send(c.pick(w.b)));
      // Then both answers are the same, and nothing was written
      expect.soft(ofB, `${c.name}: B's object differs from a missing one`).toEqual(missing);
      expect.soft(await fingerprint(), `${c.name}: something was written`).toBe(before);
    }
  });

  it("answers malformed ids (not base64, wrong type prefix, blank) exactly as missing ones", async () => {
    const w = await buildWorld();
    for (const c of CASES) {
      const send = (id: string) => t.server.gql(c.query, c.vars(w, id), { token: w.adminA });
      const before = await fingerprint();
      const missing = seen(await send(toGlobalId(c.type, randomUUID())));
      const ownUuid = fromGlobalId(c.pick(w.a))!.id;
      const malformed = {
        "not base64": "%%% not an id %%%",
        // A's own object of the right kind, named as another type
        "wrong type prefix": toGlobalId(otherType(c.type), ownUuid),
        "no type prefix": Buffer.from(ownUuid).toString("base64url"),
        ...(c.optional ? {} : { blank: "" }),
      };
      for (const [kind, id] of Object.entries(malformed)) {
        expect.soft(seen(await send(id)), `${c.name}: ${kind} differs from a missing id`).toEqual(missing);
      }
      expect.soft(await fingerprint(), `${c.name}: something was written`).toBe(before);
    }
  });

  it("answers nodes(ids) for B's objects as it does for missing ones", async () => {
    const w = await buildWorld();
    const nodeCases = CASES.filter((c) => c.name.startsWith("node("));
    const query = `query($ids: [ID!]!) { nodes(ids: $ids) { __typename id } }`;
    const ofB = await t.server.gql(query, { ids: nodeCases.map((c) => c.pick(w.b)) }, { token: w.adminA });
    const missing = await t.server.gql(query, { ids: nodeCases.map((c) => toGlobalId(c.type, randomUUID())) }, { token: w.adminA });
    expect(seen(ofB)).toEqual(seen(missing));
    expect(ofB.data.nodes).toEqual(nodeCases.map(() => null));
  });

  it("succeeds with A's own ids in the same requests (so the checks above reach the id)", async () => {
    const w = await buildWorld();
    const failures: string[] = [];
    for (const c of CASES) {
      const res = await t.server.gql(c.query, c.vars(w, c.pick(w.a)), { token: w.adminA });
      const root = res.data ? Object.values(res.data)[0] : null;
      const payloadErrors = (root as { userErrors?: unknown[] } | null)?.userErrors ?? [];
      if (res.errors || root === null || payloadErrors.length) failures.push(`${c.name}: ${JSON.stringify(res.errors ?? root)}`);
    }
    expect(failures).toEqual([]);
  });

  it("shows nothing of B in lists and nested fields", async () => {
    // Given a staff member with roles at both centers
    const w = await buildWorld();
    const both = await w.org.createStaff("both@a.test", [
      { centerId: w.a.centerId, role: "CLINICIAN" },
      { centerId: w.b.centerId, role: "ADMIN" },
    ]);
    const res = await t.server.gql(
      `query($staff: ID!, $a: ID!) {
        centers(first: 100) { totalCount nodes { id } }
        node(id: $staff) { ... on Staff { memberships { role center { id } } } }
        center(id: $a) { staff(first: 100) { nodes { id } } }
      }`,
      { staff: both.id, a: w.a.centerId },
      { token: w.adminA },
    );
    expect(res.errors).toBeUndefined();
    // Then A's admin sees only A, and only the membership at A
    expect(res.data.centers).toEqual({ totalCount: 1, nodes: [{ id: w.a.centerId }] });
    expect(res.data.node.memberships).toEqual([{ role: "CLINICIAN", center: { id: w.a.centerId } }]);
    const staffOfA = res.data.center.staff.nodes.map((s: { id: string }) => s.id);
    expect(staffOfA).toContain(both.id);
    expect(staffOfA).not.toContain(w.b.staffId);
  });
});
