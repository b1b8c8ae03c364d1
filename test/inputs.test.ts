// Inputs that used to reach the database unchecked: NUL bytes and unpaired surrogates in any text,
// dates outside 1900..2200, lists far past any use, and tokens with an endless lifetime, a future
// iat or a non-string sub. Each is refused (a userError on its field, or BAD_USER_INPUT, or
// UNAUTHENTICATED) and nothing is written.
import { randomUUID } from "node:crypto";
import { SignJWT } from "jose";
import { describe, expect, it } from "vitest";
import { toGlobalId } from "../src/common/ids.js";
import { asOrgAdmin, ADMIN_EMAIL, sendMutation } from "./support/fixtures.js";
import { TEST_SECRET, useTestServer } from "./support/server.js";

const t = useTestServer();

async function world() {
  const admin = await asOrgAdmin(t.server);
  const centerId = await admin.createCenter("Harbor House", "UTC");
  const { program } = await admin.mutate("createProgram", { centerId, name: "Relapse prevention" }, "program { id }");
  const groupInput = {
    programId: program.id,
    name: "Tuesday",
    capacity: 5,
    startsOn: "2026-01-06",
    schedule: { daysOfWeek: ["TUESDAY"], startTime: "18:00", durationMinutes: 60 },
  };
  const { group } = await admin.mutate("createGroup", groupInput, "group { id }");
  const { sessions } = await admin.mutate("scheduleSessions", { groupId: group.id, from: "2026-01-06", to: "2026-01-13" }, "sessions { id }");
  return { admin, centerId, programId: program.id as string, groupId: group.id as string, groupInput, sessionId: sessions[0].id as string };
}

const NUL = "Ana\u0000Alvarez";
const LONE_HIGH = "Ana\uD800";
const LONE_LOW = "\uDC00Ana";

describe("text inputs", () => {
  it.each([
    ["a NUL byte", NUL],
    ["a lone high surrogate", LONE_HIGH],
    ["a lone low surrogate", LONE_LOW],
  ])("refuses %s in a mutation's text field with a userError on that field, and writes nothing", async (_name, bad) => {
    const { admin, centerId } = await world();
    const before = await t.server.database.fingerprint();
    for (const [field, input, key] of [
      ["createParticipant", { centerId, firstName: bad, lastName: "A" }, "firstName"],
      ["createParticipant", { centerId, firstName: "Ana", lastName: "A", externalId: bad }, "externalId"],
      ["createCenter", { name: bad, timezone: "UTC" }, "name"],
      ["createProgram", { centerId, name: "P", curriculum: ["One", bad] }, "curriculum.1"],
    ] as const) {
      const res = await sendMutation(t.server, admin.token, field, input);
      expect(res.errors, `${field}.${key}`).toBeUndefined();
      expect(
        res.payload.userErrors.map((e: { field: string[]; code: string }) => ({ field: e.field, code: e.code })),
        `${field}.${key}`,
      ).toEqual([{ field: ["input", ...key.split(".")], code: "INVALID" }]);
    }
    expect(await t.server.database.fingerprint()).toBe(before);
  });

  it("keeps a well-formed surrogate pair (an emoji) as sent", async () => {
    const { admin, centerId } = await world();
    const { participant } = await admin.mutate("createParticipant", { centerId, firstName: "Ana 🌱", lastName: "A" }, "participant { firstName }");
    expect(participant.firstName).toBe("Ana 🌱");
  });

  it("refuses a NUL byte or a lone surrogate in participants(search:) and node(id:) as BAD_USER_INPUT", async () => {
    const { admin, centerId } = await world();
    for (const bad of [NUL, LONE_HIGH]) {
      const search = await t.server.gql(
        `query($id: ID!, $s: String) { center(id: $id) { participants(search: $s) { totalCount } } }`,
        { id: centerId, s: bad },
        { token: admin.token },
      );
      expect(search.errors?.map((e) => [e.extensions?.code, e.path])).toEqual([["BAD_USER_INPUT", ["center", "participants"]]]);
      const node = await t.server.gql(`query($id: ID!) { node(id: $id) { id } }`, { id: bad }, { token: admin.token });
      expect(node.errors?.map((e) => e.extensions?.code)).toEqual(["BAD_USER_INPUT"]);
    }
    // Also when written into the document itself
    const literal = await t.server.gql(
      `query($id: ID!) { center(id: $id) { participants(search: "a\\u0000b") { totalCount } } }`,
      { id: centerId },
      { token: admin.token },
    );
    expect(literal.errors?.map((e) => e.extensions?.code)).toEqual(["BAD_USER_INPUT"]);
  });
});

