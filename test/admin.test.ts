// The admin console over HTTP: centers, staff and their memberships, programs and groups, with
// the validation rules and who may do what.
import { count, eq } from "drizzle-orm";
import type { PgTable } from "drizzle-orm/pg-core";
import { describe, expect, it } from "vitest";
import { groupFacilitators, groups, programs, staff, staffMemberships } from "../src/db/schema.js";
import { ensureBootstrapAdmin } from "../src/staff/staff.service.js";
import { ADMIN_EMAIL, Api, asOrgAdmin, sendMutation } from "./support/fixtures.js";
import { operation } from "./support/operations.js";
import { useTestServer } from "./support/server.js";

const t = useTestServer();

/** Sends `<field>(input:)` and returns the whole response (GraphQL errors included). */
const send = (token: string, field: string, input: Record<string, unknown>, selection?: string) => sendMutation(t.server, token, field, input, selection);

/** The userErrors of a mutation that must not fail with a GraphQL error, as [field path, code]. */
async function refusals(token: string, field: string, input: Record<string, unknown>) {
  const res = await send(token, field, input);
  expect(res.errors, JSON.stringify(res.errors)).toBeUndefined();
  return (res.payload.userErrors as Array<{ field: string[] | null; code: string }>).map((e) => [e.field?.join("."), e.code]);
}

/** The GraphQL error code of a refused call. */
async function errorCode(token: string, field: string, input: Record<string, unknown>) {
  const res = await send(token, field, input);
  return res.errors?.[0]?.extensions?.code;
}

async function rows(table: PgTable): Promise<number> {
  const [{ n }] = await t.server.database.db.select({ n: count() }).from(table);
  return Number(n);
}

/**
 * Two centers; at North an ADMIN, a CLINICIAN and a FACILITATOR; at South its own ADMIN and a
 * staff member who belongs to South only.
 */
async function world() {
  const admin = await asOrgAdmin(t.server);
  const north = await admin.createCenter("North Clinic", "America/New_York");
  const south = await admin.createCenter("South Clinic", "America/Chicago");
  const northAdmin = await admin.createStaff("nadia@org.test", [{ centerId: north, role: "ADMIN" }]);
  const clinician = await admin.createStaff("carl@org.test", [{ centerId: north, role: "CLINICIAN" }]);
  const facilitator = await admin.createStaff("fay@org.test", [{ centerId: north, role: "FACILITATOR" }]);
  const southAdmin = await admin.createStaff("sam@org.test", [{ centerId: south, role: "ADMIN" }]);
  const southStaff = await admin.createStaff("sid@org.test", [{ centerId: south, role: "FACILITATOR" }]);
  return { admin, north, south, northAdmin, clinician, facilitator, southAdmin, southStaff };
}

async function createProgram(api: Api, centerId: string, extra: Record<string, unknown> = {}): Promise<string> {
  const p = await api.mutate("createProgram", { centerId, name: "Relapse prevention", ...extra }, "program { id }");
  return p.program.id;
}

const GROUP_SELECTION = `group {
  id name capacity status startsOn endsOn location virtualLink enrollmentMode
  schedule { daysOfWeek startTime durationMinutes }
  facilitators { id } leadFacilitator { id }
}`;

function groupInput(programId: string, facilitatorIds: string[], extra: Record<string, unknown> = {}) {
  return {
    programId,
    name: "Tuesday evening",
    capacity: 12,
    startsOn: "2026-01-05",
    endsOn: "2026-06-30",
    facilitatorIds,
    schedule: { daysOfWeek: ["TUESDAY"], startTime: "18:00", durationMinutes: 90 },
    ...extra,
  };
}

