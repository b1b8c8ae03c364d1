// Feed pages compiled to one SQL statement (src/feed/feed.plan.ts) answer exactly as the resolvers
// (readFeed) do: the same status and bytes, the same audit entries and the same disclosures, for the
// contract's integrator operations, varied selections (aliases, fragments, directives, `nodes`,
// fields the client's scopes keep closed), API clients of each scope, consent given, revoked and
// expired in the middle of a drain. The reference is a second app on the same database with
// COMPILED_QUERIES=off, asked first from the same cursor. The test also checks which path answered
// (the compiled page is one statement beginning `with args as`), so that a compiler that gave up
// on everything could not pass, nor one that answered what the resolvers refuse.
import { randomUUID } from "node:crypto";
import { asc, eq, sql } from "drizzle-orm";
import fc from "fast-check";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { resetClock, setClock } from "../src/common/clock.js";
import { rowsOf } from "../src/common/sql.js";
import { auditEvents } from "../src/db/schema.js";
import { silentLogger } from "../src/logger.js";
import { createApp, type App } from "../src/server.js";
import { asOrgAdmin, type Api } from "./support/fixtures.js";
import { createApiClient, integratorWorld, recordAttendance, waitForHorizon, type IntegratorWorld } from "./support/integrators.js";
import { operation } from "./support/operations.js";
import { startTestServer, type TestServer } from "./support/server.js";

let server: TestServer;
let reference: { app: App; url: string };
let org: Api;
let w: IntegratorWorld;
/** A client with ATTENDANCE_READ and PARTICIPANT_READ. */
let wide: { id: string; key: string };

beforeAll(async () => {
  server = await startTestServer();
  const app = await createApp({ config: { ...server.config, compiledQueries: false }, database: server.database, logger: silentLogger });
  reference = { app, url: `http://127.0.0.1:${await app.listen(0, "127.0.0.1")}` };
  org = await asOrgAdmin(server);
  setClock("2026-02-02T15:00:00Z");
  w = await integratorWorld(org);
  wide = await createApiClient(org, w.admin.token, { name: "Registry", centerIds: [w.centerId], scopes: ["ATTENDANCE_READ", "PARTICIPANT_READ"] });
  await recordAttendance(org, w.sessions[1], [
    [w.ana, "LATE"],
    [w.ben, "PRESENT"],
  ]);
  await recordAttendance(org, w.sessions[2], [
    [w.ana, "ABSENT"],
    [w.ben, "EXCUSED"],
  ]);
  for (const client of [w.client, wide]) {
    for (const participantId of [w.ana, w.ben]) {
      const res = await server.gql(
        operation("integrator.graphql", "RecordConsent"),
        { input: { participantId, recipientId: client.id, purpose: "Care" } },
        { token: w.clinician.token },
      );
      expect(res.data.recordConsent.userErrors).toEqual([]);
    }
  }
  await recordAttendance(org, w.sessions[1], [[w.ana, "PRESENT"]]);
}, 180_000);
afterAll(async () => {
  resetClock();
  await reference?.app.close();
  await server?.close();
});

async function send(url: string, query: string, variables: Record<string, unknown>, token: string, requestId: string) {
  const res = await fetch(`${url}/graphql`, {
    method: "POST",
    headers: { "content-type": "application/json", authorization: `Bearer ${token}`, "x-request-id": requestId },
    body: JSON.stringify({ query, variables }),
  });
  return { status: res.status, body: await res.text(), type: res.headers.get("content-type"), length: res.headers.get("content-length") };
}

async function entriesOf(requestId: string) {
  return server.database.db
    .select({
      action: auditEvents.action,
      outcome: auditEvents.outcome,
      resourceType: auditEvents.resourceType,
      resourceId: auditEvents.resourceId,
      centerId: auditEvents.centerId,
      participantIds: auditEvents.participantIds,
      operationName: auditEvents.operationName,
    })
    .from(auditEvents)
    .where(eq(auditEvents.requestId, requestId))
    .orderBy(asc(auditEvents.seq));
}

interface DisclosureSnapshot {
  id: string;
  row: string;
}

/** Every disclosure row, its content with its arrays sorted (the two paths may list a page's records in another order). */
async function disclosures(): Promise<DisclosureSnapshot[]> {
  const rows = await rowsOf<{ id: string; row: string }>(
    server.database.db,
    sql`select id, json_build_array(center_id, api_client_id, operation, record_count, disclosed_at,
        (select array_agg(x order by x) from unnest(participant_ids) x),
        (select array_agg(x::text || '/' || o::text order by x) from unnest(attendance_ids, attendance_participant_ids) u(x, o)))::text as row
      from disclosures`,
  );
  return rows;
}

