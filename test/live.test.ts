// The live roster on one instance (PGlite: events inside the process; PostgreSQL: through
// LISTEN/NOTIFY): graphql-ws over a real WebSocket, real tokens. What a subscriber receives, who may
// subscribe, what ends a stream, bad input, limits, the audit log and the metrics.
// Two instances, load, the listening connection dropped: test/live-instances.test.ts.
import { and, eq } from "drizzle-orm";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import WebSocket from "ws";
import { fileURLToPath } from "node:url";
import { setClock } from "../src/common/clock.js";
import { loadConfig } from "../src/config.js";
import { silentLogger } from "../src/logger.js";
import { createApp } from "../src/server.js";
import { decodeId, fromGlobalId } from "../src/common/ids.js";
import { RosterFeed } from "../src/live/live.bus.js";
import { auditEvents } from "../src/db/schema.js";
import { connect, LIVE_ROSTER, LIVE_ROSTER_IDS, liveWorld, rawSocket, recordAt, statuses, subscribe, type LiveClient } from "./support/live.js";
import { asOrgAdmin } from "./support/fixtures.js";
import { integratorWorld } from "./support/integrators.js";
import { operation } from "./support/operations.js";
import { startTestServer, TEST_DEFAULTS, TEST_SECRET, useTestServer } from "./support/server.js";

const t = useTestServer({ env: { LIVE_MAX_SUBSCRIPTIONS_PER_CONNECTION: "3", LIVE_MAX_SUBSCRIPTIONS_PER_ACTOR: "4" } });

// A month before the January sessions: the members hold their seats at every one of them.
beforeEach(() => setClock("2026-12-02T15:00:00.000Z"));

const clients: LiveClient[] = [];
async function open(token: string | undefined): Promise<LiveClient> {
  const c = await connect(t.server.url, token === undefined ? undefined : `Bearer ${token}`);
  clients.push(c);
  return c;
}
afterEach(async () => {
  await Promise.all(clients.splice(0).map((c) => c.dispose()));
});

/** The audit entries of refusals (DENIED), oldest first, as [actor type, actor id, resource type, resource id, operation, address]. */
async function denied(server = t.server) {
  const rows = await server.database.db.select().from(auditEvents).where(eq(auditEvents.action, "DENIED")).orderBy(auditEvents.seq);
  for (const r of rows) expect([r.outcome, r.participantIds]).toEqual(["DENIED", []]);
  return rows.map((r) => [r.actorType, r.actorId, r.resourceType, r.resourceId, r.operationName, r.clientAddress]);
}
const staffId = (globalId: string) => fromGlobalId(globalId)!.id;

async function metric(name: string): Promise<number> {
  const text = await (await fetch(`${t.server.url}/metrics`)).text();
  const line = text.split("\n").find((l) => l.startsWith(`${name} `));
  return line ? Number(line.split(" ")[1]) : NaN;
}

