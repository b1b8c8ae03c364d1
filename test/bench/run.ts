// `npm run bench`: generates the bench dataset into a fresh PostgreSQL database, starts this API as
// `npm start` would (production mode, its node flags), the SQL floor and PostGraphile 5, and drives each with
// autocannon, alternating, for a few rounds. Writes test/bench/results/latest.{json,md}.
//
//   npm run bench -- [--scale 1] [--duration 8] [--warmup 2] [--rounds 3] [--connections 10]
//                    [--contenders api,api-limits,floor,postgraphile] [--no-pglite] [--no-build] [--keep-db]
//                    [--reuse-db bench_... (a database kept by --keep-db: no generation, not dropped)]
//                    [--out test/bench/results]
//                    [--only SessionRoster,CenterEngagement,feed,... (these alone; "feed": the feed drain)]
//                    [--rate-limit off|on (the API's RATE_LIMIT; default off, or BENCH_RATE_LIMIT)]
//                    [--one-client on|off (after the rounds, each operation of the API at 1 connection)]
//
// Contenders: `api` is this API (RATE_LIMIT off, or as --rate-limit says); `api-limits` is this API
// again with RATE_LIMIT=on, the production default, under limits too high to refuse anything: what
// counting costs, on every operation, against `api`; `floor` one SQL statement per request;
// `postgraphile` PostGraphile 5 on the same database.
//                    [--soak-seconds 600 (with --only feed)]
//
// `--only feed`: this API alone, no PGlite smoke run, no query rounds: the feed drain `--rounds`
// times (with its statements, bytes, CPU and the server's peak RSS), written to feed.{json,md}
// (latest.* untouched). With --keep-db / --reuse-db it skips generating the dataset. With
// --soak-seconds N it then drains the feed again and again for N seconds, reading the API's RSS
// every 10 s (flat, or growing: a leak).
//
// PostgreSQL: BENCH_DATABASE_URL (or DATABASE_URL) names the server and a database to connect to
// for creating the bench database (default postgres://postgres@127.0.0.1:5432/postgres).
import "reflect-metadata";
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { availableParallelism, loadavg, tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { isDeepStrictEqual, parseArgs } from "node:util";
import autocannon from "autocannon";
import postgres from "postgres";
import { mintToken } from "../../src/auth/tokens.js";
import { openDatabase } from "../../src/db/client.js";
import { drainEngagement } from "../../src/engagement/engagement.worker.js";
import { BENCH_VIEWER_SUBJECT, describeDataset, generateDataset, pickTargets, run, type GenerateResult } from "./generate.js";
import { drainFeed, seedFeed } from "./feed.js";
import { bodyMaker, checkAnswer, digest, ENGAGEMENT, QUERIES, type Flavor, type OperationName, type Targets } from "./operations.js";
import { startPgProxy, type PgProxy } from "./proxy.js";
import { startNodeFlags } from "../support/process.js";

const ROOT = resolve(import.meta.dirname, "../..");
const NODE22_VERSION = "22.23.3";
const DEFAULT_OUT = join(ROOT, "test/bench/results");
const NODE22_DIR = join(ROOT, "node_modules/.cache/bench-node22");

const { values: args } = parseArgs({
  options: {
    scale: { type: "string", default: process.env.BENCH_SCALE ?? "1" },
    duration: { type: "string", default: process.env.BENCH_DURATION ?? "8" },
    warmup: { type: "string", default: process.env.BENCH_WARMUP ?? "2" },
    rounds: { type: "string", default: process.env.BENCH_ROUNDS ?? "3" },
    connections: { type: "string", default: "10" },
    contenders: { type: "string", default: process.env.BENCH_CONTENDERS ?? "api,api-limits,floor,postgraphile" },
    "one-client": { type: "string", default: process.env.BENCH_ONE_CLIENT ?? "on" },
    "no-pglite": { type: "boolean", default: false },
    "no-build": { type: "boolean", default: false },
    "keep-db": { type: "boolean", default: false },
    "reuse-db": { type: "string" },
    out: { type: "string", default: DEFAULT_OUT },
    only: { type: "string", default: process.env.BENCH_ONLY },
    "soak-seconds": { type: "string", default: "0" },
    "rate-limit": { type: "string", default: process.env.BENCH_RATE_LIMIT ?? "off" },
  },
});
/** The operations to measure (and "feed" for the drain): every one unless --only names some. */
const selectedOps = args.only ? new Set(args.only.split(",").map((s) => s.trim())) : null;
const selected = (op: string) => !selectedOps || selectedOps.has(op);
if (args["rate-limit"] !== "on" && args["rate-limit"] !== "off") throw new Error("--rate-limit is on or off");
const rateLimit = args["rate-limit"];
if (args["one-client"] !== "on" && args["one-client"] !== "off") throw new Error("--one-client is on or off");
const oneClient = args["one-client"] === "on";
const scale = Number(args.scale);
const duration = Number(args.duration);
const warmup = Number(args.warmup);
const rounds = Number(args.rounds);
const connections = Number(args.connections);
const feedOnly = args.only === "feed";
const contenderNames = (feedOnly ? ["api"] : args.contenders.split(",").map((s) => s.trim())) as ContenderName[];
const adminUrl = process.env.BENCH_DATABASE_URL || process.env.DATABASE_URL || "postgres://postgres@127.0.0.1:5432/postgres";
const JWT_SECRET = `bench-${Math.random().toString(36).slice(2)}-${Date.now()}-secret-secret`;

type ContenderName = "api" | "api-limits" | "floor" | "postgraphile";
/** This API, with or without rate limiting. */
const isApi = (name: string) => name === "api" || name === "api-limits";
const log = (...parts: unknown[]) => console.log(`[bench ${new Date().toISOString().slice(11, 19)}]`, ...parts);

// ---------------------------------------------------------------------------------------------
// Processes

interface Server {
  name: ContenderName | "api-pglite";
  url: string;
  child: ChildProcess;
  proxy: PgProxy | null;
  output: string[];
  stop(): Promise<void>;
}

const children = new Set<ChildProcess>();
process.on("exit", () => {
  for (const c of children) c.kill("SIGKILL");
});

function freePort(): Promise<number> {
  return new Promise((done, fail) => {
    const s = createServer();
    s.once("error", fail);
    s.listen(0, "127.0.0.1", () => {
      const { port } = s.address() as { port: number };
      s.close(() => done(port));
    });
  });
}

async function startServer(name: Server["name"], command: string, argv: string[], env: Record<string, string>, proxy: PgProxy | null): Promise<Server> {
  const port = await freePort();
  const child = spawn(command, argv, {
    cwd: ROOT,
    env: { PATH: process.env.PATH ?? "", HOME: process.env.HOME ?? "", ...env, PORT: String(port), HOST: "127.0.0.1" },
    stdio: ["ignore", "pipe", "pipe"],
  });
  children.add(child);
  const output: string[] = [];
  const keep = (chunk: Buffer) => {
    output.push(chunk.toString("utf8"));
    if (output.length > 50) output.shift();
  };
  child.stdout.on("data", keep);
  child.stderr.on("data", keep);
  const url = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 120_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`${name} exited (${child.exitCode}):\n${output.join("")}`);
    try {
      const res = await fetch(`${url}/graphql`, { method: "POST", headers: { "content-type": "application/json" }, body: "{}" });
      await res.arrayBuffer();
      break; // any HTTP answer means it is listening
    } catch {
      if (Date.now() > deadline) throw new Error(`${name} did not start:\n${output.join("")}`);
      await new Promise((r) => setTimeout(r, 250));
    }
  }
  return {
    name,
    url,
    child,
    proxy,
    output,
    async stop() {
      if (child.exitCode === null) {
        const exited = new Promise((r) => child.once("exit", r));
        child.kill("SIGTERM");
        await Promise.race([exited, new Promise((r) => setTimeout(r, 10_000))]);
        if (child.exitCode === null) child.kill("SIGKILL");
      }
      children.delete(child);
      await proxy?.close();
    },
  };
}

