// Follow-ups over HTTP: opened by the attendance batch that takes absences in a row to the
// program's threshold, never twice, resolved by a correction, noting a return; listed, claimed,
// reassigned and completed with history; what a VIEWER and a facilitator of another group see;
// and two staff recording at once (run with TEST_DATABASE_URL for real concurrency).
import { eq } from "drizzle-orm";
import { describe, expect, it } from "vitest";
import { setClock } from "../src/common/clock.js";
import { decodeId } from "../src/common/ids.js";
import { followUps } from "../src/db/schema.js";
import { Api, asOrgAdmin, sendMutation } from "./support/fixtures.js";
import { useTestServer } from "./support/server.js";

const t = useTestServer();

type SessionRef = { id: string; startsAt: string };

const FOLLOW_UP = `id status reason absences openedAt dueOn returnedAt completedAt resolvedAt resolution outcome note
  participant { id } group { id } session { id } assignee { id } completedBy { id }
  history { kind occurredAt outcome note actor { id } fromAssignee { id } toAssignee { id } }`;

/**
 * New York center. "Tuesday evening" (program threshold `threshold`, default 2) meets Tuesdays at
 * 20:00 (01:00Z on Wednesday) from 2026-01-06, led by `lead` (FACILITATOR); "Friday" is led by
 * `otherFacilitator`. Ana and Ben are ACTIVE in Tuesday evening. "now" is 2026-03-01.
 */
async function world(opts: { threshold?: number; lead?: boolean } = {}) {
  setClock("2026-01-01T15:00:00Z");
  const admin = await asOrgAdmin(t.server);
  const centerId = await admin.createCenter("North Clinic", "America/New_York");
  const [lead, otherFacilitator, viewer, clinician, clinician2] = await Promise.all([
    admin.createStaff("lead@north.test", [{ centerId, role: "FACILITATOR" }]),
    admin.createStaff("fac2@north.test", [{ centerId, role: "FACILITATOR" }]),
    admin.createStaff("viewer@north.test", [{ centerId, role: "VIEWER" }]),
    admin.createStaff("zed@north.test", [{ centerId, role: "CLINICIAN" }]),
    admin.createStaff("amy@north.test", [{ centerId, role: "CLINICIAN" }]),
  ]);
  const programId = (
    await admin.mutate(
      "createProgram",
      { centerId, name: "Relapse prevention", attendancePolicy: { absencesBeforeFollowUp: opts.threshold ?? 2 } },
      "program { id }",
    )
  ).program.id;
  const group = async (name: string, day: string, time: string, facilitatorIds: string[]) => {
    const g = await admin.mutate(
      "createGroup",
      {
        programId,
        name,
        capacity: 20,
        status: "ACTIVE",
        startsOn: "2026-01-05",
        facilitatorIds,
        schedule: { daysOfWeek: [day], startTime: time, durationMinutes: 60 },
      },
      "group { id }",
    );
    const s = await admin.mutate("scheduleSessions", { groupId: g.group.id, from: "2026-01-05", to: "2026-02-28" }, "sessions { id startsAt }");
    return { id: g.group.id as string, sessions: s.sessions as SessionRef[] };
  };
  const tuesday = await group("Tuesday evening", "TUESDAY", "20:00", opts.lead === false ? [] : [lead.id]);
  const friday = await group("Friday", "FRIDAY", "10:00", [otherFacilitator.id]);
  const person = async (firstName: string) =>
    (await admin.mutate("createParticipant", { centerId, firstName, lastName: "Test" }, "participant { id }")).participant.id as string;
  const ana = await person("Ana");
  const ben = await person("Ben");
  for (const p of [ana, ben]) await admin.mutate("enrollParticipant", { groupId: tuesday.id, participantId: p }, "enrollment { id }");
  setClock("2026-03-01T12:00:00Z");
  const as = (token: string) => new Api(t.server, token);
  return { admin, as, centerId, programId, lead, otherFacilitator, viewer, clinician, clinician2, tuesday, friday, S: tuesday.sessions, ana, ben };
}

