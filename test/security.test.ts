// Findings of the security probe (issue 12): VIEWERs reading clinical reasons, staff links showing
// people `node(id:)` hides, and center admins reaching staff of other centers.
import { describe, expect, it } from "vitest";
import { asOrgAdmin, sendMutation } from "./support/fixtures.js";
import { useTestServer } from "./support/server.js";

const t = useTestServer();

const REASON = "Relapse, readmitted to detox";

/**
 * Center A with a group, a DISCHARGED enrolment (ended by the org admin, with a reason) and an
 * ACTIVE one; staff of A: an admin, a clinician, a facilitator of the group, a viewer.
 */
async function world() {
  const org = await asOrgAdmin(t.server);
  const a = await org.createCenter("Harbor House", "UTC");
  const b = await org.createCenter("Bayside", "UTC");
  const admin = await org.createStaff("admin-a@org.test", [{ centerId: a, role: "ADMIN" }]);
  const clinician = await org.createStaff("clin-a@org.test", [{ centerId: a, role: "CLINICIAN" }]);
  const facilitator = await org.createStaff("fac-a@org.test", [{ centerId: a, role: "FACILITATOR" }]);
  const viewer = await org.createStaff("view-a@org.test", [{ centerId: a, role: "VIEWER" }]);
  const { program } = await org.mutate("createProgram", { centerId: a, name: "Relapse prevention" }, "program { id }");
  const { group } = await org.mutate(
    "createGroup",
    {
      programId: program.id,
      name: "Tuesday",
      capacity: 5,
      startsOn: "2026-01-06",
      facilitatorIds: [facilitator.id],
      schedule: { daysOfWeek: ["TUESDAY"], startTime: "18:00", durationMinutes: 60 },
    },
    "group { id }",
  );
  const participant = async (n: string) =>
    (await org.mutate("createParticipant", { centerId: a, firstName: n, lastName: "P" }, "participant { id }")).participant.id as string;
  const { enrollment: discharged } = await org.mutate("enrollParticipant", { groupId: group.id, participantId: await participant("Dee") }, "enrollment { id }");
  await org.mutate("endEnrollment", { enrollmentId: discharged.id, status: "DISCHARGED", reason: REASON }, "enrollment { id }");
  await org.mutate("enrollParticipant", { groupId: group.id, participantId: await participant("Ana") }, "enrollment { id }");
  return { org, a, b, admin, clinician, facilitator, viewer, groupId: group.id as string, dischargedId: discharged.id as string };
}

describe("clinical text is refused to VIEWERs on every path", () => {
  const BY_GROUP = `query($id: ID!) { node(id: $id) { ... on Group { enrollments(status: DISCHARGED) { nodes { endReason } } } } }`;
  const HISTORY_BY_GROUP = `query($id: ID!) { node(id: $id) { ... on Group { enrollments(status: DISCHARGED) { nodes { history { toStatus reason } } } } } }`;
  const BY_NODE = `query($id: ID!) { node(id: $id) { ... on Enrollment { status endReason history { reason } } } }`;

  it("answers a VIEWER's endReason and history.reason with FORBIDDEN on the field, through the group and through node(id:)", async () => {
    const w = await world();
    const byGroup = await t.server.gql(BY_GROUP, { id: w.groupId }, { token: w.viewer.token });
    expect(JSON.stringify(byGroup)).not.toContain("detox");
    expect(byGroup.errors?.map((e) => [e.extensions?.code, e.path])).toEqual([["FORBIDDEN", ["node", "enrollments", "nodes", 0, "endReason"]]]);
    const history = await t.server.gql(HISTORY_BY_GROUP, { id: w.groupId }, { token: w.viewer.token });
    expect(JSON.stringify(history)).not.toContain("detox");
    expect(history.errors?.map((e) => e.extensions?.code)).toEqual(["FORBIDDEN", "FORBIDDEN"]);
    const byNode = await t.server.gql(BY_NODE, { id: w.dischargedId }, { token: w.viewer.token });
    expect(JSON.stringify(byNode)).not.toContain("detox");
    expect(new Set(byNode.errors?.map((e) => e.extensions?.code))).toEqual(new Set(["FORBIDDEN"]));
    // The status itself (a count-level fact) stays readable
    const status = await t.server.gql(`query($id: ID!) { node(id: $id) { ... on Enrollment { status } } }`, { id: w.dischargedId }, { token: w.viewer.token });
    expect(status.data.node.status).toBe("DISCHARGED");
  });

  it("answers the reasons to clinicians, admins and the group's facilitators", async () => {
    const w = await world();
    for (const who of [w.clinician, w.admin, w.facilitator, w.org]) {
      const res = await t.server.gql(BY_NODE, { id: w.dischargedId }, { token: who.token });
      expect(res.errors, JSON.stringify(res.errors)).toBeUndefined();
      expect(res.data.node.endReason).toBe(REASON);
      expect(res.data.node.history.map((h: { reason: string | null }) => h.reason)).toEqual([null, REASON]);
    }
  });
});

