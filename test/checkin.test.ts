// Self check-in over real HTTP (src/checkin/): staff open a session's window and show the room code;
// members check in with their personal link's token and that code, without a staff token; staff
// reconcile the claims into attendance. Instants are fixed with setClock around "Tuesday group"'s
// session of 2026-01-13, 18:00 in New York (23:00Z): the window is 22:30Z to 23:20Z, both ends in.
// Operations are the contract's (test/operations/checkin.graphql).
import { and, eq } from "drizzle-orm";
import { describe, expect, it, onTestFinished } from "vitest";
import { setClock } from "../src/common/clock.js";
import { fromGlobalId } from "../src/common/ids.js";
import { signCheckInToken } from "../src/checkin/checkin.token.js";
import { attendance, attendanceHistory, auditEvents, checkIns, reminders } from "../src/db/schema.js";
import { asOrgAdmin } from "./support/fixtures.js";
import { connect, subscribe, type Stream } from "./support/live.js";
import { notesWorld, recordAttendance, send as sendNotes, type NotesWorld } from "./support/notes.js";
import { operation } from "./support/operations.js";
import { useTestServer } from "./support/server.js";

const t = useTestServer({ env: { CHECKIN_MAX_FAILURES_PER_TOKEN: "5", CHECKIN_MAX_FAILURES_PER_ADDRESS: "8", CHECKIN_CODE_PERIOD_SECONDS: "300" } });

const START = "2026-01-13T23:00:00.000Z";
const OPENS = "2026-01-13T22:30:00.000Z";
const CLOSES = "2026-01-13T23:20:00.000Z";
const at = (iso: string, ms = 0) => new Date(new Date(iso).getTime() + ms);
const uuid = (globalId: string) => fromGlobalId(globalId)!.id;

async function world(): Promise<NotesWorld> {
  return notesWorld(await asOrgAdmin(t.server));
}

function send(name: string, variables: Record<string, unknown>, token: string | null, headers?: Record<string, string>) {
  return t.server.gql(operation("checkin.graphql", name), variables, { token, operationName: name, headers });
}

async function open(token: string, sessionId: string) {
  const res = await send("OpenCheckIn", { input: { sessionId } }, token);
  return res;
}

/** Opens the window of the 2026-01-13 session as its facilitator; returns the room code shown. */
async function opened(w: NotesWorld): Promise<string> {
  setClock(at(OPENS, -60_000));
  const res = await open(w.tokens.FACILITATOR, w.sessions[1]);
  expect(res.errors).toBeUndefined();
  expect(res.data.openCheckIn.userErrors).toEqual([]);
  return res.data.openCheckIn.checkIn.roomCode as string;
}

/** Each member's check-in token for the session, read from the roster's links as `token` sees them. */
async function tokensOf(w: NotesWorld, sessionId = w.sessions[1], token = w.tokens.FACILITATOR): Promise<Record<string, string>> {
  const res = await send("CheckInLinks", { sessionId }, token);
  expect(res.errors).toBeUndefined();
  const out: Record<string, string> = {};
  for (const r of res.data.node.roster) out[r.participant.id] = r.checkInLink.split("/").pop();
  return out;
}

/** The room code valid now (the facilitator's screen: re-opening returns the open window). */
async function roomCode(w: NotesWorld): Promise<string> {
  const res = await open(w.tokens.FACILITATOR, w.sessions[1]);
  return res.data.openCheckIn.checkIn.roomCode;
}

async function selfCheckIn(token: string, code: string, headers?: Record<string, string>) {
  const res = await send("SelfCheckIn", { input: { token, roomCode: code } }, null, headers);
  expect(res.errors).toBeUndefined();
  return res.data.selfCheckIn as { result: { checkedInAt: string; sessionStartsAt: string } | null; userErrors: Array<{ field: string[]; code: string }> };
}

const REFUSED = { result: null, userErrors: [expect.objectContaining({ code: "INVALID_CHECK_IN", field: ["input"] })] };

async function claims() {
  return t.server.database.db.select().from(checkIns);
}

async function roster(w: NotesWorld, token = w.tokens.FACILITATOR, sessionId = w.sessions[1]) {
  const res = await send("SessionCheckIns", { sessionId }, token);
  expect(res.errors).toBeUndefined();
  return new Map((res.data.node.roster as any[]).map((r) => [r.participant.id, r]));
}

