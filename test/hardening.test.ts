// The hardened HTTP layer, in production mode where it matters: abuse limits (aliases, depth,
// directives, suggestions, introspection, batching, NUL and lone surrogates), rate limits shared
// by two instances on one database, load shedding, CORS, /readyz and /healthz, /metrics, the
// allow-list, the statement timeout, and request logs that carry no protected data.
import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { sql } from "drizzle-orm";
import { afterAll, afterEach, beforeEach, describe, expect, it } from "vitest";
import { resetClock, setClock } from "../src/common/clock.js";
import { loadConfig } from "../src/config.js";
import { openDatabase } from "../src/db/client.js";
import { createLogger, silentLogger, type Logger } from "../src/logger.js";
import { createApp, type App } from "../src/server.js";
import { asOrgAdmin } from "./support/fixtures.js";
import { operation } from "./support/operations.js";
import { TEST_DEFAULTS, TEST_SECRET, useTestServer } from "./support/server.js";

const t = useTestServer();
const ROOT = fileURLToPath(new URL("..", import.meta.url));
const opened: App[] = [];
afterAll(async () => {
  for (const app of opened) await app.close();
});

/** Another instance over the same database, with its own settings. */
async function instance(env: Record<string, string>, logger: Logger = silentLogger): Promise<{ app: App; url: string }> {
  const config = loadConfig({ AUTH_JWT_SECRET: TEST_SECRET, LOG_LEVEL: "error", ...TEST_DEFAULTS, ...env });
  const app = await createApp({ config, database: t.server.database, logger });
  opened.push(app);
  const port = await app.listen(0, "127.0.0.1");
  return { app, url: `http://127.0.0.1:${port}` };
}

async function post(url: string, body: unknown, headers: Record<string, string> = {}) {
  const res = await fetch(`${url}/graphql`, {
    method: "POST",
    headers: { "content-type": "application/json", ...headers },
    body: typeof body === "string" ? body : JSON.stringify(body),
  });
  const text = await res.text();
  let json: any;
  try {
    json = JSON.parse(text);
  } catch {
    json = undefined;
  }
  return { status: res.status, headers: res.headers, text, json, codes: (json?.errors ?? []).map((e: any) => e.extensions?.code) as string[] };
}

