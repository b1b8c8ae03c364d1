// The audit log (src/audit/): an entry for every read, write and refusal of participant data,
// identifiers only, written once per request and chained by hash; auditEvents for admins; the
// schema walk that keeps every field of participant data audited.
import { spawnSync } from "node:child_process";
import { asc, eq, isNotNull, sql } from "drizzle-orm";
import {
  getNamedType,
  getNullableType,
  GraphQLID,
  GraphQLList,
  GraphQLNonNull,
  GraphQLObjectType,
  GraphQLSchema,
  GraphQLString,
  isInterfaceType,
  isObjectType,
  type GraphQLField,
} from "graphql";
import { describe, expect, it } from "vitest";
import { auditedMutations, returnedTypeName } from "../src/audit/audit.wrap.js";
import { appendAuditEntries, entriesOf, verifyAuditChain } from "../src/audit/audit.service.js";
import { setClock } from "../src/common/clock.js";
import { fromGlobalId } from "../src/common/ids.js";
import { auditIdentityOf } from "../src/common/policy.js";
import { attendance, auditEvents } from "../src/db/schema.js";
import { createSchema } from "../src/schema.js";
import { asOrgAdmin, sendMutation, type Api } from "./support/fixtures.js";
import { createApiClient, waitForHorizon } from "./support/integrators.js";
import { operation } from "./support/operations.js";
import { fakeClockEnv } from "./support/process.js";
import { useTestServer } from "./support/server.js";

const t = useTestServer();

const uuidOf = (globalId: string) => fromGlobalId(globalId)!.id;
const rowsOf = (r: unknown) => (Array.isArray(r) ? r : (r as { rows: unknown[] }).rows) as Array<Record<string, unknown>>;

async function auditRows() {
  return t.server.database.db.select().from(auditEvents).orderBy(asc(auditEvents.seq));
}

/** The sealed entries, in chain order. */
async function chainRows() {
  return t.server.database.db.select().from(auditEvents).where(isNotNull(auditEvents.chainSeq)).orderBy(asc(auditEvents.chainSeq));
}

const FIRST = "Zebulon";
const LAST = "Quixotewright";
const NOTE = "Relapsed-after-funeral-7731";

/** Two centers; at A a participant with a distinctive name, enrolled, with a noted attendance record. */
async function world(admin: Api) {
  const centerA = await admin.createCenter("Harbor House", "UTC");
  const centerB = await admin.createCenter("Bay Clinic", "UTC");
  const clinician = await admin.createStaff("clin@a.test", [{ centerId: centerA, role: "CLINICIAN" }]);
  const viewer = await admin.createStaff("view@a.test", [{ centerId: centerA, role: "VIEWER" }]);
  const centerAdmin = await admin.createStaff("admin@a.test", [{ centerId: centerA, role: "ADMIN" }]);
  const outsider = await admin.createStaff("clin@b.test", [{ centerId: centerB, role: "CLINICIAN" }]);
  const { program } = await admin.mutate("createProgram", { centerId: centerA, name: "Relapse prevention" }, "program { id }");
  const { group } = await admin.mutate(
    "createGroup",
    {
      programId: program.id,
      name: "Tuesday",
      capacity: 10,
      status: "ACTIVE",
      startsOn: "2026-01-06",
      schedule: { daysOfWeek: ["TUESDAY"], startTime: "18:00", durationMinutes: 60 },
    },
    "group { id }",
  );
  const clin = new (admin.constructor as typeof Api)(t.server, clinician.token);
  const { participant } = await clin.mutate("createParticipant", { centerId: centerA, firstName: FIRST, lastName: LAST }, "participant { id }");
  await clin.mutate("enrollParticipant", { groupId: group.id, participantId: participant.id }, "enrollment { id }");
  const { sessions } = await clin.mutate("scheduleSessions", { groupId: group.id, from: "2026-01-06", to: "2026-01-06" }, "sessions { id }");
  await clin.mutate(
    "recordAttendance",
    { sessionId: sessions[0].id, records: [{ participantId: participant.id, status: "ABSENT", note: NOTE }] },
    "attendance { id participant { firstName } }",
  );
  return { centerA, centerB, clinician, viewer, centerAdmin, outsider, participantId: participant.id as string, groupId: group.id, sessionId: sessions[0].id };
}

const PARTICIPANT = `query ParticipantCard($id: ID!) { node(id: $id) { ... on Participant { id firstName lastName } } }`;

