// Enrolment: seats and the waitlist, promotion when a seat frees, who may join, ending rules,
// history, and capacity under concurrent requests (really concurrent on PostgreSQL).
import { randomUUID } from "node:crypto";
import { and, eq, sql } from "drizzle-orm";
import { beforeEach, describe, expect, it } from "vitest";
import { clock, setClock } from "../src/common/clock.js";
import { decodeId, toGlobalId } from "../src/common/ids.js";
import { enrollmentEvents, enrollments } from "../src/db/schema.js";
import { Api, asOrgAdmin } from "./support/fixtures.js";
import { useTestServer } from "./support/server.js";

const t = useTestServer();

// "Now" is an input: a fixed instant, late in the evening in the Americas and already the next day in UTC.
const NOW = "2026-11-24T01:00:00.000Z";
beforeEach(() => setClock(NOW));

const ALL_DAYS = ["MONDAY", "TUESDAY", "WEDNESDAY", "THURSDAY", "FRIDAY", "SATURDAY", "SUNDAY"];
const ERRORS = "userErrors { field message code }";
const ENROLLMENT = "id status role waitlistPosition activatedAt endedAt endReason participant { id } group { id }";

const ENROLL = `mutation($input: EnrollParticipantInput!) { enrollParticipant(input: $input) { enrollment { ${ENROLLMENT} } ${ERRORS} } }`;
const END = `mutation($input: EndEnrollmentInput!) { endEnrollment(input: $input) { enrollment { ${ENROLLMENT} } ${ERRORS} } }`;
const UPDATE = `mutation($input: UpdateEnrollmentInput!) { updateEnrollment(input: $input) { enrollment { ${ENROLLMENT} } ${ERRORS} } }`;
const UPDATE_GROUP = `mutation($input: UpdateGroupInput!) { updateGroup(input: $input) { group { id capacity } ${ERRORS} } }`;
const GROUP_STATE = `query($id: ID!) { node(id: $id) { ... on Group {
  capacity activeCount waitlistCount seatsAvailable
  enrollments(first: 100) { nodes { id status waitlistPosition activatedAt participant { id } } }
} } }`;
const HISTORY = `query($id: ID!) { node(id: $id) { ... on Enrollment {
  status endReason endedAt
  history { fromStatus toStatus reason occurredAt actor { id email } }
} } }`;

interface Enrollment {
  id: string;
  status: string;
  role: string;
  waitlistPosition: number | null;
  activatedAt: string | null;
  endedAt: string | null;
  endReason: string | null;
  participant: { id: string };
  group: { id: string };
}
interface UserError {
  field: string[] | null;
  message: string;
  code: string;
}
interface Payload {
  enrollment: Enrollment | null;
  userErrors: UserError[];
}

function isoDay(offsetDays: number): string {
  return new Date(clock.now().getTime() + offsetDays * 86_400_000).toISOString().slice(0, 10);
}

async function send(query: string, input: Record<string, unknown>, token: string): Promise<Payload> {
  const res = await t.server.gql(query, { input }, { token });
  expect(res.errors, JSON.stringify(res.errors)).toBeUndefined();
  return Object.values(res.data)[0] as Payload;
}

function enroll(token: string, groupId: string, participantId: string, role?: string): Promise<Payload> {
  return send(ENROLL, { groupId, participantId, ...(role ? { role } : {}) }, token);
}

function end(token: string, enrollmentId: string, status: string, reason?: string): Promise<Payload> {
  return send(END, { enrollmentId, status, ...(reason ? { reason } : {}) }, token);
}

/** Enrols and fails on any error; returns the enrolment. */
async function enrolled(token: string, groupId: string, participantId: string, role?: string): Promise<Enrollment> {
  const p = await enroll(token, groupId, participantId, role);
  expect(p.userErrors).toEqual([]);
  return p.enrollment!;
}

async function ended(token: string, enrollmentId: string, status: string, reason?: string): Promise<Enrollment> {
  const p = await end(token, enrollmentId, status, reason);
  expect(p.userErrors).toEqual([]);
  return p.enrollment!;
}

