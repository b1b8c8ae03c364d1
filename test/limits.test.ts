// Query limits and cancellation: a document too deep, too costly or with too many aliases is
// refused before any database work (HTTP 400, its own code) while the server keeps answering;
// every client-contract operation stays well inside the limits; a request past its deadline
// resolves no further field and issues no further SQL.
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { createServer, request } from "node:http";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { getIntrospectionQuery, Kind, parse } from "graphql";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { watchRequest } from "../src/common/abort.js";
import { setClock } from "../src/common/clock.js";
import { measureOperation } from "../src/common/cost.js";
import { DEFAULT_QUERY_LIMITS } from "../src/config.js";
import { createSchema } from "../src/schema.js";
import { asOrgAdmin, type Api } from "./support/fixtures.js";
import { operation } from "./support/operations.js";
import { startTestServer, useTestServer, type TestServer } from "./support/server.js";

const t = useTestServer();

/** The shape: node(group) { sessions(first: 100) { nodes { group { sessions(first: 100) … } } } }, `levels` times. */
function nestedSessions(levels: number): string {
  let inner = "id";
  for (let i = 0; i < levels; i++) inner = `sessions(first: 100) { nodes { group { ${inner} } } }`;
  return `query($id: ID!) { node(id: $id) { ... on Group { ${inner} } } }`;
}

function aliasedSearches(n: number): string {
  const fields = Array.from({ length: n }, (_, i) => `a${i}: participants(search: "x${i}", first: 100) { totalCount }`);
  return `query($id: ID!) { center(id: $id) { ${fields.join(" ")} } }`;
}

async function groupWorld() {
  const admin = await asOrgAdmin(t.server);
  const centerId = await admin.createCenter("Harbor House", "UTC");
  const { program } = await admin.mutate("createProgram", { centerId, name: "Relapse prevention" }, "program { id }");
  const { group } = await admin.mutate(
    "createGroup",
    {
      programId: program.id,
      name: "Daily",
      capacity: 5,
      startsOn: "2026-01-05",
      schedule: { daysOfWeek: ["MONDAY", "TUESDAY", "WEDNESDAY"], startTime: "18:00", durationMinutes: 60 },
    },
    "group { id }",
  );
  await admin.mutate("scheduleSessions", { groupId: group.id, from: "2026-01-05", to: "2026-01-31" }, "sessions { id }");
  const viewer = await admin.createStaff("viewer@org.test", [{ centerId, role: "VIEWER" }]);
  return { admin, viewer, centerId, groupId: group.id as string };
}