describe("rosterChanged", () => {
  it("given a facilitator subscribed to their session, when attendance is recorded twice, then they get the current roster and then one event per change, with names and statuses", async () => {
    const w = await liveWorld(t.server);
    const sessionId = w.sessionIds[0];
    await recordAt(t.server.url, w.facilitator.token, sessionId, [{ participantId: w.members[0], status: "EXCUSED" }]);
    const live = await open(w.facilitator.token);
    const stream = subscribe(live, sessionId);
    await stream.waitFor(1);
    expect(stream.events[0].errors).toBeUndefined();
    expect(statuses(stream.events[0])).toEqual({ [w.members[0]]: "EXCUSED", [w.members[1]]: null, [w.members[2]]: null });
    expect(stream.events[0].data!.rosterChanged.map((e) => e.participant!.firstName)).toEqual(["Ana", "Ben", "Cy"]);

    await recordAt(t.server.url, w.clinician.token, sessionId, [{ participantId: w.members[1], status: "PRESENT" }]);
    await stream.waitFor(2);
    expect(statuses(stream.events[1])).toEqual({ [w.members[0]]: "EXCUSED", [w.members[1]]: "PRESENT", [w.members[2]]: null });

    await recordAt(t.server.url, w.facilitator.token, sessionId, [
      { participantId: w.members[0], status: "PRESENT" },
      { participantId: w.members[2], status: "ABSENT" },
    ]);
    await stream.waitFor(3);
    expect(statuses(stream.events[2])).toEqual({ [w.members[0]]: "PRESENT", [w.members[1]]: "PRESENT", [w.members[2]]: "ABSENT" });
    // A change of another session is not an event of this one.
    await recordAt(t.server.url, w.facilitator.token, w.sessionIds[1], [{ participantId: w.members[0], status: "ABSENT" }]);
    await recordAt(t.server.url, w.facilitator.token, sessionId, [{ participantId: w.members[2], status: "LATE" }]);
    await stream.waitFor(4);
    expect(statuses(stream.events[3])[w.members[2]]).toBe("LATE");
    expect(stream.events).toHaveLength(4);
    expect(stream.error).toBeUndefined();
  });

  it("given the roster read by a query and by a subscription, then both answer the same entries (one builder)", async () => {
    const w = await liveWorld(t.server);
    const sessionId = w.sessionIds[0];
    await recordAt(t.server.url, w.facilitator.token, sessionId, [{ participantId: w.members[1], status: "PRESENT" }]);
    const q = await t.server.gql(
      `query($id: ID!) { node(id: $id) { ... on Session { roster { expected participant { id firstName } attendance { status } } } } }`,
      { id: sessionId },
      { token: w.facilitator.token },
    );
    const live = await open(w.facilitator.token);
    const stream = subscribe(
      live,
      sessionId,
      `subscription($sessionId: ID!) { rosterChanged(sessionId: $sessionId) { expected participant { id firstName } attendance { status } } }`,
    );
    await stream.waitFor(1);
    expect(stream.events[0].data!.rosterChanged).toEqual(q.data.node.roster);
  });

  it("given a subscriber, when an event is sent, then the audit log records a READ of the participants in it, as a query of the roster does", async () => {
    const w = await liveWorld(t.server);
    const sessionId = w.sessionIds[0];
    const live = await open(w.facilitator.token);
    const stream = subscribe(live, sessionId);
    await stream.waitFor(1);
    await recordAt(t.server.url, w.facilitator.token, sessionId, [{ participantId: w.members[0], status: "PRESENT" }]);
    await stream.waitFor(2);
    const reads = await t.server.database.db
      .select()
      .from(auditEvents)
      .where(and(eq(auditEvents.operationName, "LiveRoster"), eq(auditEvents.resourceType, "RosterEntry")));
    // One entry per event (the roster's participants), as the field wrapper records a query's.
    expect(reads).toHaveLength(2);
    for (const r of reads) {
      expect([r.action, r.outcome, r.actorType, r.centerId]).toEqual(["READ", "ALLOWED", "STAFF", reads[0].centerId]);
      expect(new Set(r.participantIds)).toEqual(new Set(w.members.map((m) => decodeId(m, "Participant"))));
    }
    expect(reads[0].requestId).not.toBe(reads[1].requestId);
    const participants = await t.server.database.db
      .select()
      .from(auditEvents)
      .where(and(eq(auditEvents.operationName, "LiveRoster"), eq(auditEvents.resourceType, "Participant")));
    expect(participants).toHaveLength(2);
    // The same selection as a query over HTTP records the same entries.
    await t.server.gql(
      `query Roster($id: ID!) { node(id: $id) { ... on Session { roster { participant { id firstName } attendance { status } } } } }`,
      { id: sessionId },
      { token: w.facilitator.token, operationName: "Roster" },
    );
    const queried = await t.server.database.db
      .select()
      .from(auditEvents)
      .where(and(eq(auditEvents.operationName, "Roster"), eq(auditEvents.resourceType, "RosterEntry")));
    expect(queried.map((r) => [r.action, r.outcome, r.actorType, r.actorId, r.centerId, [...r.participantIds].sort()])).toEqual(
      reads.slice(1).map((r) => [r.action, r.outcome, r.actorType, r.actorId, r.centerId, [...r.participantIds].sort()]),
    );
  });
});

