// Attendance over HTTP: the upsert, atomic batches, refusals, history, defaults, the summary and
// roster of a session, two staff recording at once, a participant's attendance and what VIEWERs see.
import { randomUUID } from "node:crypto";
import { asc, count, eq, inArray } from "drizzle-orm";
import { beforeEach, describe, expect, it } from "vitest";
import { setClock } from "../src/common/clock.js";
import { decodeId, toGlobalId } from "../src/common/ids.js";
import { attendance, attendanceHistory } from "../src/db/schema.js";
import { asOrgAdmin, type Api } from "./support/fixtures.js";
import { operation } from "./support/operations.js";
import { useTestServer } from "./support/server.js";

const t = useTestServer();

// "Now" is an input: every test runs at a fixed instant a month before the groups below start, so
// the members enrolled "now" hold their seats at every January session, whatever the real date.
const NOW = "2026-12-02T15:00:00.000Z";
beforeEach(() => setClock(NOW));

type Staff = { id: string; token: string; email: string };
type SessionRef = { id: string; startsAt: string; endsAt: string };
type Rec = { participantId: string; status: string; minutesAttended?: number | null; note?: string | null };

const NAMES: Array<[string, string]> = [
  ["Ana", "Alvarez"],
  ["Ben", "Brooks"],
  ["Cy", "Chen"],
  ["Dee", "Diaz"],
  ["Eli", "Evans"],
  ["Fay", "Fox"],
  ["Gus", "Gray"],
  ["Hal", "Hunt"],
];

const NOT_ENROLLED = "No enrolment in this session's group for that participant";

const RECORD = `mutation($input: RecordAttendanceInput!) {
  recordAttendance(input: $input) {
    attendance { id status minutesAttended note version recordedAt recordedBy { id } participant { id } }
    userErrors { field message code }
  }
}`;

/**
 * A center (New York) with a center ADMIN, a VIEWER and two FACILITATORs: `facilitator` leads the
 * Monday group (90-minute sessions, every Monday of January 2027 scheduled), `otherFacilitator`
 * the Wednesday group (60 minutes, January 2027 scheduled). `members` are ACTIVE in the Monday
 * group, in name order. Another center exists with nothing in it.
 */
async function world(opts: { members?: number; capacity?: number } = {}) {
  const members = opts.members ?? 6;
  const admin = await asOrgAdmin(t.server);
  const [centerId, otherCenterId] = await Promise.all([
    admin.createCenter("North Clinic", "America/New_York"),
    admin.createCenter("South Clinic", "America/Chicago"),
  ]);
  const [centerAdmin, facilitator, otherFacilitator, viewer, program] = await Promise.all([
    admin.createStaff("admin@north.test", [{ centerId, role: "ADMIN" }]),
    admin.createStaff("fac@north.test", [{ centerId, role: "FACILITATOR" }]),
    admin.createStaff("fac2@north.test", [{ centerId, role: "FACILITATOR" }]),
    admin.createStaff("viewer@north.test", [{ centerId, role: "VIEWER" }]),
    admin.mutate("createProgram", { centerId, name: "Relapse prevention" }, "program { id }"),
  ]);
  const group = async (name: string, facilitatorId: string, day: string, minutes: number, capacity: number) => {
    const g = await admin.mutate(
      "createGroup",
      {
        programId: program.program.id,
        name,
        capacity,
        status: "ACTIVE",
        startsOn: "2027-01-01",
        endsOn: "2027-06-30",
        facilitatorIds: [facilitatorId],
        schedule: { daysOfWeek: [day], startTime: "18:00", durationMinutes: minutes },
      },
      "group { id }",
    );
    const groupId: string = g.group.id;
    const s = await admin.mutate("scheduleSessions", { groupId, from: "2027-01-01", to: "2027-01-31" }, "sessions { id startsAt endsAt }");
    return { groupId, sessions: s.sessions as SessionRef[] };
  };
  const participant = async (i: number, center = centerId) => {
    const [firstName, lastName] = NAMES[i];
    const p = await admin.mutate("createParticipant", { centerId: center, firstName, lastName }, "participant { id }");
    return p.participant.id as string;
  };
  const enroll = async (groupId: string, participantId: string) => {
    const e = await admin.mutate("enrollParticipant", { groupId, participantId }, "enrollment { id status }");
    return e.enrollment as { id: string; status: string };
  };
  const [monday, wednesday, memberIds] = await Promise.all([
    group("Monday evening", facilitator.id, "MONDAY", 90, opts.capacity ?? 20),
    group("Wednesday evening", otherFacilitator.id, "WEDNESDAY", 60, 20),
    Promise.all(Array.from({ length: members }, (_, i) => participant(i))),
  ]);
  const enrollmentIds = (await Promise.all(memberIds.map((id) => enroll(monday.groupId, id)))).map((e) => e.id);
  return {
    admin,
    centerId,
    otherCenterId,
    centerAdmin,
    facilitator,
    otherFacilitator,
    viewer,
    groupId: monday.groupId,
    sessions: monday.sessions,
    otherGroupId: wednesday.groupId,
    otherSessions: wednesday.sessions,
    members: memberIds,
    enrollmentIds,
    /** A participant of this center (or `center`) named NAMES[i], not enrolled anywhere. */
    participant,
    enroll,
  };
}