describe("centers", () => {
  it("lets a center admin change name, timezone, address and phone, canonicalizing the timezone", async () => {
    const w = await world();
    const res = await send(
      w.northAdmin.token,
      "updateCenter",
      { centerId: w.north, name: "  North House ", timezone: "america/los_angeles", address: "1 Main St", phone: "+1 555 0100" },
      "center { id name timezone address phone status }",
    );
    expect(res.errors).toBeUndefined();
    expect(res.payload).toEqual({
      center: { id: w.north, name: "North House", timezone: "America/Los_Angeles", address: "1 Main St", phone: "+1 555 0100", status: "ACTIVE" },
      userErrors: [],
    });
  });

  it("refuses an unknown timezone with INVALID_TIMEZONE and keeps the old one", async () => {
    const w = await world();
    expect(await refusals(w.northAdmin.token, "updateCenter", { centerId: w.north, timezone: "Mars/Olympus" })).toEqual([
      ["input.timezone", "INVALID_TIMEZONE"],
    ]);
    const data = await w.admin.query(`query($id: ID!) { center(id: $id) { timezone } }`, { id: w.north });
    expect(data.center.timezone).toBe("America/New_York");
  });

  it("refuses a blank name on update with one REQUIRED error, and clears address and phone with empty strings", async () => {
    const w = await world();
    await w.admin.mutate("updateCenter", { centerId: w.north, address: "1 Main St", phone: "555 0100" }, "center { id }");
    expect(await refusals(w.northAdmin.token, "updateCenter", { centerId: w.north, name: "  " })).toEqual([["input.name", "REQUIRED"]]);
    const p = await new Api(t.server, w.northAdmin.token).mutate(
      "updateCenter",
      { centerId: w.north, address: "", phone: "" },
      "center { name address phone }",
    );
    expect(p.center).toEqual({ name: "North Clinic", address: null, phone: null });
  });

  it("lets only org admins change a center's status (NOT_ALLOWED for a center admin)", async () => {
    const w = await world();
    expect(await refusals(w.northAdmin.token, "updateCenter", { centerId: w.north, status: "INACTIVE", name: "Renamed" })).toEqual([
      ["input.status", "NOT_ALLOWED"],
    ]);
    const unchanged = await w.admin.query(`query($id: ID!) { center(id: $id) { name status } }`, { id: w.north });
    expect(unchanged.center).toEqual({ name: "North Clinic", status: "ACTIVE" });

    const p = await w.admin.mutate("updateCenter", { centerId: w.north, status: "INACTIVE" }, "center { status }");
    expect(p.center.status).toBe("INACTIVE");
  });

  it("refuses center changes to a clinician (FORBIDDEN) and hides other centers from a center admin (NOT_FOUND)", async () => {
    const w = await world();
    expect(await errorCode(w.clinician.token, "updateCenter", { centerId: w.north, name: "X" })).toBe("FORBIDDEN");
    expect(await refusals(w.northAdmin.token, "updateCenter", { centerId: w.south, name: "X" })).toEqual([["input.centerId", "NOT_FOUND"]]);
  });

  it("lists only the viewer's centers, and all of them for an org admin", async () => {
    const w = await world();
    const q = `{ centers(first: 10) { totalCount nodes { id name } } }`;
    const all = await w.admin.query(q);
    expect(all.centers).toEqual({
      totalCount: 2,
      nodes: [
        { id: w.north, name: "North Clinic" },
        { id: w.south, name: "South Clinic" },
      ],
    });
    const mine = await new Api(t.server, w.southAdmin.token).query(q);
    expect(mine.centers).toEqual({ totalCount: 1, nodes: [{ id: w.south, name: "South Clinic" }] });
    const multi = await w.admin.createStaff("multi@org.test", [
      { centerId: w.north, role: "VIEWER" },
      { centerId: w.south, role: "CLINICIAN" },
    ]);
    const both = await new Api(t.server, multi.token).query(`{ centers(first: 1) { totalCount nodes { name } pageInfo { hasNextPage } } }`);
    expect(both.centers).toEqual({ totalCount: 2, nodes: [{ name: "North Clinic" }], pageInfo: { hasNextPage: true } });
  });
});

