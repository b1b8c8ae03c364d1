// Row-level security (PostgreSQL): behind the access policy, the database itself keeps centers
// apart. The API connects as a role of its own (not a superuser, no BYPASSRLS, not the tables'
// owner) and every request's statements run scoped to the centers its viewer may reach, so a
// query that forgets its center filter still returns nothing from another center.
// On the embedded database (one process, one superuser) the policies exist but do not apply.
import { sql } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Access } from "../src/auth/access.js";
import { loadViewer } from "../src/auth/viewer.js";
import { fromGlobalId } from "../src/common/ids.js";
import { roleBypassesRls, type Db } from "../src/db/client.js";
import { asOrgAdmin, ADMIN_EMAIL, type Api } from "./support/fixtures.js";
import { startTestServer, type TestServer } from "./support/server.js";

const onPostgres = Boolean(process.env.TEST_DATABASE_URL);

/** Every table with center_id, and centers (keyed by id). */
const TENANT_TABLES = [
  "staff_memberships",
  "programs",
  "groups",
  "group_facilitators",
  "participants",
  "enrollments",
  "enrollment_events",
  "sessions",
  "attendance",
  "attendance_history",
  "follow_ups",
  "follow_up_events",
  "milestone_celebrations",
  "mentorships",
  "recovery_capital_assessments",
];

type Row = Record<string, unknown>;
const rowsOf = (r: unknown) => (Array.isArray(r) ? r : (r as { rows: unknown[] }).rows) as Row[];
const uuidOf = (globalId: string) => fromGlobalId(globalId)!.id;

interface World {
  a: string;
  b: string;
  clinicianA: string;
  clinicianAEmail: string;
}

async function buildCenter(org: Api, key: string) {
  const centerId = await org.createCenter(`Center ${key}`);
  const clinician = await org.createStaff(`clinician@${key}.test`, [{ centerId, role: "CLINICIAN" }]);
  const { program } = await org.mutate("createProgram", { centerId, name: `Program ${key}` }, "program { id }");
  const { group } = await org.mutate(
    "createGroup",
    {
      programId: program.id,
      name: `Group ${key}`,
      capacity: 5,
      startsOn: "2025-01-06",
      status: "ACTIVE",
      facilitatorIds: [clinician.id],
      schedule: { daysOfWeek: ["MONDAY"], startTime: "18:00", durationMinutes: 60 },
    },
    "group { id }",
  );
  const { participant } = await org.mutate("createParticipant", { centerId, firstName: `Person${key}`, lastName: key.toUpperCase() }, "participant { id }");
  await org.mutate("enrollParticipant", { groupId: group.id, participantId: participant.id }, "enrollment { id }");
  const { sessions } = await org.mutate("scheduleSessions", { groupId: group.id, from: "2025-01-06", to: "2025-01-20" }, "sessions { id }");
  for (const s of sessions as Array<{ id: string }>) {
    await org.mutate("recordAttendance", { sessionId: s.id, records: [{ participantId: participant.id, status: "ABSENT" }] }, "attendance { id }");
  }
  return { centerId: uuidOf(centerId), clinicianEmail: clinician.email.toLowerCase() };
}