async function groupState(token: string, groupId: string) {
  const res = await t.server.gql(GROUP_STATE, { id: groupId }, { token });
  expect(res.errors).toBeUndefined();
  const g = res.data.node as {
    capacity: number;
    activeCount: number;
    waitlistCount: number;
    seatsAvailable: number;
    enrollments: { nodes: Array<{ id: string; status: string; waitlistPosition: number | null; activatedAt: string | null; participant: { id: string } }> };
  };
  const nodes = g.enrollments.nodes;
  return {
    ...g,
    active: nodes.filter((e) => e.status === "ACTIVE").map((e) => e.id),
    /** Waitlisted enrolment ids by position (index 0 = position 1). */
    waitlist: nodes
      .filter((e) => e.status === "WAITLISTED")
      .sort((a, b) => a.waitlistPosition! - b.waitlistPosition!)
      .map((e) => e.id),
    byId: new Map(nodes.map((e) => [e.id, e])),
  };
}

async function history(token: string, enrollmentId: string) {
  const res = await t.server.gql(HISTORY, { id: enrollmentId }, { token });
  expect(res.errors).toBeUndefined();
  return res.data.node as {
    status: string;
    endReason: string | null;
    endedAt: string | null;
    history: Array<{ fromStatus: string | null; toStatus: string; reason: string | null; occurredAt: string; actor: { id: string; email: string } | null }>;
  };
}

async function eventCount(): Promise<number> {
  const [{ n }] = await t.server.database.db.select({ n: sql<number>`count(*)::int` }).from(enrollmentEvents);
  return Number(n);
}

async function enrollmentCount(): Promise<number> {
  const [{ n }] = await t.server.database.db.select({ n: sql<number>`count(*)::int` }).from(enrollments);
  return Number(n);
}

async function createGroup(admin: Api, programId: string, extra: Record<string, unknown> = {}): Promise<string> {
  const p = await admin.mutate(
    "createGroup",
    {
      programId,
      name: `Group ${randomUUID().slice(0, 8)}`,
      capacity: 1,
      startsOn: isoDay(-60),
      schedule: { daysOfWeek: ALL_DAYS, startTime: "10:00", durationMinutes: 60 },
      status: "ACTIVE",
      ...extra,
    },
    "group { id }",
  );
  return p.group.id;
}

async function createParticipants(admin: Api, centerId: string, n: number, prefix = "P"): Promise<string[]> {
  return Promise.all(
    Array.from({ length: n }, (_, i) =>
      admin
        .mutate("createParticipant", { centerId, firstName: `${prefix}${i}`, lastName: "Tester" }, "participant { id }")
        .then((p) => p.participant.id as string),
    ),
  );
}

async function scheduleSessions(admin: Api, groupId: string, from: string, to: string): Promise<Array<{ id: string; startsAt: string }>> {
  const p = await admin.mutate("scheduleSessions", { groupId, from, to }, "sessions { id startsAt }");
  return p.sessions;
}

/**
 * A center (UTC) with a clinician, a program, one ACTIVE rolling group meeting daily at 10:00,
 * and `people` active participants.
 */
async function world(opts: { capacity: number; people: number; mode?: string; minimumAttendedSessions?: number }) {
  const admin = await asOrgAdmin(t.server);
  const adminId = (await admin.query<{ viewer: { id: string } }>(`{ viewer { id } }`)).viewer.id;
  const centerId = await admin.createCenter("North Clinic", "UTC");
  const clinician = await admin.createStaff("clin@north.test", [{ centerId, role: "CLINICIAN" }]);
  const program = await admin.mutate(
    "createProgram",
    {
      centerId,
      name: "Relapse prevention",
      ...(opts.minimumAttendedSessions ? { completionRule: { minimumAttendedSessions: opts.minimumAttendedSessions } } : {}),
    },
    "program { id }",
  );
  const programId: string = program.program.id;
  const groupId = await createGroup(admin, programId, { capacity: opts.capacity, ...(opts.mode ? { enrollmentMode: opts.mode } : {}) });
  const people = await createParticipants(admin, centerId, opts.people);
  return { admin, adminId, centerId, clinician, programId, groupId, people };
}

/** Enrols people one after another (so the waitlist order is the order given). */
async function enrolAll(token: string, groupId: string, people: string[]): Promise<Enrollment[]> {
  const out: Enrollment[] = [];
  for (const p of people) out.push(await enrolled(token, groupId, p));
  return out;
}