async function reconcile(token: string, input: Record<string, unknown>) {
  const res = await send("ReconcileCheckIns", { input }, token);
  expect(res.errors).toBeUndefined();
  return res.data.reconcileCheckIns as { attendance: Array<{ participant: { id: string }; status: string }> | null; userErrors: any[] };
}

describe("openCheckIn", () => {
  it("opens the window from 30 minutes before the start to 20 after, with a 6-digit code, and re-opening returns the same window", async () => {
    const w = await world();
    setClock("2026-01-13T22:00:00Z");
    const first = await open(w.tokens.FACILITATOR, w.sessions[1]);
    expect(first.data.openCheckIn).toEqual({
      checkIn: {
        session: { id: w.sessions[1] },
        roomCode: expect.stringMatching(/^\d{6}$/),
        roomCodeExpiresAt: "2026-01-13T22:05:00.000Z",
        opensAt: OPENS,
        closesAt: CLOSES,
      },
      userErrors: [],
    });
    // A clinician re-opening in the same period sees the same code; the next period shows another.
    const again = await open(w.tokens.CLINICIAN, w.sessions[1]);
    expect(again.data.openCheckIn.checkIn).toEqual(first.data.openCheckIn.checkIn);
    setClock("2026-01-13T22:05:00Z");
    const next = await open(w.tokens.FACILITATOR, w.sessions[1]);
    expect(next.data.openCheckIn.checkIn.roomCodeExpiresAt).toBe("2026-01-13T22:10:00.000Z");
    expect(next.data.openCheckIn.checkIn.roomCode).not.toBe(first.data.openCheckIn.checkIn.roomCode);
  });

  it("follows the center's window setting, which its admin sets", async () => {
    const w = await world();
    await t.server.database.db.execute(
      // (set by hand: the setting has no mutation yet)
      (await import("drizzle-orm"))
        .sql`update centers set check_in_opens_minutes_before = 10, check_in_closes_minutes_after = 5 where id = ${uuid(w.centerId)}`,
    );
    setClock("2026-01-13T22:00:00Z");
    const res = await open(w.tokens.FACILITATOR, w.sessions[1]);
    expect(res.data.openCheckIn.checkIn).toMatchObject({ opensAt: "2026-01-13T22:50:00.000Z", closesAt: "2026-01-13T23:05:00.000Z" });
  });

  it("refuses a window that has closed, and a cancelled session", async () => {
    const w = await world();
    setClock(at(CLOSES, 1));
    const late = await open(w.tokens.FACILITATOR, w.sessions[1]);
    expect(late.data.openCheckIn.userErrors).toEqual([expect.objectContaining({ code: "INVALID", field: ["input", "sessionId"] })]);
    setClock("2026-01-14T12:00:00Z");
    const cancel = await t.server.gql(
      `mutation($input: CancelSessionInput!) { cancelSession(input: $input) { userErrors { code } } }`,
      { input: { sessionId: w.sessions[2], reason: "Snow" } },
      { token: w.tokens.CLINICIAN },
    );
    expect(cancel.data.cancelSession.userErrors).toEqual([]);
    const cancelled = await open(w.tokens.FACILITATOR, w.sessions[2]);
    expect(cancelled.data.openCheckIn.userErrors).toEqual([expect.objectContaining({ code: "SESSION_CANCELLED" })]);
  });

  it("is for the group's facilitators and clinical staff: another group's facilitator finds no session, a VIEWER is refused", async () => {
    const w = await world();
    setClock(OPENS);
    const other = await open(w.tokens.FAC_OTHER, w.sessions[1]);
    expect(other.data.openCheckIn).toEqual({ checkIn: null, userErrors: [expect.objectContaining({ code: "NOT_FOUND", field: ["input", "sessionId"] })] });
    const viewer = await open(w.tokens.VIEWER, w.sessions[1]);
    expect(viewer.errors?.[0].extensions?.code).toBe("FORBIDDEN");
    const anonymous = await open("", w.sessions[1]);
    expect(anonymous.errors?.[0].extensions?.code).toBe("UNAUTHENTICATED");
    for (const token of [w.tokens.ADMIN, w.tokens.CLINICIAN, w.tokens.FACILITATOR, w.tokens.ORG_ADMIN]) {
      expect((await open(token, w.sessions[1])).data.openCheckIn.userErrors).toEqual([]);
    }
  });
});