describe("abuse limits in production mode", () => {
  it("refuses the issue's attacks with a clear code and no database work", async () => {
    const prod = await instance({ NODE_ENV: "production" });
    const admin = await asOrgAdmin(t.server);
    const auth = { authorization: `Bearer ${admin.token}` };
    const centerId = await admin.createCenter("Harbor House", "UTC");
    const baseline = await t.server.database.countQueries(() => post(prod.url, { query: "{ nope }" }, auth));

    // 5,000 aliases of centers(first: 100) { totalCount }: past the token limit, refused at parsing
    const aliases = `{ ${Array.from({ length: 5000 }, (_, i) => `a${i}: centers(first: 100) { totalCount }`).join(" ")} }`;
    const flood = await t.server.database.countQueries(() => post(prod.url, { query: aliases }, auth));
    expect(flood.result.status).toBe(400);
    expect(flood.result.codes).toEqual(["GRAPHQL_PARSE_FAILED"]);
    expect(flood.count).toBe(baseline.count);

    // 60 aliases (within the token limit): TOO_MANY_ALIASES
    const sixty = `{ ${Array.from({ length: 60 }, (_, i) => `a${i}: viewer { id }`).join(" ")} }`;
    const many = await t.server.database.countQueries(() => post(prod.url, { query: sixty }, auth));
    expect(many.result.codes).toEqual(["TOO_MANY_ALIASES"]);
    expect(many.count).toBe(baseline.count);

    // A 40-level document cycling center → groups → center
    let inner = "id";
    for (let i = 0; i < 20; i++) inner = `center { groups(first: 1) { nodes { ${inner} } } }`;
    const deep = await t.server.database.countQueries(() =>
      post(prod.url, { query: `query($id: ID!) { node(id: $id) { ... on Group { ${inner} } } }`, variables: { id: centerId } }, auth),
    );
    expect(deep.result.status).toBe(400);
    expect(deep.result.codes).toEqual(["QUERY_TOO_DEEP"]);
    expect(deep.count).toBe(baseline.count);

    // 60 directives (graphql-armor): a validation error that states the limit, not the count found
    const directives = `{ viewer { ${Array.from({ length: 60 }, (_, i) => `f${i}: id @include(if: true)`).join(" ")} } }`;
    const dir = await t.server.database.countQueries(() => post(prod.url, { query: directives }, auth));
    expect(dir.result.status).toBe(400);
    expect(dir.result.codes).toEqual(["GRAPHQL_VALIDATION_FAILED"]);
    expect(dir.result.json.errors[0].message).toBe("A document may hold at most 50 directives");
    expect(dir.result.text).not.toMatch(/60/);
    expect(dir.count).toBe(baseline.count);
  });

  it("gives no field suggestions and no introspection in production, and refuses batches", async () => {
    const prod = await instance({ NODE_ENV: "production" });
    const dev = await instance({});
    const admin = await asOrgAdmin(t.server);
    const auth = { authorization: `Bearer ${admin.token}` };

    const typo = await post(prod.url, { query: "{ viewr { id } }" }, auth);
    expect(typo.status).toBe(400);
    expect(typo.codes).toEqual(["GRAPHQL_VALIDATION_FAILED"]);
    expect(typo.text).not.toMatch(/Did you mean|"viewer"/);
    // (in development the suggestion helps, and shows the check above can fail)
    expect((await post(dev.url, { query: "{ viewr { id } }" }, auth)).json.errors[0].message).toMatch(/Did you mean "viewer"/);

    const introspection = await post(prod.url, { query: "{ __schema { types { name } } }" }, auth);
    expect(introspection.status).toBe(400);
    expect(introspection.text).not.toMatch(/"Query"/);

    const batch = await post(prod.url, [{ query: "{ viewer { id } }" }, { query: "{ viewer { id } }" }], auth);
    expect(batch.status).toBe(400);
    expect(batch.text).not.toMatch(/"viewer"/);
  });

  it("answers a NUL byte or a lone surrogate in a name as a userError on the field, writing nothing", async () => {
    const prod = await instance({ NODE_ENV: "production" });
    const admin = await asOrgAdmin(t.server);
    const before = await t.server.database.fingerprint();
    for (const name of ["Bad\u0000Name", "Bad\uD800Name"]) {
      const res = await post(
        prod.url,
        {
          query: `mutation($input: CreateCenterInput!) { createCenter(input: $input) { center { id } userErrors { field code } } }`,
          variables: { input: { name, timezone: "UTC" } },
        },
        { authorization: `Bearer ${admin.token}` },
      );
      expect(res.status).toBe(200);
      expect(res.json.data.createCenter).toEqual({ center: null, userErrors: [{ field: ["input", "name"], code: "INVALID" }] });
    }
    expect(await t.server.database.fingerprint()).toBe(before);
  });
});

