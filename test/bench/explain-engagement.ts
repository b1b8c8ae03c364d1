// EXPLAIN (ANALYZE, BUFFERS) of the statements CenterEngagement sends for engagement, over a bench
// database kept by `npm run bench -- --keep-db` (as the bench asks: one center, the last twelve weeks):
// the center's rollup and monthly trend (kept session counts), its at-risk count and risk filter
// (kept rows), fifty participants' figures (kept rows), and, for comparison, the reference
// statements they replaced (--reference).
//
//   npx tsx test/bench/explain-engagement.ts --db bench_... [--reference] [--summary]
import { parseArgs } from "node:util";
import { PgDialect } from "drizzle-orm/pg-core";
import postgres from "postgres";
import {
  centerMembers,
  keptCenterAtRiskSql,
  keptParticipantMetricsSql,
  keptRiskSql,
  keptRollupSql,
  keptTrendSql,
  participantMetricsSql,
  rollupSql,
  trendSql,
} from "../../src/engagement/engagement.sql.js";
import type { SQL } from "drizzle-orm";

const { values: args } = parseArgs({
  options: { db: { type: "string" }, reference: { type: "boolean", default: false }, summary: { type: "boolean", default: false } },
});
if (!args.db || !/^bench_\w+$/.test(args.db)) throw new Error("--db bench_... (a database kept by npm run bench -- --keep-db)");
const base = new URL(process.env.BENCH_DATABASE_URL || process.env.DATABASE_URL || "postgres://postgres@127.0.0.1:5432/postgres");
base.pathname = `/${args.db}`;
const client = postgres(base.toString(), { max: 1, onnotice: () => {} });
const dialect = new PgDialect();
const now = new Date();
const window = { from: new Date(Date.now() - 84 * 86_400_000).toISOString().slice(0, 10), to: now.toISOString().slice(0, 10) };
const [{ id: center }] = await client`select id from centers order by name limit 1`;
const high = (await client`select participant_id from engagement_states where center_id = ${center} and risk_level = 'HIGH' limit 50`).map((r) =>
  String(r.participant_id),
);

const statements: Array<[string, SQL]> = [
  ["rollup (12 weeks, kept session counts)", keptRollupSql("center", [center], "ALL", window, now)],
  ["trend (12 weeks, monthly, kept session counts)", keptTrendSql("center", [center], "ALL", window, "MONTH", now)],
  ["atRiskCount (kept)", keptCenterAtRiskSql([center], now)],
  ["participants(riskLevel: HIGH) ids (kept)", keptRiskSql("HIGH", [center], now)],
  ["50 participants' figures (kept)", keptParticipantMetricsSql(high, now)],
];
if (args.reference) {
  statements.push(["rollup (reference, before)", rollupSql("center", [center], "ALL", window, now)]);
  statements.push(["trend (reference, before)", trendSql("center", [center], "ALL", window, "MONTH", now)]);
  statements.push([
    "participants(riskLevel: HIGH) ids (reference, before)",
    participantMetricsSql({ members: centerMembers([center]), groupCondition: null, window: { from: null, to: null }, now }),
  ]);
}
await client`set app.center_ids = 'all'`;
for (const [name, statement] of statements) {
  const q = dialect.sqlToQuery(statement);
  const plan = await client.unsafe(`explain (analyze, buffers) ${q.sql}`, q.params as never[]);
  const lines = plan.map((r) => String(r["QUERY PLAN"]));
  console.log(`\n=== ${name}: ${lines.at(-1)?.trim()}`);
  if (!args.summary) console.log(lines.join("\n"));
}
await client.end();
