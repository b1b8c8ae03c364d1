// The embedded database and the scripts, as real processes: one process at a time holds DATA_DIR
// (others are refused at once with one line; the lock of a dead process is taken over, by exactly
// one of two racing starters), `npm run token` while the server runs, and `npm run seed` (on a
// database with an organisation admin already, all or nothing, idempotent, --reset).
import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { hostname, tmpdir } from "node:os";
import { join } from "node:path";
import { count, eq, inArray, ne, sql } from "drizzle-orm";
import type { AnyPgColumn } from "drizzle-orm/pg-core";
import { afterAll, describe, expect, it } from "vitest";
import { openDatabase } from "../src/db/client.js";
import { DatabaseBusyError, LOCK_FILE } from "../src/db/lock.js";
import { centers, followUps, mentorships, participants, recoveryCapitalAssessments, staff } from "../src/db/schema.js";
import { gqlAt, processEnv, run, startServer, stop, waitFor, type Proc } from "./support/process.js";

const BOOT_EMAIL = "boot.admin@org.test";
const DEMO_EMAILS = ["admin@riverside.example", "m.okoro@riverside.example", "board@riverside.example"];
const dirs: string[] = [];
const procs: Proc[] = [];

function freshDir(): string {
  const dir = mkdtempSync(join(tmpdir(), "rg-embedded-"));
  dirs.push(dir);
  return dir;
}

function track<T extends Proc>(p: T): T {
  procs.push(p);
  return p;
}

