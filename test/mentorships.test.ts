// Peer mentors: who is eligible (days in recovery in the center's zone, or a completed program),
// capacity, each refusal with its own code, ending and history, center settings, who may see and
// do what, and two assignments racing for a mentor's last slot (really concurrent on PostgreSQL).
import { and, eq, isNull } from "drizzle-orm";
import postgres from "postgres";
import { describe, expect, it } from "vitest";
import { setClock } from "../src/common/clock.js";
import { decodeId } from "../src/common/ids.js";
import { mentorships } from "../src/db/schema.js";
import { asOrgAdmin, sendMutation, type Api } from "./support/fixtures.js";
import { useTestServer } from "./support/server.js";

const t = useTestServer();

const ERRORS = "userErrors { field message code }";
const MENTORSHIP = "mentorship { id startedOn endedOn endReason current mentor { id } mentee { id } }";
const PEOPLE = `query($id: ID!) { node(id: $id) { ... on Participant {
  mentors { id firstName } mentees { id firstName }
  mentorships { id startedOn endedOn current mentor { id } mentee { id } }
} } }`;

interface World {
  admin: Api;
  centerId: string;
  programId: string;
  groupId: string;
}

async function world(timezone = "America/New_York"): Promise<World> {
  const admin = await asOrgAdmin(t.server);
  const centerId = await admin.createCenter("North Clinic", timezone);
  const program = await admin.mutate("createProgram", { centerId, name: "Relapse prevention" }, "program { id }");
  const group = await admin.mutate(
    "createGroup",
    {
      programId: program.program.id,
      name: "Tuesday evening",
      capacity: 50,
      status: "ACTIVE",
      startsOn: "2026-01-01",
      schedule: { daysOfWeek: ["TUESDAY"], startTime: "18:00", durationMinutes: 90 },
    },
    "group { id }",
  );
  return { admin, centerId, programId: program.program.id, groupId: group.group.id };
}

async function participant(w: World, firstName: string, recoveryStartDate?: string, centerId = w.centerId): Promise<string> {
  const p = await w.admin.mutate("createParticipant", { centerId, firstName, lastName: "Test", recoveryStartDate }, "participant { id }");
  return p.participant.id;
}

async function enrol(w: World, participantId: string, role?: string, groupId = w.groupId): Promise<string> {
  const e = await w.admin.mutate("enrollParticipant", { groupId, participantId, ...(role ? { role } : {}) }, "enrollment { id }");
  return e.enrollment.id;
}

function assign(token: string, mentorId: string, menteeId: string) {
  return sendMutation(t.server, token, "assignPeerMentor", { mentorId, menteeId }, `${MENTORSHIP} ${ERRORS}`);
}

async function assigned(token: string, mentorId: string, menteeId: string) {
  const res = await assign(token, mentorId, menteeId);
  expect(res.errors, JSON.stringify(res.errors)).toBeUndefined();
  expect(res.payload.userErrors).toEqual([]);
  return res.payload.mentorship;
}

function endIt(token: string, mentorshipId: string, reason?: string) {
  return sendMutation(t.server, token, "endMentorship", { mentorshipId, ...(reason ? { reason } : {}) }, `${MENTORSHIP} ${ERRORS}`);
}

const codes = (res: { payload: { userErrors: Array<{ code: string; field: string[] }> } }) => res.payload.userErrors.map((e) => [e.code, e.field.join(".")]);

