// Engagement over HTTP: each participant's figures (expected, attended, missed, excused,
// unrecorded, rate, runs, last attended, trend, risk), periods read in the center's zone, the
// pooled figures of groups, programs and centers, weekly and monthly trends across a DST change,
// the risk filter on Center.participants, who may see what, and the statement count.
import { describe, expect, it } from "vitest";
import { setClock } from "../src/common/clock.js";
import { asOrgAdmin, type Api } from "./support/fixtures.js";
import { useTestServer } from "./support/server.js";

const t = useTestServer();

type SessionRef = { id: string; startsAt: string };

const FIGURES = `sessionsExpected sessionsAttended sessionsMissed sessionsExcused sessionsUnrecorded attendanceRate
  consecutiveMisses currentStreak lastAttendedAt recentAttendanceRate previousAttendanceRate trend trendDelta riskLevel`;
const SUMMARY = `sessionsHeld sessionsExpected sessionsAttended sessionsMissed sessionsExcused sessionsUnrecorded attendanceRate
  activeParticipants atRiskCount openFollowUps`;

async function record(api: Api, session: SessionRef, records: Array<[string, string]>) {
  await api.mutate(
    "recordAttendance",
    { sessionId: session.id, records: records.map(([participantId, status]) => ({ participantId, status })) },
    "attendance { id }",
  );
}

/**
 * New York center, program with absencesBeforeFollowUp 2. "Monday evening" meets Mondays 18:00
 * (23:00Z) from 2026-01-05; "Thursday noon" (another program, facilitated by `otherFacilitator`)
 * meets Thursdays 12:00. Everyone is enrolled on 2026-01-01 unless said otherwise; "now" is
 * 2026-02-17T12:00Z, so the Monday sessions S1..S7 (Jan 5 .. Feb 16) have started.
 *   Ana  S1 PRESENT, S2 LATE, S3 ABSENT, S4 EXCUSED, S5 -, S6 ABSENT, S7 -, S8 (future) PRESENT
 *   Ben  PRESENT at S1..S7
 *   Cy   ABSENT S1..S3, PRESENT S4..S7
 *   Dee  nothing recorded
 *   Fay  PRESENT S1..S5, ABSENT S6, S7 -
 *   Eli  enrolled 2026-02-01 (expected from S5), recorded PRESENT at S1 afterwards (catching up)
 */
