// GraphQL subscriptions over WebSocket at /graphql, graphql-ws protocol (graphql-ws's handler for
// @fastify/websocket). docs/live.md describes the protocol as clients see it.
//
//   connection_init   the staff token in the payload's `authorization` ("Bearer <jwt>" or the bare
//                     token): none, invalid or expired → closed 4401; a credential that may not
//                     subscribe (an API key) → closed 4403. A malformed message → 4400 (graphql-ws).
//   subscribe         parsed with the token bound, validated with the rules of POST /graphql, held
//                     to the allow-list (ALLOWLIST=on) and the same depth/alias/cost limits; only
//                     subscriptions (queries and mutations go over HTTP). Past the per-connection
//                     or per-actor limit: TOO_MANY_SUBSCRIPTIONS.
//   refusals          a connection refused at init (ANONYMOUS, with the client's address, or the
//                     API client), a document refused by the allow-list or a limit, a session out
//                     of reach or a roster a role may not read (src/live/live.service.ts) are each
//                     an audit entry (DENIED), written through the audit log's one writer.
//   each event        the token authenticated again and a fresh context (viewer, access, database
//                     scope, loaders): the same field wrapper (policies, API gate, audit record) as
//                     a query; the event's audit entries are written before it is sent (an event
//                     whose entries cannot be written is not sent); errors masked as over HTTP.
// Keep-alive: a WebSocket ping every LIVE_KEEPALIVE_MS; no pong by the next one closes the socket.
// Shutdown (close): every socket is closed with 1001 (going away), ending its subscriptions.
import { randomUUID } from "node:crypto";
import type { WebSocket } from "@fastify/websocket";
import {
  getOperationAST,
  GraphQLError,
  OperationTypeNode,
  parse,
  specifiedRules,
  validate,
  type DocumentNode,
  type GraphQLFormattedError,
  type GraphQLSchema,
  type ValidationRule,
} from "graphql";
import { CloseCode } from "graphql-ws";
import { makeHandler } from "graphql-ws/use/@fastify/websocket";
import type { FastifyRequest } from "fastify";
import { Counter, Gauge } from "prom-client";
import { operationNameOf } from "../audit/audit.plugin.js";
import { appendTouches } from "../audit/audit.service.js";
import type { Touch } from "../auth/access.js";
import { authenticate } from "../auth/authenticate.js";
import type { TokenVerifier } from "../auth/tokens.js";
import type { Viewer } from "../auth/viewer.js";
import { Codes, passThroughCodes } from "../common/codes.js";
import type { Context } from "../common/context.js";
import { limitError, measureOperation, type QueryLimits } from "../common/cost.js";
import { isDatabaseUnavailable, pgErrorOf, unauthenticated } from "../common/errors.js";
import type { LiveConfig } from "../config.js";
import type { Db } from "../db/client.js";
import { notAllowed, type Manifest } from "../http/allowlist.js";
import type { Logger } from "../logger.js";
import type { Metrics } from "../observability/metrics.js";
import type { RosterBus } from "./live.bus.js";
import type { LiveContext } from "./live.service.js";

/** A request context for a viewer, built by the app (src/server.ts) as for an HTTP request; release() hands its database scope back. */
type ContextFactory = (viewer: Viewer, requestId: string) => { context: Context; release(): Promise<void> };

export interface LiveOptions {
  schema: GraphQLSchema;
  /** The system handle: authentication, as the HTTP path does it. */
  db: Db;
  verifier: TokenVerifier;
  bus: RosterBus;
  config: LiveConfig;
  limits: QueryLimits;
  /** The validation rules POST /graphql adds to graphql-js's own (the root operations, directives). */
  validationRules: readonly ValidationRule[];
  /** The allow-list (ALLOWLIST=on): only its documents are subscribed to, as only they are answered over HTTP. */
  manifest?: Manifest;
  contextFor: ContextFactory;
  logger: Logger;
  metrics: Metrics;
}

/** One subscription's state between its events. */
interface Running {
  ctx: LiveContext;
  release(): Promise<void>;
  operationName: string | null;
}

