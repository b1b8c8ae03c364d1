// One process at a time on the embedded database. PGlite is single-process: a second process on
// the same DATA_DIR would write beside the first and lose data silently. Whoever opens it holds a
// lock file in DATA_DIR for its lifetime; any other process is refused at once, with one line.
//
// The lock file appears complete or not at all (written aside, then hard-linked into place: link()
// fails if it exists). A lock whose process is gone (or whose pid now belongs to another process,
// told apart by its start time) is stale and taken over, under a short-lived takeover directory
// (mkdir is atomic), so two starters racing for a stale lock cannot both win.
import { linkSync, mkdirSync, readFileSync, rmdirSync, statSync, unlinkSync, writeFileSync } from "node:fs";
import { hostname } from "node:os";
import { basename, join } from "node:path";

export const LOCK_FILE = ".embedded-db.lock";

interface Holder {
  pid: number;
  /** Start time of the process (Linux: clock ticks since boot), to tell a reused pid apart. */
  started: string | null;
  host: string;
  command: string;
}

/** Another live process holds the embedded database. */
export class DatabaseBusyError extends Error {
  constructor(
    readonly dataDir: string,
    readonly holder: Holder,
  ) {
    const where = holder.host === hostname() ? `process ${holder.pid}` : `process ${holder.pid} on ${holder.host}`;
    super(`The embedded database in ${dataDir} is in use by ${where} (${holder.command}). Stop it, or set DATABASE_URL.`);
    this.name = "DatabaseBusyError";
  }
}

export interface DataDirLock {
  release(): void;
}

function processStart(pid: number): string | null {
  try {
    // /proc/<pid>/stat: "pid (comm) state ..."; comm may hold spaces, so count fields after ")".
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    return stat.slice(stat.lastIndexOf(")") + 2).split(" ")[19] ?? null;
  } catch {
    return null;
  }
}

/** How the running process was started, for the message another process gets. */
function describeSelf(): string {
  const event = process.env.npm_lifecycle_event;
  if (event) return ["start", "test"].includes(event) ? `npm ${event}` : `npm run ${event}`;
  return [basename(process.argv0), ...process.argv.slice(1, 2).map((a) => basename(a))].join(" ");
}

function isAlive(h: Holder): boolean {
  if (h.host !== hostname()) return true; // cannot tell: assume it is
  if (!Number.isInteger(h.pid) || h.pid <= 0) return false;
  try {
    process.kill(h.pid, 0);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== "EPERM") return false;
  }
  // Alive: the same process, unless its pid was reused since (then its start time differs).
  const started = processStart(h.pid);
  return !(h.started && started && started !== h.started);
}

function readHolder(path: string): { raw: string; holder: Holder | null } | null {
  let raw: string;
  try {
    raw = readFileSync(path, "utf8");
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ENOENT") return null;
    throw err;
  }
  try {
    const h = JSON.parse(raw) as Holder;
    return { raw, holder: typeof h.pid === "number" ? h : null };
  } catch {
    return { raw, holder: null }; // unreadable: no holder can be alive behind it
  }
}

const sleep = (ms: number) => Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);

/**
 * Takes the lock of the embedded database in `dir` (which must exist), or throws DatabaseBusyError.
 * `shownAs` is how the directory is named in the message (as the user gave it).
 */
export function lockDataDir(dir: string, shownAs = dir): DataDirLock {
  const path = join(dir, LOCK_FILE);
  const takeover = `${path}.takeover`;
  const me: Holder = { pid: process.pid, started: processStart(process.pid), host: hostname(), command: describeSelf() };
  const content = JSON.stringify(me);
  const aside = `${path}.${process.pid}.${Math.random().toString(36).slice(2)}`;
  writeFileSync(aside, content, { flag: "wx" });
  try {
    for (let attempt = 0; ; attempt++) {
      try {
        linkSync(aside, path);
        break; // ours
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== "EEXIST") throw err;
      }
      const seen = readHolder(path);
      if (!seen) continue; // released meanwhile: try again
      if (seen.holder && isAlive(seen.holder)) throw new DatabaseBusyError(shownAs, seen.holder);
      if (attempt > 50) throw new Error(`could not take over the stale lock ${path}`);
      // Stale: remove it, but only as the one taking over, and only if it is still the same lock.
      try {
        mkdirSync(takeover);
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== "EEXIST") throw err;
        // Someone else is taking over; a takeover lasts milliseconds, so an old one was abandoned.
        try {
          if (Date.now() - statSync(takeover).mtimeMs > 5_000) rmdirSync(takeover);
        } catch {
          // gone meanwhile
        }
        sleep(20);
        continue;
      }
      try {
        if (readHolder(path)?.raw === seen.raw) unlinkSync(path);
      } finally {
        rmdirSync(takeover);
      }
    }
  } finally {
    unlinkSync(aside);
  }

  let held = true;
  const release = () => {
    if (!held) return;
    held = false;
    process.off("exit", release);
    try {
      if (readFileSync(path, "utf8") === content) unlinkSync(path);
    } catch {
      // already gone
    }
  };
  process.on("exit", release);
  return { release };
}