async function record(api: Api, session: SessionRef, records: Array<[string, string]>) {
  await api.mutate(
    "recordAttendance",
    { sessionId: session.id, records: records.map(([participantId, status]) => ({ participantId, status })) },
    "attendance { id }",
  );
}

async function followUpsOf(api: Api, centerId: string, args = "") {
  const res = await api.query(`query($id: ID!) { center(id: $id) { followUps${args} { totalCount nodes { ${FOLLOW_UP} } } } }`, { id: centerId });
  return res.center.followUps as { totalCount: number; nodes: any[] };
}

describe("opening a follow-up", () => {
  it("opens in the batch that takes absences in a row to the program's threshold, due two days after the session's local date, assigned to the lead", async () => {
    const w = await world();
    // Given one absence: nothing yet
    await record(w.admin, w.S[0], [
      [w.ana, "ABSENT"],
      [w.ben, "PRESENT"],
    ]);
    expect((await followUpsOf(w.admin, w.centerId)).totalCount).toBe(0);

    // When the second absence in a row is recorded (Tuesday 13 January 20:00 New York = 01:00Z on the 14th)
    await record(w.admin, w.S[1], [
      [w.ana, "ABSENT"],
      [w.ben, "PRESENT"],
    ]);

    // Then one follow-up is OPEN for Ana, due on Thursday the 15th (the session's local date + 2)
    const list = await followUpsOf(w.admin, w.centerId);
    expect(list.totalCount).toBe(1);
    const f = list.nodes[0];
    expect(f).toMatchObject({
      status: "OPEN",
      reason: "2 absences in a row from Tuesday evening",
      absences: 2,
      openedAt: "2026-03-01T12:00:00.000Z",
      dueOn: "2026-01-15",
      returnedAt: null,
      participant: { id: w.ana },
      group: { id: w.tuesday.id },
      session: { id: w.S[1].id },
      assignee: { id: w.lead.id },
    });
    expect(f.history.map((h: any) => h.kind)).toEqual(["OPENED"]);
    expect(f.history[0].note).toBe("2 absences in a row from Tuesday evening");
  });

  it("skips excused and unrecorded sessions when counting, and follows the program's threshold", async () => {
    const w = await world({ threshold: 3 });
    await record(w.admin, w.S[0], [[w.ana, "ABSENT"]]);
    await record(w.admin, w.S[1], [[w.ana, "EXCUSED"]]);
    await record(w.admin, w.S[3], [[w.ana, "ABSENT"]]); // S3 left unrecorded
    expect((await followUpsOf(w.admin, w.centerId)).totalCount).toBe(0);
    await record(w.admin, w.S[4], [[w.ana, "ABSENT"]]);
    const list = await followUpsOf(w.admin, w.centerId);
    expect(list.nodes.map((n) => [n.reason, n.session.id])).toEqual([["3 absences in a row from Tuesday evening", w.S[4].id]]);
  });

  it("assigns the center's clinician with the fewest open follow-ups when the group has no lead", async () => {
    const w = await world({ lead: false });
    await record(w.admin, w.S[0], [
      [w.ana, "ABSENT"],
      [w.ben, "ABSENT"],
    ]);
    await record(w.admin, w.S[1], [[w.ana, "ABSENT"]]);
    // amy sorts before zed with none open each
    expect((await followUpsOf(w.admin, w.centerId)).nodes[0].assignee).toEqual({ id: w.clinician2.id });
    await record(w.admin, w.S[1], [[w.ben, "ABSENT"]]);
    const byParticipant = new Map((await followUpsOf(w.admin, w.centerId)).nodes.map((n) => [n.participant.id, n.assignee.id]));
    expect(byParticipant.get(w.ben)).toBe(w.clinician.id);
  });

  it("never opens a second while one is OPEN, and re-recording the same values writes nothing", async () => {
    const w = await world();
    await record(w.admin, w.S[0], [[w.ana, "ABSENT"]]);
    await record(w.admin, w.S[1], [[w.ana, "ABSENT"]]);
    await record(w.admin, w.S[2], [[w.ana, "ABSENT"]]);
    expect((await followUpsOf(w.admin, w.centerId)).totalCount).toBe(1);

    const before = await t.server.database.fingerprint();
    await record(w.admin, w.S[2], [[w.ana, "ABSENT"]]);
    await record(w.admin, w.S[1], [[w.ana, "ABSENT"]]);
    expect(await t.server.database.fingerprint()).toBe(before);
  });

  it("does not open for a participant without an ACTIVE enrolment in the group", async () => {
    const w = await world();
    const e = await w.admin.query(`query($id: ID!) { node(id: $id) { ... on Participant { enrollments(first: 1) { nodes { id } } } } }`, { id: w.ana });
    await w.admin.mutate("endEnrollment", { enrollmentId: e.node.enrollments.nodes[0].id, status: "WITHDRAWN" }, "enrollment { id }");
    await record(w.admin, w.S[0], [[w.ana, "ABSENT"]]);
    await record(w.admin, w.S[1], [[w.ana, "ABSENT"]]);
    expect((await followUpsOf(w.admin, w.centerId)).totalCount).toBe(0);
  });
});