describe("check-in links on the roster", () => {
  it("gives each member an absolute link ending in their token; the same member and session always get the same link", async () => {
    const w = await world();
    const res = await send("CheckInLinks", { sessionId: w.sessions[1] }, w.tokens.CLINICIAN);
    const links = res.data.node.roster.map((r: any) => r.checkInLink as string);
    expect(links).toHaveLength(4);
    for (const link of links) expect(link).toMatch(new RegExp(`^${t.server.url}/c/[A-Za-z0-9_-]{64}$`));
    expect(new Set(links).size).toBe(4);
    expect(await tokensOf(w, w.sessions[1], w.tokens.CLINICIAN)).toEqual(await tokensOf(w));
    // another session, other tokens
    const next = await tokensOf(w, w.sessions[2]);
    expect(next[w.members.sam]).not.toBe((await tokensOf(w))[w.members.sam]);
  });

  it("reads as missing to another group's facilitator and is refused to a VIEWER", async () => {
    const w = await world();
    const other = await send("CheckInLinks", { sessionId: w.sessions[1] }, w.tokens.FAC_OTHER);
    expect(other.data.node).toBeNull();
    const viewer = await send("CheckInLinks", { sessionId: w.sessions[1] }, w.tokens.VIEWER);
    expect(viewer.errors?.[0].extensions?.code).toBe("FORBIDDEN");
    expect(JSON.stringify(viewer.data ?? {})).not.toContain("/c/");
  });
});

