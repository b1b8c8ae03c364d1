// Real processes for tests: the server (`src/index.ts`) and the scripts, run with tsx in a clean
// environment (no test settings leak into the child), with their output collected.
import { spawn, type ChildProcess } from "node:child_process";
import { readFileSync } from "node:fs";
import { createServer as createNetServer } from "node:net";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

const ROOT = fileURLToPath(new URL("../..", import.meta.url));
export const SECRET = "process-test-secret-0123456789-abcdefghij";

/**
 * The node flags `npm start` runs the API with (package.json's start script, e.g. the heap's
 * limit: docs/operations.md), for the bench and the soak to run it as production does.
 */
export function startNodeFlags(): string[] {
  const start = (JSON.parse(readFileSync(join(ROOT, "package.json"), "utf8")) as { scripts: { start: string } }).scripts.start;
  const flags = /\bnode((?:\s+--\S+)*)\s+dist\/index\.js/.exec(start);
  if (!flags) throw new Error(`package.json's start script does not run "node [flags] dist/index.js": ${start}`);
  return flags[1].trim().split(/\s+/).filter(Boolean);
}

export interface Proc {
  child: ChildProcess;
  /** stdout and stderr, interleaved. */
  output: string[];
  stdout: string[];
  stderr: string[];
  exited: Promise<number | null>;
}

export interface Running extends Proc {
  url: string;
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createNetServer();
    s.once("error", reject);
    s.listen(0, "127.0.0.1", () => {
      const address = s.address();
      const port = typeof address === "object" && address ? address.port : 0;
      s.close(() => resolve(port));
    });
  });
}

/**
 * The fake clock of a run under `faketime` (.ci/run), for a child that must share it; nothing
 * otherwise. libfaketime (LD_PRELOAD) starts every process at FAKETIME's "@instant" anew, so a child
 * started later would run behind this process: it gets this process's "now" instead (to the
 * second, in the local time zone, which libfaketime reads it in), and the same zone.
 */
export function fakeClockEnv(): NodeJS.ProcessEnv {
  const { FAKETIME, LD_PRELOAD, TZ } = process.env;
  if (!FAKETIME || !LD_PRELOAD?.includes("faketime")) return {};
  const now = new Date();
  const two = (n: number) => String(n).padStart(2, "0");
  const at = `@${now.getFullYear()}-${two(now.getMonth() + 1)}-${two(now.getDate())} ${two(now.getHours())}:${two(now.getMinutes())}:${two(now.getSeconds())}`;
  return { LD_PRELOAD, FAKETIME: FAKETIME.startsWith("@") ? at : FAKETIME, ...(TZ ? { TZ } : {}) };
}

/** The environment of a real deployment on the embedded database in `dataDir` (and the run's fake clock, if any). */
export function processEnv(dataDir: string, extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  return { PATH: process.env.PATH, HOME: process.env.HOME, ...fakeClockEnv(), DATA_DIR: dataDir, AUTH_JWT_SECRET: SECRET, ...extra };
}

export function run(args: string[], env: NodeJS.ProcessEnv): Proc {
  const child = spawn(process.execPath, ["--import", "tsx", ...args], { cwd: ROOT, env, stdio: ["ignore", "pipe", "pipe"] });
  const output: string[] = [];
  const stdout: string[] = [];
  const stderr: string[] = [];
  child.stdout.on("data", (d: Buffer) => {
    output.push(d.toString());
    stdout.push(d.toString());
  });
  child.stderr.on("data", (d: Buffer) => {
    output.push(d.toString());
    stderr.push(d.toString());
  });
  const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));
  return { child, output, stdout, stderr, exited };
}

/** Resolves once `test` holds for the output so far; rejects if the process exits first. */
export async function waitFor(p: Proc, test: (output: string) => boolean, timeoutMs = 90_000): Promise<void> {
  let exitCode: number | null | undefined;
  void p.exited.then((c) => (exitCode = c));
  const deadline = performance.now() + timeoutMs;
  while (!test(p.output.join(""))) {
    if (exitCode !== undefined) throw new Error(`process exited with ${exitCode}:\n${p.output.join("")}`);
    if (performance.now() > deadline) throw new Error(`timed out waiting:\n${p.output.join("")}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** `npm start` in effect: the server on a free port, ready when /healthz answers. */
export async function startServer(dataDir: string, extra: Record<string, string> = {}): Promise<Running> {
  const port = await freePort();
  const p = run(["src/index.ts"], processEnv(dataDir, { PORT: String(port), HOST: "127.0.0.1", ...extra }));
  const url = `http://127.0.0.1:${port}`;
  let exitCode: number | null | undefined;
  void p.exited.then((c) => (exitCode = c));
  const deadline = performance.now() + 90_000;
  for (;;) {
    if (exitCode !== undefined) throw new Error(`server exited with ${exitCode} before it was ready:\n${p.output.join("")}`);
    if (performance.now() > deadline) throw new Error(`server not ready in time:\n${p.output.join("")}`);
    const res = await fetch(`${url}/healthz`).catch(() => null);
    if (res?.status === 200) break;
    await new Promise((r) => setTimeout(r, 100));
  }
  return { ...p, url };
}

export async function stop(p: Proc, signal: NodeJS.Signals = "SIGTERM"): Promise<number | null> {
  if (p.child.exitCode === null && p.child.signalCode === null) p.child.kill(signal);
  return p.exited;
}

export async function gqlAt(url: string, token: string, query: string, variables: Record<string, unknown> = {}) {
  const res = await fetch(`${url}/graphql`, {
    method: "POST",
    headers: { "content-type": "application/json", authorization: `Bearer ${token}` },
    body: JSON.stringify({ query, variables }),
  });
  return (await res.json()) as { data: any; errors?: unknown[] };
}
