// The change feed's guarantees on PostgreSQL, with real concurrent transactions (TEST_DATABASE_URL):
// a change that commits later with an older position is never skipped, rolled-back changes never
// appear, positions only grow. Skipped on the embedded database, which has one connection and so
// no concurrent transactions (its guarantees are the same rule, tested in integrators.test.ts).
import postgres from "postgres";
import { afterAll, describe, expect, it } from "vitest";
import { feedLag } from "../src/feed/feed.service.js";
import { asOrgAdmin, type Api } from "./support/fixtures.js";
import { integratorWorld, recordAttendance, waitForHorizon, type IntegratorWorld } from "./support/integrators.js";
import { operation } from "./support/operations.js";
import { useTestServer } from "./support/server.js";

const onPostgres = Boolean(process.env.TEST_DATABASE_URL);
const t = useTestServer();
/** Runs of the randomized test in this suite (FEED_RUNS=10 shows ten in a row). */
const RUNS = Number(process.env.FEED_RUNS ?? 2);

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** A position from a cursor (tests may look inside; clients may not). */
function position(cursor: string): [bigint, bigint] {
  const m = /^feed:(\d+):(\d+)$/.exec(Buffer.from(cursor, "base64url").toString("utf8"))!;
  return [BigInt(m[1]), BigInt(m[2])];
}
const after = (a: [bigint, bigint], b: [bigint, bigint]) => a[0] > b[0] || (a[0] === b[0] && a[1] > b[1]);

interface World {
  org: Api;
  w: IntegratorWorld;
  raw: postgres.Sql;
  /** Ana's and Ben's attendance records with their center and participant. */
  records: Array<{ id: string; center_id: string; participant_id: string }>;
}

async function world(): Promise<World> {
  const org = await asOrgAdmin(t.server);
  const w = await integratorWorld(org);
  for (const participantId of [w.ana, w.ben]) {
    const res = await t.server.gql(
      operation("integrator.graphql", "RecordConsent"),
      { input: { participantId, recipientId: w.client.id, purpose: "Care" } },
      {
        token: w.clinician.token,
      },
    );
    expect(res.data.recordConsent.userErrors).toEqual([]);
  }
  const raw = postgres(t.server.database.url!, { max: 10, onnotice: () => {} });
  const records = await raw<Array<{ id: string; center_id: string; participant_id: string }>>`select id, center_id, participant_id from attendance`;
  return { org, w, raw, records };
}

async function page(key: string, cursor: string | null, first: number) {
  const res = await t.server.gql(operation("integrator.graphql", "AttendanceChanges"), { after: cursor, first }, { token: key });
  if (res.errors) throw new Error(JSON.stringify(res.errors));
  return res.data.attendanceChanges as {
    pageInfo: { hasNextPage: boolean; endCursor: string | null };
    edges: Array<{ cursor: string; node: { changeType: string; attendanceId: string } }>;
  };
}

async function drainFrom(key: string, cursor: string | null, first = 1000) {
  const edges: Array<{ cursor: string }> = [];
  for (;;) {
    const p = await page(key, cursor, first);
    edges.push(...p.edges);
    cursor = p.pageInfo.endCursor ?? cursor;
    if (!p.pageInfo.hasNextPage) return { edges, cursor };
  }
}

