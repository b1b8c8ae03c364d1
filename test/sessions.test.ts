// Sessions over HTTP: scheduling from a group's weekly schedule in the center's time zone (across
// daylight-saving changes, idempotent, within the group's dates), curriculum topics, cancel /
// complete / update, the sessions connections, and the expected roster of a rolling group.
import { sql } from "drizzle-orm";
import { beforeEach, describe, expect, it } from "vitest";
import { clock, setClock } from "../src/common/clock.js";
import { sessions as sessionsTable } from "../src/db/schema.js";
import { addDays, dayInZone } from "../src/sessions/timezone.js";
import { asOrgAdmin, mutationDocument, type Api } from "./support/fixtures.js";
import { useTestServer } from "./support/server.js";

const t = useTestServer();

// "Now" is an input: every test runs at a fixed instant (a Wednesday afternoon, UTC), and the rules
// that depend on it are tested again at the instants that break them (see the end of the file).
const NOW = "2026-11-18T15:00:00.000Z";
beforeEach(() => setClock(NOW));
/** Today in UTC, by the clock. */
const today = () => dayInZone(clock.now(), "UTC");
const isPastAt = (iso: string) => Date.parse(iso) <= clock.now().getTime();

const SESSION = "id startsAt endsAt topic status cancelReason cancelledAt";

interface SessionOut {
  id: string;
  startsAt: string;
  endsAt: string;
  topic: string | null;
  status: string;
  cancelReason: string | null;
  cancelledAt: string | null;
}

interface GroupOptions {
  timezone?: string;
  days?: string[];
  startTime?: string;
  minutes?: number;
  startsOn?: string;
  endsOn?: string | null;
  curriculum?: string[];
}

interface World {
  admin: Api;
  centerId: string;
  programId: string;
  groupId: string;
}

/** A center in `timezone`, an ACTIVE program with the curriculum and an ACTIVE rolling group on the schedule. */
async function world(o: GroupOptions = {}): Promise<World> {
  const admin = await asOrgAdmin(t.server);
  const centerId = await admin.createCenter("North Clinic", o.timezone ?? "America/New_York");
  const program = await admin.mutate("createProgram", { centerId, name: "Relapse prevention", curriculum: o.curriculum ?? [] }, "program { id }");
  const groupId = await addGroup(admin, program.program.id, o);
  return { admin, centerId, programId: program.program.id, groupId };
}

async function addGroup(admin: Api, programId: string, o: GroupOptions = {}, name = "Evening group"): Promise<string> {
  const g = await admin.mutate(
    "createGroup",
    {
      programId,
      name,
      capacity: 10,
      status: "ACTIVE",
      startsOn: o.startsOn ?? "2026-01-01",
      endsOn: o.endsOn ?? null,
      schedule: { daysOfWeek: o.days ?? ["MONDAY", "THURSDAY"], startTime: o.startTime ?? "18:30", durationMinutes: o.minutes ?? 60 },
    },
    "group { id }",
  );
  return g.group.id;
}

const SCHEDULE = `mutation($input: ScheduleSessionsInput!) {
  scheduleSessions(input: $input) { sessions { ${SESSION} } userErrors { field message code } }
}`;

/** The raw payload of scheduleSessions (errors included). */
async function scheduleRaw(admin: Api, groupId: string, from: string, to: string) {
  const res = await t.server.gql(SCHEDULE, { input: { groupId, from, to } }, { token: admin.token });
  return res;
}

/** Schedules and returns the sessions, failing on any error. */
async function schedule(admin: Api, groupId: string, from: string, to: string): Promise<SessionOut[]> {
  const p = await admin.mutate("scheduleSessions", { groupId, from, to }, `sessions { ${SESSION} }`);
  return p.sessions;
}

async function countSessions(): Promise<number> {
  const [row] = await t.server.database.db.select({ n: sql<number>`count(*)::int` }).from(sessionsTable);
  return Number(row.n);
}

async function mutateRaw(admin: Api, field: string, input: Record<string, unknown>) {
  const res = await t.server.gql(mutationDocument(field, `session { ${SESSION} }`), { input }, { token: admin.token });
  expect(res.errors, JSON.stringify(res.errors)).toBeUndefined();
  return res.data[field] as { session: SessionOut | null; userErrors: Array<{ field: string[]; message: string; code: string }> };
}

async function readSession(admin: Api, id: string): Promise<SessionOut> {
  const d = await admin.query(`query($id: ID!) { node(id: $id) { ... on Session { ${SESSION} } } }`, { id });
  return d.node;
}

/** The wall-clock time (HH:MM) of an instant in a zone. */
const wallClock = (iso: string, timeZone = "UTC") =>
  new Intl.DateTimeFormat("en-GB", { timeZone, hour: "2-digit", minute: "2-digit", hourCycle: "h23" }).format(new Date(iso));

const plusMinutes = (iso: string, minutes: number) => new Date(Date.parse(iso) + minutes * 60_000).toISOString();