describe("corrections and returns", () => {
  it("closes an OPEN follow-up as RESOLVED, with the reason, when a correction takes the run below the threshold", async () => {
    const w = await world();
    await record(w.admin, w.S[0], [[w.ana, "ABSENT"]]);
    await record(w.admin, w.S[1], [[w.ana, "ABSENT"]]);
    // When staff correct the second session: Ana was there after all
    await record(w.as(w.clinician.token), w.S[1], [[w.ana, "PRESENT"]]);
    const [f] = (await followUpsOf(w.admin, w.centerId)).nodes;
    expect(f).toMatchObject({
      status: "RESOLVED",
      resolvedAt: "2026-03-01T12:00:00.000Z",
      resolution: "Attendance corrected: 0 absences in a row, below the program's 2",
    });
    expect(f.history.map((h: any) => h.kind)).toEqual(["OPENED", "RESOLVED"]);
    expect(f.history[1].actor).toEqual({ id: w.clinician.id });
    // And a RESOLVED one does not stop a new run from opening another
    await record(w.admin, w.S[2], [[w.ana, "ABSENT"]]);
    await record(w.admin, w.S[3], [[w.ana, "ABSENT"]]);
    expect((await followUpsOf(w.admin, w.centerId, "(status: OPEN)")).totalCount).toBe(1);
  });

  it("stays OPEN when a correction leaves enough absences around it (an EXCUSED in the middle of a longer run)", async () => {
    const w = await world();
    await record(w.admin, w.S[0], [[w.ana, "ABSENT"]]);
    await record(w.admin, w.S[1], [[w.ana, "ABSENT"]]);
    await record(w.admin, w.S[2], [[w.ana, "ABSENT"]]);
    await record(w.admin, w.S[1], [[w.ana, "EXCUSED"]]);
    const [f] = (await followUpsOf(w.admin, w.centerId)).nodes;
    expect(f.status).toBe("OPEN");
  });

  it("does not close when the participant attends again, but shows returnedAt", async () => {
    const w = await world();
    await record(w.admin, w.S[0], [[w.ana, "ABSENT"]]);
    await record(w.admin, w.S[1], [[w.ana, "ABSENT"]]);
    await record(w.admin, w.S[2], [[w.ana, "LATE"]]);
    const [f] = (await followUpsOf(w.admin, w.centerId)).nodes;
    expect(f).toMatchObject({ status: "OPEN", returnedAt: w.S[2].startsAt });
    expect(f.history.map((h: any) => h.kind)).toEqual(["OPENED", "RETURNED"]);
  });
});

const COMPLETE = `followUp { id status outcome note completedAt completedBy { id } } userErrors { field message code }`;

