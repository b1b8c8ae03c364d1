// Group session notes over real HTTP (src/notes/): drafts with optimistic versions, signing and
// locking, co-signature, late entries, addenda, attendance corrections after signing, the name
// rule, members' charts, access for every role, and the service records signed notes yield.
import { sql } from "drizzle-orm";
import { describe, expect, it } from "vitest";
import { setClock } from "../src/common/clock.js";
import { fromGlobalId } from "../src/common/ids.js";
import { firstNameMatch, unitsFor } from "../src/notes/notes.service.js";
import { asOrgAdmin } from "./support/fixtures.js";
import { notesWorld, recordAttendance, send, type NotesWorld } from "./support/notes.js";
import { useTestServer } from "./support/server.js";

const t = useTestServer();

const rows = (r: unknown) => (Array.isArray(r) ? r : (r as { rows: unknown[] }).rows) as Array<Record<string, unknown>>;
const uuid = (globalId: string) => fromGlobalId(globalId)!.id;

async function world(opts?: Parameters<typeof notesWorld>[1]): Promise<NotesWorld> {
  return notesWorld(await asOrgAdmin(t.server), opts);
}

/** The first session with Sam and José PRESENT, Faith ABSENT and J LATE (45 minutes). */
async function attended(w: NotesWorld, sessionId = w.sessions[0]) {
  const p = await recordAttendance(t.server, w.tokens.FACILITATOR, sessionId, [
    { participantId: w.members.sam, status: "PRESENT" },
    { participantId: w.members.jose, status: "PRESENT" },
    { participantId: w.members.faith, status: "ABSENT" },
    { participantId: w.members.j, status: "LATE", minutesAttended: 45 },
  ]);
  expect(p.userErrors).toEqual([]);
}

const partsFor = (w: NotesWorld) => [
  { participantId: w.members.sam, participation: "ACTIVE", progress: "Named two triggers at work.", plan: "Practice urge surfing daily." },
  { participantId: w.members.jose, participation: "MINIMAL", progress: "Listened; shared briefly.", plan: "Check in with sponsor." },
  { participantId: w.members.j, participation: "ACTIVE", progress: "Arrived late, engaged.", plan: "Continue weekly." },
];

async function save(w: NotesWorld, input: Record<string, unknown>, token = w.tokens.FACILITATOR) {
  const res = await send(t.server, "SaveSessionNote", { input: { sessionId: w.sessions[0], ...input } }, token);
  expect(res.errors).toBeUndefined();
  return res.data.saveSessionNote as { note: any; userErrors: Array<{ field: string[]; code: string; message: string }> };
}

/** A complete draft of the first session, saved by the facilitator: returns the note. */
async function draft(w: NotesWorld) {
  await attended(w);
  const p = await save(w, { groupSummary: "The group practised refusal skills in pairs.", interventions: "CBT, role play", members: partsFor(w) });
  expect(p.userErrors).toEqual([]);
  return p.note as { id: string; version: number };
}

async function sign(w: NotesWorld, note: { id: string; version: number }, token = w.tokens.FACILITATOR, extra: Record<string, unknown> = {}) {
  const res = await send(t.server, "SignSessionNote", { input: { noteId: note.id, version: note.version, ...extra } }, token);
  expect(res.errors).toBeUndefined();
  return res.data.signSessionNote as { note: any; userErrors: Array<{ field: string[]; code: string; message: string }> };
}

async function chart(participantId: string, token: string) {
  const res = await send(t.server, "ParticipantChart", { participantId }, token);
  return res;
}