describe("scheduleSessions across daylight-saving changes", () => {
  it("keeps a New York group at 18:30 local across the spring-forward of 2026-03-08", async () => {
    const { admin, groupId } = await world({ timezone: "America/New_York" });
    const got = await schedule(admin, groupId, "2026-03-01", "2026-03-15");
    expect(got.map((s) => s.startsAt)).toEqual([
      "2026-03-02T23:30:00.000Z", // Monday, EST
      "2026-03-05T23:30:00.000Z", // Thursday, EST
      "2026-03-09T22:30:00.000Z", // Monday, EDT
      "2026-03-12T22:30:00.000Z", // Thursday, EDT
    ]);
    for (const s of got) {
      expect(s.endsAt).toBe(plusMinutes(s.startsAt, 60));
      expect(s.status).toBe("SCHEDULED");
    }
  });

  it("keeps a New York group at 18:30 local across the fall-back of 2026-11-01", async () => {
    const { admin, groupId } = await world({ timezone: "America/New_York" });
    const got = await schedule(admin, groupId, "2026-10-25", "2026-11-08");
    expect(got.map((s) => [s.startsAt, s.endsAt])).toEqual([
      ["2026-10-26T22:30:00.000Z", "2026-10-26T23:30:00.000Z"],
      ["2026-10-29T22:30:00.000Z", "2026-10-29T23:30:00.000Z"],
      ["2026-11-02T23:30:00.000Z", "2026-11-03T00:30:00.000Z"],
      ["2026-11-05T23:30:00.000Z", "2026-11-06T00:30:00.000Z"],
    ]);
  });

  it("keeps a Europe/London group at 19:00 local across 2026-03-29, the change day included", async () => {
    const { admin, groupId } = await world({ timezone: "Europe/London", days: ["WEDNESDAY", "SUNDAY"], startTime: "19:00", minutes: 90 });
    const got = await schedule(admin, groupId, "2026-03-22", "2026-04-05");
    expect(got.map((s) => [s.startsAt, s.endsAt])).toEqual([
      ["2026-03-22T19:00:00.000Z", "2026-03-22T20:30:00.000Z"], // Sunday, GMT
      ["2026-03-25T19:00:00.000Z", "2026-03-25T20:30:00.000Z"], // Wednesday, GMT
      ["2026-03-29T18:00:00.000Z", "2026-03-29T19:30:00.000Z"], // Sunday, the change day: BST
      ["2026-04-01T18:00:00.000Z", "2026-04-01T19:30:00.000Z"],
      ["2026-04-05T18:00:00.000Z", "2026-04-05T19:30:00.000Z"],
    ]);
  });

  it("moves a start inside the spring-forward gap to the same minute after it, and takes the first of a repeated hour", async () => {
    const night = await world({ timezone: "America/New_York", days: ["SUNDAY"], startTime: "02:30", minutes: 30 });
    const spring = await schedule(night.admin, night.groupId, "2026-03-01", "2026-03-15");
    expect(spring.map((s) => s.startsAt)).toEqual([
      "2026-03-01T07:30:00.000Z", // 02:30 EST
      "2026-03-08T07:30:00.000Z", // 02:30 does not exist: 03:30 EDT
      "2026-03-15T06:30:00.000Z", // 02:30 EDT
    ]);
    const early = await addGroup(night.admin, night.programId, { days: ["SUNDAY"], startTime: "01:30", minutes: 30 }, "Early group");
    const fall = await schedule(night.admin, early, "2026-10-25", "2026-11-08");
    expect(fall.map((s) => s.startsAt)).toEqual([
      "2026-10-25T05:30:00.000Z", // 01:30 EDT
      "2026-11-01T05:30:00.000Z", // 01:30 happens twice: the first, EDT
      "2026-11-08T06:30:00.000Z", // 01:30 EST
    ]);
  });

  it("includes both ends of the range, as days of the center's time zone", async () => {
    // 01:00 on a Monday in Kolkata is 19:30Z on the Sunday before: the days are Kolkata's, not UTC's.
    const { admin, groupId } = await world({ timezone: "Asia/Kolkata", days: ["MONDAY", "THURSDAY"], startTime: "01:00" });
    const got = await schedule(admin, groupId, "2026-03-02", "2026-03-05");
    expect(got.map((s) => s.startsAt)).toEqual(["2026-03-01T19:30:00.000Z", "2026-03-04T19:30:00.000Z"]);
  });
});

describe("scheduleSessions is idempotent", () => {
  it("returns the same sessions when run twice and writes no duplicates", async () => {
    const { admin, groupId } = await world();
    const first = await schedule(admin, groupId, "2026-03-01", "2026-03-15");
    expect(await countSessions()).toBe(4);
    const again = await schedule(admin, groupId, "2026-03-01", "2026-03-15");
    expect(again).toEqual(first);
    expect(await countSessions()).toBe(4);
  });

  it("creates only the missing sessions when ranges overlap", async () => {
    const { admin, groupId } = await world();
    const early = await schedule(admin, groupId, "2026-03-01", "2026-03-10");
    expect(early.map((s) => s.startsAt)).toEqual(["2026-03-02T23:30:00.000Z", "2026-03-05T23:30:00.000Z", "2026-03-09T22:30:00.000Z"]);
    const late = await schedule(admin, groupId, "2026-03-05", "2026-03-15");
    expect(late.map((s) => s.startsAt)).toEqual(["2026-03-05T23:30:00.000Z", "2026-03-09T22:30:00.000Z", "2026-03-12T22:30:00.000Z"]);
    expect(late.slice(0, 2).map((s) => s.id)).toEqual(early.slice(1).map((s) => s.id));
    expect(await countSessions()).toBe(4);
  });

  it("writes no duplicates when two identical requests run at the same time", async () => {
    const { admin, groupId } = await world();
    const [a, b] = await Promise.all([schedule(admin, groupId, "2026-03-01", "2026-03-31"), schedule(admin, groupId, "2026-03-01", "2026-03-31")]);
    expect(a).toHaveLength(9);
    expect(b.map((s) => s.id)).toEqual(a.map((s) => s.id));
    expect(await countSessions()).toBe(9);
  });

  it("does not recreate a cancelled session", async () => {
    const { admin, groupId } = await world();
    const first = await schedule(admin, groupId, "2026-03-01", "2026-03-15");
    await admin.mutate("cancelSession", { sessionId: first[1].id, reason: "Snow" }, "session { id }");
    const again = await schedule(admin, groupId, "2026-03-01", "2026-03-15");
    expect(again.map((s) => [s.id, s.status])).toEqual(first.map((s, i) => [s.id, i === 1 ? "CANCELLED" : "SCHEDULED"]));
    expect(await countSessions()).toBe(4);
  });
});

describe("scheduleSessions within the group's dates", () => {
  it("creates sessions only from startsOn to endsOn, both included", async () => {
    const { admin, groupId } = await world({ startsOn: "2026-03-05", endsOn: "2026-03-12" });
    const got = await schedule(admin, groupId, "2026-03-01", "2026-03-31");
    expect(got.map((s) => s.startsAt)).toEqual(["2026-03-05T23:30:00.000Z", "2026-03-09T22:30:00.000Z", "2026-03-12T22:30:00.000Z"]);
  });

  it("returns an empty list, without error, for a range entirely outside the group's dates", async () => {
    const { admin, groupId } = await world({ startsOn: "2026-03-05", endsOn: "2026-03-12" });
    const before = await scheduleRaw(admin, groupId, "2026-02-01", "2026-03-04");
    expect(before.errors).toBeUndefined();
    expect(before.data.scheduleSessions).toEqual({ sessions: [], userErrors: [] });
    const after = await scheduleRaw(admin, groupId, "2026-03-13", "2026-04-30");
    expect(after.data.scheduleSessions).toEqual({ sessions: [], userErrors: [] });
    expect(await countSessions()).toBe(0);
  });
});