describe("who may subscribe", () => {
  it("given a facilitator of another group, when they subscribe, then the session reads as missing (NOT_FOUND) and nothing of it is sent", async () => {
    const w = await liveWorld(t.server);
    const live = await open(w.otherFacilitator.token);
    const stream = subscribe(live, w.sessionIds[0]);
    await stream.ended();
    expect(stream.events).toHaveLength(1);
    expect(stream.events[0].data ?? null).toBeNull();
    expect(stream.events[0].errors?.[0].extensions?.code).toBe("NOT_FOUND");
    // An id of nothing answers the same.
    const nothing = w.sessionIds[0].replace(/.$/, (c) => (c === "A" ? "B" : "A"));
    const missing = subscribe(live, nothing);
    await missing.ended();
    expect(missing.events[0].errors?.[0].extensions?.code).toBe("NOT_FOUND");
    // Both attempts are in the audit log, as the facilitator's, naming the session asked for.
    const me = staffId(w.otherFacilitator.id);
    expect(await denied()).toEqual([
      ["STAFF", me, "Session", decodeId(w.sessionIds[0], "Session"), "LiveRoster", null],
      ["STAFF", me, "Session", decodeId(nothing, "Session"), "LiveRoster", null],
    ]);
  });

  it("given a VIEWER, when they subscribe with or without names, then they are refused (FORBIDDEN) as Session.roster refuses them, and get no names", async () => {
    const w = await liveWorld(t.server);
    const live = await open(w.viewer.token);
    for (const query of [LIVE_ROSTER, LIVE_ROSTER_IDS]) {
      const stream = subscribe(live, w.sessionIds[0], query);
      await stream.ended();
      expect(stream.events[0].errors?.[0].extensions?.code).toBe("FORBIDDEN");
      expect(JSON.stringify(stream.events)).not.toMatch(/Ana|Ben|Cy/);
    }
    // Each refusal is an audit entry of the attempt.
    const session = decodeId(w.sessionIds[0], "Session");
    expect(await denied()).toEqual([
      ["STAFF", staffId(w.viewer.id), "Session", session, "LiveRoster", null],
      ["STAFF", staffId(w.viewer.id), "Session", session, "LiveRosterIds", null],
    ]);
    const q = await t.server.gql(
      `query($id: ID!) { node(id: $id) { ... on Session { roster { participant { firstName } } } } }`,
      { id: w.sessionIds[0] },
      { token: w.viewer.token },
    );
    expect(q.errors?.[0].extensions?.code).toBe("FORBIDDEN");
  });

  it("given a subscribed facilitator, when they are removed from the group, then the next change ends their stream with FORBIDDEN, and sends them nothing", async () => {
    const w = await liveWorld(t.server);
    const sessionId = w.sessionIds[0];
    const live = await open(w.facilitator.token);
    const stream = subscribe(live, sessionId);
    const watching = subscribe(await open(w.clinician.token), sessionId);
    await Promise.all([stream.waitFor(1), watching.waitFor(1)]);
    await w.admin.mutate("updateGroup", { groupId: w.groupId, facilitatorIds: [w.otherFacilitator.id] }, "group { id }");
    await recordAt(t.server.url, w.clinician.token, sessionId, [{ participantId: w.members[0], status: "PRESENT" }]);
    await stream.ended();
    await watching.waitFor(2);
    expect(stream.events).toHaveLength(1);
    expect((stream.error as Array<{ extensions?: { code?: string } }>)[0].extensions?.code).toBe("FORBIDDEN");
    expect(watching.error).toBeUndefined();
  });

  it("given a subscribed staff member, when their account is made INACTIVE (their token no longer authenticates), then the next change ends the stream with UNAUTHENTICATED", async () => {
    const w = await liveWorld(t.server);
    const sessionId = w.sessionIds[0];
    const stream = subscribe(await open(w.clinician.token), sessionId);
    await stream.waitFor(1);
    await w.admin.mutate("updateStaff", { staffId: w.clinician.id, status: "INACTIVE" }, "staff { id }");
    await recordAt(t.server.url, w.facilitator.token, sessionId, [{ participantId: w.members[0], status: "PRESENT" }]);
    await stream.ended();
    expect(stream.events).toHaveLength(1);
    expect((stream.error as Array<{ extensions?: { code?: string } }>)[0].extensions?.code).toBe("UNAUTHENTICATED");
  });
});