describe("eligibility", () => {
  it("a mentor becomes eligible on the 180th day of recovery at midnight in the center's zone", async () => {
    const w = await world("America/New_York");
    const mentor = await participant(w, "Mo", "2026-01-01"); // 180 days later: 30 June 2026
    const mentee = await participant(w, "Nia", "2026-06-01");
    setClock("2026-06-30T03:59:00Z"); // 23:59 on 29 June in New York (already 30 June in UTC)
    const before = await t.server.database.fingerprint();
    const early = await assign(w.admin.token, mentor, mentee);
    expect(early.payload.mentorship).toBeNull();
    expect(codes(early)).toEqual([["MENTOR_NOT_ELIGIBLE", "input.mentorId"]]);
    expect(await t.server.database.fingerprint()).toBe(before);
    setClock("2026-06-30T04:00:00Z"); // midnight in New York
    const m = await assigned(w.admin.token, mentor, mentee);
    expect(m).toMatchObject({ startedOn: "2026-06-30", endedOn: null, current: true, mentor: { id: mentor }, mentee: { id: mentee } });
  });

  it("a completed program makes a mentor eligible whatever their recovery start; no start date and no completion does not", async () => {
    const w = await world();
    const graduate = await participant(w, "Gus");
    const newcomer = await participant(w, "Nia");
    const other = await participant(w, "Oz");
    expect(codes(await assign(w.admin.token, graduate, newcomer))).toEqual([["MENTOR_NOT_ELIGIBLE", "input.mentorId"]]);
    const enrollmentId = await enrol(w, graduate);
    await w.admin.mutate("endEnrollment", { enrollmentId, status: "WITHDRAWN" }, "enrollment { id }");
    expect(codes(await assign(w.admin.token, graduate, newcomer))).toEqual([["MENTOR_NOT_ELIGIBLE", "input.mentorId"]]);
    const again = await enrol(w, graduate);
    await w.admin.mutate("endEnrollment", { enrollmentId: again, status: "COMPLETED" }, "enrollment { id }");
    await assigned(w.admin.token, graduate, newcomer);
    await assigned(w.admin.token, graduate, other);
  });

  it("follows the center's peerMentorMinimumDays, which admins set within 0..3650", async () => {
    const w = await world();
    const center = await w.admin.query(`query($id: ID!) { center(id: $id) { peerMentorMinimumDays maxMenteesPerMentor } }`, { id: w.centerId });
    expect(center.center).toEqual({ peerMentorMinimumDays: 180, maxMenteesPerMentor: 3 });
    setClock("2026-06-30T16:00:00Z");
    const mentor = await participant(w, "Mo", "2026-05-31"); // 30 days
    const mentee = await participant(w, "Nia");
    expect(codes(await assign(w.admin.token, mentor, mentee))).toEqual([["MENTOR_NOT_ELIGIBLE", "input.mentorId"]]);
    for (const [field, value] of [
      ["peerMentorMinimumDays", -1],
      ["peerMentorMinimumDays", 3651],
      ["maxMenteesPerMentor", 0],
      ["maxMenteesPerMentor", 21],
    ] as const) {
      const res = await sendMutation(t.server, w.admin.token, "updateCenter", { centerId: w.centerId, [field]: value }, `center { id } ${ERRORS}`);
      expect(codes(res)).toEqual([["INVALID", `input.${field}`]]);
    }
    const ok = await w.admin.mutate(
      "updateCenter",
      { centerId: w.centerId, peerMentorMinimumDays: 30 },
      "center { peerMentorMinimumDays maxMenteesPerMentor }",
    );
    expect(ok.center).toEqual({ peerMentorMinimumDays: 30, maxMenteesPerMentor: 3 });
    await assigned(w.admin.token, mentor, mentee);
  });
});