describe("scheduleSessions validation", () => {
  it("refuses `to` before `from` (INVALID at input.to), writing nothing", async () => {
    const { admin, groupId } = await world();
    const res = await scheduleRaw(admin, groupId, "2026-03-15", "2026-03-01");
    expect(res.data.scheduleSessions.sessions).toBeNull();
    expect(res.data.scheduleSessions.userErrors).toEqual([{ field: ["input", "to"], message: expect.any(String), code: "INVALID" }]);
    expect(await countSessions()).toBe(0);
  });

  it("refuses a range of more than 366 days (RANGE_TOO_LARGE) and accepts exactly 366", async () => {
    const { admin, groupId } = await world({ startsOn: "2026-01-01", endsOn: "2026-01-31" });
    const tooLong = await scheduleRaw(admin, groupId, "2026-01-01", "2027-01-02");
    expect(tooLong.data.scheduleSessions.sessions).toBeNull();
    expect(tooLong.data.scheduleSessions.userErrors).toEqual([{ field: ["input", "to"], message: expect.any(String), code: "RANGE_TOO_LARGE" }]);
    expect(await countSessions()).toBe(0);
    const longest = await scheduleRaw(admin, groupId, "2026-01-01", "2027-01-01");
    expect(longest.data.scheduleSessions.userErrors).toEqual([]);
    expect(longest.data.scheduleSessions.sessions).toHaveLength(9); // the group's Mondays and Thursdays of January
  });

  it("refuses a closed group (GROUP_NOT_OPEN), writing nothing", async () => {
    const { admin, groupId } = await world();
    await admin.mutate("updateGroup", { groupId, status: "CLOSED" }, "group { status }");
    const res = await scheduleRaw(admin, groupId, "2026-03-01", "2026-03-15");
    expect(res.data.scheduleSessions.sessions).toBeNull();
    expect(res.data.scheduleSessions.userErrors).toEqual([{ field: ["input", "groupId"], message: expect.any(String), code: "GROUP_NOT_OPEN" }]);
    expect(await countSessions()).toBe(0);
  });

  it("rejects a date that does not exist while coercing variables (BAD_USER_INPUT), writing nothing", async () => {
    const { admin, groupId } = await world();
    const res = await scheduleRaw(admin, groupId, "2026-02-30", "2026-03-15");
    expect(res.data ?? null).toBeNull();
    expect(res.errors?.[0].extensions?.code).toBe("BAD_USER_INPUT");
    expect(res.errors?.[0].message).toContain("2026-02-30");
    expect(await countSessions()).toBe(0);
  });
});

describe("curriculum topics", () => {
  it("gives topics in order as sessions are scheduled, cycling when exhausted", async () => {
    const { admin, groupId } = await world({ curriculum: ["Triggers", "Cravings", "Support"] });
    const got = await schedule(admin, groupId, "2026-03-01", "2026-03-15");
    expect(got.map((s) => s.topic)).toEqual(["Triggers", "Cravings", "Support", "Triggers"]);
    const next = await schedule(admin, groupId, "2026-03-16", "2026-03-22");
    expect(next.map((s) => s.topic)).toEqual(["Cravings", "Support"]);
  });

  it("gives a cancelled session's topic to the next session scheduled after it", async () => {
    // New session's topic = curriculum[(group sessions before it that are not cancelled) mod n].
    const { admin, groupId } = await world({ curriculum: ["Triggers", "Cravings", "Support"] });
    const first = await schedule(admin, groupId, "2026-03-01", "2026-03-08");
    expect(first.map((s) => s.topic)).toEqual(["Triggers", "Cravings"]);
    await admin.mutate("cancelSession", { sessionId: first[1].id, reason: "Snow" }, "session { id }");
    const later = await schedule(admin, groupId, "2026-03-01", "2026-03-15");
    expect(later.map((s) => [s.topic, s.status])).toEqual([
      ["Triggers", "SCHEDULED"],
      ["Cravings", "CANCELLED"],
      ["Cravings", "SCHEDULED"],
      ["Support", "SCHEDULED"],
    ]);
  });

  it("never rewrites the topics of sessions that already exist when an earlier range is filled in", async () => {
    const { admin, groupId } = await world({ curriculum: ["Triggers", "Cravings", "Support"] });
    const late = await schedule(admin, groupId, "2026-03-09", "2026-03-15");
    expect(late.map((s) => s.topic)).toEqual(["Triggers", "Cravings"]);
    const all = await schedule(admin, groupId, "2026-03-01", "2026-03-15");
    expect(all.map((s) => s.topic)).toEqual(["Triggers", "Cravings", "Triggers", "Cravings"]);
    expect(all.slice(2).map((s) => s.id)).toEqual(late.map((s) => s.id));
  });

  it("leaves the topic empty when the program has no curriculum", async () => {
    const { admin, groupId } = await world();
    const got = await schedule(admin, groupId, "2026-03-01", "2026-03-08");
    expect(got.map((s) => s.topic)).toEqual([null, null]);
  });
});

describe("cancelSession", () => {
  it("cancels a scheduled session with its reason, and a retry answers the same without error", async () => {
    const { admin, groupId } = await world();
    const [s] = await schedule(admin, groupId, "2026-03-01", "2026-03-03");
    const first = await mutateRaw(admin, "cancelSession", { sessionId: s.id, reason: "Facilitator ill" });
    expect(first.userErrors).toEqual([]);
    expect(first.session).toMatchObject({ id: s.id, status: "CANCELLED", cancelReason: "Facilitator ill" });
    expect(first.session!.cancelledAt).not.toBeNull();
    const retry = await mutateRaw(admin, "cancelSession", { sessionId: s.id, reason: "Facilitator ill" });
    expect(retry).toEqual(first);
    expect(await readSession(admin, s.id)).toEqual(first.session);
  });

  it("refuses to cancel a completed session (INVALID_TRANSITION)", async () => {
    const { admin, groupId } = await world();
    const [s] = await schedule(admin, groupId, "2026-03-01", "2026-03-03");
    await admin.mutate("completeSession", { sessionId: s.id }, "session { id }");
    const res = await mutateRaw(admin, "cancelSession", { sessionId: s.id, reason: "Too late" });
    expect(res.session).toBeNull();
    expect(res.userErrors).toEqual([{ field: ["input", "sessionId"], message: expect.any(String), code: "INVALID_TRANSITION" }]);
    expect((await readSession(admin, s.id)).status).toBe("COMPLETED");
  });
});

