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
export const DEFAULT_QUERY_LIMITS = { maxDepth: 15, maxAliases: 50, maxCost: 150_000, maxTokens: 5_000 } as const;

interface LimitsConfig {
  /** A request still running after this long is cancelled (ms; 0 = no limit). */
  requestTimeoutMs: number;
  maxQueryDepth: number;
  maxQueryAliases: number;
  maxQueryCost: number;
  maxQueryTokens: number;
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
  limits: LimitsConfig;
  /** GraphiQL at GET /graphql for browsers (src/graphiql.ts). */
  graphiql: boolean;
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
    // Development default so that `npm start` works on a fresh machine; documented in the README.
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
    limits: {
      requestTimeoutMs: intFrom(env.REQUEST_TIMEOUT_MS, 15_000, "REQUEST_TIMEOUT_MS"),
      maxQueryDepth: intFrom(env.QUERY_MAX_DEPTH, DEFAULT_QUERY_LIMITS.maxDepth, "QUERY_MAX_DEPTH"),
      maxQueryAliases: intFrom(env.QUERY_MAX_ALIASES, DEFAULT_QUERY_LIMITS.maxAliases, "QUERY_MAX_ALIASES"),
      maxQueryCost: intFrom(env.QUERY_MAX_COST, DEFAULT_QUERY_LIMITS.maxCost, "QUERY_MAX_COST"),
      maxQueryTokens: intFrom(env.QUERY_MAX_TOKENS, DEFAULT_QUERY_LIMITS.maxTokens, "QUERY_MAX_TOKENS"),
    },
    graphiql: env.GRAPHIQL ? env.GRAPHIQL === "true" : !production,
  };
}