describe("staff", () => {
  const VIEWER = `{ viewer { id email isOrgAdmin memberships { role center { id } } } }`;

  it("lets an org admin create staff with roles at several centers; they sign in with their lowercased email", async () => {
    const w = await world();
    const res = await t.server.gql(
      operation("admin.graphql", "CreateStaff"),
      {
        input: {
          email: "Dana.Doe@Org.test",
          name: " Dana Doe ",
          memberships: [
            { centerId: w.north, role: "CLINICIAN" },
            { centerId: w.south, role: "VIEWER" },
          ],
        },
      },
      { token: w.admin.token },
    );
    expect(res.errors).toBeUndefined();
    const created = res.data.createStaff.staff;
    expect(created).toMatchObject({ email: "Dana.Doe@Org.test", name: "Dana Doe" });

    const dana = new Api(t.server, await t.server.token("dana.doe@org.test"));
    const me = await dana.query(VIEWER);
    expect(me.viewer.id).toBe(created.id);
    expect(me.viewer.isOrgAdmin).toBe(false);
    expect(me.viewer.memberships).toHaveLength(2);
    expect(me.viewer.memberships).toEqual(
      expect.arrayContaining([
        { role: "CLINICIAN", center: { id: w.north } },
        { role: "VIEWER", center: { id: w.south } },
      ]),
    );
  });

  it("lets a center admin create staff at their own center", async () => {
    const w = await world();
    const res = await send(
      w.northAdmin.token,
      "createStaff",
      { email: "new@org.test", name: "New Person", memberships: [{ centerId: w.north, role: "FACILITATOR" }] },
      "staff { email isOrgAdmin memberships { role center { id } } }",
    );
    expect(res.errors).toBeUndefined();
    expect(res.payload).toEqual({
      staff: { email: "new@org.test", isOrgAdmin: false, memberships: [{ role: "FACILITATOR", center: { id: w.north } }] },
      userErrors: [],
    });
  });

  it("keeps a center admin to their own centers: another center is NOT_FOUND, org admin and membership-less staff are FORBIDDEN", async () => {
    const w = await world();
    const before = { staff: await rows(staff), memberships: await rows(staffMemberships) };
    const token = w.northAdmin.token;

    expect(
      await refusals(token, "createStaff", {
        email: "x@org.test",
        name: "X",
        memberships: [
          { centerId: w.north, role: "CLINICIAN" },
          { centerId: w.south, role: "CLINICIAN" },
        ],
      }),
    ).toEqual([["input.memberships.1.centerId", "NOT_FOUND"]]);
    expect(
      await errorCode(token, "createStaff", { email: "x@org.test", name: "X", isOrgAdmin: true, memberships: [{ centerId: w.north, role: "ADMIN" }] }),
    ).toBe("FORBIDDEN");
    expect(await errorCode(token, "createStaff", { email: "x@org.test", name: "X" })).toBe("FORBIDDEN");
    expect(await errorCode(token, "createStaff", { email: "x@org.test", name: "X", memberships: [] })).toBe("FORBIDDEN");
    // A clinician may not manage staff even at their own center.
    expect(await errorCode(w.clinician.token, "createStaff", { email: "x@org.test", name: "X", memberships: [{ centerId: w.north, role: "VIEWER" }] })).toBe(
      "FORBIDDEN",
    );

    expect({ staff: await rows(staff), memberships: await rows(staffMemberships) }).toEqual(before);
  });

  it("treats emails as unique case-insensitively (EMAIL_TAKEN)", async () => {
    const w = await world();
    await w.admin.createStaff("A@x.test", [{ centerId: w.north, role: "VIEWER" }]);
    const before = await rows(staff);
    expect(
      await refusals(w.admin.token, "createStaff", {
        email: "a@x.test",
        name: "Other A",
        authSubject: "other-a",
        memberships: [{ centerId: w.north, role: "VIEWER" }],
      }),
    ).toEqual([["input.email", "EMAIL_TAKEN"]]);
    expect(await rows(staff)).toBe(before);
  });

  it("refuses an invalid email, a blank name and a center listed twice, all at once, writing nothing", async () => {
    const w = await world();
    const before = { staff: await rows(staff), memberships: await rows(staffMemberships) };
    expect(
      await refusals(w.admin.token, "createStaff", {
        email: "not-an-email",
        name: "  ",
        memberships: [
          { centerId: w.north, role: "VIEWER" },
          { centerId: w.north, role: "ADMIN" },
        ],
      }),
    ).toEqual([
      ["input.email", "INVALID"],
      ["input.name", "REQUIRED"],
      ["input.memberships.1.centerId", "DUPLICATE"],
    ]);
    expect({ staff: await rows(staff), memberships: await rows(staffMemberships) }).toEqual(before);
  });

  it("refuses an auth subject that is already linked, given or defaulted from the email (AUTH_SUBJECT_TAKEN)", async () => {
    const w = await world();
    const linked = await w.admin.mutate(
      "createStaff",
      { email: "sso@org.test", name: "SSO", authSubject: "c@x.test", memberships: [{ centerId: w.north, role: "VIEWER" }] },
      "staff { id }",
    );
    expect(linked.staff.id).toBeTruthy();
    const before = { staff: await rows(staff), memberships: await rows(staffMemberships) };

    expect(
      await refusals(w.admin.token, "createStaff", {
        email: "other@org.test",
        name: "Other",
        authSubject: "c@x.test",
        memberships: [{ centerId: w.north, role: "VIEWER" }],
      }),
    ).toEqual([["input.authSubject", "AUTH_SUBJECT_TAKEN"]]);
    // No authSubject given: it defaults to the lowercased email, which is taken.
    expect(await refusals(w.admin.token, "createStaff", { email: "C@X.test", name: "Cee", memberships: [{ centerId: w.north, role: "VIEWER" }] })).toEqual([
      ["input.authSubject", "AUTH_SUBJECT_TAKEN"],
    ]);
    expect({ staff: await rows(staff), memberships: await rows(staffMemberships) }).toEqual(before);
  });

  it("changes a role with setStaffMembership, and the person's next request acts with the new role", async () => {
    const w = await world();
    const clinician = new Api(t.server, w.clinician.token);
    expect(await errorCode(w.clinician.token, "createProgram", { centerId: w.north, name: "P" })).toBe("FORBIDDEN");

    const p = await new Api(t.server, w.northAdmin.token).mutate(
      "setStaffMembership",
      { staffId: w.clinician.id, centerId: w.north, role: "ADMIN" },
      "staff { id memberships { role center { id } } }",
    );
    expect(p.staff).toEqual({ id: w.clinician.id, memberships: [{ role: "ADMIN", center: { id: w.north } }] });

    const me = await clinician.query(VIEWER);
    expect(me.viewer.memberships).toEqual([{ role: "ADMIN", center: { id: w.north } }]);
    expect(await createProgram(clinician, w.north)).toBeTruthy();
  });

  it("grants a role at a new center with setStaffMembership, refusing centers the admin does not run", async () => {
    const w = await world();
    const southAdmin = new Api(t.server, w.southAdmin.token);
    // A center admin cannot reach staff of other centers: they read as missing.
    expect(await refusals(w.southAdmin.token, "setStaffMembership", { staffId: w.clinician.id, centerId: w.south, role: "VIEWER" })).toEqual([
      ["input.staffId", "NOT_FOUND"],
    ]);
    // The org admin brings the clinician to South.
    const p = await w.admin.mutate("setStaffMembership", { staffId: w.clinician.id, centerId: w.south, role: "VIEWER" }, "staff { id }");
    expect(p.staff.id).toBe(w.clinician.id);
    const me = await new Api(t.server, w.clinician.token).query(VIEWER);
    expect(me.viewer.memberships).toHaveLength(2);
    // The South admin sees the clinician's role at South only; North's staff stay out of sight.
    const STAFF = `query($id: ID!) { node(id: $id) { ... on Staff { email memberships { role center { id } } } } }`;
    expect((await southAdmin.query(STAFF, { id: w.clinician.id })).node).toEqual({
      email: "carl@org.test",
      memberships: [{ role: "VIEWER", center: { id: w.south } }],
    });
    expect((await southAdmin.query(STAFF, { id: w.facilitator.id })).node).toBeNull();

    expect(await refusals(w.southAdmin.token, "setStaffMembership", { staffId: w.southStaff.id, centerId: w.north, role: "ADMIN" })).toEqual([
      ["input.centerId", "NOT_FOUND"],
    ]);
    expect(await errorCode(w.clinician.token, "setStaffMembership", { staffId: w.facilitator.id, centerId: w.north, role: "ADMIN" })).toBe("FORBIDDEN");
  });

  it("removes a membership: the center disappears for that person; removing a missing one is NOT_FOUND", async () => {
    const w = await world();
    const northAdmin = new Api(t.server, w.northAdmin.token);
    const p = await northAdmin.mutate("removeStaffMembership", { staffId: w.clinician.id, centerId: w.north }, "staff { id }");
    expect(p.staff.id).toBe(w.clinician.id);

    const res = await t.server.gql(`query($id: ID!) { center(id: $id) { id } }`, { id: w.north }, { token: w.clinician.token });
    expect(res.data.center).toBeNull();
    const me = await new Api(t.server, w.clinician.token).query(VIEWER);
    expect(me.viewer.memberships).toEqual([]);

    expect(await refusals(w.northAdmin.token, "removeStaffMembership", { staffId: w.southStaff.id, centerId: w.north })).toEqual([
      ["input.staffId", "NOT_FOUND"],
    ]);
    expect(await refusals(w.northAdmin.token, "removeStaffMembership", { staffId: w.facilitator.id, centerId: w.south })).toEqual([
      ["input.centerId", "NOT_FOUND"],
    ]);
    expect(await refusals(w.northAdmin.token, "removeStaffMembership", { staffId: w.northAdmin.id, centerId: w.north })).toEqual([
      ["input.staffId", "NOT_ALLOWED"],
    ]);
    expect(await refusals(w.northAdmin.token, "setStaffMembership", { staffId: w.north, centerId: w.north, role: "ADMIN" })).toEqual([
      ["input.staffId", "NOT_FOUND"],
    ]);
    expect(await errorCode(w.facilitator.token, "removeStaffMembership", { staffId: w.clinician.id, centerId: w.north })).toBe("FORBIDDEN");
    expect(await rows(staffMemberships)).toBe(4); // five, less the one removed
  });

  it("lets org admins update staff, and refuses deactivating oneself", async () => {
    const w = await world();
    const p = await w.admin.mutate("updateStaff", { staffId: w.clinician.id, name: "Carl Clinician", email: "Carl@Org.test" }, "staff { name email }");
    expect(p.staff).toEqual({ name: "Carl Clinician", email: "Carl@Org.test" });

    expect(await refusals(w.admin.token, "updateStaff", { staffId: w.clinician.id, email: "FAY@org.test" })).toEqual([["input.email", "EMAIL_TAKEN"]]);
    expect(await refusals(w.admin.token, "updateStaff", { staffId: w.clinician.id, name: " ", email: "nope" })).toEqual([
      ["input.name", "REQUIRED"],
      ["input.email", "INVALID"],
    ]);

    const me = await w.admin.query(`{ viewer { id } }`);
    expect(await refusals(w.admin.token, "updateStaff", { staffId: me.viewer.id, status: "INACTIVE" })).toEqual([["input.status", "NOT_ALLOWED"]]);
    expect((await w.admin.query(`{ viewer { status } }`)).viewer.status).toBe("ACTIVE");
  });

  it("lets a center admin update the credential and co-signature of their center's staff, and nothing beyond them", async () => {
    const w = await world();
    // given a clinician of North only, and a facilitator who also works at South
    await w.admin.mutate("setStaffMembership", { staffId: w.facilitator.id, centerId: w.south, role: "FACILITATOR" }, "staff { id }");

    // when North's admin sets the clinician's credential and co-signature
    const p = await new Api(t.server, w.northAdmin.token).mutate(
      "updateStaff",
      { staffId: w.clinician.id, credential: "CADC-I", requiresCosign: true },
      "staff { credential requiresCosign }",
    );
    // then both are changed
    expect(p.staff).toEqual({ credential: "CADC-I", requiresCosign: true });

    // and a colleague who also works at a center North's admin does not administer reads as missing, unchanged
    expect(await refusals(w.northAdmin.token, "updateStaff", { staffId: w.facilitator.id, credential: "X" })).toEqual([["input.staffId", "NOT_FOUND"]]);
    // and staff of another center are missing too
    expect(await refusals(w.northAdmin.token, "updateStaff", { staffId: w.southStaff.id, credential: "X" })).toEqual([["input.staffId", "NOT_FOUND"]]);
    // and the organisation-admin flag is the org admins' alone
    expect(await errorCode(w.northAdmin.token, "updateStaff", { staffId: w.clinician.id, isOrgAdmin: true })).toBe("FORBIDDEN");
    // and a clinician may not update a colleague
    expect(await errorCode(w.clinician.token, "updateStaff", { staffId: w.northAdmin.id, name: "Y" })).toBe("FORBIDDEN");
    const credentials = await t.server.database.db.select({ email: staff.email, credential: staff.credential }).from(staff);
    expect(credentials.filter((r) => r.credential !== null)).toEqual([{ email: "carl@org.test", credential: "CADC-I" }]);
  });

  it("signs out a deactivated staff member: their token no longer authenticates", async () => {
    const w = await world();
    await w.admin.mutate("updateStaff", { staffId: w.clinician.id, status: "INACTIVE" }, "staff { status }");
    const res = await t.server.gql(`{ viewer { id } }`, {}, { token: w.clinician.token });
    expect(res.errors?.[0].extensions?.code).toBe("UNAUTHENTICATED");
  });

  it("lists a center's staff by name, only its members", async () => {
    const w = await world();
    const q = `query($id: ID!) { center(id: $id) { staff(first: 10) { totalCount nodes { email memberships { role } } } } }`;
    const north = await new Api(t.server, w.clinician.token).query(q, { id: w.north });
    expect(north.center.staff.totalCount).toBe(3);
    expect(north.center.staff.nodes.map((s: { email: string }) => s.email)).toEqual(["carl@org.test", "fay@org.test", "nadia@org.test"]);
    expect(north.center.staff.nodes.map((s: { memberships: Array<{ role: string }> }) => s.memberships[0].role)).toEqual(["CLINICIAN", "FACILITATOR", "ADMIN"]);
    const south = await w.admin.query(q, { id: w.south });
    expect(south.center.staff.nodes.map((s: { email: string }) => s.email)).toEqual(["sam@org.test", "sid@org.test"]);
  });
});