describe("dates and times", () => {
  it("refuses Date inputs outside the years 1900..2200 (startsOn, scheduleSessions, sessions(from:)) as BAD_USER_INPUT, writing nothing", async () => {
    const { admin, groupId, groupInput, centerId } = await world();
    const before = await t.server.database.fingerprint();
    for (const day of ["0000-01-01", "1899-12-31", "2201-01-01", "9999-12-31"]) {
      const create = await sendMutation(t.server, admin.token, "createGroup", { ...groupInput, startsOn: day });
      expect(
        create.errors?.map((e) => e.extensions?.code),
        day,
      ).toEqual(["BAD_USER_INPUT"]);
      const schedule = await sendMutation(t.server, admin.token, "scheduleSessions", { groupId, from: "2026-01-06", to: day });
      expect(
        schedule.errors?.map((e) => e.extensions?.code),
        day,
      ).toEqual(["BAD_USER_INPUT"]);
    }
    for (const instant of ["0000-01-01T00:00:00Z", "9999-12-31T23:59:59Z", "1899-12-31T12:00:00Z"]) {
      const res = await t.server.gql(
        `query($id: ID!, $from: DateTime) { center(id: $id) { sessions(from: $from) { totalCount } } }`,
        { id: centerId, from: instant },
        { token: admin.token },
      );
      expect(
        res.errors?.map((e) => e.extensions?.code),
        instant,
      ).toEqual(["BAD_USER_INPUT"]);
      expect(res.errors?.[0].message, instant).toContain("Years must be between 1900 and 2200");
    }
    expect(await t.server.database.fingerprint()).toBe(before);
  });

  it("refuses a session moved to year 9999 (startsAt) and accepts the edges of the range in a query", async () => {
    const { admin, sessionId, centerId } = await world();
    const res = await sendMutation(t.server, admin.token, "updateSession", { sessionId, startsAt: "9999-12-31T18:00:00Z" });
    expect(res.errors?.map((e) => e.extensions?.code)).toEqual(["BAD_USER_INPUT"]);
    const edges = await t.server.gql(
      `query($id: ID!, $from: DateTime, $to: DateTime) { center(id: $id) { sessions(from: $from, to: $to) { totalCount } } }`,
      { id: centerId, from: "1900-01-01T00:00:00Z", to: "2200-12-31T00:00:00Z" },
      { token: admin.token },
    );
    expect(edges.errors).toBeUndefined();
    expect(edges.data.center.sessions.totalCount).toBe(2);
  });
});

describe("list inputs", () => {
  it("answers 17,000 facilitatorIds with one userError on the list, and writes nothing", async () => {
    const { admin, groupInput } = await world();
    const before = await t.server.database.fingerprint();
    const ids = Array.from({ length: 17_000 }, () => toGlobalId("Staff", randomUUID()));
    const res = await sendMutation(t.server, admin.token, "createGroup", { ...groupInput, facilitatorIds: ids }, "group { id }");
    expect(res.errors).toBeUndefined();
    expect(res.payload.group).toBeNull();
    expect(res.payload.userErrors).toEqual([{ field: ["input", "facilitatorIds"], code: "INVALID", message: "facilitatorIds takes at most 20 items" }]);
    // 21 is one too many; 20 unknown ids are looked at one by one (NOT_FOUND each)
    const over = await sendMutation(t.server, admin.token, "createGroup", { ...groupInput, facilitatorIds: ids.slice(0, 21) });
    expect(over.payload.userErrors.map((e: { field: string[] }) => e.field)).toEqual([["input", "facilitatorIds"]]);
    const at = await sendMutation(t.server, admin.token, "createGroup", { ...groupInput, facilitatorIds: ids.slice(0, 20) });
    expect(at.payload.userErrors.every((e: { code: string }) => e.code === "NOT_FOUND")).toBe(true);
    expect(await t.server.database.fingerprint()).toBe(before);
  });

  it("answers 100,000 curriculum topics with one userError, and 200 topics are accepted", async () => {
    const { admin, centerId } = await world();
    const before = await t.server.database.fingerprint();
    const res = await sendMutation(t.server, admin.token, "createProgram", { centerId, name: "Long", curriculum: Array.from({ length: 100_000 }, () => "") });
    expect(res.payload.userErrors).toEqual([{ field: ["input", "curriculum"], code: "INVALID", message: "curriculum takes at most 200 items" }]);
    expect(await t.server.database.fingerprint()).toBe(before);
    const ok = await sendMutation(
      t.server,
      admin.token,
      "createProgram",
      { centerId, name: "Long", curriculum: Array.from({ length: 200 }, (_, i) => `T${i}`) },
      "program { curriculum }",
    );
    expect(ok.payload.userErrors).toEqual([]);
    expect(ok.payload.program.curriculum).toHaveLength(200);
  });

  it("bounds lists in query arguments too: nodes(ids:) past 100 is BAD_USER_INPUT", async () => {
    const { admin } = await world();
    const ids = Array.from({ length: 5_000 }, () => toGlobalId("Center", randomUUID()));
    const res = await t.server.gql(`query($ids: [ID!]!) { nodes(ids: $ids) { id } }`, { ids }, { token: admin.token });
    expect(res.errors?.map((e) => e.extensions?.code)).toEqual(["BAD_USER_INPUT"]);
  });
});

