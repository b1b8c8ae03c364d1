// The client contract end to end: every operation of admin, care and dashboard, as clients send
// them, answered over HTTP with real tokens.
import { describe, expect, it } from "vitest";
import { asOrgAdmin } from "./support/fixtures.js";
import { operation } from "./support/operations.js";
import { useTestServer } from "./support/server.js";

const t = useTestServer();

async function ok(query: string, variables: Record<string, unknown>, token: string) {
  const res = await t.server.gql(query, variables, { token });
  expect(res.errors, JSON.stringify(res.errors)).toBeUndefined();
  return res.data;
}

describe("client contract", () => {
  it("answers the admin console, care and dashboard operations as written", async () => {
    const admin = await asOrgAdmin(t.server);
    const viewer = await ok(operation("admin.graphql", "Viewer"), {}, admin.token);
    expect(viewer.viewer).toMatchObject({ email: "root@org.test", isOrgAdmin: true });

    const c = await ok(operation("admin.graphql", "CreateCenter"), { input: { name: "Harbor House", timezone: "America/Chicago" } }, admin.token);
    expect(c.createCenter.userErrors).toEqual([]);
    const centerId = c.createCenter.center.id;

    const s = await ok(
      operation("admin.graphql", "CreateStaff"),
      { input: { email: "Fac@Harbor.test", name: "Fran Fac", memberships: [{ centerId, role: "FACILITATOR" }] } },
      admin.token,
    );
    expect(s.createStaff.staff.memberships).toEqual([{ role: "FACILITATOR", center: { id: centerId } }]);
    const facilitatorId = s.createStaff.staff.id;

    const p = await ok(
      operation("admin.graphql", "CreateProgram"),
      { input: { centerId, name: "Relapse prevention", attendancePolicy: { absencesBeforeFollowUp: 3 } } },
      admin.token,
    );
    expect(p.createProgram.program.center.id).toBe(centerId);
    const programId = p.createProgram.program.id;

    const g = await ok(
      operation("admin.graphql", "CreateGroup"),
      {
        input: {
          programId,
          name: "Tuesday evening",
          capacity: 2,
          startsOn: "2026-01-05",
          endsOn: "2026-03-31",
          facilitatorIds: [facilitatorId],
          schedule: { daysOfWeek: ["TUESDAY"], startTime: "18:00", durationMinutes: 90 },
        },
      },
      admin.token,
    );
    expect(g.createGroup.userErrors).toEqual([]);
    expect(g.createGroup.group).toMatchObject({
      name: "Tuesday evening",
      capacity: 2,
      status: "PLANNED",
      startsOn: "2026-01-05",
      endsOn: "2026-03-31",
      schedule: { daysOfWeek: ["TUESDAY"], startTime: "18:00", durationMinutes: 90 },
      facilitators: [{ id: facilitatorId, name: "Fran Fac" }],
      program: { id: programId },
    });
    const groupId = g.createGroup.group.id;

    const u = await ok(operation("admin.graphql", "UpdateGroup"), { input: { groupId, status: "ACTIVE" } }, admin.token);
    expect(u.updateGroup.group.status).toBe("ACTIVE");

    const people = [];
    for (const [firstName, lastName, externalId] of [
      ["Ana", "Alvarez", "MRN-1"],
      ["Ben", "Brooks", "MRN-2"],
      ["Cy", "Chen", null],
    ]) {
      const r = await ok(operation("care.graphql", "CreateParticipant"), { input: { centerId, firstName, lastName, externalId, recoveryStartDate: "2025-06-01" } }, admin.token);
      expect(r.createParticipant.participant).toMatchObject({ firstName, lastName, externalId, recoveryStartDate: "2025-06-01" });
      people.push(r.createParticipant.participant.id);
    }

    const statuses = [];
    for (const participantId of people) {
      const r = await ok(operation("care.graphql", "EnrollParticipant"), { input: { groupId, participantId } }, admin.token);
      expect(r.enrollParticipant.enrollment.participant.id).toBe(participantId);
      expect(r.enrollParticipant.enrollment.group.id).toBe(groupId);
      statuses.push(r.enrollParticipant.enrollment);
    }
    expect(statuses.map((e) => e.status)).toEqual(["ACTIVE", "ACTIVE", "WAITLISTED"]);
    expect(statuses[0].role).toBe("MEMBER");

    const sched = await ok(operation("care.graphql", "ScheduleSessions"), { input: { groupId, from: "2026-01-01", to: "2026-01-31" } }, admin.token);
    // Tuesdays of January 2026 at 18:00 Chicago (UTC-6).
    expect(sched.scheduleSessions.sessions.map((x: { startsAt: string }) => x.startsAt)).toEqual([
      "2026-01-06T00:00:00.000Z",
      "2026-01-13T00:00:00.000Z",
      "2026-01-20T00:00:00.000Z",
      "2026-01-27T00:00:00.000Z",
    ].map((d) => new Date(Date.parse(d) + 24 * 3600_000).toISOString()));
    const [first, second] = sched.scheduleSessions.sessions;

    const cancelled = await ok(operation("care.graphql", "CancelSession"), { input: { sessionId: second.id, reason: "Holiday" } }, admin.token);
    expect(cancelled.cancelSession.session.status).toBe("CANCELLED");

    // The first session started in the past relative to enrolment? Enrolments were made now, so
    // record attendance for a session of the roster only through an enrolment: allowed.
    const rec = await ok(
      operation("care.graphql", "RecordAttendance"),
      {
        input: {
          sessionId: first.id,
          records: [
            { participantId: people[0], status: "PRESENT" },
            { participantId: people[1], status: "ABSENT", note: "Called, no answer" },
          ],
        },
      },
      admin.token,
    );
    expect(rec.recordAttendance.userErrors).toEqual([]);
    expect(rec.recordAttendance.attendance.map((a: { status: string }) => a.status)).toEqual(["PRESENT", "ABSENT"]);

    const ended = await ok(operation("care.graphql", "EndEnrollment"), { input: { enrollmentId: statuses[0].id, status: "WITHDRAWN", reason: "Moved away" } }, admin.token);
    expect(ended.endEnrollment.enrollment.status).toBe("WITHDRAWN");

    const dash = await ok(operation("dashboard.graphql", "CenterDashboard"), { centerId }, admin.token);
    const group = dash.center.groups.edges[0].node;
    expect(dash.center.groups.totalCount).toBe(1);
    expect(group.enrollments.totalCount).toBe(2); // Ben, and Cy promoted from the waitlist
    expect(group.enrollments.nodes.map((e: { participant: { firstName: string } }) => e.participant.firstName)).toEqual(["Ben", "Cy"]);
    expect(group.sessions.nodes).toHaveLength(4);
    const firstSummary = group.sessions.nodes[0].attendanceSummary;
    expect(firstSummary).toMatchObject({ present: 1, absent: 1, late: 0, leftEarly: 0, excused: 0 });

    const roster = await ok(operation("dashboard.graphql", "SessionRoster"), { sessionId: first.id }, admin.token);
    expect(roster.node.group.name).toBe("Tuesday evening");
    expect(roster.node.attendance.map((a: { participant: { firstName: string }; note: string | null }) => [a.participant.firstName, a.note])).toEqual([
      ["Ana", null],
      ["Ben", "Called, no answer"],
    ]);

    const history = await ok(operation("dashboard.graphql", "ParticipantHistory"), { participantId: people[0] }, admin.token);
    expect(history.node.enrollments.nodes).toEqual([{ status: "WITHDRAWN", group: { name: "Tuesday evening" } }]);
    expect(history.node.attendance.totalCount).toBe(1);
    expect(history.node.attendance.nodes[0]).toMatchObject({ status: "PRESENT", session: { startsAt: first.startsAt } });
  });
});