async function record(token: string, sessionId: string, records: Rec[]) {
  const res = await t.server.gql(RECORD, { input: { sessionId, records } }, { token });
  expect(res.errors, JSON.stringify(res.errors)).toBeUndefined();
  return res.data.recordAttendance as {
    attendance: Array<{
      id: string;
      status: string;
      minutesAttended: number | null;
      note: string | null;
      version: number;
      recordedAt: string;
      recordedBy: { id: string } | null;
      participant: { id: string };
    }> | null;
    userErrors: Array<{ field: string[] | null; message: string; code: string }>;
  };
}

async function recordOk(token: string, sessionId: string, records: Rec[]) {
  const payload = await record(token, sessionId, records);
  expect(payload.userErrors).toEqual([]);
  return payload.attendance!;
}

/** Rows in the attendance tables, read straight from the database. */
async function rowCounts() {
  const db = t.server.database.db;
  const [a] = await db.select({ n: count() }).from(attendance);
  const [h] = await db.select({ n: count() }).from(attendanceHistory);
  return { attendance: Number(a.n), history: Number(h.n) };
}

async function gqlAs(api: Api | Staff, query: string, variables: Record<string, unknown> = {}) {
  return t.server.gql(query, variables, { token: api.token });
}

const present = (participantId: string): Rec => ({ participantId, status: "PRESENT" });

describe("recordAttendance: the upsert", () => {
  it("given no record, when attendance is recorded, then version 1 is created; when recorded again with another status, then the same record becomes version 2", async () => {
    const w = await world({ members: 2 });
    const session = w.sessions[0];

    const [first] = await recordOk(w.facilitator.token, session.id, [present(w.members[0])]);
    expect(first).toMatchObject({ status: "PRESENT", version: 1, recordedBy: { id: w.facilitator.id }, participant: { id: w.members[0] } });

    const [second] = await recordOk(w.centerAdmin.token, session.id, [{ participantId: w.members[0], status: "ABSENT" }]);
    expect(second).toMatchObject({ id: first.id, status: "ABSENT", version: 2, minutesAttended: 0, recordedBy: { id: w.centerAdmin.id } });
    expect(await rowCounts()).toEqual({ attendance: 1, history: 2 });
  });

  it("given the contract's RecordAttendance operation, when a facilitator sends it as written, then it upserts and answers in input order", async () => {
    const w = await world({ members: 3 });
    const op = operation("care.graphql", "RecordAttendance");
    const send = (records: Rec[]) => t.server.gql(op, { input: { sessionId: w.sessions[0].id, records } }, { token: w.facilitator.token });

    const first = await send([
      { participantId: w.members[2], status: "LATE", note: "Bus was late" },
      { participantId: w.members[0], status: "PRESENT" },
    ]);
    expect(first.errors).toBeUndefined();
    expect(first.data.recordAttendance.userErrors).toEqual([]);
    expect(first.data.recordAttendance.attendance).toEqual([
      { id: expect.any(String), status: "LATE", participant: { id: w.members[2] } },
      { id: expect.any(String), status: "PRESENT", participant: { id: w.members[0] } },
    ]);

    const again = await send([{ participantId: w.members[0], status: "EXCUSED" }]);
    expect(again.data.recordAttendance.attendance).toEqual([
      { id: first.data.recordAttendance.attendance[1].id, status: "EXCUSED", participant: { id: w.members[0] } },
    ]);
    expect(await rowCounts()).toEqual({ attendance: 2, history: 3 });
  });
});