describe("enrolling into a group", () => {
  it("given a group with a free seat, when a participant enrols, then the enrolment is ACTIVE with activatedAt and takes a seat", async () => {
    const w = await world({ capacity: 2, people: 1 });
    const e = await enrolled(w.clinician.token, w.groupId, w.people[0]);
    expect(e).toMatchObject({
      status: "ACTIVE",
      role: "MEMBER",
      waitlistPosition: null,
      endedAt: null,
      participant: { id: w.people[0] },
      group: { id: w.groupId },
    });
    expect(e.activatedAt).toBe(NOW);
    const g = await groupState(w.admin.token, w.groupId);
    expect(g).toMatchObject({ capacity: 2, activeCount: 1, waitlistCount: 0, seatsAvailable: 1 });
  });

  it("given a full group, when more participants enrol, then they are WAITLISTED at positions 1, 2, 3 in the order they enrolled", async () => {
    const w = await world({ capacity: 1, people: 4 });
    const [first, ...rest] = await enrolAll(w.clinician.token, w.groupId, w.people);
    expect(first).toMatchObject({ status: "ACTIVE", waitlistPosition: null });
    expect(rest.map((e) => [e.status, e.waitlistPosition, e.activatedAt])).toEqual([
      ["WAITLISTED", 1, null],
      ["WAITLISTED", 2, null],
      ["WAITLISTED", 3, null],
    ]);
    const g = await groupState(w.admin.token, w.groupId);
    expect(g).toMatchObject({ capacity: 1, activeCount: 1, waitlistCount: 3, seatsAvailable: 0 });
    expect(g.active).toEqual([first.id]);
    expect(g.waitlist).toEqual(rest.map((e) => e.id));
  });
});