describe("refusals", () => {
  it("refuses the same person, a pair already current, and a mentor at capacity, each with its own code", async () => {
    const w = await world();
    const mentor = await participant(w, "Mo", "2020-01-01");
    const second = await participant(w, "Sam", "2020-01-01");
    const mentees: string[] = [];
    for (const n of ["A", "B", "C", "D"]) mentees.push(await participant(w, n));
    expect(codes(await assign(w.admin.token, mentor, mentor))).toEqual([["SAME_PARTICIPANT", "input.menteeId"]]);
    await assigned(w.admin.token, mentor, mentees[0]);
    expect(codes(await assign(w.admin.token, mentor, mentees[0]))).toEqual([["ALREADY_PAIRED", "input.menteeId"]]);
    // A mentee may have more than one mentor.
    await assigned(w.admin.token, second, mentees[0]);
    await assigned(w.admin.token, mentor, mentees[1]);
    await assigned(w.admin.token, mentor, mentees[2]);
    const before = await t.server.database.fingerprint();
    expect(codes(await assign(w.admin.token, mentor, mentees[3]))).toEqual([["MENTOR_AT_CAPACITY", "input.mentorId"]]);
    expect(await t.server.database.fingerprint()).toBe(before);
    // Ending one frees a slot; a lower maximum applies to new pairings.
    const people = await w.admin.query(PEOPLE, { id: mentor });
    const first = people.node.mentorships.find((m: { mentee: { id: string } }) => m.mentee.id === mentees[0]);
    expect((await endIt(w.admin.token, first.id)).payload.userErrors).toEqual([]);
    await assigned(w.admin.token, mentor, mentees[3]);
    await w.admin.mutate("updateCenter", { centerId: w.centerId, maxMenteesPerMentor: 1 }, "center { id }");
    expect(codes(await assign(w.admin.token, second, mentees[1]))).toEqual([["MENTOR_AT_CAPACITY", "input.mentorId"]]);
  });

  it("a participant out of reach reads as NOT_FOUND; two centers' participants cannot be paired", async () => {
    const w = await world();
    const otherCenter = await w.admin.createCenter("South Clinic", "Europe/London");
    const clinician = await w.admin.createStaff("clin@org.test", [{ centerId: w.centerId, role: "CLINICIAN" }]);
    const mentor = await participant(w, "Mo", "2020-01-01");
    const mentee = await participant(w, "Nia");
    const elsewhere = await participant(w, "Far", "2020-01-01", otherCenter);
    expect(codes(await assign(clinician.token, elsewhere, mentee))).toEqual([["NOT_FOUND", "input.mentorId"]]);
    expect(codes(await assign(clinician.token, mentor, elsewhere))).toEqual([["NOT_FOUND", "input.menteeId"]]);
    expect(codes(await assign(clinician.token, mentor, "bm90LWFuLWlk"))).toEqual([["NOT_FOUND", "input.menteeId"]]);
    // The org admin sees both centers: a clear refusal instead.
    expect(codes(await assign(w.admin.token, elsewhere, mentee))).toEqual([["CENTER_MISMATCH", "input.menteeId"]]);
    await assigned(clinician.token, mentor, mentee);
  });
});

describe("ending and history", () => {
  it("ends a mentorship on the center's date, keeps it in both histories, and refuses ending it twice", async () => {
    const w = await world("America/New_York");
    const mentor = await participant(w, "Mo", "2020-01-01");
    const mentee = await participant(w, "Nia");
    const other = await participant(w, "Oz");
    setClock("2026-03-01T12:00:00Z");
    const m = await assigned(w.admin.token, mentor, mentee);
    setClock("2026-03-02T12:00:00Z");
    const m2 = await assigned(w.admin.token, mentor, other);
    let people = await w.admin.query(PEOPLE, { id: mentor });
    expect(people.node.mentees.map((p: { firstName: string }) => p.firstName).sort()).toEqual(["Nia", "Oz"]);
    expect((await w.admin.query(PEOPLE, { id: mentee })).node.mentors).toEqual([{ id: mentor, firstName: "Mo" }]);

    setClock("2026-04-01T03:30:00Z"); // 23:30 on 31 March in New York
    const ended = await endIt(w.admin.token, m.id, "Moved away");
    expect(ended.payload.userErrors).toEqual([]);
    expect(ended.payload.mentorship).toMatchObject({ endedOn: "2026-03-31", endReason: "Moved away", current: false });

    people = await w.admin.query(PEOPLE, { id: mentor });
    expect(people.node.mentees).toEqual([{ id: other, firstName: "Oz" }]);
    expect(people.node.mentorships.map((x: { id: string; current: boolean }) => [x.id, x.current])).toEqual([
      [m2.id, true],
      [m.id, false],
    ]);
    const menteeView = (await w.admin.query(PEOPLE, { id: mentee })).node;
    expect(menteeView.mentors).toEqual([]);
    expect(menteeView.mentorships).toEqual([
      { id: m.id, startedOn: "2026-03-01", endedOn: "2026-03-31", current: false, mentor: { id: mentor }, mentee: { id: mentee } },
    ]);

    const before = await t.server.database.fingerprint();
    expect(codes(await endIt(w.admin.token, m.id))).toEqual([["INVALID_TRANSITION", "input.mentorshipId"]]);
    expect(await t.server.database.fingerprint()).toBe(before);
    // The same pair may be paired again after the end.
    await assigned(w.admin.token, mentor, mentee);
  });
});