describe("selfCheckIn", () => {
  it("records a claim at the window's first instant, not late, shown PENDING on the roster and audited as the member's own action", async () => {
    const w = await world();
    await opened(w);
    const tokens = await tokensOf(w);
    setClock(OPENS);
    const answer = await selfCheckIn(tokens[w.members.sam], await roomCode(w));
    expect(answer).toEqual({ result: { checkedInAt: OPENS, sessionStartsAt: START }, userErrors: [] });
    const sam = (await roster(w)).get(w.members.sam);
    expect(sam).toMatchObject({ checkIn: { checkedInAt: OPENS, late: false, status: "PENDING" }, attendance: null });
    expect((await roster(w)).get(w.members.jose).checkIn).toBeNull();
    const [entry, read] = await t.server.database.db.select().from(auditEvents).where(eq(auditEvents.resourceType, "CheckIn")).orderBy(auditEvents.seq);
    expect(entry).toMatchObject({
      actorType: "PARTICIPANT",
      actorId: uuid(w.members.sam),
      action: "CREATE",
      outcome: "ALLOWED",
      participantIds: [uuid(w.members.sam)],
      centerId: uuid(w.centerId),
    });
    // and the facilitator's read of the claim, as theirs
    expect(read).toMatchObject({ actorType: "STAFF", actorId: uuid(w.staff.fac.id), action: "READ", participantIds: [uuid(w.members.sam)] });
    // and an org admin reviewing the log finds it among the members' own actions, naming the member
    const log = await t.server.gql(
      `{ auditEvents(actorType: PARTICIPANT, first: 5) { nodes { actorType actorId action resourceType operationName } } }`,
      {},
      {
        token: w.tokens.ORG_ADMIN,
      },
    );
    expect(log.errors).toBeUndefined();
    expect(log.data.auditEvents.nodes).toEqual([
      { actorType: "PARTICIPANT", actorId: w.members.sam, action: "CREATE", resourceType: "CheckIn", operationName: "selfCheckIn" },
    ]);
  });

  it("flags a claim after the start as late; one at the start exactly is not", async () => {
    const w = await world();
    await opened(w);
    const tokens = await tokensOf(w);
    setClock(START);
    expect((await selfCheckIn(tokens[w.members.sam], await roomCode(w))).result?.checkedInAt).toBe(START);
    setClock(at(START, 1));
    expect((await selfCheckIn(tokens[w.members.jose], await roomCode(w))).userErrors).toEqual([]);
    const r = await roster(w);
    expect(r.get(w.members.sam).checkIn.late).toBe(false);
    expect(r.get(w.members.jose).checkIn).toMatchObject({ late: true, checkedInAt: "2026-01-13T23:00:00.001Z" });
  });

  it("accepts a repeat and changes nothing: the first claim's time stands", async () => {
    const w = await world();
    await opened(w);
    const tokens = await tokensOf(w);
    setClock("2026-01-13T22:50:00Z");
    await selfCheckIn(tokens[w.members.sam], await roomCode(w));
    setClock("2026-01-13T23:10:00Z");
    const again = await selfCheckIn(tokens[w.members.sam], await roomCode(w));
    expect(again).toEqual({ result: { checkedInAt: "2026-01-13T22:50:00.000Z", sessionStartsAt: START }, userErrors: [] });
    const rows = await claims();
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({ late: false, status: "PENDING" });
    expect(await t.server.database.db.select().from(auditEvents).where(eq(auditEvents.resourceType, "CheckIn"))).toHaveLength(1);
  });

  it("accepts the previous period's code for one more period, and no older one", async () => {
    const w = await world();
    await opened(w);
    const tokens = await tokensOf(w);
    setClock("2026-01-13T22:44:59Z");
    const code = await roomCode(w); // the 22:40 period's
    setClock("2026-01-13T22:49:59.999Z");
    expect((await selfCheckIn(tokens[w.members.sam], code)).userErrors).toEqual([]);
    setClock("2026-01-13T22:50:00Z");
    expect(await selfCheckIn(tokens[w.members.jose], code)).toEqual(REFUSED);
  });

  it("refuses, always as INVALID_CHECK_IN on the input and writing nothing: a wrong code, either side of the window, another member's token, a tampered token, no window opened", async () => {
    const w = await world();
    const tokens = await tokensOf(w);
    const secret = t.server.config.checkIn.secret!;
    // no window opened yet
    setClock(OPENS);
    expect(await selfCheckIn(tokens[w.members.sam], "123456")).toEqual(REFUSED);
    await opened(w);
    setClock(at(OPENS, -1));
    expect(await selfCheckIn(tokens[w.members.sam], await roomCode(w))).toEqual(REFUSED);
    setClock(CLOSES);
    const code = await roomCode(w);
    setClock(at(CLOSES, 1));
    expect(await selfCheckIn(tokens[w.members.jose], code)).toEqual(REFUSED);
    setClock(CLOSES);
    const wrong = code === "000000" ? "000001" : "000000";
    expect(await selfCheckIn(tokens[w.members.faith], wrong)).toEqual(REFUSED);
    // a member of another group, with a genuine token naming them and this session
    expect(await selfCheckIn(signCheckInToken(secret, uuid(w.sessions[1]), uuid(w.ola)), code)).toEqual(REFUSED);
    // a genuine token of another session of the same group
    const nextWeek = await tokensOf(w, w.sessions[2]);
    expect(await selfCheckIn(nextWeek[w.members.j], code)).toEqual(REFUSED);
    // tampered: one character changed, or the member's id swapped under the signature
    const sam = tokens[w.members.sam];
    const flipped = sam.slice(0, 10) + (sam[10] === "A" ? "B" : "A") + sam.slice(11);
    expect(await selfCheckIn(flipped, code)).toEqual(REFUSED);
    const jose = Buffer.from(tokens[w.members.jose], "base64url");
    const swapped = Buffer.concat([jose.subarray(0, 16), Buffer.from(sam, "base64url").subarray(16, 32), jose.subarray(32)]).toString("base64url");
    expect(await selfCheckIn(swapped, code)).toEqual(REFUSED);
    expect(await selfCheckIn("not a token", code)).toEqual(REFUSED);
    expect(await claims()).toEqual([]);
    // Each refusal is a failed attempt in the audit log, ANONYMOUS with the caller's address, naming
    // the member a genuine token names (a forged one names no one), and nothing of the token or code.
    const attempts = await t.server.database.db.select().from(auditEvents).where(eq(auditEvents.action, "DENIED")).orderBy(auditEvents.seq);
    expect(attempts.map((a) => [a.actorType, a.actorId, a.clientAddress, a.outcome, a.resourceType, a.operationName])).toEqual(
      Array(9).fill(["ANONYMOUS", null, "127.0.0.1", "DENIED", "CheckIn", "SelfCheckIn"]),
    );
    const [sam_, jose_, faith_, ola_, j_] = [w.members.sam, w.members.jose, w.members.faith, w.ola, w.members.j].map(uuid);
    expect(attempts.map((a) => a.participantIds)).toEqual([[sam_], [sam_], [jose_], [faith_], [ola_], [j_], [], [], []]);
    const written = JSON.stringify(attempts);
    for (const secret of [code, wrong, sam, flipped, swapped, tokens[w.members.jose]]) expect(written).not.toContain(secret);
    // and at the window's last instant, the right code works
    expect((await selfCheckIn(tokens[w.members.faith], code)).result?.checkedInAt).toBe(CLOSES);
  });

  it("cancels the member's pending reminders of the session when they check in", async () => {
    const w = await world();
    await opened(w);
    const tokens = await tokensOf(w);
    const db = t.server.database.db;
    const reminder = (participantId: string) => ({
      centerId: uuid(w.centerId),
      sessionId: uuid(w.sessions[1]),
      participantId: uuid(participantId),
      leadMinutes: 10,
      channel: "SMS",
      dueAt: at(START, -600_000),
      nextAttemptAt: at(START, -600_000),
    });
    await db.insert(reminders).values([reminder(w.members.sam), reminder(w.members.jose)]);
    setClock(OPENS);
    await selfCheckIn(tokens[w.members.sam], await roomCode(w));
    const rows = await db.select().from(reminders);
    const byMember = new Map(rows.map((r) => [r.participantId, r]));
    expect(byMember.get(uuid(w.members.sam))).toMatchObject({ status: "CANCELLED", skipReason: "CHECKED_IN" });
    expect(byMember.get(uuid(w.members.jose))).toMatchObject({ status: "PENDING" });
  });

  it("limits failed tries per token and per address, across the shared counters; a new window of the limit starts again", async () => {
    const w = await world();
    await opened(w);
    const tokens = await tokensOf(w);
    setClock("2026-01-13T22:31:00Z");
    const code = await roomCode(w);
    const wrong = code === "000000" ? "000001" : "000000";
    // 5 wrong guesses with Sam's token: then even the right code is refused for that token
    for (let i = 0; i < 5; i++) expect(await selfCheckIn(tokens[w.members.sam], wrong)).toEqual(REFUSED);
    expect(await selfCheckIn(tokens[w.members.sam], code)).toEqual(REFUSED);
    // another token from the same address still works (5 failures there, below 8)
    expect((await selfCheckIn(tokens[w.members.jose], code)).userErrors).toEqual([]);
    // 3 more failures from the address (other tokens): the address is then refused too
    for (let i = 0; i < 3; i++) expect(await selfCheckIn(tokens[w.members.faith], wrong)).toEqual(REFUSED);
    expect(await selfCheckIn(tokens[w.members.j], code)).toEqual(REFUSED);
    expect((await claims()).map((c) => c.participantId)).toEqual([uuid(w.members.jose)]);
    // every refused try is audited, those past the limit too: 5 + 1 of Sam's, 3 of Faith's, 1 of J's
    const attempts = await t.server.database.db.select().from(auditEvents).where(eq(auditEvents.action, "DENIED")).orderBy(auditEvents.seq);
    expect(attempts.map((a) => a.participantIds[0])).toEqual([
      ...Array(6).fill(uuid(w.members.sam)),
      ...Array(3).fill(uuid(w.members.faith)),
      uuid(w.members.j),
    ]);
    // the next 15-minute window of the limit: the right code goes through again
    setClock("2026-01-13T22:45:00Z");
    expect((await selfCheckIn(tokens[w.members.sam], await roomCode(w))).userErrors).toEqual([]);
  });
});

