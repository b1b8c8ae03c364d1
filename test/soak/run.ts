// `npm run soak`: a mixed workload at a fixed rate against the real server on loopback for a set
// time, reporting errors, latency percentiles and the server's memory (RSS, heap) over time.
//
//   SOAK_SECONDS   how long (default 600); SOAK_SECONDS=20 is a quick smoke run
//   SOAK_RATE      requests per second, opened at a fixed pace whatever the answers take (default 20)
//   SOAK_WINDOW    seconds per line of the report (default 10, or SOAK_SECONDS/6 when shorter)
//   SOAK_DATABASE_URL (and SOAK_MIGRATION_URL)   PostgreSQL; default: the embedded database in a temporary DATA_DIR
//
// Workload (of every 10 requests): 5 CenterDashboard, 3 recordAttendance of a whole group's
// session with no signed note (statuses rotate, so every batch changes its rows), 2 enrolments (a new participant
// enrolled in a group: the waitlist grows). The demo data comes from `npm run seed`.
// Fails (exit 1) on any unexpected answer, or when the heap after the first window grew by more
// than half between the first and the last windows.
import { spawn, type ChildProcess } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { startNodeFlags } from "../support/process.js";

const ROOT = fileURLToPath(new URL("../..", import.meta.url));
const SECONDS = Number(process.env.SOAK_SECONDS ?? 600);
const RATE = Number(process.env.SOAK_RATE ?? 20);
const WINDOW = Number(process.env.SOAK_WINDOW ?? Math.min(10, Math.max(1, Math.round(SECONDS / 6))));
const SECRET = "soak-secret-0123456789-0123456789-abcdef";

const DASHBOARD = readFileSync(join(ROOT, "test/operations/dashboard.graphql"), "utf8");
const RECORD = `mutation ($input: RecordAttendanceInput!) { recordAttendance(input: $input) { attendance { id status version } userErrors { code } } }`;
const CREATE = `mutation ($input: CreateParticipantInput!) { createParticipant(input: $input) { participant { id } userErrors { code } } }`;
const ENROLL = `mutation ($input: EnrollParticipantInput!) { enrollParticipant(input: $input) { enrollment { id status } userErrors { code } } }`;

interface Memory {
  rss: number;
  heapUsed: number;
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once("error", reject);
    s.listen(0, "127.0.0.1", () => {
      const a = s.address();
      s.close(() => resolve(typeof a === "object" && a ? a.port : 0));
    });
  });
}

function run(args: string[], env: NodeJS.ProcessEnv): { child: ChildProcess; output: () => string; exited: Promise<number | null> } {
  const child = spawn(process.execPath, ["--import", "tsx", ...args], { cwd: ROOT, env, stdio: ["ignore", "pipe", "pipe"] });
  let out = "";
  child.stdout.on("data", (d: Buffer) => (out += d.toString()));
  child.stderr.on("data", (d: Buffer) => (out += d.toString()));
  return { child, output: () => out, exited: new Promise((r) => child.once("exit", r)) };
}

function percentile(sorted: number[], p: number): number {
  if (!sorted.length) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
}

const mb = (n: number) => `${(n / 1024 / 1024).toFixed(1)} MB`;