describe("who may see and do what", () => {
  it("clinicians pair; facilitators and viewers may not; a facilitator of another group finds nobody", async () => {
    const w = await world();
    const viewer = await w.admin.createStaff("viewer@org.test", [{ centerId: w.centerId, role: "VIEWER" }]);
    const mine = await w.admin.createStaff("mine@org.test", [{ centerId: w.centerId, role: "FACILITATOR" }]);
    const other = await w.admin.createStaff("other@org.test", [{ centerId: w.centerId, role: "FACILITATOR" }]);
    await w.admin.mutate("updateGroup", { groupId: w.groupId, facilitatorIds: [mine.id] }, "group { id }");
    const mentor = await participant(w, "Mo", "2020-01-01");
    const mentee = await participant(w, "Nia");
    await enrol(w, mentee);
    await enrol(w, mentor, "PEER_MENTOR");
    const outsider = await participant(w, "Out", "2020-01-01"); // in no group of `mine`

    expect((await assign(viewer.token, mentor, mentee)).errors?.[0].extensions?.code).toBe("FORBIDDEN");
    expect((await assign(mine.token, mentor, mentee)).errors?.[0].extensions?.code).toBe("FORBIDDEN");
    expect(codes(await assign(other.token, mentor, mentee))).toEqual([["NOT_FOUND", "input.mentorId"]]);

    const m = await assigned(w.admin.token, mentor, mentee);
    await assigned(w.admin.token, outsider, mentee);
    // The facilitator sees the mentor from their group but not the one outside it.
    const seen = await t.server.gql(PEOPLE, { id: mentee }, { token: mine.token });
    expect(seen.errors).toBeUndefined();
    expect(seen.data.node.mentors).toEqual([{ id: mentor, firstName: "Mo" }]);
    expect(seen.data.node.mentorships.map((x: { id: string }) => x.id)).toEqual([m.id]);
    const node = `query($id: ID!) { node(id: $id) { ... on Mentorship { id startedOn } } }`;
    expect((await t.server.gql(node, { id: m.id }, { token: mine.token })).data.node).toEqual({ id: m.id, startedOn: m.startedOn });
    expect((await t.server.gql(node, { id: m.id }, { token: other.token })).data.node).toBeNull();
    expect((await t.server.gql(node, { id: m.id }, { token: viewer.token })).errors?.[0].extensions?.code).toBe("FORBIDDEN");
    expect((await t.server.gql(PEOPLE, { id: mentee }, { token: other.token })).data.node).toBeNull();
    expect((await endIt(mine.token, m.id)).errors?.[0].extensions?.code).toBe("FORBIDDEN");
    expect(codes(await endIt(other.token, m.id))).toEqual([["NOT_FOUND", "input.mentorshipId"]]);
  });

  it("Group.peerMentors lists the ACTIVE PEER_MENTOR enrolments; refused to VIEWERs", async () => {
    const w = await world();
    const viewer = await w.admin.createStaff("viewer@org.test", [{ centerId: w.centerId, role: "VIEWER" }]);
    const mentor = await participant(w, "Mo");
    const member = await participant(w, "Nia");
    await enrol(w, mentor, "PEER_MENTOR");
    await enrol(w, member);
    const q = `query($id: ID!) { node(id: $id) { ... on Group { name peerMentors { id firstName } } } }`;
    expect((await w.admin.query(q, { id: w.groupId })).node.peerMentors).toEqual([{ id: mentor, firstName: "Mo" }]);
    const res = await t.server.gql(q, { id: w.groupId }, { token: viewer.token });
    expect(res.data.node).toEqual({ name: "Tuesday evening", peerMentors: null });
    expect(res.errors?.[0]).toMatchObject({ path: ["node", "peerMentors"], extensions: { code: "FORBIDDEN" } });
  });
});