describe("recordAttendance: an atomic batch", () => {
  it("given a batch of 5 whose 4th names a participant not enrolled in the group, when recorded, then NOT_ENROLLED points at it and none of the 5 is written", async () => {
    const w = await world({ members: 5 });
    const session = w.sessions[0];
    const [existing] = await recordOk(w.centerAdmin.token, session.id, [present(w.members[0])]);
    const stranger = await w.participant(6);
    const before = await rowCounts();
    expect(before).toEqual({ attendance: 1, history: 1 });

    const payload = await record(w.centerAdmin.token, session.id, [
      { participantId: w.members[0], status: "ABSENT" },
      present(w.members[1]),
      present(w.members[2]),
      present(stranger),
      present(w.members[3]),
    ]);

    expect(payload.attendance).toBeNull();
    expect(payload.userErrors).toEqual([{ field: ["input", "records", "3", "participantId"], code: "NOT_ENROLLED", message: NOT_ENROLLED }]);
    expect(await rowCounts()).toEqual(before);
    const [row] = await t.server.database.db.select().from(attendance);
    expect(row).toMatchObject({ status: "PRESENT", version: 1 });
    expect(toGlobalId("Attendance", row.id)).toBe(existing.id);
  });

  const invalidBatches: Array<{ name: string; batch: (m: string[]) => Rec[]; errors: Array<{ field: string[]; code: string }> }> = [
    {
      name: "a participant twice (DUPLICATE)",
      batch: (m) => [present(m[0]), present(m[1]), present(m[2]), { participantId: m[1], status: "LATE" }, present(m[3])],
      errors: [{ field: ["input", "records", "3", "participantId"], code: "DUPLICATE" }],
    },
    {
      name: "minutes out of range (INVALID)",
      batch: (m) => [
        { participantId: m[0], status: "PRESENT", minutesAttended: 1441 },
        present(m[1]),
        { participantId: m[2], status: "LATE", minutesAttended: -1 },
        present(m[3]),
        present(m[4]),
      ],
      errors: [
        { field: ["input", "records", "0", "minutesAttended"], code: "INVALID" },
        { field: ["input", "records", "2", "minutesAttended"], code: "INVALID" },
      ],
    },
    {
      name: "ABSENT with minutes attended (INVALID)",
      batch: (m) => [present(m[0]), present(m[1]), present(m[2]), present(m[3]), { participantId: m[4], status: "ABSENT", minutesAttended: 10 }],
      errors: [{ field: ["input", "records", "4", "minutesAttended"], code: "INVALID" }],
    },
    {
      name: "no records (REQUIRED)",
      batch: () => [],
      errors: [{ field: ["input", "records"], code: "REQUIRED" }],
    },
    {
      name: "201 records (INVALID)",
      batch: () => Array.from({ length: 201 }, () => present(toGlobalId("Participant", randomUUID()))),
      errors: [{ field: ["input", "records"], code: "INVALID" }],
    },
  ];

  it.each(invalidBatches)("given a batch with $name, when recorded, then the error names the field and nothing is written", async ({ batch, errors }) => {
    const w = await world({ members: 5 });
    await recordOk(w.centerAdmin.token, w.sessions[0].id, [present(w.members[0])]);
    const before = await rowCounts();

    const payload = await record(w.centerAdmin.token, w.sessions[0].id, batch(w.members));

    expect(payload.attendance).toBeNull();
    expect(payload.userErrors.map(({ field, code }) => ({ field, code }))).toEqual(errors);
    for (const e of payload.userErrors) expect(e.message).toEqual(expect.any(String));
    expect(await rowCounts()).toEqual(before);
  });
});