describe("tokens", () => {
  const secret = new TextEncoder().encode(TEST_SECRET);
  const nowSec = () => Math.floor(Date.now() / 1000);
  async function sign(claims: Record<string, unknown>, opts: { iat?: number | null; exp?: number } = {}) {
    let jwt = new SignJWT(claims).setProtectedHeader({ alg: "HS256", typ: "JWT" });
    if (opts.iat !== null) jwt = jwt.setIssuedAt(opts.iat ?? nowSec());
    if (opts.exp !== undefined) jwt = jwt.setExpirationTime(opts.exp);
    return jwt.sign(secret);
  }
  async function viewerCode(token: string) {
    const res = await t.server.gql(`{ viewer { email } }`, {}, { token });
    return res.errors?.map((e) => e.extensions?.code) ?? res.data.viewer.email;
  }

  it("refuses a token living past 24 hours (exp - iat, or exp - now without iat), and accepts one of exactly 24 hours", async () => {
    await asOrgAdmin(t.server);
    const now = nowSec();
    expect(await viewerCode(await sign({ sub: ADMIN_EMAIL }, { exp: now + 1000 * 365 * 86400 }))).toEqual(["UNAUTHENTICATED"]);
    expect(await viewerCode(await sign({ sub: ADMIN_EMAIL }, { iat: now, exp: now + 86400 + 1 }))).toEqual(["UNAUTHENTICATED"]);
    expect(await viewerCode(await sign({ sub: ADMIN_EMAIL }, { iat: null, exp: now + 86400 + 120 }))).toEqual(["UNAUTHENTICATED"]);
    expect(await viewerCode(await sign({ sub: ADMIN_EMAIL }, { iat: now, exp: now + 86400 }))).toBe(ADMIN_EMAIL);
    expect(await viewerCode(await sign({ sub: ADMIN_EMAIL }, { iat: null, exp: now + 3600 }))).toBe(ADMIN_EMAIL);
  });

  it("refuses a token issued in the future (beyond 30 s of skew)", async () => {
    await asOrgAdmin(t.server);
    const now = nowSec();
    expect(await viewerCode(await sign({ sub: ADMIN_EMAIL }, { iat: now + 3600, exp: now + 7200 }))).toEqual(["UNAUTHENTICATED"]);
    expect(await viewerCode(await sign({ sub: ADMIN_EMAIL }, { iat: now + 10, exp: now + 3600 }))).toBe(ADMIN_EMAIL);
  });

  it("refuses a token whose sub is not a string", async () => {
    await asOrgAdmin(t.server);
    const exp = nowSec() + 3600;
    for (const sub of [[ADMIN_EMAIL], { id: ADMIN_EMAIL }, 42]) {
      expect(await viewerCode(await sign({ sub }, { exp })), JSON.stringify(sub)).toEqual(["UNAUTHENTICATED"]);
    }
  });
});
