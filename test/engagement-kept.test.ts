// The kept engagement figures (engagement_states) against today's definitions, kept as the
// reference statement (participantMetricsSql, atRiskSql): random histories written through the API
// (records, back-dated corrections, enrolments made and ended, sessions cancelled, moved and added,
// a program's threshold changed), the clock moved across session starts, the 21/28/56-day edges and
// the spring-forward change in New York. After every step, every kept row that claims to be fresh
// equals the reference, and what the reads answer (kept rows, or the reference for the stale ones)
// equals the reference for every participant, and the rollups and trends read from the kept
// session counts equal theirs; after the worker drains, every row is fresh and equal.
import { sql } from "drizzle-orm";
import { describe, expect, it } from "vitest";
import { clock, setClock } from "../src/common/clock.js";
import { rowsOf } from "../src/common/sql.js";
import type { Db } from "../src/db/client.js";
import {
  atRiskSql,
  centerMembers,
  keptCenterAtRiskSql,
  keptFresh,
  keptParticipantMetricsSql,
  keptRiskSql,
  keptRollupSql,
  keptTrendSql,
  participantMembers,
  participantMetricsSql,
  rollupSql,
  trendSql,
  type RollupKind,
  type ParticipantMetricsRow,
} from "../src/engagement/engagement.sql.js";
import { drainEngagement, recomputeDue } from "../src/engagement/engagement.worker.js";
import { asOrgAdmin, type Api } from "./support/fixtures.js";
import { useTestServer } from "./support/server.js";

const t = useTestServer();

const HOUR = 3_600_000;
const uuidOf = (globalId: string) => {
  const decoded = Buffer.from(globalId, "base64url").toString("utf8");
  return decoded.slice(decoded.indexOf(":") + 1);
};

/** A small deterministic generator (mulberry32), so a failing seed can be replayed. */
function random(seed: number) {
  let a = seed;
  const next = () => {
    a = (a + 0x6d2b79f5) | 0;
    let x = Math.imul(a ^ (a >>> 15), 1 | a);
    x = (x + Math.imul(x ^ (x >>> 7), 61 | x)) ^ x;
    return ((x ^ (x >>> 14)) >>> 0) / 4294967296;
  };
  return {
    next,
    int: (n: number) => Math.floor(next() * n),
    pick: <T>(xs: readonly T[]): T => xs[Math.floor(next() * xs.length)],
  };
}

type Figures = Omit<ParticipantMetricsRow, "key">;

const normal = (r: ParticipantMetricsRow | Figures) => ({
  participant_id: r.participant_id,
  expected: Number(r.expected),
  attended: Number(r.attended),
  missed: Number(r.missed),
  excused: Number(r.excused),
  unrecorded: Number(r.unrecorded),
  consecutive_misses: Number(r.consecutive_misses),
  current_streak: Number(r.current_streak),
  last_attended_at: r.last_attended_at === null ? null : Number(r.last_attended_at),
  a28: Number(r.a28),
  m28: Number(r.m28),
  ap: Number(r.ap),
  mp: Number(r.mp),
  trend: r.trend,
  risk_level: r.risk_level,
});
const byId = <T extends { participant_id: string }>(rows: T[]) => new Map(rows.map((r) => [r.participant_id, r]));

async function reference(db: Db, ids: string[]) {
  const rows = await rowsOf<ParticipantMetricsRow>(
    db,
    participantMetricsSql({ members: participantMembers(ids), groupCondition: null, window: { from: null, to: null }, now: clock.now() }),
  );
  return byId(rows.map(normal));
}