describe("waitlist order and promotion", () => {
  it.each(["COMPLETED", "WITHDRAWN", "DISCHARGED"])(
    "given a full group with a waitlist of 3, when the ACTIVE enrolment ends as %s, then exactly the first waitlisted becomes ACTIVE and the others move up",
    async (status) => {
      const w = await world({ capacity: 1, people: 4 });
      const [active, w1, w2, w3] = await enrolAll(w.admin.token, w.groupId, w.people);

      const endedOne = await ended(w.clinician.token, active.id, status, "Reason given");
      expect(endedOne).toMatchObject({ status, endReason: "Reason given", waitlistPosition: null });
      expect(endedOne.endedAt).not.toBeNull();

      const g = await groupState(w.admin.token, w.groupId);
      expect(g).toMatchObject({ activeCount: 1, waitlistCount: 2, seatsAvailable: 0 });
      expect(g.active).toEqual([w1.id]);
      expect(g.byId.get(w1.id)!.activatedAt).not.toBeNull();
      expect(g.waitlist).toEqual([w2.id, w3.id]);
      expect([g.byId.get(w2.id)!.waitlistPosition, g.byId.get(w3.id)!.waitlistPosition]).toEqual([1, 2]);

      const h = await history(w.admin.token, w1.id);
      expect(h.history.map((e) => [e.fromStatus, e.toStatus, e.actor?.id])).toEqual([
        [null, "WAITLISTED", w.adminId],
        ["WAITLISTED", "ACTIVE", w.clinician.id],
      ]);
    },
  );

  it("given a waitlist of 3, when the second WAITLISTED enrolment is withdrawn, then nobody is promoted and the gap closes", async () => {
    const w = await world({ capacity: 1, people: 4 });
    const [active, w1, w2, w3] = await enrolAll(w.clinician.token, w.groupId, w.people);

    const withdrawn = await ended(w.clinician.token, w2.id, "WITHDRAWN");
    expect(withdrawn).toMatchObject({ status: "WITHDRAWN", waitlistPosition: null, activatedAt: null });

    const g = await groupState(w.admin.token, w.groupId);
    expect(g).toMatchObject({ activeCount: 1, waitlistCount: 2, seatsAvailable: 0 });
    expect(g.active).toEqual([active.id]);
    expect(g.waitlist).toEqual([w1.id, w3.id]);
    expect([g.byId.get(w1.id)!.waitlistPosition, g.byId.get(w3.id)!.waitlistPosition]).toEqual([1, 2]);
    expect((await history(w.admin.token, w1.id)).history).toHaveLength(1);
  });

  it("given a waitlist of 4, when an admin raises capacity by 2, then the first 2 waitlisted become ACTIVE in order and the rest move up", async () => {
    const w = await world({ capacity: 1, people: 5 });
    const [active, w1, w2, w3, w4] = await enrolAll(w.clinician.token, w.groupId, w.people);

    const res = await t.server.gql(UPDATE_GROUP, { input: { groupId: w.groupId, capacity: 3 } }, { token: w.admin.token });
    expect(res.data.updateGroup).toEqual({ group: { id: w.groupId, capacity: 3 }, userErrors: [] });

    const g = await groupState(w.admin.token, w.groupId);
    expect(g).toMatchObject({ capacity: 3, activeCount: 3, waitlistCount: 2, seatsAvailable: 0 });
    expect(g.active).toEqual([active.id, w1.id, w2.id]);
    expect(g.waitlist).toEqual([w3.id, w4.id]);
    expect([g.byId.get(w3.id)!.waitlistPosition, g.byId.get(w4.id)!.waitlistPosition]).toEqual([1, 2]);
    for (const promoted of [w1, w2]) {
      const h = await history(w.admin.token, promoted.id);
      expect(h.history.at(-1)).toMatchObject({ fromStatus: "WAITLISTED", toStatus: "ACTIVE", reason: "Capacity raised", actor: { id: w.adminId } });
    }
  });

  it("given 3 ACTIVE enrolments, when an admin lowers capacity below 3, then it is refused (INVALID) and nothing changes", async () => {
    const w = await world({ capacity: 3, people: 4 });
    await enrolAll(w.clinician.token, w.groupId, w.people);
    const before = await groupState(w.admin.token, w.groupId);
    const events = await eventCount();

    const res = await t.server.gql(UPDATE_GROUP, { input: { groupId: w.groupId, capacity: 2, name: "Renamed" } }, { token: w.admin.token });
    expect(res.data.updateGroup.group).toBeNull();
    expect(res.data.updateGroup.userErrors).toEqual([
      { field: ["input", "capacity"], message: "capacity cannot be below the 3 active enrolments", code: "INVALID" },
    ]);

    const after = await groupState(w.admin.token, w.groupId);
    expect(after.capacity).toBe(3);
    expect(after.enrollments).toEqual(before.enrollments);
    expect(await eventCount()).toBe(events);
    const name = await w.admin.query(`query($id: ID!) { node(id: $id) { ... on Group { name } } }`, { id: w.groupId });
    expect(name.node.name).not.toBe("Renamed");
  });
});

describe("one open enrolment per participant and group", () => {
  it("refuses a second enrolment (ALREADY_ENROLLED) while the first is ACTIVE or WAITLISTED, writing nothing", async () => {
    const w = await world({ capacity: 1, people: 2 });
    await enrolAll(w.clinician.token, w.groupId, w.people); // people[0] ACTIVE, people[1] WAITLISTED
    const [rows, events] = [await enrollmentCount(), await eventCount()];
    for (const participantId of w.people) {
      const p = await enroll(w.clinician.token, w.groupId, participantId);
      expect(p.enrollment).toBeNull();
      expect(p.userErrors).toEqual([
        { field: ["input", "participantId"], message: "The participant is already enrolled in or waitlisted for this group", code: "ALREADY_ENROLLED" },
      ]);
    }
    expect(await enrollmentCount()).toBe(rows);
    expect(await eventCount()).toBe(events);
  });

  it("allows re-enrolment after the first enrolment ended, as a new enrolment", async () => {
    const w = await world({ capacity: 2, people: 1 });
    const first = await enrolled(w.clinician.token, w.groupId, w.people[0]);
    await ended(w.clinician.token, first.id, "WITHDRAWN");
    const second = await enrolled(w.clinician.token, w.groupId, w.people[0]);
    expect(second.id).not.toBe(first.id);
    expect(second.status).toBe("ACTIVE");
    const res = await w.admin.query(`query($id: ID!) { node(id: $id) { ... on Participant { enrollments(first: 10) { nodes { id status } } } } }`, {
      id: w.people[0],
    });
    expect(res.node.enrollments.nodes).toEqual([
      { id: first.id, status: "WITHDRAWN" },
      { id: second.id, status: "ACTIVE" },
    ]);
  });
});