describe("completeSession", () => {
  it("marks a past session COMPLETED, and again without error", async () => {
    const { admin, groupId } = await world();
    const [s] = await schedule(admin, groupId, "2026-03-01", "2026-03-03");
    const first = await mutateRaw(admin, "completeSession", { sessionId: s.id });
    expect(first.userErrors).toEqual([]);
    expect(first.session).toMatchObject({ id: s.id, status: "COMPLETED" });
    const again = await mutateRaw(admin, "completeSession", { sessionId: s.id });
    expect(again).toEqual(first);
  });

  it("refuses a session that has not started yet (INVALID_TRANSITION)", async () => {
    const { admin, groupId } = await world();
    const future = addDays(today(), 30);
    const [s] = await schedule(admin, groupId, future, addDays(future, 6));
    const res = await mutateRaw(admin, "completeSession", { sessionId: s.id });
    expect(res.session).toBeNull();
    expect(res.userErrors).toEqual([{ field: ["input", "sessionId"], message: expect.any(String), code: "INVALID_TRANSITION" }]);
    expect((await readSession(admin, s.id)).status).toBe("SCHEDULED");
  });

  it("refuses a cancelled session (SESSION_CANCELLED)", async () => {
    const { admin, groupId } = await world();
    const [s] = await schedule(admin, groupId, "2026-03-01", "2026-03-03");
    await admin.mutate("cancelSession", { sessionId: s.id }, "session { id }");
    const res = await mutateRaw(admin, "completeSession", { sessionId: s.id });
    expect(res.session).toBeNull();
    expect(res.userErrors).toEqual([{ field: ["input", "sessionId"], message: expect.any(String), code: "SESSION_CANCELLED" }]);
    expect((await readSession(admin, s.id)).status).toBe("CANCELLED");
  });
});

describe("updateSession", () => {
  it("changes the topic, and an empty string clears it", async () => {
    const { admin, groupId } = await world({ curriculum: ["Triggers"] });
    const [s] = await schedule(admin, groupId, "2026-03-01", "2026-03-03");
    const changed = await mutateRaw(admin, "updateSession", { sessionId: s.id, topic: "Coping with holidays" });
    expect(changed.userErrors).toEqual([]);
    expect(changed.session).toMatchObject({ id: s.id, topic: "Coping with holidays", startsAt: s.startsAt, endsAt: s.endsAt });
    const cleared = await mutateRaw(admin, "updateSession", { sessionId: s.id, topic: "" });
    expect(cleared.session?.topic).toBeNull();
    expect((await readSession(admin, s.id)).topic).toBeNull();
  });

  it("moves a session, keeping its length when only startsAt is given", async () => {
    const { admin, groupId } = await world();
    const [s] = await schedule(admin, groupId, "2026-03-01", "2026-03-03");
    const res = await mutateRaw(admin, "updateSession", { sessionId: s.id, startsAt: "2026-03-03T23:00:00Z" });
    expect(res.userErrors).toEqual([]);
    expect(res.session).toMatchObject({ startsAt: "2026-03-03T23:00:00.000Z", endsAt: "2026-03-04T00:00:00.000Z" });
  });

  it("does not recreate a moved session when the same range is scheduled again", async () => {
    const { admin, groupId } = await world();
    const before = await schedule(admin, groupId, "2026-03-01", "2026-03-08");
    // Monday 2026-03-02 18:30 EST moves to 19:15 the same evening.
    const moved = await mutateRaw(admin, "updateSession", { sessionId: before[0].id, startsAt: "2026-03-03T00:15:00Z" });
    expect(moved.userErrors).toEqual([]);
    const again = await schedule(admin, groupId, "2026-03-01", "2026-03-08");
    expect(again.map((x) => x.id)).toEqual(before.map((x) => x.id));
    expect(again[0].startsAt).toBe("2026-03-03T00:15:00.000Z");
    expect(await countSessions()).toBe(before.length);
  });

  it("refuses to move a session onto the start of another session of the group (DUPLICATE), changing nothing", async () => {
    const { admin, groupId } = await world();
    const [a, b] = await schedule(admin, groupId, "2026-03-01", "2026-03-08");
    const res = await mutateRaw(admin, "updateSession", { sessionId: b.id, startsAt: a.startsAt, topic: "Moved" });
    expect(res.session).toBeNull();
    expect(res.userErrors).toEqual([{ field: ["input", "startsAt"], message: expect.any(String), code: "DUPLICATE" }]);
    expect(await readSession(admin, b.id)).toEqual(b);
  });

  it("refuses an end at or before the start (INVALID at input.endsAt), changing nothing", async () => {
    const { admin, groupId } = await world();
    const [s] = await schedule(admin, groupId, "2026-03-01", "2026-03-03");
    for (const endsAt of [s.startsAt, plusMinutes(s.startsAt, -30)]) {
      const res = await mutateRaw(admin, "updateSession", { sessionId: s.id, endsAt });
      expect(res.session).toBeNull();
      expect(res.userErrors).toEqual([{ field: ["input", "endsAt"], message: expect.any(String), code: "INVALID" }]);
    }
    const moved = await mutateRaw(admin, "updateSession", { sessionId: s.id, startsAt: plusMinutes(s.endsAt, 10), endsAt: s.endsAt });
    expect(moved.userErrors.map((e) => [e.field, e.code])).toEqual([[["input", "endsAt"], "INVALID"]]);
    expect(await readSession(admin, s.id)).toEqual(s);
  });
});