describe("bad input", () => {
  it("given a connection without a token, or with a bad one, when it initialises, then it is closed with 4401 (graphql-ws: Unauthorized)", async () => {
    await expect(connect(t.server.url, undefined)).rejects.toMatchObject({ code: 4401 });
    await expect(connect(t.server.url, "Bearer not-a-token")).rejects.toMatchObject({ code: 4401 });
    await expect(connect(t.server.url, "")).rejects.toMatchObject({ code: 4401 });
    // Each is a failed access attempt in the audit log: ANONYMOUS, with the client's address, and nothing of the token.
    const entries = await denied();
    expect(entries).toEqual(Array(3).fill(["ANONYMOUS", null, "Subscription", null, null, "127.0.0.1"]));
    const rows = await t.server.database.db.select().from(auditEvents);
    expect(JSON.stringify(rows)).not.toContain("not-a-token");
  });

  it("given an integrator's API key (valid, but not a staff token), when it initialises, then it is closed with 4403 (graphql-ws: Forbidden)", async () => {
    const w = await integratorWorld(await asOrgAdmin(t.server));
    await expect(connect(t.server.url, `Bearer ${w.client.key}`)).rejects.toMatchObject({ code: 4403 });
    const [entry] = await t.server.database.db.select().from(auditEvents).where(eq(auditEvents.action, "DENIED"));
    expect(entry).toMatchObject({ actorType: "API_CLIENT", resourceType: "Subscription", outcome: "DENIED", clientAddress: null });
  });

  it("given a socket, when it sends a malformed message, then it is closed with 4400; a subscribe before connection_init gets 4401", async () => {
    const a = await rawSocket(t.server.url);
    a.ws.send("{not json");
    expect((await a.closed).code).toBe(4400);
    const b = await rawSocket(t.server.url);
    b.ws.send(JSON.stringify({ type: "connection_init", payload: { authorization: "x" }, extra: 1, nonsense: { deep: [] } }));
    b.ws.send(JSON.stringify({ type: "no-such-type" }));
    expect([4400, 4401]).toContain((await b.closed).code);
    const c = await rawSocket(t.server.url);
    c.ws.send(JSON.stringify({ id: "1", type: "subscribe", payload: { query: LIVE_ROSTER } }));
    expect((await c.closed).code).toBe(4401);
  });

  it("given a connected client, when it sends a query, a document with a syntax error, or one past the query limits, then each is refused with its code and the connection stays", async () => {
    const w = await liveWorld(t.server);
    const live = await open(w.facilitator.token);
    const query = subscribe(live, w.sessionIds[0], `query { viewer { id } }`);
    const syntax = subscribe(live, w.sessionIds[0], `subscription { rosterChanged(`);
    const aliases = Array.from({ length: 60 }, (_, i) => `a${i}: expected`).join(" ");
    const costly = subscribe(live, w.sessionIds[0], `subscription($sessionId: ID!) { rosterChanged(sessionId: $sessionId) { ${aliases} } }`);
    const unknown = subscribe(live, w.sessionIds[0], `subscription { nothing }`);
    await Promise.all([query.ended(), syntax.ended(), costly.ended(), unknown.ended()]);
    const code = (s: typeof query) => (s.error as Array<{ extensions?: { code?: string } }>)[0].extensions?.code;
    expect(code(query)).toBe("BAD_REQUEST");
    expect(code(syntax)).toBe("GRAPHQL_PARSE_FAILED");
    expect(code(costly)).toBe("TOO_MANY_ALIASES");
    expect(code(unknown)).toBe("GRAPHQL_VALIDATION_FAILED");
    const ok = subscribe(live, w.sessionIds[0]);
    await ok.waitFor(1);
    expect(live.closes).toEqual([]);
    // The document over the limits is an attempt in the audit log (a malformed one reaches nothing).
    expect(await denied()).toEqual([["STAFF", staffId(w.facilitator.id), "Subscription", null, "rosterChanged", null]]);
  });

  it("given ALLOWLIST=on, when a client subscribes with a document not in the manifest, then it is refused with OPERATION_NOT_ALLOWED (as over HTTP) and audited, and the manifest's own LiveRoster is served", async () => {
    const w = await liveWorld(t.server);
    // Another instance on the same database, with the allow-list on (the world was made through this one).
    const manifest = fileURLToPath(new URL("../operations.manifest.json", import.meta.url));
    const config = loadConfig({ AUTH_JWT_SECRET: TEST_SECRET, LOG_LEVEL: "error", ...TEST_DEFAULTS, ALLOWLIST: "on", ALLOWLIST_MANIFEST: manifest });
    const app = await createApp({ config, database: t.server.database, logger: silentLogger });
    try {
      const url = `http://127.0.0.1:${await app.listen(0, "127.0.0.1")}`;
      const live = await connect(url, `Bearer ${w.facilitator.token}`);
      clients.push(live);
      const unlisted = subscribe(live, w.sessionIds[0], LIVE_ROSTER_IDS);
      await unlisted.ended();
      expect((unlisted.error as Array<{ extensions?: { code?: string } }>)[0].extensions?.code).toBe("OPERATION_NOT_ALLOWED");
      expect(unlisted.events).toEqual([]);
      const listed = subscribe(live, w.sessionIds[0], operation("checkin.graphql", "LiveRoster"));
      await listed.waitFor(1);
      expect(listed.events[0].errors).toBeUndefined();
      // Over HTTP the same unlisted document is refused the same way.
      const http = await fetch(`${url}/graphql`, {
        method: "POST",
        headers: { "content-type": "application/json", authorization: `Bearer ${w.facilitator.token}` },
        body: JSON.stringify({ query: `{ viewer { id } }` }),
      });
      expect(((await http.json()) as { errors: Array<{ extensions: { code: string } }> }).errors[0].extensions.code).toBe("OPERATION_NOT_ALLOWED");
      expect(await denied()).toEqual([["STAFF", staffId(w.facilitator.id), "Subscription", null, "LiveRosterIds", null]]);
    } finally {
      await Promise.all(clients.splice(0).map((c) => c.dispose()));
      await app.close();
    }
  });

  it("given a subscription sent over HTTP, then it is refused as a client error that says where to send it", async () => {
    const w = await liveWorld(t.server);
    const res = await t.server.gql(LIVE_ROSTER, { sessionId: w.sessionIds[0] }, { token: w.facilitator.token });
    expect(res.status).toBe(400);
    expect(res.errors?.[0].extensions?.code).toBe("GRAPHQL_VALIDATION_FAILED");
    expect(res.errors?.[0].message).toMatch(/WebSocket/);
  });
});

