// Sealing the audit log (src/audit/audit.sealer.ts, audit.checkpoint.ts): requests insert their
// entries unchained; one elected sealer chains the committed ones below the transaction horizon;
// checkpoints signed with an Ed25519 key; audit:verify with signatures and an exported
// checkpoint; seal lag at /metrics; anonymous refusals with the client's address.
import { spawnSync } from "node:child_process";
import { generateKeyPairSync } from "node:crypto";
import { asc, eq, isNotNull, isNull, sql } from "drizzle-orm";
import postgres from "postgres";
import { describe, expect, it } from "vitest";
import { loadVerifyKeys, verifyAuditLog, type Checkpoint } from "../src/audit/audit.checkpoint.js";
import { AuditSealer } from "../src/audit/audit.sealer.js";
import { appendAuditEntries, entriesOf, verifyAuditChain } from "../src/audit/audit.service.js";
import { setClock } from "../src/common/clock.js";
import { openDatabase } from "../src/db/client.js";
import { auditCheckpoints, auditEvents } from "../src/db/schema.js";
import { createLogger, silentLogger } from "../src/logger.js";
import { asOrgAdmin } from "./support/fixtures.js";
import { fakeClockEnv } from "./support/process.js";
import { startTestServer, useTestServer } from "./support/server.js";

const onPostgres = Boolean(process.env.TEST_DATABASE_URL);

const keys = generateKeyPairSync("ed25519");
const PRIVATE_PEM = keys.privateKey.export({ type: "pkcs8", format: "pem" }).toString();
const PUBLIC_PEM = keys.publicKey.export({ type: "spki", format: "pem" }).toString();

const t = useTestServer({ env: { AUDIT_SIGNING_KEY: PRIVATE_PEM, AUDIT_CHECKPOINT_ENTRIES: "5", AUDIT_CHECKPOINT_SECONDS: "60" } });

const PARTICIPANT = `query ParticipantCard($id: ID!) { node(id: $id) { ... on Participant { id firstName } } }`;

async function participant() {
  const admin = await asOrgAdmin(t.server);
  const center = await admin.createCenter("Harbor House", "UTC");
  const { participant } = await admin.mutate("createParticipant", { centerId: center, firstName: "Ada", lastName: "Byron" }, "participant { id }");
  return { admin, participantId: participant.id as string };
}

/** One unchained entry, as a request writes it. */
const entry = (operationName = "test") =>
  entriesOf([{ action: "READ", outcome: "ALLOWED", resourceType: "Participant", resourceId: null, centerId: null, participantIds: [] }], {
    actor: null,
    operationName,
    requestId: null,
  });

const db = () => t.server.database.db;
const chain = () => db().select().from(auditEvents).where(isNotNull(auditEvents.chainSeq)).orderBy(asc(auditEvents.chainSeq));
const unsealed = () => db().select().from(auditEvents).where(isNull(auditEvents.chainSeq));