describe("bootstrap admin", () => {
  it("creates the org admin once, then is a no-op while an admin exists", async () => {
    const db = t.server.database.db;
    expect(await ensureBootstrapAdmin(db, "boss@org.test")).toBe("created");
    expect(await ensureBootstrapAdmin(db, "boss@org.test")).toBe("exists");
    expect(await ensureBootstrapAdmin(db, "someone-else@org.test")).toBe("exists");
    const admins = await db.select({ email: staff.email, authSubject: staff.authSubject }).from(staff).where(eq(staff.isOrgAdmin, true));
    expect(admins).toEqual([{ email: "boss@org.test", authSubject: "boss@org.test" }]);

    const boss = new Api(t.server, await t.server.token("boss@org.test"));
    expect((await boss.query(`{ viewer { email isOrgAdmin } }`)).viewer).toEqual({ email: "boss@org.test", isOrgAdmin: true });
  });

  it("promotes an existing staff member with that email instead of creating a second one", async () => {
    const db = t.server.database.db;
    const [existing] = await db.insert(staff).values({ email: "Boss@Org.test", name: "The Boss", authSubject: "boss@org.test" }).returning({ id: staff.id });
    expect(await ensureBootstrapAdmin(db, "boss@org.test")).toBe("promoted");
    const all = await db.select({ id: staff.id, isOrgAdmin: staff.isOrgAdmin }).from(staff);
    expect(all).toEqual([{ id: existing.id, isOrgAdmin: true }]);
  });

  it("creates exactly one admin when five instances start at once", async () => {
    const db = t.server.database.db;
    const results = await Promise.all(Array.from({ length: 5 }, () => ensureBootstrapAdmin(db, ADMIN_EMAIL)));
    expect(results.filter((r) => r === "created")).toHaveLength(1);
    expect(results.filter((r) => r === "exists")).toHaveLength(4);
    expect(await rows(staff)).toBe(1);
  });
});