describe.skipIf(!onPostgres)("row-level security on PostgreSQL", () => {
  let server: TestServer;
  let world: World;

  /** The database handle a request of this staff member gets (as src/server.ts builds it). */
  async function requestDb(subject: string | null) {
    const viewer = subject ? await loadViewer(server.database.db, subject) : null;
    return server.database.scope(new Access(viewer).reach());
  }

  async function centersIn(db: Db, table: string): Promise<string[]> {
    const column = table === "centers" ? "id" : "center_id";
    const rows = rowsOf(await db.execute(sql.raw(`select distinct ${column}::text as c from "${table}"`)));
    return rows.map((r) => r.c as string).sort();
  }

  beforeAll(async () => {
    server = await startTestServer({ appRole: true });
    const org = await asOrgAdmin(server);
    const a = await buildCenter(org, "a");
    const b = await buildCenter(org, "b");
    world = { a: a.centerId, b: b.centerId, clinicianA: a.clinicianEmail, clinicianAEmail: a.clinicianEmail };
  }, 120_000);
  afterAll(async () => {
    await server?.close();
  });

  it("given the API's database role, then it is not a superuser and cannot bypass row-level security", async () => {
    expect(server.database.rls).toBe(true);
    expect(await roleBypassesRls(server.database.db)).toBe(false);
    // It does not own the tables either.
    const owners = rowsOf(
      await server.database.db.execute(sql`select count(*)::int as n from pg_tables where schemaname = 'public' and tableowner = current_user`),
    );
    expect(owners[0].n).toBe(0);
  });

  it("given the schema, then every table with center_id (and centers) has row-level security forced and a policy, but the append-only audit log", async () => {
    const tables = rowsOf(
      await server.database.db.execute(sql`select c.relname as name, c.relrowsecurity as enabled, c.relforcerowsecurity as forced,
          exists (select 1 from pg_policies p where p.schemaname = 'public' and p.tablename = c.relname) as has_policy
        from pg_class c join pg_namespace n on n.oid = c.relnamespace
        where n.nspname = 'public' and c.relkind = 'r'
          and (c.relname = 'centers' or exists (select 1 from information_schema.columns k where k.table_schema = 'public' and k.table_name = c.relname and k.column_name = 'center_id'))
        order by c.relname`),
    );
    const unprotected = tables.filter((t) => !(t.enabled && t.forced && t.has_policy)).map((t) => t.name);
    expect(unprotected).toEqual(["audit_events"]);
    // The integrators' tables are among them (consent, the feed, disclosures)
    expect(tables.map((t) => t.name)).toEqual(expect.arrayContaining(["consents", "attendance_changes", "disclosures", "api_client_centers"]));
  });

  it("given every tenant table holds rows of both centers, when a clinician of A runs an unfiltered select on each, then only A's rows come back", async () => {
    // The world holds rows of both centers in the tables the fixtures fill (follow-ups included:
    // three absences in a row); the others must show nothing of B either.
    const filled = [
      "centers",
      "staff_memberships",
      "programs",
      "groups",
      "group_facilitators",
      "participants",
      "enrollments",
      "enrollment_events",
      "sessions",
      "attendance",
      "attendance_history",
      "follow_ups",
      "follow_up_events",
    ];
    for (const table of filled) {
      expect(await centersIn(server.database.db, table), `${table} holds both centers`).toEqual([world.a, world.b].sort());
    }
    const scope = await requestDb(world.clinicianA);
    try {
      for (const table of [...TENANT_TABLES, "centers"]) {
        const all = await centersIn(server.database.db, table);
        expect(await centersIn(scope.db, table), table).toEqual(all.filter((c) => c === world.a));
      }
      // The deliberately unfiltered query of the brief: every participant, no where clause.
      const everyone = rowsOf(await scope.db.execute(sql`select first_name from participants`));
      expect(everyone.map((r) => r.first_name)).toEqual(["Persona"]);
    } finally {
      await scope.release();
    }
  });

  it("given a request scoped to A, when it writes a row of center B (even one it names exactly), then PostgreSQL refuses it and B is unchanged", async () => {
    const scope = await requestDb(world.clinicianA);
    try {
      await expect(
        scope.db.execute(sql`insert into participants (center_id, first_name, last_name) values (${world.b}, 'Smuggled', 'In')`),
      ).rejects.toMatchObject({ cause: { code: "42501" } });
      const updated = rowsOf(await scope.db.execute(sql`update participants set first_name = 'Changed' where center_id = ${world.b} returning id`));
      expect(updated).toEqual([]);
      // Inside a transaction too (services write in transactions).
      await expect(
        scope.db.transaction(async (tx) => {
          await tx.execute(sql`update participants set last_name = 'A2' where center_id = ${world.a}`);
          await tx.execute(sql`insert into programs (center_id, name) values (${world.b}, 'Smuggled')`);
        }),
      ).rejects.toBeTruthy();
    } finally {
      await scope.release();
    }
    const names = rowsOf(await server.database.db.execute(sql`select first_name, last_name from participants order by first_name`));
    expect(names).toEqual([
      { first_name: "Persona", last_name: "A" },
      { first_name: "Personb", last_name: "B" },
    ]);
  });

  it("given no viewer, then a request sees no row of any tenant table; given the org admin, then every center", async () => {
    const nobody = await requestDb(null);
    const admin = await requestDb(ADMIN_EMAIL);
    try {
      for (const table of [...TENANT_TABLES, "centers"]) expect(await centersIn(nobody.db, table), table).toEqual([]);
      expect(await centersIn(admin.db, "participants")).toEqual([world.a, world.b].sort());
    } finally {
      await nobody.release();
      await admin.release();
    }
  });

  it("given many requests of A, B and nobody one after another on few connections, then none sees another's centers (the setting never outlives its request)", async () => {
    const viewerB = rowsOf(
      await server.database.db.execute(
        sql`select s.auth_subject from staff s join staff_memberships m on m.staff_id = s.id where m.center_id = ${world.b} and m.role = 'CLINICIAN'`,
      ),
    )[0].auth_subject as string;
    const expected: Record<string, string[]> = { a: [world.a], b: [world.b], none: [] };
    const subjects: Record<string, string | null> = { a: world.clinicianA, b: viewerB, none: null };
    const runs = Array.from({ length: 60 }, (_, i) => (["a", "b", "none"] as const)[i % 3]);
    await Promise.all(
      runs.map(async (who) => {
        const scope = await requestDb(subjects[who]);
        try {
          expect(await centersIn(scope.db, "participants")).toEqual(expected[who]);
          await scope.db.transaction(async (tx) => expect(await centersIn(tx as unknown as Db, "sessions")).toEqual(expected[who]));
        } finally {
          await scope.release();
        }
      }),
    );
    // And system work (start-up, authentication) still sees every center on its own connections.
    expect(await centersIn(server.database.db, "participants")).toEqual([world.a, world.b].sort());
  });

  it("given the running API under row-level security, when the clinician of A reads their center over HTTP, then it works and B stays out of reach", async () => {
    const token = await server.token(world.clinicianA);
    const res = await server.gql(`{ centers(first: 10) { nodes { name groups(first: 5) { nodes { name activeCount } } } } }`, {}, { token });
    expect(res.errors).toBeUndefined();
    expect(res.data.centers.nodes).toEqual([{ name: "Center a", groups: { nodes: [{ name: "Group a", activeCount: 1 }] } }]);
  });
});

describe.skipIf(onPostgres)("row-level security on the embedded database", () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer();
  });
  afterAll(async () => {
    await server?.close();
  });

  it("given the embedded database (one process, one superuser), then requests share its one handle and the access policy alone keeps centers apart", () => {
    expect(server.database.kind).toBe("pglite");
    expect(server.database.rls).toBe(false);
    const scope = server.database.scope(["00000000-0000-0000-0000-000000000000"]);
    expect(scope.db).toBe(server.database.db);
  });
});