/** Every kept row that claims to be fresh equals the reference; the reads equal it for everyone. */
async function expectKeptEqualsReference(db: Db, centerId: string, ids: string[], step: string) {
  const now = clock.now();
  const want = await reference(db, ids);
  const fresh = await rowsOf<Figures>(
    db,
    sql`select k.participant_id, k.expected, k.attended, k.missed, k.excused, k.unrecorded, k.consecutive_misses, k.current_streak,
      k.last_attended_at, k.a28, k.m28, k.ap, k.mp, k.trend, k.risk_level from engagement_states k where ${keptFresh("k", now)}`,
  );
  for (const row of fresh) expect(normal(row), `${step}: kept row of ${row.participant_id}`).toEqual(want.get(row.participant_id));
  const read = byId((await rowsOf<ParticipantMetricsRow>(db, keptParticipantMetricsSql(ids, now))).map(normal));
  expect(read.size, step).toBe(ids.length);
  for (const id of ids) expect(read.get(id), `${step}: read of ${id}`).toEqual(want.get(id));
  for (const level of ["HIGH", "MEDIUM", "LOW"]) {
    const kept = (await rowsOf<{ participant_id: string }>(db, keptRiskSql(level, [centerId], now))).map((r) => r.participant_id).sort();
    const ref = (
      await rowsOf<{ participant_id: string; risk_level: string }>(
        db,
        participantMetricsSql({ members: centerMembers([centerId]), groupCondition: null, window: { from: null, to: null }, now }),
      )
    )
      .filter((r) => r.risk_level === level)
      .map((r) => r.participant_id)
      .sort();
    expect(kept, `${step}: participants at ${level}`).toEqual(ref);
  }
  const [keptRisk] = await rowsOf<{ n: number }>(db, keptCenterAtRiskSql([centerId], now));
  const [refRisk] = await rowsOf<{ n: number }>(db, atRiskSql("center", [centerId], "ALL", now));
  expect(Number(keptRisk?.n ?? 0), `${step}: atRiskCount`).toBe(Number(refRisk?.n ?? 0));
  await expectRollupsEqualReference(db, centerId, step);
  return fresh.length;
}

const WINDOWS = [
  { from: null, to: null },
  { from: "2026-02-01", to: "2026-03-10" }, // across the spring-forward change (8 March)
  { from: "2026-03-08", to: null },
];
const sorted = <T>(rows: T[]) => rows.map((r) => JSON.stringify(r, (_k, v) => (typeof v === "string" && /^\d+$/.test(v) ? Number(v) : v))).sort();

/** The rollups and trends read from the kept session counts equal the reference, for a center, its groups and programs. */
async function expectRollupsEqualReference(db: Db, centerId: string, step: string) {
  const now = clock.now();
  const groups = (await rowsOf<{ id: string; program_id: string }>(db, sql`select id, program_id from groups where center_id = ${centerId}`)) as Array<{
    id: string;
    program_id: string;
  }>;
  const keys: Array<[RollupKind, string[]]> = [
    ["center", [centerId]],
    ["group", groups.map((g) => g.id)],
    ["program", [...new Set(groups.map((g) => g.program_id))]],
  ];
  for (const [kind, ids] of keys) {
    for (const window of WINDOWS) {
      const kept = await rowsOf(db, keptRollupSql(kind, ids, "ALL", window, now));
      const ref = await rowsOf(db, rollupSql(kind, ids, "ALL", window, now));
      expect(sorted(kept), `${step}: ${kind} rollup ${JSON.stringify(window)}`).toEqual(sorted(ref));
    }
    for (const interval of ["WEEK", "MONTH"] as const) {
      const window = { from: "2026-01-01", to: "2026-04-30" };
      const kept = await rowsOf(db, keptTrendSql(kind, ids, [groups[0].id], window, interval, now));
      const ref = await rowsOf(db, trendSql(kind, ids, [groups[0].id], window, interval, now));
      expect(sorted(kept), `${step}: ${kind} trend ${interval} (one group in reach)`).toEqual(sorted(ref));
      const keptAll = await rowsOf(db, keptTrendSql(kind, ids, "ALL", window, interval, now));
      const refAll = await rowsOf(db, trendSql(kind, ids, "ALL", window, interval, now));
      expect(sorted(keptAll), `${step}: ${kind} trend ${interval}`).toEqual(sorted(refAll));
    }
  }
}