describe("sessions connections", () => {
  const GROUP_SESSIONS = `query($id: ID!, $first: Int, $last: Int, $after: String, $from: DateTime, $to: DateTime, $status: SessionStatus) {
    node(id: $id) { ... on Group {
      sessions(first: $first, last: $last, after: $after, from: $from, to: $to, status: $status) {
        totalCount nodes { id startsAt status } pageInfo { hasNextPage hasPreviousPage startCursor endCursor }
      }
    } }
  }`;

  async function groupSessions(admin: Api, id: string, vars: Record<string, unknown>) {
    const d = await admin.query(GROUP_SESSIONS, { id, ...vars });
    return d.node.sessions as {
      totalCount: number;
      nodes: Array<{ id: string; startsAt: string; status: string }>;
      pageInfo: { hasNextPage: boolean; hasPreviousPage: boolean; startCursor: string | null; endCursor: string | null };
    };
  }

  it("pages a group's sessions in order of start; `last: 5` is the latest five, ascending", async () => {
    const { admin, groupId } = await world();
    const all = await schedule(admin, groupId, "2026-03-01", "2026-03-31");
    expect(all).toHaveLength(9);
    const starts = all.map((s) => s.startsAt);
    expect([...starts].sort()).toEqual(starts);

    const last = await groupSessions(admin, groupId, { last: 5 });
    expect(last.totalCount).toBe(9);
    expect(last.nodes.map((s) => s.id)).toEqual(all.slice(4).map((s) => s.id));
    expect(last.pageInfo).toMatchObject({ hasPreviousPage: true, hasNextPage: false });

    const first = await groupSessions(admin, groupId, { first: 3 });
    expect(first.nodes.map((s) => s.id)).toEqual(all.slice(0, 3).map((s) => s.id));
    expect(first.pageInfo).toMatchObject({ hasPreviousPage: false, hasNextPage: true });
    const second = await groupSessions(admin, groupId, { first: 3, after: first.pageInfo.endCursor });
    expect(second.nodes.map((s) => s.id)).toEqual(all.slice(3, 6).map((s) => s.id));
    expect(second.pageInfo).toMatchObject({ hasPreviousPage: true, hasNextPage: true });

    const everything = await groupSessions(admin, groupId, { last: 20 });
    expect(everything.nodes.map((s) => s.id)).toEqual(all.map((s) => s.id));
    expect(everything.pageInfo).toMatchObject({ hasPreviousPage: false, hasNextPage: false });
  });

  it("filters a group's sessions by start (from inclusive, to exclusive) and status", async () => {
    const { admin, groupId } = await world();
    const all = await schedule(admin, groupId, "2026-03-01", "2026-03-31");
    await admin.mutate("cancelSession", { sessionId: all[3].id, reason: "Holiday" }, "session { id }");

    const window = await groupSessions(admin, groupId, { from: all[2].startsAt, to: all[5].startsAt });
    expect(window.totalCount).toBe(3);
    expect(window.nodes.map((s) => s.id)).toEqual(all.slice(2, 5).map((s) => s.id));

    const cancelled = await groupSessions(admin, groupId, { status: "CANCELLED" });
    expect(cancelled.nodes.map((s) => s.id)).toEqual([all[3].id]);
    const scheduled = await groupSessions(admin, groupId, { status: "SCHEDULED", last: 2 });
    expect(scheduled.totalCount).toBe(8);
    expect(scheduled.nodes.map((s) => s.id)).toEqual(all.slice(7).map((s) => s.id));

    const none = await groupSessions(admin, groupId, { from: "2026-04-01T00:00:00Z" });
    expect(none).toMatchObject({ totalCount: 0, nodes: [], pageInfo: { hasNextPage: false, hasPreviousPage: false } });
  });

  it("lists a center's sessions of every group in order of start, within from and to", async () => {
    const { admin, centerId, programId, groupId } = await world();
    const morning = await addGroup(admin, programId, { days: ["TUESDAY"], startTime: "10:00" }, "Morning group");
    const evening = await schedule(admin, groupId, "2026-03-01", "2026-03-15");
    const mornings = await schedule(admin, morning, "2026-03-01", "2026-03-15");
    // Another center's sessions stay out.
    const other = await admin.createCenter("South Clinic", "America/New_York");
    const otherProgram = await admin.mutate("createProgram", { centerId: other, name: "Other" }, "program { id }");
    const otherGroup = await addGroup(admin, otherProgram.program.id);
    await schedule(admin, otherGroup, "2026-03-01", "2026-03-15");

    const d = await admin.query(
      `query($id: ID!, $from: DateTime, $to: DateTime) { node(id: $id) { ... on Center {
        sessions(from: $from, to: $to, first: 50) { totalCount nodes { id startsAt group { id } } }
      } } }`,
      { id: centerId, from: "2026-03-03T00:00:00Z", to: "2026-03-12T22:30:00Z" },
    );
    const expected = [...evening, ...mornings]
      .filter((s) => s.startsAt >= "2026-03-03T00:00:00.000Z" && s.startsAt < "2026-03-12T22:30:00.000Z")
      .sort((a, b) => a.startsAt.localeCompare(b.startsAt));
    expect(expected.map((s) => s.startsAt)).toEqual([
      "2026-03-03T15:00:00.000Z",
      "2026-03-05T23:30:00.000Z",
      "2026-03-09T22:30:00.000Z",
      "2026-03-10T14:00:00.000Z",
    ]);
    expect(d.node.sessions.totalCount).toBe(4);
    expect(d.node.sessions.nodes.map((s: { id: string }) => s.id)).toEqual(expected.map((s) => s.id));
  });
});

describe("the expected roster", () => {
  it("puts a rolling group's new member on every future session, not on sessions that started before the enrolment", async () => {
    const days = ["SUNDAY", "MONDAY", "TUESDAY", "WEDNESDAY", "THURSDAY", "FRIDAY", "SATURDAY"];
    const { admin, centerId, groupId } = await world({ timezone: "UTC", days, startTime: "12:00", startsOn: addDays(today(), -10) });
    const all = await schedule(admin, groupId, addDays(today(), -5), addDays(today(), 5));
    expect(all).toHaveLength(11);

    const person = await admin.mutate("createParticipant", { centerId, firstName: "Ana", lastName: "Alvarez" }, "participant { id }");
    const participantId = person.participant.id;
    const enrolled = await admin.mutate("enrollParticipant", { groupId, participantId }, "enrollment { id status activatedAt }");
    expect(enrolled.enrollment.status).toBe("ACTIVE");
    const activatedAt = Date.parse(enrolled.enrollment.activatedAt);

    const d = await admin.query(
      `query($id: ID!) { node(id: $id) { ... on Group { sessions(first: 50) { nodes {
        id startsAt
        roster { expected participant { id } enrollment { id } attendance { id } }
        attendanceSummary { expected unrecorded present }
      } } } } }`,
      { id: groupId },
    );
    const nodes = d.node.sessions.nodes as Array<{
      startsAt: string;
      roster: unknown[];
      attendanceSummary: { expected: number; unrecorded: number; present: number };
    }>;
    expect(nodes).toHaveLength(11);
    const past = nodes.filter((s) => Date.parse(s.startsAt) < activatedAt);
    const future = nodes.filter((s) => Date.parse(s.startsAt) > activatedAt);
    expect(past.length).toBeGreaterThanOrEqual(5);
    expect(future.length).toBeGreaterThanOrEqual(5);
    for (const s of past) {
      expect(s.roster, s.startsAt).toEqual([]);
      expect(s.attendanceSummary, s.startsAt).toEqual({ expected: 0, unrecorded: 0, present: 0 });
    }
    for (const s of future) {
      expect(s.roster, s.startsAt).toEqual([
        { expected: true, participant: { id: participantId }, enrollment: { id: enrolled.enrollment.id }, attendance: null },
      ]);
      expect(s.attendanceSummary, s.startsAt).toEqual({ expected: 1, unrecorded: 1, present: 0 });
    }
    // Sessions scheduled after the enrolment expect the member too.
    const more = await schedule(admin, groupId, addDays(today(), 6), addDays(today(), 7));
    const later = await admin.query(`query($id: ID!) { node(id: $id) { ... on Session { attendanceSummary { expected } } } }`, { id: more[1].id });
    expect(later.node.attendanceSummary.expected).toBe(1);
  });
});

