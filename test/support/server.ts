// Starts the real HTTP server on an ephemeral port over a test database, and sends GraphQL over
// HTTP with real signed tokens.
import { afterAll, beforeAll, beforeEach } from "vitest";
import { mintToken } from "../../src/auth/tokens.js";
import { loadConfig, type Config } from "../../src/config.js";
import { openDatabase } from "../../src/db/client.js";
import { createApp, type App } from "../../src/server.js";
import { silentLogger, type Logger } from "../../src/logger.js";
import { openTestDatabase, type TestDatabase } from "./database.js";

export const TEST_SECRET = "test-secret-0123456789-0123456789-abcdef";

/**
 * Settings every test server starts with unless its test says otherwise: no rate limits (each test
 * file sends hundreds of requests from one IP; test/hardening.test.ts turns them on) and no load
 * shedding (the test process itself blocks its event loop, building megabyte bodies and running
 * PGlite, which is not the server being overloaded; test/hardening.test.ts turns it on), and no
 * reminders' outbox worker in the background (its statements would count in query-count tests;
 * test/reminders*.test.ts drive it tick by tick, at the clock's instants), nor the engagement worker (test/engagement-kept.test.ts
 * drains it where it wants the kept figures computed), nor the audit sealer (tests seal with
 * `app.auditSealer.sealNow()`, test/support/audit.ts).
 */
export const TEST_DEFAULTS: Record<string, string> = {
  RATE_LIMIT: "off",
  PRESSURE_MAX_EVENT_LOOP_DELAY_MS: "0",
  REMINDERS_WORKER_INTERVAL_MS: "0",
  ENGAGEMENT_WORKER_INTERVAL_MS: "0",
  VIEWER_CACHE_MS: "0",
  AUDIT_SEAL_INTERVAL_MS: "0",
};

export interface GqlResult<T = any> {
  status: number;
  data: T;
  errors?: Array<{ message: string; path?: string[]; extensions?: { code?: string; [k: string]: unknown } }>;
  headers: Headers;
}

export interface TestServer {
  url: string;
  database: TestDatabase;
  config: Config;
  app: App;
  token(subject: string): Promise<string>;
  gql<T = any>(
    query: string,
    variables?: Record<string, unknown>,
    opts?: { token?: string | null; headers?: Record<string, string>; operationName?: string },
  ): Promise<GqlResult<T>>;
  close(): Promise<void>;
}

async function gqlAt<T>(
  url: string,
  query: string,
  variables: Record<string, unknown> | undefined,
  opts: { token?: string | null; headers?: Record<string, string>; operationName?: string } = {},
): Promise<GqlResult<T>> {
  const headers: Record<string, string> = { "content-type": "application/json", ...(opts.headers ?? {}) };
  if (opts.token) headers.authorization = `Bearer ${opts.token}`;
  const res = await fetch(`${url}/graphql`, { method: "POST", headers, body: JSON.stringify({ query, variables, operationName: opts.operationName }) });
  const body = (await res.json()) as { data: T; errors?: GqlResult["errors"] };
  return { status: res.status, data: body.data, errors: body.errors, headers: res.headers };
}

/**
 * `env` adds settings (e.g. REQUEST_TIMEOUT_MS); `onQuery` sees every SQL statement as it is sent.
 * `appRole`: the API connects as a role under row-level security (test/support/database.ts).
 * `connectVia` (PostgreSQL): the server's own pools reach the test database through this URL (a
 * proxy the test cuts); `database` stays a direct connection, for set-up and checks.
 */
export async function startTestServer(
  opts: {
    env?: Record<string, string>;
    onQuery?: (sql: string) => void;
    appRole?: boolean;
    connectVia?: (url: string) => Promise<string>;
    /** The server's logger (default: silent), e.g. one that captures lines for a test to read. */
    logger?: Logger;
  } = {},
): Promise<TestServer> {
  const database = await openTestDatabase({ onQuery: opts.onQuery, appRole: opts.appRole });
  const config = loadConfig({ AUTH_JWT_SECRET: TEST_SECRET, LOG_LEVEL: "error", ...TEST_DEFAULTS, ...opts.env });
  const own =
    opts.connectVia && database.url ? await openDatabase({ databaseUrl: await opts.connectVia(database.url), migrate: false, poolSize: 5 }) : undefined;
  const app = await createApp({ config, database: own ?? database, logger: opts.logger ?? silentLogger });
  const port = await app.listen(0, "127.0.0.1");
  const url = `http://127.0.0.1:${port}`;
  return {
    url,
    database,
    config,
    app,
    token: (subject) => mintToken(config.auth, subject, { expiresIn: "1h" }),
    gql: (query, variables, o) => gqlAt(url, query, variables, o),
    async close() {
      await app.close();
      await own?.close();
      await database.close();
    },
  };
}

export interface Instance {
  url: string;
  app: App;
  gql: TestServer["gql"];
  close(): Promise<void>;
}

/** Another server instance on the same PostgreSQL database, with its own pool (several instances behind a load balancer). */
export async function startAnotherInstance(server: TestServer): Promise<Instance> {
  if (!server.database.url) throw new Error("another instance needs PostgreSQL (TEST_DATABASE_URL)");
  const database = await openDatabase({ databaseUrl: server.database.url, migrate: false, poolSize: 10 });
  const app = await createApp({ config: server.config, database, logger: silentLogger });
  const url = `http://127.0.0.1:${await app.listen(0, "127.0.0.1")}`;
  return {
    url,
    app,
    gql: (query, variables, o) => gqlAt(url, query, variables, o),
    async close() {
      await app.close();
      await database.close();
    },
  };
}

/**
 * One server and database per test file, emptied before each test.
 * Use as `const t = useTestServer();` at the top of a file, then `t.server` inside tests.
 */
export function useTestServer(opts: Parameters<typeof startTestServer>[0] = {}): { server: TestServer } {
  const holder = {} as { server: TestServer };
  beforeAll(async () => {
    holder.server = await startTestServer(opts);
  });
  beforeEach(async () => {
    await holder.server.database.reset();
  });
  afterAll(async () => {
    await holder.server?.close();
  });
  return holder;
}
