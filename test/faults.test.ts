// Surviving faults (PostgreSQL): the server reaches its database through a TCP proxy that the
// test cuts and restores (the machine's PostgreSQL itself is never stopped). While the database is
// unreachable the server stays up, answers SERVICE_UNAVAILABLE (HTTP 503, Retry-After) and /readyz
// answers 503; once it is back the server recovers by itself within seconds; a write cut half-way
// leaves nothing behind.
import { sql } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { asOrgAdmin, type Api } from "./support/fixtures.js";
import { startProxy, type Proxy } from "./support/proxy.js";
import { startTestServer, type TestServer } from "./support/server.js";

const onPostgres = Boolean(process.env.TEST_DATABASE_URL);
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const rowsOf = (r: unknown) => (Array.isArray(r) ? r : (r as { rows: unknown[] }).rows) as Array<Record<string, unknown>>;

const DASHBOARD = `query ($id: ID!) { center(id: $id) { name groups(first: 5) { nodes { name activeCount sessions(first: 3) { nodes { startsAt attendanceSummary { present absent unrecorded } } } } } } }`;
const RECORD = `mutation ($input: RecordAttendanceInput!) { recordAttendance(input: $input) { attendance { id status } userErrors { code } } }`;

describe.skipIf(!onPostgres)("a database outage, through a proxy the test cuts", () => {
  let server: TestServer;
  let proxy: Proxy;
  let org: Api;
  let centerId: string;
  let sessionIds: string[];
  let participantIds: string[];

  const readyz = async () => (await fetch(`${server.url}/readyz`)).status;
  const attendanceRows = async (sessionGlobalId: string) => {
    const rows = rowsOf(
      await server.database.db.execute(sql`select
        (select count(*)::int from attendance a join sessions s on s.id = a.session_id where s.id::text = ${sessionUuid(sessionGlobalId)}) as attendance,
        (select count(*)::int from attendance_history h join attendance a on a.id = h.attendance_id where a.session_id::text = ${sessionUuid(sessionGlobalId)}) as history`),
    );
    return rows[0];
  };
  const sessionUuid = (globalId: string) => Buffer.from(globalId, "base64url").toString("utf8").split(":")[1];

  beforeAll(async () => {
    server = await startTestServer({
      connectVia: async (url) => {
        proxy = await startProxy(url);
        return proxy.url;
      },
    });
    org = await asOrgAdmin(server);
    centerId = await org.createCenter("Outage Clinic");
    const { program } = await org.mutate("createProgram", { centerId, name: "Program" }, "program { id }");
    const { group } = await org.mutate(
      "createGroup",
      {
        programId: program.id,
        name: "Monday group",
        capacity: 10,
        startsOn: "2025-01-06",
        status: "ACTIVE",
        schedule: { daysOfWeek: ["MONDAY"], startTime: "18:00", durationMinutes: 60 },
      },
      "group { id }",
    );
    participantIds = [];
    for (const name of ["Ann", "Bob", "Cat", "Dan"]) {
      const { participant } = await org.mutate("createParticipant", { centerId, firstName: name, lastName: "Doe" }, "participant { id }");
      await org.mutate("enrollParticipant", { groupId: group.id, participantId: participant.id }, "enrollment { id }");
      participantIds.push(participant.id);
    }
    const { sessions } = await org.mutate("scheduleSessions", { groupId: group.id, from: "2025-01-06", to: "2025-02-03" }, "sessions { id }");
    sessionIds = sessions.map((s: { id: string }) => s.id);
  }, 120_000);
  afterAll(async () => {
    await proxy?.restore().catch(() => {});
    await server?.close();
  });

  it("given a stream of requests, when the database goes away for 3 s, then every answer is data or a retryable 503, /readyz fails, and it recovers by itself within seconds of the database's return", async () => {
    // Each answer, with the phase its request started in.
    const outcomes: Array<{ phase: string; outcome: string }> = [];
    let phase = "before";
    let streaming = true;
    const stream = (async () => {
      while (streaming) {
        const started = phase;
        const res = await server.gql(DASHBOARD, { id: centerId }, { token: org.token });
        const code = res.errors?.[0]?.extensions?.code;
        let outcome: string;
        if (res.status === 200 && !res.errors && res.data.center.name === "Outage Clinic") outcome = "ok";
        else if (
          res.status === 503 &&
          code === "SERVICE_UNAVAILABLE" &&
          res.headers.get("retry-after") === "2" &&
          res.errors!.every((e) => e.extensions?.code === "SERVICE_UNAVAILABLE")
        )
          outcome = "unavailable";
        else outcome = `unexpected ${res.status} ${JSON.stringify(res.errors)}`;
        outcomes.push({ phase: started, outcome });
        await sleep(25);
      }
    })();
    const during = (p: string) => [...new Set(outcomes.filter((o) => o.phase === p).map((o) => o.outcome))];

    await sleep(500);
    expect(await readyz()).toBe(200);
    phase = "cutting";
    await proxy.cut();
    await sleep(300);
    phase = "down";
    expect(await readyz()).toBe(503);
    // A mutation while it is down: the same clear answer.
    const write = await server.gql(
      RECORD,
      { input: { sessionId: sessionIds[1], records: [{ participantId: participantIds[0], status: "PRESENT" }] } },
      { token: org.token },
    );
    expect(write.status).toBe(503);
    expect(write.errors?.[0]?.extensions?.code).toBe("SERVICE_UNAVAILABLE");
    expect(JSON.stringify(write.errors)).not.toMatch(/ECONNREFUSED|select|insert|postgres/i);
    await sleep(2_700);
    phase = "restoring";
    await proxy.restore();
    const back = Date.now();
    while ((await readyz()) !== 200 && Date.now() - back < 10_000) await sleep(100);
    const readyAfter = Date.now() - back;
    phase = "back";
    await sleep(1_000);
    streaming = false;
    await stream;

    expect(outcomes.filter((o) => o.outcome.startsWith("unexpected"))).toEqual([]);
    // Only the request in flight at the cut may fail.
    expect(
      new Set(
        outcomes
          .filter((o) => o.phase === "before")
          .slice(0, -1)
          .map((o) => o.outcome),
      ),
    ).toEqual(new Set(["ok"]));
    // A request that started while it was down answers SERVICE_UNAVAILABLE, or (when it was
    // still waiting for a connection as the database came back) its data.
    expect(during("down").filter((o) => o !== "ok")).toEqual(["unavailable"]);
    expect(outcomes.filter((o) => o.phase === "down" && o.outcome === "unavailable").length).toBeGreaterThanOrEqual(3);
    expect(during("back")).toEqual(["ok"]);
    expect(outcomes.filter((o) => o.phase === "back").length).toBeGreaterThan(5);
    expect(readyAfter).toBeLessThan(5_000);
    expect(await attendanceRows(sessionIds[1])).toEqual({ attendance: 0, history: 0 });
  }, 60_000);

  it("given recordAttendance of four records, when the connection drops as it writes the history (mid-transaction), then nothing of the batch is written, the client is told to retry, and the retry writes all of it", async () => {
    const input = { sessionId: sessionIds[0], records: participantIds.map((participantId) => ({ participantId, status: "ABSENT" })) };
    const before = await server.database.fingerprint();
    const dropped = proxy.cutOnStatement(`insert into "attendance_history"`);
    const res = await server.gql(RECORD, { input }, { token: org.token });
    await dropped;
    expect(res.status).toBe(503);
    expect(res.errors?.[0]?.extensions?.code).toBe("SERVICE_UNAVAILABLE");
    expect(await attendanceRows(sessionIds[0])).toEqual({ attendance: 0, history: 0 });
    expect(await server.database.fingerprint()).toBe(before);

    const retry = await server.gql(RECORD, { input }, { token: org.token });
    expect(retry.errors).toBeUndefined();
    expect(retry.data.recordAttendance.attendance).toHaveLength(4);
    expect(await attendanceRows(sessionIds[0])).toEqual({ attendance: 4, history: 4 });
  }, 30_000);

  it("given the database away, then the server keeps serving what needs no database (/healthz liveness aside) and a request without a token is still UNAUTHENTICATED", async () => {
    await proxy.cut();
    try {
      const res = await server.gql(`{ viewer { name } }`, {}, { token: null });
      expect(res.errors?.[0]?.extensions?.code).toBe("UNAUTHENTICATED");
      const withToken = await server.gql(`{ viewer { name } }`, {}, { token: org.token });
      expect(withToken.status).toBe(503);
      expect(withToken.errors?.[0]?.extensions?.code).toBe("SERVICE_UNAVAILABLE");
      expect(withToken.headers.get("retry-after")).toBe("2");
    } finally {
      await proxy.restore();
    }
  });
});