describe.skipIf(!onPostgres)("attendance change feed on PostgreSQL", () => {
  let s: World;
  afterAll(async () => {
    await s?.raw.end();
  });

  // The world is built per test (the server's database is emptied before each).
  it("given a transaction still open, a later commit is not handed out past it; once both commit, both arrive in transaction order", async () => {
    s = await world();
    await waitForHorizon(t.server); // other files' transactions must not hold the world back
    const start = await drainFrom(s.w.client.key, null);
    const ana = s.records.find((r) => r.participant_id !== undefined)!;
    let release!: () => void;
    const held = new Promise<void>((r) => (release = r));
    let openTx = "";
    const inserted = new Promise<void>((resolveInserted) => {
      void s.raw.begin(async (tx) => {
        // The older transaction: its id is taken now, its change written later.
        [{ x: openTx }] = await tx<Array<{ x: string }>>`select pg_current_xact_id()::text as x`;
        await laterCommitted;
        await tx`insert into attendance_changes (center_id, attendance_id, participant_id, change_type) values (${ana.center_id}, ${ana.id}, ${ana.participant_id}, 'UPSERT')`;
        resolveInserted();
        await held;
      });
    });
    let markLater!: () => void;
    const laterCommitted = new Promise<void>((r) => (markLater = r));
    await sleep(100);
    // The later transaction commits first, through the API.
    await recordAttendance(s.org, s.w.sessions[1], [[s.w.ana, "LATE"]]);
    markLater();
    await inserted;
    try {
      // The later change is committed but held back (the open one's row is not visible yet).
      const lag = await feedLag(t.server.database.db);
      expect(lag.pendingChanges).toBe(1);
      expect(lag.oldestOpenTransactionSeconds).toBeGreaterThan(0);
      const blocked = await page(s.w.client.key, start.cursor, 100);
      expect(blocked.edges).toEqual([]);
    } finally {
      release();
    }
    await waitForHorizon(t.server);
    const both = await drainFrom(s.w.client.key, start.cursor);
    expect(both.edges).toHaveLength(2);
    const [first, second] = both.edges.map((e) => position(e.cursor));
    expect(first[0]).toBe(BigInt(openTx));
    expect(after(second, first)).toBe(true);
    expect(second[1]).toBeLessThan(first[1]); // the later transaction wrote first: order is by transaction, not by sequence
    expect((await feedLag(t.server.database.db)).pendingChanges).toBe(0);
  });

  for (let run = 1; run <= RUNS; run++) {
    it(`randomized (run ${run}): 8 writers with random delays and ~10% rollbacks, a poller with small pages: received == committed, in increasing positions`, async () => {
      await s?.raw.end();
      s = await world();
      await waitForHorizon(t.server); // other files' transactions must not hold the world back
      const start = await drainFrom(s.w.client.key, null);
      const committed = new Set<string>();
      const rolledBack = new Set<string>();
      let writing = true;
      const writer = async (n: number) => {
        for (let i = 0; i < 12; i++) {
          const rec = s.records[(n + i) % s.records.length];
          const seqs: string[] = [];
          const rollback = Math.random() < 0.1;
          try {
            await s.raw.begin(async (tx) => {
              await sleep(Math.random() * 15);
              for (let k = 0; k < 1 + Math.floor(Math.random() * 3); k++) {
                const [{ seq }] = await tx<Array<{ seq: string }>>`insert into attendance_changes (center_id, attendance_id, participant_id, change_type)
                  values (${rec.center_id}, ${rec.id}, ${rec.participant_id}, 'UPSERT') returning seq::text`;
                seqs.push(seq);
                await sleep(Math.random() * 20);
              }
              if (rollback) throw new Error("rollback");
            });
            for (const q of seqs) committed.add(q);
          } catch {
            for (const q of seqs) rolledBack.add(q);
          }
          await sleep(Math.random() * 10);
        }
      };
      const received: string[] = [];
      let last: [bigint, bigint] | null = start.cursor ? position(start.cursor) : null;
      let cursor = start.cursor;
      const poll = async () => {
        const p = await page(s.w.client.key, cursor, 3 + Math.floor(Math.random() * 5));
        for (const e of p.edges) {
          const pos = position(e.cursor);
          if (last) expect(after(pos, last)).toBe(true);
          last = pos;
          received.push(String(pos[1]));
        }
        cursor = p.pageInfo.endCursor ?? cursor;
        return p.pageInfo.hasNextPage;
      };
      const poller = (async () => {
        while (writing) {
          await poll();
          await sleep(Math.random() * 10);
        }
      })();
      await Promise.all(Array.from({ length: 8 }, (_, n) => writer(n)));
      writing = false;
      await poller;
      await waitForHorizon(t.server);
      while (await poll());
      expect(rolledBack.size + committed.size).toBeGreaterThan(100);
      expect(new Set(received).size).toBe(received.length);
      expect(new Set(received)).toEqual(committed);
      for (const q of rolledBack) expect(received).not.toContain(q);
    }, 120_000);
  }
});