async function world() {
  setClock("2026-01-01T15:00:00Z");
  const admin = await asOrgAdmin(t.server);
  const centerId = await admin.createCenter("North Clinic", "America/New_York");
  const [facilitator, otherFacilitator, viewer, clinician] = await Promise.all([
    admin.createStaff("fac@north.test", [{ centerId, role: "FACILITATOR" }]),
    admin.createStaff("fac2@north.test", [{ centerId, role: "FACILITATOR" }]),
    admin.createStaff("viewer@north.test", [{ centerId, role: "VIEWER" }]),
    admin.createStaff("clin@north.test", [{ centerId, role: "CLINICIAN" }]),
  ]);
  const program = (await admin.mutate("createProgram", { centerId, name: "Relapse prevention" }, "program { id }")).program.id as string;
  const otherProgram = (await admin.mutate("createProgram", { centerId, name: "Family" }, "program { id }")).program.id as string;
  const group = async (programId: string, name: string, day: string, time: string, facilitatorId: string) => {
    const g = await admin.mutate(
      "createGroup",
      {
        programId,
        name,
        capacity: 20,
        status: "ACTIVE",
        startsOn: "2026-01-05",
        facilitatorIds: [facilitatorId],
        schedule: { daysOfWeek: [day], startTime: time, durationMinutes: 60 },
      },
      "group { id }",
    );
    const s = await admin.mutate("scheduleSessions", { groupId: g.group.id, from: "2026-01-05", to: "2026-03-31" }, "sessions { id startsAt }");
    return { id: g.group.id as string, sessions: s.sessions as SessionRef[] };
  };
  const monday = await group(program, "Monday evening", "MONDAY", "18:00", facilitator.id);
  const thursday = await group(otherProgram, "Thursday noon", "THURSDAY", "12:00", otherFacilitator.id);
  const person = async (firstName: string) =>
    (await admin.mutate("createParticipant", { centerId, firstName, lastName: "Test" }, "participant { id }")).participant.id as string;
  const [ana, ben, cy, dee, fay, eli, gus] = await Promise.all(["Ana", "Ben", "Cy", "Dee", "Fay", "Eli", "Gus"].map(person));
  for (const p of [ana, ben, cy, dee, fay]) await admin.mutate("enrollParticipant", { groupId: monday.id, participantId: p }, "enrollment { id }");
  await admin.mutate("enrollParticipant", { groupId: thursday.id, participantId: gus }, "enrollment { id }");
  setClock("2026-02-01T15:00:00Z");
  await admin.mutate("enrollParticipant", { groupId: monday.id, participantId: eli }, "enrollment { id }");

  setClock("2026-02-17T12:00:00Z");
  const S = monday.sessions;
  await record(admin, S[0], [
    [ana, "PRESENT"],
    [ben, "PRESENT"],
    [cy, "ABSENT"],
    [fay, "PRESENT"],
    [eli, "PRESENT"],
  ]);
  await record(admin, S[1], [
    [ana, "LATE"],
    [ben, "PRESENT"],
    [cy, "ABSENT"],
    [fay, "PRESENT"],
  ]);
  await record(admin, S[2], [
    [ana, "ABSENT"],
    [ben, "PRESENT"],
    [cy, "ABSENT"],
    [fay, "PRESENT"],
  ]);
  await record(admin, S[3], [
    [ana, "EXCUSED"],
    [ben, "PRESENT"],
    [cy, "PRESENT"],
    [fay, "PRESENT"],
  ]);
  await record(admin, S[4], [
    [ben, "PRESENT"],
    [cy, "PRESENT"],
    [fay, "PRESENT"],
    [eli, "PRESENT"],
  ]);
  await record(admin, S[5], [
    [ana, "ABSENT"],
    [ben, "PRESENT"],
    [cy, "PRESENT"],
    [fay, "ABSENT"],
    [eli, "PRESENT"],
  ]);
  await record(admin, S[6], [
    [ben, "PRESENT"],
    [cy, "PRESENT"],
    [eli, "PRESENT"],
  ]);
  await record(admin, S[7], [[ana, "PRESENT"]]);
  await record(admin, thursday.sessions[0], [[gus, "PRESENT"]]);
  return { admin, centerId, program, otherProgram, monday, thursday, facilitator, otherFacilitator, viewer, clinician, ana, ben, cy, dee, fay, eli, gus };
}

const participantQuery = (args = "") => `query($id: ID!) { node(id: $id) { ... on Participant { engagement${args} { ${FIGURES} } } } }`;

async function engagementOf(api: Api, id: string, args = "") {
  return (await api.query(participantQuery(args), { id })).node.engagement;
}

