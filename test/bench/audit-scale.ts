// A focused measurement of the audit log under concurrent readers (issue 22: "16 concurrent
// readers of participant data get ≥ 3× the throughput of 1"): a fresh PostgreSQL database, this
// checkout's API started as a process (`tsx src/index.ts`), one participant, and autocannon
// sending the audited read `ParticipantCard` with 1 and then 16 connections, alternating, for a
// few rounds. Prints req/s per client count, the ratio, and the audit entries written (and sealed).
// Not part of `npm run bench` (kept apart so it can run on its own):
//   npm run bench:audit -- [--duration 8] [--rounds 2] [--clients 1,16]
// Run from another checkout's root (e.g. main) to measure that code: it starts `src/index.ts` of the
// current directory. PostgreSQL: BENCH_DATABASE_URL (default postgres://postgres@127.0.0.1:5432/postgres).
import { spawn } from "node:child_process";
import { createServer } from "node:net";
import { loadavg } from "node:os";
import { parseArgs } from "node:util";
import autocannon from "autocannon";
import postgres from "postgres";
import { mintToken } from "../../src/auth/tokens.js";

const { values: args } = parseArgs({
  options: {
    duration: { type: "string", default: "8" },
    rounds: { type: "string", default: "2" },
    clients: { type: "string", default: "1,16" },
  },
});
const adminUrl = process.env.BENCH_DATABASE_URL || "postgres://postgres@127.0.0.1:5432/postgres";
const SECRET = `audit-scale-${Date.now()}-secret-secret-secret-secret`;
const ADMIN = "admin@audit-scale.test";
const log = (...parts: unknown[]) => console.log(`[audit-scale ${new Date().toISOString().slice(11, 19)}]`, ...parts);

const freePort = () =>
  new Promise<number>((resolve) => {
    const s = createServer().listen(0, "127.0.0.1", () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });

const name = `audit_scale_${Date.now()}`;
const admin = postgres(adminUrl, { max: 1, onnotice: () => {} });
await admin.unsafe(`create database ${name}`);
const url = new URL(adminUrl);
url.pathname = `/${name}`;
const port = await freePort();
const server = spawn("npx", ["tsx", "src/index.ts"], {
  env: {
    ...process.env,
    DATABASE_URL: url.toString(),
    PORT: String(port),
    HOST: "127.0.0.1",
    AUTH_JWT_SECRET: SECRET,
    BOOTSTRAP_ADMIN_EMAIL: ADMIN,
    RATE_LIMIT: "off",
    LOG_LEVEL: "warn",
    DATABASE_POOL_SIZE: "20",
    PRESSURE_MAX_EVENT_LOOP_DELAY_MS: "0",
  },
  stdio: ["ignore", "inherit", "inherit"],
  detached: true, // (its own process group: npx, tsx and node are stopped together)
});
const base = `http://127.0.0.1:${port}`;
try {
  for (let i = 0; ; i++) {
    if (
      await fetch(`${base}/healthz`).then(
        (r) => r.ok,
        () => false,
      )
    )
      break;
    if (i > 600) throw new Error("the API did not start");
    await new Promise((r) => setTimeout(r, 250));
  }
  const token = await mintToken({ jwtSecret: SECRET }, ADMIN, { expiresIn: "1h" });
  const gql = async (query: string, variables: Record<string, unknown> = {}) => {
    const res = await fetch(`${base}/graphql`, {
      method: "POST",
      headers: { "content-type": "application/json", authorization: `Bearer ${token}` },
      body: JSON.stringify({ query, variables }),
    });
    const body = (await res.json()) as { data: any; errors?: unknown };
    if (body.errors) throw new Error(JSON.stringify(body.errors));
    return body.data;
  };
  const center = (await gql(`mutation { createCenter(input: { name: "Bench", timezone: "UTC" }) { center { id } } }`)).createCenter.center.id;
  const participant = (
    await gql(`mutation($c: ID!) { createParticipant(input: { centerId: $c, firstName: "Ada", lastName: "Byron" }) { participant { id } } }`, { c: center })
  ).createParticipant.participant.id;
  const body = JSON.stringify({
    query: `query ParticipantCard($id: ID!) { node(id: $id) { ... on Participant { id firstName lastName } } }`,
    variables: { id: participant },
    operationName: "ParticipantCard",
  });
  const db = postgres(url.toString(), { max: 1, onnotice: () => {} });
  const clientCounts = args.clients.split(",").map(Number);
  const results = new Map<number, number[]>();
  const duration = Number(args.duration);
  // warm-up
  await autocannon({
    url: `${base}/graphql`,
    method: "POST",
    headers: { "content-type": "application/json", authorization: `Bearer ${token}` },
    body,
    connections: 4,
    duration: 2,
  });
  for (let round = 0; round < Number(args.rounds); round++) {
    for (const connections of clientCounts) {
      const before = Number((await db`select count(*)::int as n from audit_events`)[0].n);
      const r = await autocannon({
        url: `${base}/graphql`,
        method: "POST",
        headers: { "content-type": "application/json", authorization: `Bearer ${token}` },
        body,
        connections,
        duration,
      });
      const after = Number((await db`select count(*)::int as n from audit_events`)[0].n);
      const ok = r["2xx"];
      const rps = ok / duration;
      results.set(connections, [...(results.get(connections) ?? []), rps]);
      log(
        `round ${round + 1}, ${connections} client(s): ${rps.toFixed(0)} req/s (p50 ${r.latency.p50} ms, p99 ${r.latency.p99} ms), non-2xx ${r.non2xx}, errors ${r.errors}, audit entries +${after - before}, load ${loadavg()[0].toFixed(1)}`,
      );
    }
  }
  const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
  const summary = clientCounts.map((c) => `${c}: ${median(results.get(c)!).toFixed(0)} req/s`).join(", ");
  const ratio = median(results.get(clientCounts[clientCounts.length - 1])!) / median(results.get(clientCounts[0])!);
  const sealed =
    await db`select count(*) filter (where true)::int as total, (select count(*)::int from information_schema.columns where table_name = 'audit_events' and column_name = 'chain_seq') as has_seal from audit_events`;
  log(
    `summary (median of rounds): ${summary}; ratio ${ratio.toFixed(2)}×; audit entries ${sealed[0].total}; load average ${loadavg()
      .map((x) => x.toFixed(1))
      .join(" ")}`,
  );
  await db.end();
} finally {
  const exited = new Promise((r) => server.once("exit", r));
  process.kill(-server.pid!, "SIGTERM");
  await exited;
  await new Promise((r) => setTimeout(r, 2_000));
  await admin.unsafe(`drop database if exists ${name} with (force)`);
  await admin.end();
}