describe("sealing", () => {
  it("leaves a request's entry unchained, and the sealer chains it after, at the next position", async () => {
    const { admin, participantId } = await participant();
    await t.server.app.auditSealer.sealNow();
    const before = (await chain()).length;
    // When a participant is read
    const res = await t.server.gql(PARTICIPANT, { id: participantId }, { token: admin.token });
    const requestId = res.headers.get("x-request-id");
    // Then its entry is written with its digest, not yet chained
    const [written] = (await unsealed()).filter((r) => r.requestId === requestId);
    expect(written).toMatchObject({ chainSeq: null, hash: null, prevHash: null });
    expect(written.digest).toMatch(/^[0-9a-f]{64}$/);
    // And once sealed it is the next link
    expect(await t.server.app.auditSealer.sealNow()).toBe(true);
    const [sealed] = (await chain()).filter((r) => r.requestId === requestId);
    expect(sealed.chainSeq).toBe(before + 1);
    expect(await verifyAuditChain(db())).toEqual({ checked: before + 1 });
  });

  it("refuses an UPDATE that is not the one sealing of an unsealed entry", async () => {
    await appendAuditEntries(db(), entry());
    const [row] = await unsealed();
    // A wrong link, or a change of content with the seal, is refused
    await expect(
      db().execute(sql`update audit_events set chain_seq = 1, prev_hash = ${"0".repeat(64)}, hash = ${"f".repeat(64)} where seq = ${row.seq}`),
    ).rejects.toThrow();
    await expect(db().execute(sql`update audit_events set action = 'DELETE' where seq = ${row.seq}`)).rejects.toThrow();
    // and so is sealing from a session that is not the elected sealer
    expect(await t.server.app.auditSealer.sealNow()).toBe(true);
    await appendAuditEntries(db(), entry());
    if (t.server.database.kind === "pglite") await db().execute(sql`select pg_advisory_unlock_all()`);
    else await db().execute(sql`select pg_terminate_backend(pid) from pg_locks where locktype = 'advisory' and classid = 7301 and objid = 46128`);
    await expect(db().execute(sql`select audit_seal(10)`)).rejects.toThrow();
    // The sealer that lost its lock (its session dropped) stands again and seals
    expect(await t.server.app.auditSealer.sealNow()).toBe(true);
    expect((await chain()).map((r) => r.chainSeq)).toEqual([1, 2]);
    expect((await chain())[0].id).toBe(row.id);
    // A sealed entry cannot be sealed again
    await expect(db().execute(sql`update audit_events set chain_seq = 2 where seq = ${row.seq}`)).rejects.toThrow();
  });

  it.runIf(onPostgres)(
    "waits for a transaction still open (PostgreSQL), then catches up with no entry skipped, in (transaction, insertion) order",
    async () => {
      const sealer = t.server.app.auditSealer;
      await appendAuditEntries(db(), entry("before"));
      // Given a transaction that wrote an entry and stays open
      const other = postgres(t.server.database.url!, { max: 1, onnotice: () => {} });
      const conn = await other.reserve();
      try {
        await conn`begin`;
        const [open] = entry("open");
        await conn`select audit_append(${JSON.stringify([{ ...open, occurredAt: open.occurredAt.toISOString(), digest: "a".repeat(64) }])}::text::jsonb)`;
        // and entries committed after it began
        await appendAuditEntries(db(), entry("after"));
        await appendAuditEntries(db(), entry("after"));
        // When the sealer runs (round after round: on a shared server, other databases' transactions
        // hold the cluster-wide horizon back too, for a moment)
        const deadline = Date.now() + 60_000;
        while ((await chain()).length === 0 && Date.now() < deadline) {
          await sealer.tick().catch(() => 0);
          await new Promise((resolve) => setTimeout(resolve, 20));
        }
        await sealer.tick().catch(() => 0);
        // Then only the entry from before the open transaction is chained: nothing behind it yet
        expect((await chain()).map((r) => r.operationName)).toEqual(["before"]);
        expect((await unsealed()).map((r) => r.operationName)).toEqual(["after", "after"]);
        const metrics = await (await fetch(`${t.server.url}/metrics`)).text();
        expect(metrics).toMatch(/^audit_unsealed_entries 2$/m);
        expect(Number(/^audit_oldest_unsealed_seconds (\S+)$/m.exec(metrics)?.[1])).toBeGreaterThanOrEqual(0);
        // When the transaction commits
        await conn`commit`;
      } finally {
        conn.release();
        await other.end();
      }
      await sealer.sealNow();
      // Then every entry is chained, the open one in its transaction's place, none skipped
      expect((await chain()).map((r) => r.operationName)).toEqual(["before", "open", "after", "after"]);
      expect(await unsealed()).toEqual([]);
      // (the open entry's digest was not its content's: the chain check names it)
      expect((await verifyAuditChain(db())).broken).toMatchObject({ chainSeq: 2 });
      expect(await (await fetch(`${t.server.url}/metrics`)).text()).toMatch(/^audit_unsealed_entries 0$/m);
    },
  );

  it.runIf(!onPostgres)("waits for a transaction still open (PGlite: the one session), then seals its entry", async () => {
    let commit!: () => void;
    const held = new Promise<void>((resolve) => (commit = resolve));
    let inserted!: () => void;
    const insertedP = new Promise<void>((resolve) => (inserted = resolve));
    const open = db().transaction(async (tx) => {
      await appendAuditEntries(tx, entry("open"));
      inserted();
      await held;
    });
    await insertedP;
    let sealedWhileOpen = false;
    const round = t.server.app.auditSealer.sealNow().then(() => (sealedWhileOpen = true));
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(sealedWhileOpen).toBe(false);
    commit();
    await open;
    await round;
    expect((await chain()).map((r) => r.operationName)).toEqual(["open"]);
  });

  it.runIf(onPostgres)("elects one sealer among two instances (PostgreSQL), and another takes over when it stops", async () => {
    const second = await openDatabase({ databaseUrl: t.server.database.url!, migrate: false, poolSize: 2 });
    const config = { sealIntervalMs: 0, checkpointEntries: 1000, checkpointSeconds: 3600 };
    const a = new AuditSealer({ database: t.server.database, config, key: null, logger: silentLogger });
    const b = new AuditSealer({ database: second, config, key: null, logger: silentLogger });
    try {
      await t.server.app.auditSealer.stop(); // (this server's own sealer stands down for the test)
      // When both seal round after round while requests append
      const appends = Array.from({ length: 40 }, (_, i) => appendAuditEntries(i % 2 ? second.db : db(), entry()));
      const rounds = Array.from({ length: 10 }, () => [a.tick(), b.tick()]).flat();
      await Promise.all([...appends, ...rounds]);
      // Then exactly one is elected, and the other may not seal
      expect([a.leading, b.leading].filter(Boolean)).toHaveLength(1);
      const [leader, follower] = a.leading ? [a, b] : [b, a];
      const followerDb = follower === b ? second : t.server.database;
      expect(await follower.sealNow()).toBe(false);
      const session = await followerDb.session();
      await expect(session.db.execute(sql`select audit_seal(10)`)).rejects.toThrow();
      await session.close();
      expect(await leader.sealNow()).toBe(true);
      expect((await chain()).length).toBe(40);
      // When the leader stops (its session ends), the other is elected on its next round
      await leader.stop();
      await appendAuditEntries(db(), entry("later"));
      expect(await follower.sealNow()).toBe(true);
      expect(follower.leading).toBe(true);
      const rows = await chain();
      expect(rows.map((r) => r.chainSeq)).toEqual(rows.map((_, i) => i + 1));
      expect(await verifyAuditChain(db())).toEqual({ checked: 41 });
    } finally {
      await a.stop();
      await b.stop();
      await second.close();
    }
  });
});