/** What a connection keeps (graphql-ws's `extra`, beside the socket and the upgrade request). */
type Connection = {
  socket: WebSocket;
  request: FastifyRequest;
  authorization?: string;
  viewer?: Viewer;
  actorId?: string;
  running?: Map<string, Running>;
};

export interface LiveEndpoint {
  /** The route's wsHandler (src/server.ts: GET /graphql). */
  handler: ReturnType<typeof makeHandler>;
  /** Ends every subscription and closes every socket (1001), within `timeoutMs`. */
  close(timeoutMs?: number): Promise<void>;
}

const GOING_AWAY = 1001;

function codedError(code: string, message: string): GraphQLError {
  return new GraphQLError(message, { extensions: { code } });
}

/** A credential as the HTTP Authorization header carries it. */
function headerOf(value: unknown): string | undefined {
  if (typeof value !== "string" || !value.trim() || value.length > 8_192) return undefined;
  return /^Bearer\s/i.test(value) ? value : `Bearer ${value.trim()}`;
}

export function liveEndpoint(opts: LiveOptions): LiveEndpoint {
  const { config, logger, metrics, bus } = opts;
  const sockets = new Set<WebSocket>();
  const perActor = new Map<string, number>();
  let closing = false;

  const connections = new Gauge({ name: "live_connections", help: "Open WebSocket connections (graphql-ws)", registers: [metrics.registry] });
  const subscriptions = new Gauge({ name: "live_subscriptions", help: "Open subscriptions", registers: [metrics.registry] });
  const eventsSent = new Counter({ name: "live_events_sent_total", help: "Subscription events sent (rosters)", registers: [metrics.registry] });
  const streamsEnded = new Counter({
    name: "live_subscriptions_ended_total",
    help: "Subscriptions ended by the server, by code (FORBIDDEN, UNAUTHENTICATED, SUBSCRIPTION_INTERRUPTED, …)",
    labelNames: ["code"] as const,
    registers: [metrics.registry],
  });

  /** As POST /graphql answers errors: catalog codes pass, anything else is masked and logged by kind only. */
  function format(error: GraphQLError, requestId: string): GraphQLFormattedError {
    const formatted = error.toJSON();
    const code = formatted.extensions?.code as string | undefined;
    if (code && passThroughCodes.has(code)) return { message: formatted.message, path: formatted.path, locations: formatted.locations, extensions: { code } };
    const original = error.originalError ?? error;
    if (isDatabaseUnavailable(original))
      return { message: "The database is unavailable; retry later", path: formatted.path, extensions: { code: Codes.SERVICE_UNAVAILABLE } };
    logger.error({ requestId, path: formatted.path?.join("."), errorName: original?.name, pgCode: pgErrorOf(original)?.code }, "live: unexpected error");
    return {
      message: "Internal server error",
      path: formatted.path,
      locations: formatted.locations,
      extensions: { code: Codes.INTERNAL_SERVER_ERROR, requestId },
    };
  }

  /**
   * A refusal before any subscription context exists (at init, by the allow-list or a limit),
   * recorded DENIED on the system handle. A failure to record it is logged; the refusal stands.
   */
  async function auditRefusal(conn: Connection, viewer: Viewer | null, operationName: string | null): Promise<void> {
    const requestId = randomUUID();
    const touch: Touch = { action: "DENIED", outcome: "DENIED", resourceType: "Subscription", resourceId: null, centerId: null, participantIds: [] };
    try {
      await appendTouches(opts.db, [touch], { viewer, operationName, requestId, clientAddress: conn.request.ip });
    } catch (err) {
      logger.error({ requestId, errorName: (err as Error)?.name, pgCode: pgErrorOf(err)?.code }, "live: audit write failed");
    }
  }

  function finish(conn: Connection, id: string): void {
    const running = conn.running?.get(id);
    if (!running) return;
    conn.running!.delete(id);
    void running.release();
    subscriptions.dec();
    if (conn.actorId) {
      const n = (perActor.get(conn.actorId) ?? 1) - 1;
      if (n > 0) perActor.set(conn.actorId, n);
      else perActor.delete(conn.actorId);
    }
  }

  const graphqlWs = makeHandler<Record<string, unknown> | undefined, Connection>(
    {
      schema: opts.schema,
      connectionInitWaitTimeout: config.connectionInitTimeoutMs,
      isProd: true,
      async onConnect(ctx) {
        const conn = ctx.extra as unknown as Connection;
        if (closing) {
          conn.socket.close(GOING_AWAY, "Server shutting down");
          return false;
        }
        const authorization = headerOf(ctx.connectionParams?.authorization);
        const viewer = authorization ? await authenticate(opts.db, opts.verifier, authorization) : null;
        if (!viewer) {
          await auditRefusal(conn, null, null);
          conn.socket.close(CloseCode.Unauthorized, "Unauthorized");
          return false;
        }
        // Only staff tokens: API clients pull the feed (docs/integrators.md), they do not subscribe.
        if (viewer.kind !== "staff") {
          await auditRefusal(conn, viewer, null);
          return false;
        }
        conn.authorization = authorization;
        conn.viewer = viewer;
        conn.actorId = viewer.staffId;
        conn.running = new Map();
        return true;
      },
      async onSubscribe(ctx, id, payload) {
        const conn = ctx.extra as unknown as Connection;
        if (closing) return [codedError(Codes.SUBSCRIPTION_INTERRUPTED, "The server is shutting down; subscribe again")];
        let document: DocumentNode;
        try {
          if (typeof payload.query !== "string") throw new GraphQLError("The query must be a string");
          document = parse(payload.query, { maxTokens: opts.limits.maxTokens });
        } catch (err) {
          return [codedError(Codes.GRAPHQL_PARSE_FAILED, err instanceof GraphQLError ? err.message : "Syntax error")];
        }
        const invalid = validate(opts.schema, document, [...specifiedRules, ...opts.validationRules]);
        if (invalid.length) return invalid.map((e) => codedError(Codes.GRAPHQL_VALIDATION_FAILED, e.message));
        const operation = getOperationAST(document, payload.operationName);
        if (!operation) return [codedError(Codes.OPERATION_RESOLUTION_FAILURE, "Name the operation to run (operationName)")];
        const operationName = operationNameOf(payload.operationName, operation);
        /** A refusal, recorded as an attempt (awaited on refusals only: an accepted subscription is counted before anything is awaited). */
        const refuse = async (error: GraphQLError) => {
          await auditRefusal(conn, conn.viewer ?? null, operationName);
          return [error];
        };
        // As POST /graphql: the allow-list once the document is valid, before anything runs.
        const unlisted = opts.manifest ? notAllowed(opts.manifest, document) : null;
        if (unlisted) return refuse(unlisted);
        if (operation.operation !== OperationTypeNode.SUBSCRIPTION)
          return [codedError(Codes.BAD_REQUEST, "Only subscriptions are served over WebSocket; send queries and mutations with POST /graphql")];
        const variables = payload.variables ?? {};
        const tooMuch = limitError(measureOperation(document, operation, { schema: opts.schema, variables }), opts.limits);
        if (tooMuch) return refuse(tooMuch);

        // The limits, counted now (before anything is awaited, so subscriptions sent together are all counted).
        const running = conn.running!;
        if (running.size >= config.maxSubscriptionsPerConnection)
          return refuse(codedError(Codes.TOO_MANY_SUBSCRIPTIONS, `A connection may hold at most ${config.maxSubscriptionsPerConnection} subscriptions`));
        if ((perActor.get(conn.actorId!) ?? 0) >= config.maxSubscriptionsPerActor)
          return refuse(codedError(Codes.TOO_MANY_SUBSCRIPTIONS, `A staff member may hold at most ${config.maxSubscriptionsPerActor} subscriptions`));

        // The subscription's context: the same object throughout, renewed for every event.
        let current: ReturnType<ContextFactory> | null = null;
        const ctxValue = {} as LiveContext;
        const renew = async () => {
          const viewer = await authenticate(opts.db, opts.verifier, conn.authorization);
          if (!viewer || viewer.kind !== "staff") throw unauthenticated("The connection's token has expired or was revoked");
          await current?.release();
          current = opts.contextFor(viewer, randomUUID());
          Object.assign(ctxValue, current.context);
        };
        ctxValue.live = { bus, renew };
        running.set(id, { ctx: ctxValue, release: async () => current?.release(), operationName });
        perActor.set(conn.actorId!, (perActor.get(conn.actorId!) ?? 0) + 1);
        subscriptions.inc();
        try {
          await renew();
        } catch (err) {
          finish(conn, id);
          const code = (err as { extensions?: { code?: unknown } })?.extensions?.code;
          return [err instanceof GraphQLError && typeof code === "string" ? err : codedError(Codes.INTERNAL_SERVER_ERROR, "Internal server error")];
        }
        return { schema: opts.schema, document, operationName: payload.operationName, variableValues: variables, contextValue: ctxValue };
      },
      async onNext(ctx, id, _payload, args, result) {
        const conn = ctx.extra as unknown as Connection;
        const running = conn.running?.get(id);
        const context = args.contextValue as LiveContext;
        const errors = result.errors?.map((e) => format(e, context.requestId));
        // What this event read of participant data is recorded before it leaves (as the HTTP path does at a query's end).
        if (context.access?.touches.length) {
          try {
            await appendTouches(context.db, context.access.touches, {
              viewer: context.viewer,
              operationName: running?.operationName ?? null,
              requestId: context.requestId,
            });
          } catch (err) {
            logger.error({ requestId: context.requestId, errorName: (err as Error)?.name, pgCode: pgErrorOf(err)?.code }, "live: audit write failed");
            await running?.release();
            return { errors: [{ message: "Internal server error", extensions: { code: Codes.INTERNAL_SERVER_ERROR, requestId: context.requestId } }] };
          }
        }
        // The event is done with the database: its scope goes back to the pool until the next one.
        await running?.release();
        if (result.data) eventsSent.inc();
        return { ...(result.data !== undefined ? { data: result.data } : {}), ...(errors ? { errors } : {}) };
      },
      onError(ctx, id, _payload, errors) {
        const conn = ctx.extra as unknown as Connection;
        const running = conn.running?.get(id);
        const requestId = running?.ctx.requestId ?? randomUUID();
        for (const e of errors) streamsEnded.inc({ code: typeof e.extensions?.code === "string" ? e.extensions.code : "UNKNOWN" });
        return errors.map((e) => format(e, requestId));
      },
      onComplete(ctx, id) {
        finish(ctx.extra, id);
      },
      onClose(ctx) {
        const conn = ctx.extra as unknown as Connection;
        for (const id of [...(conn.running?.keys() ?? [])]) finish(conn, id);
      },
    },
    config.keepAliveMs > 0 ? config.keepAliveMs : Infinity,
  );

  const handler: ReturnType<typeof makeHandler> = function (this: ThisParameterType<ReturnType<typeof makeHandler>>, socket, request) {
    if (closing) {
      socket.close(GOING_AWAY, "Server shutting down");
      return;
    }
    sockets.add(socket);
    connections.inc();
    socket.once("close", () => {
      sockets.delete(socket);
      connections.dec();
    });
    return graphqlWs.call(this, socket, request);
  };

  return {
    handler,
    async close(timeoutMs = 5_000) {
      closing = true;
      // The sockets close with "going away" (their subscriptions end with them): graphql-ws clients
      // reconnect elsewhere and subscribe again, as they would not after an `error` message.
      const open = [...sockets];
      const closed = Promise.all(open.map((s) => new Promise<void>((resolve) => (s.readyState === s.CLOSED ? resolve() : s.once("close", () => resolve())))));
      for (const s of open) s.close(GOING_AWAY, "Server shutting down");
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([closed, new Promise<void>((resolve) => (timer = setTimeout(resolve, timeoutMs)))]);
      clearTimeout(timer);
      for (const s of sockets) s.terminate();
      await bus.close();
    },
  };
}