describe("saving a note", () => {
  it("creates the DRAFT on first save with the session's defaults and attendance read from the records", async () => {
    // Given attendance recorded for the first session
    const w = await world();
    await attended(w);
    // When the facilitator saves a first version without times, topic or service code
    const p = await save(w, { groupSummary: "Relapse triggers and coping plans.", members: [partsFor(w)[0]] });
    // Then the note is a DRAFT, version 1, with the program's code and the session's times
    expect(p.userErrors).toEqual([]);
    expect(p.note).toMatchObject({ status: "DRAFT", version: 1, serviceCode: "90853", groupSummary: "Relapse triggers and coping plans.", presentCount: 3 });
    expect(p.note.startedAt).toBe("2026-01-06T23:00:00.000Z");
    expect(p.note.endedAt).toBe("2026-01-07T00:30:00.000Z");
    // and every member with a record has a part, with attendance as recorded (never typed)
    const byId = Object.fromEntries(p.note.members.map((m: any) => [m.participant.id, m]));
    expect(Object.keys(byId).sort()).toEqual([w.members.sam, w.members.jose, w.members.faith, w.members.j].sort());
    expect(byId[w.members.sam]).toMatchObject({ attendanceStatus: "PRESENT", minutesAttended: 90, participation: "ACTIVE" });
    expect(byId[w.members.j]).toMatchObject({ attendanceStatus: "LATE", minutesAttended: 45, participation: null });
  });

  it("refuses a stale version with CONFLICT and writes nothing", async () => {
    const w = await world();
    const note = await draft(w);
    const second = await save(w, { version: note.version, topic: "Boundaries" });
    expect(second.note.version).toBe(2);
    const before = await t.server.database.fingerprint();
    // When a second facilitator saves with the version they read before the first save
    const stale = await save(w, { version: note.version, topic: "Coping" }, w.tokens.PEER);
    expect(stale.userErrors).toEqual([expect.objectContaining({ code: "CONFLICT", field: ["input", "version"] })]);
    expect(await t.server.database.fingerprint()).toBe(before);
    // A first save when a note exists already is stale as well
    expect((await save(w, { topic: "Again" })).userErrors[0].code).toBe("CONFLICT");
  });

  it("two savers at once with the same version: one is saved, the other gets CONFLICT, no word is lost silently", async () => {
    const w = await world();
    const note = await draft(w);
    const [a, b] = await Promise.all([
      save(w, { version: note.version, interventions: "Motivational interviewing" }, w.tokens.FACILITATOR),
      save(w, { version: note.version, interventions: "Mindfulness" }, w.tokens.PEER),
    ]);
    const codes = [a, b].map((p) => p.userErrors[0]?.code ?? "OK").sort();
    expect(codes).toEqual(["CONFLICT", "OK"]);
    const winner = a.userErrors.length ? b : a;
    const read = await send(t.server, "SessionNote", { sessionId: w.sessions[0] }, w.tokens.CLINICIAN);
    expect(read.data.node.note.version).toBe(note.version + 1);
    expect(winner.note.interventions).toBeDefined();
  });

  it("refuses a part for a member with no attendance record (NOT_ENROLLED) and a cancelled session's note", async () => {
    const w = await world();
    await attended(w);
    const p = await save(w, { members: [{ participantId: w.ola, participation: "ACTIVE" }] });
    expect(p.userErrors).toEqual([expect.objectContaining({ code: "NOT_ENROLLED", field: ["input", "members", "0", "participantId"] })]);
    // A cancelled session has no note
    await t.server.gql(
      `mutation($i: CancelSessionInput!) { cancelSession(input: $i) { userErrors { code } } }`,
      { i: { sessionId: w.sessions[1], reason: "Snow" } },
      { token: w.tokens.CLINICIAN },
    );
    const cancelled = await send(t.server, "SaveSessionNote", { input: { sessionId: w.sessions[1], topic: "x" } }, w.tokens.FACILITATOR);
    expect(cancelled.data.saveSessionNote.userErrors).toEqual([expect.objectContaining({ code: "SESSION_CANCELLED", field: ["input", "sessionId"] })]);
  });
});