describe("reconcileCheckIns", () => {
  async function claimed(w: NotesWorld) {
    await opened(w);
    const tokens = await tokensOf(w);
    setClock("2026-01-13T22:50:00Z");
    await selfCheckIn(tokens[w.members.sam], await roomCode(w));
    await selfCheckIn(tokens[w.members.faith], await roomCode(w));
    setClock("2026-01-13T23:05:00Z");
    await selfCheckIn(tokens[w.members.jose], await roomCode(w));
    setClock("2026-01-13T23:30:00Z");
    return tokens;
  }

  it("turns accepted claims into PRESENT, or LATE when claimed after the start, keeps rejected ones, with history", async () => {
    const w = await world();
    await claimed(w);
    const p = await reconcile(w.tokens.FACILITATOR, { sessionId: w.sessions[1], accept: [w.members.sam, w.members.jose], reject: [w.members.faith] });
    expect(p).toEqual({
      attendance: [
        { participant: { id: w.members.sam }, status: "PRESENT" },
        { participant: { id: w.members.jose }, status: "LATE" },
      ],
      userErrors: [],
    });
    const r = await roster(w);
    expect(r.get(w.members.sam)).toMatchObject({ checkIn: { status: "ACCEPTED" }, attendance: { status: "PRESENT" } });
    expect(r.get(w.members.jose)).toMatchObject({ checkIn: { status: "ACCEPTED", late: true }, attendance: { status: "LATE" } });
    expect(r.get(w.members.faith)).toMatchObject({ checkIn: { status: "REJECTED" }, attendance: null });
    expect(r.get(w.members.j)).toMatchObject({ checkIn: null, attendance: null });
    const rows = await t.server.database.db
      .select()
      .from(checkIns)
      .where(eq(checkIns.participantId, uuid(w.members.sam)));
    expect(rows[0]).toMatchObject({ decidedByStaffId: uuid(w.staff.fac.id), decidedAt: new Date("2026-01-13T23:30:00Z") });
    expect(await t.server.database.db.select().from(attendanceHistory)).toHaveLength(2);
  });

  it("refuses an unknown participant or one without a claim, and rejecting an accepted claim, writing nothing", async () => {
    const w = await world();
    await claimed(w);
    const none = await reconcile(w.tokens.FACILITATOR, { sessionId: w.sessions[1], accept: [w.members.sam, w.members.j] });
    expect(none).toEqual({ attendance: null, userErrors: [expect.objectContaining({ code: "NOT_FOUND", field: ["input", "accept", "1"] })] });
    const bogus = await reconcile(w.tokens.FACILITATOR, { sessionId: w.sessions[1], accept: [w.sessions[1]] });
    expect(bogus.userErrors).toEqual([expect.objectContaining({ code: "NOT_FOUND", field: ["input", "accept", "0"] })]);
    const outsider = await reconcile(w.tokens.FACILITATOR, { sessionId: w.sessions[1], accept: [w.members.sam], reject: [w.ola] });
    expect(outsider).toEqual({ attendance: null, userErrors: [expect.objectContaining({ code: "NOT_FOUND", field: ["input", "reject", "0"] })] });
    const twice = await reconcile(w.tokens.FACILITATOR, { sessionId: w.sessions[1], accept: [w.members.sam], reject: [w.members.sam] });
    expect(twice.userErrors).toEqual([expect.objectContaining({ code: "DUPLICATE", field: ["input", "reject", "0"] })]);
    const empty = await reconcile(w.tokens.FACILITATOR, { sessionId: w.sessions[1], accept: [] });
    expect(empty.userErrors).toEqual([expect.objectContaining({ code: "REQUIRED" })]);
    const db = t.server.database.db;
    expect(await db.select().from(attendance)).toEqual([]);
    expect((await claims()).every((c) => c.status === "PENDING")).toBe(true);

    await reconcile(w.tokens.FACILITATOR, { sessionId: w.sessions[1], accept: [w.members.sam] });
    const undo = await reconcile(w.tokens.FACILITATOR, { sessionId: w.sessions[1], accept: [], reject: [w.members.sam, w.members.faith] });
    expect(undo.userErrors).toEqual([expect.objectContaining({ code: "INVALID_TRANSITION", field: ["input", "reject", "0"] })]);
    expect((await roster(w)).get(w.members.faith).checkIn.status).toBe("PENDING");
  });

  it("is for the group's facilitators and clinical staff: another group's facilitator finds no session, a VIEWER is refused", async () => {
    const w = await world();
    await claimed(w);
    const other = await reconcile(w.tokens.FAC_OTHER, { sessionId: w.sessions[1], accept: [w.members.sam] });
    expect(other.userErrors).toEqual([expect.objectContaining({ code: "NOT_FOUND", field: ["input", "sessionId"] })]);
    const viewer = await send("ReconcileCheckIns", { input: { sessionId: w.sessions[1], accept: [w.members.sam] } }, w.tokens.VIEWER);
    expect(viewer.errors?.[0].extensions?.code).toBe("FORBIDDEN");
    expect(await t.server.database.db.select().from(attendance)).toEqual([]);
    const clinician = await reconcile(w.tokens.CLINICIAN, { sessionId: w.sessions[1], accept: [w.members.sam] });
    expect(clinician.userErrors).toEqual([]);
  });

  it("two staff reconciling the same claims at once write each record once", async () => {
    const w = await world();
    await claimed(w);
    const input = { sessionId: w.sessions[1], accept: [w.members.sam, w.members.jose], reject: [w.members.faith] };
    const [a, b] = await Promise.all([reconcile(w.tokens.FACILITATOR, input), reconcile(w.tokens.CLINICIAN, input)]);
    expect(a.userErrors).toEqual([]);
    expect(b.userErrors).toEqual([]);
    expect(a.attendance).toEqual(b.attendance);
    const db = t.server.database.db;
    const records = await db.select().from(attendance);
    expect(records.map((r) => [r.participantId, r.status, r.version]).sort()).toEqual(
      [
        [uuid(w.members.jose), "LATE", 1],
        [uuid(w.members.sam), "PRESENT", 1],
      ].sort(),
    );
    expect(await db.select().from(attendanceHistory)).toHaveLength(2);
    const feed = await t.server.database.db.execute((await import("drizzle-orm")).sql`select count(*)::int as n from attendance_changes`);
    expect(Number(((feed as any).rows ?? feed)[0].n)).toBe(2);
  });

  it("keeps a signed note's lock: a change needs a reason, kept as a correction", async () => {
    const w = await world();
    // Faith checks in to the first session, but is recorded ABSENT and the note signed the day after
    setClock("2026-01-06T22:40:00Z");
    const o = await open(w.tokens.FACILITATOR, w.sessions[0]);
    const tokens = await tokensOf(w, w.sessions[0]);
    expect((await selfCheckIn(tokens[w.members.faith], o.data.openCheckIn.checkIn.roomCode)).userErrors).toEqual([]);
    setClock("2026-01-07T15:00:00Z");
    const rec = await recordAttendance(t.server, w.tokens.FACILITATOR, w.sessions[0], [
      { participantId: w.members.sam, status: "PRESENT" },
      { participantId: w.members.jose, status: "PRESENT" },
      { participantId: w.members.faith, status: "ABSENT" },
      { participantId: w.members.j, status: "PRESENT" },
    ]);
    expect(rec.userErrors).toEqual([]);
    const parts = [w.members.sam, w.members.jose, w.members.j].map((participantId) => ({
      participantId,
      participation: "ACTIVE",
      progress: "Engaged.",
      plan: "Continue weekly.",
    }));
    const saved = await sendNotes(
      t.server,
      "SaveSessionNote",
      { input: { sessionId: w.sessions[0], groupSummary: "Refusal skills.", interventions: "CBT", members: parts } },
      w.tokens.FACILITATOR,
    );
    expect(saved.data.saveSessionNote.userErrors).toEqual([]);
    const note = saved.data.saveSessionNote.note;
    const signed = await sendNotes(t.server, "SignSessionNote", { input: { noteId: note.id, version: note.version } }, w.tokens.FACILITATOR);
    expect(signed.data.signSessionNote.userErrors).toEqual([]);

    const without = await reconcile(w.tokens.FACILITATOR, { sessionId: w.sessions[0], accept: [w.members.faith] });
    expect(without.userErrors).toEqual([expect.objectContaining({ code: "NOTE_LOCKED", field: ["input", "reason"] })]);
    expect((await roster(w, w.tokens.FACILITATOR, w.sessions[0])).get(w.members.faith)).toMatchObject({
      checkIn: { status: "PENDING" },
      attendance: { status: "ABSENT" },
    });
    const withReason = await reconcile(w.tokens.FACILITATOR, {
      sessionId: w.sessions[0],
      accept: [w.members.faith],
      reason: "She checked in; recorded absent by mistake.",
    });
    expect(withReason).toEqual({ attendance: [{ participant: { id: w.members.faith }, status: "PRESENT" }], userErrors: [] });
    const history = await t.server.database.db
      .select()
      .from(attendanceHistory)
      .where(and(eq(attendanceHistory.previousStatus, "ABSENT"), eq(attendanceHistory.status, "PRESENT")));
    expect(history).toHaveLength(1);
  });
});

