// The audit append alone, under concurrent writers: `npm run bench:audit-append`. A fresh
// PostgreSQL database migrated by the current directory's code, then 1 and 16 connections each
// committing, in a loop, a transaction that reads a row and appends one audit entry through
// audit_append(jsonb) (as a read of participant data does), alternating for a few rounds. Run from
// another checkout's root (e.g. main) to measure that code. Prints appends per second and the ratio.
import { createHash, randomUUID } from "node:crypto";
import { loadavg } from "node:os";
import { resolve } from "node:path";
import { parseArgs } from "node:util";
import postgres from "postgres";
import type { openDatabase as OpenDatabase } from "../../src/db/client.js";

const { values: args } = parseArgs({
  options: {
    duration: { type: "string", default: "5" },
    rounds: { type: "string", default: "3" },
    clients: { type: "string", default: "1,16" },
    sql: { type: "boolean" },
  },
});
const adminUrl = process.env.BENCH_DATABASE_URL || "postgres://postgres@127.0.0.1:5432/postgres";
const log = (...parts: unknown[]) => console.log(`[audit-append ${new Date().toISOString().slice(11, 19)}]`, ...parts);
const name = `audit_append_${Date.now()}`;
const admin = postgres(adminUrl, { max: 1, onnotice: () => {} });
await admin.unsafe(`create database ${name}`);
const url = new URL(adminUrl);
url.pathname = `/${name}`;
try {
  const { openDatabase } = (await import(resolve(process.cwd(), "src/db/client.ts"))) as { openDatabase: typeof OpenDatabase };
  const database = await openDatabase({ databaseUrl: url.toString() });
  await database.close();
  const clientCounts = args.clients.split(",").map(Number);
  const duration = Number(args.duration) * 1000;
  const results = new Map<number, number[]>();
  const entry = () => {
    const e = {
      id: randomUUID(),
      occurredAt: new Date().toISOString(),
      actorType: "STAFF",
      actorId: randomUUID(),
      centerId: randomUUID(),
      action: "READ",
      resourceType: "Participant",
      resourceId: null,
      participantIds: [randomUUID()],
      operationName: "bench",
      requestId: null,
      outcome: "ALLOWED",
    };
    return { ...e, digest: createHash("sha256").update(JSON.stringify(e)).digest("hex") };
  };
  for (let round = 0; round < Number(args.rounds); round++) {
    for (const clients of clientCounts) {
      const sql = postgres(url.toString(), { max: clients, onnotice: () => {} });
      await Promise.all(Array.from({ length: clients }, () => sql`select 1`));
      let done = 0;
      const end = Date.now() + duration;
      await Promise.all(
        Array.from({ length: clients }, async () => {
          while (Date.now() < end) {
            await sql.begin(async (tx) => {
              await tx`select count(*) from centers`;
              await tx`select audit_append(${JSON.stringify([entry()])}::text::jsonb)`;
            });
            done++;
          }
        }),
      );
      await sql.end();
      const rate = done / (duration / 1000);
      results.set(clients, [...(results.get(clients) ?? []), rate]);
      log(`round ${round + 1}, ${clients} writer(s): ${rate.toFixed(0)} audited transactions/s, load ${loadavg()[0].toFixed(1)}`);
    }
  }
  const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
  const first = median(results.get(clientCounts[0])!);
  const last = median(results.get(clientCounts[clientCounts.length - 1])!);
  log(`summary (median): ${clientCounts.map((c) => `${c}: ${median(results.get(c)!).toFixed(0)}/s`).join(", ")}; ratio ${(last / first).toFixed(2)}×`);
} finally {
  await admin.unsafe(`drop database if exists ${name} with (force)`);
  await admin.end();
}