describe("the name rule", () => {
  const names = [["sam"], ["rivera"], ["jose"], ["nunez"], ["pepe"]];
  it("matches whole words ignoring case and accents, with possessives; not substrings", () => {
    expect(firstNameMatch("talked with SAM about work", names, new Set())).toBe("SAM");
    expect(firstNameMatch("Jose said", names, new Set())).toBe("Jose");
    expect(firstNameMatch("NÚÑEZ agreed", names, new Set())).toBe("NÚÑEZ");
    expect(firstNameMatch("Sam's plan", names, new Set())).toBe("Sam's");
    expect(firstNameMatch("Sam’s plan", names, new Set())).toBe("Sam’s");
    expect(firstNameMatch("Samantha and Samuel; sample; Josefina, Riveras", names, new Set())).toBeNull();
    expect(firstNameMatch("the sam", names, new Set(["sam"]))).toBeNull();
  });

  it("refuses a shared text naming a member (NAMES_OTHER_MEMBER on its field path), naming the word and not the person", async () => {
    const w = await world();
    await attended(w);
    const before = await t.server.database.fingerprint();
    const p = await save(w, { groupSummary: "Good energy; pepe's story moved the group." });
    expect(p.userErrors).toEqual([expect.objectContaining({ code: "NAMES_OTHER_MEMBER", field: ["input", "groupSummary"] })]);
    expect(p.userErrors[0].message).toContain('"pepe\'s"');
    expect(p.userErrors[0].message).not.toMatch(/José|Núñez|Jose/);
    expect(await t.server.database.fingerprint()).toBe(before);
  });

  it("refuses another member's name in a member's part, accepts the member's own name and reviewed words", async () => {
    const w = await world();
    await attended(w);
    // Another member (accents dropped, lower case) in Sam's part: refused on that path
    const other = await save(w, { members: [{ participantId: w.members.sam, progress: "Supported nunez during check-in." }] });
    expect(other.userErrors).toEqual([expect.objectContaining({ code: "NAMES_OTHER_MEMBER", field: ["input", "members", "0", "progress"] })]);
    // His own name is not another member's
    const own = await save(w, { members: [{ participantId: w.members.sam, progress: "Sam set a goal." }] });
    expect(own.userErrors).toEqual([]);
    // "Faith" is a member's name; as a word of recovery it passes once reviewed
    const faith = await save(w, { version: 1, members: [{ participantId: w.members.sam, plan: "Keep faith in the process." }] });
    expect(faith.userErrors.map((e) => e.code)).toEqual(["NAMES_OTHER_MEMBER"]);
    const reviewed = await save(w, {
      version: 1,
      reviewedNameMatches: ["Faith"],
      members: [{ participantId: w.members.sam, plan: "Keep faith in the process." }],
    });
    expect(reviewed.userErrors).toEqual([]);
  });

  it("does not match one-letter names, nor members of other groups", async () => {
    const w = await world();
    await attended(w);
    const p = await save(w, { groupSummary: "Worked through plan B and step j of the workbook with Ola's handout." });
    expect(p.userErrors).toEqual([]);
  });
});