describe("limits and metrics", () => {
  it("given LIVE_MAX_SUBSCRIPTIONS_PER_CONNECTION=3 and _PER_ACTOR=4, when a client opens more, then the extra ones get TOO_MANY_SUBSCRIPTIONS, and completing one frees its place", async () => {
    const w = await liveWorld(t.server);
    const first = await open(w.facilitator.token);
    const streams = [0, 1, 2, 3].map(() => subscribe(first, w.sessionIds[0]));
    await Promise.all(streams.slice(0, 3).map((s) => s.waitFor(1)));
    await streams[3].ended();
    expect((streams[3].error as Array<{ extensions?: { code?: string } }>)[0].extensions?.code).toBe("TOO_MANY_SUBSCRIPTIONS");
    // The same staff member on a second connection: one more (4 in all), then refused.
    const second = await open(w.facilitator.token);
    const fourth = subscribe(second, w.sessionIds[1]);
    await fourth.waitFor(1);
    const fifth = subscribe(second, w.sessionIds[1]);
    await fifth.ended();
    expect((fifth.error as Array<{ extensions?: { code?: string } }>)[0].extensions?.code).toBe("TOO_MANY_SUBSCRIPTIONS");
    // Someone else is not counted against them.
    const other = subscribe(await open(w.clinician.token), w.sessionIds[0]);
    await other.waitFor(1);
    streams[0].unsubscribe();
    await new Promise((r) => setTimeout(r, 100));
    const again = subscribe(second, w.sessionIds[2]);
    await again.waitFor(1);
    // Both refusals are audited, as the facilitator's attempts.
    expect(await denied()).toEqual(Array(2).fill(["STAFF", staffId(w.facilitator.id), "Subscription", null, "LiveRoster", null]));
  });

  it("given subscribers, then /metrics shows the open connections and subscriptions and counts the events sent, and they fall back when clients leave", async () => {
    const w = await liveWorld(t.server);
    const before = {
      connections: await metric("live_connections"),
      subscriptions: await metric("live_subscriptions"),
      sent: await metric("live_events_sent_total"),
    };
    const a = await open(w.facilitator.token);
    const b = await open(w.clinician.token);
    const sa = subscribe(a, w.sessionIds[0]);
    const sb = subscribe(b, w.sessionIds[0]);
    await Promise.all([sa.waitFor(1), sb.waitFor(1)]);
    await recordAt(t.server.url, w.facilitator.token, w.sessionIds[0], [{ participantId: w.members[0], status: "PRESENT" }]);
    await Promise.all([sa.waitFor(2), sb.waitFor(2)]);
    expect(await metric("live_connections")).toBe(before.connections + 2);
    expect(await metric("live_subscriptions")).toBe(before.subscriptions + 2);
    expect(await metric("live_events_sent_total")).toBe(before.sent + 4);
    await Promise.all(clients.splice(0).map((c) => c.dispose()));
    await new Promise((r) => setTimeout(r, 200));
    expect(await metric("live_connections")).toBe(before.connections);
    expect(await metric("live_subscriptions")).toBe(before.subscriptions);
    // The upgrade requests are not left counted as HTTP requests in flight (only the scrape itself is).
    expect(await metric("http_requests_in_flight")).toBe(1);
  });
});