interface World {
  admin: Api;
  centerId: string;
  programs: string[];
  groups: Array<{ id: string; sessions: Array<{ id: string; startsAt: string }> }>;
  participants: string[];
  enrollments: Array<{ id: string; groupIndex: number; participant: string; active: boolean }>;
}

async function world(rnd: ReturnType<typeof random>): Promise<World> {
  setClock("2026-01-01T15:00:00Z");
  const admin = await asOrgAdmin(t.server);
  const centerId = await admin.createCenter("North Clinic", "America/New_York");
  const programs: string[] = [];
  for (const [name, threshold] of [
    ["Relapse prevention", 2],
    ["Family", 3],
  ] as const) {
    const p = await admin.mutate("createProgram", { centerId, name, attendancePolicy: { absencesBeforeFollowUp: threshold } }, "program { id }");
    programs.push(p.program.id);
  }
  const groups: World["groups"] = [];
  for (const [i, day, time] of [
    [0, "MONDAY", "18:00"],
    [1, "THURSDAY", "12:00"],
    [0, "SATURDAY", "01:30"],
  ] as const) {
    const g = await admin.mutate(
      "createGroup",
      {
        programId: programs[i],
        name: `${day} group`,
        capacity: 6,
        status: "ACTIVE",
        startsOn: "2026-01-05",
        schedule: { daysOfWeek: [day], startTime: time, durationMinutes: 60 },
      },
      "group { id }",
    );
    const s = await admin.mutate("scheduleSessions", { groupId: g.group.id, from: "2026-01-05", to: "2026-03-20" }, "sessions { id startsAt }");
    groups.push({ id: g.group.id, sessions: s.sessions });
  }
  const participants: string[] = [];
  for (let i = 0; i < 8; i++) {
    const p = await admin.mutate("createParticipant", { centerId, firstName: `P${i}`, lastName: "Test" }, "participant { id }");
    participants.push(p.participant.id);
  }
  const enrollments: World["enrollments"] = [];
  for (const participant of participants) {
    for (let gi = 0; gi < groups.length; gi++) {
      if (rnd.next() < 0.5) continue;
      const e = await admin.mutate("enrollParticipant", { groupId: groups[gi].id, participantId: participant }, "enrollment { id status }");
      enrollments.push({ id: e.enrollment.id, groupIndex: gi, participant, active: e.enrollment.status === "ACTIVE" });
    }
  }
  return { admin, centerId, programs, groups, participants, enrollments };
}

const STATUSES = ["PRESENT", "LATE", "LEFT_EARLY", "ABSENT", "ABSENT", "EXCUSED"];

/** The instants at which time alone changes figures: session starts and their 21/28/56-day edges. */
function edges(w: World): number[] {
  return w.groups.flatMap((g) => g.sessions.flatMap((s) => [0, 504, 672, 1344].map((h) => new Date(s.startsAt).getTime() + h * HOUR)));
}

/**
 * The checks between steps leave the test's keep-alive socket idle for seconds; a request sent just
 * as the server closes it fails with ECONNRESET before the server reads it. A harmless query first
 * (tried twice) leaves a fresh socket for the step's write.
 */
async function warm(): Promise<void> {
  try {
    await t.server.gql("{ __typename }");
  } catch {
    await t.server.gql("{ __typename }");
  }
}