describe("rate limits", () => {
  // Counted in memory per instance, reconciled with PostgreSQL in the background
  // (src/http/ratelimit.ts). Here the reconciles are the test's (RATE_LIMIT_SYNC_MS=0: none in the
  // background), and "now" is frozen mid-window, so that no window ends during a test.
  const MID_WINDOW = "2026-03-02T10:00:30.000Z";
  beforeEach(() => setClock(MID_WINDOW));
  afterEach(() => resetClock());
  const limits = (perActor: string, perIp = "1000") => ({
    RATE_LIMIT: "on",
    RATE_LIMIT_PER_ACTOR: perActor,
    RATE_LIMIT_PER_IP: perIp,
    RATE_LIMIT_WINDOW_MS: "60000",
    RATE_LIMIT_SYNC_MS: "0",
  });
  /** Each instance reconciles in turn (the later ones read what the earlier ones added). */
  const reconcile = async (...apps: Array<{ app: App }>) => {
    for (const i of apps) await i.app.rateLimits.sync();
  };

  it("holds one actor's limit exactly on one instance: 429 RATE_LIMITED with Retry-After to the window's end", async () => {
    const a = await instance(limits("5"));
    const admin = await asOrgAdmin(t.server);
    const viewer = await admin.createStaff("limited@org.test", [{ centerId: await admin.createCenter(), role: "VIEWER" }]);
    const auth = { authorization: `Bearer ${viewer.token}` };
    const answers = [];
    for (let i = 0; i < 6; i++) answers.push(await post(a.url, { query: "{ viewer { id } }" }, auth));
    expect(answers.map((r) => r.status)).toEqual([200, 200, 200, 200, 200, 429]);
    const refused = answers[5];
    expect(refused.codes).toEqual(["RATE_LIMITED"]);
    // (the window is aligned on the minute: 30 s left of it)
    expect(Number(refused.headers.get("retry-after"))).toBe(30);
  });

  it("shares one actor's limit between two instances once they reconcile, and goes over it by at most what the other instance let through meanwhile", async () => {
    const [a, b] = [await instance(limits("5")), await instance(limits("5"))];
    const admin = await asOrgAdmin(t.server);
    const centerId = await admin.createCenter();
    const shared = await admin.createStaff("shared@org.test", [{ centerId, role: "VIEWER" }]);
    const burst = await admin.createStaff("burst@org.test", [{ centerId, role: "VIEWER" }]);

    // Given requests alternating between the instances, each reconciled before the next: five answered, the sixth refused
    const statuses: number[] = [];
    for (let i = 0; i < 6; i++) {
      statuses.push((await post(i % 2 ? b.url : a.url, { query: "{ viewer { id } }" }, { authorization: `Bearer ${shared.token}` })).status);
      await (i % 2 ? reconcile(b, a) : reconcile(a, b));
    }
    expect(statuses).toEqual([200, 200, 200, 200, 200, 429]);
    const refused = await post(a.url, { query: "{ viewer { id } }" }, { authorization: `Bearer ${shared.token}` });
    expect(refused.codes).toEqual(["RATE_LIMITED"]);

    // When another actor sends a burst across both within one reconcile period
    const auth = { authorization: `Bearer ${burst.token}` };
    const answered = [];
    for (let i = 0; i < 14; i++) answered.push((await post(i % 2 ? b.url : a.url, { query: "{ viewer { id } }" }, auth)).status);
    // Then each instance stopped at the limit on its own: 5 over it, what the other one let through (the documented bound, N - 1 = 1)
    expect(answered.filter((s) => s === 200)).toHaveLength(10);
    // And once reconciled, both refuse
    await reconcile(a, b, a);
    expect((await post(a.url, { query: "{ viewer { id } }" }, auth)).status).toBe(429);
    expect((await post(b.url, { query: "{ viewer { id } }" }, auth)).status).toBe(429);
    // Another actor is not affected
    expect((await post(b.url, { query: "{ viewer { id } }" }, { authorization: `Bearer ${admin.token}` })).status).toBe(200);
  });

  it("counts no statement on the request path: a limited request reads the database only for its own work", async () => {
    const a = await instance(limits("100"));
    const admin = await asOrgAdmin(t.server);
    await post(a.url, { query: "{ __typename }" }, { authorization: `Bearer ${admin.token}` });
    const { statements } = await t.server.database.countQueries(() => post(a.url, { query: "{ __typename }" }, { authorization: `Bearer ${admin.token}` }));
    expect(statements.filter((s) => s.includes("rate_limits"))).toEqual([]);
    // and the reconcile is one statement for every key counted
    const reconciled = await t.server.database.countQueries(() => a.app.rateLimits.sync());
    expect(reconciled.statements.filter((s) => s.includes("rate_limits"))).toHaveLength(1);
  });

  it("limits anonymous callers per IP before authentication, also across instances", async () => {
    const [a, b] = [await instance(limits("1000", "3")), await instance(limits("1000", "3"))];
    const statuses: number[] = [];
    for (let i = 0; i < 4; i++) {
      statuses.push((await post(i % 2 ? b.url : a.url, { query: "{ viewer { id } }" })).status);
      await (i % 2 ? reconcile(b, a) : reconcile(a, b));
    }
    // (anonymous, so the API answers 401 UNAUTHENTICATED until the IP is past its limit)
    expect(statuses).toEqual([401, 401, 401, 429]);
    // Health and metrics are never limited
    expect((await fetch(`${a.url}/healthz`)).status).toBe(200);
    expect((await fetch(`${a.url}/metrics`)).status).toBe(200);
  });
});

