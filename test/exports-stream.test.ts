// The attendance CSV streams: a year of a busy center (about 110,000 records, some 14 MB of CSV)
// goes out while the heap stays flat, the first bytes arrive while most rows are still unread in
// the database, a client that stops reading stops the reads (back-pressure), and one that goes
// away releases them. On PostgreSQL the rows come through a server-side cursor; on PGlite through
// keyset pages.
import { get, type IncomingMessage } from "node:http";
import { runInNewContext } from "node:vm";
import { setFlagsFromString } from "node:v8";
import { sql } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { asOrgAdmin } from "./support/fixtures.js";
import { startTestServer, type TestServer } from "./support/server.js";

setFlagsFromString("--expose-gc");
const gc = runInNewContext("gc") as () => void;

let pageReads = 0;
const t = {} as { server: TestServer };

const SESSIONS = 365 * 6; // every 4 hours for a year
const PEOPLE = 50;
const RECORDS = SESSIONS * PEOPLE;

const rowsOf = (r: unknown) => (Array.isArray(r) ? r : (r as { rows: unknown[] }).rows) as Array<Record<string, unknown>>;
const uuidOf = (globalId: string) => Buffer.from(globalId, "base64url").toString().split(":")[1];

/** A center with a year of sessions, each with a record for every one of PEOPLE participants. */
async function busyYear() {
  const admin = await asOrgAdmin(t.server);
  const centerId = await admin.createCenter("Busy Clinic", "America/New_York");
  const clinician = await admin.createStaff("clin@busy.test", [{ centerId, role: "CLINICIAN" }]);
  const program = await admin.mutate("createProgram", { centerId, name: "Intensive outpatient", billingCode: "H0015" }, "program { id }");
  const group = await admin.mutate(
    "createGroup",
    {
      programId: program.program.id,
      name: "Around the clock",
      capacity: 60,
      startsOn: "2026-01-01",
      facilitatorIds: [clinician.id],
      schedule: { daysOfWeek: ["MONDAY"], startTime: "09:00", durationMinutes: 60 },
    },
    "group { id }",
  );
  const [center, groupId] = [uuidOf(centerId), uuidOf(group.group.id)];
  const db = t.server.database.db;
  // Volume by SQL (the API would take an hour to record a year); the rows are what the API writes.
  await db.execute(sql`insert into participants (center_id, first_name, last_name, external_id)
    select ${center}::uuid, 'P' || i, 'Busy', 'MRN-' || lpad(i::text, 5, '0') from generate_series(1, ${PEOPLE}) i`);
  await db.execute(sql`insert into sessions (center_id, group_id, starts_at, ends_at, scheduled_for, status)
    select ${center}::uuid, ${groupId}::uuid, t, t + interval '1 hour', t, 'COMPLETED'
    from generate_series(1, ${SESSIONS}) i, lateral (select timestamptz '2026-01-01 06:00:00+00' + (i - 1) * interval '4 hours' as t) x`);
  await db.execute(sql`insert into attendance (center_id, session_id, participant_id, status, minutes_attended)
    select ${center}::uuid, s.id, p.id, case when random() < 0.8 then 'PRESENT' else 'ABSENT' end, 60
    from sessions s cross join participants p where s.group_id = ${groupId}::uuid and p.center_id = ${center}::uuid`);
  return { centerId, clinician };
}

let world: Awaited<ReturnType<typeof busyYear>>;
const path = () => `/exports/attendance.csv?centerId=${world.centerId}&from=2026-01-01&to=2026-12-31`;

/** Export statements still reading (PostgreSQL: the cursor's statement has not finished). */
async function openCursors(): Promise<number> {
  const r = rowsOf(
    await t.server.database.db.execute(
      sql`select count(*)::int as n from pg_stat_activity where datname = current_database() and state <> 'idle' and query like '/* export */%'`,
    ),
  );
  return Number(r[0].n);
}

async function waitFor(check: () => Promise<boolean>, what: string) {
  for (let i = 0; i < 100; i++) {
    if (await check()) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`timed out waiting for ${what}`);
}

const pause = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** GET on a connection of its own (no keep-alive pool), answered as a paused Node stream. */
function download(url: string, token: string): Promise<IncomingMessage> {
  return new Promise((resolve, reject) => {
    const req = get(url, { agent: false, headers: { authorization: `Bearer ${token}` } }, (res) => {
      res.pause();
      resolve(res);
    });
    req.on("error", reject);
  });
}

