// `npx tsx test/bench/seal-probe.ts <database url> [entries 6000] [participants per entry 1]`: what
// the audit sealer costs per entry. Migrates the (empty) database, appends the unsealed entries as
// requests do (audit_append, batches of 200), then seals them as the elected sealer does
// (audit_seal(2000) under its advisory lock) and prints the time of each batch. The seal rewrites
// each entry with all its indexes, the GIN index of participant ids included, so its cost grows
// with the participants an entry names (docs/performance.md, "The audit sealer's cost").
import "reflect-metadata";
import { randomUUID } from "node:crypto";
import postgres from "postgres";
import { appendAuditEntries, type AuditEntry } from "../../src/audit/audit.service.js";
import { openDatabase } from "../../src/db/client.js";

const url = process.argv[2];
if (!url) throw new Error("usage: seal-probe.ts <database url> [entries] [participants per entry]");
const count = Number(process.argv[3] ?? 6000);
const participants = Number(process.argv[4] ?? 1);
const database = await openDatabase({ databaseUrl: url });
for (let i = 0; i < count; i += 200) {
  const entries: AuditEntry[] = Array.from({ length: Math.min(200, count - i) }, () => ({
    id: randomUUID(),
    occurredAt: new Date(),
    actorType: "STAFF",
    actorId: randomUUID(),
    centerId: null,
    action: "READ",
    resourceType: "Participant",
    resourceId: null,
    participantIds: Array.from({ length: participants }, () => randomUUID()),
    operationName: "SealProbe",
    requestId: randomUUID(),
    outcome: "ALLOWED",
  }));
  await appendAuditEntries(database.db, entries);
}
await database.close();
const session = postgres(url, { max: 1, onnotice: () => {} });
await session`select pg_advisory_lock(7301, 46128)`;
for (;;) {
  const started = performance.now();
  const [row] = await session`select audit_seal(2000) as n`;
  const ms = performance.now() - started;
  if (!Number(row.n)) break;
  console.log(`sealed ${row.n} entries of ${participants} participant(s) in ${ms.toFixed(0)} ms: ${((ms * 1000) / Number(row.n)).toFixed(0)} µs per entry`);
}
await session.end();