const added = (before: DisclosureSnapshot[], after: DisclosureSnapshot[]) => {
  const seen = new Set(before.map((d) => d.id));
  return after
    .filter((d) => !seen.has(d.id))
    .map((d) => d.row)
    .sort();
};

/** Asks the reference (resolvers), then the server (compiler), the same page; expects the same answer, audit and disclosures. */
async function same(query: string, variables: Record<string, unknown>, token: string): Promise<{ compiled: boolean; body: any }> {
  await waitForHorizon(server);
  const [first, second] = [randomUUID(), randomUUID()];
  const d0 = await disclosures();
  const byResolvers = await send(reference.url, query, variables, token, first);
  const d1 = await disclosures();
  const { result: compiledAnswer, statements } = await server.database.countQueries(() => send(server.url, query, variables, token, second));
  const d2 = await disclosures();
  expect(compiledAnswer.status, query).toBe(byResolvers.status);
  expect(compiledAnswer.body, query).toBe(byResolvers.body);
  // (the compiled page is sent in parts, streamed: with the same headers, its length counted in bytes)
  expect([compiledAnswer.type, compiledAnswer.length], query).toEqual([byResolvers.type, byResolvers.length]);
  const sorted = (es: Awaited<ReturnType<typeof entriesOf>>) => [...es].sort((a, b) => JSON.stringify(a).localeCompare(JSON.stringify(b)));
  expect(sorted(await entriesOf(second)), query).toEqual(sorted(await entriesOf(first)));
  expect(added(d1, d2), query).toEqual(added(d0, d1));
  // Compiled: its one statement ran, and after it only the audit append.
  const at = statements.findIndex((s) => s.startsWith("with args as"));
  const compiled = at >= 0 && statements.slice(at + 1).every((s) => /audit_append|^reset |^commit$/i.test(s));
  return { compiled, body: JSON.parse(byResolvers.body) };
}

const CONTRACT = operation("integrator.graphql", "AttendanceChanges");

/** Drains the feed from `after` in pages of `first`, each page asked of both paths. */
async function drainBoth(token: string, query: string, first: number, after: string | null = null) {
  let cursor = after;
  const edges: any[] = [];
  for (let n = 0; n < 100; n++) {
    const page = await same(query, { first, after: cursor }, token);
    expect(page.compiled, query).toBe(true);
    const feed = page.body.data.attendanceChanges;
    edges.push(...(feed.edges ?? feed.nodes ?? []));
    cursor = feed.pageInfo.endCursor;
    if (!feed.pageInfo.hasNextPage) return { edges, cursor };
  }
  throw new Error("the feed did not end");
}