describe("query limits over HTTP", () => {
  it("refuses the nested sessions→group shape, 3, 5 and 6 levels deep, with a 400 and no database work, even from a VIEWER", async () => {
    const { viewer, groupId } = await groupWorld();
    // The statements of a request refused by validation: the viewer lookup only
    const baseline = await t.server.database.countQueries(() => t.server.gql(`{ nope }`, {}, { token: viewer.token }));
    for (const levels of [3, 5, 6]) {
      const { result: res, count } = await t.server.database.countQueries(() => t.server.gql(nestedSessions(levels), { id: groupId }, { token: viewer.token }));
      expect(res.status, `${levels} levels`).toBe(400);
      expect(res.data, `${levels} levels`).toBeUndefined();
      expect(
        res.errors?.map((e) => e.extensions?.code),
        `${levels} levels`,
      ).toEqual([levels === 3 ? "QUERY_TOO_COSTLY" : "QUERY_TOO_DEEP"]);
      expect(count, `${levels} levels`).toBe(baseline.count);
    }
  });

  it("answers the same shape one level deep (100 sessions a page is within the limit)", async () => {
    const { viewer, groupId } = await groupWorld();
    const res = await t.server.gql(nestedSessions(2), { id: groupId }, { token: viewer.token });
    expect(res.errors).toBeUndefined();
    expect(res.data.node.sessions.nodes.length).toBeGreaterThan(10);
  });

  it("counts page sizes given in variables: the same document is refused with first: 100 and answered with first: 5", async () => {
    const { viewer, groupId } = await groupWorld();
    const doc = `query($id: ID!, $n: Int) { node(id: $id) { ... on Group { sessions(first: $n) { nodes { group { sessions(first: $n) { nodes { group { sessions(first: $n) { nodes { id } } } } } } } } } } }`;
    const big = await t.server.gql(doc, { id: groupId, n: 100 }, { token: viewer.token });
    expect(big.errors?.map((e) => e.extensions?.code)).toEqual(["QUERY_TOO_COSTLY"]);
    const small = await t.server.gql(doc, { id: groupId, n: 5 }, { token: viewer.token });
    expect(small.errors).toBeUndefined();
    // A connection without first/last counts as its default page size (20): 20^3 sessions is too many only with more levels
    const unpaged = `query($id: ID!) { node(id: $id) { ... on Group { sessions { nodes { group { sessions { nodes { group { sessions { nodes { group { sessions { nodes { id } } } } } } } } } } } } } }`;
    const r = await t.server.gql(unpaged, { id: groupId }, { token: viewer.token });
    expect(r.errors?.map((e) => e.extensions?.code)).toEqual(["QUERY_TOO_COSTLY"]);
  });

  it("refuses 10,000 aliased participant searches (too many tokens) and 51 aliases (TOO_MANY_ALIASES), with no database work", async () => {
    const { admin, centerId } = await groupWorld();
    const baseline = await t.server.database.countQueries(() => t.server.gql(`{ nope }`, {}, { token: admin.token }));
    const huge = await t.server.database.countQueries(() => t.server.gql(aliasedSearches(10_000), { id: centerId }, { token: admin.token }));
    expect(huge.result.status).toBe(400);
    expect(huge.result.errors?.map((e) => e.extensions?.code)).toEqual(["GRAPHQL_PARSE_FAILED"]);
    expect(huge.count).toBe(baseline.count);
    const many = await t.server.database.countQueries(() => t.server.gql(aliasedSearches(51), { id: centerId }, { token: admin.token }));
    expect(many.result.status).toBe(400);
    expect(many.result.errors?.map((e) => e.extensions?.code)).toEqual(["TOO_MANY_ALIASES"]);
    expect(many.result.errors?.[0].message).toBe("A document may hold at most 50 aliases");
    expect(many.count).toBe(baseline.count);
    const fine = await t.server.gql(aliasedSearches(50), { id: centerId }, { token: admin.token });
    expect(fine.errors).toBeUndefined();
    expect(fine.data.center.a49.totalCount).toBe(0);
  });

  it("keeps answering /healthz while the costly shapes are sent", async () => {
    const { viewer, groupId, centerId, admin } = await groupWorld();
    const attacks = [
      ...[5, 6, 5, 6].map((levels) => t.server.gql(nestedSessions(levels), { id: groupId }, { token: viewer.token })),
      t.server.gql(aliasedSearches(10_000), { id: centerId }, { token: admin.token }),
    ];
    const health = await fetch(`${t.server.url}/healthz`);
    expect(health.status).toBe(200);
    const answers = await Promise.all(attacks);
    expect(answers.map((a) => a.status)).toEqual([400, 400, 400, 400, 400]);
    const again = await fetch(`${t.server.url}/healthz`);
    expect(again.status).toBe(200);
  });

  it("answers `subscription { … }` over HTTP as a client error that says subscriptions go over WebSocket, not INTERNAL_SERVER_ERROR", async () => {
    const admin = await asOrgAdmin(t.server);
    for (const document of [`subscription { viewer { id } }`, `subscription { rosterChanged(sessionId: "x") { expected } }`]) {
      const res = await t.server.gql(document, {}, { token: admin.token });
      expect(res.status).toBe(400);
      expect(new Set(res.errors?.map((e) => e.extensions?.code))).toEqual(new Set(["GRAPHQL_VALIDATION_FAILED"]));
      expect(res.errors?.map((e) => e.message)).toContain("Subscriptions are served over WebSocket at /graphql (graphql-ws protocol), not over HTTP");
    }
  });
});