describe("signing", () => {
  it("locks the note: SIGNED, signedAt, signedBy; then saves are NOTE_LOCKED", async () => {
    const w = await world();
    const note = await draft(w);
    const p = await sign(w, note);
    expect(p.userErrors).toEqual([]);
    expect(p.note).toMatchObject({ status: "SIGNED", signedAt: "2026-01-07T15:00:00.000Z", signedBy: { id: w.staff.fac.id } });
    const again = await save(w, { version: note.version + 1, topic: "Changed" });
    expect(again.userErrors).toEqual([expect.objectContaining({ code: "NOTE_LOCKED" })]);
    expect((await sign(w, { id: note.id, version: note.version + 1 })).userErrors[0].code).toBe("NOTE_LOCKED");
  });

  it("refuses while a present member has no part, or attendance is unrecorded (MISSING_MEMBER_NOTE)", async () => {
    const w = await world();
    await attended(w);
    const p = await save(w, { groupSummary: "Skills practice.", members: partsFor(w).slice(0, 2) });
    const refused = await sign(w, p.note);
    expect(refused.userErrors).toEqual([expect.objectContaining({ code: "MISSING_MEMBER_NOTE", field: ["input", "noteId"] })]);
    // Unrecorded attendance: the second session, one member recorded only
    await recordAttendance(t.server, w.tokens.FACILITATOR, w.sessions[1], [{ participantId: w.members.sam, status: "PRESENT" }]);
    setClock("2026-01-14T15:00:00Z");
    const second = await send(
      t.server,
      "SaveSessionNote",
      { input: { sessionId: w.sessions[1], members: [{ participantId: w.members.sam, participation: "ACTIVE" }] } },
      w.tokens.FACILITATOR,
    );
    const unrecorded = await sign(w, second.data.saveSessionNote.note);
    expect(unrecorded.userErrors).toEqual([
      expect.objectContaining({ code: "MISSING_MEMBER_NOTE", message: expect.stringContaining("not recorded for 3 members") }),
    ]);
  });

  it("lets only the author or a facilitator of the session sign (NOT_ALLOWED otherwise)", async () => {
    const w = await world();
    const note = await draft(w);
    const p = await sign(w, note, w.tokens.CLINICIAN);
    expect(p.userErrors).toEqual([expect.objectContaining({ code: "NOT_ALLOWED" })]);
    // The other facilitator of the group may
    expect((await sign(w, note, w.tokens.PEER)).note.status).toBe("PENDING_COSIGN");
  });

  it("a signer whose credential needs it leaves the note PENDING_COSIGN until another clinician co-signs", async () => {
    const w = await world();
    await attended(w);
    const p = await save(w, { groupSummary: "Peer-led sharing.", members: partsFor(w) }, w.tokens.PEER);
    const signed = await sign(w, p.note, w.tokens.PEER);
    expect(signed.note.status).toBe("PENDING_COSIGN");
    // No service record before the co-signature
    const cosign = (token: string) => send(t.server, "CosignSessionNote", { input: { noteId: p.note.id } }, token);
    // A facilitator may not co-sign; the signer may not co-sign their own note
    expect((await cosign(w.tokens.FACILITATOR)).data.cosignSessionNote.userErrors[0].code).toBe("NOT_ALLOWED");
    const records = await t.server.database.db.execute(sql`select count(*)::int as n from service_records`);
    expect(rows(records)[0].n).toBe(0);
    const done = await cosign(w.tokens.CLINICIAN);
    expect(done.data.cosignSessionNote.userErrors).toEqual([]);
    expect(done.data.cosignSessionNote.note).toMatchObject({
      status: "SIGNED",
      cosignedAt: "2026-01-07T15:00:00.000Z",
      cosignedBy: { id: w.staff.clinician.id },
    });
    expect((await cosign(w.tokens.CLINICIAN2)).data.cosignSessionNote.userErrors[0].code).toBe("INVALID_TRANSITION");
  });

  it("a credential set to need co-signature later applies to the next signature", async () => {
    const w = await world();
    const note = await draft(w);
    await t.server.gql(
      `mutation($i: UpdateStaffInput!) { updateStaff(input: $i) { userErrors { code } } }`,
      { i: { staffId: w.staff.fac.id, requiresCosign: true } },
      { token: w.tokens.ORG_ADMIN },
    );
    const p = await sign(w, note);
    expect(p.note.status).toBe("PENDING_COSIGN");
  });

  it("two signatures at once: one wins, the other is refused", async () => {
    const w = await world();
    const note = await draft(w);
    const [a, b] = await Promise.all([sign(w, note, w.tokens.FACILITATOR), sign(w, note, w.tokens.PEER)]);
    const outcomes = [a, b].map((p) => p.userErrors[0]?.code ?? p.note.status).sort();
    expect(outcomes.filter((o) => o === "SIGNED" || o === "PENDING_COSIGN")).toHaveLength(1);
    expect(outcomes.filter((o) => o === "NOTE_LOCKED" || o === "CONFLICT")).toHaveLength(1);
    const [n] = rows(await t.server.database.db.execute(sql`select count(*)::int as n from service_records where status = 'ACTIVE'`));
    expect(n.n).toBe(a.userErrors.length ? 0 : 3); // the peer's signature waits for a co-signature
  });

  it("a note signed after the center's late-entry window is a late entry and needs a reason", async () => {
    const w = await world();
    const note = await draft(w);
    // The session ended 2026-01-07T00:30Z; the window is 3 days
    setClock("2026-01-10T00:31:00Z");
    const refused = await sign(w, note);
    expect(refused.userErrors).toEqual([expect.objectContaining({ code: "REQUIRED", field: ["input", "lateEntryReason"] })]);
    const p = await sign(w, note, w.tokens.FACILITATOR, { lateEntryReason: "Facilitator was out sick." });
    expect(p.userErrors).toEqual([]);
    const [row] = rows(await t.server.database.db.execute(sql`select late_entry, late_entry_reason from session_notes`));
    expect(row).toEqual({ late_entry: true, late_entry_reason: "Facilitator was out sick." });
  });

  it("within the window (a center setting) a note is on time", async () => {
    const w = await world();
    const note = await draft(w);
    await t.server.gql(
      `mutation($i: UpdateCenterInput!) { updateCenter(input: $i) { center { lateEntryWindowDays } userErrors { code } } }`,
      { i: { centerId: w.centerId, lateEntryWindowDays: 7 } },
      { token: w.tokens.ADMIN },
    );
    setClock("2026-01-12T00:00:00Z");
    expect((await sign(w, note)).userErrors).toEqual([]);
  });
});