describe("checkpoints", () => {
  const verifyKeys = () => loadVerifyKeys(PUBLIC_PEM);

  it("writes a signed checkpoint every N entries and after S seconds, and verifies them", async () => {
    const sealer = t.server.app.auditSealer;
    setClock("2026-03-01T10:00:00Z");
    try {
      // Given 6 entries sealed (N = 5): a checkpoint at position 6
      for (let i = 0; i < 6; i++) await appendAuditEntries(db(), entry());
      await sealer.sealNow();
      let cps = await db().select().from(auditCheckpoints).orderBy(asc(auditCheckpoints.chainSeq));
      expect(cps.map((c) => [c.chainSeq, c.createdAt.toISOString()])).toEqual([[6, "2026-03-01T10:00:00.000Z"]]);
      expect(cps[0].signature).toBeTruthy();
      // Given 2 more: none until S seconds have passed
      for (let i = 0; i < 2; i++) await appendAuditEntries(db(), entry());
      await sealer.sealNow();
      expect(await db().select().from(auditCheckpoints)).toHaveLength(1);
      setClock("2026-03-01T10:01:00Z");
      await sealer.sealNow();
      cps = await db().select().from(auditCheckpoints).orderBy(asc(auditCheckpoints.chainSeq));
      expect(cps.map((c) => c.chainSeq)).toEqual([6, 8]);
      // Then the log verifies, signatures included
      const report = await verifyAuditLog(db(), verifyKeys());
      expect(report).toEqual({ checked: 8, checkpoints: { checked: 2, unsigned: 0 } });
    } finally {
      setClock(() => new Date());
    }
  });

  it("detects a changed entry, a forged checkpoint, a wrong key, and entries removed after an exported checkpoint", async () => {
    const sealer = t.server.app.auditSealer;
    for (let i = 0; i < 3; i++) await appendAuditEntries(db(), entry());
    await sealer.sealNow({ checkpoint: true });
    const [row] = await db().select().from(auditCheckpoints);
    const exported: Checkpoint = { chainSeq: row.chainSeq, hash: row.hash, createdAt: row.createdAt.toISOString(), keyId: row.keyId, signature: row.signature };
    expect((await verifyAuditLog(db(), verifyKeys(), exported)).exported).toEqual({ chainSeq: 3, ok: true });
    // A checkpoint with another hash (forged), or a signature by another key
    const forged = { ...exported, hash: "0".repeat(64) };
    expect((await verifyAuditLog(db(), verifyKeys(), forged)).exported).toMatchObject({ ok: false, reason: expect.stringContaining("signature") });
    const otherKey = generateKeyPairSync("ed25519").publicKey.export({ type: "spki", format: "pem" }).toString();
    expect((await verifyAuditLog(db(), loadVerifyKeys(otherKey))).badCheckpoint).toMatchObject({ chainSeq: 3, reason: expect.stringContaining("key") });
    // Someone with the owner's rights changes a checkpoint's hash
    await db().execute(sql`alter table audit_checkpoints disable trigger audit_checkpoints_append_only`);
    await db().execute(sql`alter table audit_events disable trigger audit_events_append_only`);
    try {
      await db().execute(sql`update audit_checkpoints set hash = ${"1".repeat(64)}`);
      expect((await verifyAuditLog(db(), verifyKeys())).badCheckpoint).toMatchObject({ chainSeq: 3, reason: expect.stringContaining("signature") });
      await db().execute(sql`update audit_checkpoints set hash = ${row.hash}`);
      // ... or changes an entry and re-chains everything after it (the chain alone then holds)
      await db().execute(sql`update audit_events set action = 'EXPORT' where chain_seq = 2`);
      const rehashed = await db().select().from(auditEvents).where(isNotNull(auditEvents.chainSeq)).orderBy(asc(auditEvents.chainSeq));
      const { linkHash, GENESIS_HASH } = await import("../src/audit/audit.service.js");
      const { createHash } = await import("node:crypto");
      let prev = GENESIS_HASH;
      for (const r of rehashed) {
        const content = [
          r.id,
          r.occurredAt.toISOString(),
          r.actorType,
          r.actorId,
          r.centerId,
          r.action,
          r.resourceType,
          r.resourceId,
          r.participantIds,
          r.operationName,
          r.requestId,
          r.outcome,
        ];
        const digest = createHash("sha256").update(JSON.stringify(content)).digest("hex");
        const hash = linkHash(prev, digest);
        await db().execute(sql`update audit_events set digest = ${digest}, prev_hash = ${prev}, hash = ${hash} where seq = ${r.seq}`);
        prev = hash;
      }
      expect((await verifyAuditChain(db())).broken).toBeUndefined();
      // Then the signed checkpoint (stored, and the exported copy) tells
      const report = await verifyAuditLog(db(), verifyKeys(), exported);
      expect(report.badCheckpoint).toMatchObject({ chainSeq: 3, reason: expect.stringContaining("differs") });
      expect(report.exported).toMatchObject({ ok: false, reason: expect.stringContaining("differs") });
      // And removing the newest entries (and the checkpoints) is caught by the exported copy
      await db().execute(sql`delete from audit_checkpoints`);
      await db().execute(sql`delete from audit_events where chain_seq >= 2`);
      const cut = await verifyAuditLog(db(), verifyKeys(), exported);
      expect(cut.broken).toBeUndefined();
      expect(cut.exported).toMatchObject({ ok: false, reason: expect.stringContaining("no longer reaches") });
      // (the command line says so and exits 1; it needs a database another process can open)
      if (t.server.database.url) {
        const run = spawnSync("npx", ["tsx", "src/scripts/audit-verify.ts", "--checkpoint", JSON.stringify(exported)], {
          env: { ...process.env, ...fakeClockEnv(), DATABASE_URL: t.server.database.url, AUDIT_VERIFY_KEY: PUBLIC_PEM },
          encoding: "utf8",
        });
        expect(run.status).toBe(1);
        expect(run.stderr).toContain("the exported checkpoint at chain position 3 does not hold");
      }
    } finally {
      await db().execute(sql`alter table audit_checkpoints enable trigger audit_checkpoints_append_only`);
      await db().execute(sql`alter table audit_events enable trigger audit_events_append_only`);
    }
  });

  it.runIf(onPostgres)("exports the latest checkpoint and verifies against it from the command line", async () => {
    for (let i = 0; i < 2; i++) await appendAuditEntries(db(), entry());
    await t.server.app.auditSealer.sealNow({ checkpoint: true });
    const env = { ...process.env, ...fakeClockEnv(), DATABASE_URL: t.server.database.url!, AUDIT_VERIFY_KEY: PUBLIC_PEM };
    const exported = spawnSync("npx", ["tsx", "src/scripts/audit-verify.ts", "--export-checkpoint"], { env, encoding: "utf8" });
    expect(exported.status).toBe(0);
    const cp = JSON.parse(exported.stdout) as Checkpoint;
    expect(cp).toMatchObject({ chainSeq: 2, signature: expect.any(String) });
    const run = spawnSync("npx", ["tsx", "src/scripts/audit-verify.ts", "--checkpoint", exported.stdout.trim()], { env, encoding: "utf8" });
    expect(run.status).toBe(0);
    expect(run.stdout).toContain("the chain holds (2 entries); 1 checkpoints hold; the exported checkpoint at chain position 2 holds");
  });

  it("writes checkpoints unsigned without AUDIT_SIGNING_KEY, and the start-up log says so", async () => {
    const lines: string[] = [];
    const server = await startTestServer({ logger: createLogger("info", (line) => lines.push(line)) });
    try {
      expect(lines.some((l) => l.includes("AUDIT_SIGNING_KEY is not set, checkpoints are written unsigned"))).toBe(true);
      await appendAuditEntries(server.database.db, entry());
      await server.app.auditSealer.sealNow({ checkpoint: true });
      const [cp] = await server.database.db.select().from(auditCheckpoints);
      expect(cp).toMatchObject({ chainSeq: 1, signature: null, keyId: null });
      expect(await verifyAuditLog(server.database.db, new Map())).toEqual({ checked: 1, checkpoints: { checked: 1, unsigned: 1 } });
      await expect(server.database.db.execute(sql`delete from audit_checkpoints`)).rejects.toThrow();
    } finally {
      await server.close();
    }
  });
});