describe("audit entries", () => {
  it("records a read of a participant: actor, center, resource, participants, operation name, request id", async () => {
    // Given a participant at center A
    const admin = await asOrgAdmin(t.server);
    const w = await world(admin);
    // When the clinician reads them, naming the operation
    const res = await t.server.gql(PARTICIPANT, { id: w.participantId }, { token: w.clinician.token, operationName: "ParticipantCard" });
    expect(res.data.node.firstName).toBe(FIRST);
    // Then one entry, written for that request, says so
    const requestId = res.headers.get("x-request-id");
    const entries = (await auditRows()).filter((r) => r.requestId === requestId);
    expect(entries).toHaveLength(1);
    expect(entries[0]).toMatchObject({
      actorType: "STAFF",
      actorId: uuidOf(w.clinician.id),
      centerId: uuidOf(w.centerA),
      action: "READ",
      resourceType: "Participant",
      resourceId: uuidOf(w.participantId),
      participantIds: [uuidOf(w.participantId)],
      operationName: "ParticipantCard",
      outcome: "ALLOWED",
    });
  });

  it("records writes as CREATE and UPDATE, named by the root field when no operationName is given", async () => {
    const admin = await asOrgAdmin(t.server);
    const w = await world(admin);
    const created = (await auditRows()).filter((r) => r.operationName === "createParticipant");
    expect(created.map((r) => [r.action, r.resourceType, r.resourceId, r.outcome])).toEqual([["CREATE", "Participant", uuidOf(w.participantId), "ALLOWED"]]);
    // The attendance batch: the record written (UPDATE, not also a READ of the record it returned),
    // and the participant's name it returned (READ)
    const recorded = (await auditRows()).filter((r) => r.operationName === "recordAttendance");
    expect(recorded.map((r) => [r.action, r.resourceType, r.participantIds])).toEqual([
      ["UPDATE", "Attendance", [uuidOf(w.participantId)]],
      ["READ", "Participant", [uuidOf(w.participantId)]],
    ]);
    // When the clinician updates the participant
    const res = await sendMutation(
      t.server,
      w.clinician.token,
      "updateParticipant",
      { participantId: w.participantId, preferredName: "Zeb" },
      "participant { id }",
    );
    expect(res.payload.userErrors).toEqual([]);
    const updated = (await auditRows()).filter((r) => r.requestId === res.headers.get("x-request-id"));
    expect(updated.map((r) => [r.action, r.resourceType, r.resourceId, r.actorId, r.centerId])).toEqual([
      ["UPDATE", "Participant", uuidOf(w.participantId), uuidOf(w.clinician.id), uuidOf(w.centerA)],
    ]);
  });

  it("records refusals as DENIED: a VIEWER refused names, a caller without credentials, an out-of-reach id, a mutation answered NOT_FOUND", async () => {
    const admin = await asOrgAdmin(t.server);
    const w = await world(admin);
    const entriesFor = async (res: { headers: Headers }) => (await auditRows()).filter((r) => r.requestId === res.headers.get("x-request-id"));

    // A VIEWER listing the center's participants: FORBIDDEN
    const viewed = await t.server.gql(
      `query { node(id: "${w.centerA}") { ... on Center { participants { nodes { firstName } } } } }`,
      {},
      { token: w.viewer.token },
    );
    expect(viewed.errors?.map((e) => e.extensions?.code)).toEqual(["FORBIDDEN"]);
    expect((await entriesFor(viewed)).map((r) => [r.action, r.outcome, r.resourceType, r.actorId, r.centerId])).toEqual([
      ["DENIED", "DENIED", "Participant", uuidOf(w.viewer.id), uuidOf(w.centerA)],
    ]);

    // No credentials: UNAUTHENTICATED, ANONYMOUS with the caller's address
    const anonymous = await t.server.gql(PARTICIPANT, { id: w.participantId }, { token: null });
    expect(anonymous.errors?.map((e) => e.extensions?.code)).toEqual(["UNAUTHENTICATED"]);
    expect(
      (await entriesFor(anonymous)).map((r) => [r.action, r.outcome, r.resourceType, r.resourceId, r.actorType, r.actorId, r.clientAddress, r.centerId]),
    ).toEqual([["DENIED", "DENIED", "Participant", uuidOf(w.participantId), "ANONYMOUS", null, "127.0.0.1", null]]);

    // A clinician of another center: null, as if missing, and DENIED in the log
    const outside = await t.server.gql(PARTICIPANT, { id: w.participantId }, { token: w.outsider.token });
    expect(outside.data.node).toBeNull();
    expect((await entriesFor(outside)).map((r) => [r.action, r.resourceType, r.resourceId, r.participantIds, r.actorId])).toEqual([
      ["DENIED", "Participant", uuidOf(w.participantId), [uuidOf(w.participantId)], uuidOf(w.outsider.id)],
    ]);

    // ... and updating them: NOT_FOUND
    const update = await sendMutation(t.server, w.outsider.token, "updateParticipant", { participantId: w.participantId, preferredName: "X" });
    expect(update.payload.userErrors.map((e: { code: string }) => e.code)).toEqual(["NOT_FOUND"]);
    expect((await entriesFor(update)).map((r) => [r.action, r.outcome, r.resourceType, r.resourceId])).toEqual([
      ["DENIED", "DENIED", "Participant", uuidOf(w.participantId)],
    ]);
  });

  it("answers a read whose entries cannot be written with an internal error and no data; a committed write keeps its answer", async () => {
    const admin = await asOrgAdmin(t.server);
    const w = await world(admin);
    const db = t.server.database.db;
    // Given an audit log that cannot be written to
    await db.execute(sql`alter function audit_append(jsonb) rename to audit_append_away`);
    try {
      // When the clinician reads the participant
      const read = await t.server.gql(PARTICIPANT, { id: w.participantId }, { token: w.clinician.token });
      // Then nothing of the participant is disclosed
      expect(read.status).toBe(500);
      expect(read.data ?? null).toBeNull();
      expect(read.errors?.map((e) => e.extensions?.code)).toEqual(["INTERNAL_SERVER_ERROR"]);
      expect(JSON.stringify(read)).not.toContain(FIRST);
      // And a write, already committed, is still answered
      const write = await sendMutation(
        t.server,
        w.clinician.token,
        "updateParticipant",
        { participantId: w.participantId, preferredName: "Zed" },
        "participant { id }",
      );
      expect(write.payload.userErrors).toEqual([]);
    } finally {
      await db.execute(sql`alter function audit_append_away(jsonb) rename to audit_append`);
    }
  });

  it("answers a read whose transaction cannot commit its entries with an internal error and no data, compiled or not", async () => {
    const admin = await asOrgAdmin(t.server);
    const w = await world(admin);
    const db = t.server.database.db;
    // Given an audit log whose entries are refused at COMMIT (a deferred check), the read and its
    // entries having gone through: what a compiled read meets when its COMMIT, sent behind its one
    // statement, fails
    await db.execute(sql`create function audit_refuse_commit() returns trigger language plpgsql as $$
      begin raise exception 'audit refused at commit'; end $$`);
    await db.execute(sql`create constraint trigger audit_refuse_commit after insert on audit_events
      deferrable initially deferred for each row execute function audit_refuse_commit()`);
    try {
      for (const query of [PARTICIPANT, operation("dashboard.graphql", "ParticipantHistory")]) {
        // When the clinician reads the participant
        const read = await t.server.gql(query, { id: w.participantId, participantId: w.participantId }, { token: w.clinician.token });
        // Then nothing of the participant is disclosed, and nothing was recorded (nothing committed)
        expect(read.status, query).toBe(500);
        expect(read.data ?? null).toBeNull();
        expect(read.errors?.map((e) => e.extensions?.code)).toEqual(["INTERNAL_SERVER_ERROR"]);
        expect(JSON.stringify(read)).not.toContain(FIRST);
        expect((await auditRows()).filter((r) => r.requestId === read.headers.get("x-request-id"))).toEqual([]);
      }
    } finally {
      await db.execute(sql`drop trigger audit_refuse_commit on audit_events`);
      await db.execute(sql`drop function audit_refuse_commit()`);
    }
  });

  // A held write (DbScope.holdNextTransaction) needs a request's own connection: PostgreSQL. On
  // the embedded database requests share one handle, and the write commits before its entries.
  it.skipIf(!process.env.TEST_DATABASE_URL)(
    "commits an attendance batch together with its audit entries: when they cannot be written, nothing is, and the answer is an internal error",
    async () => {
      const admin = await asOrgAdmin(t.server);
      const w = await world(admin);
      const db = t.server.database.db;
      const recordedNotes = async () =>
        JSON.stringify(
          await db
            .select()
            .from(attendance)
            .where(eq(attendance.sessionId, uuidOf(w.sessionId))),
        );
      const correctRecord = () =>
        sendMutation(
          t.server,
          w.clinician.token,
          "recordAttendance",
          { sessionId: w.sessionId, records: [{ participantId: w.participantId, status: "PRESENT", note: "Arrived after all" }] },
          "attendance { id status }",
        );
      const before = await recordedNotes();
      // Given an audit log that cannot be written to
      await db.execute(sql`alter function audit_append(jsonb) rename to audit_append_away`);
      try {
        // When the clinician corrects the participant's record
        const res = await correctRecord();
        // Then the answer is an internal error with no data
        expect(res.status).toBe(500);
        expect(res.data ?? null).toBeNull();
        expect(res.errors?.map((e) => e.extensions?.code)).toEqual(["INTERNAL_SERVER_ERROR"]);
      } finally {
        await db.execute(sql`alter function audit_append_away(jsonb) rename to audit_append`);
      }
      // And the record is as it was: the write rolled back with its entries
      expect(await recordedNotes()).toBe(before);
      // And once the log can be written again, the same batch commits with its entry
      const again = await correctRecord();
      expect(again.payload.userErrors).toEqual([]);
      const entries = (await auditRows()).filter((r) => r.requestId === again.headers.get("x-request-id"));
      expect(entries.map((r) => [r.action, r.resourceType])).toEqual([["UPDATE", "Attendance"]]);
    },
  );

  it("writes no entry (and no statement) for a read that touches no participant data", async () => {
    const admin = await asOrgAdmin(t.server);
    const w = await world(admin);
    const before = (await auditRows()).length;
    await admin.query(`query($id: ID!) { node(id: $id) { ... on Center { name groups { totalCount } } } }`, { id: w.centerA });
    expect((await auditRows()).length).toBe(before);
  });

  it("keeps names, notes and other text out of the audit rows after a workload", async () => {
    // Given the workload of world() plus the dashboards read by every role
    const admin = await asOrgAdmin(t.server);
    const w = await world(admin);
    for (const token of [admin.token, w.clinician.token, w.viewer.token, w.outsider.token]) {
      await t.server.gql(operation("dashboard.graphql", "SessionRoster"), { sessionId: w.sessionId }, { token });
      await t.server.gql(operation("dashboard.graphql", "ParticipantHistory"), { participantId: w.participantId }, { token });
      await t.server.gql(operation("dashboard.graphql", "CenterDashboard"), { centerId: w.centerA }, { token });
    }
    await sendMutation(t.server, w.clinician.token, "updateParticipant", { participantId: w.participantId, lastName: `${LAST}-Jr` });
    // Then the log has entries, and none carries a name, a note, an email or a staff name
    const text = rowsOf(await t.server.database.db.execute(sql`select t::text as row from audit_events t`)).map((r) => String(r.row));
    expect(text.length).toBeGreaterThan(10);
    for (const secret of [FIRST, LAST, NOTE, "clin@a.test", "Harbor House", "Relapse prevention", "Tuesday"]) {
      expect(
        text.filter((row) => row.toLowerCase().includes(secret.toLowerCase())),
        secret,
      ).toEqual([]);
    }
  });
});

