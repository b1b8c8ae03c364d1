// Milestones: recovery milestones by the calendar (leap days, month ends), attendance and
// completion milestones, "today" in the center's time zone (midnight there vs UTC, year ends),
// group lists for the next session, celebrations, who may see what, and the statement count.
import { describe, expect, it } from "vitest";
import { setClock } from "../src/common/clock.js";
import { addMonths, recoveryMilestones } from "../src/milestones/milestone.service.js";
import { asOrgAdmin, sendMutation, type Api } from "./support/fixtures.js";
import { useTestServer } from "./support/server.js";

const t = useTestServer();

const ALL_DAYS = ["MONDAY", "TUESDAY", "WEDNESDAY", "THURSDAY", "FRIDAY", "SATURDAY", "SUNDAY"];
const ERRORS = "userErrors { field message code }";

const PARTICIPANT_MILESTONES = `query($id: ID!, $within: Int!) { node(id: $id) { ... on Participant {
  milestones { kind label reachedOn dueOn celebratedAt }
  upcomingMilestones(withinDays: $within) { kind label dueOn reachedOn }
} } }`;
const GROUP_MILESTONES = `query($id: ID!, $within: Int!) { node(id: $id) { ... on Group {
  id name activeCount
  upcomingMilestones(withinDays: $within) { participant { id firstName } kind label dueOn celebratedAt }
} } }`;
const MARK = `milestone { kind label dueOn reachedOn celebratedAt participant { id } }`;

interface World {
  admin: Api;
  centerId: string;
  programId: string;
  groupId: string;
}

async function world(timezone = "America/New_York", startTime = "18:00"): Promise<World> {
  const admin = await asOrgAdmin(t.server);
  const centerId = await admin.createCenter("North Clinic", timezone);
  const program = await admin.mutate("createProgram", { centerId, name: "Relapse prevention" }, "program { id }");
  const group = await admin.mutate(
    "createGroup",
    {
      programId: program.program.id,
      name: "Tuesday evening",
      capacity: 100,
      status: "ACTIVE",
      startsOn: "2026-01-01",
      schedule: { daysOfWeek: ALL_DAYS, startTime, durationMinutes: 60 },
    },
    "group { id }",
  );
  return { admin, centerId, programId: program.program.id, groupId: group.group.id };
}

async function participant(w: World, firstName: string, extra: Record<string, unknown> = {}): Promise<string> {
  const p = await w.admin.mutate("createParticipant", { centerId: w.centerId, firstName, lastName: "Test", ...extra }, "participant { id }");
  return p.participant.id;
}

async function enrol(w: World, participantId: string, groupId = w.groupId): Promise<string> {
  const e = await w.admin.mutate("enrollParticipant", { groupId, participantId }, "enrollment { id status }");
  return e.enrollment.id;
}

async function milestonesOf(token: string, id: string, within = 14) {
  const res = await t.server.gql(PARTICIPANT_MILESTONES, { id, within }, { token });
  expect(res.errors, JSON.stringify(res.errors)).toBeUndefined();
  return res.data.node as {
    milestones: Array<{ kind: string; label: string; reachedOn: string; dueOn: string; celebratedAt: string | null }>;
    upcomingMilestones: Array<{ kind: string; label: string; dueOn: string; reachedOn: string | null }>;
  };
}

const labels = (list: Array<{ label: string }>) => list.map((m) => m.label);