describe("addenda and corrections", () => {
  it("adds addenda to a signed note (shared part or one member's part); refuses them on a draft", async () => {
    const w = await world();
    const note = await draft(w);
    const add = (input: Record<string, unknown>, token = w.tokens.FACILITATOR) =>
      send(t.server, "AddNoteAddendum", { input: { noteId: note.id, ...input } }, token).then((r) => r.data.addNoteAddendum);
    expect((await add({ kind: "ADDENDUM", text: "x", reason: "y" })).userErrors[0].code).toBe("INVALID_TRANSITION");
    await sign(w, note);
    setClock("2026-01-08T10:00:00Z");
    const shared = await add({ kind: "ADDENDUM", text: "The fire drill cut the session by ten minutes.", reason: "Omitted" });
    expect(shared.userErrors).toEqual([]);
    expect(shared.addendum).toMatchObject({ kind: "ADDENDUM", createdAt: "2026-01-08T10:00:00.000Z", author: { id: w.staff.fac.id } });
    const mine = await add({ participantId: w.members.sam, kind: "LATE_ENTRY", text: "Called after group; safe plan confirmed.", reason: "Follow-up call" });
    expect(mine.userErrors).toEqual([]);
    const naming = await add({ participantId: w.members.sam, kind: "ADDENDUM", text: "Sat next to Faith.", reason: "detail" });
    expect(naming.userErrors).toEqual([expect.objectContaining({ code: "NAMES_OTHER_MEMBER", field: ["input", "text"] })]);
    expect((await add({ participantId: w.ola, kind: "ADDENDUM", text: "x", reason: "y" })).userErrors[0].code).toBe("NOT_ENROLLED");
    const viewer = await send(t.server, "AddNoteAddendum", { input: { noteId: note.id, kind: "ADDENDUM", text: "x", reason: "y" } }, w.tokens.VIEWER);
    expect(viewer.errors?.[0].extensions?.code).toBe("FORBIDDEN");
    expect(viewer.data).toBeNull();
  });

  it("attendance changed after signing needs a reason and lands as a CORRECTION addendum, voiding and reissuing the service record", async () => {
    const w = await world();
    const note = await draft(w);
    await sign(w, note);
    const before = await t.server.database.fingerprint();
    // Without a reason: refused, nothing written
    const refused = await recordAttendance(t.server, w.tokens.FACILITATOR, w.sessions[0], [
      { participantId: w.members.j, status: "LATE", minutesAttended: 20 },
    ]);
    expect(refused.userErrors).toEqual([expect.objectContaining({ code: "NOTE_LOCKED", field: ["input", "reason"] })]);
    expect(await t.server.database.fingerprint()).toBe(before);
    // With a reason: the record changes, the note gets a correction in J's part
    const ok = await recordAttendance(
      t.server,
      w.tokens.FACILITATOR,
      w.sessions[0],
      [{ participantId: w.members.j, status: "LATE", minutesAttended: 20 }],
      "Sign-in sheet showed a later arrival",
    );
    expect(ok.userErrors).toEqual([]);
    const [addendum] = rows(await t.server.database.db.execute(sql`select kind, text, reason, participant_id from note_addenda`));
    expect(addendum).toEqual({
      kind: "CORRECTION",
      text: "Attendance corrected from LATE, 45 min to LATE, 20 min.",
      reason: "Sign-in sheet showed a later arrival",
      participant_id: uuid(w.members.j),
    });
    // The attendance history keeps the change as any other
    const [h] = rows(await t.server.database.db.execute(sql`select count(*)::int as n from attendance_history`));
    expect(h.n).toBe(5);
    // J's record: 45 minutes (3 units) voided, 20 minutes (1 unit) issued, naming the one it replaces
    const records = rows(
      await t.server.database.db.execute(
        sql`select id, status, units, minutes, replaces_id from service_records where participant_id = ${uuid(w.members.j)}::uuid order by seq`,
      ),
    );
    expect(records.map((r) => [r.status, r.units, r.minutes])).toEqual([
      ["VOIDED", 3, 45],
      ["ACTIVE", 1, 20],
    ]);
    expect(records[1].replaces_id).toBe(records[0].id);
    // The reason names no other member
    const naming = await recordAttendance(
      t.server,
      w.tokens.FACILITATOR,
      w.sessions[0],
      [{ participantId: w.members.sam, status: "ABSENT" }],
      "Mixed up with Pepe",
    );
    expect(naming.userErrors).toEqual([expect.objectContaining({ code: "NAMES_OTHER_MEMBER", field: ["input", "reason"] })]);
  });

  it("an attendance correction racing a signature lands in the note or is refused as locked, never lost", async () => {
    for (let run = 0; run < 4; run++) {
      await t.server.database.reset();
      const w = await world();
      const note = await draft(w);
      const withReason = run % 2 === 0;
      const [signed, corrected] = await Promise.all([
        sign(w, note),
        recordAttendance(
          t.server,
          w.tokens.CLINICIAN,
          w.sessions[0],
          [{ participantId: w.members.jose, status: "LEFT_EARLY", minutesAttended: 30 }],
          withReason ? "Left at 18:30" : undefined,
        ),
      ]);
      expect(signed.userErrors).toEqual([]);
      const [member] = rows(
        await t.server.database.db.execute(
          sql`select m.attendance_status, a.status as now, (select count(*)::int from note_addenda d where d.participant_id = m.participant_id) as corrections
              from session_note_members m join attendance a on a.participant_id = m.participant_id and a.session_id = ${uuid(w.sessions[0])}::uuid
              where m.participant_id = ${uuid(w.members.jose)}::uuid`,
        ),
      );
      if (corrected.userErrors.length) {
        // Refused as locked: the signature came first and no reason was given; nothing changed
        expect(corrected.userErrors[0].code).toBe("NOTE_LOCKED");
        expect(member).toEqual({ attendance_status: "PRESENT", now: "PRESENT", corrections: 0 });
      } else if (member.attendance_status === "LEFT_EARLY") {
        // The correction came first: the signature read it
        expect(member).toEqual({ attendance_status: "LEFT_EARLY", now: "LEFT_EARLY", corrections: 0 });
      } else {
        // The signature came first: the correction is an addendum
        expect(member).toEqual({ attendance_status: "PRESENT", now: "LEFT_EARLY", corrections: 1 });
      }
    }
  });
});