describe("auditEvents", () => {
  const AUDIT_EVENTS = operation("audit.graphql", "AuditEvents");

  it("answers the contract's AuditEvents to org admins (every entry, newest first) and pages with after", async () => {
    const admin = await asOrgAdmin(t.server);
    const w = await world(admin);
    await t.server.gql(PARTICIPANT, { id: w.participantId }, { token: null });
    const total = (await auditRows()).length;
    const res = await t.server.gql(AUDIT_EVENTS, {}, { token: admin.token, operationName: "AuditEvents" });
    expect(res.errors).toBeUndefined();
    const nodes = res.data.auditEvents.nodes;
    expect(nodes).toHaveLength(total);
    // Newest first: the anonymous refusal leads, the participant's creation is further down
    expect(nodes[0]).toMatchObject({
      actorType: "ANONYMOUS",
      actorId: null,
      action: "DENIED",
      resourceType: "Participant",
      resourceId: w.participantId,
      outcome: "DENIED",
    });
    expect(nodes.find((n: any) => n.operationName === "createParticipant")).toMatchObject({
      actorType: "STAFF",
      actorId: w.clinician.id,
      action: "CREATE",
      resourceId: w.participantId,
      outcome: "ALLOWED",
    });
    expect(nodes.every((n: any) => !Number.isNaN(Date.parse(n.occurredAt)))).toBe(true);
    // Paging: two at a time, with no gap or repeat
    const first = await t.server.gql(AUDIT_EVENTS, { first: 2 }, { token: admin.token });
    const second = await t.server.gql(AUDIT_EVENTS, { first: 2, after: first.data.auditEvents.pageInfo.endCursor }, { token: admin.token });
    expect(first.data.auditEvents.pageInfo.hasNextPage).toBe(true);
    // (the full read above appended its own entry, which now leads)
    expect([...first.data.auditEvents.nodes, ...second.data.auditEvents.nodes].map((n: any) => [n.operationName, n.action])).toEqual([
      ["AuditEvents", "READ"],
      ...nodes.slice(0, 3).map((n: any) => [n.operationName, n.action]),
    ]);
  });

  it("audits reads of the audit log itself", async () => {
    const admin = await asOrgAdmin(t.server);
    await world(admin);
    const res = await t.server.gql(AUDIT_EVENTS, {}, { token: admin.token, operationName: "AuditEvents" });
    const own = (await auditRows()).filter((r) => r.requestId === res.headers.get("x-request-id"));
    expect(own.map((r) => [r.action, r.resourceType, r.operationName, r.centerId])).toEqual([["READ", "AuditEvent", "AuditEvents", null]]);
  });

  it("shows a center admin their centers' entries only, and refuses clinicians and viewers", async () => {
    const admin = await asOrgAdmin(t.server);
    const w = await world(admin);
    await t.server.gql(PARTICIPANT, { id: w.participantId }, { token: null }); // an entry of no center
    const bId = (await admin.mutate("createParticipant", { centerId: w.centerB, firstName: "B", lastName: "B" }, "participant { id }")).participant.id;
    const all = await auditRows();
    const res = await t.server.gql(`{ auditEvents(first: 100) { totalCount nodes { centerId participantIds } } }`, {}, { token: w.centerAdmin.token });
    expect(res.errors).toBeUndefined();
    const aEntries = all.filter((r) => r.centerId === uuidOf(w.centerA));
    expect(res.data.auditEvents.totalCount).toBe(aEntries.length);
    expect(res.data.auditEvents.nodes.every((n: any) => n.centerId === w.centerA)).toBe(true);
    expect(res.data.auditEvents.nodes.some((n: any) => n.participantIds.includes(bId))).toBe(false);
    for (const token of [w.clinician.token, w.viewer.token]) {
      const refused = await t.server.gql(`{ auditEvents { totalCount } }`, {}, { token });
      expect(refused.errors?.map((e) => e.extensions?.code)).toEqual(["FORBIDDEN"]);
    }
  });

  it("filters by participant, actor, action and time", async () => {
    const admin = await asOrgAdmin(t.server);
    setClock("2026-01-10T12:00:00Z");
    try {
      const w = await world(admin);
      setClock("2026-02-01T12:00:00Z");
      await t.server.gql(PARTICIPANT, { id: w.participantId }, { token: w.clinician.token });
      const q = `query($p: ID, $a: ID, $action: AuditAction, $from: DateTime, $to: DateTime) {
        auditEvents(first: 100, participantId: $p, actorId: $a, action: $action, from: $from, to: $to) { totalCount nodes { action actorId participantIds occurredAt } } }`;
      const get = async (v: Record<string, unknown>) => (await admin.query(q, v)).auditEvents;
      const byParticipant = await get({ p: w.participantId });
      expect(byParticipant.totalCount).toBeGreaterThanOrEqual(4);
      expect(byParticipant.nodes.every((n: any) => n.participantIds.includes(w.participantId))).toBe(true);
      // (the clinician read the name back when recording attendance in January, and again in February)
      const reads = await get({ p: w.participantId, a: w.clinician.id, action: "READ" });
      expect(reads.nodes.map((n: any) => [n.action, n.actorId])).toEqual([
        ["READ", w.clinician.id],
        ["READ", w.clinician.id],
      ]);
      expect((await get({ p: w.participantId, a: w.clinician.id, action: "READ", from: "2026-02-01T00:00:00Z" })).totalCount).toBe(1);
      const january = await get({ p: w.participantId, to: "2026-01-31T23:59:59Z" });
      const february = await get({ p: w.participantId, from: "2026-02-01T00:00:00Z" });
      expect(january.totalCount + february.totalCount).toBe(byParticipant.totalCount);
      expect(february.nodes.map((n: any) => n.occurredAt)).toEqual(["2026-02-01T12:00:00.000Z"]);
    } finally {
      setClock(() => new Date());
    }
  });
});