describe("recovery milestones by the calendar", () => {
  it("adds months by the calendar: a month end goes to the last day of a shorter month", () => {
    expect(addMonths("2026-08-31", 6)).toBe("2027-02-28");
    expect(addMonths("2027-08-31", 6)).toBe("2028-02-29");
    expect(addMonths("2026-05-31", 9)).toBe("2027-02-28");
    expect(addMonths("2028-02-29", 12)).toBe("2029-02-28");
    expect(addMonths("2028-02-29", 48)).toBe("2032-02-29");
    expect(addMonths("2026-11-15", 3)).toBe("2027-02-15");
  });

  it("lists 1, 30, 60, 90 days, 6 and 9 months, then every year, each counted from the start", () => {
    expect(recoveryMilestones("2026-12-02", "2029-12-02")).toEqual([
      { label: "1 day", dueOn: "2026-12-03" },
      { label: "30 days", dueOn: "2027-01-01" },
      { label: "60 days", dueOn: "2027-01-31" },
      { label: "90 days", dueOn: "2027-03-02" },
      { label: "6 months", dueOn: "2027-06-02" },
      { label: "9 months", dueOn: "2027-09-02" },
      { label: "1 year", dueOn: "2027-12-02" },
      { label: "2 years", dueOn: "2028-12-02" },
      { label: "3 years", dueOn: "2029-12-02" },
    ]);
  });

  it("a start on 31 August reaches 6 months on 28 February, or on 29 February in a leap year", async () => {
    const w = await world();
    const common = await participant(w, "Common", { recoveryStartDate: "2026-08-31" });
    const leap = await participant(w, "Leap", { recoveryStartDate: "2027-08-31" });
    setClock("2028-03-01T17:00:00Z");
    const a = await milestonesOf(w.admin.token, common);
    expect(a.milestones.find((m) => m.label === "6 months")?.reachedOn).toBe("2027-02-28");
    expect(labels(a.milestones)).toEqual(["1 day", "30 days", "60 days", "90 days", "6 months", "9 months", "1 year"]);
    expect(a.milestones[0]).toMatchObject({ kind: "RECOVERY", label: "1 day", reachedOn: "2026-09-01" });
    expect(a.milestones.find((m) => m.label === "30 days")?.reachedOn).toBe("2026-09-30");
    const b = await milestonesOf(w.admin.token, leap);
    expect(b.milestones.find((m) => m.label === "6 months")?.reachedOn).toBe("2028-02-29");
  });

  it("a start on 29 February reaches its years on 28 February in common years and 29 February in leap years", async () => {
    const w = await world();
    const id = await participant(w, "Leapling", { recoveryStartDate: "2028-02-29" });
    setClock("2032-03-01T17:00:00Z");
    const { milestones } = await milestonesOf(w.admin.token, id);
    const years = milestones.filter((m) => m.label.endsWith("year") || m.label.endsWith("years"));
    expect(years.map((m) => [m.label, m.reachedOn])).toEqual([
      ["1 year", "2029-02-28"],
      ["2 years", "2030-02-28"],
      ["3 years", "2031-02-28"],
      ["4 years", "2032-02-29"],
    ]);
    expect(milestones.find((m) => m.label === "6 months")?.reachedOn).toBe("2028-08-29");
  });

  it("is reached at midnight in the center's zone, not in UTC (New York, behind UTC)", async () => {
    const w = await world("America/New_York");
    const id = await participant(w, "Ana", { recoveryStartDate: "2026-08-31" });
    // 23:59 on 27 February in New York; already 28 February in UTC.
    setClock("2027-02-28T04:59:00Z");
    let m = await milestonesOf(w.admin.token, id, 0);
    expect(labels(m.milestones)).not.toContain("6 months");
    expect(m.upcomingMilestones).toEqual([]);
    m = await milestonesOf(w.admin.token, id, 1);
    expect(m.upcomingMilestones).toEqual([{ kind: "RECOVERY", label: "6 months", dueOn: "2027-02-28", reachedOn: null }]);
    // Midnight in New York: due today, so in both lists.
    setClock("2027-02-28T05:00:00Z");
    m = await milestonesOf(w.admin.token, id, 0);
    expect(m.milestones.at(-1)).toMatchObject({ label: "6 months", reachedOn: "2027-02-28" });
    expect(m.upcomingMilestones).toEqual([{ kind: "RECOVERY", label: "6 months", dueOn: "2027-02-28", reachedOn: "2027-02-28" }]);
  });

  it("crosses the year end at midnight in the center's zone (Tokyo, ahead of UTC)", async () => {
    const w = await world("Asia/Tokyo");
    const id = await participant(w, "Ken", { recoveryStartDate: "2026-12-02" });
    // 23:59 on 31 December in Tokyo.
    setClock("2026-12-31T14:59:00Z");
    let m = await milestonesOf(w.admin.token, id, 0);
    expect(labels(m.milestones)).toEqual(["1 day"]);
    // Midnight in Tokyo: 1 January there while still 31 December in UTC.
    setClock("2026-12-31T15:00:00Z");
    m = await milestonesOf(w.admin.token, id, 0);
    expect(m.milestones.at(-1)).toMatchObject({ label: "30 days", reachedOn: "2027-01-01" });
    expect(m.upcomingMilestones.map((x) => x.label)).toEqual(["30 days"]);
  });

  it("lists upcoming ones from today to today + withinDays inclusive; the bounds are 0..366", async () => {
    const w = await world();
    const id = await participant(w, "Bo", { recoveryStartDate: "2026-06-01" });
    setClock("2026-06-15T16:00:00Z");
    const m = await milestonesOf(w.admin.token, id, 16);
    expect(m.upcomingMilestones.map((x) => [x.label, x.dueOn])).toEqual([["30 days", "2026-07-01"]]);
    expect((await milestonesOf(w.admin.token, id, 15)).upcomingMilestones).toEqual([]);
    expect((await milestonesOf(w.admin.token, id, 366)).upcomingMilestones.map((x) => x.label)).toEqual([
      "30 days",
      "60 days",
      "90 days",
      "6 months",
      "9 months",
      "1 year",
    ]);
    for (const within of [-1, 367]) {
      const res = await t.server.gql(PARTICIPANT_MILESTONES, { id, within }, { token: w.admin.token });
      expect(res.errors?.[0].extensions?.code).toBe("BAD_USER_INPUT");
    }
  });

  it("has no recovery milestones without a recovery start date", async () => {
    const w = await world();
    const id = await participant(w, "Cy");
    const m = await milestonesOf(w.admin.token, id, 366);
    expect(m.milestones).toEqual([]);
    expect(m.upcomingMilestones).toEqual([]);
  });
});