describe("a participant's engagement", () => {
  it("counts expected, attended, missed, excused and unrecorded sessions that have started, with runs that skip excused and unrecorded ones", async () => {
    // Given the Monday group's records
    const w = await world();

    // When Ana's engagement is read
    const ana = await engagementOf(w.admin, w.ana);

    // Then the future S8 is not counted; the rate ignores excused and unrecorded sessions
    expect(ana).toMatchObject({
      sessionsExpected: 7,
      sessionsAttended: 2,
      sessionsMissed: 2,
      sessionsExcused: 1,
      sessionsUnrecorded: 2,
      attendanceRate: 0.5,
      consecutiveMisses: 2, // S3 and S6: S4 (excused) and S5 (unrecorded) neither break nor extend the run
      currentStreak: 0,
      lastAttendedAt: "2026-01-12T23:00:00.000Z", // S2, LATE counts as attended
    });
    // And the last 28 days (S4..S7: one absence) against the 28 before (S1..S3: 2 of 3) is DECLINING
    expect(ana.recentAttendanceRate).toBe(0);
    expect(ana.previousAttendanceRate).toBeCloseTo(2 / 3, 10);
    expect(ana.trend).toBe("DECLINING");
    expect(ana.trendDelta).toBeCloseTo(-0.6667, 4);
    // And two absences in a row reach the program's threshold of 2: HIGH
    expect(ana.riskLevel).toBe("HIGH");
  });

  it("gives streaks, trends and risk levels by the rules", async () => {
    const w = await world();
    const [ben, cy, dee, fay, eli] = await Promise.all([w.ben, w.cy, w.dee, w.fay, w.eli].map((id) => engagementOf(w.admin, id)));

    // Always present: a streak of 7, steady, low risk
    expect(ben).toMatchObject({
      sessionsExpected: 7,
      attendanceRate: 1,
      currentStreak: 7,
      consecutiveMisses: 0,
      trend: "STEADY",
      trendDelta: 0,
      riskLevel: "LOW",
    });
    // Three absences, then four sessions attended: improving, and the absences no longer count as a run
    expect(cy).toMatchObject({ attendanceRate: 4 / 7, currentStreak: 4, consecutiveMisses: 0, trend: "IMPROVING", trendDelta: 1, riskLevel: "LOW" });
    // Nothing recorded: no rate, unknown trend, but nothing attended in 21 days with 3 sessions expected is HIGH
    expect(dee).toMatchObject({
      sessionsExpected: 7,
      sessionsUnrecorded: 7,
      attendanceRate: null,
      lastAttendedAt: null,
      trend: "UNKNOWN",
      trendDelta: null,
      riskLevel: "HIGH",
    });
    // One absence in a row (below the threshold) and S7 unrecorded: MEDIUM, not HIGH
    expect(fay).toMatchObject({ consecutiveMisses: 1, currentStreak: 0, sessionsUnrecorded: 1, riskLevel: "MEDIUM" });
    // Enrolled on 1 Feb: expected from S5, plus S1 where a record was entered afterwards
    expect(eli).toMatchObject({ sessionsExpected: 4, sessionsAttended: 4, sessionsUnrecorded: 0, currentStreak: 4 });
  });

  it("limits the counts to a period of days in the center's zone, both ends inclusive, while trend and risk stay as of now", async () => {
    const w = await world();
    // S2 starts on Monday 12 January at 18:00 in New York (23:00Z): the 12th is its day, the 13th is not
    const only12th = await engagementOf(w.admin, w.ana, `(from: "2026-01-12", to: "2026-01-12")`);
    expect(only12th).toMatchObject({ sessionsExpected: 1, sessionsAttended: 1, currentStreak: 1, riskLevel: "HIGH", trend: "DECLINING" });
    const only13th = await engagementOf(w.admin, w.ana, `(from: "2026-01-13", to: "2026-01-13")`);
    expect(only13th).toMatchObject({ sessionsExpected: 0, attendanceRate: null });
    // S2..S3 (12 and 19 January)
    const twoWeeks = await engagementOf(w.admin, w.ana, `(from: "2026-01-12", to: "2026-01-19")`);
    expect(twoWeeks).toMatchObject({
      sessionsExpected: 2,
      sessionsAttended: 1,
      sessionsMissed: 1,
      consecutiveMisses: 1,
      lastAttendedAt: "2026-01-12T23:00:00.000Z",
    });
    // An open end
    expect(await engagementOf(w.admin, w.ana, `(from: "2026-02-01")`)).toMatchObject({ sessionsExpected: 3, sessionsMissed: 1, sessionsUnrecorded: 2 });

    // And a period that ends before it starts is refused
    const res = await t.server.gql(participantQuery(`(from: "2026-02-02", to: "2026-02-01")`), { id: w.ana }, { token: w.admin.token });
    expect(res.errors?.[0].extensions?.code).toBe("BAD_USER_INPUT");
  });

  it("is HIGH only with an ACTIVE enrolment in the group whose run reaches the threshold", async () => {
    const w = await world();
    // Given Ana's enrolment ends
    const enrollment = await w.admin.query(`query($id: ID!) { node(id: $id) { ... on Participant { enrollments(first: 5) { nodes { id } } } } }`, {
      id: w.ana,
    });
    await w.admin.mutate(
      "endEnrollment",
      { enrollmentId: enrollment.node.enrollments.nodes[0].id, status: "WITHDRAWN", reason: "Moved away" },
      "enrollment { id }",
    );
    // Then her run still shows, but she is no longer HIGH
    expect(await engagementOf(w.admin, w.ana)).toMatchObject({ consecutiveMisses: 2, riskLevel: "MEDIUM" });
  });
});

