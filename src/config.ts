// Configuration from the environment, read once at start-up.
export interface AuthConfig {
  /** HS256 secret for development and tests. */
  jwtSecret?: string;
  /** Production: a JWKS URL, with the issuer and audience the tokens must carry. */
  jwksUrl?: string;
  issuer?: string;
  audience?: string;
  /** Longest lifetime a token may have (exp - iat, or exp - now without iat), in seconds. */
  maxTokenLifetimeSeconds?: number;
}

/**
 * Query limits, tuned on the client contract (/work/shared/contract): its costliest operation,
 * CenterDashboard with 100 groups a page, costs about 46,000 and the deepest nests 8 levels; no
 * contract operation uses aliases and the longest has about 120 tokens.
 */
export const DEFAULT_QUERY_LIMITS = { maxDepth: 15, maxAliases: 50, maxCost: 150_000, maxTokens: 5_000, maxDirectives: 50 } as const;

interface LimitsConfig {
  /** A request still running after this long is cancelled (ms; 0 = no limit). */
  requestTimeoutMs: number;
  /** PostgreSQL statement_timeout per connection (ms; 0 = none). */
  statementTimeoutMs: number;
  /** Largest request body (bytes); larger ones get 413. */
  maxBodyBytes: number;
  maxQueryDirectives: number;
  maxQueryDepth: number;
  maxQueryAliases: number;
  maxQueryCost: number;
  maxQueryTokens: number;
}

/** Requests per window, counted in the database so that every instance shares them. */
interface RateLimitConfig {
  enabled: boolean;
  windowMs: number;
  /** Per client IP, before authentication (every request, signed in or not). */
  perIp: number;
  /** Per signed-in actor (staff member; API client once those land). */
  perActor: number;
  /**
   * How often each instance reconciles its counts with the shared table (RATE_LIMIT_SYNC_MS,
   * default 1000): the instances together may let through up to (N - 1) × what one instance
   * counts in this period above the limit (src/http/ratelimit.ts).
   */
  syncMs: number;
}

/** Shedding load (@fastify/under-pressure): past these, requests get 503 with Retry-After. */
interface PressureConfig {
  maxEventLoopDelayMs: number;
  /** 0 = not checked. */
  maxHeapUsedBytes: number;
  retryAfterSeconds: number;
}

/**
 * Session reminders (src/reminders). Off by default: with no SMTP_URL nor SMS_PROVIDER_URL,
 * reminders are planned and shown SKIPPED (NO_CHANNEL).
 */
export interface RemindersConfig {
  /** nodemailer's SMTP URL, e.g. smtp://127.0.0.1:2525. */
  smtpUrl?: string;
  /** The From address of emails (its display name is the center's sender name). */
  emailFrom: string;
  /** The Messages REST API: base URL, account, token and sending number. */
  sms?: { providerUrl: string; accountSid: string; authToken: string; from: string };
  /** The address the SMS provider and members' mail clients reach this server at (default: its own). */
  publicUrl?: string;
  /** How often the outbox worker looks for due reminders (ms; 0 = no worker in this process). */
  workerIntervalMs: number;
  /** Tries of a send before it is FAILED. */
  maxAttempts: number;
  /** First retry after this long (ms); each next one waits twice as long. */
  retryBaseMs: number;
  /** A send in flight longer than this is presumed lost with its worker and taken again, same id (ms). */
  leaseMs: number;
  /** A provider that does not answer within this long failed this attempt (ms). */
  sendTimeoutMs: number;
}

/** The live roster over WebSocket (src/live, docs/live.md). */
export interface LiveConfig {
  /** Open subscriptions one WebSocket connection may hold (LIVE_MAX_SUBSCRIPTIONS_PER_CONNECTION). */
  maxSubscriptionsPerConnection: number;
  /** Open subscriptions one staff member may hold on one instance, over all their connections (LIVE_MAX_SUBSCRIPTIONS_PER_ACTOR). */
  maxSubscriptionsPerActor: number;
  /** Keep-alive: a WebSocket ping this often (ms); a socket that has not answered by the next one is closed (LIVE_KEEPALIVE_MS; 0 = none). */
  keepAliveMs: number;
  /** How long a new connection has to send connection_init (ms; LIVE_CONNECTION_INIT_TIMEOUT_MS). */
  connectionInitTimeoutMs: number;
}

/** Self check-in (src/checkin, docs/checkin.md). */
export interface CheckInConfig {
  /**
   * HMAC key of the members' check-in tokens and of the room codes (CHECKIN_SECRET). Null: self
   * check-in is off (production without the variable); everything else works.
   */
  secret: string | null;
  /** Whether the secret is the built-in development one (no CHECKIN_SECRET outside production). */
  developmentSecret: boolean;
  /** A room code is shown for this long (s); the previous one is still accepted for one more period. */
  codePeriodSeconds: number;
  /** Failed tries per token, and per client address, within a window, before every try is refused. */
  maxFailuresPerToken: number;
  maxFailuresPerAddress: number;
  failureWindowSeconds: number;
}