describe("programs", () => {
  const PROGRAM = `program { id name description curriculum status billingCode attendancePolicy { absencesBeforeFollowUp } completionRule { minimumAttendedSessions } center { id } }`;

  it("creates a program with defaults: ACTIVE, two absences before follow-up, no curriculum", async () => {
    const w = await world();
    const res = await send(w.northAdmin.token, "createProgram", { centerId: w.north, name: " Relapse prevention " }, PROGRAM);
    expect(res.errors).toBeUndefined();
    expect(res.payload.program).toMatchObject({
      name: "Relapse prevention",
      description: null,
      curriculum: [],
      status: "ACTIVE",
      billingCode: null,
      attendancePolicy: { absencesBeforeFollowUp: 2 },
      completionRule: { minimumAttendedSessions: null },
      center: { id: w.north },
    });
  });

  it("keeps the attendance policy, completion rule, curriculum and an upper-cased billing code", async () => {
    const w = await world();
    const input = {
      centerId: w.north,
      name: "Relapse prevention",
      description: "Twelve weeks",
      curriculum: ["Triggers", " Coping skills "],
      attendancePolicy: { absencesBeforeFollowUp: 3 },
      completionRule: { minimumAttendedSessions: 10 },
      billingCode: "h0005",
    };
    const a = await send(w.northAdmin.token, "createProgram", input, PROGRAM);
    expect(a.payload.program).toMatchObject({
      description: "Twelve weeks",
      curriculum: ["Triggers", "Coping skills"],
      attendancePolicy: { absencesBeforeFollowUp: 3 },
      completionRule: { minimumAttendedSessions: 10 },
      billingCode: "H0005",
    });
    const b = await send(w.northAdmin.token, "createProgram", { centerId: w.north, name: "Group therapy", billingCode: "90853" }, PROGRAM);
    expect(b.payload.program.billingCode).toBe("90853");
  });

  it("refuses a malformed billing code, out-of-range absences and a blank name, all together, writing nothing", async () => {
    const w = await world();
    expect(await refusals(w.northAdmin.token, "createProgram", { centerId: w.north, name: "P", billingCode: "ABC" })).toEqual([
      ["input.billingCode", "INVALID"],
    ]);
    expect(await refusals(w.northAdmin.token, "createProgram", { centerId: w.north, name: "P", attendancePolicy: { absencesBeforeFollowUp: 0 } })).toEqual([
      ["input.attendancePolicy.absencesBeforeFollowUp", "INVALID"],
    ]);
    expect(await refusals(w.northAdmin.token, "createProgram", { centerId: w.north, name: "P", attendancePolicy: { absencesBeforeFollowUp: 53 } })).toEqual([
      ["input.attendancePolicy.absencesBeforeFollowUp", "INVALID"],
    ]);
    expect(
      await refusals(w.northAdmin.token, "createProgram", {
        centerId: w.north,
        name: "   ",
        billingCode: "ABC",
        attendancePolicy: { absencesBeforeFollowUp: 53 },
        completionRule: { minimumAttendedSessions: 0 },
      }),
    ).toEqual([
      ["input.name", "REQUIRED"],
      ["input.attendancePolicy.absencesBeforeFollowUp", "INVALID"],
      ["input.completionRule.minimumAttendedSessions", "INVALID"],
      ["input.billingCode", "INVALID"],
    ]);
    expect(await rows(programs)).toBe(0);
  });

  it("updates a program, and refuses to reactivate a retired one (INVALID_TRANSITION)", async () => {
    const w = await world();
    const northAdmin = new Api(t.server, w.northAdmin.token);
    const programId = await createProgram(northAdmin, w.north, { billingCode: "90853", curriculum: ["A"] });
    const u = await northAdmin.mutate(
      "updateProgram",
      { programId, name: "Renamed", curriculum: ["A", "B"], billingCode: "", attendancePolicy: { absencesBeforeFollowUp: 4 } },
      PROGRAM,
    );
    expect(u.program).toMatchObject({
      name: "Renamed",
      curriculum: ["A", "B"],
      billingCode: null,
      attendancePolicy: { absencesBeforeFollowUp: 4 },
      status: "ACTIVE",
    });

    const r = await northAdmin.mutate("updateProgram", { programId, status: "RETIRED" }, "program { status }");
    expect(r.program.status).toBe("RETIRED");
    expect(await refusals(w.northAdmin.token, "updateProgram", { programId, status: "ACTIVE" })).toEqual([["input.status", "INVALID_TRANSITION"]]);
    expect(await refusals(w.northAdmin.token, "updateProgram", { programId, name: " " })).toEqual([["input.name", "REQUIRED"]]);
    const n = await northAdmin.query(`query($id: ID!) { node(id: $id) { ... on Program { status name } } }`, { id: programId });
    expect(n.node).toEqual({ status: "RETIRED", name: "Renamed" });
  });

  it("refuses program changes to clinicians (FORBIDDEN) and hides other centers' programs (NOT_FOUND)", async () => {
    const w = await world();
    const programId = await createProgram(w.admin, w.north);
    const southProgram = await createProgram(w.admin, w.south);
    expect(await errorCode(w.clinician.token, "createProgram", { centerId: w.north, name: "P" })).toBe("FORBIDDEN");
    expect(await errorCode(w.clinician.token, "updateProgram", { programId, name: "P" })).toBe("FORBIDDEN");
    expect(await refusals(w.northAdmin.token, "updateProgram", { programId: southProgram, name: "P" })).toEqual([["input.programId", "NOT_FOUND"]]);
    expect(await refusals(w.northAdmin.token, "createProgram", { centerId: w.south, name: "P" })).toEqual([["input.centerId", "NOT_FOUND"]]);
  });

  it("filters a center's programs by status and lists a program's groups", async () => {
    const w = await world();
    const active = await createProgram(w.admin, w.north, { name: "Active one" });
    await createProgram(w.admin, w.north, { name: "Draft one", status: "DRAFT" });
    const retired = await createProgram(w.admin, w.north, { name: "Old one" });
    await w.admin.mutate("updateProgram", { programId: retired, status: "RETIRED" }, "program { id }");
    await createProgram(w.admin, w.south, { name: "Elsewhere" });
    const g1 = await w.admin.mutate("createGroup", groupInput(active, [w.facilitator.id], { name: "Monday" }), "group { id }");
    const g2 = await w.admin.mutate("createGroup", groupInput(active, [], { name: "Thursday" }), "group { id }");

    const q = `query($id: ID!) {
      center(id: $id) {
        all: programs(first: 10) { totalCount nodes { name } }
        draft: programs(status: DRAFT) { nodes { name } }
        retired: programs(status: RETIRED) { nodes { name } }
        current: programs(status: ACTIVE) { nodes { name groups(first: 10) { totalCount nodes { id name } } } }
      }
    }`;
    const data = await new Api(t.server, w.clinician.token).query(q, { id: w.north });
    expect(data.center.all).toEqual({ totalCount: 3, nodes: [{ name: "Active one" }, { name: "Draft one" }, { name: "Old one" }] });
    expect(data.center.draft.nodes).toEqual([{ name: "Draft one" }]);
    expect(data.center.retired.nodes).toEqual([{ name: "Old one" }]);
    expect(data.center.current.nodes).toEqual([
      {
        name: "Active one",
        groups: {
          totalCount: 2,
          nodes: [
            { id: g1.group.id, name: "Monday" },
            { id: g2.group.id, name: "Thursday" },
          ],
        },
      },
    ]);
  });
});