afterAll(async () => {
  for (const p of procs) await stop(p, "SIGKILL");
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

const busyLine = (dir: string, pid: number) =>
  new RegExp(
    `^The embedded database in ${dir.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")} is in use by process ${pid} \\([^)]+\\)\\. Stop it, or set DATABASE_URL\\.$`,
  );

/**
 * A process that opens the database (or with `lockOnly`, only takes its lock, as the database does
 * first) and holds it: "open <pid>" on success, or the refusal and exit 1.
 */
function holder(dir: string, lockOnly = false): Proc {
  return track(run(["test/support/hold-db.ts"], processEnv(dir, lockOnly ? { HOLD: "lock" } : {})));
}

/** Waits until a holder has either opened the database or exited; true if it holds it. */
async function settled(p: Proc): Promise<boolean> {
  let exited = false;
  void p.exited.then(() => (exited = true));
  // Its own line on stdout, not any output that happens to contain "open " (a warning, an error).
  const opened = () => /^open \d+$/m.test(p.stdout.join(""));
  await waitFor(p, (out) => opened() || exited || /in use by/.test(out), 180_000).catch(() => {});
  return opened();
}

/** The pid of a process that has exited. */
function deadPid(): number {
  const r = spawnSync(process.execPath, ["-e", "process.stdout.write(String(process.pid))"]);
  return Number(r.stdout.toString());
}

async function rows<T>(dir: string, read: (db: Awaited<ReturnType<typeof openDatabase>>["db"]) => Promise<T>): Promise<T> {
  const database = await openDatabase({ dataDir: dir });
  try {
    return await read(database.db);
  } finally {
    await database.close();
  }
}

describe("the embedded database is held by one process at a time", () => {
  it("refuses other processes at once with one line naming the holder, mints tokens anyway, and lets them in once it stops", async () => {
    // Given the server running on DATA_DIR
    const dir = freshDir();
    const server = track(await startServer(dir, { BOOTSTRAP_ADMIN_EMAIL: BOOT_EMAIL }));
    const pid = server.child.pid!;

    // When another process opens the same database, it is refused with one line naming the server
    const second = holder(dir);
    expect(await second.exited, second.output.join("")).toBe(1);
    expect(second.stderr.join("").trim()).toMatch(busyLine(dir, pid));
    await expect(openDatabase({ dataDir: dir })).rejects.toThrow(DatabaseBusyError);

    // And the seed says the same in one line, without a stack trace, writing nothing
    const seed = track(run(["src/scripts/seed.ts"], processEnv(dir)));
    expect(await seed.exited).toBe(1);
    expect(seed.stdout.join("")).toBe("");
    const seedErr = seed.stderr.join("").trim();
    expect(seedErr.split("\n")).toHaveLength(1);
    expect(seedErr).toMatch(new RegExp(`^seed: The embedded database in .* is in use by process ${pid} `));

    // When a token is asked for meanwhile, it is minted, with a warning that the staff member was not checked
    const token = track(run(["src/scripts/token.ts", BOOT_EMAIL], processEnv(dir)));
    expect(await token.exited, token.output.join("")).toBe(0);
    expect(token.stderr.join("")).toMatch(/could not check that boot\.admin@org\.test is a staff member/);
    const jwt = token.stdout.join("").trim();
    // And the running server accepts it
    expect(await gqlAt(server.url, jwt, `{ viewer { email isOrgAdmin } }`)).toEqual({ data: { viewer: { email: BOOT_EMAIL, isOrgAdmin: true } } });

    // When the server stops, the lock goes with it and the next process gets in
    expect(await stop(server)).toBe(0);
    expect(existsSync(join(dir, LOCK_FILE))).toBe(false);
    const third = holder(dir);
    expect(await settled(third), third.output.join("")).toBe(true);
    expect(await stop(third)).toBe(0);
  }, 240_000);

  it("takes over the lock of a process that was killed", async () => {
    const dir = freshDir();
    const first = holder(dir, true);
    expect(await settled(first), first.output.join("")).toBe(true);
    await stop(first, "SIGKILL");
    expect(existsSync(join(dir, LOCK_FILE))).toBe(true); // left behind

    const next = holder(dir, true);
    expect(await settled(next), next.output.join("")).toBe(true);
    expect(JSON.parse(readFileSync(join(dir, LOCK_FILE), "utf8")).pid).toBe(next.child.pid);
    expect(await stop(next)).toBe(0);
  }, 120_000);

  it.runIf(existsSync("/proc/self/stat"))(
    "takes over a lock whose pid now belongs to another process (a different start time)",
    async () => {
      // Given a lock naming this (live) test process, but with another start time: the pid was reused
      const dir = freshDir();
      writeFileSync(join(dir, LOCK_FILE), JSON.stringify({ pid: process.pid, started: "1", host: hostname(), command: "npm start" }));
      const next = holder(dir, true);
      expect(await settled(next), next.output.join("")).toBe(true);
      expect(await stop(next)).toBe(0);
    },
    120_000,
  );

  it("lets exactly one of two processes racing for a stale lock in; the other is refused naming the winner", async () => {
    for (let round = 0; round < 3; round++) {
      // Given a stale lock of a process that is gone
      const dir = freshDir();
      writeFileSync(join(dir, LOCK_FILE), JSON.stringify({ pid: deadPid(), started: null, host: hostname(), command: "npm start" }));

      // When two processes start at once
      const racers = [holder(dir, true), holder(dir, true)];
      const opened = await Promise.all(racers.map(settled));

      // Then exactly one holds it, and the other names it
      expect(opened.filter(Boolean), racers.map((r) => r.output.join("")).join("\n---\n")).toHaveLength(1);
      const winner = racers[opened.indexOf(true)];
      const loser = racers[opened.indexOf(false)];
      expect(await loser.exited).toBe(1);
      expect(loser.stderr.join("").trim()).toMatch(busyLine(dir, winner.child.pid!));
      expect(await stop(winner)).toBe(0);
    }
  }, 240_000);
});

/** Rows of the engagement tables of the centers other than `except` (all centers when not given). */
async function engagementRows(db: Awaited<ReturnType<typeof openDatabase>>["db"], except?: string) {
  const of = (centerId: AnyPgColumn) => (except ? ne(centerId, except) : undefined);
  return {
    followUps: (await db.select({ n: count() }).from(followUps).where(of(followUps.centerId)))[0].n,
    mentorships: (await db.select({ n: count() }).from(mentorships).where(of(mentorships.centerId)))[0].n,
    assessments: (await db.select({ n: count() }).from(recoveryCapitalAssessments).where(of(recoveryCapitalAssessments.centerId)))[0].n,
  };
}

describe("npm run seed", () => {
  it("seeds a database that already has an organisation admin, with people at risk, open follow-ups, milestones due and mentors; run again it changes nothing; --reset replaces the demo center", async () => {
    // Given a database started with BOOTSTRAP_ADMIN_EMAIL (an organisation admin exists)
    const dir = freshDir();
    await stop(track(await startServer(dir, { BOOTSTRAP_ADMIN_EMAIL: BOOT_EMAIL })));

    // When the seed runs, it loads the demo center, acting as that admin, and prints a token
    const first = track(run(["src/scripts/seed.ts"], processEnv(dir)));
    expect(await first.exited, first.output.join("")).toBe(0);
    const out = first.stdout.join("");
    expect(out).toContain('Seeded "Riverside Recovery Center".');
    expect(out).toContain(`Org admin: ${BOOT_EMAIL}`);
    const token = out.trim().split("\n").pop()!;
    expect(token).toMatch(/^[\w-]+\.[\w-]+\.[\w-]+$/);
    const seeded = await rows(dir, async (db) => ({
      centers: await db.select({ id: centers.id }).from(centers),
      orgAdmins: await db.select({ email: staff.email }).from(staff).where(eq(staff.isOrgAdmin, true)),
      participants: (await db.select({ n: count() }).from(participants))[0].n,
      engagementRows: await engagementRows(db),
    }));
    expect(seeded.centers).toHaveLength(1);
    expect(seeded.orgAdmins).toEqual([{ email: BOOT_EMAIL }]); // no second org admin made up
    expect(seeded.participants).toBe(32);
    expect(seeded.engagementRows.followUps).toBeGreaterThanOrEqual(1);
    expect(seeded.engagementRows.mentorships).toBeGreaterThanOrEqual(1);
    expect(seeded.engagementRows.assessments).toBeGreaterThanOrEqual(1);

    // When it runs again, it says so, exits 0 and writes nothing
    const again = track(run(["src/scripts/seed.ts"], processEnv(dir)));
    expect(await again.exited, again.output.join("")).toBe(0);
    expect(again.stdout.join("")).toContain("is already there; nothing changed");
    expect(await rows(dir, (db) => db.select({ id: centers.id }).from(centers))).toEqual(seeded.centers);

    // When it runs with --reset, the demo center is replaced by a new one, with the same demo
    const reset = track(run(["src/scripts/seed.ts", "--reset"], processEnv(dir)));
    expect(await reset.exited, reset.output.join("")).toBe(0);
    expect(reset.stdout.join("")).toContain('Replaced "Riverside Recovery Center".');
    const replaced = await rows(dir, async (db) => ({
      centers: await db.select({ id: centers.id }).from(centers),
      demoStaff: (
        await db
          .select({ n: count() })
          .from(staff)
          .where(sql`${staff.email} like '%@riverside.example'`)
      )[0].n,
      participants: (await db.select({ n: count() }).from(participants))[0].n,
    }));
    expect(replaced.centers).toHaveLength(1);
    expect(replaced.centers[0].id).not.toBe(seeded.centers[0].id);
    expect(replaced).toMatchObject({ demoStaff: 6, participants: 32 });
    // the old center's follow-ups, mentorships and assessments went with it
    expect(await rows(dir, (db) => engagementRows(db, replaced.centers[0].id))).toEqual({ followUps: 0, mentorships: 0, assessments: 0 });

    // And the token the seed printed works on the server
    const server = track(await startServer(dir));
    const resetToken = reset.stdout.join("").trim().split("\n").pop()!;
    const viewer = await gqlAt(server.url, resetToken, `{ viewer { email } centers(first: 5) { nodes { name } } }`);
    expect(viewer).toEqual({ data: { viewer: { email: "admin@riverside.example" }, centers: { nodes: [{ name: "Riverside Recovery Center" }] } } });

    // And the demo center's front page has someone at HIGH risk, an open follow-up, a milestone due
    // within 14 days in a group, a peer mentor pair, and members IMPROVING, STEADY and DECLINING
    // (ten weeks of history: two 28-day periods to compare)
    const centerId = /Center id: (\S+)/.exec(reset.stdout.join(""))![1];
    const page = await gqlAt(
      server.url,
      resetToken,
      `query($id: ID!) { center(id: $id) {
        engagement { atRiskCount openFollowUps }
        participants(riskLevel: HIGH, first: 50) { totalCount nodes { engagement { riskLevel } mentors { id } } }
        followUps(status: OPEN, first: 50) { totalCount }
        groups(first: 10) { nodes { upcomingMilestones(withinDays: 14) { kind label dueOn } } }
        all: participants(first: 50) { nodes { firstName mentees { id } engagement { trend riskLevel } } }
      } }`,
      { id: centerId },
    );
    expect(page.errors).toBeUndefined();
    const demo = page.data.center;
    expect(demo.participants.totalCount).toBeGreaterThanOrEqual(1);
    expect(demo.participants.nodes.every((p: { engagement: { riskLevel: string } }) => p.engagement.riskLevel === "HIGH")).toBe(true);
    expect(demo.engagement.atRiskCount).toBe(demo.participants.totalCount);
    expect(demo.followUps.totalCount).toBeGreaterThanOrEqual(1);
    expect(demo.engagement.openFollowUps).toBe(demo.followUps.totalCount);
    const due = demo.groups.nodes.flatMap((g: { upcomingMilestones: unknown[] }) => g.upcomingMilestones);
    expect(due.length).toBeGreaterThanOrEqual(1);
    expect(demo.all.nodes.filter((p: { mentees: unknown[] }) => p.mentees.length > 0).length).toBeGreaterThanOrEqual(1);
    // (an at-risk mentee has a mentor at their side)
    expect(demo.participants.nodes.some((p: { mentors: unknown[] }) => p.mentors.length > 0)).toBe(true);
    const members = demo.all.nodes as Array<{ firstName: string; engagement: { trend: string; riskLevel: string } }>;
    const trendOf = Object.fromEntries(members.map((p) => [p.firstName, p.engagement.trend]));
    // (the ones who drifted away, came back, never missed)
    expect(trendOf).toMatchObject({
      Elena: "DECLINING",
      Jon: "DECLINING",
      Sam: "DECLINING",
      Grace: "IMPROVING",
      Chloe: "IMPROVING",
      Quinn: "STEADY",
      Xavier: "STEADY",
    });
    expect(members.filter((p) => p.engagement.riskLevel === "HIGH").map((p) => p.firstName)).toEqual(expect.arrayContaining(["Elena", "Jon", "Sam"]));
    expect(await stop(server)).toBe(0);
  }, 400_000);

  it("writes nothing when it is stopped halfway: all or nothing", async () => {
    // Given a seed that has written the center, staff, programs, groups and participants
    const dir = freshDir();
    const seed = track(run(["src/scripts/seed.ts"], processEnv(dir)));
    await waitFor(seed, (o) => o.includes("Recording ten weeks"), 180_000);

    // When it is killed
    await stop(seed, "SIGKILL");

    // Then none of it is there
    const left = await rows(dir, async (db) => ({
      centers: (await db.select({ n: count() }).from(centers))[0].n,
      staff: (await db.select({ n: count() }).from(staff).where(inArray(staff.email, DEMO_EMAILS)))[0].n,
      participants: (await db.select({ n: count() }).from(participants))[0].n,
    }));
    expect(left).toEqual({ centers: 0, staff: 0, participants: 0 });
  }, 240_000);

  it("fails with one line and no stack trace on bad arguments and on demo staff left without their center", async () => {
    const dir = freshDir();
    const bad = track(run(["src/scripts/seed.ts", "--wipe"], processEnv(dir)));
    expect(await bad.exited).toBe(2);
    expect(bad.stderr.join("").trim().split("\n")).toHaveLength(1);

    await rows(dir, (db) => db.insert(staff).values({ email: "admin@riverside.example", name: "Left over", authSubject: "admin@riverside.example" }));
    const seed = track(run(["src/scripts/seed.ts"], processEnv(dir)));
    expect(await seed.exited).toBe(1);
    const err = seed.stderr.join("").trim();
    expect(err.split("\n"), err).toHaveLength(1);
    expect(err).toBe("seed: admin@riverside.example already exists without the demo center: run npm run seed -- --reset, or remove that staff member");
    expect(await rows(dir, async (db) => (await db.select({ n: count() }).from(centers))[0].n)).toBe(0);
  }, 120_000);
});
