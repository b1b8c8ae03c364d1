// "Now" comes from one clock (src/common/clock.ts): every timestamp the API writes, including the
// columns whose SQL default is now(), is the clock's instant, so tests can set it.
import { sql } from "drizzle-orm";
import { describe, expect, it } from "vitest";
import { setClock } from "../src/common/clock.js";
import { asOrgAdmin } from "./support/fixtures.js";
import { useTestServer } from "./support/server.js";

const t = useTestServer();

const rowsOf = <Row>(r: unknown) => (Array.isArray(r) ? r : (r as { rows: unknown[] }).rows) as Row[];

describe("the clock", () => {
  it("stamps every row the API writes with the clock's instant, not the database's now()", async () => {
    // Given the clock at the last second of 29 February 2028
    const NOW = "2028-02-29T23:59:59.000Z";
    setClock(NOW);

    // When a center, staff, a program, a group, a participant, an enrolment, sessions and attendance are written
    const admin = await asOrgAdmin(t.server);
    const centerId = await admin.createCenter("Leap Clinic", "Pacific/Kiritimati");
    await admin.createStaff("clin@leap.test", [{ centerId, role: "CLINICIAN" }]);
    const program = await admin.mutate("createProgram", { centerId, name: "Leap program", curriculum: ["One"] }, "program { id }");
    const group = await admin.mutate(
      "createGroup",
      {
        programId: program.program.id,
        name: "Leap group",
        capacity: 5,
        status: "ACTIVE",
        startsOn: "2028-02-01",
        schedule: { daysOfWeek: ["TUESDAY"], startTime: "09:00", durationMinutes: 60 },
      },
      "group { id }",
    );
    const person = await admin.mutate("createParticipant", { centerId, firstName: "Ana", lastName: "Alvarez" }, "participant { id }");
    await admin.mutate("enrollParticipant", { groupId: group.group.id, participantId: person.participant.id }, "enrollment { id }");
    const scheduled = await admin.mutate("scheduleSessions", { groupId: group.group.id, from: "2028-02-20", to: "2028-03-10" }, "sessions { id startsAt }");
    // 09:00 on Tuesday 29 February in Kiritimati (UTC+14) is 19:00 UTC on the 28th: the last session held
    const held = scheduled.sessions.filter((s: { startsAt: string }) => s.startsAt <= NOW);
    expect(held.map((s: { startsAt: string }) => s.startsAt).pop()).toBe("2028-02-28T19:00:00.000Z");
    await admin.mutate(
      "recordAttendance",
      { sessionId: held[held.length - 1].id, records: [{ participantId: person.participant.id, status: "PRESENT" }] },
      "attendance { id }",
    );

    // Then every timestamp column of every row written reads the clock's instant
    const columns = rowsOf<{ table_name: string; column_name: string }>(
      await t.server.database.db.execute(sql`
        select table_name, column_name from information_schema.columns
        where table_schema = current_schema() and data_type = 'timestamp with time zone'
          and column_name in ('created_at', 'updated_at', 'enrolled_at', 'activated_at', 'occurred_at', 'recorded_at', 'changed_at')
        order by 1, 2`),
    );
    expect(columns.length).toBeGreaterThanOrEqual(10);
    const stamps = new Map<string, string[]>();
    for (const { table_name, column_name } of columns) {
      const r = rowsOf<{ at: string }>(
        await t.server.database.db.execute(
          sql`select distinct to_char(${sql.identifier(column_name)} at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS') as at from ${sql.identifier(table_name)} where ${sql.identifier(column_name)} is not null`,
        ),
      );
      stamps.set(
        `${table_name}.${column_name}`,
        r.map((x) => x.at),
      );
    }
    for (const table of [
      "centers",
      "staff",
      "staff_memberships",
      "programs",
      "groups",
      "participants",
      "enrollments",
      "enrollment_events",
      "sessions",
      "attendance",
    ]) {
      expect(
        [...stamps.keys()].some((k) => k.startsWith(`${table}.`)),
        table,
      ).toBe(true);
    }
    for (const [column, values] of stamps) {
      if (values.length) expect(values, column).toEqual(["2028-02-29T23:59:59"]);
    }
  });
});