describe("the live roster of check-ins", () => {
  type LiveEntry = { participant: { id: string }; checkIn: { checkedInAt: string; status: string } | null; attendance: { status: string } | null };
  /** participant id → "claim status/attendance status" of one event. */
  const states = (stream: Stream, i: number) => {
    expect(stream.events[i].errors).toBeUndefined();
    return Object.fromEntries(
      (stream.events[i].data!.rosterChanged as unknown as LiveEntry[]).map((e) => [
        e.participant.id,
        `${e.checkIn?.status ?? "-"}/${e.attendance?.status ?? "-"}`,
      ]),
    );
  };

  it("a check-in and a reconciliation are one event each for the session's subscribers, and none for another session's; a refusal and a repeat none", async () => {
    const w = await world();
    await opened(w);
    const tokens = await tokensOf(w);
    // Given the facilitator watching this session and, on another connection, another session (the contract's LiveRoster)
    const [here, there] = [await connect(t.server.url, `Bearer ${w.tokens.FACILITATOR}`), await connect(t.server.url, `Bearer ${w.tokens.CLINICIAN}`)];
    onTestFinished(() => Promise.all([here.dispose(), there.dispose()]).then(() => undefined));
    const session = subscribe(here, w.sessions[1], operation("checkin.graphql", "LiveRoster"));
    const other = subscribe(there, w.sessions[0], operation("checkin.graphql", "LiveRoster"));
    await Promise.all([session.waitFor(1), other.waitFor(1)]);
    const none = { [w.members.sam]: "-/-", [w.members.jose]: "-/-", [w.members.faith]: "-/-", [w.members.j]: "-/-" };
    expect(states(session, 0)).toEqual(none);

    // When Sam checks in, a wrong code is tried with Jose's token, Sam checks in again, then Jose and Faith check in
    setClock("2026-01-13T22:50:00Z");
    const code = await roomCode(w);
    expect((await selfCheckIn(tokens[w.members.sam], code)).userErrors).toEqual([]);
    await session.waitFor(2);
    expect(await selfCheckIn(tokens[w.members.jose], code === "000000" ? "000001" : "000000")).toEqual(REFUSED);
    expect((await selfCheckIn(tokens[w.members.sam], code)).userErrors).toEqual([]);
    expect((await selfCheckIn(tokens[w.members.jose], code)).userErrors).toEqual([]);
    // (each event's roster is read when it is sent: wait for it before the next change)
    await session.waitFor(3);
    expect((await selfCheckIn(tokens[w.members.faith], code)).userErrors).toEqual([]);
    await session.waitFor(4);
    // And staff accept Jose and Sam and reject Faith in one reconciliation
    setClock("2026-01-13T23:30:00Z");
    const p = await reconcile(w.tokens.FACILITATOR, { sessionId: w.sessions[1], accept: [w.members.jose, w.members.sam], reject: [w.members.faith] });
    expect(p.userErrors).toEqual([]);
    // And then one change of each session, as a marker (events arrive in commit order)
    expect((await recordAttendance(t.server, w.tokens.FACILITATOR, w.sessions[0], [{ participantId: w.members.j, status: "EXCUSED" }])).userErrors).toEqual([]);
    expect((await recordAttendance(t.server, w.tokens.FACILITATOR, w.sessions[1], [{ participantId: w.members.j, status: "ABSENT" }])).userErrors).toEqual([]);
    await Promise.all([session.waitFor(6), other.waitFor(2)]);

    // Then the session's subscriber got the roster, one event per claim recorded, one for the reconciliation, then the marker
    expect(states(session, 1)).toEqual({ ...none, [w.members.sam]: "PENDING/-" });
    expect(states(session, 2)).toEqual({ ...none, [w.members.sam]: "PENDING/-", [w.members.jose]: "PENDING/-" });
    expect(states(session, 3)).toEqual({ ...none, [w.members.sam]: "PENDING/-", [w.members.jose]: "PENDING/-", [w.members.faith]: "PENDING/-" });
    const reconciled = { [w.members.sam]: "ACCEPTED/PRESENT", [w.members.jose]: "ACCEPTED/PRESENT", [w.members.faith]: "REJECTED/-" };
    expect(states(session, 4)).toEqual({ ...reconciled, [w.members.j]: "-/-" });
    expect(states(session, 5)).toEqual({ ...reconciled, [w.members.j]: "-/ABSENT" });
    expect(session.events).toHaveLength(6);
    // And the other session's subscriber got its roster and its own marker only
    expect(states(other, 1)[w.members.j]).toBe("-/EXCUSED");
    expect(other.events).toHaveLength(2);
    expect([session.error, other.error]).toEqual([undefined, undefined]);
  });
});
