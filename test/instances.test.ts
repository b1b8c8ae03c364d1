// Several instances (PostgreSQL): two server instances, each with its own pool, on one database,
// behind a "load balancer" that alternates between them, keep every rule as one server does:
// the last seat, one open follow-up per person and group, attendance batches recorded at once.
// The rules are held by PostgreSQL (row locks, transaction locks, unique indexes), not in memory.
import { sql } from "drizzle-orm";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { asOrgAdmin, mutationDocument, type Api } from "./support/fixtures.js";
import { startAnotherInstance, startTestServer, type Instance, type TestServer } from "./support/server.js";

const onPostgres = Boolean(process.env.TEST_DATABASE_URL);
const rowsOf = (r: unknown) => (Array.isArray(r) ? r : (r as { rows: unknown[] }).rows) as Array<Record<string, unknown>>;

describe.skipIf(!onPostgres)("two server instances on one database", () => {
  let server: TestServer;
  let other: Instance;
  let org: Api;
  /** Request i goes to instance i % 2. */
  const via = (i: number) => (i % 2 === 0 ? server : other);

  beforeAll(async () => {
    server = await startTestServer();
    other = await startAnotherInstance(server);
  });
  beforeEach(async () => {
    await server.database.reset();
    org = await asOrgAdmin(server);
  });
  afterAll(async () => {
    await other?.close();
    await server?.close();
  });

  async function world(capacity: number, people: number) {
    const centerId = await org.createCenter("Twin Clinic");
    const { program } = await org.mutate("createProgram", { centerId, name: "Program" }, "program { id }");
    const { group } = await org.mutate(
      "createGroup",
      {
        programId: program.id,
        name: "Group",
        capacity,
        startsOn: "2025-01-06",
        status: "ACTIVE",
        schedule: { daysOfWeek: ["MONDAY", "THURSDAY"], startTime: "18:00", durationMinutes: 60 },
      },
      "group { id }",
    );
    const ids: string[] = [];
    for (let i = 0; i < people; i++) {
      const { participant } = await org.mutate("createParticipant", { centerId, firstName: `P${i}`, lastName: "Twin" }, "participant { id }");
      ids.push(participant.id);
    }
    return { centerId, groupId: group.id as string, people: ids };
  }

  const count = async (query: string) => Number(rowsOf(await server.database.db.execute(sql.raw(query)))[0].n);

  it("given one free seat, when 16 participants enrol at once through both instances, then exactly one is ACTIVE and the waitlist is 1..15", async () => {
    const w = await world(1, 16);
    const results = await Promise.all(
      w.people.map((participantId, i) =>
        via(i).gql(
          mutationDocument("enrollParticipant", "enrollment { status waitlistPosition }"),
          { input: { groupId: w.groupId, participantId } },
          { token: org.token },
        ),
      ),
    );
    expect(results.flatMap((r) => r.errors ?? [])).toEqual([]);
    const enrolments = results.map((r) => r.data.enrollParticipant.enrollment as { status: string; waitlistPosition: number | null });
    expect(enrolments.filter((e) => e.status === "ACTIVE")).toHaveLength(1);
    const positions = enrolments.filter((e) => e.status === "WAITLISTED").map((e) => e.waitlistPosition!);
    expect(positions.sort((a, b) => a - b)).toEqual(Array.from({ length: 15 }, (_, i) => i + 1));
    expect(await count(`select count(*) as n from enrollments where status = 'ACTIVE'`)).toBe(1);
  });

  it("given a member absent once, when two sessions of the group are recorded ABSENT at once through both instances, round after round, then one follow-up is open for the person and group", async () => {
    const w = await world(10, 1);
    await org.mutate("enrollParticipant", { groupId: w.groupId, participantId: w.people[0] }, "enrollment { id }");
    const { sessions } = await org.mutate("scheduleSessions", { groupId: w.groupId, from: "2025-01-06", to: "2025-03-03" }, "sessions { id }");
    const ids = (sessions as Array<{ id: string }>).map((s) => s.id);
    // Sessions in pairs recorded at the same time, each through another instance.
    for (let i = 0; i + 1 < 8; i += 2) {
      const results = await Promise.all(
        [ids[i], ids[i + 1]].map((sessionId, k) =>
          via(k).gql(
            mutationDocument("recordAttendance", "attendance { id }"),
            { input: { sessionId, records: [{ participantId: w.people[0], status: "ABSENT" }] } },
            { token: org.token },
          ),
        ),
      );
      expect(results.flatMap((r) => [...(r.errors ?? []), ...r.data.recordAttendance.userErrors])).toEqual([]);
      expect(await count(`select count(*) as n from follow_ups where status = 'OPEN'`)).toBe(1);
    }
    expect(await count(`select count(*) as n from follow_ups`)).toBe(1);
  });

  it("given two staff recording overlapping batches of one session at once through both instances, round after round, then one record per person with versions matching the history", async () => {
    const w = await world(10, 6);
    for (const participantId of w.people) await org.mutate("enrollParticipant", { groupId: w.groupId, participantId }, "enrollment { id }");
    const { sessions } = await org.mutate("scheduleSessions", { groupId: w.groupId, from: "2025-01-06", to: "2025-01-07" }, "sessions { id }");
    const sessionId = (sessions as Array<{ id: string }>)[0].id;
    const statuses = ["PRESENT", "ABSENT", "LATE", "EXCUSED"];
    for (let round = 0; round < 6; round++) {
      const batches = [w.people.slice(0, 4), w.people.slice(2, 6)].map((people, k) => ({
        sessionId,
        records: people.map((participantId) => ({ participantId, status: statuses[(round + k) % statuses.length] })),
      }));
      const results = await Promise.all(
        batches.map((input, k) => via(k).gql(mutationDocument("recordAttendance", "attendance { id }"), { input }, { token: org.token })),
      );
      expect(results.flatMap((r) => [...(r.errors ?? []), ...r.data.recordAttendance.userErrors])).toEqual([]);
    }
    expect(await count(`select count(*) as n from attendance`)).toBe(6);
    // Every version is in the history exactly once, and the record's version is its latest.
    expect(
      await count(`select count(*) as n from attendance a where a.version <> (select max(h.version) from attendance_history h where h.attendance_id = a.id)`),
    ).toBe(0);
    expect(await count(`select count(*) as n from (select attendance_id, version from attendance_history group by 1, 2 having count(*) > 1) d`)).toBe(0);
    expect(
      await count(`select count(*) as n from attendance a where a.version <> (select count(*) from attendance_history h where h.attendance_id = a.id)`),
    ).toBe(0);
  });
});