describe("anonymous refusals", () => {
  it("records a caller without valid credentials as ANONYMOUS with their address, filterable by actor type, and keeps the address out of info logs", async () => {
    const { admin, participantId } = await participant();
    // When someone without a token, and someone with a forged one, ask for a participant
    const none = await t.server.gql(PARTICIPANT, { id: participantId }, { token: null });
    const forged = await t.server.gql(PARTICIPANT, { id: participantId }, { token: "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJ4In0.c2lnbmF0dXJl" });
    expect(none.errors?.[0]?.extensions?.code).toBe("UNAUTHENTICATED");
    expect(forged.errors?.[0]?.extensions?.code).toBe("UNAUTHENTICATED");
    // Then both refusals are recorded, ANONYMOUS, with the address
    for (const res of [none, forged]) {
      const rows = await db()
        .select()
        .from(auditEvents)
        .where(eq(auditEvents.requestId, res.headers.get("x-request-id")!));
      expect(rows.map((r) => [r.actorType, r.actorId, r.action, r.outcome, r.clientAddress])).toEqual([["ANONYMOUS", null, "DENIED", "DENIED", "127.0.0.1"]]);
    }
    // And an org admin finds them by actor type
    const q = `{ auditEvents(first: 10, actorType: ANONYMOUS) { totalCount nodes { actorType clientAddress action } } }`;
    const found = (await admin.query(q)).auditEvents;
    expect(found.totalCount).toBe(2);
    expect(found.nodes).toEqual([
      { actorType: "ANONYMOUS", clientAddress: "127.0.0.1", action: "DENIED" },
      { actorType: "ANONYMOUS", clientAddress: "127.0.0.1", action: "DENIED" },
    ]);
    // Staff entries carry no address
    const staff = await db().select().from(auditEvents).where(eq(auditEvents.actorType, "STAFF"));
    expect(staff.length).toBeGreaterThan(0);
    expect(staff.every((r) => r.clientAddress === null)).toBe(true);
    // And the entries chain (the address is part of the hashed content)
    await t.server.app.auditSealer.sealNow();
    expect((await verifyAuditChain(db())).broken).toBeUndefined();
  });

  it("keeps the client address out of the log at info", async () => {
    const lines: string[] = [];
    const server = await startTestServer({ logger: createLogger("info", (line) => lines.push(line)) });
    try {
      lines.length = 0; // (the start-up lines name the address the server listens on)
      const res = await server.gql(PARTICIPANT, { id: "UGFydGljaXBhbnQ6MDAwMDAwMDAtMDAwMC0wMDAwLTAwMDAtMDAwMDAwMDAwMDAw" }, { token: null });
      expect(res.errors?.[0]?.extensions?.code).toBe("UNAUTHENTICATED");
      expect(lines.some((l) => l.includes(res.headers.get("x-request-id")!))).toBe(true);
      expect(lines.filter((l) => l.includes("127.0.0.1"))).toEqual([]);
    } finally {
      await server.close();
    }
  });
});
