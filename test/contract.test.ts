// The client contract end to end: every operation of admin, care, dashboard and engagement, as
// clients send them, answered over HTTP with real tokens.
import { describe, expect, it } from "vitest";
import { setClock } from "../src/common/clock.js";
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
      const r = await ok(
        operation("care.graphql", "CreateParticipant"),
        { input: { centerId, firstName, lastName, externalId, recoveryStartDate: "2025-06-01" } },
        admin.token,
      );
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
    expect(sched.scheduleSessions.sessions.map((x: { startsAt: string }) => x.startsAt)).toEqual(
      ["2026-01-06T00:00:00.000Z", "2026-01-13T00:00:00.000Z", "2026-01-20T00:00:00.000Z", "2026-01-27T00:00:00.000Z"].map((d) =>
        new Date(Date.parse(d) + 24 * 3600_000).toISOString(),
      ),
    );
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

    const ended = await ok(
      operation("care.graphql", "EndEnrollment"),
      { input: { enrollmentId: statuses[0].id, status: "WITHDRAWN", reason: "Moved away" } },
      admin.token,
    );
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

  it("answers the engagement operations as written: risk, follow-ups, milestones, mentors, recovery capital, trends", async () => {
    // Given a New York center whose program opens a follow-up at 2 absences in a row, and a
    // Tuesday 20:00 group (led by a facilitator) that Ana, Ben and Cy joined before it started
    setClock("2026-01-01T15:00:00Z");
    const admin = await asOrgAdmin(t.server);
    const centerId = await admin.createCenter("North Clinic", "America/New_York");
    const lead = await admin.createStaff("lead@north.test", [{ centerId, role: "FACILITATOR" }]);
    const viewer = await admin.createStaff("viewer@north.test", [{ centerId, role: "VIEWER" }]);
    const programId = (
      await admin.mutate("createProgram", { centerId, name: "Relapse prevention", attendancePolicy: { absencesBeforeFollowUp: 2 } }, "program { id }")
    ).program.id;
    const groupId = (
      await admin.mutate(
        "createGroup",
        {
          programId,
          name: "Tuesday evening",
          capacity: 10,
          status: "ACTIVE",
          startsOn: "2026-01-05",
          facilitatorIds: [lead.id],
          schedule: { daysOfWeek: ["TUESDAY"], startTime: "20:00", durationMinutes: 60 },
        },
        "group { id }",
      )
    ).group.id;
    const sessions: Array<{ id: string }> = (await admin.mutate("scheduleSessions", { groupId, from: "2026-01-05", to: "2026-02-28" }, "sessions { id }"))
      .sessions;
    expect(sessions).toHaveLength(8); // Tuesdays 6 January .. 24 February
    // Ana's recovery started 5 December 2025: 90 days on 5 March. Ben has been in recovery since
    // 2024 (eligible to mentor); Cy started on 20 February.
    const person = async (firstName: string, recoveryStartDate: string) =>
      (await admin.mutate("createParticipant", { centerId, firstName, lastName: "Test", recoveryStartDate }, "participant { id }")).participant.id as string;
    const ana = await person("Ana", "2025-12-05");
    const ben = await person("Ben", "2024-06-01");
    const cy = await person("Cy", "2026-02-20");
    for (const p of [ana, ben, cy]) await admin.mutate("enrollParticipant", { groupId, participantId: p }, "enrollment { id }");

    // And eight weeks of attendance recorded on Sunday 1 March (noon in New York): Ana came five
    // times, was excused on 10 February, then missed the last two sessions in a row
    setClock("2026-03-01T17:00:00Z");
    const anaStatus = ["PRESENT", "PRESENT", "PRESENT", "PRESENT", "LATE", "EXCUSED", "ABSENT", "ABSENT"];
    for (const [i, s] of sessions.entries()) {
      const rec = await ok(
        operation("care.graphql", "RecordAttendance"),
        {
          input: {
            sessionId: s.id,
            records: [
              { participantId: ana, status: anaStatus[i] },
              { participantId: ben, status: "PRESENT" },
              { participantId: cy, status: i === 0 ? "ABSENT" : "PRESENT" },
            ],
          },
        },
        admin.token,
      );
      expect(rec.recordAttendance.userErrors).toEqual([]);
    }

    // When Ben is paired with Cy as a peer mentor
    const paired = await ok(operation("engagement.graphql", "AssignPeerMentor"), { input: { mentorId: ben, menteeId: cy } }, admin.token);
    expect(paired.assignPeerMentor.userErrors).toEqual([]);
    expect(paired.assignPeerMentor.mentorship).toMatchObject({ startedOn: "2026-03-01", mentor: { id: ben }, mentee: { id: cy } });

    // And Ana's recovery capital is assessed (BARC-10)
    const items = [4, 5, 3, 6, 4, 5, 4, 3, 5, 6];
    const barc = await ok(
      operation("engagement.graphql", "RecordRecoveryCapital"),
      { input: { participantId: ana, assessedOn: "2026-02-27", instrument: "BARC_10", items } },
      admin.token,
    );
    expect(barc.recordRecoveryCapital.userErrors).toEqual([]);
    expect(barc.recordRecoveryCapital.assessment).toMatchObject({ total: 45, assessedOn: "2026-02-27" });

    // Then Ana's engagement reads HIGH risk, with her milestones, the one due in 14 days and her assessment
    const anaView = (await ok(operation("engagement.graphql", "ParticipantEngagement"), { participantId: ana }, admin.token)).node;
    expect(anaView.engagement).toMatchObject({
      sessionsExpected: 8,
      sessionsAttended: 5,
      sessionsExcused: 1,
      attendanceRate: 5 / 7,
      consecutiveMisses: 2,
      currentStreak: 0,
      lastAttendedAt: "2026-02-04T01:00:00.000Z", // Tuesday 3 February, 20:00 New York
      riskLevel: "HIGH",
    });
    expect(anaView.milestones.filter((m: { kind: string }) => m.kind === "RECOVERY")).toEqual([
      { kind: "RECOVERY", label: "1 day", reachedOn: "2025-12-06" },
      { kind: "RECOVERY", label: "30 days", reachedOn: "2026-01-04" },
      { kind: "RECOVERY", label: "60 days", reachedOn: "2026-02-03" },
    ]);
    expect(anaView.milestones).toContainEqual({ kind: "ATTENDANCE", label: "1 session", reachedOn: "2026-01-06" });
    expect(anaView.upcomingMilestones).toEqual([{ kind: "RECOVERY", label: "90 days", dueOn: "2026-03-05" }]);
    expect(anaView.mentors).toEqual([]);
    expect(anaView.recoveryCapital.nodes).toEqual([{ assessedOn: "2026-02-27", total: 45 }]);
    // And Cy's shows Ben as his mentor
    const cyView = (await ok(operation("engagement.graphql", "ParticipantEngagement"), { participantId: cy }, admin.token)).node;
    expect(cyView.mentors).toEqual([{ id: ben, firstName: "Ben" }]);
    expect(cyView.engagement.riskLevel).not.toBe("HIGH");

    // And the group's weekly trend has a point per week (weeks start on Monday), its at-risk count and
    // the milestone due within 7 days
    const groupVars = { groupId, from: "2026-02-02", to: "2026-03-01" };
    const group = (await ok(operation("engagement.graphql", "GroupEngagement"), groupVars, admin.token)).node;
    expect(group.engagement).toMatchObject({ atRiskCount: 1, attendanceRate: 20 / 23 });
    expect(group.attendanceTrend).toEqual([
      { periodStart: "2026-02-02", expected: 3, attended: 3, excused: 0, rate: 1 },
      { periodStart: "2026-02-09", expected: 3, attended: 2, excused: 1, rate: 1 },
      { periodStart: "2026-02-16", expected: 3, attended: 2, excused: 0, rate: 2 / 3 },
      { periodStart: "2026-02-23", expected: 3, attended: 2, excused: 0, rate: 2 / 3 },
    ]);
    expect(group.upcomingMilestones).toEqual([{ participant: { id: ana, firstName: "Ana" }, kind: "RECOVERY", label: "90 days", dueOn: "2026-03-05" }]);

    // And the center's page: sessions held, an open follow-up, Ana as its one HIGH-risk participant, a point per month
    const center = (await ok(operation("engagement.graphql", "CenterEngagement"), { centerId, from: "2026-01-01", to: "2026-03-01" }, admin.token)).center;
    expect(center.engagement).toMatchObject({ sessionsHeld: 8, activeParticipants: 3, atRiskCount: 1, openFollowUps: 1, attendanceRate: 20 / 23 });
    expect(center.attendanceTrend.map((p: { periodStart: string; expected: number }) => [p.periodStart, p.expected])).toEqual([
      ["2026-01-01", 12],
      ["2026-02-01", 12],
      ["2026-03-01", 0],
    ]);
    expect(center.attendanceTrend[2].rate).toBeNull();
    expect(center.participants.totalCount).toBe(1);
    expect(center.participants.nodes).toEqual([
      {
        id: ana,
        firstName: "Ana",
        lastName: "Test",
        engagement: { riskLevel: "HIGH", consecutiveMisses: 2, lastAttendedAt: "2026-02-04T01:00:00.000Z", attendanceRate: 5 / 7 },
      },
    ]);

    // And the follow-up the second absence opened is listed, assigned to the group's lead
    const open = (await ok(operation("engagement.graphql", "CenterFollowUps"), { centerId }, admin.token)).center.followUps;
    expect(open.totalCount).toBe(1);
    expect(open.nodes[0]).toMatchObject({ dueOn: "2026-02-26", participant: { id: ana, firstName: "Ana" }, assignee: { id: lead.id } });
    expect(open.nodes[0].reason).toMatch(/2 absences in a row/);

    // When it is completed, it is no longer open
    const done = await ok(
      operation("engagement.graphql", "CompleteFollowUp"),
      { input: { followUpId: open.nodes[0].id, outcome: "REACHED", note: "Spoke on the phone" } },
      admin.token,
    );
    expect(done.completeFollowUp).toEqual({ followUp: { id: open.nodes[0].id, status: "COMPLETED", outcome: "REACHED" }, userErrors: [] });
    expect((await ok(operation("engagement.graphql", "CenterFollowUps"), { centerId }, admin.token)).center.followUps).toEqual({ totalCount: 0, nodes: [] });

    // And a VIEWER gets the group's figures and trend, but not its members' milestones
    const seen = await t.server.gql(operation("engagement.graphql", "GroupEngagement"), groupVars, { token: viewer.token });
    expect(seen.data.node.engagement).toEqual(group.engagement);
    expect(seen.data.node.attendanceTrend).toEqual(group.attendanceTrend);
    expect(seen.data.node.upcomingMilestones).toBeNull();
    expect(seen.errors?.map((e: { path?: unknown; extensions?: { code?: string } }) => [e.path, e.extensions?.code])).toEqual([
      [["node", "upcomingMilestones"], "FORBIDDEN"],
    ]);
  });
});