describe("who may join a group", () => {
  it("refuses enrolment into a CLOSED group (GROUP_NOT_OPEN)", async () => {
    const w = await world({ capacity: 2, people: 1 });
    await w.admin.mutate("updateGroup", { groupId: w.groupId, status: "CLOSED" }, "group { id }");
    const p = await enroll(w.clinician.token, w.groupId, w.people[0]);
    expect(p).toEqual({ enrollment: null, userErrors: [{ field: ["input", "groupId"], message: "The group is closed", code: "GROUP_NOT_OPEN" }] });
    expect(await enrollmentCount()).toBe(0);
  });

  it("given a full group with a waitlist, when the group closes, then the waitlist is withdrawn with the reason and ACTIVE members stay", async () => {
    const w = await world({ capacity: 1, people: 3 });
    const [active, w1, w2] = await enrolAll(w.admin.token, w.groupId, w.people);

    await w.admin.mutate("updateGroup", { groupId: w.groupId, status: "CLOSED" }, "group { id }");

    const g = await groupState(w.admin.token, w.groupId);
    expect(g).toMatchObject({ activeCount: 1, waitlistCount: 0 });
    expect(g.active).toEqual([active.id]);
    for (const e of [w1, w2]) {
      const h = await history(w.admin.token, e.id);
      expect(h).toMatchObject({ status: "WITHDRAWN", endReason: "The group was closed" });
      expect(h.endedAt).not.toBeNull();
      expect(h.history.map((x) => [x.fromStatus, x.toStatus, x.reason, x.actor?.id])).toEqual([
        [null, "WAITLISTED", null, w.adminId],
        ["WAITLISTED", "WITHDRAWN", "The group was closed", w.adminId],
      ]);
    }
  });

  it("given a CLOSED_COHORT group, accepts members before its first session starts and refuses them (GROUP_NOT_OPEN) once one has started", async () => {
    const w = await world({ capacity: 5, people: 3, mode: "CLOSED_COHORT" });
    await scheduleSessions(w.admin, w.groupId, isoDay(1), isoDay(7));
    expect((await enrolled(w.clinician.token, w.groupId, w.people[0])).status).toBe("ACTIVE");

    await scheduleSessions(w.admin, w.groupId, isoDay(-2), isoDay(-1));
    const p = await enroll(w.clinician.token, w.groupId, w.people[1]);
    expect(p).toEqual({
      enrollment: null,
      userErrors: [{ field: ["input", "groupId"], message: "This closed cohort has already started", code: "GROUP_NOT_OPEN" }],
    });
    expect(await enrollmentCount()).toBe(1);

    // A rolling group with past sessions keeps taking members.
    const rolling = await createGroup(w.admin, w.programId, { capacity: 5 });
    await scheduleSessions(w.admin, rolling, isoDay(-2), isoDay(-1));
    expect((await enrolled(w.clinician.token, rolling, w.people[2])).status).toBe("ACTIVE");
  });

  it("answers NOT_FOUND for a participant of another center, exactly as for an id that does not exist", async () => {
    const w = await world({ capacity: 2, people: 0 });
    const southId = await w.admin.createCenter("South Clinic", "UTC");
    const [southParticipant] = await createParticipants(w.admin, southId, 1, "S");
    const missing = toGlobalId("Participant", randomUUID());

    const foreign = await enroll(w.clinician.token, w.groupId, southParticipant);
    const absent = await enroll(w.clinician.token, w.groupId, missing);
    const expected = { enrollment: null, userErrors: [{ field: ["input", "participantId"], message: "No participant with that id", code: "NOT_FOUND" }] };
    expect(foreign).toEqual(expected);
    expect(absent).toEqual(expected);
    expect(await enrollmentCount()).toBe(0);
  });

  it("refuses an org admin who sees both centers with CENTER_MISMATCH for a participant of another center", async () => {
    const w = await world({ capacity: 2, people: 0 });
    const southId = await w.admin.createCenter("South Clinic", "UTC");
    const [southParticipant] = await createParticipants(w.admin, southId, 1, "S");
    const p = await enroll(w.admin.token, w.groupId, southParticipant);
    expect(p.enrollment).toBeNull();
    expect(p.userErrors.map((e) => [e.field, e.code])).toEqual([[["input", "participantId"], "CENTER_MISMATCH"]]);
    expect(await enrollmentCount()).toBe(0);
  });

  it.each(["INACTIVE", "DISCHARGED"])("refuses to enrol a participant whose status is %s (INVALID), writing nothing", async (status) => {
    const w = await world({ capacity: 2, people: 1 });
    await w.admin.mutate("updateParticipant", { participantId: w.people[0], status }, "participant { id }");
    const p = await enroll(w.clinician.token, w.groupId, w.people[0]);
    expect(p).toEqual({
      enrollment: null,
      userErrors: [{ field: ["input", "participantId"], message: `The participant is ${status.toLowerCase()}`, code: "INVALID" }],
    });
    expect(await enrollmentCount()).toBe(0);
  });
});