/**
 * On PostgreSQL, holds the mentor's row from another connection while the requests start, so they
 * all reach their transactions before any can finish: without a lock of their own they would all
 * see the free slot. (PGlite runs one statement at a time; there the requests simply interleave.)
 */
async function racing<T>(mentorRowId: string, requests: number, run: () => Promise<T>): Promise<T> {
  const url = t.server.database.url;
  if (!url) return run();
  const sql = postgres(url, { max: 2, onnotice: () => {} });
  try {
    let release!: () => void;
    const released = new Promise<void>((r) => (release = r));
    let holding!: () => void;
    const held = new Promise<void>((r) => (holding = r));
    const blocker = sql.begin(async (tx) => {
      await tx`select id from participants where id = ${mentorRowId} for update`;
      holding();
      await released;
    });
    await held;
    let settled = false;
    const pending = run().finally(() => (settled = true));
    for (let i = 0; i < 100 && !settled; i++) {
      const [{ n }] = await sql`select count(*)::int as n from pg_stat_activity where datname = current_database() and wait_event_type = 'Lock'`;
      if (n >= requests) break;
      await new Promise((r) => setTimeout(r, 50));
    }
    release();
    await blocker;
    return await pending;
  } finally {
    await sql.end();
  }
}

describe("concurrency", () => {
  it("assignments racing for a mentor's last slot: exactly one wins", async () => {
    const w = await world();
    const mentor = await participant(w, "Mo", "2020-01-01");
    const taken = [await participant(w, "A"), await participant(w, "B")];
    for (const id of taken) await assigned(w.admin.token, mentor, id);
    const racers: string[] = [];
    for (let i = 0; i < 6; i++) racers.push(await participant(w, `R${i}`));
    const results = await racing(decodeId(mentor, "Participant")!, racers.length, () => Promise.all(racers.map((id) => assign(w.admin.token, mentor, id))));
    for (const r of results) expect(r.errors, JSON.stringify(r.errors)).toBeUndefined();
    const winners = results.filter((r) => r.payload.mentorship);
    expect(winners).toHaveLength(1);
    expect(results.filter((r) => r.payload.userErrors[0]?.code === "MENTOR_AT_CAPACITY")).toHaveLength(5);
    const current = await t.server.database.db
      .select()
      .from(mentorships)
      .where(and(eq(mentorships.mentorId, decodeId(mentor, "Participant")!), isNull(mentorships.endedAt)));
    expect(current).toHaveLength(3);
  });

  it("the same pair assigned twice at once makes one mentorship", async () => {
    const w = await world();
    const mentor = await participant(w, "Mo", "2020-01-01");
    const mentee = await participant(w, "Nia");
    const results = await Promise.all([0, 1, 2, 3].map(() => assign(w.admin.token, mentor, mentee)));
    for (const r of results) expect(r.errors, JSON.stringify(r.errors)).toBeUndefined();
    expect(results.filter((r) => r.payload.mentorship)).toHaveLength(1);
    expect(results.filter((r) => r.payload.userErrors[0]?.code === "ALREADY_PAIRED")).toHaveLength(3);
  });
});