describe("attendance and completion milestones", () => {
  it("counts the 1st and 10th attended session (present, late, left early) on the session's local date", async () => {
    // Sessions start at 21:30 in New York: 02:30 the next day in UTC.
    const w = await world("America/New_York", "21:30");
    const id = await participant(w, "Dee");
    await enrol(w, id);
    const scheduled = await w.admin.mutate("scheduleSessions", { groupId: w.groupId, from: "2026-03-02", to: "2026-03-15" }, "sessions { id startsAt }");
    const sessions = scheduled.sessions as Array<{ id: string }>;
    const statuses = [
      "ABSENT",
      "PRESENT",
      "EXCUSED",
      "LATE",
      "LEFT_EARLY",
      "PRESENT",
      "PRESENT",
      "ABSENT",
      "PRESENT",
      "PRESENT",
      "LATE",
      "PRESENT",
      "PRESENT",
      "PRESENT",
    ];
    for (const [i, s] of sessions.entries()) {
      await w.admin.mutate("recordAttendance", { sessionId: s.id, records: [{ participantId: id, status: statuses[i] }] }, "attendance { id }");
    }
    setClock("2026-03-20T12:00:00Z");
    const { milestones } = await milestonesOf(w.admin.token, id);
    // Attended: sessions 2,4,5,6,7,9,10,11,12,13 (1-based) -> the 10th attended is on 13 March.
    expect(milestones.filter((m) => m.kind === "ATTENDANCE")).toEqual([
      { kind: "ATTENDANCE", label: "1 session", reachedOn: "2026-03-03", dueOn: "2026-03-03", celebratedAt: null },
      { kind: "ATTENDANCE", label: "10 sessions", reachedOn: "2026-03-14", dueOn: "2026-03-14", celebratedAt: null },
    ]);
  });

  it("an attended session that has not started yet (or was cancelled) does not count", async () => {
    const w = await world("America/New_York", "18:00");
    const id = await participant(w, "Eve");
    await enrol(w, id);
    const scheduled = await w.admin.mutate("scheduleSessions", { groupId: w.groupId, from: "2026-03-02", to: "2026-03-03" }, "sessions { id }");
    const [first, second] = scheduled.sessions as Array<{ id: string }>;
    for (const s of [first, second]) {
      await w.admin.mutate("recordAttendance", { sessionId: s.id, records: [{ participantId: id, status: "PRESENT" }] }, "attendance { id }");
    }
    // The first is cancelled after its attendance was recorded: it no longer counts.
    await w.admin.mutate("cancelSession", { sessionId: first.id, reason: "Snow" }, "session { id }");
    setClock("2026-03-03T22:59:00Z"); // 17:59 in New York, before the second session starts
    expect((await milestonesOf(w.admin.token, id)).milestones).toEqual([]);
    setClock("2026-03-03T23:00:00Z");
    expect((await milestonesOf(w.admin.token, id)).milestones).toEqual([
      { kind: "ATTENDANCE", label: "1 session", reachedOn: "2026-03-03", dueOn: "2026-03-03", celebratedAt: null },
    ]);
  });

  it("a completed enrolment is a COMPLETION milestone named after the program, on the local date", async () => {
    const w = await world("America/New_York");
    const id = await participant(w, "Flo");
    const enrollmentId = await enrol(w, id);
    setClock("2026-05-01T03:30:00Z"); // 23:30 on 30 April in New York
    await w.admin.mutate("endEnrollment", { enrollmentId, status: "COMPLETED" }, "enrollment { id status }");
    const { milestones } = await milestonesOf(w.admin.token, id);
    expect(milestones).toEqual([{ kind: "COMPLETION", label: "Relapse prevention", reachedOn: "2026-04-30", dueOn: "2026-04-30", celebratedAt: null }]);
  });
});