describe("load shedding", () => {
  it("answers 503 SERVER_OVERLOADED with Retry-After while the event loop lags, and keeps /healthz up", async () => {
    const shed = await instance({ PRESSURE_MAX_EVENT_LOOP_DELAY_MS: "50", PRESSURE_RETRY_AFTER_SECONDS: "7" });
    // Block this process's event loop (the server's) for a while, a few times over a sample
    for (let i = 0; i < 8; i++) {
      const until = Date.now() + 300;
      while (Date.now() < until);
      await new Promise((r) => setTimeout(r, 5));
    }
    const res = await post(shed.url, { query: "{ viewer { id } }" });
    expect(res.status).toBe(503);
    expect(res.codes).toEqual(["SERVER_OVERLOADED"]);
    expect(res.headers.get("retry-after")).toBe("7");
    expect((await fetch(`${shed.url}/healthz`)).status).toBe(200);
  });
});

describe("CORS and headers", () => {
  it("allows no cross-origin caller by default, and the configured origins only", async () => {
    const open = await instance({ CORS_ORIGINS: "https://dashboard.example.org" });
    const preflight = (url: string, origin: string) =>
      fetch(`${url}/graphql`, {
        method: "OPTIONS",
        headers: { origin, "access-control-request-method": "POST", "access-control-request-headers": "content-type,authorization" },
      });
    expect((await preflight(t.server.url, "https://dashboard.example.org")).headers.get("access-control-allow-origin")).toBeNull();
    expect((await preflight(open.url, "https://dashboard.example.org")).headers.get("access-control-allow-origin")).toBe("https://dashboard.example.org");
    expect((await preflight(open.url, "https://evil.example.com")).headers.get("access-control-allow-origin")).toBeNull();
    const res = await fetch(`${t.server.url}/healthz`);
    expect(res.headers.get("x-content-type-options")).toBe("nosniff");
    expect(res.headers.get("strict-transport-security")).toMatch(/max-age/);
  });
});