describe("working follow-ups", () => {
  async function opened() {
    const w = await world();
    await record(w.admin, w.S[0], [[w.ana, "ABSENT"]]);
    await record(w.admin, w.S[1], [[w.ana, "ABSENT"]]);
    const [f] = (await followUpsOf(w.admin, w.centerId)).nodes;
    return { ...w, followUpId: f.id as string };
  }

  it("completes an OPEN follow-up with an outcome and note, and refuses to complete it again", async () => {
    const w = await opened();
    const done = await sendMutation(
      t.server,
      w.lead.token,
      "completeFollowUp",
      { followUpId: w.followUpId, outcome: "REACHED", note: "  Called; back next week " },
      COMPLETE,
    );
    expect(done.payload).toMatchObject({
      followUp: {
        status: "COMPLETED",
        outcome: "REACHED",
        note: "Called; back next week",
        completedAt: "2026-03-01T12:00:00.000Z",
        completedBy: { id: w.lead.id },
      },
      userErrors: [],
    });
    const before = await t.server.database.fingerprint();
    const again = await sendMutation(t.server, w.lead.token, "completeFollowUp", { followUpId: w.followUpId, outcome: "OTHER" }, COMPLETE);
    expect(again.payload).toEqual({
      followUp: null,
      userErrors: [{ field: ["input", "followUpId"], message: "The follow-up is COMPLETED, not OPEN", code: "INVALID_TRANSITION" }],
    });
    expect(await t.server.database.fingerprint()).toBe(before);

    // A further absence in the same run does not open another; a new run after a return does
    await record(w.admin, w.S[2], [[w.ana, "ABSENT"]]);
    expect((await followUpsOf(w.admin, w.centerId, "(status: OPEN)")).totalCount).toBe(0);
    await record(w.admin, w.S[3], [[w.ana, "PRESENT"]]);
    await record(w.admin, w.S[4], [[w.ana, "ABSENT"]]);
    await record(w.admin, w.S[5], [[w.ana, "ABSENT"]]);
    expect((await followUpsOf(w.admin, w.centerId, "(status: OPEN)")).nodes.map((n) => n.session.id)).toEqual([w.S[5].id]);
  });

  it("claims and reassigns, keeping every change in the history", async () => {
    const w = await opened();
    const claimed = await sendMutation(
      t.server,
      w.clinician.token,
      "claimFollowUp",
      { followUpId: w.followUpId },
      "followUp { assignee { id } } userErrors { code }",
    );
    expect(claimed.payload).toEqual({ followUp: { assignee: { id: w.clinician.id } }, userErrors: [] });

    // Reassigning to a facilitator of another group, or to someone unknown, is refused
    const wrong = await sendMutation(
      t.server,
      w.clinician.token,
      "reassignFollowUp",
      { followUpId: w.followUpId, assigneeId: w.otherFacilitator.id },
      "userErrors { field code }",
    );
    expect(wrong.payload.userErrors).toMatchObject([{ field: ["input", "assigneeId"], code: "NOT_ALLOWED" }]);
    const unknown = await sendMutation(
      t.server,
      w.clinician.token,
      "reassignFollowUp",
      { followUpId: w.followUpId, assigneeId: w.centerId },
      "userErrors { field code }",
    );
    expect(unknown.payload.userErrors).toMatchObject([{ field: ["input", "assigneeId"], code: "NOT_FOUND" }]);

    const moved = await sendMutation(
      t.server,
      w.clinician.token,
      "reassignFollowUp",
      { followUpId: w.followUpId, assigneeId: w.clinician2.id, note: "Amy knows her" },
      "followUp { assignee { id } } userErrors { code }",
    );
    expect(moved.payload.followUp.assignee.id).toBe(w.clinician2.id);
    const node = await w.admin.query(`query($id: ID!) { node(id: $id) { ... on FollowUp { ${FOLLOW_UP} } } }`, { id: w.followUpId });
    expect(node.node.history.map((h: any) => [h.kind, h.fromAssignee?.id ?? null, h.toAssignee?.id ?? null, h.note])).toEqual([
      ["OPENED", null, w.lead.id, "2 absences in a row from Tuesday evening"],
      ["CLAIMED", w.lead.id, w.clinician.id, null],
      ["REASSIGNED", w.clinician.id, w.clinician2.id, "Amy knows her"],
    ]);

    // Staff.followUps lists what is assigned to a staff member
    const mine = await w.as(w.clinician2.token).query(`{ viewer { followUps(status: OPEN) { totalCount nodes { id } } } }`);
    expect(mine.viewer.followUps).toEqual({ totalCount: 1, nodes: [{ id: w.followUpId }] });
    // And Center.followUps filters by assignee
    expect((await followUpsOf(w.admin, w.centerId, `(assigneeId: "${w.lead.id}")`)).totalCount).toBe(0);
    expect((await followUpsOf(w.admin, w.centerId, `(assigneeId: "${w.clinician2.id}")`)).totalCount).toBe(1);
  });

  it("lets facilitators see and act on their groups' follow-ups only; VIEWERs are refused", async () => {
    const w = await opened();
    // The Friday facilitator: the follow-up does not exist for them
    const other = w.as(w.otherFacilitator.token);
    expect((await followUpsOf(other, w.centerId)).totalCount).toBe(0);
    expect((await other.query(`query($id: ID!) { node(id: $id) { id } }`, { id: w.followUpId })).node).toBeNull();
    const refused = await sendMutation(t.server, w.otherFacilitator.token, "completeFollowUp", { followUpId: w.followUpId, outcome: "REACHED" }, COMPLETE);
    expect(refused.payload.userErrors).toEqual([{ field: ["input", "followUpId"], message: "No followup with that id", code: "NOT_FOUND" }]);
    expect((await other.query(`{ viewer { followUps { totalCount } } }`)).viewer.followUps.totalCount).toBe(0);
    // The lead of the group sees it
    expect((await followUpsOf(w.as(w.lead.token), w.centerId)).totalCount).toBe(1);

    // A VIEWER is refused the list and the object, and cannot act
    const list = await t.server.gql(`query($id: ID!) { center(id: $id) { followUps { totalCount } } }`, { id: w.centerId }, { token: w.viewer.token });
    expect(list.errors?.[0].extensions?.code).toBe("FORBIDDEN");
    const node = await t.server.gql(`query($id: ID!) { node(id: $id) { id } }`, { id: w.followUpId }, { token: w.viewer.token });
    expect(node.errors?.[0].extensions?.code).toBe("FORBIDDEN");
    const act = await sendMutation(t.server, w.viewer.token, "claimFollowUp", { followUpId: w.followUpId });
    expect(act.errors?.[0].extensions?.code).toBe("FORBIDDEN");
    const [row] = await t.server.database.db
      .select()
      .from(followUps)
      .where(eq(followUps.id, decodeId(w.followUpId, "FollowUp")!));
    expect(row.assigneeStaffId).toBe(decodeId(w.lead.id, "Staff"));
  });
});

