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
}

/** Shedding load (@fastify/under-pressure): past these, requests get 503 with Retry-After. */
interface PressureConfig {
  maxEventLoopDelayMs: number;
  /** 0 = not checked. */
  maxHeapUsedBytes: number;
  retryAfterSeconds: number;
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
  pressure: PressureConfig;
  /** Origins allowed by CORS; none by default (the dashboard is served from the same origin). */
  corsOrigins: string[];
  /** Trust X-Forwarded-For from a proxy in front (the client IP for per-IP limits and logs). */
  trustProxy: boolean;
  /** Only operations in the manifest (persisted operations) are answered. */
  allowlist: { enabled: boolean; manifestPath: string };
  /** GraphiQL at GET /graphql for browsers (src/graphiql.ts). */
  graphiql: boolean;
  /** Queries the compiler knows are answered in one SQL statement (src/compiled/); COMPILED_QUERIES=off turns it off. */
  compiledQueries: boolean;
}

function intFrom(value: string | undefined, fallback: number, name: string): number {
  if (value === undefined || value === "") return fallback;
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0) throw new Error(`${name} must be a non-negative integer`);
  return n;
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
    },
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
  };
}