describe("ending an enrolment", () => {
  it("refuses invalid transitions (INVALID_TRANSITION) and writes nothing", async () => {
    const w = await world({ capacity: 1, people: 2 });
    const [active, waiting] = await enrolAll(w.clinician.token, w.groupId, w.people);
    await ended(w.clinician.token, waiting.id, "WITHDRAWN");
    const events = await eventCount();
    for (const status of ["WITHDRAWN", "DISCHARGED", "COMPLETED"]) {
      const p = await end(w.clinician.token, waiting.id, status, "again");
      expect(p).toEqual({
        enrollment: null,
        userErrors: [{ field: ["input", "status"], message: `A WITHDRAWN enrolment cannot become ${status}`, code: "INVALID_TRANSITION" }],
      });
    }
    expect(await eventCount()).toBe(events);
    expect(await history(w.admin.token, waiting.id)).toMatchObject({ status: "WITHDRAWN", endReason: null });

    // A fresh waitlisted enrolment cannot be COMPLETED.
    const [third] = await createParticipants(w.admin, w.centerId, 1, "T");
    const queued = await enrolled(w.clinician.token, w.groupId, third);
    expect(queued.status).toBe("WAITLISTED");
    const before = await eventCount();
    const p = await end(w.clinician.token, queued.id, "COMPLETED");
    expect(p).toEqual({
      enrollment: null,
      userErrors: [{ field: ["input", "status"], message: "A WAITLISTED enrolment cannot become COMPLETED", code: "INVALID_TRANSITION" }],
    });
    expect(await eventCount()).toBe(before);
    const g = await groupState(w.admin.token, w.groupId);
    expect(g.active).toEqual([active.id]);
    expect(g.waitlist).toEqual([queued.id]);
  });

  it("given a program needing 2 attended sessions, refuses COMPLETED with 1 attended (counts in the message) and accepts it with 2", async () => {
    const w = await world({ capacity: 2, people: 1, minimumAttendedSessions: 2 });
    const sessions = await scheduleSessions(w.admin, w.groupId, isoDay(-3), isoDay(-1));
    expect(sessions).toHaveLength(3);
    const e = await enrolled(w.clinician.token, w.groupId, w.people[0]);
    const clinician = new Api(t.server, w.clinician.token);
    const record = (sessionId: string, status: string) =>
      clinician.mutate("recordAttendance", { sessionId, records: [{ participantId: w.people[0], status }] }, "attendance { id }");

    await record(sessions[0].id, "PRESENT");
    await record(sessions[1].id, "ABSENT");
    const events = await eventCount();
    const refused = await end(w.clinician.token, e.id, "COMPLETED");
    expect(refused).toEqual({
      enrollment: null,
      userErrors: [{ field: ["input", "status"], message: "Completion needs 2 attended sessions; the participant has 1", code: "INVALID_TRANSITION" }],
    });
    expect(await eventCount()).toBe(events);

    await record(sessions[2].id, "PRESENT");
    const done = await ended(w.clinician.token, e.id, "COMPLETED", "Finished the program");
    expect(done).toMatchObject({ status: "COMPLETED", endReason: "Finished the program" });
  });

  it("counts toward completion only sessions after an earlier enrolment in the group ended", async () => {
    const w = await world({ capacity: 2, people: 1, minimumAttendedSessions: 2 });
    const sessions = await scheduleSessions(w.admin, w.groupId, isoDay(-4), isoDay(-1));
    const clinician = new Api(t.server, w.clinician.token);
    const record = (sessionId: string) =>
      clinician.mutate("recordAttendance", { sessionId, records: [{ participantId: w.people[0], status: "PRESENT" }] }, "attendance { id }");
    // Given two sessions attended during a first enrolment that was then withdrawn,
    const first = await enrolled(w.clinician.token, w.groupId, w.people[0]);
    await record(sessions[0].id);
    await record(sessions[1].id);
    await ended(w.clinician.token, first.id, "WITHDRAWN", "Paused treatment");
    // when the participant re-enrols, the earlier attendance does not complete the new enrolment.
    const second = await enrolled(w.clinician.token, w.groupId, w.people[0]);
    const refused = await end(w.clinician.token, second.id, "COMPLETED");
    expect(refused.userErrors).toEqual([
      { field: ["input", "status"], message: "Completion needs 2 attended sessions; the participant has 0", code: "INVALID_TRANSITION" },
    ]);
  });

  it("lists every transition in Enrollment.history in order, with fromStatus, toStatus, reason and actor", async () => {
    const w = await world({ capacity: 1, people: 2 });
    const first = await enrolled(w.clinician.token, w.groupId, w.people[0]);
    const second = await enrolled(w.admin.token, w.groupId, w.people[1]);
    await ended(w.clinician.token, first.id, "DISCHARGED", "Relapsed, referred to inpatient");
    await ended(w.admin.token, second.id, "WITHDRAWN", "Moved away");

    const h = await history(w.admin.token, second.id);
    expect(h.status).toBe("WITHDRAWN");
    expect(h.endReason).toBe("Moved away");
    expect(h.history.map(({ fromStatus, toStatus, reason, actor }) => ({ fromStatus, toStatus, reason, actor: actor?.id ?? null }))).toEqual([
      { fromStatus: null, toStatus: "WAITLISTED", reason: null, actor: w.adminId },
      { fromStatus: "WAITLISTED", toStatus: "ACTIVE", reason: "Seat freed", actor: w.clinician.id },
      { fromStatus: "ACTIVE", toStatus: "WITHDRAWN", reason: "Moved away", actor: w.adminId },
    ]);
    const times = h.history.map((e) => Date.parse(e.occurredAt));
    expect([...times].sort((a, b) => a - b)).toEqual(times);

    const f = await history(w.admin.token, first.id);
    expect(f.history.map(({ fromStatus, toStatus, reason, actor }) => [fromStatus, toStatus, reason, actor?.email])).toEqual([
      [null, "ACTIVE", null, "clin@north.test"],
      ["ACTIVE", "DISCHARGED", "Relapsed, referred to inpatient", "clin@north.test"],
    ]);
  });
});