/** Built-in secret for development and tests (docs/configuration.md): never used in production. */
const DEV_CHECKIN_SECRET = "dev-checkin-secret-change-me-dev-checkin-secret";

function checkInConfig(env: NodeJS.ProcessEnv, production: boolean): CheckInConfig {
  const given = env.CHECKIN_SECRET || undefined;
  if (given && given.length < 32) throw new Error("CHECKIN_SECRET must be at least 32 characters");
  const codePeriodSeconds = intFrom(env.CHECKIN_CODE_PERIOD_SECONDS, 300, "CHECKIN_CODE_PERIOD_SECONDS");
  if (codePeriodSeconds < 30) throw new Error("CHECKIN_CODE_PERIOD_SECONDS must be at least 30");
  return {
    secret: given ?? (production ? null : DEV_CHECKIN_SECRET),
    developmentSecret: !given && !production,
    codePeriodSeconds,
    maxFailuresPerToken: Math.max(1, intFrom(env.CHECKIN_MAX_FAILURES_PER_TOKEN, 5, "CHECKIN_MAX_FAILURES_PER_TOKEN")),
    maxFailuresPerAddress: Math.max(1, intFrom(env.CHECKIN_MAX_FAILURES_PER_ADDRESS, 30, "CHECKIN_MAX_FAILURES_PER_ADDRESS")),
    failureWindowSeconds: Math.max(1, intFrom(env.CHECKIN_FAILURE_WINDOW_SECONDS, 900, "CHECKIN_FAILURE_WINDOW_SECONDS")),
  };
}

export interface Config {
  port: number;
  host: string;
  databaseUrl?: string;
  dataDir: string;
  databasePoolSize: number;
  /** PostgreSQL: migrations run with this URL (the tables' owner) when set, else DATABASE_URL. */
  databaseMigrationUrl?: string;
  /** PostgreSQL: requests run under row-level security (DB_RLS, default on). */
  databaseRls: boolean;
  auth: AuthConfig;
  bootstrapAdminEmail?: string;
  logLevel: "debug" | "info" | "warn" | "error";
  introspection: boolean;
  /** "Did you mean …?" in validation errors (off in production: it leaks the schema). */
  fieldSuggestions: boolean;
  limits: LimitsConfig;
  rateLimit: RateLimitConfig;
  /**
   * How long an instance keeps an authenticated staff member's viewer (VIEWER_CACHE_MS, default
   * 5000; 0 = look it up on every request). Changes reach every instance at once by NOTIFY; this
   * is the bound when a notification is missed (src/auth/authenticate.ts).
   */
  viewerCacheMs: number;
  pressure: PressureConfig;
  /** Origins allowed by CORS; none by default (the dashboard is served from the same origin). */
  corsOrigins: string[];
  /** Trust X-Forwarded-For from a proxy in front (the client IP for per-IP limits and logs). */
  trustProxy: boolean;
  /** Only operations in the manifest (persisted operations) are answered. */
  allowlist: { enabled: boolean; manifestPath: string };
  /** GraphiQL at GET /graphql for browsers (src/graphiql.ts). */
  graphiql: boolean;
  /** Queries the compiler knows, and the feed's pages, are answered in one SQL statement (src/compiled/, src/feed/); COMPILED_QUERIES=off turns both off. */
  compiledQueries: boolean;
  reminders: RemindersConfig;
  /** How often the engagement worker recomputes dirty and due kept figures (ms; 0 = no worker in this process). */
  engagementWorkerIntervalMs: number;
  live: LiveConfig;
  checkIn: CheckInConfig;
  audit: AuditConfig;
}

function intFrom(value: string | undefined, fallback: number, name: string): number {
  if (value === undefined || value === "") return fallback;
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0) throw new Error(`${name} must be a non-negative integer`);
  return n;
}