describe("staff reached through a link follow node(id:)", () => {
  it("shows a VIEWER null for history.actor when node(actor) is null (an org admin without a membership)", async () => {
    const w = await world();
    const orgId = (await w.org.query(`{ viewer { id } }`)).viewer.id;
    const node = await t.server.gql(`query($id: ID!) { node(id: $id) { id } }`, { id: orgId }, { token: w.viewer.token });
    expect(node.data.node).toBeNull();
    for (const who of [w.viewer, w.clinician]) {
      const res = await t.server.gql(
        `query($id: ID!) { node(id: $id) { ... on Enrollment { history { toStatus actor { id name email } } } } }`,
        { id: w.dischargedId },
        { token: who.token },
      );
      expect(res.errors).toBeUndefined();
      expect(JSON.stringify(res.data)).not.toContain("root@org.test");
      expect(res.data.node.history.map((h: { actor: unknown }) => h.actor)).toEqual([null, null]);
    }
    // The org admin sees themselves
    const own = await w.org.query(`query($id: ID!) { node(id: $id) { ... on Enrollment { history { actor { id } } } } }`, { id: w.dischargedId });
    expect(own.node.history.map((h: { actor: { id: string } }) => h.actor.id)).toEqual([orgId, orgId]);
  });

  it("leaves a facilitator no longer at the center out of Group.facilitators and leadFacilitator for its staff, as node(id:) does", async () => {
    const w = await world();
    // Given the facilitator moves to center B (their role at A removed)
    await w.org.mutate("setStaffMembership", { staffId: w.facilitator.id, centerId: w.b, role: "FACILITATOR" }, "staff { id }");
    await w.org.mutate("removeStaffMembership", { staffId: w.facilitator.id, centerId: w.a }, "staff { id }");
    const Q = `query($id: ID!) { node(id: $id) { ... on Group { facilitators { id name email } leadFacilitator { id name } } } }`;
    for (const who of [w.viewer, w.clinician]) {
      const node = await t.server.gql(`query($id: ID!) { node(id: $id) { id } }`, { id: w.facilitator.id }, { token: who.token });
      expect(node.data.node).toBeNull();
      const res = await t.server.gql(Q, { id: w.groupId }, { token: who.token });
      expect(res.errors).toBeUndefined();
      expect(res.data.node).toEqual({ facilitators: [], leadFacilitator: null });
    }
    // The org admin still sees them there
    const org = await w.org.query(Q, { id: w.groupId });
    expect(org.node.facilitators.map((f: { id: string }) => f.id)).toEqual([w.facilitator.id]);
  });
});

