// The HTTP server and the real process: /healthz, HTTP-level refusals, masked unexpected errors
// (to clients and in the log), graceful SIGTERM, persistence under DATA_DIR, and the token command.
import { spawn, type ChildProcess } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { request } from "node:http";
import { connect, createServer as createNetServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { count, sql } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { mintToken } from "../src/auth/tokens.js";
import { openDatabase } from "../src/db/client.js";
import { staff } from "../src/db/schema.js";
import { createLogger } from "../src/logger.js";
import { createApp, type App } from "../src/server.js";
import { asOrgAdmin } from "./support/fixtures.js";
import { fakeClockEnv } from "./support/process.js";
import { useTestServer } from "./support/server.js";

const t = useTestServer();

const ROOT = fileURLToPath(new URL("..", import.meta.url));

describe("HTTP endpoints", () => {
  it("answers GET /healthz with 200 and status ok once the database answers", async () => {
    const res = await fetch(`${t.server.url}/healthz`);
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ status: "ok" });
    expect(res.headers.get("x-request-id")).toBeTruthy();
  });

  it("answers an unknown path with 404", async () => {
    const res = await fetch(`${t.server.url}/graphql-nope`);
    expect(res.status).toBe(404);
    expect((await fetch(`${t.server.url}/`, { method: "POST", body: "{}" })).status).toBe(404);
  });

  it("refuses a body that is not JSON with 400", async () => {
    const res = await fetch(`${t.server.url}/graphql`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: '{"query": "{ viewer { id } ',
    });
    expect(res.status).toBe(400);
    const body = (await res.json()) as { errors: Array<{ extensions: { code: string } }> };
    expect(body.errors[0].extensions.code).toBe("BAD_REQUEST");
  });

  it("refuses a body over 1 MB with 413, also when the client is still sending a much larger one", async () => {
    for (const megabytes of [1, 8]) {
      const padding = "x".repeat(megabytes * 1024 * 1024);
      const res = await fetch(`${t.server.url}/graphql`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ query: "{ viewer { id } }", variables: { padding } }),
      });
      expect(res.status, `${megabytes} MB`).toBe(413);
    }
  });

  it("keeps a well-formed x-request-id from the client and replaces a malformed one", async () => {
    const kept = await t.server.gql(`{ viewer { id } }`, {}, { headers: { "x-request-id": "support-ticket-42" } });
    expect(kept.headers.get("x-request-id")).toBe("support-ticket-42");
    const replaced = await t.server.gql(`{ viewer { id } }`, {}, { headers: { "x-request-id": "bad id; drop table" } });
    expect(replaced.headers.get("x-request-id")).toMatch(/^[0-9a-f-]{36}$/);
  });

  it("refuses a request target that is not a URL with 400, and keeps serving", async () => {
    // `//[` parses as an authority with a broken host: new URL() throws on it.
    const { hostname, port } = new URL(t.server.url);
    const answer = await new Promise<string>((resolve, reject) => {
      const socket = connect(Number(port), hostname, () => socket.end("GET //[ HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"));
      let text = "";
      socket.on("data", (chunk: Buffer) => (text += chunk.toString("utf8")));
      socket.on("end", () => resolve(text));
      socket.on("error", reject);
    });
    expect(answer.split("\r\n")[0]).toBe("HTTP/1.1 400 Bad Request");
    expect((await fetch(`${t.server.url}/healthz`)).status).toBe(200);
  });
});