describe("a member's chart", () => {
  it("shows each signed note's shared part and the member's own part and addenda, never another member's", async () => {
    const w = await world();
    const note = await draft(w);
    // A draft is not in the chart
    expect((await chart(w.members.sam, w.tokens.CLINICIAN)).data.node.chartNotes.totalCount).toBe(0);
    await sign(w, note);
    await send(
      t.server,
      "AddNoteAddendum",
      { input: { noteId: note.id, participantId: w.members.jose, kind: "ADDENDUM", text: "Phoned: doing well.", reason: "Call" } },
      w.tokens.FACILITATOR,
    );
    await send(
      t.server,
      "AddNoteAddendum",
      { input: { noteId: note.id, kind: "ADDENDUM", text: "Room changed to 2B.", reason: "Logistics" } },
      w.tokens.FACILITATOR,
    );
    const res = await chart(w.members.sam, w.tokens.CLINICIAN);
    expect(res.errors).toBeUndefined();
    const entries = res.data.node.chartNotes;
    expect(entries.totalCount).toBe(1);
    expect(entries.nodes[0]).toMatchObject({
      noteId: note.id,
      groupName: "Tuesday group",
      serviceCode: "90853",
      status: "SIGNED",
      groupSummary: "The group practised refusal skills in pairs.",
      attendanceStatus: "PRESENT",
      minutesAttended: 90,
      participation: "ACTIVE",
      progress: "Named two triggers at work.",
      plan: "Practice urge surfing daily.",
      addenda: [{ kind: "ADDENDUM", text: "Room changed to 2B.", createdAt: expect.any(String) }],
    });
    const text = JSON.stringify(entries);
    for (const other of ["Listened; shared briefly.", "Check in with sponsor.", "Arrived late", "Phoned: doing well.", "José", "Faith", "Okafor"]) {
      expect(text).not.toContain(other);
    }
  });
});