describe("changing a group's schedule, dates or status refits its future sessions", () => {
  const GROUP_SESSIONS = `query($id: ID!) { node(id: $id) { ... on Group { endsOn sessions(first: 100) { nodes { ${SESSION} } } } } }`;
  const weekday = (iso: string) => new Date(iso).getUTCDay(); // 0 = Sunday

  async function groupSessions(admin: Api, groupId: string): Promise<{ endsOn: string | null; sessions: SessionOut[] }> {
    const d = await admin.query(GROUP_SESSIONS, { id: groupId });
    return { endsOn: d.node.endsOn, sessions: d.node.sessions.nodes };
  }

  const isPast = (s: SessionOut) => isPastAt(s.startsAt);

  it("moves untouched future sessions to the new days and time, as far ahead as the group was scheduled, and leaves past ones", async () => {
    // Given a Monday/Thursday group scheduled from three weeks ago to four weeks ahead
    const { admin, groupId } = await world({ timezone: "UTC", startTime: "18:30", startsOn: addDays(today(), -21) });
    const before = await schedule(admin, groupId, addDays(today(), -21), addDays(today(), 27));
    const past = before.filter(isPast);
    const horizon = before[before.length - 1].startsAt.slice(0, 10);
    expect(past.length).toBeGreaterThanOrEqual(5);

    // When it moves to Wednesdays at 10:00 for 90 minutes
    const u = await admin.mutate("updateGroup", { groupId, schedule: { daysOfWeek: ["WEDNESDAY"], startTime: "10:00", durationMinutes: 90 } }, "group { id }");
    expect(u.group.id).toBe(groupId);

    // Then the past sessions are as they were, and the future ones are every Wednesday up to the old horizon
    const after = (await groupSessions(admin, groupId)).sessions;
    expect(after.filter(isPast)).toEqual(past);
    const future = after.filter((s) => !isPast(s));
    const wanted: string[] = [];
    for (let d = today(); d <= horizon; d = addDays(d, 1)) {
      const at = `${d}T10:00:00.000Z`;
      if (weekday(at) === 3 && !isPastAt(at)) wanted.push(at);
    }
    expect(wanted.length).toBeGreaterThanOrEqual(3);
    expect(future.map((s) => s.startsAt)).toEqual(wanted);
    for (const s of future) {
      expect(s).toMatchObject({ status: "SCHEDULED", endsAt: plusMinutes(s.startsAt, 90) });
    }
  });

  it("keeps future sessions someone touched: cancelled, moved, or with attendance recorded", async () => {
    const { admin, centerId, groupId } = await world({ timezone: "UTC", startTime: "18:30", startsOn: addDays(today(), 1) });
    const before = await schedule(admin, groupId, addDays(today(), 1), addDays(today(), 28));
    expect(before.length).toBeGreaterThanOrEqual(7);
    const [cancelled, moved, recorded] = before;
    await admin.mutate("cancelSession", { sessionId: cancelled.id, reason: "Holiday" }, "session { id }");
    const movedTo = plusMinutes(moved.startsAt, 60);
    await admin.mutate("updateSession", { sessionId: moved.id, startsAt: movedTo }, "session { id }");
    const person = await admin.mutate("createParticipant", { centerId, firstName: "Ana", lastName: "Alvarez" }, "participant { id }");
    await admin.mutate("enrollParticipant", { groupId, participantId: person.participant.id }, "enrollment { id }");
    await admin.mutate(
      "recordAttendance",
      { sessionId: recorded.id, records: [{ participantId: person.participant.id, status: "EXCUSED", note: "Told us ahead" }] },
      "attendance { id }",
    );

    await admin.mutate("updateGroup", { groupId, schedule: { daysOfWeek: ["SATURDAY"], startTime: "09:00", durationMinutes: 60 } }, "group { id }");

    const after = (await groupSessions(admin, groupId)).sessions;
    const byId = new Map(after.map((s) => [s.id, s]));
    expect(byId.get(cancelled.id)).toMatchObject({ status: "CANCELLED", startsAt: cancelled.startsAt });
    expect(byId.get(moved.id)).toMatchObject({ status: "SCHEDULED", startsAt: movedTo });
    expect(byId.get(recorded.id)).toMatchObject({ status: "SCHEDULED", startsAt: recorded.startsAt });
    const others = after.filter((s) => ![cancelled.id, moved.id, recorded.id].includes(s.id));
    expect(others.length).toBeGreaterThanOrEqual(3);
    for (const s of others) expect([weekday(s.startsAt), wallClock(s.startsAt)]).toEqual([6, "09:00"]);
  });

  it("gives untouched sessions a new length without replacing them", async () => {
    const { admin, groupId } = await world({ timezone: "UTC", startTime: "18:30", minutes: 60, startsOn: addDays(today(), 1) });
    const before = await schedule(admin, groupId, addDays(today(), 1), addDays(today(), 21));

    await admin.mutate("updateGroup", { groupId, schedule: { daysOfWeek: ["MONDAY", "THURSDAY"], startTime: "18:30", durationMinutes: 45 } }, "group { id }");

    const after = (await groupSessions(admin, groupId)).sessions;
    expect(after.map((s) => [s.id, s.startsAt, s.endsAt])).toEqual(before.map((s) => [s.id, s.startsAt, plusMinutes(s.startsAt, 45)]));
  });

  it("removes untouched sessions after an earlier end; null clears the end and an absent endsOn keeps it", async () => {
    const { admin, groupId } = await world({ timezone: "UTC", startsOn: addDays(today(), 1), endsOn: addDays(today(), 40) });
    const before = await schedule(admin, groupId, addDays(today(), 1), addDays(today(), 40));
    const end = addDays(today(), 20);

    await admin.mutate("updateGroup", { groupId, endsOn: end }, "group { id }");
    const shortened = await groupSessions(admin, groupId);
    expect(shortened.endsOn).toBe(end);
    expect(shortened.sessions.map((s) => s.id)).toEqual(before.filter((s) => s.startsAt.slice(0, 10) <= end).map((s) => s.id));

    await admin.mutate("updateGroup", { groupId, name: "Renamed" }, "group { id }");
    expect((await groupSessions(admin, groupId)).endsOn).toBe(end);

    const cleared = await admin.mutate("updateGroup", { groupId, endsOn: null }, "group { endsOn }");
    expect(cleared.group.endsOn).toBeNull();
    expect((await groupSessions(admin, groupId)).sessions).toHaveLength(shortened.sessions.length);
  });

  it("cancels the sessions that have not started when the group closes, and keeps the past ones", async () => {
    const { admin, groupId } = await world({ timezone: "UTC", startsOn: addDays(today(), -14) });
    const before = await schedule(admin, groupId, addDays(today(), -14), addDays(today(), 14));

    await admin.mutate("updateGroup", { groupId, status: "CLOSED" }, "group { status }");

    const after = (await groupSessions(admin, groupId)).sessions;
    expect(after.map((s) => s.id)).toEqual(before.map((s) => s.id));
    for (const s of after) {
      if (isPast(s)) expect(s, s.startsAt).toMatchObject({ status: "SCHEDULED", cancelReason: null });
      else expect(s, s.startsAt).toMatchObject({ status: "CANCELLED", cancelReason: "The group was closed" });
    }
    expect(after.filter((s) => !isPast(s)).length).toBeGreaterThanOrEqual(3);
  });

  it("keeps a center's untouched future sessions at the same wall-clock time in its new time zone", async () => {
    const { admin, centerId, groupId } = await world({ timezone: "America/New_York", startTime: "18:30", startsOn: addDays(today(), -14) });
    const before = await schedule(admin, groupId, addDays(today(), -14), addDays(today(), 28));

    const u = await admin.mutate("updateCenter", { centerId, timezone: "America/Los_Angeles" }, "center { timezone }");
    expect(u.center.timezone).toBe("America/Los_Angeles");

    const after = (await groupSessions(admin, groupId)).sessions;
    expect(after.filter(isPast)).toEqual(before.filter(isPast));
    const future = after.filter((s) => !isPast(s));
    expect(future).toHaveLength(before.filter((s) => !isPast(s)).length);
    for (const s of future) expect(wallClock(s.startsAt, "America/Los_Angeles"), s.startsAt).toBe("18:30");
  });

  it("never fails a recording that races a schedule change: the session either keeps its attendance or is gone", async () => {
    const { admin, centerId, groupId } = await world({ timezone: "UTC", startsOn: addDays(today(), 1) });
    const [target] = await schedule(admin, groupId, addDays(today(), 1), addDays(today(), 14));
    const person = await admin.mutate("createParticipant", { centerId, firstName: "Ana", lastName: "Alvarez" }, "participant { id }");
    await admin.mutate("enrollParticipant", { groupId, participantId: person.participant.id }, "enrollment { id }");

    const [rec, upd] = await Promise.all([
      t.server.gql(
        mutationDocument("recordAttendance", "attendance { id }"),
        { input: { sessionId: target.id, records: [{ participantId: person.participant.id, status: "EXCUSED" }] } },
        { token: admin.token },
      ),
      t.server.gql(
        mutationDocument("updateGroup", "group { id }"),
        { input: { groupId, schedule: { daysOfWeek: ["SUNDAY"], startTime: "08:00", durationMinutes: 60 } } },
        { token: admin.token },
      ),
    ]);
    expect(rec.errors).toBeUndefined();
    expect(upd.errors).toBeUndefined();
    expect(upd.data.updateGroup.userErrors).toEqual([]);
    const still = await readSession(admin, target.id);
    if (rec.data.recordAttendance.userErrors.length === 0) {
      expect(still).toMatchObject({ id: target.id, startsAt: target.startsAt });
    } else {
      expect(rec.data.recordAttendance.userErrors).toEqual([{ field: ["input", "sessionId"], message: expect.any(String), code: "NOT_FOUND" }]);
      expect(still).toBeNull();
    }
  });
});