/** The next chunk of a paused response (null at its end). */
function nextChunk(res: IncomingMessage): Promise<Buffer | null> {
  const chunk = res.read() as Buffer | null;
  if (chunk !== null || res.readableEnded) return Promise.resolve(chunk);
  return new Promise((resolve, reject) => {
    const done = () => {
      res.off("readable", onReadable);
      res.off("end", onEnd);
      res.off("error", onError);
    };
    const onReadable = () => {
      const c = res.read() as Buffer | null;
      if (c !== null) {
        done();
        resolve(c);
      }
    };
    const onEnd = () => {
      done();
      resolve(null);
    };
    const onError = (err: Error) => {
      done();
      reject(err);
    };
    res.on("readable", onReadable);
    res.on("end", onEnd);
    res.on("error", onError);
  });
}

/** Waits until `value()` has not changed for `quietMs` (the server stalled on full buffers). */
async function settled(value: () => number, quietMs = 400): Promise<number> {
  let last = value();
  let since = Date.now();
  const start = Date.now();
  while (Date.now() - since < quietMs) {
    if (Date.now() - start > 20_000) throw new Error("never settled");
    await pause(50);
    if (value() !== last) {
      last = value();
      since = Date.now();
    }
  }
  return last;
}

beforeAll(async () => {
  t.server = await startTestServer({ onQuery: (q) => void (q.startsWith("with page as") && pageReads++) });
  world = await busyYear();
}, 240_000);

afterAll(async () => {
  await t.server?.close();
});

describe("a year of a busy center", () => {
  const url = () => `${t.server.url}${path()}`;

  it("given about 110,000 records, when exported, then every row arrives and the heap does not grow with the file", { timeout: 240_000 }, async () => {
    gc();
    const before = process.memoryUsage().heapUsed;
    let peak = 0;
    const res = await download(url(), world.clinician.token);
    expect(res.statusCode).toBe(200);
    let bytes = 0;
    let lines = 0;
    let chunks = 0;
    let last = "";
    for await (const chunk of res as AsyncIterable<Buffer>) {
      bytes += chunk.length;
      for (let i = chunk.indexOf(10); i !== -1; i = chunk.indexOf(10, i + 1)) lines++;
      last = chunk.subarray(-2).toString();
      if (++chunks % 50 === 0) {
        gc();
        peak = Math.max(peak, process.memoryUsage().heapUsed - before);
      }
    }
    console.info(
      `[${t.server.database.kind}] exported ${lines - 1} rows, ${(bytes / 1e6).toFixed(1)} MB in ${chunks} chunks; peak heap growth ${(peak / 1e6).toFixed(1)} MB`,
    );
    expect(last).toBe("\r\n");
    expect(lines).toBe(RECORDS + 1);
    // The file is ~14 MB; rows held as objects would be several times that. The heap (between
    // collections) grows by a few MB at most: a batch, the socket's buffers.
    expect(bytes).toBeGreaterThan(12_000_000);
    expect(peak).toBeLessThan(8_000_000);
  });

  it(
    "given a client that reads the first bytes and then stops, when it waits, then the server stalls with most rows unread, and goes on when the client does",
    { timeout: 120_000 },
    async () => {
      pageReads = 0;
      const res = await download(url(), world.clinician.token);
      const first = await nextChunk(res);
      expect(first!.toString()).toMatch(/^center,program,billing_code,group,session_start/);
      // The client reads no more: the server may only fill the buffers between them, then waits.
      const pagesWhileStalled = await settled(() => pageReads);
      const cursorsWhileStalled = t.server.database.kind === "postgres" ? await openCursors() : 0;
      let lines = 0;
      for await (const chunk of res as AsyncIterable<Buffer>) for (let i = chunk.indexOf(10); i !== -1; i = chunk.indexOf(10, i + 1)) lines++;
      expect(lines).toBeGreaterThan(RECORDS * 0.8);
      if (t.server.database.kind === "postgres") {
        // The cursor's statement was still open (rows unread) while the client waited, and is closed now.
        expect(cursorsWhileStalled).toBe(1);
        await waitFor(async () => (await openCursors()) === 0, "the cursor to close");
      } else {
        const total = pageReads;
        console.info(`[pglite] pages read while the client waited: ${pagesWhileStalled} of ${total}`);
        expect(total).toBeGreaterThan(50);
        expect(pagesWhileStalled).toBeLessThan(total / 2);
      }
    },
  );

  it("given a client that goes away mid-file, when it does, then the reads stop and the next export is whole", { timeout: 120_000 }, async () => {
    const res = await download(url(), world.clinician.token);
    await nextChunk(res);
    res.destroy();
    if (t.server.database.kind === "postgres") {
      await waitFor(async () => (await openCursors()) === 0, "the abandoned cursor to close");
    } else {
      const atAbort = await settled(() => pageReads);
      await pause(300);
      expect(pageReads).toBe(atAbort);
    }
    const again = await download(url(), world.clinician.token);
    let lines = 0;
    for await (const chunk of again as AsyncIterable<Buffer>) for (let i = chunk.indexOf(10); i !== -1; i = chunk.indexOf(10, i + 1)) lines++;
    expect(lines).toBe(RECORDS + 1);
  });
});