describe("access", () => {
  it("facilitators of the group and clinical staff read whole notes; VIEWERs nothing; a facilitator of another group finds nothing", async () => {
    const w = await world();
    const note = await draft(w);
    for (const role of ["ORG_ADMIN", "ADMIN", "CLINICIAN", "FACILITATOR", "PEER"] as const) {
      const res = await send(t.server, "SessionNote", { sessionId: w.sessions[0] }, w.tokens[role]);
      expect(res.errors, role).toBeUndefined();
      expect(res.data.node.note.id, role).toBe(note.id);
      expect(res.data.node.note.members, role).toHaveLength(4);
    }
    const viewer = await send(t.server, "SessionNote", { sessionId: w.sessions[0] }, w.tokens.VIEWER);
    expect(viewer.errors?.[0].extensions?.code).toBe("FORBIDDEN");
    expect(viewer.data?.node?.note ?? null).toBeNull();
    const viewerSave = await send(t.server, "SaveSessionNote", { input: { sessionId: w.sessions[0], version: 1, topic: "x" } }, w.tokens.VIEWER);
    expect(viewerSave.errors?.[0].extensions?.code).toBe("FORBIDDEN");
    const viewerNode = await t.server.gql(`query($id: ID!) { node(id: $id) { id } }`, { id: note.id }, { token: w.tokens.VIEWER });
    expect(viewerNode.errors?.[0].extensions?.code).toBe("FORBIDDEN");
    // A facilitator of another group: the session, the note and their mutations read as missing
    const other = await send(t.server, "SessionNote", { sessionId: w.sessions[0] }, w.tokens.FAC_OTHER);
    expect(other.data.node).toBeNull();
    const otherNode = await t.server.gql(`query($id: ID!) { node(id: $id) { id } }`, { id: note.id }, { token: w.tokens.FAC_OTHER });
    expect(otherNode.data.node).toBeNull();
    const otherSave = await send(t.server, "SaveSessionNote", { input: { sessionId: w.sessions[0], version: 1, topic: "x" } }, w.tokens.FAC_OTHER);
    expect(otherSave.data.saveSessionNote.userErrors).toEqual([expect.objectContaining({ code: "NOT_FOUND", field: ["input", "sessionId"] })]);
    const otherSign = await send(t.server, "SignSessionNote", { input: { noteId: note.id, version: 1 } }, w.tokens.FAC_OTHER);
    expect(otherSign.data.signSessionNote.userErrors).toEqual([expect.objectContaining({ code: "NOT_FOUND" })]);
    // A facilitator of another group does not see Sam's chart either
    expect((await chart(w.members.sam, w.tokens.FAC_OTHER)).data.node).toBeNull();
  });

  it("audits every read of a note or chart entry as a read of each participant it shows", async () => {
    const w = await world();
    const note = await draft(w);
    await sign(w, note);
    await send(t.server, "SessionNote", { sessionId: w.sessions[0] }, w.tokens.CLINICIAN);
    await chart(w.members.sam, w.tokens.CLINICIAN);
    const audit = rows(
      await t.server.database.db.execute(
        sql`select resource_type, participant_ids, operation_name from audit_events where action = 'READ' and resource_type in ('SessionNote', 'ChartNote') order by seq`,
      ),
    );
    const note4 = audit.find((a) => a.resource_type === "SessionNote")!;
    expect([...(note4.participant_ids as string[])].sort()).toEqual(Object.values(w.members).map(uuid).sort());
    expect(audit.find((a) => a.resource_type === "ChartNote")).toMatchObject({ participant_ids: [uuid(w.members.sam)], operation_name: "ParticipantChart" });
  });
});