function ensureNode22(): string {
  const bin = join(NODE22_DIR, "node_modules/node/bin/node");
  if (existsSync(bin)) return bin;
  // Not a devDependency: its `node` bin would shadow Node 20 in every npm script of the project.
  log(`installing node@${NODE22_VERSION} into ${NODE22_DIR} (PostGraphile 5 needs Node 22)`);
  mkdirSync(NODE22_DIR, { recursive: true });
  writeFileSync(join(NODE22_DIR, "package.json"), '{ "private": true }\n');
  const r = spawnSync("npm", ["install", "--no-save", "--no-package-lock", "--no-audit", "--no-fund", `node@${NODE22_VERSION}`], {
    cwd: NODE22_DIR,
    stdio: "inherit",
  });
  if (r.status !== 0 || !existsSync(bin)) throw new Error("could not install node@22 for PostGraphile");
  return bin;
}

/** utime + stime of a process, in ms. */
function cpuMs(pid: number): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    return ((Number(fields[11]) + Number(fields[12])) * 1000) / CLOCK_TICKS;
  } catch {
    return 0; // the process is gone
  }
}
const CLOCK_TICKS = Number(spawnSync("getconf", ["CLK_TCK"], { encoding: "utf8" }).stdout.trim()) || 100;

/** Waits until a process is idle (under 2 ms of CPU in 200 ms), at most 3 s. */
async function settle(pid: number): Promise<void> {
  for (let i = 0; i < 15; i++) {
    const a = cpuMs(pid);
    await new Promise((r) => setTimeout(r, 200));
    if (cpuMs(pid) - a < 2) return;
  }
}

/**
 * Waits until no statement runs on the bench database (up to 3 minutes): requests that autocannon
 * gave up on keep their statements running after the server's CPU is idle, and would otherwise
 * starve the next measurement (a slow operation's leftovers measured as the next one's latency).
 */
async function quietDatabase(admin: postgres.Sql, dbName: string): Promise<void> {
  const started = Date.now();
  for (;;) {
    const [{ n }] = await admin<
      { n: number }[]
    >`select count(*)::int as n from pg_stat_activity where datname = ${dbName} and state = 'active' and pid <> pg_backend_pid()`;
    if (n === 0) break;
    if (Date.now() - started > 180_000) {
      log(`the database is still busy after 3 minutes (${n} statements): measuring anyway`);
      break;
    }
    await new Promise((r) => setTimeout(r, 250));
  }
  const waited = Date.now() - started;
  if (waited > 2000) log(`waited ${(waited / 1000).toFixed(1)} s for earlier statements to end`);
}

function peakRssMb_(pid: number): number {
  try {
    const m = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, "utf8"));
    return m ? Math.round(Number(m[1]) / 1024) : 0;
  } catch {
    return 0;
  }
}

// ---------------------------------------------------------------------------------------------
// Database

async function createDatabase(): Promise<{ name: string; url: string; drop(): Promise<void> }> {
  const name = `bench_${new Date().toISOString().replace(/\D/g, "").slice(0, 14)}_${process.pid}`;
  const admin = postgres(adminUrl, { max: 1, onnotice: () => {} });
  await admin.unsafe(`create database ${name}`);
  await admin.end();
  const url = new URL(adminUrl);
  url.pathname = `/${name}`;
  return {
    name,
    url: url.toString(),
    async drop() {
      const a = postgres(adminUrl, { max: 1, onnotice: () => {} });
      await a.unsafe(`drop database if exists ${name} with (force)`);
      await a.end();
    },
  };
}

/** A database generated by an earlier run with --keep-db (--reuse-db NAME): never dropped. */
function existingDatabase(name: string): { name: string; url: string; drop(): Promise<void> } {
  if (!/^bench_\w+$/.test(name)) throw new Error("--reuse-db takes the name of a bench_ database");
  const url = new URL(adminUrl);
  url.pathname = `/${name}`;
  return { name, url: url.toString(), drop: async () => {} };
}

/** A computed column for PostGraphile (`Session.unrecorded`), the same rule as the API's summary. */
const POSTGRAPHILE_FUNCTIONS = `
create or replace function sessions_unrecorded(s sessions) returns integer language sql stable as $$
  select case when s.status = 'CANCELLED' then 0 else (
    select count(*)::int from enrollments e
    where e.group_id = s.group_id and e.activated_at is not null and e.activated_at <= s.starts_at
      and (e.ended_at is null or e.ended_at > s.starts_at)
      and not exists (select 1 from attendance a where a.session_id = s.id and a.participant_id = e.participant_id)) end
$$`;

// ---------------------------------------------------------------------------------------------
// Requests

async function post(server: Server, body: string, token: string | null): Promise<{ status: number; text: string }> {
  const headers: Record<string, string> = { "content-type": "application/json" };
  if (token) headers.authorization = `Bearer ${token}`;
  const res = await fetch(`${server.url}/graphql`, { method: "POST", headers, body });
  return { status: res.status, text: await res.text() };
}

const flavorOf = (name: Server["name"]): Flavor => (name === "postgraphile" ? "postgraphile" : "api");

