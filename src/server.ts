// The HTTP server on fastify 5 (with pino, its logger) and Apollo Server 5 through
// @as-integrations/fastify. Stateless: every request builds its own context from its token and the
// database; the only state of its own (rate-limit counts, viewers kept a few seconds) is reconciled
// with the database (src/http/ratelimit.ts, src/auth/authenticate.ts).
//   POST/GET /graphql   GraphQL over HTTP (and the GraphiQL page for browsers, src/graphiql.ts)
//   GET /healthz        the process is up (no database call)
//   GET /readyz         the database answers and every migration is applied, else 503
//   GET /metrics        Prometheus metrics (src/observability/metrics.ts)
// Per request, in order: request id; target check; load shedding (@fastify/under-pressure);
// per-IP rate limit; body (bodyLimit, 413); authentication; per-actor rate limit; allow-list;
// GraphQL (query limits, cancellation, masked errors); one log line and metrics at the end.
import { AsyncLocalStorage } from "node:async_hooks";
import { Readable } from "node:stream";
import { readFileSync } from "node:fs";
import { randomUUID } from "node:crypto";
import type { Server } from "node:http";
import { dirname, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { ApolloServer, type ApolloServerPlugin, type BaseContext } from "@apollo/server";
import { ApolloServerPluginCacheControlDisabled, ApolloServerPluginLandingPageDisabled } from "@apollo/server/plugin/disabled";
import { fastifyApolloHandler } from "@as-integrations/fastify";
import { ApolloArmor } from "@escape.tech/graphql-armor";
import fastifyCors from "@fastify/cors";
import fastifyHelmet from "@fastify/helmet";
import fastifyRateLimit from "@fastify/rate-limit";
import fastifyUnderPressure from "@fastify/under-pressure";
import fastifyWebsocket from "@fastify/websocket";
import { sql } from "drizzle-orm";
import Fastify, { LogController, type FastifyBaseLogger, type FastifyInstance, type FastifyReply, type FastifyRequest } from "fastify";
import { GraphQLError, type GraphQLFormattedError } from "graphql";
import { compiledQueriesPlugin } from "./compiled/compiled.plugin.js";
import { auditPlugin, operationNameOf } from "./audit/audit.plugin.js";
import { appendTouches } from "./audit/audit.service.js";
import { loadSigningKey } from "./audit/audit.checkpoint.js";
import { AuditSealer, sealLag } from "./audit/audit.sealer.js";
import { Access, type Touch } from "./auth/access.js";
import { createTokenVerifier, type TokenVerifier } from "./auth/tokens.js";
import { authenticate, ViewerCache } from "./auth/authenticate.js";
import type { Viewer } from "./auth/viewer.js";
import { cancellationPlugin, watchRequest, type RequestLifetime } from "./common/abort.js";
import type { Context } from "./common/context.js";
import { KnownRootOperation, NoSubscriptionOverHttp, queryLimitsPlugin } from "./common/cost.js";
import { Codes, passThroughCodes, RETRY_AFTER_SECONDS, statusOf } from "./common/codes.js";
import { isDatabaseUnavailable, pgErrorOf, serviceUnavailable } from "./common/errors.js";
import { rowsOf } from "./common/sql.js";
import { databaseUnavailablePlugin } from "./common/unavailable.js";
import type { Config } from "./config.js";
import type { Database } from "./db/client.js";
import type { DbScope } from "./db/scope.js";
import { registerGraphiQL, wantsHtml, sendGraphiQLPage } from "./graphiql.js";
import { allowlistPlugin, loadManifest, type Manifest } from "./http/allowlist.js";
import { errorBody } from "./http/codes.js";
import { pruneRateLimits, sharedRateLimits, type SharedRateLimits } from "./http/ratelimit.js";
import { createLoaders } from "./loaders.js";
import { createLogger, type Logger } from "./logger.js";
import { createMetrics, type Metrics } from "./observability/metrics.js";
import { feedLag } from "./feed/feed.service.js";
import { dropFeedPage, feedPagesPlugin, isSplicedBody, spliceFeedPage } from "./feed/feed.plugin.js";
import { exportRoutes } from "./exports/routes.js";
import { baseUrlOf, bodyOf, STALLED_CLIENT_MS, type ExportAuditEvent } from "./exports/http.js";
import { reminderRoutes } from "./reminders/reminder.routes.js";
import { checkInPage } from "./checkin/checkin.page.js";
import { pruneCheckInFailures } from "./checkin/checkin.service.js";
import { clock } from "./common/clock.js";
import { createSenders } from "./reminders/reminder.senders.js";
import { outboxLagSeconds, reminderMetrics, ReminderWorker } from "./reminders/reminder.worker.js";
import { EngagementWorker } from "./engagement/engagement.worker.js";
import { createSchema } from "./schema.js";
import { RosterBus } from "./live/live.bus.js";
import { liveEndpoint } from "./live/live.socket.js";

const REQUEST_ID = /^[\w.-]{1,64}$/;
const migrationsJournal = resolve(dirname(fileURLToPath(import.meta.url)), "../drizzle/meta/_journal.json");

/** What one request leaves for its log line and metrics (shared by reference with its context). */
interface RequestRecord {
  operation?: string;
  codes: string[];
}

interface RequestContext extends Context, BaseContext {
  record: RequestRecord;
}

declare module "fastify" {
  interface FastifyRequest {
    viewer: Viewer | null;
    record: RequestRecord;
    lifetime?: RequestLifetime;
    /** Row-level security: the connection the request's statements run on (src/db/scope.ts). */
    dbScope?: DbScope;
    started: number;
  }
  interface FastifyContextConfig {
    /** Health, readiness and metrics: no rate limit, no load shedding, no authentication. */
    infra?: boolean;
  }
}

export interface App {
  server: Server;
  fastify: FastifyInstance;
  metrics: Metrics;
  /** The reminders' outbox worker of this instance (started by `listen` unless REMINDERS_WORKER_INTERVAL_MS=0). */
  reminders: ReminderWorker;
  /** This instance's rate-limit counts (reconciled in the background; `sync` reconciles now). */
  rateLimits: Pick<SharedRateLimits, "sync">;
  /** The audit log's sealer of this instance (src/audit/audit.sealer.ts; started by `listen` unless AUDIT_SEAL_INTERVAL_MS=0). */
  auditSealer: AuditSealer;
  listen(port: number, host?: string): Promise<number>;
  close(): Promise<void>;
}

export interface AppOptions {
  config: Config;
  database: Database;
  logger?: Logger;
  verifier?: TokenVerifier;
}

/** drizzle's record of applied migrations against the journal shipped with the code. */
async function migrationsApplied(database: Database): Promise<boolean> {
  const journal = JSON.parse(readFileSync(migrationsJournal, "utf8")) as { entries: unknown[] };
  const rows = await rowsOf<{ n: number }>(database.db, sql`select count(*)::int as n from drizzle.__drizzle_migrations`);
  return Number(rows[0]?.n) >= journal.entries.length;
}

/** Bounded label values: a client cannot grow the metrics without end by naming operations. */
function operationLabeler(manifest: Manifest | undefined) {
  const seen = new Set<string>();
  return (name: string | undefined): string => {
    if (!name) return "anonymous";
    if (manifest) return manifest.names.has(name) ? name : "other";
    if (seen.has(name)) return name;
    if (seen.size >= 200 || !/^[A-Za-z_]\w{0,63}$/.test(name)) return "other";
    seen.add(name);
    return name;
  };
}

export async function createApp(opts: AppOptions): Promise<App> {
  const { config, database } = opts;
  const logger = opts.logger ?? createLogger(config.logLevel);
  const verifier = opts.verifier ?? createTokenVerifier(config.auth);
  const schema = await createSchema();
  const metrics = createMetrics({ poolSize: database.kind === "postgres" ? config.databasePoolSize : 1 });
  // How far behind the integrators' feed is (src/feed): the horizon is cluster-wide, so a long
  // transaction anywhere holds every client's feed back until it ends.
  metrics.registerGauge(
    "feed_oldest_open_transaction_seconds",
    "Age of the oldest open transaction, which holds the attendance feed back",
    async () => (await feedLag(database.db)).oldestOpenTransactionSeconds,
  );
  metrics.registerGauge(
    "feed_pending_changes",
    "Committed attendance changes not yet handed out (behind the horizon)",
    async () => (await feedLag(database.db)).pendingChanges,
  );
  // The audit log's sealer (one elected instance chains the entries requests insert unchained) and
  // its lag; checkpoints are signed with AUDIT_SIGNING_KEY, kept outside the database.
  const signingKey = loadSigningKey(config.audit.signingKey);
  if (signingKey) logger.info({ keyId: signingKey.keyId }, "audit checkpoints: signed with Ed25519 key");
  else logger.warn("audit checkpoints: AUDIT_SIGNING_KEY is not set, checkpoints are written unsigned");
  const auditSealer = new AuditSealer({ database, config: config.audit, key: signingKey, logger });
  metrics.registerGauge("audit_unsealed_entries", "Committed audit entries not yet chained by the sealer", async () => (await sealLag(database.db)).unsealed);
  metrics.registerGauge(
    "audit_oldest_unsealed_seconds",
    "How long the oldest audit entry not yet chained has waited",
    async () => (await sealLag(database.db)).oldestSeconds,
  );
  const manifest = config.allowlist.enabled ? loadManifest(config.allowlist.manifestPath) : undefined;
  const labelOf = operationLabeler(manifest);
  // The id of the request being served, wherever Apollo calls back (formatError has no context).
  const currentRequestId = new AsyncLocalStorage<string>();

  // Abuse limits from graphql-armor: directives per document, and no "Did you mean …?" (which
  // would spell out the schema) unless configured. Depth, aliases and cost stay ours
  // (src/common/cost.ts): armor's cost model cannot multiply by a connection's page size; tokens
  // are bounded by the parser itself (parseOptions.maxTokens), before any tree is built.
  const armor = new ApolloArmor({
    blockFieldSuggestion: { enabled: !config.fieldSuggestions, mask: "" },
    maxDirectives: {
      enabled: true,
      n: config.limits.maxQueryDirectives,
      exposeLimits: false,
      propagateOnRejection: false,
      onReject: [
        (ctx) =>
          ctx?.reportError(
            // (Apollo answers every validation error as GRAPHQL_VALIDATION_FAILED, HTTP 400)
            new GraphQLError(`A document may hold at most ${config.limits.maxQueryDirectives} directives`),
          ),
      ],
    },
    maxTokens: { enabled: false },
    costLimit: { enabled: false },
    maxAliases: { enabled: false },
    maxDepth: { enabled: false },
  }).protect();

  const observe: ApolloServerPlugin<RequestContext> = {
    requestDidStart() {
      return Promise.resolve({
        didResolveOperation({ contextValue, operationName, operation }) {
          // Named as the audit log names it: the operationName, else the root field(s).
          contextValue.record.operation = operationNameOf(operationName, operation) ?? undefined;
          return Promise.resolve();
        },
        willSendResponse({ contextValue, response }) {
          if (response.body.kind === "single") {
            for (const e of response.body.singleResult.errors ?? [])
              contextValue.record.codes.push(typeof e.extensions?.code === "string" ? e.extensions.code : "UNKNOWN");
          }
          return Promise.resolve();
        },
      });
    },
  };

  const apollo = new ApolloServer<RequestContext>({
    schema,
    introspection: config.introspection,
    includeStacktraceInErrorResponses: false,
    allowBatchedHttpRequests: false,
    // index.ts owns SIGTERM/SIGINT: it closes the HTTP server, then Apollo, then the database.
    // Apollo's own handler would stop first, and a second stop() waits forever on its barrier.
    stopOnTerminationSignals: false,
    // Query limits (src/common/cost.ts): tokens at parsing, depth/aliases/cost before execution.
    parseOptions: { maxTokens: config.limits.maxQueryTokens },
    validationRules: [KnownRootOperation, NoSubscriptionOverHttp, ...armor.validationRules],
    plugins: [
      // No Apollo landing page (it loads from a CDN): browsers get GraphiQL (src/graphiql.ts) or nothing.
      ApolloServerPluginLandingPageDisabled(),
      // No HTTP caching of answers (they are per viewer), so no cache-control plugin: it would
      // wrap every field resolver to collect hints nobody reads (~7% of the dashboard's CPU).
      ApolloServerPluginCacheControlDisabled(),
      ...(armor.plugins as ApolloServerPlugin<RequestContext>[]),
      ...(manifest ? [allowlistPlugin(manifest)] : []),
      queryLimitsPlugin({
        maxDepth: config.limits.maxQueryDepth,
        maxAliases: config.limits.maxQueryAliases,
        maxCost: config.limits.maxQueryCost,
        maxTokens: config.limits.maxQueryTokens,
      }),
      cancellationPlugin(),
      // The request's audit entries, written once at its end (src/audit/).
      auditPlugin(logger),
      // Queries the compiler knows, answered in one SQL statement instead of field by field (src/compiled/).
      compiledQueriesPlugin({ enabled: config.compiledQueries, logger }),
      // Pages of the integrators' feed, one statement each, their JSON text spliced into the answer (src/feed/).
      feedPagesPlugin({ enabled: config.compiledQueries, logger }),
      // While the database is unreachable: HTTP 503 with Retry-After (src/common/unavailable.ts).
      databaseUnavailablePlugin(),
      observe,
    ],
    formatError(formatted: GraphQLFormattedError, error: unknown): GraphQLFormattedError {
      const code = formatted.extensions?.code as string | undefined;
      if (code && passThroughCodes.has(code)) {
        const { stacktrace, ...extensions } = (formatted.extensions ?? {}) as Record<string, unknown>;
        void stacktrace;
        return { ...formatted, extensions };
      }
      const original = (error as { originalError?: unknown })?.originalError ?? error;
      // The database is unreachable: a clear, retryable answer (HTTP 503, Retry-After), nothing logged but the kind.
      if (isDatabaseUnavailable(original)) {
        logger.warn(
          { requestId: currentRequestId.getStore(), errorName: (original as Error)?.name, code: (original as { code?: string })?.code },
          "database unavailable",
        );
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
      logger.error(
        { requestId, path: formatted.path?.join("."), errorName: (original as Error)?.name ?? typeof original, pgCode: pgErrorOf(original)?.code },
        "unexpected error",
      );
      return {
        message: "Internal server error",
        path: formatted.path,
        locations: formatted.locations,
        extensions: { code: Codes.INTERNAL_SERVER_ERROR, ...(requestId ? { requestId } : {}) },
      };
    },
  });
  await apollo.start();

  // Typed as fastify's base logger so that the instance has fastify's default type parameters.
  const baseLogger: FastifyBaseLogger = logger;
  const app = Fastify({
    loggerInstance: baseLogger,
    // One line per request of our own (onResponse), without URL or headers: a GET's URL holds
    // the query and its variables.
    logController: new LogController({ disableRequestLogging: true, requestIdLogLabel: "requestId" }),
    requestIdHeader: false,
    genReqId(req) {
      const incoming = req.headers["x-request-id"];
      return typeof incoming === "string" && REQUEST_ID.test(incoming) ? incoming : randomUUID();
    },
    bodyLimit: config.limits.maxBodyBytes,
    keepAliveTimeout: 5_000,
    trustProxy: config.trustProxy,
    return503OnClosing: true,
  });
  app.decorateRequest("viewer", null);
  app.decorateRequest("record", null as unknown as RequestRecord);
  app.decorateRequest("lifetime", undefined);
  app.decorateRequest("started", 0);

  // JSON as before the move to fastify: JSON.parse, an empty body as {} (fastify's own parser
  // would strip a byte-order mark and refuse an empty body differently). Apollo reads only the
  // fields it knows, so a "__proto__" key is an own property that nothing merges.
  app.removeContentTypeParser("application/json");
  app.addContentTypeParser("application/json", { parseAs: "string" }, (_req, body, done) => {
    try {
      done(null, (body as string).length ? (JSON.parse(body as string) as unknown) : {});
    } catch {
      done(Object.assign(new Error("Body is not valid JSON"), { statusCode: 400, code: "FST_ERR_CTP_INVALID_JSON_BODY" }), undefined);
    }
  });
  // Any other content type reaches Apollo as text, which answers it as GraphQL over HTTP does.
  app.addContentTypeParser("*", { parseAs: "string" }, (_req, body, done) => done(null, body));

  app.addHook("onRequest", async (request, reply) => {
    request.started = performance.now();
    request.record = { codes: [] };
    metrics.inFlight.inc();
    void reply.header("x-request-id", request.id);
    if (!URL.canParse(request.url, "http://localhost")) {
      request.record.codes.push(Codes.BAD_REQUEST);
      return reply.code(statusOf(Codes.BAD_REQUEST)).send(errorBody(Codes.BAD_REQUEST, "Bad request target"));
    }
  });

  app.addHook("onResponse", async (request, reply) => {
    metrics.inFlight.dec();
    const seconds = (performance.now() - request.started) / 1000;
    const route = request.routeOptions.url ?? "unknown";
    metrics.http.inc({ route, status: String(reply.statusCode) });
    const codes = request.record?.codes ?? [];
    for (const code of codes) metrics.errors.inc({ code });
    const outcome = reply.statusCode >= 500 ? "error" : reply.statusCode >= 400 ? "refused" : codes.length ? "partial" : "ok";
    if (route === "/graphql") {
      const operation = labelOf(request.record?.operation);
      metrics.requests.inc({ operation, outcome });
      metrics.duration.observe({ operation }, seconds);
    }
    const line = {
      requestId: request.id,
      actorId: actorIdOf(request.viewer),
      method: request.method,
      route,
      operation: request.record?.operation,
      status: reply.statusCode,
      outcome,
      codes: codes.length ? [...new Set(codes)] : undefined,
      durationMs: Math.round(seconds * 1000),
    };
    if (request.routeOptions.config?.infra) logger.debug(line, "request");
    else logger.info(line, "request");
  });

  app.setNotFoundHandler((request, reply) => {
    request.record?.codes.push(Codes.NOT_FOUND);
    return reply.code(statusOf(Codes.NOT_FOUND)).send(errorBody(Codes.NOT_FOUND, "Not found"));
  });

  app.setErrorHandler((err: Error & { statusCode?: number; code?: string }, request, reply) => {
    const status = err.statusCode && err.statusCode >= 400 ? err.statusCode : 500;
    if (status === 413) {
      request.record?.codes.push(Codes.PAYLOAD_TOO_LARGE);
      return reply.code(statusOf(Codes.PAYLOAD_TOO_LARGE)).send(errorBody(Codes.PAYLOAD_TOO_LARGE, "Request body too large"));
    }
    if (status === 503 && reply.getHeader("retry-after")) {
      request.record?.codes.push(Codes.SERVER_OVERLOADED);
      return reply.code(statusOf(Codes.SERVER_OVERLOADED)).send(errorBody(Codes.SERVER_OVERLOADED, "The server is overloaded; retry later"));
    }
    if (status < 500) {
      request.record?.codes.push(Codes.BAD_REQUEST);
      const message = err.code === "FST_ERR_CTP_INVALID_JSON_BODY" || err instanceof SyntaxError ? "Body is not valid JSON" : "Bad request";
      return reply.code(status).send(errorBody(Codes.BAD_REQUEST, message));
    }
    // The database is unreachable (authentication, an export): retryable, 503 with Retry-After.
    if ((err as { extensions?: { code?: string } }).extensions?.code === Codes.SERVICE_UNAVAILABLE || isDatabaseUnavailable(err)) {
      request.record?.codes.push(Codes.SERVICE_UNAVAILABLE);
      const { message } = serviceUnavailable();
      return reply.code(statusOf(Codes.SERVICE_UNAVAILABLE)).header("retry-after", RETRY_AFTER_SECONDS).send(errorBody(Codes.SERVICE_UNAVAILABLE, message));
    }
    // Never the message: it may hold SQL.
    request.record?.codes.push(Codes.INTERNAL_SERVER_ERROR);
    logger.error({ requestId: request.id, errorName: err.name, pgCode: pgErrorOf(err)?.code }, "request failed");
    return reply.code(statusOf(Codes.INTERNAL_SERVER_ERROR)).send(errorBody(Codes.INTERNAL_SERVER_ERROR, "Internal server error", { requestId: request.id }));
  });

  // Shed load before any work: past the event-loop delay or heap bound, 503 with Retry-After.
  await app.register(fastifyUnderPressure, {
    maxEventLoopDelay: config.pressure.maxEventLoopDelayMs,
    maxHeapUsedBytes: config.pressure.maxHeapUsedBytes,
    retryAfter: config.pressure.retryAfterSeconds,
    // Mean delay over a second: one long pause (start-up, a large parse) does not trip it alone.
    sampleInterval: 1000,
    // Returning a body sends it; returning nothing lets the request through (infra routes).
    pressureHandler: ((request: FastifyRequest, reply: FastifyReply) => {
      if (request.routeOptions.config?.infra) return undefined;
      request.record?.codes.push(Codes.SERVER_OVERLOADED);
      void reply.code(statusOf(Codes.SERVER_OVERLOADED)).header("retry-after", config.pressure.retryAfterSeconds);
      return errorBody(Codes.SERVER_OVERLOADED, "The server is overloaded; retry later");
    }) as unknown as (request: FastifyRequest, reply: FastifyReply) => void,
  });
  await app.register(fastifyHelmet, {
    global: true,
    // A JSON API: no page of ours runs script but GraphiQL, which sets its own policy.
    contentSecurityPolicy: false,
    crossOriginEmbedderPolicy: false,
  });
  if (config.corsOrigins.length > 0) {
    await app.register(fastifyCors, {
      origin: config.corsOrigins,
      methods: ["GET", "POST", "OPTIONS"],
      allowedHeaders: ["content-type", "authorization", "x-request-id", "apollo-require-preflight"],
      exposedHeaders: ["x-request-id", "retry-after"],
      maxAge: 600,
    });
  }

  // Rate limits (src/http/ratelimit.ts): counted in memory, reconciled with the database in the
  // background (one statement per instance every RATE_LIMIT_SYNC_MS), shared by every instance.
  const rateLimits = sharedRateLimits(database.db);
  if (config.rateLimit.enabled) rateLimits.start(config.rateLimit.syncMs);
  await app.register(fastifyRateLimit, { global: false, store: rateLimits.Store, skipOnError: true });
  const perIp = app.createRateLimit({ max: config.rateLimit.perIp, timeWindow: config.rateLimit.windowMs, keyGenerator: (r) => `ip:${r.ip}` });
  const perActor = app.createRateLimit({
    max: config.rateLimit.perActor,
    timeWindow: config.rateLimit.windowMs,
    keyGenerator: (r) => `actor:${actorIdOf(r.viewer)}`,
  });
  async function limited(result: Awaited<ReturnType<typeof perIp>>, request: FastifyRequest, reply: FastifyReply): Promise<boolean> {
    if (result.isAllowed || !result.isExceeded) return false;
    const seconds = Math.max(1, result.ttlInSeconds);
    request.record.codes.push(Codes.RATE_LIMITED);
    await reply
      .code(statusOf(Codes.RATE_LIMITED))
      .header("retry-after", seconds)
      .send(errorBody(Codes.RATE_LIMITED, "Too many requests; retry later", { retryAfter: seconds }));
    return true;
  }
  if (config.rateLimit.enabled) {
    app.addHook("onRequest", async (request, reply) => {
      if (request.routeOptions.config?.infra || reply.sent) return;
      await limited(await perIp(request), request, reply);
    });
  }

  // Staff viewers kept for a few seconds, dropped on NOTIFY (src/auth/authenticate.ts).
  const viewers = new ViewerCache(config.viewerCacheMs);
  await viewers.start(database);

  // Authentication, then the actor's own limit, once the body is in (routes that are not infra).
  app.addHook("preHandler", async (request, reply) => {
    if (request.routeOptions.config?.infra) return;
    request.viewer = await authenticate(database.db, verifier, request.headers.authorization, viewers);
    if (config.rateLimit.enabled && request.viewer) await limited(await perActor(request), request, reply);
  });

  app.get("/healthz", { config: { infra: true } }, () => ({ status: "ok", database: database.kind }));
  app.get("/readyz", { config: { infra: true } }, async (request, reply) => {
    try {
      // Bounded: a database that does not answer (a cut network) must not hold the probe.
      await database.ping(2_000);
    } catch (err) {
      logger.warn({ requestId: request.id, errorName: (err as Error)?.name, pgCode: pgErrorOf(err)?.code }, "readiness: database unreachable");
      return reply.code(503).send({ status: "unavailable", reason: "database unreachable" });
    }
    try {
      if (!(await migrationsApplied(database))) return reply.code(503).send({ status: "unavailable", reason: "migrations pending" });
    } catch (err) {
      logger.warn({ requestId: request.id, errorName: (err as Error)?.name, pgCode: pgErrorOf(err)?.code }, "readiness: migrations unknown");
      return reply.code(503).send({ status: "unavailable", reason: "migrations unknown" });
    }
    return { status: "ok", database: database.kind };
  });
  app.get("/metrics", { config: { infra: true } }, async (_request, reply) => {
    void reply.header("content-type", metrics.registry.contentType);
    return metrics.registry.metrics();
  });

  if (config.graphiql) await registerGraphiQL(app);

  /** A request's context: its viewer, the access policy, its database scope (row-level security) and fresh loaders. */
  const contextFor = (viewer: Viewer | null, requestId: string) => {
    const access = new Access(viewer);
    // Row-level security: the request's statements see only the centers it may reach.
    const scope = database.scope(access.reach());
    return { scope, context: { requestId, viewer, access, db: scope.db, loaders: createLoaders(scope.db) } };
  };
  // Self check-in (src/checkin): off in production without its secret, and the log says so.
  if (!config.checkIn.secret) logger.warn({ variable: "CHECKIN_SECRET" }, "self check-in is off: CHECKIN_SECRET is not set");
  else if (config.checkIn.developmentSecret) logger.info({ variable: "CHECKIN_SECRET" }, "self check-in uses the development secret (set CHECKIN_SECRET)");
  // Links (check-in, unsubscribe) are built on PUBLIC_URL, else this server's own address.
  let ownUrl: string | undefined;
  const publicUrl = (request: FastifyRequest) => config.reminders.publicUrl ?? ownUrl ?? baseUrlOf(request.raw);
  checkInPage(app, { db: database.db, config: config.checkIn });

  const graphql = fastifyApolloHandler<RequestContext>(apollo, {
    context: (request) => {
      const { scope, context } = contextFor(request.viewer, request.id);
      request.dbScope = scope;
      return Promise.resolve({
        ...context,
        scope,
        clientAddress: request.ip,
        lifetime: request.lifetime,
        checkIn: { config: config.checkIn, publicUrl: publicUrl(request), clientAddress: request.ip },
        record: request.record,
      });
    },
  });
  async function graphqlHandler(this: FastifyInstance, request: FastifyRequest, reply: FastifyReply) {
    if (config.graphiql && wantsHtml(request)) return sendGraphiQLPage(reply);
    request.lifetime = watchRequest(request.raw, reply.raw, config.limits.requestTimeoutMs);
    try {
      const body = spliceFeedPage(request.id, await currentRequestId.run(request.id, () => graphql.call(this, request as never, reply as never)));
      if (!isSplicedBody(body)) return body;
      // A feed page: its parts written one after the other (each encoded straight to the socket), not joined into one string.
      return reply.header("content-length", body.bytes).send(Readable.from(body.parts, { objectMode: true }));
    } finally {
      dropFeedPage(request.id);
      request.lifetime.dispose();
      void request.dbScope?.release();
    }
  }

  // The live roster (src/live, docs/live.md): subscriptions over WebSocket on the same path, graphql-ws
  // protocol, with the same schema, validation, limits and field wrapper; events from every
  // instance through PostgreSQL LISTEN/NOTIFY.
  const bus = new RosterBus(database, logger);
  await bus.start();
  const live = liveEndpoint({
    schema,
    db: database.db,
    verifier,
    bus,
    config: config.live,
    limits: {
      maxDepth: config.limits.maxQueryDepth,
      maxAliases: config.limits.maxQueryAliases,
      maxCost: config.limits.maxQueryCost,
      maxTokens: config.limits.maxQueryTokens,
    },
    validationRules: [KnownRootOperation, ...armor.validationRules],
    manifest,
    contextFor: (viewer, requestId) => {
      const { scope, context } = contextFor(viewer, requestId);
      return { context, release: () => scope.release() };
    },
    logger,
    metrics,
  });
  // The socket's frames are bounded like request bodies; the endpoint closes sockets itself on shutdown.
  await app.register(fastifyWebsocket, { options: { maxPayload: config.limits.maxBodyBytes }, preClose: (done) => done() });
  app.route({
    method: "GET",
    url: "/graphql",
    handler: graphqlHandler,
    wsHandler(socket, request) {
      // The upgrade hands the connection over (fastify's onResponse does not run): its request is done here.
      metrics.inFlight.dec();
      metrics.http.inc({ route: "/graphql", status: "101" });
      logger.info(
        {
          requestId: request.id,
          method: "GET",
          route: "/graphql",
          status: 101,
          outcome: "upgraded",
          durationMs: Math.round(performance.now() - request.started),
        },
        "request",
      );
      return live.handler.call(this, socket, request);
    },
  });
  app.route({ method: "POST", url: "/graphql", handler: graphqlHandler });

  // The exports (src/exports): attendance as CSV and FHIR R4 Encounters, streamed, with the same
  // request ids, limits, authentication and log line as /graphql.
  // Each is audited once per request as EXPORT (refusals DENIED, a failure ERROR), through the
  // audit log's one writer.
  const auditExport = (viewer: Viewer | null, clientAddress: string) => async (event: ExportAuditEvent) => {
    const action = event.outcome === "DENIED" ? "DENIED" : "EXPORT";
    const touches = (event.centerIds.length ? event.centerIds : [null]).map((centerId) => ({
      action,
      outcome: event.outcome,
      resourceType: event.resourceType ?? "Attendance",
      resourceId: null,
      centerId,
      participantIds: event.participantIdsByCenter?.[centerId ?? ""] ?? (event.centerIds.length > 1 ? [] : event.participantIds),
    })) satisfies Touch[];
    try {
      await appendTouches(database.db, touches, { viewer, operationName: event.operation, requestId: event.requestId, clientAddress });
    } catch (err) {
      logger.error({ requestId: event.requestId, errorName: (err as Error)?.name, pgCode: pgErrorOf(err)?.code }, "audit write failed");
      // Records not yet sent are not sent unrecorded (the handler answers 500 or ends the stream).
      if (event.outcome !== "DENIED") throw err;
    }
  };
  for (const [path, handler] of exportRoutes) {
    app.get(path, async (request, reply) => {
      const search = request.raw.url?.split("?")[1] ?? "";
      const answer = await handler({
        query: new URLSearchParams(search),
        access: new Access(request.viewer),
        db: database.db,
        requestId: request.id,
        baseUrl: baseUrlOf(request.raw),
        audit: auditExport(request.viewer, request.ip),
      });
      void reply.code(answer.status).headers(answer.headers);
      if (typeof answer.body !== "string") reply.raw.setTimeout(STALLED_CLIENT_MS, () => reply.raw.destroy());
      return reply.send(bodyOf(answer));
    });
  }

  // Session reminders (src/reminders): the SMS provider's webhooks and the email's one-click
  // unsubscribe, and the outbox worker every instance runs (on the system handle: it serves every
  // center, as the worker of the one embedded process does).
  const remindersMetrics = reminderMetrics(metrics.registry);
  metrics.registerGauge("reminders_outbox_lag_seconds", "How long the oldest due reminder has waited past its time", () => outboxLagSeconds(database.db));
  reminderRoutes(app, { db: database.db, config: config.reminders, logger, metrics: remindersMetrics, ownUrl: baseUrlOf });
  const reminders = new ReminderWorker({
    db: database.db,
    embedded: database.kind === "pglite",
    config: config.reminders,
    senders: createSenders(config.reminders),
    logger,
    metrics: remindersMetrics,
    publicUrl: () => config.reminders.publicUrl ?? ownUrl ?? `http://localhost:${config.port}`,
    checkInSecret: config.checkIn.secret,
  });

  // The kept engagement figures (src/engagement): every instance runs a worker, on the system handle.
  const engagement = new EngagementWorker({ db: database.db, logger, intervalMs: config.engagementWorkerIntervalMs });

  // Counters of windows long past are dropped now and then (any instance may do it).
  const prune = setInterval(() => void pruneRateLimits(database.db, 10 * config.rateLimit.windowMs + 3_600_000).catch(() => {}), 600_000);
  prune.unref();
  // The same for self check-in's failure counters (src/checkin): windows ended an hour ago and more.
  const pruneCheckIns = setInterval(() => {
    const before = new Date(clock.now().getTime() - config.checkIn.failureWindowSeconds * 1000 - 3_600_000);
    void pruneCheckInFailures(database.db, before).catch(() => {});
  }, 600_000);
  pruneCheckIns.unref();

  await app.ready();
  return {
    server: app.server,
    fastify: app,
    metrics,
    reminders,
    rateLimits,
    auditSealer,
    async listen(port, host) {
      await app.listen({ port, host: host ?? "0.0.0.0" });
      const address = app.server.address();
      const bound = typeof address === "object" && address ? address.port : port;
      ownUrl = `http://${!host || host === "0.0.0.0" || host === "::" ? "localhost" : host}:${bound}`;
      reminders.start();
      engagement.start();
      auditSealer.start();
      return bound;
    },
    async close() {
      clearInterval(prune);
      clearInterval(pruneCheckIns);
      await viewers.stop();
      await rateLimits.stop();
      await reminders.stop();
      // Subscriptions end and their sockets close (1001, going away) before the HTTP server stops.
      await live.close();
      await engagement.stop();
      // Stop accepting, let in-flight requests finish (idle keep-alive connections are closed),
      // then stop Apollo.
      await app.close();
      await apollo.stop();
      // After the last request: its entries are sealed by whichever sealer is elected next.
      await auditSealer.stop();
    },
  };
}

/** The id of whoever is behind a request (a staff member or an API client), for logs and limits. */
function actorIdOf(viewer: Viewer | null): string | undefined {
  if (!viewer) return undefined;
  switch (viewer.kind) {
    case "staff":
      return viewer.staffId;
    case "apiClient":
      return viewer.apiClientId;
  }
}