describe("a refit never uses a schedule slot twice, at the instants that break it", () => {
  // A slot is a day of the schedule in the center's zone. Daily groups, so that every day has one.
  const DAILY = ["SUNDAY", "MONDAY", "TUESDAY", "WEDNESDAY", "THURSDAY", "FRIDAY", "SATURDAY"];
  const GROUP_SESSIONS = `query($id: ID!) { node(id: $id) { ... on Group { sessions(first: 100) { nodes { ${SESSION} } } } } }`;

  async function sessionsOf(admin: Api, groupId: string): Promise<SessionOut[]> {
    return (await admin.query(GROUP_SESSIONS, { id: groupId })).node.sessions.nodes;
  }

  /** Days from `from` to `to`, both included. */
  function daysFrom(from: string, to: string): string[] {
    const out: string[] = [];
    for (let d = from; d <= to; d = addDays(d, 1)) out.push(d);
    return out;
  }

  /**
   * Given a daily group at `time` in `fromZone`, scheduled from a week back to two weeks ahead,
   * when the change is made at `at`: the past sessions stay as they were, every future session
   * is at `newTime` in `toZone`, and the sessions' slots (a past session's day where it was
   * generated, a future one's day in `toZone`) are every day once, up to the same last day.
   */
  async function refitAt(at: string, o: { fromZone: string; toZone: string; time: string; newTime?: string }) {
    setClock(at);
    const local = dayInZone(clock.now(), o.fromZone);
    const { admin, centerId, groupId } = await world({ timezone: o.fromZone, days: DAILY, startTime: o.time, startsOn: addDays(local, -7) });
    const before = await schedule(admin, groupId, addDays(local, -7), addDays(local, 14));
    const lastSlot = dayInZone(new Date(before[before.length - 1].startsAt), o.fromZone);

    if (o.toZone !== o.fromZone) {
      const u = await admin.mutate("updateCenter", { centerId, timezone: o.toZone }, "center { timezone }");
      expect(u.center.timezone).toBe(o.toZone);
    }
    if (o.newTime) {
      await admin.mutate("updateGroup", { groupId, schedule: { daysOfWeek: DAILY, startTime: o.newTime, durationMinutes: 60 } }, "group { id }");
    }

    const after = await sessionsOf(admin, groupId);
    const past = after.filter((s) => isPastAt(s.startsAt));
    const future = after.filter((s) => !isPastAt(s.startsAt));
    expect(past).toEqual(before.filter((s) => isPastAt(s.startsAt)));
    for (const s of future) expect(wallClock(s.startsAt, o.toZone), s.startsAt).toBe(o.newTime ?? o.time);
    const slots = [...past.map((s) => dayInZone(new Date(s.startsAt), o.fromZone)), ...future.map((s) => dayInZone(new Date(s.startsAt), o.toZone))];
    expect(slots, `at ${at}: ${after.map((s) => s.startsAt).join(" ")}`).toEqual(daysFrom(addDays(local, -7), lastSlot));
    expect(future.length).toBeGreaterThanOrEqual(13);
  }

  it.each([
    ["2026-11-23T23:29:00Z", "just before the New York session of the day"],
    ["2026-11-23T23:31:00Z", "just after it, before midnight UTC"],
    ["2026-11-23T23:59:00Z", "just before midnight UTC"],
    ["2026-11-24T00:01:00Z", "just after midnight UTC"],
    ["2026-11-24T01:00:00Z", "between 18:30 in New York and 18:30 in Los Angeles"],
    ["2026-11-24T02:29:00Z", "just before 18:30 in Los Angeles"],
    ["2026-11-24T02:31:00Z", "just after 18:30 in Los Angeles"],
    ["2026-11-24T04:59:00Z", "just before midnight in New York"],
    ["2026-11-24T05:01:00Z", "just after midnight in New York"],
    ["2026-11-24T07:59:00Z", "just before midnight in Los Angeles"],
    ["2026-11-24T08:01:00Z", "just after midnight in Los Angeles"],
    ["2026-03-08T06:59:00Z", "just before New York springs forward"],
    ["2026-03-08T07:01:00Z", "just after New York springs forward"],
    ["2026-03-09T00:00:00Z", "in the evening of the spring-forward day"],
    ["2026-11-01T05:59:00Z", "just before New York falls back"],
    ["2026-11-01T06:01:00Z", "just after New York falls back"],
    ["2026-11-02T01:00:00Z", "in the evening of the fall-back day"],
    ["2026-12-31T23:50:00Z", "on New Year's Eve, 23:50 UTC"],
    ["2027-01-01T01:00:00Z", "on New Year's Day, 01:00 UTC"],
    ["2028-02-29T23:50:00Z", "on 29 February, 23:50 UTC"],
    ["2028-03-01T01:00:00Z", "in the evening of 29 February in New York"],
  ])("moving a center from New York to Los Angeles at %s (%s): 18:30 every day, once", async (at) => {
    await refitAt(at, { fromZone: "America/New_York", toZone: "America/Los_Angeles", time: "18:30" });
  });

  it.each([
    ["2026-11-24T05:59:00Z", "just before the 01:00 New York session"],
    ["2026-11-24T07:00:00Z", "after the 01:00 New York session, which is the evening before in Los Angeles"],
    ["2026-11-24T08:30:00Z", "just after midnight in Los Angeles"],
  ])("moving a center with a 01:00 group from New York to Los Angeles at %s (%s)", async (at) => {
    await refitAt(at, { fromZone: "America/New_York", toZone: "America/Los_Angeles", time: "01:00" });
  });

  it.each([
    ["2026-11-24T00:00:00Z", "between 18:30 in New York and 18:30 in Los Angeles"],
    ["2026-11-24T03:00:00Z", "after both"],
  ])("moving a center from Los Angeles to New York at %s (%s): no slot twice", async (at) => {
    // Today's Los Angeles session, not yet held, is removed: its new time has passed, so the day keeps none.
    setClock(at);
    const local = dayInZone(clock.now(), "America/Los_Angeles");
    const { admin, centerId, groupId } = await world({ timezone: "America/Los_Angeles", days: DAILY, startTime: "18:30", startsOn: addDays(local, -7) });
    const before = await schedule(admin, groupId, addDays(local, -7), addDays(local, 14));
    await admin.mutate("updateCenter", { centerId, timezone: "America/New_York" }, "center { timezone }");
    const after = await sessionsOf(admin, groupId);
    const past = after.filter((s) => isPastAt(s.startsAt));
    const future = after.filter((s) => !isPastAt(s.startsAt));
    expect(past).toEqual(before.filter((s) => isPastAt(s.startsAt)));
    for (const s of future) expect(wallClock(s.startsAt, "America/New_York")).toBe("18:30");
    const slots = [
      ...past.map((s) => dayInZone(new Date(s.startsAt), "America/Los_Angeles")),
      ...future.map((s) => dayInZone(new Date(s.startsAt), "America/New_York")),
    ];
    expect(new Set(slots).size, slots.join(" ")).toBe(slots.length);
    expect(slots[slots.length - 1]).toBe(addDays(local, 14));
  });

  it.each([
    ["2026-11-24T12:00:00Z", "after the 08:00 session of the day"],
    ["2026-11-24T23:59:00Z", "just before midnight"],
    ["2026-11-25T00:01:00Z", "just after midnight"],
    ["2026-12-31T23:50:00Z", "on New Year's Eve"],
    ["2028-02-29T12:00:00Z", "on 29 February"],
  ])("moving a group from 08:00 to 18:30 at %s (%s): a day held at 08:00 gets no 18:30 session", async (at) => {
    await refitAt(at, { fromZone: "UTC", toZone: "UTC", time: "08:00", newTime: "18:30" });
  });
});