describe("query limits and the client contract", () => {
  const here = dirname(fileURLToPath(import.meta.url));
  const files = (dir: string) =>
    existsSync(dir)
      ? readdirSync(dir)
          .filter((f) => f.endsWith(".graphql"))
          .map((f) => join(dir, f))
      : [];
  // The shared contract (with operations still ahead, measured against the fields that exist) when
  // it is at hand, and always the copies the tests send.
  const all = [...files(join(here, "operations")), ...files(process.env.CONTRACT_DIR ?? "/work/shared/contract")];

  it("leaves every operation at least 3x room at its largest page size (first: 100)", async () => {
    const schema = await createSchema();
    expect(all.length).toBeGreaterThanOrEqual(3);
    const over: string[] = [];
    for (const file of all) {
      const doc = parse(readFileSync(file, "utf8"));
      for (const op of doc.definitions) {
        if (op.kind !== Kind.OPERATION_DEFINITION) continue;
        const largest = Object.fromEntries(
          (op.variableDefinitions ?? []).map((v) => [v.variable.name.value, v.variable.name.value === "first" ? 100 : undefined]),
        );
        const m = measureOperation(doc, op, { schema, variables: largest });
        const name = `${file.split("/").slice(-2).join("/")} ${op.name?.value}`;
        if (m.cost * 3 > DEFAULT_QUERY_LIMITS.maxCost) over.push(`${name}: cost ${m.cost}`);
        if (m.depth + 5 > DEFAULT_QUERY_LIMITS.maxDepth) over.push(`${name}: depth ${m.depth}`);
        if (m.aliases > 0) over.push(`${name}: ${m.aliases} aliases`);
      }
    }
    expect(over).toEqual([]);
  });

  it("answers the dashboard operation at 100 groups a page", async () => {
    const { admin, centerId } = await groupWorld();
    const res = await t.server.gql(operation("dashboard.graphql", "CenterDashboard"), { centerId, first: 100 }, { token: admin.token });
    expect(res.errors).toBeUndefined();
    expect(res.data.center.groups.totalCount).toBe(1);
  });

  it("answers GraphiQL's introspection query, and refuses introspection nested to multiply its lists", async () => {
    const admin = await asOrgAdmin(t.server);
    const res = await t.server.gql(
      getIntrospectionQuery({ descriptions: true, specifiedByUrl: true, inputValueDeprecation: true }),
      {},
      { token: admin.token },
    );
    expect(res.errors).toBeUndefined();
    expect(res.data.__schema.queryType.name).toBe("Query");
    const nested = `{ __schema { types { fields { type { fields { type { fields { type { fields { name } } } } } } } } } }`;
    const refused = await t.server.gql(nested, {}, { token: admin.token });
    // (graphql-js's own introspection depth rule refuses it at validation)
    expect(refused.status).toBe(400);
    expect(refused.errors?.map((e) => e.extensions?.code)).toEqual(["GRAPHQL_VALIDATION_FAILED"]);
  });

  it("measures fragments once however often they are spread", () => {
    // 2^30 expansions if fragments were expanded naively
    const frags = Array.from({ length: 30 }, (_, i) => `fragment F${i} on Query { ...F${i + 1} ...F${i + 1} }`).join("\n");
    const doc = parse(`query { ...F0 }\n${frags}\nfragment F30 on Query { viewer { id } }`);
    const op = doc.definitions.find((d) => d.kind === Kind.OPERATION_DEFINITION)!;
    const m = measureOperation(doc, op);
    expect(m.cost).toBe(2 ** 30 * 2);
    expect(m.depth).toBe(2);
  });
});