async function main() {
  const dataDir = mkdtempSync(join(tmpdir(), "soak-"));
  const env: NodeJS.ProcessEnv = {
    PATH: process.env.PATH,
    HOME: process.env.HOME,
    AUTH_JWT_SECRET: SECRET,
    LOG_LEVEL: "info",
    NODE_ENV: "production",
    DATA_DIR: dataDir,
    ...(process.env.SOAK_DATABASE_URL ? { DATABASE_URL: process.env.SOAK_DATABASE_URL } : {}),
    ...(process.env.SOAK_MIGRATION_URL ? { DATABASE_MIGRATION_URL: process.env.SOAK_MIGRATION_URL } : {}),
  };
  console.log(`soak: ${SECONDS} s at ${RATE} req/s on ${process.env.SOAK_DATABASE_URL ? "PostgreSQL" : "the embedded database"}, report every ${WINDOW} s`);

  const seed = run(["src/scripts/seed.ts", "--reset"], env);
  if ((await seed.exited) !== 0) throw new Error(`seed failed:\n${seed.output()}`);
  const token = /Token for [^\n]*:\n(\S+)/.exec(seed.output())?.[1];
  const centerId = /Center id: (\S+)/.exec(seed.output())?.[1];
  if (!token || !centerId) throw new Error(`no token or center in the seed's output:\n${seed.output()}`);

  const port = await freePort();
  // The probe prints the server's memory every second (stderr, one JSON line).
  const server = run([...startNodeFlags(), "--import", "./test/soak/memory-probe.ts", "src/index.ts"], { ...env, PORT: String(port), HOST: "127.0.0.1" });
  const url = `http://127.0.0.1:${port}/graphql`;
  const started = Date.now();
  while (!server.output().includes('"listening"')) {
    if (Date.now() - started > 120_000 || server.child.exitCode !== null) throw new Error(`the server did not start:\n${server.output()}`);
    await new Promise((r) => setTimeout(r, 200));
  }

  const post = async (query: string, variables: Record<string, unknown>) => {
    const operationName = query === DASHBOARD ? "CenterDashboard" : undefined;
    const res = await fetch(url, {
      method: "POST",
      headers: { "content-type": "application/json", authorization: `Bearer ${token}` },
      body: JSON.stringify({ query, variables, operationName }),
    });
    return { status: res.status, body: (await res.json()) as { data?: any; errors?: Array<{ extensions?: { code?: string } }> } };
  };

  // What the workload rotates over: the center's groups, their past sessions and members.
  const discover = await post(
    `query ($id: ID!) { center(id: $id) { groups(first: 20) { nodes { id enrollments(status: ACTIVE, first: 50) { nodes { participant { id } } } sessions(last: 20) { nodes { id startsAt status note { status } } } } } } }`,
    { id: centerId },
  );
  if (discover.body.errors) throw new Error(JSON.stringify(discover.body.errors));
  const now = Date.now();
  const groups = (discover.body.data.center.groups.nodes as any[]).map((g) => ({
    id: g.id as string,
    members: (g.enrollments.nodes as any[]).map((e) => e.participant.id as string),
    // A session whose note is signed is locked (NOTE_LOCKED): only those with no note or a draft.
    sessions: (g.sessions.nodes as any[])
      .filter((s) => s.status !== "CANCELLED" && Date.parse(s.startsAt) < now && (!s.note || s.note.status === "DRAFT"))
      .map((s) => s.id as string),
  }));
  const recordable = groups.filter((g) => g.members.length && g.sessions.length);
  if (!recordable.length) throw new Error("no session to record in the seeded data");

  const STATUSES = ["PRESENT", "ABSENT", "LATE", "EXCUSED"];
  let n = 0;
  const operations: Array<{ name: string; send: () => Promise<string | null> }> = [
    {
      name: "CenterDashboard",
      send: async () => {
        const r = await post(DASHBOARD, { centerId, first: 20 });
        return r.status === 200 && !r.body.errors && r.body.data?.center ? null : `${r.status} ${r.body.errors?.[0]?.extensions?.code}`;
      },
    },
    {
      name: "recordAttendance",
      send: async () => {
        const g = recordable[n % recordable.length];
        const sessionId = g.sessions[Math.floor(n / recordable.length) % g.sessions.length];
        const status = STATUSES[Math.floor(n / 7) % STATUSES.length];
        const r = await post(RECORD, { input: { sessionId, records: g.members.map((participantId) => ({ participantId, status })) } });
        const p = r.body.data?.recordAttendance;
        return r.status === 200 && !r.body.errors && p && p.userErrors.length === 0
          ? null
          : `${r.status} ${r.body.errors?.[0]?.extensions?.code ?? p?.userErrors?.[0]?.code}`;
      },
    },
    {
      name: "enrollParticipant",
      send: async () => {
        const c = await post(CREATE, { input: { centerId, firstName: `Soak${n}`, lastName: "Load" } });
        const participant = c.body.data?.createParticipant?.participant;
        if (!participant) return `${c.status} ${c.body.errors?.[0]?.extensions?.code ?? c.body.data?.createParticipant?.userErrors?.[0]?.code}`;
        const e = await post(ENROLL, { input: { groupId: groups[n % groups.length].id, participantId: participant.id } });
        const p = e.body.data?.enrollParticipant;
        return e.status === 200 && !e.body.errors && p?.enrollment ? null : `${e.status} ${e.body.errors?.[0]?.extensions?.code ?? p?.userErrors?.[0]?.code}`;
      },
    },
  ];
  const MIX = [0, 1, 0, 2, 0, 1, 0, 2, 0, 1]; // 5 dashboards, 3 recordings, 2 enrolments of 10

  interface Sample {
    op: string;
    ms: number;
    error: string | null;
  }
  let window: Sample[] = [];
  const all: Sample[] = [];
  const memory: Memory[] = [];
  let inFlight = 0;
  let maxInFlight = 0;
  const lastMemory = (): Memory | undefined => {
    const lines = server
      .output()
      .split("\n")
      .filter((l) => l.startsWith('{"soakMemory"'));
    const last = lines[lines.length - 1];
    return last ? (JSON.parse(last) as { soakMemory: Memory }).soakMemory : undefined;
  };

  console.log("time    requests  errors  p50 ms  p95 ms  p99 ms  in flight  server RSS  heap used");
  const t0 = Date.now();
  const end = t0 + SECONDS * 1000;
  const pending = new Set<Promise<void>>();
  let nextWindow = t0 + WINDOW * 1000;
  const report = () => {
    const ms = window.map((s) => s.ms).sort((a, b) => a - b);
    const m = lastMemory();
    if (m) memory.push(m);
    const line = [
      `${Math.round((Date.now() - t0) / 1000)} s`.padEnd(8),
      String(window.length).padStart(8),
      String(window.filter((s) => s.error).length).padStart(7),
      percentile(ms, 50).toFixed(0).padStart(7),
      percentile(ms, 95).toFixed(0).padStart(7),
      percentile(ms, 99).toFixed(0).padStart(7),
      String(maxInFlight).padStart(10),
      (m ? mb(m.rss) : "?").padStart(11),
      (m ? mb(m.heapUsed) : "?").padStart(10),
    ].join(" ");
    console.log(line);
    window = [];
    maxInFlight = inFlight;
  };
  for (let i = 0; Date.now() < end; i++) {
    const due = t0 + (i * 1000) / RATE;
    const wait = due - Date.now();
    if (wait > 0) await new Promise((r) => setTimeout(r, wait));
    if (Date.now() >= nextWindow) {
      report();
      nextWindow += WINDOW * 1000;
    }
    const op = operations[MIX[i % MIX.length]];
    n = i;
    inFlight++;
    maxInFlight = Math.max(maxInFlight, inFlight);
    const begun = performance.now();
    const p = op
      .send()
      .catch((err: unknown) => `exception ${(err as Error).message}`)
      .then((error) => {
        const sample = { op: op.name, ms: performance.now() - begun, error };
        window.push(sample);
        all.push(sample);
      })
      .finally(() => {
        inFlight--;
        pending.delete(p);
      });
    pending.add(p);
  }
  await Promise.all(pending);
  report();

  server.child.kill("SIGTERM");
  await server.exited;
  rmSync(dataDir, { recursive: true, force: true });

  console.log("\nper operation: count, errors, p50 / p95 / p99 ms");
  for (const op of operations) {
    const s = all.filter((x) => x.op === op.name);
    const ms = s.map((x) => x.ms).sort((a, b) => a - b);
    console.log(
      `  ${op.name.padEnd(18)} ${String(s.length).padStart(6)} ${String(s.filter((x) => x.error).length).padStart(4)}   ${percentile(ms, 50).toFixed(0)} / ${percentile(ms, 95).toFixed(0)} / ${percentile(ms, 99).toFixed(0)}`,
    );
  }
  const errors = all.filter((s) => s.error);
  const kinds = [...new Set(errors.map((e) => `${e.op}: ${e.error}`))];
  if (kinds.length) console.log(`errors: ${kinds.join("; ")}`);
  const first = memory[1] ?? memory[0];
  const last = memory[memory.length - 1];
  const growth = first && last ? last.heapUsed / first.heapUsed - 1 : 0;
  console.log(
    `requests ${all.length} (${(all.length / SECONDS).toFixed(1)}/s), unexpected answers ${errors.length}; heap ${first ? mb(first.heapUsed) : "?"} → ${last ? mb(last.heapUsed) : "?"} (${(growth * 100).toFixed(0)} %), RSS ${first ? mb(first.rss) : "?"} → ${last ? mb(last.rss) : "?"}`,
  );
  if (errors.length || growth > 0.5) process.exitCode = 1;
}

main().catch((err: unknown) => {
  console.error("soak failed:", err instanceof Error ? err.message : err);
  process.exit(1);
});