describe("recordAttendance: who may be recorded, and when", () => {
  it("given a cancelled session, when attendance is recorded, then SESSION_CANCELLED and nothing is written", async () => {
    const w = await world({ members: 2 });
    await w.admin.mutate("cancelSession", { sessionId: w.sessions[0].id, reason: "Snow" }, "session { id }");

    const payload = await record(w.facilitator.token, w.sessions[0].id, [present(w.members[0]), present(w.members[1])]);

    expect(payload.attendance).toBeNull();
    expect(payload.userErrors).toEqual([{ field: ["input", "sessionId"], code: "SESSION_CANCELLED", message: "The session was cancelled" }]);
    expect(await rowCounts()).toEqual({ attendance: 0, history: 0 });
  });

  it("given a participant of another center, when recorded, then NOT_ENROLLED, the very answer a nonexistent participant id gets", async () => {
    const w = await world({ members: 1 });
    const foreign = await w.participant(5, w.otherCenterId);

    const other = await record(w.centerAdmin.token, w.sessions[0].id, [present(w.members[0]), present(foreign)]);
    const missing = await record(w.centerAdmin.token, w.sessions[0].id, [present(w.members[0]), present(toGlobalId("Participant", randomUUID()))]);
    const garbage = await record(w.centerAdmin.token, w.sessions[0].id, [present(w.members[0]), present("not-an-id")]);

    const expected = [{ field: ["input", "records", "1", "participantId"], code: "NOT_ENROLLED", message: NOT_ENROLLED }];
    expect(other).toEqual({ attendance: null, userErrors: expected });
    expect(missing).toEqual(other);
    expect(garbage).toEqual(other);
    expect(await rowCounts()).toEqual({ attendance: 0, history: 0 });
  });

  it("given a participant only ever WAITLISTED in the group, when recorded, then NOT_ENROLLED (they never held a seat), also after leaving the waitlist", async () => {
    const w = await world({ members: 2, capacity: 2 });
    const waiting = await w.participant(2);
    const enrolment = await w.enroll(w.groupId, waiting);
    expect(enrolment.status).toBe("WAITLISTED");

    const payload = await record(w.facilitator.token, w.sessions[0].id, [present(w.members[0]), present(waiting)]);
    expect(payload.userErrors).toEqual([{ field: ["input", "records", "1", "participantId"], code: "NOT_ENROLLED", message: NOT_ENROLLED }]);

    await w.admin.mutate("endEnrollment", { enrollmentId: enrolment.id, status: "WITHDRAWN" }, "enrollment { status }");
    const after = await record(w.facilitator.token, w.sessions[0].id, [present(waiting)]);
    expect(after.userErrors.map((e) => e.code)).toEqual(["NOT_ENROLLED"]);
    expect(await rowCounts()).toEqual({ attendance: 0, history: 0 });
  });

  it("given a participant whose enrolment has since ended, when recorded, then it is accepted (they were enrolled)", async () => {
    const w = await world({ members: 2 });
    await w.admin.mutate("endEnrollment", { enrollmentId: w.enrollmentIds[1], status: "WITHDRAWN", reason: "Moved" }, "enrollment { status }");

    const [a] = await recordOk(w.facilitator.token, w.sessions[0].id, [{ participantId: w.members[1], status: "EXCUSED" }]);

    expect(a).toMatchObject({ status: "EXCUSED", version: 1, participant: { id: w.members[1] } });
    expect(await rowCounts()).toEqual({ attendance: 1, history: 1 });
  });
});

const HISTORY = `query($id: ID!) {
  node(id: $id) {
    ... on Attendance {
      id status note version recordedAt recordedBy { id }
      history { version status minutesAttended note previousStatus previousMinutesAttended previousNote changedBy { id } changedAt }
    }
  }
}`;