async function step(w: World, rnd: ReturnType<typeof random>): Promise<string> {
  await warm();
  const now = clock.now().getTime();
  const roll = rnd.next();
  if (roll < 0.4) {
    // Record, or correct back-dated: a started session (or one a little ahead), random members.
    const g = rnd.pick(w.groups);
    const started = g.sessions.filter((s) => new Date(s.startsAt).getTime() <= now + 48 * HOUR);
    if (!started.length) return "nothing to record";
    const session = rnd.next() < 0.5 ? started[started.length - 1] : rnd.pick(started);
    const members = [...new Set(w.enrollments.filter((e) => w.groups[e.groupIndex] === g).map((e) => e.participant))];
    const chosen = members.filter(() => rnd.next() < 0.7);
    if (!chosen.length) return "no one to record";
    const res = await t.server.gql(
      `mutation($input: RecordAttendanceInput!) { recordAttendance(input: $input) { userErrors { code message } } }`,
      { input: { sessionId: session.id, reason: "correction", records: chosen.map((participantId) => ({ participantId, status: rnd.pick(STATUSES) })) } },
      { token: w.admin.token },
    );
    expect(res.errors).toBeUndefined();
    return `record ${session.startsAt} (${res.data.recordAttendance.userErrors.map((e: { code: string }) => e.code).join(",") || "ok"})`;
  }
  if (roll < 0.5) {
    const open = w.enrollments.filter((e) => e.active);
    if (!open.length) return "no enrolment to end";
    const e = rnd.pick(open);
    await w.admin.mutate("endEnrollment", { enrollmentId: e.id, status: rnd.pick(["WITHDRAWN", "DISCHARGED"]), reason: "moved away" }, "enrollment { id }");
    e.active = false;
    return "end enrolment";
  }
  if (roll < 0.58) {
    const g = rnd.pick(w.groups);
    const future = g.sessions.filter((s) => new Date(s.startsAt).getTime() > now);
    if (!future.length) return "no session to cancel";
    const s = rnd.pick(future.slice(0, 4));
    await w.admin.mutate("cancelSession", { sessionId: s.id, reason: "snow" }, "session { id }");
    g.sessions = g.sessions.filter((x) => x !== s);
    return `cancel ${s.startsAt}`;
  }
  if (roll < 0.65) {
    const gi = rnd.int(w.groups.length);
    const participant = rnd.pick(w.participants);
    if (w.enrollments.some((e) => e.groupIndex === gi && e.participant === participant && e.active)) return "already enrolled";
    const res = await t.server.gql(
      `mutation($input: EnrollParticipantInput!) { enrollParticipant(input: $input) { enrollment { id status } userErrors { code } } }`,
      { input: { groupId: w.groups[gi].id, participantId: participant } },
      { token: w.admin.token },
    );
    const e = res.data.enrollParticipant.enrollment;
    if (e) w.enrollments.push({ id: e.id, groupIndex: gi, participant, active: e.status === "ACTIVE" });
    return "enrol";
  }
  if (roll < 0.7) {
    await w.admin.mutate("updateProgram", { programId: rnd.pick(w.programs), attendancePolicy: { absencesBeforeFollowUp: 1 + rnd.int(3) } }, "program { id }");
    return "threshold";
  }
  if (roll < 0.8) {
    // A session moved by a few hours, past or future (its roster, and the instants of its window
    // edges, move with it: they no longer fall on the weekly schedule's other starts).
    const g = rnd.pick(w.groups);
    const s = rnd.pick(g.sessions);
    const startsAt = new Date(new Date(s.startsAt).getTime() + (rnd.next() < 0.5 ? -1 : 1) * (1 + rnd.int(40)) * HOUR).toISOString();
    const res = await t.server.gql(
      `mutation($input: UpdateSessionInput!) { updateSession(input: $input) { session { startsAt } userErrors { code } } }`,
      { input: { sessionId: s.id, startsAt } },
      { token: w.admin.token },
    );
    expect(res.errors).toBeUndefined();
    if (res.data.updateSession.session) s.startsAt = res.data.updateSession.session.startsAt;
    return `move ${s.id} to ${startsAt}`;
  }
  if (roll < 0.84) {
    // Sessions added further ahead (the schedule extended).
    const g = rnd.pick(w.groups);
    const s = await w.admin.mutate("scheduleSessions", { groupId: g.id, from: "2026-03-21", to: "2026-04-15" }, "sessions { id startsAt status }");
    g.sessions = [...g.sessions.filter((x) => x.startsAt < "2026-03-21"), ...s.sessions.filter((x: { status: string }) => x.status !== "CANCELLED")];
    return "schedule more";
  }
  // The clock moves: to an edge (exactly, or a millisecond before), or by some hours.
  const ahead = edges(w).filter((e) => e > now && e < now + 10 * 24 * HOUR);
  const to = ahead.length && rnd.next() < 0.7 ? rnd.pick(ahead) - (rnd.next() < 0.3 ? 1 : 0) : now + (1 + rnd.int(72)) * HOUR;
  setClock(new Date(to));
  return `clock ${new Date(to).toISOString()}`;
}