describe("another center", () => {
  it("answers another center's staff as if the follow-up did not exist, and changes nothing", async () => {
    const w = await world();
    await record(w.admin, w.S[0], [[w.ana, "ABSENT"]]);
    await record(w.admin, w.S[1], [[w.ana, "ABSENT"]]);
    const [f] = (await followUpsOf(w.admin, w.centerId)).nodes;
    const otherCenter = await w.admin.createCenter("South Clinic", "America/Chicago");
    const stranger = await w.admin.createStaff("admin@south.test", [{ centerId: otherCenter, role: "ADMIN" }]);
    const before = await t.server.database.fingerprint();
    expect((await w.as(stranger.token).query(`query($id: ID!) { node(id: $id) { id } }`, { id: f.id })).node).toBeNull();
    for (const [field, input] of [
      ["claimFollowUp", { followUpId: f.id }],
      ["reassignFollowUp", { followUpId: f.id, assigneeId: stranger.id }],
      ["completeFollowUp", { followUpId: f.id, outcome: "REACHED" }],
    ] as const) {
      const res = await sendMutation(t.server, stranger.token, field, input, "userErrors { field code }");
      expect(res.payload.userErrors, field).toMatchObject([{ field: ["input", "followUpId"], code: "NOT_FOUND" }]);
    }
    expect((await followUpsOf(w.as(stranger.token), otherCenter)).totalCount).toBe(0);
    expect(await t.server.database.fingerprint()).toBe(before);
  });
});