describe("attendance history", () => {
  it("given PRESENT, then LATE with a note, then the same LATE again (a retry), then history holds exactly two entries and the retry writes nothing", async () => {
    const w = await world({ members: 1 });
    const session = w.sessions[0].id;
    const p = w.members[0];

    const [v1] = await recordOk(w.facilitator.token, session, [{ participantId: p, status: "PRESENT", note: "On time" }]);
    const [v2] = await recordOk(w.centerAdmin.token, session, [{ participantId: p, status: "LATE", note: "  Arrived 20 minutes late " }]);
    const countsAfterChange = await rowCounts();
    const [retry] = await recordOk(w.admin.token, session, [{ participantId: p, status: "LATE", note: "Arrived 20 minutes late" }]);

    expect(v2.id).toBe(v1.id);
    expect(retry).toEqual(v2); // same id, version, recordedAt and recordedBy: nothing was written
    expect(await rowCounts()).toEqual(countsAfterChange);
    expect(countsAfterChange).toEqual({ attendance: 1, history: 2 });

    const { node } = await w.admin.query(HISTORY, { id: v1.id });
    expect(node).toMatchObject({ id: v1.id, status: "LATE", note: "Arrived 20 minutes late", version: 2, recordedBy: { id: w.centerAdmin.id } });
    expect(node.history).toEqual([
      {
        version: 1,
        status: "PRESENT",
        minutesAttended: 90,
        note: "On time",
        previousStatus: null,
        previousMinutesAttended: null,
        previousNote: null,
        changedBy: { id: w.facilitator.id },
        changedAt: v1.recordedAt,
      },
      {
        version: 2,
        status: "LATE",
        minutesAttended: null,
        note: "Arrived 20 minutes late",
        previousStatus: "PRESENT",
        previousMinutesAttended: 90,
        previousNote: "On time",
        changedBy: { id: w.centerAdmin.id },
        changedAt: v2.recordedAt,
      },
    ]);
  });

  it("given several changes to a batch, when read back, then every record keeps its id (nothing is deleted and re-inserted)", async () => {
    const w = await world({ members: 3 });
    const session = w.sessions[0].id;
    const first = await recordOk(w.centerAdmin.token, session, w.members.map(present));
    const statuses = ["LATE", "ABSENT", "EXCUSED", "LEFT_EARLY"];
    for (const status of statuses) {
      const again = await recordOk(
        w.centerAdmin.token,
        session,
        [...w.members].reverse().map((participantId) => ({ participantId, status })),
      );
      expect(again.map((a) => a.id)).toEqual(first.map((a) => a.id).reverse());
    }
    const rows = await t.server.database.db.select().from(attendance).orderBy(asc(attendance.createdAt));
    expect(rows.map((r) => toGlobalId("Attendance", r.id)).sort()).toEqual(first.map((a) => a.id).sort());
    expect(rows.map((r) => [r.status, r.version])).toEqual(w.members.map(() => ["LEFT_EARLY", 5]));
    expect(await rowCounts()).toEqual({ attendance: 3, history: 15 });
  });
});

describe("minutesAttended defaults", () => {
  it("given no minutes, when recorded, then PRESENT gets the session's length, ABSENT and EXCUSED 0, LATE and LEFT_EARLY unknown unless given", async () => {
    const w = await world({ members: 6 });
    const m = w.members;
    const rows = await recordOk(w.facilitator.token, w.sessions[0].id, [
      { participantId: m[0], status: "PRESENT" },
      { participantId: m[1], status: "ABSENT" },
      { participantId: m[2], status: "EXCUSED" },
      { participantId: m[3], status: "LATE" },
      { participantId: m[4], status: "LATE", minutesAttended: 45 },
      { participantId: m[5], status: "LEFT_EARLY" },
    ]);
    expect(rows.map((a) => [a.status, a.minutesAttended])).toEqual([
      ["PRESENT", 90],
      ["ABSENT", 0],
      ["EXCUSED", 0],
      ["LATE", null],
      ["LATE", 45],
      ["LEFT_EARLY", null],
    ]);

    // The other group's sessions are 60 minutes long.
    const other = await w.participant(6);
    await w.enroll(w.otherGroupId, other);
    const [a] = await recordOk(w.otherFacilitator.token, w.otherSessions[0].id, [present(other)]);
    expect(a.minutesAttended).toBe(60);
  });
});

