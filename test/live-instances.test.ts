// The live roster across instances on one PostgreSQL (LISTEN/NOTIFY): a change through A reaches a
// subscriber on B; load (100 subscribers, 30 changes per session, nothing lost or out of order);
// the listening connection killed (pg_terminate_backend) ends the subscriptions with an error and a
// new subscription starts from the current roster. And SIGTERM drain of a real server process.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { sql } from "drizzle-orm";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { mintToken } from "../src/auth/tokens.js";
import { setClock } from "../src/common/clock.js";
import { rowsOf } from "../src/common/sql.js";
import { Api, ADMIN_EMAIL } from "./support/fixtures.js";
import { connect, liveWorld, recordAt, statuses, subscribe, type LiveClient, type Stream } from "./support/live.js";
import { operation } from "./support/operations.js";
import { SECRET, startServer, stop, type Running } from "./support/process.js";
import { startAnotherInstance, startTestServer, type Instance, type TestServer } from "./support/server.js";

const onPostgres = Boolean(process.env.TEST_DATABASE_URL);
// No ABSENT in the load: concurrent absences of one member at several sessions can deadlock in the
// follow-ups step (a finding outside the live roster, reported with issue 24).
const STATUSES = ["PRESENT", "LATE", "EXCUSED"];

const clients: LiveClient[] = [];
async function open(url: string, token: string): Promise<LiveClient> {
  const c = await connect(url, `Bearer ${token}`);
  clients.push(c);
  return c;
}