describe("the hash chain", () => {
  it("verifies after a workload, and names the first entry changed or removed", async () => {
    const admin = await asOrgAdmin(t.server);
    const w = await world(admin);
    for (const token of [admin.token, w.clinician.token, w.outsider.token, null]) await t.server.gql(PARTICIPANT, { id: w.participantId }, { token });
    const db = t.server.database.db;
    // (entries are chained by the sealer, after their requests)
    expect(await t.server.app.auditSealer.sealNow()).toBe(true);
    const rows = await chainRows();
    expect(rows.length).toBeGreaterThan(5);
    expect(await verifyAuditChain(db)).toEqual({ checked: rows.length });
    expect(rows[0].prevHash).toBe("0".repeat(64));
    expect(rows.slice(1).every((r, i) => r.prevHash === rows[i].hash)).toBe(true);

    // When someone with the owner's rights sets the trigger aside and changes an entry
    const victim = rows[3];
    await db.execute(sql`alter table audit_events disable trigger audit_events_append_only`);
    try {
      await db.execute(sql`update audit_events set action = 'DELETE', participant_ids = '{}' where seq = ${victim.seq}`);
      // Then the chain check names it
      const changed = await verifyAuditChain(db);
      expect(changed.broken).toMatchObject({ chainSeq: victim.chainSeq, id: victim.id });
      expect(changed.checked).toBe(3);

      // And the command line says so and exits 1 (it needs a database another process can open)
      if (t.server.database.url) {
        const run = spawnSync("npx", ["tsx", "src/scripts/audit-verify.ts"], {
          env: { ...process.env, ...fakeClockEnv(), DATABASE_URL: t.server.database.url },
          encoding: "utf8",
        });
        expect(run.status).toBe(1);
        expect(run.stderr).toContain(`broken link at chain position ${victim.chainSeq} (id ${victim.id})`);
      }

      // When instead an entry is removed (the changed one put back), the one after it is named
      await db.execute(
        sql`update audit_events set action = ${victim.action}, participant_ids = ${sql.raw(`'{${victim.participantIds.join(",")}}'`)} where seq = ${victim.seq}`,
      );
      expect(await verifyAuditChain(db)).toEqual({ checked: rows.length });
      await db.execute(sql`delete from audit_events where seq = ${rows[5].seq}`);
      expect((await verifyAuditChain(db)).broken).toMatchObject({ chainSeq: rows[6].chainSeq, id: rows[6].id });
    } finally {
      await db.execute(sql`alter table audit_events enable trigger audit_events_append_only`);
    }
  });

  it("refuses UPDATE and DELETE of audit rows", async () => {
    const admin = await asOrgAdmin(t.server);
    await world(admin);
    const db = t.server.database.db;
    const before = await auditRows();
    await expect(db.execute(sql`update audit_events set action = 'READ'`)).rejects.toThrow();
    await expect(db.execute(sql`delete from audit_events`)).rejects.toThrow();
    expect(await auditRows()).toEqual(before);
  });

  it("seals entries appended at once, without a lock, exactly once each in one total order, and measures an append", async () => {
    const admin = await asOrgAdmin(t.server);
    const w = await world(admin);
    const db = t.server.database.db;
    const sealer = t.server.app.auditSealer;
    const entry = () =>
      entriesOf(
        [{ action: "READ", outcome: "ALLOWED", resourceType: "Participant", resourceId: uuidOf(w.participantId), centerId: null, participantIds: [] }],
        { actor: null, operationName: "bench", requestId: null },
      );
    const N = 100;
    let started = performance.now();
    for (let i = 0; i < N; i++) await appendAuditEntries(db, entry());
    const serialMs = (performance.now() - started) / N;
    // When 100 appends and 20 requests run at once, while the sealer seals round after round
    let sealing = true;
    const rounds = (async () => {
      while (sealing) {
        await sealer.tick();
        await new Promise((resolve) => setTimeout(resolve, 2));
      }
    })();
    started = performance.now();
    await Promise.all(Array.from({ length: N }, () => appendAuditEntries(db, entry())));
    const concurrentMs = (performance.now() - started) / N;
    await Promise.all(Array.from({ length: 20 }, () => t.server.gql(PARTICIPANT, { id: w.participantId }, { token: w.clinician.token })));
    sealing = false;
    await rounds;
    await sealer.sealNow();
    // Then every entry is sealed, once, at positions 1..n, in (transaction, insertion) order, and the chain holds
    const rows = await chainRows();
    const all = await auditRows();
    expect(rows).toHaveLength(all.length);
    expect(rows.map((r) => r.chainSeq)).toEqual(rows.map((_, i) => i + 1));
    const byTx = [...rows].sort((a, b) => (BigInt(a.tx) < BigInt(b.tx) ? -1 : BigInt(a.tx) > BigInt(b.tx) ? 1 : a.seq - b.seq));
    expect(byTx.map((r) => r.id)).toEqual(rows.map((r) => r.id));
    expect(new Set(rows.map((r) => r.prevHash)).size).toBe(rows.length);
    expect(await verifyAuditChain(db)).toEqual({ checked: rows.length });
    console.info(`audit append (${t.server.database.kind}): ${serialMs.toFixed(2)} ms serial, ${concurrentMs.toFixed(2)} ms per append with ${N} at once`);
  });
});

