// The HTTP server: POST /graphql (Apollo Server 5 over node:http), GET /healthz. Stateless: every
// request builds its own context from its token and the database.
import { AsyncLocalStorage } from "node:async_hooks";
import { randomUUID } from "node:crypto";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import { ApolloServer, HeaderMap, type BaseContext } from "@apollo/server";
import { ApolloServerPluginLandingPageDisabled } from "@apollo/server/plugin/disabled";
import type { GraphQLFormattedError } from "graphql";
import { Access } from "./auth/access.js";
import { cancellationPlugin, REQUEST_TIMEOUT, watchRequest } from "./common/abort.js";
import { KnownRootOperation, LimitCodes, queryLimitsPlugin } from "./common/cost.js";
import { createTokenVerifier, type TokenVerifier } from "./auth/tokens.js";
import { loadViewer, type Viewer } from "./auth/viewer.js";
import type { Context } from "./common/context.js";
import { ErrorCodes, isDatabaseUnavailable, pgErrorOf, serviceUnavailable } from "./common/errors.js";
import { databaseUnavailablePlugin } from "./common/unavailable.js";
import type { Config } from "./config.js";
import { databaseReadiness, type Database } from "./db/client.js";
import type { DbScope } from "./db/scope.js";
import { serveGraphiQL } from "./graphiql.js";
import { createLoaders } from "./loaders.js";
import { createLogger, type Logger } from "./logger.js";
import { createSchema } from "./schema.js";

const MAX_BODY_BYTES = 1024 * 1024;
const MAX_DISCARD_BYTES = 64 * 1024 * 1024;
const PASS_THROUGH = new Set<string>([
  ErrorCodes.UNAUTHENTICATED,
  ErrorCodes.FORBIDDEN,
  ErrorCodes.BAD_USER_INPUT,
  "GRAPHQL_PARSE_FAILED",
  "GRAPHQL_VALIDATION_FAILED",
  "BAD_REQUEST",
  "OPERATION_RESOLUTION_FAILURE",
  "PERSISTED_QUERY_NOT_FOUND",
  "PERSISTED_QUERY_NOT_SUPPORTED",
  ...Object.values(LimitCodes),
  REQUEST_TIMEOUT,
  ErrorCodes.SERVICE_UNAVAILABLE,
]);

interface RequestContext extends Context, BaseContext {}

export interface App {
  server: Server;
  listen(port: number, host?: string): Promise<number>;
  close(): Promise<void>;
}

class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

/**
 * Reads the body, refusing it past MAX_BODY_BYTES. The rest of a refused body is read and dropped
 * (up to MAX_DISCARD_BYTES) rather than the connection reset, so that the client, still sending,
 * gets the 413 instead of ECONNRESET.
 */
function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let refused = false;
    req.on("data", (chunk: Buffer) => {
      size += chunk.length;
      if (size <= MAX_BODY_BYTES) {
        chunks.push(chunk);
      } else if (!refused) {
        refused = true;
        chunks.length = 0;
        reject(new HttpError(413, "Request body too large"));
      } else if (size > MAX_DISCARD_BYTES) {
        req.destroy();
      }
    });
    req.on("end", () => resolve(Buffer.concat(chunks).toString("utf8")));
    req.on("error", reject);
    req.on("close", () => {
      if (!req.complete) reject(new HttpError(400, "Request body incomplete"));
    });
  });
}

function sendJson(res: ServerResponse, status: number, body: unknown, requestId: string) {
  res.statusCode = status;
  res.setHeader("content-type", "application/json; charset=utf-8");
  res.setHeader("x-request-id", requestId);
  res.end(JSON.stringify(body));
}