describe("trend and the 28-day rate at their boundaries", () => {
  it("counts a change of exactly 0.10 as a trend, a 28-day rate of exactly 0.6 as fine, and a session exactly 28 days old in the earlier period", async () => {
    // Given a group meeting daily at 10:00 New York (15:00Z) and "now" 2026-03-01T15:00Z: the
    // last 28 days hold the sessions of 2 Feb .. 1 Mar; the session of 1 Feb started exactly 28 × 24 h ago
    setClock("2026-01-01T12:00:00Z");
    const admin = await asOrgAdmin(t.server);
    const centerId = await admin.createCenter("Daily", "America/New_York");
    const programId = (await admin.mutate("createProgram", { centerId, name: "P", attendancePolicy: { absencesBeforeFollowUp: 5 } }, "program { id }")).program
      .id;
    const DAYS = ["MONDAY", "TUESDAY", "WEDNESDAY", "THURSDAY", "FRIDAY", "SATURDAY", "SUNDAY"];
    const g = await admin.mutate(
      "createGroup",
      {
        programId,
        name: "Daily",
        capacity: 9,
        status: "ACTIVE",
        startsOn: "2026-01-05",
        schedule: { daysOfWeek: DAYS, startTime: "10:00", durationMinutes: 60 },
      },
      "group { id }",
    );
    const sessions: SessionRef[] = (
      await admin.mutate("scheduleSessions", { groupId: g.group.id, from: "2026-01-05", to: "2026-03-01" }, "sessions { id startsAt }")
    ).sessions;
    const ids: string[] = [];
    for (const name of ["Up", "Flat", "Low", "Down"]) {
      const id = (await admin.mutate("createParticipant", { centerId, firstName: name, lastName: "T" }, "participant { id }")).participant.id;
      await admin.mutate("enrollParticipant", { groupId: g.group.id, participantId: id }, "enrollment { id }");
      ids.push(id);
    }
    // [absent days, attended days] before and within the last 28 days, as ranges of January / February days
    const plan: Array<{ before: [number, number][]; recent: [number, number][] }> = [
      {
        before: [
          [5, 8],
          [10, 14],
        ],
        recent: [
          [2, 4],
          [5, 11],
        ],
      }, // Up: 5 Jan-days attended + 1 Feb (added below): 6/10 -> 7/10
      {
        before: [
          [5, 8],
          [9, 14],
        ],
        recent: [
          [2, 5],
          [6, 11],
        ],
      }, // Flat: 0.6 -> 0.6
      {
        before: [
          [5, 8],
          [9, 13],
        ],
        recent: [
          [2, 5],
          [6, 10],
        ],
      }, // Low: 5/9 -> 5/9
      {
        before: [
          [5, 7],
          [8, 14],
        ],
        recent: [
          [2, 5],
          [6, 11],
        ],
      }, // Down: 0.7 -> 0.6
    ];
    const statusOn = (i: number, day: string): string | null => {
      const [month, date] = [Number(day.slice(5, 7)), Number(day.slice(8, 10))];
      if (i === 0 && month === 2 && date === 1) return "PRESENT"; // exactly 28 days before now
      const [absent, attended] =
        month === 1
          ? plan[i].before
          : month === 2
            ? plan[i].recent
            : [
                [0, -1],
                [0, -1],
              ];
      if (date >= absent[0] && date <= absent[1]) return "ABSENT";
      if (date >= attended[0] && date <= attended[1]) return "PRESENT";
      return null;
    };
    setClock("2026-03-01T15:00:00Z");
    for (const s of sessions) {
      const day = new Date(new Date(s.startsAt).getTime() - 5 * 3600_000).toISOString().slice(0, 10);
      const records = ids.flatMap((id, i) => (statusOn(i, day) ? [[id, statusOn(i, day)!] as [string, string]] : []));
      if (records.length) await record(admin, s, records);
    }
    const [up, flat, low, down] = await Promise.all(ids.map((id) => engagementOf(admin, id)));

    // Then 0.6 -> 0.7 (0.7 - 0.6 is 0.0999... in floating point) is IMPROVING, and the 1 Feb session is in the earlier period
    expect([up.previousAttendanceRate, up.recentAttendanceRate, up.trend]).toEqual([0.6, 0.7, "IMPROVING"]);
    expect(up.trendDelta).toBeCloseTo(0.1, 10);
    // 0.7 -> 0.6 is DECLINING, hence MEDIUM
    expect([down.previousAttendanceRate, down.recentAttendanceRate, down.trend, down.riskLevel]).toEqual([0.7, 0.6, "DECLINING", "MEDIUM"]);
    // A 28-day rate of exactly 0.6 is not below 0.6; 5/9 is
    expect([flat.trend, flat.riskLevel]).toEqual(["STEADY", "LOW"]);
    expect([low.recentAttendanceRate, low.trend, low.riskLevel]).toEqual([5 / 9, "STEADY", "MEDIUM"]);
  });
});