describe("center admins reach only staff whose every center they administer", () => {
  async function staffWorld() {
    const w = await world();
    // A staff member who is ADMIN at A and VIEWER at B, a clinician of B, and someone at both A and B
    const split = await w.org.createStaff("split@org.test", [
      { centerId: w.a, role: "ADMIN" },
      { centerId: w.b, role: "VIEWER" },
    ]);
    const clinicianB = await w.org.createStaff("clin-b@org.test", [{ centerId: w.b, role: "CLINICIAN" }]);
    const adminB = await w.org.createStaff("admin-b@org.test", [{ centerId: w.b, role: "ADMIN" }]);
    const both = await w.org.createStaff("both@org.test", [
      { centerId: w.a, role: "CLINICIAN" },
      { centerId: w.b, role: "CLINICIAN" },
    ]);
    return { ...w, split, clinicianB, adminB, both };
  }

  it("answers NOT_FOUND, writing nothing, when an admin of A (a VIEWER at B) sets or removes roles of B's staff or of staff also at B", async () => {
    const w = await staffWorld();
    const before = await t.server.database.fingerprint();
    for (const target of [w.clinicianB, w.both]) {
      const set = await sendMutation(t.server, w.split.token, "setStaffMembership", { staffId: target.id, centerId: w.a, role: "VIEWER" });
      expect(set.payload.userErrors.map((e: { field: string[]; code: string }) => [e.field.join("."), e.code])).toEqual([["input.staffId", "NOT_FOUND"]]);
    }
    const remove = await sendMutation(t.server, w.split.token, "removeStaffMembership", { staffId: w.both.id, centerId: w.a });
    expect(remove.payload.userErrors.map((e: { code: string }) => e.code)).toEqual(["NOT_FOUND"]);
    // An org admin is at every center: out of a center admin's reach too
    const orgId = (await w.org.query(`{ viewer { id } }`)).viewer.id;
    const onOrg = await sendMutation(t.server, w.split.token, "setStaffMembership", { staffId: orgId, centerId: w.a, role: "VIEWER" });
    expect(onOrg.payload.userErrors.map((e: { code: string }) => e.code)).toEqual(["NOT_FOUND"]);
    expect(await t.server.database.fingerprint()).toBe(before);
  });

  it("still lets an admin of A manage staff who are only at A, and an admin of A and B manage staff at both", async () => {
    const w = await staffWorld();
    const ok = await sendMutation(t.server, w.split.token, "setStaffMembership", { staffId: w.viewer.id, centerId: w.a, role: "CLINICIAN" }, "staff { id }");
    expect(ok.payload.userErrors).toEqual([]);
    const adminAB = await w.org.createStaff("admin-ab@org.test", [
      { centerId: w.a, role: "ADMIN" },
      { centerId: w.b, role: "ADMIN" },
    ]);
    const both = await sendMutation(t.server, adminAB.token, "setStaffMembership", { staffId: w.both.id, centerId: w.a, role: "VIEWER" }, "staff { id }");
    expect(both.payload.userErrors).toEqual([]);
    const removed = await sendMutation(t.server, adminAB.token, "removeStaffMembership", { staffId: w.both.id, centerId: w.b }, "staff { id }");
    expect(removed.payload.userErrors).toEqual([]);
  });

  it("answers createStaff with an address in use at another center exactly as one in use at the admin's own center", async () => {
    const w = await staffWorld();
    const before = await t.server.database.fingerprint();
    const attempt = (email: string, extra: Record<string, unknown> = {}) =>
      sendMutation(t.server, w.admin.token, "createStaff", { email, name: "New", memberships: [{ centerId: w.a, role: "VIEWER" }], ...extra }, "staff { id }");
    const own = await attempt("CLIN-A@org.test");
    const elsewhere = await attempt("admin-b@org.test");
    const subjectElsewhere = await attempt("fresh@org.test", { authSubject: "admin-b@org.test" });
    expect(own.payload.userErrors).toHaveLength(1);
    expect(own.payload.userErrors[0]).toMatchObject({ field: ["input", "email"], code: "EMAIL_TAKEN" });
    expect(elsewhere.payload).toEqual(own.payload);
    expect(subjectElsewhere.payload).toEqual(own.payload);
    expect(JSON.stringify(elsewhere)).not.toMatch(/Bayside|admin-b|center B/i);
    expect(await t.server.database.fingerprint()).toBe(before);
  });
});