export async function createApp(opts: { config: Config; database: Database; logger?: Logger; verifier?: TokenVerifier }): Promise<App> {
  const { config, database } = opts;
  const logger = opts.logger ?? createLogger(config.logLevel);
  const verifier = opts.verifier ?? createTokenVerifier(config.auth);
  const schema = await createSchema();
  // The id of the request being served, wherever Apollo calls back (formatError has no context).
  const currentRequestId = new AsyncLocalStorage<string>();

  const apollo = new ApolloServer<RequestContext>({
    schema,
    introspection: config.introspection,
    includeStacktraceInErrorResponses: false,
    // index.ts owns SIGTERM/SIGINT: it closes the HTTP server, then Apollo, then the database.
    // Apollo's own handler would stop first, and a second stop() waits forever on its barrier.
    stopOnTerminationSignals: false,
    // Query limits (src/common/cost.ts): tokens at parsing, depth/aliases/cost before execution.
    parseOptions: { maxTokens: config.limits.maxQueryTokens },
    validationRules: [KnownRootOperation],
    plugins: [
      // No Apollo landing page (it loads from a CDN): browsers get GraphiQL (src/graphiql.ts) or nothing.
      ApolloServerPluginLandingPageDisabled(),
      queryLimitsPlugin({
        maxDepth: config.limits.maxQueryDepth,
        maxAliases: config.limits.maxQueryAliases,
        maxCost: config.limits.maxQueryCost,
        maxTokens: config.limits.maxQueryTokens,
      }),
      cancellationPlugin(),
      databaseUnavailablePlugin(),
    ],
    formatError(formatted: GraphQLFormattedError, error: unknown): GraphQLFormattedError {
      const code = formatted.extensions?.code as string | undefined;
      if (code && PASS_THROUGH.has(code)) {
        const { stacktrace, ...extensions } = (formatted.extensions ?? {}) as Record<string, unknown>;
        void stacktrace;
        return { ...formatted, extensions };
      }
      const original = (error as { originalError?: unknown })?.originalError ?? error;
      // The database is unreachable: a clear, retryable answer (HTTP 503, Retry-After), nothing logged but the kind.
      if (isDatabaseUnavailable(original)) {
        logger.warn("database unavailable", {
          requestId: currentRequestId.getStore(),
          errorName: (original as Error)?.name,
          code: (original as { code?: string })?.code,
        });
        const { message, extensions } = serviceUnavailable();
        return {
          message,
          path: formatted.path,
          locations: formatted.locations,
          extensions: { code: extensions.code, retryAfterSeconds: extensions.retryAfterSeconds },
        };
      }
      // Unexpected: mask it. The log gets the kind of error, never its message (it may hold SQL
      // and the values bound to it), and the request id the client is given, to find it by.
      const requestId = currentRequestId.getStore();
      logger.error("unexpected error", {
        requestId,
        path: formatted.path?.join("."),
        errorName: (original as Error)?.name ?? typeof original,
        pgCode: pgErrorOf(original)?.code,
      });
      return {
        message: "Internal server error",
        path: formatted.path,
        locations: formatted.locations,
        extensions: { code: ErrorCodes.INTERNAL_SERVER_ERROR, ...(requestId ? { requestId } : {}) },
      };
    },
  });
  await apollo.start();

  async function authenticate(header: string | undefined): Promise<Viewer | null> {
    if (!header) return null;
    const m = /^Bearer\s+(\S+)$/i.exec(header);
    if (!m) return null;
    let subject: string;
    try {
      subject = (await verifier.verify(m[1])).sub;
    } catch {
      return null;
    }
    try {
      return await loadViewer(database.db, subject);
    } catch (err) {
      // Not the caller's fault: SERVICE_UNAVAILABLE rather than UNAUTHENTICATED.
      if (isDatabaseUnavailable(err)) throw serviceUnavailable();
      throw err;
    }
  }

  async function handleGraphQL(req: IncomingMessage, res: ServerResponse, url: URL, requestId: string) {
    let body: unknown = undefined;
    if (req.method === "POST") {
      const raw = await readBody(req);
      const type = req.headers["content-type"] ?? "";
      if (type.includes("application/json")) {
        try {
          body = raw.length ? JSON.parse(raw) : {};
        } catch {
          throw new HttpError(400, "Body is not valid JSON");
        }
      } else {
        body = raw;
      }
    }
    const headers = new HeaderMap();
    for (const [key, value] of Object.entries(req.headers)) {
      if (value !== undefined) headers.set(key, Array.isArray(value) ? value.join(", ") : value);
    }
    const lifetime = watchRequest(req, res, config.limits.requestTimeoutMs);
    let scope: DbScope | undefined;
    const result = await apollo
      .executeHTTPGraphQLRequest({
        httpGraphQLRequest: { method: (req.method ?? "GET").toUpperCase(), headers, search: url.search, body },
        context: async () => {
          const viewer = await authenticate(req.headers.authorization);
          const access = new Access(viewer);
          // Row-level security: the request's statements see only the centers it may reach.
          scope = database.scope(access.reach());
          return { requestId, viewer, access, db: scope.db, loaders: createLoaders(scope.db), lifetime };
        },
      })
      .finally(() => {
        lifetime.dispose();
        void scope?.release();
      });
    for (const [key, value] of result.headers) res.setHeader(key, value);
    res.setHeader("x-request-id", requestId);
    res.statusCode = result.status ?? 200;
    if (result.body.kind === "complete") {
      res.end(result.body.string);
    } else {
      for await (const chunk of result.body.asyncIterator) res.write(chunk);
      res.end();
    }
  }

  async function handleRequest(req: IncomingMessage, res: ServerResponse) {
    const started = performance.now();
    const incomingId = req.headers["x-request-id"];
    const requestId = typeof incomingId === "string" && /^[\w.-]{1,64}$/.test(incomingId) ? incomingId : randomUUID();
    if (!URL.canParse(req.url ?? "/", "http://localhost")) {
      sendJson(res, 400, { errors: [{ message: "Bad request target", extensions: { code: "BAD_REQUEST" } }] }, requestId);
      return;
    }
    const url = new URL(req.url ?? "/", "http://localhost");
    try {
      // GraphiQL for browsers (GET /graphql asking for HTML, /graphiql/*), when enabled.
      if (config.graphiql && serveGraphiQL(req, res, url.pathname)) return;
      if (url.pathname === "/readyz" && (req.method === "GET" || req.method === "HEAD")) {
        const ready = await databaseReadiness(database);
        sendJson(res, ready.ready ? 200 : 503, ready, requestId);
      } else if (url.pathname === "/healthz" && (req.method === "GET" || req.method === "HEAD")) {
        try {
          await database.ping();
          sendJson(res, 200, { status: "ok", database: database.kind }, requestId);
        } catch {
          sendJson(res, 503, { status: "unavailable" }, requestId);
        }
      } else if (url.pathname === "/graphql") {
        await currentRequestId.run(requestId, () => handleGraphQL(req, res, url, requestId));
      } else {
        sendJson(res, 404, { error: "Not found" }, requestId);
      }
    } catch (err) {
      if (err instanceof HttpError) {
        sendJson(res, err.status, { errors: [{ message: err.message, extensions: { code: "BAD_REQUEST" } }] }, requestId);
      } else {
        logger.error("request failed", { requestId, errorName: (err as Error)?.name });
        if (!res.headersSent)
          sendJson(res, 500, { errors: [{ message: "Internal server error", extensions: { code: ErrorCodes.INTERNAL_SERVER_ERROR, requestId } }] }, requestId);
        else res.end();
      }
    } finally {
      logger.debug("request", { requestId, method: req.method, path: url.pathname, status: res.statusCode, ms: Math.round(performance.now() - started) });
    }
  }

  // Node ignores what a listener returns: a rejected promise here would be unhandled, which stops
  // the process (every request in flight with it).
  const server = createServer((req, res) => {
    handleRequest(req, res).catch((err: unknown) => {
      logger.error("request failed", { errorName: (err as Error)?.name });
      if (!res.headersSent)
        sendJson(res, 500, { errors: [{ message: "Internal server error", extensions: { code: ErrorCodes.INTERNAL_SERVER_ERROR } }] }, randomUUID());
      else res.destroy();
    });
  });
  server.keepAliveTimeout = 5_000;

  return {
    server,
    listen(port, host) {
      return new Promise((resolve, reject) => {
        server.once("error", reject);
        server.listen(port, host, () => {
          const address = server.address();
          resolve(typeof address === "object" && address ? address.port : port);
        });
      });
    },
    async close() {
      // Stop accepting, let in-flight requests finish, then stop Apollo.
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeIdleConnections();
      });
      await apollo.stop();
    },
  };
}