describe("kept engagement figures", () => {
  for (const seed of [1, 2]) {
    it(`equal today's definitions for every participant through random histories, corrections and clock moves (seed ${seed})`, async () => {
      // Given a center in New York with three groups, eight participants and random enrolments
      const rnd = random(seed);
      const w = await world(rnd);
      const db = t.server.database.db;
      const ids = w.participants.map(uuidOf);
      setClock("2026-01-20T12:00:00Z");
      await drainEngagement(db);
      let fresh = 0;
      // When random writes and clock moves follow, from January past the spring-forward change (8 March)
      for (let i = 0; i < 50 || (clock.now().getTime() < Date.parse("2026-03-12T00:00:00Z") && i < 150); i++) {
        const what = await step(w, rnd);
        // Then every fresh kept row, and every read, equals the reference
        fresh += await expectKeptEqualsReference(db, uuidOf(w.centerId), ids, `seed ${seed} step ${i} (${what})`);
        if (i % 3 === 2) {
          // and after the worker runs, every row is fresh and still equal
          await drainEngagement(db);
          const [{ n }] = await rowsOf<{ n: number }>(db, sql`select count(*)::int as n from engagement_states k where ${keptFresh("k", clock.now())}`);
          expect(Number(n)).toBe(ids.length);
          await expectKeptEqualsReference(db, uuidOf(w.centerId), ids, `seed ${seed} step ${i} drained`);
        }
      }
      expect(clock.now().getTime()).toBeGreaterThan(Date.parse("2026-03-08T12:00:00Z"));
      expect(fresh).toBeGreaterThan(100); // the kept rows were really used, not only the reference
    }, 400_000);
  }

  it("marks a participant dirty in the writer's transaction and recomputes only dirty or due rows", async () => {
    // Given a participant enrolled in a weekly group, all rows computed
    const rnd = random(7);
    const w = await world(rnd);
    const db = t.server.database.db;
    setClock("2026-02-10T12:00:00Z");
    await drainEngagement(db);
    expect(await recomputeDue(db)).toBe(0);
    const e = w.enrollments[0];
    const g = w.groups[e.groupIndex];
    const past = g.sessions.filter((s) => new Date(s.startsAt).getTime() < clock.now().getTime());
    // When a back-dated record is written
    await w.admin.mutate(
      "recordAttendance",
      { sessionId: past[0].id, reason: "late paperwork", records: [{ participantId: e.participant, status: "ABSENT" }] },
      "attendance { id }",
    );
    // Then that participant's row is dirty (and only theirs), and the read already answers the new figures
    const dirty = await rowsOf<{ participant_id: string }>(db, sql`select participant_id from engagement_states where next_recheck_at = '-infinity'`);
    expect(dirty.map((d) => d.participant_id)).toEqual([uuidOf(e.participant)]);
    await expectKeptEqualsReference(db, uuidOf(w.centerId), w.participants.map(uuidOf), "after the correction");
    // And the worker recomputes exactly that one
    expect(await recomputeDue(db)).toBe(1);
    // When time reaches the group's next session start
    const [{ at }] = await rowsOf<{ at: Date | string }>(db, sql`select min(next_recheck_at) as at from engagement_states`);
    setClock(new Date(at));
    // Then the rows due are recomputed, and all equal the reference
    expect(await recomputeDue(db)).toBeGreaterThan(0);
    await expectKeptEqualsReference(db, uuidOf(w.centerId), w.participants.map(uuidOf), "at the recheck");
  });

  it("changes a kept risk exactly when a session leaves the 21-day window, with no write", async () => {
    // Given a participant with two EXCUSED sessions, nothing attended, an ACTIVE enrolment and no
    // session after them (so no other instant falls on the window's edge): HIGH
    setClock("2026-01-01T15:00:00Z");
    const admin = await asOrgAdmin(t.server);
    const centerId = await admin.createCenter("North Clinic", "America/New_York");
    const program = (
      await admin.mutate("createProgram", { centerId, name: "Relapse prevention", attendancePolicy: { absencesBeforeFollowUp: 5 } }, "program { id }")
    ).program.id;
    const group = (
      await admin.mutate(
        "createGroup",
        {
          programId: program,
          name: "Monday",
          capacity: 5,
          status: "ACTIVE",
          startsOn: "2026-01-05",
          schedule: { daysOfWeek: ["MONDAY"], startTime: "18:00", durationMinutes: 60 },
        },
        "group { id }",
      )
    ).group.id;
    const sessions: Array<{ id: string; startsAt: string }> = (
      await admin.mutate("scheduleSessions", { groupId: group, from: "2026-01-05", to: "2026-02-28" }, "sessions { id startsAt }")
    ).sessions;
    const person = (await admin.mutate("createParticipant", { centerId, firstName: "Ana", lastName: "Test" }, "participant { id }")).participant.id;
    await admin.mutate("enrollParticipant", { groupId: group, participantId: person }, "enrollment { id }");
    for (const s of sessions.slice(2)) await admin.mutate("cancelSession", { sessionId: s.id, reason: "room closed" }, "session { id }");
    setClock("2026-01-13T12:00:00Z");
    for (const s of sessions.slice(0, 2)) {
      await admin.mutate("recordAttendance", { sessionId: s.id, records: [{ participantId: person, status: "EXCUSED" }] }, "attendance { id }");
    }
    const db = t.server.database.db;
    await drainEngagement(db);
    const risk = async () => (await rowsOf<{ risk_level: string }>(db, keptParticipantMetricsSql([uuidOf(person)], clock.now())))[0].risk_level;
    expect(await risk()).toBe("HIGH");
    // When time reaches a millisecond before the first session's 21-day edge, then the edge itself
    const edge = new Date(sessions[0].startsAt).getTime() + 504 * HOUR;
    setClock(new Date(edge - 1));
    await expectKeptEqualsReference(db, uuidOf(centerId), [uuidOf(person)], "just before the edge");
    expect(await risk()).toBe("HIGH");
    setClock(new Date(edge));
    // Then the kept row is due at that instant (not fresh), and the read answers LOW, as the reference does
    await expectKeptEqualsReference(db, uuidOf(centerId), [uuidOf(person)], "at the edge");
    expect(await risk()).toBe("LOW");
    expect(await recomputeDue(db)).toBe(1);
    const [kept] = await rowsOf<{ risk_level: string }>(db, sql`select risk_level from engagement_states`);
    expect(kept.risk_level).toBe("LOW");
  });

  it("lets two workers drain at once without taking the same rows", async () => {
    // Given every row dirty
    const w = await world(random(3));
    const db = t.server.database.db;
    setClock("2026-03-01T12:00:00Z");
    await drainEngagement(db);
    await db.execute(sql`update engagement_states set next_recheck_at = '-infinity'`);
    // When two workers run at the same time
    const [a, b] = await Promise.all([recomputeDue(db, 5), recomputeDue(db, 5)]);
    // Then together they recompute each row once, and all rows equal the reference
    expect(a + b).toBe(w.participants.length);
    await expectKeptEqualsReference(db, uuidOf(w.centerId), w.participants.map(uuidOf), "two workers");
  });
});