const SUMMARY = `query($id: ID!) { node(id: $id) { ... on Session { status attendanceSummary { expected present late leftEarly absent excused unrecorded } } } }`;

describe("Session.attendanceSummary", () => {
  it("given some of the expected roster recorded, then it counts each status plus the unrecorded members; a cancelled session has none unrecorded", async () => {
    const w = await world({ members: 7 });
    const m = w.members;
    await recordOk(w.facilitator.token, w.sessions[0].id, [
      { participantId: m[0], status: "PRESENT" },
      { participantId: m[1], status: "LATE" },
      { participantId: m[2], status: "LEFT_EARLY" },
      { participantId: m[3], status: "ABSENT" },
      { participantId: m[4], status: "EXCUSED" },
    ]);
    await recordOk(w.facilitator.token, w.sessions[1].id, [present(m[0])]);
    await w.admin.mutate("cancelSession", { sessionId: w.sessions[1].id }, "session { id }");
    await w.admin.mutate("cancelSession", { sessionId: w.sessions[2].id }, "session { id }");

    const summary = async (i: number) => (await w.admin.query(SUMMARY, { id: w.sessions[i].id })).node;
    expect(await summary(0)).toEqual({
      status: "SCHEDULED",
      attendanceSummary: { expected: 7, present: 1, late: 1, leftEarly: 1, absent: 1, excused: 1, unrecorded: 2 },
    });
    expect(await summary(1)).toEqual({
      status: "CANCELLED",
      attendanceSummary: { expected: 7, present: 1, late: 0, leftEarly: 0, absent: 0, excused: 0, unrecorded: 0 },
    });
    expect(await summary(2)).toEqual({
      status: "CANCELLED",
      attendanceSummary: { expected: 7, present: 0, late: 0, leftEarly: 0, absent: 0, excused: 0, unrecorded: 0 },
    });
    expect((await summary(3)).attendanceSummary).toEqual({ expected: 7, present: 0, late: 0, leftEarly: 0, absent: 0, excused: 0, unrecorded: 7 });
  });
});

const ROSTER = `query($id: ID!) {
  node(id: $id) {
    ... on Session {
      roster { expected participant { id firstName } enrollment { id } attendance { id status } }
      attendanceSummary { expected present absent unrecorded }
    }
  }
}`;

describe("Session.roster", () => {
  it("given members and a former member recorded, then it lists the expected members with their attendance (null if unrecorded) and the former one as not expected", async () => {
    const w = await world({ members: 4 });
    const m = w.members;
    await w.admin.mutate("endEnrollment", { enrollmentId: w.enrollmentIds[0], status: "WITHDRAWN" }, "enrollment { status }");
    const [dee, ana] = await recordOk(w.facilitator.token, w.sessions[0].id, [present(m[3]), { participantId: m[0], status: "ABSENT" }]);

    const res = await gqlAs(w.facilitator, ROSTER, { id: w.sessions[0].id });

    expect(res.errors).toBeUndefined();
    const node = res.data.node;
    expect(node.roster).toEqual([
      { expected: true, participant: { id: m[1], firstName: "Ben" }, enrollment: { id: w.enrollmentIds[1] }, attendance: null },
      { expected: true, participant: { id: m[2], firstName: "Cy" }, enrollment: { id: w.enrollmentIds[2] }, attendance: null },
      { expected: true, participant: { id: m[3], firstName: "Dee" }, enrollment: { id: w.enrollmentIds[3] }, attendance: { id: dee.id, status: "PRESENT" } },
      { expected: false, participant: { id: m[0], firstName: "Ana" }, enrollment: null, attendance: { id: ana.id, status: "ABSENT" } },
    ]);
    expect(node.attendanceSummary).toEqual({ expected: 3, present: 1, absent: 1, unrecorded: 2 });
  });
});

