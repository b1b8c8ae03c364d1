// What row-level security costs a request: the same server code on the same database, once as the
// API's role under RLS (DB_RLS on: a reserved connection per request, set_config, RESET, BEGIN/COMMIT
// of its transactions on that connection, the policies' checks), once as a superuser with DB_RLS off
// (today's shared pool, no policies). Each behind the bench's counting proxy: SQL statements per
// request, and latency of sequential requests (no concurrency, so the difference is the mechanism's).
//
//   RLS_COST_APP_URL=postgres://<api role>@host/db RLS_COST_OWNER_URL=postgres://postgres@host/db \
//   RLS_COST_TOKEN=<token of a center admin> RLS_COST_CENTER=<center id> npx tsx test/bench/rls-cost.ts
// (the database and token of `npm run seed`; RLS_COST_ROUNDS, default 40)
import "reflect-metadata";
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { loadConfig } from "../../src/config.js";
import { openDatabase } from "../../src/db/client.js";
import { silentLogger } from "../../src/logger.js";
import { createApp } from "../../src/server.js";
import { composeWriteSteps } from "../../src/steps.js";
import { startPgProxy } from "./proxy.js";

const DASHBOARD = readFileSync(fileURLToPath(new URL("../operations/dashboard.graphql", import.meta.url)), "utf8");
const ROUNDS = Number(process.env.RLS_COST_ROUNDS ?? 40);
const env = (name: string) =>
  process.env[name] ??
  (() => {
    throw new Error(`set ${name}`);
  })();

async function contender(name: string, databaseUrl: string, rls: boolean) {
  const target = new URL(databaseUrl);
  const proxy = await startPgProxy({ host: target.hostname, port: Number(target.port || 5432) });
  const via = new URL(databaseUrl);
  via.hostname = "127.0.0.1";
  via.port = String(proxy.port);
  const database = await openDatabase({ databaseUrl: via.toString(), migrate: false, rls, poolSize: 10 });
  const config = loadConfig({ AUTH_JWT_SECRET: process.env.AUTH_JWT_SECRET ?? "soak-secret-0123456789-0123456789-abcdef", LOG_LEVEL: "error" });
  const app = await createApp({ config, database, logger: silentLogger });
  const url = `http://127.0.0.1:${await app.listen(0, "127.0.0.1")}/graphql`;
  return { name, url, proxy, database, app };
}

async function main() {
  composeWriteSteps();
  const token = env("RLS_COST_TOKEN");
  const centerId = env("RLS_COST_CENTER");
  const contenders = [
    await contender("DB_RLS on, API role", env("RLS_COST_APP_URL"), true),
    await contender("DB_RLS off, superuser", env("RLS_COST_OWNER_URL"), false),
  ];
  const results = new Map<string, { ms: number[]; statements: number[] }>(contenders.map((c) => [c.name, { ms: [], statements: [] }]));
  for (let round = 0; round < ROUNDS + 3; round++) {
    for (const c of round % 2 ? [...contenders].reverse() : contenders) {
      const before = c.proxy.counters.statements;
      const started = performance.now();
      const res = await fetch(c.url, {
        method: "POST",
        headers: { "content-type": "application/json", authorization: `Bearer ${token}` },
        body: JSON.stringify({ query: DASHBOARD, operationName: "CenterDashboard", variables: { centerId, first: 20 } }),
      });
      const body = (await res.json()) as { errors?: unknown };
      const ms = performance.now() - started;
      if (body.errors) throw new Error(JSON.stringify(body.errors));
      await new Promise((r) => setTimeout(r, 50)); // the scope's RESET runs after the answer
      if (round < 3) continue; // warm-up
      results.get(c.name)!.ms.push(ms);
      results.get(c.name)!.statements.push(c.proxy.counters.statements - before);
    }
  }
  const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
  console.log(`CenterDashboard (first: 20), ${ROUNDS} sequential requests each, alternating`);
  for (const [name, r] of results) console.log(`  ${name.padEnd(24)} median ${median(r.ms).toFixed(1)} ms, SQL statements per request ${median(r.statements)}`);
  for (const c of contenders) {
    await c.app.close();
    await c.database.close();
    await c.proxy.close();
  }
}

main().catch((err: unknown) => {
  console.error(err instanceof Error ? err.message : err);
  process.exit(1);
});