function remindersConfig(env: NodeJS.ProcessEnv): RemindersConfig {
  const sms = [env.SMS_PROVIDER_URL, env.SMS_ACCOUNT_SID, env.SMS_AUTH_TOKEN, env.SMS_FROM];
  if (sms.some(Boolean) && !sms.every(Boolean)) throw new Error("SMS needs SMS_PROVIDER_URL, SMS_ACCOUNT_SID, SMS_AUTH_TOKEN and SMS_FROM");
  const sendTimeoutMs = intFrom(env.REMINDERS_SEND_TIMEOUT_MS, 15_000, "REMINDERS_SEND_TIMEOUT_MS");
  const leaseMs = intFrom(env.REMINDERS_LEASE_MS, 120_000, "REMINDERS_LEASE_MS");
  if (leaseMs <= sendTimeoutMs) throw new Error("REMINDERS_LEASE_MS must be longer than REMINDERS_SEND_TIMEOUT_MS");
  return {
    smtpUrl: env.SMTP_URL || undefined,
    emailFrom: env.EMAIL_FROM || "reminders@localhost",
    sms: env.SMS_PROVIDER_URL
      ? { providerUrl: env.SMS_PROVIDER_URL.replace(/\/+$/, ""), accountSid: env.SMS_ACCOUNT_SID!, authToken: env.SMS_AUTH_TOKEN!, from: env.SMS_FROM! }
      : undefined,
    publicUrl: env.PUBLIC_URL ? env.PUBLIC_URL.replace(/\/+$/, "") : undefined,
    workerIntervalMs: intFrom(env.REMINDERS_WORKER_INTERVAL_MS, 10_000, "REMINDERS_WORKER_INTERVAL_MS"),
    maxAttempts: Math.max(1, intFrom(env.REMINDERS_MAX_ATTEMPTS, 5, "REMINDERS_MAX_ATTEMPTS")),
    retryBaseMs: intFrom(env.REMINDERS_RETRY_BASE_MS, 60_000, "REMINDERS_RETRY_BASE_MS"),
    leaseMs,
    sendTimeoutMs,
  };
}

/** The audit log's sealer and checkpoints (src/audit/audit.sealer.ts, docs/audit.md). */
export interface AuditConfig {
  /** How often the sealer (the one elected instance) chains new entries (ms; 0 = no sealer in this process). */
  sealIntervalMs: number;
  /** A checkpoint after this many newly sealed entries ... */
  checkpointEntries: number;
  /** ... or this many seconds after the last one, when entries were sealed since. */
  checkpointSeconds: number;
  /** Ed25519 private key (PEM, or base64 PKCS#8 DER) signing checkpoints; none: checkpoints unsigned. */
  signingKey?: string;
  /** Public keys (PEM, or base64 SPKI DER; several for rotated keys) audit:verify checks signatures with. */
  verifyKeys?: string;
}

function auditConfig(env: NodeJS.ProcessEnv): AuditConfig {
  return {
    sealIntervalMs: intFrom(env.AUDIT_SEAL_INTERVAL_MS, 200, "AUDIT_SEAL_INTERVAL_MS"),
    checkpointEntries: Math.max(1, intFrom(env.AUDIT_CHECKPOINT_ENTRIES, 10_000, "AUDIT_CHECKPOINT_ENTRIES")),
    checkpointSeconds: Math.max(1, intFrom(env.AUDIT_CHECKPOINT_SECONDS, 300, "AUDIT_CHECKPOINT_SECONDS")),
    signingKey: env.AUDIT_SIGNING_KEY || undefined,
    verifyKeys: env.AUDIT_VERIFY_KEY || undefined,
  };
}