const CENTER = `query($id: ID!, $from: Date!, $to: Date!) { center(id: $id) {
  engagement(from: $from, to: $to) { ${SUMMARY} }
  allTime: engagement { ${SUMMARY} }
  attendanceTrend(from: $from, to: $to, interval: MONTH) { periodStart expected attended missed excused unrecorded rate }
} }`;

describe("group, program and center engagement", () => {
  it("pools every expected pair (not an average of rates) and counts active, at-risk and open follow-ups now", async () => {
    const w = await world();
    const res = await w.admin.query(`query($id: ID!) { node(id: $id) { ... on Group { engagement { ${SUMMARY} } } } }`, { id: w.monday.id });
    // Monday group, S1..S7: attended Ana 2 + Ben 7 + Cy 4 + Fay 5 + Eli 4 = 22; missed Ana 2 + Cy 3 + Fay 1 = 6
    expect(res.node.engagement).toEqual({
      sessionsHeld: 7,
      sessionsExpected: 7 * 5 + 4, // five members at every session, Eli at four
      sessionsAttended: 22,
      sessionsMissed: 6,
      sessionsExcused: 1,
      sessionsUnrecorded: 2 + 7 + 1, // Ana's two, Dee's seven, Fay's one
      attendanceRate: 22 / 28, // pooled; the average of the five rates would be 0.781
      activeParticipants: 6,
      atRiskCount: 2, // Ana (run of 2) and Dee (nothing in 21 days)
      openFollowUps: 2, // Ana's, and Cy's: he came back, which does not close it
    });
  });

  it("reads a center's period in its zone and gives one monthly point per month", async () => {
    const w = await world();
    const res = await w.admin.query(CENTER, { id: w.centerId, from: "2026-01-01", to: "2026-03-31" });
    // Monday S1..S7 and the Thursday sessions that have started (Jan 8 .. Feb 12: 6)
    expect(res.center.engagement).toMatchObject({ sessionsHeld: 13, activeParticipants: 7, atRiskCount: 3, openFollowUps: 2 });
    expect(res.center.allTime.sessionsHeld).toBe(13);
    expect(res.center.attendanceTrend.map((p: any) => p.periodStart)).toEqual(["2026-01-01", "2026-02-01", "2026-03-01"]);
    const [jan, feb, mar] = res.center.attendanceTrend;
    // January: Monday S1..S4 (4 × 5 pairs + Eli's record at S1) and Gus at 4 Thursdays (1 recorded)
    expect(jan).toMatchObject({ expected: 21 + 4, attended: 12 + 1, missed: 4, excused: 1 });
    expect(jan.unrecorded).toBe(jan.expected - jan.attended - jan.missed - jan.excused);
    expect(jan.rate).toBeCloseTo(13 / 17, 10);
    expect(feb).toMatchObject({ expected: 18 + 2, attended: 10, missed: 2 }); // S5..S7 × 6, Gus × 2 (unrecorded)
    // March has not happened yet: zero counts and no rate
    expect(mar).toEqual({ periodStart: "2026-03-01", expected: 0, attended: 0, missed: 0, excused: 0, unrecorded: 0, rate: null });
    // Gus, at the Thursday group, had one session attended and then five unrecorded: HIGH by the 21-day rule
    const program = await w.admin.query(`query($id: ID!) { node(id: $id) { ... on Program { engagement { ${SUMMARY} } } } }`, { id: w.otherProgram });
    expect(program.node.engagement).toMatchObject({ sessionsHeld: 6, activeParticipants: 1, atRiskCount: 1, sessionsAttended: 1, attendanceRate: 1 });
  });

  it("buckets a weekly trend by Monday in the center's zone across the spring-forward week, with empty weeks present", async () => {
    // Given a New York center whose groups meet daily at 23:30 and at 00:30, from Monday 2 March 2026
    setClock("2026-02-20T12:00:00Z");
    const admin = await asOrgAdmin(t.server);
    const centerId = await admin.createCenter("East", "America/New_York");
    const programId = (await admin.mutate("createProgram", { centerId, name: "P" }, "program { id }")).program.id;
    const DAYS = ["MONDAY", "TUESDAY", "WEDNESDAY", "THURSDAY", "FRIDAY", "SATURDAY", "SUNDAY"];
    const daily = async (name: string, time: string) => {
      const g = await admin.mutate(
        "createGroup",
        { programId, name, capacity: 5, status: "ACTIVE", startsOn: "2026-03-02", schedule: { daysOfWeek: DAYS, startTime: time, durationMinutes: 30 } },
        "group { id }",
      );
      const s = await admin.mutate("scheduleSessions", { groupId: g.group.id, from: "2026-03-02", to: "2026-03-15" }, "sessions { id startsAt }");
      return { id: g.group.id as string, sessions: s.sessions as SessionRef[] };
    };
    const late = await daily("Late", "23:30");
    const early = await daily("Early", "00:30");
    const p = (await admin.mutate("createParticipant", { centerId, firstName: "Hal", lastName: "Hunt" }, "participant { id }")).participant.id;
    await admin.mutate("enrollParticipant", { groupId: late.id, participantId: p }, "enrollment { id }");
    await admin.mutate("enrollParticipant", { groupId: early.id, participantId: p }, "enrollment { id }");
    setClock("2026-03-20T12:00:00Z");
    // Sunday 8 March 23:30 EDT is 03:30Z on Monday the 9th: ABSENT; everything else PRESENT
    const sunday8 = late.sessions.find((s) => s.startsAt === "2026-03-09T03:30:00.000Z")!;
    expect(sunday8).toBeDefined();
    for (const s of [...late.sessions, ...early.sessions]) await record(admin, s, [[p, s === sunday8 ? "ABSENT" : "PRESENT"]]);

    // When the weekly trend of 1..15 March is read
    const res = await admin.query(
      `query($id: ID!) { center(id: $id) {
        attendanceTrend(from: "2026-03-01", to: "2026-03-15", interval: WEEK) { periodStart expected attended missed excused rate }
        day8: engagement(from: "2026-03-08", to: "2026-03-08") { sessionsHeld sessionsMissed sessionsAttended }
        day9: engagement(from: "2026-03-09", to: "2026-03-09") { sessionsHeld sessionsMissed sessionsAttended }
      } }`,
      { id: centerId },
    );
    // Then Sunday 1 March's week is present with nothing in it, and the DST Sunday belongs to its own week
    expect(res.center.attendanceTrend).toEqual([
      { periodStart: "2026-02-23", expected: 0, attended: 0, missed: 0, excused: 0, rate: null },
      { periodStart: "2026-03-02", expected: 14, attended: 13, missed: 1, excused: 0, rate: 13 / 14 },
      { periodStart: "2026-03-09", expected: 14, attended: 14, missed: 0, excused: 0, rate: 1 },
    ]);
    // And the days of a period are the center's days: the 23-hour 8 March holds its 00:30 and its 23:30
    expect(res.center.day8).toEqual({ sessionsHeld: 2, sessionsMissed: 1, sessionsAttended: 1 });
    expect(res.center.day9).toEqual({ sessionsHeld: 2, sessionsMissed: 0, sessionsAttended: 2 });
  });

  it("refuses a trend range in the wrong order or with too many periods", async () => {
    const w = await world();
    const q = (from: string, to: string, interval: string) =>
      t.server.gql(
        `query($id: ID!) { center(id: $id) { attendanceTrend(from: "${from}", to: "${to}", interval: ${interval}) { periodStart } } }`,
        { id: w.centerId },
        { token: w.admin.token },
      );
    expect((await q("2026-03-01", "2026-02-01", "WEEK")).errors?.[0].extensions?.code).toBe("BAD_USER_INPUT");
    expect((await q("2000-01-01", "2026-01-01", "WEEK")).errors?.[0].extensions?.code).toBe("BAD_USER_INPUT");
    expect((await q("2010-01-01", "2026-01-01", "MONTH")).errors).toBeUndefined();
  });
});

