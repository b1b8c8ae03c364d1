// A quick look at one operation, for working on performance: the API in this process over a bench
// database kept by `npm run bench -- --keep-db`, behind the counting proxy. Sends each operation
// `--n` times one after another and prints per request: SQL statements, bytes read from
// PostgreSQL, and this process's CPU ms (server and client together, sequential, so no queueing);
// with --sql, the statements of one request.
//
//   npx tsx test/bench/trace.ts --db bench_... [--n 30] [--op CenterDashboard,...] [--sql]
import "reflect-metadata";
import { parseArgs } from "node:util";
import { mintToken } from "../../src/auth/tokens.js";
import { loadConfig } from "../../src/config.js";
import { openDatabase } from "../../src/db/client.js";
import { silentLogger } from "../../src/logger.js";
import { createApp } from "../../src/server.js";
import { BENCH_VIEWER_SUBJECT, pickTargets, run } from "./generate.js";
import { bodyMaker, checkAnswer, QUERIES, type OperationName } from "./operations.js";
import { startPgProxy } from "./proxy.js";

const { values: args } = parseArgs({
  options: {
    db: { type: "string" },
    n: { type: "string", default: "30" },
    op: { type: "string", default: [...QUERIES, "RecordAttendance"].join(",") },
    sql: { type: "boolean", default: false },
  },
});
if (!args.db || !/^bench_\w+$/.test(args.db)) throw new Error("--db bench_... (a database kept by npm run bench -- --keep-db)");
const base = new URL(process.env.BENCH_DATABASE_URL || process.env.DATABASE_URL || "postgres://postgres@127.0.0.1:5432/postgres");
base.pathname = `/${args.db}`;
const n = Number(args.n);

const direct = await openDatabase({ databaseUrl: base.toString() }); // migrates
const targets = await pickTargets((text) => run(direct.db, text), 20);
await direct.close();

const proxy = await startPgProxy({ host: base.hostname, port: Number(base.port || 5432) });
const viaProxy = new URL(base);
viaProxy.host = `127.0.0.1:${proxy.port}`;
let capture: string[] | null = null;
const database = await openDatabase({ databaseUrl: viaProxy.toString(), migrate: false, onQuery: (q) => capture?.push(q) });
const config = loadConfig({ RATE_LIMIT: "off", AUTH_JWT_SECRET: "trace-secret-0123456789-0123456789-abcdef", LOG_LEVEL: "error", NODE_ENV: "production" });
const app = await createApp({ config, database, logger: silentLogger });
const port = await app.listen(0, "127.0.0.1");
const token = await mintToken(config.auth, BENCH_VIEWER_SUBJECT, { expiresIn: "1h" });
const post = async (body: string) => {
  const res = await fetch(`http://127.0.0.1:${port}/graphql`, {
    method: "POST",
    headers: { "content-type": "application/json", authorization: `Bearer ${token}` },
    body,
  });
  return res.text();
};

for (const op of args.op.split(",") as OperationName[]) {
  const body = bodyMaker("api", op, targets);
  for (let i = 0; i < 5; i++) checkAnswer(op, await post(body(i))); // warm-up
  const c0 = { ...proxy.counters };
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  let responseBytes = 0;
  for (let i = 0; i < n; i++) {
    const text = await post(body(i));
    checkAnswer(op, text);
    responseBytes += text.length;
  }
  const cpu = process.cpuUsage(cpu0);
  const ms = performance.now() - t0;
  const per = (x: number) => x / n;
  console.log(
    `${op.padEnd(20)} ${per(proxy.counters.statements - c0.statements).toFixed(1)} stmts  ` +
      `${(per(proxy.counters.bytesFromServer - c0.bytesFromServer) / 1024).toFixed(1)} kB from PG  ` +
      `${(per(responseBytes) / 1024).toFixed(1)} kB response  cpu ${per((cpu.user + cpu.system) / 1000).toFixed(2)} ms  wall ${per(ms).toFixed(2)} ms`,
  );
  if (args.sql) {
    capture = [];
    await post(body(0));
    for (const q of capture) console.log("   ", q.replace(/\s+/g, " ").slice(0, 600));
    capture = null;
  }
}
await app.close();
await database.close();
await proxy.close();