describe("enrolment role", () => {
  it("changes an enrolment's role to PEER_MENTOR without changing its status or history", async () => {
    const w = await world({ capacity: 2, people: 2 });
    const e = await enrolled(w.clinician.token, w.groupId, w.people[0]);
    const p = await send(UPDATE, { enrollmentId: e.id, role: "PEER_MENTOR" }, w.clinician.token);
    expect(p.userErrors).toEqual([]);
    expect(p.enrollment).toMatchObject({ id: e.id, role: "PEER_MENTOR", status: "ACTIVE" });
    const again = await w.admin.query(`query($id: ID!) { node(id: $id) { ... on Enrollment { role history { toStatus } } } }`, { id: e.id });
    expect(again.node).toEqual({ role: "PEER_MENTOR", history: [{ toStatus: "ACTIVE" }] });

    const mentor = await enrolled(w.clinician.token, w.groupId, w.people[1], "PEER_MENTOR");
    expect(mentor.role).toBe("PEER_MENTOR");
  });
});

describe("capacity under concurrent requests", () => {
  it("given one free seat, when 20 participants enrol at the same time, then exactly one is ACTIVE and 19 are WAITLISTED at distinct positions 1..19", async () => {
    const w = await world({ capacity: 1, people: 20 });
    const results = await Promise.all(w.people.map((p) => enroll(w.clinician.token, w.groupId, p)));

    expect(results.flatMap((r) => r.userErrors)).toEqual([]);
    const statuses = results.map((r) => r.enrollment!.status);
    expect(statuses.filter((s) => s === "ACTIVE")).toHaveLength(1);
    expect(statuses.filter((s) => s === "WAITLISTED")).toHaveLength(19);
    const positions = results.filter((r) => r.enrollment!.status === "WAITLISTED").map((r) => r.enrollment!.waitlistPosition);
    expect([...positions].sort((a, b) => a! - b!)).toEqual(Array.from({ length: 19 }, (_, i) => i + 1));

    const g = await groupState(w.admin.token, w.groupId);
    expect(g).toMatchObject({ capacity: 1, activeCount: 1, waitlistCount: 19, seatsAvailable: 0 });
    expect(g.waitlist.map((id) => g.byId.get(id)!.waitlistPosition)).toEqual(Array.from({ length: 19 }, (_, i) => i + 1));
    expect(new Set(g.enrollments.nodes.map((e) => e.participant.id))).toEqual(new Set(w.people));
  });

  it("given 10 simultaneous enrolments of the same participant, then exactly one is written and the other 9 get ALREADY_ENROLLED", async () => {
    const w = await world({ capacity: 5, people: 1 });
    const results = await Promise.all(Array.from({ length: 10 }, () => enroll(w.clinician.token, w.groupId, w.people[0])));

    const ok = results.filter((r) => r.enrollment);
    expect(ok).toHaveLength(1);
    expect(ok[0].userErrors).toEqual([]);
    expect(ok[0].enrollment!.status).toBe("ACTIVE");
    const refused = results.filter((r) => !r.enrollment);
    expect(refused).toHaveLength(9);
    for (const r of refused) expect(r.userErrors.map((e) => e.code)).toEqual(["ALREADY_ENROLLED"]);

    expect(await enrollmentCount()).toBe(1);
    expect(await eventCount()).toBe(1);
  });

  it("given a full group of 2 with a waitlist of 3, when both ACTIVE enrolments end at the same time, then exactly the first two waitlisted become ACTIVE", async () => {
    // Several rounds on one group, so the two requests really overlap at least once.
    const rounds = 4;
    const w = await world({ capacity: 2, people: 2 + 2 * rounds + 1 });
    const all = await enrolAll(w.clinician.token, w.groupId, w.people);
    const ids = all.map((e) => e.id);

    for (let r = 0; r < rounds; r++) {
      const [a1, a2] = ids.slice(2 * r, 2 * r + 2);
      const waiting = ids.slice(2 * r + 2);
      expect(waiting.length).toBeGreaterThanOrEqual(3);
      const results = await Promise.all([end(w.clinician.token, a1, "WITHDRAWN"), end(w.clinician.token, a2, "DISCHARGED")]);
      expect(results.flatMap((x) => x.userErrors)).toEqual([]);

      const g = await groupState(w.admin.token, w.groupId);
      expect(g).toMatchObject({ capacity: 2, activeCount: 2, waitlistCount: waiting.length - 2, seatsAvailable: 0 });
      expect([...g.active].sort()).toEqual(waiting.slice(0, 2).sort());
      expect(g.waitlist).toEqual(waiting.slice(2));
      expect(g.waitlist.map((id) => g.byId.get(id)!.waitlistPosition)).toEqual(waiting.slice(2).map((_, i) => i + 1));
    }

    // Every enrolment was promoted at most once: one WAITLISTED -> ACTIVE event each, for exactly the promoted ones.
    const promotions = await t.server.database.db
      .select({ enrollmentId: enrollmentEvents.enrollmentId })
      .from(enrollmentEvents)
      .where(and(eq(enrollmentEvents.fromStatus, "WAITLISTED"), eq(enrollmentEvents.toStatus, "ACTIVE")));
    expect(promotions.map((p) => p.enrollmentId).sort()).toEqual(
      ids
        .slice(2, 2 + 2 * rounds)
        .map((id) => decodeId(id, "Enrollment")!)
        .sort(),
    );
  });
});