describe("groups", () => {
  async function groupWorld() {
    const w = await world();
    const programId = await createProgram(w.admin, w.north);
    const coFacilitator = await w.admin.createStaff("cora@org.test", [{ centerId: w.north, role: "FACILITATOR" }]);
    return { ...w, programId, coFacilitator, api: new Api(t.server, w.northAdmin.token) };
  }

  it("creates a group with the lead facilitator first, in facilitators and as leadFacilitator", async () => {
    const w = await groupWorld();
    const res = await send(
      w.northAdmin.token,
      "createGroup",
      groupInput(w.programId, [w.facilitator.id, w.coFacilitator.id], {
        leadFacilitatorId: w.coFacilitator.id,
        location: " Room 4 ",
        schedule: { daysOfWeek: ["THURSDAY", "MONDAY"], startTime: "09:30", durationMinutes: 60 },
      }),
      GROUP_SELECTION,
    );
    expect(res.errors).toBeUndefined();
    expect(res.payload.userErrors).toEqual([]);
    expect(res.payload.group).toMatchObject({
      status: "PLANNED",
      enrollmentMode: "ROLLING",
      location: "Room 4",
      virtualLink: null,
      schedule: { daysOfWeek: ["MONDAY", "THURSDAY"], startTime: "09:30", durationMinutes: 60 },
      facilitators: [{ id: w.coFacilitator.id }, { id: w.facilitator.id }],
      leadFacilitator: { id: w.coFacilitator.id },
    });
  });

  it("refuses out-of-range capacity, dates and durations (INVALID), writing nothing", async () => {
    const w = await groupWorld();
    const cases: Array<[Record<string, unknown>, string]> = [
      [{ capacity: 0 }, "input.capacity"],
      [{ capacity: 501 }, "input.capacity"],
      [{ startsOn: "2026-03-01", endsOn: "2026-02-28" }, "input.endsOn"],
      [{ schedule: { daysOfWeek: ["MONDAY"], startTime: "18:00", durationMinutes: 4 } }, "input.schedule.durationMinutes"],
      [{ schedule: { daysOfWeek: ["MONDAY"], startTime: "18:00", durationMinutes: 721 } }, "input.schedule.durationMinutes"],
      [{ virtualLink: "http://meet.example.com/room" }, "input.virtualLink"],
      [{ virtualLink: "not a link" }, "input.virtualLink"],
    ];
    for (const [extra, field] of cases) {
      expect(await refusals(w.northAdmin.token, "createGroup", groupInput(w.programId, [], extra)), JSON.stringify(extra)).toEqual([[field, "INVALID"]]);
    }
    expect(await rows(groups)).toBe(0);
  });

  it("accepts the bounds: capacity 1 and 500, durations 5 and 720, a same-day end, an https link", async () => {
    const w = await groupWorld();
    for (const extra of [
      { capacity: 1, schedule: { daysOfWeek: ["SUNDAY"], startTime: "00:00", durationMinutes: 5 } },
      { capacity: 500, startsOn: "2026-02-01", endsOn: "2026-02-01", virtualLink: "https://meet.example.com/r" },
      { schedule: { daysOfWeek: ["SATURDAY"], startTime: "23:59", durationMinutes: 720 } },
    ]) {
      await w.api.mutate("createGroup", groupInput(w.programId, [], extra), "group { id }");
    }
    expect(await rows(groups)).toBe(3);
  });

  it("refuses a schedule without days (REQUIRED) or with a day twice (DUPLICATE)", async () => {
    const w = await groupWorld();
    expect(
      await refusals(w.northAdmin.token, "createGroup", groupInput(w.programId, [], { schedule: { daysOfWeek: [], startTime: "18:00", durationMinutes: 60 } })),
    ).toEqual([["input.schedule.daysOfWeek", "REQUIRED"]]);
    expect(
      await refusals(
        w.northAdmin.token,
        "createGroup",
        groupInput(w.programId, [], { schedule: { daysOfWeek: ["MONDAY", "FRIDAY", "MONDAY"], startTime: "18:00", durationMinutes: 60 } }),
      ),
    ).toEqual([["input.schedule.daysOfWeek", "DUPLICATE"]]);
  });

  it("rejects a start time that is not a wall-clock time at the GraphQL layer (BAD_USER_INPUT)", async () => {
    const w = await groupWorld();
    const res = await send(
      w.northAdmin.token,
      "createGroup",
      groupInput(w.programId, [], { schedule: { daysOfWeek: ["MONDAY"], startTime: "25:00", durationMinutes: 60 } }),
    );
    expect(res.errors?.[0].extensions?.code).toBe("BAD_USER_INPUT");
    expect(await rows(groups)).toBe(0);
  });

  it("checks facilitators: members of the center only (NOT_FOUND), once each (DUPLICATE), lead among them (INVALID)", async () => {
    const w = await groupWorld();
    const token = w.northAdmin.token;
    expect(await refusals(token, "createGroup", groupInput(w.programId, [w.southStaff.id, w.facilitator.id]))).toEqual([
      ["input.facilitatorIds.0", "NOT_FOUND"],
    ]);
    expect(await refusals(token, "createGroup", groupInput(w.programId, [w.facilitator.id, w.coFacilitator.id, w.facilitator.id]))).toEqual([
      ["input.facilitatorIds.2", "DUPLICATE"],
    ]);
    expect(await refusals(token, "createGroup", groupInput(w.programId, [w.facilitator.id], { leadFacilitatorId: w.coFacilitator.id }))).toEqual([
      ["input.leadFacilitatorId", "INVALID"],
    ]);
    // A center id is not a staff id.
    expect(await refusals(token, "createGroup", groupInput(w.programId, [w.north]))).toEqual([["input.facilitatorIds.0", "NOT_FOUND"]]);
    expect(await rows(groups)).toBe(0);
    expect(await rows(groupFacilitators)).toBe(0);
  });

  it("refuses a group for a retired program (PROGRAM_NOT_ACTIVE) and group changes to clinicians (FORBIDDEN)", async () => {
    const w = await groupWorld();
    await w.api.mutate("updateProgram", { programId: w.programId, status: "RETIRED" }, "program { id }");
    expect(await refusals(w.northAdmin.token, "createGroup", groupInput(w.programId, []))).toEqual([["input.programId", "PROGRAM_NOT_ACTIVE"]]);
    expect(await errorCode(w.clinician.token, "createGroup", groupInput(w.programId, []))).toBe("FORBIDDEN");
    expect(await rows(groups)).toBe(0);
  });

  it("moves a group PLANNED -> ACTIVE -> PAUSED -> ACTIVE -> CLOSED, and never out of CLOSED", async () => {
    const w = await groupWorld();
    const g = await w.api.mutate("createGroup", groupInput(w.programId, [w.facilitator.id]), "group { id status }");
    const groupId = g.group.id;
    expect(g.group.status).toBe("PLANNED");
    for (const status of ["ACTIVE", "PAUSED", "ACTIVE", "CLOSED"]) {
      const u = await t.server.gql(operation("admin.graphql", "UpdateGroup"), { input: { groupId, status } }, { token: w.northAdmin.token });
      expect(u.data.updateGroup).toMatchObject({ group: { status }, userErrors: [] });
    }
    expect(await refusals(w.northAdmin.token, "updateGroup", { groupId, status: "ACTIVE" })).toEqual([["input.status", "INVALID_TRANSITION"]]);
    const n = await w.api.query(`query($id: ID!) { node(id: $id) { ... on Group { status } } }`, { id: groupId });
    expect(n.node.status).toBe("CLOSED");
  });

  it("replaces facilitators, changes the schedule and clears the location with an empty string", async () => {
    const w = await groupWorld();
    const g = await w.api.mutate("createGroup", groupInput(w.programId, [w.facilitator.id], { location: "Room 4" }), "group { id }");
    const groupId = g.group.id;
    const u = await w.api.mutate(
      "updateGroup",
      {
        groupId,
        facilitatorIds: [w.facilitator.id, w.coFacilitator.id],
        leadFacilitatorId: w.coFacilitator.id,
        schedule: { daysOfWeek: ["WEDNESDAY", "MONDAY"], startTime: "07:15", durationMinutes: 45 },
        location: "",
        capacity: 20,
        name: "Morning group",
      },
      GROUP_SELECTION,
    );
    expect(u.group).toMatchObject({
      name: "Morning group",
      capacity: 20,
      location: null,
      schedule: { daysOfWeek: ["MONDAY", "WEDNESDAY"], startTime: "07:15", durationMinutes: 45 },
      facilitators: [{ id: w.coFacilitator.id }, { id: w.facilitator.id }],
      leadFacilitator: { id: w.coFacilitator.id },
    });

    const v = await w.api.mutate("updateGroup", { groupId, facilitatorIds: [w.facilitator.id] }, GROUP_SELECTION);
    expect(v.group).toMatchObject({ facilitators: [{ id: w.facilitator.id }], leadFacilitator: { id: w.facilitator.id }, name: "Morning group" });
    expect(await rows(groupFacilitators)).toBe(1);

    // The removed co-facilitator no longer sees the group.
    const seen = await t.server.gql(`query($id: ID!) { node(id: $id) { id } }`, { id: groupId }, { token: w.coFacilitator.token });
    expect(seen.data.node).toBeNull();
  });

  it("validates updates like creation, writing nothing", async () => {
    const w = await groupWorld();
    const g = await w.api.mutate("createGroup", groupInput(w.programId, [w.facilitator.id]), GROUP_SELECTION);
    const groupId = g.group.id;
    expect(
      await refusals(w.northAdmin.token, "updateGroup", {
        groupId,
        name: "",
        capacity: 501,
        endsOn: "2025-12-31",
        facilitatorIds: [w.southStaff.id],
        virtualLink: "ftp://x.test",
      }),
    ).toEqual([
      ["input.name", "REQUIRED"],
      ["input.capacity", "INVALID"],
      ["input.virtualLink", "INVALID"],
      ["input.endsOn", "INVALID"],
      ["input.facilitatorIds.0", "NOT_FOUND"],
    ]);
    const after = await w.api.query(`query($id: ID!) { node(id: $id) { ... on Group { name capacity endsOn facilitators { id } } } }`, { id: groupId });
    expect(after.node).toEqual({ name: "Tuesday evening", capacity: 12, endsOn: "2026-06-30", facilitators: [{ id: w.facilitator.id }] });
  });

  it("filters a center's groups by status", async () => {
    const w = await groupWorld();
    const a = await w.api.mutate("createGroup", groupInput(w.programId, [], { name: "A" }), "group { id }");
    await w.api.mutate("createGroup", groupInput(w.programId, [], { name: "B" }), "group { id }");
    const c = await w.api.mutate("createGroup", groupInput(w.programId, [], { name: "C" }), "group { id }");
    await w.api.mutate("updateGroup", { groupId: a.group.id, status: "ACTIVE" }, "group { id }");
    await w.api.mutate("updateGroup", { groupId: c.group.id, status: "ACTIVE" }, "group { id }");
    await w.api.mutate("updateGroup", { groupId: c.group.id, status: "PAUSED" }, "group { id }");
    const q = `query($id: ID!) {
      center(id: $id) {
        all: groups(first: 10) { totalCount nodes { name } }
        active: groups(status: ACTIVE) { totalCount nodes { name } }
        planned: groups(status: PLANNED) { nodes { name } }
        paused: groups(status: PAUSED) { nodes { name } }
        closed: groups(status: CLOSED) { totalCount }
      }
    }`;
    const data = await w.api.query(q, { id: w.north });
    expect(data.center).toEqual({
      all: { totalCount: 3, nodes: [{ name: "A" }, { name: "B" }, { name: "C" }] },
      active: { totalCount: 1, nodes: [{ name: "A" }] },
      planned: { nodes: [{ name: "B" }] },
      paused: { nodes: [{ name: "C" }] },
      closed: { totalCount: 0 },
    });
  });
});
