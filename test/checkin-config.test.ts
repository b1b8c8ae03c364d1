// Self check-in's configuration and cost: in production without CHECKIN_SECRET it is off (the
// start-up log names the variable, openCheckIn refuses with CHECK_IN_DISABLED, selfCheckIn reads
// INVALID_CHECK_IN, links are null) and everything else works; outside production a development
// secret is used; and a roster's claims are read in one statement however many members it has.
import { describe, expect, it } from "vitest";
import { setClock } from "../src/common/clock.js";
import { pruneCheckInFailures } from "../src/checkin/checkin.service.js";
import { loadConfig } from "../src/config.js";
import { checkInFailures } from "../src/db/schema.js";
import { createLogger } from "../src/logger.js";
import { createApp } from "../src/server.js";
import { asOrgAdmin } from "./support/fixtures.js";
import { notesWorld } from "./support/notes.js";
import { operation } from "./support/operations.js";
import { startAnotherInstance, TEST_DEFAULTS, TEST_SECRET, useTestServer } from "./support/server.js";

const statements: string[] = [];
const t = useTestServer({ onQuery: (q) => statements.push(q) });

const gqlAt = async (url: string, name: string, variables: Record<string, unknown>, token: string | null) => {
  const headers: Record<string, string> = { "content-type": "application/json" };
  if (token) headers.authorization = `Bearer ${token}`;
  const res = await fetch(`${url}/graphql`, {
    method: "POST",
    headers,
    body: JSON.stringify({ query: operation("checkin.graphql", name), variables, operationName: name }),
  });
  return (await res.json()) as { data: any; errors?: any[] };
};

describe("configuration", () => {
  it("in production without CHECKIN_SECRET: a start-up line names the variable, openCheckIn refuses, selfCheckIn reads INVALID_CHECK_IN, links are null, the rest works", async () => {
    const org = await asOrgAdmin(t.server);
    const w = await notesWorld(org);
    // a genuine link from the development-secret server, to try on the production one
    const links = await gqlAt(t.server.url, "CheckInLinks", { sessionId: w.sessions[1] }, w.tokens.FACILITATOR);
    const token = (links.data.node.roster[0].checkInLink as string).split("/").pop()!;

    const lines: string[] = [];
    const logger = createLogger("info", (line) => void lines.push(line));
    const config = loadConfig({ AUTH_JWT_SECRET: TEST_SECRET, ...TEST_DEFAULTS, NODE_ENV: "production" });
    expect(config.checkIn.secret).toBeNull();
    const app = await createApp({ config, database: t.server.database, logger });
    const url = `http://127.0.0.1:${await app.listen(0, "127.0.0.1")}`;
    try {
      const line = lines.map((l) => JSON.parse(l)).find((l) => l.variable === "CHECKIN_SECRET");
      expect(line).toMatchObject({ msg: expect.stringContaining("CHECKIN_SECRET") });

      setClock("2026-01-13T22:40:00Z");
      const opened = await gqlAt(url, "OpenCheckIn", { input: { sessionId: w.sessions[1] } }, w.tokens.FACILITATOR);
      expect(opened.data.openCheckIn).toEqual({ checkIn: null, userErrors: [expect.objectContaining({ code: "CHECK_IN_DISABLED", field: null })] });
      const claimed = await gqlAt(url, "SelfCheckIn", { input: { token, roomCode: "123456" } }, null);
      expect(claimed.data.selfCheckIn).toEqual({ result: null, userErrors: [expect.objectContaining({ code: "INVALID_CHECK_IN", field: ["input"] })] });
      const roster = await gqlAt(url, "CheckInLinks", { sessionId: w.sessions[1] }, w.tokens.FACILITATOR);
      expect(roster.errors).toBeUndefined();
      expect(roster.data.node.roster.map((r: any) => r.checkInLink)).toEqual([null, null, null, null]);
      const checkIns = await gqlAt(url, "SessionCheckIns", { sessionId: w.sessions[1] }, w.tokens.FACILITATOR);
      expect(checkIns.data.node.roster.map((r: any) => r.checkIn)).toEqual([null, null, null, null]);
    } finally {
      await app.close();
    }
  });

  it("uses a development secret outside production, and CHECKIN_SECRET when given (at least 32 characters)", () => {
    expect(loadConfig({}).checkIn).toMatchObject({ secret: expect.any(String), developmentSecret: true, codePeriodSeconds: 300 });
    const given = "s".repeat(32);
    expect(loadConfig({ NODE_ENV: "production", AUTH_JWT_SECRET: TEST_SECRET, CHECKIN_SECRET: given }).checkIn).toMatchObject({
      secret: given,
      developmentSecret: false,
    });
    expect(() => loadConfig({ CHECKIN_SECRET: "short" })).toThrow(/CHECKIN_SECRET/);
    expect(() => loadConfig({ CHECKIN_CODE_PERIOD_SECONDS: "5" })).toThrow(/CHECKIN_CODE_PERIOD_SECONDS/);
  });
});