describe("cancellation", () => {
  let server: TestServer;
  // Moves the clock past the request's deadline as soon as the dashboard's groups are read (by the
  // resolvers, or by the compiled statement when `compiled` is set).
  let trap: { armed: boolean; sprung: boolean; after: string[] } = { armed: false, sprung: false, after: [] };
  let compiled = false;
  const start = new Date("2026-03-02T12:00:00Z");
  beforeAll(async () => {
    server = await startTestServer({
      env: { REQUEST_TIMEOUT_MS: "5000" },
      onQuery(sql) {
        if (trap.sprung) trap.after.push(sql);
        else if (trap.armed && (compiled ? /^(with answer as materialized \()?select json_build_object\(/.test(sql) : /from "groups"/.test(sql))) {
          trap.sprung = true;
          setClock(new Date(start.getTime() + 60_000));
        }
      },
    });
  });
  afterAll(() => server.close());

  /** A center with a group for the dashboard, and the group's facilitator. */
  async function dashboardWorld(centerName: string): Promise<{ admin: Api; centerId: string; facilitatorToken: string }> {
    const admin = await asOrgAdmin(server);
    const centerId = await admin.createCenter(centerName, "UTC");
    const facilitator = await admin.createStaff(`fran-${centerName.split(" ")[0].toLowerCase()}@org.test`, [{ centerId, role: "FACILITATOR" }]);
    const { program } = await admin.mutate("createProgram", { centerId, name: "Relapse prevention" }, "program { id }");
    await admin.mutate(
      "createGroup",
      {
        programId: program.id,
        name: "Daily",
        capacity: 5,
        startsOn: "2026-01-05",
        facilitatorIds: [facilitator.id],
        schedule: { daysOfWeek: ["MONDAY"], startTime: "18:00", durationMinutes: 60 },
      },
      "group { id }",
    );
    return { admin, centerId, facilitatorToken: facilitator.token };
  }

  it("answers REQUEST_TIMEOUT (503) and sends nothing more when the deadline passes during a compiled query's statement", async () => {
    // Given a center, read by an org admin (the dashboard is compiled to one statement)
    const { admin, centerId } = await dashboardWorld("Bay House");
    setClock(start);
    compiled = true;
    try {
      // When the deadline passes while the statement runs
      trap = { armed: true, sprung: false, after: [] };
      const res = await server.gql(operation("dashboard.graphql", "CenterDashboard"), { centerId }, { token: admin.token });
      // Then the answer is one REQUEST_TIMEOUT, and no statement follows (no fallback, no audit
      // append: what the statement read, it recorded itself, as for any answer lost on its way)
      expect(trap.sprung).toBe(true);
      expect(trap.after).toEqual([]);
      expect(res.status).toBe(503);
      expect(res.data ?? undefined).toBeUndefined();
      expect(res.errors?.map((e) => e.extensions?.code)).toEqual(["REQUEST_TIMEOUT"]);
    } finally {
      compiled = false;
      trap = { armed: false, sprung: false, after: [] };
    }
  });

  it("resolves no further field and sends no further SQL once a request is past its deadline (REQUEST_TIMEOUT, 503)", async () => {
    // Given a center with a group, its enrolments and sessions, and the clock at a fixed instant,
    // read by a facilitator's dashboard (not compiled: their access differs per group)
    const { centerId, facilitatorToken } = await dashboardWorld("Harbor House");
    setClock(start);
    const full = await server.database.countQueries(() =>
      server.gql(operation("dashboard.graphql", "CenterDashboard"), { centerId }, { token: facilitatorToken }),
    );
    expect(full.result.errors).toBeUndefined();
    expect(full.statements.some((s) => /from "sessions"/.test(s))).toBe(true);
    // When the deadline passes while the groups are read
    trap = { armed: true, sprung: false, after: [] };
    const res = await server.gql(operation("dashboard.graphql", "CenterDashboard"), { centerId }, { token: facilitatorToken });
    // Then no statement follows, and the answer is one REQUEST_TIMEOUT
    expect(trap.sprung).toBe(true);
    expect(trap.after).toEqual([]);
    expect(res.status).toBe(503);
    expect(res.data).toBeUndefined();
    expect(res.errors?.map((e) => e.extensions?.code)).toEqual(["REQUEST_TIMEOUT"]);
  });

  it("aborts the request's signal when the client disconnects before the answer, and not after a complete answer", async () => {
    const seen: Array<{ aborted: boolean; reason: unknown }> = [];
    let release!: () => void;
    const released = new Promise<void>((r) => (release = r));
    const http = createServer((req, res) => {
      const lifetime = watchRequest(req, res, 0);
      if (req.url === "/slow") {
        lifetime.signal.addEventListener("abort", () => {
          seen.push({ aborted: true, reason: lifetime.signal.reason });
          release();
        });
      } else {
        res.end("ok", () =>
          setImmediate(() => {
            seen.push({ aborted: lifetime.signal.aborted, reason: lifetime.signal.reason });
            lifetime.dispose();
          }),
        );
      }
    });
    await new Promise<void>((r) => http.listen(0, "127.0.0.1", r));
    const port = (http.address() as { port: number }).port;
    try {
      const done = await fetch(`http://127.0.0.1:${port}/done`);
      expect(await done.text()).toBe("ok");
      await new Promise((r) => setTimeout(r, 20));
      const req = request({ host: "127.0.0.1", port, path: "/slow" });
      req.on("error", () => {});
      req.end();
      await new Promise((r) => setTimeout(r, 50));
      req.destroy();
      await released;
      expect(seen).toEqual([
        { aborted: false, reason: undefined },
        { aborted: true, reason: "disconnected" },
      ]);
    } finally {
      http.closeAllConnections();
      await new Promise((r) => http.close(r));
    }
  });
});