describe("the risk filter on Center.participants", () => {
  it("lists the participants at a risk level, with the same risk their engagement shows", async () => {
    const w = await world();
    const q = (level: string) =>
      w.admin.query(
        `query($id: ID!) { center(id: $id) { participants(riskLevel: ${level}, first: 50) { totalCount nodes { id engagement { riskLevel } } } } }`,
        { id: w.centerId },
      );
    const high = (await q("HIGH")).center.participants;
    expect(high.totalCount).toBe(3);
    expect(new Set(high.nodes.map((n: any) => n.id))).toEqual(new Set([w.ana, w.dee, w.gus]));
    expect(high.nodes.every((n: any) => n.engagement.riskLevel === "HIGH")).toBe(true);
    const medium = (await q("MEDIUM")).center.participants;
    expect(medium.nodes.map((n: any) => n.id)).toEqual([w.fay]);
    const low = (await q("LOW")).center.participants;
    expect(new Set(low.nodes.map((n: any) => n.id))).toEqual(new Set([w.ben, w.cy, w.eli]));
  });
});

describe("who sees engagement", () => {
  it("gives a VIEWER group, program and center figures and trends, but no participant's", async () => {
    const w = await world();
    const viewer = new (w.admin.constructor as typeof Api)(t.server, w.viewer.token);
    const group = await viewer.query(
      `query($id: ID!) { node(id: $id) { ... on Group { engagement { attendanceRate atRiskCount } attendanceTrend(from: "2026-01-01", to: "2026-01-31", interval: WEEK) { periodStart expected attended excused rate } } } }`,
      { id: w.monday.id },
    );
    expect(group.node.engagement).toEqual({ attendanceRate: 22 / 28, atRiskCount: 2 });
    expect(group.node.attendanceTrend).toHaveLength(5);
    const center = await viewer.query(CENTER, { id: w.centerId, from: "2026-01-01", to: "2026-03-31" });
    expect(center.center.engagement.atRiskCount).toBe(3);

    // But not a participant's figures, nor the list of those at risk
    const node = await t.server.gql(participantQuery(), { id: w.ana }, { token: w.viewer.token });
    expect(node.errors?.[0].extensions?.code).toBe("FORBIDDEN");
    const list = await t.server.gql(
      `query($id: ID!) { center(id: $id) { participants(riskLevel: HIGH) { totalCount } } }`,
      { id: w.centerId },
      { token: w.viewer.token },
    );
    expect(list.errors?.[0].extensions?.code).toBe("FORBIDDEN");
    expect(list.data?.center ?? null).toBeNull();
  });

  it("shows a facilitator the participants and figures of their own groups only", async () => {
    const w = await world();
    const other = new (w.admin.constructor as typeof Api)(t.server, w.otherFacilitator.token);
    // The Monday group's members are out of reach for the Thursday facilitator
    expect((await other.query(participantQuery(), { id: w.ana })).node).toBeNull();
    // The risk filter lists only their own group's members
    const high = await other.query(`query($id: ID!) { center(id: $id) { participants(riskLevel: HIGH) { totalCount nodes { id } } } }`, { id: w.centerId });
    expect(high.center.participants).toEqual({ totalCount: 1, nodes: [{ id: w.gus }] });
    // And the center's figures cover their group only
    const center = await other.query(CENTER, { id: w.centerId, from: "2026-01-01", to: "2026-03-31" });
    expect(center.center.engagement).toMatchObject({ sessionsHeld: 6, activeParticipants: 1, atRiskCount: 1, openFollowUps: 0 });

    // The Monday facilitator sees Ana, with figures from the Monday group
    const own = new (w.admin.constructor as typeof Api)(t.server, w.facilitator.token);
    expect((await own.query(participantQuery(), { id: w.ana })).node.engagement.sessionsExpected).toBe(7);
  });
});