describe("unexpected errors", () => {
  const FORBIDDEN_TEXT = [/select/i, /insert/i, /relation/i, /does not exist/i, /programs_gone/i, /participants_gone/i, /\bfrom\b/i, /stack/i, /\.ts:\d+/];

  /** Renames a table for the duration of `run`, so that queries touching it fail in the database. */
  async function withTableRenamed<T>(table: string, run: () => Promise<T>): Promise<T> {
    const db = t.server.database.db;
    await db.execute(sql.raw(`alter table ${table} rename to ${table}_gone`));
    try {
      return await run();
    } finally {
      await db.execute(sql.raw(`alter table ${table}_gone rename to ${table}`));
    }
  }

  it("masks a database failure as INTERNAL_SERVER_ERROR with the request id, leaking no SQL", async () => {
    // Given a center, and a programs table that has gone missing
    const admin = await asOrgAdmin(t.server);
    const centerId = await admin.createCenter("Broken Clinic");
    const res = await withTableRenamed("programs", async () => {
      // When a client reads the center's programs
      const r = await fetch(`${t.server.url}/graphql`, {
        method: "POST",
        headers: { "content-type": "application/json", authorization: `Bearer ${admin.token}` },
        body: JSON.stringify({ query: `query($id: ID!) { center(id: $id) { name programs(first: 5) { nodes { id name } } } }`, variables: { id: centerId } }),
      });
      return { status: r.status, requestId: r.headers.get("x-request-id"), text: await r.text() };
    });

    // Then the error is masked and carries the request id of the response
    const body = JSON.parse(res.text) as { data: unknown; errors: Array<{ message: string; path: string[]; extensions: Record<string, unknown> }> };
    expect(body.errors).toHaveLength(1);
    const [error] = body.errors;
    expect(error.message).toBe("Internal server error");
    expect(error.extensions).toEqual({ code: "INTERNAL_SERVER_ERROR", requestId: res.requestId });
    expect(res.requestId).toBeTruthy();
    // And nothing in the body names the SQL or the table (the path names the GraphQL field, which
    // is the client's own query, so it is left out of this check)
    expect(error.path).toEqual(["center", "programs"]);
    const rest = JSON.stringify({ ...body, errors: [{ ...error, path: undefined }] });
    for (const pattern of [...FORBIDDEN_TEXT, /programs/i]) expect(rest).not.toMatch(pattern);

    // And the database works again once restored
    const after = await admin.query(`query($id: ID!) { center(id: $id) { programs { totalCount } } }`, { id: centerId });
    expect(after.center.programs.totalCount).toBe(0);
  });

  it("logs the failure with its request id, without SQL or participant names", async () => {
    // Given a second app over the same database whose log is captured
    const lines: string[] = [];
    const app: App = await createApp({ config: t.server.config, database: t.server.database, logger: createLogger("debug", (l) => lines.push(l)) });
    try {
      const port = await app.listen(0, "127.0.0.1");
      const admin = await asOrgAdmin(t.server);
      const centerId = await admin.createCenter("Logged Clinic");
      await admin.mutate("createParticipant", { centerId, firstName: "Zebediah", lastName: "Quillfeather" }, "participant { id }");
      const send = async (query: string, variables: Record<string, unknown>) => {
        const r = await fetch(`http://127.0.0.1:${port}/graphql`, {
          method: "POST",
          headers: { "content-type": "application/json", authorization: `Bearer ${admin.token}` },
          body: JSON.stringify({ query, variables }),
        });
        return { requestId: r.headers.get("x-request-id")!, text: await r.text() };
      };

      // When a search and a registration, both carrying a name, fail in the database
      const responses = await withTableRenamed("participants", async () => [
        await send(`query($id: ID!) { center(id: $id) { participants(search: "Zebediah") { nodes { firstName } } } }`, { id: centerId }),
        await send(`mutation($input: CreateParticipantInput!) { createParticipant(input: $input) { participant { id } userErrors { code } } }`, {
          input: { centerId, firstName: "Zebediah", lastName: "Quillfeather", externalId: "MRN-777" },
        }),
      ]);

      // Then each is masked for the client and logged once, findable by its request id
      for (const r of responses) {
        expect(JSON.parse(r.text).errors[0]).toMatchObject({
          message: "Internal server error",
          extensions: { code: "INTERNAL_SERVER_ERROR", requestId: r.requestId },
        });
        const logged = lines.map((l) => JSON.parse(l)).filter((l) => l.level === "error" && l.requestId === r.requestId);
        expect(logged, lines.join("\n")).toHaveLength(1);
        expect(logged[0]).toMatchObject({ msg: "unexpected error", pgCode: "42P01" });
      }
      // And neither the responses nor the log hold SQL, table names, names or the MRN
      const everything = [...responses.map((r) => r.text), ...lines].join("\n");
      for (const pattern of [...FORBIDDEN_TEXT, /Zebediah/i, /Quillfeather/i, /MRN-777/]) expect(everything).not.toMatch(pattern);
    } finally {
      await app.close();
    }
  });
});

// ---------------------------------------------------------------------------------------------
// The real process: `node --import tsx src/index.ts` on an embedded database under DATA_DIR.

const SECRET = "process-test-secret-0123456789-abcdefghij";
const BOOT_EMAIL = "Boot.Admin@Org.Test";