describe("the failure counters", () => {
  it("drops the counters of windows that ended, and keeps the current ones", async () => {
    const db = t.server.database.db;
    await db.insert(checkInFailures).values([
      { key: "ip:198.51.100.7", windowStart: new Date("2026-01-13T21:00:00Z"), failures: 3 },
      { key: "ip:198.51.100.8", windowStart: new Date("2026-01-13T22:45:00Z"), failures: 1 },
    ]);
    expect(await pruneCheckInFailures(db, new Date("2026-01-13T22:00:00Z"))).toBe(1);
    expect((await db.select().from(checkInFailures)).map((r) => r.key)).toEqual(["ip:198.51.100.8"]);
  });
});

describe("cost", () => {
  it("reads the claims of every roster in a request in one statement (no query per entry)", async () => {
    const org = await asOrgAdmin(t.server);
    const w = await notesWorld(org);
    setClock("2026-01-13T22:40:00Z");
    const opened = await gqlAt(t.server.url, "OpenCheckIn", { input: { sessionId: w.sessions[1] } }, w.tokens.FACILITATOR);
    const code = opened.data.openCheckIn.checkIn.roomCode;
    const links = await gqlAt(t.server.url, "CheckInLinks", { sessionId: w.sessions[1] }, w.tokens.FACILITATOR);
    for (const r of links.data.node.roster.slice(0, 3)) {
      const res = await gqlAt(t.server.url, "SelfCheckIn", { input: { token: r.checkInLink.split("/").pop(), roomCode: code } }, null);
      expect(res.data.selfCheckIn.userErrors).toEqual([]);
    }
    const twoRosters = `query($a: ID!, $b: ID!) {
      a: node(id: $a) { ... on Session { roster { participant { id } checkIn { status late } checkInLink } } }
      b: node(id: $b) { ... on Session { roster { participant { id } checkIn { status late } checkInLink } } }
    }`;
    statements.length = 0;
    const res = await t.server.gql(twoRosters, { a: w.sessions[1], b: w.sessions[2] }, { token: w.tokens.FACILITATOR });
    expect(res.errors).toBeUndefined();
    expect(res.data.a.roster.filter((r: any) => r.checkIn?.status === "PENDING")).toHaveLength(3);
    expect(res.data.b.roster.every((r: any) => r.checkIn === null)).toBe(true);
    expect(statements.filter((s) => /from "check_ins"/.test(s))).toHaveLength(1);
  });
});

describe.runIf(Boolean(process.env.TEST_DATABASE_URL))("two instances on one PostgreSQL", () => {
  it("agree on the room code, and count failed tries together", async () => {
    const org = await asOrgAdmin(t.server);
    const w = await notesWorld(org);
    const b = await startAnotherInstance(t.server);
    try {
      setClock("2026-01-13T22:40:00Z");
      const opened = await gqlAt(t.server.url, "OpenCheckIn", { input: { sessionId: w.sessions[1] } }, w.tokens.FACILITATOR);
      const code = opened.data.openCheckIn.checkIn.roomCode as string;
      const again = await gqlAt(b.url, "OpenCheckIn", { input: { sessionId: w.sessions[1] } }, w.tokens.CLINICIAN);
      expect(again.data.openCheckIn.checkIn.roomCode).toBe(code);
      const links = await gqlAt(t.server.url, "CheckInLinks", { sessionId: w.sessions[1] }, w.tokens.FACILITATOR);
      const [sam, jose] = links.data.node.roster.map((r: any) => (r.checkInLink as string).split("/").pop());
      const wrong = code === "000000" ? "000001" : "000000";
      // 5 wrong tries with one token (the default limit), alternating instances: the 6th, right, is refused on either
      for (let i = 0; i < 5; i++) {
        const res = await gqlAt(i % 2 ? b.url : t.server.url, "SelfCheckIn", { input: { token: sam, roomCode: wrong } }, null);
        expect(res.data.selfCheckIn.userErrors[0].code).toBe("INVALID_CHECK_IN");
      }
      for (const url of [t.server.url, b.url]) {
        const res = await gqlAt(url, "SelfCheckIn", { input: { token: sam, roomCode: code } }, null);
        expect(res.data.selfCheckIn.userErrors[0].code).toBe("INVALID_CHECK_IN");
      }
      // another member checks in through B with the code A showed
      const ok = await gqlAt(b.url, "SelfCheckIn", { input: { token: jose, roomCode: code } }, null);
      expect(ok.data.selfCheckIn.userErrors).toEqual([]);
    } finally {
      await b.close();
    }
  });
});