describe("two staff recording at once", () => {
  it("opens exactly one follow-up when both record the same session", async () => {
    const w = await world();
    await record(w.admin, w.S[0], [[w.ana, "ABSENT"]]);
    const batch = (token: string, note: string) =>
      sendMutation(
        t.server,
        token,
        "recordAttendance",
        { sessionId: w.S[1].id, records: [{ participantId: w.ana, status: "ABSENT", note }] },
        "attendance { id }",
      );
    const results = await Promise.all([batch(w.lead.token, "lead"), batch(w.clinician.token, "clinician"), batch(w.admin.token, "admin")]);
    for (const r of results) expect(r.errors).toBeUndefined();
    const rows = await t.server.database.db.select().from(followUps);
    expect(rows).toHaveLength(1);
    expect(rows[0].status).toBe("OPEN");
  });

  it("opens exactly one when two sessions of the group are recorded at the same time", async () => {
    const w = await world();
    const results = await Promise.all([
      sendMutation(t.server, w.lead.token, "recordAttendance", { sessionId: w.S[0].id, records: [{ participantId: w.ana, status: "ABSENT" }] }),
      sendMutation(t.server, w.clinician.token, "recordAttendance", { sessionId: w.S[1].id, records: [{ participantId: w.ana, status: "ABSENT" }] }),
    ]);
    for (const r of results) expect(r.errors).toBeUndefined();
    const rows = await t.server.database.db.select().from(followUps);
    expect(rows.map((r) => [r.status, r.absences])).toEqual([["OPEN", 2]]);
  });
});

describe("batches of several sessions of one group at once", () => {
  // The deadlock this guards against: a batch opening a follow-up inserts a row that references the
  // session of the run's latest absence (its foreign key check locks that session's row, FOR KEY
  // SHARE) while holding the group's follow-ups lock; a batch correcting that session held its row
  // locked and waited for the group's lock. PostgreSQL then ends one of them (an internal error).
  it("marking members ABSENT at five sessions while a sixth, whose absences count, is corrected, all at once: no deadlock, one follow-up each", async () => {
    // Given Tuesday evening (threshold 2) and six of its sessions
    const w = await world();
    const sessions = w.S.slice(0, 6);
    // (three times over, with two new members each time: which batch takes the group's lock first varies)
    for (let attempt = 0; attempt < 3; attempt++) {
      const members: string[] = [];
      for (const name of ["Cal", "Dee"]) {
        const { participant } = await w.admin.mutate(
          "createParticipant",
          { centerId: w.centerId, firstName: `${name}${attempt}`, lastName: "Test" },
          "participant { id }",
        );
        await w.admin.mutate("enrollParticipant", { groupId: w.tuesday.id, participantId: participant.id }, "enrollment { id }");
        members.push(participant.id);
      }
      const absent = (note: string | null) => members.map((participantId) => ({ participantId, status: "ABSENT", note }));
      // and both new members ABSENT at the sixth session (the follow-up each batch below opens names
      // it: the latest absence of the run)
      await w.admin.mutate("recordAttendance", { sessionId: sessions[5].id, records: absent(null) }, "attendance { id }");
      // When five calls mark them ABSENT at the five sessions before, and a sixth corrects the
      // sixth session's records (a note), all at once
      const results = await Promise.all(
        sessions.map((s, i) =>
          sendMutation(
            t.server,
            [w.lead, w.clinician, w.clinician2][i % 3].token,
            "recordAttendance",
            { sessionId: s.id, records: absent(i === 5 ? `Called: ill (${attempt})` : null) },
            "attendance { id }",
          ),
        ),
      );
      // Then every call succeeds (none was chosen as a deadlock's victim)
      for (const r of results) {
        expect(r.errors, JSON.stringify(r.errors)).toBeUndefined();
        expect(r.payload.userErrors).toEqual([]);
      }
      // And each new member has exactly one follow-up, OPEN (for the absences in a row the first
      // batch to take the group's lock saw: 2 or more)
      const rows = await t.server.database.db.select().from(followUps);
      for (const m of members) {
        const theirs = rows.filter((r) => r.participantId === decodeId(m, "Participant"));
        expect(theirs.map((r) => r.status)).toEqual(["OPEN"]);
        expect(theirs[0].absences).toBeGreaterThanOrEqual(2);
      }
    }
  });
});