describe("the audit schema walk", () => {
  /** Types that are participant data, decided here, apart from the audit module's own registry. */
  const PARTICIPANT_DATA = new Set([
    "Participant",
    "Attendance",
    "AttendanceChange",
    "RosterEntry",
    "Enrollment",
    "EnrollmentEvent",
    "FollowUp",
    "FollowUpEvent",
    "Milestone",
    "Mentorship",
    "RecoveryCapitalAssessment",
    "ParticipantEngagement",
    "AuditEvent",
  ]);

  const audited = (field: GraphQLField<unknown, unknown>) => Boolean((field.extensions as { audited?: string }).audited);
  const typeAudited = (ty: GraphQLObjectType) => Object.values(ty.getFields()).every(audited);

  /**
   * Fields that return participant data without being audited. Participant data: the listed
   * types, any type linking to one Participant, any type named Participant*. A field is
   * covered when its own resolver is audited or it hangs off an audited object (reading it reads
   * that object); node(id:) when every participant-data type it can return is audited. Every
   * mutation must be classified (its Policy({ audit }), src/common/policy.ts).
   */
  function unauditedFields(schema: GraphQLSchema, mutations: Record<string, unknown>): string[] {
    const types = Object.values(schema.getTypeMap()).filter((ty): ty is GraphQLObjectType => isObjectType(ty) && !ty.name.startsWith("__"));
    const plumbing = (name: string) => /(Connection|Edge|Payload)$/.test(name) || name === "PageInfo";
    const isData = (name: string) => {
      const ty = schema.getType(name);
      if (!isObjectType(ty) || plumbing(name)) return false;
      // A type about one participant: it links to exactly one (containers with lists of them, like Center, do not count)
      const aboutOne = Object.values(ty.getFields()).some((f) => getNullableType(f.type) === schema.getType("Participant"));
      return PARTICIPANT_DATA.has(name) || name.startsWith("Participant") || aboutOne;
    };
    const offenders: string[] = [];
    for (const type of types) {
      if (plumbing(type.name)) continue;
      for (const field of Object.values(type.getFields())) {
        const returned = getNamedType(field.type);
        const name = returnedTypeName(field);
        if (type === schema.getMutationType()) {
          if (!(field.name in mutations)) offenders.push(`Mutation.${field.name} (no audit declared: Policy({ audit }))`);
          continue;
        }
        if (isInterfaceType(returned)) {
          for (const impl of schema.getPossibleTypes(returned)) {
            if (isData(impl.name) && !typeAudited(impl)) offenders.push(`${type.name}.${field.name} (can return ${impl.name})`);
          }
          continue;
        }
        if (!isData(name)) continue;
        const target = schema.getType(name) as GraphQLObjectType;
        if (!(audited(field) || typeAudited(type) || typeAudited(target))) offenders.push(`${type.name}.${field.name}`);
      }
    }
    return offenders;
  }

  it("covers every field returning participant data, and classifies every mutation", async () => {
    const schema = await createSchema();
    expect(unauditedFields(schema, auditedMutations(schema))).toEqual([]);
    // The walk sees the fields it is about
    const participant = schema.getType("Participant") as GraphQLObjectType;
    expect(typeAudited(participant)).toBe(true);
    expect(Object.keys(auditedMutations(schema)).sort()).toEqual(Object.keys(schema.getMutationType()!.getFields()).sort());
  });

  it("names a new field of participant data that is not audited, and an unclassified mutation", () => {
    // Given a schema with a new type holding a participant, reachable from an unaudited field
    const Participant = new GraphQLObjectType({ name: "Participant", fields: { id: { type: GraphQLID, extensions: { audited: "Participant" } } } });
    const Relapse = new GraphQLObjectType({
      name: "Relapse",
      fields: { participant: { type: new GraphQLNonNull(Participant) }, note: { type: GraphQLString } },
    });
    const Payload = new GraphQLObjectType({ name: "RecordRelapsePayload", fields: { relapse: { type: Relapse } } });
    const schema = new GraphQLSchema({
      query: new GraphQLObjectType({
        name: "Query",
        fields: { relapses: { type: new GraphQLList(Relapse) }, participant: { type: Participant } },
      }),
      mutation: new GraphQLObjectType({ name: "Mutation", fields: { recordRelapse: { type: Payload } } }),
    });
    // Then the walk names the field returning it and the mutation
    expect(unauditedFields(schema, {})).toEqual(["Query.relapses", "Mutation.recordRelapse (no audit declared: Policy({ audit }))"]);
  });
});