export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const auth: AuthConfig = {
    jwtSecret: env.AUTH_JWT_SECRET || undefined,
    jwksUrl: env.AUTH_JWKS_URL || undefined,
    issuer: env.AUTH_ISSUER || undefined,
    audience: env.AUTH_AUDIENCE || undefined,
    maxTokenLifetimeSeconds: intFrom(env.AUTH_MAX_TOKEN_LIFETIME_SECONDS, 24 * 60 * 60, "AUTH_MAX_TOKEN_LIFETIME_SECONDS"),
  };
  if (auth.jwksUrl && (!auth.issuer || !auth.audience)) {
    throw new Error("AUTH_JWKS_URL needs AUTH_ISSUER and AUTH_AUDIENCE");
  }
  const production = env.NODE_ENV === "production";
  if (!auth.jwtSecret && !auth.jwksUrl) {
    if (production) throw new Error("set AUTH_JWKS_URL (or AUTH_JWT_SECRET) in production");
    // Development default so that `npm start` works on a fresh machine; documented in docs/configuration.md.
    auth.jwtSecret = "dev-secret-change-me-dev-secret-change-me";
  }
  return {
    port: intFrom(env.PORT, 4000, "PORT"),
    host: env.HOST || "0.0.0.0",
    databaseUrl: env.DATABASE_URL || undefined,
    dataDir: env.DATA_DIR || "./data",
    databasePoolSize: intFrom(env.DATABASE_POOL_SIZE, 10, "DATABASE_POOL_SIZE"),
    databaseMigrationUrl: env.DATABASE_MIGRATION_URL || undefined,
    databaseRls: !["off", "false", "0"].includes((env.DB_RLS ?? "").toLowerCase()),
    auth,
    bootstrapAdminEmail: env.BOOTSTRAP_ADMIN_EMAIL || undefined,
    logLevel: (["debug", "info", "warn", "error"].includes(env.LOG_LEVEL ?? "") ? env.LOG_LEVEL : "info") as Config["logLevel"],
    introspection: env.GRAPHQL_INTROSPECTION ? env.GRAPHQL_INTROSPECTION === "true" : !production,
    fieldSuggestions: env.GRAPHQL_FIELD_SUGGESTIONS ? env.GRAPHQL_FIELD_SUGGESTIONS === "true" : !production,
    limits: {
      requestTimeoutMs: intFrom(env.REQUEST_TIMEOUT_MS, 15_000, "REQUEST_TIMEOUT_MS"),
      statementTimeoutMs: intFrom(env.STATEMENT_TIMEOUT_MS, 10_000, "STATEMENT_TIMEOUT_MS"),
      maxBodyBytes: intFrom(env.MAX_BODY_BYTES, 1024 * 1024, "MAX_BODY_BYTES"),
      maxQueryDirectives: intFrom(env.QUERY_MAX_DIRECTIVES, DEFAULT_QUERY_LIMITS.maxDirectives, "QUERY_MAX_DIRECTIVES"),
      maxQueryDepth: intFrom(env.QUERY_MAX_DEPTH, DEFAULT_QUERY_LIMITS.maxDepth, "QUERY_MAX_DEPTH"),
      maxQueryAliases: intFrom(env.QUERY_MAX_ALIASES, DEFAULT_QUERY_LIMITS.maxAliases, "QUERY_MAX_ALIASES"),
      maxQueryCost: intFrom(env.QUERY_MAX_COST, DEFAULT_QUERY_LIMITS.maxCost, "QUERY_MAX_COST"),
      maxQueryTokens: intFrom(env.QUERY_MAX_TOKENS, DEFAULT_QUERY_LIMITS.maxTokens, "QUERY_MAX_TOKENS"),
    },
    rateLimit: {
      enabled: env.RATE_LIMIT ? env.RATE_LIMIT !== "off" : true,
      windowMs: intFrom(env.RATE_LIMIT_WINDOW_MS, 60_000, "RATE_LIMIT_WINDOW_MS"),
      perIp: intFrom(env.RATE_LIMIT_PER_IP, 1_200, "RATE_LIMIT_PER_IP"),
      perActor: intFrom(env.RATE_LIMIT_PER_ACTOR, 600, "RATE_LIMIT_PER_ACTOR"),
      syncMs: intFrom(env.RATE_LIMIT_SYNC_MS, 1_000, "RATE_LIMIT_SYNC_MS"),
    },
    viewerCacheMs: intFrom(env.VIEWER_CACHE_MS, 5_000, "VIEWER_CACHE_MS"),
    pressure: {
      maxEventLoopDelayMs: intFrom(env.PRESSURE_MAX_EVENT_LOOP_DELAY_MS, 1_000, "PRESSURE_MAX_EVENT_LOOP_DELAY_MS"),
      maxHeapUsedBytes: intFrom(env.PRESSURE_MAX_HEAP_USED_BYTES, 0, "PRESSURE_MAX_HEAP_USED_BYTES"),
      retryAfterSeconds: intFrom(env.PRESSURE_RETRY_AFTER_SECONDS, 10, "PRESSURE_RETRY_AFTER_SECONDS"),
    },
    corsOrigins: (env.CORS_ORIGINS ?? "")
      .split(",")
      .map((o) => o.trim())
      .filter(Boolean),
    trustProxy: env.TRUST_PROXY === "true",
    allowlist: { enabled: env.ALLOWLIST === "on", manifestPath: env.ALLOWLIST_MANIFEST || "operations.manifest.json" },
    graphiql: env.GRAPHIQL ? env.GRAPHIQL === "true" : !production,
    compiledQueries: env.COMPILED_QUERIES !== "off",
    reminders: remindersConfig(env),
    engagementWorkerIntervalMs: intFrom(env.ENGAGEMENT_WORKER_INTERVAL_MS, 5_000, "ENGAGEMENT_WORKER_INTERVAL_MS"),
    live: {
      maxSubscriptionsPerConnection: intFrom(env.LIVE_MAX_SUBSCRIPTIONS_PER_CONNECTION, 10, "LIVE_MAX_SUBSCRIPTIONS_PER_CONNECTION"),
      maxSubscriptionsPerActor: intFrom(env.LIVE_MAX_SUBSCRIPTIONS_PER_ACTOR, 20, "LIVE_MAX_SUBSCRIPTIONS_PER_ACTOR"),
      keepAliveMs: intFrom(env.LIVE_KEEPALIVE_MS, 15_000, "LIVE_KEEPALIVE_MS"),
      connectionInitTimeoutMs: intFrom(env.LIVE_CONNECTION_INIT_TIMEOUT_MS, 5_000, "LIVE_CONNECTION_INIT_TIMEOUT_MS"),
    },
    checkIn: checkInConfig(env, production),
    audit: auditConfig(env),
  };
}