/** Compares every contender's answers to the API's (the floor: the same data exactly). */
async function checkEquivalence(servers: Server[], token: string, targets: Targets): Promise<void> {
  const api = servers.find((s) => s.name === "api");
  if (!api) return;
  for (const op of QUERIES) {
    for (let n = 0; n < 3; n++) {
      const apiRes = await post(api, bodyMaker("api", op, targets)(n), token);
      const apiData = checkAnswer(op, apiRes.text);
      for (const other of servers) {
        if (other === api) continue;
        const res = await post(other, bodyMaker(flavorOf(other.name), op, targets)(n), token);
        const data = checkAnswer(op, res.text);
        if (other.name === "floor" && !isDeepStrictEqual(data, apiData)) {
          throw new Error(`${op}: the floor's answer differs from the API's:\n${res.text.slice(0, 800)}\n---\n${apiRes.text.slice(0, 800)}`);
        }
        const want = digest("api", op, apiData);
        const got = digest(flavorOf(other.name), op, data);
        if (!isDeepStrictEqual(want, got)) {
          throw new Error(
            `${op}: ${other.name} answers other data than the API:\n${JSON.stringify(got).slice(0, 1500)}\n---\n${JSON.stringify(want).slice(0, 1500)}`,
          );
        }
      }
    }
  }
  log("answers match:", servers.map((s) => s.name).join(", "));
}

interface Measurement {
  round: number;
  /** Concurrent connections driving the server. */
  connections: number;
  contender: ContenderName;
  operation: OperationName;
  requests: number;
  seconds: number;
  rps: number;
  p50: number;
  p99: number;
  errors: number;
  checked: number;
  sqlStatementsPerRequest: number | null;
  /** Round trips to PostgreSQL (the counting proxy: a waiting connection sending again). */
  roundTripsPerRequest?: number | null;
  pgBytesPerRequest: number | null;
  responseBytes: number;
  serverCpuMsPerRequest: number;
  postgresCpuMsPerRequest: number;
  /** recordAttendance: attendance changes written per request (history rows; 12 when every record changed). */
  changesPerRequest?: number;
}

interface FeedDrain {
  round: number;
  pages: number;
  changes: number;
  seconds: number;
  changesPerSecond: number;
  /** Per page of 1,000. */
  p50: number;
  p99: number;
  sqlStatementsPerPage: number;
  pgBytesPerPage: number;
  responseBytesPerPage: number;
  serverCpuMsPerPage: number;
  postgresCpuMsPerPage: number;
}

/** A full drain of the feed from its start, in pages of 1,000, by the bench's API client (consent for everyone). */
async function measureDrain(server: Server, apiKey: string, round: number, admin: postgres.Sql, dbName: string): Promise<FeedDrain> {
  await settle(server.child.pid!);
  // Every change committed so far (the seeded ones and those of the rounds' recordAttendance), all of them the client's.
  const expected = Number((await admin`select count(*)::int as n from attendance_changes`)[0].n);
  const before = { proxy: { ...server.proxy!.counters }, cpu: cpuMs(server.child.pid!), pg: await backendCpu(admin, dbName) };
  const d = await drainFeed(server.url, apiKey, 1000);
  const after = { proxy: { ...server.proxy!.counters }, cpu: cpuMs(server.child.pid!), pg: await backendCpu(admin, dbName) };
  if (d.changes !== expected) throw new Error(`feed drain: ${d.changes} changes, expected ${expected}`);
  let pgCpu = 0;
  for (const [pid, ms] of after.pg) pgCpu += ms - (before.pg.get(pid) ?? 0);
  const per = (x: number) => x / d.pages;
  return {
    round,
    pages: d.pages,
    changes: d.changes,
    seconds: d.seconds,
    changesPerSecond: d.changesPerSecond,
    p50: d.p50,
    p99: d.p99,
    sqlStatementsPerPage: per(after.proxy.statements - before.proxy.statements),
    pgBytesPerPage: per(after.proxy.bytesFromServer - before.proxy.bytesFromServer),
    responseBytesPerPage: d.responseBytes,
    serverCpuMsPerPage: per(after.cpu - before.cpu),
    postgresCpuMsPerPage: per(pgCpu),
  };
}

/** One measured drain, logged. */
async function drainRound(server: Server, apiKey: string, round: number, admin: postgres.Sql, dbName: string): Promise<FeedDrain> {
  const d = await measureDrain(server, apiKey, round, admin, dbName);
  log(
    `round ${round} feed drain: ${d.changes} changes in ${d.pages} pages, ${d.seconds.toFixed(1)} s, ${d.changesPerSecond.toFixed(0)} changes/s  ` +
      `page p50 ${d.p50.toFixed(0)} ms p99 ${d.p99.toFixed(0)} ms  ${d.sqlStatementsPerPage.toFixed(1)} stmts  ${(d.pgBytesPerPage / 1024).toFixed(0)} kB from PG  ` +
      `${(d.responseBytesPerPage / 1024).toFixed(0)} kB response  cpu ${d.serverCpuMsPerPage.toFixed(1)} ms + PG ${d.postgresCpuMsPerPage.toFixed(1)} ms per page`,
  );
  return d;
}