describe("service records", () => {
  it("counts units by the program's rule (contract README): MINUTES_15 floor((minutes + 7) / 15), SESSION 1", () => {
    const at = [0, 7, 8, 22, 23, 37, 38, 52, 53, 90];
    expect(at.map((m) => unitsFor("MINUTES_15", m))).toEqual([0, 0, 1, 1, 2, 2, 3, 3, 4, 6]);
    expect(unitsFor("MINUTES_15", null)).toBe(0);
    expect(at.map((m) => unitsFor("SESSION", m))).toEqual(at.map(() => 1));
  });

  it("units follow the 8-minute rule at its boundaries; ABSENT yields none", async () => {
    const w = await world();
    const minutes = [7, 8, 22, 23];
    const ids = [w.members.sam, w.members.jose, w.members.faith, w.members.j];
    await recordAttendance(
      t.server,
      w.tokens.FACILITATOR,
      w.sessions[0],
      ids.map((participantId, i) => ({ participantId, status: "LEFT_EARLY", minutesAttended: minutes[i] })),
    );
    const p = await save(w, { members: ids.map((participantId) => ({ participantId, participation: "ACTIVE" })) });
    await sign(w, p.note);
    const res = await send(t.server, "ServiceRecords", { centerId: w.centerId, from: "2026-01-06", to: "2026-01-06" }, w.tokens.CLINICIAN);
    expect(res.errors).toBeUndefined();
    const got = res.data.center.serviceRecords.nodes.map((n: any) => [n.participant.externalId, n.minutes, n.units]).sort();
    // 7 minutes: no record; 8 and 22: 1 unit; 23: 2 units
    expect(got).toEqual([
      ["MRN-FAITH", 22, 1],
      ["MRN-J", 23, 2],
      ["MRN-JOSE", 8, 1],
    ]);
    expect(res.data.center.serviceRecords.nodes[0]).toMatchObject({
      dateOfService: "2026-01-06",
      serviceCode: "90853",
      modifiers: ["HQ"],
      status: "ACTIVE",
      renderingProvider: { id: w.staff.fac.id },
      supervisingProvider: null,
    });
  });

  it("SESSION programs bill 1 unit per attended session; the co-signer is the supervising provider", async () => {
    const w = await world({ unitRule: "SESSION", billingCode: "H0038" });
    await attended(w);
    const p = await save(w, { members: partsFor(w) }, w.tokens.PEER);
    await sign(w, p.note, w.tokens.PEER);
    await send(t.server, "CosignSessionNote", { input: { noteId: p.note.id } }, w.tokens.CLINICIAN);
    const res = await send(t.server, "ServiceRecords", { centerId: w.centerId, from: "2026-01-01", to: "2026-01-31" }, w.tokens.ADMIN);
    const nodes = res.data.center.serviceRecords.nodes;
    expect(nodes).toHaveLength(3);
    for (const n of nodes) {
      expect(n).toMatchObject({
        serviceCode: "H0038",
        units: 1,
        renderingProvider: { id: w.staff.peer.id },
        supervisingProvider: { id: w.staff.clinician.id },
      });
    }
    // Facilitators and viewers do not read service records
    for (const role of ["FACILITATOR", "VIEWER"] as const) {
      const refused = await send(t.server, "ServiceRecords", { centerId: w.centerId, from: "2026-01-01", to: "2026-01-31" }, w.tokens[role]);
      expect(refused.errors?.[0].extensions?.code, role).toBe("FORBIDDEN");
    }
  });
});