describe("health, readiness and metrics", () => {
  it("answers /readyz 200 once migrations are applied and 503 when one is missing; /healthz stays 200", async () => {
    const ready = await fetch(`${t.server.url}/readyz`);
    expect(ready.status).toBe(200);
    expect(await ready.json()).toMatchObject({ status: "ok" });
    const db = t.server.database.db;
    const rows = (r: unknown) => (Array.isArray(r) ? r : (r as { rows: unknown[] }).rows) as Array<Record<string, unknown>>;
    const [last] = rows(await db.execute(sql`select id, hash, created_at from drizzle.__drizzle_migrations order by id desc limit 1`));
    await db.execute(sql`delete from drizzle.__drizzle_migrations where id = ${last.id}`);
    try {
      const pending = await fetch(`${t.server.url}/readyz`);
      expect(pending.status).toBe(503);
      expect(await pending.json()).toEqual({ status: "unavailable", reason: "migrations pending" });
      expect((await fetch(`${t.server.url}/healthz`)).status).toBe(200);
    } finally {
      await db.execute(sql`insert into drizzle.__drizzle_migrations (id, hash, created_at) values (${last.id}, ${last.hash}, ${last.created_at})`);
    }
    expect((await fetch(`${t.server.url}/readyz`)).status).toBe(200);
  });

  it("exports requests and latency by operation, errors by code, pool, event-loop lag, process metrics and registered gauges", async () => {
    const admin = await asOrgAdmin(t.server);
    t.server.app.metrics.registerGauge("feed_lag_seconds", "How far the feed is behind", () => 1.5);
    await t.server.gql(operation("admin.graphql", "Viewer"), {}, { token: admin.token });
    await t.server.gql(`{ nope }`, {}, { token: admin.token });
    const res = await fetch(`${t.server.url}/metrics`);
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toMatch(/text\/plain/);
    const text = await res.text();
    expect(text).toMatch(/graphql_requests_total\{operation="Viewer",outcome="ok"\} [1-9]/);
    expect(text).toMatch(/graphql_request_duration_seconds_bucket\{le="[^"]+",operation="Viewer"\}/);
    expect(text).toMatch(/graphql_errors_total\{code="GRAPHQL_VALIDATION_FAILED"\} [1-9]/);
    expect(text).toMatch(/^db_pool_size \d+/m);
    expect(text).toMatch(/^nodejs_eventloop_lag_seconds /m);
    expect(text).toMatch(/^process_resident_memory_bytes /m);
    expect(text).toMatch(/^feed_lag_seconds 1\.5$/m);
    // The integrators' feed: how long the oldest open transaction has held it back, what waits behind it
    expect(text).toMatch(/^feed_oldest_open_transaction_seconds \d/m);
    expect(text).toMatch(/^feed_pending_changes 0$/m);
  });
});

describe("allow-list mode", () => {
  it("answers the manifest's operations and refuses any other document with OPERATION_NOT_ALLOWED, before any database work", async () => {
    const listed = await instance({ ALLOWLIST: "on", ALLOWLIST_MANIFEST: `${ROOT}/operations.manifest.json` });
    const admin = await asOrgAdmin(t.server);
    const auth = { authorization: `Bearer ${admin.token}` };
    const centerId = await admin.createCenter("Listed Clinic", "UTC");
    // Whitespace and comments do not matter: the server compares printed documents
    const dashboard = `# from the dashboard\n${operation("dashboard.graphql", "CenterDashboard").replace(/\n/g, "\n\n  ")}`;
    const ok = await post(listed.url, { query: dashboard, variables: { centerId } }, auth);
    expect(ok.status).toBe(200);
    expect(ok.json.data.center.groups.totalCount).toBe(0);
    const baseline = await t.server.database.countQueries(() => post(listed.url, { query: "{ nope }" }, auth));
    const other = await t.server.database.countQueries(() => post(listed.url, { query: "{ centers(first: 100) { nodes { name } } }" }, auth));
    expect(other.result.status).toBe(400);
    expect(other.result.codes).toEqual(["OPERATION_NOT_ALLOWED"]);
    expect(other.count).toBe(baseline.count);
  });

  it("keeps the committed manifest in step with test/operations (npm run allowlist -- --check)", () => {
    const manifest = JSON.parse(readFileSync(`${ROOT}/operations.manifest.json`, "utf8")) as { operations: Array<{ name: string }> };
    expect(manifest.operations.map((o) => o.name)).toContain("CenterDashboard");
    execFileSync(process.execPath, ["--import", "tsx", "src/scripts/allowlist.ts", "--check"], { cwd: ROOT, stdio: "pipe" });
  });
});

describe("statement timeout", () => {
  it.runIf(Boolean(process.env.TEST_DATABASE_URL))("cancels a statement past STATEMENT_TIMEOUT_MS on PostgreSQL (57014)", async () => {
    const database = await openDatabase({ databaseUrl: t.server.database.url, statementTimeoutMs: 200, migrate: false });
    try {
      await expect(database.db.execute(sql`select pg_sleep(2)`)).rejects.toMatchObject({ cause: { code: "57014" } });
      await database.db.execute(sql`select 1`);
    } finally {
      await database.close();
    }
  });
});

describe("request logs", () => {
  it("log one line per request with ids, operation, outcome and duration, and never names, emails, notes, variables or the token", async () => {
    const lines: string[] = [];
    const logged = await instance(
      { LOG_LEVEL: "debug" },
      createLogger("debug", (l) => lines.push(l)),
    );
    const admin = await asOrgAdmin(t.server);
    const centerId = await admin.createCenter("Quillfeather Recovery House", "UTC");
    const clinician = await admin.createStaff("ottoline.vexworth@org.test", [{ centerId, role: "CLINICIAN" }]);
    const auth = { authorization: `Bearer ${clinician.token}` };
    // A seeded workload through the logged instance: registration, search, a failing typo, a note
    const created = await post(
      logged.url,
      {
        query: operation("care.graphql", "CreateParticipant"),
        variables: { input: { centerId, firstName: "Zebediah", lastName: "Marchbanks", externalId: "MRN-424242" } },
      },
      auth,
    );
    expect(created.status).toBe(200);
    await post(
      logged.url,
      { query: `query($id: ID!) { center(id: $id) { participants(search: "Zebediah") { nodes { lastName } } } }`, variables: { id: centerId } },
      auth,
    );
    await post(logged.url, { query: `{ viewer { name email } }` }, auth);
    await post(
      logged.url,
      { query: `mutation { createCenter(input: { name: "Secret note: relapsed on Tuesday", timezone: "Nowhere/Else" }) { userErrors { code } } }` },
      auth,
    );
    await post(logged.url, "{ not json", auth);

    const records = lines.map((l) => JSON.parse(l) as Record<string, unknown>);
    const requests = records.filter((r) => r.msg === "request");
    expect(requests.length).toBe(5);
    for (const r of requests) {
      expect(r).toMatchObject({ level: "info", route: "/graphql" });
      expect(typeof r.requestId).toBe("string");
      expect(typeof r.durationMs).toBe("number");
      expect(["ok", "partial", "refused", "error"]).toContain(r.outcome);
    }
    // (the actor is the staff row's id, of which the API's global id is an encoding)
    expect(Buffer.from(clinician.id, "base64url").toString()).toBe(`Staff:${requests[0].actorId as string}`);
    expect(requests[0]).toMatchObject({ operation: "CreateParticipant", outcome: "ok", status: 200 });
    expect(requests[4]).toMatchObject({ status: 400, outcome: "refused", codes: ["BAD_REQUEST"] });
    const everything = lines.join("\n");
    for (const secret of [/Zebediah/, /Marchbanks/, /MRN-424242/, /Quillfeather/, /ottoline/i, /vexworth/i, /relapsed/, clinician.token, /Bearer/]) {
      expect(everything).not.toMatch(secret);
    }
  });

  it("given a request sent without operationName, then its line names the root field(s) it asked for, as the audit log does", async () => {
    const lines: string[] = [];
    const logged = await instance(
      { LOG_LEVEL: "info" },
      createLogger("info", (l) => lines.push(l)),
    );
    const admin = await asOrgAdmin(t.server);
    const centerId = await admin.createCenter("North Clinic", "UTC");
    const auth = { authorization: `Bearer ${admin.token}` };

    await post(logged.url, { query: `{ viewer { name } }` }, auth);
    await post(
      logged.url,
      { query: `query($id: ID!) { viewer { name } center(id: $id) { name } again: viewer { email } }`, variables: { id: centerId } },
      auth,
    );
    await post(logged.url, { query: `query Named { viewer { name } }` }, auth);
    await post(logged.url, { query: `{ __typename }` }, auth);

    const requests = lines.map((l) => JSON.parse(l) as Record<string, unknown>).filter((r) => r.msg === "request");
    expect(requests.map((r) => r.operation)).toEqual(["viewer", "viewer,center", "Named", undefined]);
  });
});