describe("feed pages compiled to one SQL statement", () => {
  // A fixed instant for each test (the disclosures' time is the read's)
  beforeEach(() => setClock("2026-02-02T15:00:00Z"));

  // Each test asks both apps for tens of pages: on a loaded machine, more than vitest's 30 s.
  it("answers the contract's AttendanceChanges as the resolvers do, in pages of every size, for each scope", { timeout: 300_000 }, async () => {
    for (const token of [w.client.key, wide.key]) {
      for (const first of [500, 3, 1]) {
        const drained = await drainBoth(token, CONTRACT, first);
        expect(drained.edges.length).toBeGreaterThan(4);
      }
    }
    // The other contract operations an integrator sends are not feed pages: the resolvers answer them, and the compiler does not interfere
    const disclosuresRead = await same(operation("integrator.graphql", "ParticipantDisclosures"), { participantId: w.ana }, w.clinician.token);
    expect(disclosuresRead.compiled).toBe(false);
    expect(disclosuresRead.body.data.node.disclosures.totalCount).toBeGreaterThan(0);
  });

  it(
    "answers varied selections as the resolvers do: aliases, fragments, directives, nodes, __typename, fields the scopes keep closed",
    { timeout: 300_000 },
    async () => {
      const queries: Array<[string, Record<string, unknown>]> = [
        [
          `query($first: Int) { __typename feed: attendanceChanges(first: $first) { __typename notice: disclosureNotice pageInfo { __typename hasNextPage hasPreviousPage startCursor endCursor }
          nodes { __typename changeType changedAt attendanceId attendance { __typename id status minutesAttended recordedAt version note recordedBy { id } history { version }
            session { id startsAt endsAt status cancelledAt topic cancelReason attendance { id } group { id name status startsOn endsOn location facilitators { id } program { id name billingCode description } center { id name timezone address } } }
            participant { id externalId preferredName dateOfBirth phone email recoveryStartDate mentors { id } } } } } }`,
          { first: 50 },
        ],
        [
          `query($first: Int, $yes: Boolean!) { attendanceChanges(first: $first) { edges { c: cursor ...E } pageInfo { endCursor @include(if: $yes) hasNextPage @skip(if: $yes) } } }
         fragment E on AttendanceFeedEdge { node { ... on AttendanceFeedChange { changeType attendance { ...A } } type: changeType } }
         fragment A on Attendance { id s1: session { startsAt } s2: session { endsAt group { name } } participant { id } }`,
          { first: 4, yes: true },
        ],
        [`{ attendanceChanges { disclosureNotice } }`, {}],
        [`{ attendanceChanges(first: 2) { nodes { attendanceId } edges { node { changeType } } } }`, {}],
        [`{ attendanceChanges(first: 7) { pageInfo { hasNextPage } nodes { attendance { participant { id } } } } }`, {}],
      ];
      for (const token of [w.client.key, wide.key]) {
        for (const [query, variables] of queries) {
          const answer = await same(query, variables, token);
          expect(answer.body.errors, query).toBeUndefined();
          expect(answer.compiled, query).toBe(true);
        }
      }
      // Names and date of birth: PARTICIPANT_READ opens them
      const names = await same(
        `{ attendanceChanges(first: 20) { nodes { attendance { participant { firstName lastName preferredName dateOfBirth } } } } }`,
        {},
        wide.key,
      );
      expect(names.compiled).toBe(true);
      expect(names.body.data.attendanceChanges.nodes.some((n: any) => n.attendance?.participant.firstName === "Ana")).toBe(true);
      // A closed field that cannot be null (FORBIDDEN), a closed field with arguments, another root field beside the feed, a
      // bad `first` or cursor, a field the compiler does not know: the resolvers answer, the same
      const left: Array<[string, Record<string, unknown>, string]> = [
        [`{ attendanceChanges { nodes { attendance { participant { firstName } } } } }`, {}, w.client.key],
        [`{ attendanceChanges { nodes { attendance { session { attendanceSummary { present } } } } } }`, {}, wide.key],
        [`{ attendanceChanges { nodes { attendance { participant { attendance(first: 1) { totalCount } } } } } }`, {}, wide.key],
        [`{ attendanceChanges { disclosureNotice } node(id: "bm9wZQ") { id } }`, {}, wide.key],
        [`{ a: attendanceChanges { disclosureNotice } b: attendanceChanges(first: 2) { disclosureNotice } }`, {}, wide.key],
        [CONTRACT, { first: 0 }, w.client.key],
        [CONTRACT, { first: 1001 }, w.client.key],
        [CONTRACT, { after: "bm9wZQ" }, w.client.key],
        [`{ attendanceChanges { nodes { attendance { session { group { program { center { name } } } } } } } }`, {}, wide.key],
      ];
      for (const [query, variables, token] of left) {
        const answer = await same(query, variables, token);
        expect(answer.compiled, query).toBe(false);
      }
    },
  );

  it("answers as the resolvers do when consent is revoked, given again and expires in the middle of a drain", { timeout: 300_000 }, async () => {
    const start = await drainBoth(w.client.key, CONTRACT, 2);
    const consents = await org.query(`query($id: ID!) { node(id: $id) { ... on Participant { consents { id recipient { id } } } } }`, { id: w.ana });
    const anaConsent = consents.node.consents.find((c: any) => c.recipient.id === w.client.id).id as string;
    // Revoked: the next pages hold one DELETE per record, the same on both paths
    await org.mutate("revokeConsent", { consentId: anaConsent, reason: "Asked to stop" }, "consent { id }");
    await recordAttendance(org, w.sessions[3], [
      [w.ana, "PRESENT"],
      [w.ben, "LATE"],
    ]);
    const revoked = await drainBoth(w.client.key, CONTRACT, 2, start.cursor);
    expect(revoked.edges.map((e: any) => e.node.changeType).filter((t: string) => t === "DELETE").length).toBeGreaterThan(2);
    // Given again, expiring tomorrow: the records arrive again, then the day after the expiry, the DELETEs
    const again = await server.gql(
      operation("integrator.graphql", "RecordConsent"),
      { input: { participantId: w.ana, recipientId: w.client.id, purpose: "Again", expiresOn: "2026-02-03" } },
      { token: w.clinician.token },
    );
    expect(again.data.recordConsent.userErrors).toEqual([]);
    const given = await drainBoth(w.client.key, CONTRACT, 3, revoked.cursor);
    expect(given.edges.filter((e: any) => e.node.changeType === "UPSERT").length).toBeGreaterThan(2);
    setClock("2026-02-04T05:00:01Z"); // past the end of the 3rd in New York
    // The first read after the expiry closes the consent (its DELETEs commit before its page is read);
    // on PostgreSQL they wait for the cluster-wide horizon, so both paths are then asked once it passed.
    await send(reference.url, CONTRACT, { first: 1, after: given.cursor }, w.client.key, randomUUID());
    const expired = await drainBoth(w.client.key, CONTRACT, 3, given.cursor);
    expect(expired.edges.map((e: any) => e.node.changeType)).toEqual(expect.arrayContaining(["DELETE"]));
  });

  it("given an audit log that cannot be written, a compiled page answers 500 with no data (fail-closed)", { timeout: 120_000 }, async () => {
    await waitForHorizon(server);
    // Given the audit log's table out of reach (whatever statement writes it)
    await server.database.db.execute(sql`alter table audit_events rename to audit_events_away`);
    try {
      // When the client reads a page the compiler answers
      const { result, statements } = await server.database.countQueries(() => send(server.url, CONTRACT, { first: 50 }, wide.key, randomUUID()));
      // Then the page's statement ran, but nothing of it left: an internal error, no record
      expect(statements.some((st) => st.startsWith("with args as"))).toBe(true);
      expect(result.status).toBe(500);
      const body = JSON.parse(result.body);
      expect(body.data ?? null).toBeNull();
      expect(body.errors.map((e: any) => e.extensions?.code)).toEqual(["INTERNAL_SERVER_ERROR"]);
      expect(result.body).not.toContain("MRN-");
      expect(result.body).not.toContain("feed-page");
    } finally {
      await server.database.db.execute(sql`alter table audit_events_away rename to audit_events`);
    }
  });

  it("answers any part of the feed's selection as the resolvers do (generated selections, each scope)", { timeout: 300_000 }, async () => {
    type Tree = Array<string | [string, Tree]>;
    const group: Tree = [
      "__typename",
      "id",
      "name",
      "status",
      "startsOn",
      "endsOn",
      "location",
      ["program", ["id", "name", "billingCode"]],
      ["center", ["id", "name", "timezone"]],
      ["facilitators", ["id"]],
    ];
    const session: Tree = ["id", "startsAt", "endsAt", "status", "cancelledAt", "topic", ["group", group]];
    const participant: Tree = ["id", "externalId", "dateOfBirth", "phone", "preferredName"];
    const record: Tree = [
      "__typename",
      "id",
      "status",
      "minutesAttended",
      "recordedAt",
      "version",
      "note",
      ["session", session],
      ["participant", participant],
      ["recordedBy", ["id"]],
    ];
    const change: Tree = ["changeType", "changedAt", "attendanceId", ["attendance", record]];
    const tree: Tree = [
      "disclosureNotice",
      ["pageInfo", ["hasNextPage", "hasPreviousPage", "startCursor", "endCursor"]],
      ["edges", ["cursor", ["node", change]]],
      ["nodes", change],
    ];
    const pick = (node: Tree, keep: (path: string) => boolean, path = ""): string =>
      node
        .map((f) => {
          const name = typeof f === "string" ? f : f[0];
          if (!keep(`${path}/${name}`)) return "";
          if (typeof f === "string") return name;
          const inner = pick(f[1], keep, `${path}/${name}`);
          return inner ? `${name} { ${inner} }` : "";
        })
        .filter(Boolean)
        .join(" ");
    await fc.assert(
      fc.asyncProperty(fc.integer({ min: 1, max: 2 ** 31 - 1 }), fc.integer({ min: 1, max: 6 }), async (seed, first) => {
        const rng = fc.sample(fc.boolean(), { seed, numRuns: 200 });
        let i = 0;
        const selection = pick(tree, () => rng[i++ % rng.length]) || "disclosureNotice";
        const query = `query($first: Int) { attendanceChanges(first: $first) { ${selection} } }`;
        for (const token of [w.client.key, wide.key]) {
          const answer = await same(query, { first }, token);
          expect(answer.compiled, query).toBe(true);
        }
      }),
      { numRuns: 15 },
    );
  });
});