describe("keep-alive", () => {
  it("given LIVE_KEEPALIVE_MS=300, then the server pings an idle connection, and closes one that stops answering pings", async () => {
    const server = await startTestServer({ env: { LIVE_KEEPALIVE_MS: "300" } });
    try {
      const w = await liveWorld(server, { members: 1 });
      // A client that answers pings stays connected.
      const live = await connect(server.url, `Bearer ${w.facilitator.token}`);
      const stream = subscribe(live, w.sessionIds[0]);
      await stream.waitFor(1);
      // One that never answers (no automatic pong) is cut off after a ping goes unanswered.
      const silent = new WebSocket(`${server.url.replace(/^http/, "ws")}/graphql`, "graphql-transport-ws", { autoPong: false });
      let pings = 0;
      silent.on("ping", () => pings++);
      await new Promise((resolve) => silent.once("open", resolve));
      silent.send(JSON.stringify({ type: "connection_init", payload: { authorization: `Bearer ${w.facilitator.token}` } }));
      const closed = await new Promise<number>((resolve) => silent.once("close", (code) => resolve(code)));
      expect(pings).toBeGreaterThanOrEqual(1);
      expect(closed).toBe(1006);
      expect(live.closes).toEqual([]);
      expect(stream.error).toBeUndefined();
      await live.dispose();
    } finally {
      await server.close();
    }
  });
});

describe("one event per transaction (RosterFeed)", () => {
  const S = "00000000-0000-4000-8000-000000000001";
  const [P1, P2, P3] = ["1", "2", "3"].map((n) => `00000000-0000-4000-8000-00000000010${n}`);

  it("given a transaction's two changes arriving while the first waits, then they are one change naming both writes' participants; a later transaction is its own", async () => {
    const feed = new RosterFeed(S, () => undefined);
    feed.push({ sessionId: S, participantIds: [P1], txid: "700" });
    feed.push({ sessionId: S, participantIds: [P1, P2], txid: "700" });
    feed.push({ sessionId: S, participantIds: [P3], txid: "701" });
    expect(await feed.next()).toEqual({ value: { sessionId: S, participantIds: [P1, P2], txid: "700" }, done: false });
    expect(await feed.next()).toEqual({ value: { sessionId: S, participantIds: [P3], txid: "701" }, done: false });
    // A change of a transaction already handed out is dropped: the roster reloaded for it held the whole transaction.
    feed.push({ sessionId: S, participantIds: [P1], txid: "701" });
    feed.push({ sessionId: S, participantIds: [P2], txid: "702" });
    expect(await feed.next()).toEqual({ value: { sessionId: S, participantIds: [P2], txid: "702" }, done: false });
  });

  it("given changes without a transaction id (a foreign sender), then each is its own change", async () => {
    const feed = new RosterFeed(S, () => undefined);
    feed.push({ sessionId: S, participantIds: [P1] });
    feed.push({ sessionId: S, participantIds: [P1] });
    expect(await feed.next()).toMatchObject({ value: { participantIds: [P1] }, done: false });
    expect(await feed.next()).toMatchObject({ value: { participantIds: [P1] }, done: false });
  });
});
