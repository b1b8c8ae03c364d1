// EXPLAIN (ANALYZE, BUFFERS) of one compiled feed page (the contract's AttendanceChanges, 1,000 changes)
// on a bench database kept with --keep-db, in a transaction rolled back (its disclosures row is not kept).
//
//   npx tsx test/bench/explain-feed.ts --db bench_... [--page 100] [--times 20]
//
// With --times N, the statement runs N times more without EXPLAIN (each rolled back) and the fastest
// and median wall times are printed (EXPLAIN ANALYZE's timing of each row adds much to a page), and,
// when PostgreSQL runs on this machine, its backend's CPU per run (/proc: planning included, and
// not inflated by waiting for a core on a loaded machine, as wall times are).
import "reflect-metadata";
import { readFileSync } from "node:fs";
import { parseArgs } from "node:util";
import { parse } from "graphql";
import { PgDialect } from "drizzle-orm/pg-core";
import postgres from "postgres";
import { createSchema } from "../../src/schema.js";
import { compileFeedPage } from "../../src/feed/feed.plan.js";
import { FEED_QUERY } from "./feed.js";

const { values: args } = parseArgs({ options: { db: { type: "string" }, page: { type: "string", default: "100" }, times: { type: "string", default: "0" } } });
if (!args.db || !/^bench_\w+$/.test(args.db)) throw new Error("--db bench_... (a database kept by npm run bench -- --keep-db)");
const url = new URL(process.env.BENCH_DATABASE_URL || process.env.DATABASE_URL || "postgres://postgres@127.0.0.1:5432/postgres");
url.pathname = `/${args.db}`;
const db = postgres(url.toString(), { max: 1, onnotice: () => {} });
const [client] = await db`select c.id, array_agg(cc.center_id::text) as centers from api_clients c join api_client_centers cc on cc.api_client_id = c.id
  where c.name = 'bench feed client' group by c.id`;
const [at] = await db`select tx::text as tx, seq::text as seq from attendance_changes order by tx, seq offset ${Number(args.page) * 1000} limit 1`;
const after = at ? Buffer.from(`feed:${at.tx}:${at.seq}`).toString("base64url") : null;
const schema = await createSchema();
const document = parse(FEED_QUERY);
const operation = document.definitions[0] as never;
const viewer = {
  kind: "apiClient" as const,
  apiClientId: client.id,
  apiKeyId: client.id,
  name: "bench",
  centerIds: new Set<string>(client.centers),
  scopes: new Set(["ATTENDANCE_READ" as const]),
};
const plan = compileFeedPage(schema, document, operation, { after, first: 1000 }, viewer, new Date());
if (!("statement" in plan)) throw new Error(`not compiled: ${plan.reason}`);
const { sql: text, params } = new PgDialect().sqlToQuery(plan.statement);
await db
  .begin(async (tx) => {
    const rows = await tx.unsafe(`explain (analyze, buffers) ${text}`, params as never[]);
    for (const r of rows) console.log(r["QUERY PLAN"]);
    throw new Error("rolled back");
  })
  .catch((e: Error) => {
    if (e.message !== "rolled back") throw e;
  });
const [{ pid }] = await db`select pg_backend_pid() as pid`;
/** The backend's CPU so far in ms (utime + stime, clock ticks of 10 ms), or null when it is not a local process. */
const backendCpu = (): number | null => {
  try {
    const fields = readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1].split(" ");
    return (Number(fields[11]) + Number(fields[12])) * 10;
  } catch {
    return null;
  }
};
const cpu0 = backendCpu();
const times: number[] = [];
for (let i = 0; i < Number(args.times); i++) {
  await db
    .begin(async (tx) => {
      const t = performance.now();
      await tx.unsafe(text, params as never[]);
      times.push(performance.now() - t);
      throw new Error("rolled back");
    })
    .catch((e: Error) => {
      if (e.message !== "rolled back") throw e;
    });
}
if (times.length) {
  times.sort((a, b) => a - b);
  const cpu1 = backendCpu();
  const cpu = cpu0 !== null && cpu1 !== null ? `, backend CPU ${((cpu1 - cpu0) / times.length).toFixed(1)} ms per run` : "";
  console.log(`${times.length} runs: fastest ${times[0].toFixed(1)} ms, median ${times[times.length >> 1].toFixed(1)} ms${cpu}`);
}
await db.end();