// Generated from the declarations: every type that declares an audit identity (TypePolicy
// `audit`, src/common/policy.ts), read by a query along a path the test builds from the schema,
// produces its READ entry naming its participants.
describe("the declared audit identities, generated from the schema", () => {
  /** A query reaching `target` from `start` (through fields without required arguments and connections' nodes), or null. */
  function pathTo(schema: GraphQLSchema, start: GraphQLObjectType, target: string): string | null {
    const queue: Array<{ type: GraphQLObjectType; wrap: (inner: string) => string; depth: number }> = [{ type: start, wrap: (inner) => inner, depth: 0 }];
    const seen = new Set<string>([start.name]);
    while (queue.length) {
      const { type, wrap, depth } = queue.shift()!;
      // (a field of the object, as clients read it: the compiled path records what it reads)
      const leaf = Object.values(type.getFields()).find((f) => !isObjectType(getNamedType(f.type)) && f.args.length === 0)!;
      if (type.name === target) return `query($id: ID!) { node(id: $id) { ... on ${start.name} { ${wrap(leaf.name)} } } }`;
      if (depth >= 4) continue;
      for (const field of Object.values(type.getFields())) {
        if (field.args.some((a) => a.type instanceof GraphQLNonNull && a.defaultValue === undefined)) continue;
        const named = getNamedType(field.type);
        if (!isObjectType(named)) continue;
        const nodes = named.getFields().nodes;
        const next = nodes && named.getFields().pageInfo ? (getNamedType(nodes.type) as GraphQLObjectType) : named;
        const step = next === named ? (inner: string) => wrap(`${field.name} { ${inner} }`) : (inner: string) => wrap(`${field.name} { nodes { ${inner} } }`);
        if (seen.has(next.name)) continue;
        seen.add(next.name);
        queue.push({ type: next, wrap: step, depth: depth + 1 });
      }
    }
    return null;
  }

  // Audited types this world does not hold (each has its own file's audit test): reminders (planned
  // by the outbox worker, which test servers do not run in the background) and self check-ins (they
  // need CHECKIN_SECRET; test/checkin.test.ts checks their READ is recorded).
  const UNPOPULATED = ["CheckIn", "Reminder"];

  it("records a READ naming the participants of every audited type a query reads", { timeout: 300_000 }, async () => {
    // Given the world, with a recovery capital assessment and milestones (a recovery start date)
    const admin = await asOrgAdmin(t.server);
    const w = await world(admin);
    await admin.mutate("updateParticipant", { participantId: w.participantId, recoveryStartDate: "2025-01-01" }, "participant { id }");
    await admin.mutate(
      "recordRecoveryCapital",
      { participantId: w.participantId, instrument: "BARC_10", assessedOn: "2026-01-06", items: [4, 4, 4, 4, 4, 4, 4, 4, 4, 4] },
      "assessment { id }",
    );
    // and a facilitator of the group (whose reads the resolvers answer, not the compiled queries)
    const facilitator = await admin.createStaff("fac@a.test", [{ centerId: w.centerA, role: "FACILITATOR" }]);
    await admin.mutate("updateGroup", { groupId: w.groupId, facilitatorIds: [facilitator.id] }, "group { id }");
    // and the session's note, signed the next morning (a chart entry and a service record), with an
    // addendum to the member's part, and how the member wants to be reminded
    setClock("2026-01-07T09:00:00Z");
    const clin = new (admin.constructor as typeof Api)(t.server, w.clinician.token);
    await clin.mutate("recordAttendance", { sessionId: w.sessionId, records: [{ participantId: w.participantId, status: "PRESENT" }] }, "attendance { id }");
    const { note } = await clin.mutate(
      "saveSessionNote",
      {
        sessionId: w.sessionId,
        groupSummary: "Coping with cravings.",
        members: [{ participantId: w.participantId, participation: "ACTIVE", progress: "Engaged." }],
      },
      "note { id version }",
    );
    await clin.mutate("signSessionNote", { noteId: note.id, version: note.version }, "note { id }");
    await clin.mutate(
      "addNoteAddendum",
      { noteId: note.id, participantId: w.participantId, kind: "ADDENDUM", reason: "Follow-up", text: "Called after group." },
      "addendum { id }",
    );
    await clin.mutate("setContactPreferences", { participantId: w.participantId, channels: ["EMAIL"], email: "member@example.test" }, "participant { id }");
    // and a peer mentor two years into recovery, in the same group
    const { participant: mentor } = await clin.mutate(
      "createParticipant",
      { centerId: w.centerA, firstName: "Mentor", lastName: "Further-Along", recoveryStartDate: "2024-01-01" },
      "participant { id }",
    );
    await clin.mutate("enrollParticipant", { groupId: w.groupId, participantId: mentor.id }, "enrollment { id }");
    await clin.mutate("assignPeerMentor", { mentorId: mentor.id, menteeId: w.participantId }, "mentorship { id }");
    // and consent to an API client, which then reads the feed (a disclosure)
    const client = await createApiClient(admin, admin.token, { name: "EHR", centerIds: [w.centerA], scopes: ["ATTENDANCE_READ"] });
    const consent = await clin.mutate(
      "recordConsent",
      { participantId: w.participantId, recipientId: client.id, purpose: "Care coordination" },
      "consent { id }",
    );
    expect(consent.consent.id).toBeTruthy();
    await waitForHorizon(t.server);
    const feed = await t.server.gql(`{ attendanceChanges(first: 10) { edges { node { attendanceId } } } }`, {}, { token: client.key });
    expect(feed.errors).toBeUndefined();
    expect(feed.data.attendanceChanges.edges.length).toBeGreaterThan(0);
    // and two absences in a row after the first session, which open a follow-up
    setClock("2026-01-21T09:00:00Z");
    const { sessions: later } = await clin.mutate("scheduleSessions", { groupId: w.groupId, from: "2026-01-13", to: "2026-01-20" }, "sessions { id }");
    for (const s of later) {
      await clin.mutate("recordAttendance", { sessionId: s.id, records: [{ participantId: w.participantId, status: "ABSENT" }] }, "attendance { id }");
    }
    const open = await clin.query(`query($id: ID!) { node(id: $id) { ... on Center { followUps(first: 10) { edges { node { status } } } } } }`, {
      id: w.centerA,
    });
    expect(open.node.followUps.edges).toEqual([{ node: { status: "OPEN" } }]);
    const schema = await createSchema();
    const audited = Object.values(schema.getTypeMap())
      .filter((ty) => auditIdentityOf(ty))
      .map((ty) => ty.name);
    const starts: Array<[string, string]> = [
      ["Participant", w.participantId],
      ["Session", w.sessionId],
      ["Group", w.groupId],
      ["Center", w.centerA],
    ];
    for (const reader of [w.clinician, facilitator]) {
      const recorded: string[] = [];
      const unreached: string[] = [];
      for (const type of audited) {
        const found = starts.map(([start, id]) => ({ id, query: pathTo(schema, schema.getType(start) as GraphQLObjectType, type) })).find((s) => s.query);
        if (!found) {
          unreached.push(type);
          continue;
        }
        // When the clinician (and the facilitator) reads it
        const res = await t.server.gql(found.query!, { id: found.id }, { token: reader.token });
        // (consents are for clinical staff: a facilitator is refused them, and that refusal is recorded as such)
        if (reader === facilitator && res.errors?.every((e) => e.extensions?.code === "FORBIDDEN")) {
          unreached.push(type);
          continue;
        }
        expect(res.errors, `${type}: ${found.query}`).toBeUndefined();
        // Then the request's entries hold a READ of the type naming the participant
        const requestId = res.headers.get("x-request-id");
        const entries = (await auditRows()).filter((r) => r.requestId === requestId && r.resourceType === type && r.action === "READ");
        if (entries.some((e) => e.participantIds.includes(uuidOf(w.participantId)))) recorded.push(type);
      }
      // Every audited type the world holds was recorded; those it cannot hold are named here
      expect(recorded.sort()).toEqual(audited.filter((ty) => !unreached.includes(ty) && !UNPOPULATED.includes(ty)).sort());
      expect(recorded).toEqual(expect.arrayContaining(["Participant", "Attendance", "Enrollment", "RosterEntry", "Milestone", "RecoveryCapitalAssessment"]));
    }
  });
});
