// A quick look at the integrators' feed, for working on its speed: the API in this process over a
// bench database (kept with --keep-db, its feed seeded by the bench), behind the counting proxy.
// Pulls pages of 1,000 from the start, one after another, and prints per page: edges, SQL
// statements, bytes read from PostgreSQL, response size, this process's CPU ms and wall ms; the
// statements of the third page.
//
//   npx tsx test/bench/trace-feed.ts --db bench_... [--pages 10]
import "reflect-metadata";
import { loadConfig } from "../../src/config.js";
import { openDatabase } from "../../src/db/client.js";
import { silentLogger } from "../../src/logger.js";
import { createApp } from "../../src/server.js";
import { run } from "./generate.js";
import { issueApiKey } from "../../src/auth/apikeys.js";
import { FEED_QUERY } from "./feed.js";
import { parseArgs } from "node:util";
import { startPgProxy } from "./proxy.js";

const { values: args } = parseArgs({ options: { db: { type: "string" }, pages: { type: "string", default: "10" } } });
if (!args.db || !/^bench_\w+$/.test(args.db)) throw new Error("--db bench_... (a database kept by npm run bench -- --keep-db)");
const base = new URL(process.env.BENCH_DATABASE_URL || process.env.DATABASE_URL || "postgres://postgres@127.0.0.1:5432/postgres");
base.pathname = `/${args.db}`;
const proxy = await startPgProxy({ host: base.hostname, port: Number(base.port || 5432) });
const viaProxy = new URL(base);
viaProxy.host = `127.0.0.1:${proxy.port}`;
let capture: string[] | null = null;
const database = await openDatabase({ databaseUrl: viaProxy.toString(), migrate: false, onQuery: (q) => capture?.push(q) });
const [{ id }] = await run<{ id: string }>(database.db, "select id from api_clients where name = 'bench feed client' limit 1");
const { key } = await issueApiKey(database.db, id);
const config = loadConfig({ RATE_LIMIT: "off", AUTH_JWT_SECRET: "trace-secret-0123456789-0123456789-abcdef", LOG_LEVEL: "error", NODE_ENV: "production" });
const app = await createApp({ config, database, logger: silentLogger });
const port = await app.listen(0, "127.0.0.1");
let after: string | null = null;
const pages = Number(args.pages);
for (let i = 0; i < pages + 2; i++) {
  if (i === 2) capture = [];
  const c0 = { ...proxy.counters };
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  const res = await fetch(`http://127.0.0.1:${port}/graphql`, {
    method: "POST",
    headers: { "content-type": "application/json", authorization: `Bearer ${key}` },
    body: JSON.stringify({ query: FEED_QUERY, variables: { after, first: 1000 } }),
  });
  const text = await res.text();
  const body = JSON.parse(text);
  if (body.errors) throw new Error(text.slice(0, 500));
  after = body.data.attendanceChanges.pageInfo.endCursor;
  const cpu = process.cpuUsage(cpu0);
  console.log(
    `page ${i}: ${body.data.attendanceChanges.edges.length} edges ${proxy.counters.statements - c0.statements} stmts ${((proxy.counters.bytesFromServer - c0.bytesFromServer) / 1024).toFixed(0)} kB from PG ${(text.length / 1024).toFixed(0)} kB resp cpu ${((cpu.user + cpu.system) / 1000).toFixed(0)} ms wall ${(performance.now() - t0).toFixed(0)} ms`,
  );
  if (i === 2) {
    for (const q of capture!) console.log("   ", q.replace(/\s+/g, " ").slice(0, 300));
    capture = null;
  }
}
await app.close();
await database.close();
await proxy.close();