describe("concurrent recording", () => {
  it("given an ADMIN and the group's FACILITATOR recording overlapping batches at once, round after round, then one record per participant with versions matching history", async () => {
    const w = await world({ members: 6 });
    const session = w.sessions[0].id;
    const m = w.members;
    const statuses = ["PRESENT", "LATE", "ABSENT", "EXCUSED", "LEFT_EARLY"];
    const rounds = 5;
    let last: { admin: string; facilitator: string } = { admin: "", facilitator: "" };
    for (let r = 0; r < rounds; r++) {
      last = { admin: statuses[r % 5], facilitator: statuses[(r + 2) % 5] };
      const [byAdmin, byFacilitator] = await Promise.all([
        record(
          w.centerAdmin.token,
          session,
          m.slice(0, 4).map((participantId) => ({ participantId, status: last.admin, note: `admin ${r}` })),
        ),
        record(
          w.facilitator.token,
          session,
          m.slice(2).map((participantId) => ({ participantId, status: last.facilitator, note: `facilitator ${r}` })),
        ),
      ]);
      expect(byAdmin.userErrors).toEqual([]);
      expect(byFacilitator.userErrors).toEqual([]);
    }

    const db = t.server.database.db;
    const rows = await db
      .select()
      .from(attendance)
      .where(eq(attendance.sessionId, decodeId(session, "Session")!));
    expect(rows.map((r) => toGlobalId("Participant", r.participantId)).sort()).toEqual([...m].sort());
    const history = await db
      .select()
      .from(attendanceHistory)
      .where(
        inArray(
          attendanceHistory.attendanceId,
          rows.map((r) => r.id),
        ),
      )
      .orderBy(asc(attendanceHistory.seq));
    expect(history.length).toBe(rows.reduce((sum, r) => sum + r.version, 0));
    for (const row of rows) {
      const changes = history.filter((h) => h.attendanceId === row.id);
      expect(changes.map((h) => h.version)).toEqual(Array.from({ length: row.version }, (_, i) => i + 1));
      changes.forEach((h, i) => expect(h.previousStatus).toBe(i === 0 ? null : changes[i - 1].status));
      expect(changes.at(-1)).toMatchObject({ status: row.status, note: row.note, minutesAttended: row.minutesAttended });
    }
    const statusOf = (p: string) => rows.find((r) => toGlobalId("Participant", r.participantId) === p)!.status;
    expect([statusOf(m[0]), statusOf(m[1])]).toEqual([last.admin, last.admin]);
    expect([statusOf(m[4]), statusOf(m[5])]).toEqual([last.facilitator, last.facilitator]);
    for (const p of [m[2], m[3]]) expect([last.admin, last.facilitator]).toContain(statusOf(p));
  });
});

const PARTICIPANT_ATTENDANCE = `query($id: ID!, $first: Int, $after: String) {
  node(id: $id) {
    ... on Participant {
      attendance(first: $first, after: $after) {
        totalCount
        pageInfo { hasNextPage endCursor }
        nodes { status session { id group { id } } }
      }
    }
  }
}`;