describe.skipIf(!onPostgres)("the live roster on two instances", () => {
  let a: TestServer;
  let b: Instance;

  beforeAll(async () => {
    a = await startTestServer({ env: { LIVE_MAX_SUBSCRIPTIONS_PER_ACTOR: "200" } });
    b = await startAnotherInstance(a);
  });
  beforeEach(async () => {
    await a.database.reset();
    setClock("2026-12-02T15:00:00.000Z");
  });
  afterEach(async () => {
    await Promise.all(clients.splice(0).map((c) => c.dispose()));
  });
  afterAll(async () => {
    await b?.close();
    await a?.close();
  });

  it("given a facilitator subscribed on B, when attendance is recorded through A, then each change reaches them within a second, with its participant ids and statuses", async () => {
    const w = await liveWorld(a);
    const sessionId = w.sessionIds[0];
    const stream = subscribe(await open(b.url, w.facilitator.token), sessionId);
    await stream.waitFor(1);
    expect(statuses(stream.events[0])).toEqual({ [w.members[0]]: null, [w.members[1]]: null, [w.members[2]]: null });
    const changes: Array<Array<{ participantId: string; status: string }>> = [
      [{ participantId: w.members[0], status: "PRESENT" }],
      [
        { participantId: w.members[1], status: "LATE" },
        { participantId: w.members[2], status: "ABSENT" },
      ],
      [{ participantId: w.members[0], status: "EXCUSED" }],
    ];
    const expected: Record<string, string | null> = { [w.members[0]]: null, [w.members[1]]: null, [w.members[2]]: null };
    const latencies: number[] = [];
    for (const [i, records] of changes.entries()) {
      await recordAt(a.url, w.clinician.token, sessionId, records);
      const committed = performance.now();
      await stream.waitFor(i + 2, 1_000);
      const latency = performance.now() - committed;
      for (const r of records) expected[r.participantId] = r.status;
      expect(statuses(stream.events[i + 1])).toEqual(expected);
      expect(latency).toBeLessThan(1_000);
      latencies.push(latency);
    }
    expect(stream.events).toHaveLength(4);
    console.log(`live across instances: change committed on A → event on B in ${latencies.map((l) => l.toFixed(0)).join(", ")} ms (on a loaded machine)`);
  });

  it("given a facilitator subscribed on B, when members check in and staff reconcile through A, then each is one event on B within a second, and none reaches another session's subscriber", async () => {
    const w = await liveWorld(a);
    const [sessionId, otherSessionId] = w.sessionIds;
    const send = (name: string, variables: Record<string, unknown>, token: string | null) =>
      a.gql(operation("checkin.graphql", name), variables, { token, operationName: name });
    // Given the window of the first Monday's session (2027-01-04, 18:00 New York) open, ten minutes before its start
    setClock("2027-01-04T22:50:00.000Z");
    const opened = await send("OpenCheckIn", { input: { sessionId } }, w.facilitator.token);
    expect(opened.data.openCheckIn.userErrors).toEqual([]);
    const code: string = opened.data.openCheckIn.checkIn.roomCode;
    const links = await send("CheckInLinks", { sessionId }, w.facilitator.token);
    const tokenOf = (m: string) =>
      (links.data.node.roster as Array<{ participant: { id: string }; checkInLink: string }>)
        .find((r) => r.participant.id === m)!
        .checkInLink.split("/")
        .pop();
    // And subscribers on B (the contract's LiveRoster) of that session and of the next Monday's
    const live = await open(b.url, w.facilitator.token);
    const stream = subscribe(live, sessionId, operation("checkin.graphql", "LiveRoster"));
    const other = subscribe(live, otherSessionId, operation("checkin.graphql", "LiveRoster"));
    await Promise.all([stream.waitFor(1), other.waitFor(1)]);
    type LiveEntry = { participant: { id: string }; checkIn: { status: string } | null; attendance: { status: string } | null };
    const states = (s: Stream, i: number) =>
      Object.fromEntries(
        (s.events[i].data!.rosterChanged as unknown as LiveEntry[]).map((e) => [
          e.participant.id,
          `${e.checkIn?.status ?? "-"}/${e.attendance?.status ?? "-"}`,
        ]),
      );
    const [m0, m1, m2] = w.members;
    expect(states(stream, 0)).toEqual({ [m0]: "-/-", [m1]: "-/-", [m2]: "-/-" });

    // When two members check in through A
    for (const [i, m] of [m0, m1].entries()) {
      const res = await send("SelfCheckIn", { input: { token: tokenOf(m), roomCode: code } }, null);
      expect(res.data.selfCheckIn.userErrors).toEqual([]);
      await stream.waitFor(i + 2, 1_000);
    }
    // And staff accept one claim and reject the other through A (attendance and claims written in one transaction)
    setClock("2027-01-04T23:10:00.000Z");
    const reconciled = await send("ReconcileCheckIns", { input: { sessionId, accept: [m0], reject: [m1] } }, w.clinician.token);
    expect(reconciled.data.reconcileCheckIns.userErrors).toEqual([]);
    await stream.waitFor(4, 1_000);
    // And a marker change of each session after it (events arrive in commit order)
    await recordAt(a.url, w.facilitator.token, otherSessionId, [{ participantId: m2, status: "EXCUSED" }]);
    await recordAt(a.url, w.facilitator.token, sessionId, [{ participantId: m2, status: "ABSENT" }]);
    await Promise.all([stream.waitFor(5), other.waitFor(2)]);

    // Then B's subscriber saw each claim, then the reconciliation as one event, then the marker
    expect(states(stream, 1)).toEqual({ [m0]: "PENDING/-", [m1]: "-/-", [m2]: "-/-" });
    expect(states(stream, 2)).toEqual({ [m0]: "PENDING/-", [m1]: "PENDING/-", [m2]: "-/-" });
    expect(states(stream, 3)).toEqual({ [m0]: "ACCEPTED/PRESENT", [m1]: "REJECTED/-", [m2]: "-/-" });
    expect(states(stream, 4)).toEqual({ [m0]: "ACCEPTED/PRESENT", [m1]: "REJECTED/-", [m2]: "-/ABSENT" });
    expect(stream.events).toHaveLength(5);
    // And the other session's subscriber only its roster and its own marker
    expect(states(other, 1)).toEqual({ [m0]: "-/-", [m1]: "-/-", [m2]: "-/EXCUSED" });
    expect(other.events).toHaveLength(2);
    expect([stream.error, other.error]).toEqual([undefined, undefined]);
  });

  it("given 100 subscribers on both instances, when 4 sessions get 30 changes each through either instance, then every subscriber gets 31 events of its session, none lost, none out of order", async () => {
    const w = await liveWorld(a);
    const sessions = w.sessionIds.slice(0, 4);
    // 10 connections of 10 subscriptions (the per-connection limit), half on each instance.
    const connections = await Promise.all(Array.from({ length: 10 }, (_, i) => open(i % 2 ? b.url : a.url, w.clinician.token)));
    const streams: Array<{ session: string; stream: Stream }> = [];
    for (const [i, c] of connections.entries()) {
      for (let j = 0; j < 10; j++) {
        const session = sessions[(i * 10 + j) % sessions.length];
        streams.push({ session, stream: subscribe(c, session, VERSIONED) });
      }
    }
    await Promise.all(streams.map((s) => s.stream.waitFor(1, 30_000)));
    const started = performance.now();
    // Each session's changes one after the other (alternating instances); the sessions at once.
    await Promise.all(
      sessions.map(async (sessionId, s) => {
        for (let k = 0; k < 30; k++) {
          const participantId = w.members[k % 3];
          await recordAt(k % 2 ? a.url : b.url, w.facilitator.token, sessionId, [{ participantId, status: STATUSES[(Math.floor(k / 3) + s) % 3] }]);
        }
      }),
    );
    await Promise.all(streams.map((s) => s.stream.waitFor(31, 200_000)));
    const seconds = (performance.now() - started) / 1000;
    for (const { stream } of streams) {
      expect(stream.error).toBeUndefined();
      expect(stream.events).toHaveLength(31);
      // Every write adds one to a record's version: the sum counts the changes the event has seen.
      const seen = stream.events.map((e) =>
        (e.data!.rosterChanged as Array<{ attendance: { version: number } | null }>).reduce((n, x) => n + (x.attendance?.version ?? 0), 0),
      );
      expect(seen[0]).toBe(0);
      for (let i = 1; i < seen.length; i++) expect(seen[i]).toBeGreaterThanOrEqual(seen[i - 1]);
      expect(seen[30]).toBe(30);
    }
    // The last event of every subscriber is its session's final state.
    for (const { session, stream } of streams) {
      const s = sessions.indexOf(session);
      const final = Object.fromEntries([27, 28, 29].map((k) => [w.members[k % 3], STATUSES[(Math.floor(k / 3) + s) % 3]]));
      expect(statuses(stream.events[30])).toEqual(final);
    }
    console.log(`live load: 100 subscribers, 120 changes, 3,100 events in ${seconds.toFixed(1)} s (on a loaded machine)`);
  }, 300_000);

  it("given subscribers on both instances, when the listening connections are killed (pg_terminate_backend), then their subscriptions end with SUBSCRIPTION_INTERRUPTED, and a new subscription gets the current roster and the changes after it", async () => {
    const w = await liveWorld(a);
    const sessionId = w.sessionIds[0];
    const onA = subscribe(await open(a.url, w.facilitator.token), sessionId);
    const onB = subscribe(await open(b.url, w.facilitator.token), sessionId);
    await Promise.all([onA.waitFor(1), onB.waitFor(1)]);
    const killed = await rowsOf<{ pid: number }>(
      a.database.db,
      sql`select pid, pg_terminate_backend(pid) from pg_stat_activity where datname = current_database() and query ilike 'listen %live_roster%'`,
    );
    expect(killed.length).toBe(2);
    await Promise.all([onA.ended(), onB.ended()]);
    for (const s of [onA, onB]) expect((s.error as Array<{ extensions?: { code?: string } }>)[0].extensions?.code).toBe("SUBSCRIPTION_INTERRUPTED");
    // Meanwhile a change was made; the client subscribes again (as graphql-ws clients do on error).
    await recordAt(a.url, w.facilitator.token, sessionId, [{ participantId: w.members[0], status: "PRESENT" }]);
    const again = subscribe(clients[1], sessionId);
    await again.waitFor(1);
    expect(statuses(again.events[0])[w.members[0]]).toBe("PRESENT");
    await recordAt(a.url, w.facilitator.token, sessionId, [{ participantId: w.members[1], status: "LATE" }]);
    await again.waitFor(2, 5_000);
    expect(statuses(again.events[1])[w.members[1]]).toBe("LATE");
  });
});