/** Drains one after another for `seconds`, the API's RSS read every 10 s. */
async function feedSoak(server: Server, apiKey: string, seconds: number): Promise<{ seconds: number; drains: number; changes: number; samples: number[] }> {
  const samples: number[] = [];
  let drains = 0;
  let changes = 0;
  if (seconds <= 0) return { seconds, drains, changes, samples };
  const rssMb = () => {
    const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${server.child.pid}/status`, "utf8"));
    return m ? Math.round(Number(m[1]) / 1024) : 0;
  };
  const end = Date.now() + seconds * 1000;
  let next = Date.now();
  const sample = () => {
    if (Date.now() < next) return;
    samples.push(rssMb());
    log(`soak: ${Math.round((seconds * 1000 - (end - Date.now())) / 1000)} s, RSS ${samples[samples.length - 1]} MB`);
    next += 10_000;
  };
  sample();
  while (Date.now() < end) {
    const d = await drainFeed(server.url, apiKey, 1000, () => {
      sample();
    });
    drains++;
    changes += d.changes;
  }
  sample();
  return { seconds, drains, changes, samples };
}

/** `--only feed`: the feed drains alone, with the API's peak RSS, written to feed.json and feed.md. */
async function feedRounds(server: Server, apiKey: string, admin: postgres.Sql, dbName: string, pgVersion: string): Promise<void> {
  const loadAtStart = loadavg()[0];
  const drains: FeedDrain[] = [];
  for (let round = 1; round <= rounds; round++) drains.push(await drainRound(server, apiKey, round, admin, dbName));
  const soak = await feedSoak(server, apiKey, Number(args["soak-seconds"]));
  const med = (f: (d: FeedDrain) => number) => median(drains.map(f));
  const result = {
    soak,
    finishedAt: new Date().toISOString(),
    machine: { cpus: availableParallelism(), node: process.versions.node, postgres: pgVersion, loadAverage: { start: loadAtStart, end: loadavg()[0] } },
    drains,
    peakRssMb: peakRssMb_(server.child.pid!),
  };
  const md =
    `Feed drain (\`--only feed\`, ${drains[0].changes.toLocaleString("en-US")} changes, ${drains[0].pages} pages of 1,000; medians of ${drains.length}; ` +
    `load average ${loadAtStart.toFixed(1)} → ${result.machine.loadAverage.end.toFixed(1)} on ${result.machine.cpus} cores): ` +
    `**${Math.round(med((d) => d.changesPerSecond)).toLocaleString("en-US")} changes/s**, per page p50 ${med((d) => d.p50).toFixed(0)} ms, ` +
    `p99 ${med((d) => d.p99).toFixed(0)} ms, ${med((d) => d.sqlStatementsPerPage).toFixed(1)} SQL statements, ` +
    `${(med((d) => d.pgBytesPerPage) / 1024).toFixed(1)} kB read from PostgreSQL, ${(med((d) => d.responseBytesPerPage) / 1024).toFixed(1)} kB response, ` +
    `server CPU ${med((d) => d.serverCpuMsPerPage).toFixed(1)} ms, PostgreSQL CPU ${med((d) => d.postgresCpuMsPerPage).toFixed(1)} ms; peak RSS ${result.peakRssMb} MB.\n` +
    (soak.samples.length
      ? `\nSoak: ${soak.seconds} s of drains one after another (${soak.drains} drains, ${soak.changes.toLocaleString("en-US")} changes); API RSS every 10 s (MB): ${soak.samples.join(", ")}.\n`
      : "");
  mkdirSync(args.out, { recursive: true });
  writeFileSync(join(args.out, "feed.json"), JSON.stringify(result, null, 2) + "\n");
  writeFileSync(join(args.out, "feed.md"), md);
  console.log("\n" + md);
}

const historyRows = async (admin: postgres.Sql) => Number((await admin`select count(*)::int as n from attendance_history`)[0].n);

/** CPU ms of the PostgreSQL backends serving one database (a server's pool). */
async function backendCpu(admin: postgres.Sql, dbName: string): Promise<Map<number, number>> {
  const rows = await admin`select pid from pg_stat_activity where datname = ${dbName} and pid <> pg_backend_pid()`;
  return new Map(rows.map((r) => [Number(r.pid), cpuMs(Number(r.pid))]));
}

async function drive(
  server: Server,
  op: OperationName,
  seconds: number,
  token: string,
  targets: Targets,
  measure: { round: number; admin: postgres.Sql; dbName: string } | null,
  clients = connections,
): Promise<Measurement | null> {
  const make = bodyMaker(flavorOf(server.name), op, targets);
  let n = 0;
  let checked = 0;
  let responseBytes = 0;
  let responses = 0;
  const failures: string[] = [];
  const headers: Record<string, string> = { "content-type": "application/json" };
  if (server.name !== "postgraphile" && server.name !== "floor") headers.authorization = `Bearer ${token}`;
  if (measure) {
    await settle(server.child.pid!);
    await quietDatabase(measure.admin, measure.dbName);
  }
  const writes = op === "RecordAttendance" && measure;
  const historyBefore = writes ? await historyRows(measure.admin) : 0;
  const before = measure ? { proxy: { ...server.proxy!.counters }, cpu: cpuMs(server.child.pid!), pg: await backendCpu(measure.admin, measure.dbName) } : null;
  const result = await autocannon({
    url: `${server.url}/graphql`,
    connections: clients,
    duration: seconds,
    // A slow operation is measured as slow (its latency), not failed: only a request stuck for a
    // minute counts as a timeout.
    timeout: 60,
    method: "POST",
    headers,
    requests: [
      {
        setupRequest: (req: any) => ({ ...req, body: make(n++) }),
        onResponse: (status: number, body: string) => {
          responses++;
          responseBytes += Buffer.byteLength(body);
          // Check every answer: autocannon itself reads no GraphQL errors.
          {
            checked++;
            try {
              if (status !== 200) throw new Error(`${op}: HTTP ${status}: ${body.slice(0, 300)}`);
              checkAnswer(op, body);
            } catch (err) {
              if (failures.length < 5) failures.push((err as Error).message);
            }
          }
        },
      },
    ],
  });
  if (failures.length) throw new Error(`${server.name} ${op}: wrong answers:\n${failures.join("\n")}`);
  if (result.errors || result.timeouts || result.non2xx) {
    throw new Error(`${server.name} ${op}: ${result.errors} errors, ${result.timeouts} timeouts, ${result.non2xx} non-2xx`);
  }
  if (!measure || !before) return null;
  // Requests still in flight when autocannon stopped run to their end on the server: wait for
  // them, and count resources per request sent (the rates count completed requests).
  await settle(server.child.pid!);
  const after = { proxy: { ...server.proxy!.counters }, cpu: cpuMs(server.child.pid!), pg: await backendCpu(measure.admin, measure.dbName) };
  const requests = result.requests.total;
  let pgCpu = 0;
  for (const [pid, ms] of after.pg) pgCpu += ms - (before.pg.get(pid) ?? 0);
  const sent = Math.max(result.requests.sent, requests);
  const per = (x: number) => (sent ? x / sent : 0);
  return {
    round: measure.round,
    connections: clients,
    contender: server.name as ContenderName,
    operation: op,
    requests,
    seconds: result.duration,
    rps: requests / result.duration,
    p50: result.latency.p50,
    p99: result.latency.p99,
    errors: failures.length,
    checked,
    sqlStatementsPerRequest: per(after.proxy.statements - before.proxy.statements),
    roundTripsPerRequest: per(after.proxy.roundTrips - before.proxy.roundTrips),
    pgBytesPerRequest: per(after.proxy.bytesFromServer - before.proxy.bytesFromServer),
    responseBytes: responses ? responseBytes / responses : 0,
    serverCpuMsPerRequest: per(after.cpu - before.cpu),
    postgresCpuMsPerRequest: per(pgCpu),
    ...(writes ? { changesPerRequest: per((await historyRows(measure.admin)) - historyBefore) } : {}),
  };
}

// ---------------------------------------------------------------------------------------------
// Runs

function build(): void {
  if (args["no-build"]) return;
  log("npm run build");
  const r = spawnSync("npm", ["run", "build", "--silent"], { cwd: ROOT, stdio: "inherit" });
  if (r.status !== 0) throw new Error("npm run build failed");
}

/** The embedded database end to end: generate a tiny dataset into a PGlite data dir, serve it, ask. */
async function pgliteSmoke(): Promise<{ seconds: number; generated: GenerateResult }> {
  const started = performance.now();
  const dataDir = mkdtempSync(join(tmpdir(), "bench-pglite-"));
  try {
    const database = await openDatabase({ dataDir });
    const generated = await generateDataset(database.db, 0.025);
    const targets = await pickTargets((text) => run(database.db, text), 3);
    await database.close();
    const server = await startServer(
      "api-pglite",
      process.execPath,
      [...startNodeFlags(), "dist/index.js"],
      { NODE_ENV: "production", DATA_DIR: dataDir, AUTH_JWT_SECRET: JWT_SECRET, LOG_LEVEL: "warn" },
      null,
    );
    try {
      const token = await mintToken({ jwtSecret: JWT_SECRET }, BENCH_VIEWER_SUBJECT, { expiresIn: "1h" });
      for (const op of [...QUERIES, "RecordAttendance", ...ENGAGEMENT] as OperationName[]) {
        const make = bodyMaker("api", op, targets);
        for (let n = 0; n < 2; n++) {
          const res = await post(server, make(n), token);
          if (res.status !== 200) throw new Error(`PGlite smoke ${op}: HTTP ${res.status}: ${res.text.slice(0, 300)}`);
          checkAnswer(op, res.text);
        }
      }
    } finally {
      await server.stop();
    }
    return { seconds: (performance.now() - started) / 1000, generated };
  } finally {
    rmSync(dataDir, { recursive: true, force: true });
  }
}

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length ? (s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2) : NaN;
};

interface Summary {
  contender: ContenderName;
  operation: OperationName;
  rps: number;
  p50: number;
  p99: number;
  sqlStatementsPerRequest: number | null;
  /** Round trips to PostgreSQL (the counting proxy: a waiting connection sending again). */
  roundTripsPerRequest?: number | null;
  pgBytesPerRequest: number | null;
  responseBytes: number;
  serverCpuMsPerRequest: number;
  postgresCpuMsPerRequest: number;
}

function summarize(ms: Measurement[]): Summary[] {
  const keys = [...new Set(ms.map((m) => `${m.contender}|${m.operation}`))];
  return keys.map((key) => {
    const [contender, operation] = key.split("|") as [ContenderName, OperationName];
    const of = ms.filter((m) => m.contender === contender && m.operation === operation);
    const med = (f: (m: Measurement) => number) => median(of.map(f));
    return {
      contender,
      operation,
      rps: med((m) => m.rps),
      p50: med((m) => m.p50),
      p99: med((m) => m.p99),
      sqlStatementsPerRequest: med((m) => m.sqlStatementsPerRequest ?? NaN),
      roundTripsPerRequest: med((m) => m.roundTripsPerRequest ?? NaN),
      pgBytesPerRequest: med((m) => m.pgBytesPerRequest ?? NaN),
      responseBytes: med((m) => m.responseBytes),
      serverCpuMsPerRequest: med((m) => m.serverCpuMsPerRequest),
      postgresCpuMsPerRequest: med((m) => m.postgresCpuMsPerRequest),
    };
  });
}

const fmt = (x: number | null | undefined, digits = 0) =>
  x === null || x === undefined || Number.isNaN(x) ? "—" : x.toLocaleString("en-US", { maximumFractionDigits: digits, minimumFractionDigits: digits });
const kb = (x: number | null) => (x === null || Number.isNaN(x) ? "—" : `${fmt(x / 1024, 1)} kB`);

function markdown(report: Report): string {
  const s = report.summary;
  const get = (c: ContenderName, op: OperationName) => s.find((x) => x.contender === c && x.operation === op);
  const ops = [...QUERIES, "RecordAttendance", ...ENGAGEMENT] as OperationName[];
  const lines: string[] = [];
  const label: Record<OperationName, string> = {
    CenterDashboard: "CenterDashboard (first: 20)",
    SessionRoster: "SessionRoster",
    ParticipantHistory: "ParticipantHistory",
    RecordAttendance: "recordAttendance (12 records)",
    ParticipantEngagement: "ParticipantEngagement",
    GroupEngagement: "GroupEngagement (12 weeks)",
    CenterEngagement: "CenterEngagement (12 weeks)",
    CenterFollowUps: "CenterFollowUps (first: 50)",
  };
  const ms = (x: number) => `${fmt(x, x < 100 ? 1 : 0)} ms`;
  const only = (op: OperationName) => (ENGAGEMENT as OperationName[]).includes(op);
  const cell = (x: Summary | undefined, op?: OperationName) => (x ? `${fmt(x.rps)} req/s, p50 ${ms(x.p50)}, p99 ${ms(x.p99)}` : op && only(op) ? "n/a" : "—");
  const ratio = (a: Summary | undefined, b: Summary | undefined) => (a && b ? fmt(a.rps / b.rps, 2) : "—");
  lines.push(
    `Medians of ${report.options.rounds} alternating rounds of ${report.options.duration} s at ${report.options.connections} connections, ` +
      `scale ${report.options.scale} (${fmt(report.dataset.rows.sessions)} sessions, ${fmt(report.dataset.rows.attendance)} attendance rows), ` +
      `${report.machine.cpus} cores (load average ${fmt(report.machine.loadAverage.start, 1)} → ${fmt(report.machine.loadAverage.end, 1)}), ` +
      `PostgreSQL ${report.machine.postgres}, Node ${report.machine.node} (PostGraphile ${report.machine.postgraphile ?? "—"} on Node ${report.machine.node22 ?? "—"}), ${report.finishedAt.slice(0, 10)}` +
      (report.options.rateLimit === "on" ? ", the API with RATE_LIMIT=on" : "") +
      (report.options.ops ? `; operations: ${report.options.ops.join(", ")}` : "") +
      ".",
    "",
    "| operation | this API | PostGraphile 5 | one SQL statement (floor) | API / PostGraphile | API / floor |",
    "|---|---:|---:|---:|---:|---:|",
  );
  for (const op of ops) {
    const api = get("api", op);
    if (!api && !get("floor", op)) continue;
    lines.push(
      `| ${label[op]} | ${cell(api)} | ${cell(get("postgraphile", op), op)} | ${cell(get("floor", op), op)} | ${only(op) ? "n/a" : ratio(api, get("postgraphile", op))} | ${only(op) ? "n/a" : ratio(api, get("floor", op))} |`,
    );
  }
  lines.push(
    "",
    "Per request (medians): SQL statements, round trips and bytes read from PostgreSQL (counting proxy), response size, CPU of the server process and of its PostgreSQL backends.",
    "",
    "| operation | contender | SQL statements | round trips | read from PostgreSQL | response | server CPU | PostgreSQL CPU |",
    "|---|---|---:|---:|---:|---:|---:|---:|",
  );
  for (const op of ops) {
    for (const c of ["api", "api-limits", "postgraphile", "floor"] as ContenderName[]) {
      const x = get(c, op);
      if (!x) continue;
      lines.push(
        `| ${label[op]} | ${c} | ${fmt(x.sqlStatementsPerRequest, 1)} | ${fmt(x.roundTripsPerRequest ?? NaN, 1)} | ${kb(x.pgBytesPerRequest)} | ${kb(x.responseBytes)} | ${fmt(x.serverCpuMsPerRequest, 2)} ms | ${fmt(x.postgresCpuMsPerRequest, 2)} ms |`,
      );
    }
  }
  const limited = ops.filter((op) => get("api", op) && get("api-limits", op));
  if (limited.length) {
    lines.push(
      "",
      "Rate limiting: this API with `RATE_LIMIT=on` (the production default; limits too high to refuse anything) against `RATE_LIMIT=off`, the same rounds (target: costs under 10% of req/s).",
      "",
      "| operation | off | on | on / off | statements (off · on) |",
      "|---|---:|---:|---:|---:|",
    );
    for (const op of limited) {
      const off = get("api", op)!;
      const on = get("api-limits", op)!;
      lines.push(
        `| ${label[op]} | ${fmt(off.rps)} req/s | ${fmt(on.rps)} req/s | ${fmt(on.rps / off.rps, 2)} | ${fmt(off.sqlStatementsPerRequest, 1)} · ${fmt(on.sqlStatementsPerRequest, 1)} |`,
      );
    }
  }
  if (report.oneClient?.length) {
    lines.push(
      "",
      `One client (this API at 1 connection, ${report.options.duration} s per operation, after the rounds):`,
      "",
      "| operation | req/s | p50 | p99 | round trips | server CPU | PostgreSQL CPU |",
      "|---|---:|---:|---:|---:|---:|---:|",
    );
    for (const m of report.oneClient) {
      lines.push(
        `| ${label[m.operation]} | ${fmt(m.rps)} | ${ms(m.p50)} | ${ms(m.p99)} | ${fmt(m.roundTripsPerRequest ?? NaN, 1)} | ${fmt(m.serverCpuMsPerRequest, 2)} ms | ${fmt(m.postgresCpuMsPerRequest, 2)} ms |`,
      );
    }
  }
  const changes = report.measurements.filter((m) => m.changesPerRequest !== undefined);
  if (changes.length) {
    const byContender = [...new Set(changes.map((m) => m.contender))].map(
      (c) => `${c} ${fmt(median(changes.filter((m) => m.contender === c).map((m) => m.changesPerRequest!)), 1)}`,
    );
    lines.push("", `recordAttendance: attendance changes written per request (of 12 records): ${byContender.join(", ")}.`);
  }
  if (report.feed.length) {
    const med = (f: (d: FeedDrain) => number) => median(report.feed.map(f));
    lines.push(
      "",
      `Feed drain (this API only: \`attendanceChanges\` from the start in pages of 1,000, one API client with consent for every participant, ` +
        `${fmt(report.feed[0].changes)} changes, ${fmt(report.feed[0].pages)} pages; medians of ${report.feed.length} drains): ` +
        `**${fmt(med((d) => d.changesPerSecond))} changes/s** (${fmt(
          med((d) => d.seconds),
          1,
        )} s; target 50,000), per page p50 ${ms(med((d) => d.p50))}, p99 ${ms(med((d) => d.p99))}, ` +
        `${fmt(
          med((d) => d.sqlStatementsPerPage),
          1,
        )} SQL statements, ${kb(med((d) => d.pgBytesPerPage))} read from PostgreSQL, ${kb(med((d) => d.responseBytesPerPage))} response, ` +
        `server CPU ${fmt(
          med((d) => d.serverCpuMsPerPage),
          1,
        )} ms, PostgreSQL CPU ${fmt(
          med((d) => d.postgresCpuMsPerPage),
          1,
        )} ms.`,
    );
  }
  lines.push(
    "",
    `Peak RSS: ${Object.entries(report.peakRssMb)
      .map(([k, v]) => `${k} ${v} MB`)
      .join(", ")}.`,
  );
  lines.push(
    `Dataset: ${fmt(report.dataset.totalRows)} rows generated in ${fmt(report.dataset.seconds, 1)} s (${fmt(report.dataset.rowsPerSecond)} rows/s).` +
      (report.pglite ? ` PGlite smoke run: ok (${fmt(report.pglite.generated.totalRows)} rows, ${fmt(report.pglite.seconds, 1)} s).` : ""),
  );
  return lines.join("\n") + "\n";
}

const BEGIN_MARK = "<!-- bench:begin (written by npm run bench; do not edit by hand) -->";
const END_MARK = "<!-- bench:end -->";

/** Replaces what is between the bench's markers in a file (which must have them). */
function replaceBetweenMarkers(path: string, text: string): void {
  const body = readFileSync(path, "utf8");
  const start = body.indexOf(BEGIN_MARK);
  const end = body.indexOf(END_MARK);
  if (start < 0 || end < start) throw new Error(`${path} has no bench markers`);
  writeFileSync(path, body.slice(0, start + BEGIN_MARK.length) + "\n\n" + text.trim() + "\n\n" + body.slice(end));
}

/** Issue 22's targets against this run, one line each: what the README shows. */
function targetsTable(report: Report): string {
  const get = (c: ContenderName, op: OperationName) => report.summary.find((x) => x.contender === c && x.operation === op);
  const one = (op: OperationName) => report.oneClient.find((m) => m.operation === op);
  const ratio = (a?: Summary, b?: Summary) => (a && b ? a.rps / b.rps : NaN);
  const mark = (ok: boolean) => (ok ? "met" : "not met");
  const rows: string[] = [];
  const row = (what: string, target: string, value: number, shown: string, ok: boolean) => {
    if (!Number.isNaN(value)) rows.push(`| ${what} | ${target} | ${shown} | ${mark(ok)} |`);
  };
  for (const op of QUERIES) {
    const r = ratio(get("api", op), get("postgraphile", op));
    row(
      `${op}: req/s against PostGraphile 5`,
      "≥ 1.5×",
      r,
      `${fmt(r, 2)}× (${fmt(get("api", op)?.rps)} / ${fmt(get("postgraphile", op)?.rps)} req/s)`,
      r >= 1.5,
    );
  }
  const floor = ratio(get("api", "CenterDashboard"), get("floor", "CenterDashboard"));
  row("CenterDashboard: req/s against one SQL statement", "≥ 0.6", floor, fmt(floor, 2), floor >= 0.6);
  const ce = one("CenterEngagement");
  row("CenterEngagement: p50, one client", "< 50 ms", ce?.p50 ?? NaN, `${fmt(ce?.p50 ?? NaN, 1)} ms`, (ce?.p50 ?? Infinity) < 50);
  const ce10 = get("api", "CenterEngagement");
  row(`CenterEngagement: req/s at ${report.options.connections} connections`, "≥ 20", ce10?.rps ?? NaN, fmt(ce10?.rps ?? NaN), (ce10?.rps ?? 0) >= 20);
  const ra = one("RecordAttendance");
  row("recordAttendance (12 records): p50, one client", "< 10 ms", ra?.p50 ?? NaN, `${fmt(ra?.p50 ?? NaN, 1)} ms`, (ra?.p50 ?? Infinity) < 10);
  const feed = median(report.feed.map((d) => d.changesPerSecond));
  row("Feed drain", "≥ 50,000 changes/s", feed, `${fmt(feed)} changes/s`, feed >= 50_000);
  const rss = report.peakRssMb.api ?? NaN;
  row("Peak RSS of the API", "< 250 MB", rss, `${fmt(rss)} MB`, rss < 250);
  const limited = [...QUERIES, "RecordAttendance", ...ENGAGEMENT]
    .map((op) => ratio(get("api-limits", op as OperationName), get("api", op as OperationName)))
    .filter((x) => !Number.isNaN(x));
  if (limited.length) {
    const worst = Math.min(...limited);
    row("RATE_LIMIT=on against off, req/s, worst operation", "≥ 0.90", worst, fmt(worst, 2), worst >= 0.9);
  }
  return [
    `From \`npm run bench\` on ${report.finishedAt.slice(0, 10)}: scale ${report.options.scale}, ${report.options.rounds} rounds of ${report.options.duration} s, ${report.machine.cpus} cores, load average ${fmt(report.machine.loadAverage.start, 1)} → ${fmt(report.machine.loadAverage.end, 1)}; every figure in [docs/performance.md](docs/performance.md#latest-results).`,
    "",
    "| target (issue 22) | wanted | measured | |",
    "|---|---|---|---|",
    ...rows,
  ].join("\n");
}

interface Report {
  startedAt: string;
  finishedAt: string;
  options: {
    scale: number;
    duration: number;
    warmup: number;
    rounds: number;
    connections: number;
    contenders: string[];
    ops?: string[] | null;
    rateLimit?: string;
  };
  machine: {
    cpus: number;
    node: string;
    node22: string | null;
    postgres: string;
    postgraphile: string | null;
    /** 1-minute load average when the rounds started and ended (other work on the machine skews results). */
    loadAverage: { start: number; end: number };
  };
  dataset: GenerateResult;
  pglite: { seconds: number; generated: GenerateResult } | null;
  measurements: Measurement[];
  summary: Summary[];
  /** Each operation of the API at one connection (one run of `duration` seconds). */
  oneClient: Measurement[];
  feed: FeedDrain[];
  peakRssMb: Record<string, number>;
}

async function main() {
  const startedAt = new Date().toISOString();
  build();
  let pglite: Report["pglite"] = null;
  if (!args["no-pglite"] && !feedOnly) {
    log("PGlite smoke run");
    pglite = await pgliteSmoke();
    log(`PGlite smoke run ok (${pglite.generated.totalRows} rows, ${pglite.seconds.toFixed(1)} s)`);
  }

  const reuse = args["reuse-db"];
  const db = reuse ? existingDatabase(reuse) : await createDatabase();
  log(`database ${db.name}${reuse ? " (reused)" : ""}`);
  const servers: Server[] = [];
  const admin = postgres(db.url, { max: 1, onnotice: () => {} });
  try {
    const database = await openDatabase({ databaseUrl: db.url }); // migrates
    let dataset: GenerateResult;
    if (reuse) {
      dataset = await describeDataset((text) => run(database.db, text));
      // An earlier database, maybe of an earlier version: the engagement worker's pass brings its kept figures up to date.
      const t0 = performance.now();
      const recomputed = await drainEngagement(database.db);
      log(`engagement: ${recomputed} kept rows recomputed in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
      await run(database.db, "analyze");
    } else {
      log(`generating scale ${scale}`);
      dataset = await generateDataset(database.db, scale);
      log(`generated ${dataset.totalRows} rows in ${dataset.seconds.toFixed(1)} s: ${dataset.rowsPerSecond} rows/s`, JSON.stringify(dataset.rows));
      await run(database.db, "vacuum analyze");
    }
    await run(database.db, POSTGRAPHILE_FUNCTIONS);
    const feedSeed = contenderNames.includes("api") && selected("feed") ? await seedFeed(database.db) : null;
    if (feedSeed) log(`feed: ${feedSeed.changes} changes for one API client with consent for every participant (${feedSeed.seconds.toFixed(1)} s)`);
    const targets = await pickTargets((text) => run(database.db, text));
    await database.close();
    const pgVersion = String((await admin`show server_version`)[0].server_version).split(" ")[0];

    const target = new URL(db.url);
    const viaProxy = (proxy: PgProxy) => {
      const u = new URL(db.url);
      u.host = `127.0.0.1:${proxy.port}`;
      return u.toString();
    };
    let node22: string | null = null;
    for (const name of contenderNames) {
      const proxy = await startPgProxy({ host: target.hostname, port: Number(target.port || 5432) });
      const env = { NODE_ENV: "production", DATABASE_URL: viaProxy(proxy), DATABASE_POOL_SIZE: "10" };
      log(`starting ${name}`);
      if (isApi(name)) {
        // Rate limiting off by default: the bench sends far more than a client's share from one
        // address and one actor. With --rate-limit on, it counts as in production, under limits
        // too high to refuse anything: what counting costs.
        const limits: Record<string, string> =
          rateLimit === "on" || name === "api-limits"
            ? { RATE_LIMIT: "on", RATE_LIMIT_PER_IP: "1000000000", RATE_LIMIT_PER_ACTOR: "1000000000" }
            : { RATE_LIMIT: "off" };
        // BENCH_API_NODE_OPTIONS: node options for the API alone, to look inside it (e.g. --trace-gc, --import a memory probe).
        const nodeOptions: Record<string, string> = process.env.BENCH_API_NODE_OPTIONS ? { NODE_OPTIONS: process.env.BENCH_API_NODE_OPTIONS } : {};
        servers.push(
          await startServer(
            name,
            process.execPath,
            [...startNodeFlags(), "dist/index.js"],
            { ...env, AUTH_JWT_SECRET: JWT_SECRET, ...limits, ...nodeOptions },
            proxy,
          ),
        );
      } else if (name === "floor") {
        servers.push(await startServer(name, process.execPath, ["--import", "tsx", "test/bench/floor-server.ts"], env, proxy));
      } else if (name === "postgraphile") {
        const bin = ensureNode22();
        node22 = spawnSync(bin, ["--version"], { encoding: "utf8" }).stdout.trim().replace(/^v/, "");
        servers.push(await startServer(name, bin, ["--import", "tsx", "test/bench/postgraphile-server.ts"], env, proxy));
      } else {
        throw new Error(`unknown contender ${String(name)}`);
      }
    }
    const token = await mintToken({ jwtSecret: JWT_SECRET }, BENCH_VIEWER_SUBJECT, { expiresIn: "12h" });
    if (feedOnly) {
      await feedRounds(servers[0], feedSeed!.apiKey, admin, db.name, pgVersion);
      return;
    }
    await checkEquivalence(servers, token, targets);

    const all: OperationName[] = [...QUERIES, "RecordAttendance", ...ENGAGEMENT];
    const unknown = [...(selectedOps ?? [])].filter((op) => op !== "feed" && !all.includes(op as OperationName));
    if (unknown.length) throw new Error(`--only: no operation ${unknown.join(", ")} (one of ${all.join(", ")}, feed)`);
    const ops = all.filter((op) => selected(op));
    // PostGraphile has no recordAttendance (it would be a hand-written plpgsql function); the
    // engagement queries are this API's rules (risk, streaks, milestones): no equivalent elsewhere.
    const runs = (op: OperationName) =>
      servers.filter((s) => ((ENGAGEMENT as OperationName[]).includes(op) ? isApi(s.name) : op !== "RecordAttendance" || s.name !== "postgraphile"));
    log(`warm-up, ${warmup} s per operation and contender`);
    for (const op of ops) for (const s of runs(op)) await drive(s, op, warmup, token, targets, null);

    const measurements: Measurement[] = [];
    const loadAtStart = loadavg()[0];
    for (let round = 1; round <= rounds; round++) {
      for (const op of ops) {
        const order = runs(op);
        // Alternate: a different contender goes first in each round.
        const rotated = order.map((_, i) => order[(i + round - 1) % order.length]);
        for (const s of rotated) {
          const m = (await drive(s, op, duration, token, targets, { round, admin, dbName: db.name }))!;
          measurements.push(m);
          log(
            `round ${round} ${op.padEnd(18)} ${s.name.padEnd(12)} ${m.rps.toFixed(0).padStart(6)} req/s  p50 ${m.p50.toFixed(1)} ms  p99 ${m.p99.toFixed(1)} ms  ` +
              `${m.sqlStatementsPerRequest?.toFixed(1)} stmts  ${m.roundTripsPerRequest?.toFixed(1)} round trips  ${((m.pgBytesPerRequest ?? 0) / 1024).toFixed(1)} kB from PG  ` +
              `cpu ${m.serverCpuMsPerRequest.toFixed(2)} ms + PG ${m.postgresCpuMsPerRequest.toFixed(2)} ms  (${m.checked} answers checked)` +
              (m.changesPerRequest !== undefined ? `  ${m.changesPerRequest.toFixed(1)} changes per request` : ""),
          );
        }
      }
    }
    // One client: each operation of the API at one connection, after the rounds (latency alone,
    // nothing queued behind another request of the bench).
    const single: Measurement[] = [];
    const apiServer = servers.find((s) => s.name === "api");
    if (oneClient && apiServer) {
      for (const op of ops) {
        const m = (await drive(apiServer, op, duration, token, targets, { round: 0, admin, dbName: db.name }, 1))!;
        single.push(m);
        log(
          `one client ${op.padEnd(18)} ${m.rps.toFixed(0).padStart(6)} req/s  p50 ${m.p50.toFixed(1)} ms  p99 ${m.p99.toFixed(1)} ms  cpu ${m.serverCpuMsPerRequest.toFixed(2)} ms + PG ${m.postgresCpuMsPerRequest.toFixed(2)} ms`,
        );
      }
    }
    const feed: FeedDrain[] = [];
    if (apiServer && feedSeed) {
      for (let round = 1; round <= rounds; round++) feed.push(await drainRound(apiServer, feedSeed.apiKey, round, admin, db.name));
    }
    const peakRssMb: Record<string, number> = {};
    for (const s of servers) peakRssMb[s.name] = peakRssMb_(s.child.pid!);
    const report: Report = {
      startedAt,
      finishedAt: new Date().toISOString(),
      options: { scale, duration, warmup, rounds, connections, contenders: contenderNames, ops: selectedOps ? [...selectedOps] : null, rateLimit },
      machine: {
        cpus: availableParallelism(),
        node: process.versions.node,
        node22,
        postgres: pgVersion,
        postgraphile: contenderNames.includes("postgraphile") ? readJson(join(ROOT, "node_modules/postgraphile/package.json")).version : null,
        loadAverage: { start: loadAtStart, end: loadavg()[0] },
      },
      dataset,
      pglite,
      measurements,
      summary: summarize(measurements),
      oneClient: single,
      feed,
      peakRssMb,
    };
    mkdirSync(args.out, { recursive: true });
    writeFileSync(join(args.out, "latest.json"), JSON.stringify(report, null, 2) + "\n");
    const md = markdown(report);
    writeFileSync(join(args.out, "latest.md"), md);
    // A full run (every operation and contender, the default output) is the one the README's
    // table and docs/performance.md's latest results are regenerated from.
    if (!selectedOps && args.out === DEFAULT_OUT && contenderNames.length === 4) {
      replaceBetweenMarkers(join(ROOT, "README.md"), targetsTable(report));
      replaceBetweenMarkers(join(ROOT, "docs/performance.md"), md);
      log("README.md's performance table and docs/performance.md's latest results rewritten from this run");
    }
    console.log("\n" + md);
    log(`wrote ${join(args.out, "latest.json")} and latest.md`);
  } finally {
    for (const s of servers) await s.stop();
    await admin.end();
    if (args["keep-db"] || reuse) log(`kept database ${db.name}`);
    else await db.drop();
  }
}

function readJson(path: string): any {
  return JSON.parse(readFileSync(path, "utf8"));
}

main().then(
  () => process.exit(0),
  (err) => {
    console.error(err instanceof Error ? err.message : err);
    if (err instanceof Error && err.cause) console.error("cause:", err.cause);
    process.exit(1);
  },
);