describe("statement count", () => {
  async function bigWorld(admin: Api, size: number) {
    setClock("2026-01-01T15:00:00Z");
    const centerId = await admin.createCenter(`Center ${size}`, "America/New_York");
    const programId = (await admin.mutate("createProgram", { centerId, name: "P" }, "program { id }")).program.id;
    const groups: Array<{ id: string; sessions: SessionRef[] }> = [];
    for (const name of ["A", "B"]) {
      const g = await admin.mutate(
        "createGroup",
        {
          programId,
          name,
          capacity: 100,
          status: "ACTIVE",
          startsOn: "2026-01-05",
          schedule: { daysOfWeek: ["MONDAY", "WEDNESDAY"], startTime: "18:00", durationMinutes: 60 },
        },
        "group { id }",
      );
      const s = await admin.mutate("scheduleSessions", { groupId: g.group.id, from: "2026-01-05", to: "2026-01-16" }, "sessions { id startsAt }");
      groups.push({ id: g.group.id, sessions: s.sessions });
    }
    const ids: string[] = [];
    for (let i = 0; i < size; i++) {
      const id = (await admin.mutate("createParticipant", { centerId, firstName: `P${i}`, lastName: "Count" }, "participant { id }")).participant.id;
      await admin.mutate("enrollParticipant", { groupId: groups[i % 2].id, participantId: id }, "enrollment { id }");
      ids.push(id);
    }
    setClock("2026-01-20T12:00:00Z");
    const STATUSES = ["PRESENT", "ABSENT", "LATE", "EXCUSED"];
    for (const [gi, g] of groups.entries()) {
      for (const [si, s] of g.sessions.entries()) {
        const members = ids.filter((_, i) => i % 2 === gi);
        await record(
          admin,
          s,
          members.map((p, i) => [p, STATUSES[(i + si) % STATUSES.length]] as [string, string]),
        );
      }
    }
    return centerId;
  }

  it("reads fifty participants' engagement, and the center's figures and trend, in the same number of statements as five", async () => {
    const admin = await asOrgAdmin(t.server);
    const small = await bigWorld(admin, 5);
    const large = await bigWorld(admin, 50);
    const query = `query($id: ID!) { center(id: $id) {
      engagement(from: "2026-01-01", to: "2026-01-31") { ${SUMMARY} }
      attendanceTrend(from: "2026-01-01", to: "2026-01-31", interval: WEEK) { periodStart expected rate }
      groups(first: 10) { nodes { engagement { attendanceRate atRiskCount } } }
      participants(first: 50) { totalCount nodes { id engagement { ${FIGURES} } } }
      high: participants(riskLevel: HIGH, first: 50) { totalCount nodes { engagement { riskLevel consecutiveMisses lastAttendedAt attendanceRate } } }
    } }`;
    const count = async (centerId: string) => {
      const { result, count, statements } = await t.server.database.countQueries(() => t.server.gql(query, { id: centerId }, { token: admin.token }));
      expect(result.errors, JSON.stringify(result.errors)).toBeUndefined();
      return { data: result.data, count, statements };
    };
    const a = await count(small);
    const b = await count(large);
    // The large answer really is larger
    expect(a.data.center.participants.nodes).toHaveLength(5);
    expect(b.data.center.participants.nodes).toHaveLength(50);
    expect(b.data.center.participants.nodes.every((n: any) => n.engagement.sessionsExpected === 4)).toBe(true);
    // And costs the same statements: viewer, center, summary counts, at-risk, trend, groups page,
    // group counts, group at-risk, two participant pages, one batch of participants' figures,
    // and the append of the request's audit entries
    expect(b.count, b.statements.join("\n")).toBe(a.count);
    expect(b.count, b.statements.join("\n")).toBeLessThanOrEqual(12);
  });
});