interface Running {
  child: ChildProcess;
  url: string;
  output: string[];
  exited: Promise<number | null>;
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createNetServer();
    s.once("error", reject);
    s.listen(0, "127.0.0.1", () => {
      const address = s.address();
      const port = typeof address === "object" && address ? address.port : 0;
      s.close(() => resolve(port));
    });
  });
}

/** The environment of a real deployment: no test settings leak into the child (the run's fake clock, if any, does). */
function processEnv(dataDir: string, extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { PATH: process.env.PATH, HOME: process.env.HOME, ...fakeClockEnv(), DATA_DIR: dataDir, AUTH_JWT_SECRET: SECRET, ...extra };
  return env;
}

function run(args: string[], env: NodeJS.ProcessEnv): { child: ChildProcess; output: string[]; stdout: string[]; exited: Promise<number | null> } {
  const child = spawn(process.execPath, ["--import", "tsx", ...args], { cwd: ROOT, env, stdio: ["ignore", "pipe", "pipe"] });
  const output: string[] = [];
  const stdout: string[] = [];
  child.stdout.on("data", (d: Buffer) => {
    output.push(d.toString());
    stdout.push(d.toString());
  });
  child.stderr.on("data", (d: Buffer) => output.push(d.toString()));
  const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));
  return { child, output, stdout, exited };
}

async function startProcess(dataDir: string): Promise<Running> {
  const port = await freePort();
  const { child, output, exited } = run(["src/index.ts"], processEnv(dataDir, { PORT: String(port), HOST: "127.0.0.1", BOOTSTRAP_ADMIN_EMAIL: BOOT_EMAIL }));
  const url = `http://127.0.0.1:${port}`;
  let exitCode: number | null | undefined;
  void exited.then((c) => (exitCode = c));
  const deadline = Date.now() + 90_000;
  for (;;) {
    if (exitCode !== undefined) throw new Error(`server exited with ${exitCode} before it was ready:\n${output.join("")}`);
    if (Date.now() > deadline) throw new Error(`server not ready in time:\n${output.join("")}`);
    const res = await fetch(`${url}/healthz`).catch(() => null);
    if (res?.status === 200) break;
    await new Promise((r) => setTimeout(r, 100));
  }
  return { child, url, output, exited };
}

async function gqlAt(url: string, token: string, query: string, variables: Record<string, unknown> = {}) {
  const res = await fetch(`${url}/graphql`, {
    method: "POST",
    headers: { "content-type": "application/json", authorization: `Bearer ${token}` },
    body: JSON.stringify({ query, variables }),
  });
  return (await res.json()) as { data: any; errors?: unknown[] };
}

/** Sends a request whose body is held back until the server has accepted it (100-continue). */
function heldRequest(url: string, token: string, body: string) {
  const u = new URL(`${url}/graphql`);
  const req = request({
    host: u.hostname,
    port: u.port,
    path: u.pathname,
    method: "POST",
    agent: false,
    headers: { "content-type": "application/json", "content-length": Buffer.byteLength(body), authorization: `Bearer ${token}`, expect: "100-continue" },
  });
  const accepted = new Promise<void>((resolve, reject) => {
    req.once("continue", () => resolve());
    req.once("error", reject);
  });
  const response = new Promise<{ status: number; body: any }>((resolve, reject) => {
    req.once("error", reject);
    req.once("response", (r) => {
      const chunks: Buffer[] = [];
      r.on("data", (c: Buffer) => chunks.push(c));
      r.on("end", () => resolve({ status: r.statusCode ?? 0, body: JSON.parse(Buffer.concat(chunks).toString("utf8")) }));
      r.on("error", reject);
    });
  });
  req.flushHeaders();
  return { accepted, release: () => req.end(body), response };
}