describe("a group's upcoming milestones and celebrations", () => {
  it("lists the ACTIVE members' milestones, soonest first, leaving off those who opted out", async () => {
    const w = await world();
    const ana = await participant(w, "Ana", { recoveryStartDate: "2026-03-10" }); // 90 days on 8 June
    const bo = await participant(w, "Bo", { recoveryStartDate: "2026-05-08" }); // 30 days on 7 June
    const cy = await participant(w, "Cy", { recoveryStartDate: "2026-05-08", celebrationOptOut: true });
    const dee = await participant(w, "Dee", { recoveryStartDate: "2026-05-08" });
    const eve = await participant(w, "Eve", { recoveryStartDate: "2026-05-08" }); // enrolled in another group only
    for (const id of [ana, bo, cy, dee]) await enrol(w, id);
    const other = await w.admin.mutate(
      "createGroup",
      {
        programId: w.programId,
        name: "Other",
        capacity: 5,
        status: "ACTIVE",
        startsOn: "2026-01-01",
        schedule: { daysOfWeek: ["MONDAY"], startTime: "10:00", durationMinutes: 60 },
      },
      "group { id }",
    );
    await enrol(w, eve, other.group.id);
    // Dee's enrolment ends: no longer on the list.
    const list = await w.admin.query(`query($id: ID!) { node(id: $id) { ... on Group { enrollments(first: 10) { nodes { id participant { id } } } } } }`, {
      id: w.groupId,
    });
    const deeEnrollment = list.node.enrollments.nodes.find((n: { participant: { id: string } }) => n.participant.id === dee).id;
    await w.admin.mutate("endEnrollment", { enrollmentId: deeEnrollment, status: "WITHDRAWN" }, "enrollment { id }");

    setClock("2026-06-04T16:00:00Z");
    const data = await w.admin.query(GROUP_MILESTONES, { id: w.groupId, within: 7 });
    expect(data.node.upcomingMilestones).toEqual([
      { participant: { id: bo, firstName: "Bo" }, kind: "RECOVERY", label: "30 days", dueOn: "2026-06-07", celebratedAt: null },
      { participant: { id: ana, firstName: "Ana" }, kind: "RECOVERY", label: "90 days", dueOn: "2026-06-08", celebratedAt: null },
    ]);

    // Cy opts back in; Bo opts out (both through updateParticipant).
    await w.admin.mutate("updateParticipant", { participantId: cy, celebrationOptOut: false }, "participant { id celebrationOptOut }");
    const optedOut = await w.admin.mutate("updateParticipant", { participantId: bo, celebrationOptOut: true }, "participant { celebrationOptOut }");
    expect(optedOut.participant.celebrationOptOut).toBe(true);
    const again = await w.admin.query(GROUP_MILESTONES, { id: w.groupId, within: 7 });
    expect(again.node.upcomingMilestones.map((m: { participant: { firstName: string } }) => m.participant.firstName)).toEqual(["Cy", "Ana"]);
    // An opted-out participant still sees their own milestones.
    expect((await milestonesOf(w.admin.token, bo, 7)).upcomingMilestones.map((m) => m.label)).toEqual(["30 days"]);
  });

  it("markMilestoneCelebrated keeps the first celebration and shows it on the group's list", async () => {
    const w = await world();
    const lead = await w.admin.createStaff("lead@org.test", [{ centerId: w.centerId, role: "FACILITATOR" }]);
    await w.admin.mutate("updateGroup", { groupId: w.groupId, facilitatorIds: [lead.id] }, "group { id }");
    const ana = await participant(w, "Ana", { recoveryStartDate: "2026-03-10" });
    await enrol(w, ana);
    setClock("2026-06-04T16:00:00Z");
    const first = await sendMutation(
      t.server,
      lead.token,
      "markMilestoneCelebrated",
      { participantId: ana, kind: "RECOVERY", label: "90 days" },
      `${MARK} ${ERRORS}`,
    );
    expect(first.errors).toBeUndefined();
    expect(first.payload.userErrors).toEqual([]);
    expect(first.payload.milestone).toEqual({
      kind: "RECOVERY",
      label: "90 days",
      dueOn: "2026-06-08",
      reachedOn: null,
      celebratedAt: "2026-06-04T16:00:00.000Z",
      participant: { id: ana },
    });
    setClock("2026-06-05T16:00:00Z");
    const second = await sendMutation(
      t.server,
      w.admin.token,
      "markMilestoneCelebrated",
      { participantId: ana, kind: "RECOVERY", label: "90 days", dueOn: "2026-06-08" },
      `${MARK} ${ERRORS}`,
    );
    expect(second.payload.milestone.celebratedAt).toBe("2026-06-04T16:00:00.000Z");
    const data = await w.admin.query(GROUP_MILESTONES, { id: w.groupId, within: 7 });
    expect(data.node.upcomingMilestones[0]).toMatchObject({ label: "90 days", celebratedAt: "2026-06-04T16:00:00.000Z" });
    setClock("2026-06-10T16:00:00Z");
    const reached = await milestonesOf(w.admin.token, ana);
    expect(reached.milestones.find((m) => m.label === "90 days")?.celebratedAt).toBe("2026-06-04T16:00:00.000Z");
    expect(reached.milestones.find((m) => m.label === "60 days")?.celebratedAt).toBeNull();
  });

  it("refuses a milestone the participant does not have, or one more than 31 days ahead, writing nothing", async () => {
    const w = await world();
    const ana = await participant(w, "Ana", { recoveryStartDate: "2026-03-10" });
    setClock("2026-06-04T16:00:00Z");
    const before = await t.server.database.fingerprint();
    const cases: Array<[Record<string, unknown>, string[]]> = [
      [{ kind: "RECOVERY", label: "7 years" }, ["input", "label"]],
      [{ kind: "RECOVERY", label: "6 months" }, ["input", "label"]], // due 10 September: too far ahead
      [{ kind: "ATTENDANCE", label: "1 session" }, ["input", "label"]],
      [{ kind: "RECOVERY", label: "90 days", dueOn: "2026-06-09" }, ["input", "dueOn"]],
    ];
    for (const [input, field] of cases) {
      const res = await sendMutation(t.server, w.admin.token, "markMilestoneCelebrated", { participantId: ana, ...input }, `${MARK} ${ERRORS}`);
      expect(res.payload.milestone).toBeNull();
      expect(res.payload.userErrors).toEqual([expect.objectContaining({ field, code: "NOT_FOUND" })]);
    }
    expect(await t.server.database.fingerprint()).toBe(before);
  });

  it("a VIEWER gets the group's figures but upcomingMilestones is refused on that field alone", async () => {
    const w = await world();
    const viewer = await w.admin.createStaff("viewer@org.test", [{ centerId: w.centerId, role: "VIEWER" }]);
    const ana = await participant(w, "Ana", { recoveryStartDate: "2026-03-10" });
    await enrol(w, ana);
    setClock("2026-06-04T16:00:00Z");
    const res = await t.server.gql(GROUP_MILESTONES, { id: w.groupId, within: 7 }, { token: viewer.token });
    expect(res.data.node).toEqual({ id: w.groupId, name: "Tuesday evening", activeCount: 1, upcomingMilestones: null });
    expect(res.errors).toHaveLength(1);
    expect(res.errors![0].path).toEqual(["node", "upcomingMilestones"]);
    expect(res.errors![0].extensions?.code).toBe("FORBIDDEN");
    const mark = await sendMutation(t.server, viewer.token, "markMilestoneCelebrated", { participantId: ana, kind: "RECOVERY", label: "90 days" }, ERRORS);
    expect(mark.errors?.[0].extensions?.code).toBe("FORBIDDEN");
    const own = await t.server.gql(PARTICIPANT_MILESTONES, { id: ana, within: 7 }, { token: viewer.token });
    expect(own.errors?.[0].extensions?.code).toBe("FORBIDDEN");
  });

  it("a facilitator sees their group's list; a facilitator of another group finds neither group nor participant", async () => {
    const w = await world();
    const mine = await w.admin.createStaff("mine@org.test", [{ centerId: w.centerId, role: "FACILITATOR" }]);
    const other = await w.admin.createStaff("other@org.test", [{ centerId: w.centerId, role: "FACILITATOR" }]);
    await w.admin.mutate("updateGroup", { groupId: w.groupId, facilitatorIds: [mine.id] }, "group { id }");
    await w.admin.mutate(
      "createGroup",
      {
        programId: w.programId,
        name: "Other",
        capacity: 5,
        status: "ACTIVE",
        startsOn: "2026-01-01",
        facilitatorIds: [other.id],
        schedule: { daysOfWeek: ["MONDAY"], startTime: "10:00", durationMinutes: 60 },
      },
      "group { id }",
    );
    const ana = await participant(w, "Ana", { recoveryStartDate: "2026-03-10" });
    await enrol(w, ana);
    setClock("2026-06-04T16:00:00Z");
    const res = await t.server.gql(GROUP_MILESTONES, { id: w.groupId, within: 7 }, { token: mine.token });
    expect(res.errors).toBeUndefined();
    expect(res.data.node.upcomingMilestones).toHaveLength(1);
    expect((await milestonesOf(mine.token, ana)).milestones.map((m) => m.label)).toEqual(["1 day", "30 days", "60 days"]);

    const hidden = await t.server.gql(GROUP_MILESTONES, { id: w.groupId, within: 7 }, { token: other.token });
    expect(hidden.data.node).toBeNull();
    const person = await t.server.gql(PARTICIPANT_MILESTONES, { id: ana, within: 7 }, { token: other.token });
    expect(person.data.node).toBeNull();
    const mark = await sendMutation(t.server, other.token, "markMilestoneCelebrated", { participantId: ana, kind: "RECOVERY", label: "90 days" }, ERRORS);
    expect(mark.payload.userErrors).toEqual([expect.objectContaining({ field: ["input", "participantId"], code: "NOT_FOUND" })]);
  });

  it("costs the same number of statements for 5 and 25 members", async () => {
    const w = await world();
    setClock("2026-06-04T16:00:00Z");
    const scheduled = await w.admin.mutate("scheduleSessions", { groupId: w.groupId, from: "2026-06-01", to: "2026-06-02" }, "sessions { id }");
    const counts: number[] = [];
    let members = 0;
    for (const size of [5, 25]) {
      const ids: string[] = [];
      for (; members < size; members++) {
        const id = await participant(w, `P${members}`, { recoveryStartDate: ["2026-04-01", "2026-05-01", "2026-05-15"][members % 3] });
        await enrol(w, id);
        ids.push(id);
      }
      for (const s of scheduled.sessions as Array<{ id: string }>) {
        await w.admin.mutate(
          "recordAttendance",
          { sessionId: s.id, records: ids.map((participantId) => ({ participantId, status: "PRESENT" })) },
          "attendance { id }",
        );
      }
      const { result, count } = await t.server.database.countQueries(() =>
        t.server.gql(GROUP_MILESTONES, { id: w.groupId, within: 60 }, { token: w.admin.token }),
      );
      expect(result.errors).toBeUndefined();
      expect(new Set(result.data.node.upcomingMilestones.map((m: { participant: { id: string } }) => m.participant.id)).size).toBe(size);
      counts.push(count);
    }
    expect(counts[1]).toBe(counts[0]);
    // (including the one append of the request's audit entries)
    expect(counts[0]).toBeLessThanOrEqual(10);
  });
});