const VERSIONED = `subscription Versioned($sessionId: ID!) { rosterChanged(sessionId: $sessionId) { participant { id } attendance { status version } } }`;

describe("SIGTERM drain", () => {
  let dataDir: string;
  let server: Running | undefined;
  beforeAll(() => {
    dataDir = mkdtempSync(join(tmpdir(), "rg-live-"));
  });
  afterAll(async () => {
    if (server) await stop(server, "SIGKILL");
    rmSync(dataDir, { recursive: true, force: true });
  });

  it("given a real server process with open subscriptions, when it gets SIGTERM, then every socket is closed with 1001 (going away) and the process exits 0", async () => {
    server = await startServer(dataDir, { BOOTSTRAP_ADMIN_EMAIL: ADMIN_EMAIL });
    const url = server.url;
    const auth = { jwtSecret: SECRET };
    const token = (subject: string) => mintToken(auth, subject, { expiresIn: "1h" });
    const gql: TestServer["gql"] = async (query, variables, o) => {
      const res = await fetch(`${url}/graphql`, {
        method: "POST",
        headers: { "content-type": "application/json", authorization: `Bearer ${o?.token}` },
        body: JSON.stringify({ query, variables }),
      });
      const body = (await res.json()) as { data: any; errors?: any };
      return { status: res.status, data: body.data, errors: body.errors, headers: res.headers };
    };
    const like = { gql, token } as unknown as TestServer;
    const w = await liveWorld(like, { members: 0, admin: new Api(like, await token(ADMIN_EMAIL)) });
    const live = [await connect(url, `Bearer ${w.facilitator.token}`), await connect(url, `Bearer ${w.clinician.token}`)];
    const streams = live.map((c) => subscribe(c, w.sessionIds[0]));
    await Promise.all(streams.map((s) => s.waitFor(1)));
    const stopping = performance.now();
    const code = await stop(server);
    server = undefined;
    expect(code).toBe(0);
    expect(performance.now() - stopping).toBeLessThan(10_000);
    for (const c of live) expect(c.closes[0]?.code).toBe(1001);
    await Promise.all(live.map((c) => c.dispose()));
  }, 120_000);
});