// The process runs on the embedded database in DATA_DIR whatever TEST_DATABASE_URL says (its
// environment is a deployment's, test/support/process.ts), so CI's pass on PostgreSQL would only
// repeat the run on PGlite exactly: it runs there only.
describe.skipIf(Boolean(process.env.TEST_DATABASE_URL))("the real process", () => {
  let dataDir = "";
  beforeAll(() => {
    dataDir = mkdtempSync(join(tmpdir(), "rg-process-"));
  });
  const centerNames = ["Harbor House", "Late Arrival Clinic"];
  let running: Running | undefined;
  let scriptToken = "";

  afterAll(async () => {
    if (running && running.child.exitCode === null) {
      running.child.kill("SIGKILL");
      await running.exited;
    }
    if (dataDir) rmSync(dataDir, { recursive: true, force: true });
  });

  it("starts on an empty DATA_DIR, creates the bootstrap admin, and serves /healthz and GraphQL", async () => {
    // Given a fresh process
    running = await startProcess(dataDir);
    expect(await (await fetch(`${running.url}/healthz`)).json()).toEqual({ status: "ok", database: "pglite" });

    // When the bootstrap admin (authSubject = the email as configured) signs in
    const token = await mintToken({ jwtSecret: SECRET }, BOOT_EMAIL);
    const viewer = await gqlAt(running.url, token, `{ viewer { email isOrgAdmin } }`);

    // Then they are an org admin and may create a center
    expect(viewer).toEqual({ data: { viewer: { email: BOOT_EMAIL, isOrgAdmin: true } } });
    const created = await gqlAt(
      running.url,
      token,
      `mutation($input: CreateCenterInput!) { createCenter(input: $input) { center { id } userErrors { code } } }`,
      {
        input: { name: centerNames[0], timezone: "Europe/Lisbon" },
      },
    );
    expect(created.data.createCenter.userErrors).toEqual([]);
  }, 120_000);

  it("finishes a request in flight on SIGTERM, then exits 0", async () => {
    // Given a request the server has accepted but whose body is still on its way
    const server = running!;
    const token = await mintToken({ jwtSecret: SECRET }, BOOT_EMAIL);
    const held = heldRequest(
      server.url,
      token,
      JSON.stringify({
        query: `mutation($input: CreateCenterInput!) { createCenter(input: $input) { center { name } userErrors { code } } }`,
        variables: { input: { name: centerNames[1], timezone: "UTC" } },
      }),
    );
    await held.accepted;

    // When the process is told to stop, and only then the body arrives
    server.child.kill("SIGTERM");
    held.release();

    // Then the request completes and the process exits cleanly
    const res = await held.response;
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ data: { createCenter: { center: { name: centerNames[1] }, userErrors: [] } } });
    expect(await server.exited, server.output.join("")).toBe(0);
    expect(server.output.join("")).toContain('"msg":"shutting down"');
    // And it no longer listens
    await expect(fetch(`${server.url}/healthz`)).rejects.toThrow();
  }, 60_000);

  it("mints a working development token with the token command while the server is stopped", async () => {
    // When the command runs against the same DATA_DIR, with the email in another case
    const cmd = run(["src/scripts/token.ts", "boot.admin@org.test"], processEnv(dataDir));
    const code = await cmd.exited;

    // Then it prints one JWT (checked against the restarted server in the next test)
    expect(code, cmd.output.join("")).toBe(0);
    scriptToken = cmd.stdout.join("").trim();
    expect(scriptToken).toMatch(/^[\w-]+\.[\w-]+\.[\w-]+$/);
  }, 60_000);

  it("keeps its data across a restart, accepts the command's token, and does not duplicate the bootstrap admin", async () => {
    // Given the process started again on the same DATA_DIR
    running = await startProcess(dataDir);
    const server = running;

    // When the admin signs in with the token the command printed
    const viewer = await gqlAt(server.url, scriptToken, `{ viewer { email isOrgAdmin } }`);
    const centers = await gqlAt(server.url, scriptToken, `{ centers(first: 10) { totalCount nodes { name } } }`);

    // Then the token works and both centers, including the one created during shutdown, are there
    expect(viewer).toEqual({ data: { viewer: { email: BOOT_EMAIL, isOrgAdmin: true } } });
    expect(centers.data.centers.nodes.map((c: { name: string }) => c.name).sort()).toEqual(centerNames);
    expect(server.output.join("")).toContain('"outcome":"exists"');

    server.child.kill("SIGTERM");
    expect(await server.exited, server.output.join("")).toBe(0);

    // And the database holds exactly one staff member with the bootstrap email
    const database = await openDatabase({ dataDir });
    try {
      const rows = await database.db
        .select({ n: count() })
        .from(staff)
        .where(sql`lower(${staff.email}) = lower(${BOOT_EMAIL})`);
      expect(rows).toEqual([{ n: 1 }]);
    } finally {
      await database.close();
    }
  }, 120_000);
});