describe("Participant.attendance", () => {
  async function twoGroups() {
    const w = await world({ members: 1 });
    const p = w.members[0];
    await w.enroll(w.otherGroupId, p);
    const [m0, m1, m2, m3] = w.sessions;
    const [w0, w1] = w.otherSessions;
    for (const s of [m0, m1, m2, m3]) await recordOk(w.facilitator.token, s.id, [present(p)]);
    for (const s of [w0, w1]) await recordOk(w.otherFacilitator.token, s.id, [{ participantId: p, status: "LATE" }]);
    // Mondays 4, 11, 18, 25 and Wednesdays 6, 13 of January 2027, latest first.
    return { w, p, latestFirst: [m3, m2, w1, m1, w0, m0].map((s) => s.id) };
  }

  it("given attendance in two groups, when paged with first/after, then latest session first with the total count", async () => {
    const { w, p, latestFirst } = await twoGroups();
    const seen: string[] = [];
    let after: string | null = null;
    for (const expectedNext of [true, true, false]) {
      const data: any = await w.admin.query(PARTICIPANT_ATTENDANCE, { id: p, first: 2, after });
      const conn = data.node.attendance;
      expect(conn.totalCount).toBe(6);
      expect(conn.nodes).toHaveLength(2);
      expect(conn.pageInfo.hasNextPage).toBe(expectedNext);
      seen.push(...conn.nodes.map((n: { session: { id: string } }) => n.session.id));
      after = conn.pageInfo.endCursor;
    }
    expect(seen).toEqual(latestFirst);
  });

  it("given a facilitator of another group of the same center, then they see only their group's attendance, and a participant outside their groups reads as missing", async () => {
    const { w, p, latestFirst } = await twoGroups();
    const theirs = latestFirst.filter((id) => w.otherSessions.some((s) => s.id === id));

    const res = await gqlAs(w.otherFacilitator, PARTICIPANT_ATTENDANCE, { id: p, first: 10 });
    expect(res.errors).toBeUndefined();
    expect(res.data.node.attendance.totalCount).toBe(2);
    expect(res.data.node.attendance.nodes.map((n: { session: { id: string; group: { id: string } } }) => [n.session.id, n.session.group.id])).toEqual(
      theirs.map((id) => [id, w.otherGroupId]),
    );

    const onlyMonday = w.members[0];
    const wednesdayOnly = await w.participant(3);
    await w.enroll(w.otherGroupId, wednesdayOnly);
    await recordOk(w.otherFacilitator.token, w.otherSessions[0].id, [present(wednesdayOnly)]);
    const outside = await gqlAs(w.facilitator, PARTICIPANT_ATTENDANCE, { id: wednesdayOnly, first: 10 });
    expect(outside.errors).toBeUndefined();
    expect(outside.data.node).toBeNull();
    const own = await gqlAs(w.facilitator, PARTICIPANT_ATTENDANCE, { id: onlyMonday, first: 10 });
    expect(own.data.node.attendance.totalCount).toBe(4);
  });
});

describe("VIEWER", () => {
  it("given a VIEWER, then a session's attendanceSummary is readable but Session.attendance, Session.roster and Attendance.note are FORBIDDEN", async () => {
    const w = await world({ members: 2 });
    const [a] = await recordOk(w.facilitator.token, w.sessions[0].id, [{ participantId: w.members[0], status: "ABSENT", note: "Called, no answer" }]);

    const summary = await gqlAs(w.viewer, SUMMARY, { id: w.sessions[0].id });
    expect(summary.errors).toBeUndefined();
    expect(summary.data.node.attendanceSummary).toEqual({ expected: 2, present: 0, late: 0, leftEarly: 0, absent: 1, excused: 0, unrecorded: 1 });

    const list = await gqlAs(w.viewer, `query($id: ID!) { node(id: $id) { ... on Session { attendance { id } } } }`, { id: w.sessions[0].id });
    expect(list.errors?.map((e) => [e.extensions?.code, e.path])).toEqual([["FORBIDDEN", ["node", "attendance"]]]);

    const roster = await gqlAs(w.viewer, `query($id: ID!) { node(id: $id) { ... on Session { roster { expected } } } }`, { id: w.sessions[0].id });
    expect(roster.errors?.map((e) => e.extensions?.code)).toEqual(["FORBIDDEN"]);

    const note = await gqlAs(w.viewer, `query($id: ID!) { node(id: $id) { ... on Attendance { note } } }`, { id: a.id });
    expect(note.errors?.map((e) => e.extensions?.code)).toEqual(["FORBIDDEN"]);
    expect(JSON.stringify(note)).not.toContain("Called, no answer");

    const write = await t.server.gql(RECORD, { input: { sessionId: w.sessions[0].id, records: [present(w.members[1])] } }, { token: w.viewer.token });
    expect(write.errors?.map((e) => e.extensions?.code)).toEqual(["FORBIDDEN"]);
    expect(await rowCounts()).toEqual({ attendance: 1, history: 1 });
  });
});
