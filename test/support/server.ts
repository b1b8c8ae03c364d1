// Starts the real HTTP server on an ephemeral port over a test database, and sends GraphQL over
// HTTP with real signed tokens.
import { afterAll, beforeAll, beforeEach } from "vitest";
import { mintToken } from "../../src/auth/tokens.js";
import { loadConfig, type Config } from "../../src/config.js";
import { createApp, type App } from "../../src/server.js";
import { silentLogger } from "../../src/logger.js";
import { openTestDatabase, type TestDatabase } from "./database.js";

export const TEST_SECRET = "test-secret-0123456789-0123456789-abcdef";

/**
 * Settings every test server starts with unless its test says otherwise: no rate limits (each test
 * file sends hundreds of requests from one IP; test/ratelimit.test.ts turns them on) and no load
 * shedding (the test process itself blocks its event loop, building megabyte bodies and running
 * PGlite, which is not the server being overloaded; test/http.test.ts turns it on).
 */
export const TEST_DEFAULTS: Record<string, string> = { RATE_LIMIT: "off", PRESSURE_MAX_EVENT_LOOP_DELAY_MS: "0" };

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

/** `env` adds settings (e.g. REQUEST_TIMEOUT_MS); `onQuery` sees every SQL statement as it is sent. */
export async function startTestServer(opts: { env?: Record<string, string>; onQuery?: (sql: string) => void } = {}): Promise<TestServer> {
  const database = await openTestDatabase({ onQuery: opts.onQuery });
  const config = loadConfig({ AUTH_JWT_SECRET: TEST_SECRET, LOG_LEVEL: "error", ...TEST_DEFAULTS, ...opts.env });
  const app = await createApp({ config, database, logger: silentLogger });
  const port = await app.listen(0, "127.0.0.1");
  const url = `http://127.0.0.1:${port}`;
  return {
    url,
    database,
    config,
    app,
    token: (subject) => mintToken(config.auth, subject, { expiresIn: "1h" }),
    async gql(query, variables, opts = {}) {
      const headers: Record<string, string> = { "content-type": "application/json", ...(opts.headers ?? {}) };
      if (opts.token) headers.authorization = `Bearer ${opts.token}`;
      const res = await fetch(`${url}/graphql`, { method: "POST", headers, body: JSON.stringify({ query, variables, operationName: opts.operationName }) });
      const body = (await res.json()) as { data: any; errors?: GqlResult["errors"] };
      return { status: res.status, data: body.data, errors: body.errors, headers: res.headers };
    },
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
